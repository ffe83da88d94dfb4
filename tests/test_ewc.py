"""FineTuneClassifier: Elastic Weight Consolidation (ewc_lambda) and continued cascades (append)."""

import numpy as np
import pytest
import torch
from sklearn.base import clone

import skpathnet
from conftest import blobs
from skpathnet.baselines import FineTuneClassifier
from skpathnet.baselines._finetune import (
    EWCAnchor, _CNN, _MLP, _fisher_vmap, ewc_penalty, fisher_diagonal,
)

FAST = dict(max_epochs=15, learning_rate=0.1, hidden_units=(8, 8), n_threads=1, random_state=0)


def outputs(clf, sources):
    return [clf.predict_proba_source(X, source=k) for k, X in enumerate(sources)]


def two_tasks():
    """Two binary tasks on the same inputs whose labels depend on other directions.

    A trunk of 4 units serves both only if it keeps task A's features while
    learning B's, so plain fine-tuning on B forgets A.
    """
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 6)).astype(np.float32)
    y_a = (X[:, 0] + 0.5 * X[:, 2] > 0).astype(int)
    y_b = (X[:, 1] - 0.5 * X[:, 2] > 0).astype(int)
    return (X[:100], y_a[:100], X[100:200], y_a[100:200]), (X[200:300], y_b[200:300],
                                                             X[300:], y_b[300:])


def test_default_is_zero_and_checked():
    assert FineTuneClassifier().get_params()["ewc_lambda"] == 0.0
    X, y = blobs()
    with pytest.raises(ValueError, match="ewc_lambda"):
        FineTuneClassifier(**{**FAST, "ewc_lambda": -1.0}).fit(X, y)


def test_zero_lambda_keeps_no_state_and_single_task_is_unchanged():
    X1, y1 = blobs(seed=1)
    X2, y2 = blobs(n_classes=2, seed=2)
    plain = FineTuneClassifier(**FAST).fit_transfer([X1, X2], [y1, y2])
    assert plain._source_state.ewc is None
    # With one task there is nothing to hold to: lambda > 0 only computes the Fisher
    # information, with no random numbers, so the fit is bit for bit that of lambda = 0.
    one = FineTuneClassifier(**FAST).fit_transfer(X1, y1)
    ewc = FineTuneClassifier(**{**FAST, "ewc_lambda": 5.0}).fit_transfer(X1, y1)
    np.testing.assert_array_equal(ewc.predict_proba_source(X1), one.predict_proba_source(X1))
    assert one.source_history_ == ewc.source_history_
    (anchor,) = ewc._source_state.ewc
    assert isinstance(anchor, EWCAnchor)
    trunk = dict(ewc._current_trunk().named_parameters())
    assert anchor.fisher.keys() == anchor.params.keys() == trunk.keys()
    for name, p in trunk.items():
        torch.testing.assert_close(anchor.params[name], p.detach(), rtol=0, atol=0)
        assert anchor.fisher[name].shape == p.shape and anchor.fisher[name].min() >= 0
    # a later task is held: it differs from plain fine-tuning
    ewc2 = clone(ewc).fit_transfer(X2, y2, append=True)
    plain2 = clone(one).fit_transfer(X2, y2, append=True)
    assert not np.array_equal(ewc2.predict_proba_source(X2, source=1),
                              plain2.predict_proba_source(X2, source=1))
    assert len(ewc2._source_state.ewc) == 2


def test_fisher_fast_path_equals_per_row_gradients():
    torch.manual_seed(0)
    module = _MLP(7, (5, 4), 3)
    X = torch.randn(30, 7)
    fast = fisher_diagonal(module, X)
    slow = {k: v / len(X) for k, v in _fisher_vmap(module, X).items()}
    # and by hand: one backward pass per row and class
    by_hand = _fisher_by_hand(module, X, 3)
    for name in by_hand:
        torch.testing.assert_close(fast[name], by_hand[name], rtol=1e-5, atol=1e-9)
        torch.testing.assert_close(slow[name], by_hand[name], rtol=1e-5, atol=1e-9)
    assert module.training  # the mode is restored


def test_fisher_of_the_cnn_by_hand():
    torch.manual_seed(0)
    module = _CNN((3, 4, 4), (2,), 3)
    X = torch.randn(6, 48)
    fisher = fisher_diagonal(module, X)
    by_hand = _fisher_by_hand(module, X, 3)
    for name in by_hand:
        torch.testing.assert_close(fisher[name], by_hand[name], rtol=1e-5, atol=1e-9)


