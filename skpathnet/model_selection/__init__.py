"""Cross-validators for small emotion corpora.

- :class:`FewTrainingGroups`: leave one speaker (subject) out, training on
  only a few of the others, the small-corpus regime transfer is for;
- :class:`FewTrainingClips`: leave one speaker out, training on only a few
  clips of each emotion drawn from the others;
- :class:`FoldSlice`: some of the folds of another cross-validator (the
  first ones for smoke runs, the later ones to resume a run).
"""

from ._split import FewTrainingClips, FewTrainingGroups, FoldSlice

__all__ = ["FewTrainingClips", "FewTrainingGroups", "FoldSlice"]
