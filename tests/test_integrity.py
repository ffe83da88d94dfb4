"""Issue 32: nothing silently wrong. Corpus integrity checks of the loaders and the runner."""

import os
import shutil
import warnings

import numpy as np
import pytest

from conftest import write_png, write_wav
from skpathnet import PathNetClassifier
from skpathnet.__main__ import _user_options, build_parser, main
from skpathnet.datasets import load_folder, load_manifest
from skpathnet.experiments import load_corpus, load_experiment
from skpathnet.transformers import LogMelSegmenter

FOLDER = {"label": r"^[^/]+/(?P<l>[^/]+)/", "group": r"^(?P<g>[^/]+)/"}


def _manifest(path, rows, encoding="utf-8"):
    path.write_text("file,label,group\n" + "".join(f"{r}\n" for r in rows), encoding=encoding)
    return path


# --------------------------------------------------------------------------- source = target


def test_same_corpus_as_source_and_target_is_refused_with_count_and_examples(
        tmp_path, tone_corpus):
    home = tone_corpus(tmp_path / "data")
    with pytest.raises(ValueError, match=r"source emodb and target emodb share 8 of the 8 "
                                         r"target files \(8 by path, 0 by content\)") as info:
        load_experiment(["emodb"], "emodb", data_home=home)
    assert "03a01Wa.wav" in str(info.value) and "allow_overlap=True" in str(info.value)
    logged = []
    corpora = load_experiment(["emodb"], "emodb", data_home=home, allow_overlap=True,
                              log=logged.append)
    assert list(corpora.bunches) == ["emodb"]
    assert any("share 8 of the 8" in line for line in logged)


def test_copies_of_target_files_in_a_source_are_found_by_content(tmp_path, tone_corpus):
    home = tone_corpus(tmp_path / "data")
    copies = tmp_path / "copies"
    for path in sorted((home / "emodb" / "wav").glob("03*.wav")):
        shutil.copy(path, copies / path.name if copies.is_dir() else
                    (copies.mkdir() or copies / path.name))
    # one file of the source differs from every target file but has the same size
    write_wav(copies / "other.wav", seconds=0.5, seed=9)
    rows = [f"{p.name},{'anger' if 'W' in p.name else 'sadness'},s{i % 2}"
            for i, p in enumerate(sorted(copies.glob("*.wav")))]
    manifest = _manifest(copies / "source.csv", rows)
    with pytest.raises(ValueError, match=r"share 4 of the 8 target files \(0 by path, 4 by "
                                         r"content\).*same content"):
        load_experiment([str(manifest)], "emodb", data_home=home)


