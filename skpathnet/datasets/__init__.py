"""Loaders for emotion corpora laid out as distributed (see each loader)."""

from ._base import EMOTIONS, get_data_home
from ._speech import load_emodb, load_emovo, load_ravdess
from ._user import (
    AUDIO_EXTENSIONS, DEFAULT_LABEL_MAP, VISUAL_EXTENSIONS, load_folder, load_manifest,
)
from ._visual import load_ckplus, load_enterface, load_jaffe, load_savee

__all__ = [
    "AUDIO_EXTENSIONS",
    "DEFAULT_LABEL_MAP",
    "EMOTIONS",
    "VISUAL_EXTENSIONS",
    "get_data_home",
    "load_ckplus",
    "load_emodb",
    "load_emovo",
    "load_enterface",
    "load_folder",
    "load_jaffe",
    "load_manifest",
    "load_ravdess",
    "load_savee",
]
