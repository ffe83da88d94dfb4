"""The CLI's model commands: pretrain, fit, predict, describe (and evaluate's alias).

End to end through ``python -m skpathnet`` on the tiny tone corpus of
conftest (EMO-DB and EMOVO layouts, anger = high tone, sadness = low tone),
then every bad input in-process (exit 2 and one "skpathnet: error:" line,
exit 1 for some unreadable inputs, 130 for Ctrl-C), and the speaker
normalisation of :func:`skpathnet.experiments.predict_files`.
"""

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import write_tone_corpus, write_wav
from skpathnet.__main__ import main

REPO = Path(__file__).resolve().parents[1]
EMODB_GROUP = r"^(?P<group>\d\d)"
# tiny and serial: no worker processes to start on a shared machine
TINY = ["--generations", "2", "--population", "2", "--quiet", "--n-jobs", "1", "--threads", "1"]
COLUMNS = ["path", "label", "p_anger", "p_sadness", "n_segments", "group", "error"]


def cli(*args, cwd):
    """``python -m skpathnet ARGS`` in a fresh interpreter: the CompletedProcess."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "skpathnet", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=600)


def tone_label(path):
    """The emotion of a tone file of :func:`write_tone_corpus`'s EMO-DB layout."""
    return {"W": "anger", "T": "sadness"}[Path(path).name[5]]


def read_csv(text):
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def tones(tmp_path_factory):
    """A pretrained model (EMOVO tones) and a model fitted from it on EMO-DB, by the CLI.

    Made once for the module, by subprocesses; the feature cache is kept for
    the in-process runs on the same corpora.
    """
    root = tmp_path_factory.mktemp("cli_model")
    data = write_tone_corpus(root / "data")
    common = ["--data-home", data, "--cache", root / "cache", *TINY]
    pre, model = root / "pre.safetensors", root / "model.safetensors"
    pretrained = cli("pretrain", "--source", "emovo", *common, "--out", pre, cwd=root)
    assert pretrained.returncode == 0, pretrained.stderr
    fitted = cli("fit", "--pretrained", pre, "--target", "emodb", "--evaluate", *common,
                 "--out", model, cwd=root)
    assert fitted.returncode == 0, fitted.stderr
    return SimpleNamespace(root=root, data=data, wav=data / "emodb" / "wav",
                           common=[str(c) for c in common], pre=pre, model=model,
                           pretrained=pretrained, fitted=fitted)


def fails(capsys, argv):
    """Run ``main(argv)``: assert exit 2 and one error line; return that line."""
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("skpathnet: error: "), err
    return lines[0]


# --------------------------------------------------------------------------- end to end


