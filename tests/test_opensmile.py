"""Tests of OpenSmileFunctionals, the openSMILE functionals front end (optional extra)."""

import builtins
import os

import numpy as np
import pytest
import soundfile as sf
from joblib import Memory
from sklearn.utils.estimator_checks import (
    check_estimator_cloneable,
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from skpathnet.transformers import OpenSmileFunctionals, _opensmile

if not os.environ.get("CI"):
    pytest.importorskip("opensmile", reason="the optional opensmile extra is not installed")
import opensmile  # noqa: E402  (CI installs the extra: a missing package fails loudly there)

SR = 16000


def _voice(seconds, f0=180.0, sr=SR, seed=0):
    """A seeded harmonic tone with noise: voiced enough for pitch functionals."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(seconds * sr))) / sr
    y = sum(0.3 / k * np.sin(2 * np.pi * k * f0 * t) for k in range(1, 6))
    return (y + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


@pytest.mark.parametrize("feature_set", ["eGeMAPSv02", "ComParE_2016"])
def test_one_float32_row_per_clip_equal_to_opensmile(feature_set):
    clips = [_voice(1.0), _voice(0.5, f0=250.0, seed=1)]
    X = OpenSmileFunctionals(feature_set=feature_set).fit_transform(clips)
    assert X.shape == (2, _opensmile.FEATURE_SETS[feature_set]) and X.dtype == np.float32
    smile = opensmile.Smile(
        feature_set=getattr(opensmile.FeatureSet, feature_set),
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    direct = smile.process_signal(clips[0], SR).to_numpy(np.float32)[0]
    np.testing.assert_array_equal(X[0], direct)
    names = OpenSmileFunctionals(feature_set=feature_set).get_feature_names_out()
    assert list(names) == list(smile.feature_names)


def test_files_equal_arrays_and_other_rates_are_resampled(tmp_path):
    y = _voice(1.0)
    sf.write(tmp_path / "a.wav", y, SR, subtype="FLOAT")
    y8 = _voice(1.0, sr=8000)
    sf.write(tmp_path / "b.wav", y8, 8000, subtype="FLOAT")
    est = OpenSmileFunctionals(feature_set="eGeMAPSv02")
    from_files = est.transform([tmp_path / "a.wav", str(tmp_path / "b.wav")])
    from_arrays = est.set_params(input_sr=8000).transform([y8])
    np.testing.assert_array_equal(from_files[0], OpenSmileFunctionals(
        feature_set="eGeMAPSv02").transform([y])[0])
    np.testing.assert_array_equal(from_files[1], from_arrays[0])


@pytest.mark.parametrize("n_samples", [0, 500])
def test_too_short_clip_raises_with_minimum(n_samples):
    with pytest.raises(ValueError, match=r"Clip 1 \(1-D array\) is too short.*0\.06 s"):
        OpenSmileFunctionals().transform([_voice(0.2), np.zeros(n_samples, np.float32)])


def test_bad_input_raises_naming_the_clip(tmp_path):
    bad = _voice(0.3)
    bad[10] = np.nan
    with pytest.raises(ValueError, match=r"Clip 0 \(1-D array\) contains NaN"):
        OpenSmileFunctionals().transform([bad])
    with pytest.raises(FileNotFoundError, match="nope.wav"):
        OpenSmileFunctionals().transform([str(tmp_path / "nope.wav")])
    (tmp_path / "junk.wav").write_bytes(b"not audio at all")
    with pytest.raises(OSError, match="junk.wav"):
        OpenSmileFunctionals().transform([str(tmp_path / "junk.wav")])
    with pytest.raises(ValueError, match="single path"):
        OpenSmileFunctionals().transform(str(tmp_path / "junk.wav"))


@pytest.mark.parametrize(
    "params, shown",
    [({"feature_set": "ComParE"}, "feature_set='ComParE'"), ({"sr": 0}, "sr=0"),
     ({"input_sr": -1}, "input_sr=-1"), ({"n_jobs": 1.5}, "n_jobs=1.5")],
)
def test_invalid_parameters_raise_naming_them(params, shown):
    with pytest.raises(ValueError, match=shown.replace("(", r"\(")):
        OpenSmileFunctionals(**params).fit()


def test_missing_opensmile_says_what_to_install(monkeypatch):
    real_import = builtins.__import__

    def no_opensmile(name, *args, **kwargs):
        if name == "opensmile":
            raise ImportError("No module named 'opensmile'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_opensmile)
    with pytest.raises(ImportError, match=r'skpathnet\[opensmile\].*non-commercial'):
        OpenSmileFunctionals().fit()


def test_memory_caches_and_n_jobs_agree(tmp_path, monkeypatch):
    clips = [_voice(0.6), _voice(0.4, f0=120.0, seed=2)]
    est = OpenSmileFunctionals(feature_set="eGeMAPSv02", memory=Memory(tmp_path, verbose=0))
    first = est.transform(clips)
    np.testing.assert_array_equal(first, est.set_params(n_jobs=2).transform(clips))

    def fail(*args, **kwargs):
        raise AssertionError("cache miss")

    monkeypatch.setattr(_opensmile, "_smile", fail)
    np.testing.assert_array_equal(first, est.transform(clips))


@pytest.mark.parametrize(
    "check",
    [check_estimator_cloneable, check_no_attributes_set_in_init,
     check_parameters_default_constructible, check_get_params_invariance, check_set_params],
    ids=lambda check: check.__name__,
)
def test_sklearn_api_checks(check):
    # two_d_array=False: parametrize_with_checks yields no data checks for it
    check("OpenSmileFunctionals", OpenSmileFunctionals())


@pytest.mark.data
def test_real_emodb_files_give_finite_compare_functionals(data_home):
    paths = sorted((data_home / "emodb" / "wav").glob("03a01*.wav"))[:2]
    X = OpenSmileFunctionals().transform(paths)
    assert X.shape == (2, 6373) and np.isfinite(X).all()
    assert not np.array_equal(X[0], X[1])
