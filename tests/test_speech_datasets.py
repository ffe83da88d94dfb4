"""Tests of the EMO-DB, RAVDESS and EMOVO loaders, on the real corpora and on tmp trees."""

from collections import Counter

import numpy as np
import pytest

from skpathnet.datasets import EMOTIONS, load_emodb, load_emovo, load_ravdess
from skpathnet.datasets._speech import (
    EMODB_EMOTIONS,
    EMOVO_EMOTIONS,
    RAVDESS_EMOTIONS,
    RAVDESS_INTENSITIES,
    RAVDESS_STATEMENTS,
)


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_code_tables():
    assert EMODB_EMOTIONS == {
        "W": "anger",
        "L": "boredom",
        "E": "disgust",
        "A": "fear",
        "F": "happiness",
        "T": "sadness",
        "N": "neutral",
    }
    assert RAVDESS_EMOTIONS == {
        "01": "neutral",
        "02": "calm",
        "03": "happiness",
        "04": "sadness",
        "05": "anger",
        "06": "fear",
        "07": "disgust",
        "08": "surprise",
    }
    assert RAVDESS_INTENSITIES == {"01": "normal", "02": "strong"}
    assert RAVDESS_STATEMENTS == {
        "01": "Kids are talking by the door",
        "02": "Dogs are sitting by the door",
    }
    assert EMOVO_EMOTIONS == {
        "dis": "disgust",
        "gio": "happiness",
        "pau": "fear",
        "rab": "anger",
        "sor": "surprise",
        "tri": "sadness",
        "neu": "neutral",
    }
    for table in (EMODB_EMOTIONS, RAVDESS_EMOTIONS, EMOVO_EMOTIONS):
        assert set(table.values()) <= set(EMOTIONS)


def _check_common(data, n_files):
    for key in ("filenames", "target", "groups"):
        assert data[key].shape == (n_files,)
    assert list(data.filenames) == sorted(data.filenames)
    assert len(set(data.filenames)) == n_files
    np.testing.assert_array_equal(data.target_names, np.unique(data.target))
    assert isinstance(data.DESCR, str) and "Licence" in data.DESCR


@pytest.mark.data
def test_load_emodb_real(data_home):
    data = load_emodb(data_home)
    _check_common(data, 535)
    assert Counter(data.target) == {
        "anger": 127,
        "boredom": 81,
        "neutral": 79,
        "happiness": 71,
        "fear": 69,
        "sadness": 62,
        "disgust": 46,
    }
    assert sorted(set(data.groups)) == "03 08 09 10 11 12 13 14 15 16".split()
    assert data.filenames[0].endswith("03a01Fa.wav")
    assert (data.target[0], data.groups[0], data.text[0]) == ("happiness", "03", "a01")
    assert data.text.shape == (535,) and len(set(data.text)) == 10


@pytest.mark.data
def test_load_ravdess_real(data_home):
    data = load_ravdess(data_home)
    _check_common(data, 1440)
    counts = Counter(data.target)
    assert counts.pop("neutral") == 96
    others = ("calm", "happiness", "sadness", "anger", "fear", "disgust", "surprise")
    assert counts == {e: 192 for e in others}
    assert sorted(set(data.groups)) == [f"{i:02d}" for i in range(1, 25)]
    assert Counter(data.groups) == {f"{i:02d}": 60 for i in range(1, 25)}
    assert Counter(data.intensity) == {"normal": 768, "strong": 672}
    assert set(data.intensity[data.target == "neutral"]) == {"normal"}
    assert Counter(data.gender) == {"male": 720, "female": 720}
    assert set(data.gender[data.groups == "01"]) == {"male"}
    assert set(data.gender[data.groups == "24"]) == {"female"}
    assert Counter(data.statement) == {s: 720 for s in RAVDESS_STATEMENTS.values()}
    assert data.repetition.dtype.kind == "i" and Counter(data.repetition) == {1: 720, 2: 720}
    first = data.filenames[0]
    assert first.endswith("Actor_01/03-01-01-01-01-01-01.flac")
    assert (data.target[0], data.intensity[0], data.repetition[0]) == ("neutral", "normal", 1)


@pytest.mark.data
def test_load_emovo_real(data_home):
    data = load_emovo(data_home)
    _check_common(data, 588)
    assert Counter(data.target) == {e: 84 for e in EMOVO_EMOTIONS.values()}
    assert sorted(set(data.groups)) == ["f1", "f2", "f3", "m1", "m2", "m3"]
    assert Counter(data.groups) == {g: 98 for g in ["f1", "f2", "f3", "m1", "m2", "m3"]}
    assert data.sentence.shape == (588,) and len(set(data.sentence)) == 14
    assert data.filenames[0].endswith("f1/dis-f1-b1.flac")
    assert (data.target[0], data.groups[0], data.sentence[0]) == ("disgust", "f1", "b1")


