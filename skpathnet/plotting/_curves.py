"""Accuracy (or fitness) over generations, for one or several histories."""

import numbers

import numpy as np

__all__ = ["plot_generation_curves"]


def plot_generation_curves(histories, *, labels=None, key="val_score", ax=None):
    """Plot a score over generations (Nguyen et al. 2020, Fig. 15).

    Parameters
    ----------
    histories : list of dict, or list of such lists
        One ``history_`` (or ``source_history_[k]``) of a fitted
        :class:`~skpathnet.PathNetClassifier`, or several (e.g. with and
        without transfer), one line each. The per-epoch ``history_`` of
        :class:`~skpathnet.baselines.FineTuneClassifier` works too (x axis:
        epochs).
    labels : list of str, default=None
        Legend label of each history; None: no legend for one history,
        "run 1", "run 2", ... for several.
    key : str, default="val_score"
        Record entry to plot: "val_score" (accuracy of each generation's
        winner on the validation set; needs ``fit(..., X_val=, y_val=)``),
        "fitness" (training fitness of each generation's winner), or any
        other scalar entry (e.g. "train_loss" of a FineTuneClassifier).
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; None: a new figure.

    Returns
    -------
    ax : matplotlib.axes.Axes
        One line per history; x from 1 (generation or epoch).

    Raises
    ------
    ValueError
        If a history is empty, a record lacks ``key``, or ``labels`` has the
        wrong length.
    """
    if len(histories) > 0 and isinstance(histories[0], dict):
        histories = [histories]
    if labels is not None and len(labels) != len(histories):
        raise ValueError(f"Got {len(labels)} labels for {len(histories)} histories.")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 4))
    unit = "generation"
    for index, history in enumerate(histories):
        if len(history) == 0:
            raise ValueError(f"History {index} is empty (a fit with no generation).")
        x, values = [], []
        for position, record in enumerate(history):
            if key == "fitness" and "winner" in record:
                value = record["fitness"][record["winner"]]
            elif key in record:
                value = record[key]
            else:
                hint = (
                    " Pass X_val and y_val to fit() to record val_score."
                    if key == "val_score"
                    else ""
                )
                raise ValueError(
                    f"History {index}, record {position} has no {key!r} entry "
                    f"(it has {sorted(record)}).{hint}"
                )
            if "generation" in record:
                x.append(record["generation"] + 1)
            elif "epoch" in record:
                x.append(record["epoch"])
                unit = "epoch"
            else:
                x.append(position + 1)
            if not isinstance(value, numbers.Real):
                raise ValueError(f"{key!r} must be a scalar; got {type(value).__name__}.")
            values.append(float(value))
        label = None
        if labels is not None:
            label = labels[index]
        elif len(histories) > 1:
            label = f"run {index + 1}"
        ax.plot(np.asarray(x), np.asarray(values), label=label)
    names = {"val_score": "Validation accuracy", "fitness": "Winner's fitness"}
    ax.set(xlabel=unit.capitalize(), ylabel=names.get(key, key))
    if key in ("val_score", "fitness"):
        ax.set_ylim(-0.02, 1.02)
    if any(line.get_label() and not line.get_label().startswith("_") for line in ax.lines):
        ax.legend(loc="lower right")
    ax.grid(True, alpha=0.3)
    return ax
