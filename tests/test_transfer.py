"""TransferMixin: what both transfer estimators share (prediction, source checks)."""

import numpy as np
import pytest
from sklearn.base import clone

from conftest import PATHNET_WIDE, blobs_with
from skpathnet import PathNetClassifier
from skpathnet.baselines import FineTuneClassifier


blobs = blobs_with(n=60, seed=1)


TINY = {
    "finetune": lambda: FineTuneClassifier(max_epochs=1, hidden_units=(8,), n_threads=1,
                                           random_state=0),
    "pathnet": lambda: PathNetClassifier(n_generations=1, population_size=2, n_threads=1,
                                         random_state=0),
}


@pytest.mark.parametrize("source", [-1, 1, 0.0, "0"])
@pytest.mark.parametrize("make", sorted(TINY))
def test_predict_source_rejects_a_bad_source_index(make, source):
    Xs, ys = blobs()
    clf = TINY[make]().fit_transfer(Xs, ys)
    with pytest.raises(ValueError, match=r"source must be an integer in \[0, 1\)"):
        clf.predict_proba_source(Xs, source=source)
    with pytest.raises(ValueError, match="source must be"):
        clf.predict_source(Xs, source=source)


@pytest.mark.parametrize("make", sorted(TINY))
def test_image_batches_are_flattened(make):
    X, y = blobs()
    clf = TINY[make]().fit(X.reshape(-1, 3, 2, 2), y)
    assert clf.n_features_in_ == 12 and clf.input_shape_ == (3, 2, 2)
    np.testing.assert_array_equal(clf.predict_proba(X.reshape(-1, 3, 2, 2)),
                                  clf.predict_proba(X))


@pytest.mark.parametrize("make", sorted(TINY))
def test_clip_posteriors_are_segment_means(make):
    from skpathnet.utils import make_clips
    X, y = blobs()
    clf = TINY[make]().fit(X, y)
    clips = make_clips([X[i : i + 3].reshape(3, 3, 2, 2) for i in range(0, 30, 3)])
    seg = clf.predict_proba_segments(clips)
    assert seg.shape == (30, len(clf.classes_))
    np.testing.assert_allclose(clf.predict_proba(clips), seg.reshape(10, 3, -1).mean(1),
                               rtol=1e-6)
    np.testing.assert_array_equal(clf.predict(clips), clf.classes_[clf.predict_proba(clips).argmax(1)])
    np.testing.assert_array_equal(clf.predict_segments(clips), clf.classes_[seg.argmax(1)])


# -- frozen="always" | "genes" ------------------------------------------------------
# 40 rows of 100 features: first_layer="auto" trains in the row space.
TRANSFER = PATHNET_WIDE


def _sources():
    (X1, y1), (X2, y2) = blobs(n=40, n_features=100, seed=1), blobs(n=40, n_features=100, seed=3)
    return [X1, X2], [y1, y2]


@pytest.mark.parametrize("first_layer", ["direct", "auto"])
@pytest.mark.parametrize("tournament", ["serial", "parallel"])
def test_frozen_always_is_the_default_and_genes_changes_nothing_without_transfer(
        tournament, first_layer):
    from conftest import fitted_state

    params = {**TRANSFER, "tournament": tournament, "first_layer": first_layer}
    assert PathNetClassifier().get_params()["frozen"] == "always"
    Xs, ys = _sources()
    Xt, yt = blobs(n=40, n_features=100, n_classes=4, seed=2)
    default, always = (PathNetClassifier(**params, **extra).fit_transfer(Xs, ys)
                       .fit(Xt, yt, X_val=Xt[:10], y_val=yt[:10])
                       for extra in ({}, {"frozen": "always"}))
    assert fitted_state(default) == fitted_state(always)  # history_, predictions, state
    np.testing.assert_array_equal(default.predict_proba(Xt), always.predict_proba(Xt))
    # without fit_transfer there is nothing frozen: "genes" is the same fit
    scratch, genes = (PathNetClassifier(**params, frozen=f).fit(Xt, yt)
                      for f in ("always", "genes"))
    assert fitted_state(genes) == {**fitted_state(scratch), "frozen": fitted_state(genes)["frozen"]}


