"""Accuracy against the size of the target's training data, one line per method."""

import numpy as np

__all__ = ["plot_learning_curve"]

_XLABEL = {"speakers": "Training speakers per fold", "clips": "Training clips per emotion"}


def plot_learning_curve(results, *, metric="WAR", methods=None, ax=None):
    """Plot a learning curve: pooled clip accuracy against the target's training size.

    Parameters
    ----------
    results : dict
        What :func:`~skpathnet.experiments.run_curve_experiment` (or
        :func:`~skpathnet.experiments.learning_curve`) returns, or that
        dict read back from its JSON file.
    metric : {"WAR", "UAR"}, default="WAR"
        The pooled clip-level score over every fold of every draw of a
        size.
    methods : list of str, default=None
        The methods to draw, in legend order; None: all, in the results'
        order.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; None: a new figure.

    Returns
    -------
    ax : matplotlib.axes.Axes
        One line (with markers) per method; a logarithmic x axis whose ticks
        are the sizes run, ``"all"`` written as ``"all (9)"`` at the number
        it stands for (the speakers but the test one, or the mean training
        clips per emotion).

    Raises
    ------
    ValueError
        If ``metric`` is neither "WAR" nor "UAR", the results have no size,
        or a method is not in them.
    """
    if metric not in ("WAR", "UAR"):
        raise ValueError(f"metric must be 'WAR' or 'UAR'; got {metric!r}.")
    curve = results.get("curve") or []
    if not curve:
        raise ValueError("The results hold no size (an empty 'curve').")
    available = list(curve[0]["methods"])
    methods = available if methods is None else list(methods)
    unknown = [m for m in methods if any(m not in entry["methods"] for entry in curve)]
    if unknown:
        raise ValueError(f"Methods {unknown} are not in the results (they have {available}).")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 4))
    x = np.array([float(entry["x"]) for entry in curve])
    for name in methods:
        y = [float(entry["methods"][name]["clip"][metric]) for entry in curve]
        ax.plot(x, y, marker="o", label=name)
    ax.set_xscale("log")
    ax.set_xticks(x)
    ax.set_xticklabels([f"all ({entry['x']:.0f})" if entry["size"] == "all"
                        else str(entry["size"]) for entry in curve])
    ax.minorticks_off()
    ax.set(xlabel=_XLABEL.get(results.get("unit"), "Training size"),
           ylabel=f"Clip {metric} (pooled)")
    target = results.get("target")
    if target is not None:
        sources = " + ".join(results.get("sources", []))
        ax.set_title(f"{sources} -> {target}" if sources else target)
    ax.legend(loc="lower right")
    ax.grid(True, alpha=0.3)
    return ax
