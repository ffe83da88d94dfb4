"""PathNetClassifier: paper settings, evolution, clips, transfer and freezing."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut, cross_validate

from conftest import PATHNET_FAST as FAST
from conftest import blobs, clips_of
from skpathnet import PathNetClassifier
from skpathnet.engine import (
    Inputs, LinearModules, PathNetwork, Pathways, TaskHead, TrainSettings, autograd_sgd_step,
    linear_sgd_step, mutate, random_genotype, train_pathways,
)


def test_defaults_are_the_papers():
    params = PathNetClassifier().get_params()
    assert params["n_layers"] == 3
    assert params["n_modules"] == 20
    assert params["n_active"] == 4
    assert params["n_units"] == 20
    assert params["population_size"] == 20
    assert params["n_generations"] == 200
    assert params["learning_rate"] == 0.02
    assert params["batch_size"] == 64
    assert params["n_steps"] is None
    assert params["mutation_rate"] is None
    assert params["mutation_shift"] == 2
    assert params["weight_decay"] == 0.0
    assert params["momentum"] == 0.0
    assert params["augmentation"] is None
    assert params["fitness"] == "train"
    assert params["final_steps"] == 0
    assert params["tie_break"] == "first"
    assert params["frozen_weight"] == 1.0  # the plain average (Sec. 3.3)
    assert params["frozen_learning_rate"] == 0.0  # frozen modules never updated (Sec. 3.3)


def test_init_is_keyword_only():
    with pytest.raises(TypeError):
        PathNetClassifier(3)


def test_n_steps_is_samples_over_batch_size():
    X, y = blobs(n=200)
    clf = PathNetClassifier(**{**FAST, "n_generations": 1, "n_steps": None}).fit(X, y)
    assert clf.n_steps_ == 200 // 64


def test_mutation_keeps_genotypes_valid_and_wraps():
    rng = np.random.RandomState(0)
    g = random_genotype(3, 4, 20, rng)
    assert g.shape == (3, 4) and g.dtype == np.int64
    changed = 0
    for _ in range(2000):
        m = mutate(g, 20, rng)
        assert m.shape == (3, 4)
        assert m.min() >= 0 and m.max() <= 19
        diff = (m - g) % 20
        assert set(np.unique(diff)) <= {0, 1, 2, 18, 19}
        changed += np.count_nonzero(m != g)
    # each gene mutates with p = 1/(L*N) = 1/12; a shift of 0 leaves it as is (p 1/5)
    rate = changed / (2000 * 12)
    assert abs(rate - (1 / 12) * (4 / 5)) < 0.01
    # wrap-around at the edges
    edge = np.array([[0, 19]])
    rng2 = np.random.RandomState(1)
    seen = set()
    for _ in range(500):
        seen |= set(mutate(edge, 20, rng2, rate=1.0).ravel().tolist())
    assert seen == {18, 19, 0, 1, 2, 17}


def test_fit_learns_and_is_reproducible():
    X, y = blobs()
    a = PathNetClassifier(**FAST).fit(X, y)
    b = PathNetClassifier(**FAST).fit(X, y)
    assert a.score(X, y) > 0.8
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    np.testing.assert_array_equal(a.best_path_, b.best_path_)
    assert a.best_path_.shape == (FAST["n_layers"] if "n_layers" in FAST else 3, 2)
    assert len(a.history_) == FAST["n_generations"]
    rec = a.history_[0]
    assert set(rec) >= {"task", "generation", "genotypes", "indices", "fitness", "winner"}
    assert rec["fitness"][rec["winner"]] == max(rec["fitness"])
    assert 0 <= a.best_fitness_ <= 1


def test_clips_train_on_segments_and_average_per_clip():
    X, y = blobs()
    clips = clips_of(X)
    clf = PathNetClassifier(**FAST).fit(clips, y)
    counts = [len(c) for c in clips]
    proba = clf.predict_proba(clips)
    seg = clf.predict_proba_segments(clips)
    assert proba.shape == (len(clips), 3)
    assert seg.shape == (sum(counts), 3)
    starts = np.cumsum([0] + counts)
    for i in (0, 5, len(clips) - 1):
        np.testing.assert_allclose(proba[i], seg[starts[i]:starts[i + 1]].mean(0), rtol=1e-5)
    assert clf.predict_segments(clips).shape == (sum(counts),)
    # T counts segments, not clips
    t = PathNetClassifier(**{**FAST, "n_generations": 1, "n_steps": None}).fit(clips, y)
    assert t.n_steps_ == max(1, sum(counts) // 64) and sum(counts) // 64 > len(clips) // 64
    assert clf.score(clips, y) > 0.8


def test_clips_and_labels_must_align():
    X, y = blobs()
    clips = clips_of(X)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        PathNetClassifier(**FAST).fit(clips, y[:-1])


def test_validation_scores_are_recorded():
    X, y = blobs()
    clf = PathNetClassifier(**FAST).fit(X[:80], y[:80], X_val=X[80:], y_val=y[80:])
    scores = [r["val_score"] for r in clf.history_]
    assert len(scores) == FAST["n_generations"] and all(0 <= s <= 1 for s in scores)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_frozen_modules_never_change_in_the_engine(momentum):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    net = PathNetwork(LinearModules(12, 8), 3, 6, device=torch.device("cpu"), generator=gen)
    frozen = [np.array([1, 4]), np.array([0]), np.array([2, 3])]
    net.load_frozen(frozen, net.module_state(frozen))
    before = [p.weight.clone() for p in net.layers] + [p.bias.clone() for p in net.layers]
    head = TaskHead(8, 3, device=torch.device("cpu"), generator=gen)
    X = torch.randn(256, 12)
    y = torch.randint(0, 3, (256,))
    genotype = np.array([[1, 2], [0, 5], [3, 4]])  # overlaps the frozen modules
    train_pathways(net, [genotype], head, net.bind(X), y,
                   TrainSettings(n_steps=20, batch_size=64, learning_rate=0.5,
                                 momentum=momentum), gen)
    after = [p.weight for p in net.layers] + [p.bias for p in net.layers]
    for layer in range(3):
        for m in range(6):
            same = torch.equal(before[layer][m], after[layer][m])
            same_b = torch.equal(before[3 + layer][m], after[3 + layer][m])
            active = m in set(genotype[layer]) | set(frozen[layer])
            if m in frozen[layer] or not active:
                assert same and same_b, (layer, m)
            else:
                assert not same, (layer, m)


def test_frozen_cache_matches_direct_forward():
    gen = torch.Generator().manual_seed(0)
    net = PathNetwork(LinearModules(12, 8), 3, 6, device=torch.device("cpu"), generator=gen)
    frozen = [np.array([1, 4]), np.array([0]), np.array([2])]
    net.load_frozen(frozen, net.module_state(frozen))
    head = TaskHead(8, 3, device=torch.device("cpu"), generator=gen)
    X = torch.randn(50, 12)
    pathway = Pathways.gather(net, [np.array([[1, 2], [0, 5], [3, 4]])])
    direct = pathway.logits(Inputs(X), head)
    cached = pathway.logits(Inputs(X, None, net.frozen_first_layer_sum(X)), head)
    torch.testing.assert_close(direct, cached)


@pytest.fixture(scope="module")
def transferred():
    Xs, ys = blobs(n=150, seed=1)
    return PathNetClassifier(**FAST).fit_transfer(Xs, ys), (Xs, ys)


def _source_arrays(clf):
    layers, modules = clf._source_state.frozen
    return [a.copy() for w_b in modules for a in w_b]


def test_fit_transfer_freezes_the_best_source_path(transferred):
    clf, (Xs, ys) = transferred
    assert len(clf.source_paths_) == 1
    for layer, frozen in enumerate(clf.frozen_modules_):
        np.testing.assert_array_equal(frozen, np.unique(clf.source_paths_[0][layer]))
    assert not hasattr(clf, "classes_")
    assert clf.predict_source(Xs).shape == (len(Xs),)
    assert np.mean(clf.predict_source(Xs) == ys) > 0.8


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_target_fit_reuses_and_never_changes_frozen_weights(transferred, momentum):
    src, (Xs, ys) = transferred
    clf = clone(src).set_params(momentum=momentum)
    before_state = _source_arrays(clf)
    before_source_pred = clf.predict_proba_source(Xs)
    Xt, yt = blobs(n=120, n_classes=4, seed=2)
    clf.fit(Xt, yt)
    # frozen parameters are bit-identical after target training
    for a, b in zip(before_state, _source_arrays(clf)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(before_source_pred, clf.predict_proba_source(Xs))
    # the target pathway really contains the frozen modules, with the frozen weights
    layers, modules = clf._source_state.frozen
    for layer, (w, b, k) in enumerate(clf._target_state.pathway):
        active = np.union1d(np.unique(clf.best_path_[layer]), layers[layer])
        assert k == len(active)
        frozen_w = modules[layer][0]  # (k_frozen, D, H)
        for fw in frozen_w:
            # each frozen module's (D, H) block appears among the pathway's columns
            blocks = w.reshape(w.shape[0], k, -1).transpose(1, 0, 2)
            assert any(np.array_equal(fw, blk) for blk in blocks)
    assert len(clf.classes_) == 4
    # the target model differs from one trained from scratch
    scratch = PathNetClassifier(**FAST, momentum=momentum).fit(Xt, yt)
    assert not np.array_equal(scratch.predict_proba(Xt), clf.predict_proba(Xt))


def test_transfer_survives_clone_and_cross_validate(transferred):
    src, (Xs, ys) = transferred
    Xt, yt = blobs(n=90, n_classes=3, seed=3)
    groups = np.repeat(np.arange(3), 30)
    cv = cross_validate(src, Xt, yt, groups=groups, cv=LeaveOneGroupOut(), return_estimator=True)
    assert len(cv["estimator"]) == 3
    for est in cv["estimator"]:
        assert est.frozen_modules_ is src.frozen_modules_
        for layer, frozen in enumerate(src.frozen_modules_):
            assert np.isin(frozen, np.arange(FAST["n_modules"])).all()
            assert est._target_state.pathway[layer][2] >= len(frozen)
    fresh = clone(PathNetClassifier(**FAST))
    assert not hasattr(fresh, "frozen_modules_")


def test_grid_search_with_two_workers(transferred):
    src, _ = transferred
    Xt, yt = blobs(n=90, seed=3)
    search = GridSearchCV(
        clone(src).set_params(n_threads=1),
        {"learning_rate": [0.1, 0.2]},
        cv=2,
        n_jobs=2,
    ).fit(Xt, yt)
    assert hasattr(search.best_estimator_, "frozen_modules_")


def test_several_sources_with_different_label_sets():
    X1, y1 = blobs(n=100, n_classes=3, seed=4)
    X2, y2 = blobs(n=100, n_classes=2, seed=5)
    y2 = np.where(y2 == 0, "calm", "boredom")
    clf = PathNetClassifier(**FAST).fit_transfer([X1, X2], [y1, y2])
    assert len(clf.source_paths_) == 2
    assert list(clf.source_classes_[1]) == ["boredom", "calm"]
    for layer in range(3):
        expected = np.union1d(np.unique(clf.source_paths_[0][layer]),
                              np.unique(clf.source_paths_[1][layer]))
        np.testing.assert_array_equal(clf.frozen_modules_[layer], expected)
    assert set(clf.predict_source(X2, source=1)) <= {"calm", "boredom"}
    assert clf.source_history_[1][0]["task"] == 1
    Xt, yt = blobs(n=80, seed=6)
    clf.fit(Xt, yt)
    assert clf.history_[0]["task"] == 2


def test_target_must_match_source_features(transferred):
    src, _ = transferred
    X, y = blobs(n_features=8)
    with pytest.raises(ValueError, match="features per segment"):
        clone(src).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_layers": 0}, "n_layers"),
        ({"population_size": 1}, "population_size"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"mutation_rate": 2.0}, "mutation_rate"),
        ({"n_steps": 0}, "n_steps"),
        ({"weight_decay": -0.1}, "weight_decay"),
        ({"weight_decay": float("nan")}, "weight_decay"),
        ({"weight_decay": 5.0}, "weight_decay \\* learning_rate"),
        ({"fitness": "test"}, "fitness"),
        ({"final_steps": -1}, "final_steps"),
        ({"tie_break": "random"}, "tie_break"),
        ({"final_steps": 2.5}, "final_steps"),
        ({"validation_fraction": 0.0}, "validation_fraction"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
    ],
)
def test_bad_params_raise(params, match):
    X, y = blobs()
    with pytest.raises(ValueError, match=match):
        PathNetClassifier(**{**FAST, **params}).fit(X, y)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("tournament", ["serial", "parallel"])
def test_cuda_path_runs(tournament):
    X, y = blobs()
    clf = PathNetClassifier(**{**FAST, "device": "cuda", "tournament": tournament}).fit(X, y)
    assert clf.score(X, y) > 0.8


@pytest.mark.parametrize("with_frozen", [False, True])
def test_hand_written_backward_matches_autograd(with_frozen):
    gen = torch.Generator().manual_seed(0)
    nets, heads = [], []
    for _ in range(2):
        g = torch.Generator().manual_seed(0)
        net = PathNetwork(LinearModules(12, 8), 3, 6, device=torch.device("cpu"), generator=g)
        if with_frozen:
            frozen = [np.array([1, 4]), np.array([0]), np.array([2, 3])]
            net.load_frozen(frozen, net.module_state(frozen))
        nets.append(net)
        heads.append(TaskHead(8, 3, device=torch.device("cpu"), generator=g))
    genotype = np.array([[1, 2], [0, 5], [3, 4]])
    ours, ref = Pathways.gather(nets[0], [genotype]), Pathways.gather(nets[1], [genotype])
    X = torch.randn(64 * 5, 12, generator=gen)
    y = torch.randint(0, 3, (64 * 5,), generator=gen)
    inputs = nets[0].bind(X)
    for step in range(5):
        idx = torch.arange(64 * step, 64 * (step + 1))
        with torch.no_grad():
            n_ours = linear_sgd_step(ours, heads[0], inputs.rows(idx), y[idx], idx, 0.3)
            n_ref = autograd_sgd_step(ref, heads[1], inputs.rows(idx), y[idx], idx, 0.3)
        assert int(n_ours) == int(n_ref)
    for a_layer, b_layer in zip(ours.layers, ref.layers):
        for a, b in zip(a_layer.trainable, b_layer.trainable):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
        if a_layer.fixed is not None:
            for a, b in zip(a_layer.fixed, b_layer.fixed):
                assert torch.equal(a, b)
    torch.testing.assert_close(heads[0].weight, heads[1].weight, rtol=1e-5, atol=1e-6)


def test_engine_matches_the_autograd_reference_in_accuracy(monkeypatch):
    """The hand-written backward changes floating-point order, not results.

    A fit with the autograd step and a fit with the hand-written one give the
    same best pathway, accuracy within 2 points and probabilities within 1e-3
    for the same random_state.
    """
    import skpathnet.engine._sgd as sgd

    X, y = blobs(n=200, seed=7)
    ours = PathNetClassifier(**FAST).fit(X, y)
    monkeypatch.setattr(sgd, "linear_sgd_step", autograd_sgd_step)
    ref = PathNetClassifier(**FAST).fit(X, y)
    np.testing.assert_array_equal(ours.best_path_, ref.best_path_)
    assert abs(ours.score(X, y) - ref.score(X, y)) <= 0.02
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-3)


# -- training levers beyond the paper (issue 12) ----------------------------------
def test_lever_defaults_reproduce_the_papers_training_exactly():
    """weight_decay=0, momentum=0, fitness="train"... given explicitly: bit-identical to not."""
    X, y = blobs()
    a = PathNetClassifier(**FAST).fit(X, y)
    b = PathNetClassifier(**FAST, weight_decay=0.0, momentum=0.0, fitness="train", final_steps=0,
                          tie_break="first",
                          validation_fraction=0.5).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert [r["fitness"] for r in a.history_] == [r["fitness"] for r in b.history_]


def test_weight_decay_shrinks_weights_and_still_learns():
    X, y = blobs()
    plain = PathNetClassifier(**FAST).fit(X, y)
    decayed = PathNetClassifier(**FAST, weight_decay=0.01).fit(X, y)
    def norm(clf):
        return sum(float(np.square(w).sum()) for w, _, _ in clf._target_state.pathway)

    assert norm(decayed) < norm(plain)
    assert np.linalg.norm(decayed._target_state.head[0]) < np.linalg.norm(
        plain._target_state.head[0])
    assert decayed.score(X, y) > 0.8


def test_weight_decay_step_is_sgd_on_the_l2_penalised_loss():
    """Hand-written and autograd steps with weight decay equal autograd on CE + wd/2 ||W||^2."""
    torch.manual_seed(0)
    lr, wd = 0.3, 0.2
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(64, 12, generator=gen)
    y = torch.randint(0, 3, (64,), generator=gen)
    genotype = np.array([[1, 2], [0, 5], [3, 4]])
    frozen = [np.array([1, 4]), np.array([0]), np.array([2, 3])]

    def make():
        g = torch.Generator().manual_seed(0)
        net = PathNetwork(LinearModules(12, 8), 3, 6, device=torch.device("cpu"), generator=g)
        net.load_frozen(frozen, net.module_state(frozen))
        return net, TaskHead(8, 3, device=torch.device("cpu"), generator=g)

    idx = torch.arange(64)
    out = []
    for step in (linear_sgd_step, autograd_sgd_step, None):
        net, head = make()
        pw = Pathways.gather(net, [genotype])
        inputs = net.bind(X)
        params = [t for layer in pw.layers if layer.trainable is not None
                  for t in layer.trainable] + [head.weight, head.bias]
        if step is None:  # reference: autograd on the penalised loss, weights only
            from skpathnet.engine import forward
            for p in params:
                p.requires_grad_(True)
            loss = torch.nn.functional.cross_entropy(forward(pw, head, inputs), y)
            loss = loss + wd / 2 * sum((p ** 2).sum() for p in params[::2])
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for p, g in zip(params, grads):
                    p.sub_(g, alpha=lr)
        else:
            with torch.no_grad():
                step(pw, head, inputs.rows(idx), y, idx, lr, weight_decay=wd)
        out.append([p.detach().clone() for p in params])
        frozen_after = [pw.layers[k].fixed for k in range(3)]
        fresh, _ = make()
        for k, idx_f in enumerate(frozen):
            assert torch.equal(net.layers[k].weight[idx_f], fresh.layers[k].weight[idx_f])
        del frozen_after
    for ours, ref in ((out[0], out[2]), (out[1], out[2])):
        for a, b in zip(ours, ref):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    _, plain_head = make()
    assert not torch.allclose(out[0][-2], plain_head.weight)


def test_holdout_rows_are_stratified_and_keep_clips_together():
    from skpathnet._classifier import _holdout_rows

    clip_index = np.repeat(np.arange(20), 3)  # 20 clips of 3 segments
    clip_y = np.array([0] * 10 + [1] * 5 + [2] * 4 + [3])
    y_seg = clip_y[clip_index]
    train, held = _holdout_rows(y_seg, clip_index, 0.2, np.random.RandomState(0))
    assert len(np.intersect1d(train, held)) == 0
    assert len(train) + len(held) == len(y_seg)
    held_clips = np.unique(clip_index[held])
    assert not np.isin(held_clips, clip_index[train]).any()  # a clip's segments stay together
    # per class: round(0.2 k), at least 1, at most k - 1; the single-clip class stays in training
    assert [int(np.sum(clip_y[held_clips] == c)) for c in range(4)] == [2, 1, 1, 0]
    with pytest.raises(ValueError, match="two or more"):
        _holdout_rows(np.array([0, 1]), np.array([0, 1]), 0.2, np.random.RandomState(0))


def test_validation_fitness_scores_held_out_rows_only(monkeypatch):
    """Tournaments train on the training part only and score the held-out part only;
    final_steps then train on every row."""
    import skpathnet._classifier as classifier_module
    import skpathnet.engine._sgd as sgd

    X, y = blobs(n=100)
    batches, seen_heldout = [], []
    real_step, real_heldout = sgd.linear_sgd_step, sgd.heldout_accuracy

    def step(pathways, head, inputs, target, index, learning_rate, **kw):
        batches.append(index.clone())
        return real_step(pathways, head, inputs, target, index, learning_rate, **kw)

    def heldout_accuracy(network, genotypes, head, inputs, y_t, groups=None):
        seen_heldout.append((inputs.x.clone(), y_t.clone()))
        return real_heldout(network, genotypes, head, inputs, y_t, groups)

    monkeypatch.setattr(sgd, "linear_sgd_step", step)
    monkeypatch.setattr(sgd, "heldout_accuracy", heldout_accuracy)
    clf = PathNetClassifier(**FAST, fitness="validation", validation_fraction=0.25,
                            standardize=False, final_steps=30).fit(X, y)
    train_rows, held_rows = classifier_module._holdout_rows(
        y, np.arange(len(y)), 0.25,
        np.random.RandomState(np.random.RandomState(0).randint(np.iinfo(np.int32).max)))
    n_held = len(held_rows)
    assert 20 <= n_held <= 30  # about a quarter, rounded per class
    n_tournament = 2 * FAST["n_generations"] * FAST["n_steps"]
    assert len(batches) == n_tournament + 30
    tournament_rows = torch.cat(batches[:n_tournament]).numpy()
    assert np.isin(tournament_rows, train_rows).all()
    assert np.isin(torch.cat(batches[n_tournament:]).numpy(), held_rows).any()  # final steps
    assert len(seen_heldout) == 2 * FAST["n_generations"]
    for x, y_t in seen_heldout:
        np.testing.assert_array_equal(x.numpy(), X[held_rows])
        np.testing.assert_array_equal(y_t.numpy(), y[held_rows])
    # every recorded fitness is an accuracy on the held-out clips
    for rec in clf.history_:
        for f in rec["fitness"]:
            assert abs(f * n_held - round(f * n_held)) < 1e-4
    assert 0 <= clf.best_fitness_ <= 1 and clf.score(X, y) > 0.8
    # T counts the rows trained on in the tournaments
    X2, y2 = blobs(n=400)
    t = PathNetClassifier(**{**FAST, "n_steps": None}, fitness="validation",
                          validation_fraction=0.5).fit(X2, y2)
    assert t.n_steps_ == 200 // 64 != 400 // 64


def test_validation_fitness_in_row_space_equals_training_on_the_rest():
    """Held-out rows' row-space coefficients stay 0: the same as binding the rest only."""
    from skpathnet.engine import heldout_trainer

    gen = torch.Generator().manual_seed(1)
    X = torch.randn(40, 100, generator=gen)
    y = torch.randint(0, 3, (40,), generator=gen)
    train_rows, held_rows = torch.arange(0, 30), torch.arange(30, 40)
    settings = TrainSettings(n_steps=6, batch_size=8, learning_rate=0.1)
    genotype = [np.array([[1, 2], [0, 5], [3, 4]])]
    out = []
    for mode in ("all", "rest"):
        net = PathNetwork(LinearModules(100, 8), 3, 6, device=torch.device("cpu"),
                          generator=torch.Generator().manual_seed(0))
        head = TaskHead(8, 3, device=torch.device("cpu"),
                        generator=torch.Generator().manual_seed(1))
        if mode == "all":
            inputs = net.bind(X, first_layer="row_space")
            fit = heldout_trainer(train_rows, held_rows)(
                net, genotype, head, inputs, y, settings, torch.Generator().manual_seed(2))
            assert float(net.coef[:, 30:].abs().max()) == 0.0
        else:
            inputs = net.bind(X[:30], first_layer="row_space")
            train_pathways(net, genotype, head, inputs, y[:30], settings,
                           torch.Generator().manual_seed(2))
            logits = Pathways.gather(net, genotype).logits(net.encode(X[30:]), head)
            fit = [float((logits.argmax(1) == y[30:]).float().mean())]
        net.materialize()
        out.append((fit, Pathways.gather(net, genotype).logits(X, head)))
    assert out[0][0] == out[1][0]
    torch.testing.assert_close(out[0][1], out[1][1], rtol=1e-4, atol=1e-4)


