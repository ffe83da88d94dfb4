"""The main job: `python -m skpathnet transfer`, end to end on tiny settings."""

import json

import pytest

from skpathnet.__main__ import main


def test_unknown_corpus_is_rejected():
    with pytest.raises(SystemExit):
        main(["transfer", "--source", "savee-missing"])


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
        "--folds", "2", "--generations", "1", "--population", "2", "--quiet",
        "--tournament", "parallel", "--data-home", str(data_home), "--out", str(out), "--cache", str(tmp_path / "cache"),
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
    assert (features, norm) == ("compare", True)
    assert params == {"n_steps": 100, "learning_rate": 0.1, "n_units": 64, "n_generations": 40}
    assert configuration(parse(["transfer", "--paper"])) == ("logmel", False, {"n_generations": 200})
    assert configuration(parse(["transfer", "--modality", "visual"]))[:2] == ("logmel", False)
    assert configuration(parse(["transfer", "--no-speaker-norm", "--features", "egemaps",
                                "--generations", "3"]))[:2] == ("egemaps", False)


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
    assert "88 features per clip" in printed and "speaker-normalised" in printed
    results = json.loads((out / "emovo-to-emodb-egemaps-norm-g2.json").read_text())
    assert results["features"] == "egemaps" and results["speaker_norm"] is True
    assert results["n_folds"] == 2 and results["n_clips"] == 8
    assert results["params"]["n_steps"] == 100 and results["params"]["n_units"] == 64
    assert set(results["methods"]) == {"transfer", "scratch"}


def test_module_option_is_parsed():
    from skpathnet.__main__ import build_parser

    assert build_parser().parse_args(["transfer"]).module == "linear"
    assert build_parser().parse_args(["transfer", "--module", "conv"]).module == "conv"
