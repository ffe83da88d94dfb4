"""Tests of GroupStandardScaler, speaker (group) normalisation."""

import pickle
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, cross_val_predict, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from conftest import DATA_FREE_CHECKS, run_data_free_check
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


# -- shrinkage: a new speaker normalised from few clips -----------------------

def _two_groups():
    """Hand-computable training groups: a = (0, 2): mean 1, std 1; b = (4, 8): mean 6, std 2."""
    return np.array([[0.0], [2.0], [4.0], [8.0]]), np.array(["a", "a", "b", "b"])


def test_shrinkage_gives_the_hand_computed_posterior():
    X, g = _two_groups()
    scaler = GroupStandardScaler(shrinkage=True).fit(X, groups=g)
    # prior: m0 = mean of (1, 6); n0 = mean of the variances (1, 4) / variance of the means
    # (6.25); v0 = mean of the variances; nu0 = 2 / variance of (log 1, log 4) = 2 / log(2)^2
    m0, n0, v0, nu0 = 3.5, 2.5 / 6.25, 2.5, 2 / np.log(2) ** 2
    assert set(scaler.prior_) == {"mean", "n_mean", "var", "df_var"}
    for key, value in (("mean", m0), ("n_mean", n0), ("var", v0), ("df_var", nu0)):
        np.testing.assert_allclose(scaler.prior_[key], [value], rtol=1e-12)
    # three samples of an unknown group: m = 6, s2 (ddof 1) = (9 + 1 + 16) / 2 = 13
    new = np.array([[3.0], [5.0], [10.0]])
    mean = (3 * 6 + n0 * m0) / (3 + n0)  # 19.4 / 3.4
    var = (2 * 13 + nu0 * v0) / (2 + nu0)
    expected = (new - mean) / np.sqrt(var)
    np.testing.assert_allclose(scaler.transform(new), expected, rtol=1e-12)
    np.testing.assert_allclose(scaler.transform(new, groups=["c"] * 3), expected, rtol=1e-12)
    # with_std=False / with_mean=False apply the same statistics
    np.testing.assert_allclose(scaler.set_params(with_std=False).transform(new), new - mean,
                               rtol=1e-12)
    np.testing.assert_allclose(scaler.set_params(with_std=True, with_mean=False).transform(new),
                               new / np.sqrt(var), rtol=1e-12)
    # one sample: mean (7 + 0.4 * 3.5) / 1.4 = 6, variance the prior's 2.5
    scaler.set_params(with_mean=True)
    np.testing.assert_allclose(scaler.transform([[7.0]]), [[1 / np.sqrt(2.5)]], rtol=1e-12)


def test_shrinkage_accepts_one_sample_of_an_unknown_group():
    X, y, g = _speakers()
    known = g != "spk5"
    scaler = GroupStandardScaler(shrinkage=True).fit(X[known], y[known], groups=g[known])
    one = X[g == "spk5"][:1]
    for groups in (None, ["spk5"]):
        out = scaler.transform(one, groups=groups)
        assert out.shape == one.shape and np.all(np.isfinite(out))
        assert np.abs(out).max() > 0.1  # not the zeros of its own one-sample statistics
    # beside known groups, in one call
    mixed = scaler.transform(np.vstack([one, X[:2]]), groups=["spk5", g[0], g[1]])
    np.testing.assert_array_equal(mixed[:1], scaler.transform(one, groups=["spk5"]))


def test_shrinkage_tends_to_the_groups_own_standardisation_as_k_grows():
    X, y, g = _speakers()
    scaler = GroupStandardScaler(shrinkage=True).fit(X, y, groups=g)
    own = GroupStandardScaler().fit(X)
    # a new speaker far from the training ones: offset 20, scale 5
    new = np.random.RandomState(1).normal(size=(20000, X.shape[1])) * 5.0 + 20.0
    gaps = []
    for k in (2, 10, 100, 1000, 20000):
        gaps.append(np.abs(scaler.transform(new[:k]) - own.transform(new[:k])).max())
    assert all(a > b for a, b in zip(gaps, gaps[1:])), gaps
    assert gaps[0] > 0.5 and gaps[-1] < 1e-3, gaps  # far at k = 2, the same at 20000


def test_shrinkage_leaves_known_groups_bit_identical():
    X, y, g = _speakers()
    plain = GroupStandardScaler().fit(X, y, groups=g)
    shrunk = GroupStandardScaler(shrinkage=True).fit(X, y, groups=g)
    assert plain.prior_ == {} and len(shrunk.prior_) == 4
    for name in ("groups_", "mean_", "scale_"):
        np.testing.assert_array_equal(getattr(shrunk, name), getattr(plain, name))
    np.testing.assert_array_equal(shrunk.transform(X, groups=g), plain.transform(X, groups=g))
    np.testing.assert_array_equal(shrunk.fit_transform(X, y, groups=g),
                                  plain.fit_transform(X, y, groups=g))
    for i in (0, 50):  # one sample of a known group
        np.testing.assert_array_equal(shrunk.transform(X[i:i + 1], groups=g[i:i + 1]),
                                      plain.transform(X[i:i + 1], groups=g[i:i + 1]))
    X32 = X.astype(np.float32)  # float32 too
    np.testing.assert_array_equal(
        GroupStandardScaler(shrinkage=True).fit(X32, groups=g).transform(X32, groups=g),
        GroupStandardScaler().fit(X32, groups=g).transform(X32, groups=g))


