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
from scipy import signal

from skpathnet.experiments import BEST_AUDIO, front_end
from skpathnet.transformers import AcousticFunctionals
from skpathnet.transformers._functionals import (
    FORMANT_NAMES, FUNCTIONALS, SHAPE_FUNCTIONALS, TEMPORAL_NAMES, contour_functionals,
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
    ({"loudness": 1}, "loudness=1 is invalid: expected True or False"),
    ({"temporal": "yes"}, "temporal='yes' is invalid"),
    ({"formants": None}, "formants=None is invalid"),
    ({"temporal": True, "f0_method": "none"}, "temporal=True needs a pitch tracker"),
    ({"formants": True, "f0_method": "none"}, "formants=True needs a pitch tracker"),
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


def _vowel(seconds, f0, formants, sr=SR):
    """An impulse train at ``f0`` Hz through second-order resonators at the formants'
    (frequency, bandwidth) in Hz, then a -6 dB/octave tilt: a synthetic vowel."""
    x = np.zeros(int(round(seconds * sr)))
    x[::int(round(sr / f0))] = 1.0
    for freq, bandwidth in formants:
        r = math.exp(-math.pi * bandwidth / sr)
        x = signal.lfilter([1 - r], [1, -2 * r * math.cos(2 * math.pi * freq / sr), r * r], x)
    x = signal.lfilter([1], [1, -0.95], x)
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def _syllables(n, on, off, edge=0.3, f0=200.0, sr=SR):
    """``n`` Hann-windowed tone bursts of ``on`` s, ``off`` s apart, ``edge`` s of
    silence before the first and after the last."""
    t = np.arange(int(round(on * sr))) / sr
    burst = 0.5 * np.sin(2 * np.pi * f0 * t) * np.hanning(t.size)
    gap, margin = np.zeros(int(round(off * sr))), np.zeros(int(round(edge * sr)))
    parts = [margin] + [p for k in range(n) for p in ((burst, gap) if k < n - 1 else (burst,))]
    return np.concatenate(parts + [margin]).astype(np.float32)


def test_round5_options_add_their_features_after_the_others():
    clips = [_vowel(1.0, 120.0, ((700, 80), (1200, 90), (2600, 120))), _tone(0.7, 180.0)]
    default = AcousticFunctionals().fit_transform(clips)
    full = AcousticFunctionals(loudness=True, temporal=True, formants=True)
    X = full.fit_transform(clips)
    names = list(full.get_feature_names_out())
    # loudness: 18 + 12 (deltas), temporal 6, formants 9 contours x 18
    assert X.shape == (2, 3020 + 30 + 6 + 162) and len(names) == X.shape[1]
    assert len(set(names)) == len(names) and np.all(np.isfinite(X))
    np.testing.assert_array_equal(X[:, :3020], default)  # the default set is unchanged
    assert names[3020] == "loudness_mean" and names[3049] == "loudness_delta_std_diff"
    assert names[3050:3056] == list(TEMPORAL_NAMES)
    assert names[-1] == "f3_rel_amplitude_db_uplevel90"
    assert [n[:-len("_mean")] for n in names[3056::18]] == list(FORMANT_NAMES)
    # each option alone gives the same columns as in the full set
    for option, width in (("loudness", 30), ("temporal", 6), ("formants", 162)):
        est = AcousticFunctionals(**{option: True})
        alone = est.fit_transform(clips)
        assert alone.shape == (2, 3020 + width)
        own = list(est.get_feature_names_out())[3020:]
        np.testing.assert_array_equal(alone[:, 3020:], X[:, [names.index(n) for n in own]])
    assert AcousticFunctionals(loudness=True, deltas=False).fit_transform(
        clips[:1]).shape == (1, 1820 + 18)
    silent = full.fit_transform([np.zeros(SR, dtype=np.float32)])
    assert np.all(np.isfinite(silent)) and np.all(silent[0, 3020 + 30 + 6:] == 0)
    # silence: no peak, no voiced region, one unvoiced region of the whole clip
    np.testing.assert_allclose(silent[0, 3050:3056], [0, 0, 0, 0, 1.01, 0])


def test_loudness_follows_the_level():
    est = AcousticFunctionals(loudness=True)
    loud, soft = est.fit_transform([_tone(1.0, amplitude=0.5), _tone(1.0, amplitude=0.05)])
    ratio = _column(est, np.vstack([loud, soft]), "loudness_pctl50")
    # power 100 times lower: loudness 100 ** -0.33 times (the cube-root law)
    assert ratio[1] / ratio[0] == pytest.approx(100 ** -0.33, rel=0.01)


def test_temporal_features_of_a_syllable_train():
    # 5 bursts of 0.4 s, 0.2 s apart, 0.3 s of silence at each end: 3.4 s; 8 bursts of
    # 0.2 s, 0.3 s apart: 4.3 s
    est = AcousticFunctionals(temporal=True)
    X = est.fit_transform([_syllables(5, 0.4, 0.2), _syllables(8, 0.2, 0.3),
                           _vowel(1.0, 120.0, ((700, 80), (1200, 90), (2600, 120)))])
    f = {name: X[:, 3020 + k] for k, name in enumerate(TEMPORAL_NAMES)}
    duration = np.array([3.4, 4.3, 1.0])
    np.testing.assert_allclose(f["loudness_peaks_per_s"][:2], [5, 8] / duration[:2], rtol=1e-5)
    np.testing.assert_allclose(f["voiced_regions_per_s"], [5, 8, 1] / duration, rtol=1e-5)
    # Hann bursts: the quiet ends of each burst count as unvoiced (silence threshold:
    # 0.1 of the peak RMS), so the voiced regions are shorter and the gaps longer by
    # up to about 0.1 s; the edges of the clip (0.3 s) are unvoiced regions too
    voiced = f["voiced_region_mean_s"][:2]
    assert np.all(voiced <= [0.4, 0.2]) and np.all(voiced >= [0.3, 0.12])
    unvoiced = f["unvoiced_region_mean_s"][:2]
    expected = np.array([(2 * 0.3 + 4 * 0.2) / 6, (2 * 0.3 + 7 * 0.3) / 9])
    assert np.all(unvoiced >= expected) and np.all(unvoiced <= expected + 0.1)
    assert np.all(f["voiced_region_std_s"][:2] <= 0.02)
    # in the 5-burst clip the gaps (0.2 s) and edges (0.3 s) differ: std about 0.047
    assert f["unvoiced_region_std_s"][0] == pytest.approx(np.std([0.3, .2, .2, .2, .2, .3]),
                                                          abs=0.02)
    # a steady vowel: one voiced region, its ripple no loudness peak
    assert f["loudness_peaks_per_s"][2] <= 1.0
    assert f["voiced_region_mean_s"][2] == pytest.approx(1.0, abs=0.05)
    assert f["unvoiced_region_mean_s"][2] <= 0.03


@pytest.mark.parametrize("f0, formants", [
    (120.0, ((700, 80), (1200, 90), (2600, 120))),   # /a/, a low voice
    (220.0, ((300, 60), (2300, 100), (3000, 150))),  # /i/, a high voice
])
def test_formants_of_a_synthetic_vowel(f0, formants):
    est = AcousticFunctionals(formants=True)
    X = est.fit_transform([_vowel(1.0, f0, formants)])
    for k, (freq, bandwidth) in enumerate(formants, start=1):
        assert _column(est, X, f"f{k}_hz_pctl50")[0] == pytest.approx(freq, rel=0.1)
        assert _column(est, X, f"f{k}_hz_iqr")[0] < 0.05 * freq  # steady
        assert 0 < _column(est, X, f"f{k}_bandwidth_hz_pctl50")[0] < 400
    # the harmonics near F2 and F3 lie below the one at F0 (the -6 dB/octave tilt)
    assert _column(est, X, "f3_rel_amplitude_db_mean")[0] < 0
