"""ONNX export of a fitted PathNet's best pathway (the ``onnx`` extra)."""

import importlib
import os
import warnings

import numpy as np
import torch
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ..engine import Pathways, TaskHead
from ..engine._network import Inputs
from ..engine._pathway import forward

__all__ = ["ONNX_TOLERANCE", "export_onnx"]

#: The largest absolute difference between the ONNX and the torch
#: probabilities that :func:`export_onnx` accepts.
ONNX_TOLERANCE = 1e-5


class _BestPathway(torch.nn.Module):
    """Standardisation, the best pathway and its softmax, through the engine's one forward pass."""

    def __init__(self, state):
        super().__init__()
        self.pathway = Pathways.from_state(state.modules, state.pathway, device="cpu")
        self.head = TaskHead.from_state(state.head, device="cpu")
        mean, scale = state.scaler if state.scaler is not None else (None, None)
        self.standardize = state.scaler is not None
        if self.standardize:
            self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
            self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, x):
        if self.standardize:
            x = (x - self.mean) / self.scale
        return torch.softmax(forward(self.pathway, self.head, Inputs(x)), 1)


def export_onnx(model, path, *, X_check=None, opset=17):
    """Export a fitted PathNet's best pathway to ONNX: features in, probabilities out.

    The graph takes ``features``, float32 of shape (batch, n_features) (one
    row per segment: the output of the front end and, in a pipeline, of the
    speaker normalisation, which stay outside the graph), and gives
    ``proba``, float32 of shape (batch, n_classes), the softmax of the
    target task in the order of ``classes_``; a clip's probabilities are the
    mean of its segments' rows, as in ``predict_proba``. The graph is
    traced from the package's own forward pass (frozen and trained modules
    of the best pathway, the per-feature standardisation, the head), then
    run with onnxruntime on ``X_check`` and compared with
    ``predict_proba_segments``.

    Parameters
    ----------
    model : PathNetClassifier or Pipeline ending in one
        Fitted, with linear modules.
    path : path-like
        The ``.onnx`` file to write.
    X_check : array-like of shape (n_rows, n_features), default=None
        Rows to compare on; default: 64 seeded standard-normal rows.
    opset : int, default=17
        ONNX operator set.

    Returns
    -------
    max_abs_diff : float
        The largest absolute difference between the ONNX and the torch
        probabilities on ``X_check`` (at most :data:`ONNX_TOLERANCE`).

    Raises
    ------
    ImportError
        If ``onnx`` or ``onnxruntime`` is missing (``pip install
        'skpathnet[onnx]'``).
    ValueError
        If the model is not a fitted PathNet classifier with linear
        modules, or the exported graph differs from torch by more than
        :data:`ONNX_TOLERANCE` (the file is then removed).
    """
    try:
        importlib.import_module("onnx")  # torch's exporter writes through it
        import onnxruntime
    except ImportError as exc:
        raise ImportError(
            f"ONNX export needs onnx and onnxruntime ({exc}); install them with "
            "pip install 'skpathnet[onnx]'."
        ) from exc
    clf = model.steps[-1][1] if isinstance(model, Pipeline) else model
    state = getattr(clf, "_target_state", None)
    if state is None or not hasattr(clf, "best_path_"):
        raise ValueError(f"{type(clf).__name__} is not a fitted PathNet classifier; fit it "
                         "(or `skpathnet fit`) before exporting.")
    check_is_fitted(clf)
    if getattr(clf, "module", "linear") != "linear":
        raise ValueError('ONNX export supports module="linear" pathways only.')
    n_features = clf.n_features_in_
    if X_check is None:
        X_check = np.random.RandomState(0).normal(size=(64, n_features))
    X_check = np.ascontiguousarray(X_check, dtype=np.float32)
    graph = _BestPathway(state).eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracer's notes on Python values
        torch.onnx.export(graph, (torch.zeros(2, n_features),), str(path),
                          input_names=["features"], output_names=["proba"],
                          dynamic_axes={"features": {0: "batch"}, "proba": {0: "batch"}},
                          opset_version=opset, dynamo=False)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    onnx_proba = session.run(None, {"features": X_check})[0]
    diff = float(np.abs(onnx_proba - clf.predict_proba_segments(X_check)).max())
    if diff > ONNX_TOLERANCE:
        os.remove(path)
        raise ValueError(f"the exported graph differs from torch by {diff:.2e} > "
                         f"{ONNX_TOLERANCE}; nothing was written.")
    return diff