@pytest.mark.parametrize("groups, got", [(None, 0), (["a"] * 4, 1)])
def test_shrinkage_needs_two_training_groups(groups, got):
    X, _ = _two_groups()
    with pytest.raises(ValueError, match=rf"shrinkage=True fits the prior .* pass groups with "
                                         rf"at least two groups to fit \(got {got}\), or use "
                                         r"shrinkage=False"):
        GroupStandardScaler(shrinkage=True).fit(X, groups=groups)
    GroupStandardScaler().fit(X, groups=groups)  # fine without shrinkage


@pytest.mark.parametrize("value", ["yes", 1, 0, None, 0.5, "True"])
def test_invalid_shrinkage_is_refused(value):
    X, g = _two_groups()
    with pytest.raises(ValueError, match=r"shrinkage must be True or False; got "):
        GroupStandardScaler(shrinkage=value).fit(X, groups=g)


def test_numpy_booleans_are_valid_shrinkage():
    X, g = _two_groups()
    assert GroupStandardScaler(shrinkage=np.True_).fit(X, groups=g).prior_
    assert GroupStandardScaler(shrinkage=np.False_).fit(X, groups=g).prior_ == {}


def test_shrinkage_on_clips_equals_shrinkage_on_their_segments():
    rng = np.random.RandomState(0)
    # clips of 2-D segments (n_segments_i, 3, 4): the statistics are over segments
    clips = [rng.normal(loc=i // 3 * 5, scale=1 + i // 3, size=(2 + i % 3, 3, 4))
             .astype(np.float32) for i in range(9)]
    groups = np.repeat(["a", "b", "c"], 3)
    scaler = GroupStandardScaler(shrinkage=True).fit(clips, groups=groups)
    rows = np.concatenate([c.reshape(len(c), -1) for c in clips])
    row_groups = np.repeat(groups, [len(c) for c in clips])
    on_rows = GroupStandardScaler(shrinkage=True).fit(rows, groups=row_groups)
    for key in scaler.prior_:
        np.testing.assert_allclose(scaler.prior_[key], on_rows.prior_[key], rtol=1e-5)
    new = [rng.normal(loc=30, scale=4, size=(n, 3, 4)).astype(np.float32) for n in (1, 3)]
    out = scaler.transform(new, groups=["new", "new"])
    assert out.dtype == object and [c.shape for c in out] == [c.shape for c in new]
    assert all(c.dtype == np.float32 and np.all(np.isfinite(c)) for c in out)
    new_rows = np.concatenate([c.reshape(len(c), -1) for c in new])
    np.testing.assert_allclose(np.concatenate([c.reshape(len(c), -1) for c in out]),
                               on_rows.transform(new_rows), rtol=1e-4, atol=1e-4)
    # one clip of one segment of a new speaker: accepted, finite
    (single,) = scaler.transform(new[:1], groups=["other"])
    assert single.shape == (1, 3, 4) and np.all(np.isfinite(single))


@pytest.mark.parametrize("check", DATA_FREE_CHECKS)
def test_shrinkage_passes_sklearns_data_free_checks(check):
    # sklearn's data checks call fit without groups, which shrinkage=True refuses:
    # tests/test_estimator_checks.py runs them on the default shrinkage=False
    run_data_free_check(check, GroupStandardScaler(shrinkage=True))


def test_shrinkage_behaves_as_an_sklearn_estimator_when_given_groups():
    X, y, g = _speakers()
    scaler = GroupStandardScaler(shrinkage=True)
    assert scaler.fit(X, y, groups=g) is scaler and scaler.n_features_in_ == X.shape[1]
    new = X[g == "spk0"][:3] + 50.0
    first = scaler.transform(new)
    # refitting, cloning and pickling give the same transform
    np.testing.assert_array_equal(scaler.fit(X, y, groups=g).transform(new), first)
    np.testing.assert_array_equal(clone(scaler).fit(X, y, groups=g).transform(new), first)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(scaler)).transform(new), first)
    assert clone(scaler).get_params()["shrinkage"] is True
    # in a pipeline with metadata routing, a new speaker's single clip is predicted
    with sklearn.config_context(enable_metadata_routing=True):
        step = GroupStandardScaler(shrinkage=True).set_fit_request(
            groups=True).set_transform_request(groups=True)
        pipe = make_pipeline(step, LinearSVC()).fit(X, y, groups=g)
        assert pipe.predict(new[:1], groups=["new"]).shape == (1,)
