"""The steps of a transfer experiment: corpora, features, source phase, several methods."""

import numpy as np
import pytest

from conftest import blobs
from skpathnet import PathNetClassifier
from skpathnet.baselines import FineTuneClassifier
from skpathnet.experiments import (
    Corpus, ExperimentData, Method, fit_sources, format_markdown, paired_difference,
    run_transfer_experiment,
)


def tiny_pathnet():
    return PathNetClassifier(n_generations=2, population_size=2, n_modules=4, n_active=2,
                             n_units=4, n_threads=1, random_state=0)


def tiny_finetune():
    return FineTuneClassifier(max_epochs=2, hidden_units=(4,), n_threads=1, random_state=0)


def blob_experiment(n=40, n_features=6):
    """Two sources and a target of Gaussian blobs, as :func:`extract_experiment` gives them."""
    corpora = {}
    for seed, name in enumerate(["a", "b", "t"]):
        X, y = blobs(n, n_features, seed=seed)
        corpora[name] = Corpus(X, y, np.arange(n) % 4)
    return ExperimentData(["a", "b"], "t", "audio", corpora)


def test_source_phase_saved_and_reloaded_predicts_bit_identically(tmp_path):
    data = blob_experiment()
    estimators = {"pathnet": tiny_pathnet(), "finetune": tiny_finetune()}
    checkpoints = {m: tmp_path / f"source-{m}.npz" for m in estimators}
    lines = []
    fitted = fit_sources(estimators, data, checkpoints=checkpoints, log=lines.append)
    assert list(fitted) == ["pathnet", "finetune"]
    assert all(not f.loaded and f.seconds > 0 for f in fitted.values())
    assert all(path.exists() for path in checkpoints.values())
    assert "pathnet: fit_transfer on a + b ..." in lines
    assert any(line.startswith("  frozen modules per layer: ") for line in lines)

    lines.clear()
    loaded = fit_sources(estimators, data, checkpoints=checkpoints, log=lines.append)
    assert all(f.loaded for f in loaded.values())
    assert f"finetune: fit_transfer on a + b: loaded from {checkpoints['finetune']}" in lines
    X, y, _ = data.corpora["t"]
    for method in estimators:
        a, b = fitted[method], loaded[method]
        assert b.seconds == a.seconds
        for k, Xs in enumerate(data.source_X):
            np.testing.assert_array_equal(b.estimator.predict_source(Xs, source=k),
                                          a.estimator.predict_source(Xs, source=k))
        # the target phase from either gives the same model
        np.testing.assert_array_equal(
            b.estimator.fit(X, y).predict_proba(X), a.estimator.fit(X, y).predict_proba(X))


def test_source_phase_without_checkpoints_fits_a_clone():
    data = blob_experiment()
    estimator = tiny_pathnet()
    fitted = fit_sources({"pathnet": estimator}, data)
    assert fitted["pathnet"].estimator is not estimator
    assert not hasattr(estimator, "source_paths_")
    assert len(fitted["pathnet"].estimator.source_paths_) == 2


def test_methods_are_checked_before_any_work():
    with pytest.raises(ValueError, match="give neither params nor estimator"):
        run_transfer_experiment(["emovo"], "emodb", params={"n_generations": 1},
                                methods={"x": Method(tiny_pathnet())})
    with pytest.raises(TypeError, match=r"methods\['x'\] must be a Method"):
        run_transfer_experiment(["emovo"], "emodb", methods={"x": tiny_pathnet()})
    with pytest.raises(ValueError, match="unknown methods"):
        run_transfer_experiment(["emovo"], "emodb", methods=("transfer", "finetune"))
    with pytest.raises(ValueError, match="population_size"):
        bad = PathNetClassifier(population_size=1)
        run_transfer_experiment(["emovo"], "emodb", methods={"x": Method(bad, transfer=True)})
    with pytest.raises(ValueError, match="speaker_norm must be True, False or 'auto'; got 'on'"):
        run_transfer_experiment(["emovo"], "emodb", speaker_norm="on",
                                data_home="/nonexistent")  # refused before the corpora are read


