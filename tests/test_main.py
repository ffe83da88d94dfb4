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
    results = json.loads((out / "jaffe-to-ckplus-g1.json").read_text())
    assert results["n_folds"] == 2 and results["n_clips"] == 927  # contempt dropped
    assert set(results["methods"]) == {"transfer", "scratch"}
    assert results["params"]["tournament"] == "parallel"
    labels = set(results["methods"]["transfer"]["clip"]["recall"])
    assert labels == {"anger", "disgust", "fear", "happiness", "sadness", "surprise"}
    assert (out / "jaffe-to-ckplus-g1.md").read_text().startswith("## jaffe -> ckplus")


def test_module_option_is_parsed():
    from skpathnet.__main__ import build_parser

    assert build_parser().parse_args(["transfer"]).module == "linear"
    assert build_parser().parse_args(["transfer", "--module", "conv"]).module == "conv"
