"""Multi-task PathNet (emotions + Action Units): masked step, estimator, AU F1, CK+ AUs."""

import inspect

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold, cross_validate

from conftest import PATHNET_FAST
from skpathnet import MultiTaskPathNetClassifier, PathNetClassifier, au_f1_scores
from skpathnet._multitask import missing_labels
from skpathnet.datasets import load_ckplus
from skpathnet.engine import (
    ConvModules, LinearModules, MultiTargets, MultiTaskCounts, MultiTaskHeads,
    PathNetwork, Pathways, TaskHead, linear_sgd_step, multitask_autograd_step,
    multitask_fitness, multitask_sgd_step, FaceAugment, SpecAugment, TrainSettings,
    train_multitask,
    train_pathways,
)

CPU = torch.device("cpu")
FAST = PATHNET_FAST
LEARN = {**FAST, "n_generations": 15}  # enough to learn the blobs
GENOTYPES = [np.array([[1, 2], [0, 5], [3, 4]]), np.array([[2, 3], [5, 1], [4, 4]])]
FROZEN = [np.array([1, 4]), np.array([0]), np.array([2, 3])]


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # engine calls bypass n_threads


def multitask_data(n=120, n_features=12, seed=0):
    """Blobs of 3 classes; 3 AUs: two read off the features, one from the class."""
    rng = np.random.RandomState(seed)
    centers = rng.normal(scale=3.0, size=(3, n_features))
    y = rng.randint(3, size=n)
    X = (centers[y] + rng.normal(size=(n, n_features))).astype(np.float32)
    aus = np.stack([X[:, 0] > centers[:, 0].mean(), X[:, 1] > centers[:, 1].mean(), y == 2],
                   1).astype(np.int8)
    return X, y, aus


# -- engine: the masked step ------------------------------------------------------
def _setup(modules=None, *, n_aus=3, row_space=False, frozen=False, P=1, seed=0, n=16,
           frozen_weight=1.0, train_frozen=False):
    modules = modules or LinearModules(10, 6)
    g = torch.Generator().manual_seed(seed)
    net = PathNetwork(modules, 3, 6, device=CPU, generator=g, frozen_weight=frozen_weight)
    if frozen:
        net.load_frozen(FROZEN, net.module_state(FROZEN))
    heads = MultiTaskHeads(TaskHead(net.n_outputs, 4, device=CPU, generator=g),
                           TaskHead(net.n_outputs, n_aus, device=CPU, generator=g)
                           if n_aus else None)
    shape = (n, 10) if isinstance(modules, LinearModules) else (n, *modules.input_shape)
    g = torch.Generator().manual_seed(seed + 100)  # data: the same with or without AU head
    X = torch.randn(*shape, generator=g).reshape(n, -1)
    inputs = net.bind(X, first_layer="row_space" if row_space else "direct",
                      train_frozen=train_frozen)
    pathways = Pathways.gather(net, GENOTYPES[:P])
    emotion = torch.randint(0, 4, (n,), generator=g)
    aus = (torch.rand(n, max(n_aus, 1), generator=g) > 0.5).float()
    targets = MultiTargets(emotion, aus if n_aus else None,
                           torch.ones(n, n_aus, dtype=torch.bool) if n_aus else None)
    return net, heads, pathways, inputs, targets


def _heads(heads):
    return [t.clone() for t in heads.tensors()]


def _backbone(pathways):
    return [t.clone() for layer in pathways.layers if layer.trainable is not None
            for t in layer.trainable]


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


STEPS = {
    "linear-direct": (multitask_sgd_step, {}),
    "linear-row-space": (multitask_sgd_step, {"row_space": True}),
    "linear-parallel-frozen": (multitask_sgd_step, {"P": 2, "frozen": True}),
    "autograd-linear": (multitask_autograd_step, {}),
    "autograd-conv": (multitask_autograd_step,
                      {"modules": ConvModules((3, 4, 4), 2, 3)}),
}


