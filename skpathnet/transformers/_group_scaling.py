"""Speaker (group) normalisation: standardise each speaker's features with its own statistics.

Acoustic features carry the speaker as much as the emotion: a high-pitched
speaker's neutral clip can look like a low-pitched speaker's angry one.
Standardising every speaker's features with that speaker's own mean and
standard deviation removes much of that, and is standard practice in speech
emotion recognition (e.g. Schuller et al., 2010; Busso et al., 2011). It
uses the test speaker's *unlabelled* features, never labels.
"""

import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ..utils._clips import flatten_clips, is_clips, make_clips
from ..utils._params import Boolean, Real, check_param, validate_params

__all__ = ["GroupStandardScaler", "LabelCoverageWarning", "low_coverage_groups"]


class LabelCoverageWarning(UserWarning):
    """Some groups' training labels cover too few classes for group normalisation."""


def low_coverage_groups(y, groups, *, min_class_coverage=0.5):
    """The groups whose labels cover too few classes for speaker normalisation.

    A group (speaker, subject) is listed when its labels cover at most
    ``min_class_coverage`` of the classes of ``y``: its own statistics are
    then those of its emotions more than its own, and
    :class:`GroupStandardScaler` would remove the signal (see its Notes).
    This is the check behind :class:`LabelCoverageWarning`.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels.
    groups : array-like of shape (n_samples,)
        Speaker or subject of each sample.
    min_class_coverage : float in [0, 1], default=0.5
        Largest fraction of the classes a listed group covers; 0 lists none.

    Returns
    -------
    low : dict of str to int
        Each listed group (as a string, in sorted order) and its number of
        distinct classes; empty when every group covers more, or ``y`` has
        fewer than 2 classes.

    Raises
    ------
    ValueError
        If ``min_class_coverage`` is not a float in [0, 1], or ``y`` and
        ``groups`` differ in length.

    Examples
    --------
    >>> from skpathnet.transformers import low_coverage_groups
    >>> low_coverage_groups(["anger", "joy", "anger", "anger"], ["a", "a", "b", "b"])
    {'b': 1}
    """
    _check_coverage(min_class_coverage)
    y = column_or_1d(y)
    counts = _class_counts(y, _check_groups(groups, len(y), what="y"))
    return _low(counts, len(np.unique(y)), min_class_coverage)


#: The rule of ``min_class_coverage`` (a parameter and an argument of low_coverage_groups).
_COVERAGE = Real(0, 1)


def _check_coverage(value):
    check_param("min_class_coverage", value, _COVERAGE)


def _class_counts(y, groups):
    return {str(g): int(len(np.unique(y[groups == g]))) for g in np.unique(groups)}


def _low(counts, n_classes, min_class_coverage):
    if min_class_coverage == 0 or n_classes < 2:  # 0 disables the check
        return {}
    return {g: c for g, c in counts.items() if c <= min_class_coverage * n_classes}


