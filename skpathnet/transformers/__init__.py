"""Front ends and speaker normalisation.

Log-mel segments, acoustic functionals, face crops, HOG, openSMILE functionals.
"""

from ._face import FaceCropper
from ._functionals import FUNCTIONALS, SHAPE_FUNCTIONALS, AcousticFunctionals
from ._hog import FaceHOG
from ._group_scaling import GroupStandardScaler, LabelCoverageWarning, low_coverage_groups
from ._logmel import LogMelSegmenter
from ._opensmile import OpenSmileFunctionals

__all__ = [
    "FUNCTIONALS",
    "SHAPE_FUNCTIONALS",
    "AcousticFunctionals",
    "FaceCropper",
    "FaceHOG",
    "GroupStandardScaler",
    "LabelCoverageWarning",
    "LogMelSegmenter",
    "OpenSmileFunctionals",
    "low_coverage_groups",
]
