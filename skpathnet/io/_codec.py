"""One encoding of fitted objects as JSON plus numeric arrays, for every file skpathnet writes.

Model files (:func:`skpathnet.io.save`, safetensors) and run checkpoints
(:mod:`skpathnet.experiments`, ``.npz`` parts) hold the same thing: a JSON
document describing a value (dicts, lists, numbers, strings, estimators and
their fitted state) and a flat dict of named numeric arrays. This module is
the one translation between the two; the containers around it differ.

**What is trusted.** Decoding never runs code from the file: an object is
rebuilt by ``object.__new__`` of a trusted class and its saved attributes
(no ``__init__``, no ``__setstate__``; an estimator's parameters that the file
does not hold, being older than them, get their defaults). Trusted classes are

* the skpathnet classes that are estimators (:class:`sklearn.base.BaseEstimator`),
  dataclasses or named tuples: estimators, transformers and their fitted
  state structures;
* the scikit-learn classes of :data:`SKLEARN_TYPES`, named by their public
  import path.

Anything else (a torch module, a function, a class of another package) is
refused on save and on load, with the place it was found.
"""

import dataclasses
import importlib
import inspect

import numpy as np
from sklearn import config_context
from sklearn.base import BaseEstimator

__all__ = ["SKLEARN_TYPES", "decode", "encode"]

#: The scikit-learn classes a file may hold, by public import path: what a
#: pipeline around skpathnet's estimators commonly uses. Their fitted state
#: is numbers, strings and arrays, saved as attributes like any estimator's.
SKLEARN_TYPES = (
    "sklearn.pipeline:Pipeline",
    "sklearn.preprocessing:StandardScaler",
    "sklearn.preprocessing:MinMaxScaler",
    "sklearn.decomposition:PCA",
    "sklearn.linear_model:LogisticRegression",
    "sklearn.svm:LinearSVC",
    "sklearn.svm:SVC",
)

# the kinds of array saved as numbers (the rest: str arrays, inline in the JSON document)
_NUMERIC = "biuf"


def encode(value, arrays, where="value"):
    """A JSON-able description of ``value``; its numeric arrays are added to ``arrays``.

    Parameters
    ----------
    value : object
        None, bool, int, float, str, NumPy arrays (bool, integer, float;
        str, or object arrays of str) and scalars, torch tensors, dicts,
        lists, tuples and named tuples of them, and objects of trusted
        classes (module docstring) whose attributes are such values. An
        estimator's metadata-routing requests (``set_fit_request`` ...) are
        kept.
    arrays : dict of str to ndarray
        Receives the numeric arrays, under keys ``"a0"``, ``"a1"``, ...
    where : str, default="value"
        The name of ``value`` in error messages.

    Returns
    -------
    spec : JSON-able

    Raises
    ------
    TypeError
        If ``value`` holds anything else; the message names where (e.g.
        ``value.steps[0][1].memory``) and the type.
    """
    if isinstance(value, np.generic):  # before float: np.float64 is a float
        return {"$": "scalar", "dtype": value.dtype.str,
                "value": encode(value.item(), arrays, where)}
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        if value != value or value in (float("inf"), float("-inf")):
            return {"$": "float", "value": repr(value)}  # JSON has no nan or inf
        return value
    if isinstance(value, np.ndarray):
        return _put(value, arrays, where)
    if type(value).__module__.startswith("torch") and type(value).__name__ in ("Tensor",
                                                                                "Parameter"):
        spec = _put(value.detach().cpu().numpy(), arrays, where)
        return {**spec, "$": "tensor", "device": str(value.device),
                "requires_grad": bool(value.requires_grad)}
    if isinstance(value, dict):
        return {"$": "dict", "keys": [encode(k, arrays, f"{where} key") for k in value],
                "values": [encode(v, arrays, f"{where}[{k!r}]") for k, v in value.items()]}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {"$": "namedtuple", "class": class_name(value, where),
                "items": [encode(v, arrays, f"{where}.{f}") for f, v in zip(value._fields,
                                                                              value)]}
    if isinstance(value, (list, tuple)):
        return {"$": type(value).__name__,
                "items": [encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(value)]}
    if hasattr(value, "__dict__") and not isinstance(value, type):
        name = class_name(value, where)
        state = dict(vars(value))
        requests = _routing_requests(state.pop("_metadata_request", None))
        hook = getattr(value, "_saved_state", None)  # e.g. a skorch net as its weights
        if callable(hook):
            state = hook(state)
        spec = {"$": "object", "class": name,
                "state": {"$": "dict", "keys": list(state),
                          "values": [encode(v, arrays, f"{where}.{k}")
                                     for k, v in state.items()]}}
        if requests:
            spec["requests"] = requests
        return spec
    raise TypeError(
        f"cannot save {where} ({type(value).__module__}.{type(value).__qualname__}) "
        "without pickle; only numbers, strings, arrays, tensors, containers of them and "
        "skpathnet or listed scikit-learn objects are saved."
    )


