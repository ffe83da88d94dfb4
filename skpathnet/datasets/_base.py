"""Shared machinery of the corpus loaders: data home, emotion vocabulary, Bunch."""

import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

__all__ = ["EMOTIONS", "get_data_home", "corpus_dir", "make_bunch"]

#: The shared English emotion vocabulary of every loader, sorted.
EMOTIONS = (
    "anger",
    "boredom",
    "calm",
    "contempt",
    "disgust",
    "fear",
    "happiness",
    "neutral",
    "sadness",
    "surprise",
)


def get_data_home(data_home=None):
    """Return the folder that holds the corpora.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding one sub-folder per corpus (``emodb/``, ``ravdess/``,
        ...). If None, the ``SKPATHNET_DATA`` environment variable is used.

    Returns
    -------
    data_home : pathlib.Path

    Raises
    ------
    FileNotFoundError
        If neither ``data_home`` nor ``SKPATHNET_DATA`` is set.
    """
    if data_home is None:
        data_home = os.environ.get("SKPATHNET_DATA")
        if not data_home:
            raise FileNotFoundError(
                "No data home: pass data_home=... or set the SKPATHNET_DATA "
                "environment variable to the folder that holds the corpora."
            )
    return Path(data_home).expanduser()


def corpus_dir(name, data_home=None):
    """Return ``<data_home>/<name>``, raising a helpful error if it is missing.

    Raises
    ------
    FileNotFoundError
        If the folder does not exist; the message names the folder looked at
        and how to set the data home.
    """
    home = get_data_home(data_home)
    path = home / name
    if not path.is_dir():
        raise FileNotFoundError(
            f"Corpus folder {str(path)!r} not found. Put your copy of the "
            f"{name!r} corpus there, or point data_home= / the SKPATHNET_DATA "
            f"environment variable at the folder that holds it."
        )
    return path


def make_bunch(filenames, target, groups, descr, *, check_vocabulary=True, **extra):
    """Build the loaders' :class:`~sklearn.utils.Bunch`.

    Returns
    -------
    bunch : Bunch
        ``filenames`` (ndarray of str, shape (n_files,)), ``target``
        (ndarray of str, shape (n_files,), values in :data:`EMOTIONS`),
        ``groups`` (ndarray of str, shape (n_files,), speaker or subject id),
        ``target_names`` (sorted unique labels) and ``DESCR``, plus ``extra``.
    """
    target = np.asarray(target, dtype=object).astype(str)
    unknown = set(target) - set(EMOTIONS)
    if unknown and check_vocabulary:
        raise ValueError(f"Labels {sorted(unknown)} are not in the shared vocabulary {EMOTIONS}.")
    return Bunch(
        filenames=np.asarray([str(f) for f in filenames]),
        target=target,
        groups=np.asarray(groups).astype(str),
        target_names=np.unique(target),
        DESCR=descr,
        **extra,
    )
