import functools
import os
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def data_home():
    """The shared corpora folder: fails in CI if missing, skips elsewhere."""
    home = os.environ.get("SKPATHNET_DATA")
    if home and Path(home).is_dir():
        return Path(home)
    msg = (
        "real corpora not found: set SKPATHNET_DATA to the shared data folder "
        f"(currently {home!r})"
    )
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


def write_tone_corpus(home, *, emodb_speakers=("03", "08")):
    """EMO-DB and EMOVO layouts under ``home`` of seeded half-second tones.

    EMO-DB gets the given speakers (2 digits each), EMOVO speakers f1 and m1;
    each speaker has 2 emotions x 2 sentences. Returns ``home``.
    """
    import numpy as np
    import soundfile as sf

    rng = np.random.default_rng(0)
    t = np.arange(8000) / 16000

    def write(path, f0):
        path.parent.mkdir(parents=True, exist_ok=True)
        y = 0.3 * np.sin(2 * np.pi * f0 * t) + 0.01 * rng.standard_normal(len(t))
        sf.write(path, y.astype(np.float32), 16000)

    for s, speaker in enumerate(emodb_speakers):
        for code, f0 in (("W", 300.0), ("T", 120.0)):
            for sentence in ("a01", "a02"):
                write(home / "emodb" / "wav" / f"{speaker}{sentence}{code}a.wav", f0 + 20 * s)
    for s, speaker in enumerate(["f1", "m1"]):
        for code, f0 in (("rab", 320.0), ("tri", 110.0)):
            for sentence in ("b1", "b2"):
                write(home / "emovo" / speaker / f"{code}-{speaker}-{sentence}.wav", f0 + 20 * s)
    return home


@pytest.fixture
def one_torch_thread():
    """One torch thread for the test (``pytestmark = pytest.mark.usefixtures(...)``).

    Engine calls bypass the estimators' ``n_threads``; 2 threads on 2 busy
    cores are ~20x slower than 1.
    """
    from skpathnet.utils._threads import torch_threads

    with torch_threads(1):
        yield


@pytest.fixture
def tone_corpus():
    """:func:`write_tone_corpus`, for tests of the main job on a tiny synthetic corpus."""
    return write_tone_corpus


def blobs(n=120, n_features=12, n_classes=3, seed=0, *, shift=0.0, scale=3.0, shape=None):
    """Seeded Gaussian blobs: float32 ``X`` of shape (n, n_features) and int labels ``y``.

    Class centres are drawn with standard deviation ``scale`` (plus
    ``shift``), then each sample is its class centre plus unit noise.
    ``shape``: X reshaped to ``(n, *shape)`` (e.g. images).
    """
    rng = np.random.RandomState(seed)
    centers = rng.normal(scale=scale, size=(n_classes, n_features)) + shift
    y = rng.randint(n_classes, size=n)
    X = (centers[y] + rng.normal(size=(n, n_features))).astype(np.float32)
    return (X if shape is None else X.reshape(n, *shape)), y


def blobs_with(**defaults):
    """:func:`blobs` with other defaults, for a test module's usual data."""
    return functools.partial(blobs, **defaults)


def clips_of(X, seed=0):
    """Each sample of ``X`` (12 features) as a clip of 1-4 noisy segments shaped (k, 3, 2, 2)."""
    from skpathnet.utils import make_clips

    rng = np.random.RandomState(seed)
    out = []
    for row in X:
        k = rng.randint(1, 5)
        out.append((row + 0.1 * rng.normal(size=(k, row.size))).astype(np.float32)
                   .reshape(k, 3, 2, 2))
    return make_clips(out)


def images(n=48, size=8, n_classes=3, seed=0):
    """Images (n, 3, size, size): a bright square in colour channel ``class``."""
    rng = np.random.RandomState(seed)
    y = rng.randint(n_classes, size=n)
    X = rng.normal(scale=0.3, size=(n, 3, size, size)).astype(np.float32)
    for i, c in enumerate(y):
        X[i, c, 2:5, 1:4] += 2.0
    return X, y


# Small PathNet settings shared by the test modules (one torch thread: the test
# machine's cores are shared, and torch threads contend).
#: A few generations of a small network: fits the blobs in well under a second.
PATHNET_FAST = dict(n_generations=6, population_size=4, n_modules=6, n_active=2, n_units=8,
                    learning_rate=0.2, n_steps=8, n_threads=1, random_state=0)
#: The same network for wide data (n < d / 2: first_layer="auto" trains in the row space)
#: and transfer, with small batches.
PATHNET_WIDE = dict(n_generations=6, population_size=4, n_modules=6, n_active=2, n_units=8,
                    learning_rate=0.05, n_steps=6, batch_size=16, n_threads=1, random_state=0)
#: Convolutional modules on small images.
PATHNET_CONV = dict(module="conv", n_channels=4, n_generations=6, population_size=3,
                    n_modules=4, n_active=2, learning_rate=0.5, n_steps=8, batch_size=16,
                    n_threads=1, random_state=0)


