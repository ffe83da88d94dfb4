"""Tests of the loaders of users' own corpora, load_folder and load_manifest, on tmp trees."""

import re
import warnings

import numpy as np
import pytest

from skpathnet.datasets import EMOTIONS, load_folder, load_manifest
from skpathnet.datasets._base import make_bunch
from skpathnet.datasets._user import (
    AUDIO_EXTENSIONS,
    DEFAULT_LABEL_MAP,
    VISUAL_EXTENSIONS,
)

BUNCH_KEYS = set(make_bunch(["a.wav"], ["anger"], ["s1"], "")) | {"modality"}


def _touch(root, *relatives):
    for relative in relatives:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"RIFF")
    return root


def _check(data, root, relatives, target, groups):
    np.testing.assert_array_equal(data.filenames, [str(root / r) for r in relatives])
    np.testing.assert_array_equal(data.target, target)
    np.testing.assert_array_equal(data.groups, groups)
    np.testing.assert_array_equal(data.target_names, sorted(set(target)))
    for key in ("filenames", "target", "groups"):
        assert data[key].dtype.kind == "U"
    assert isinstance(data.DESCR, str) and f"{len(relatives)} files" in data.DESCR


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- label map


def test_default_label_map():
    for emotion in EMOTIONS:
        assert DEFAULT_LABEL_MAP[emotion] == emotion
    assert set(DEFAULT_LABEL_MAP.values()) == set(EMOTIONS)
    expected = {
        "anger": "angry anger ang wut rabbia",
        "happiness": "happy happiness joy hap freude gioia",
        "sadness": "sad sadness sa trauer tristezza",
        "fear": "fearful fear afraid fea angst paura",
        "surprise": "surprised surprise su pleasant_surprise ps sorpresa",
        "disgust": "disgusted disgust dis ekel disgusto",
        "neutral": "neutral neu",
        "calm": "calm",
        "boredom": "bored boredom langeweile",
        "contempt": "contempt",
    }
    for emotion, aliases in expected.items():
        for alias in aliases.split():
            assert DEFAULT_LABEL_MAP[alias] == emotion, alias
    for key in DEFAULT_LABEL_MAP:  # keys are stored normalised
        assert key == key.strip().lower() and " " not in key and "-" not in key
    assert not {"w", "a", "f", "t", "n"} & set(DEFAULT_LABEL_MAP)  # ambiguous letters
    with pytest.raises(TypeError):
        DEFAULT_LABEL_MAP["x"] = "anger"
    assert ".wav" in AUDIO_EXTENSIONS and ".png" in VISUAL_EXTENSIONS
    assert not set(AUDIO_EXTENSIONS) & set(VISUAL_EXTENSIONS)


# --------------------------------------------------------------------------- load_folder


def test_folder_speaker_emotion_layout(tmp_path):
    files = ["s01/angry/001.wav", "s01/neutral/001.wav", "s02/Happy/001.WAV", "s02/sad/002.flac"]
    _touch(tmp_path, *reversed(files))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = load_folder(
            tmp_path, label=r"^[^/]+/(?P<emotion>[^/]+)/", group=r"^(?P<speaker>[^/]+)/"
        )
    assert set(data) == BUNCH_KEYS | {"skipped"}
    _check(
        data,
        tmp_path,
        files,
        ["anger", "neutral", "happiness", "sadness"],
        ["s01", "s01", "s02", "s02"],
    )
    assert data.modality == "audio"
    assert data.skipped.shape == (0,)


def test_folder_speaker_underscore_emotion(tmp_path):
    files = ["SPK1_ang/x.wav", "SPK1_neu/x.wav", "SPK2_ps/x.wav"]
    _touch(tmp_path, *files)
    data = load_folder(tmp_path, label=r"^[^/_]+_(?P<e>[^/]+)/", group=re.compile(r"^(?P<s>[^_]+)"))
    _check(data, tmp_path, files, ["anger", "neutral", "surprise"], ["SPK1", "SPK1", "SPK2"])


def test_folder_emotion_speaker_take(tmp_path):
    files = ["Angry/m01_1.wav", "Angry/m01_2.wav", "Fearful/f02_1.wav", "Neutral/f02_1.wav"]
    _touch(tmp_path, *files)
    data = load_folder(tmp_path, label=r"^(?P<label>[^/]+)/", group=r"/(?P<group>[^_/]+)_\d+\.")
    _check(
        data,
        tmp_path,
        files,
        ["anger", "anger", "fear", "neutral"],
        ["m01", "m01", "f02", "f02"],
    )


