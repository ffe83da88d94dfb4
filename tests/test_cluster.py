"""Folds, grid searches and the main job on a real Dask cluster (LocalCluster processes)."""

import json
import os
import signal
import sys
import time

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut, cross_validate

from skpathnet import PathNetClassifier
from skpathnet.__main__ import main
from skpathnet.datasets import load_emodb
from skpathnet.experiments import (
    ClusterError, dask_cluster, evaluate, extract_features, on_cluster,
)

distributed = pytest.importorskip("dask.distributed")

EMOTIONS = ["anger", "neutral", "sadness"]
TINY = dict(n_generations=2, population_size=2, n_steps=3, learning_rate=0.1, n_threads=1,
            random_state=0)


@pytest.fixture(scope="module")
def client():
    with dask_cluster(n_workers=2) as client:
        yield client


@pytest.fixture(scope="module")
def emodb_functionals(data_home):
    """eGeMAPS functionals of three emotions of five EMO-DB speakers, each speaker normalised."""
    pytest.importorskip("opensmile")
    bunch = load_emodb(data_home)
    keep = np.isin(bunch.target, EMOTIONS) & np.isin(bunch.groups, ["03", "08", "09", "10", "11"])
    for key in ("filenames", "target", "groups"):
        bunch[key] = bunch[key][keep]
    bunch["modality"] = "audio"
    X = extract_features("emodb", bunch, features="egemaps", speaker_norm=True, n_jobs=1)
    return X, bunch.target, bunch.groups


def test_grid_search_on_dask_equals_the_local_search(client, emodb_functionals):
    X, y, groups = emodb_functionals
    target = np.isin(groups, ["03", "08", "09"])
    grid = {"population_size": [2, 4], "mutation_rate": [0.1, 0.5]}
    search = GridSearchCV(PathNetClassifier(**TINY), grid, cv=LeaveOneGroupOut())
    local = clone(search).fit(X[target], y[target], groups=groups[target])
    with distributed.get_task_stream(client) as stream, joblib.parallel_config(backend="dask"):
        remote = clone(search).fit(X[target], y[target], groups=groups[target])
    for key in local.cv_results_:
        if "test_score" in key:
            np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key], key)
    assert remote.best_params_ == local.best_params_
    # the 4 candidates x 3 folds ran on the workers (in batches), the refit here
    assert stream.data and {task["worker"] for task in stream.data} <= set(
        client.scheduler_info()["workers"])


def test_transferred_state_reaches_every_fold_on_the_workers(client, emodb_functionals):
    X, y, groups = emodb_functionals
    source = np.isin(groups, ["10", "11"])
    transferred = PathNetClassifier(**TINY).fit_transfer(X[source], y[source])
    before = transferred.predict_proba_source(X[source])
    target = ~source
    kwargs = dict(groups=groups[target], cv=LeaveOneGroupOut(), return_estimator=True)
    local = cross_validate(transferred, X[target], y[target], **kwargs)
    with on_cluster(client, X[target], y[target]):
        remote = cross_validate(transferred, X[target], y[target], **kwargs)
    np.testing.assert_array_equal(remote["test_score"], local["test_score"])
    assert len(remote["estimator"]) == 3
    for model in remote["estimator"]:
        # the frozen pathway answered the source task bit for bit in every fold
        np.testing.assert_array_equal(model.predict_proba_source(X[source]), before)
        for mine, theirs in zip(model.frozen_modules_, transferred.frozen_modules_):
            np.testing.assert_array_equal(mine, theirs)


def test_a_pipeline_reading_files_with_fine_tuning_on_dask_equals_local(client, data_home):
    pytest.importorskip("opensmile")
    from sklearn.pipeline import make_pipeline

    from skpathnet.baselines import FineTuneClassifier
    from skpathnet.transformers import OpenSmileFunctionals

    bunch = load_emodb(data_home)
    keep = np.isin(bunch.target, ["anger", "sadness"]) & np.isin(bunch.groups, ["03", "08"])
    files, y, groups = bunch.filenames[keep], bunch.target[keep], bunch.groups[keep]
    pipe = make_pipeline(OpenSmileFunctionals(feature_set="eGeMAPSv02"),
                         FineTuneClassifier(hidden_units=(16,), max_epochs=5, n_threads=1,
                                            random_state=0))
    kwargs = dict(groups=groups, cv=LeaveOneGroupOut(), scoring="balanced_accuracy")
    local = cross_validate(pipe, files, y, **kwargs)
    with on_cluster(client, files, y):  # the workers read the clips themselves
        remote = cross_validate(pipe, files, y, **kwargs)
    np.testing.assert_array_equal(remote["test_score"], local["test_score"])


def test_a_dask_worker_bounds_torch_to_one_thread_per_task(client):
    def threads_inside_a_fit():
        import torch

        from skpathnet.utils._threads import torch_threads

        torch.set_num_threads(3)  # as a worker on a many-core machine would have
        with torch_threads(None):
            inside = torch.get_num_threads()
        with torch_threads(2):  # an explicit n_threads is kept
            explicit = torch.get_num_threads()
        return inside, explicit, torch.get_num_threads()

    assert client.submit(threads_inside_a_fit, pure=False).result() == (1, 2, 3)