def pathway_by_hand(h, stacked, genotype, frozen, *, mode="always", frozen_weight=1.0,
                    module=None):
    """One pathway's last-layer output, module by module, with the frozen modules weighted.

    The reference of issue 31's ``frozen_weight``: each layer outputs ``(sum of
    its trainable modules' ReLU outputs + w * sum of its frozen modules' ReLU
    outputs) / (n_trainable + w * n_frozen)`` (``w = 1``: the plain average of
    Nguyen et al. 2020, Sec. 3.3).

    Parameters
    ----------
    h : torch.Tensor or ndarray
        The first layer's input rows (for conv modules, images).
    stacked : list of (weight, bias)
        Per layer, every module's parameters (``weight[m]``, ``bias[m]``),
        torch tensors (e.g. leaves for autograd) or arrays.
    genotype : ndarray of shape (n_layers, n_active)
    frozen : list of ndarray of int
        Per layer, the frozen modules.
    mode : {"always", "genes"}, default="always"
        Frozen modules active always, or where a gene selects them.
    module : callable, default=None
        ``module(h, weight, bias)``: one module's pre-activation; default
        ``h @ weight + bias`` (linear modules).
    """
    module = module or (lambda x, w, b: x @ w + b)
    relu = (lambda z: z.clip(min=0)) if isinstance(h, np.ndarray) else (lambda z: z.clamp(min=0))
    w = frozen_weight
    for (weight, bias), genes, frz in zip(stacked, genotype, frozen):
        chosen = set(np.unique(genes).tolist())
        trainable = sorted(chosen - set(frz.tolist()))
        fixed = sorted(frz.tolist()) if mode == "always" else sorted(chosen & set(frz.tolist()))
        total = sum(relu(module(h, weight[m], bias[m])) for m in trainable)
        total = total + w * sum(relu(module(h, weight[m], bias[m])) for m in fixed)
        h = total / (len(trainable) + w * len(fixed))
    return h


def fitted_state(estimator):
    """Every attribute of ``estimator`` (fitted or not), pickled: compare bytes for equality."""
    import pickle

    return {name: pickle.dumps(value) for name, value in vars(estimator).items()}


#: sklearn's API checks that need no data, for transformers whose input tags
#: (paths, images) make ``parametrize_with_checks`` skip nearly everything.
DATA_FREE_CHECKS = (
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
    "check_get_params_invariance",
    "check_set_params",
    "check_parameters_default_constructible",
)


def run_data_free_check(check, estimator):
    """Run one of :data:`DATA_FREE_CHECKS` on ``estimator``."""
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, check)(type(estimator).__name__, estimator)


def load_benchmark(name):
    """The module of ``benchmarks/<name>.py`` (the scripts are no package)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_wav(path, *, seconds=0.25, f0=220.0, rate=16000, seed=0, subtype=None):
    """A seeded tone of ``seconds`` at ``path`` (format from the extension); returns it."""
    import numpy as np
    import soundfile as sf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    noise = 0.01 * np.random.default_rng(seed).standard_normal(len(t))
    sf.write(path, (0.3 * np.sin(2 * np.pi * f0 * t) + noise).astype(np.float32), rate,
             subtype=subtype)
    return path


def write_png(path, *, size=16, seed=0):
    """A seeded random grey PNG image of ``size`` x ``size`` at ``path`` (any name); returns it."""
    import cv2
    import numpy as np

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.random.default_rng(seed).integers(0, 256, (size, size), dtype=np.uint8)
    path.write_bytes(cv2.imencode(".png", image)[1].tobytes())
    return path


def tiny_methods(*, pathnet=None, finetune=None):
    """The learning curve's four methods (:func:`~skpathnet.experiments.curve_methods`), tiny.

    PathNet of 2 generations of 2 pathways over 4 modules of 4 units, fine-tuning of 2
    epochs of one 4-unit layer, one torch thread: seconds, not minutes.
    """
    from skpathnet.experiments import curve_methods

    return curve_methods(
        {"n_generations": 2, "population_size": 2, "n_modules": 4, "n_active": 2,
         "n_units": 4, "n_steps": 4, **(pathnet or {})},
        finetune={"max_epochs": 2, "hidden_units": (4,), **(finetune or {})},
        n_threads=1)


def grouped_experiment(n_groups=5, per_group=12, n_features=6, n_classes=3):
    """Two blob sources and a blob target of ``n_groups`` speakers, as ExperimentData.

    Each target speaker has ``per_group`` clips cycling over the classes, so every
    speaker holds every class; the sources have 4 speakers of 40 clips.
    """
    from skpathnet.experiments import Corpus, ExperimentData

    corpora = {}
    for seed, name in enumerate(["a", "b"]):
        X, y = blobs(40, n_features, n_classes, seed)
        corpora[name] = Corpus(X, y, np.arange(40) % 4)
    n = n_groups * per_group
    rng = np.random.RandomState(7)
    centers = rng.normal(scale=3.0, size=(n_classes, n_features))
    y = np.arange(n) % n_classes
    X = (centers[y] + rng.normal(size=(n, n_features))).astype(np.float32)
    groups = np.repeat([f"s{k}" for k in range(n_groups)], per_group)
    corpora["t"] = Corpus(X, y, groups)
    return ExperimentData(["a", "b"], "t", "audio", corpora)
