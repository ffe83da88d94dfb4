"""Heat map of the accuracy matrix of a task sequence."""

import numpy as np

__all__ = ["plot_accuracy_matrix"]


def plot_accuracy_matrix(R, *, tasks=None, ax=None, vmin=0.0, vmax=1.0, cmap="viridis",
                         fmt=".2f", title=None):
    """Plot the accuracy matrix ``R`` of a task sequence as a heat map.

    Row ``i`` is the model after training tasks ``0..i``, column ``j`` the
    task scored (:func:`skpathnet.metrics.accuracy_matrix`), so a column
    read downwards shows what later tasks did to task ``j`` (forgetting,
    :func:`~skpathnet.metrics.backward_transfer`) and the diagonal how
    well each task was learnt in the sequence. Undefined entries (NaN,
    above the diagonal) are left blank.

    Parameters
    ----------
    R : array-like of shape (n_tasks, n_tasks)
        Scores, NaN where undefined.
    tasks : sequence of str, default=None
        Task names (e.g. corpora), in training order; default "task 0",
        "task 1", ...
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; None: a new figure.
    vmin, vmax : float, default=0.0, 1.0
        Colour scale limits (accuracies by default).
    cmap : str, default="viridis"
    fmt : str, default=".2f"
        Format of the value written in each defined cell.
    title : str, default=None

    Returns
    -------
    ax : matplotlib.axes.Axes
        The cell values (a masked array: undefined cells masked) are in
        ``ax.images[0].get_array()``; each defined cell's text is in
        ``ax.texts``.

    Raises
    ------
    ValueError
        If ``R`` is not a square matrix or ``tasks`` has another length.
    """
    R = np.asarray(R, dtype=np.float64)
    if R.ndim != 2 or R.shape[0] != R.shape[1] or len(R) == 0:
        raise ValueError(f"R must be a non-empty square matrix (n_tasks, n_tasks); got shape "
                         f"{R.shape}.")
    n = len(R)
    tasks = [f"task {i}" for i in range(n)] if tasks is None else [str(t) for t in tasks]
    if len(tasks) != n:
        raise ValueError(f"Got {len(tasks)} task names for {n} tasks.")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(1.2 * n + 2, 1.0 * n + 1.2))
    values = np.ma.masked_invalid(R)
    image = ax.imshow(values, vmin=vmin, vmax=vmax, cmap=cmap)
    middle = (vmin + vmax) / 2
    for i in range(n):
        for j in range(n):
            if np.isfinite(R[i, j]):
                ax.text(j, i, format(R[i, j], fmt), ha="center", va="center",
                        color="black" if R[i, j] > middle else "white")
    ax.set_xticks(range(n), tasks, rotation=30, ha="right")
    ax.set_yticks(range(n), tasks)
    ax.set_xlabel("scored on the test split of")
    ax.set_ylabel("after training up to")
    if title is not None:
        ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return ax