@pytest.mark.parametrize("tournament", ["serial", "parallel"])
def test_frozen_genes_transfer_keeps_frozen_modules_and_source_predictions(tournament):
    """Bit-identical frozen modules and source answers; row space equals direct training."""
    from sklearn.base import clone

    from skpathnet.plotting import plot_pathways

    Xs, ys = _sources()
    Xt, yt = blobs(n=40, n_features=100, n_classes=4, seed=2)
    fits = {}
    for first_layer in ("direct", "row_space"):
        src = PathNetClassifier(**TRANSFER, tournament=tournament, first_layer=first_layer,
                                frozen="genes").fit_transfer(Xs, ys)
        before = [src.predict_proba_source(X, source=k) for k, X in enumerate(Xs)]
        layers, modules = src._source_state.frozen
        frozen = [(w.copy(), b.copy()) for w, b in modules]
        clf = clone(src).fit(Xt, yt, X_val=Xt[:10], y_val=yt[:10])
        assert clf.get_params()["frozen"] == "genes" and clf.first_layer_ == first_layer
        assert clf.frozen_modules_ is src.frozen_modules_
        for (w, b), (w1, b1) in zip(frozen, clf._source_state.frozen[1]):
            np.testing.assert_array_equal(w, w1)
            np.testing.assert_array_equal(b, b1)
        for k, X in enumerate(Xs):
            np.testing.assert_array_equal(before[k], clf.predict_proba_source(X, source=k))
        # the best pathway averages its distinct genes' modules; the frozen ones it
        # selects (last in its saved layers) are the frozen weights, bit for bit
        n_selected = 0
        for genes, idx, (w, b), state in zip(clf.best_path_, layers, frozen,
                                             clf._target_state.pathway):
            assert state.count == len(np.unique(genes))
            pos = np.flatnonzero(np.isin(idx, genes))
            n_selected += len(pos)
            if len(pos):
                H = TRANSFER["n_units"]
                np.testing.assert_array_equal(
                    state.weight[:, -len(pos) * H:],
                    w[pos].transpose(1, 0, 2).reshape(w.shape[1], -1))
                np.testing.assert_array_equal(state.bias[-len(pos) * H:], b[pos].reshape(-1))
        assert n_selected > 0  # the check above ran
        assert plot_pathways(clf) is not None
        fits[first_layer] = clf
    d, r = fits["direct"], fits["row_space"]
    np.testing.assert_array_equal(d.best_path_, r.best_path_)
    np.testing.assert_allclose(d.predict_proba(Xt), r.predict_proba(Xt), atol=1e-3)


@pytest.mark.parametrize("value", ["sometimes", "Genes", None, 1])
def test_bad_frozen_raises_and_leaves_the_estimator_unchanged(value):
    from conftest import fitted_state

    Xs, ys = blobs()
    clf = TINY["pathnet"]().fit_transfer(Xs, ys).fit(Xs, ys).set_params(frozen=value)
    before = fitted_state(clf)
    for fit in (clf.fit, clf.fit_transfer):
        with pytest.raises(ValueError, match=r'frozen must be "always" .* or "genes" .*; got'):
            fit(Xs, ys)
        assert fitted_state(clf) == before


def test_seed_pathway_puts_the_last_sources_best_pathway_in_the_first_slot():
    from conftest import blobs

    (Xs, ys), (X, y) = blobs(60, 6, 2, seed=1), blobs(60, 6, 3, seed=2)
    params = dict(n_generations=3, population_size=2, n_modules=6, n_active=2, n_units=8,
                  random_state=0)
    seeded = PathNetClassifier(seed_pathway=True, **params).fit_transfer(Xs, ys).fit(X, y)
    source_path = seeded.source_paths_[-1]
    first = seeded.history_[0]
    slot = list(first["indices"]).index(0)  # both slots of a population of 2 are drawn
    np.testing.assert_array_equal(first["genotypes"][slot], source_path)
    # without it, the same random numbers: only slot 0 differs
    plain = PathNetClassifier(**params).fit_transfer(Xs, ys).fit(X, y)
    assert plain.history_[0]["indices"] == first["indices"]
    np.testing.assert_array_equal(plain.history_[0]["genotypes"][1 - slot],
                                  first["genotypes"][1 - slot])
    # from scratch it changes nothing
    scratch = [PathNetClassifier(seed_pathway=s, **params).fit(X, y).predict_proba(X)
               for s in (False, True)]
    np.testing.assert_array_equal(*scratch)
    with pytest.raises(ValueError, match="seed_pathway=True .* n_active=2 .* keep n_active=2"):
        clone(seeded).set_params(n_active=3).fit(X, y)


