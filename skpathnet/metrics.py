"""Scores of emotion recognition, and of task sequences as continual learning scores them.

- :func:`war_score`: weighted average recall (accuracy);
- :func:`uar_score`: unweighted average recall (balanced accuracy);
- :func:`uap_score`: unweighted average precision;
- :func:`emotion_report`: all three with per-class recall and support;
- :func:`au_f1_scores`: per-Action-Unit F1 and their mean, ignoring
  unlabelled entries;
- :func:`accuracy_matrix`: ``R[i, j]``, the score on task ``j`` after
  training tasks ``0..i`` of a sequence (Lopez-Paz and Ranzato 2017);
- :func:`backward_transfer` (BWT) and :func:`forward_transfer` (FWT) of
  that matrix.
"""

from .utils._continual import accuracy_matrix, backward_transfer, forward_transfer
from .utils._metrics import au_f1_scores, emotion_report, uap_score, uar_score, war_score

__all__ = ["accuracy_matrix", "au_f1_scores", "backward_transfer", "emotion_report",
           "forward_transfer", "uap_score", "uar_score", "war_score"]