def test_folder_emodb_codes_callable(tmp_path):
    files = ["wav/03a01Wa.wav", "wav/03a02Nc.wav", "wav/10b01Lb.wav"]
    _touch(tmp_path, *files)
    data = load_folder(
        tmp_path,
        label=lambda path: path.rsplit("/", 1)[-1][5],
        group=lambda path: path.rsplit("/", 1)[-1][:2],
        label_map={"W": "anger", "N": "neutral", "L": "boredom"},
    )
    _check(data, tmp_path, files, ["anger", "neutral", "boredom"], ["03", "03", "10"])


def test_folder_junk_skipped_and_reported(tmp_path):
    keep = ["s1/anger/a.wav", "s1/sadness/b.wav"]
    _touch(
        tmp_path,
        *keep,
        ".DS_Store",
        "s1/._a.wav",
        "s1/anger/.DS_Store",
        ".hidden/s9/anger/z.wav",
        "notes.txt",
        "s1/anger/a.lab",
    )
    with pytest.warns(UserWarning, match=r"skipped 2 files") as record:
        data = load_folder(tmp_path, label=r"/(?P<l>[a-z]+)/", group=r"^(?P<g>[^/]+)/")
    assert len(record) == 1
    message = str(record[0].message)
    assert "notes.txt" in message and "s1/anger/a.lab" in message
    _check(data, tmp_path, keep, ["anger", "sadness"], ["s1", "s1"])
    np.testing.assert_array_equal(
        data.skipped,
        sorted([".DS_Store", ".hidden", "notes.txt", "s1/._a.wav", "s1/anger/.DS_Store",
                "s1/anger/a.lab"]),
    )  # fmt: skip


def test_folder_hidden_only_and_pattern_skips_do_not_warn(tmp_path):
    _touch(tmp_path, "s1/anger/a.wav", "s1/anger/b.wav", "s1/._a.wav", ".git/x.wav")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = load_folder(
            tmp_path, label=r"/(?P<l>[a-z]+)/", group=r"^(?P<g>[^/]+)/", pattern="*/a.wav"
        )
    _check(data, tmp_path, ["s1/anger/a.wav"], ["anger"], ["s1"])
    np.testing.assert_array_equal(data.skipped, [".git", "s1/._a.wav", "s1/anger/b.wav"])


def test_folder_unmatched_path_raises(tmp_path):
    _touch(tmp_path, "s1/anger/a.wav", "s1/b.wav")
    with pytest.raises(ValueError, match=r"1 of the 2 files give no label") as info:
        load_folder(tmp_path, label=r"^[^/]+/(?P<l>[^/]+)/", group=r"^(?P<g>[^/]+)/")
    assert "'s1/b.wav'" in str(info.value) and "'^[^/]+/(?P<l>[^/]+)/'" in str(info.value)
    with pytest.raises(ValueError, match=r"group callable <lambda> failed on 's1/anger/a.wav'"):
        load_folder(tmp_path, label=r"(?P<l>anger|b)", group=lambda path: {}[path])


def test_folder_bad_specs(tmp_path):
    _touch(tmp_path, "s1/anger/a.wav")
    with pytest.raises(ValueError, match=r"exactly one named group"):
        load_folder(tmp_path, label=r"^([^/]+)/", group=r"^(?P<g>[^/]+)/")
    with pytest.raises(ValueError, match=r"exactly one named group"):
        load_folder(tmp_path, label=r"(?P<a>.)(?P<b>.)", group=r"^(?P<g>[^/]+)/")
    with pytest.raises(ValueError, match=r"not a valid regular expression"):
        load_folder(tmp_path, label=r"(?P<l>", group=r"^(?P<g>[^/]+)/")
    with pytest.raises(TypeError, match=r"label must be a regular expression"):
        load_folder(tmp_path, label=3, group=r"^(?P<g>[^/]+)/")
    with pytest.raises(ValueError, match=r"modality must be"):
        load_folder(tmp_path, label=r"(?P<l>anger)", group=r"(?P<g>s1)", modality="video")


def test_folder_empty_raises(tmp_path):
    _touch(tmp_path, "notes.txt", ".DS_Store")
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path))) as info:
        load_folder(tmp_path, label=r"(?P<l>x)", group=r"(?P<g>x)")
    assert ".wav" in str(info.value) and "notes.txt" in str(info.value)
    with pytest.raises(FileNotFoundError, match=r"not found"):
        load_folder(tmp_path / "nope", label=r"(?P<l>x)", group=r"(?P<g>x)")


