"""Seeded outputs of the estimators, recorded before a refactoring, stay bit-identical.

Each case fits an estimator on tiny seeded data (``fit_transfer`` on sources,
then ``fit`` on a target) and compares predictions, probabilities and
``history_`` with the values recorded in ``tests/data/behaviour_frozen/<case>.npz``
(saved without pickle) by the code as it was when the case was added. A
refactoring that changes any bit of them fails here.

Record them again (only for an intended change of behaviour, said in the
commit) with::

    PYTHONPATH=. python tests/test_behaviour_frozen.py --write [case ...]
"""

import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import blobs
from skpathnet import MultiTaskPathNetClassifier, PathNetClassifier
from skpathnet.baselines import FineTuneClassifier
from skpathnet.engine import FaceAugment

DATA = Path(__file__).resolve().parent / "data" / "behaviour_frozen"

# Tiny PathNet settings shared by the cases: a handful of generations.
TINY = dict(n_layers=2, n_modules=5, n_active=2, n_units=6, population_size=4,
            n_generations=5, learning_rate=0.1, batch_size=16, n_steps=3, n_threads=1,
            random_state=0)


def _blobs(n, n_features, n_classes, seed, *, shift=0):
    """Seeded Gaussian blobs: float32 ``X`` and string labels ``y``."""
    X, y = blobs(n, n_features, n_classes, seed, scale=2.0)
    return X, np.array([f"c{label + shift}" for label in y])


def _images(n, n_classes, seed, side=8):
    X, y = _blobs(n, 3 * side * side, n_classes, seed)
    return X.reshape(n, 3, side, side), y


def _clips(X, seed):
    """Group the rows of X into clips of 1 to 3 segments (a list of 2-D arrays)."""
    rng = np.random.RandomState(seed)
    sizes, total = [], 0
    while total < len(X):
        size = min(int(rng.randint(1, 4)), len(X) - total)
        sizes.append(size)
        total += size
    return [X[start : start + size] for start, size in zip(np.cumsum([0] + sizes), sizes)]


def _history(prefix, history):
    """The records of a ``history_`` as arrays, one per key (NaN where a record lacks it)."""
    out = {}
    keys = sorted({key for record in history for key in record})
    for key in keys:
        values = [record.get(key) for record in history]
        if key == "genotypes":
            out[f"{prefix}.{key}"] = np.array([np.stack(v) for v in values], dtype=np.int64)
            continue
        width = max(np.size(v) for v in values if v is not None)
        rows = [np.full(width, np.nan) if v is None else np.asarray(v, dtype=np.float64)
                .reshape(width) for v in values]
        out[f"{prefix}.{key}"] = np.array(rows)
    out[f"{prefix}.n_records"] = np.array(len(history))
    return out


def _pathnet_outputs(clf, X, sources):
    out = {
        "predict": clf.predict(X).astype(str),
        "predict_proba": clf.predict_proba(X),
        "predict_proba_segments": clf.predict_proba_segments(X),
        "best_path": clf.best_path_,
        "best_fitness": np.array(clf.best_fitness_),
        "n_steps": np.array(clf.n_steps_),
        "first_layer": np.array(clf.first_layer_),
        "frozen_modules": np.concatenate(clf.frozen_modules_),
        **_history("history", clf.history_),
    }
    for k, X_source in enumerate(sources):
        out[f"source{k}.proba"] = clf.predict_proba_source(X_source, source=k)
        out[f"source{k}.path"] = clf.source_paths_[k]
        out[f"source{k}.fitness"] = np.array(clf.source_fitness_[k])
        out.update(_history(f"source{k}.history", clf.source_history_[k]))
    return out


def _pathnet_case(params, *, sources, target, X_val=None):
    clf = PathNetClassifier(**{**TINY, **params})
    clf.fit_transfer([X for X, _ in sources], [y for _, y in sources])
    X, y = target
    clf.fit(X, y, **({} if X_val is None else {"X_val": X_val[0], "y_val": X_val[1]}))
    return _pathnet_outputs(clf, X, [X for X, _ in sources])


