"""Figures of Nguyen et al. (2020) with matplotlib.

Every function draws on the given ``ax`` (or on a new figure) and returns
the :class:`~matplotlib.axes.Axes`; none calls ``plt.show``. Pyplot is
imported only when a function needs a new figure.

- :func:`plot_confusion_matrix`: row-normalised confusion matrix (Figs. 14, 18).
- :func:`plot_roc_curves`: one-vs-rest ROC curve per emotion (Figs. 16-17).
- :func:`plot_generation_curves`: accuracy over generations, with and
  without transfer (Fig. 15).
- :func:`plot_pathways`: the layer x module grid with source, frozen and
  target pathways (Figs. 19-23).
- :func:`plot_accuracy_matrix`: the accuracy matrix of a task sequence
  (:func:`skpathnet.metrics.accuracy_matrix`) as a heat map.
- :func:`plot_learning_curve`: accuracy against the target's training size,
  one line per method (:func:`~skpathnet.experiments.run_curve_experiment`).
"""

from ._accuracy_matrix import plot_accuracy_matrix
from ._confusion import plot_confusion_matrix
from ._curves import plot_generation_curves
from ._learning import plot_learning_curve
from ._pathways import plot_pathways
from ._roc import plot_roc_curves

__all__ = [
    "plot_accuracy_matrix",
    "plot_confusion_matrix",
    "plot_generation_curves",
    "plot_learning_curve",
    "plot_pathways",
    "plot_roc_curves",
]