def test_folder_images_are_visual_and_mixed_raises(tmp_path):
    files = ["S005/anger/001.png", "S005/happy/002.JPG"]
    _touch(tmp_path, *files)
    data = load_folder(tmp_path, label=r"/(?P<l>[a-z]+)/", group=r"^(?P<g>S\d+)")
    _check(data, tmp_path, files, ["anger", "happiness"], ["S005", "S005"])
    assert data.modality == "visual"
    _touch(tmp_path, "S005/anger/001.wav")
    with pytest.raises(ValueError, match=r"mixes 1 audio files .* 2 visual files"):
        load_folder(tmp_path, label=r"/(?P<l>[a-z]+)/", group=r"^(?P<g>S\d+)")
    data = load_folder(tmp_path, label=r"/(?P<l>[a-z]+)/", group=r"^(?P<g>S\d+)", modality="audio")
    _check(data, tmp_path, ["S005/anger/001.wav"], ["anger"], ["S005"])
    np.testing.assert_array_equal(data.skipped, files)


def test_unknown_labels_error_and_keep_labels(tmp_path):
    files = ["s1/angry/d.wav", "s1/exc/c.wav", "s1/fru/a.wav", "s1/fru/b.wav"]
    _touch(tmp_path, *files)
    kwargs = {"label": r"^[^/]+/(?P<l>[^/]+)/", "group": r"^(?P<g>[^/]+)/"}
    with pytest.raises(ValueError) as info:
        load_folder(tmp_path, **kwargs)
    message = str(info.value)
    assert "2 labels" in message
    assert "'exc' (1 file)" in message and "'fru' (2 files)" in message
    assert "angry" not in message
    assert "label_map=" in message and "keep_labels=True" in message

    data = load_folder(tmp_path, keep_labels=True, **kwargs)
    assert set(data) == BUNCH_KEYS | {"skipped"}
    _check(data, tmp_path, files, ["angry", "exc", "fru", "fru"], ["s1"] * 4)
    np.testing.assert_array_equal(data.target_names, ["angry", "exc", "fru"])

    data = load_folder(
        tmp_path, label_map={"FRU ": "anger", "exc": "happiness", "angry": "fear"}, **kwargs
    )  # user entries win over the default map, keys case-insensitive
    _check(data, tmp_path, files, ["fear", "happiness", "anger", "anger"], ["s1"] * 4)

    data = load_folder(tmp_path, label_map={"fru": "frustration"}, keep_labels=True, **kwargs)
    np.testing.assert_array_equal(data.target, ["angry", "exc", "frustration", "frustration"])
    with pytest.raises(ValueError, match=r"\['frustration'\] are not in the shared vocabulary"):
        load_folder(tmp_path, label_map={"fru": "frustration"}, **kwargs)


# --------------------------------------------------------------------------- load_manifest


def test_manifest_relative_paths_and_extra_columns(tmp_path):
    root = tmp_path / "corpus"
    _touch(root, "audio/s01_1.wav", "audio/s01_2.wav", "audio/s02_1.wav")
    manifest = _write(
        root / "manifest.csv",
        "file,label,group,sentence,gender\n"
        "audio/s02_1.wav, Happy ,s02,a01,f\n"
        "audio/s01_1.wav,ANG,s01,a01,m\n"
        "\n"
        f"{root / 'audio/s01_2.wav'},neutral,s01,a02,\n",
    )
    data = load_manifest(manifest)
    assert set(data) == BUNCH_KEYS | {"extra_columns", "sentence", "gender"}
    _check(
        data,
        root,
        ["audio/s02_1.wav", "audio/s01_1.wav", "audio/s01_2.wav"],
        ["happiness", "anger", "neutral"],
        ["s02", "s01", "s01"],
    )
    assert data.modality == "audio"
    assert data.extra_columns == ["sentence", "gender"]
    np.testing.assert_array_equal(data.sentence, ["a01", "a01", "a02"])
    np.testing.assert_array_equal(data.gender, ["f", "m", ""])
    assert data.sentence.dtype.kind == "U"


def test_manifest_root_columns_and_separator(tmp_path):
    _touch(tmp_path, "data/x1.png", "data/x2.png")
    manifest = _write(
        tmp_path / "lists" / "m.csv", "path;emotion;subject\nx1.png;fear;S1\nx2.png;calm;S2\n"
    )
    data = load_manifest(
        manifest,
        file_column="path",
        label_column="emotion",
        group_column="subject",
        root=tmp_path / "data",
    )
    _check(data, tmp_path / "data", ["x1.png", "x2.png"], ["fear", "calm"], ["S1", "S2"])
    assert data.modality == "visual" and data.extra_columns == []


def test_manifest_missing_files(tmp_path):
    _touch(tmp_path, "a.wav")
    rows = "".join(f"m{i}.wav,anger,s1\n" for i in range(7))
    manifest = _write(tmp_path / "m.csv", "file,label,group\na.wav,anger,s1\n" + rows)
    with pytest.raises(FileNotFoundError) as info:
        load_manifest(manifest)
    message = str(info.value)
    assert message.startswith("7 of the 8 files listed in manifest")
    assert "row 2 (line 3): " + repr(str(tmp_path / "m0.wav")) in message
    assert "m4.wav" in message and "m5.wav" not in message and "..." in message
    assert "root=" in message


