"""benchmarks/bench_accuracy.py: the small-corpus folds (--train-groups)."""

import numpy as np
import pytest

from conftest import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_accuracy")


def test_few_training_groups_leave_one_out_and_train_on_k_others(bench):
    groups = np.repeat(np.array(["a", "b", "c", "d", "e"]), 3)
    cv = bench.FewTrainingGroups(2)
    splits = list(cv.split(np.zeros((15, 1)), None, groups))
    assert cv.get_n_splits(groups=groups) == len(splits) == 5
    for name, (train, test) in zip("abcde", splits):
        assert set(groups[test]) == {name} and len(test) == 3
        trained = set(groups[train])
        assert len(trained) == 2 and name not in trained and len(train) == 6
    # every method sees the same draw
    again = list(cv.split(np.zeros((15, 1)), None, groups))
    assert all((a[0] == b[0]).all() for a, b in zip(splits, again))
    with pytest.raises(ValueError, match="--train-groups must be 1 to 4; got 5"):
        list(bench.FewTrainingGroups(5).split(None, None, groups))
