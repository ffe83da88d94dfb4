"""Emotion-recognition scores: WAR, UAR, UAP and per-class recall; AU F1.

Definitions follow Nguyen et al. (2020), Table 1: the weighted average
recall (WAR) is the plain accuracy, the unweighted average recall (UAR) is
the mean of per-class recalls, and the unweighted average precision (UAP)
is the mean of per-class precisions. All are computed with
:mod:`sklearn.metrics`. Facial Action Units (AUs) are scored by per-AU F1
and its mean over AUs (:func:`au_f1_scores`), the standard of AU detection
(e.g. the FERA challenges, Valstar et al. 2015).
"""

import numpy as np
from sklearn.metrics import accuracy_score, precision_score, recall_score

__all__ = ["au_f1_scores", "war_score", "uar_score", "uap_score", "emotion_report"]


def war_score(y_true, y_pred):
    """Weighted average recall (accuracy), a float in [0, 1]."""
    return float(accuracy_score(y_true, y_pred))


def uar_score(y_true, y_pred):
    """Unweighted average recall: mean per-class recall, a float in [0, 1]."""
    return float(recall_score(y_true, y_pred, average="macro", zero_division=0))


def uap_score(y_true, y_pred):
    """Unweighted average precision: mean per-class precision, a float in [0, 1].

    A class that is never predicted counts with precision 0.
    """
    return float(precision_score(y_true, y_pred, average="macro", zero_division=0))


def emotion_report(y_true, y_pred, *, labels=None):
    """WAR, UAR, UAP and per-class recall in one dict.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    labels : array-like, default=None
        Classes to report; default: the sorted union of both.

    Returns
    -------
    report : dict
        ``{"WAR": float, "UAR": float, "UAP": float, "recall": {label: float},
        "support": {label: int}, "n": int}``.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if labels is None:
        labels = np.unique(np.concatenate([y_true, y_pred]))
    recalls = recall_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    return {
        "WAR": war_score(y_true, y_pred),
        "UAR": float(np.mean(recalls)),
        "UAP": float(
            precision_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
        ),
        "recall": {str(c): float(r) for c, r in zip(labels, recalls)},
        "support": {str(c): int(np.sum(y_true == c)) for c in labels},
        "n": int(len(y_true)),
    }


def au_f1_scores(y_true, y_pred):
    """Per-AU F1 and their mean, ignoring unlabelled entries.

    For AU ``k``, ``F1_k = 2 TP / (2 TP + FP + FN)`` counted over the
    samples whose true entry is labelled (0 or 1; -1 or NaN is unlabelled,
    the convention of :class:`~skpathnet.MultiTaskPathNetClassifier`). An AU
    that is neither present nor predicted on any labelled sample has no
    defined F1 (NaN) and is left out of the mean; one that is predicted but
    never present scores 0.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_aus)
        True indicator matrix: 1 present, 0 absent, -1 or NaN unlabelled.
    y_pred : array-like of shape (n_samples, n_aus)
        Predicted 0/1 indicator matrix (e.g.
        :meth:`~skpathnet.MultiTaskPathNetClassifier.predict_aus`).

    Returns
    -------
    f1 : ndarray of shape (n_aus,), float64
        F1 of each AU; NaN where undefined.
    mean_f1 : float
        Mean of the defined per-AU F1 (NaN if none is defined).

    Raises
    ------
    ValueError
        If the shapes differ or are not 2-D, or an entry of ``y_true`` is
        not 0, 1, -1 or NaN, or one of ``y_pred`` not 0 or 1.

    Examples
    --------
    >>> f1, mean = au_f1_scores([[1, 0], [1, -1], [0, 1]], [[1, 1], [0, 1], [0, 1]])
    >>> f1.round(3).tolist(), round(mean, 3)
    ([0.667, 0.667], 0.667)
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.ndim != 2 or y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must be indicator matrices of the same shape (n_samples, "
            f"n_aus); got {y_true.shape} and {y_pred.shape}."
        )
    known = ~np.isnan(y_true) & (y_true != -1)
    if not np.isin(y_true[known], (0, 1)).all():
        raise ValueError("y_true entries must be 0, 1, or -1 / NaN (unlabelled).")
    if not np.isin(y_pred, (0, 1)).all():
        raise ValueError("y_pred entries must be 0 or 1.")
    true, pred = (y_true == 1) & known, (y_pred == 1) & known
    tp = (true & pred).sum(0)
    fp = (~true & pred).sum(0)
    fn = (true & ~pred).sum(0)
    denominator = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(denominator > 0, 2 * tp / denominator, np.nan)
    defined = ~np.isnan(f1)
    return f1, float(f1[defined].mean()) if defined.any() else float("nan")
