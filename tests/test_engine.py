"""The engine: row-space training of linear modules, convolutional modules, the step probe."""

from contextlib import nullcontext

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.base import clone

from conftest import PATHNET_CONV as CONV
from conftest import PATHNET_WIDE as WIDE
from conftest import blobs, images, pathway_by_hand
from skpathnet import FaceAugment, PathNetClassifier, SpecAugment
from skpathnet.engine import (
    ConvModules, Inputs, LinearModules, Params, PathNetwork,
    Pathways, TaskHead, TrainSettings, forward, minibatches, run_steps,
    train_pathways,
)
from skpathnet.plotting import plot_pathways

CPU = torch.device("cpu")


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # engine calls bypass n_threads

FROZEN = [np.array([1, 4]), np.array([0]), np.array([2, 3])]
GENOTYPES = [np.array([[1, 2], [0, 5], [3, 4]]), np.array([[2, 3], [5, 1], [4, 4]])]
# n < d / 2, so first_layer="auto" trains in the row space


def _network(modules, with_frozen, seed=0, frozen_mode="always"):
    g = torch.Generator().manual_seed(seed)
    net = PathNetwork(modules, 3, 6, device=CPU, generator=g, frozen_mode=frozen_mode)
    if with_frozen:
        net.load_frozen(FROZEN, net.module_state(FROZEN))
    return net, TaskHead(net.n_outputs, 3, device=CPU, generator=g)


def _stacked(net):
    return [t.clone() for p in net.layers for t in p]


# -- row space ------------------------------------------------------------------
@pytest.mark.parametrize("levers", [{}, {"momentum": 0.9}, {"momentum": 0.9, "weight_decay": 0.5}],
                         ids=["plain", "momentum", "momentum+decay"])
@pytest.mark.parametrize("with_frozen", [False, True])
@pytest.mark.parametrize("genotypes", [GENOTYPES[:1], GENOTYPES], ids=["serial", "parallel"])
def test_row_space_training_equals_direct_training(with_frozen, genotypes, levers):
    """Exact in exact arithmetic: float32 weights within 1e-5, logits within 1e-4.

    With momentum too: the coefficients' dense velocity is a sum of
    gradients, which lie in the row space (with weight decay, ``s * W_0``
    decays and the velocity does not).
    """
    _check_row_space_equals_direct(genotypes, with_frozen, levers)


def _check_row_space_equals_direct(genotypes, with_frozen, levers, frozen_mode="always"):
    """Train the same pathways in both first-layer modes; weights, fitness and logits agree."""
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(40, 100, generator=gen)
    y = torch.randint(0, 3, (40,), generator=gen)
    settings = TrainSettings(n_steps=12, batch_size=16, learning_rate=0.1, **levers)
    results = {}
    for mode in ("direct", "row_space"):
        net, head = _network(LinearModules(100, 8), with_frozen, frozen_mode=frozen_mode)
        inputs = net.bind(X, first_layer=mode)
        fitness = []
        for g in range(3):
            fitness += train_pathways(net, genotypes, head, inputs, y, settings,
                                      torch.Generator().manual_seed(g))
        net.materialize()
        assert net.row_space is None and net.coef is None
        results[mode] = (net, fitness, Pathways.gather(net, genotypes).logits(X, head))
    (nd, fd, ld), (nr, fr, lr) = results["direct"], results["row_space"]
    assert fd == fr
    for a, b in zip(_stacked(nd), _stacked(nr)):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(ld, lr, rtol=1e-4, atol=1e-4)
    if with_frozen:
        fresh, _ = _network(LinearModules(100, 8), True)
        for net in (nd, nr):
            for layer, idx in enumerate(FROZEN):
                assert torch.equal(net.layers[layer].weight[idx], fresh.layers[layer].weight[idx])
                assert torch.equal(net.layers[layer].bias[idx], fresh.layers[layer].bias[idx])


def test_first_layer_auto_picks_row_space_for_wide_data_only():
    X, y = blobs(n=40, n_features=100)
    assert PathNetClassifier(**WIDE).fit(X, y).first_layer_ == "row_space"
    Xn, yn = blobs(n=120, n_features=12)
    assert PathNetClassifier(**WIDE).fit(Xn, yn).first_layer_ == "direct"


