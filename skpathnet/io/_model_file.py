"""Model files: a fitted estimator or pipeline in one safetensors file, without pickle."""

import datetime
import hashlib
import json
import os
import platform
import warnings
from pathlib import Path

import numpy as np

from ._codec import decode, encode

__all__ = ["FORMAT", "FORMAT_VERSION", "ModelFileError", "ModelVersionWarning", "load",
           "read_info", "save"]

#: What a model file says it is (its ``format`` metadata entry).
FORMAT = "skpathnet.model"
#: The version of the layout this version of skpathnet writes and reads.
FORMAT_VERSION = 1

# metadata entries of the safetensors header (all strings)
_INFO, _DOCUMENT, _DIGEST = "info", "document", "sha256"


class ModelFileError(ValueError):
    """A model file cannot be loaded: not a model file, damaged, modified, or too new."""


class ModelVersionWarning(UserWarning):
    """A model file was written by another version of skpathnet, scikit-learn or torch."""


def save(obj, path, *, info=None):
    """Save a fitted estimator or pipeline to ``path``, with no pickle in the file.

    The file is a `safetensors <https://huggingface.co/docs/safetensors>`_
    file: every numeric array and tensor (weights, genotypes, scalers) is a
    tensor of it, and everything else (parameters, classes, frozen modules,
    task states, front-end settings) is one JSON document in its header,
    beside a description (:func:`read_info`) and a SHA-256 of the contents.
    Loading it runs no code from the file (:func:`load`). Written
    atomically: a temporary file, then renamed.

    Parameters
    ----------
    obj : estimator
        A skpathnet estimator or transformer (:class:`~skpathnet.PathNetClassifier`,
        :class:`~skpathnet.MultiTaskPathNetClassifier`,
        :class:`~skpathnet.baselines.FineTuneClassifier`, the transformers,
        :class:`~skpathnet.transformers.GroupStandardScaler`), a
        :class:`~sklearn.pipeline.Pipeline` of them, or one of the
        scikit-learn types of :data:`skpathnet.io.SKLEARN_TYPES`; fitted or
        not. A pretrained model (after ``fit_transfer`` only) is a library
        of frozen pathways: :func:`load` it and ``fit`` on a target.
    path : path-like
        The file to write (by convention ``.safetensors``); its folder must
        exist.
    info : dict, default=None
        JSON-able details kept in the description, e.g. the corpora it was
        trained on and an evaluation (the CLI's ``fit --evaluate``).

    Returns
    -------
    info : dict
        The description written (as :func:`read_info` returns it).

    Raises
    ------
    TypeError
        If ``obj`` holds a value that cannot be saved without pickle (e.g.
        a joblib ``Memory`` as ``memory``: use a folder path or None); the
        message names where it is. Nothing is written then.
    ValueError
        If ``info`` is not JSON-able.
    OSError
        If the file cannot be written.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> import skpathnet
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.normal(size=(40, 5)), np.repeat([0, 1], 20)
    >>> clf = skpathnet.PathNetClassifier(n_generations=2, population_size=2,
    ...                                   random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> _ = skpathnet.save(clf, path)
    >>> bool((skpathnet.load(path).predict_proba(X) == clf.predict_proba(X)).all())
    True
    """
    from .. import __version__

    arrays = {}
    document = json.dumps(encode(obj, arrays, type(obj).__name__), allow_nan=False)
    described = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(__version__),
        **describe(obj),
    }
    if info is not None:
        try:
            described.update(json.loads(json.dumps(info, allow_nan=False)))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"info must be JSON-able (numbers, strings, lists, dicts): {exc}") \
                from exc
    tensors = {k: np.ascontiguousarray(v, dtype=v.dtype.newbyteorder("="))
               for k, v in arrays.items()}
    header = json.dumps(described)
    metadata = {"format": FORMAT, "format_version": str(FORMAT_VERSION), _INFO: header,
                _DOCUMENT: document}
    metadata[_DIGEST] = _digest(metadata, tensors)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    from safetensors.numpy import save_file

    try:
        save_file(tensors, str(tmp), metadata=metadata)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return described


