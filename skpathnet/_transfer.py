"""What both transfer estimators share: inputs, devices, and transfer state.

:class:`~skpathnet.PathNetClassifier` and
:class:`~skpathnet.baselines.FineTuneClassifier` take the same inputs (2-D
arrays, image batches, clips), the same ``fit_transfer(source_X,
source_y)`` sources, and carry their transfer state through
:func:`sklearn.base.clone`; this mixin holds that common code once.
"""

import numpy as np
import torch
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, column_or_1d, validate_data

from ._clips import flatten_clips, is_clips
from ._threads import torch_threads

__all__ = ["TransferMixin", "split_sources"]


class TransferMixin:
    """Mixin for estimators with ``fit_transfer``; put it before ``ClassifierMixin``.

    Subclasses list the attributes written by ``fit_transfer`` in
    ``_transfer_attrs`` (copied by :func:`sklearn.base.clone`) and those
    written by ``fit`` in ``_target_attrs``.
    """

    _transfer_attrs = ()
    _target_attrs = ()

    def __sklearn_clone__(self):
        new = super().__sklearn_clone__()
        for name in self._transfer_attrs:
            if hasattr(self, name):
                setattr(new, name, getattr(self, name))
        return new

    def _forget(self, names):
        """Delete the fitted attributes ``names`` that exist."""
        for name in names:
            if hasattr(self, name):
                delattr(self, name)

    def _source_tasks(self, source_X, source_y):
        """Start a ``fit_transfer``: check, drop any earlier fit, yield each source.

        The parameters and the pairing of ``source_X`` with ``source_y`` are
        checked before anything is dropped. Each source is yielded, with
        ``n_threads`` torch threads set, as ``(index, segments, owned,
        classes, y_seg)``: its float32 segments of shape (n_segments,
        n_features), whether they are a private copy, its sorted class
        labels, and each segment's encoded label (int, shape (n_segments,)).
        """
        self._check_params()
        sources = split_sources(source_X, source_y)
        self._forget(self._transfer_attrs + self._target_attrs)
        with torch_threads(self.n_threads):
            for index, (X, y) in enumerate(sources):
                segments, clip_index, owned = self._prepare_X(X, reset=index == 0)
                y = self._check_y(y, clip_index)
                classes, y_enc = np.unique(y, return_inverse=True)
                yield index, segments, owned, classes, y_enc[clip_index]

    def _device(self):
        try:
            device = torch.device(self.device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(f"device must be 'cpu' or 'cuda'; got {self.device!r}.") from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device={self.device!r} was requested but torch finds no CUDA GPU; "
                "use device='cpu'."
            )
        return device

    def _prepare_X(self, X, *, reset):
        """Return ``(segments, clip_index, owned)`` for any accepted input.

        ``segments`` is float32 of shape (n_segments, n_features); ``owned``
        says whether it is a private copy that may be modified in place.
        """
        if is_clips(X):
            segments, clip_index = flatten_clips(X)
            segments = validate_data(self, segments, reset=reset, dtype=np.float32)
            return segments, clip_index, True
        X_checked = check_array(X, allow_nd=True, dtype=np.float32)
        if X_checked.ndim > 2:
            X_checked = X_checked.reshape(len(X_checked), -1)
        owned = X_checked is not X and not np.shares_memory(X_checked, np.asarray(X))
        X_checked = validate_data(self, X_checked, reset=reset, dtype=np.float32)
        return X_checked, np.arange(len(X_checked)), owned

    @staticmethod
    def _check_y(y, clip_index):
        if y is None:
            raise ValueError("requires y to be passed, but the target y is None.")
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        n_clips = int(clip_index[-1]) + 1 if len(clip_index) else 0
        if len(y) != n_clips:
            raise ValueError(
                f"Found input variables with inconsistent numbers of samples: "
                f"X has {n_clips} samples (clips), y has {len(y)}."
            )
        return y


def split_sources(source_X, source_y):
    """Return ``[(X, y), ...]`` for one or several source corpora."""
    several = (
        isinstance(source_y, (list, tuple))
        and len(source_y) > 0
        and all(np.ndim(item) >= 1 for item in source_y)
    )
    if not several:
        return [(source_X, source_y)]
    if not isinstance(source_X, (list, tuple)) or len(source_X) != len(source_y):
        raise ValueError(
            "source_y lists several corpora, so source_X must be a list of the "
            f"same length; got {len(source_y)} label arrays and "
            f"{type(source_X).__name__} source_X."
        )
    return list(zip(source_X, source_y))