def test_heldout_accuracy_is_clip_level():
    """Rows of a clip average their posteriors; each clip counts once."""
    from skpathnet.engine import heldout_accuracy

    net = PathNetwork(LinearModules(12, 8), 3, 6, device=torch.device("cpu"),
                      generator=torch.Generator().manual_seed(0))
    head = TaskHead(8, 3, device=torch.device("cpu"), generator=torch.Generator().manual_seed(1))
    genotype = np.array([[1, 2], [0, 5], [3, 4]])
    X = torch.randn(30, 12, generator=torch.Generator().manual_seed(2))
    groups = torch.arange(30) // 3
    proba = torch.softmax(Pathways.gather(net, [genotype]).logits(X, head), 1)
    pred = proba.view(10, 3, 3).mean(1).argmax(1)
    y_clip = pred.clone()
    y_clip[:4] = (y_clip[:4] + 1) % 3  # 4 of 10 clips wrong
    acc = heldout_accuracy(net, [genotype, genotype], head, Inputs(X), y_clip[groups], groups)
    assert acc == pytest.approx([0.6, 0.6])
    row_acc = heldout_accuracy(net, [genotype], head, Inputs(X), y_clip[groups])
    row_pred = proba.argmax(1)
    assert row_acc[0] == pytest.approx(float((row_pred == y_clip[groups]).float().mean()))