def case_linear():
    """Two sources with their own labels, a target of clips, X_val scored each generation."""
    sources = [_blobs(48, 10, 3, 1), _blobs(40, 10, 2, 2, shift=5)]
    X, y = _blobs(60, 10, 3, 3)
    clips = _clips(X, 0)
    clip_y = np.array([y[int(np.sum([len(c) for c in clips[:i]]))] for i in range(len(clips))])
    return _pathnet_case({}, sources=sources, target=(clips, clip_y),
                         X_val=_blobs(20, 10, 3, 3))


def case_linear_levers():
    """Every training lever of PathNetClassifier at once, parallel tournaments."""
    params = dict(weight_decay=0.01, momentum=0.5, fitness="validation", tie_break="loss",
                  final_steps=2, frozen="genes", tournament="parallel", validation_fraction=0.3)
    return _pathnet_case(params, sources=[_blobs(48, 10, 3, 4)], target=_blobs(48, 10, 3, 5))


def case_linear_row_space():
    """The row-space first layer (fewer samples than features), with weight decay."""
    params = dict(first_layer="row_space", weight_decay=0.05, momentum=0.3, n_units=4)
    return _pathnet_case(params, sources=[_blobs(24, 60, 2, 6)], target=_blobs(24, 60, 3, 7))


def case_conv():
    """Convolutional modules on 8 x 8 images, with FaceAugment."""
    params = dict(module="conv", n_channels=2, kernel_size=3, augmentation=FaceAugment(),
                  mutation_rate=0.5)
    return _pathnet_case(params, sources=[_images(32, 2, 8)], target=_images(32, 3, 9))


def case_conv_pooled():
    """Convolutional modules, global pooling, no augmentation, no standardisation."""
    params = dict(module="conv", n_channels=3, global_pooling=True, standardize=False)
    return _pathnet_case(params, sources=[_images(32, 2, 10)], target=_images(32, 2, 11))


def _multitask_data(n, seed, n_aus=3, n_classes=3):
    X, y = _blobs(n, 10, n_classes, seed)
    aus = np.stack([X[:, k] > 0 for k in range(n_aus)], 1).astype(np.int8)
    return X, y.astype(object), aus


def _multitask_case(params):
    (Xa, ya, aa), (Xb, yb, _) = _multitask_data(48, 12), _multitask_data(40, 13)
    ya[:8] = None                              # no emotion label
    aa = aa.astype(np.float64)
    aa[8:16] = -1                               # no AU label
    aa[16, 1] = np.nan
    X, y, aus = _multitask_data(48, 14, n_aus=2)
    y[:5] = None
    clf = MultiTaskPathNetClassifier(**{**TINY, **params})
    clf.fit_transfer([Xa, Xb], [ya, yb], source_aus=[aa, None])
    clf.fit(X, y, aus=aus, X_val=X[5:], y_val=y[5:])
    out = _pathnet_outputs(clf, X, [Xa, Xb])
    out["predict_proba_aus"] = clf.predict_proba_aus(X)
    out["source0.proba_aus"] = clf.predict_proba_aus(Xa, source=0)
    return out


def case_multitask():
    """Multi-task sources (emotions and AUs, missing labels), then a multi-task target."""
    return _multitask_case({})


def case_multitask_parallel():
    """The same with parallel tournaments and the row-space first layer."""
    return _multitask_case(dict(tournament="parallel", first_layer="row_space", au_weight=0.5))


def case_multitask_conv():
    """Multi-task on convolutional modules (the autograd step), on 8 x 8 images."""
    X, y = _images(32, 3, 20)
    aus = np.stack([X[:, 0, 0, k] > 0 for k in range(2)], 1).astype(np.int8)
    y = y.astype(object)
    y[:4] = None
    clf = MultiTaskPathNetClassifier(**{**TINY, "module": "conv", "n_channels": 2})
    clf.fit_transfer(*_images(32, 2, 21))
    clf.fit(X, y, aus=aus)
    out = _pathnet_outputs(clf, X, [])
    out["predict_proba_aus"] = clf.predict_proba_aus(X)
    return out


