"""Task sequences (skpathnet.experiments.run_task_sequence) and the heat map of R."""

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from conftest import blobs, fitted_state  # noqa: E402
from skpathnet import PathNetClassifier  # noqa: E402
from skpathnet.baselines import FineTuneClassifier  # noqa: E402
from skpathnet.experiments import (  # noqa: E402
    Corpus, SequenceData, format_sequence_markdown, prepare_sequence, run_task_sequence,
    save_sequence_results, sequence_tasks, speaker_split, task_sequence,
)
from skpathnet.metrics import accuracy_matrix, backward_transfer, forward_transfer  # noqa: E402
from skpathnet.plotting import plot_accuracy_matrix  # noqa: E402

TINY_PATHNET = dict(n_layers=2, n_modules=6, n_active=2, n_units=8, population_size=4,
                    n_generations=4, learning_rate=0.1, n_steps=5, n_threads=1, random_state=0)
TINY_FINETUNE = dict(hidden_units=(8, 8), max_epochs=10, learning_rate=0.1, n_threads=1,
                     random_state=0)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def corpus(seed, n_classes=3, n_speakers=8, n=96, labels="abcdefg"):
    X, y = blobs(n=n, n_features=10, n_classes=n_classes, seed=seed)
    groups = np.array([f"s{seed}-{k % n_speakers}" for k in range(n)])
    return Corpus(X, np.array([labels[c] for c in y]), groups)


@pytest.fixture(scope="module")
def tasks():
    data = {"one": corpus(1), "two": corpus(2, n_classes=2, labels="xy"), "three": corpus(3)}
    return sequence_tasks(data, ["one", "two", "three"], test_size=0.25, random_state=0)


def test_speaker_split_is_groupwise_seeded_and_rounds_up():
    y = np.arange(100) % 4
    groups = np.arange(100) % 10
    train, test = speaker_split(y, groups)
    assert len(np.unique(groups[test])) == 3  # ceil(0.25 * 10)
    assert not set(groups[train]) & set(groups[test])
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(100))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
    again = speaker_split(y, groups)
    np.testing.assert_array_equal(again[1], test)
    other = speaker_split(y, groups, random_state=1)
    assert not np.array_equal(other[1], test)
    assert len(np.unique(groups[speaker_split(y, groups, test_size=0.5)[1]])) == 5
    with pytest.raises(ValueError, match="at least 2 speakers"):
        speaker_split(y, np.zeros(100))
    with pytest.raises(ValueError, match="fewer than 2 classes"):
        speaker_split(np.arange(10) % 2, np.arange(10) % 2)  # one speaker per class


def test_pathnet_never_forgets_and_its_first_task_is_its_scratch(tasks):
    estimator = PathNetClassifier(**TINY_PATHNET)
    before = fitted_state(estimator)
    results = task_sequence(tasks, {"pathnet": estimator})
    assert fitted_state(estimator) == before  # the given estimator is not changed
    res = results["pathnet"]
    R = np.array(res["R"], dtype=float)
    assert R.shape == (3, 3)
    assert np.isnan(R[np.triu_indices(3, 1)]).all()
    assert np.isfinite(R[np.tril_indices(3)]).all()
    # PathNet's tasks keep their frozen pathways and heads: each column is constant,
    # and BWT is exactly 0, not merely small
    for j in range(3):
        assert set(R[j:, j]) == {R[j, j]}
    assert res["BWT"] == 0.0 and res["BWT_UAR"] == 0.0
    # task 0 of the sequence is task 0 alone (same seeds)
    assert res["scratch"][0] == R[0, 0]
    assert res["FWT"] == forward_transfer(R, res["scratch"])
    assert res["ACC"] == pytest.approx(np.mean(R[2]))
    assert len(res["seconds"]) == len(res["scratch_seconds"]) == 3
    assert res["estimator"] == "PathNetClassifier" and res["params"]["n_generations"] == 4
    json.dumps(results, allow_nan=False)  # JSON-able as it is: None where undefined


def test_finetune_and_ewc_on_the_same_tasks(tasks):
    methods = {"finetune": FineTuneClassifier(**TINY_FINETUNE),
               "ewc": FineTuneClassifier(**TINY_FINETUNE, ewc_lambda=1.0)}
    lines = []
    results = task_sequence(tasks, methods, log=lines.append)
    for name, res in results.items():
        R = np.array(res["R"], dtype=float)
        assert res["BWT"] == backward_transfer(R)
        assert res["FWT"] == forward_transfer(R, res["scratch"])
        # the R of a model scored by hand
        model = FineTuneClassifier(**methods[name].get_params())
        for i, task in enumerate(tasks):
            model.fit_transfer(*task.train_data(), append=i > 0)
        last = [model.predict_source(t.test_data()[0], source=j) for j, t in enumerate(tasks)]
        expected = accuracy_matrix([t.y[t.test] for t in tasks], [last[:1], last[:2], last])
        np.testing.assert_array_equal(R[2], expected[2])
    # one scratch per task: the same MLP alone, EWC or not (one task has nothing to hold to)
    assert results["finetune"]["scratch"] == results["ewc"]["scratch"]
    assert any("finetune: task 2 (three)" in line for line in lines)