@pytest.mark.parametrize("name", sorted(STEPS))
def test_a_batch_without_au_labels_leaves_the_au_head_bit_identical(name):
    step, kw = STEPS[name]
    net, heads, pathways, inputs, targets = _setup(**kw)
    au_before = [heads.aus.weight.clone(), heads.aus.bias.clone()]
    emotion_before = [heads.emotion.weight.clone(), heads.emotion.bias.clone()]
    backbone_before = _backbone(pathways)
    unlabelled = MultiTargets(targets.emotion, torch.full_like(targets.aus, 7.0),
                              torch.zeros_like(targets.au_mask))
    index = torch.arange(inputs.n_rows)
    with torch.no_grad():
        step(pathways, heads, inputs, unlabelled, index, 0.5)
    assert torch.equal(heads.aus.weight, au_before[0])
    assert torch.equal(heads.aus.bias, au_before[1])
    # the other task did train, through the shared pathway
    assert not torch.equal(heads.emotion.weight, emotion_before[0])
    assert not _same(_backbone(pathways), backbone_before)


@pytest.mark.parametrize("name", sorted(STEPS))
def test_a_batch_without_emotion_labels_leaves_the_emotion_head_bit_identical(name):
    step, kw = STEPS[name]
    net, heads, pathways, inputs, targets = _setup(**kw)
    before = [heads.emotion.weight.clone(), heads.emotion.bias.clone()]
    au_before = heads.aus.weight.clone()
    unlabelled = targets._replace(emotion=torch.full_like(targets.emotion, -1))
    with torch.no_grad():
        counts = step(pathways, heads, inputs, unlabelled, torch.arange(inputs.n_rows), 0.5)
    assert torch.equal(heads.emotion.weight, before[0])
    assert torch.equal(heads.emotion.bias, before[1])
    assert not torch.equal(heads.aus.weight, au_before)
    assert int(counts.labelled) == 0 and counts.correct.sum() == 0


@pytest.mark.parametrize("name", sorted(STEPS))
def test_a_batch_without_any_label_changes_nothing(name):
    step, kw = STEPS[name]
    net, heads, pathways, inputs, targets = _setup(**kw)
    before = _heads(heads) + _backbone(pathways)
    nothing = MultiTargets(torch.full_like(targets.emotion, -1), targets.aus,
                           torch.zeros_like(targets.au_mask))
    with torch.no_grad():
        step(pathways, heads, inputs, nothing, torch.arange(inputs.n_rows), 0.5)
    assert _same(_heads(heads) + _backbone(pathways), before)


@pytest.mark.parametrize("name", ["linear-direct", "linear-parallel-frozen", "autograd-conv"])
def test_heads_train_independently(name):
    """Each head's update depends on its own task's labels only."""
    step, kw = STEPS[name]
    runs = {}
    for variant in ("a", "other_aus", "other_emotion"):
        net, heads, pathways, inputs, targets = _setup(**kw)
        if variant == "other_aus":
            targets = targets._replace(aus=1.0 - targets.aus)
        if variant == "other_emotion":
            targets = targets._replace(emotion=(targets.emotion + 1) % 4)
        with torch.no_grad():
            step(pathways, heads, inputs, targets, torch.arange(inputs.n_rows), 0.5)
        runs[variant] = heads
    a, other_aus, other_emotion = runs["a"], runs["other_aus"], runs["other_emotion"]
    assert torch.equal(a.emotion.weight, other_aus.emotion.weight)
    assert not torch.equal(a.aus.weight, other_aus.aus.weight)
    assert torch.equal(a.aus.weight, other_emotion.aus.weight)
    assert not torch.equal(a.emotion.weight, other_emotion.emotion.weight)


def test_unlabelled_samples_in_a_batch_contribute_nothing():
    """Adding rows without any label leaves every update as it was (up to rounding)."""
    results = []
    for n_extra in (0, 8):
        net, heads, pathways, inputs, targets = _setup(n=24)
        keep = torch.arange(16 + n_extra)
        t = targets.rows(keep)
        emotion, mask = t.emotion.clone(), t.au_mask.clone()
        emotion[16:] = -1
        mask[16:] = False
        mask[:4] = False  # rows 0-3: emotion only
        with torch.no_grad():
            step_inputs = inputs.rows(keep)
            multitask_sgd_step(pathways, heads, step_inputs, MultiTargets(emotion, t.aus, mask),
                               keep, 0.5)
        results.append(_heads(heads) + _backbone(pathways))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("P", [1, 2])