def load(path):
    """Load a model file written by :func:`save`; no code in the file runs.

    The SHA-256 of the contents is checked before anything is built, and
    objects are rebuilt only for trusted types (skpathnet's estimators,
    transformers and state structures, and
    :data:`skpathnet.io.SKLEARN_TYPES`), by setting their saved attributes.
    Predictions of the loaded object are bit-identical to the saved one's
    (on the same device and library versions).

    Parameters
    ----------
    path : path-like

    Returns
    -------
    obj : estimator

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        If the file is not a skpathnet model file (e.g. a pickle or another
        safetensors file), is truncated or damaged, was modified after it
        was written (the SHA-256 differs), was written in a newer format
        version, or names a type skpathnet does not load. The message names
        the file and what is wrong.

    Warns
    -----
    ModelVersionWarning
        If the file was written with another version of skpathnet,
        scikit-learn or torch; predictions may then differ slightly.
    """
    from .. import __version__

    path = Path(path)
    metadata, tensors = _read(path, tensors=True)
    if _digest({k: v for k, v in metadata.items() if k != _DIGEST}, tensors) \
            != metadata.get(_DIGEST):
        raise ModelFileError(
            f"{str(path)!r} was modified after it was written (its SHA-256 does not match "
            "the one it records); nothing in it was loaded. Get the file again from its source."
        )
    info = _parse(path, metadata[_INFO], "description")
    saved = info.get("versions", {})
    now = _versions(__version__)
    changed = [f"{k} {saved.get(k)} (now {now[k]})" for k in ("skpathnet", "scikit-learn",
                                                                "torch")
               if saved.get(k) != now[k]]
    if changed:
        warnings.warn(f"{str(path)!r} was written with {', '.join(changed)}; predictions may "
                      "differ slightly from the saved model's.", ModelVersionWarning,
                      stacklevel=2)
    try:
        return decode(_parse(path, metadata[_DOCUMENT], "document"), tensors)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelFileError(
            f"{str(path)!r} cannot be loaded by this version of skpathnet ({exc}); nothing in "
            "it was run."
        ) from exc


def read_info(path):
    """The description of a model file, without loading the model.

    Reads the safetensors header only (no tensor, no network is built).

    Parameters
    ----------
    path : path-like

    Returns
    -------
    info : dict
        ``format``, ``format_version``, ``created`` (UTC, ISO 8601),
        ``versions`` (skpathnet, scikit-learn, torch, numpy, python), what
        :func:`describe` gives (``estimator``, ``steps``, ``classes``,
        ``sources``, ``front_end``, ``speaker_normalisation``,
        ``parameters``), ``n_tensors``, ``n_bytes``, and the ``info`` given
        to :func:`save`.

    Raises
    ------
    FileNotFoundError, ModelFileError
        As :func:`load` (the SHA-256 is not checked here).
    """
    path = Path(path)
    metadata, shapes = _read(path, tensors=False)
    info = _parse(path, metadata[_INFO], "description")
    info["n_tensors"] = len(shapes)
    info["n_bytes"] = path.stat().st_size
    return info


def describe(obj):
    """What a model is, in JSON-able terms (the description :func:`save` writes).

    Parameters
    ----------
    obj : estimator or Pipeline

    Returns
    -------
    description : dict
        ``estimator`` (class name), ``steps`` (a pipeline's step names and
        classes), ``classes`` (the final step's, when fitted), ``sources``
        (each transferred source's classes and pathway), ``parameters``
        (the final step's, as strings where not JSON-able), ``front_end``
        (the first step's class and parameters, when it is a transformer of
        clips) and ``speaker_normalisation`` (whether a step standardises
        each speaker).
    """
    from sklearn.pipeline import Pipeline

    steps = list(obj.steps) if isinstance(obj, Pipeline) else [(None, obj)]
    final = steps[-1][1]
    out = {"estimator": type(obj).__name__}
    if isinstance(obj, Pipeline):
        out["steps"] = [{"name": n, "type": type(s).__name__} for n, s in steps]
        if len(steps) > 1:
            first = steps[0][1]
            out["front_end"] = {"type": type(first).__name__, "parameters": _jsonable(
                first.get_params(deep=False))}
    out["speaker_normalisation"] = any(type(s).__name__ == "GroupStandardScaler"
                                       for _, s in steps)
    if hasattr(final, "get_params"):
        out["parameters"] = _jsonable(final.get_params(deep=False))
    if hasattr(final, "classes_"):
        out["classes"] = _jsonable(list(final.classes_))
    if hasattr(final, "source_classes_"):
        paths = getattr(final, "source_paths_", [None] * len(final.source_classes_))
        out["sources"] = [{"classes": _jsonable(list(c)),
                           "pathway": None if p is None else np.asarray(p).tolist()}
                          for c, p in zip(final.source_classes_, paths)]
    return out


