"""Saving and loading fitted models without pickle.

:func:`save` writes a fitted estimator or :class:`~sklearn.pipeline.Pipeline`
to one `safetensors <https://huggingface.co/docs/safetensors>`_ file:
tensors for the weights and every numeric array, a JSON document for the
rest, a description (:func:`read_info`: what the model is, what it was
trained on, its settings and evaluation, readable without building it), the
versions that wrote it and a SHA-256 of the contents. :func:`load` checks
the hash and the format version and rebuilds only trusted types, by setting
their saved attributes: loading a file runs no code from it.

:func:`export_onnx` writes a fitted PathNet's best pathway as an ONNX graph
(features in, probabilities out; the ``onnx`` extra).

pickle and joblib still work on every estimator (the scikit-learn
convention), but loading a pickle runs whatever code it holds: share models
as these files only.
"""

from ._codec import SKLEARN_TYPES
from ._onnx import ONNX_TOLERANCE, export_onnx
from ._model_file import (
    FORMAT, FORMAT_VERSION, ModelFileError, ModelVersionWarning, describe, load, read_info, save,
)

__all__ = ["FORMAT", "FORMAT_VERSION", "ModelFileError", "ModelVersionWarning",
           "ONNX_TOLERANCE", "SKLEARN_TYPES", "describe", "export_onnx", "load", "read_info",
           "save"]