def test_hand_written_step_is_the_gradient_of_the_masked_loss(P):
    """multitask_sgd_step (hand-written backward) equals autograd on the same loss."""
    results = []
    for step in (multitask_sgd_step, multitask_autograd_step):
        net, heads, pathways, inputs, targets = _setup(P=P, frozen=True, seed=3)
        emotion = targets.emotion.clone()
        emotion[::3] = -1
        mask = targets.au_mask.clone()
        mask[1::2] = False
        mask[0, 1] = False
        heads.au_weight = 0.7
        with torch.no_grad():
            for _ in range(3):
                step(pathways, heads, inputs, MultiTargets(emotion, targets.aus, mask),
                     torch.arange(inputs.n_rows), 0.3)
        results.append(_heads(heads) + _backbone(pathways))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kw", [{}, {"P": 2, "frozen": True}, {"row_space": True}])
def test_emotion_only_step_is_linear_sgd_step_bit_for_bit(kw):
    results = []
    for multitask in (False, True):
        net, heads, pathways, inputs, targets = _setup(n_aus=0, **kw)
        correct = _emotion_step(multitask, pathways, heads, inputs, targets, 0.5)
        results.append((_heads(heads) + _backbone(pathways), correct.reshape(-1)))
    (a, ca), (b, cb) = results
    assert _same(a, b) and torch.equal(ca, cb)


def _emotion_step(multitask, pathways, heads, inputs, targets, learning_rate, **lever):
    """One step on every row with emotions alone: the multi-task step or linear_sgd_step."""
    index = torch.arange(inputs.n_rows)
    with torch.no_grad():
        if multitask:
            return multitask_sgd_step(pathways, heads, inputs, targets, index, learning_rate,
                                      **lever).correct
        return linear_sgd_step(pathways, heads.emotion, inputs, targets.emotion, index,
                               learning_rate, **lever)


@pytest.mark.parametrize("P", [1, 2])
@pytest.mark.parametrize("frozen_weight", [1.0, 0.5])
def test_multitask_steps_fine_tune_frozen_modules_as_the_one_task_step(frozen_weight, P):
    """frozen_learning_rate (issue 31): hand-written = autograd with AUs, = linear_sgd_step
    with emotions alone; the frozen modules move."""
    kw = dict(P=P, frozen=True, frozen_weight=frozen_weight, train_frozen=True)
    lever = dict(frozen_learning_rate=0.2, weight_decay=0.05)
    results = []
    for step in (multitask_sgd_step, multitask_autograd_step):
        net, heads, pathways, inputs, targets = _setup(seed=3, **kw)
        fixed = [t.clone() for layer in pathways.layers for t in layer.fixed]
        with torch.no_grad():
            for _ in range(2):
                step(pathways, heads, inputs, targets, torch.arange(inputs.n_rows), 0.3, **lever)
        moved = [t for layer in pathways.layers for t in layer.fixed]
        assert not any(torch.equal(a, b) for a, b in zip(fixed, moved))
        results.append(_heads(heads) + _backbone(pathways) + moved)
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    results = []
    for multitask in (False, True):
        net, heads, pathways, inputs, targets = _setup(n_aus=0, **kw)
        _emotion_step(multitask, pathways, heads, inputs, targets, 0.3, **lever)
        results.append(_heads(heads) + _backbone(pathways)
                       + [t for layer in pathways.layers for t in layer.fixed])
    assert _same(*results)


def test_multitask_fitness_is_the_mean_of_accuracy_and_au_mean_f1():
    counts = MultiTaskCounts(
        correct=torch.tensor([6, 10]), labelled=torch.tensor(10),
        tp=torch.tensor([[2, 0, 0], [1, 0, 3]]), fp=torch.tensor([[2, 0, 1], [0, 0, 0]]),
        fn=torch.tensor([[0, 0, 0], [1, 0, 0]]),
    )
    # pathway 0: F1 = 4/6 for AU 0, undefined for AU 1, 0 for AU 2 -> mean 1/3
    # pathway 1: F1 = 2/3, undefined, 1 -> mean 5/6
    assert multitask_fitness(counts) == pytest.approx([(0.6 + 1 / 3) / 2, (1.0 + 5 / 6) / 2])
    emotion_only = MultiTaskCounts(torch.tensor([3]), torch.tensor(4))
    assert multitask_fitness(emotion_only) == [0.75]
    au_only = counts._replace(labelled=torch.tensor(0))
    assert multitask_fitness(au_only) == pytest.approx([1 / 3, 5 / 6])


