"""Parallel tournaments: both pathways trained side by side on shared modules."""

import numpy as np
import pytest
import torch
from sklearn.base import clone

from conftest import PATHNET_FAST as SERIAL_FAST
from conftest import blobs
from skpathnet import PathNetClassifier
from skpathnet.engine import (
    LinearModules, PathNetwork, Pathways, TaskHead, TrainSettings, linear_sgd_step,
    train_pathways,
)

CPU = torch.device("cpu")
FROZEN = [np.array([1, 4]), np.array([0]), np.array([2, 3])]
# Overlapping pathways: module 2 of layer 1, module 5 of layer 2 and module 4
# of layer 3 are shared; module 1 (layer 1) and 3 (layer 3) are frozen above.
GENOTYPES = [np.array([[1, 2], [0, 5], [3, 4]]), np.array([[2, 3], [5, 1], [4, 4]])]


def _network(with_frozen, seed=0):
    g = torch.Generator().manual_seed(seed)
    net = PathNetwork(LinearModules(12, 8), 3, 6, device=CPU, generator=g)
    if with_frozen:
        net.load_frozen(FROZEN, net.module_state(FROZEN))
    return net, TaskHead(8, 3, device=CPU, generator=g)


def _stacked(net):
    return [p.weight for p in net.layers] + [p.bias for p in net.layers]


def _reference_step(net, head, genotypes, x, target, lr):
    """Autograd on the stacked tensors: SGD on the sum of the pathways' losses."""
    params = _stacked(net) + [head.weight, head.bias]
    for p in params:
        p.requires_grad_(True)
    loss = 0.0
    correct = []
    for genotype in genotypes:
        h = x
        for layer, genes in enumerate(genotype):
            active = np.union1d(np.unique(genes), net.frozen[layer])
            w, b = net.layers[layer]
            outs = [torch.relu(h @ w[m] + b[m]) for m in active]
            h = torch.stack(outs).mean(0)
        logits = h @ head.weight + head.bias
        loss = loss + torch.nn.functional.cross_entropy(logits, target)
        correct.append(int((logits.argmax(1) == target).sum()))
    loss.backward()
    with torch.no_grad():
        for layer, frozen in enumerate(net.frozen):
            for p in net.layers[layer]:
                p.grad[frozen] = 0.0  # frozen modules are never updated
        for p in params:
            p.sub_(p.grad, alpha=lr)
            p.grad = None
            p.requires_grad_(False)
    return correct


@pytest.mark.parametrize("frozen", ["none", "cached", "direct"])
def test_group_step_is_sgd_on_the_summed_loss(frozen):
    with_frozen = frozen != "none"
    (net, head), (ref, ref_head) = _network(with_frozen), _network(with_frozen)
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(64 * 4, 12, generator=gen)
    y = torch.randint(0, 3, (64 * 4,), generator=gen)
    group = Pathways.gather(net, GENOTYPES)
    inputs = net.bind(X)
    if frozen != "cached":
        inputs = inputs._replace(frozen_sum=None)
    for step in range(4):
        idx = torch.arange(64 * step, 64 * (step + 1))
        with torch.no_grad():
            ours = linear_sgd_step(group, head, inputs.rows(idx), y[idx], idx, 0.3)
        expected = _reference_step(ref, ref_head, GENOTYPES, X[idx], y[idx], 0.3)
        assert ours.tolist() == expected
    group.scatter()
    for a, b in zip(_stacked(net), _stacked(ref)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(head.weight, ref_head.weight, rtol=1e-5, atol=1e-6)
    if with_frozen:
        fresh, _ = _network(True)
        for layer, idx in enumerate(FROZEN):
            assert torch.equal(net.layers[layer].weight[idx], fresh.layers[layer].weight[idx])
            assert torch.equal(net.layers[layer].bias[idx], fresh.layers[layer].bias[idx])


def test_a_group_of_twins_is_the_serial_step_at_twice_the_rate():
    (net, head), (ref, ref_head) = _network(True), _network(True)
    gen = torch.Generator().manual_seed(2)
    x, y = torch.randn(64, 12, generator=gen), torch.randint(0, 3, (64,), generator=gen)
    # a group of two identical pathways takes twice the serial step on each module
    group = Pathways.gather(net, [GENOTYPES[0], GENOTYPES[0]])
    pathway = Pathways.gather(ref, [GENOTYPES[0]])
    idx = torch.arange(64)
    with torch.no_grad():
        n_group = linear_sgd_step(group, head, net.bind(x).rows(idx), y, idx, 0.15)
        n_serial = linear_sgd_step(pathway, ref_head, ref.bind(x).rows(idx), y, idx, 0.3)
    assert n_group.tolist() == [int(n_serial)] * 2
    group.scatter()
    pathway.scatter()
    for a, b in zip(_stacked(net), _stacked(ref)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


def test_only_the_pathways_trainable_modules_change():
    net, head = _network(True)
    before = [t.clone() for t in _stacked(net)]
    gen = torch.Generator().manual_seed(3)
    X = torch.randn(256, 12, generator=gen)
    y = torch.randint(0, 3, (256,), generator=gen)
    fitness = train_pathways(
        net, GENOTYPES, head, net.bind(X), y,
        TrainSettings(n_steps=10, batch_size=64, learning_rate=0.5), gen,
    )
    assert len(fitness) == 2 and all(0.0 <= f <= 1.0 for f in fitness)
    n_layers = 3
    for layer in range(n_layers):
        used = set(GENOTYPES[0][layer]) | set(GENOTYPES[1][layer])
        for m in range(6):
            same = torch.equal(before[layer][m], net.layers[layer].weight[m])
            same_b = torch.equal(before[n_layers + layer][m], net.layers[layer].bias[m])
            if m in FROZEN[layer] or m not in used:
                assert same and same_b, (layer, m)
            else:
                assert not same, (layer, m)


FAST = {**SERIAL_FAST, "tournament": "parallel"}


def test_parallel_classifier_learns_is_reproducible_and_differs_from_serial():
    X, y = blobs()
    a = PathNetClassifier(**FAST).fit(X, y)
    b = PathNetClassifier(**FAST).fit(X, y)
    assert a.score(X, y) > 0.8
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert [r["fitness"] for r in a.history_] == [r["fitness"] for r in b.history_]
    serial = PathNetClassifier(**{**FAST, "tournament": "serial"}).fit(X, y)
    assert not np.array_equal(a.predict_proba(X), serial.predict_proba(X))


def test_parallel_transfer_never_changes_frozen_weights():
    Xs, ys = blobs(seed=1)
    src = PathNetClassifier(**FAST).fit_transfer(Xs, ys)
    before = src.predict_proba_source(Xs)
    Xt, yt = blobs(n=120, n_classes=4, seed=2)
    clf = clone(src).fit(Xt, yt)
    np.testing.assert_array_equal(before, clf.predict_proba_source(Xs))
    assert clf.score(Xt, yt) > 0.35  # 4 classes: chance is 0.25


def test_unknown_tournament_raises():
    X, y = blobs()
    with pytest.raises(ValueError, match="tournament"):
        PathNetClassifier(**{**FAST, "tournament": "async"}).fit(X, y)