def decode(spec, arrays):
    """The value :func:`encode` described; runs no code from the document.

    Raises
    ------
    ValueError
        If the document is malformed, names an untrusted class, or refers to
        a missing array.
    """
    if not isinstance(spec, dict):
        if isinstance(spec, list):
            raise ValueError("a bare JSON list where a tagged value was expected")
        return spec
    kind = spec["$"]
    if kind == "float":
        return float(spec["value"])
    if kind == "scalar":
        return np.dtype(spec["dtype"]).type(decode(spec["value"], arrays))
    if kind in ("array", "tensor"):
        if "values" in spec:  # str arrays, inline
            array = np.array(spec["values"], dtype=spec["dtype"]).reshape(spec["shape"])
        else:
            array = arrays[spec["key"]]
        if spec.get("object"):
            array = array.astype(object)
        if kind == "array":
            return array
        import torch

        tensor = torch.from_numpy(np.array(array))
        device = spec["device"]
        if device.startswith("cuda") and not torch.cuda.is_available():
            device = "cpu"
        return tensor.to(device).requires_grad_(spec["requires_grad"])
    if kind == "dict":
        return {decode(k, arrays): decode(v, arrays)
                for k, v in zip(spec["keys"], spec["values"], strict=True)}
    if kind == "list":
        return [decode(v, arrays) for v in spec["items"]]
    if kind == "tuple":
        return tuple(decode(v, arrays) for v in spec["items"])
    if kind == "namedtuple":
        cls = trusted_class(spec["class"])
        if not (issubclass(cls, tuple) and hasattr(cls, "_fields")):
            raise ValueError(f"{spec['class']} is not a named tuple")
        return cls._make(decode(v, arrays) for v in spec["items"])
    if kind == "object":
        cls = trusted_class(spec["class"])
        state = decode(spec["state"], arrays)
        if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
            raise ValueError(f"the attributes of a {spec['class']} are not a dict of names")
        obj = object.__new__(cls)  # no __init__, no __setstate__: only attributes are set
        obj.__dict__.update(state)
        _default_missing_parameters(obj)
        for method, params in spec.get("requests", {}).items():
            _set_requests(obj, method, params, spec["class"])
        after_load = getattr(obj, "_after_load", None)  # the class's own code, not the file's
        if callable(after_load):
            after_load()
        return obj
    raise ValueError(f"unknown value kind {kind!r}")


def _default_missing_parameters(obj):
    """Give an estimator the defaults of the parameters its file does not hold.

    A file written before a parameter of the class existed (e.g.
    ``PathNetClassifier(frozen_weight=...)``, ``FineTuneClassifier(ewc_lambda=...)``)
    lacks its attribute; the default is the behaviour the file was trained with,
    and ``get_params``, ``clone`` and ``fit`` need every parameter.
    """
    if not isinstance(obj, BaseEstimator):
        return
    for name, param in inspect.signature(type(obj).__init__).parameters.items():
        if (param.kind in (param.KEYWORD_ONLY, param.POSITIONAL_OR_KEYWORD) and name != "self"
                and param.default is not param.empty and name not in obj.__dict__):
            setattr(obj, name, param.default)