@pytest.mark.parametrize("P", [1, 2])
def test_au_weight_zero_trains_as_emotion_only(P):
    """w = 0: the AU labels change no parameter, bit for bit (only the fitness sees them)."""
    results = []
    for n_aus in (0, 3):
        net, heads, pathways, inputs, targets = _setup(n_aus=n_aus, P=P)
        heads.au_weight = 0.0
        with torch.no_grad():
            multitask_sgd_step(pathways, heads, inputs, targets, torch.arange(16), 0.5)
        results.append(_heads(heads)[:2] + _backbone(pathways))
    assert _same(*results)


def test_autograd_step_refuses_row_space():
    net, heads, pathways, inputs, targets = _setup(row_space=True)
    with pytest.raises(ValueError, match="row-space"):
        multitask_autograd_step(pathways, heads, inputs, targets, torch.arange(16), 0.1)


LEVERS = {"decay-momentum": {"weight_decay": 0.05, "momentum": 0.9},
          "augmentation": {"augmentation": SpecAugment(), "image_shape": (1, 2, 5)}}


@pytest.mark.parametrize("levers", sorted(LEVERS))
@pytest.mark.parametrize("kw", [{}, {"P": 2, "frozen": True}, {"row_space": True},
                                {"modules": ConvModules((3, 4, 4), 2, 3)}])
def test_train_multitask_is_train_pathways_on_emotions_alone(kw, levers):
    """One step loop (run_steps): momentum, weight decay and augmentation as for one task."""
    extra = LEVERS[levers]
    if levers == "augmentation":
        if kw.get("row_space"):
            pytest.skip("augmentation needs direct inputs")
        if "modules" in kw:
            extra = {**extra, "image_shape": (3, 4, 4)}
    settings = TrainSettings(n_steps=3, batch_size=8, learning_rate=0.3, **extra)
    results = []
    for multitask in (False, True):
        net, heads, pathways, inputs, targets = _setup(n_aus=0, **kw)
        genotypes = GENOTYPES[:kw.get("P", 1)]
        generator = torch.Generator().manual_seed(3)
        if multitask:
            fitness = train_multitask(net, genotypes, heads, inputs, targets, settings,
                                      generator)
        else:
            fitness = train_pathways(net, genotypes, heads.emotion, inputs, targets.emotion,
                                     settings, generator)
        net.materialize()
        state = [torch.from_numpy(a) for w_b in net.module_state([np.arange(6)] * 3) for a in w_b]
        results.append((_heads(heads) + state, fitness))
    (a, fa), (b, fb) = results
    assert fa == fb
    if "modules" in kw:  # autograd of another loss expression: equal up to rounding
        for x, y in zip(a, b):
            torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-6)
    else:
        assert _same(a, b)


@pytest.mark.parametrize("P", [1, 2])
def test_multitask_momentum_and_decay_hand_written_equals_autograd(P):
    """With AU labels too: the hand-written step's heavy ball and decay are autograd's."""
    settings = TrainSettings(n_steps=4, batch_size=8, learning_rate=0.3, momentum=0.9,
                             weight_decay=0.05)
    results = []
    for step in (multitask_sgd_step, multitask_autograd_step):
        net, heads, pathways, inputs, targets = _setup(P=P, frozen=True)
        fitness = train_multitask(net, GENOTYPES[:P], heads, inputs, targets, settings,
                                  torch.Generator().manual_seed(3), step=step)
        results.append((_heads(heads) + [net.layers[k].weight.clone() for k in range(3)],
                        fitness))
    (a, fa), (b, fb) = results
    assert fa == fb
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y, rtol=1e-4, atol=1e-5)
    plain = _setup(P=P, frozen=True)[1]
    assert not torch.allclose(_heads(plain)[2], a[2])  # the AU head trained


# -- the estimator ------------------------------------------------------------------
def test_parameters_are_pathnets_plus_the_multitask_ones():
    """Every PathNetClassifier parameter, same defaults, plus its own (as MLPClassifier)."""
    pathnet = PathNetClassifier().get_params()
    params = MultiTaskPathNetClassifier().get_params()
    assert set(params) == set(pathnet) | {"au_weight", "missing_label"}
    assert {k: params[k] for k in pathnet} == pathnet
    kinds = {p.kind for p in inspect.signature(MultiTaskPathNetClassifier).parameters.values()}
    assert kinds == {inspect.Parameter.KEYWORD_ONLY}
    with pytest.raises(TypeError):
        MultiTaskPathNetClassifier(3)


