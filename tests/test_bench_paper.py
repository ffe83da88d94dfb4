"""benchmarks/bench_paper.py end to end at toy settings: split runs, --merge, --summary."""

import json

import pytest

from conftest import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_paper")


@pytest.mark.slow
@pytest.mark.data
def test_split_runs_merge_into_one_table(bench, data_home, tmp_path, capsys):
    toy = ["--experiment", "ckplus-jaffe", "--generations", "1", "--population", "2",
           "--epochs", "1", "--folds", "2", "--kfold-splits", "2", "--repeats", "1",
           "--data-home", str(data_home), "--cache", str(tmp_path / "cache")]
    parts = {"a": ["pathnet-transfer", "linear"], "b": ["finetune"]}
    for part, methods in parts.items():
        assert bench.main([*toy, "--methods", *methods, "--out", str(tmp_path / part)]) == 0
    out = tmp_path / "a"  # in place: part a's pathway figures are already there
    assert bench.main([*toy, "--out", str(out), "--merge",
                       str(tmp_path / "a"), str(tmp_path / "b")]) == 0

    loso = json.loads((out / "ckplus-jaffe" / "loso-g1.json").read_text())
    assert list(loso["methods"]) == ["pathnet-transfer", "finetune", "linear"]  # METHODS order
    assert len(loso["methods"]["finetune"]["folds"]) == 2
    assert set(loso["forgetting"]) == {"pathnet-transfer", "finetune"}
    # PathNet's frozen source pathway: source accuracy unchanged by target training.
    f = loso["forgetting"]["pathnet-transfer"]
    assert f["before"] == f["after"]
    kfold = json.loads((out / "ckplus-jaffe" / "kfold-g1.json").read_text())
    assert len(kfold["methods"]["linear"]["folds"]) == 2  # 2 splits x 1 repeat
    for png in ("confusion-loso.png", "roc-kfold.png", "generations.png",
                "pathways-pathnet-transfer.png"):
        assert (out / "ckplus-jaffe" / png).stat().st_size > 0

    capsys.readouterr()
    assert bench.main(["--summary", "--generations", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| ckplus-jaffe | " in printed
    assert "| ckplus-jaffe (2 x 1 = 2) | " in printed


@pytest.mark.slow
@pytest.mark.data
def test_kfold_run_resumed_with_skip_folds_equals_one_run(bench, data_home, tmp_path, capsys):
    toy = ["--experiment", "ckplus-jaffe", "--protocol", "kfold", "--methods", "linear",
           "--kfold-splits", "2", "--generations", "1", "--data-home", str(data_home),
           "--cache", str(tmp_path / "cache")]
    assert bench.main([*toy, "--repeats", "2", "--out", str(tmp_path / "whole")]) == 0
    assert bench.main([*toy, "--repeats", "1", "--out", str(tmp_path / "first")]) == 0
    capsys.readouterr()
    assert bench.main([*toy, "--repeats", "2", "--skip-folds", "2",
                       "--out", str(tmp_path / "rest")]) == 0
    # The progress log counts folds over the whole run: the continuation shows folds 3 and 4.
    logged = capsys.readouterr().out
    assert "  fold 3: clip WAR" in logged and "  fold 4: clip WAR" in logged
    assert "  fold 1: " not in logged
    with pytest.raises(SystemExit, match="fold order"):
        bench.main([*toy, "--out", str(tmp_path / "bad"), "--merge",
                    str(tmp_path / "rest"), str(tmp_path / "first")])
    # Joined in place, as when the saved results are completed later.
    assert bench.main([*toy, "--out", str(tmp_path / "first"), "--merge",
                       str(tmp_path / "first"), str(tmp_path / "rest")]) == 0

    def load(part):
        return json.loads((tmp_path / part / "ckplus-jaffe" / "kfold-g1.json").read_text())

    whole, joined = load("whole"), load("first")
    assert joined["settings"]["repeats"] == 2 and joined["cv"] == whole["cv"]
    a, b = whole["methods"]["linear"], joined["methods"]["linear"]
    assert [f["group"] for f in b["folds"]] == ["fold 0", "fold 1", "fold 2", "fold 3"]
    assert [f["clip_WAR"] for f in b["folds"]] == [f["clip_WAR"] for f in a["folds"]]
    assert b["predictions"] == a["predictions"]
    assert b["fold_scores"] == a["fold_scores"] and b["clip"] == a["clip"]
    assert b["clip"]["macro_AUC"] == a["clip"]["macro_AUC"]
