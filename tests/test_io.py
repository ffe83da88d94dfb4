"""Model files (skpathnet.io): safe, exact round trips, pathways as artefacts, refusals."""

import json
import pickle
import warnings

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file
from sklearn import config_context
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skpathnet
from skpathnet import MultiTaskPathNetClassifier, PathNetClassifier
from skpathnet.baselines import FineTuneClassifier
from skpathnet.io import ModelFileError, ModelVersionWarning, read_info
from skpathnet.io._model_file import _digest
from skpathnet.transformers import GroupStandardScaler

from conftest import blobs

FAST = dict(n_generations=2, population_size=2, n_modules=4, n_active=2, n_units=8,
            random_state=0)


@pytest.fixture
def model_path(tmp_path):
    return tmp_path / "model.safetensors"


def _sources(n_features=6, shape=None):
    (Xa, ya), (Xb, yb) = (blobs(80, n_features, 2, seed=1, shape=shape),
                          blobs(60, n_features, 3, seed=2, shape=shape))
    return [Xa, Xb], [ya, np.array(list("xyz"))[yb]]


def _round_trip(obj, path):
    skpathnet.save(obj, path)
    return skpathnet.load(path)


@pytest.mark.parametrize("make", [
    lambda: PathNetClassifier(**FAST),
    lambda: PathNetClassifier(module="conv", n_channels=2, **FAST),
    lambda: MultiTaskPathNetClassifier(**FAST),
    lambda: FineTuneClassifier(max_epochs=2, hidden_units=(8,), random_state=0),
], ids=["pathnet", "pathnet-conv", "multitask", "finetune"])
def test_round_trip_is_bit_identical(make, model_path):
    shape = (1, 4, 4) if "conv" in repr(make()) else None
    n_features = 16 if shape else 6
    source_X, source_y = _sources(n_features, shape)
    X, y = blobs(60, n_features, 3, seed=3, shape=shape)
    est = make().fit_transfer(source_X, source_y).fit(X, y)
    loaded = _round_trip(est, model_path)
    assert type(loaded) is type(est)
    assert loaded.get_params() == est.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    for k in range(2):
        np.testing.assert_array_equal(loaded.predict_proba_source(source_X[k], source=k),
                                      est.predict_proba_source(source_X[k], source=k))


def test_pipeline_with_routing_round_trips(model_path):
    X, y = blobs(60, 6, 3, seed=4)
    groups = np.repeat(["s1", "s2", "s3"], 20)
    with config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            GroupStandardScaler().set_fit_request(groups=True).set_transform_request(groups=True),
            StandardScaler(), PathNetClassifier(**FAST),
        ).fit(X, y, groups=groups)
        loaded = _round_trip(pipe, model_path)
        np.testing.assert_array_equal(loaded.predict_proba(X, groups=groups),
                                      pipe.predict_proba(X, groups=groups))
    info = read_info(model_path)
    assert info["estimator"] == "Pipeline" and info["speaker_normalisation"] is True
    assert [s["type"] for s in info["steps"]] == ["GroupStandardScaler", "StandardScaler",
                                                  "PathNetClassifier"]
    assert info["classes"] == [0, 1, 2]


def test_pretrained_model_transfers_exactly_as_the_original(model_path):
    source_X, source_y = _sources()
    pretrained = PathNetClassifier(**FAST).fit_transfer(source_X, source_y)
    loaded = _round_trip(pretrained, model_path)
    X, y = blobs(60, 6, 3, seed=5)
    a, b = pretrained.fit(X, y), loaded.fit(X, y)
    np.testing.assert_array_equal(a.best_path_, b.best_path_)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    info = read_info(model_path)
    assert [s["classes"] for s in info["sources"]] == [[0, 1], ["x", "y", "z"]]
    assert "classes" not in info  # no target yet: a library of pathways


@pytest.mark.parametrize("make", [PathNetClassifier, MultiTaskPathNetClassifier])
def test_transfer_levers_round_trip(make, model_path):
    """frozen_weight's float layer counts and the parameters of issue 31 come back exactly."""
    source_X, source_y = _sources()
    X, y = blobs(60, 6, 3, seed=3)
    est = make(frozen_weight=0.5, frozen_learning_rate=0.05, **FAST).fit_transfer(
        source_X, source_y).fit(X, y)
    assert any(s.count % 1 for s in est._target_state.pathway)  # a weighted average
    loaded = _round_trip(est, model_path)
    assert loaded.get_params() == est.get_params()
    assert [s.count for s in loaded._target_state.pathway] == \
        [s.count for s in est._target_state.pathway]
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    for k in range(2):
        np.testing.assert_array_equal(loaded.predict_proba_source(source_X[k], source=k),
                                      est.predict_proba_source(source_X[k], source=k))
    np.testing.assert_array_equal(loaded.fit(X, y).predict_proba(X), est.predict_proba(X))