@pytest.mark.parametrize("extra", [{}, {"tournament": "parallel"}, {"first_layer": "row_space"},
                                   {"momentum": 0.5, "weight_decay": 0.01},
                                   {"final_steps": 3, "first_layer": "row_space",
                                    "weight_decay": 0.01}])
def test_without_aus_it_is_pathnetclassifier_bit_for_bit(extra):
    X, y, _ = multitask_data()
    a = PathNetClassifier(**FAST, **extra).fit(X, y)
    b = MultiTaskPathNetClassifier(**FAST, **extra).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    np.testing.assert_array_equal(a.best_path_, b.best_path_)
    assert a.best_fitness_ == b.best_fitness_ and b.n_aus_ == 0


def test_transfer_without_aus_is_pathnetclassifiers_with_genes_and_augmentation():
    """The levers of PathNetClassifier reach the multi-task fit: frozen genes, augmentation."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3, 4, 4)).astype(np.float32)
    y = (X[:, 0, 0, 0] > 0).astype(int)
    extra = dict(frozen="genes", augmentation=FaceAugment(max_shift=1))
    a = PathNetClassifier(**FAST, **extra).fit_transfer(X, y).fit(X, 1 - y)
    b = MultiTaskPathNetClassifier(**FAST, **extra).fit_transfer(X, y).fit(X, 1 - y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert [h["fitness"] for h in a.history_] == [h["fitness"] for h in b.history_]


@pytest.mark.parametrize("param, value", [("fitness", "validation"), ("tie_break", "loss")])
def test_single_task_rules_are_refused(param, value):
    X, y, aus = multitask_data()
    with pytest.raises(ValueError, match=f"{param}={value!r} is a single-task rule"):
        MultiTaskPathNetClassifier(**FAST, **{param: value}).fit(X, y, aus=aus)


@pytest.mark.parametrize("bad, match", [
    ("aus", r"source 2 of 2: source_aus\[1\]\[0, 0\] is 2.0"),
    ("labels", "source 2 of 2: y has no emotion label"),
    ("features", "source 2 of 2: it has 5 features per segment, but source 1 has 12"),
])
def test_fit_transfer_checks_every_source_before_training_the_first(bad, match, monkeypatch):
    X, y, aus = multitask_data()
    X2, y2, aus2 = X.copy(), y.astype(object), aus.copy()
    if bad == "aus":
        aus2[0, 0] = 2
    elif bad == "labels":
        y2[:] = None
    else:
        X2 = X2[:, :5]
    trained = []
    monkeypatch.setattr(MultiTaskPathNetClassifier, "_train_task",
                        lambda self, *a, **k: trained.append(a))
    with pytest.raises(ValueError, match=match):
        MultiTaskPathNetClassifier(**FAST).fit_transfer([X, X2], [y, y2], source_aus=[aus, aus2])
    assert trained == []


def test_learns_emotions_and_aus_from_partly_labelled_samples():
    X, y, aus = multitask_data(n=240)
    y_obj = y.astype(object)
    y_obj[:60] = None
    partial = aus.astype(np.float64)
    partial[60:120] = -1
    partial[120:130, 0] = np.nan
    clf = MultiTaskPathNetClassifier(**LEARN).fit(X, y_obj, aus=partial)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.n_aus_ == 3
    assert clf.score(X, y) > 0.9
    proba = clf.predict_proba_aus(X)
    assert proba.shape == (240, 3) and proba.dtype == np.float32
    assert ((proba >= 0) & (proba <= 1)).all()
    pred = clf.predict_aus(X)
    assert pred.dtype == np.int8
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(np.int8))
    assert au_f1_scores(aus, pred)[1] > 0.8


@pytest.mark.parametrize("marker, kw", [(None, {}), (np.nan, {}), ("", {}),
                                        (-1, {"missing_label": -1})])
def test_missing_emotion_markers(marker, kw):
    X, y, aus = multitask_data()
    labels = np.array(["anger", "fear", "joy"], dtype=object)[y]
    if marker == -1:
        labels = y.copy()
    elif marker is np.nan:
        labels = y.astype(float)
    labels[:40] = marker
    clf = MultiTaskPathNetClassifier(**FAST, **kw).fit(X, labels, aus=aus)
    np.testing.assert_array_equal(clf.classes_, np.unique(labels[40:]))
    assert set(clf.predict(X)) <= set(clf.classes_)


def test_missing_labels_helper():
    y = np.array(["a", None, "", float("nan"), "b"], dtype=object)
    np.testing.assert_array_equal(missing_labels(y), [False, True, True, True, False])
    np.testing.assert_array_equal(missing_labels(np.array([0, -1, 2]), -1), [False, True, False])
    np.testing.assert_array_equal(missing_labels(np.array([0.0, np.nan])), [False, True])


@pytest.mark.parametrize("kwargs, match", [
    ({"aus": np.zeros((5, 3))}, r"aus has 5 rows but X has 120 samples"),
    ({"aus": np.zeros(120)}, r"2-D indicator matrix of shape \(n_samples, n_aus\)"),
    ({"aus": np.full((120, 2), 2)}, r"aus\[0, 0\] is 2.0; AU entries must be 0"),
    ({"aus": np.full((120, 2), -1)}, "aus has no labelled entry"),
    ({"aus": [["x"] * 2] * 120}, "aus must be a numeric matrix"),
])
def test_bad_aus_are_named(kwargs, match):
    X, y, _ = multitask_data()
    with pytest.raises(ValueError, match=match):
        MultiTaskPathNetClassifier(**FAST).fit(X, y, **kwargs)


def test_bad_labels_and_params_are_named():
    X, y, aus = multitask_data()
    with pytest.raises(ValueError, match="y has no emotion label: all 120 entries are missing"):
        MultiTaskPathNetClassifier(**FAST).fit(X, [None] * 120, aus=aus)
    with pytest.raises(ValueError, match="Unknown label type"):
        MultiTaskPathNetClassifier(**FAST).fit(X, np.linspace(0, 1, 120))
    for bad in (-1.0, float("nan"), "1", True):
        with pytest.raises(ValueError, match="au_weight must be a non-negative finite float"):
            MultiTaskPathNetClassifier(**FAST, au_weight=bad).fit(X, y, aus=aus)


def test_predict_aus_without_an_au_task_says_what_to_do():
    X, y, _ = multitask_data()
    clf = MultiTaskPathNetClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="fit got no AU labels.*pass aus= to fit"):
        clf.predict_aus(X)
    with pytest.raises(ValueError, match="source must be None or an integer"):
        MultiTaskPathNetClassifier(**FAST).fit_transfer(X, y).predict_proba_aus(X, source=1)


def test_transfer_from_a_multitask_source_to_an_emotion_only_target():
    Xs, ys, aus = multitask_data(seed=0)
    Xt, yt, _ = multitask_data(n=90, seed=5)
    base = MultiTaskPathNetClassifier(**LEARN).fit_transfer(Xs, ys, source_aus=aus)
    assert base.source_n_aus_ == [3]
    source_aus = base.predict_proba_aus(Xs, source=0)
    source_emotion = base.predict_proba_source(Xs)
    model = clone(base)
    assert model.source_n_aus_ == [3]
    np.testing.assert_array_equal(model.frozen_modules_[0], base.frozen_modules_[0])
    model.fit(Xt, yt)
    assert model.n_aus_ == 0 and model.score(Xt, yt) > 0.8
    # the frozen source task is untouched by target training (no forgetting), AUs included
    np.testing.assert_array_equal(model.predict_proba_aus(Xs, source=0), source_aus)
    np.testing.assert_array_equal(model.predict_proba_source(Xs), source_emotion)
    with pytest.raises(ValueError, match="fit got no AU labels"):
        model.predict_aus(Xt)


def test_transfer_levers_reach_the_multitask_fit_and_leave_the_sources():
    """frozen_weight, frozen_learning_rate (issue 31): emotions alone it is PathNetClassifier's
    fit; with AUs the sources' saved state and answers stay, refits agree."""
    import pickle

    Xs, ys, aus = multitask_data(seed=0)
    Xt, yt, aus_t = multitask_data(n=90, seed=5)
    levers = dict(frozen_weight=0.5, frozen_learning_rate=0.05)
    a = PathNetClassifier(**FAST, **levers).fit_transfer(Xs, ys).fit(Xt, yt)
    b = MultiTaskPathNetClassifier(**FAST, **levers).fit_transfer(Xs, ys).fit(Xt, yt)
    np.testing.assert_array_equal(a.predict_proba(Xt), b.predict_proba(Xt))
    base = MultiTaskPathNetClassifier(**FAST, **levers).fit_transfer(Xs, ys, source_aus=aus)
    saved = pickle.dumps(base._source_state)
    before = base.predict_proba_aus(Xs, source=0), base.predict_proba_source(Xs)
    model = clone(base).fit(Xt, yt, aus=aus_t)
    assert pickle.dumps(model._source_state) == saved
    np.testing.assert_array_equal(model.predict_proba_aus(Xs, source=0), before[0])
    np.testing.assert_array_equal(model.predict_proba_source(Xs), before[1])
    again = clone(base).fit(Xt, yt, aus=aus_t)
    np.testing.assert_array_equal(again.predict_proba_aus(Xt), model.predict_proba_aus(Xt))
    plain = clone(base).set_params(frozen_learning_rate=0.0).fit(Xt, yt, aus=aus_t)
    assert not np.array_equal(plain.predict_proba(Xt), model.predict_proba(Xt))