class GroupStandardScaler(TransformerMixin, BaseEstimator):
    """Standardise each speaker's (group's) features with that group's own statistics.

    Every feature of every sample is replaced by ``(x - mean_g) / std_g``,
    where ``mean_g`` and ``std_g`` are that feature's mean and population
    standard deviation over all samples (for clips: all segments) of the
    sample's group ``g``: its speaker or subject. A group's statistics come
    from its own features only, labels unused, so a test speaker is
    normalised with its own unlabelled data, as is usual in speech emotion
    recognition [1]_ [2]_.

    Parameters
    ----------
    with_mean : bool, default=True
        Subtract each group's mean.
    with_std : bool, default=True
        Divide by each group's standard deviation (1 where it is 0).
    shrinkage : bool, default=False
        Standardise a group unknown to :meth:`fit` with its own statistics
        shrunk towards those of the training groups (see Notes), so that a
        new speaker with one or a few clips is normalised sensibly; needs
        :meth:`fit` with ``groups`` of at least two groups. False: its own
        statistics alone, which needs at least two of its samples.
    min_class_coverage : float in [0, 1], default=0.5
        In :meth:`fit` with ``y`` and ``groups``: warn
        (:class:`LabelCoverageWarning`) when a group's training labels cover
        at most this fraction of the classes of ``y`` (see Notes), e.g. 3 or
        fewer of 7 emotions at the default. 0 disables the check.

    Attributes
    ----------
    n_features_in_ : int
        Features per sample (per segment for clips).
    group_class_counts_ : dict of str to int
        After a :meth:`fit` with ``y`` and ``groups``: the number of distinct
        classes among each group's training labels; else empty.
    groups_ : ndarray of shape (n_groups,)
        The groups given to :meth:`fit`, sorted (empty without ``groups``):
        the *known* groups, whose fitted statistics :meth:`transform` uses.
    mean_ : ndarray of shape (n_groups, n_features), float64
        Each known group's mean of each feature over its :meth:`fit`
        samples (segments for clips).
    scale_ : ndarray of shape (n_groups, n_features), float64
        Each known group's population standard deviation of each feature (1
        where it is 0).
    prior_ : dict of str to ndarray of shape (n_features,), float64
        With ``shrinkage``: the prior of an unknown group's statistics,
        from the training groups: ``"mean"`` (the average of their means),
        ``"n_mean"`` (how many samples it is worth: their average variance
        over the variance of their means), ``"var"`` (the average of their
        variances) and ``"df_var"`` (its degrees of freedom: 2 over the
        variance of their log-variances). Empty without ``shrinkage``.

    Notes
    -----
    **Passing the groups.** :meth:`transform` takes ``groups`` (one id per
    sample); without it, all of ``X`` is one group, e.g. the one test
    speaker of a leave-one-speaker-out fold. A group given to :meth:`fit`
    (a *known* group) is standardised with the statistics fitted on its
    :meth:`fit` samples, so one clip of a known speaker is normalised as in
    training. Any other group is standardised with its own statistics in
    the data transformed, which needs at least two of its samples (clips):
    the statistics of one sample would turn it into zeros, so
    :meth:`transform` raises instead. For one clip of an unknown speaker,
    transform it together with more clips of that speaker, fit with that
    speaker's clips, or use a model without speaker normalisation. Because a group's output
    depends on nothing but that group's features, normalising the whole
    corpus once, before cross-validation, gives exactly the same features as
    normalising inside each fold whenever the folds split by the same groups
    (``LeaveOneGroupOut``, ``GroupKFold``)::

        X_norm = GroupStandardScaler().fit_transform(X, groups=speakers)
        cross_validate(clf, X_norm, y, groups=speakers, cv=LeaveOneGroupOut())

    Inside a :class:`~sklearn.pipeline.Pipeline`, the groups reach the step
    through sklearn's metadata routing
    (``sklearn.set_config(enable_metadata_routing=True)``,
    ``GroupStandardScaler().set_fit_request(groups=True).set_transform_request(groups=True)``,
    then ``pipe.fit(X, y, groups=g)`` and ``pipe.predict(X, groups=g)``).
    ``cross_validate(..., params={"groups": g})`` routes them to ``fit``
    only: sklearn's scorers call ``predict`` without metadata, so each test
    fold is then normalised as one group, which is right for
    leave-one-speaker-out and wrong for folds of several test speakers
    (normalise beforehand, as above, in that case).

    **Shrinkage.** With ``shrinkage=True``, an unknown group of ``k``
    samples with mean ``m`` and variance ``s2`` (``ddof=1``) is standardised
    with the posterior mean ``(k m + n0 m0) / (k + n0)`` and variance
    ``((k - 1) s2 + nu0 v0) / (k - 1 + nu0)`` of a normal model whose prior
    (``prior_``: ``m0``, ``n0``, ``v0``, ``nu0``) is fitted on the training
    groups (the conjugate normal / scaled-inverse-chi-squared updates,
    e.g. Gelman et al., "Bayesian Data Analysis", 3rd ed., Sec. 3.3). One
    sample keeps the training groups' average variance; many samples tend to
    the group's own statistics. On EMO-DB, leave-one-speaker-out, a test
    speaker normalised from one clip scores 0.79 WAR (PathNet) with
    shrinkage, as without any speaker normalisation, against 0.34 from that
    clip alone, and from 5 clips 0.82 against 0.74 (benchmarks/RESULTS.md,
    "Speaker normalisation with few clips of a new speaker").

    **When not to use it.** A group's statistics are those of its emotions.
    Where every speaker covers every emotion (acted corpora: EMO-DB,
    RAVDESS, EMOVO), they are the speaker's. Where a speaker's clips show
    one or two emotions (talk shows, in-the-wild and call-centre corpora),
    they are the emotion's, and normalising removes the very signal to be
    recognised: accuracy can fall far below chance. :meth:`fit` warns when
    a training group's labels cover at most ``min_class_coverage`` of
    the classes; test speakers cannot be checked (their labels are
    unknown), so do not use speaker normalisation on such corpora.

    References
    ----------
    .. [1] B. Schuller, B. Vlasenko, F. Eyben, M. Wöllmer, A. Stuhlsatz,
       A. Wendemuth and G. Rigoll, "Cross-Corpus Acoustic Emotion
       Recognition: Variances and Strategies", IEEE Transactions on
       Affective Computing, 1(2), pp. 119-131, 2010.
    .. [2] C. Busso, A. Metallinou and S. Narayanan, "Iterative feature
       normalization for emotional speech detection", ICASSP, pp.
       5692-5695, 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from skpathnet.transformers import GroupStandardScaler
    >>> X = np.array([[1.0], [3.0], [10.0], [30.0]])
    >>> GroupStandardScaler().fit_transform(X, groups=["a", "a", "b", "b"]).ravel()
    array([-1.,  1., -1.,  1.])
    """

    _parameter_constraints = {"with_mean": Boolean(), "with_std": Boolean(),
                              "shrinkage": Boolean(), "min_class_coverage": _COVERAGE}

    def __init__(self, *, with_mean=True, with_std=True, shrinkage=False,
                 min_class_coverage=0.5):
        self.with_mean = with_mean
        self.with_std = with_std
        self.shrinkage = shrinkage
        self.min_class_coverage = min_class_coverage

    def fit(self, X, y=None, groups=None):
        """Check the inputs and, given ``y`` and ``groups``, each group's label coverage.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or clips
            Features; clips are a sequence of ``n_samples`` arrays of shape
            ``(n_segments_i, ...)``.
        y : array-like of shape (n_samples,), default=None
            Training labels, only for the coverage check.
        groups : array-like of shape (n_samples,), default=None
            Speaker or subject of each sample; each group's mean and
            standard deviation are kept (``groups_``, ``mean_``,
            ``scale_``) for :meth:`transform`.

        Returns
        -------
        self : GroupStandardScaler

        Warns
        -----
        LabelCoverageWarning
            If a group's labels cover at most ``min_class_coverage`` of
            the classes of ``y``; the message lists those groups with their
            numbers of classes.

        Raises
        ------
        ValueError
            If a parameter is invalid, ``y`` or ``groups`` do not have one
            entry per sample, or ``shrinkage`` is set and ``groups`` does
            not hold at least two groups.
        """
        self._check_params()
        rows, clip_index, _ = self._rows(X, reset=True)
        n_samples = _n_samples(clip_index)
        counts = {}
        known = np.empty(0, dtype=str)
        mean = scale = np.empty((0, rows.shape[1]))
        if groups is not None:
            groups = _check_groups(groups, n_samples)
            row_groups = groups[clip_index]
            known = np.unique(groups)
            stats = [_stats(rows[row_groups == group]) for group in known]
            mean, scale = (np.array([s[k] for s in stats]).reshape(len(known), -1)
                           for k in (0, 1))
        if y is not None and groups is not None:
            y = column_or_1d(y)
            if len(y) != n_samples:
                raise ValueError(
                    f"y has {len(y)} entries but X has {n_samples} samples; pass one label "
                    "per sample (clip)."
                )
            counts = _class_counts(y, groups)
            self._warn_coverage(counts, len(np.unique(y)))
        prior = {}
        if self.shrinkage:
            if len(known) < 2:
                raise ValueError(
                    "shrinkage=True fits the prior of a new group's statistics on the "
                    f"training groups: pass groups with at least two groups to fit (got "
                    f"{len(known)}), or use shrinkage=False."
                )
            variances = scale ** 2
            tiny = 1e-12
            prior = {"mean": mean.mean(0),
                     "n_mean": variances.mean(0) / np.maximum(mean.var(0), tiny),
                     "var": variances.mean(0),
                     "df_var": 2 / np.maximum(np.log(variances).var(0), tiny)}
        self.group_class_counts_ = counts
        self.groups_, self.mean_, self.scale_ = known, mean, scale
        self.prior_ = prior
        return self

    def transform(self, X, groups=None):
        """Standardise each group's samples with that group's mean and std.

        A group known from :meth:`fit` uses its fitted statistics; any
        other group the statistics of its own samples in ``X`` (at least
        two samples, see the Notes of the class), shrunk towards the
        training groups' with ``shrinkage`` (then one sample is enough).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or clips
            As in :meth:`fit`.
        groups : array-like of shape (n_samples,), default=None
            Speaker or subject of each sample; None: all samples are one
            group, not a known one.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features), or clips
            Same kind and shapes as ``X``: a float array (float32 stays
            float32, other dtypes become float64), or a 1-D object array of
            float32 clips with each clip's shape kept.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If :meth:`fit` has not run.
        ValueError
            If ``X`` has a different number of features than in :meth:`fit`,
            ``groups`` has not one entry per sample, or (without
            ``shrinkage``) a group unknown to :meth:`fit` has a single
            sample (clip) in ``X``: the message names it and says what to do.
        """
        check_is_fitted(self)
        rows, clip_index, shapes = self._rows(X, reset=False)
        n_samples = _n_samples(clip_index)
        if groups is None:
            sample_groups, known = np.zeros(n_samples, dtype=np.int64), ()
        else:
            sample_groups, known = _check_groups(groups, n_samples), self.groups_
        row_groups = sample_groups[clip_index]
        out = np.empty_like(rows)
        for group in np.unique(row_groups):
            mask = row_groups == group
            if len(known) and group in known:
                k = int(np.searchsorted(known, group))
                mean, std = self.mean_[k], self.scale_[k]
            else:
                stats = self._new_group_stats(rows[mask], int(np.sum(sample_groups == group)))
                if stats is None:
                    who = ("X (one group: groups=None)" if groups is None
                           else f"group {str(group)!r}")
                    raise ValueError(
                        f"{who} has 1 sample and was not in fit's groups: its own statistics "
                        "would standardise that sample to zeros. Transform it with at least "
                        "one more sample (clip) of the same speaker, fit with that speaker's "
                        "samples and groups, or use a model without speaker normalisation."
                    )
                mean, std = stats
            values = rows[mask].astype(np.float64)
            if self.with_mean:
                values -= mean
            if self.with_std:
                values /= std
            out[mask] = values
        if shapes is None:
            return out
        bounds = np.cumsum([shape[0] for shape in shapes])[:-1]
        return make_clips(
            part.reshape(shape) for part, shape in zip(np.split(out, bounds), shapes)
        )

    def add_groups(self, X, groups):
        """Fit the statistics of ``groups`` from their samples in ``X``, keeping the others.

        Each group of ``groups`` becomes a known group (added, or replaced if
        known) whose statistics are those :meth:`transform` would use for it
        as an unknown group: its own, shrunk towards ``prior_`` with
        ``shrinkage``. Later calls to :meth:`transform` then standardise its
        samples with them, e.g. a new speaker's later clips with the
        statistics of its first ``k`` clips.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or clips
            As in :meth:`fit`.
        groups : array-like of shape (n_samples,)
            Speaker or subject of each sample.

        Returns
        -------
        self : GroupStandardScaler

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If :meth:`fit` has not run.
        ValueError
            If ``X`` has another number of features than in :meth:`fit`,
            ``groups`` has not one entry per sample, or (without
            ``shrinkage``) a group has a single sample.
        """
        check_is_fitted(self)
        rows, clip_index, _ = self._rows(X, reset=False)
        groups = _check_groups(groups, _n_samples(clip_index))
        row_groups = groups[clip_index]
        stats = {}
        for group in np.unique(groups):
            stats[group] = self._new_group_stats(rows[row_groups == group],
                                                 int(np.sum(groups == group)))
            if stats[group] is None:
                raise ValueError(
                    f"group {str(group)!r} has 1 sample: its own statistics would standardise "
                    "it to zeros. Give at least two samples of it, or use shrinkage=True."
                )
        keep = [k for k, g in enumerate(self.groups_) if g not in stats]
        known = np.concatenate([np.asarray(self.groups_)[keep], list(stats)])
        mean = np.vstack([self.mean_[keep], *(m for m, _ in stats.values())])
        scale = np.vstack([self.scale_[keep], *(s for _, s in stats.values())])
        order = np.argsort(known, kind="stable")
        self.groups_, self.mean_, self.scale_ = known[order], mean[order], scale[order]
        return self

    def fit_transform(self, X, y=None, groups=None):
        """:meth:`fit`, then :meth:`transform` with the same ``groups``."""
        return self.fit(X, y, groups=groups).transform(X, groups=groups)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # -- helpers --------------------------------------------------------------
    def _new_group_stats(self, rows, n_samples):
        """``(mean, std)`` of a group not known from :meth:`fit`, from its ``rows`` (its
        ``n_samples`` samples): shrunk towards ``prior_`` with ``shrinkage``, else its own;
        None when it has a single sample and no shrinkage (its own would give zeros)."""
        if self.shrinkage:
            return _shrunk_stats(rows, self.prior_)
        if n_samples < 2:
            return None
        return _stats(rows)

    def _check_params(self):
        validate_params(self, self._parameter_constraints)

    def _rows(self, X, *, reset):
        """``(rows, clip_index, shapes)``: 2-D rows, each row's sample, clip shapes or None."""
        if is_clips(X):
            shapes = [np.shape(clip) for clip in X]
            rows, clip_index = flatten_clips(X)
            rows = validate_data(self, rows, reset=reset, dtype=np.float32)
            return rows, clip_index, shapes
        rows = validate_data(
            self, X, reset=reset, dtype=[np.float64, np.float32], allow_nd=True
        )
        if rows.ndim > 2:
            raise ValueError(
                f"X has shape {rows.shape}; pass a 2-D array (n_samples, n_features) or "
                "clips (a sequence of per-clip arrays)."
            )
        return rows, np.arange(len(rows)), None

    def _warn_coverage(self, counts, n_classes):
        low = _low(counts, n_classes, self.min_class_coverage)
        if not low:
            return
        listed = ", ".join(f"{g!r}: {c}" for g, c in list(low.items())[:10])
        more = f" and {len(low) - 10} more" if len(low) > 10 else ""
        warnings.warn(
            f"{len(low)} of {len(counts)} groups have training labels of at most "
            f"{self.min_class_coverage:.0%} of the {n_classes} classes (classes per group: "
            f"{listed}{more}). Standardising such a group with its own statistics removes "
            "the emotion signal and can push accuracy below chance; do not use speaker "
            "normalisation on this corpus (drop GroupStandardScaler), or set "
            "min_class_coverage=0 if you are sure.",
            LabelCoverageWarning,
            stacklevel=3,
        )


