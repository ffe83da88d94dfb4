"""FineTuneClassifier: inputs, fine-tuning from the source trunk, cascade, forgetting."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import LeaveOneGroupOut, cross_validate
from sklearn.utils import check_random_state

from conftest import blobs, clips_of
from skpathnet.utils import make_clips, mean_per_clip
from skpathnet.utils._threads import torch_threads
from skpathnet.baselines import FineTuneClassifier
from skpathnet.baselines._finetune import _seed

# n_threads=1: the test machine's cores are shared, and torch threads contend.
FAST = dict(max_epochs=15, learning_rate=0.1, hidden_units=(16, 16, 16), n_threads=1,
            random_state=0)


def trunk_arrays(module):
    return [p.detach().cpu().numpy().copy() for p in module.parameters()]


def assert_same_trunk(state, module):
    loaded = module.state_dict()
    assert state.keys() == loaded.keys()
    for key in state:
        torch.testing.assert_close(state[key], loaded[key].cpu(), rtol=0, atol=0)


def test_defaults_and_keyword_only():
    params = FineTuneClassifier().get_params()
    assert params["hidden_units"] == (80, 80, 80)  # N=4 modules x 20 units, L=3
    assert params["learning_rate"] == 0.02
    assert params["batch_size"] == 64
    with pytest.raises(TypeError):
        FineTuneClassifier((80,))


def test_fit_learns_reproducibly_without_touching_torch_rng():
    X, y = blobs()
    state = torch.get_rng_state()
    params = {**FAST, "max_epochs": 40}
    a = FineTuneClassifier(**params).fit(X[:90], y[:90], X_val=X[90:], y_val=y[90:])
    assert torch.equal(state, torch.get_rng_state())
    b = FineTuneClassifier(**params).fit(X[:90], y[:90])
    assert a.score(X, y) > 0.9
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.predict_proba(X).shape == (len(X), 3)
    assert [r["epoch"] for r in a.history_] == list(range(1, 41))
    assert all(0 <= r["val_score"] <= 1 for r in a.history_)
    assert a.history_[-1]["train_loss"] < a.history_[0]["train_loss"]
    assert "val_score" not in b.history_[0]
    # the network: 3 hidden Linear + ReLU layers and an output layer
    linears = [m for m in a.net_.module_.trunk if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linears] == [16, 16, 16]
    assert a.net_.module_.head.out_features == 3
    c = FineTuneClassifier(**{**params, "random_state": 1}).fit(X[:90], y[:90])
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_clips_train_on_segments_and_average_per_clip():
    X, y = blobs()
    clips = clips_of(X)
    counts = [len(c) for c in clips]
    clf = FineTuneClassifier(**FAST).fit(clips, y)
    proba = clf.predict_proba(clips)
    seg = clf.predict_proba_segments(clips)
    assert proba.shape == (len(clips), 3) and seg.shape == (sum(counts), 3)
    starts = np.cumsum([0] + counts)
    for i in (0, 7, len(clips) - 1):
        np.testing.assert_allclose(proba[i], seg[starts[i]:starts[i + 1]].mean(0), rtol=1e-5)
    assert clf.predict_segments(clips).shape == (sum(counts),)
    assert clf.score(clips, y) > 0.9
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        FineTuneClassifier(**FAST).fit(clips, y[:-1])


def test_mean_per_clip():
    values = np.arange(10, dtype=np.float32).reshape(5, 2)
    out = mean_per_clip(values, np.array([0, 0, 1, 2, 2]))
    np.testing.assert_allclose(out, [[1, 2], [4, 5], [7, 8]])
    assert out.dtype == np.float32


@pytest.fixture(scope="module")
def source():
    Xs, ys = blobs(n=150, seed=1)
    return FineTuneClassifier(**FAST).fit_transfer(Xs, ys), (Xs, ys)


def test_fit_transfer_keeps_trunk_and_head(source):
    clf, (Xs, ys) = source
    assert not hasattr(clf, "classes_") and not hasattr(clf, "net_")
    assert len(clf.source_classes_) == 1 and len(clf.source_history_[0]) == FAST["max_epochs"]
    assert np.mean(clf.predict_source(Xs) == ys) > 0.9
    with pytest.raises(Exception, match="not fitted"):
        clf.predict(Xs)


def test_target_starts_from_the_source_trunk_after_clone(source):
    src, _ = source
    Xt, yt = blobs(n=90, n_classes=4, seed=2)
    # no epoch: the target model is exactly the source trunk plus a new head
    start = clone(src).set_params(max_epochs=0).fit(Xt, yt)
    assert_same_trunk(src._source_state.trunk, start.net_.module_.trunk)
    assert start.net_.module_.head.out_features == 4
    assert start.history_ == []
    # a model from scratch starts elsewhere
    scratch = FineTuneClassifier(**{**FAST, "max_epochs": 0}).fit(Xt, yt)
    assert not all(np.array_equal(a, b) for a, b in zip(
        trunk_arrays(scratch.net_.module_.trunk), trunk_arrays(start.net_.module_.trunk)))
    # training then moves every trunk layer (all trainable)
    tuned = clone(src).fit(Xt, yt)
    for before, after in zip(trunk_arrays(start.net_.module_.trunk),
                             trunk_arrays(tuned.net_.module_.trunk)):
        assert not np.array_equal(before, after)
    # and leaves the (shared) source state alone
    assert tuned._source_state is src._source_state
    assert_same_trunk(src._source_state.trunk, start.net_.module_.trunk)
    assert not hasattr(clone(FineTuneClassifier(**FAST)), "_source_state")


def test_cross_validate_folds_start_from_the_source(source):
    src, _ = source
    Xt, yt = blobs(n=90, seed=3)
    cv = cross_validate(clone(src).set_params(max_epochs=0), Xt, yt,
                        groups=np.repeat(np.arange(3), 30), cv=LeaveOneGroupOut(),
                        return_estimator=True)
    for est in cv["estimator"]:
        assert est.source_classes_ is src.source_classes_
        assert_same_trunk(src._source_state.trunk, est.net_.module_.trunk)


def test_predict_source_shows_forgetting(source):
    src, (Xs, ys) = source
    before = src.predict_proba_source(Xs)
    Xt, yt = blobs(n=120, n_classes=4, seed=2)
    a = clone(src).set_params(learning_rate=0.5, max_epochs=30).fit(Xt, yt)
    b = clone(src).set_params(learning_rate=0.5, max_epochs=30).fit(Xt, yt)
    after = a.predict_proba_source(Xs)
    assert after.shape == before.shape == (len(Xs), 3)
    assert np.abs(after - before).max() > 1e-3  # the trunk changed under the source head
    np.testing.assert_array_equal(after, b.predict_proba_source(Xs))  # reproducible
    np.testing.assert_array_equal(before, src.predict_proba_source(Xs))  # source untouched
    assert set(a.predict_source(Xs)) <= set(src.source_classes_[0])


def test_cascade_fine_tunes_the_sources_in_order():
    X1, y1 = blobs(n=100, n_classes=3, seed=4)
    X2, y2 = blobs(n=100, n_classes=2, seed=5)
    y2 = np.where(y2 == 0, "calm", "boredom")
    cascade = FineTuneClassifier(**FAST).fit_transfer([X1, X2], [y1, y2])
    first = FineTuneClassifier(**FAST).fit_transfer(X1, y1)
    assert [list(c) for c in cascade.source_classes_] == [[0, 1, 2], ["boredom", "calm"]]
    tasks = cascade._source_state.tasks
    # stage 1 is the single-source model
    for key, value in first._source_state.tasks[0].head.items():
        torch.testing.assert_close(tasks[0].head[key], value, rtol=0, atol=0)
    # stage 2 fine-tunes stage 1's trunk on source 2 (same seeds as fit_transfer draws)
    rng = check_random_state(FAST["random_state"])
    _seed(rng)
    classes, y2_enc = np.unique(y2, return_inverse=True)
    with torch_threads(1):
        net, _, _ = cascade._fit_stage(X2.copy(), y2_enc, 2, _seed(rng),
                                       trunk=first._source_state.trunk, owned=True)
    assert_same_trunk(cascade._source_state.trunk, net.module_.trunk)
    # source 1's head now sits on the trunk tuned on source 2: forgetting already
    assert not np.array_equal(cascade.predict_proba_source(X1, source=0),
                              first.predict_proba_source(X1, source=0))
    assert set(cascade.predict_source(X2, source=1)) <= {"calm", "boredom"}
    # then the target starts from the last trunk
    Xt, yt = blobs(n=60, seed=6)
    target = clone(cascade).set_params(max_epochs=0).fit(Xt, yt)
    assert_same_trunk(cascade._source_state.trunk, target.net_.module_.trunk)


def test_target_must_match_source(source):
    src, _ = source
    X, y = blobs(n_features=8)
    with pytest.raises(ValueError, match="features per segment"):
        clone(src).fit(X, y)
    X, y = blobs()
    with pytest.raises(ValueError, match="hidden_units"):
        clone(src).set_params(hidden_units=(8, 8)).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"hidden_units": ()}, "hidden_units"),
        ({"hidden_units": (8, 0)}, "hidden_units"),
        ({"max_epochs": -1}, "max_epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"device": "nonsense"}, "device"),
    ],
)
def test_bad_params_raise(params, match):
    X, y = blobs(n=30)
    with pytest.raises(ValueError, match=match):
        FineTuneClassifier(**{**FAST, **params}).fit(X, y)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_path_runs(source):
    X, y = blobs()
    clf = FineTuneClassifier(**{**FAST, "device": "cuda"}).fit(X, y)
    assert clf.score(X, y) > 0.9
    src, (Xs, _) = source
    tuned = clone(src).set_params(device="cuda").fit(X, y)
    assert tuned.predict_source(Xs).shape == (len(Xs),)


def image_blobs(n=96, shape=(3, 8, 8), n_classes=3, seed=0):
    """Images whose class is a bright quadrant: a CNN can learn it from few samples."""
    rng = np.random.RandomState(seed)
    y = rng.randint(n_classes, size=n)
    X = rng.normal(scale=0.3, size=(n, *shape)).astype(np.float32)
    half = shape[1] // 2
    for i, label in enumerate(y):
        r, c = divmod(int(label), 2)
        X[i, :, r * half:(r + 1) * half, c * half:(c + 1) * half] += 2.0
    return X, y


CNN = dict(FAST, architecture="cnn", hidden_units=(8, 8), max_epochs=30)


def test_cnn_learns_images_and_clips_of_images():
    X, y = image_blobs()
    clf = FineTuneClassifier(**CNN).fit(X[:64], y[:64])
    assert clf.input_shape_ == (3, 8, 8) and clf.n_features_in_ == 192
    assert clf.score(X[64:], y[64:]) > 0.8
    # the trunk: two blocks of 3x3 conv (8 channels) + 2x2 max pooling, global average pooling
    convs = [m for m in clf.net_.module_.trunk if isinstance(m, torch.nn.Conv2d)]
    assert [(m.in_channels, m.out_channels, m.kernel_size) for m in convs] == [
        (3, 8, (3, 3)), (8, 8, (3, 3))]
    assert clf.net_.module_.head.in_features == 8
    clips = make_clips([x[None] for x in X])
    np.testing.assert_allclose(clf.predict_proba(clips), clf.predict_proba(X), rtol=1e-6)


def test_cnn_transfer_keeps_the_source_trunk_and_checks_the_architecture():
    X, y = image_blobs()
    src = FineTuneClassifier(**CNN).fit_transfer(X[:48], y[:48])
    target = clone(src).fit(X[48:], y[48:] % 2)
    assert target.score(X[48:], y[48:] % 2) > 0.8
    before = src.predict_source(X[:48])
    np.testing.assert_array_equal(before, clone(src).predict_source(X[:48]))
    with pytest.raises(ValueError, match="architecture='mlp' differs"):
        clone(src).set_params(architecture="mlp").fit(X[48:], y[48:])


@pytest.mark.parametrize("X, match", [
    (np.zeros((8, 192), dtype=np.float32), "needs images"),
    (np.zeros((8, 3, 2, 2), dtype=np.float32), "at least 4"),
])
def test_cnn_rejects_flat_or_too_small_input(X, match):
    with pytest.raises(ValueError, match=match):
        FineTuneClassifier(**CNN).fit(X, np.tile([0, 1], 4))


def test_unknown_architecture_is_rejected():
    X, y = blobs()
    with pytest.raises(ValueError, match=r"architecture must be \"mlp\" or \"cnn\"; got"):
        FineTuneClassifier(architecture="rnn").fit(X, y)
