"""The main job: `python -m skpathnet transfer`, end to end on tiny settings."""

import json
from pathlib import Path

import pytest

from skpathnet.__main__ import main


def test_unknown_corpus_is_rejected(tmp_path, capsys):
    assert main(["transfer", "--source", "savee-missing", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Unknown corpus 'savee-missing'" in err and "neither a built-in corpus" in err


def test_missing_data_home_is_a_clear_error(tmp_path, capsys):
    code = main(["transfer", "--data-home", str(tmp_path), "--generations", "1",
                 "--out", str(tmp_path / "out"), "--cache", ""])
    assert code == 2
    assert "not found" in capsys.readouterr().err


@pytest.mark.slow
def test_visual_transfer_job_writes_reports(data_home, tmp_path, capsys):
    out = tmp_path / "out"
    code = main([
        "transfer", "--modality", "visual", "--source", "jaffe", "--target", "ckplus",
        "--features", "crops", "--no-speaker-norm", "--folds", "2", "--generations", "1",
        "--population", "2", "--quiet", "--tournament", "parallel", "--data-home", str(data_home),
        "--out", str(out), "--cache", str(tmp_path / "cache"),
    ])
    assert code == 0
    printed = capsys.readouterr().out
    assert "| transfer | clip |" in printed and "| scratch | segment |" in printed
    results = json.loads((out / "jaffe-to-ckplus-faces-g1.json").read_text())
    assert results["n_folds"] == 2 and results["n_clips"] == 927  # contempt dropped
    assert set(results["methods"]) == {"transfer", "scratch"}
    assert results["params"]["tournament"] == "parallel"
    labels = set(results["methods"]["transfer"]["clip"]["recall"])
    assert labels == {"anger", "disgust", "fear", "happiness", "sadness", "surprise"}
    assert (out / "jaffe-to-ckplus-faces-g1.md").read_text().startswith("## jaffe -> ckplus")


def test_configuration_defaults_to_the_best_and_paper_to_the_paper():
    from skpathnet.__main__ import build_parser, configuration

    parse = build_parser().parse_args
    features, norm, params = configuration(parse(["transfer"]))
    assert (features, norm) == ("functionals", "auto")
    assert params == {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_layers": 2,
                      "n_generations": 40}
    assert configuration(parse(["transfer", "--paper"])) == ("logmel", False, {"n_generations": 200})
    assert configuration(parse(["transfer", "--modality", "visual"])) == ("hog", "auto", params)
    assert configuration(parse(["transfer", "--modality", "visual", "--paper"])) \
        == ("crops", False, {"n_generations": 200})
    assert configuration(parse(["transfer", "--modality", "visual", "--features", "crops",
                                "--no-speaker-norm"]))[:2] == ("crops", False)
    assert configuration(parse(["transfer", "--no-speaker-norm", "--features", "egemaps",
                                "--generations", "3"]))[:2] == ("egemaps", False)


@pytest.mark.slow
def test_visual_job_defaults_to_hog_normalising_only_corpora_that_cover_the_emotions(
        data_home, tmp_path, capsys):
    import warnings

    from skpathnet.transformers import LabelCoverageWarning

    out = tmp_path / "out"
    args = ["transfer", "--modality", "visual", "--source", "ckplus", "--target", "jaffe",
            "--folds", "2", "--generations", "1", "--population", "2", "--quiet",
            "--data-home", str(data_home), "--out", str(out), "--cache", str(tmp_path / "cache")]
    with warnings.catch_warnings():
        warnings.simplefilter("error", LabelCoverageWarning)  # the default never warns
        code = main(args)
    printed, err = capsys.readouterr()
    assert code == 0, err
    # CK+48's subjects pose few of the six emotions: left as they are; JAFFE's pose all six
    assert ("ckplus: not speaker-normalised: 80 of 106 subjects have labels of at most "
            "half of its 6 classes") in printed
    assert "Features: hog, speaker-normalised: jaffe only; 183 clips, 183 segments" in printed
    results = json.loads((out / "ckplus-to-jaffe-hog-norm-g1.json").read_text())
    assert results["features"] == "hog" and results["speaker_norm"] == "auto"
    assert results["normalised"] == ["jaffe"]
    assert results["n_folds"] == 2 and results["n_clips"] == 183
    # forced on, CK+48 is normalised too, and flagged
    with pytest.warns(LabelCoverageWarning, match="80 of 106 groups"):
        assert main([*args, "--speaker-norm", "--methods", "scratch", "--overwrite"]) == 0
    results = json.loads((out / "ckplus-to-jaffe-hog-norm-g1.json").read_text())
    assert results["speaker_norm"] is True and results["normalised"] == ["ckplus", "jaffe"]


@pytest.mark.parametrize("value", ["0", "-1", "x"])
def test_non_positive_generations_are_rejected_before_any_work(value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["transfer", "--generations", value])
    assert exit_info.value.code == 2
    assert "--generations" in capsys.readouterr().err


def test_speech_job_on_functionals_with_speaker_norm(tmp_path, capsys, tone_corpus):
    pytest.importorskip("opensmile")
    tone_corpus(tmp_path / "data")
    out = tmp_path / "out"
    code = main([
        "transfer", "--source", "emovo", "--target", "emodb", "--features", "egemaps",
        "--generations", "2", "--population", "2", "--quiet", "--n-jobs", "1",
        "--data-home", str(tmp_path / "data"), "--out", str(out), "--cache", "",
    ])
    assert code == 0
    printed = capsys.readouterr().out
    assert "88 features per clip" in printed
    assert "Features: egemaps, speaker-normalised; 8 clips" in printed
    results = json.loads((out / "emovo-to-emodb-egemaps-norm-g2.json").read_text())
    assert results["features"] == "egemaps" and results["speaker_norm"] == "auto"
    assert results["normalised"] == ["emovo", "emodb"]
    assert results["n_folds"] == 2 and results["n_clips"] == 8
    assert results["params"]["n_steps"] == 100 and results["params"]["n_units"] == 64
    assert set(results["methods"]) == {"transfer", "scratch"}


def test_module_option_is_parsed():
    from skpathnet.__main__ import build_parser

    assert build_parser().parse_args(["transfer"]).module == "linear"
    assert build_parser().parse_args(["transfer", "--module", "conv"]).module == "conv"


def _user_speech_corpora(tmp_path, tone_corpus):
    """A folder <speaker>/<emotion>/<n>.wav and a manifest, both made of the tone corpus."""
    import shutil

    home = tone_corpus(tmp_path / "data")
    folder = tmp_path / "mine"
    words = {"W": "angry", "T": "sad"}
    for path in sorted((home / "emodb" / "wav").glob("*.wav")):
        dest = folder / f"spk{path.name[:2]}" / words[path.name[5]] / f"{path.name[2:5]}.wav"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, dest)
    (folder / ".DS_Store").write_text("junk")
    rows = ["file,label,group"] + [
        f"{p.relative_to(home)},{'anger' if p.name.startswith('rab') else 'sadness'},{p.parent.name}"
        for p in sorted((home / "emovo").rglob("*.wav"))
    ]
    manifest = home / "source.csv"
    manifest.write_text("\n".join(rows) + "\n")
    return folder, manifest


def test_speech_job_on_a_users_manifest_and_folder(tmp_path, capsys, tone_corpus):
    pytest.importorskip("opensmile")
    folder, manifest = _user_speech_corpora(tmp_path, tone_corpus)
    out = tmp_path / "out"
    code = main([
        "transfer", "--source", str(manifest), "--target", str(folder),
        "--label-pattern", r"^[^/]+/(?P<label>[^/]+)/", "--group-pattern", r"^(?P<group>[^/]+)/",
        "--features", "egemaps", "--generations", "2", "--population", "2", "--quiet",
        "--n-jobs", "1", "--out", str(out), "--cache", "",
    ])
    assert code == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "source: 8 files, 2 classes (anger 4, sadness 4), 2 speakers" in printed
    assert "mine: 8 files, 2 classes (anger 4, sadness 4), 2 speakers" in printed
    results = json.loads((out / "source-to-mine-egemaps-norm-g2.json").read_text())
    assert results["n_folds"] == 2 and results["n_clips"] == 8
    assert set(results["methods"]["transfer"]["clip"]["recall"]) == {"anger", "sadness"}


def test_a_folder_without_patterns_or_a_missing_corpus_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    assert main(["transfer", "--target", str(tmp_path / "mine"), "--out", str(tmp_path)]) == 2
    assert "give --label-pattern and --group-pattern" in capsys.readouterr().err
    assert main(["transfer", "--target", str(tmp_path / "nope.csv"), "--out", str(tmp_path)]) == 2
    assert "neither a built-in corpus" in capsys.readouterr().err


@pytest.mark.data
def test_visual_job_on_a_users_folder_of_images(data_home, tmp_path, capsys):
    import shutil

    folder = tmp_path / "faces"
    for subject in ("s1", "s2"):
        for emotion in ("happy", "sad"):
            for take in range(2):
                dest = folder / f"{subject}_{emotion}" / f"{take}.jpg"
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(data_home / "video" / "single_face.jpg", dest)
    code = main([
        "transfer", "--source", "jaffe", "--target", str(folder), "--methods", "scratch",
        "--label-pattern", r"^[^_]+_(?P<label>[^/]+)/", "--group-pattern", r"^(?P<group>[^_]+)_",
        "--generations", "1", "--population", "2", "--quiet", "--n-jobs", "1",
        "--data-home", str(data_home), "--out", str(tmp_path / "out"), "--cache", "",
    ])
    assert code == 0, capsys.readouterr().err
    assert "faces: 8 files, 2 classes (happiness 4, sadness 4), 2 subjects" in \
        capsys.readouterr().out
    assert (tmp_path / "out" / "jaffe-to-faces-hog-norm-g1.json").exists()


def test_source_all_and_curve_command(tmp_path, tone_corpus, capsys, monkeypatch):
    """--source all resolves to the other corpora; curve checks --sizes, then writes 3 files."""
    import skpathnet.__main__ as cli

    home = tone_corpus(tmp_path / "data")
    common = ["--data-home", str(home), "--generations", "1", "--population", "2",
              "--cache", "", "--quiet", "--n-jobs", "1"]
    assert main(["curve", "--target", "emodb", "--sizes", "0", *common,
                 "--out", str(tmp_path / "c")]) == 2
    assert "--sizes takes positive integers or 'all'; got '0'" in capsys.readouterr().err
    assert main(["evaluate", "--source", "all", "emovo", "--target", "emodb", *common]) == 2
    assert "--source all stands for every other corpus: give it alone" in \
        capsys.readouterr().err

    seen = {}

    def fake_run(sources, target, **kwargs):  # the experiment itself: tests/test_curve.py
        seen.update(sources=sources, target=target, **kwargs)
        return {"unit": "speakers", "sources": sources, "target": target, "modality": "audio",
                "curve": [], "methods": [], "reference": "transfer"}

    monkeypatch.setattr(cli, "run_curve_experiment", fake_run)
    monkeypatch.setattr(cli, "format_curve_markdown", lambda results: "table")

    def fake_save(results, out_dir, stem, *, predictions=True):
        paths = [Path(out_dir) / f"{stem}{ext}" for ext in (".json", ".md")]
        for path in paths:
            path.write_text("{}")
        return paths

    monkeypatch.setattr(cli, "save_curve_results", fake_save)
    monkeypatch.setattr("skpathnet.plotting.plot_learning_curve",
                        lambda results: __import__("matplotlib.pyplot").pyplot.gca())
    out = tmp_path / "curve"
    assert main(["curve", "--target", "emodb", "--sizes", "1", "all", "--draws", "2", *common,
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "--source all: emovo" in printed
    assert seen["sources"] == ["emovo"] and seen["sizes"] == [1, "all"]
    assert seen["n_draws"] == 2 and seen["features"] == "functionals"
    assert sorted(p.suffix for p in out.iterdir()) == [".json", ".md", ".png"]
