"""Learning curves (skpathnet.experiments._curve): every method on the same draws."""

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from conftest import grouped_experiment, tiny_methods  # noqa: E402
from skpathnet.experiments import (  # noqa: E402
    fit_sources, format_curve_markdown, learning_curve, linear_svm, paired_difference,
    run_curve_experiment, save_curve_results,
)
from skpathnet.model_selection import FewTrainingGroups  # noqa: E402
from skpathnet.plotting import plot_learning_curve  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def speakers_curve():
    """A curve over training speakers: 5 target speakers, sizes 1, 2, 4 (= all), 2 draws."""
    lines = []
    results = learning_curve(tiny_methods(), grouped_experiment(), sizes=(1, 2, 4, "all"),
                             n_draws=2, log=lines.append)
    return results, lines


def test_speakers_curve_runs_every_method_on_the_same_draws(speakers_curve):
    results, lines = speakers_curve
    # 4 training speakers of 5 is leave-one-speaker-out: one size "all", one draw
    assert results["sizes"] == [1, 2, "all"]
    assert [e["n_draws"] for e in results["curve"]] == [2, 2, 1]
    assert [e["n_folds"] for e in results["curve"]] == [10, 10, 5]
    assert [e["x"] for e in results["curve"]] == [1.0, 2.0, 4.0]
    assert [e["train_clips"] for e in results["curve"]] == [12.0, 24.0, 48.0]
    # the source phase ran once per transfer method, before every size
    assert sum("fit_transfer on a + b ..." in line for line in lines) == 2
    assert set(results["source_seconds"]) == {"transfer", "finetune"}
    data = grouped_experiment()
    _, y, groups = data.corpora["t"]
    for entry in results["curve"]:
        assert list(entry["methods"]) == ["transfer", "scratch", "finetune", "svm"]
        folds = [res["folds"] for res in entry["methods"].values()]
        # same folds, test speakers and training sizes for every method
        for method_folds in folds:
            assert [f["fold"] for f in method_folds] == list(range(entry["n_folds"]))
            assert [f["group"] for f in method_folds] == [f["group"] for f in folds[0]]
            assert [f["n_train_clips"] for f in method_folds] == [
                f["n_train_clips"] for f in folds[0]]
        per_draw = entry["n_folds"] // entry["n_draws"]
        assert [f["draw"] for f in folds[0]] == [k // per_draw for k in range(entry["n_folds"])]
        # pooled over the draws: every draw's out-of-fold predictions
        for res in entry["methods"].values():
            assert len(res["predictions"]["y_true"]) == entry["n_draws"] * len(y)
            assert 0 <= res["clip"]["WAR"] <= 1
    # draw d at every size is FewTrainingGroups seeded d
    first = results["curve"][0]
    assert first["cv"] == "2 draws: FewTrainingGroups(n_train=1, random_state=0), ..."
    assert results["curve"][-1]["cv"] == "LeaveOneGroupOut()"


def test_paired_differences_pool_the_draws_speaker_by_speaker(speakers_curve):
    results, _ = speakers_curve
    for entry in results["curve"]:
        assert list(entry["paired"]) == ["transfer - scratch", "transfer - finetune",
                                         "transfer - svm"]
        ref = entry["methods"]["transfer"]["folds"]
        for name in ("scratch", "finetune", "svm"):
            for key in ("WAR", "UAR"):
                expected = paired_difference(ref, entry["methods"][name]["folds"],
                                             f"clip_{key}")._asdict()
                got = entry["paired"][f"transfer - {name}"][key]
                assert got.keys() == expected.keys()
                assert got["wins"] + got["ties"] + got["losses"] == entry["n_folds"]
                np.testing.assert_equal(list(got.values()), list(expected.values()))


def test_markdown_json_and_figure(speakers_curve, tmp_path):
    results, _ = speakers_curve
    text = format_curve_markdown(results)
    assert "learning curve over training speakers" in text
    assert "| 1 | 2 x 5 | 12 | transfer |" in text and "| all (4) | 1 x 5 | 48 | svm |" in text
    assert "| 2 | transfer - scratch | " in text and "| all (4) | transfer - svm | " in text
    json_path, md_path = save_curve_results(results, tmp_path, "curve", predictions=False)
    assert md_path.read_text() == text
    saved = json.loads(json_path.read_text())
    assert all("predictions" not in res for entry in saved["curve"]
               for res in entry["methods"].values())
    assert "predictions" in results["curve"][0]["methods"]["svm"]  # the caller's dict kept
    assert saved["curve"][1]["paired"]["transfer - scratch"]["WAR"]["mean"] == pytest.approx(
        results["curve"][1]["paired"]["transfer - scratch"]["WAR"]["mean"])

    # the figure from the saved JSON: one line per method, log x, "all" at its number
    ax = plot_learning_curve(saved)
    assert [line.get_label() for line in ax.lines] == ["transfer", "scratch", "finetune", "svm"]
    assert ax.get_xscale() == "log"
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1.0, 2.0, 4.0])
    np.testing.assert_allclose(ax.lines[3].get_ydata(),
                               [e["methods"]["svm"]["clip"]["WAR"] for e in saved["curve"]])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "all (4)"]
    assert ax.get_xlabel() == "Training speakers per fold"
    ax = plot_learning_curve(saved, metric="UAR", methods=["svm", "transfer"])
    assert [line.get_label() for line in ax.lines] == ["svm", "transfer"]
    ax.figure.savefig(tmp_path / "curve.png")
    assert (tmp_path / "curve.png").stat().st_size > 0


