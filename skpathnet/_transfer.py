"""What both transfer estimators share: inputs, devices, and transfer state.

:class:`~skpathnet.PathNetClassifier` and
:class:`~skpathnet.baselines.FineTuneClassifier` take the same inputs (2-D
arrays, image batches, clips), the same ``fit_transfer(source_X,
source_y)`` sources, and carry their transfer state through
:func:`sklearn.base.clone`; this mixin holds that common code once.
"""

import contextlib
import numbers
from typing import NamedTuple, Optional

import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d, validate_data

from .utils._clips import flatten_clips, is_clips, mean_per_clip, segment_shape
from .utils._threads import torch_threads
from .utils._params import validate_params

__all__ = ["SourceTask", "TransferMixin", "several_sources", "split_sources"]


class SourceTask(NamedTuple):
    """One checked source corpus, ready for training (``TransferMixin._source_tasks``).

    Attributes
    ----------
    index : int
        Its position among the sources.
    segments : ndarray of shape (n_segments, n_features), float32
    owned : bool
        Whether ``segments`` is a private copy (may be modified in place).
    classes : ndarray of shape (n_classes,)
        Its sorted class labels.
    y_seg : ndarray of shape (n_segments,), int
        The encoded label of each segment.
    clip_index : ndarray of shape (n_segments,), int
        The clip of each segment.
    extra : ndarray or None
        The checked extra targets, one row per clip (``_encode_targets``).
    extra_seg : ndarray or None
        The same, one row per segment.
    """

    index: int
    segments: np.ndarray
    owned: bool
    classes: np.ndarray
    y_seg: np.ndarray
    clip_index: np.ndarray
    extra: Optional[np.ndarray]
    extra_seg: Optional[np.ndarray]


