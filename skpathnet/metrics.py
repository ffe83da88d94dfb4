"""Scores of emotion recognition: WAR, UAR, UAP, per-class recall, AU F1.

- :func:`war_score`: weighted average recall (accuracy);
- :func:`uar_score`: unweighted average recall (balanced accuracy);
- :func:`uap_score`: unweighted average precision;
- :func:`emotion_report`: all three with per-class recall and support;
- :func:`au_f1_scores`: per-Action-Unit F1 and their mean, ignoring
  unlabelled entries.
"""

from .utils._metrics import au_f1_scores, emotion_report, uap_score, uar_score, war_score

__all__ = ["au_f1_scores", "emotion_report", "uap_score", "uar_score", "war_score"]