@pytest.mark.parametrize("kwargs, match", [
    ({"metric": "acc"}, "metric must be 'WAR' or 'UAR'"),
    ({"methods": ["transfer", "ewc"]}, r"Methods \['ewc'\] are not in the results"),
])
def test_plot_learning_curve_names_a_bad_argument(speakers_curve, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_learning_curve(speakers_curve[0], **kwargs)
    with pytest.raises(ValueError, match="no size"):
        plot_learning_curve({"curve": []})


def test_clips_curve_trains_on_n_clips_per_emotion():
    data = grouped_experiment()
    methods = {k: v for k, v in tiny_methods().items() if k in ("scratch", "svm")}
    # 4 training speakers x 4 clips of each class: 16 or more per class is everything
    results = learning_curve(methods, data, unit="clips", sizes=(2, 1, 100), n_draws=2,
                             log=None)
    assert results["sizes"] == [1, 2, "all"] and results["reference"] is None
    assert results["source_seconds"] == {}
    for entry, n in zip(results["curve"], (3, 6, 48)):
        assert all(f["n_train_clips"] == n for f in entry["methods"]["svm"]["folds"])
        assert entry["paired"] == {}
    assert results["curve"][-1]["x"] == 16.0  # 48 training clips over 3 emotions
    assert results["curve"][0]["cv"].startswith("2 draws: FewTrainingClips(n_per_class=1")
    text = format_curve_markdown(results)
    assert "over training clips per emotion" in text and "comparison" not in text
    ax = plot_learning_curve(results)
    assert ax.get_xlabel() == "Training clips per emotion"


def test_a_given_source_phase_is_reused_and_folds_resume_from_a_checkpoint(tmp_path):
    data = grouped_experiment(n_groups=3)
    methods = {k: v for k, v in tiny_methods().items() if k in ("transfer", "svm")}
    fits = fit_sources({"transfer": methods["transfer"].estimator}, data)
    lines = []
    first = learning_curve(methods, data, sizes=(1,), n_draws=2, fits=fits,
                           checkpoint=tmp_path, log=lines.append)
    assert not any("fit_transfer" in line for line in lines)
    assert first["source_seconds"] == {"transfer": fits["transfer"].seconds}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["speakers-1-svm",
                                                          "speakers-1-transfer"]
    lines.clear()
    again = learning_curve(methods, data, sizes=(1,), n_draws=2, fits=fits,
                           checkpoint=tmp_path, log=lines.append)
    assert sum("(saved before)" in line for line in lines) == 12
    for name in methods:
        a, b = first["curve"][0]["methods"][name], again["curve"][0]["methods"][name]
        assert a["folds"] == b["folds"] and a["predictions"] == b["predictions"]


def test_linear_svm_takes_rows_or_clips_of_segments():
    rng = np.random.RandomState(0)
    y = np.arange(20) % 2
    rows = rng.normal(size=(20, 5)) + 3 * y[:, None]
    assert linear_svm().fit(rows, y).score(rows, y) == 1.0
    clips = np.empty(20, dtype=object)
    for i in range(20):  # 1 to 3 segments of 2 x 2 "images" per clip
        clips[i] = (rng.normal(size=(1 + i % 3, 2, 2)) + 3 * y[i]).astype(np.float32)
    svm = linear_svm(C=1.0).fit(clips, y)
    assert svm.decision_function(clips).shape == (20,) and svm.score(clips, y) == 1.0


@pytest.mark.parametrize("kwargs, match", [
    ({"unit": "minutes"}, "unit must be 'speakers' or 'clips'"),
    ({"sizes": ()}, "sizes is empty"),
    ({"sizes": (1, 0)}, "each size must be a positive integer or 'all'; got 0"),
    ({"sizes": ("half",)}, "got 'half'"),
    ({"sizes": (True,)}, "got True"),
])
def test_bad_sizes_are_refused_before_any_work(kwargs, match):
    with pytest.raises(ValueError, match=match):
        run_curve_experiment(["emovo"], "emodb", data_home="/nonexistent", **kwargs)
    with pytest.raises(ValueError, match=match):
        learning_curve(tiny_methods(), grouped_experiment(), **kwargs)


@pytest.mark.parametrize("n_draws", [0, 1.5, True])
def test_bad_n_draws_is_refused(n_draws):
    with pytest.raises(ValueError, match="n_draws must be a positive integer"):
        learning_curve(tiny_methods(), grouped_experiment(), n_draws=n_draws)


def test_run_curve_experiment_end_to_end_resumes(tmp_path, tone_corpus):
    home = tone_corpus(tmp_path / "data", emodb_speakers=("03", "08", "09"))
    parts = tmp_path / "parts"
    settings = dict(methods=tiny_methods(), sizes=(1, "all"), n_draws=2, data_home=str(home),
                    n_jobs=1, checkpoint=parts)
    lines = []
    results = run_curve_experiment("all", "emodb", log=lines.append, **settings)
    assert results["sources"] == ["emovo"] and results["target"] == "emodb"
    assert results["features"] == "functionals" and results["speaker_norm"] == "auto"
    assert results["n_clips"] == 12 and results["n_groups"] == 3
    assert results["sizes"] == [1, "all"]
    assert [e["n_folds"] for e in results["curve"]] == [6, 3]
    json.dumps(results)  # JSON-able as it is (write_json only converts NumPy values)
    assert "learning curve over training speakers" in format_curve_markdown(results)
    # a second run with the same settings continues the saved one
    with pytest.raises(ValueError, match="--resume"):
        run_curve_experiment("all", "emodb", log=lines.append, **settings)
    # the saved settings read the same in another process: no object's memory address
    assert " at 0x" not in (parts / "config.json").read_text()
    lines.clear()
    settings["methods"] = tiny_methods()  # new objects, as in the process that resumes
    again = run_curve_experiment("all", "emodb", resume=True, log=lines.append, **settings)
    assert any(line.startswith(f"resuming from {parts}") for line in lines)
    assert sum("loaded from" in line for line in lines) == 2
    for a, b in zip(results["curve"], again["curve"]):
        assert json.dumps(a["paired"]) == json.dumps(b["paired"])  # NaN p-values too
        assert all(a["methods"][m]["folds"] == b["methods"][m]["folds"] for m in a["methods"])
    with pytest.raises(ValueError, match="cannot resume"):
        run_curve_experiment("all", "emodb", resume=True, log=lines.append,
                             **{**settings, "n_draws": 3})


def test_the_default_methods_are_pathnet_twice_finetuning_and_svm():
    methods = tiny_methods(pathnet={"n_generations": 3})
    assert [(name, type(m.estimator).__name__, m.transfer) for name, m in methods.items()] == [
        ("transfer", "PathNetClassifier", True), ("scratch", "PathNetClassifier", False),
        ("finetune", "FineTuneClassifier", True), ("svm", "Pipeline", False)]
    assert methods["transfer"].estimator.get_params() == methods["scratch"].estimator.get_params()
    assert methods["scratch"].estimator.n_generations == 3
    assert methods["finetune"].estimator.n_threads == 1
    assert isinstance(FewTrainingGroups(1), FewTrainingGroups)


def test_evaluate_scores_a_binary_decision_function_for_each_class():
    from skpathnet.experiments import evaluate

    rng = np.random.RandomState(0)
    y = np.array(["calm", "angry"])[np.arange(24) % 2]
    X = rng.normal(size=(24, 4)) + 2.0 * (y == "calm")[:, None]
    result = evaluate(linear_svm(C=1.0), X, y, np.arange(24) % 3)
    proba = np.array(result["predictions"]["proba"])
    assert proba.shape == (24, 2) and result["predictions"]["labels"] == ["angry", "calm"]
    np.testing.assert_allclose(proba[:, 0], -proba[:, 1])
    # the "calm" column ranks the calm clips first
    assert result["clip"]["macro_AUC"] > 0.9


def test_paired_difference_p_value_does_not_depend_on_float_rounding():
    # 18 folds of 7 balanced emotions (14 clips each): WAR and UAR differences are equal in
    # exact arithmetic, computed in two ways they differ by rounding errors, which used to
    # break ties of |d| and switch scipy between its exact and approximate tests
    rng = np.random.RandomState(0)
    a = rng.randint(0, 15, size=(18, 7))
    b = np.clip(a + rng.randint(-1, 2, size=(18, 7)), 0, 14)
    folds = [[{"fold": k, "WAR": x.sum() / 98, "UAR": (x / 14).mean()} for k, x in enumerate(m)]
             for m in (a, b)]
    war, uar = (paired_difference(*folds, key) for key in ("WAR", "UAR"))
    assert war.p_value == uar.p_value and (war.wins, war.ties, war.losses) == (
        uar.wins, uar.ties, uar.losses)
    assert war.mean == pytest.approx(uar.mean)
