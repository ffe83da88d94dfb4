"""Ragged per-clip inputs: one row per clip, several segments (or frames) per clip.

`LogMelSegmenter` and `FaceCropper` turn one audio clip or video into a
variable number of ``(3, 64, 64)`` images. To keep one row per clip (so that
``y`` and ``groups`` stay aligned in :class:`~sklearn.pipeline.Pipeline`,
:func:`~sklearn.model_selection.cross_validate` and
:class:`~sklearn.model_selection.GridSearchCV`) without padding every clip to
the longest one, the transformers return a 1-D ``object`` ndarray of length
``n_clips`` whose item ``i`` is a float32 ndarray of shape
``(n_segments_i, 3, 64, 64)``. sklearn indexes such arrays by row like any
other array, and memory stays proportional to the real number of segments.
"""

import numpy as np

__all__ = ["is_clips", "make_clips", "flatten_clips", "mean_per_clip", "segment_shape"]


def make_clips(arrays):
    """Pack per-clip arrays into a 1-D object ndarray (one row per clip).

    Parameters
    ----------
    arrays : sequence of ndarray
        Item ``i`` has shape ``(n_segments_i, ...)`` with ``n_segments_i >= 1``.

    Returns
    -------
    clips : ndarray of dtype object and shape (n_clips,)
        ``clips[i] is arrays[i]`` (no copy).
    """
    arrays = list(arrays)
    clips = np.empty(len(arrays), dtype=object)
    for i, a in enumerate(arrays):
        clips[i] = a
    return clips


def is_clips(X):
    """Return True if ``X`` is a sequence of per-clip arrays of ndim >= 2.

    Lists, tuples and 1-D object ndarrays whose items are ndarrays with at
    least two dimensions (segments first) are clips; anything else (a 2-D
    feature matrix, a 4-D image batch) is not.
    """
    if isinstance(X, np.ndarray):
        if X.dtype != object or X.ndim != 1:
            return False
    elif not isinstance(X, (list, tuple)):
        return False
    return len(X) > 0 and all(
        isinstance(item, np.ndarray) and item.ndim >= 2 for item in X
    )


def flatten_clips(clips):
    """Stack every clip's segments into one 2-D float32 matrix.

    Parameters
    ----------
    clips : sequence of ndarray
        Item ``i`` has shape ``(n_segments_i, *segment_shape)``; every item
        has the same ``segment_shape``.

    Returns
    -------
    segments : ndarray of shape (sum(n_segments_i), prod(segment_shape)), float32
        Segments in clip order, each flattened in C order.
    clip_index : ndarray of shape (sum(n_segments_i),), int64
        For each segment, the row of the clip it comes from.

    Raises
    ------
    ValueError
        If a clip has no segment, or clips have different segment shapes.
    """
    shapes = {item.shape[1:] for item in clips}
    if len(shapes) != 1:
        raise ValueError(
            f"All clips must have the same segment shape; got {sorted(shapes)}."
        )
    counts = np.array([item.shape[0] for item in clips], dtype=np.int64)
    if np.any(counts == 0):
        bad = int(np.flatnonzero(counts == 0)[0])
        raise ValueError(f"Clip {bad} has no segment; every clip needs at least one.")
    n_features = int(np.prod(next(iter(shapes))))
    segments = np.concatenate(
        [np.asarray(item, dtype=np.float32).reshape(len(item), n_features) for item in clips]
    )
    clip_index = np.repeat(np.arange(len(counts)), counts)
    return segments, clip_index


def mean_per_clip(values, clip_index):
    """Average the rows of ``values`` that belong to the same clip.

    Parameters
    ----------
    values : ndarray of shape (n_segments, n_columns)
        One row per segment, in any order (e.g. class posteriors).
    clip_index : ndarray of shape (n_segments,), int
        For each segment, the row of its clip, as returned by
        :func:`flatten_clips`; clips ``0 .. clip_index.max()`` each need at
        least one segment.

    Returns
    -------
    means : ndarray of shape (n_clips, n_columns)
        Row ``i`` is the mean of the segments of clip ``i``, with the dtype
        of ``values``.
    """
    values = np.asarray(values)
    clip_index = np.asarray(clip_index)
    n_clips = int(clip_index.max()) + 1 if len(clip_index) else 0
    counts = np.bincount(clip_index, minlength=n_clips).astype(values.dtype)
    sums = np.zeros((n_clips, values.shape[1]), dtype=values.dtype)
    np.add.at(sums, clip_index, values)
    return sums / counts[:, None]


def segment_shape(X):
    """Shape of one segment of X (before flattening), e.g. ``(3, 64, 64)``.

    Parameters
    ----------
    X : clips, or array-like of shape (n_samples, ...)

    Returns
    -------
    shape : tuple of int
        ``X[0].shape[1:]`` for clips, ``np.shape(X)[1:]`` otherwise; ``()``
        for ragged or exotic input (left to the input checks to reject).
    """
    if is_clips(X):
        return tuple(int(d) for d in X[0].shape[1:])
    try:
        shape = np.shape(X)
    except (TypeError, ValueError):  # ragged or exotic input: check_array decides
        return ()
    return tuple(int(d) for d in shape[1:]) if len(shape) >= 2 else tuple(shape)
