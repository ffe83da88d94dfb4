"""Tests of LogMelSegmenter, the three-channel log-mel audio front end."""

import math
import os

import librosa
import numpy as np
import pytest
import soundfile as sf
from joblib import Memory
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import (
    check_do_not_raise_errors_in_init_or_set_params,
    check_estimator_cloneable,
    check_estimator_repr,
    check_estimator_tags_renamed,
    check_get_params_invariance,
    check_mixin_order,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
    check_valid_tag_types,
)

from skpathnet import LogMelSegmenter
from skpathnet.transformers import _logmel

SR = 16000
HOP = 160  # 10 ms at 16 kHz


def _tone(seconds, freq=440.0, sr=SR, seed=0):
    """A seeded sine tone with a little noise, float32, ``round(seconds * sr)`` samples."""
    n = int(round(seconds * sr))
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    y = 0.5 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(n)
    return y.astype(np.float32)


def _samples_for_frames(n_frames):
    """Number of 16 kHz samples that gives exactly ``n_frames`` frames (1 + n // 160)."""
    return (n_frames - 1) * HOP


def _reference_channels(y):
    """The whole clip's (static, delta, delta-delta), computed independently with librosa.

    Paper values plus librosa's defaults (Slaney mel, centred frames, constant
    padding, power_to_db with ref=1, amin=1e-10, top_db=80, delta width 9).
    """
    mel = librosa.feature.melspectrogram(
        y=y, sr=SR, n_fft=512, hop_length=HOP, win_length=400, window="hamming",
        n_mels=64, fmin=20.0, fmax=8000.0,
    )
    static = librosa.power_to_db(mel)
    delta = librosa.feature.delta
    return np.stack([static, delta(static), delta(static, order=2)])


def test_default_parameters_are_the_paper_values():
    assert LogMelSegmenter().get_params() == {
        "sr": 16000,
        "input_sr": None,
        "n_mels": 64,
        "fmin": 20.0,
        "fmax": 8000.0,
        "window_ms": 25.0,
        "hop_ms": 10.0,
        "segment_frames": 64,
        "segment_overlap": 30,
        "n_jobs": None,
        "memory": None,
    }


def test_output_is_one_float32_row_per_clip():
    X = [_tone(1.0), _tone(0.3), _tone(2.5)]
    clips = LogMelSegmenter().fit_transform(X)
    assert isinstance(clips, np.ndarray) and clips.dtype == object and clips.shape == (3,)
    assert [c.shape for c in clips] == [(3, 3, 64, 64), (1, 3, 64, 64), (7, 3, 64, 64)]
    assert all(c.dtype == np.float32 and np.isfinite(c).all() for c in clips)
    # fancy indexing keeps clips aligned with y / groups
    picked = clips[np.array([2, 0])]
    assert picked[0] is clips[2] and picked[1] is clips[0]


@pytest.mark.parametrize("n_frames", [64, 97, 98, 99, 132, 133, 300, 1001])
def test_number_of_segments_follows_documented_formula(n_frames):
    y = _tone(_samples_for_frames(n_frames) / SR)
    assert 1 + y.size // HOP == n_frames
    (clip,) = LogMelSegmenter().transform([y])
    assert clip.shape[0] == 1 + math.ceil((n_frames - 64) / 34)


@pytest.mark.parametrize("n_frames, expected", [(16, 1), (17, 2), (32, 2), (33, 3)])
def test_number_of_segments_without_overlap(n_frames, expected):
    y = _tone(_samples_for_frames(n_frames) / SR)
    (clip,) = LogMelSegmenter(segment_frames=16, segment_overlap=0).transform([y])
    assert clip.shape == (expected, 3, 64, 16)


def test_segments_are_slices_of_whole_clip_features_last_one_end_aligned():
    y = _tone(_samples_for_frames(99) / SR)
    (clip,) = LogMelSegmenter().transform([y])
    ref = _reference_channels(y)
    assert ref.shape == (3, 64, 99)
    assert clip.shape[0] == 3
    for segment, start in zip(clip, [0, 34, 99 - 64]):
        np.testing.assert_allclose(segment, ref[:, :, start : start + 64], rtol=1e-5, atol=1e-3)