def _jsonable(value):
    return json.loads(json.dumps(value, default=lambda v: v.item() if isinstance(
        v, np.generic) else repr(v)))


def _versions(skpathnet_version):
    import sklearn
    import torch

    return {"skpathnet": skpathnet_version, "scikit-learn": sklearn.__version__,
            "torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version()}


def _digest(metadata, tensors):
    """SHA-256 of the metadata entries and the tensors (name, dtype, shape, bytes)."""
    h = hashlib.sha256()
    for key in sorted(metadata):
        h.update(f"{key}\0{metadata[key]}\0".encode())
    for key in sorted(tensors):
        t = tensors[key]
        h.update(f"{key}\0{t.dtype.str}\0{t.shape}\0".encode())
        h.update(np.ascontiguousarray(t).tobytes())
    return h.hexdigest()


def _read(path, *, tensors):
    """``(metadata, tensors or their shapes)`` of a model file; ModelFileError if not one."""
    if not path.exists():
        raise FileNotFoundError(f"no model file {str(path)!r}")
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="np") as f:
            metadata = f.metadata() or {}
            _check_format(path, metadata)
            out = ({k: f.get_tensor(k) for k in f.keys()} if tensors
                   else {k: f.get_slice(k).get_shape() for k in f.keys()})
    except ModelFileError:
        raise
    except (SafetensorError, OSError, ValueError, TypeError) as exc:
        raise ModelFileError(
            f"{str(path)!r} is not a skpathnet model file, or it is truncated or damaged "
            f"({type(exc).__name__}: {exc}); nothing in it was run. Model files are written "
            "by skpathnet.save or `skpathnet pretrain/fit --out`; pickle and joblib files are "
            "never loaded by skpathnet.load."
        ) from exc
    missing = [k for k in (_INFO, _DOCUMENT, _DIGEST) if k not in metadata]
    if missing:
        raise ModelFileError(f"{str(path)!r} lacks its {', '.join(missing)} entry; it is not a "
                             "complete skpathnet model file.")
    return metadata, out


def _check_format(path, metadata):
    if metadata.get("format") != FORMAT:
        raise ModelFileError(
            f"{str(path)!r} is a safetensors file but not a skpathnet model file (format "
            f"{metadata.get('format')!r}); load it with the library that wrote it."
        )
    version = metadata.get("format_version")
    if not (isinstance(version, str) and version.isdigit()):
        raise ModelFileError(f"{str(path)!r} has no valid format version ({version!r}).")
    if int(version) > FORMAT_VERSION:
        raise ModelFileError(
            f"{str(path)!r} was written in model format {version}, newer than this version of "
            f"skpathnet reads ({FORMAT_VERSION}); upgrade skpathnet (pip install -U skpathnet)."
        )
    if int(version) < 1:
        raise ModelFileError(f"{str(path)!r} has an unknown model format version {version}.")


def _parse(path, text, what):
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ModelFileError(f"the {what} in {str(path)!r} is not valid JSON ({exc}); the "
                             "file is damaged.") from exc
    if not isinstance(value, dict):
        raise ModelFileError(f"the {what} in {str(path)!r} is not a JSON object; the file "
                             "is damaged.")
    return value
