"""Tests of GroupStandardScaler, speaker (group) normalisation."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, cross_val_predict, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from skpathnet.transformers import GroupStandardScaler, LabelCoverageWarning, low_coverage_groups


def _speakers(n_speakers=6, per_class=6, n_classes=3, n_features=5, seed=0, shift=8.0):
    """A synthetic corpus: each class moves the features, each speaker offsets and scales them."""
    rng = np.random.RandomState(seed)
    X, y, g = [], [], []
    centres = rng.normal(size=(n_classes, n_features)) * 1.5
    for s in range(n_speakers):
        offset, scale = rng.normal(size=n_features) * shift, rng.uniform(0.5, 3, n_features)
        for c in range(n_classes):
            X.append((centres[c] + rng.normal(size=(per_class, n_features))) * scale + offset)
            y += [c] * per_class
            g += [f"spk{s}"] * per_class
    return np.vstack(X), np.array(y), np.array(g)


def test_each_group_gets_zero_mean_unit_std_from_its_own_data():
    X, y, g = _speakers()
    Z = GroupStandardScaler().fit(X, y, groups=g).transform(X, groups=g)
    for s in np.unique(g):
        np.testing.assert_allclose(Z[g == s].mean(0), 0, atol=1e-12)
        np.testing.assert_allclose(Z[g == s].std(0), 1, atol=1e-12)
    # the other groups do not matter: one speaker alone gives the same rows
    alone = GroupStandardScaler().fit(X).transform(X[g == "spk3"])
    np.testing.assert_array_equal(alone, Z[g == "spk3"])


def test_without_groups_all_samples_are_one_group_and_options_apply():
    X = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])
    np.testing.assert_allclose(
        GroupStandardScaler().fit_transform(X), [[-1.2247449, 0], [0, 0], [1.2247449, 0]]
    )
    np.testing.assert_allclose(GroupStandardScaler(with_std=False).fit_transform(X)[:, 0],
                               [-2, 0, 2])
    np.testing.assert_allclose(GroupStandardScaler(with_mean=False).fit_transform(X)[:, 0],
                               np.array([1, 3, 5]) / np.std([1, 3, 5]))


def test_dtype_is_preserved_and_clips_keep_their_shapes():
    X, y, g = _speakers(n_speakers=2, per_class=2)
    assert GroupStandardScaler().fit_transform(X.astype(np.float32), groups=g).dtype == np.float32
    rng = np.random.RandomState(0)
    clips = [rng.normal(loc=i // 2 * 10, size=(1 + i % 3, 3, 4, 4)).astype(np.float32)
             for i in range(6)]
    groups = np.array(["a", "a", "b", "b", "c", "c"])
    out = GroupStandardScaler().fit_transform(clips, groups=groups)
    assert out.dtype == object and [c.shape for c in out] == [c.shape for c in clips]
    segs = np.concatenate([c.reshape(len(c), -1) for c in out[2:4]])
    np.testing.assert_allclose(segs.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(segs.std(0), 1, atol=1e-4)


def test_bad_inputs_raise_clearly():
    X, y, g = _speakers(n_speakers=2, per_class=2)
    with pytest.raises(NotFittedError):
        GroupStandardScaler().transform(X, groups=g)
    with pytest.raises(ValueError, match="groups has 3 entries but X has 12 samples"):
        GroupStandardScaler().fit(X).transform(X, groups=g[:3])
    with pytest.raises(ValueError, match="y has 2 entries but X has 12"):
        GroupStandardScaler().fit(X, y[:2], groups=g)
    with pytest.raises(ValueError, match="min_class_coverage must be a float in"):
        GroupStandardScaler(min_class_coverage=2).fit(X)
    with pytest.raises(ValueError, match="X has 4 features, but GroupStandardScaler is expect"):
        GroupStandardScaler().fit(X).transform(X[:, :4])


def _one_emotion_per_speaker(n_speakers=12, per_speaker=10, n_features=6, seed=0):
    """Talk-show style: every speaker shows one emotion only."""
    rng = np.random.RandomState(seed)
    centres = np.array([[4.0] + [0.0] * (n_features - 1), [-4.0] + [0.0] * (n_features - 1)])
    X, y, g = [], [], []
    for s in range(n_speakers):
        c = s % 2
        X.append(centres[c] + rng.normal(size=(per_speaker, n_features)))
        y += [c] * per_speaker
        g += [f"s{s:02d}"] * per_speaker
    return np.vstack(X), np.array(y), np.array(g)


def test_label_coverage_failure_mode_warns_with_numbers_and_is_real():
    X, y, g = _one_emotion_per_speaker()
    with pytest.warns(LabelCoverageWarning, match=r"12 of 12 groups .* 2 classes .*'s00': 1"):
        scaler = GroupStandardScaler().fit(X, y, groups=g)
    assert scaler.group_class_counts_ == {f"s{s:02d}": 1 for s in range(12)}
    # the failure is real: a linear SVM is perfect without normalisation, at chance with it
    cv = LeaveOneGroupOut()
    raw = cross_val_predict(LinearSVC(), X, y, groups=g, cv=cv)
    Z = GroupStandardScaler(min_class_coverage=0).fit_transform(X, groups=g)
    normed = cross_val_predict(LinearSVC(), Z, y, groups=g, cv=cv)
    assert np.mean(raw == y) == 1.0
    assert np.mean(normed == y) < 0.7
    # full coverage and min_class_coverage=0: no warning
    Xf, yf, gf = _speakers()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GroupStandardScaler().fit(Xf, yf, groups=gf)
        GroupStandardScaler(min_class_coverage=0).fit(X, y, groups=g)


def test_low_coverage_groups_lists_what_the_warning_flags():
    X, y, g = _one_emotion_per_speaker()
    assert low_coverage_groups(y, g) == {f"s{s:02d}": 1 for s in range(12)}
    assert low_coverage_groups(y, g, min_class_coverage=0) == {}
    _, yf, gf = _speakers()
    assert low_coverage_groups(yf, gf) == {}
    # 3 of 6 classes is "at most half": flagged; 4 of 6 is not
    y6 = np.array([0, 1, 2, 0, 1, 2, 3, 4, 5, 3])
    g6 = np.array(["a"] * 3 + ["b"] * 7)
    assert low_coverage_groups(y6, g6) == {"a": 3}
    assert low_coverage_groups(y6, g6, min_class_coverage=0.4) == {}
    with pytest.raises(ValueError, match="min_class_coverage must be a float in \\[0, 1\\]; got 2"):
        low_coverage_groups(y6, g6, min_class_coverage=2)
    with pytest.raises(ValueError, match="groups has 3 entries but y has 10 samples"):
        low_coverage_groups(y6, g6[:3])


def test_normalising_before_cv_equals_normalising_inside_each_fold():
    X, y, g = _speakers()
    Z = GroupStandardScaler().fit_transform(X, groups=g)
    before = cross_val_predict(LinearSVC(), Z, y, groups=g, cv=GroupKFold(n_splits=3))
    inside = np.empty_like(y)
    for train, test in GroupKFold(n_splits=3).split(X, y, g):
        scaler = GroupStandardScaler().fit(X[train], y[train], groups=g[train])
        clf = LinearSVC().fit(scaler.transform(X[train], groups=g[train]), y[train])
        inside[test] = clf.predict(scaler.transform(X[test], groups=g[test]))
    np.testing.assert_array_equal(before, inside)
    # and it helps on this corpus, where speakers offset and scale the features
    raw = cross_val_predict(LinearSVC(), X, y, groups=g, cv=GroupKFold(n_splits=3))
    assert np.mean(before == y) > np.mean(raw == y) + 0.2


def test_pipeline_with_metadata_routing_in_leave_one_speaker_out():
    X, y, g = _speakers()
    with sklearn.config_context(enable_metadata_routing=True):
        scaler = GroupStandardScaler().set_fit_request(groups=True).set_transform_request(
            groups=True)
        pipe = make_pipeline(scaler, LinearSVC())
        routed = cross_validate(pipe, X, y, cv=LeaveOneGroupOut(),
                                params={"groups": g})
        # predict with groups reaches transform too
        pipe.fit(X, y, groups=g)
        np.testing.assert_array_equal(
            pipe.predict(X, groups=g),
            pipe[-1].predict(GroupStandardScaler().fit_transform(X, groups=g)),
        )
    Z = GroupStandardScaler().fit_transform(X, groups=g)
    direct = cross_validate(LinearSVC(), Z, y, groups=g, cv=LeaveOneGroupOut())
    np.testing.assert_array_equal(routed["test_score"], direct["test_score"])


def test_one_clip_of_a_known_speaker_uses_that_speakers_fitted_statistics():
    X, y, g = _speakers()
    scaler = GroupStandardScaler().fit(X, y, groups=g)
    Z = scaler.transform(X, groups=g)
    for i in (0, 40, len(X) - 1):  # one clip at a time, as a deployed model sees them
        one = scaler.transform(X[i:i + 1], groups=g[i:i + 1])
        np.testing.assert_allclose(one, Z[i:i + 1], rtol=0, atol=1e-12)
        assert np.abs(one).max() > 0.1  # not the zeros of its own one-sample statistics
    np.testing.assert_array_equal(scaler.groups_, np.unique(g))
    assert scaler.mean_.shape == scaler.scale_.shape == (6, X.shape[1])
    # clips: one clip of a known speaker is scaled with the fitted segment statistics
    rng = np.random.RandomState(0)
    clips = [rng.normal(loc=i // 2 * 10, size=(2 + i % 2, 3)).astype(np.float32)
             for i in range(4)]
    groups = np.array(["a", "a", "b", "b"])
    clip_scaler = GroupStandardScaler().fit(clips, groups=groups)
    np.testing.assert_allclose(clip_scaler.transform(clips[3:], groups=groups[3:])[0],
                               clip_scaler.transform(clips, groups=groups)[3], atol=1e-6)


def test_one_clip_of_an_unknown_speaker_is_refused_not_zeros():
    X, y, g = _speakers()
    scaler = GroupStandardScaler().fit(X[g != "spk5"], groups=g[g != "spk5"])
    with pytest.raises(ValueError, match=r"group 'spk5' has 1 sample and was not in fit's "
                                         r"groups.*without speaker normalisation"):
        scaler.transform(X[g == "spk5"][:1], groups=["spk5"])
    with pytest.raises(ValueError, match=r"X \(one group: groups=None\) has 1 sample"):
        scaler.transform(X[:1])
    # two clips of the unknown speaker: its own statistics, as before
    two = scaler.transform(X[g == "spk5"][:2], groups=["spk5", "spk5"])
    np.testing.assert_allclose(np.abs(two), 1.0)
