"""skpathnet.model_selection: the group splitters the benchmarks share."""

import numpy as np
import pytest
from sklearn.model_selection import GroupKFold, KFold, RepeatedKFold

from skpathnet.model_selection import FewTrainingClips, FewTrainingGroups, FoldSlice

GROUPS = np.repeat(np.array(["a", "b", "c", "d", "e"]), 3)


def test_few_training_groups_leave_one_out_and_train_on_k_others():
    cv = FewTrainingGroups(2)
    splits = list(cv.split(np.zeros((15, 1)), None, GROUPS))
    assert cv.get_n_splits(groups=GROUPS) == len(splits) == 5
    for name, (train, test) in zip("abcde", splits):
        assert set(GROUPS[test]) == {name} and len(test) == 3
        trained = set(GROUPS[train])
        assert len(trained) == 2 and name not in trained and len(train) == 6
    # every method sees the same draw
    again = list(cv.split(np.zeros((15, 1)), None, GROUPS))
    assert all((a[0] == b[0]).all() for a, b in zip(splits, again))
    # the draws of the benchmark's own copy (RESULTS.md rows were made with them)
    rng = np.random.RandomState(0)
    names = np.unique(GROUPS)
    for name, (train, _) in zip(names, splits):
        assert set(GROUPS[train]) == set(rng.permutation(names[names != name])[:2])
    assert repr(cv) == "FewTrainingGroups(n_train=2, random_state=0)"


@pytest.mark.parametrize("n_train, match", [(5, "n_train must be 1 to 4 .*; got 5"),
                                            (0, "n_train must be a positive integer; got 0"),
                                            (True, "n_train must be a positive integer")])
def test_few_training_groups_names_a_bad_n_train(n_train, match):
    with pytest.raises(ValueError, match=match):
        list(FewTrainingGroups(n_train).split(None, None, GROUPS))



#: 5 groups x 6 clips; classes 0, 1, 2 twice each per group, but group "e" has no class 2
CLIP_Y = np.array([0, 0, 1, 1, 2, 2] * 4 + [0, 0, 1, 1, 1, 0])
CLIP_GROUPS = np.repeat(np.array(["a", "b", "c", "d", "e"]), 6)


@pytest.mark.parametrize("n", [1, 2, 5, 100])
def test_few_training_clips_leave_one_out_and_train_on_n_per_class(n):
    cv = FewTrainingClips(n, random_state=3)
    splits = list(cv.split(np.zeros((30, 1)), CLIP_Y, CLIP_GROUPS))
    assert cv.get_n_splits(groups=CLIP_GROUPS) == len(splits) == 5
    for name, (train, test) in zip("abcde", splits):
        assert test.tolist() == np.flatnonzero(CLIP_GROUPS == name).tolist()
        assert name not in set(CLIP_GROUPS[train]) and (np.diff(train) > 0).all()
        others = CLIP_GROUPS != name
        for label in (0, 1, 2):  # n per class, or every clip where there are fewer
            available = int(np.sum(others & (CLIP_Y == label)))
            assert np.sum(CLIP_Y[train] == label) == min(n, available)
    # every method sees the same draw
    again = list(cv.split(None, CLIP_Y, CLIP_GROUPS))
    assert all((a[0] == b[0]).all() for a, b in zip(splits, again))
    assert repr(cv) == f"FewTrainingClips(n_per_class={n}, random_state=3)"


def test_few_training_clips_draws_are_nested_and_seeded():
    def train_sets(n, seed):
        return [set(train) for train, _ in
                FewTrainingClips(n, random_state=seed).split(None, CLIP_Y, CLIP_GROUPS)]

    for small, large in zip(train_sets(1, 0), train_sets(2, 0)):
        assert small < large  # the same seed draws the first clips of the same permutation
    assert train_sets(1, 0) != train_sets(1, 1)


@pytest.mark.parametrize("kwargs, call, match", [
    ({"n_per_class": 0}, (CLIP_Y, CLIP_GROUPS), "n_per_class must be a positive integer; got 0"),
    ({"n_per_class": 1.5}, (CLIP_Y, CLIP_GROUPS), "n_per_class must be a positive integer"),
    ({"n_per_class": 1}, (None, CLIP_GROUPS), "needs y"),
    ({"n_per_class": 1}, (CLIP_Y, None), "needs y"),
    ({"n_per_class": 1}, (CLIP_Y[:4], CLIP_GROUPS), r"differ in length \(4 and 30\)"),
    ({"n_per_class": 1}, (CLIP_Y, np.zeros(30)), "at least 2 groups; got 1"),
])
def test_few_training_clips_names_a_bad_input(kwargs, call, match):
    with pytest.raises(ValueError, match=match):
        list(FewTrainingClips(**kwargs).split(None, *call))

@pytest.mark.parametrize("start, stop", [(0, 3), (2, None), (1, 4), (0, None), (4, 9)])
def test_fold_slice_is_a_slice_of_the_folds(start, stop):
    cv = RepeatedKFold(n_splits=3, n_repeats=2, random_state=0)
    X = np.zeros((12, 1))
    everything = [test.tolist() for _, test in cv.split(X)]
    part = FoldSlice(cv, start=start, stop=stop)
    got = [test.tolist() for _, test in part.split(X)]
    assert got == everything[start:stop] and part.get_n_splits(X) == len(got)


def test_fold_slice_reprs_say_which_folds():
    assert repr(FoldSlice(KFold(5), stop=2)) == "first 2 folds of KFold(n_splits=5, " \
                                                "random_state=None, shuffle=False)"
    assert repr(FoldSlice(GroupKFold(4), start=1)).endswith(", folds 2-4")
