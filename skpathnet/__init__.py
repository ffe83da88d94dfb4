"""skpathnet: PathNet transfer learning for emotion recognition, the scikit-learn way.

PathNet [1]_ as used for emotion recognition by Nguyen et al. [2]_: a
:class:`PathNetClassifier` evolves pathways through a modular network on a
source corpus, freezes the best one, and reuses it on a target corpus.

References
----------
.. [1] C. Fernando et al., "PathNet: Evolution Channels Gradient Descent in
   Super Neural Networks", arXiv:1701.08734, 2017.
.. [2] D. Nguyen et al., "Meta Transfer Learning for Emotion Recognition",
   arXiv:2006.13211, 2020.
"""

from . import baselines, datasets, io, metrics, model_selection, plotting, transformers
from ._classifier import PathNetClassifier
from .utils._metrics import au_f1_scores, emotion_report, uap_score, uar_score, war_score
from ._multitask import MultiTaskPathNetClassifier
from .engine import FaceAugment, SpecAugment
from .io import load, save
from .transformers import AcousticFunctionals, FaceCropper, LogMelSegmenter

__version__ = "0.1.0"

__all__ = [
    "AcousticFunctionals",
    "FaceAugment",
    "FaceCropper",
    "LogMelSegmenter",
    "MultiTaskPathNetClassifier",
    "PathNetClassifier",
    "SpecAugment",
    "au_f1_scores",
    "baselines",
    "datasets",
    "emotion_report",
    "io",
    "load",
    "metrics",
    "model_selection",
    "plotting",
    "save",
    "transformers",
    "uap_score",
    "uar_score",
    "war_score",
]
