"""Training-time augmentation: SpecAugment, FaceAugment, run_steps and PathNetClassifier."""

import dataclasses
import itertools

import numpy as np
import pytest
import torch
from sklearn.base import clone

from conftest import PATHNET_CONV as CONV
from conftest import blobs, images
from skpathnet import FaceAugment, PathNetClassifier, SpecAugment
from skpathnet.utils import make_clips
from skpathnet.engine import (
    LinearModules, PathNetwork, Pathways, TaskHead, TrainSettings, augment_rows,
    face_augment, heldout_accuracy, heldout_trainer, minibatches, run_steps, spec_augment,
)
from skpathnet.engine import _sgd

CPU = torch.device("cpu")
# direct first layer by default (n > d / 2 for 48 images of 3 x 8 x 8)
LINEAR = dict(n_generations=6, population_size=4, n_modules=6, n_active=2, n_units=8,
              learning_rate=0.3, n_steps=16, batch_size=16, n_threads=1, random_state=0)
SPEC = SpecAugment(n_time_masks=2, time_mask=3, n_freq_masks=1, freq_mask=2, max_shift=2)
FACE = FaceAugment(max_shift=1)


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # engine calls bypass n_threads


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def segment_clips(n_clips=36, n_mels=8, frames=8, n_classes=3, seed=0):
    """Clips of 2 log-mel-like segments (2, 3, n_mels, frames); class c is loud in bands 2c, 2c+1.

    The class lives in whole mel bands over every frame, so a time mask or
    shift keeps it, and a frequency mask of up to 2 bands removes at most one
    class band pair.
    """
    rng = np.random.RandomState(seed)
    y = np.arange(n_clips) % n_classes
    rng.shuffle(y)
    clips = []
    for c in y:
        seg = rng.normal(scale=0.3, size=(2, 3, n_mels, frames)).astype(np.float32)
        seg[:, 0, 2 * c : 2 * c + 2, :] += 2.0
        clips.append(seg)
    return make_clips(clips), y


# -- the augmentations on their own -------------------------------------------------
def _zero_runs(flags):
    """Indices of True in a 1-D bool array, as a list of (start, stop) runs."""
    idx = np.flatnonzero(flags)
    runs = []
    for i in idx:
        if runs and runs[-1][1] == i:
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1])
    return runs