def test_the_main_job_on_a_local_cluster_writes_the_serial_tables(tmp_path, capsys,
                                                                  tone_corpus):
    pytest.importorskip("opensmile")
    tone_corpus(tmp_path / "data")
    common = ["transfer", "--source", "emovo", "--target", "emodb", "--features", "egemaps",
              "--generations", "2", "--population", "2", "--quiet", "--n-jobs", "1",
              "--threads", "1", "--data-home", str(tmp_path / "data"), "--cache", ""]
    assert main([*common, "--out", str(tmp_path / "serial")]) == 0
    assert main([*common, "--out", str(tmp_path / "dask"), "--local-cluster", "2"]) == 0
    assert "on the Dask cluster tcp://" in capsys.readouterr().out
    name = "emovo-to-emodb-egemaps-norm-g2"
    serial, dask = (json.loads((tmp_path / d / f"{name}.json").read_text())
                    for d in ("serial", "dask"))
    for method in ("transfer", "scratch"):
        a, b = serial["methods"][method], dask["methods"][method]
        assert b["predictions"] == a["predictions"] and b["clip"] == a["clip"]
        assert [{k: v for k, v in f.items() if k != "seconds"} for f in b["folds"]] == \
            [{k: v for k, v in f.items() if k != "seconds"} for f in a["folds"]]

    def tables(d):  # the Markdown without its timings
        text = (tmp_path / d / f"{name}.md").read_text()
        return [line.rsplit("|", 2)[0] if line.startswith("| transfer") or
                line.startswith("| scratch") else line
                for line in text.splitlines() if "total" not in line]

    assert tables("dask") == tables("serial")


def test_a_worker_killed_mid_run_loses_nothing(emodb_functionals, tmp_path):
    X, y, groups = emodb_functionals
    estimator = PathNetClassifier(**{**TINY, "n_generations": 4})
    expected = evaluate(estimator, X, y, groups)
    with dask_cluster(n_workers=2) as client:
        pids = client.run(os.getpid)
        killed = []

        def log(line):  # the first finished fold kills a worker that is busy with another
            if not killed:
                busy = [w for w, tasks in client.processing().items() if tasks]
                victim = busy[0] if busy else next(iter(pids))
                os.kill(pids[victim], signal.SIGKILL)
                killed.append(victim)

        result = evaluate(estimator, X, y, groups, log=log, checkpoint=tmp_path / "parts",
                          client=client)
    assert killed
    assert result["predictions"] == expected["predictions"]
    assert result["clip"] == expected["clip"]
    assert sorted(p.name for p in (tmp_path / "parts").iterdir()) == [
        f"fold-{i}.npz" for i in range(5)]


class DiesOnFit(DummyClassifier):
    """A classifier whose fit kills its process (after 3 s) when it trains on ``n_samples`` rows."""

    def __init__(self, *, strategy="prior", n_samples=-1):
        super().__init__(strategy=strategy)
        self.n_samples = n_samples

    def fit(self, X, y, sample_weight=None):
        if len(X) == self.n_samples:
            time.sleep(3)
            os._exit(1)
        return super().fit(X, y, sample_weight=sample_weight)


def test_lost_workers_stop_the_run_with_a_clear_error_and_keep_finished_folds(tmp_path):
    import cloudpickle
    import dask

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    X = np.arange(24, dtype=float).reshape(12, 2)
    y = np.tile(["anger", "sadness"], 6)
    groups = np.repeat(["a", "b", "c"], [2, 4, 6])
    estimator = DiesOnFit(n_samples=8)  # the fold that tests "b" (trains on 2 + 6 rows)
    try:
        # fold 1 dies after 3 s, so the two quick folds finish (and are saved) first
        with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
                dask_cluster(n_workers=2) as client, \
                pytest.raises(ClusterError, match="2 of 3 folds finished and are saved in "
                              ".*parts.*run again"):
            evaluate(estimator, X, y, groups, checkpoint=tmp_path / "parts", client=client)
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    saved = sorted(p.name for p in (tmp_path / "parts").iterdir())
    assert saved == ["fold-0.npz", "fold-2.npz"]


def test_missing_scheduler_and_bad_arguments_are_clear_errors():
    with pytest.raises(OSError, match="cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'"):
        with dask_cluster("tcp://127.0.0.1:9", timeout=1):
            pass
    with pytest.raises(ValueError, match="one of them"):
        with dask_cluster():
            pass
    with pytest.raises(ValueError, match="positive"):
        with dask_cluster(n_workers=0):
            pass


def test_a_learning_curve_on_dask_equals_the_local_one(client):
    """learning_curve's folds (every method, size and draw) sent to the workers."""
    from conftest import grouped_experiment, tiny_methods
    from skpathnet.experiments import fit_sources, learning_curve

    data = grouped_experiment(n_groups=4)
    methods = tiny_methods()
    fits = fit_sources({name: m.estimator for name, m in methods.items() if m.transfer}, data)
    runs = [learning_curve(methods, data, sizes=(1, "all"), n_draws=2, fits=fits, **where)
            for where in ({}, {"client": client})]

    def scores(results):
        return [(entry["size"], name, [(f["fold"], f["draw"], f["clip_WAR"], f["clip_UAR"])
                                       for f in res["folds"]], res["predictions"])
                for entry in results["curve"] for name, res in entry["methods"].items()]

    local, remote = (scores(r) for r in runs)
    assert len(local) == 2 * len(methods)
    for a, b in zip(local, remote):
        assert a[:3] == b[:3]
        np.testing.assert_array_equal(a[3]["proba"], b[3]["proba"])
    # (p-values are nan where every fold ties: compared as JSON text)
    assert json.dumps([e["paired"] for e in runs[0]["curve"]]) == \
        json.dumps([e["paired"] for e in runs[1]["curve"]])