class TransferMixin:
    """Mixin for estimators with ``fit_transfer``; put it before ``ClassifierMixin``.

    Subclasses list the attributes written by ``fit_transfer`` in
    ``_transfer_attrs`` (copied by :func:`sklearn.base.clone`) and those
    written by ``fit`` in ``_target_attrs``, name the parameters that shape
    the transferred network in ``_architecture()``, and give the segment
    posteriors of the target task (``_target_segment_proba(X)``) and of
    source task ``k`` (``_source_segment_proba(X, k)``); each returns
    ``(proba, clip_index)``, float32 of shape (n_segments, n_classes) and
    int of shape (n_segments,). The prediction methods are written here once.
    What ``fit_transfer`` keeps (``_source_state``) is a dataclass with at
    least ``n_features`` and ``architecture`` (see ``_check_transferred``).
    """

    _transfer_attrs = ()
    _target_attrs = ()
    _parameter_constraints = {}

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

    @contextlib.contextmanager
    def _atomic_fit(self):
        """Leave the estimator exactly as it was if the block raises.

        ``fit`` and ``fit_transfer`` build the new state in local variables
        and assign it at the end; input validation (``n_features_in_``,
        ``input_shape_``) writes earlier, so every attribute is restored on
        any exception, ``KeyboardInterrupt`` included.
        """
        saved = dict(self.__dict__)
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _fit(self, X, y, extra=None, *, X_val=None, y_val=None):
        """The one ``fit``: checks, ``_train_target``, then the fitted attributes at once.

        Checks the parameters, X, the labels (and a subclass's ``extra``
        targets, see :meth:`_encode_targets`) and that X fits the
        transferred source (:meth:`_check_source_compatible`), then calls
        ``_train_target(segments, y_seg, classes, rng, *, clip_index, owned,
        extra, X_val, y_val)`` with ``n_threads`` torch threads, which returns
        ``{attribute: value}``. Atomic: the previous target fit is replaced
        only once training has finished; if anything raises, every attribute
        is left as it was.
        """
        with self._atomic_fit():
            self._check_params()
            segments, clip_index, owned = self._prepare_X(X, reset=True)
            classes, y_enc, extra = self._encode_targets(y, clip_index, extra)
            self._check_source_compatible(segments)
            rng = check_random_state(self.random_state)
            with torch_threads(self.n_threads):
                fitted = self._train_target(
                    segments, y_enc[clip_index], classes, rng, clip_index=clip_index,
                    owned=owned, extra=extra, X_val=X_val, y_val=y_val,
                )
        # Trained: replace the previous target fit.
        self._forget(self._target_attrs)
        self.classes_ = classes
        for name, value in fitted.items():
            setattr(self, name, value)
        return self

    def _check_source_compatible(self, segments):
        """Check that the training ``segments`` fit the transferred source network.

        Raises
        ------
        ValueError
            As :meth:`_check_transferred`.
        """
        self._check_transferred(segments.shape[1])

    def _check_params(self):
        """Check every parameter: the table ``_parameter_constraints``, then the
        rules that involve several (``_check_param_rules``) and the device.

        Raises
        ------
        ValueError
            Naming the first invalid parameter (an
            :class:`~skpathnet.utils._params.InvalidParameterError`, also a
            :class:`TypeError`, for a value of the wrong type or range).
        """
        validate_params(self, self._parameter_constraints)
        self._check_param_rules()
        self._device()

    def _check_param_rules(self):
        """Rules that involve several parameters; none here."""

    def _architecture(self):
        """``{parameter: value}`` of the parameters that shape the transferred network."""
        return {}

    def _check_transferred(self, n_features):
        """Check that a target fit can reuse the transferred source network.

        Raises
        ------
        ValueError
            If ``n_features`` (per segment) differs from the sources', or an
            architecture parameter (see ``_architecture``) was changed since
            ``fit_transfer``, e.g. by ``clone(est).set_params(n_layers=2)``.
        """
        state = getattr(self, "_source_state", None)
        if state is None:
            return
        if n_features != state.n_features:
            raise ValueError(
                f"X has {n_features} features per segment, but the transferred source "
                f"network expects {state.n_features}. Use the same front end (and "
                "parameters) for source and target."
            )
        for name, value in self._architecture().items():
            transferred = state.architecture[name]
            if value != transferred:
                raise ValueError(
                    f"{name}={value!r} differs from the transferred source network's "
                    f"{name}={transferred!r}: the transferred weights only fit that "
                    f"architecture. Keep {name}={transferred!r}, or run fit_transfer "
                    f"again with {name}={value!r}."
                )

    def _source_tasks(self, source_X, source_y, *, extras=None):
        """Check every source, then yield each one for training.

        The parameters, the pairing of ``source_X`` with ``source_y`` and
        every source (shape, finite values, labels, at least two classes,
        the same number of features as source 1, and a subclass's extra
        targets: see ``_encode_targets``) are checked before the first
        source is yielded, so a bad source fails before any training;
        errors name the source ("source 2 of 2: ..."). Each source is then
        yielded, with ``n_threads`` torch threads set, as a
        :class:`SourceTask`. The estimator's attributes are not changed
        (``n_features_in_`` and ``input_shape_`` are set as for the first
        source; run under :meth:`_atomic_fit`).

        Parameters
        ----------
        source_X, source_y
            As given to ``fit_transfer``.
        extras : list or None, default=None
            One entry per source for ``_encode_targets`` (e.g. AU labels or
            None); None: no extra targets.

        Raises
        ------
        ValueError
            If a source is malformed, non-finite, has one class, or has
            another number of features (another segment shape for
            convolutional modules or with ``augmentation``) than source 1.
        """
        self._check_params()
        sources = split_sources(source_X, source_y)
        extras = [None] * len(sources) if extras is None else list(extras)
        first = None
        for index, (X, y) in enumerate(sources):
            # Checked one at a time (segments are prepared again for training) so
            # that no more than one source's copy is held at once.
            with _naming_source(index, len(sources)):
                segments, clip_index, _ = self._prepare_X(X, reset=True)
                self._encode_targets(y, clip_index, extras[index],
                                     source=(index, len(sources)))
                # features per segment; the segment shape where rows are read as images
                # (convolutional modules, augmentation: see _image_input)
                conv = self._image_input() is not None
                shape = self.input_shape_ if conv else segments.shape[1]
                if first is None:
                    first = shape
                elif shape != first:
                    differ = (
                        f"its segments have shape {shape}, but source 1's have shape {first}"
                        if conv else
                        f"it has {shape} features per segment, but source 1 has {first}"
                    )
                    raise ValueError(
                        f"{differ}; every source needs the same front end and parameters."
                    )
            del segments
        with torch_threads(self.n_threads):
            for index, (X, y) in enumerate(sources):
                segments, clip_index, owned = self._prepare_X(X, reset=index == 0)
                classes, y_enc, extra = self._encode_targets(
                    y, clip_index, extras[index], source=(index, len(sources)))
                yield SourceTask(index, segments, owned, classes, y_enc[clip_index], clip_index,
                                 extra, None if extra is None else extra[clip_index])

    def _encode_targets(self, y, clip_index, extra=None, *, source=None):
        """Check the labels (and a subclass's extra targets) of one training set.

        Parameters
        ----------
        y : array-like of shape (n_samples,)
        clip_index : ndarray of shape (n_segments,), int
            The clip of each segment (from :meth:`_prepare_X`).
        extra : object or None, default=None
            What a subclass's ``fit`` gets beside ``y`` (e.g. AU labels);
            None here.
        source : tuple of (int, int) or None, default=None
            ``(index, n_sources)`` of a ``fit_transfer`` source, for error
            messages; None for ``fit``.

        Returns
        -------
        classes : ndarray of shape (n_classes,)
        y_enc : ndarray of shape (n_samples,), int
            Index of each sample's class in ``classes``.
        extra : ndarray of shape (n_samples, ...) or None
            The checked extra targets, one row per sample (None here).

        Raises
        ------
        ValueError
            If y is malformed, of another length than X or has one class.
        """
        y = self._check_y(y, clip_index)
        classes, y_enc = np.unique(y, return_inverse=True)
        return classes, y_enc, None

    # -- prediction -----------------------------------------------------------
    def predict_proba(self, X):
        """Class probabilities, one row per sample (clip).

        For clips, the posteriors of a clip's segments are averaged.

        Parameters
        ----------
        X : array-like or clips
            As for :meth:`fit`.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float32
            Columns in the order of ``classes_``.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If :meth:`fit` has not run.
        """
        check_is_fitted(self)
        return mean_per_clip(*self._target_segment_proba(X))

    def predict(self, X):
        """Predicted label of each sample (clip), shape (n_samples,)."""
        check_is_fitted(self)
        return self.classes_[self.predict_proba(X).argmax(1)]

    def predict_proba_segments(self, X):
        """Class probabilities of every segment.

        Parameters
        ----------
        X : array-like or clips
            As for :meth:`fit`.

        Returns
        -------
        proba : ndarray of shape (n_segments, n_classes), float32
            Segments in clip order (all segments of clip 0 first); for
            non-clip input, ``n_segments == n_samples``.
        """
        check_is_fitted(self)
        return self._target_segment_proba(X)[0]

    def predict_segments(self, X):
        """Predicted label of every segment, shape (n_segments,).

        Compare with ``np.repeat(y, [len(c) for c in X])`` for the
        segment-level scores that papers often report.
        """
        check_is_fitted(self)
        return self.classes_[self.predict_proba_segments(X).argmax(1)]

    def predict_proba_source(self, X, *, source=0):
        """Class probabilities of source task ``source`` (one row per clip).

        Scores the source task with its own output layer, so that
        forgetting can be measured after target training (see the class
        docstring for which weights each estimator uses).

        Parameters
        ----------
        X : array-like or clips
            Source-task inputs, as for :meth:`fit`; standardised with that
            source's statistics.
        source : int, default=0
            Index of the source task, in :meth:`fit_transfer` order.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_source_classes), float32
            Columns in the order of ``source_classes_[source]``.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If :meth:`fit_transfer` has not run (the message says to call it).
        ValueError
            If ``source`` is not the index of a source task.
        """
        if not hasattr(self, "_source_state"):
            raise NotFittedError(
                f"This {type(self).__name__} instance has no source task (it is not "
                "fitted by fit_transfer); call fit_transfer(source_X, source_y) before "
                "predict_source or predict_proba_source."
            )
        n_sources = len(self.source_classes_)
        if not isinstance(source, numbers.Integral) or not 0 <= source < n_sources:
            raise ValueError(
                f"source must be an integer in [0, {n_sources}), the index of a "
                f"fit_transfer source; got {source!r}."
            )
        return mean_per_clip(*self._source_segment_proba(X, source))

    def predict_source(self, X, *, source=0):
        """Predicted source-task label of each sample (clip), shape (n_samples,)."""
        proba = self.predict_proba_source(X, source=source)
        return self.source_classes_[source][proba.argmax(1)]

    # -- shared checks ----------------------------------------------------------
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

    def _image_input(self):
        """What needs image segments ``(C, H, W)``, or None if flat features do.

        Returns
        -------
        need : tuple of (str, str, int) or None
            The parameter setting that needs images and its alternative for
            flat features (for messages, e.g. ``'module="conv"'`` and
            ``'module="linear"'``), and the least height and width accepted.
        """
        return None

    def _prepare_X(self, X, *, reset):
        """Return ``(segments, clip_index, owned)`` for any accepted input.

        ``segments`` is float32 of shape (n_segments, n_features); ``owned``
        says whether it is a private copy that may be modified in place.
        With ``reset``, the shape of one segment as given is recorded in
        ``input_shape_``.

        Raises
        ------
        ValueError
            If X is empty, malformed or non-finite; or, for a network that
            needs images (:meth:`_image_input`), if a segment is not an image
            ``(C, H, W)`` of the least size, or (after fit) has another shape
            than the training segments.
        """
        shape = segment_shape(X)
        images = self._image_input()
        if images is not None:
            option, alternative, least = images
            if len(shape) != 3 or min(shape[1:]) < least:
                raise ValueError(
                    f"{option} needs images: X of shape (n_samples, C, H, W), or clips of "
                    "arrays of shape (n_segments_i, C, H, W)"
                    + (f", with H and W at least {least}" if least > 1 else "")
                    + f"; got segments of shape {shape}. Use {alternative} for flat feature "
                    "vectors."
                )
            if not reset and hasattr(self, "input_shape_") and shape != tuple(self.input_shape_):
                raise ValueError(
                    f"X has segments of shape {shape}, but this estimator was fitted on "
                    f"{tuple(self.input_shape_)}."
                )
        out = self._flat_segments(X, reset=reset)
        if reset:
            self.input_shape_ = shape
        return out

    def _flat_segments(self, X, *, reset):
        """:meth:`_prepare_X` without the shape checks."""
        if _is_empty(X):
            raise ValueError(
                "X is empty (0 samples); pass at least one sample (clip), and for fit "
                "at least two classes."
            )
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
    def _check_y(y, clip_index, *, train=True, name=None):
        """Check labels against X's clips; ``train``: at least two classes.

        ``name`` is the labels' argument in messages, and its ``X`` that of
        the samples (``"y_val"``: ``X_val``); default ``"y"`` for training
        labels and ``"y_val"`` for held-out ones (``train=False``).

        Raises
        ------
        ValueError
            If y is None, holds missing labels (None or NaN; the message
            gives their positions), is not classification labels, of
            another length than X, or (``train``) holds a single class.
        """
        name = name or ("y" if train else "y_val")
        x_name = "X" + name[1:]
        if y is None:
            raise ValueError(f"requires {name} to be passed, but the target {name} is None.")
        y = column_or_1d(y, warn=True)
        if y.dtype == object or y.dtype.kind == "f":
            missing = np.flatnonzero([v is None or (isinstance(v, float) and v != v) for v in y])
            if len(missing):
                raise ValueError(
                    f"{name} holds {len(missing)} missing labels (None or NaN), at positions "
                    f"{missing[:5].tolist()}{' ...' if len(missing) > 5 else ''}: every sample "
                    "needs a label. Drop those samples, or use MultiTaskPathNetClassifier, "
                    "which reads such labels as unlabelled."
                )
        check_classification_targets(y)
        n_clips = int(clip_index[-1]) + 1 if len(clip_index) else 0
        if len(y) != n_clips:
            raise ValueError(
                f"Found input variables with inconsistent numbers of samples: "
                f"{x_name} has {n_clips} samples (clips), {name} has {len(y)}."
            )
        if train and len(np.unique(y)) < 2:
            raise ValueError(
                f"Classifier can't train when only one class is present: every label "
                f"of {name} is {np.asarray(y)[:1].tolist()[0]!r}. Pass samples of at least two "
                "classes."
            )
        return y


def _is_empty(X):
    try:
        return len(X) == 0
    except TypeError:  # not a sequence: check_array decides
        return False


@contextlib.contextmanager
def _naming_source(index, n_sources):
    """Prefix a ValueError raised in the block with "source k of n: "."""
    try:
        yield
    except ValueError as exc:
        raise ValueError(f"source {index + 1} of {n_sources}: {exc}") from exc


def several_sources(source_y):
    """Whether ``source_y`` lists the labels of several corpora (a list of arrays)."""
    return (
        isinstance(source_y, (list, tuple))
        and len(source_y) > 0
        and all(np.ndim(item) >= 1 for item in source_y)
    )


def split_sources(source_X, source_y):
    """Return ``[(X, y), ...]`` for one or several source corpora."""
    if not several_sources(source_y):
        return [(source_X, source_y)]
    if not isinstance(source_X, (list, tuple)) or len(source_X) != len(source_y):
        raise ValueError(
            "source_y lists several corpora, so source_X must be a list of the "
            f"same length; got {len(source_y)} label arrays and "
            f"{type(source_X).__name__} source_X."
        )
    return list(zip(source_X, source_y))