@pytest.mark.parametrize("augmentation", [SpecAugment(), FaceAugment(), SPEC, FACE,
                                          SpecAugment(0, 0, 0, 0, 0), FaceAugment(0, False)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shape_and_dtype_kept_input_untouched_output_new(augmentation, dtype):
    x = torch.randn(5, 3, 16, 12, generator=gen(), dtype=dtype)
    before = x.clone()
    out = augmentation(x, gen(1))
    assert out.shape == x.shape and out.dtype == dtype and out.device == x.device
    torch.testing.assert_close(x, before, rtol=0, atol=0)
    assert out.data_ptr() != x.data_ptr()
    out.add_(1.0)  # never a view of the input
    torch.testing.assert_close(x, before, rtol=0, atol=0)


@pytest.mark.parametrize("augmentation", [SpecAugment(), FaceAugment(), SPEC, FACE])
def test_same_seed_same_output_other_seed_other_output(augmentation):
    x = torch.randn(16, 3, 8, 8, generator=gen())
    a = augmentation(x, gen(7))
    torch.testing.assert_close(a, augmentation(x, gen(7)), rtol=0, atol=0)
    assert not torch.equal(a, augmentation(x, gen(8)))


@pytest.mark.parametrize("n_masks, width", [(1, 3), (2, 3), (1, 10), (3, 1)])
@pytest.mark.parametrize("axis", ["time", "freq"])
def test_masks_zero_whole_bands_within_the_width(n_masks, width, axis):
    """On a constant input, exactly whole bands (all channels) of the masked axis become 0."""
    n, H, W = 400, 6, 10
    if axis == "time":
        aug = SpecAugment(n_time_masks=n_masks, time_mask=width, n_freq_masks=0, max_shift=0)
    else:
        aug = SpecAugment(n_time_masks=0, n_freq_masks=n_masks, freq_mask=width, max_shift=0)
    out = aug(torch.full((n, 3, H, W), 2.5), gen()).numpy()
    assert set(np.unique(out)) <= {0.0, 2.5}
    zero = out == 0
    length = W if axis == "time" else H
    band = zero.any(axis=(1, 2 if axis == "time" else 3))  # (n, length) masked positions
    expand = band[:, None, None, :] if axis == "time" else band[:, None, :, None]
    np.testing.assert_array_equal(zero, np.broadcast_to(expand, zero.shape))  # whole bands
    cap = min(width, length)
    widths = set()
    for row in band:
        runs = _zero_runs(row)
        assert len(runs) <= n_masks
        assert row.sum() <= n_masks * cap
        if n_masks == 1:
            assert all(stop - start <= cap for start, stop in runs)
            widths.add(int(row.sum()))
    if n_masks == 1:
        assert widths == set(range(cap + 1))  # every width from 0 to the cap occurs
    assert band[:, 0].any() and band[:, -1].any()  # bands reach both ends


def test_time_and_frequency_masks_together_zero_a_cross():
    out = SpecAugment(max_shift=0, time_mask=3, freq_mask=2)(torch.ones(200, 3, 8, 8),
                                                             gen()).numpy()
    zero = out == 0
    frames = zero.all(axis=(1, 2))  # (n, W): frames zero in every band and channel
    bands = zero.all(axis=(1, 3))   # (n, H)
    cross = frames[:, None, None, :] | bands[:, None, :, None]
    np.testing.assert_array_equal(zero, np.broadcast_to(cross, zero.shape))
    assert (frames.sum(1) <= 2 * 3).all() and (bands.sum(1) <= 2 * 2).all()


def _shift_ref(img, shift, axis):
    """Zero-padded shift of a numpy image by ``shift`` positions along ``axis``."""
    out = np.zeros_like(img)
    n = img.shape[axis]
    src = np.arange(n) - shift
    keep = (src >= 0) & (src < n)
    taken = np.take(img, src[keep], axis=axis)
    index = [slice(None)] * img.ndim
    index[axis] = np.flatnonzero(keep)
    out[tuple(index)] = taken
    return out


def _face_ref(img, flip, dy, dx):
    img = img[..., ::-1] if flip else img
    return _shift_ref(_shift_ref(img, dx, -1), dy, -2)


def test_reference_transforms_on_a_hand_made_image():
    img = np.arange(1, 13, dtype=np.float32).reshape(1, 3, 4)
    np.testing.assert_array_equal(_shift_ref(img, 1, -1),
                                  [[[0, 1, 2, 3], [0, 5, 6, 7], [0, 9, 10, 11]]])
    np.testing.assert_array_equal(_shift_ref(img, -2, -1),
                                  [[[3, 4, 0, 0], [7, 8, 0, 0], [11, 12, 0, 0]]])
    np.testing.assert_array_equal(_face_ref(img, True, -1, 1),
                                  [[[0, 8, 7, 6], [0, 12, 11, 10], [0, 0, 0, 0]]])
    np.testing.assert_array_equal(_face_ref(img, False, 0, 0), img)


def test_spec_shift_is_an_exact_zero_padded_time_shift():
    img = (1 + np.arange(3 * 4 * 6, dtype=np.float32)).reshape(3, 4, 6)  # no zeros
    x = torch.from_numpy(np.repeat(img[None], 300, 0))
    out = SpecAugment(n_time_masks=0, n_freq_masks=0, max_shift=2)(x, gen()).numpy()
    seen = set()
    for sample in out:
        matches = [s for s in range(-2, 3) if np.array_equal(sample, _shift_ref(img, s, -1))]
        assert len(matches) == 1
        seen.add(matches[0])
    assert seen == {-2, -1, 0, 1, 2}


def test_face_flip_and_shift_are_exact():
    img = (1 + np.arange(2 * 3 * 4, dtype=np.float32)).reshape(2, 3, 4)
    x = torch.from_numpy(np.repeat(img[None], 600, 0))
    out = FaceAugment(max_shift=1)(x, gen()).numpy()
    combos = list(itertools.product([False, True], [-1, 0, 1], [-1, 0, 1]))
    refs = [_face_ref(img, *c) for c in combos]
    seen = set()
    for sample in out:
        matches = [c for c, ref in zip(combos, refs) if np.array_equal(sample, ref)]
        assert len(matches) == 1
        seen.add(matches[0])
    assert seen == set(combos)  # every flip and shift occurs
    flips = FaceAugment(max_shift=0)(x, gen()).numpy()
    is_flipped = [np.array_equal(s, img[..., ::-1]) for s in flips]
    assert all(f or np.array_equal(s, img) for f, s in zip(is_flipped, flips))
    assert 0.4 < np.mean(is_flipped) < 0.6  # probability 0.5
    unflipped = FaceAugment(max_shift=1, flip=False)(x, gen()).numpy()
    assert all(any(np.array_equal(s, _face_ref(img, False, dy, dx))
                   for dy in (-1, 0, 1) for dx in (-1, 0, 1)) for s in unflipped)


def test_functions_equal_the_dataclass_calls_and_rows_round_trip():
    x = torch.randn(6, 3, 8, 8, generator=gen())
    torch.testing.assert_close(spec_augment(x, SPEC, gen(3)), SPEC(x, gen(3)), rtol=0, atol=0)
    torch.testing.assert_close(face_augment(x, FACE, gen(3)), FACE(x, gen(3)), rtol=0, atol=0)
    rows = augment_rows(SPEC, x.reshape(6, -1), (3, 8, 8), gen(3))
    torch.testing.assert_close(rows, SPEC(x, gen(3)).reshape(6, -1), rtol=0, atol=0)
    with pytest.raises(ValueError, match="image shape"):
        augment_rows(SPEC, x.reshape(6, -1), (3, 8, 4), gen())
    with pytest.raises(ValueError, match="image shape"):
        augment_rows(SPEC, x.reshape(6, -1), None, gen())
    with pytest.raises(ValueError, match=r"\(batch, C, H, W\)"):
        SPEC(x[0], gen())


@pytest.mark.parametrize("make, match, error", [
    (lambda: SpecAugment(time_mask=-1), "time_mask must be a non-negative integer", ValueError),
    (lambda: SpecAugment(n_freq_masks=1.5), "n_freq_masks", ValueError),
    (lambda: SpecAugment(max_shift=True), "max_shift", ValueError),
    (lambda: FaceAugment(max_shift=-2), "max_shift", ValueError),
    (lambda: FaceAugment(flip=1), "flip must be True or False", TypeError),
])
def test_bad_settings_raise(make, match, error):
    with pytest.raises(error, match=match):
        make()


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SpecAugment().time_mask = 3


# -- the engine ---------------------------------------------------------------------
def _linear_network(with_frozen=True):
    g = gen()
    net = PathNetwork(LinearModules(48, 8), 3, 6, device=CPU, generator=g)
    if with_frozen:
        frozen = [np.array([1, 4]), np.array([0]), np.array([2, 3])]
        net.load_frozen(frozen, net.module_state(frozen))
    return net, TaskHead(8, 3, device=CPU, generator=g)


def test_run_steps_augments_each_minibatch_with_a_derived_generator():
    """Each step gets augment_rows(rows of the batch) from a generator seeded by one draw."""
    net, head = _linear_network()
    X = torch.randn(40, 48, generator=gen(1))
    y = torch.randint(0, 3, (40,), generator=gen(2))
    inputs = net.bind(X)
    assert inputs.frozen_sum is not None  # the cache that augmented rows must not use
    settings = TrainSettings(n_steps=5, batch_size=16, augmentation=SPEC, image_shape=(3, 4, 4))
    seen = []

    def spy(pathways, head, batch, target, index, learning_rate):
        seen.append((batch, index.clone()))
        return torch.tensor(0)

    pathways = Pathways.gather(net, [np.array([[1, 2], [0, 5], [3, 4]])])
    run_steps(pathways, head, inputs, y, settings, gen(5), step=spy)
    g = gen(5)
    own = gen(int(torch.randint(0, 2**62, (1,), generator=g)))
    for (batch, index), idx in zip(seen, minibatches(40, 5, 16, g, CPU), strict=True):
        torch.testing.assert_close(index, idx, rtol=0, atol=0)
        expected = augment_rows(SPEC, X[idx], (3, 4, 4), own)
        torch.testing.assert_close(batch.x, expected, rtol=0, atol=0)
        assert batch.offset is None and batch.frozen_sum is None
    assert len(seen) == 5
    torch.testing.assert_close(inputs.x, X, rtol=0, atol=0)  # training rows untouched


def test_run_steps_without_augmentation_draws_nothing_more():
    net, head = _linear_network()
    X = torch.randn(40, 48, generator=gen(1))
    y = torch.randint(0, 3, (40,), generator=gen(2))
    inputs = net.bind(X)
    batches = []

    def spy(pathways, head, batch, target, index, learning_rate):
        batches.append(batch)
        return torch.tensor(0)

    g = gen(5)
    pathways = Pathways.gather(net, [np.array([[1, 2], [0, 5], [3, 4]])])
    run_steps(pathways, head, inputs, y, TrainSettings(n_steps=5, batch_size=16), g, step=spy)
    ref = gen(5)
    for batch, idx in zip(batches, minibatches(40, 5, 16, ref, CPU), strict=True):
        torch.testing.assert_close(batch.x, X[idx], rtol=0, atol=0)
        assert batch.frozen_sum is not None
    assert torch.equal(g.get_state(), ref.get_state())


def test_run_steps_refuses_augmentation_in_row_space():
    net, head = _linear_network(with_frozen=False)
    X = torch.randn(20, 48, generator=gen(1))
    inputs = net.bind(X, first_layer="row_space")
    pathways = Pathways.gather(net, [np.array([[1, 2], [0, 5], [3, 4]])])
    settings = TrainSettings(n_steps=2, batch_size=8, augmentation=SPEC, image_shape=(3, 4, 4))
    with pytest.raises(ValueError, match="augmentation needs direct first-layer inputs"):
        run_steps(pathways, head, inputs, torch.zeros(20, dtype=torch.long), settings, gen())


def test_heldout_fitness_scores_the_rows_as_they_are():
    net, head = _linear_network()
    X = torch.randn(40, 48, generator=gen(1))
    y = torch.randint(0, 3, (40,), generator=gen(2))
    inputs = net.bind(X)
    train = heldout_trainer(torch.arange(30), torch.arange(30, 40))
    genotype = [np.array([[1, 2], [0, 5], [3, 4]])]
    settings = TrainSettings(n_steps=4, batch_size=8, learning_rate=0.1, augmentation=SPEC,
                             image_shape=(3, 4, 4))
    score = train(net, genotype, head, inputs, y, settings, gen())
    assert score == heldout_accuracy(net, genotype, head, inputs.rows(torch.arange(30, 40)),
                                     y[30:])


# -- the estimator ------------------------------------------------------------------
def test_parameter_is_stored_as_is_and_clones():
    aug = SpecAugment(time_mask=5)
    clf = PathNetClassifier(augmentation=aug)
    assert clf.get_params()["augmentation"] is aug
    cloned = clone(clf)
    assert cloned.augmentation == aug
    assert PathNetClassifier().get_params()["augmentation"] is None


def test_augmentation_none_is_bit_identical_to_not_passing_it():
    X, y = images()
    params = {**LINEAR, "fitness": "validation", "final_steps": 4}
    a = PathNetClassifier(**params).fit(X, y)
    b = PathNetClassifier(**params, augmentation=None).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert [(h["fitness"], h["winner"]) for h in a.history_] == \
        [(h["fitness"], h["winner"]) for h in b.history_]


def test_spec_augment_fit_on_segment_clips_learns_and_is_reproducible():
    clips, y = segment_clips()
    test_clips, test_y = segment_clips(seed=1)
    params = {**LINEAR, "augmentation": SPEC}
    a = PathNetClassifier(**params).fit(clips, y)
    b = PathNetClassifier(**params).fit(clips, y)
    assert a.first_layer_ == "direct"  # "auto": row_space without augmentation (72 <= 192 / 2)
    assert PathNetClassifier(**LINEAR).fit(clips, y).first_layer_ == "row_space"
    np.testing.assert_array_equal(a.predict_proba(test_clips), b.predict_proba(test_clips))
    assert a.history_[-1]["fitness"] == b.history_[-1]["fitness"]
    assert a.score(test_clips, test_y) > 0.6  # 3 classes: chance is 1/3
    other = PathNetClassifier(**{**params, "random_state": 1}).fit(clips, y)
    assert not np.array_equal(a.predict_proba(test_clips), other.predict_proba(test_clips))


@pytest.mark.parametrize("module", ["linear", "conv"])
def test_face_augment_fit_on_images_learns_and_is_reproducible(module):
    X, y = images()
    Xt, yt = images(seed=3)
    params = {**(CONV if module == "conv" else LINEAR), "augmentation": FACE}
    a = PathNetClassifier(**params).fit(X, y)
    b = PathNetClassifier(**params).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(Xt), b.predict_proba(Xt))
    assert a.first_layer_ == "direct"
    assert a.score(Xt, yt) > 0.6  # 3 classes: chance is 1/3
    plain = PathNetClassifier(**{**params, "augmentation": None}).fit(X, y)
    assert not np.array_equal(a.predict_proba(Xt), plain.predict_proba(Xt))


def test_augmentation_runs_once_per_training_step_and_never_at_predict(monkeypatch):
    calls = []
    real = _sgd.augment_rows

    def counting(augmentation, x, image_shape, generator):
        calls.append(len(x))
        return real(augmentation, x, image_shape, generator)

    monkeypatch.setattr(_sgd, "augment_rows", counting)
    X, y = images()
    params = {**LINEAR, "augmentation": FACE, "fitness": "validation", "tie_break": "loss",
              "final_steps": 3}
    clf = PathNetClassifier(**params).fit(X, y, X_val=X[:10], y_val=y[:10])
    assert len(calls) == 2 * LINEAR["n_generations"] * LINEAR["n_steps"] + 3
    calls.clear()
    clf.predict_proba(X)
    clf.score(X, y)
    assert calls == []


@pytest.mark.parametrize("augmentation, data", [(SPEC, segment_clips), (FACE, images)],
                         ids=["spec", "face"])
def test_linear_transfer_with_augmentation_keeps_frozen_modules_bit_identical(augmentation,
                                                                               data):
    """Frozen first-layer modules see the augmented rows but never change.

    Convolutional modules: ``test_conv_transfer_keeps_frozen_modules_bit_identical``
    in ``test_engine.py``.
    """
    params = {**LINEAR, "augmentation": augmentation}
    Xs, ys = data(seed=1)
    src = PathNetClassifier(**params).fit_transfer(Xs, ys)
    before = src.predict_proba_source(Xs)
    frozen = [a.copy() for w_b in src._source_state.frozen[1] for a in w_b]
    Xt, yt = data(seed=2)
    clf = clone(src).fit(Xt, yt)
    for a, b in zip(frozen, [a for w_b in clf._source_state.frozen[1] for a in w_b],
                    strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(before, clf.predict_proba_source(Xs))


def test_sources_with_augmentation_need_one_segment_shape():
    """Augmentation reads rows as images: same features, other shape -> an error."""
    X1, y1 = images(seed=1)
    X2, y2 = images(seed=2)
    X2 = X2.reshape(len(X2), 3, 4, 16)
    with pytest.raises(ValueError, match=r"source 2 of 2: its segments have shape \(3, 4, 16\)"):
        PathNetClassifier(**LINEAR, augmentation=FACE).fit_transfer([X1, X2], [y1, y2])
    PathNetClassifier(**{**LINEAR, "n_generations": 1}).fit_transfer([X1, X2], [y1, y2])


def test_augmentation_needs_images():
    X, y = blobs()
    with pytest.raises(ValueError, match=r"augmentation=SpecAugment\(\.\.\.\) needs images: X "
                                         r"of shape \(n_samples, C, H, W\), or clips"):
        PathNetClassifier(**LINEAR, augmentation=SpecAugment()).fit(X, y)


def test_row_space_with_augmentation_raises():
    X, y = images()
    with pytest.raises(ValueError, match='first_layer="row_space" cannot train with '
                                         "augmentation.*fixed training rows"):
        PathNetClassifier(**LINEAR, first_layer="row_space", augmentation=FACE).fit(X, y)


@pytest.mark.parametrize("value, match", [
    ("specaugment", r"augmentation must be None, a skpathnet.SpecAugment .*got 'specaugment'"),
    (SpecAugment, r"got the class SpecAugment; pass an instance, e.g. SpecAugment\(\)"),
    ({"time_mask": 8}, r"got \{'time_mask': 8\} \(dict\)"),
])
def test_wrong_augmentation_type_raises(value, match):
    X, y = images()
    with pytest.raises(TypeError, match=match):
        PathNetClassifier(**LINEAR, augmentation=value).fit(X, y)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("module", ["linear", "conv"])
def test_cuda_fit_with_augmentation_runs_and_is_reproducible(module):
    cuda = torch.device("cuda")
    x = torch.randn(8, 3, 8, 8, device=cuda)
    for aug in (SPEC, FACE):
        out = aug(x, torch.Generator(device=cuda).manual_seed(0))
        assert out.device == x.device and out.shape == x.shape
    X, y = images()
    params = {**(CONV if module == "conv" else LINEAR), "augmentation": FACE, "device": "cuda"}
    a = PathNetClassifier(**params).fit(X, y)
    b = PathNetClassifier(**params).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.score(X, y) > 0.5
