"""Front ends (log-mel segments, face crops, HOG, openSMILE functionals) and speaker normalisation."""

from ._face import FaceCropper
from ._hog import FaceHOG
from ._group_scaling import GroupStandardScaler, LabelCoverageWarning, low_coverage_groups
from ._logmel import LogMelSegmenter
from ._opensmile import OpenSmileFunctionals

__all__ = [
    "FaceCropper",
    "FaceHOG",
    "GroupStandardScaler",
    "LabelCoverageWarning",
    "LogMelSegmenter",
    "OpenSmileFunctionals",
    "low_coverage_groups",
]
