"""benchmarks/bench_sequence.py at toy settings on synthetic corpora: lambda search, tables."""

import json

import numpy as np
import pytest

from conftest import blobs, load_benchmark
from skpathnet.experiments import Corpus, SequenceData, sequence_tasks


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_sequence")


def synthetic(corpora, **kwargs):
    data = {}
    for k, name in enumerate(corpora):
        X, y = blobs(n=96, n_features=10, n_classes=3, seed=k)
        data[name] = Corpus(X, y.astype(str), np.array([f"{name}{i % 8}" for i in range(96)]))
    tasks = sequence_tasks(data, corpora, test_size=kwargs["test_size"],
                           random_state=kwargs["split_seed"])
    return SequenceData(tasks, "audio", kwargs["features"], kwargs["speaker_norm"], [],
                        "GroupShuffleSplit(...)")


def test_run_and_summary(bench, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(bench, "prepare_sequence", synthetic)
    monkeypatch.setattr(bench, "OUT", tmp_path)
    toy = ["--only", "speech", "--generations", "1", "--epochs", "2", "--lambdas", "1", "1e9",
           "--seeds", "0", "1", "--threads", "1"]
    assert bench.main(toy) == 0
    results = json.loads((tmp_path / "speech.json").read_text())
    assert sorted(results["methods"]) == sorted(
        f"{m} s{s}" for m in ("pathnet", "finetune", "ewc") for s in (0, 1))
    search = results["ewc_lambda_search"]
    assert search["lambdas"] == [1.0, 1e9] and len(search["ACC"]) == 2
    # the search never sees the test speakers: its tasks are the training speakers split again
    for inner, task in zip(search["inner_split"], results["split"]["tasks"]):
        assert inner["n_train"] + inner["n_validation"] == task["n_train"]
        assert not set(inner["validation_groups"]) & set(task["test_groups"])
    assert search["chosen"] == search["lambdas"][int(np.argmax(search["ACC"]))]
    assert results["methods"]["ewc s0"]["params"]["ewc_lambda"] == search["chosen"]
    for seed in (0, 1):
        assert results["methods"][f"pathnet s{seed}"]["BWT"] == 0.0
    text = (tmp_path / "speech.md").read_text()
    assert text.count("## Summary over seeds") == 1
    assert "| PathNet | +0.000 ± 0.000 |" in text
    assert "| EWC | S (scratch) |" in text and "EWC lambda search" in text
    assert (tmp_path / "speech.png").stat().st_size > 0
    capsys.readouterr()
    assert bench.main(["--only", "speech", "--summary"]) == 0
    assert "| PathNet | +0.000 ± 0.000 |" in capsys.readouterr().out
    assert (tmp_path / "speech.md").read_text().count("## Summary over seeds") == 1