def test_pathway_per_class_freezes_one_one_vs_rest_pathway_per_source_class(tmp_path):
    """Nguyen et al. 2020, end of Sec. 4.1: one pathway per emotion, each frozen."""
    import skpathnet
    from conftest import blobs
    from skpathnet.plotting._pathways import pathway_masks

    (Xs, ys), (X, y) = blobs(90, 6, 3, seed=1), blobs(60, 6, 2, seed=2)
    labels = np.array(["anger", "joy", "sadness"])[ys]
    params = dict(n_generations=3, population_size=2, n_modules=12, n_active=2, n_units=8,
                  n_layers=2, n_steps=20, learning_rate=0.2, random_state=0, n_threads=1)
    clf = PathNetClassifier(pathway_per_class=True, **params).fit_transfer(Xs, labels)
    paths = clf.source_paths_[0]
    assert paths.shape == (3, 2, 2)
    assert clf.source_fitness_[0].shape == (3,)
    assert [r["task"] for r in clf.source_history_[0]] == [0] * 3 + [1] * 3 + [2] * 3
    for layer in range(2):  # every class's pathway is frozen
        np.testing.assert_array_equal(clf.frozen_modules_[layer], np.unique(paths[:, layer]))
    masks = pathway_masks(clf)
    np.testing.assert_array_equal(masks["sources"][0], masks["frozen"])
    # the source's classes are still answered, each class's pathway giving its probability
    proba = clf.predict_proba_source(Xs)
    assert proba.shape == (90, 3)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    assert set(clf.predict_source(Xs)) <= set(labels)
    assert np.mean(clf.predict_source(Xs) == labels) > 0.9
    # the target builds on them without changing them (no forgetting), and is saved safely
    clf.fit(X, y)
    np.testing.assert_array_equal(proba, clf.predict_proba_source(Xs))
    skpathnet.save(clf, tmp_path / "m.safetensors")
    loaded = skpathnet.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(loaded.predict_proba_source(Xs), proba)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    # a later source appended after it is one task more
    clf.fit_transfer(X, y, append=True)
    assert clf.source_history_[1][0]["task"] == 3
    # the default is one task per source, as before
    plain = PathNetClassifier(**params).fit_transfer(Xs, labels)
    assert plain.source_paths_[0].shape == (2, 2)


def test_pathway_per_class_is_refused_by_the_multitask_estimator():
    from conftest import blobs
    from skpathnet import MultiTaskPathNetClassifier

    X, y = blobs(30, 6, 2, seed=1)
    with pytest.raises(ValueError, match="pathway_per_class=True learns each source class"):
        MultiTaskPathNetClassifier(pathway_per_class=True, n_generations=1,
                                   population_size=2).fit_transfer(X, y)


# -- issue 31's transfer levers: frozen_weight, frozen_learning_rate ----------------
LEVERS = {"frozen_weight": 0.5, "frozen_learning_rate": 0.05}


def _frozen_columns(clf, layer, genes, state):
    """Positions in the layer's frozen set, and the saved pathway's columns of them."""
    idx = clf._source_state.frozen[0][layer]
    pos = np.arange(len(idx)) if clf.frozen == "always" else np.flatnonzero(np.isin(idx, genes))
    H = clf.n_units
    n_f = len(pos)
    return pos, state.weight[:, state.weight.shape[1] - n_f * H:], \
        state.bias[len(state.bias) - n_f * H:]