def test_delta_channels_are_librosa_deltas_of_static_channel():
    y = _tone(_samples_for_frames(64) / SR, freq=300.0)
    (clip,) = LogMelSegmenter().transform([y])
    static = clip[0, 0].astype(np.float64)
    np.testing.assert_allclose(clip[0, 1], librosa.feature.delta(static), atol=1e-3)
    np.testing.assert_allclose(clip[0, 2], librosa.feature.delta(static, order=2), atol=1e-3)
    assert np.abs(clip[0, 1]).max() > 0.1  # deltas are not trivially zero


def test_mel_axis_runs_from_low_to_high_frequency():
    low, high = LogMelSegmenter().transform([_tone(1.0, freq=300.0), _tone(1.0, freq=3000.0)])
    centres = librosa.mel_frequencies(n_mels=66, fmin=20.0, fmax=8000.0)[1:-1]
    for clip, freq in [(low, 300.0), (high, 3000.0)]:
        peak = int(np.argmax(clip[:, 0].mean(axis=(0, 2))))
        assert abs(peak - np.argmin(np.abs(centres - freq))) <= 1


def test_input_sr_resamples_arrays_to_16k():
    y8k = _tone(1.0, freq=1000.0, sr=8000)
    (from_8k,) = LogMelSegmenter(input_sr=8000, fmax=4000.0).transform([y8k])
    resampled = librosa.resample(y8k, orig_sr=8000, target_sr=SR)
    (expected,) = LogMelSegmenter(fmax=4000.0).transform([resampled])
    np.testing.assert_array_equal(from_8k, expected)
    assert from_8k.shape == (3, 3, 64, 64)  # 1 s at 16 kHz: 101 frames
    (at_16k,) = LogMelSegmenter(fmax=4000.0).transform([_tone(1.0, freq=1000.0)])
    peak = lambda c: int(np.argmax(c[:, 0].mean(axis=(0, 2))))  # noqa: E731
    assert peak(from_8k) == peak(at_16k)


def test_files_are_read_downmixed_and_resampled(tmp_path):
    y = _tone(0.8, freq=500.0, sr=22050)
    mono = tmp_path / "mono.wav"
    stereo = tmp_path / "stereo.flac"
    sf.write(mono, y, 22050, subtype="FLOAT")
    sf.write(stereo, np.stack([y, y], axis=1), 22050, subtype="PCM_24")
    from_files = LogMelSegmenter().transform([str(mono), stereo])
    (from_array,) = LogMelSegmenter(input_sr=22050).transform([y])
    np.testing.assert_allclose(from_files[0], from_array, atol=1e-4)
    np.testing.assert_allclose(from_files[1], from_array, atol=1e-2)


def test_short_clip_is_zero_padded_to_one_segment():
    y = _tone(0.3)  # 4800 samples, 31 frames
    (clip,) = LogMelSegmenter().transform([y])
    assert clip.shape == (1, 3, 64, 64)
    padded = np.pad(y, (0, _samples_for_frames(64) - y.size))
    (expected,) = LogMelSegmenter().transform([padded])
    np.testing.assert_array_equal(clip, expected)
    static = clip[0, 0]
    floor = max(static.max() - 80.0, -100.0)
    np.testing.assert_allclose(static[:, -20:], floor)  # padded frames sit at the dB floor
    assert static[:, :25].mean() > floor + 20


def test_silent_clip_gives_finite_floor():
    (clip,) = LogMelSegmenter().transform([np.zeros(SR, dtype=np.float32)])
    assert clip.shape == (3, 3, 64, 64) and np.isfinite(clip).all()
    np.testing.assert_array_equal(clip[:, 0], -100.0)
    np.testing.assert_allclose(clip[:, 1:], 0.0, atol=1e-5)


