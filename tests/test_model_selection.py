"""skpathnet.model_selection: the group splitters the benchmarks share."""

import numpy as np
import pytest
from sklearn.model_selection import GroupKFold, KFold, RepeatedKFold

from skpathnet.model_selection import FewTrainingGroups, FoldSlice

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