@pytest.mark.slow
def test_two_transfer_methods_in_one_run_and_resumed(tmp_path, tone_corpus):
    pytest.importorskip("opensmile")
    home = tone_corpus(tmp_path / "data")
    methods = {
        "pathnet": Method(tiny_pathnet(), transfer=True),
        "finetune": Method(tiny_finetune(), transfer=True),
        "scratch": Method(tiny_pathnet()),
    }
    settings = dict(methods=methods, data_home=str(home), features="egemaps", n_jobs=1)
    parts = tmp_path / "parts"
    lines = []
    results = run_transfer_experiment(["emovo"], "emodb", checkpoint=parts, log=lines.append,
                                      **settings)
    assert list(results["methods"]) == ["pathnet", "finetune", "scratch"]
    assert results["n_folds"] == 2 and results["n_clips"] == 8
    assert set(results["params"]) == set(methods)
    assert results["params"]["finetune"]["max_epochs"] == 2
    pathnet, finetune, scratch = (results["methods"][m] for m in methods)
    assert "source_seconds" in pathnet and "source_seconds" in finetune
    assert "source_seconds" not in scratch
    assert len(pathnet["source_paths"]) == 1 and "source_paths" not in finetune
    assert all(len(r["folds"]) == 2 for r in results["methods"].values())
    assert sorted(p.name for p in parts.glob("source*.npz")) == [
        "source-finetune.npz", "source-pathnet.npz"]
    assert "  pathnet fold 1 (03): clip WAR" in "\n".join(lines)
    report = format_markdown(results)
    assert "| finetune | clip |" in report
    # each transfer method against scratch, fold by fold
    assert "| pathnet - scratch | " in report and "| finetune - scratch | " in report

    # Resumed from everything saved: the same scores, nothing fitted again.
    lines.clear()
    again = run_transfer_experiment(["emovo"], "emodb", checkpoint=parts, resume=True,
                                    log=lines.append, **settings)
    assert sum("loaded from" in line for line in lines) == 2
    assert sum("(saved before)" in line for line in lines) == 6
    for method in methods:
        a, b = results["methods"][method], again["methods"][method]
        assert a["folds"] == b["folds"] and a["predictions"] == b["predictions"]
        assert a.get("source_seconds") == b.get("source_seconds")
    # The saved run belongs to these methods: another set of methods is refused.
    with pytest.raises(ValueError, match="cannot resume"):
        run_transfer_experiment(["emovo"], "emodb", checkpoint=parts, resume=True,
                                log=lines.append,
                                **{**settings, "methods": {"pathnet": methods["pathnet"]}})


def _folds(scores):
    return [{"fold": i, "clip_WAR": v} for i, v in enumerate(scores)]


def test_paired_difference_is_fold_by_fold_with_a_signed_rank_test():
    method = _folds([0.9, 0.8, 0.7, 0.6, 0.5, 0.75])
    baseline = _folds([0.8, 0.8, 0.6, 0.5, 0.4, 0.70])
    diff = paired_difference(method, baseline, "clip_WAR")
    d = np.array([0.1, 0.0, 0.1, 0.1, 0.1, 0.05])
    assert diff.mean == pytest.approx(d.mean()) and diff.std == pytest.approx(d.std())
    assert (diff.wins, diff.ties, diff.losses) == (5, 1, 0)
    # five positive differences (the tie dropped): exact two-sided p = 2 / 2**5
    assert diff.p_value == pytest.approx(0.0625)
    # folds are matched by number, not by position
    assert paired_difference(method[::-1], baseline, "clip_WAR") == diff
    same = paired_difference(baseline, baseline, "clip_WAR")
    assert (same.mean, same.ties) == (0.0, 6) and np.isnan(same.p_value)
    with pytest.raises(ValueError, match="evaluated on different folds"):
        paired_difference(method[:3], baseline, "clip_WAR")