def test_the_sequence_starts_from_scratch_and_needs_append(tasks):
    pretrained = PathNetClassifier(**TINY_PATHNET).fit_transfer(*tasks[1].train_data())
    fresh = task_sequence(tasks[:2], {"p": PathNetClassifier(**TINY_PATHNET)}, scratch=False)
    again = task_sequence(tasks[:2], {"p": pretrained}, scratch=False)
    assert fresh == {"p": {**again["p"], "seconds": fresh["p"]["seconds"]}}
    assert fresh["p"]["FWT"] is None and fresh["p"]["scratch"] is None
    one = task_sequence(tasks[:1], {"p": PathNetClassifier(**TINY_PATHNET)})
    assert one["p"]["BWT"] is None and one["p"]["FWT"] is None
    with pytest.raises(TypeError, match="append"):
        task_sequence(tasks, {"lr": LogisticRegression()})
    with pytest.raises(ValueError, match="at least one task"):
        task_sequence([], {"p": PathNetClassifier()})


def test_run_task_sequence_on_tone_corpora_and_its_report(tmp_path, tone_corpus):
    home = tone_corpus(tmp_path / "data", emodb_speakers=("03", "08", "09", "10"))
    lines = []
    results = run_task_sequence(
        ["emodb", "emovo"], methods={"pathnet": PathNetClassifier(**TINY_PATHNET),
                                     "finetune": FineTuneClassifier(**TINY_FINETUNE)},
        features="functionals", speaker_norm=False, test_size=0.5, data_home=str(home),
        n_jobs=1, log=lines.append)
    assert results["sequence"] == ["emodb", "emovo"]
    tasks = results["split"]["tasks"]
    assert [t["n_test"] for t in tasks] == [8, 4] and [t["n_train"] for t in tasks] == [8, 4]
    assert not set(tasks[0]["train_groups"]) & set(tasks[0]["test_groups"])
    assert "GroupShuffleSplit(n_splits=1, test_size=0.5, random_state=0)" in \
        results["split"]["how"]
    assert results["methods"]["pathnet"]["BWT"] == 0.0
    json.dumps(results, allow_nan=False)
    text = format_sequence_markdown(results)
    assert "## Task sequence emodb -> emovo (audio, functionals)" in text
    assert "| pathnet | +0.000 |" in text and "| S (scratch) |" in text
    assert "| emodb | " in text and "–" in text
    paths = save_sequence_results(results, tmp_path / "out", "seq")
    assert [p.name for p in paths] == ["seq.json", "seq.md", "seq.png"]
    assert json.loads(paths[0].read_text())["methods"]["finetune"]["R"][0][1] is None
    assert paths[2].stat().st_size > 0
    # prepared once (e.g. to choose a parameter on the training speakers), then run
    prepared = prepare_sequence(["emodb", "emovo"], features="functionals", speaker_norm=False,
                                test_size=0.5, data_home=str(home), n_jobs=1, log=None)
    assert isinstance(prepared, SequenceData) and prepared.describe() == tasks
    again = run_task_sequence(prepared, methods={"pathnet": PathNetClassifier(**TINY_PATHNET)},
                              log=None)
    assert again["methods"]["pathnet"]["R"] == results["methods"]["pathnet"]["R"]
    assert again["split"] == results["split"] and again["sequence"] == ["emodb", "emovo"]
    for bad, match in ((["emodb"], "at least 2"), (["emodb", "emodb"], "once"),
                       (["emodb", "jaffe"], None)):
        with pytest.raises((ValueError, FileNotFoundError), match=match):
            run_task_sequence(bad, methods={}, data_home=str(home), log=None)
    with pytest.raises(ValueError, match="test_size"):
        run_task_sequence(["emodb", "emovo"], methods={}, test_size=1.0, data_home=str(home))


def test_plot_accuracy_matrix(tmp_path):
    R = np.array([[0.8, np.nan], [0.4, 0.6]])
    ax = plot_accuracy_matrix(R, tasks=["ravdess", "emovo"], title="pathnet")
    values = ax.images[0].get_array()
    assert values.mask.tolist() == [[False, True], [False, False]]
    np.testing.assert_array_equal(values.data[np.tril_indices(2)], [0.8, 0.4, 0.6])
    assert sorted(t.get_text() for t in ax.texts) == ["0.40", "0.60", "0.80"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["ravdess", "emovo"]
    assert ax.get_title() == "pathnet"
    ax.figure.savefig(tmp_path / "R.png")
    fig, given = plt.subplots()
    assert plot_accuracy_matrix(R, ax=given) is given
    assert [t.get_text() for t in given.get_xticklabels()] == ["task 0", "task 1"]
    with pytest.raises(ValueError, match="square"):
        plot_accuracy_matrix(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="2 task names for 3 tasks"):
        plot_accuracy_matrix(np.zeros((3, 3)), tasks=["a", "b"])
