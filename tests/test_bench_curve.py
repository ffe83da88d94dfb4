"""benchmarks/bench_curve.py: a thin command line over run_curve_experiment."""

import json

import pytest

from conftest import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_curve")


def test_defaults_are_the_issues_run(bench):
    args = bench.build_parser().parse_args([])
    assert (args.target, args.sources, args.unit, args.draws, args.generations) == (
        "emodb", ["all"], "speakers", 3, 40)
    assert args.sizes is None and args.methods is None and args.threads == 1


def test_a_tiny_run_writes_json_markdown_and_figure(bench, tmp_path, tone_corpus):
    home = tone_corpus(tmp_path / "data", emodb_speakers=("03", "08", "09"))
    out = tmp_path / "out"
    results = bench.main([
        "--target", "emodb", "--sizes", "1", "all", "--draws", "2", "--generations", "1",
        "--methods", "transfer", "scratch", "svm", "--data-home", str(home), "--cache", "",
        "--out", str(out)])
    assert results["sources"] == ["emovo"] and results["sizes"] == [1, "all"]
    assert results["params"]["scratch"]["n_units"] == 64  # BEST_AUDIO
    assert results["params"]["scratch"]["n_generations"] == 1
    saved = json.loads((out / "emodb-speakers.json").read_text())
    assert list(saved["curve"][0]["methods"]) == ["transfer", "scratch", "svm"]
    assert "predictions" not in saved["curve"][0]["methods"]["svm"]
    assert "| 1 | transfer - scratch |" in (out / "emodb-speakers.md").read_text()
    assert (out / "emodb-speakers.png").stat().st_size > 0
    # --pair: two saved runs' methods fold by fold, as the run's own paired differences
    saved_path = str(out / "emodb-speakers.json")
    paired = bench.main(["--pair", f"{saved_path}:transfer", f"{saved_path}:scratch"])
    assert list(paired) == ["1", "all"]
    for entry in results["curve"]:
        assert paired[str(entry["size"])]["WAR"]._asdict() == pytest.approx(
            entry["paired"]["transfer - scratch"]["WAR"], nan_ok=True)


def test_pathnet_settings_reach_transfer_and_scratch_and_the_tag_names_the_files(
        bench, tmp_path, tone_corpus):
    args = bench.build_parser().parse_args(["--pathnet", "fitness=validation",
                                            "frozen_weight=0.5", "seed_pathway=true"])
    assert args.pathnet == [("fitness", "validation"), ("frozen_weight", 0.5),
                            ("seed_pathway", True)]
    with pytest.raises(SystemExit):
        bench.build_parser().parse_args(["--pathnet", "fitness"])
    home = tone_corpus(tmp_path / "data", emodb_speakers=("03", "08", "09"))
    out = tmp_path / "out"
    results = bench.main([
        "--target", "emodb", "--sizes", "1", "--draws", "1", "--generations", "1",
        "--methods", "transfer", "scratch", "--data-home", str(home), "--cache", "",
        "--out", str(out), "--pathnet", "tie_break=loss", "--tag", "loss"])
    assert {results["params"][m]["tie_break"] for m in ("transfer", "scratch")} == {"loss"}
    assert (out / "emodb-speakers-loss.json").exists()
