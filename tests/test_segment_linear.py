"""SegmentLinearClassifier: the classical baseline of bench_paper, on every input form."""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from conftest import blobs, clips_of
from skpathnet.baselines import SegmentLinearClassifier
from skpathnet.utils import flatten_clips


def test_clips_train_on_segments_and_average_per_clip():
    X, y = blobs()
    clips = clips_of(X)
    clf = SegmentLinearClassifier(random_state=0).fit(clips, y)
    segments, clip_index = flatten_clips(clips)
    # the same pipeline on the segments, each with its clip's label
    reference = make_pipeline(
        StandardScaler(),
        SGDClassifier(loss="log_loss", alpha=1e-3, max_iter=20, tol=1e-3, random_state=0),
    ).fit(segments, y[clip_index])
    seg_proba = reference.predict_proba(segments)
    np.testing.assert_array_equal(clf.predict_proba_segments(clips), seg_proba)
    per_clip = np.array([seg_proba[clip_index == i].mean(0) for i in range(len(clips))])
    np.testing.assert_allclose(clf.predict_proba(clips), per_clip, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict_segments(clips),
                                  clf.classes_[seg_proba.argmax(1)])
    assert clf.n_features_in_ == 12 and clf.score(clips, y) > 0.9


def test_a_batch_is_flattened_and_string_labels_are_kept():
    X, y = blobs(shape=(3, 2, 2))
    labels = np.array(["anger", "joy", "sadness"])[y]
    batch = SegmentLinearClassifier(random_state=0).fit(X, labels)
    flat = SegmentLinearClassifier(random_state=0).fit(X.reshape(len(X), -1), labels)
    np.testing.assert_array_equal(batch.predict_proba(X),
                                  flat.predict_proba(X.reshape(len(X), -1)))
    assert list(batch.classes_) == ["anger", "joy", "sadness"]
    assert set(batch.predict(X)) <= set(labels)


def test_a_short_budget_raises_no_convergence_warning():
    X, y = blobs()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SegmentLinearClassifier(max_iter=1, random_state=0).fit(X, y)


@pytest.mark.parametrize("params, match", [
    ({"alpha": 0}, "alpha must be a positive finite float; got 0"),
    ({"max_iter": True}, "max_iter must be a positive integer; got True"),
])
def test_bad_params_raise(params, match):
    X, y = blobs(n=20)
    with pytest.raises(ValueError, match=match):
        SegmentLinearClassifier(**params).fit(X, y)


def test_labels_must_align_with_clips():
    X, y = blobs(n=20)
    with pytest.raises(ValueError, match="X has 20 samples \\(clips\\), y has 19"):
        SegmentLinearClassifier().fit(clips_of(X), y[:-1])
