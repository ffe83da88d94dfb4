"""TransferMixin: what both transfer estimators share (prediction, source checks)."""

import numpy as np
import pytest

from skpathnet import PathNetClassifier
from skpathnet.baselines import FineTuneClassifier


def blobs(n=60, n_features=12, n_classes=3, seed=1):
    rng = np.random.RandomState(seed)
    centers = rng.normal(scale=3.0, size=(n_classes, n_features))
    y = rng.randint(n_classes, size=n)
    return (centers[y] + rng.normal(size=(n, n_features))).astype(np.float32), y


TINY = {
    "finetune": lambda: FineTuneClassifier(max_epochs=1, hidden_units=(8,), n_threads=1,
                                           random_state=0),
    "pathnet": lambda: PathNetClassifier(n_generations=1, population_size=2, n_threads=1,
                                         random_state=0),
}


@pytest.mark.parametrize("source", [-1, 1, 0.0, "0"])
@pytest.mark.parametrize("make", sorted(TINY))
def test_predict_source_rejects_a_bad_source_index(make, source):
    Xs, ys = blobs()
    clf = TINY[make]().fit_transfer(Xs, ys)
    with pytest.raises(ValueError, match=r"source must be an integer in \[0, 1\)"):
        clf.predict_proba_source(Xs, source=source)
    with pytest.raises(ValueError, match="source must be"):
        clf.predict_source(Xs, source=source)


@pytest.mark.parametrize("make", sorted(TINY))
def test_clip_posteriors_are_segment_means(make):
    from skpathnet._clips import make_clips
    X, y = blobs()
    clf = TINY[make]().fit(X, y)
    clips = make_clips([X[i : i + 3].reshape(3, 3, 2, 2) for i in range(0, 30, 3)])
    seg = clf.predict_proba_segments(clips)
    assert seg.shape == (30, len(clf.classes_))
    np.testing.assert_allclose(clf.predict_proba(clips), seg.reshape(10, 3, -1).mean(1),
                               rtol=1e-6)
    np.testing.assert_array_equal(clf.predict(clips), clf.classes_[clf.predict_proba(clips).argmax(1)])
    np.testing.assert_array_equal(clf.predict_segments(clips), clf.classes_[seg.argmax(1)])
