"""End to end on real speech: EMO-DB subset, Pipeline and speaker groups."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import LeaveOneGroupOut, cross_validate
from sklearn.pipeline import make_pipeline

from skpathnet import LogMelSegmenter, PathNetClassifier
from skpathnet.datasets import load_emodb

EMOTIONS = ["anger", "neutral", "sadness"]


@pytest.fixture(scope="module")
def emodb_subset(data_home):
    bunch = load_emodb(data_home)
    keep = np.isin(bunch.target, EMOTIONS) & np.isin(bunch.groups, ["03", "08", "09", "10", "11"])
    X = LogMelSegmenter(n_jobs=2).fit_transform(bunch.filenames[keep])
    return X, bunch.target[keep], bunch.groups[keep], bunch.filenames[keep]


def test_small_emodb_fit_beats_chance(emodb_subset):
    X, y, groups, _ = emodb_subset
    test = groups == "03"
    # a larger step than the paper's 0.02 so that 30 generations suffice
    clf = PathNetClassifier(n_generations=30, population_size=8, learning_rate=0.1,
                            random_state=0)
    clf.fit(X[~test], y[~test])
    assert clf.n_steps_ == sum(len(c) for c in X[~test]) // 64
    accuracy = clf.score(X[test], y[test])
    # chance is 1/3 with three classes (majority class: under 0.4)
    assert accuracy > 0.6, accuracy
    seg_acc = np.mean(clf.predict_segments(X[test]) == np.repeat(y[test], [len(c) for c in X[test]]))
    assert seg_acc > 0.5, seg_acc


def test_pipeline_cross_validate_with_speaker_groups(emodb_subset):
    _, y, groups, files = emodb_subset
    pick = np.isin(groups, ["03", "08", "09"])
    clf = PathNetClassifier(n_generations=2, population_size=2, n_steps=2, random_state=0)
    pipe = make_pipeline(LogMelSegmenter(), clf)
    scores = cross_validate(pipe, files[pick], y[pick], groups=groups[pick],
                            cv=LeaveOneGroupOut(), scoring="balanced_accuracy")
    assert len(scores["test_score"]) == 3
    assert np.all((0 <= scores["test_score"]) & (scores["test_score"] <= 1))


def test_transfer_between_real_corpora_halves(emodb_subset):
    """fit_transfer on some speakers, fit on others: frozen pathway reused."""
    X, y, groups, _ = emodb_subset
    src = np.isin(groups, ["09", "10", "11"])
    clf = PathNetClassifier(n_generations=4, population_size=4, random_state=0)
    clf.fit_transfer(X[src], y[src])
    before = clf.predict_proba_source(X[src])
    target = clone(clf).fit(X[~src], y[~src])
    np.testing.assert_array_equal(before, target.predict_proba_source(X[src]))
    for layer, frozen in enumerate(clf.frozen_modules_):
        assert target._target_state.pathway[layer][2] >= len(frozen)