def test_penalty_and_its_gradient():
    torch.manual_seed(0)
    trunk = _MLP(5, (4,), 2).trunk
    params = {k: v.detach().clone() for k, v in trunk.named_parameters()}
    fisher = {k: torch.rand_like(v) for k, v in params.items()}
    anchor = EWCAnchor(fisher, params)
    # at theta*: penalty 0 and gradient exactly 0
    penalty = ewc_penalty(trunk, [anchor], 7.0)
    assert float(penalty.detach()) == 0.0
    penalty.backward()
    for p in trunk.parameters():
        assert torch.count_nonzero(p.grad) == 0
    # away from it: lambda / 2 * sum F d^2, gradient lambda * F * d
    with torch.no_grad():
        for p in trunk.parameters():
            p.add_(0.1 * torch.randn_like(p))
    trunk.zero_grad()
    penalty = ewc_penalty(trunk, [anchor], 7.0)
    penalty.backward()
    expected = sum(float((fisher[k] * (p.detach() - params[k]).square()).sum())
                   for k, p in trunk.named_parameters())
    assert float(penalty.detach()) == pytest.approx(3.5 * expected, rel=1e-5)
    for name, p in trunk.named_parameters():
        torch.testing.assert_close(p.grad, 7.0 * fisher[name] * (p.detach() - params[name]))
    # two earlier tasks: the sum of their terms
    two = ewc_penalty(trunk, [anchor, anchor], 7.0)
    assert float(two.detach()) == pytest.approx(2 * float(penalty.detach()), rel=1e-6)


def test_ewc_reduces_forgetting_of_the_first_task():
    (Xa, ya, Xa_test, ya_test), (Xb, yb, Xb_test, yb_test) = two_tasks()
    forgetting, learnt = {}, {}
    for lam in (0.0, 3.0):
        drops, scores = [], []
        for seed in range(3):
            clf = FineTuneClassifier(hidden_units=(4,), max_epochs=150, learning_rate=0.1,
                                     standardize=False, n_threads=1, random_state=seed,
                                     ewc_lambda=lam)
            before = np.mean(clf.fit_transfer(Xa, ya).predict_source(Xa_test) == ya_test)
            clf.fit_transfer(Xb, yb, append=True)
            after = np.mean(clf.predict_source(Xa_test, source=0) == ya_test)
            drops.append(before - after)
            scores.append(np.mean(clf.predict_source(Xb_test, source=1) == yb_test))
        forgetting[lam], learnt[lam] = np.mean(drops), np.mean(scores)
    # plain fine-tuning forgets task A (0.16 when written); EWC keeps most of it (0.03)
    assert forgetting[0.0] >= 0.10
    assert forgetting[3.0] <= forgetting[0.0] - 0.08
    # and still learns task B
    assert learnt[3.0] >= 0.85


def test_target_fit_is_held_by_the_sources():
    (Xa, ya, Xa_test, ya_test), (Xb, yb, _, _) = two_tasks()
    scores = {}
    for lam in (0.0, 3.0):
        clf = FineTuneClassifier(hidden_units=(4,), max_epochs=150, learning_rate=0.1,
                                 standardize=False, n_threads=1, random_state=1, ewc_lambda=lam)
        clf.fit_transfer(Xa, ya).fit(Xb, yb)
        scores[lam] = np.mean(clf.predict_source(Xa_test) == ya_test)
    assert scores[3.0] >= scores[0.0] + 0.05