def test_cli_refuses_emodb_to_emodb_before_any_extraction_and_names_its_option(
        tmp_path, tone_corpus, capsys):
    home = tone_corpus(tmp_path / "data")
    cache = tmp_path / "cache"
    code = main(["transfer", "--source", "emodb", "--target", "emodb", "--data-home", str(home),
                 "--out", str(tmp_path / "out"), "--cache", str(cache), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "share 8 of the 8 target files" in err and "--allow-overlap" in err
    assert [p.name for p in cache.rglob("*") if p.is_file()] == [".gitignore"]  # no features
    args = build_parser().parse_args(["transfer", "--allow-overlap"])
    assert args.allow_overlap


# --------------------------------------------------------------------------- manifests


def test_manifest_row_repeated_identically_is_kept_once_with_a_warning(tmp_path):
    for name in ("a.wav", "b.wav"):
        write_wav(tmp_path / name)
    manifest = _manifest(tmp_path / "m.csv", ["a.wav,angry,s1", "b.wav,sad,s2",
                                              "./a.wav,anger,s1"])
    with pytest.warns(UserWarning, match=r"1 rows .* repeat a file.*row 1 \(line 2\) = "
                                         r"row 3 \(line 4\)"):
        data = load_manifest(manifest)
    np.testing.assert_array_equal(data.target, ["anger", "sadness"])
    assert len(data.filenames) == 2


@pytest.mark.parametrize("row, what", [("a.wav,sad,s1", "label 'sadness'"),
                                       ("a.wav,angry,s2", "group 's2'")])
def test_manifest_file_with_two_labels_or_speakers_is_an_error_naming_the_rows(
        tmp_path, row, what):
    write_wav(tmp_path / "a.wav")
    write_wav(tmp_path / "b.wav")
    manifest = _manifest(tmp_path / "m.csv", ["a.wav,angry,s1", "b.wav,sad,s2", row])
    with pytest.raises(ValueError, match=r"1 files are listed more than once") as info:
        load_manifest(manifest)
    message = str(info.value)
    assert "row 1 (line 2)" in message and "row 3 (line 4)" in message and what in message


def test_group_ids_differing_in_case_are_warned_and_folded_on_request(tmp_path):
    for name in ("a.wav", "b.wav", "c.wav"):
        write_wav(tmp_path / name)
    manifest = _manifest(tmp_path / "m.csv", ["a.wav,angry,spk03", "b.wav,sad, SPK03 ",
                                              "c.wav,sad,spk04"])
    with pytest.warns(UserWarning, match=r"differ only in case: 'spk03' \(1 files\) / "
                                         r"'SPK03' \(1 files\).*fold_groups=True"):
        data = load_manifest(manifest)
    np.testing.assert_array_equal(data.groups, ["spk03", "SPK03", "spk04"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = load_manifest(manifest, fold_groups=True)
    np.testing.assert_array_equal(data.groups, ["spk03", "spk03", "spk04"])


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_manifest_encodings_with_a_bom_are_detected(tmp_path, encoding):
    write_wav(tmp_path / "é.wav")
    write_wav(tmp_path / "b.wav")
    manifest = _manifest(tmp_path / "m.csv", ["é.wav,angry,s1", "b.wav,sad,s2"], encoding)
    data = load_manifest(manifest)
    assert data.filenames[0].endswith("é.wav")


def test_latin1_manifest_error_names_the_file_and_the_encoding_to_pass(tmp_path):
    write_wav(tmp_path / "é.wav")
    manifest = _manifest(tmp_path / "m.csv", ["é.wav,angry,s1"], "latin-1")
    with pytest.raises(ValueError, match=r"m\.csv' is not valid utf-8.*line 2.*"
                                         r"encoding='latin-1'"):
        load_manifest(manifest)
    assert load_manifest(manifest, encoding="latin-1").filenames[0].endswith("é.wav")


# --------------------------------------------------------------------------- folders


def test_symlinked_folders_are_followed_and_dangling_links_listed(tmp_path):
    elsewhere, root = tmp_path / "elsewhere", tmp_path / "root"
    write_wav(root / "s1" / "angry" / "1.wav")
    write_wav(elsewhere / "s2" / "angry" / "1.wav", seed=1)
    write_wav(elsewhere / "sad" / "1.wav", seed=2)
    os.symlink(elsewhere / "s2", root / "s2")  # a linked speaker folder
    os.symlink(elsewhere / "sad", root / "s1" / "sad")  # a linked emotion folder
    os.symlink(tmp_path / "gone.wav", root / "s1" / "angry" / "2.wav")  # dangling
    os.symlink(root, root / "s1" / "loop")  # a cycle
    with pytest.warns(UserWarning, match=r"2 entries .* dangling") as record:
        data = load_folder(root, **FOLDER)
    assert "s1/angry/2.wav" in str(record[0].message)
    np.testing.assert_array_equal(
        data.filenames, [str(root / r) for r in ("s1/angry/1.wav", "s1/sad/1.wav",
                                                 "s2/angry/1.wav")])
    np.testing.assert_array_equal(data.target, ["anger", "sadness", "anger"])
    assert {"s1/angry/2.wav", "s1/loop"} <= set(data.skipped)


def test_files_without_a_media_extension_are_read_by_content_and_modality_honoured(tmp_path):
    for subject in ("subject01", "subject02"):
        for emotion in ("happy", "sad"):
            write_png(tmp_path / f"{subject}.{emotion}")
    write_wav(tmp_path / "subject03.wav").rename(tmp_path / "subject03.happy")
    (tmp_path / "notes.happy").write_text("not media")
    spec = {"label": r"\.(?P<l>[a-z]+)$", "group": r"^(?P<g>subject\d+)"}
    with pytest.warns(UserWarning, match=r"skipped 1 files .*notes\.happy"):
        data = load_folder(tmp_path, modality="visual", **spec)
    assert data.modality == "visual" and len(data.filenames) == 4
    assert "subject03.happy" in data.skipped
    with pytest.warns(UserWarning, match=r"skipped 1 files"):
        data = load_folder(tmp_path, modality="audio", **spec)
    np.testing.assert_array_equal(data.filenames, [str(tmp_path / "subject03.happy")])


def test_keep_labels_folds_the_case_of_one_label_into_one_class(tmp_path):
    for i, relative in enumerate(["s1/angry/1.wav", "s1/Angry/2.wav", "s2/angry/3.wav"]):
        write_wav(tmp_path / relative, seed=i)
    with pytest.warns(UserWarning, match=r"'Angry' \(1 file\) \+ 'angry' \(2 files\) -> "
                                         r"'Angry'"):
        data = load_folder(tmp_path, keep_labels=True, **FOLDER)
    np.testing.assert_array_equal(data.target, ["Angry", "Angry", "Angry"])


# --------------------------------------------------------------------------- classes and labels


def test_a_class_held_by_one_speaker_is_warned_with_its_numbers(tmp_path, tone_corpus):
    home = tone_corpus(tmp_path / "data")
    rows = []
    for i, speaker in enumerate(("s1", "s2")):
        for j, label in enumerate(("angry", "sad")):
            rows.append(f"{write_wav(tmp_path / f'{speaker}{label}.wav', seed=10 * i + j).name},"
                        f"{label},{speaker}")
    rows.append(f"{write_wav(tmp_path / 'fear.wav', seed=99).name},fear,s2")
    manifest = _manifest(tmp_path / "t.csv", rows)
    logged = []
    with pytest.warns(UserWarning, match=r"1 of 3 classes are held by one speaker only: "
                                         r"'fear' \(1 clips, all of speaker 's2'\)"):
        load_experiment(["emodb"], str(manifest), data_home=home, log=logged.append)
    assert any("recall is 0 by construction" in line for line in logged)


def test_y_holding_none_is_a_clear_error():
    X = np.random.default_rng(0).standard_normal((6, 3))
    y = np.array(["a", "b", None, "a", "b", "a"], dtype=object)
    with pytest.raises(ValueError, match=r"y holds 1 missing labels \(None or NaN\), at "
                                         r"positions \[2\]"):
        PathNetClassifier(n_generations=1, population_size=2, verbose=False).fit(X, y)


def test_cli_unknown_label_error_offers_cli_options_that_exist(tmp_path, capsys):
    for name in ("a.wav", "b.wav"):
        write_wav(tmp_path / name)
    manifest = _manifest(tmp_path / "m.csv", ["a.wav,fru,s1", "b.wav,sad,s2"])
    assert main(["transfer", "--target", str(manifest), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "--label-map LABEL=EMOTION" in err and "--keep-labels" in err
    args = build_parser().parse_args(["transfer", "--label-map", "fru=anger", "--fold-groups"])
    bunch = load_corpus(str(manifest), **_user_options(args))
    np.testing.assert_array_equal(bunch.target, ["anger", "sadness"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["transfer", "--label-map", "fru"])
    assert "must be LABEL=EMOTION" in capsys.readouterr().err


# --------------------------------------------------------------------------- truncated audio


@pytest.mark.parametrize("name", ["clip.wav", "clip.flac"])
def test_audio_shorter_than_its_header_is_an_error_naming_the_file(tmp_path, name):
    path = write_wav(tmp_path / name, seconds=1.0)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises((ValueError, OSError), match=rf"{name}.*(truncated|decode)"):
        LogMelSegmenter().transform([str(path)])
    complete = write_wav(tmp_path / f"whole-{name}", seconds=1.0)
    assert LogMelSegmenter().transform([str(complete)])[0].shape[1:] == (3, 64, 64)


def test_cli_modality_reaches_a_users_folder_and_errors_name_cli_options(tmp_path):
    write_wav(tmp_path / "s1" / "angry" / "1.wav")
    write_png(tmp_path / "s1" / "angry" / "1.png")
    argv = ["transfer", "--label-pattern", FOLDER["label"], "--group-pattern", FOLDER["group"]]
    with pytest.raises(ValueError, match=r"mixes 1 audio files .*command line: --modality"):
        load_corpus(str(tmp_path), **_user_options(build_parser().parse_args(argv)))
    bunch = load_corpus(str(tmp_path), **_user_options(
        build_parser().parse_args([*argv, "--modality", "audio"])))
    assert bunch.modality == "audio" and len(bunch.filenames) == 1
    with pytest.raises(ValueError, match=r"command line: --label-pattern"):
        load_folder(tmp_path, label=r"^(?P<l>nothing)/", group=FOLDER["group"], modality="audio")
