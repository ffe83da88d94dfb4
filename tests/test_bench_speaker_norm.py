"""benchmarks/bench_speaker_norm.py: the clips drawn for a test speaker's statistics, and its
normalisations (the package's GroupStandardScaler, shrinkage included)."""

import numpy as np
import pytest

from conftest import load_benchmark

from skpathnet.transformers import GroupStandardScaler


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_speaker_norm")


def test_draws_are_deterministic_for_a_seed(bench):
    first = bench.draw_clips(40, 5, 3, [0, 2, 5])
    again = bench.draw_clips(40, 5, 3, [0, 2, 5])
    other = bench.draw_clips(40, 5, 3, [1, 2, 5])
    assert len(first) == 3
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))
    for idx in first:  # k distinct clips of the speaker, sorted
        assert len(np.unique(idx)) == 5 and idx.min() >= 0 and idx.max() < 40
        assert np.all(np.diff(idx) > 0)


@pytest.mark.parametrize("k", [None, 40, 100])
def test_all_clips_are_one_draw(bench, k):
    (idx,) = bench.draw_clips(40, k, 5, 0)
    np.testing.assert_array_equal(idx, np.arange(40))


def test_speaker_normalise_uses_the_k_clips_statistics(bench):
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 2.0, size=(30, 4))
    idx = np.array([1, 4, 7, 9, 20])
    out = bench.speaker_normalise(X, idx, "s1")
    expected = (X - X[idx].mean(0)) / X[idx].std(0)
    np.testing.assert_allclose(out, expected)
    np.testing.assert_allclose(bench.speaker_normalise(X, np.arange(30), "s1").std(0), 1.0)


def _training_speakers(seed=0):
    rng = np.random.default_rng(seed)
    groups = np.repeat(["a", "b", "c", "d"], 20)
    X = rng.normal(size=(80, 3)) * 2.0 + np.repeat(rng.normal(size=(4, 3)), 20, axis=0)
    y = np.tile([0, 1], 40)
    return X, y, groups


def test_fit_scaler_is_the_package_scaler_and_leaves_training_speakers_as_before(bench):
    X, y, groups = _training_speakers()
    scaler = bench.fit_scaler(X, y, groups)
    assert scaler.shrinkage and set(scaler.prior_) == {"mean", "n_mean", "var", "df_var"}
    np.testing.assert_array_equal(
        scaler.transform(X, groups=groups),
        GroupStandardScaler().fit_transform(X, y, groups=groups))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 2, 5, 200])
def test_shrunk_normalise_is_the_package_transform_on_the_k_clips(bench, k, dtype):
    X_train, y, groups = _training_speakers()
    scaler = bench.fit_scaler(X_train, y, groups)
    X = np.random.default_rng(1).normal(5.0, 3.0, size=(200, 3)).astype(dtype)
    idx = np.sort(np.random.default_rng(2).choice(200, size=k, replace=False))
    out = bench.shrunk_normalise(X, idx, scaler)
    assert out.dtype == dtype and out.shape == X.shape
    # the k clips: exactly what the package gives a new speaker (one unknown group)
    np.testing.assert_array_equal(out[idx], scaler.transform(X[idx]))
    # every clip: one affine map per feature (so the one the k clips got)
    x, z = X.astype(np.float64), out.astype(np.float64)
    a = (z[1] - z[0]) / (x[1] - x[0])
    np.testing.assert_allclose(z, a * (x - x[0]) + z[0], rtol=1e-4, atol=1e-4)


def test_shrinkage_keeps_one_clip_finite_and_tends_to_the_speaker(bench):
    rng = np.random.default_rng(0)
    groups = np.repeat(["a", "b", "c", "d"], 20)
    X_train = rng.normal(size=(80, 3)) * 2.0 + np.repeat(rng.normal(size=(4, 3)), 20, axis=0)
    scaler = bench.fit_scaler(X_train, None, groups)
    X = rng.normal(5.0, 3.0, size=(200, 3))
    one = bench.shrunk_normalise(X, np.array([0]), scaler)
    assert np.all(np.isfinite(one)) and np.all(one.std(0) > 0.5)
    many = bench.shrunk_normalise(X, np.arange(200), scaler)
    np.testing.assert_allclose(many.mean(0), 0.0, atol=0.2)
    np.testing.assert_allclose(many.std(0), 1.0, atol=0.2)