def _proba_by_hand(clf, X):
    """predict_proba of a linear fit from its saved target pathway, module by module.

    The trainable modules are the saved pathway's first columns; the frozen ones are
    the sources' saved (unscaled) values, each weighted by ``frozen_weight`` in its
    layer's average (:func:`conftest.pathway_by_hand`).
    """
    from conftest import pathway_by_hand

    mean, scale = clf._target_state.scaler
    h = (X.astype(np.float64) - mean) / scale
    layers, modules = clf._source_state.frozen
    H = clf.n_units
    stacked = []  # per layer, every module used: index -> (W, b)
    for layer, (genes, state) in enumerate(zip(clf.best_path_, clf._target_state.pathway)):
        trainable = np.setdiff1d(np.unique(genes), layers[layer])
        w = {m: state.weight[:, k * H:(k + 1) * H] for k, m in enumerate(trainable)}
        b = {m: state.bias[k * H:(k + 1) * H] for k, m in enumerate(trainable)}
        for m, fw, fb in zip(layers[layer], *modules[layer]):
            w[m], b[m] = fw, fb
        stacked.append((w, b))
    h = pathway_by_hand(h, stacked, clf.best_path_, layers, mode=clf.frozen,
                        frozen_weight=clf.frozen_weight)
    head_w, head_b = clf._target_state.head
    logits = h @ head_w + head_b
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.mark.parametrize("first_layer", ["direct", "row_space"])
@pytest.mark.parametrize("frozen", ["always", "genes"])
def test_frozen_weight_predictions_are_the_weighted_average(frozen, first_layer):
    """predict_proba equals a forward by hand with the frozen modules weighted by 0.5."""
    Xs, ys = _sources()
    Xt, yt = blobs(n=40, n_features=100, n_classes=4, seed=2)
    clf = PathNetClassifier(**TRANSFER, frozen=frozen, first_layer=first_layer,
                            frozen_weight=0.5, tournament="parallel").fit_transfer(Xs, ys)
    before = [clf.predict_proba_source(X, source=k) for k, X in enumerate(Xs)]
    clf.fit(Xt, yt)
    np.testing.assert_allclose(clf.predict_proba(Xt), _proba_by_hand(clf, Xt), atol=1e-5)
    n_selected = 0
    for layer, (genes, state) in enumerate(zip(clf.best_path_, clf._target_state.pathway)):
        pos, w, b = _frozen_columns(clf, layer, genes, state)
        n_selected += len(pos)
        n_t = len(np.setdiff1d(np.unique(genes), clf.frozen_modules_[layer]))
        assert state.count == n_t + 0.5 * len(pos)
        fw, fb = clf._source_state.frozen[1][layer]
        # the saved pathway holds the frozen modules scaled by 0.5 (exact in float32)
        np.testing.assert_array_equal(w, 0.5 * fw[pos].transpose(1, 0, 2).reshape(len(fw[0]), -1))
        np.testing.assert_array_equal(b, 0.5 * fb[pos].reshape(-1))
    assert n_selected > 0
    for k, X in enumerate(Xs):  # the sources' own pathways: unchanged, unweighted
        np.testing.assert_array_equal(before[k], clf.predict_proba_source(X, source=k))
    default = clone(clf).set_params(frozen_weight=1.0).fit(Xt, yt)
    assert not np.allclose(default.predict_proba(Xt), clf.predict_proba(Xt))


@pytest.mark.parametrize("first_layer", ["direct", "auto"])
@pytest.mark.parametrize("tournament", ["serial", "parallel"])
def test_transfer_lever_defaults_are_todays_fit_and_nothing_without_transfer(tournament,
                                                                             first_layer):
    from conftest import fitted_state

    params = {**TRANSFER, "tournament": tournament, "first_layer": first_layer}
    defaults = PathNetClassifier().get_params()
    assert defaults["frozen_weight"] == 1.0 and defaults["frozen_learning_rate"] == 0.0
    Xs, ys = _sources()
    Xt, yt = blobs(n=40, n_features=100, n_classes=4, seed=2)
    default, explicit = (PathNetClassifier(**params, **extra).fit_transfer(Xs, ys).fit(Xt, yt)
                         for extra in ({}, {"frozen_weight": 1.0, "frozen_learning_rate": 0.0}))
    assert fitted_state(default) == fitted_state(explicit)
    # without fit_transfer nothing is frozen: the levers change nothing (row space kept)
    scratch, levers = (PathNetClassifier(**params, **extra).fit(Xt, yt)
                       for extra in ({}, LEVERS))
    assert levers.first_layer_ == ("direct" if first_layer == "direct" else "row_space")
    assert fitted_state(levers) == {**fitted_state(scratch),
                                    **{k: fitted_state(levers)[k] for k in LEVERS}}


@pytest.mark.parametrize("frozen", ["always", "genes"])
@pytest.mark.parametrize("tournament", ["serial", "parallel"])
def test_frozen_learning_rate_fine_tunes_the_targets_copy_only(tournament, frozen):
    """The network's frozen modules move; the sources' saved state and answers do not."""
    import pickle

    Xs, ys = _sources()
    Xt, yt = blobs(n=40, n_features=100, n_classes=4, seed=2)
    src = PathNetClassifier(**TRANSFER, tournament=tournament,
                            frozen=frozen).fit_transfer(Xs, ys)
    saved = pickle.dumps(src._source_state)
    before = [src.predict_proba_source(X, source=k) for k, X in enumerate(Xs)]
    clf = clone(src).set_params(frozen_learning_rate=0.05).fit(Xt, yt)
    assert clf.first_layer_ == "direct"  # "auto": frozen first-layer modules train on rows
    assert pickle.dumps(clf._source_state) == saved and clf.frozen_modules_ is src.frozen_modules_
    for k, X in enumerate(Xs):
        np.testing.assert_array_equal(before[k], clf.predict_proba_source(X, source=k))
    # the target pathway's frozen modules are the fine-tuned copies of the network
    n_selected, moved = 0, False
    for layer, (genes, state) in enumerate(zip(clf.best_path_, clf._target_state.pathway)):
        pos, w, b = _frozen_columns(clf, layer, genes, state)
        fw, fb = clf._source_state.frozen[1][layer]
        n_selected += len(pos)
        moved |= not np.array_equal(w, fw[pos].transpose(1, 0, 2).reshape(len(fw[0]), -1))
    assert moved or (frozen == "genes" and n_selected == 0)
    # every fit starts again from the sources' values: a clone's, and a refit
    again = clone(src).set_params(frozen_learning_rate=0.05).fit(Xt, yt)
    np.testing.assert_array_equal(again.predict_proba(Xt), clf.predict_proba(Xt))
    np.testing.assert_array_equal(clf.fit(Xt, yt).predict_proba(Xt), again.predict_proba(Xt))
    kept = clone(src).set_params(first_layer="direct").fit(Xt, yt)
    assert not np.array_equal(kept.predict_proba(Xt), clf.predict_proba(Xt))


