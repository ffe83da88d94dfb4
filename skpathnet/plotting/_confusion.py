"""Confusion matrix of emotion predictions."""

from sklearn.metrics import ConfusionMatrixDisplay

__all__ = ["plot_confusion_matrix"]


def plot_confusion_matrix(y_true, y_pred, *, labels=None, normalize="true", ax=None):
    """Plot a confusion matrix (Nguyen et al. 2020, Figs. 14 and 18).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels (one per clip, or per segment).
    labels : array-like of shape (n_classes,), default=None
        Classes, in display order; default: the sorted union of both.
    normalize : {"true", "pred", "all"} or None, default="true"
        As :func:`sklearn.metrics.confusion_matrix`: "true" shows per-class
        recall in each row (the papers' convention); None shows counts.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; None: a new figure.

    Returns
    -------
    ax : matplotlib.axes.Axes
        Rows are true classes, columns predicted classes; the cell values
        are in ``ax.images[0].get_array()``.
    """
    display = ConfusionMatrixDisplay.from_predictions(
        y_true,
        y_pred,
        labels=labels,
        normalize=normalize,
        ax=ax,
        cmap="Blues",
        colorbar=False,
        values_format=".2f" if normalize else "d",
        xticks_rotation=45,
    )
    return display.ax_