def test_fit_transfer_several_sources_needs_one_au_entry_each():
    Xs, ys, aus = multitask_data()
    clf = MultiTaskPathNetClassifier(**{**FAST, "n_generations": 2})
    with pytest.raises(ValueError, match="source_aus must be a list of 2 AU matrices"):
        clf.fit_transfer([Xs, Xs], [ys, ys], source_aus=aus)
    clf.fit_transfer([Xs, Xs], [ys, ys], source_aus=[None, aus])
    assert clf.source_n_aus_ == [0, 3]
    assert clf.predict_aus(Xs[:5], source=1).shape == (5, 3)


def test_aus_reach_fit_through_cross_validate():
    X, y, aus = multitask_data()
    groups = np.arange(len(X)) % 4
    res = cross_validate(MultiTaskPathNetClassifier(**LEARN), X, y, groups=groups,
                         cv=GroupKFold(2), params={"aus": aus}, return_estimator=True)
    assert [m.n_aus_ for m in res["estimator"]] == [3, 3]
    assert res["test_score"].min() > 0.8


def test_clips_share_the_clip_aus():
    from conftest import clips_of
    X, y, aus = multitask_data(n=60)
    clips = clips_of(X)
    clf = MultiTaskPathNetClassifier(**FAST).fit(clips, y, aus=aus)
    assert clf.predict_proba_aus(clips).shape == (60, 3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_fit_matches_the_cpu_task():
    X, y, aus = multitask_data()
    clf = MultiTaskPathNetClassifier(**FAST, device="cuda").fit(X, y, aus=aus)
    assert clf.score(X, y) > 0.8
    assert clf.predict_aus(X).shape == aus.shape


# -- AU F1 ------------------------------------------------------------------------------
def test_au_f1_equals_sklearn_on_fully_labelled_data():
    rng = np.random.RandomState(0)
    y_true = rng.randint(2, size=(50, 4))
    y_pred = rng.randint(2, size=(50, 4))
    f1, mean = au_f1_scores(y_true, y_pred)
    np.testing.assert_allclose(f1, f1_score(y_true, y_pred, average=None))
    assert mean == pytest.approx(f1_score(y_true, y_pred, average="macro"))


def test_au_f1_ignores_unlabelled_entries_and_leaves_undefined_aus_out():
    y_true = np.array([[1, 0, 0], [0, -1, 0], [1, np.nan, 0]])
    y_pred = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 0]])
    f1, mean = au_f1_scores(y_true, y_pred)
    # AU 0: TP 1, FP 1, FN 1 -> 0.5; AU 1: FP 1 on row 0 only -> 0; AU 2: undefined
    np.testing.assert_allclose(f1, [0.5, 0.0, np.nan])
    assert mean == pytest.approx(0.25)
    flipped = y_pred.copy()
    flipped[1, 1], flipped[2, 1] = 0, 1  # predictions at unlabelled entries do not count
    np.testing.assert_allclose(au_f1_scores(y_true, flipped)[0], f1)
    with pytest.raises(ValueError, match="same shape"):
        au_f1_scores(y_true, y_pred[:, :2])
    with pytest.raises(ValueError, match="y_pred entries must be 0 or 1"):
        au_f1_scores(y_true, y_pred * 2)