def _drop_saved_attributes(path, names):
    """Rewrite a model file as one written before the attributes ``names`` existed."""
    document = json.loads(_metadata(path)["document"])
    state = document["state"]
    keep = [i for i, k in enumerate(state["keys"]) if k not in names]
    assert len(keep) == len(state["keys"]) - len(names)
    state["keys"], state["values"] = ([state[f][i] for i in keep] for f in ("keys", "values"))
    _rewrite(path, metadata={"document": json.dumps(document)})


def test_a_file_older_than_a_parameter_loads_with_its_default(model_path):
    """A model file written before frozen_weight and frozen_learning_rate existed."""
    source_X, source_y = _sources()
    pretrained = PathNetClassifier(**FAST).fit_transfer(source_X, source_y)
    skpathnet.save(pretrained, model_path)
    _drop_saved_attributes(model_path, ("frozen_weight", "frozen_learning_rate"))
    loaded = skpathnet.load(model_path)
    assert loaded.get_params() == pretrained.get_params()
    X, y = blobs(60, 6, 3, seed=5)
    np.testing.assert_array_equal(loaded.fit(X, y).predict_proba(X),
                                  pretrained.fit(X, y).predict_proba(X))


def test_any_estimator_older_than_a_parameter_loads_with_its_default(model_path):
    """The same for every estimator the codec rebuilds: fine-tuning before ewc_lambda."""
    X, y = blobs(60, 6, 3, seed=5)
    est = FineTuneClassifier(max_epochs=2, hidden_units=(8,), random_state=0).fit(X, y)
    skpathnet.save(est, model_path)
    _drop_saved_attributes(model_path, ("ewc_lambda",))
    loaded = skpathnet.load(model_path)
    assert loaded.get_params() == est.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))


def test_append_grows_the_frozen_set_and_keeps_old_sources(model_path):
    source_X, source_y = _sources()
    first = PathNetClassifier(**FAST).fit_transfer(source_X[0], source_y[0])
    loaded = _round_trip(first, model_path)
    before = [f.copy() for f in loaded.frozen_modules_]
    old_proba = loaded.predict_proba_source(source_X[0], source=0)
    loaded.fit_transfer(source_X[1], source_y[1], append=True)
    assert len(loaded.source_classes_) == 2
    for old, new in zip(before, loaded.frozen_modules_):
        assert set(old) <= set(new)
    assert sum(map(len, loaded.frozen_modules_)) > sum(map(len, before))
    # the first source is not forgotten: bit-identical posteriors
    np.testing.assert_array_equal(loaded.predict_proba_source(source_X[0], source=0), old_proba)
    with pytest.raises(ValueError, match="append=True: the new sources do not fit.*7 features"):
        loaded.fit_transfer(*blobs(30, 7, 2), append=True)
    assert len(loaded.source_classes_) == 2  # unchanged by the failed call


def test_unfitted_transformers_and_metadata(model_path):
    scaler = GroupStandardScaler(min_class_coverage=0.25)
    loaded = _round_trip(scaler, model_path)
    assert loaded.get_params() == scaler.get_params()
    info = read_info(model_path)
    assert info["format"] == "skpathnet.model" and info["format_version"] == 1
    assert set(info["versions"]) >= {"skpathnet", "scikit-learn", "torch"}


def test_info_is_kept_and_must_be_jsonable(model_path):
    skpathnet.save(GroupStandardScaler(), model_path, info={"evaluation": {"war": 0.5}})
    assert read_info(model_path)["evaluation"] == {"war": 0.5}
    with pytest.raises(ValueError, match="info must be JSON-able"):
        skpathnet.save(GroupStandardScaler(), model_path, info={"x": object()})


def test_unsavable_value_names_where_and_writes_nothing(model_path):
    from joblib import Memory

    front = skpathnet.LogMelSegmenter(memory=Memory(None))
    with pytest.raises(TypeError, match=r"LogMelSegmenter\.memory: joblib.*folder path \(str\) or None"):
        skpathnet.save(front, model_path)
    assert not model_path.exists()
    with pytest.raises(TypeError, match="not a type skpathnet saves"):
        skpathnet.save(make_pipeline(_Custom()), model_path)


class _Custom:  # not trusted: a class outside skpathnet's estimators and state
    def fit(self, X, y=None):
        return self


# --------------------------------------------------------------------------- refusals


def _rewrite(path, *, metadata=None, tensors=None, resign=True):
    """Write ``path`` again with changed metadata/tensors (re-signed: a valid SHA-256)."""
    with safe_open(str(path), framework="np") as f:
        meta = dict(f.metadata())
        arrays = {k: f.get_tensor(k) for k in f.keys()}
    meta.update(metadata or {})
    arrays.update(tensors or {})
    if resign:
        meta["sha256"] = _digest({k: v for k, v in meta.items() if k != "sha256"}, arrays)
    save_file(arrays, str(path), metadata=meta)


