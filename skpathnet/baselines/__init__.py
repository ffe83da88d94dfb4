"""Baselines to compare PathNet transfer with.

- :class:`FineTuneClassifier`: conventional (and cascaded) fine-tuning of an
  MLP with the capacity of one PathNet pathway, which shows catastrophic
  forgetting of the source tasks; ``ewc_lambda`` adds Elastic Weight
  Consolidation (Kirkpatrick et al. 2017), and ``fit_transfer(...,
  append=True)`` continues a cascade one task at a time.
- Classical classifiers need no wrapper: see the Notes of
  :class:`FineTuneClassifier` for scikit-learn's ``LogisticRegression`` or
  ``SGDClassifier`` on flattened segments.
"""

from ._finetune import FineTuneClassifier

__all__ = ["FineTuneClassifier"]