@pytest.mark.parametrize("n_samples", [0, 399])
def test_empty_or_sub_window_clip_raises_with_minimum_seconds(n_samples):
    X = [_tone(1.0), np.zeros(n_samples, dtype=np.float32)]
    with pytest.raises(ValueError, match=r"[Cc]lip 1 .*at least 0\.025 s"):
        LogMelSegmenter().transform(X)
    LogMelSegmenter().transform([np.zeros(400, dtype=np.float32)])  # one window is enough


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_raise_naming_the_clip(bad):
    y = _tone(1.0)
    y[100] = bad
    with pytest.raises(ValueError, match=r"[Cc]lip 2 .*NaN or infinite"):
        LogMelSegmenter().transform([_tone(1.0), _tone(1.0), y])


def test_missing_file_raises_naming_it(tmp_path):
    path = tmp_path / "nowhere.wav"
    with pytest.raises(FileNotFoundError, match=r"nowhere\.wav.*not found"):
        LogMelSegmenter().transform([path])


def test_undecodable_file_raises_naming_it(tmp_path):
    path = tmp_path / "garbage.wav"
    path.write_bytes(b"this is not audio" * 100)
    with pytest.raises(OSError, match=r"Could not decode audio file .*garbage\.wav"):
        LogMelSegmenter().transform([_tone(1.0), str(path)])


@pytest.mark.parametrize(
    "X, message",
    [
        ("clip.wav", "single path"),
        (np.zeros(1600, dtype=np.float32), "single clip"),
        (np.zeros((3, 1600), dtype=np.float32), r"numeric array of shape \(3, 1600\)"),
        ([], "no clip"),
        ([np.zeros((2, 1600), dtype=np.float32)], r"Clip 0 has shape \(2, 1600\).*downmix"),
        ([np.zeros(1600, dtype=np.int16)], "Clip 0 has dtype int16.*Scale integer"),
        ([None], "Clip 0 has dtype object"),
        (42, "not a sequence of clips"),
    ],
)
def test_malformed_X_raises(X, message):
    with pytest.raises(ValueError, match=message):
        LogMelSegmenter().transform(X)


@pytest.mark.parametrize(
    "params, shown",
    [
        ({"sr": 0}, "sr=0"),
        ({"sr": 16000.5}, "sr=16000.5"),
        ({"input_sr": -8000}, "input_sr=-8000"),
        ({"n_mels": 0}, "n_mels=0"),
        ({"n_mels": 64.0}, "n_mels=64.0"),
        ({"fmin": -1.0}, "fmin=-1.0"),
        ({"fmax": 9000.0}, "fmax=9000.0"),
        ({"fmin": 500.0, "fmax": 400.0}, "fmin=500.0"),
        ({"window_ms": 0.0}, "window_ms=0.0"),
        ({"hop_ms": -10.0}, "hop_ms=-10.0"),
        ({"hop_ms": 0.01}, "hop_ms=0.01"),
        ({"segment_frames": 8}, "segment_frames=8"),
        ({"segment_overlap": -1}, "segment_overlap=-1"),
        ({"segment_overlap": 64}, "segment_overlap=64"),
        ({"n_jobs": "2"}, "n_jobs='2'"),
        ({"n_mels": True}, "n_mels=True"),
    ],
)
def test_invalid_parameters_raise_in_fit_and_transform(params, shown):
    est = LogMelSegmenter(**params)  # __init__ only stores
    with pytest.raises(ValueError, match=shown):
        est.fit([_tone(1.0)])
    with pytest.raises(ValueError, match=shown):
        est.transform([_tone(1.0)])


def test_fit_is_stateless_and_returns_self():
    est = LogMelSegmenter()
    before = dict(vars(est))
    assert est.fit([_tone(1.0)]) is est and est.fit() is est
    assert vars(est) == before
    X = [_tone(0.9)]
    np.testing.assert_array_equal(est.fit_transform(X)[0], LogMelSegmenter().transform(X)[0])


def test_tags_are_honest():
    tags = get_tags(LogMelSegmenter())
    assert tags.requires_fit is False
    assert tags.input_tags.two_d_array is False
    assert tags.input_tags.one_d_array is True
    assert tags.input_tags.string is True
    assert tags.transformer_tags.preserves_dtype == []


