"""MultiTaskPathNetClassifier: emotions and facial Action Units on shared pathways."""

import numbers

import numpy as np
import torch
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._classifier import PathNetClassifier
from .utils._clips import mean_per_clip
from ._transfer import several_sources, split_sources
from .utils._params import Real
from .engine import MultiTargets, MultiTaskHeads, TaskHead, train_multitask

__all__ = ["MultiTaskPathNetClassifier", "missing_labels"]


def missing_labels(y, missing_label=None):
    """Boolean mask of the unlabelled entries of a label vector.

    An entry is unlabelled when it is None, a float NaN, the empty string,
    or equal to ``missing_label`` (if given, e.g. -1 for integer labels as
    in :mod:`sklearn.semi_supervised`).

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
    missing_label : int, str or None, default=None

    Returns
    -------
    missing : ndarray of shape (n_samples,), bool
    """
    y = np.asarray(y)
    if y.dtype.kind == "f":
        missing = np.isnan(y)
    elif y.dtype.kind in "OUS":
        missing = np.array(
            [v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and v == "")
             or (isinstance(v, bytes) and v == b"") for v in y.tolist()],
            dtype=bool,
        ).reshape(y.shape)
    else:
        missing = np.zeros(y.shape, dtype=bool)
    if missing_label is not None:
        missing |= np.array([v == missing_label for v in y.tolist()], dtype=bool).reshape(y.shape)
    return missing