def _put(array, arrays, where):
    """The spec of an array: numbers go to ``arrays``, strings stay in the document."""
    spec = {"$": "array"}
    if array.dtype == object:
        if not all(isinstance(v, str) for v in array.flat):
            raise TypeError(f"cannot save {where} (an object array of other than str) "
                            "without pickle.")
        array, spec["object"] = array.astype(str), True
    if array.dtype.kind in "US":
        return {**spec, "dtype": array.dtype.str, "shape": list(array.shape),
                "values": array.ravel().tolist()}
    if array.dtype.kind not in _NUMERIC:
        raise TypeError(f"cannot save {where} (an array of dtype {array.dtype}) without pickle.")
    spec["key"] = f"a{len(arrays)}"
    arrays[spec["key"]] = array
    return spec


def class_name(value, where):
    """``"module:qualname"`` of a trusted class (public path for scikit-learn's).

    Raises
    ------
    TypeError
        If the class is not trusted (module docstring).
    """
    cls = type(value)
    if _is_skpathnet(cls):
        if _trusted_kind(cls):
            return f"{cls.__module__}:{cls.__qualname__}"
    else:
        for name in SKLEARN_TYPES:
            if _import(name) is cls:
                return name
    hint = (" Give memory a folder path (str) or None instead of a joblib Memory."
            if cls.__name__ == "Memory" else "")
    raise TypeError(
        f"cannot save {where}: {cls.__module__}.{cls.__qualname__} is not a type skpathnet "
        "saves without pickle (skpathnet estimators, transformers and their state, and the "
        f"scikit-learn types {', '.join(n.replace(':', '.') for n in SKLEARN_TYPES)}).{hint}"
    )


def trusted_class(name):
    """The trusted class ``"module:qualname"``; any other is refused.

    Raises
    ------
    ValueError
        If ``name`` is not a trusted class (nothing is imported outside
        skpathnet and scikit-learn).
    """
    name = str(name)
    if name in SKLEARN_TYPES:
        return _import(name)
    module, _, qualname = name.partition(":")
    if not (module == "skpathnet" or module.startswith("skpathnet.")) or not qualname:
        raise ValueError(f"the type {name!r} is not one skpathnet loads; refused")
    try:
        cls = _import(name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"the type {name!r} does not exist in this version of skpathnet") \
            from exc
    if not isinstance(cls, type) or cls.__module__ != module or not _trusted_kind(cls):
        raise ValueError(f"{name!r} is not an estimator or state type of skpathnet; refused")
    return cls


def _import(name):
    module, _, qualname = name.partition(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _is_skpathnet(cls):
    return cls.__module__ == "skpathnet" or cls.__module__.startswith("skpathnet.")


def _trusted_kind(cls):
    return (issubclass(cls, BaseEstimator) or dataclasses.is_dataclass(cls)
            or (issubclass(cls, tuple) and hasattr(cls, "_fields")))


def _routing_requests(request):
    """``{method: {parameter: alias}}`` of an estimator's metadata requests (or {})."""
    if request is None:
        return {}
    out = {}
    for method in ("fit", "partial_fit", "transform", "inverse_transform", "predict",
                   "predict_proba", "predict_log_proba", "decision_function", "score", "split"):
        requests = getattr(getattr(request, method, None), "requests", None)
        if requests:
            out[method] = {str(k): v for k, v in requests.items()
                           if v is None or isinstance(v, (bool, str))}
    return out


def _set_requests(obj, method, params, name):
    setter = getattr(obj, f"set_{method}_request", None)
    if not callable(setter) or not isinstance(params, dict):
        raise ValueError(f"{name} has no metadata request for {method!r}")
    with config_context(enable_metadata_routing=True):  # the setters refuse otherwise
        setter(**params)