@pytest.mark.parametrize("tournament", ["serial", "parallel"])
def test_row_space_fit_matches_direct_fit(tournament):
    """Same seed: the same best pathway, accuracy within 0.02, probabilities within 1e-3."""
    X, y = blobs(n=40, n_features=100)
    Xv, yv = blobs(n=30, n_features=100, seed=5)
    fits = {
        mode: PathNetClassifier(**{**WIDE, "first_layer": mode, "tournament": tournament})
        .fit(X, y, X_val=Xv, y_val=yv)
        for mode in ("direct", "row_space")
    }
    d, r = fits["direct"], fits["row_space"]
    np.testing.assert_array_equal(d.best_path_, r.best_path_)
    assert abs(d.score(X, y) - r.score(X, y)) <= 0.02
    np.testing.assert_allclose(d.predict_proba(X), r.predict_proba(X), atol=1e-3)
    np.testing.assert_allclose([h["val_score"] for h in d.history_],
                               [h["val_score"] for h in r.history_], atol=0.04)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_row_space_transfer_never_changes_frozen_weights(momentum):
    Xs, ys = blobs(n=40, n_features=100, seed=1)
    src = PathNetClassifier(**WIDE).fit_transfer(Xs, ys)
    before = src.predict_proba_source(Xs)
    frozen = [a.copy() for w_b in src._source_state.frozen[1] for a in w_b]
    Xt, yt = blobs(n=40, n_features=100, n_classes=4, seed=2)
    clf = clone(src).set_params(momentum=momentum).fit(Xt, yt)
    assert clf.first_layer_ == "row_space"
    for a, b in zip(frozen, [a for w_b in clf._source_state.frozen[1] for a in w_b]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(before, clf.predict_proba_source(Xs))


def test_row_space_fit_trains_when_every_first_layer_module_is_frozen():
    """A source whose best pathway uses every module (pathway_per_class can freeze them
    all): the target trains the other layers and its head, row space as direct."""
    Xs, ys = blobs(n=40, n_features=100, seed=1)
    params = {**WIDE, "n_modules": 2, "n_active": 2}
    src = PathNetClassifier(**params).fit_transfer(Xs, ys)
    assert len(src.frozen_modules_[0]) == 2  # every first-layer module
    Xt, yt = blobs(n=40, n_features=100, n_classes=4, seed=2)
    fits = [clone(src).set_params(first_layer=mode).fit(Xt, yt)
            for mode in ("direct", "row_space")]
    np.testing.assert_allclose(fits[0].predict_proba(Xt), fits[1].predict_proba(Xt),
                               atol=1e-5)


# -- convolutional modules ---------------------------------------------------------
@pytest.mark.parametrize("global_pooling", [False, True])
def test_conv_layer_is_one_batched_conv_equal_to_a_loop_over_modules(global_pooling):
    modules = ConvModules((3, 16, 16), 4, 3, global_pooling)
    net, head = _network(modules, with_frozen=True)
    assert head.weight.shape[0] == (4 if global_pooling else 4 * 2 * 2)
    x = torch.randn(5, 3 * 16 * 16, generator=torch.Generator().manual_seed(0))
    genotype = GENOTYPES[0]
    got = Pathways.gather(net, [genotype]).logits(x, head)
    h = x.view(5, 3, 16, 16)
    for layer, genes in enumerate(genotype):
        w, b = net.layers[layer]
        active = np.union1d(np.unique(genes), FROZEN[layer])
        outs = [torch.relu(F.avg_pool2d(F.conv2d(h, w[m], b[m], padding=1), 2)) for m in active]
        h = torch.stack(outs).mean(0)
    features = h.mean((2, 3)) if global_pooling else h.flatten(1)
    expected = features @ head.weight + head.bias
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kernel_size", [3, 5])
@pytest.mark.parametrize("shape", [(3, 4, 8, 8), (2, 3, 4, 6), (2, 3, 5, 7), (1, 2, 1, 4)])
def test_conv_module_is_conv_then_avg_pool2d_with_its_gradients(shape, kernel_size):
    """One stride-2 convolution on pooled_kernel(K) = conv2d(K) then avg_pool2d, gradients too."""
    modules = ConvModules((shape[1], 8, 8), 4, kernel_size)
    g = torch.Generator().manual_seed(0)
    h, w, b = (torch.randn(*s, dtype=torch.float64, generator=g, requires_grad=True)
               for s in (shape, (6, shape[1], kernel_size, kernel_size), (6,)))

    def textbook(h, w, b):
        z = F.conv2d(h, w, b, padding=kernel_size // 2)
        return z if min(shape[2:]) < 2 else F.avg_pool2d(z, 2)

    torch.testing.assert_close(modules.apply(h, Params(w, b)), textbook(h, w, b))
    assert modules.apply(h, Params(w, b)).shape[2:] == tuple(
        s if min(shape[2:]) < 2 else s // 2 for s in shape[2:])
    torch.autograd.gradcheck(lambda *a: modules.apply(a[0], Params(*a[1:])), (h, w, b))


@pytest.mark.parametrize("with_frozen", [False, True])
@pytest.mark.parametrize("genotypes", [GENOTYPES[:1], GENOTYPES], ids=["serial", "parallel"])
def test_conv_layers_in_chunks_of_rows_equal_the_whole_batch(monkeypatch, with_frozen, genotypes):
    """Chunked evaluation (to keep pre-activations small) changes no logit or gradient."""
    modules = ConvModules((3, 8, 8), 4, 3)
    x = torch.randn(7, 3 * 8 * 8, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0]).repeat(len(genotypes))
    results = []
    # the whole batch; 1 row a chunk; 3 rows of 4 modules (4 x 4 pooled maps) a chunk in layer 1
    for chunk_bytes in (10**12, 1, 3 * 4 * 4 * 4 * 4 * 4):
        monkeypatch.setattr(ConvModules, "chunk_bytes", chunk_bytes)
        net, head = _network(modules, with_frozen)
        pathways = Pathways.gather(net, genotypes)
        leaves = [t for layer in pathways.layers if layer.trainable is not None
                  for t in layer.trainable] + [head.weight, head.bias]
        with torch.enable_grad():
            for t in leaves:
                t.requires_grad_(True)
            logits = forward(pathways, head, Inputs(x))
            grads = torch.autograd.grad(F.cross_entropy(logits, y), leaves)
        results.append((logits.detach(), grads))
    for logits, grads in results[1:]:
        torch.testing.assert_close(logits, results[0][0], rtol=1e-5, atol=1e-6)
        for g, g0 in zip(grads, results[0][1]):
            torch.testing.assert_close(g, g0, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("tournament", ["serial", "parallel"])
def test_conv_fit_learns_and_is_reproducible(tournament):
    X, y = images()
    a = PathNetClassifier(**{**CONV, "tournament": tournament}).fit(X, y)
    b = PathNetClassifier(**{**CONV, "tournament": tournament}).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.first_layer_ == "direct" and a.input_shape_ == (3, 8, 8)
    assert len(a.history_) == CONV["n_generations"]
    assert a.score(X, y) > 0.6  # 3 classes: chance is 1/3


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("augmentation", [None, FaceAugment(max_shift=1), SpecAugment(
    time_mask=3, freq_mask=2, max_shift=2)], ids=["none", "face", "spec"])
def test_conv_transfer_keeps_frozen_modules_bit_identical(augmentation, momentum):
    Xs, ys = images(seed=1)
    src = PathNetClassifier(**CONV, augmentation=augmentation).fit_transfer(Xs, ys)
    before = src.predict_proba_source(Xs)
    frozen = [a.copy() for w_b in src._source_state.frozen[1] for a in w_b]
    Xt, yt = images(seed=2)
    clf = clone(src).set_params(momentum=momentum).fit(Xt, yt, X_val=Xt[:10], y_val=yt[:10])
    assert clf.frozen_modules_ is src.frozen_modules_
    for a, b in zip(frozen, [a for w_b in clf._source_state.frozen[1] for a in w_b]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(before, clf.predict_proba_source(Xs))
    assert clf.predict_source(Xs).shape == (len(Xs),)
    assert all(0 <= r["val_score"] <= 1 for r in clf.history_)
    assert plot_pathways(clf) is not None


def test_conv_needs_images():
    X, y = blobs()
    with pytest.raises(ValueError, match='module="conv" needs images'):
        PathNetClassifier(**CONV).fit(X, y)
    Xi, yi = images()
    clf = PathNetClassifier(**CONV).fit(Xi, yi)
    with pytest.raises(ValueError, match="segments of shape"):
        clf.predict(Xi.reshape(len(Xi), 3, 4, 16))
    with pytest.raises(ValueError, match="row_space"):
        PathNetClassifier(**CONV, first_layer="row_space").fit(Xi, yi)


@pytest.mark.parametrize("params, match", [({"kernel_size": 2}, "odd"),
                                           ({"n_channels": 0}, "n_channels"),
                                           ({"module": "lstm"}, "module"),
                                           ({"global_pooling": "yes"}, "global_pooling"),
                                           ({"first_layer": "svd"}, "first_layer")])
def test_bad_module_params_raise(params, match):
    X, y = images()
    with pytest.raises(ValueError, match=match):
        PathNetClassifier(**{**CONV, **params}).fit(X, y)


def test_conv_clips_average_segments():
    from skpathnet.utils import make_clips

    X, y = images(n=30)
    clips = make_clips([X[i : i + 2] for i in range(0, 30, 2)])
    clf = PathNetClassifier(**CONV).fit(clips, y[::2])
    seg = clf.predict_proba_segments(clips)
    np.testing.assert_allclose(clf.predict_proba(clips), seg.reshape(15, 2, -1).mean(1),
                               rtol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("params", [CONV, {**WIDE, "first_layer": "row_space"}],
                         ids=["conv", "row_space"])
def test_cuda_engine_modes_run(params):
    X, y = images() if params.get("module") == "conv" else blobs(n=40, n_features=100)
    clf = PathNetClassifier(**{**params, "device": "cuda"}).fit(X, y)
    assert clf.score(X, y) > 0.5


# -- weight decay -----------------------------------------------------------------
@pytest.mark.parametrize("with_frozen", [False, True])
@pytest.mark.parametrize("genotypes", [GENOTYPES[:1], GENOTYPES], ids=["serial", "parallel"])
def test_weight_decay_is_exact_in_row_space(with_frozen, genotypes):
    """W = s * W_0 + X.T @ C: row-space weight decay equals direct weight decay."""
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(40, 100, generator=gen)
    y = torch.randint(0, 3, (40,), generator=gen)
    settings = TrainSettings(n_steps=12, batch_size=16, learning_rate=0.1, weight_decay=0.5)
    plain = TrainSettings(n_steps=12, batch_size=16, learning_rate=0.1)
    results = {}
    for mode, s in (("direct", settings), ("row_space", settings), ("plain", plain)):
        net, head = _network(LinearModules(100, 8), with_frozen)
        inputs = net.bind(X, first_layer="direct" if mode == "direct" else "row_space")
        fitness = []
        for g in range(3):
            fitness += train_pathways(net, genotypes, head, inputs, y, s,
                                      torch.Generator().manual_seed(g))
        if mode == "row_space":
            assert net.w0_scale is not None and float(net.w0_scale.min()) < 1.0
            # the logits during training (kernel rows, scaled offsets) are those after
            # materialising (direct rows)
            before = Pathways.gather(net, genotypes[:1]).logits(inputs, head)
        net.materialize()
        assert net.w0_scale is None
        logits = Pathways.gather(net, genotypes[:1]).logits(X, head)
        if mode == "row_space":
            torch.testing.assert_close(before, logits, rtol=1e-4, atol=1e-4)
        results[mode] = (net, head, fitness, logits)
    (nd, hd, fd, ld), (nr, hr, fr, lr) = results["direct"], results["row_space"]
    assert fd == fr
    for a, b in zip(_stacked(nd), _stacked(nr)):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(hd.weight, hr.weight, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(ld, lr, rtol=1e-4, atol=1e-4)
    # and it does something: the trained weights are smaller than without decay
    hp = results["plain"][1]
    assert float(hd.weight.norm()) < float(hp.weight.norm())
    if with_frozen:
        fresh, _ = _network(LinearModules(100, 8), True)
        for layer, idx in enumerate(FROZEN):
            assert torch.equal(nr.layers[layer].weight[idx], fresh.layers[layer].weight[idx])
            assert torch.equal(nd.layers[layer].weight[idx], fresh.layers[layer].weight[idx])


def test_weight_decay_fit_in_row_space_matches_direct():
    X, y = blobs(n=40, n_features=100)
    params = {**WIDE, "weight_decay": 0.5}
    rs = PathNetClassifier(**params, first_layer="row_space").fit(X, y)
    di = PathNetClassifier(**params, first_layer="direct").fit(X, y)
    np.testing.assert_array_equal(rs.best_path_, di.best_path_)
    np.testing.assert_allclose(rs.predict_proba(X), di.predict_proba(X), atol=1e-3)
    plain = PathNetClassifier(**WIDE, first_layer="row_space").fit(X, y)
    assert not np.allclose(plain.predict_proba(X), rs.predict_proba(X), atol=1e-3)


def test_row_space_weight_decay_needs_the_w0_scale():
    from skpathnet.engine import linear_sgd_step

    net, head = _network(LinearModules(100, 8), False)
    X = torch.randn(20, 100)
    inputs = net.bind(X, first_layer="row_space")
    pw = Pathways.gather(net, GENOTYPES[:1])
    idx = torch.arange(8)
    with pytest.raises(ValueError, match="enable_w0_scale"):
        linear_sgd_step(pw, head, inputs.rows(idx), torch.zeros(8, dtype=torch.long), idx, 0.1,
                        weight_decay=0.1)


# -- momentum ---------------------------------------------------------------------
def _leaves(pathways, head):
    return [t for layer in pathways.layers if layer.trainable is not None
            for t in layer.trainable] + [head.weight, head.bias]


@pytest.mark.parametrize("genotypes", [GENOTYPES[:1], GENOTYPES], ids=["serial", "parallel"])
@pytest.mark.parametrize("kind", ["linear", "conv"])
def test_momentum_steps_equal_torch_sgd_with_momentum(kind, genotypes):
    """run_steps with momentum is torch.optim.SGD(momentum=mu) on the same pathways and batches.

    The hand-written step (linear) and the autograd step (conv), frozen
    modules loaded; two calls of run_steps, each starting from zero velocity
    (a fresh optimizer per call in the reference).
    """
    mu, lr = 0.9, 0.1
    gen = torch.Generator().manual_seed(3)
    if kind == "linear":
        modules = LinearModules(12, 8)
        X = torch.randn(40, 12, generator=gen)
        y = torch.randint(0, 3, (40,), generator=gen)
    else:
        modules = ConvModules((3, 8, 8), 4, 3)
        X, y = (torch.from_numpy(a) for a in images(n=40, seed=3))
        X = X.reshape(40, -1)
    settings = TrainSettings(n_steps=4, batch_size=16, learning_rate=lr, momentum=mu)
    (ours_net, ours_head), (ref_net, ref_head), (plain_net, plain_head) = (
        _network(modules, with_frozen=True) for _ in range(3))
    ours, ref = Pathways.gather(ours_net, genotypes), Pathways.gather(ref_net, genotypes)
    plain = Pathways.gather(plain_net, genotypes)
    inputs, plain_inputs = ours_net.bind(X), plain_net.bind(X)
    params = _leaves(ref, ref_head)
    for call in range(2):
        run_steps(ours, ours_head, inputs, y, settings, torch.Generator().manual_seed(call))
        run_steps(plain, plain_head, plain_inputs, y, TrainSettings(n_steps=4, batch_size=16,
                  learning_rate=lr), torch.Generator().manual_seed(call))
        optimizer = torch.optim.SGD(params, lr=lr, momentum=mu)
        for idx in minibatches(len(X), settings.n_steps, settings.batch_size,
                               torch.Generator().manual_seed(call), CPU):
            optimizer.zero_grad()
            with torch.enable_grad():
                for p in params:
                    p.requires_grad_(True)
                logits = forward(ref, ref_head, Inputs(X[idx]))
                target = y[idx].repeat(len(genotypes))  # sum over pathways of mean losses
                loss = F.cross_entropy(logits, target, reduction="sum")
                (loss / len(idx)).backward()
            optimizer.step()
            for p in params:
                p.requires_grad_(False)
    for a, b, c in zip(_leaves(ours, ours_head), params, _leaves(plain, plain_head)):
        torch.testing.assert_close(a, b.detach(), rtol=1e-4, atol=1e-5)
        assert not torch.allclose(a, c, rtol=1e-3, atol=1e-4)  # momentum does something
    for a_layer, b_layer in zip(ours.layers, ref.layers):
        if a_layer.fixed is not None:
            for a, b in zip(a_layer.fixed, b_layer.fixed):
                assert torch.equal(a, b)
    ours.scatter()
    fresh, _ = _network(modules, with_frozen=True)
    for layer, idx in enumerate(FROZEN):
        assert torch.equal(ours_net.layers[layer].weight[idx], fresh.layers[layer].weight[idx])
        assert torch.equal(ours_net.layers[layer].bias[idx], fresh.layers[layer].bias[idx])


# -- frozen modules available to genes (frozen_mode="genes") ----------------------
# Against FROZEN = [[1, 4], [0], [2, 3]]: no frozen gene; frozen 1, 0 alone, 3 (with 4);
# frozen modules only.
AVOIDING = np.array([[0, 2], [1, 5], [0, 5]])
SELECTING = np.array([[1, 2], [0, 0], [3, 4]])
ONLY_FROZEN = np.array([[4, 1], [0, 0], [2, 2]])


def _trainables(net):
    """Every trainable tensor of a network: stacked modules and row-space coefficients."""
    return _stacked(net) + ([net.coef.clone()] if net.coef is not None else [])


@pytest.mark.parametrize("first_layer", ["direct", "row_space"])
def test_frozen_genes_pathway_without_frozen_genes_is_the_pathway_without_frozen_modules(
        first_layer):
    """Bit-identical logits, before and after training, to a network with nothing frozen."""
    X = torch.randn(30, 100, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 3, (30,), generator=torch.Generator().manual_seed(1))
    settings = TrainSettings(n_steps=6, batch_size=8, learning_rate=0.1)
    logits, weights = [], []
    for with_frozen in (True, False):
        net, head = _network(LinearModules(100, 8), with_frozen, frozen_mode="genes")
        inputs = net.bind(X, first_layer=first_layer)
        pathways = Pathways.gather(net, [AVOIDING])
        assert all(layer.fixed is None for layer in pathways.layers)
        logits.append(pathways.logits(inputs, head))
        train_pathways(net, [AVOIDING], head, inputs, y, settings,
                       torch.Generator().manual_seed(2))
        logits.append(Pathways.gather(net, [AVOIDING]).logits(inputs, head))
        weights.append(_trainables(net) + [head.weight, head.bias])
    assert torch.equal(logits[0], logits[2]) and torch.equal(logits[1], logits[3])
    assert all(torch.equal(a, b) for a, b in zip(*weights))
    always, head = _network(LinearModules(100, 8), True)
    assert not torch.allclose(Pathways.gather(always, [AVOIDING]).logits(X, head), logits[2])


@pytest.mark.parametrize("first_layer", ["direct", "row_space"])
def test_frozen_genes_pathway_averages_the_modules_its_genes_select(first_layer):
    """Each layer: the mean ReLU output of the distinct modules of its genes, frozen or not."""
    net, head = _network(LinearModules(100, 8), True, frozen_mode="genes")
    X = torch.randn(30, 100, generator=torch.Generator().manual_seed(0))
    h = X
    for layer, genes in enumerate(SELECTING):
        w, b = net.layers[layer]
        h = torch.stack([torch.relu(h @ w[m] + b[m]) for m in np.unique(genes)]).mean(0)
    expected = h @ head.weight + head.bias
    inputs = net.bind(X, first_layer=first_layer)
    assert inputs.frozen_sum is None and inputs.frozen_outputs.shape == (30, 2, 8)
    pathways = Pathways.gather(net, [SELECTING])
    assert [layer.n_fixed for layer in pathways.layers] == [1, 1, 1]
    assert [layer.count for layer in pathways.layers] == [2, 1, 2]
    assert pathways.layers[1].trainable is None
    torch.testing.assert_close(pathways.logits(inputs, head), expected, rtol=1e-5, atol=1e-5)
    encoded = net.encode(X[:7])  # new rows, as for the validation set in row-space mode
    torch.testing.assert_close(pathways.logits(encoded, head), expected[:7], rtol=1e-5,
                               atol=1e-5)
    net.materialize()
    torch.testing.assert_close(Pathways.gather(net, [SELECTING]).logits(X, head), expected,
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("genotypes", [[SELECTING], [SELECTING, AVOIDING, ONLY_FROZEN]],
                         ids=["serial", "parallel"])
def test_frozen_genes_row_space_training_equals_direct_training(genotypes):
    """As test_row_space_training_equals_direct_training, with frozen_mode="genes"."""
    _check_row_space_equals_direct(genotypes, True, {}, frozen_mode="genes")


@pytest.mark.parametrize("first_layer", ["direct", "row_space"])
def test_frozen_genes_parallel_pathways_are_the_serial_ones_side_by_side(first_layer):
    """P = 3 gathered together: each one's own logits, and one SGD step is the sum of theirs.

    The parallel loss is the sum of the pathways' losses, so from the same
    parameters its update is the sum of each pathway's own (P = 1) update;
    in direct mode the hand-written backward also equals autograd's.
    """
    from skpathnet.engine import autograd_sgd_step, linear_sgd_step

    genotypes = [SELECTING, AVOIDING, ONLY_FROZEN]
    X = torch.randn(24, 100, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 3, (24,), generator=torch.Generator().manual_seed(1))
    idx = torch.arange(3, 19)

    def step(genotypes, step_fn=linear_sgd_step):
        net, head = _network(LinearModules(100, 8), True, frozen_mode="genes")
        inputs = net.bind(X, first_layer=first_layer)
        before = _trainables(net) + [head.weight.clone(), head.bias.clone()]
        pathways = Pathways.gather(net, genotypes)
        logits = pathways.logits(inputs, head)
        step_fn(pathways, head, inputs.rows(idx), y[idx].repeat(1), idx, 0.1)
        pathways.scatter()
        after = _trainables(net) + [head.weight, head.bias]
        return logits, [a - b for a, b in zip(after, before)]

    logits, delta = step(genotypes)
    alone = [step([g]) for g in genotypes]
    torch.testing.assert_close(logits, torch.cat([lg for lg, _ in alone]), rtol=1e-5, atol=1e-5)
    for k, d in enumerate(delta):
        torch.testing.assert_close(d, sum(a[k] for _, a in alone), rtol=1e-4, atol=1e-6)
    if first_layer == "direct":
        for d, a in zip(delta, step(genotypes, autograd_sgd_step)[1]):
            torch.testing.assert_close(d, a, rtol=1e-4, atol=1e-6)


# -- issue 31's transfer levers: frozen_weight, frozen_learning_rate -----------------
def _weighted_network(modules, mode, frozen_weight, seed=0):
    g = torch.Generator().manual_seed(seed)
    net = PathNetwork(modules, 3, 6, device=CPU, generator=g, frozen_mode=mode,
                      frozen_weight=frozen_weight)
    net.load_frozen(FROZEN, net.module_state(FROZEN))
    return net, TaskHead(net.n_outputs, 3, device=CPU, generator=g)


def _expected_logits(net, head, X, genotypes, frozen_weight, module=None, prepare=None,
                     readout=None):
    out = []
    for genotype in genotypes:
        h = pathway_by_hand(X if prepare is None else prepare(X), net.layers, genotype, FROZEN,
                            mode=net.frozen_mode, frozen_weight=frozen_weight, module=module)
        out.append((h if readout is None else readout(h)) @ head.weight + head.bias)
    return torch.cat(out)


@pytest.mark.parametrize("frozen_weight", [0.5, 0.3])
@pytest.mark.parametrize("first_layer", ["direct", "row_space"])
@pytest.mark.parametrize("mode", ["always", "genes"])
@pytest.mark.parametrize("genotypes", [[SELECTING], [SELECTING, AVOIDING]],
                         ids=["one", "parallel"])
def test_frozen_weight_layer_is_the_weighted_average(genotypes, mode, first_layer,
                                                     frozen_weight):
    """(sum trainable + w * sum frozen) / (n_t + w * n_f), every layer, every input mode.

    The one forward pass on the gathered pathways (bound rows, new rows encoded in
    row-space mode) and a pathway rebuilt from its saved state (prediction).
    """
    net, head = _weighted_network(LinearModules(100, 8), mode, frozen_weight)
    X = torch.randn(30, 100, generator=torch.Generator().manual_seed(0))
    expected = _expected_logits(net, head, X, genotypes, frozen_weight)
    inputs = net.bind(X, first_layer=first_layer)
    pathways = Pathways.gather(net, genotypes)
    # SELECTING, trainable + frozen: "always" 1 + 2, 0 + 1, 1 + 2; "genes" 1 + 1, 0 + 1, 1 + 1
    n_t, n_f = [1, 0, 1], ([2, 1, 2] if mode == "always" else [1, 1, 1])
    count0 = [layer.count if len(genotypes) == 1 else float(layer.count[0])
              for layer in pathways.layers]
    assert count0 == pytest.approx([t + frozen_weight * f for t, f in zip(n_t, n_f)])
    torch.testing.assert_close(pathways.logits(inputs, head), expected, rtol=1e-5, atol=1e-5)
    if first_layer == "row_space":
        torch.testing.assert_close(pathways.logits(net.encode(X[:7]), head),
                                   expected.view(len(genotypes), 30, -1)[:, :7].reshape(-1, 3),
                                   rtol=1e-5, atol=1e-5)
        net.materialize()
    if len(genotypes) == 1:
        state = Pathways.gather(net, genotypes).state()
        assert isinstance(state[0].count, float)
        saved = Pathways.from_state(net.modules, state, device=CPU)
        torch.testing.assert_close(saved.logits(X, head), expected, rtol=1e-5, atol=1e-5)


def test_frozen_weight_scales_gathered_copies_not_the_network():
    net, head = _weighted_network(LinearModules(100, 8), "always", 0.5)
    before = _stacked(net)
    pathways = Pathways.gather(net, [SELECTING])
    for index, (layer, idx) in enumerate(zip(pathways.layers, FROZEN)):
        plain = net.modules.gather(net.layers[index], torch.as_tensor(idx))
        assert torch.equal(layer.fixed.weight, 0.5 * plain.weight)  # 0.5: exact in float32
        assert torch.equal(layer.fixed.bias, 0.5 * plain.bias)
        layer.fixed.weight.add_(1.0)  # copies: the network is not touched
        layer.fixed.bias.add_(1.0)
    assert all(torch.equal(a, b) for a, b in zip(before, _stacked(net)))
    X = torch.randn(10, 100, generator=torch.Generator().manual_seed(0))
    cached = net.frozen_first_layer_sum(X)
    direct = sum(torch.relu(X @ net.layers[0].weight[m] + net.layers[0].bias[m])
                 for m in FROZEN[0])
    torch.testing.assert_close(cached, 0.5 * direct, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"frozen_weight must be in \(0, 1\]; got 0"):
        PathNetwork(LinearModules(4, 2), 1, 2, device=CPU, generator=torch.Generator(),
                    frozen_weight=0)


@pytest.mark.parametrize("global_pooling", [False, True])
def test_frozen_weight_conv_layer_is_the_weighted_average(global_pooling):
    modules = ConvModules((3, 16, 16), 4, 3, global_pooling)
    net, head = _weighted_network(modules, "always", 0.25)
    x = torch.randn(5, 3 * 16 * 16, generator=torch.Generator().manual_seed(0))
    expected = _expected_logits(
        net, head, x, GENOTYPES, 0.25,
        module=lambda h, w, b: F.avg_pool2d(F.conv2d(h, w, b, padding=1), 2),
        prepare=lambda x: x.view(5, 3, 16, 16),
        readout=lambda h: h.mean((2, 3)) if global_pooling else h.flatten(1))
    got = Pathways.gather(net, GENOTYPES).logits(x, head)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


STEP_CASES = {  # genotypes, frozen mode
    "only-frozen": ([ONLY_FROZEN], "always"),
    "genes": ([SELECTING], "genes"),
    "parallel-always": (GENOTYPES, "always"),
    "parallel-genes": ([SELECTING, ONLY_FROZEN, AVOIDING], "genes"),
}


@pytest.mark.parametrize("levers", [{}, {"weight_decay": 0.5}], ids=["plain", "decay"])
@pytest.mark.parametrize("frozen_weight", [1.0, 0.5, 0.3])
@pytest.mark.parametrize("case", sorted(STEP_CASES))
@pytest.mark.parametrize("step", ["linear", "autograd"])
def test_frozen_learning_rate_step_is_sgd_on_the_modules_own_weights(step, case,
                                                                     frozen_weight, levers):
    """One step: frozen modules at lr_f, the others at lr, gradients from autograd by hand.

    The reference differentiates the loss (the sum over pathways of the mean
    cross-entropy, each layer the weighted average of :func:`pathway_by_hand`)
    with respect to every module's own (unscaled) float64 weights; a module used
    by several pathways gets the sum of their gradients.
    """
    from skpathnet.engine import autograd_sgd_step, linear_sgd_step

    genotypes, mode = STEP_CASES[case]
    lr, lr_f, wd = 0.1, 0.03, levers.get("weight_decay", 0.0)
    net, head = _weighted_network(LinearModules(100, 8), mode, frozen_weight)
    X = torch.randn(24, 100, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 3, (24,), generator=torch.Generator().manual_seed(1))
    idx = torch.arange(3, 19)
    # the reference, on explicit float64 leaves
    leaves = [[t.detach().double().requires_grad_(True) for t in p] for p in net.layers]
    head_leaves = [t.detach().double().requires_grad_(True) for t in (head.weight, head.bias)]
    loss = 0
    for genotype in genotypes:
        h = pathway_by_hand(X[idx].double(), leaves, genotype, FROZEN, mode=mode,
                            frozen_weight=frozen_weight)
        loss = loss + F.cross_entropy(h @ head_leaves[0] + head_leaves[1], y[idx])
    flat = [t for p in leaves for t in p] + head_leaves
    grads = torch.autograd.grad(loss, flat)
    expected = []
    for layer, genotype_layers in enumerate(zip(*genotypes)):
        (w, b), (gw, gb) = leaves[layer], grads[2 * layer : 2 * layer + 2]
        w, b = w.detach().clone(), b.detach().clone()
        frozen = set(FROZEN[layer].tolist())
        active = set()
        for genes in genotype_layers:
            active |= set(np.unique(genes).tolist())
            if mode == "always":
                active |= frozen
        for m in active:
            rate = lr_f if m in frozen else lr
            w[m] = (1 - rate * wd) * w[m] - rate * gw[m]
            b[m] = b[m] - rate * gb[m]
        expected += [w, b]
    expected += [(1 - lr * wd) * head_leaves[0].detach() - lr * grads[-2],
                 head_leaves[1].detach() - lr * grads[-1]]
    # the engine: the hand-written step, or autograd on the gathered (scaled) copies
    step_fn = linear_sgd_step if step == "linear" else autograd_sgd_step
    inputs = net.bind(X, train_frozen=True)
    assert inputs.frozen_sum is None and inputs.frozen_outputs is None
    pathways = Pathways.gather(net, genotypes)
    with torch.no_grad():
        step_fn(pathways, head, inputs.rows(idx), y[idx], idx, lr, frozen_learning_rate=lr_f,
                **levers)
    pathways.scatter(frozen=True)
    got = [t for p in net.layers for t in p] + [head.weight, head.bias]
    for a, e in zip(got, expected):
        torch.testing.assert_close(a.double(), e, rtol=1e-5, atol=1e-6)


def test_frozen_learning_rate_changes_only_active_frozen_modules_and_zero_changes_none():
    X = torch.randn(40, 100, generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, 3, (40,), generator=torch.Generator().manual_seed(2))
    runs = {}
    for lr_f in (0.0, 0.05):
        net, head = _weighted_network(LinearModules(100, 8), "genes", 0.5)
        fresh = _stacked(net)
        settings = TrainSettings(n_steps=4, batch_size=16, learning_rate=0.1, momentum=0.5,
                                 frozen_learning_rate=lr_f)
        inputs = net.bind(X, train_frozen=lr_f > 0)
        train_pathways(net, [SELECTING], head, inputs, y, settings,
                       torch.Generator().manual_seed(3))
        runs[lr_f] = _stacked(net) + [head.weight, head.bias]
        for layer, idx in enumerate(FROZEN):
            for m in idx:  # SELECTING selects frozen 1, 0 and 3, not 4 and 2
                same = torch.equal(net.layers[layer].weight[m], fresh[2 * layer][m])
                assert same == (lr_f == 0 or m not in SELECTING[layer]), (layer, m)
    # the trainable modules differ only through the frozen ones' changes
    assert not torch.equal(runs[0.0][-2], runs[0.05][-2])


def test_frozen_learning_rate_refuses_precomputed_frozen_outputs_and_row_space():
    from skpathnet.engine import linear_sgd_step

    net, head = _weighted_network(LinearModules(100, 8), "always", 1.0)
    X = torch.randn(20, 100, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 3, (20,), generator=torch.Generator().manual_seed(1))
    cached = net.bind(X)
    settings = TrainSettings(n_steps=1, batch_size=8, frozen_learning_rate=0.1)
    with pytest.raises(ValueError, match=r"stale: bind the rows with .*train_frozen=True"):
        train_pathways(net, [SELECTING], head, cached, y, settings, torch.Generator())
    idx = torch.arange(8)
    with pytest.raises(ValueError, match="train_frozen=True"), torch.no_grad():
        linear_sgd_step(Pathways.gather(net, [SELECTING]), head, cached.rows(idx), y[idx], idx,
                        0.1, frozen_learning_rate=0.1)
    with pytest.raises(ValueError, match="row_space' cannot train frozen first-layer modules"):
        net.bind(X, first_layer="row_space", train_frozen=True)


# -- the step probe ---------------------------------------------------------------
LINEAR_STEP = ["batch", "layer1_forward", "forward", "backward", "layer1_update", "backward"]
AUTOGRAD_STEP = ["batch", "layer1_forward", "forward", "backward"]


@pytest.mark.parametrize("modules, first_layer, step", [
    (LinearModules(100, 8), "direct", LINEAR_STEP),
    (LinearModules(100, 8), "row_space", LINEAR_STEP),
    (ConvModules((4, 5, 5), 3, 3), "direct", AUTOGRAD_STEP),
], ids=["linear", "row-space", "conv"])
@pytest.mark.parametrize("genotypes", [GENOTYPES[:1], GENOTYPES], ids=["serial", "parallel"])
def test_step_probe_sees_every_phase_and_changes_nothing(modules, first_layer, step, genotypes):
    from skpathnet.engine import step_probe
    from skpathnet.engine._probe import PHASES

    X = torch.randn(40, 100, generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, 3, (40,), generator=torch.Generator().manual_seed(2))
    settings = TrainSettings(n_steps=3, batch_size=16, learning_rate=0.1, momentum=0.5)
    runs, phases = [], []
    for probe in (None, phases.append):
        net, head = _network(modules, with_frozen=True)
        inputs = net.bind(X, first_layer=first_layer)
        with nullcontext() if probe is None else step_probe(probe):
            fitness = train_pathways(net, genotypes, head, inputs, y, settings,
                                     torch.Generator().manual_seed(3))
        runs.append((fitness, _stacked(net) + [head.weight, head.bias]))
    (fitness_a, tensors_a), (fitness_b, tensors_b) = runs
    assert fitness_a == fitness_b
    assert all(torch.equal(a, b) for a, b in zip(tensors_a, tensors_b))  # bit for bit
    assert phases == ["gather", *step * 3, "scatter"] and set(phases) <= set(PHASES)


def test_step_probe_reaches_the_multitask_loop_and_is_gone_after_the_block():
    from skpathnet import MultiTaskPathNetClassifier
    from skpathnet.engine import step_probe

    X, y = blobs(n=60)
    aus = (X[:, :2] > 0).astype(np.int8)
    params = dict(n_generations=2, population_size=2, n_modules=4, n_active=2, n_units=4,
                  n_steps=2, n_threads=1, random_state=0)
    phases = []
    with step_probe(phases.append):
        probed = MultiTaskPathNetClassifier(**params).fit(X, y, aus=aus)
    plain = MultiTaskPathNetClassifier(**params).fit(X, y, aus=aus)
    np.testing.assert_array_equal(probed.predict_proba(X), plain.predict_proba(X))
    n_calls = phases.count("gather")
    assert n_calls > 0 and phases.count("scatter") == n_calls
    assert phases.count("batch") == phases.count("layer1_update") == 2 * n_calls
    seen = len(phases)
    plain.predict_proba(X)
    assert len(phases) == seen
