"""Cross-validators for small emotion corpora: few training speakers or clips, a slice of folds."""

import itertools
from dataclasses import dataclass

import numpy as np

from ..utils._params import Integer, validate_params

__all__ = ["FewTrainingClips", "FewTrainingGroups", "FoldSlice"]


@dataclass(frozen=True)
class FewTrainingGroups:
    """Leave one group (speaker, subject) out, training on only ``n_train`` of the others.

    The small-corpus regime transfer is meant for: each test group is scored
    by a model trained on ``n_train`` other groups drawn at random, not on all
    of them. The draws come from one ``RandomState(random_state)`` in the
    order of the sorted group names, so every estimator scored with the same
    splitter and groups gets the same training groups.

    Parameters
    ----------
    n_train : int
        Training groups per split, from 1 to the number of groups minus 1.
    random_state : int, default=0
        Seed of the draws.

    Examples
    --------
    >>> import numpy as np
    >>> from skpathnet.model_selection import FewTrainingGroups
    >>> groups = np.repeat(["a", "b", "c"], 2)
    >>> [(train.tolist(), test.tolist())
    ...  for train, test in FewTrainingGroups(1).split(groups, groups=groups)][0]
    ([4, 5], [0, 1])
    """

    n_train: int
    random_state: int = 0

    def get_n_splits(self, X=None, y=None, groups=None):
        """The number of groups (one split each)."""
        return len(np.unique(groups))

    def split(self, X, y=None, groups=None):
        """Yield ``(train, test)`` row indices, one split per group in sorted order.

        Raises
        ------
        ValueError
            If ``n_train`` is not an integer from 1 to the number of groups
            minus 1.
        """
        groups = np.asarray(groups)
        names = np.unique(groups)
        validate_params(self, {"n_train": Integer(1)})
        if self.n_train >= len(names):
            raise ValueError(
                f"n_train must be 1 to {len(names) - 1} (the {len(names)} groups but the test "
                f"group); got {self.n_train}."
            )
        rng = np.random.RandomState(self.random_state)
        for name in names:
            train = rng.permutation(names[names != name])[:self.n_train]
            yield np.flatnonzero(np.isin(groups, train)), np.flatnonzero(groups == name)


@dataclass(frozen=True)
class FewTrainingClips:
    """Leave one group out, training on only ``n_per_class`` clips of each class of the others.

    The small-corpus regime counted in clips rather than speakers: each test
    group (speaker, subject) is scored by a model trained on ``n_per_class``
    clips per class drawn at random from the clips of all the other groups
    (all of a class's clips where it has fewer). The draws come from one
    ``RandomState(random_state)``, test groups in sorted order and classes
    in sorted order within each, so every estimator scored with the same
    splitter, labels and groups gets the same training clips. Each draw is
    the first ``n_per_class`` clips of a permutation of the class's clips,
    whatever ``n_per_class``: with the same ``random_state``, the training
    clips of a smaller ``n_per_class`` are part of those of a larger one
    (nested draws, as :class:`FewTrainingGroups`' training groups are).

    Parameters
    ----------
    n_per_class : int
        Training clips per class and split, at least 1.
    random_state : int, default=0
        Seed of the draws.

    Examples
    --------
    >>> import numpy as np
    >>> from skpathnet.model_selection import FewTrainingClips
    >>> groups = np.repeat(["a", "b", "c"], 4)
    >>> y = np.tile([0, 0, 1, 1], 3)
    >>> train, test = next(FewTrainingClips(1).split(y, y, groups))
    >>> test.tolist(), sorted(y[train].tolist()), sorted(set(groups[train].tolist()))
    ([0, 1, 2, 3], [0, 1], ['b', 'c'])
    """

    n_per_class: int
    random_state: int = 0

    def get_n_splits(self, X=None, y=None, groups=None):
        """The number of groups (one split each)."""
        return len(np.unique(groups))

    def split(self, X, y=None, groups=None):
        """Yield ``(train, test)`` row indices, one split per group in sorted order.

        ``train`` is sorted; ``test`` is every row of the test group.

        Raises
        ------
        ValueError
            If ``n_per_class`` is not a positive integer, ``y`` or
            ``groups`` is missing, they differ in length, or there are fewer
            than two groups.
        """
        validate_params(self, {"n_per_class": Integer(1)})
        if y is None or groups is None:
            raise ValueError("FewTrainingClips.split needs y (the classes to draw clips of) "
                             "and groups (the test groups).")
        y, groups = np.asarray(y), np.asarray(groups)
        if len(y) != len(groups):
            raise ValueError(f"y and groups differ in length ({len(y)} and {len(groups)}).")
        names = np.unique(groups)
        if len(names) < 2:
            raise ValueError(f"FewTrainingClips needs at least 2 groups; got {len(names)}.")
        rng = np.random.RandomState(self.random_state)
        for name in names:
            others = np.flatnonzero(groups != name)
            train = [rng.permutation(others[y[others] == label])[:self.n_per_class]
                     for label in np.unique(y[others])]
            yield np.sort(np.concatenate(train)), np.flatnonzero(groups == name)


class FoldSlice:
    """The folds ``start`` to ``stop`` of another cross-validator.

    ``FoldSlice(cv, stop=3)`` keeps the first three folds (smoke runs);
    ``FoldSlice(cv, start=10)`` the folds from the eleventh on, to resume a
    run: ``RepeatedKFold`` draws its repeats one after another from one
    seeded generator, so the first repeats do not depend on ``n_repeats``,
    and a run of 2 repeats and a later one of 5 repeats from fold 10 cover
    the 25 folds of 5 repeats exactly once.

    Parameters
    ----------
    cv : cross-validator
        Any object with ``split`` and ``get_n_splits``.
    start : int, default=0
        Index of the first fold kept.
    stop : int or None, default=None
        Index after the last fold kept; None: up to the last fold.

    Examples
    --------
    >>> from sklearn.model_selection import KFold
    >>> from skpathnet.model_selection import FoldSlice
    >>> cv = FoldSlice(KFold(5), start=1, stop=3)
    >>> cv.get_n_splits(), [test.tolist() for _, test in cv.split(list(range(5)))]
    (2, [[1], [2]])
    """

    def __init__(self, cv, start=0, stop=None):
        self.cv, self.start, self.stop = cv, start, stop

    def split(self, X, y=None, groups=None):
        """The folds ``start`` to ``stop`` of ``cv.split(X, y, groups)``."""
        return itertools.islice(self.cv.split(X, y, groups), self.start, self.stop)

    def get_n_splits(self, X=None, y=None, groups=None):
        """How many folds :meth:`split` yields."""
        return len(range(self.cv.get_n_splits(X, y, groups))[self.start:self.stop])

    def __repr__(self):
        if self.start == 0 and self.stop is not None:
            return f"first {self.stop} folds of {self.cv!r}"
        last = self.cv.get_n_splits() if self.stop is None else self.stop
        return f"{self.cv!r}, folds {self.start + 1}-{last}"
