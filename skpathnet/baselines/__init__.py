"""Baselines to compare PathNet transfer with.

- :class:`FineTuneClassifier`: conventional (and cascaded) fine-tuning of an
  MLP with the capacity of one PathNet pathway, which shows catastrophic
  forgetting of the source tasks; ``ewc_lambda`` adds Elastic Weight
  Consolidation (Kirkpatrick et al. 2017), and ``fit_transfer(...,
  append=True)`` continues a cascade one task at a time.
- :class:`SegmentLinearClassifier`: the classical baseline, a linear model
  (standardised, SGD logistic regression) on every segment, its posteriors
  averaged per clip.
"""

from ._finetune import FineTuneClassifier
from ._linear import SegmentLinearClassifier

__all__ = ["FineTuneClassifier", "SegmentLinearClassifier"]