@pytest.fixture
def saved(model_path):
    X, y = blobs(40, 6, 2)
    skpathnet.save(PathNetClassifier(**FAST).fit(X, y), model_path)
    return model_path


def test_modified_file_is_refused(saved):
    with safe_open(str(saved), framework="np") as f:
        name = next(iter(f.keys()))
        tensor = f.get_tensor(name)
    _rewrite(saved, tensors={name: tensor + 1}, resign=False)
    with pytest.raises(ModelFileError, match="modified after it was written"):
        skpathnet.load(saved)


def test_future_format_is_refused(saved):
    _rewrite(saved, metadata={"format_version": "2"})
    with pytest.raises(ModelFileError, match="model format 2, newer.*upgrade skpathnet"):
        skpathnet.load(saved)
    with pytest.raises(ModelFileError, match="newer"):
        read_info(saved)


def test_other_safetensors_file_is_refused(model_path):
    save_file({"w": np.zeros(3, np.float32)}, str(model_path))
    with pytest.raises(ModelFileError, match="not a skpathnet model file"):
        skpathnet.load(model_path)


def test_truncated_file_is_refused(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated or damaged"):
        skpathnet.load(saved)


def test_unknown_type_is_refused_and_not_imported(saved):
    document = json.dumps({"$": "object", "class": "os:system",
                           "state": {"$": "dict", "keys": [], "values": []}})
    _rewrite(saved, metadata={"document": document})
    with pytest.raises(ModelFileError, match="'os:system' is not one skpathnet loads"):
        skpathnet.load(saved)
    document = json.dumps({"$": "object", "class": "skpathnet.engine._network:PathNetwork",
                           "state": {"$": "dict", "keys": [], "values": []}})
    _rewrite(saved, metadata={"document": document})
    with pytest.raises(ModelFileError, match="not an estimator or state type"):
        skpathnet.load(saved)


class _Payload:
    """Unpickling this runs ``open(marker, "w")``: the test checks it never ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_payload_is_refused_and_runs_nothing(tmp_path, saved):
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Payload(marker))
    # a plain pickle file given as a model file
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(payload)
    with pytest.raises(ModelFileError, match="pickle and joblib files are never loaded"):
        skpathnet.load(pickled)
    # a model file whose document points at a pickle stored as a tensor
    document = json.dumps({"$": "pickle", "key": "payload"})
    _rewrite(saved, metadata={"document": document},
             tensors={"payload": np.frombuffer(payload, dtype=np.uint8)})
    with pytest.raises(ModelFileError, match="unknown value kind 'pickle'"):
        skpathnet.load(saved)
    assert not marker.exists()


def test_other_versions_warn(saved):
    info = json.loads(_metadata(saved)["info"])
    info["versions"]["torch"] = "1.0.0"
    _rewrite(saved, metadata={"info": json.dumps(info)})
    with pytest.warns(ModelVersionWarning, match=r"torch 1\.0\.0 \(now"):
        skpathnet.load(saved)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model file"):
        skpathnet.load(tmp_path / "nothing.safetensors")


def test_current_versions_do_not_warn(saved):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        skpathnet.load(saved)


def _metadata(path):
    with safe_open(str(path), framework="np") as f:
        return dict(f.metadata())


# --------------------------------------------------------------------------- ONNX


@pytest.mark.parametrize("frozen, frozen_weight", [("always", 1.0), ("genes", 1.0),
                                                   ("always", 0.3)])
def test_onnx_export_matches_torch(tmp_path, frozen, frozen_weight):
    pytest.importorskip("onnxruntime")
    from skpathnet.io import ONNX_TOLERANCE, export_onnx

    source_X, source_y = _sources()
    X, y = blobs(60, 6, 3, seed=6)
    clf = PathNetClassifier(frozen=frozen, frozen_weight=frozen_weight, **FAST).fit_transfer(
        source_X, source_y).fit(X, y)
    path = tmp_path / "model.onnx"
    diff = export_onnx(make_pipeline(StandardScaler(), clf), path, X_check=X)
    assert diff <= ONNX_TOLERANCE and path.exists()
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for n in (1, 7):  # any batch size
        proba = session.run(None, {"features": X[:n]})[0]
        np.testing.assert_allclose(proba, clf.predict_proba(X[:n]), atol=ONNX_TOLERANCE)


def test_onnx_export_refuses_what_it_cannot_export(tmp_path):
    pytest.importorskip("onnxruntime")
    from skpathnet.io import export_onnx

    with pytest.raises(ValueError, match="not a fitted PathNet classifier"):
        export_onnx(PathNetClassifier(), tmp_path / "m.onnx")
    X, y = blobs(40, 16, 2, shape=(1, 4, 4))
    conv = PathNetClassifier(module="conv", n_channels=2, **FAST).fit(X, y)
    with pytest.raises(ValueError, match='module="linear" pathways only'):
        export_onnx(conv, tmp_path / "m.onnx")
