"""Front ends and speaker normalisation.

Log-mel segments, acoustic functionals, face crops, HOG, openSMILE functionals.
"""

from ._face import FaceCropper
from ._functionals import (
    FORMANT_NAMES, FUNCTIONALS, SHAPE_FUNCTIONALS, TEMPORAL_NAMES, AcousticFunctionals,
)
from ._hog import FaceHOG
from ._group_scaling import GroupStandardScaler, LabelCoverageWarning, low_coverage_groups
from ._logmel import LogMelSegmenter
from ._opensmile import OpenSmileFunctionals

__all__ = [
    "FORMANT_NAMES",
    "FUNCTIONALS",
    "SHAPE_FUNCTIONALS",
    "TEMPORAL_NAMES",
    "AcousticFunctionals",
    "FaceCropper",
    "FaceHOG",
    "GroupStandardScaler",
    "LabelCoverageWarning",
    "LogMelSegmenter",
    "OpenSmileFunctionals",
    "low_coverage_groups",
]