def test_validation_fitness_with_clips_transfer_and_row_space():
    X, y = blobs()
    clips = clips_of(X)
    clf = PathNetClassifier(**{**FAST, "n_generations": 20}, fitness="validation",
                            weight_decay=0.01).fit(clips, y)
    assert clf.score(clips, y) > 0.8
    Xw, yw = blobs(n=40, n_features=100)
    Xs, ys = blobs(n=40, n_features=100, seed=3)
    t = PathNetClassifier(**FAST, fitness="validation", weight_decay=0.01).fit_transfer(Xs, ys)
    t.fit(Xw, yw)
    assert t.first_layer_ == "row_space"
    assert t.predict(Xw).shape == (40,)
    a = PathNetClassifier(**FAST, fitness="validation").fit(X, y)
    b = PathNetClassifier(**FAST, fitness="validation").fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_final_steps_train_only_the_best_pathway_after_the_tournaments():
    """Same tournaments and best pathway; afterwards only its modules and the head change."""
    from skpathnet.engine import EvolutionSettings, evolve

    X, y = blobs()
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    frozen = [np.array([0]), np.array([1]), np.array([2])]
    runs = []
    for final_steps in (0, 10):
        net = PathNetwork(LinearModules(12, 8), 3, 6, device=torch.device("cpu"),
                          generator=torch.Generator().manual_seed(0))
        net.load_frozen(frozen, net.module_state(frozen))
        head = TaskHead(8, 3, device=torch.device("cpu"),
                        generator=torch.Generator().manual_seed(1))
        settings = EvolutionSettings(train=TrainSettings(n_steps=8, learning_rate=0.2),
                                     n_active=2, population_size=4, n_generations=6,
                                     final_steps=final_steps)
        best, fitness, history = evolve(net, head, net.bind(X_t), y_t, settings,
                                        rng=np.random.RandomState(0),
                                        generator=torch.Generator().manual_seed(2))
        runs.append((net, head, best, fitness, history))
    (n0, h0, b0, f0, hist0), (n1, h1, b1, f1, hist1) = runs
    np.testing.assert_array_equal(b0, b1)
    assert f0 == f1
    assert [r["fitness"] for r in hist0] == [r["fitness"] for r in hist1]
    assert not torch.equal(h0.weight, h1.weight)
    for layer in range(3):
        trained = np.setdiff1d(np.unique(b0[layer]), frozen[layer])
        for m in range(6):
            same = torch.equal(n0.layers[layer].weight[m], n1.layers[layer].weight[m])
            assert same == (m not in trained), (layer, m)


