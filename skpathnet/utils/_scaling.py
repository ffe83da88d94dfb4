"""Per-feature standardisation of training segments, computed in chunks.

Computing a standard deviation with numpy over a (n_segments, 12288) matrix
creates a float64 temporary of twice the matrix's size; accumulating sums in
row chunks keeps peak memory at the matrix plus a constant.
"""

import numpy as np

__all__ = ["fit_standardizer", "standardize"]


def fit_standardizer(X, *, chunk_size=256):
    """Per-feature mean and scale of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32

    Returns
    -------
    mean, scale : ndarray of shape (n_features,), float32
        ``scale`` is the population standard deviation, with 1 where it is 0.
    """
    total = np.zeros(X.shape[1], dtype=np.float64)
    squares = np.zeros(X.shape[1], dtype=np.float64)
    for start in range(0, len(X), chunk_size):
        chunk = X[start : start + chunk_size].astype(np.float64)
        total += chunk.sum(0)
        squares += np.square(chunk).sum(0)
    n = max(len(X), 1)
    mean = total / n
    var = np.maximum(squares / n - mean**2, 0.0)
    scale = np.sqrt(var)
    scale[scale < 1e-8 * np.maximum(np.abs(mean), 1.0)] = 1.0
    return mean.astype(np.float32), scale.astype(np.float32)


def standardize(X, mean, scale, *, inplace=False):
    """Return ``(X - mean) / scale`` as float32, overwriting ``X`` if ``inplace``."""
    if not inplace:
        X = X - mean  # one new array, no second temporary
    else:
        X -= mean
    X /= scale
    return X
