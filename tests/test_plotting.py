"""skpathnet.plotting: artists of each figure, saved as PNG with the Agg backend."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from conftest import PATHNET_FAST, blobs_with  # noqa: E402
from skpathnet import PathNetClassifier  # noqa: E402
from skpathnet.plotting import (  # noqa: E402
    plot_confusion_matrix,
    plot_generation_curves,
    plot_pathways,
    plot_roc_curves,
)
from skpathnet.plotting._pathways import (  # noqa: E402
    SHARED_COLOR,
    SOURCE_COLORS,
    UNUSED_COLOR,
)

FAST = PATHNET_FAST


blobs = blobs_with(n=90)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def models():
    Xs, ys = blobs(seed=1)
    Xs2, ys2 = blobs(n_classes=2, seed=5)
    Xt, yt = blobs(seed=2)
    emotions = np.array(["angry", "happy", "sad"])
    source = PathNetClassifier(**FAST).fit_transfer(Xs, ys)
    cascade = PathNetClassifier(**FAST).fit_transfer([Xs, Xs2], [ys, ys2])
    target = PathNetClassifier(**FAST).fit_transfer(Xs, ys).fit(
        Xt[:60], emotions[yt[:60]], X_val=Xt[60:], y_val=emotions[yt[60:]]
    )
    scratch = PathNetClassifier(**FAST).fit(
        Xt[:60], emotions[yt[:60]], X_val=Xt[60:], y_val=emotions[yt[60:]]
    )
    return {"source": source, "cascade": cascade, "target": target, "scratch": scratch,
            "test": (Xt[60:], emotions[yt[60:]])}


def test_confusion_matrix_rows_are_recalls(tmp_path):
    y_true = ["sad", "sad", "happy", "angry", "happy", "sad"]
    y_pred = ["sad", "happy", "happy", "angry", "happy", "angry"]
    ax = plot_confusion_matrix(y_true, y_pred, labels=["angry", "happy", "sad"])
    values = ax.images[0].get_array()
    np.testing.assert_allclose(values[2], [1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(values.sum(1), 1.0)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["angry", "happy", "sad"]
    ax.figure.savefig(tmp_path / "confusion.png")
    # counts, on given axes
    fig, given = plt.subplots()
    assert plot_confusion_matrix(y_true, y_pred, normalize=None, ax=given) is given
    assert given.images[0].get_array().sum() == len(y_true)


def test_roc_one_line_per_class_with_auc(models, tmp_path):
    clf = models["target"]
    X, y = models["test"]
    ax = plot_roc_curves(y, clf.predict_proba(X), clf.classes_)
    labels = [line.get_label() for line in ax.lines]
    auc_labels = [lab for lab in labels if "AUC =" in lab]
    assert len(auc_labels) == len(clf.classes_) == 3
    assert len(ax.lines) == 4  # plus the chance diagonal
    for cls, lab in zip(clf.classes_, auc_labels):
        assert lab.startswith(cls)
        assert 0.0 <= float(lab.split("AUC = ")[1].rstrip(")")) <= 1.0
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == labels
    ax.figure.savefig(tmp_path / "roc.png")


def test_roc_perfect_scores_and_missing_class():
    y = np.array([0, 1, 2, 0, 1, 2])
    proba = np.eye(3)[y]
    ax = plot_roc_curves(y, proba, [0, 1, 2], plot_chance_level=False)
    assert [line.get_label() for line in ax.lines] == [f"{c} (AUC = 1.00)" for c in range(3)]
    with pytest.warns(UserWarning, match="no positive"):
        ax = plot_roc_curves(y, np.c_[proba, np.zeros(6)], [0, 1, 2, 3])
    assert len(ax.lines) == 3 + 1
    with pytest.raises(ValueError, match="shape"):
        plot_roc_curves(y, proba[:, :2], [0, 1, 2])


def test_generation_curves_with_and_without_transfer(models, tmp_path):
    target, scratch = models["target"], models["scratch"]
    ax = plot_generation_curves([target.history_, scratch.history_],
                                labels=["with transfer", "without transfer"])
    assert len(ax.lines) == 2
    x, yv = ax.lines[0].get_data()
    np.testing.assert_array_equal(x, np.arange(1, FAST["n_generations"] + 1))
    np.testing.assert_allclose(yv, [r["val_score"] for r in target.history_])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "with transfer", "without transfer"]
    assert ax.get_xlabel() == "Generation"
    ax.figure.savefig(tmp_path / "curves.png")
    # one history, winner's fitness
    ax = plot_generation_curves(scratch.history_, key="fitness")
    assert len(ax.lines) == 1 and ax.get_legend() is None
    expected = [r["fitness"][r["winner"]] for r in scratch.history_]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), expected)
    # source histories have no val_score
    with pytest.raises(ValueError, match="X_val"):
        plot_generation_curves(models["source"].source_history_[0])
    with pytest.raises(ValueError, match="labels"):
        plot_generation_curves([scratch.history_], labels=["a", "b"])


def _cells(ax):
    return {p.get_gid(): p for p in ax.patches if p.get_gid()}


def _face(cells, layer, module):
    return cells[f"cell-{layer}-{module}"].get_facecolor()


def _target_offsets(ax):
    [dots] = [c for c in ax.collections if c.get_gid() == "target-path"]
    return {(int(m), int(l)) for m, l in dots.get_offsets()}


def test_pathways_transfer_then_target(models, tmp_path):
    clf = models["target"]
    ax = plot_pathways(clf)
    cells = _cells(ax)
    L, M = 3, FAST["n_modules"]
    assert sum(gid.startswith("cell-") for gid in cells) == L * M
    source = [set(np.unique(g)) for g in clf.source_paths_[0]]
    for layer in range(L):
        for module in range(M):
            want = SOURCE_COLORS[0] if module in source[layer] else UNUSED_COLOR
            assert _face(cells, layer, module) == to_rgba(want), (layer, module)
            frozen = module in set(clf.frozen_modules_[layer])
            assert (f"frozen-{layer}-{module}" in cells) == frozen
            if frozen:
                assert cells[f"frozen-{layer}-{module}"].get_hatch() == "///"
    expected = {(int(m), layer) for layer in range(L) for m in np.unique(clf.best_path_[layer])}
    assert _target_offsets(ax) == expected
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["source 1 best pathway", "frozen module", "target best pathway",
                      "other module"]
    ax.figure.savefig(tmp_path / "pathways.png")


def test_pathways_scratch_transfer_only_and_cascade(models):
    scratch = plot_pathways(models["scratch"])
    cells = _cells(scratch)
    assert all(p.get_facecolor() == to_rgba(UNUSED_COLOR)
               for gid, p in cells.items() if gid.startswith("cell-"))
    assert not any(gid.startswith("frozen-") for gid in cells)
    assert len(_target_offsets(scratch)) > 0
    # transfer only: no target dots
    ax = plot_pathways(models["source"])
    assert not [c for c in ax.collections if c.get_gid() == "target-path"]
    assert "target best pathway" not in [t.get_text() for t in ax.get_legend().get_texts()]
    # two sources: one colour each, another where both pathways meet
    clf = models["cascade"]
    fig, given = plt.subplots()
    assert plot_pathways(clf, ax=given) is given
    cells = _cells(given)
    for layer in range(3):
        first, second = (set(np.unique(p[layer])) for p in clf.source_paths_)
        for module in range(FAST["n_modules"]):
            want = {(True, True): SHARED_COLOR, (True, False): SOURCE_COLORS[0],
                    (False, True): SOURCE_COLORS[1], (False, False): UNUSED_COLOR}[
                (module in first, module in second)]
            assert _face(cells, layer, module) == to_rgba(want)


def test_pathways_needs_a_fitted_model():
    with pytest.raises(NotFittedError):
        plot_pathways(PathNetClassifier(**FAST))
