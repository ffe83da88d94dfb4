"""One-vs-rest ROC curves, one per emotion."""

import warnings

import numpy as np
from sklearn.metrics import auc, roc_curve

__all__ = ["plot_roc_curves"]


def plot_roc_curves(y_true, proba, classes, *, plot_chance_level=True, ax=None):
    """Plot a one-vs-rest ROC curve per class (Nguyen et al. 2020, Figs. 16-17).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    proba : array-like of shape (n_samples, n_classes)
        Class probabilities (e.g. ``clf.predict_proba(X)``), columns in the
        order of ``classes``.
    classes : array-like of shape (n_classes,)
        Class labels of the columns of ``proba`` (e.g. ``clf.classes_``).
    plot_chance_level : bool, default=True
        Also draw the diagonal of a random classifier (dashed, grey).
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; None: a new figure.

    Returns
    -------
    ax : matplotlib.axes.Axes
        One line per class, labelled ``"<class> (AUC = 0.93)"``, then the
        chance line if drawn. A class absent from ``y_true`` has no ROC
        curve: it is skipped with a warning.

    Raises
    ------
    ValueError
        If ``proba`` does not have one column per class.
    """
    y_true = np.asarray(y_true)
    proba = np.asarray(proba)
    classes = np.asarray(classes)
    if proba.ndim != 2 or proba.shape[1] != len(classes) or len(proba) != len(y_true):
        raise ValueError(
            f"proba must have shape (n_samples, n_classes) = ({len(y_true)}, {len(classes)}); "
            f"got {proba.shape}."
        )
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 5))
    for column, label in enumerate(classes):
        positive = y_true == label
        if positive.all() or not positive.any():
            warnings.warn(
                f"Class {label!r} has {'no negative' if positive.any() else 'no positive'} "
                "sample in y_true: its ROC curve is undefined and not drawn.",
                UserWarning,
                stacklevel=2,
            )
            continue
        fpr, tpr, _ = roc_curve(positive, proba[:, column])
        ax.plot(fpr, tpr, label=f"{label} (AUC = {auc(fpr, tpr):.2f})")
    if plot_chance_level:
        ax.plot([0, 1], [0, 1], linestyle="--", color="0.6", label="chance level")
    ax.set(
        xlim=(-0.01, 1.01),
        ylim=(-0.01, 1.01),
        xlabel="False positive rate",
        ylabel="True positive rate",
        aspect="equal",
    )
    ax.legend(loc="lower right", fontsize="small")
    return ax