def _stats(rows):
    """``(mean, std)`` of each column of ``rows`` in float64, std 1 where it is 0."""
    values = rows.astype(np.float64)
    std = values.std(0)
    std[std < 1e-12] = 1.0
    return values.mean(0), std


def _shrunk_stats(rows, prior):
    """``(mean, std)`` of ``rows`` shrunk towards ``prior`` (see GroupStandardScaler, Notes)."""
    values = rows.astype(np.float64)
    k = len(values)
    mean = (k * values.mean(0) + prior["n_mean"] * prior["mean"]) / (k + prior["n_mean"])
    s2 = values.var(0, ddof=1) if k > 1 else np.zeros_like(prior["var"])
    var = ((k - 1) * s2 + prior["df_var"] * prior["var"]) / (k - 1 + prior["df_var"])
    std = np.sqrt(var)
    std[std < 1e-12] = 1.0
    return mean, std


def _n_samples(clip_index):
    return int(clip_index[-1]) + 1 if len(clip_index) else 0


def _check_groups(groups, n_samples, what="X"):
    groups = column_or_1d(groups)
    if len(groups) != n_samples:
        raise ValueError(
            f"groups has {len(groups)} entries but {what} has {n_samples} samples; pass one "
            "speaker or subject id per sample (clip)."
        )
    return groups.astype(str) if groups.dtype == object else groups
