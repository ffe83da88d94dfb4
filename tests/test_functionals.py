"""Tests of AcousticFunctionals, the librosa-only speech front end (the main job's default)."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from joblib import Memory

from skpathnet.experiments import BEST_AUDIO, front_end
from skpathnet.transformers import AcousticFunctionals
from skpathnet.transformers._functionals import (
    FUNCTIONALS, SHAPE_FUNCTIONALS, contour_functionals,
)
from conftest import DATA_FREE_CHECKS, run_data_free_check

SR = 16000
REPO = Path(__file__).resolve().parents[1]


def _tone(seconds, f0=220.0, sr=SR, amplitude=0.5):
    t = np.arange(int(round(seconds * sr))) / sr
    return (amplitude * np.sin(2 * np.pi * f0 * t)).astype(np.float32)


def _column(est, X, name):
    return X[:, list(est.get_feature_names_out()).index(name)]


def test_contour_functionals_exact_values():
    contours = np.array([[1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 2.0, 2.0, 2.0, 2.0]])
    assert contour_functionals(contours, 0.01).shape == (2, 12)
    f = dict(zip(FUNCTIONALS + SHAPE_FUNCTIONALS,
                 contour_functionals(contours, 0.01, shape=True)[0]))
    assert f["mean"] == 3.0 and f["std"] == pytest.approx(math.sqrt(2))
    assert (f["pctl1"], f["pctl25"], f["pctl50"], f["pctl75"], f["pctl99"]) == pytest.approx(
        (1.04, 2.0, 3.0, 4.0, 4.96))
    assert f["iqr"] == pytest.approx(2.0) and f["range1_99"] == pytest.approx(3.92)
    assert f["slope"] == pytest.approx(100.0)  # 1 per 10 ms frame
    assert f["mean_abs_diff"] == 1.0 and f["std_diff"] == 0.0
    assert f["skewness"] == 0.0 and f["kurtosis"] == pytest.approx(-1.3)
    # levels 0, .25, .5, .75, 1 of the range: strictly above 25 % are 3 of 5 frames
    assert (f["uplevel25"], f["uplevel50"], f["uplevel75"], f["uplevel90"]) == (
        0.6, 0.4, 0.2, 0.2)
    flat = contour_functionals(contours, 0.01, shape=True)[1]
    np.testing.assert_array_equal(flat, [2, 0, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0] + [0] * 6)
    one = contour_functionals(np.array([[7.0]]), 0.01, shape=True)[0]
    np.testing.assert_array_equal(one, [7, 0, 7, 7, 7, 7, 7, 0, 0, 0, 0, 0] + [0] * 6)


def test_defaults_give_3020_named_float32_features():
    est = AcousticFunctionals()
    X = est.fit_transform([_tone(1.0), _tone(0.5, f0=150.0)])
    names = est.get_feature_names_out()
    assert X.shape == (2, 3020) and X.dtype == np.float32 and len(names) == 3020
    assert len(set(names)) == 3020 and np.all(np.isfinite(X))
    assert names[0] == "logmel0_mean" and names[-2:].tolist() == ["voiced_fraction",
                                                                  "log_duration"]
    assert "mfcc3_delta_pctl75" in names and "spectral_contrast6_uplevel90" in names
    assert "mfcc3_delta_kurtosis" not in names and "f0_semitone_skewness" in names
    # 100 LLDs x 18, their deltas x 12, pitch x 18, voiced fraction, duration
    assert AcousticFunctionals(deltas=False).fit_transform([_tone(1.0)]).shape == (1, 1820)
    assert AcousticFunctionals(f0_method="none").fit_transform([_tone(1.0)]).shape == (1, 3002)
    assert AcousticFunctionals(n_mfcc=0, n_mels=40, deltas=False).fit_transform(
        [_tone(1.0)]).shape == (1, (40 + 16) * 18 + 20)


@pytest.mark.parametrize("f0_method", ["pyin", "yin"])
def test_a_tone_has_its_pitch_zero_crossings_and_duration(f0_method):
    est = AcousticFunctionals(f0_method=f0_method)
    X = est.fit_transform([_tone(2.0, f0=220.0)])
    # 220 Hz is 36 semitones above 27.5 Hz (three octaves)
    assert _column(est, X, "f0_semitone_mean")[0] == pytest.approx(36.0, abs=0.3)
    assert _column(est, X, "f0_semitone_std")[0] < 0.3
    assert _column(est, X, "voiced_fraction")[0] > 0.9
    assert _column(est, X, "log_duration")[0] == pytest.approx(math.log(2.0))
    assert _column(est, X, "zcr_pctl50")[0] == pytest.approx(2 * 220 / SR, rel=0.05)
    # half the spectral magnitude lies below the tone's bin (31.25 Hz wide)
    assert _column(est, X, "rolloff50_pctl50")[0] == pytest.approx(220, abs=31.25)


def test_silence_gives_finite_features_and_no_voiced_frame():
    est = AcousticFunctionals()
    X = est.fit_transform([np.zeros(SR, dtype=np.float32)])
    assert np.all(np.isfinite(X))
    assert _column(est, X, "voiced_fraction")[0] == 0.0
    assert _column(est, X, "f0_semitone_mean")[0] == 0.0


def test_yin_voicing_follows_the_energy():
    y = np.concatenate([_tone(1.0), np.zeros(SR, dtype=np.float32)])
    est = AcousticFunctionals(f0_method="yin")
    assert _column(est, est.fit_transform([y]), "voiced_fraction")[0] == pytest.approx(
        0.5, abs=0.05)


def test_files_equal_arrays_and_other_rates_are_resampled(tmp_path):
    y = _tone(1.0)
    sf.write(tmp_path / "a.wav", y, SR, subtype="FLOAT")
    y8 = _tone(1.0, sr=8000)
    sf.write(tmp_path / "b.flac", y8, 8000)
    est = AcousticFunctionals(f0_method="yin")
    from_files = est.transform([tmp_path / "a.wav", str(tmp_path / "b.flac")])
    np.testing.assert_array_equal(from_files[0], est.transform([y])[0])
    read8 = sf.read(tmp_path / "b.flac", dtype="float32")[0]
    np.testing.assert_array_equal(from_files[1], est.set_params(input_sr=8000).transform(
        [read8])[0])


def test_cache_and_parallel_workers_give_the_same_rows(tmp_path):
    clips = [_tone(0.5, f0=f) for f in (150.0, 200.0, 250.0)]
    plain = AcousticFunctionals(f0_method="yin").transform(clips)
    memory = Memory(tmp_path / "cache", verbose=0)
    est = AcousticFunctionals(f0_method="yin", memory=memory, n_jobs=2)
    first = est.transform(clips)
    # worker processes may round BLAS sums differently (1e-14 on values near 0)
    np.testing.assert_allclose(first, plain, rtol=1e-5, atol=1e-6)
    assert any((tmp_path / "cache").rglob("output.pkl"))
    np.testing.assert_array_equal(est.set_params(n_jobs=1).transform(clips), first)  # cached


@pytest.mark.parametrize("params, message", [
    ({"f0_method": "crepe"}, r"f0_method='crepe' is invalid: choose one of \['pyin', 'yin'"),
    ({"n_mfcc": 80}, "n_mfcc=80 is invalid: at most n_mels=64"),
    ({"fmax": 9000.0}, "fmin=20.0 and fmax=9000.0 are invalid"),
    ({"f0_min": 500.0, "f0_max": 100.0}, "f0_min=500.0 and f0_max=100.0 are invalid"),
    ({"f0_min": 10.0}, "f0_min=10.0 is too low"),
    ({"deltas": "yes"}, "deltas='yes' is invalid"),
    ({"sr": 0}, "sr=0 is invalid"),
    ({"hop_ms": 0.01}, "too short"),
    ({"f0_hop_ms": -1}, "f0_hop_ms=-1 is invalid"),
    ({"f0_resolution": 0}, "f0_resolution=0 is invalid"),
    ({"n_jobs": 1.5}, "n_jobs=1.5 is invalid"),
    ({"voice_quality": "yes"}, "voice_quality='yes' is invalid"),
    ({"voice_quality": True, "f0_method": "none"}, "voice_quality=True needs a pitch tracker"),
    ({"voice_quality": True, "sr": 8000, "fmax": 4000.0}, "voice_quality=True needs sr >= 10000"),
])
def test_invalid_parameters_are_named(params, message):
    with pytest.raises(ValueError, match=message):
        AcousticFunctionals(**params).fit()


def test_bad_clips_are_named(tmp_path):
    est = AcousticFunctionals()
    with pytest.raises(ValueError, match=r"Clip 1 \(1-D array\) is too short.*0.064 s"):
        est.transform([_tone(1.0), _tone(0.05)])
    AcousticFunctionals(f0_method="none").transform([_tone(0.05)])  # one window is enough
    bad = _tone(1.0)
    bad[10] = np.nan
    with pytest.raises(ValueError, match="Clip 0 .* NaN or infinite"):
        est.transform([bad])
    with pytest.raises(FileNotFoundError, match="nope.wav"):
        est.transform([tmp_path / "nope.wav"])
    (tmp_path / "junk.wav").write_bytes(b"not audio")
    with pytest.raises(OSError, match="Could not decode audio file .*junk.wav"):
        est.transform([tmp_path / "junk.wav"])


@pytest.mark.parametrize("check", DATA_FREE_CHECKS)
def test_api_checks(check):
    run_data_free_check(check, AcousticFunctionals())


def test_init_is_keyword_only():
    with pytest.raises(TypeError):
        AcousticFunctionals(16000)


def test_is_the_main_jobs_speech_default():
    assert BEST_AUDIO["features"] == "functionals"
    est = front_end("emodb", features="functionals", n_jobs=2)
    assert isinstance(est, AcousticFunctionals) and est.n_jobs == 2


def test_main_job_runs_without_opensmile(tmp_path, tone_corpus):
    """A plain install (no opensmile extra) runs the speech main job at its defaults.

    The job runs in a fresh interpreter in which ``import opensmile`` fails
    as it does where the package is not installed.
    """
    tone_corpus(tmp_path / "data")
    out = tmp_path / "out"
    code = (
        "import sys; sys.modules['opensmile'] = None\n"
        "from skpathnet.__main__ import main\n"
        "try:\n"
        "    import opensmile\n"
        "except ImportError:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('opensmile is importable')\n"
        f"sys.exit(main(['transfer', '--source', 'emovo', '--target', 'emodb',"
        f" '--generations', '2', '--population', '2', '--quiet', '--n-jobs', '1',"
        f" '--threads', '1',"
        f" '--data-home', {str(tmp_path / 'data')!r}, '--out', {str(out)!r}, '--cache', '']))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get(
        "PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "3020 features per clip" in done.stdout
    results = json.loads((out / "emovo-to-emodb-functionals-norm-g2.json").read_text())
    assert results["features"] == "functionals" and results["normalised"] == ["emovo", "emodb"]
    # the openSMILE front ends still say what to install there
    code = ("import sys; sys.modules['opensmile'] = None\n"
            "from skpathnet.transformers import OpenSmileFunctionals\n"
            "OpenSmileFunctionals().fit()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120)
    assert done.returncode != 0 and 'skpathnet[opensmile]' in done.stderr


def test_voice_quality_adds_142_features_after_the_others():
    rng = np.random.default_rng(0)
    clean = _tone(1.0, 200.0)
    noisy = (clean + 0.2 * rng.standard_normal(clean.size)).astype(np.float32)
    default = AcousticFunctionals().fit_transform([clean, noisy])
    est = AcousticFunctionals(voice_quality=True)
    X = est.fit_transform([clean, noisy])
    names = list(est.get_feature_names_out())
    assert X.shape == (2, 3020 + 142) and len(names) == X.shape[1]
    np.testing.assert_array_equal(X[:, :3020], default)  # the default set is unchanged
    assert names[3020] == "alpha_ratio_mean" and names[-1] == "shimmer_db_std"
    hnr = _column(est, X, "hnr_mean")
    assert hnr[0] > 20 and hnr[0] > hnr[1] + 10  # a clean tone is harmonic, noise is not
    # a steady tone: no period or level jitter between frames
    assert _column(est, X, "jitter_mean")[0] < 1e-3
    assert _column(est, X, "shimmer_db_mean")[0] < 0.1
    # 200 Hz: all energy below 1 kHz, none at 2-5 kHz beyond the noise
    assert _column(est, X, "alpha_ratio_mean")[0] > 40
    assert _column(est, X, "hammarberg_index_mean")[0] > _column(est, X,
                                                                 "hammarberg_index_mean")[1]
