"""Front ends (log-mel segments, acoustic functionals, face crops, HOG, openSMILE functionals) and speaker normalisation."""

from ._face import FaceCropper
from ._functionals import AcousticFunctionals
from ._hog import FaceHOG
from ._group_scaling import GroupStandardScaler, LabelCoverageWarning, low_coverage_groups
from ._logmel import LogMelSegmenter
from ._opensmile import OpenSmileFunctionals

__all__ = [
    "AcousticFunctionals",
    "FaceCropper",
    "FaceHOG",
    "GroupStandardScaler",
    "LabelCoverageWarning",
    "LogMelSegmenter",
    "OpenSmileFunctionals",
    "low_coverage_groups",
]