# -- the CK+ AU table -------------------------------------------------------------------
@pytest.mark.data
def test_ckplus_aus_match_the_table(data_home):
    data = load_ckplus(data_home, aus=True)
    assert data.aus.dtype == np.int8 and data.aus.shape == (981, 24)
    numbers = [int(name[2:]) for name in data.au_names]
    assert numbers == sorted(numbers) and data.au_names[0] == "AU01"
    expected = {"S010_004": ["AU04", "AU07", "AU17", "AU23", "AU24"],
                "S005_001": ["AU09", "AU17"],
                "S128_004": ["AU04", "AU07", "AU09", "AU17"]}  # "1.7" in CK+, read as AU17
    for sequence, names in expected.items():
        rows = np.flatnonzero(data.sequence == sequence)
        assert len(rows) == 3
        for row in rows:
            assert list(data.au_names[data.aus[row] == 1]) == names
    counts = dict(zip(data.au_names, data.aus.sum(0) // 3))  # 3 frames per sequence
    assert counts["AU25"] == 181 and counts["AU01"] == 130 and counts["AU28"] == 1


def _ckplus_tree(root, table):
    for rel in ("anger/S010_004_00000017.png", "anger/S010_004_00000018.png",
                "happy/S011_002_00000009.png"):
        (root / "ckplus48" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "ckplus48" / rel).touch()
    if table is not None:
        (root / "ckplus48_aus.csv").write_text(table)


def test_ckplus_aus_tree(tmp_path):
    _ckplus_tree(tmp_path, "sequence,aus\nS010_004,4 17\nS011_002,12\nS099_001,\n")
    data = load_ckplus(tmp_path, aus=True)
    np.testing.assert_array_equal(data.au_names, ["AU04", "AU12", "AU17"])
    np.testing.assert_array_equal(data.aus, [[1, 0, 1], [1, 0, 1], [0, 1, 0]])
    assert "aus" not in load_ckplus(tmp_path)


def test_ckplus_aus_missing_table_names_the_path(tmp_path):
    _ckplus_tree(tmp_path, None)
    path = str(tmp_path / "ckplus48_aus.csv")
    with pytest.raises(FileNotFoundError, match=f"{path}.*not found.*aus=False"):
        load_ckplus(tmp_path, aus=True)


def test_ckplus_aus_absent_sequences_are_named(tmp_path):
    _ckplus_tree(tmp_path, "sequence,aus\nS010_004,4 17\n")
    with pytest.raises(ValueError, match=r"1 CK\+48 sequences have no row .*: S011_002\."):
        load_ckplus(tmp_path, aus=True)


@pytest.mark.parametrize("table, match", [
    ("sequence,au\nS010_004,4\n", r"no column \['aus'\]"),
    ("sequence,aus\nS010_004,4 1.7\nS011_002,12\n", r"line 2 \(S010_004\): AU list '4 1.7'"),
])
def test_ckplus_aus_bad_table(tmp_path, table, match):
    _ckplus_tree(tmp_path, table)
    with pytest.raises(ValueError, match=match):
        load_ckplus(tmp_path, aus=True)


@pytest.mark.parametrize("method", ["fit", "fit_transfer"])
def test_interrupted_fit_leaves_the_estimator_as_it_was(method, monkeypatch):
    from conftest import fitted_state

    X, y, aus = multitask_data()
    clf = MultiTaskPathNetClassifier(**FAST).fit_transfer(X, y, source_aus=aus).fit(X, y, aus=aus)
    before = fitted_state(clf)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(MultiTaskPathNetClassifier, "_train_task", interrupt)
    with pytest.raises(KeyboardInterrupt):
        getattr(clf, method)(X, y, **({"aus": aus} if method == "fit" else {"source_aus": aus}))
    assert fitted_state(clf) == before


def test_changed_architecture_after_transfer_is_named():
    X, y, aus = multitask_data()
    clf = MultiTaskPathNetClassifier(**FAST).fit_transfer(X, y, source_aus=aus)
    with pytest.raises(ValueError, match="n_layers=2 differs from the transferred"):
        clone(clf).set_params(n_layers=2).fit(X, y)
