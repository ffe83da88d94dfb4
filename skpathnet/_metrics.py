"""Emotion-recognition scores: WAR, UAR, UAP and per-class recall.

Definitions follow Nguyen et al. (2020), Table 1: the weighted average
recall (WAR) is the plain accuracy, the unweighted average recall (UAR) is
the mean of per-class recalls, and the unweighted average precision (UAP)
is the mean of per-class precisions. All are computed with
:mod:`sklearn.metrics`.
"""

import numpy as np
from sklearn.metrics import accuracy_score, precision_score, recall_score

__all__ = ["war_score", "uar_score", "uap_score", "emotion_report"]


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