# parametrize_with_checks yields no check at all for an estimator whose tags
# say it cannot take 2-D numeric arrays (two_d_array=False: X is a list of
# clips, not a feature matrix), so the API checks that need no data are run
# directly.
@pytest.mark.parametrize(
    "check",
    [
        check_estimator_cloneable,
        check_estimator_repr,
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_get_params_invariance,
        check_set_params,
        check_do_not_raise_errors_in_init_or_set_params,
        check_valid_tag_types,
        check_estimator_tags_renamed,
        check_mixin_order,
    ],
    ids=lambda check: check.__name__,
)
def test_sklearn_api_checks(check):
    check("LogMelSegmenter", LogMelSegmenter())


def test_n_jobs_2_matches_n_jobs_1(tmp_path):
    path = tmp_path / "tone.wav"
    sf.write(path, _tone(1.2, freq=700.0), SR)
    X = [_tone(1.0), str(path), _tone(0.4, freq=900.0), _tone(2.0, seed=1)]
    serial = LogMelSegmenter(n_jobs=1).transform(X)
    parallel = LogMelSegmenter(n_jobs=2).transform(X)
    assert len(serial) == len(parallel) == 4
    for a, b in zip(serial, parallel):
        # loky workers run BLAS single-threaded: sums may round differently
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_memory_caches_extraction(tmp_path, monkeypatch):
    path = tmp_path / "tone.wav"
    sf.write(path, _tone(1.0, freq=700.0), SR)
    X = [str(path), _tone(0.7)]
    est = LogMelSegmenter(memory=Memory(tmp_path / "cache", verbose=0))
    first = est.transform(X)
    again = LogMelSegmenter(memory=str(tmp_path / "cache")).transform(X[::-1])

    def fail(*args, **kwargs):
        raise AssertionError("cache miss: features were recomputed")

    monkeypatch.setattr(_logmel.librosa.feature, "melspectrogram", fail)
    cached = est.transform(X)
    for a, b in zip(first, cached):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(first, again[::-1]):
        np.testing.assert_array_equal(a, b)
    # a changed parameter or a rewritten file is a cache miss
    with pytest.raises(AssertionError, match="cache miss"):
        est.set_params(n_mels=32).transform(X)
    est.set_params(n_mels=64)
    sf.write(path, _tone(1.0, freq=2000.0), SR)
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    with pytest.raises(AssertionError, match="cache miss"):
        est.transform(X)


def _clip_means(clips):
    """Average each clip over segments and frames: (n_clips, 3 * 64) features."""
    return np.stack([c.mean(axis=(0, 3)).ravel() for c in clips])


def test_works_in_pipeline_with_cross_validate():
    freqs = [300.0, 3000.0]
    X = [_tone(0.5 + 0.1 * (i % 3), freq=freqs[i % 2], seed=i) for i in range(12)]
    y = np.array([i % 2 for i in range(12)])
    groups = np.repeat(np.arange(6), 2)
    pipe = make_pipeline(
        LogMelSegmenter(),
        FunctionTransformer(_clip_means),
        LogisticRegression(max_iter=1000),
    )
    result = cross_validate(pipe, X, y, groups=groups, cv=GroupKFold(n_splits=3))
    assert result["test_score"].shape == (3,)
    assert result["test_score"].min() == 1.0


@pytest.mark.data
def test_real_emodb_files(data_home):
    paths = sorted((data_home / "emodb" / "wav").glob("03a01*.wav"))[:2]
    assert len(paths) == 2
    clips = LogMelSegmenter().transform(paths)
    for path, clip in zip(paths, clips):
        n_frames = 1 + sf.info(path).frames // HOP  # EMO-DB is 16 kHz already
        assert clip.shape == (1 + math.ceil((n_frames - 64) / 34), 3, 64, 64)
        assert clip.dtype == np.float32 and np.isfinite(clip).all()
        assert -100.0 <= clip[:, 0].min() and clip[:, 0].max() < 60.0
