"""benchmarks/bench_accuracy.py: the small-corpus folds (--train-groups)."""

import pytest

from conftest import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_accuracy")


def test_the_small_corpus_folds_are_the_packages(bench):
    """--train-groups uses skpathnet.model_selection.FewTrainingGroups (tested there)."""
    from skpathnet.model_selection import FewTrainingGroups

    assert bench.FewTrainingGroups is FewTrainingGroups
