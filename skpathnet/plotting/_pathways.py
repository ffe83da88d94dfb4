"""The layer x module grid of a PathNet, with its source, frozen and target pathways."""

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from sklearn.exceptions import NotFittedError

__all__ = ["plot_pathways"]

UNUSED_COLOR = "#eeeeee"
SOURCE_COLORS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
SHARED_COLOR = "#17becf"
TARGET_COLOR = "#ff7f0e"
FROZEN_HATCH = "///"


def pathway_masks(clf):
    """Boolean (n_layers, n_modules) masks of a fitted PathNetClassifier's pathways.

    Returns
    -------
    masks : dict
        ``"sources"``: list with one mask per source's best pathway
        (``clf.source_paths_``, empty without transfer); ``"frozen"``: the
        frozen modules (``clf.frozen_modules_``, all False without
        transfer); ``"target"``: the target's best pathway
        (``clf.best_path_``), or None before a target fit.
    """
    params = clf.get_params()
    n_layers, n_modules = int(params["n_layers"]), int(params["n_modules"])
    sources = list(getattr(clf, "source_paths_", None) or [])
    target = getattr(clf, "best_path_", None)
    if not sources and target is None:
        raise NotFittedError(
            f"This {type(clf).__name__} has no pathway yet: call fit or fit_transfer first."
        )

    def mask(per_layer):
        out = np.zeros((n_layers, n_modules), dtype=bool)
        for layer, modules in enumerate(per_layer):
            out[layer, np.asarray(modules, dtype=np.int64)] = True
        return out

    def source_mask(path):  # pathway_per_class: (n_classes, n_layers, n_active), their union
        path = np.asarray(path)
        return mask(path) if path.ndim == 2 else mask(list(np.swapaxes(path, 0, 1)
                                                             .reshape(n_layers, -1)))

    frozen = getattr(clf, "frozen_modules_", None)
    return {
        "sources": [source_mask(path) for path in sources],
        "frozen": mask(frozen) if frozen is not None else mask([[]] * n_layers),
        "target": None if target is None else mask(target),
    }


def plot_pathways(clf, *, ax=None):
    """Draw the PathNet module grid and the pathways found (Nguyen et al. 2020, Figs. 19-23).

    Rows are layers (layer 1, next to the input, at the bottom), columns are
    modules. A cell's fill shows the source task whose best pathway uses the
    module (one colour per source; another one for modules on several
    sources' pathways; light grey if unused by the sources); hatching marks
    the frozen modules; a dot marks the target's best pathway.

    Parameters
    ----------
    clf : PathNetClassifier
        Fitted by :meth:`~skpathnet.PathNetClassifier.fit` (from scratch or
        after transfer) and/or :meth:`~skpathnet.PathNetClassifier.fit_transfer`.
        ``n_layers`` and ``n_modules`` are read from ``clf.get_params()``.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; None: a new figure sized to the grid.

    Returns
    -------
    ax : matplotlib.axes.Axes
        Cell ``(layer, module)`` (0-based) is the
        :class:`~matplotlib.patches.Rectangle` with gid
        ``"cell-{layer}-{module}"`` (its face colour is the fill above); a
        frozen module also has a hatched rectangle with gid
        ``"frozen-{layer}-{module}"``; the target dots are one
        :class:`~matplotlib.collections.PathCollection` with gid
        ``"target-path"``, offsets ``(module, layer)``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``clf`` has neither a source nor a target pathway.
    """
    masks = pathway_masks(clf)
    sources, frozen, target = masks["sources"], masks["frozen"], masks["target"]
    n_layers, n_modules = frozen.shape
    new_figure = ax is None
    if new_figure:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(0.38 * n_modules + 3.5, 0.45 * n_layers + 1.4))
    n_sources_using = np.sum(sources, axis=0) if sources else np.zeros_like(frozen, int)
    for layer in range(n_layers):
        for module in range(n_modules):
            count = n_sources_using[layer, module]
            if count == 0:
                color = UNUSED_COLOR
            elif count > 1:
                color = SHARED_COLOR
            else:
                k = next(i for i, m in enumerate(sources) if m[layer, module])
                color = SOURCE_COLORS[k % len(SOURCE_COLORS)]
            ax.add_patch(
                Rectangle(
                    (module - 0.42, layer - 0.38), 0.84, 0.76,
                    facecolor=color, edgecolor="0.55", linewidth=0.6,
                    gid=f"cell-{layer}-{module}",
                )
            )
            if frozen[layer, module]:
                ax.add_patch(
                    Rectangle(
                        (module - 0.42, layer - 0.38), 0.84, 0.76,
                        facecolor="none", edgecolor="black", linewidth=1.4,
                        hatch=FROZEN_HATCH, gid=f"frozen-{layer}-{module}",
                    )
                )
    handles = []
    for k in range(len(sources)):
        handles.append(
            Patch(facecolor=SOURCE_COLORS[k % len(SOURCE_COLORS)], edgecolor="0.55",
                  label=f"source {k + 1} best pathway")
        )
    if np.any(n_sources_using > 1):
        handles.append(Patch(facecolor=SHARED_COLOR, edgecolor="0.55",
                             label="on several source pathways"))
    if frozen.any():
        handles.append(Patch(facecolor="white", edgecolor="black", hatch=FROZEN_HATCH,
                             label="frozen module"))
    if target is not None:
        layers, modules = np.nonzero(target)
        ax.scatter(
            modules, layers, s=70, color=TARGET_COLOR, edgecolors="black",
            linewidths=0.8, zorder=3, gid="target-path",
        )
        handles.append(
            Line2D([], [], linestyle="none", marker="o", markersize=8,
                   markerfacecolor=TARGET_COLOR, markeredgecolor="black",
                   label="target best pathway")
        )
    handles.append(Patch(facecolor=UNUSED_COLOR, edgecolor="0.55", label="other module"))
    ax.set_xlim(-0.6, n_modules - 0.4)
    ax.set_ylim(-0.6, n_layers - 0.4)
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(n_modules), [str(m + 1) for m in range(n_modules)], fontsize=8)
    ax.set_yticks(np.arange(n_layers), [f"layer {l + 1}" for l in range(n_layers)])
    ax.set_xlabel("Module")
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5),
              fontsize="small", frameon=False)
    if new_figure:
        ax.figure.tight_layout()
    return ax