class MultiTaskPathNetClassifier(PathNetClassifier):
    """PathNet trained on emotions and facial Action Units at once, with missing labels.

    A :class:`PathNetClassifier` whose pathways feed two heads: the emotion
    head (softmax cross-entropy, what :meth:`predict` answers) and, when
    :meth:`fit` gets ``aus``, an Action Unit (AU) head (one sigmoid binary
    cross-entropy per AU, :meth:`predict_aus`). As in Pons & Masip [1]_, a
    sample contributes only to the losses of the tasks it is labelled for,
    so corpora with emotion labels only (JAFFE), AU labels only, or both
    (CK+) can be trained together. The masked loss, its gradient and the
    fitness are those of :mod:`skpathnet.engine._multitask`:

    - loss per mini-batch: the mean cross-entropy over the emotion-labelled
      rows plus ``au_weight`` times the mean binary cross-entropy over the
      labelled AU entries; a task without a label in the batch leaves its
      head unchanged and sends no gradient into the pathways;
    - fitness of a pathway: the mean of its emotion accuracy (labelled rows
      seen during its ``T`` steps) and its AU mean F1 (per AU over the
      labelled entries seen, averaged over the AUs whose F1 is defined);
      with emotion labels only it is the accuracy of
      :class:`PathNetClassifier` (and the fit is bit-identical to it).

    Transfer works as for :class:`PathNetClassifier`: :meth:`fit_transfer`
    learns each source as a multi-task (or emotion-only) task and freezes
    its best pathway; a later :meth:`fit` on the target (e.g. JAFFE,
    emotions only) keeps it always active. It survives
    :func:`sklearn.base.clone`.

    Parameters
    ----------
    n_layers, n_modules, n_active, n_units, module, n_channels, kernel_size, \
global_pooling, first_layer, population_size, n_generations, learning_rate, batch_size, \
n_steps, mutation_rate, mutation_shift, frozen, tournament, weight_decay, momentum, \
augmentation, fitness, tie_break, final_steps, validation_fraction, standardize, \
seed_pathway, pathway_per_class, frozen_weight, frozen_learning_rate, device, n_threads, \
random_state, verbose
        As in :class:`PathNetClassifier` (same defaults, the papers'). The
        SGD levers (``weight_decay``, ``momentum``, ``augmentation``) apply
        to the shared pathways and every head; the transfer levers
        (``seed_pathway``, ``frozen_weight``, ``frozen_learning_rate``) to
        the pathways of a task after :meth:`fit_transfer`. ``fitness="validation"`` and
        ``tie_break="loss"`` are single-task rules (held-out accuracy, the
        cross-entropy of one head) and are refused here, as is
        ``pathway_per_class=True`` (one-vs-rest class tasks, without the
        Action Units).
    au_weight : float, default=1.0
        Weight ``w`` of the AU loss against the emotion loss. 1.0: the
        unweighted sum of the two task losses, as in Pons & Masip (2018). 0:
        the AU labels change no parameter (the AU head stays at its random
        initialisation) and only enter the fitness.
    missing_label : int, str or None, default=None
        Emotion labels that are None, NaN or "" mark a sample without an
        emotion label; ``missing_label`` adds one more such value (e.g. -1
        for integer labels, as in :mod:`sklearn.semi_supervised`).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Emotion classes (of the labelled samples).
    n_aus_ : int
        Number of AUs of the last :meth:`fit` (0 if it got no ``aus``).
    best_path_, best_fitness_, history_, n_steps_, first_layer_, \
input_shape_, n_features_in_
        As in :class:`PathNetClassifier`; ``best_fitness_`` is the
        multi-task fitness above.
    source_paths_, source_classes_, source_fitness_, source_history_, \
frozen_modules_
        After :meth:`fit_transfer`, as in :class:`PathNetClassifier`.
    source_n_aus_ : list of int
        AUs of each source task (0 for an emotion-only source).

    Notes
    -----
    **Missing labels.** Emotion: see ``missing_label``. AUs: ``aus`` is a
    0/1 indicator matrix of shape (n_samples, n_aus) in which an entry that
    is -1 or NaN is unlabelled; a row of all -1 (or NaN) is a sample with no
    AU label. At least one sample must have an emotion label, and when
    ``aus`` is given at least one AU entry must be labelled.

    **sklearn tools.** ``aus`` is a sample-aligned fit parameter, so
    ``cross_validate(clf, X, y, params={"aus": A}, groups=g, cv=...)`` and
    ``GridSearchCV(...).fit(X, y, aus=A)`` slice it with X and y.
    :meth:`predict` and :meth:`score` concern the emotion task only.

    References
    ----------
    .. [1] G. Pons and D. Masip, "Multi-task, multi-label and multi-domain
       learning with residual convolutional networks for emotion
       recognition", arXiv:1802.06664, 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from skpathnet import MultiTaskPathNetClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(128, 10)).astype("float32")
    >>> y = np.where(X[:, 0] > 0, "happiness", "sadness").astype(object)
    >>> aus = (X[:, 1:3] > 0).astype(np.int8)
    >>> y[:32] = None                  # no emotion label
    >>> aus[32:64] = -1                # no AU label
    >>> clf = MultiTaskPathNetClassifier(n_generations=20, population_size=4,
    ...                                  learning_rate=0.2, n_steps=10, n_threads=1,
    ...                                  random_state=0)
    >>> clf.fit(X, y, aus=aus).predict_aus(X).shape
    (128, 2)
    """

    _parameter_constraints = {**PathNetClassifier._parameter_constraints, "au_weight": Real(0)}
    _transfer_attrs = PathNetClassifier._transfer_attrs + ("source_n_aus_",)
    _target_attrs = PathNetClassifier._target_attrs + ("n_aus_",)

    def __init__(
        self,
        *,
        n_layers=3,
        n_modules=20,
        n_active=4,
        n_units=20,
        module="linear",
        n_channels=8,
        kernel_size=3,
        global_pooling=False,
        first_layer="auto",
        population_size=20,
        n_generations=200,
        learning_rate=0.02,
        batch_size=64,
        n_steps=None,
        mutation_rate=None,
        mutation_shift=2,
        frozen="always",
        tournament="serial",
        weight_decay=0.0,
        momentum=0.0,
        augmentation=None,
        fitness="train",
        tie_break="first",
        final_steps=0,
        validation_fraction=0.2,
        standardize=True,
        seed_pathway=False,
        pathway_per_class=False,
        frozen_weight=1.0,
        frozen_learning_rate=0.0,
        device="cpu",
        n_threads=None,
        random_state=None,
        verbose=False,
        au_weight=1.0,
        missing_label=None,
    ):
        super().__init__(
            n_layers=n_layers, n_modules=n_modules, n_active=n_active, n_units=n_units,
            module=module, n_channels=n_channels, kernel_size=kernel_size,
            global_pooling=global_pooling, first_layer=first_layer,
            population_size=population_size, n_generations=n_generations,
            learning_rate=learning_rate, batch_size=batch_size, n_steps=n_steps,
            mutation_rate=mutation_rate, mutation_shift=mutation_shift, frozen=frozen,
            tournament=tournament, weight_decay=weight_decay, momentum=momentum,
            augmentation=augmentation, fitness=fitness, tie_break=tie_break,
            final_steps=final_steps, validation_fraction=validation_fraction,
            standardize=standardize, seed_pathway=seed_pathway,
            pathway_per_class=pathway_per_class, frozen_weight=frozen_weight,
            frozen_learning_rate=frozen_learning_rate, device=device,
            n_threads=n_threads,
            random_state=random_state, verbose=verbose,
        )
        self.au_weight = au_weight
        self.missing_label = missing_label

    # -- training -------------------------------------------------------------
    def fit(self, X, y, *, aus=None, X_val=None, y_val=None):
        """Evolve pathways on the emotion task and, given ``aus``, the AU task at once.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, 3, 64, 64), or clips
            As for :meth:`PathNetClassifier.fit`.
        y : array-like of shape (n_samples,)
            Emotion label of each sample (clip); None, NaN, "" or
            ``missing_label`` where a sample has none.
        aus : array-like of shape (n_samples, n_aus), default=None
            AU indicator matrix: 1 present, 0 absent, -1 or NaN unlabelled
            (e.g. ``load_ckplus(aus=True).aus``). None: emotions only.
        X_val, y_val : default=None
            Fully labelled held-out emotion data, scored each generation as
            in :meth:`PathNetClassifier.fit`.

        Returns
        -------
        self : MultiTaskPathNetClassifier

        Raises
        ------
        ValueError
            If a parameter is invalid, inputs are malformed or non-finite,
            no sample has an emotion label, ``aus`` has another number of
            rows than X has samples, a value other than 0, 1, -1 or NaN, or
            no labelled entry, or the feature count differs from the
            transferred source's.
        """
        return self._fit(X, y, aus, X_val=X_val, y_val=y_val)

    def fit_transfer(self, source_X, source_y, *, source_aus=None, append=False):
        """Evolve multi-task pathways on source corpora and freeze the best of each.

        As :meth:`PathNetClassifier.fit_transfer`, each source possibly with
        AU labels: e.g. CK+48 with emotions and AUs, then :meth:`fit` on
        JAFFE with emotions only. Every source, its AU labels included, is
        checked before the first is trained.

        Parameters
        ----------
        source_X : X-like, or list of X-like
            One source corpus, or a list of several.
        source_y : array-like of shape (n_samples,), or list of them
            Emotion labels of each source (missing labels as in :meth:`fit`).
        source_aus : array-like of shape (n_samples, n_aus), or list, default=None
            AU matrix of the one source, or a list with one entry (a matrix
            or None) per source. None: no source has AU labels.
        append : bool, default=False
            Keep the sources already transferred and learn these after them
            (as in :meth:`PathNetClassifier.fit_transfer`).

        Returns
        -------
        self : MultiTaskPathNetClassifier

        Raises
        ------
        ValueError
            As :meth:`PathNetClassifier.fit_transfer` and :meth:`fit` (the
            message names the source, "source 2 of 2: ..."), or if
            ``source_aus`` does not give one entry per source.
        """
        self._check_params()
        n_sources = len(split_sources(source_X, source_y))
        if source_aus is None:
            aus_list = None
        elif several_sources(source_y):
            if not isinstance(source_aus, (list, tuple)) or len(source_aus) != n_sources:
                raise ValueError(
                    f"source_y lists {n_sources} corpora, so source_aus must be a list of "
                    f"{n_sources} AU matrices (None for a corpus without AU labels); got "
                    f"{type(source_aus).__name__}"
                    f"{f' of length {len(source_aus)}' if hasattr(source_aus, '__len__') else ''}."
                )
            aus_list = list(source_aus)
        else:
            aus_list = [source_aus]
        return self._fit_sources(source_X, source_y, extras=aus_list, append=append)

    # -- the hooks of _BasePathNet: emotion labels with missing ones, AU labels, two heads --
    def _encode_targets(self, y, clip_index, extra=None, *, source=None):
        """``(classes, y_enc, aus)``: emotion classes, -1 where unlabelled; checked AUs."""
        y_enc, classes = self._encode_y(y, clip_index)
        if source is None:
            name = "aus"
        else:
            index, n_sources = source
            name = f"source_aus[{index}]" if n_sources > 1 else "source_aus"
        return classes, y_enc, self._check_aus(extra, len(y_enc), name=name)

    def _task_targets(self, y_seg, aus_seg, device):
        emotion = torch.from_numpy(np.asarray(y_seg, dtype=np.int64)).to(device)
        if aus_seg is None:
            return MultiTargets(emotion)
        known = ~np.isnan(aus_seg)
        return MultiTargets(
            emotion,
            torch.from_numpy(np.where(known, aus_seg, 0.0).astype(np.float32)).to(device),
            torch.from_numpy(known).to(device),
        )

    def _task_heads(self, network, n_classes, targets, *, device, generator):
        return MultiTaskHeads(
            TaskHead(network.n_outputs, n_classes, device=device, generator=generator),
            None if targets.aus is None else TaskHead(network.n_outputs, targets.n_aus,
                                                      device=device, generator=generator),
            float(self.au_weight),
        )

    @staticmethod
    def _class_head(heads):
        return heads.emotion

    @staticmethod
    def _head_state(heads):
        return {"head": heads.emotion.state(),
                "au_head": None if heads.aus is None else heads.aus.state()}

    @staticmethod
    def _trainer():
        return train_multitask

    @staticmethod
    def _extra_attrs(extras):
        return {"n_aus_": [0 if aus is None else aus.shape[1] for aus in extras]}

    # -- AU prediction --------------------------------------------------------
    def predict_proba_aus(self, X, *, source=None):
        """Probability that each AU is present, one row per sample (clip).

        For clips, the segment probabilities are averaged.

        Parameters
        ----------
        X : array-like or clips
            As for :meth:`fit`.
        source : int or None, default=None
            None: the AU head of the last :meth:`fit`. An int: the AU head of
            that :meth:`fit_transfer` source, with its frozen pathway.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_aus), float32
            Sigmoid outputs, columns in the order of the ``aus`` given to fit.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If :meth:`fit` (:meth:`fit_transfer` for a ``source``) has not run.
        ValueError
            If that task was learnt without AU labels, or ``source`` is not
            the index of a source task.
        """
        if source is None:
            check_is_fitted(self)
            state, what = self._target_state, "fit"
        else:
            check_is_fitted(self, "_source_state")
            n_sources = len(self.source_classes_)
            if not isinstance(source, numbers.Integral) or not 0 <= source < n_sources:
                raise ValueError(
                    f"source must be None or an integer in [0, {n_sources}), the index of a "
                    f"fit_transfer source; got {source!r}."
                )
            state, what = self._source_state.tasks[source], f"fit_transfer source {source}"
        if state.au_head is None:
            raise ValueError(
                f"This {type(self).__name__}'s {what} got no AU labels, so it has no AU head; "
                f"pass aus= to fit (source_aus= to fit_transfer) to learn Action Units."
            )
        return mean_per_clip(*self._segment_proba(X, state, head="au_head", multilabel=True))

    def predict_aus(self, X, *, source=None):
        """AU indicator matrix: 1 where :meth:`predict_proba_aus` exceeds 0.5.

        Returns
        -------
        aus : ndarray of shape (n_samples, n_aus), int8
        """
        return (self.predict_proba_aus(X, source=source) > 0.5).astype(np.int8)

    # -- checks -----------------------------------------------------------------
    def _check_param_rules(self):
        super()._check_param_rules()
        for name, value, single, other in (("fitness", self.fitness, "validation", "train"),
                                           ("tie_break", self.tie_break, "loss", "first")):
            if value == single:
                raise ValueError(
                    f"{name}={single!r} is a single-task rule of PathNetClassifier (held-out "
                    f"accuracy, one head's cross-entropy); {type(self).__name__} compares "
                    f"pathways by its multi-task fitness. Use {name}={other!r}."
                )
        if self.pathway_per_class:
            raise ValueError(
                f"pathway_per_class=True learns each source class as a one-vs-rest task of "
                f"PathNetClassifier; {type(self).__name__} learns emotions and Action Units "
                f"together on one pathway per source. Use pathway_per_class=False."
            )

    def _encode_y(self, y, clip_index):
        """``(y_enc, classes)``: classes of the labelled samples, -1 where unlabelled."""
        if y is None:
            raise ValueError("requires y to be passed, but the target y is None.")
        y = column_or_1d(y, warn=True)
        n_clips = int(clip_index[-1]) + 1 if len(clip_index) else 0
        if len(y) != n_clips:
            raise ValueError(
                f"Found input variables with inconsistent numbers of samples: "
                f"X has {n_clips} samples (clips), y has {len(y)}."
            )
        missing = missing_labels(y, self.missing_label)
        if missing.all():
            raise ValueError(
                f"y has no emotion label: all {len(y)} entries are missing (None, NaN, '' "
                f"or missing_label={self.missing_label!r}); give at least one labelled sample."
            )
        labelled = y[~missing]
        if labelled.dtype == object:
            labelled = np.asarray(labelled.tolist())
        check_classification_targets(labelled)
        classes, enc = np.unique(labelled, return_inverse=True)
        y_enc = np.full(len(y), -1, dtype=np.int64)
        y_enc[~missing] = enc
        return y_enc, classes

    @staticmethod
    def _check_aus(aus, n_samples, *, name="aus"):
        """``aus`` as float64 (n_samples, n_aus) with NaN where unlabelled, or None."""
        if aus is None:
            return None
        try:
            values = np.asarray(aus, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{name} must be a numeric matrix of 0 (absent), 1 (present) and -1 or NaN "
                f"(unlabelled); could not convert it: {exc}"
            ) from exc
        if values.ndim != 2 or values.shape[1] < 1:
            raise ValueError(
                f"{name} must be a 2-D indicator matrix of shape (n_samples, n_aus); got shape "
                f"{values.shape}."
            )
        if len(values) != n_samples:
            raise ValueError(
                f"{name} has {len(values)} rows but X has {n_samples} samples (clips); give "
                "one AU row per sample (all -1 for a sample without AU labels)."
            )
        values = np.where(values == -1, np.nan, values)
        bad = ~np.isnan(values) & (values != 0) & (values != 1)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ValueError(
                f"{name}[{row}, {col}] is {float(values[row, col])!r}; AU entries must be 0 (absent), "
                "1 (present), or -1 / NaN (unlabelled)."
            )
        if np.isnan(values).all():
            raise ValueError(
                f"{name} has no labelled entry (all -1 or NaN); pass aus=None to train on "
                "emotions only."
            )
        return values