def test_append_continues_the_cascade():
    X1, y1 = blobs(seed=1)
    X2, y2 = blobs(n_classes=2, seed=2)
    y2 = np.where(y2 == 0, "calm", "boredom")
    first = FineTuneClassifier(**FAST).fit_transfer(X1, y1)
    before = first.predict_proba_source(X1)
    # no epochs on the new source: the trunk is the first source's, bit for bit
    frozen = clone(first).set_params(max_epochs=0).fit_transfer(X2, y2, append=True)
    np.testing.assert_array_equal(frozen.predict_proba_source(X1, source=0), before)
    assert [list(c) for c in frozen.source_classes_] == [[0, 1, 2], ["boredom", "calm"]]
    assert len(frozen.source_history_) == 2 and frozen.source_history_[1] == []
    # trained: source 0's head is kept, its trunk moves on (forgetting)
    both = clone(first).fit_transfer(X2, y2, append=True)
    for key, value in first._source_state.tasks[0].head.items():
        torch.testing.assert_close(both._source_state.tasks[0].head[key], value, rtol=0, atol=0)
    assert not np.array_equal(both.predict_proba_source(X1, source=0), before)
    assert set(both.predict_source(X2, source=1)) <= {"calm", "boredom"}
    # the new source draws other seeds than the first
    cascade = FineTuneClassifier(**FAST).fit_transfer([X1, X2], [y1, y2])
    assert not np.array_equal(cascade.predict_proba_source(X2, source=1),
                              both.predict_proba_source(X2, source=1))
    # reproducible
    again = clone(first).fit_transfer(X2, y2, append=True)
    np.testing.assert_array_equal(again.predict_proba_source(X2, source=1),
                                  both.predict_proba_source(X2, source=1))
    # without earlier sources it is append=False
    alone = FineTuneClassifier(**FAST).fit_transfer(X1, y1, append=True)
    np.testing.assert_array_equal(alone.predict_proba_source(X1), before)


def test_append_discards_the_target_fit_and_continues_from_the_sources():
    X1, y1 = blobs(seed=1)
    X2, y2 = blobs(n_classes=2, seed=2)
    Xt, yt = blobs(seed=3)
    first = FineTuneClassifier(**FAST).fit_transfer(X1, y1)
    fitted = clone(first).fit(Xt, yt)
    appended = fitted.fit_transfer(X2, y2, append=True)
    assert not hasattr(appended, "net_")
    reference = clone(first).fit_transfer(X2, y2, append=True)
    np.testing.assert_array_equal(appended.predict_proba_source(X1, source=0),
                                  reference.predict_proba_source(X1, source=0))


def test_append_refuses_what_does_not_fit():
    X1, y1 = blobs(seed=1)
    first = FineTuneClassifier(**FAST).fit_transfer(X1, y1)
    state = first.__dict__.copy()
    X8, y8 = blobs(n_features=8, seed=2)
    with pytest.raises(ValueError, match="append=True: .*features per segment"):
        first.fit_transfer(X8, y8, append=True)
    with pytest.raises(ValueError, match="append=True: .*hidden_units"):
        clone(first).set_params(hidden_units=(8, 4)).fit_transfer(X1, y1, append=True)
    assert first.__dict__.keys() == state.keys()  # atomic
    # the CNN also checks the segment shape (same count of features)
    Xi, yi = blobs(n=40, n_features=48, seed=4, shape=(3, 4, 4))
    cnn = FineTuneClassifier(**{**FAST, "architecture": "cnn", "hidden_units": (2,),
                                "max_epochs": 1}).fit_transfer(Xi, yi)
    with pytest.raises(ValueError, match=r"append=True: .*shape"):
        cnn.fit_transfer(Xi.reshape(40, 12, 2, 2), yi, append=True)


def test_ewc_state_is_kept_by_clone_and_model_files(tmp_path):
    X1, y1 = blobs(seed=1)
    X2, y2 = blobs(n_classes=2, seed=2)
    clf = FineTuneClassifier(**{**FAST, "ewc_lambda": 2.0}).fit_transfer(X1, y1)
    path = tmp_path / "ewc.safetensors"
    skpathnet.save(clf, path)
    loaded = skpathnet.load(path)
    for a, b in zip(clf._source_state.ewc, loaded._source_state.ewc):
        for part in ("fisher", "params"):
            for key, value in getattr(a, part).items():
                torch.testing.assert_close(getattr(b, part)[key], value, rtol=0, atol=0)
    # the loaded model continues the sequence exactly as the original
    np.testing.assert_array_equal(
        clone(loaded).fit_transfer(X2, y2, append=True).predict_proba_source(X2, source=1),
        clone(clf).fit_transfer(X2, y2, append=True).predict_proba_source(X2, source=1))


def _fisher_by_hand(module, X, n_classes):
    """The trunk's diagonal Fisher: one backward pass per row and class, weighted by p(c|x)."""
    by_hand = {k: torch.zeros_like(p) for k, p in module.trunk.named_parameters()}
    for x in X:
        proba = torch.softmax(module(x[None]), 1)[0].detach()
        for c in range(n_classes):
            module.zero_grad()
            torch.log_softmax(module(x[None]), 1)[0, c].backward()
            for name, p in module.trunk.named_parameters():
                by_hand[name] += proba[c] * p.grad.square() / len(X)
    return by_hand