def test_final_steps_fit_in_row_space_and_with_validation_fitness():
    Xw, yw = blobs(n=40, n_features=100)
    for extra in ({}, {"fitness": "validation"}):
        a = PathNetClassifier(**FAST, **extra).fit(Xw, yw)
        b = PathNetClassifier(**FAST, **extra, final_steps=20).fit(Xw, yw)
        assert b.first_layer_ == "row_space"
        np.testing.assert_array_equal(a.best_path_, b.best_path_)
        assert not np.allclose(a.predict_proba(Xw), b.predict_proba(Xw))
        assert b.score(Xw, yw) >= 0.8


def test_tie_break_loss_decides_ties_only_by_the_lower_training_loss():
    X, y = blobs()
    params = {**FAST, "n_generations": 20, "learning_rate": 0.5}
    first = PathNetClassifier(**params).fit(X, y)
    loss = PathNetClassifier(**params, tie_break="loss").fit(X, y)
    ties = [r for r in loss.history_ if r["fitness"][0] == r["fitness"][1]]
    assert ties, "the test needs ties"
    for r in loss.history_:
        if r["fitness"][0] == r["fitness"][1]:
            a, b = r["tie_break"]
            assert r["winner"] == (0 if a <= b else 1)
        else:
            assert "tie_break" not in r
            assert r["fitness"][r["winner"]] > r["fitness"][1 - r["winner"]]
    assert all("tie_break" not in r for r in first.history_)
    # until the first tie whose lower loss is the second pathway's, the runs are identical
    for r_first, r_loss in zip(first.history_, loss.history_):
        assert r_first["fitness"] == r_loss["fitness"]
        if r_first["winner"] != r_loss["winner"]:
            break


# -- momentum ---------------------------------------------------------------------
def test_momentum_fit_learns_is_reproducible_and_differs_from_plain_sgd():
    X, y = blobs()
    params = {**FAST, "learning_rate": 0.05, "momentum": 0.9, "final_steps": 4}
    a = PathNetClassifier(**params).fit(X, y)
    b = PathNetClassifier(**params).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.score(X, y) > 0.8
    plain = PathNetClassifier(**{**params, "momentum": 0.0}).fit(X, y)
    assert not np.allclose(plain.predict_proba(X), a.predict_proba(X), atol=1e-3)


@pytest.mark.parametrize("momentum", [-0.1, 1.0, "a", float("nan"), True])
def test_bad_momentum_raises_and_leaves_the_estimator_as_it_was(momentum):
    import re

    from conftest import fitted_state

    X, y = blobs()
    clf = PathNetClassifier(**FAST).fit(X, y).set_params(momentum=momentum)
    before = fitted_state(clf)
    with pytest.raises(ValueError, match=r"momentum must be a float in \[0, 1\).*got "
                       + re.escape(repr(momentum))):
        clf.fit(X, y)
    assert fitted_state(clf) == before