def test_pretrain_describe_fit_describe_predict(tones, capsys):
    from skpathnet import load
    from skpathnet.io import read_info

    assert f"saved {tones.pre} (" in tones.pretrained.stdout
    assert "emovo: 8 files, 2 classes (anger 4, sadness 4), 2 speakers" \
        in tones.pretrained.stdout

    # describe the pretrained model: its source, no target, no evaluation
    assert main(["describe", str(tones.pre)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("skpathnet pretrained model (frozen pathways of its sources, "
                           "no target yet), audio (format 1, ")
    assert "source 1: emovo (8 clips, 2 speakers/subjects, classes anger, sadness)" in text
    assert "target:" not in text and "evaluation" not in text and "classes:" not in text
    assert "population_size=2, n_generations=2" in text

    # fit --pretrained --evaluate printed the evaluation; describe shows it and the target
    assert "evaluation (leave-one-group-out, 2 folds): clip WAR 1.000, UAR 1.000" \
        in tones.fitted.stdout
    assert main(["describe", str(tones.model)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("skpathnet model, audio (format 1, ")
    assert ("steps: front_end (AcousticFunctionals) -> speaker_norm (GroupStandardScaler) "
            "-> pathnet (PathNetClassifier)") in text
    assert "speaker normalisation: yes, each new speaker with its own clips" in text
    assert "classes: anger, sadness" in text
    assert "source 1: emovo (8 clips, 2 speakers/subjects, classes anger, sadness)" in text
    assert "target: emodb (8 clips, 2 speakers/subjects, classes anger, sadness)" in text
    assert "evaluation (leave-one-group-out, 2 folds): clip WAR 1.000, UAR 1.000, UAP 1.000" \
        in text
    assert f"made by: skpathnet fit --pretrained {tones.pre} --target emodb --evaluate" in text

    assert main(["describe", str(tones.model), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info == read_info(tones.model)
    assert info["kind"] == "model" and info["modality"] == "audio"
    assert info["target"]["name"] == "emodb" and "content_sha256" not in info["target"]
    assert [s["name"] for s in info["sources"]] == ["emovo"]
    assert len(info["sources"][0]["content_sha256"]) == 8
    assert info["evaluation"]["n_folds"] == 2
    assert [f["group"] for f in info["evaluation"]["folds"]] == ["03", "08"]
    # no cache folder or worker count of the machine that trained it
    assert info["front_end"]["parameters"]["memory"] is None
    assert info["front_end"]["parameters"]["n_jobs"] is None

    # the fitted model transferred the pretrained pathways
    pre, model = load(tones.pre), load(tones.model)
    for a, b in zip(pre[-1].frozen_modules_, model[-1].frozen_modules_):
        np.testing.assert_array_equal(a, b)
    assert list(model[-1].classes_) == ["anger", "sadness"]

    # predict a folder to a CSV file
    out = tones.root / "predictions.csv"
    run = cli("predict", tones.model, tones.wav, "--group-pattern", EMODB_GROUP,
              "--out", out, "--n-jobs", "1", "--quiet", cwd=tones.root)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "" and run.stderr.strip() == f"saved {out}"
    rows = read_csv(out.read_text())
    assert list(rows[0]) == COLUMNS
    assert [r["path"] for r in rows] == sorted(str(p) for p in tones.wav.glob("*.wav"))
    for r in rows:
        assert r["label"] == tone_label(r["path"]), r
        assert float(r["p_anger"]) + float(r["p_sadness"]) == pytest.approx(1, abs=2e-6)
        assert r["n_segments"] == "1" and r["error"] == ""
        assert r["group"] == Path(r["path"]).name[:2]


def test_describe_a_pretrained_model_does_not_deny_its_speaker_normalisation(tones, capsys):
    from skpathnet.io import read_info

    info = read_info(tones.pre)
    assert info["speaker_norm"] == "auto" and info["sources"][0]["speaker_normalised"]
    assert read_info(tones.model)["speaker_normalisation"]  # fit from it normalises
    assert main(["describe", str(tones.pre)]) == 0
    assert "speaker normalisation: no" not in capsys.readouterr().out


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_model_files_are_readable_as_the_umask_allows(tones):
    umask = os.umask(0)
    os.umask(umask)
    for path in (tones.pre, tones.model):
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, oct(path.stat().st_mode)


def test_predict_json_to_stdout_without_speakers(tones, capsys):
    files = sorted(tones.wav.glob("*.wav"))[:3]
    code = main(["predict", str(tones.model), *map(str, files), "--format", "json",
                 "--n-jobs", "1", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, err
    # the model normalises speakers: with none given, each file is its own (said once)
    assert err.startswith("skpathnet: no speakers given: each file is normalised as a "
                          "speaker of its own")
    rows = json.loads(out)
    assert [r["path"] for r in rows] == list(map(str, files))
    for r in rows:
        assert set(r) == {"path", "label", "proba", "n_segments", "group", "error"}
        assert r["label"] == tone_label(r["path"])
        assert set(r["proba"]) == {"anger", "sadness"}
        assert sum(r["proba"].values()) == pytest.approx(1, abs=2e-6)
        assert r["group"] is None and r["error"] is None and r["n_segments"] == 1


def test_predict_a_manifest_reads_relative_paths_from_its_folder(tones, tmp_path, monkeypatch,
                                                                 capsys):
    lists = tmp_path / "lists"
    lists.mkdir()
    a, b = tones.wav / "03a01Wa.wav", tones.wav / "08a01Ta.wav"
    shutil.copy(a, lists / "a.wav")
    with open(lists / "manifest.csv", "w", newline="") as f:
        csv.writer(f).writerows([["file", "group"], ["a.wav", "spk1"], [str(b), "spk2"]])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # relative paths are not read from the working folder
    code = main(["predict", str(tones.model), str(lists / "manifest.csv"), "--n-jobs", "1",
                 "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0 and err == "", err
    rows = read_csv(out)
    assert [Path(r["path"]).resolve() for r in rows] == [(lists / "a.wav").resolve(), b]
    assert [(r["label"], r["group"], r["error"]) for r in rows] == [
        ("anger", "spk1", ""), ("sadness", "spk2", "")]


def test_fit_from_sources_directly(tones, tmp_path, capsys):
    from skpathnet.io import read_info

    out = tmp_path / "direct.safetensors"
    code = main(["fit", "--source", "emovo", "--target", "emodb", *tones.common,
                 "--out", str(out)])
    printed, err = capsys.readouterr()
    assert code == 0, err
    assert f"saved {out} (" in printed and "evaluation" not in printed
    info = read_info(out)
    assert info["kind"] == "model" and "evaluation" not in info
    assert [s["name"] for s in info["sources"]] == ["emovo"]
    assert info["target"]["name"] == "emodb" and info["target"]["classes"] == ["anger", "sadness"]


def test_transfer_alias_still_runs_the_evaluation(tones, tmp_path, capsys):
    out = tmp_path / "results"
    code = main(["transfer", "--source", "emovo", "--target", "emodb", "--methods", "transfer",
                 *tones.common, "--out", str(out)])
    printed, err = capsys.readouterr()
    assert code == 0, err
    report = json.loads((out / "emovo-to-emodb-functionals-norm-g2.json").read_text())
    assert set(report["methods"]) == {"transfer"} and report["n_folds"] == 2


# --------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize("command", ["pretrain", "fit", "predict"])
def test_an_existing_out_file_is_not_replaced_without_overwrite(tones, tmp_path, capsys,
                                                                command):
    out = tmp_path / "taken.safetensors"
    out.write_text("mine")
    argv = {"pretrain": ["pretrain", "--source", "emovo", *tones.common],
            "fit": ["fit", "--pretrained", tones.pre, "--target", "emodb", *tones.common],
            "predict": ["predict", tones.model, tones.wav, "--quiet"]}[command]
    line = fails(capsys, [*argv, "--out", out])
    assert f"{str(out)!r} exists; pass --overwrite to replace it" in line
    assert out.read_text() == "mine"


@pytest.mark.parametrize("command", ["pretrain", "fit"])
def test_out_is_a_folder(tones, tmp_path, capsys, command):
    argv = {"pretrain": ["pretrain", "--source", "emovo", *tones.common],
            "fit": ["fit", "--pretrained", tones.pre, "--target", "emodb", *tones.common]}
    line = fails(capsys, [*argv[command], "--out", tmp_path, "--overwrite"])
    assert f"--out {str(tmp_path)!r} is a folder; give a file name" in line
    # without --overwrite it is refused as well (as an existing --out)
    fails(capsys, [*argv[command], "--out", tmp_path])
    assert tmp_path.is_dir()


def test_predict_out_is_a_folder_without_overwrite(tones, tmp_path, capsys):
    fails(capsys, ["predict", tones.model, tones.wav / "03a01Wa.wav", "--quiet",
                   "--out", tmp_path])


def test_predict_out_is_a_folder_with_overwrite(tones, tmp_path, capsys):
    folder = tmp_path / "results"
    folder.mkdir()
    try:
        line = fails(capsys, ["predict", tones.model, tones.wav / "03a01Wa.wav", "--quiet",
                              "--n-jobs", "1", "--out", folder, "--overwrite"])
        assert "is a folder" in line
    finally:
        assert not (tmp_path / ".results.tmp").exists()


@pytest.mark.parametrize("command", ["predict", "describe", "fit", "pretrain"])
def test_a_missing_model_file(tones, tmp_path, capsys, command):
    missing = tmp_path / "missing.safetensors"
    argv = {"predict": ["predict", missing, tones.wav],
            "describe": ["describe", missing],
            "fit": ["fit", "--pretrained", missing, "--target", "emodb", *tones.common,
                    "--out", tmp_path / "m.safetensors"],
            "pretrain": ["pretrain", "--pretrained", missing, "--source", "emovo",
                         *tones.common, "--out", tmp_path / "m.safetensors"]}[command]
    line = fails(capsys, argv)
    assert f"no model file {str(missing)!r}" in line
    if command == "pretrain":  # adding sources needs them named
        line = fails(capsys, ["pretrain", "--pretrained", missing, "--out",
                              tmp_path / "m.safetensors"])
        assert "--pretrained adds sources to a pretrained model: give them with --source" \
            in line
    assert not (tmp_path / "m.safetensors").exists()


def _not_models(folder):
    """Files that are not model files: text, a pickle, another safetensors file."""
    import pickle

    from safetensors.numpy import save_file

    text = folder / "notes.txt"
    text.write_text("not a model\n")
    pickled = folder / "model.pkl"
    pickled.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    other = folder / "other.safetensors"
    save_file({"w": np.zeros(3, np.float32)}, str(other))
    return [text, pickled, other]


@pytest.mark.parametrize("command", ["predict", "describe", "fit", "pretrain"])
def test_a_file_that_is_not_a_model(tones, tmp_path, capsys, command):
    for path in _not_models(tmp_path):
        argv = {"predict": ["predict", path, tones.wav],
                "describe": ["describe", path],
                "fit": ["fit", "--pretrained", path, "--target", "emodb", *tones.common,
                        "--out", tmp_path / "m.safetensors"],
                "pretrain": ["pretrain", "--pretrained", path, "--source", "emovo",
                             *tones.common, "--out", tmp_path / "m.safetensors"]}[command]
        line = fails(capsys, argv)
        assert f"{str(path)!r} is " in line and "not a skpathnet model file" in line, line
        if path.suffix != ".safetensors":
            assert "pickle and joblib files are never loaded" in line
    assert not (tmp_path / "m.safetensors").exists()


def test_a_model_file_of_a_bare_estimator_is_not_a_cli_model(tones, tmp_path, capsys):
    from skpathnet import PathNetClassifier, save

    path = tmp_path / "clf.safetensors"
    save(PathNetClassifier(), path)
    line = fails(capsys, ["predict", path, tones.wav])
    assert f"{str(path)!r} was not written by `skpathnet fit`" in line
    line = fails(capsys, ["fit", "--pretrained", path, "--target", "emodb", *tones.common,
                          "--out", tmp_path / "m.safetensors"])
    assert "is not a model written by `skpathnet pretrain` or `fit`" in line


def test_predict_with_a_pretrained_model_says_to_fit_it(tones, capsys):
    line = fails(capsys, ["predict", tones.pre, tones.wav, "--quiet"])
    assert f"{str(tones.pre)!r} is a pretrained model: it has no target classes yet" in line
    assert f"skpathnet fit --pretrained {tones.pre} --target CORPUS" in line


@pytest.mark.parametrize("pattern, message", [
    (r"^(\d\d)", "needs exactly one named group"),
    (r"^(?P<group>\d\d)(?P<take>a)", "needs exactly one named group"),
    (r"^(?P<group>\d\d", "is not a regular expression"),
    (r"^(?P<group>zz)", "does not match '03a01Ta.wav'; every file needs its speaker/subject"),
])
def test_a_bad_group_pattern(tones, capsys, pattern, message):
    line = fails(capsys, ["predict", tones.model, tones.wav, "--quiet",
                          "--group-pattern", pattern])
    assert f"--group-pattern {pattern!r}" in line and message in line


def test_group_pattern_and_one_speaker_together_are_refused(tones, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["predict", str(tones.model), str(tones.wav), "--group-pattern", EMODB_GROUP,
              "--one-speaker"])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_bad_inputs_to_predict(tones, tmp_path, capsys):
    line = fails(capsys, ["predict", tones.model, tmp_path / "nope.wav"])
    assert f"no such file or folder: {str(tmp_path / 'nope.wav')!r}" in line

    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "sub" / "face.png").write_bytes(b"")  # no audio file for an audio model
    line = fails(capsys, ["predict", tones.model, empty])
    assert f"the folder {str(empty)!r} holds no audio file (.aif, " in line

    manifest = tmp_path / "list.csv"
    manifest.write_text("path,group\na.wav,1\n")
    line = fails(capsys, ["predict", tones.model, manifest])
    assert f"the manifest {str(manifest)!r} needs a 'file' column" in line
    manifest.write_text("")
    line = fails(capsys, ["predict", tones.model, manifest])
    assert "needs a 'file' column" in line

    # some inputs with a speaker, others without
    manifest.write_text(f"file,group\n{tones.wav / '03a01Wa.wav'},03\n")
    line = fails(capsys, ["predict", tones.model, manifest, tones.wav / "08a01Wa.wav"])
    assert "1 inputs have no speaker/subject" in line


def test_a_corrupt_file_among_good_ones_is_reported_and_the_others_predicted(
        tones, tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in ("03a01Wa.wav", "03a01Ta.wav"):
        shutil.copy(tones.wav / name, folder / name)
    (folder / "03a02Wx.wav").write_bytes((tones.wav / "03a02Wa.wav").read_bytes()[:100])
    out = tmp_path / "predictions.csv"
    code = main(["predict", str(tones.model), str(folder), "--group-pattern", EMODB_GROUP,
                 "--n-jobs", "1", "--quiet", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1, err
    rows = {Path(r["path"]).name: r for r in read_csv(out.read_text())}
    assert [rows[n]["label"] for n in ("03a01Wa.wav", "03a01Ta.wav")] == ["anger", "sadness"]
    assert all(rows[n]["error"] == "" for n in ("03a01Wa.wav", "03a01Ta.wav"))
    bad = rows["03a02Wx.wav"]
    assert "truncated" in bad["error"] and bad["group"] == "03"
    assert bad["label"] == bad["p_anger"] == bad["p_sadness"] == bad["n_segments"] == ""
    assert (f"skpathnet: 1 of 3 inputs could not be predicted (see the error column), e.g. "
            f"{folder / '03a02Wx.wav'}: ValueError: ") in err


def _visual_pretrained(path):
    """A (tiny, unfitted) pretrained model file of the face modality."""
    from sklearn.pipeline import Pipeline

    from skpathnet import PathNetClassifier, save
    from skpathnet.experiments._corpora import front_end

    model = Pipeline([("front_end", front_end("jaffe", features="hog", modality="visual")),
                      ("pathnet", PathNetClassifier())])
    save(model, path, info={"kind": "pretrained", "modality": "visual", "features": "hog",
                            "speaker_norm": "auto", "sources": []})
    return path


def test_a_pretrained_model_of_the_other_modality(tones, tmp_path, capsys):
    faces = _visual_pretrained(tmp_path / "faces.safetensors")
    out = tmp_path / "m.safetensors"
    line = fails(capsys, ["fit", "--pretrained", faces, "--target", "emodb", *tones.common,
                          "--out", out])
    assert f"{str(faces)!r} is a model for visual corpora, but the corpora are audio." in line
    line = fails(capsys, ["pretrain", "--pretrained", faces, "--source", "emovo",
                          *tones.common, "--out", out])
    assert "is a model for visual corpora, but the corpora are audio." in line
    line = fails(capsys, ["fit", "--pretrained", tones.pre, "--target", "jaffe",
                          *tones.common, "--out", out])
    assert f"{str(tones.pre)!r} is a" in line
    assert "is a model for audio corpora, but the corpora are visual." in line
    assert not out.exists()


def test_fit_takes_sources_or_a_pretrained_model_not_both(tones, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fit", "--source", "emovo", "--pretrained", str(tones.pre), "--target", "emodb",
              "--out", str(tmp_path / "m.safetensors")])
    assert exc.value.code == 2
    assert "argument --pretrained: not allowed with argument --source" \
        in capsys.readouterr().err


def test_a_target_that_shares_files_with_the_pretrained_sources(tones, tmp_path, capsys):
    # the pretrained model learnt EMOVO's tones: the same files under other names
    copy = shutil.copytree(tones.data / "emovo", tmp_path / "copy")
    out = tmp_path / "m.safetensors"
    corpus = ["--target", str(copy), "--label-pattern", r"^[^/]+/(?P<label>[a-z]+)-",
              "--group-pattern", r"^(?P<group>[^/]+)/", "--label-map", "rab=anger",
              "tri=sadness"]
    line = fails(capsys, ["fit", "--pretrained", tones.pre, *corpus, *tones.common,
                          "--out", out])
    assert "8 of the 8 files of copy were learnt by the pretrained model" in line
    assert "pass --allow-overlap if that is intended" in line
    assert not out.exists()
    line = fails(capsys, ["fit", "--pretrained", tones.pre, "--target", "emovo",
                          *tones.common, "--out", out])
    assert "8 of the 8 files of emovo were learnt by the pretrained model" in line

    code = main(["fit", "--pretrained", str(tones.pre), *corpus, *tones.common,
                 "--allow-overlap", "--out", str(out)])
    printed, err = capsys.readouterr()
    assert code == 0, err
    assert "warning: 8 of the 8 files of copy were learnt by the pretrained model" in printed
    assert out.exists()


# --------------------------------------------------------------------------- Ctrl-C


@pytest.mark.parametrize("command, step", [("pretrain", "pretrain"), ("fit", "fit_final"),
                                           ("predict", "predict_files")])
def test_ctrl_c_exits_130_and_writes_nothing(tones, tmp_path, capsys, monkeypatch, command,
                                             step):
    import skpathnet.__main__ as cli_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_module, step, interrupted)
    out = tmp_path / "out.file"
    argv = {"pretrain": ["pretrain", "--source", "emovo", *tones.common],
            "fit": ["fit", "--pretrained", tones.pre, "--target", "emodb", *tones.common],
            "predict": ["predict", tones.model, tones.wav, "--quiet", "--group-pattern",
                        EMODB_GROUP]}[command]
    assert main([*map(str, argv), "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert err.startswith("skpathnet: interrupted; no") and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_while_the_model_file_is_written_leaves_nothing(tones, tmp_path, capsys,
                                                               monkeypatch):
    import safetensors.numpy

    import skpathnet.__main__ as cli_module
    from skpathnet import load
    from skpathnet.io import read_info

    monkeypatch.setattr(cli_module, "pretrain",
                        lambda *a, **k: (load(tones.pre), read_info(tones.pre)))

    def half_written(tensors, filename, metadata=None):
        Path(filename).write_bytes(b"\0" * 64)
        raise KeyboardInterrupt

    monkeypatch.setattr(safetensors.numpy, "save_file", half_written)
    out = tmp_path / "pre.safetensors"
    assert main(["pretrain", "--source", "emovo", *tones.common, "--out", str(out)]) == 130
    assert "interrupted; no model file was written" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- predict_files


def test_predict_files_without_groups_normalises_each_file_alone(tones):
    from skpathnet import load
    from skpathnet.experiments import predict_files

    model = load(tones.model)
    assert model.named_steps["speaker_norm"].shrinkage
    files = [str(tones.wav / n) for n in ("03a01Wa.wav", "03a01Ta.wav", "08a02Ta.wav")]
    together = predict_files(model, files)
    alone = predict_files(model, files[:1])[0]
    assert together[0].path == alone.path and together[0].group is alone.group is None
    assert together[0].label == alone.label == "anger"
    np.testing.assert_array_equal(together[0].proba, alone.proba)
    # ... and so, as with no normalisation, the file order does not matter either
    reordered = predict_files(model, files[::-1])
    np.testing.assert_array_equal(reordered[-1].proba, alone.proba)


def test_predict_files_never_uses_a_training_speakers_statistics(tones):
    from skpathnet import load
    from skpathnet.experiments import predict_files

    model = load(tones.model)
    front, scaler, clf = (model.named_steps[k] for k in ("front_end", "speaker_norm", "pathnet"))
    assert "03" in scaler.groups_  # a speaker of the target corpus
    files = [str(tones.wav / n) for n in ("03a01Wa.wav", "03a02Ta.wav")]
    as_03 = predict_files(model, files, groups=["03", "03"])
    as_new = predict_files(model, files, groups=["someone", "someone"])
    assert [p.group for p in as_03] == ["03", "03"]
    for a, b in zip(as_03, as_new):
        np.testing.assert_array_equal(a.proba, b.proba)
    # what it is: the two files' own statistics, shrunk; not speaker 03's of training
    X = front.transform(files)
    own = clf.predict_proba(scaler.transform(X, groups=np.array(["x", "x"])))
    known = scaler.transform(X, groups=np.array(["03", "03"]))
    assert not np.allclose(known, scaler.transform(X, groups=np.array(["x", "x"])))
    np.testing.assert_allclose(np.stack([p.proba for p in as_03]), own, rtol=1e-6)


def test_group_pattern_on_a_manifest_reads_the_paths_as_written_in_it(tmp_path, monkeypatch):
    from skpathnet.experiments import collect_inputs

    lists = tmp_path / "lists"
    write_wav(lists / "spk1" / "a.wav")
    (lists / "manifest.csv").write_text("file\nspk1/a.wav\n")
    monkeypatch.chdir(tmp_path)
    pattern = r"^(?P<group>[^/]+)/"
    for spelt in ("lists/manifest.csv", str(lists / "manifest.csv")):
        _, groups = collect_inputs([spelt], modality="audio", group_pattern=pattern)
        assert groups == ["spk1"], spelt


# --------------------------------------------------------------------------- real data


@pytest.mark.data
@pytest.mark.slow
def test_real_speech_folders_pretrain_fit_predict(data_home, tmp_path, capsys):
    """A user's folders of real EMOVO and EMO-DB files: pretrain, fit, predict a new speaker."""
    src, tgt, new = (tmp_path / n for n in ("src", "tgt", "new"))
    for speaker in ("f1", "m1"):
        for code in ("rab", "tri"):
            for take in ("b1", "b2", "b3"):
                name = f"{code}-{speaker}-{take}.flac"
                (src / speaker).mkdir(parents=True, exist_ok=True)
                shutil.copy(data_home / "emovo" / speaker / name, src / speaker / name)
    emodb = sorted((data_home / "emodb" / "wav").glob("*.wav"))
    for speaker, k, folder in (("03", 3, tgt), ("08", 3, tgt), ("11", 2, new)):
        for code in "WT":
            chosen = [p for p in emodb if p.name[:2] == speaker and p.name[5] == code][:k]
            folder.mkdir(exist_ok=True)
            for p in chosen:
                shutil.copy(p, folder / p.name)
    train = ["--generations", "1", "--population", "2", "--quiet", "--n-jobs", "1",
             "--cache", ""]
    pre, model = tmp_path / "pre.safetensors", tmp_path / "model.safetensors"
    assert main(["pretrain", "--source", str(src), "--label-pattern", r"^[^/]+/(?P<label>[a-z]+)-",
                 "--group-pattern", r"^(?P<group>[^/]+)/", "--label-map", "rab=anger",
                 "tri=sadness", *train, "--out", str(pre)]) == 0, capsys.readouterr().err
    assert "src: 12 files, 2 classes (anger 6, sadness 6), 2 speakers" in capsys.readouterr().out
    code = main(["fit", "--pretrained", str(pre), "--target", str(tgt), "--label-pattern",
                 r"^\d\d[a-z]\d\d(?P<label>[WT])", "--group-pattern", EMODB_GROUP,
                 "--label-map", "W=anger", "T=sadness", "--evaluate", *train,
                 "--out", str(model)])
    printed, err = capsys.readouterr()
    assert code == 0, err
    assert "tgt: 12 files, 2 classes (anger 6, sadness 6), 2 speakers" in printed
    assert "evaluation (leave-one-group-out, 2 folds)" in printed
    code = main(["predict", str(model), str(new), "--group-pattern", EMODB_GROUP,
                 "--n-jobs", "1", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = read_csv(out)
    assert len(rows) == 4 and {r["group"] for r in rows} == {"11"}
    for r in rows:
        assert r["error"] == "" and r["n_segments"] == "1"
        assert float(r["p_anger"]) + float(r["p_sadness"]) == pytest.approx(1, abs=2e-6)
    # anger against sadness of a speaker never seen: easy, but one generation of training
    assert sum(r["label"] == tone_label(r["path"]) for r in rows) >= 3