def _finetune_case(params, sources, target):
    clf = FineTuneClassifier(**{**dict(max_epochs=3, learning_rate=0.1, batch_size=16,
                                       n_threads=1, random_state=0), **params})
    clf.fit_transfer([X for X, _ in sources], [y for _, y in sources])
    X, y = target
    clf.fit(X, y, X_val=X[:10], y_val=y[:10])
    out = {
        "predict": clf.predict(X).astype(str),
        "predict_proba": clf.predict_proba(X),
        **_history("history", clf.history_),
    }
    for k, (X_source, _) in enumerate(sources):
        out[f"source{k}.proba"] = clf.predict_proba_source(X_source, source=k)
        out.update(_history(f"source{k}.history", clf.source_history_[k]))
    return out


def case_finetune():
    """Cascaded fine-tuning of the MLP on two sources, then the target."""
    return _finetune_case(dict(hidden_units=(8, 6)),
                          [_blobs(48, 10, 3, 15), _blobs(40, 10, 2, 16)], _blobs(40, 10, 3, 17))


def case_finetune_cnn():
    """The small CNN on 8 x 8 images."""
    return _finetune_case(dict(architecture="cnn", hidden_units=(2, 3)),
                          [_images(32, 2, 18)], _images(32, 3, 19))


def case_cli():
    """The command line on the tone corpus: evaluate's report, then pretrain, fit, predict."""
    import contextlib
    import csv
    import io
    import json
    import tempfile

    from conftest import write_tone_corpus
    from skpathnet.__main__ import main

    out = {}
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()) as so, \
            contextlib.redirect_stderr(io.StringIO()):
        home = write_tone_corpus(Path(tmp) / "data")
        common = ["--data-home", str(home), "--generations", "2", "--population", "2",
                  "--cache", "", "--quiet", "--n-jobs", "1", "--threads", "1"]
        assert main(["evaluate", "--source", "emovo", "--target", "emodb", *common,
                     "--out", f"{tmp}/out"]) == 0
        report = json.loads(next(Path(f"{tmp}/out").glob("*.json")).read_text())
        for method, result in sorted(report["methods"].items()):
            out[f"evaluate_{method}_proba"] = np.array(result["predictions"]["proba"])
            out[f"evaluate_{method}_pred"] = np.array(result["predictions"]["y_pred"])
        assert main(["pretrain", "--source", "emovo", *common, "--out", f"{tmp}/p.st"]) == 0
        assert main(["fit", "--pretrained", f"{tmp}/p.st", "--target", "emodb", *common,
                     "--out", f"{tmp}/m.st"]) == 0
        so.truncate(0)
        so.seek(0)
        assert main(["predict", f"{tmp}/m.st", str(home / "emodb" / "wav"), "--quiet",
                     "--n-jobs", "1", "--group-pattern", r"(?P<group>^\d\d)"]) == 0
        rows = list(csv.DictReader(io.StringIO(so.getvalue())))
    out["predict_label"] = np.array([r["label"] for r in rows])
    out["predict_proba"] = np.array([[float(r["p_anger"]), float(r["p_sadness"])]
                                     for r in rows])
    return out


CASES = {name[len("case_"):]: fn for name, fn in sorted(globals().items())
         if name.startswith("case_")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_outputs_are_bit_identical_to_the_recorded_ones(name):
    with np.load(DATA / f"{name}.npz", allow_pickle=False) as recorded:
        expected = dict(recorded)
    got = CASES[name]()
    assert sorted(got) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(np.asarray(got[key]), value, err_msg=f"{name}: {key}")
        assert np.asarray(got[key]).dtype == value.dtype, f"{name}: {key}"


def write(names=None):
    DATA.mkdir(parents=True, exist_ok=True)
    for name, fn in CASES.items():
        if names and name not in names:
            continue
        np.savez(DATA / f"{name}.npz", **{k: np.asarray(v) for k, v in fn().items()})
        print("wrote", DATA / f"{name}.npz")


if __name__ == "__main__":
    if sys.argv[1:2] != ["--write"]:
        sys.exit(__doc__)
    write(sys.argv[2:])