LOADERS = [(load_emodb, "emodb"), (load_ravdess, "ravdess"), (load_emovo, "emovo")]


@pytest.mark.parametrize("loader, name", LOADERS)
def test_missing_corpus_folder(tmp_path, loader, name):
    with pytest.raises(FileNotFoundError, match=rf"{name}.*not found.*SKPATHNET_DATA"):
        loader(tmp_path)


@pytest.mark.parametrize("loader, name", LOADERS)
def test_empty_corpus_folder(tmp_path, loader, name):
    (tmp_path / name / "wav").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="No audio file"):
        loader(tmp_path)


def test_emodb_tmp_tree(tmp_path):
    wav = tmp_path / "emodb" / "wav"
    for name in ["16b10Wb.wav", "03a01Fa.wav", "08a02Ec.wav", ".DS_Store"]:
        _touch(wav / name)
    data = load_emodb(tmp_path)
    names = [f.split("/")[-1] for f in data.filenames]
    assert names == ["03a01Fa.wav", "08a02Ec.wav", "16b10Wb.wav"]
    assert list(data.target) == ["happiness", "disgust", "anger"]
    assert list(data.groups) == ["03", "08", "16"]
    assert list(data.text) == ["a01", "a02", "b10"]


def test_emodb_missing_wav_folder(tmp_path):
    (tmp_path / "emodb").mkdir()
    with pytest.raises(FileNotFoundError, match=r"emodb/wav.*not found"):
        load_emodb(tmp_path)


@pytest.mark.parametrize(
    "bad, message",
    [("03a01Fa_copy.wav", "naming pattern"), ("03a01Xa.wav", "unknown emotion code 'X'")],
)
def test_emodb_malformed_name(tmp_path, bad, message):
    _touch(tmp_path / "emodb" / "wav" / "03a01Fa.wav")
    _touch(tmp_path / "emodb" / "wav" / bad)
    with pytest.raises(ValueError, match=rf"{bad}.*{message}"):
        load_emodb(tmp_path)


def test_ravdess_tmp_tree(tmp_path):
    _touch(tmp_path / "ravdess" / "Actor_02" / "03-01-08-02-02-02-02.wav")
    _touch(tmp_path / "ravdess" / "Actor_01" / "03-01-02-01-01-01-01.wav")
    _touch(tmp_path / "ravdess" / "README.txt")  # outside the Actor_ folders: ignored
    data = load_ravdess(tmp_path)
    assert list(data.target) == ["calm", "surprise"]
    assert list(data.groups) == ["01", "02"]
    assert list(data.intensity) == ["normal", "strong"]
    assert list(data.gender) == ["male", "female"]
    assert list(data.statement) == list(RAVDESS_STATEMENTS.values())
    assert list(data.repetition) == [1, 2]


@pytest.mark.parametrize(
    "folder, bad, message",
    [
        ("Actor_01", "03-01-01-01-01-01.wav", "naming pattern"),
        ("Actor_01", "03-01-09-01-01-01-01.wav", "unknown emotion code"),
        ("Actor_01", "03-01-03-03-01-01-01.wav", "unknown intensity code"),
        ("Actor_01", "03-02-03-01-01-01-01.wav", "song"),
        ("Actor_03", "03-01-03-01-01-01-01.wav", "names actor 01"),
    ],
)
def test_ravdess_malformed_name(tmp_path, folder, bad, message):
    _touch(tmp_path / "ravdess" / folder / bad)
    with pytest.raises(ValueError, match=rf"{bad}.*{message}"):
        load_ravdess(tmp_path)


def test_emovo_tmp_tree(tmp_path):
    _touch(tmp_path / "emovo" / "m3" / "rab-m3-n5.wav")
    _touch(tmp_path / "emovo" / "f1" / "gio-f1-l2.wav")
    _touch(tmp_path / "emovo" / "documents" / "notes.pdf")  # not a speaker folder: ignored
    data = load_emovo(tmp_path)
    assert list(data.target) == ["happiness", "anger"]
    assert list(data.groups) == ["f1", "m3"]
    assert list(data.sentence) == ["l2", "n5"]


@pytest.mark.parametrize(
    "bad, message",
    [
        ("gio_f1_l2.wav", "naming pattern"),
        ("xyz-f1-l2.wav", "unknown emotion prefix"),
        ("gio-f2-l2.wav", "names speaker 'f2'"),
    ],
)
def test_emovo_malformed_name(tmp_path, bad, message):
    _touch(tmp_path / "emovo" / "f1" / bad)
    with pytest.raises(ValueError, match=rf"{bad}.*{message}"):
        load_emovo(tmp_path)
