"""Front ends that turn audio clips and face videos into 64 x 64 x 3 images."""

from ._face import FaceCropper
from ._logmel import LogMelSegmenter

__all__ = ["FaceCropper", "LogMelSegmenter"]
