"""A classical baseline: a linear model on every segment, its posteriors averaged per clip."""

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d, validate_data

from ..utils._clips import flatten_clips, is_clips, mean_per_clip
from ..utils._params import Integer, Real, validate_params

__all__ = ["SegmentLinearClassifier"]


class SegmentLinearClassifier(ClassifierMixin, BaseEstimator):
    """Linear model on standardised flattened segments, posteriors averaged per clip.

    The classical baseline of the paper benchmark (``benchmarks/bench_paper.py``,
    method ``linear``): a :class:`~sklearn.preprocessing.StandardScaler`, then
    an :class:`~sklearn.linear_model.SGDClassifier` with ``loss="log_loss"``
    (logistic regression, one-vs-rest), fitted on every segment with its
    clip's label. A clip's class probabilities are the mean of its segments'.

    Parameters
    ----------
    alpha : float, default=1e-3
        L2 penalty of the SGD classifier (its ``alpha``), > 0.
    max_iter : int, default=20
        Passes over the training segments (``SGDClassifier(max_iter=)``),
        with ``tol=1e-3``. A budget rather than a convergence criterion:
        thousands of segments of 12288 features rarely converge in 20 passes,
        and no :class:`~sklearn.exceptions.ConvergenceWarning` is raised.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffles of the SGD classifier.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    n_features_in_ : int
        Features per segment (after flattening).
    n_iter_ : int
        Passes over the segments that the SGD classifier ran.
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted scaler and SGD classifier, on segments.

    See Also
    --------
    skpathnet.PathNetClassifier : PathNet, on the same inputs.
    skpathnet.baselines.FineTuneClassifier : an MLP of one pathway's capacity.

    Notes
    -----
    Inputs are those of :class:`~skpathnet.PathNetClassifier`: a 2-D array
    of shape (n_samples, n_features), a batch of shape (n_samples, ...) (each
    sample flattened), or clips (a list or 1-D object array whose item ``i``
    has shape ``(n_segments_i, ...)``, see :func:`skpathnet.utils.make_clips`).
    A non-clip sample is a clip of one segment.

    Examples
    --------
    >>> import numpy as np
    >>> from skpathnet.baselines import SegmentLinearClassifier
    >>> from skpathnet.utils import make_clips
    >>> rng = np.random.RandomState(0)
    >>> y = np.array([0, 1] * 10)
    >>> X = make_clips([rng.normal(loc=3.0 * c, size=(3, 8)) for c in y])
    >>> clf = SegmentLinearClassifier(random_state=0).fit(X, y)
    >>> clf.predict_proba(X).shape, clf.predict_proba_segments(X).shape
    ((20, 2), (60, 2))
    >>> clf.score(X, y)
    1.0
    """

    _parameter_constraints = {
        "alpha": Real(0, low_open=True),
        "max_iter": Integer(1),
    }

    def __init__(self, *, alpha=1e-3, max_iter=20, random_state=None):
        self.alpha = alpha
        self.max_iter = max_iter
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    def fit(self, X, y):
        """Fit the scaler and the linear model on every segment with its clip's label.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...) or clips
            See the Notes of the class.
        y : array-like of shape (n_samples,)
            One label per sample (clip), at least two classes.

        Returns
        -------
        self : SegmentLinearClassifier
            Fitted.

        Raises
        ------
        ValueError
            If a parameter is invalid, X is empty, malformed or non-finite,
            or y is not classification labels of X's length.
        """
        validate_params(self, self._parameter_constraints)
        segments, clip_index = self._segments(X, reset=True)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if len(y) != int(clip_index[-1]) + 1:
            raise ValueError(
                "Found input variables with inconsistent numbers of samples: "
                f"X has {int(clip_index[-1]) + 1} samples (clips), y has {len(y)}."
            )
        pipeline = make_pipeline(
            StandardScaler(),
            SGDClassifier(loss="log_loss", alpha=self.alpha, max_iter=self.max_iter, tol=1e-3,
                          random_state=self.random_state),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            pipeline.fit(segments, y[clip_index])
        self.pipeline_ = pipeline
        self.classes_ = pipeline.classes_
        self.n_iter_ = pipeline[-1].n_iter_
        return self

    def predict_proba(self, X):
        """Class probabilities of each sample (clip): the mean over its segments.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...) or clips
            As for :meth:`fit`.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        return mean_per_clip(*self._segment_proba(X))

    def predict(self, X):
        """Predicted label of each sample (clip), shape (n_samples,)."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(1)]

    def predict_proba_segments(self, X):
        """Class probabilities of every segment, shape (n_segments, n_classes), in clip order."""
        return self._segment_proba(X)[0]

    def predict_segments(self, X):
        """Predicted label of every segment, shape (n_segments,), in clip order."""
        proba = self.predict_proba_segments(X)
        return self.classes_[proba.argmax(1)]

    def _segment_proba(self, X):
        check_is_fitted(self)
        segments, clip_index = self._segments(X, reset=False)
        return self.pipeline_.predict_proba(segments), clip_index

    def _segments(self, X, *, reset):
        """``(segments, clip_index)``: every segment flattened (float32) and its clip."""
        if is_clips(X):
            segments, clip_index = flatten_clips(X)
        else:
            segments = check_array(X, allow_nd=True, dtype=np.float32)
            segments = segments.reshape(len(segments), -1)
            clip_index = np.arange(len(segments))
        return validate_data(self, segments, reset=reset, dtype=np.float32), clip_index