def test_frozen_learning_rate_keeps_earlier_sources_frozen_values():
    """A second source fine-tunes its copy of the first's modules; the frozen set keeps theirs."""
    Xs, ys = _sources()
    one = PathNetClassifier(**TRANSFER, **LEVERS).fit_transfer(Xs[:1], ys[:1])
    two = PathNetClassifier(**TRANSFER, **LEVERS).fit_transfer(Xs, ys)
    np.testing.assert_array_equal(one.source_paths_[0], two.source_paths_[0])
    np.testing.assert_array_equal(one.predict_proba_source(Xs[0]),
                                  two.predict_proba_source(Xs[0], source=0))
    moved = False
    for layer, (idx1, idx2) in enumerate(zip(one.frozen_modules_, two.frozen_modules_)):
        (w1, b1), (w2, b2) = one._source_state.frozen[1][layer], two._source_state.frozen[1][layer]
        at = np.searchsorted(idx2, idx1)
        np.testing.assert_array_equal(w2[at], w1)
        np.testing.assert_array_equal(b2[at], b1)
        # the second source's pathway used its fine-tuned copies of the first's modules
        state = two._source_state.tasks[1].pathway[layer]
        H = TRANSFER["n_units"]
        cols = state.weight[:, state.weight.shape[1] - len(idx1) * H:]
        moved |= not np.allclose(cols, 0.5 * w1.transpose(1, 0, 2).reshape(len(w1[0]), -1))
    assert moved


def test_frozen_learning_rate_refuses_row_space_and_a_decay_at_or_above_one():
    from conftest import fitted_state

    Xs, ys = blobs()
    clf = TINY["pathnet"]().fit_transfer(Xs, ys)
    before = fitted_state(clf)
    bad = [({"first_layer": "row_space", "frozen_learning_rate": 0.1},
            r'first_layer="row_space" cannot fine-tune frozen modules '
            r"\(frozen_learning_rate=0.1 > 0\).*frozen_learning_rate=0.0"),
           ({"weight_decay": 2.0, "frozen_learning_rate": 0.5, "learning_rate": 0.1},
            r"weight_decay \* frozen_learning_rate must be below 1.*got 2.0 \* 0.5"),
           ({"frozen_weight": 0.0}, r"frozen_weight must be a float in \(0, 1\]; got 0.0"),
           ({"frozen_learning_rate": -1.0}, "frozen_learning_rate must be a non-negative")]
    for params, match in bad:
        clf.set_params(**params)
        with pytest.raises(ValueError, match=match):
            clf.fit(Xs, ys)
        clf.set_params(**{k: TINY["pathnet"]().get_params()[k] for k in params})
        assert fitted_state(clf) == before


def test_transfer_levers_with_conv_modules_train_through_autograd():
    from conftest import PATHNET_CONV, images

    (Xs, ys), (Xt, yt) = images(n=32, seed=1), images(n=32, seed=2)
    src = PathNetClassifier(**PATHNET_CONV).fit_transfer(Xs, ys)
    before = src.predict_proba_source(Xs)
    clf = clone(src).set_params(**LEVERS).fit(Xt, yt)
    np.testing.assert_array_equal(before, clf.predict_proba_source(Xs))
    again = clone(src).set_params(**LEVERS).fit(Xt, yt)
    np.testing.assert_array_equal(again.predict_proba(Xt), clf.predict_proba(Xt))
    plain = clone(src).fit(Xt, yt)
    assert not np.array_equal(plain.predict_proba(Xt), clf.predict_proba(Xt))
