"""Tests of the JAFFE, CK+48, SAVEE and eNTERFACE'05 loaders."""

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from skpathnet.datasets import (
    EMOTIONS,
    load_ckplus,
    load_enterface,
    load_jaffe,
    load_savee,
)
from skpathnet.datasets._visual import (
    CKPLUS_FOLDERS,
    ENTERFACE_CODES,
    ENTERFACE_FOLDERS,
    JAFFE_CODES,
    SAVEE_CODES,
    SAVEE_SPEAKERS,
)


def _touch(root, *relpaths):
    for rel in relpaths:
        path = Path(root, rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


def _check_bunch(data):
    n = len(data.filenames)
    assert n > 0
    assert data.target.shape == data.groups.shape == (n,)
    assert list(data.filenames) == sorted(data.filenames)
    assert set(data.target) <= set(EMOTIONS)
    assert list(data.target_names) == sorted(set(data.target))
    assert isinstance(data.DESCR, str) and len(data.DESCR) > 200


# ----------------------------------------------------------------- code tables


def test_code_tables():
    assert JAFFE_CODES == {
        "AN": "anger", "DI": "disgust", "FE": "fear", "HA": "happiness",
        "NE": "neutral", "SA": "sadness", "SU": "surprise",
    }  # fmt: skip
    assert CKPLUS_FOLDERS == {
        "anger": "anger", "contempt": "contempt", "disgust": "disgust",
        "fear": "fear", "happy": "happiness", "sadness": "sadness",
        "surprise": "surprise",
    }  # fmt: skip
    assert SAVEE_CODES == {
        "a": "anger", "d": "disgust", "f": "fear", "h": "happiness",
        "n": "neutral", "sa": "sadness", "su": "surprise",
    }  # fmt: skip
    assert SAVEE_SPEAKERS == ("DC", "JE", "JK", "KL")
    assert ENTERFACE_CODES == {
        "an": "anger", "di": "disgust", "fe": "fear", "ha": "happiness",
        "sa": "sadness", "su": "surprise",
    }  # fmt: skip
    assert ENTERFACE_FOLDERS == {
        "anger": "anger", "disgust": "disgust", "fear": "fear",
        "happiness": "happiness", "happy": "happiness", "sadness": "sadness",
        "surprise": "surprise",
    }  # fmt: skip


# ------------------------------------------------------------ real corpora


@pytest.mark.data
def test_jaffe_real(data_home):
    data = load_jaffe(data_home)
    _check_bunch(data)
    assert len(data.filenames) == 213
    assert sorted(set(data.groups)) == [
        "KA", "KL", "KM", "KR", "MK", "NA", "NM", "TM", "UY", "YM",
    ]  # fmt: skip
    assert Counter(data.target) == {
        "anger": 30, "disgust": 29, "fear": 32, "happiness": 31,
        "neutral": 30, "sadness": 31, "surprise": 30,
    }  # fmt: skip
    first = Path(data.filenames[0])
    assert first.name == "KA.AN1.39.tiff" and first.is_file()
    assert (data.target[0], data.groups[0]) == ("anger", "KA")


@pytest.mark.data
def test_ckplus_real(data_home):
    data = load_ckplus(data_home)
    _check_bunch(data)
    assert len(data.filenames) == 981
    assert len(set(data.groups)) == 118
    assert Counter(data.target) == {
        "anger": 135, "contempt": 54, "disgust": 177, "fear": 75,
        "happiness": 207, "sadness": 84, "surprise": 249,
    }  # fmt: skip
    assert data.sequence.shape == (981,)
    assert Path(data.filenames[0]).name == "S010_004_00000017.png"
    assert (data.target[0], data.groups[0], data.sequence[0]) == ("anger", "S010", "S010_004")
    # 3 frames per sequence, and a sequence belongs to one subject.
    assert set(Counter(data.sequence).values()) == {3}
    assert all(s.startswith(g + "_") for s, g in zip(data.sequence, data.groups))


@pytest.mark.data
def test_env_data_home(data_home, monkeypatch):
    monkeypatch.setenv("SKPATHNET_DATA", str(data_home))
    assert len(load_jaffe().filenames) == 213


# ------------------------------------------------------------ JAFFE / CK+ trees


def test_jaffe_tree(tmp_path):
    _touch(tmp_path / "jaffe", "YM.HA2.53.tiff", "KA.SU1.36.tif", "README.txt")
    data = load_jaffe(tmp_path)
    _check_bunch(data)
    assert [Path(f).name for f in data.filenames] == ["KA.SU1.36.tif", "YM.HA2.53.tiff"]
    assert list(data.target) == ["surprise", "happiness"]
    assert list(data.groups) == ["KA", "YM"]


@pytest.mark.parametrize("name", ["KA.XX1.39.tiff", "KA_AN1_39.tiff", "photo.tiff"])
def test_jaffe_bad_name(tmp_path, name):
    _touch(tmp_path / "jaffe", "KA.AN1.39.tiff", name)
    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        load_jaffe(tmp_path)


def test_ckplus_tree(tmp_path):
    _touch(
        tmp_path / "ckplus48",
        "happy/S005_001_00000009.png",
        "happy/S005_001_00000010.png",
        "contempt/S138_008_00000007.png",
    )
    data = load_ckplus(tmp_path)
    _check_bunch(data)
    assert list(data.target) == ["contempt", "happiness", "happiness"]
    assert list(data.groups) == ["S138", "S005", "S005"]
    assert list(data.sequence) == ["S138_008", "S005_001", "S005_001"]


@pytest.mark.parametrize(
    "rel", ["joy/S005_001_00000009.png", "happy/S005-001-9.png", "S005_001_00000009.png"]
)
def test_ckplus_bad_path(tmp_path, rel):
    _touch(tmp_path / "ckplus48", "anger/S010_004_00000017.png", rel)
    with pytest.raises(ValueError, match=Path(rel).name):
        load_ckplus(tmp_path)


# ------------------------------------------------------------------- SAVEE


def _savee_tree(root):
    pairs = [(spk, code) for spk in SAVEE_SPEAKERS for code in SAVEE_CODES]
    audio = [f"{spk}/{code}{i:02d}.wav" for spk, code in pairs for i in (1, 2)]
    clips = [f"{spk}/{code}{i}.avi" for spk, code in pairs for i in (1, 10)]
    _touch(root / "savee" / "AudioData", *audio, "DC/info.txt")
    _touch(root / "savee" / "AudioVisualClip", *clips)


def test_savee_audio(tmp_path):
    _savee_tree(tmp_path)
    data = load_savee(tmp_path)
    _check_bunch(data)
    assert len(data.filenames) == 4 * 7 * 2
    assert all(f.endswith(".wav") and "/AudioData/" in f for f in data.filenames)
    assert Counter(data.groups) == {spk: 14 for spk in SAVEE_SPEAKERS}
    assert Counter(data.target) == {label: 8 for label in SAVEE_CODES.values()}
    names = (Path(f).relative_to(tmp_path).as_posix() for f in data.filenames)
    labels = dict(zip(names, data.target))
    assert labels["savee/AudioData/DC/sa01.wav"] == "sadness"
    assert labels["savee/AudioData/KL/su02.wav"] == "surprise"
    assert labels["savee/AudioData/JE/a01.wav"] == "anger"
    assert set(data.sentence) == {1, 2}


def test_savee_visual(tmp_path):
    _savee_tree(tmp_path)
    data = load_savee(tmp_path, modality="visual")
    _check_bunch(data)
    assert len(data.filenames) == 4 * 7 * 2
    assert all(f.endswith(".avi") and "/AudioVisualClip/" in f for f in data.filenames)
    index = list(data.filenames).index(str(tmp_path / "savee/AudioVisualClip/JK/su10.avi"))
    assert (data.target[index], data.groups[index], data.sentence[index]) == ("surprise", "JK", 10)


@pytest.mark.parametrize("rel", ["DC/x01.wav", "XY/a01.wav", "DC/a.wav", "a01.wav"])
def test_savee_bad_path(tmp_path, rel):
    _touch(tmp_path / "savee" / "AudioData", "DC/a01.wav", rel)
    with pytest.raises(ValueError, match=Path(rel).name):
        load_savee(tmp_path)


def test_savee_missing_modality_folder(tmp_path):
    _touch(tmp_path / "savee" / "AudioData", "DC/a01.wav")
    with pytest.raises(FileNotFoundError, match="AudioVisualClip"):
        load_savee(tmp_path, modality="visual")


# -------------------------------------------------------------- eNTERFACE'05


def _enterface_tree(root):
    base = root / "enterface"
    folders = ENTERFACE_CODES  # the corpus's folder names are the labels
    files = [
        f"subject 1/{folder}/sentence {k}/s1_{code}_{k}.avi"
        for code, folder in folders.items()
        for k in (1, 2)
    ]
    files += [
        "subject 3/anger/sentence 1/s_3_an_1.avi",  # the corpus's s_3 slip
        "subject 6/Happy/s6_ha_1.avi",  # no sentence level, other spelling
        "subject 11/fear/sentence 2/s12_fe_2.avi",  # subject 11 named s12
        "subject 16/surprise/sentence 3/s16_su_3avi.avi",
    ]
    _touch(base, *files)
    # Extracted audio beside two of the clips, and one wav alone.
    _touch(base, "subject 1/anger/sentence 1/s1_an_1.wav", "subject 6/Happy/s6_ha_1.wav")
    _touch(base, "subject 2/sadness/sentence 4/s2_sa_4.wav", "subject 1/notes.txt")
    return base


def test_enterface_visual(tmp_path):
    base = _enterface_tree(tmp_path)
    data = load_enterface(tmp_path, modality="visual")
    _check_bunch(data)
    assert len(data.filenames) == 16
    assert all(f.endswith(".avi") for f in data.filenames)
    rows = {
        Path(f).relative_to(base).as_posix(): (t, g, s)
        for f, t, g, s in zip(data.filenames, data.target, data.groups, data.sentence)
    }
    assert rows["subject 1/disgust/sentence 2/s1_di_2.avi"] == ("disgust", "s1", 2)
    assert rows["subject 3/anger/sentence 1/s_3_an_1.avi"] == ("anger", "s3", 1)
    assert rows["subject 6/Happy/s6_ha_1.avi"] == ("happiness", "s6", 1)
    assert rows["subject 11/fear/sentence 2/s12_fe_2.avi"] == ("fear", "s11", 2)
    assert rows["subject 16/surprise/sentence 3/s16_su_3avi.avi"] == ("surprise", "s16", 3)
    assert Counter(data.groups) == {"s1": 12, "s3": 1, "s6": 1, "s11": 1, "s16": 1}


def test_enterface_audio_prefers_wav(tmp_path):
    base = _enterface_tree(tmp_path)
    data = load_enterface(tmp_path)  # modality="audio"
    _check_bunch(data)
    names = [Path(f).relative_to(base).as_posix() for f in data.filenames]
    assert len(names) == 17
    assert "subject 1/anger/sentence 1/s1_an_1.wav" in names
    assert "subject 1/anger/sentence 1/s1_an_1.avi" not in names
    assert "subject 6/Happy/s6_ha_1.wav" in names
    assert "subject 2/sadness/sentence 4/s2_sa_4.wav" in names
    assert "subject 1/anger/sentence 2/s1_an_2.avi" in names
    assert sum(n.endswith(".wav") for n in names) == 3


@pytest.mark.parametrize(
    "rel",
    [
        "subject 1/anger/sentence 1/clip.avi",
        "subject 1/joy/sentence 1/s1_ha_1.avi",
        "person 1/anger/sentence 1/s1_an_1.avi",
        "s1_an_1.avi",
        "subject 1/s1_an_1.avi",
        "subject 1/anger/sentence 1/s1_xx_1.avi",
    ],
)
def test_enterface_bad_path(tmp_path, rel):
    _touch(tmp_path / "enterface", "subject 1/anger/sentence 1/s1_an_2.avi", rel)
    with pytest.raises(ValueError, match=Path(rel).name):
        load_enterface(tmp_path, modality="visual")


def test_enterface_code_folder_mismatch(tmp_path):
    _touch(tmp_path / "enterface", "subject 1/anger/sentence 1/s1_fe_1.avi")
    with pytest.raises(ValueError, match=r"s1_fe_1\.avi.*'anger'"):
        load_enterface(tmp_path, modality="visual")


# ---------------------------------------------------------- shared errors


LOADERS = {
    "jaffe": load_jaffe,
    "ckplus48": load_ckplus,
    "savee": load_savee,
    "enterface": load_enterface,
}


@pytest.mark.parametrize("folder", LOADERS)
def test_missing_corpus_folder(tmp_path, folder):
    with pytest.raises(FileNotFoundError, match=str(tmp_path / folder)):
        LOADERS[folder](tmp_path)


@pytest.mark.parametrize("folder", ["jaffe", "ckplus48", "enterface"])
def test_empty_corpus_folder(tmp_path, folder):
    (tmp_path / folder).mkdir()
    with pytest.raises(FileNotFoundError, match="No .* found"):
        LOADERS[folder](tmp_path)


def test_no_data_home(monkeypatch):
    monkeypatch.delenv("SKPATHNET_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="SKPATHNET_DATA"):
        load_jaffe()


@pytest.mark.parametrize("loader", [load_savee, load_enterface])
def test_bad_modality(tmp_path, loader):
    with pytest.raises(ValueError, match="'video'"):
        loader(tmp_path, modality="video")


def test_groups_are_strings(tmp_path):
    _touch(tmp_path / "enterface", "subject 2/fear/sentence 1/s2_fe_1.avi")
    data = load_enterface(tmp_path, modality="visual")
    assert data.groups.dtype.kind == "U"
    assert np.array_equal(data.groups, ["s2"])