def test_manifest_missing_column(tmp_path):
    manifest = _write(tmp_path / "m.csv", "path,label,speaker\na.wav,anger,s1\n")
    with pytest.raises(ValueError) as info:
        load_manifest(manifest)
    message = str(info.value)
    assert "no 'file' column (file_column)" in message
    assert "['path', 'label', 'speaker']" in message and "file_column=" in message
    with pytest.raises(ValueError, match=r"no 'group' column \(group_column\)"):
        load_manifest(manifest, file_column="path")


def test_manifest_empty_cells_and_empty_manifest(tmp_path):
    _touch(tmp_path, "a.wav", "b.wav")
    manifest = _write(tmp_path / "m.csv", "file,label,group\na.wav,anger,s1\n\nb.wav,,s1\n")
    with pytest.raises(ValueError, match=r"1 rows .* empty 'label' cell: row 2 \(line 4\)"):
        load_manifest(manifest)
    manifest = _write(tmp_path / "m.csv", "file,label,group\na.wav,anger, \n")
    with pytest.raises(ValueError, match=r"empty 'group' cell: row 1 \(line 2\)"):
        load_manifest(manifest)
    manifest = _write(tmp_path / "m.csv", "file,label,group\na.wav,anger,s1,extra\n")
    with pytest.raises(ValueError, match=r"Row 1 \(line 2\) .* has 4 fields"):
        load_manifest(manifest)
    with pytest.raises(ValueError, match=r"but no data rows"):
        load_manifest(_write(tmp_path / "m.csv", "file,label,group\n"))
    with pytest.raises(ValueError, match=r"is empty"):
        load_manifest(_write(tmp_path / "m.csv", ""))
    with pytest.raises(FileNotFoundError, match=r"not found"):
        load_manifest(tmp_path / "nope.csv")
    with pytest.raises(TypeError, match=r"CSV file or a pandas DataFrame"):
        load_manifest([("a.wav", "anger", "s1")])


def test_manifest_labels_and_modality_errors(tmp_path):
    _touch(tmp_path, "a.wav", "b.wav", "c.png", "d.npy")
    manifest = _write(tmp_path / "m.csv", "file,label,group\na.wav,fru,s1\nb.wav,Fru,s2\n")
    with pytest.raises(ValueError, match=r"2 labels are .*'Fru' \(1 file\), 'fru' \(1 file\)"):
        load_manifest(manifest)
    with pytest.warns(UserWarning, match=r"'fru' \(1 file\) \+ 'Fru' \(1 file\) -> 'fru'"):
        data = load_manifest(manifest, keep_labels=True)  # one class, not two (issue 32)
    assert set(data) == BUNCH_KEYS | {"extra_columns"}
    np.testing.assert_array_equal(data.target, ["fru", "fru"])
    data = load_manifest(manifest, label_map={"FRU": "anger"})
    np.testing.assert_array_equal(data.target, ["anger", "anger"])

    manifest = _write(tmp_path / "m.csv", "file,label,group\na.wav,sad,s1\nc.png,sad,s2\n")
    with pytest.raises(ValueError, match=r"mixes 1 audio files .* 1 visual files"):
        load_manifest(manifest)
    manifest = _write(tmp_path / "m.csv", "file,label,group\nd.npy,sad,s1\n")
    with pytest.raises(ValueError, match=r"Cannot tell the modality .* modality='audio'"):
        load_manifest(manifest)
    assert load_manifest(manifest, modality="audio").modality == "audio"


def test_manifest_dataframe(tmp_path, monkeypatch):
    pd = pytest.importorskip("pandas")
    _touch(tmp_path, "a.wav", "sub/b.wav")
    frame = pd.DataFrame(
        {"file": ["a.wav", "sub/b.wav"], "label": ["joy", "sadness"], "group": [1, 2],
         "take": [1, 2]},
        index=[10, 20],
    )  # fmt: skip
    data = load_manifest(frame, root=tmp_path)
    _check(data, tmp_path, ["a.wav", "sub/b.wav"], ["happiness", "sadness"], ["1", "2"])
    np.testing.assert_array_equal(data.take, ["1", "2"])
    monkeypatch.chdir(tmp_path)
    data = load_manifest(frame)  # relative to the current directory
    np.testing.assert_array_equal(data.filenames, ["a.wav", "sub/b.wav"])
    frame.loc[20, "label"] = None
    with pytest.raises(ValueError, match=r"empty 'label' cell: row 2 \(index 20\)"):
        load_manifest(frame)
