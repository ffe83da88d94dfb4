"""PathNetClassifier: PathNet evolution and transfer as a scikit-learn classifier."""

import functools
import numbers
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state

from .utils._clips import mean_per_clip
from .engine import (
    ConvModules, EvolutionSettings, FaceAugment, LinearModules, PathNetwork, Pathways,
    SpecAugment, TaskHead, TrainSettings, evolve, heldout_trainer, train_pathways, training_loss,
)
from .utils._scaling import fit_standardizer, standardize
from .utils._threads import torch_threads
from ._transfer import TransferMixin
from .utils._params import Boolean, Instance, Integer, Options, Real

__all__ = ["PathNetClassifier"]


@dataclass
class TaskState:
    """What prediction needs of one trained task, the target or a source.

    Attributes
    ----------
    pathway : list of LayerState
        The best pathway's layers as fixed CPU weights
        (:meth:`~skpathnet.engine.Pathways.state`).
    head : tuple of ndarray
        The class head (:meth:`~skpathnet.engine.TaskHead.state`).
    scaler : tuple of ndarray or None
        ``(mean, scale)`` of the training features; None without
        standardisation.
    modules : LinearModules or ConvModules
        The module type, to rebuild the pathway.
    au_head : tuple of ndarray or None, default=None
        The Action Unit head of a multi-task fit with AU labels.
    """

    pathway: list
    head: tuple
    scaler: Optional[tuple]
    modules: object
    au_head: Optional[tuple] = None


@dataclass
class SourceState:
    """What ``fit_transfer`` leaves for later fits and ``predict_source``.

    Attributes
    ----------
    n_features : int
        Features per segment of the sources.
    input_shape : tuple of int
        Shape of one source segment as given.
    architecture : dict
        The parameters that shape the frozen modules, at ``fit_transfer``.
    frozen : tuple of (list of ndarray, list of tuple)
        Per layer, the frozen module indices, and their weights
        (:meth:`~skpathnet.engine.PathNetwork.load_frozen`'s arguments).
    tasks : list of TaskState
        Each source task's pathway and heads.
    """

    n_features: int
    input_shape: tuple
    architecture: dict
    frozen: tuple
    tasks: list


@dataclass
class _TaskFit:
    """What training one task gives (:meth:`_BasePathNet._train_task`).

    Attributes
    ----------
    path : ndarray of shape (n_layers, n_active), int64
        The best genotype.
    fitness : float
        Its last measured fitness.
    history : list of dict
        The generation records of :func:`~skpathnet.engine.evolve`.
    n_steps : int
        ``T`` used.
    first_layer : {"direct", "row_space"}
        How the first layer was trained.
    state : TaskState
        What prediction needs.
    network : PathNetwork or None
        The trained network, kept for freezing a source's best pathway.
    """

    path: np.ndarray
    fitness: float
    history: list
    n_steps: int
    first_layer: str
    state: TaskState
    network: Optional[PathNetwork] = None


class _BasePathNet(TransferMixin, ClassifierMixin, BaseEstimator):
    """PathNet evolution and transfer, for one task or several on shared pathways.

    Owns :meth:`fit` (the skeleton of :class:`~skpathnet._transfer.TransferMixin`,
    ``_fit``, with ``_train_target``), :meth:`fit_transfer` (every source
    checked before the first is trained), the training of a task and
    prediction. A subclass
    that learns several tasks at once (:class:`~skpathnet.MultiTaskPathNetClassifier`)
    changes only the hooks: ``_encode_targets`` (of
    :class:`~skpathnet._transfer.TransferMixin`: labels and the extra targets
    given to fit, e.g. AUs), ``_task_targets`` and ``_task_heads``
    (what the engine trains on), ``_class_head`` and ``_head_state`` (the
    class head and what prediction keeps), ``_trainer`` (the engine's
    ``train``) and ``_extra_attrs`` (fitted attributes of the extra
    targets). Parameters: see :class:`~skpathnet.PathNetClassifier`.
    """

    # Attributes written by fit_transfer: they travel through sklearn.clone.
    _transfer_attrs = (
        "source_paths_",
        "source_classes_",
        "source_fitness_",
        "source_history_",
        "frozen_modules_",
        "_source_state",
    )
    # Attributes written by fit: reset by fit_transfer.
    _target_attrs = (
        "classes_",
        "best_path_",
        "best_fitness_",
        "history_",
        "n_steps_",
        "first_layer_",
        "_target_state",
    )

    # What each parameter may be (skpathnet.utils._params); the rules that involve
    # several parameters are in _check_param_rules.
    _parameter_constraints = {
        "n_layers": Integer(1),
        "n_modules": Integer(1),
        "n_active": Integer(1),
        "n_units": Integer(1),
        "module": Options(("linear", "conv")),
        "n_channels": Integer(1),
        "kernel_size": Integer(1),
        "global_pooling": Boolean(),
        "first_layer": Options(("auto", "direct", "row_space")),
        "population_size": Integer(2, note="a binary tournament draws two pathways"),
        "n_generations": Integer(1),
        "learning_rate": Real(0, low_open=True),
        "batch_size": Integer(1),
        "n_steps": Integer(1, none=True),
        "mutation_rate": Real(0, 1, none=True),
        "mutation_shift": Integer(0),
        "frozen": Options(("always", "genes"), (
            "frozen modules active in every pathway",
            "active where a pathway's genes select them")),
        "tournament": Options(("serial", "parallel")),
        "weight_decay": Real(0),
        "momentum": Real(0, 1, high_open=True),
        "augmentation": Instance(
            (SpecAugment, FaceAugment), "None, a skpathnet.SpecAugment (log-mel segments) or "
            "a skpathnet.FaceAugment (face crops)", none=True),
        "fitness": Options(("train", "validation")),
        "tie_break": Options(("first", "loss")),
        "final_steps": Integer(0),
        "validation_fraction": Real(0, 1, low_open=True, high_open=True),
        "standardize": Boolean(),
        "seed_pathway": Boolean(),
        "pathway_per_class": Boolean(),
        "frozen_weight": Real(0, 1, low_open=True),
        "frozen_learning_rate": Real(0),
        "n_threads": Integer(1, none=True),
    }

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
    ):
        self.n_layers = n_layers
        self.n_modules = n_modules
        self.n_active = n_active
        self.n_units = n_units
        self.module = module
        self.n_channels = n_channels
        self.kernel_size = kernel_size
        self.global_pooling = global_pooling
        self.first_layer = first_layer
        self.population_size = population_size
        self.n_generations = n_generations
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_steps = n_steps
        self.mutation_rate = mutation_rate
        self.mutation_shift = mutation_shift
        self.frozen = frozen
        self.tournament = tournament
        self.weight_decay = weight_decay
        self.momentum = momentum
        self.augmentation = augmentation
        self.fitness = fitness
        self.tie_break = tie_break
        self.final_steps = final_steps
        self.validation_fraction = validation_fraction
        self.standardize = standardize
        self.seed_pathway = seed_pathway
        self.pathway_per_class = pathway_per_class
        self.frozen_weight = frozen_weight
        self.frozen_learning_rate = frozen_learning_rate
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    # -- sklearn protocol -----------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.classifier_tags.poor_score = True
        return tags

    def __sklearn_is_fitted__(self):
        return hasattr(self, "_target_state")

    # -- training -------------------------------------------------------------
    def fit(self, X, y, *, X_val=None, y_val=None):
        """Evolve pathways on (X, y) and keep the best one.

        If :meth:`fit_transfer` ran before (on this estimator or on the one
        it was cloned from), the frozen source pathways are never updated
        (with ``frozen_learning_rate > 0``, this fit's copies of them are
        fine-tuned, the sources' saved values stay); they are always
        active, or with ``frozen="genes"`` active where a pathway's genes
        select them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, 3, 64, 64), or clips
            Training data; clips are a sequence of ``n_samples`` arrays of
            shape ``(n_segments_i, 3, 64, 64)`` (see Notes).
        y : array-like of shape (n_samples,)
            One label per sample (clip).
        X_val, y_val : same kinds as X, y, default=None
            Optional held-out data: each generation's winner is scored on it
            (clip-level accuracy, ``history_[g]["val_score"]``), for curves
            of accuracy over generations. Not used for selection.

        Returns
        -------
        self : PathNetClassifier

        Raises
        ------
        ValueError
            If a parameter is invalid, inputs are empty, malformed or
            non-finite, y has a single class, the feature count differs
            from the transferred source's, or an architecture parameter
            (``n_layers``, ``n_modules``, ``module``, ``n_units``;
            ``n_channels``, ``kernel_size`` for conv modules) differs from
            its value at :meth:`fit_transfer`; the message names it.
        TypeError
            If ``augmentation`` is not None, a SpecAugment or a FaceAugment.

        Notes
        -----
        The fit is atomic: if it raises or is interrupted
        (``KeyboardInterrupt``), every attribute, a previous fit's included,
        is left as it was.
        """
        return self._fit(X, y, X_val=X_val, y_val=y_val)

    def _train_target(self, segments, y_seg, classes, rng, *, clip_index, owned, extra,
                      X_val, y_val):
        """Evolve the target task (see ``TransferMixin._fit``); its fitted attributes."""
        on_generation = None
        if X_val is not None:
            on_generation = self._val_monitor(X_val, y_val, classes)
        task = self._train_task(
            segments,
            y_seg,
            len(classes),
            rng,
            extra_seg=None if extra is None else extra[clip_index],
            clip_index=clip_index,
            owned=owned,
            frozen=self._frozen_layers(),
            task=len(getattr(self, "source_paths_", ())),
            on_generation=on_generation,
            initial=self._initial_pathways(),
        )
        extras = {name: value[0] for name, value in self._extra_attrs([extra]).items()}
        return {"best_path_": task.path, "best_fitness_": task.fitness,
                "history_": task.history, "n_steps_": task.n_steps,
                "first_layer_": task.first_layer, "_target_state": task.state, **extras}

    def fit_transfer(self, source_X, source_y, *, append=False):
        """Evolve pathways on source corpora and freeze the best of each.

        Every parameter outside the frozen pathways is re-initialised before
        the next task, and a later :meth:`fit` on the target reuses the
        frozen pathways (Nguyen et al. 2020, Sec. 3.3). Calling
        ``fit_transfer`` again replaces the previous sources (unless
        ``append``), and any target fit is discarded.

        Parameters
        ----------
        source_X : X-like, or list of X-like
            One source corpus (any input accepted by :meth:`fit`), or a list
            of several corpora, learnt one after another as PathNet tasks,
            each with its own label set and final layer.
        source_y : array-like of shape (n_samples,), or list of them
            Labels of each source corpus. A list whose items are themselves
            arrays or lists means several corpora.
        append : bool, default=False
            Keep the sources already transferred (e.g. of a pretrained model
            read by :func:`skpathnet.load`) and learn these after them: their
            pathways stay frozen, the frozen set grows by the new sources'
            best pathways, and the new sources are numbered after the old
            ones (``source_classes_``, ``predict_source(source=k)``). Without
            earlier sources it is the same as False.

        Returns
        -------
        self : PathNetClassifier

        Raises
        ------
        ValueError
            If a source is empty, malformed, non-finite or has a single
            class, the sources have different numbers of features per
            segment, or source_X and source_y list different numbers of
            corpora; with ``append``, if the new sources do not fit the
            transferred network (features per segment, architecture
            parameters). Every source is checked before any is trained, and
            the message names the source ("source 2 of 2: ...").

        Notes
        -----
        Atomic like :meth:`fit`: if it raises or is interrupted, the previous
        sources and target fit are kept unchanged.
        """
        return self._fit_sources(source_X, source_y, append=append)

    def _fit_sources(self, source_X, source_y, extras=None, *, append=False):
        """:meth:`fit_transfer`, with a subclass's extra targets (one entry per source)."""
        rng = check_random_state(self.random_state)
        previous = getattr(self, "_source_state", None) if append else None
        paths, classes_list, fitness, histories, tasks, extra_attrs = [], [], [], [], [], {}
        frozen = None
        if previous is not None:
            paths, classes_list = list(self.source_paths_), list(self.source_classes_)
            fitness, histories = list(self.source_fitness_), list(self.source_history_)
            tasks, frozen = list(previous.tasks), previous.frozen
            extra_attrs = {name: list(getattr(self, f"source_{name}"))
                           for name in self._extra_attrs([])}
        # PathNet tasks trained before: one per source, or one per class of a source
        # learnt with pathway_per_class
        first_task = sum(len(t) if isinstance(t, list) else 1 for t in tasks)
        n_trained = 0
        if first_task and isinstance(self.random_state, numbers.Integral):
            # not the draws of the first sources again (their genotypes, initialisation)
            seed = np.random.SeedSequence([int(self.random_state), first_task])
            rng = np.random.RandomState(seed.generate_state(1)[0])
        extra_list = []
        with self._atomic_fit():
            for source in self._source_tasks(source_X, source_y, extras=extras):
                if previous is not None and source.index == 0:
                    try:
                        self._check_source_compatible(source.segments)
                    except ValueError as exc:
                        raise ValueError(f"append=True: the new sources do not fit the "
                                         f"transferred network: {exc}") from exc
                fits = []
                for labels, n_classes, owned in self._source_subtasks(source):
                    task = self._train_task(
                        source.segments, labels, n_classes, rng,
                        extra_seg=source.extra_seg, clip_index=source.clip_index,
                        owned=owned, frozen=frozen, task=first_task + n_trained,
                        keep_network=True,
                    )
                    n_trained += 1
                    frozen = self._freeze_best(task, frozen)
                    fits.append(task)
                classes_list.append(source.classes)
                extra_list.append(source.extra)
                if not self.pathway_per_class:
                    paths.append(task.path)
                    fitness.append(task.fitness)
                    histories.append(task.history)
                    tasks.append(task.state)
                    continue
                paths.append(np.stack([fit.path for fit in fits]))
                fitness.append(np.array([fit.fitness for fit in fits]))
                histories.append([record for fit in fits for record in fit.history])
                tasks.append([fit.state for fit in fits])
        # Every source trained: replace the previous sources and drop any target fit.
        self._forget(self._transfer_attrs + self._target_attrs)
        self.source_paths_ = paths
        self.source_classes_ = classes_list
        self.source_fitness_ = fitness
        self.source_history_ = histories
        for name, value in self._extra_attrs(extra_list).items():
            setattr(self, f"source_{name}", extra_attrs.get(name, []) + list(value))
        self.frozen_modules_ = frozen[0]
        self._source_state = SourceState(self.n_features_in_, self.input_shape_,
                                         self._architecture(), frozen, tasks)
        return self

    def _source_subtasks(self, source):
        """The PathNet tasks of one source: ``(labels per segment, n_classes, owned)``.

        One task on the source's classes; with ``pathway_per_class`` one
        one-vs-rest task per class (label 1: the class), in the order of
        ``source.classes`` (Nguyen et al. 2020, end of Sec. 4.1: "one
        pathway is learned on one emotion"). Only the last task may
        standardise the source's segments in place.
        """
        if not self.pathway_per_class:
            yield source.y_seg, len(source.classes), source.owned
            return
        n_classes = len(source.classes)
        for index in range(n_classes):
            yield ((source.y_seg == index).astype(np.int64), 2,
                   source.owned and index == n_classes - 1)

    def _initial_pathways(self):
        """With ``seed_pathway`` and transferred sources: the last source's best genotype."""
        if not self.seed_pathway or not getattr(self, "source_paths_", None):
            return ()
        path = self.source_paths_[-1]
        if path.ndim == 3:  # pathway_per_class: the last class's
            path = path[-1]
        if path.shape[1] != self.n_active:
            raise ValueError(
                f"seed_pathway=True starts the target population with the last source's best "
                f"pathway, of n_active={path.shape[1]} modules per layer, but n_active="
                f"{self.n_active!r}; keep n_active={path.shape[1]} or seed_pathway=False."
            )
        return (path,)

    def _train_task(
        self, segments, y_seg, n_classes, rng, *, owned, frozen, task, extra_seg=None,
        clip_index=None, on_generation=None, keep_network=False, initial=(),
    ):
        """Evolve one task on standardised segments; return its best pathway.

        ``extra_seg`` holds a subclass's extra targets per segment (see
        ``_encode_targets``). ``clip_index`` (the clip of each segment;
        None: one segment per clip) keeps a clip's segments together in the
        held-out part of ``fitness="validation"``.

        Returns
        -------
        task : _TaskFit
            With the trained network if ``keep_network``.
        """
        device = self._device()
        split = None
        if self.fitness == "validation":
            clip_index = np.arange(len(segments)) if clip_index is None else clip_index
            split = _holdout_rows(
                y_seg, clip_index, self.validation_fraction,
                np.random.RandomState(rng.randint(np.iinfo(np.int32).max)),
            )
            heldout_clips = np.unique(clip_index[split[1]], return_inverse=True)[1]
        scaler = None
        if self.standardize:
            scaler = fit_standardizer(segments)
            segments = standardize(segments, *scaler, inplace=owned)
        X_t = torch.from_numpy(np.ascontiguousarray(segments, dtype=np.float32)).to(device)
        targets = self._task_targets(y_seg, extra_seg, device)
        init = torch.Generator().manual_seed(int(rng.randint(np.iinfo(np.int32).max)))
        shuffle = torch.Generator(device=device).manual_seed(
            int(rng.randint(np.iinfo(np.int32).max))
        )
        modules = self._module_type(X_t.shape[1])
        network = PathNetwork(modules, self.n_layers, self.n_modules, device=device,
                              generator=init, frozen_mode=self.frozen,
                              frozen_weight=float(self.frozen_weight))
        # fine-tune frozen modules (a copy of them: ``frozen`` itself is never written)
        frozen_lr = 0.0 if frozen is None else float(self.frozen_learning_rate)
        if frozen is not None:
            network.load_frozen(*frozen)
        head = self._task_heads(network, n_classes, targets, device=device, generator=init)
        n_train = len(X_t) if split is None else len(split[0])
        n_steps = self.n_steps or max(1, n_train // self.batch_size)
        augmentation = self.augmentation
        settings = EvolutionSettings(
            train=TrainSettings(n_steps=n_steps, batch_size=self.batch_size,
                                learning_rate=self.learning_rate,
                                weight_decay=float(self.weight_decay),
                                momentum=float(self.momentum),
                                augmentation=augmentation,
                                image_shape=None if augmentation is None
                                else tuple(self.input_shape_),
                                frozen_learning_rate=frozen_lr),
            n_active=self.n_active,
            population_size=self.population_size,
            n_generations=self.n_generations,
            mutation_rate=self.mutation_rate,
            mutation_shift=self.mutation_shift,
            tournament=self.tournament,
            final_steps=int(self.final_steps),
        )
        first_layer = self._resolve_first_layer(*X_t.shape, train_frozen=frozen_lr > 0)
        inputs = network.bind(X_t, first_layer=first_layer, train_frozen=frozen_lr > 0)
        train, final_train, tie_break = self._trainer(), None, None
        if self.tie_break == "loss":
            rows = None if split is None else torch.from_numpy(split[0]).to(device)
            tie_break = functools.partial(training_loss, rows=rows)
        if split is not None:
            # bound to every row; tournaments train on split[0] and score split[1]
            train = heldout_trainer(
                *(torch.from_numpy(rows).to(device) for rows in split),
                torch.from_numpy(np.asarray(heldout_clips, dtype=np.int64)).to(device),
            )
            final_train = train_pathways
        best, best_fitness, history = evolve(
            network, head, inputs, targets, settings, rng=rng, generator=shuffle,
            on_generation=None if on_generation is None
            else on_generation(network, self._class_head(head), scaler),
            task=task, verbose=self.verbose, train=train, final_train=final_train,
            tie_break=tie_break, initial=initial,
        )
        del inputs, train
        state = TaskState(pathway=Pathways.gather(network, [best]).state(), scaler=scaler,
                          modules=modules, **self._head_state(head))
        return _TaskFit(best, best_fitness, history, n_steps, first_layer, state,
                        network if keep_network else None)

    # -- what a subclass that learns several tasks changes -----------------------
    def _task_targets(self, y_seg, extra_seg, device):
        """What the engine trains on: the labels of every segment as a tensor."""
        return torch.from_numpy(np.asarray(y_seg, dtype=np.int64)).to(device)

    def _task_heads(self, network, n_classes, targets, *, device, generator):
        """The task's final layer(s) on the network's outputs."""
        return TaskHead(network.n_outputs, n_classes, device=device, generator=generator)

    @staticmethod
    def _class_head(head):
        """The head of the classes (what ``predict`` answers) among ``_task_heads``."""
        return head

    @staticmethod
    def _head_state(head):
        """What prediction keeps of the trained ``_task_heads``."""
        return {"head": head.state()}

    @staticmethod
    def _trainer():
        """The engine's ``train`` of a tournament; None: :func:`~skpathnet.engine.train_pathways`."""
        return None

    @staticmethod
    def _extra_attrs(extras):
        """``{name: [value per task]}`` of fitted attributes describing the extra targets.

        ``fit`` sets ``name`` to the one value, ``fit_transfer`` sets
        ``source_<name>`` to the list. None here.
        """
        return {}

    def _check_source_compatible(self, segments):
        """Check that ``segments`` (and the parameters) fit the transferred source network.

        Raises
        ------
        ValueError
            As :meth:`_check_transferred`, or if convolutional modules get
            segments of another shape than the sources'.
        """
        self._check_transferred(segments.shape[1])
        if (
            self.module == "conv"
            and hasattr(self, "_source_state")
            and self.input_shape_ != self._source_state.input_shape
        ):
            raise ValueError(
                f"X has segments of shape {self.input_shape_}, but the transferred "
                f"source pathway expects {self._source_state.input_shape}."
            )

    def _architecture(self):
        """The parameters that shape the modules frozen by ``fit_transfer``."""
        names = ["n_layers", "n_modules", "module"]
        names += ["n_channels", "kernel_size"] if self.module == "conv" else ["n_units"]
        return {name: getattr(self, name) for name in names}

    def _module_type(self, n_features):
        if self.module == "conv":
            return ConvModules(tuple(self.input_shape_), self.n_channels, self.kernel_size,
                               bool(self.global_pooling))
        return LinearModules(n_features, self.n_units)

    def _resolve_first_layer(self, n_samples, n_features, *, train_frozen=False):
        """``first_layer`` for a task; ``train_frozen``: it fine-tunes frozen modules."""
        if self.module == "conv":
            return "direct"
        if self.first_layer == "auto":
            if self.augmentation is not None:
                return "direct"  # augmented rows change every step: no fixed row space
            if train_frozen:
                return "direct"  # frozen first-layer modules trained from the rows themselves
            return "row_space" if n_samples <= n_features / 2 else "direct"
        return self.first_layer

    def _val_monitor(self, X_val, y_val, classes):
        """Return ``factory(network, head, scaler) -> on_generation`` for X_val."""
        segments, clip_index, owned = self._prepare_X(X_val, reset=False)
        y_val = self._check_y(y_val, clip_index, train=False)
        device = self._device()

        def factory(network, head, scaler):
            seg = segments
            if scaler is not None:
                seg = standardize(segments, *scaler, inplace=owned)
            X_t = torch.from_numpy(np.ascontiguousarray(seg, dtype=np.float32)).to(device)
            inputs = network.encode(X_t)  # kernel rows in row-space mode

            def on_generation(record):
                genotype = record["genotypes"][record["winner"]]
                logits = Pathways.gather(network, [genotype]).logits(inputs, head)
                proba = mean_per_clip(torch.softmax(logits, 1).cpu().numpy(), clip_index)
                record["val_score"] = float(np.mean(classes[proba.argmax(1)] == y_val))

            return on_generation

        return factory

    # -- prediction (public methods in TransferMixin) --------------------------
    def _target_segment_proba(self, X):
        return self._segment_proba(X, self._target_state)

    def _source_segment_proba(self, X, source):
        state = self._source_state.tasks[source]
        if not isinstance(state, list):
            return self._segment_proba(X, state)
        # pathway_per_class: each class's one-vs-rest pathway gives P(class), normalised
        scores = [self._segment_proba(X, task) for task in state]
        proba = np.stack([p[:, 1] for p, _ in scores], axis=1)
        proba /= np.maximum(proba.sum(1, keepdims=True), np.finfo(proba.dtype).tiny)
        return proba, scores[0][1]

    def _segment_proba(self, X, state, *, head="head", multilabel=False):
        """``(proba, clip_index)`` of every segment from a task's ``state``.

        ``head`` names the head in ``state``; ``multilabel``: one sigmoid per
        output (e.g. AUs) instead of the softmax over the classes.
        """
        segments, clip_index, owned = self._prepare_X(X, reset=False)
        if state.scaler is not None:
            segments = standardize(segments, *state.scaler, inplace=owned)
        device = self._device()
        with torch_threads(self.n_threads):
            pathway = Pathways.from_state(state.modules, state.pathway, device=device)
            head = TaskHead.from_state(getattr(state, head), device=device)
            X_t = torch.from_numpy(np.ascontiguousarray(segments, dtype=np.float32)).to(device)
            logits = pathway.logits(X_t, head)
            proba = torch.sigmoid(logits) if multilabel else torch.softmax(logits, 1)
        return proba.cpu().numpy(), clip_index

    # -- input checks ---------------------------------------------------------
    def _check_param_rules(self):
        """The rules that involve several parameters (after ``_parameter_constraints``)."""
        if self.weight_decay * self.learning_rate >= 1:
            raise ValueError(
                f"weight_decay * learning_rate must be below 1 (each step scales the weights "
                f"by 1 - learning_rate * weight_decay); got {self.weight_decay!r} * "
                f"{self.learning_rate!r}."
            )
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd; got {self.kernel_size!r}.")
        if self.first_layer == "row_space" and self.module == "conv":
            raise ValueError('first_layer="row_space" needs module="linear".')
        if self.augmentation is not None and self.first_layer == "row_space":
            raise ValueError(
                'first_layer="row_space" cannot train with augmentation: row-space training '
                "needs fixed training rows (it learns in their span, from their kernel rows "
                "X @ X_train.T), and augmentation makes new rows at every step. Use "
                'first_layer="direct" or "auto" (which resolves to "direct" with augmentation), '
                "or augmentation=None."
            )
        if self.frozen_learning_rate > 0 and self.first_layer == "row_space":
            raise ValueError(
                'first_layer="row_space" cannot fine-tune frozen modules '
                f"(frozen_learning_rate={self.frozen_learning_rate!r} > 0): the frozen "
                "first-layer modules would see kernel rows X @ X_train.T, not the rows their "
                'weights apply to. Use first_layer="direct" or "auto" (which resolves to '
                '"direct" when frozen modules are fine-tuned), or frozen_learning_rate=0.0.'
            )
        if self.frozen_learning_rate * self.weight_decay >= 1:
            raise ValueError(
                f"weight_decay * frozen_learning_rate must be below 1 (each step scales the "
                f"fine-tuned frozen weights by 1 - frozen_learning_rate * weight_decay); got "
                f"{self.weight_decay!r} * {self.frozen_learning_rate!r}."
            )

    def _image_input(self):
        if self.module == "conv":
            return 'module="conv"', 'module="linear"', 1
        augmentation = self.augmentation
        if augmentation is not None:  # it needs the image shape of the flat rows
            return f"augmentation={type(augmentation).__name__}(...)", "augmentation=None", 1
        return None

    def _freeze_best(self, task, frozen=None):
        """``(layers, module_state)`` frozen after a source task: its best pathway's modules.

        ``task`` is the :class:`_TaskFit` of ``_train_task`` with
        ``keep_network=True``; its ``network`` is dropped. The modules frozen
        before (``frozen``, as ``_train_task`` got it; None: none) stay
        frozen with the values they were frozen with: a task that fine-tuned
        its copies of them (``frozen_learning_rate > 0``) keeps those in its
        own saved pathway only.
        """
        network, task.network = task.network, None
        if frozen is not None:
            network.load_frozen(*frozen)  # undo this task's fine-tuning of earlier sources
        layers = [
            np.union1d(network.frozen[layer], np.unique(task.path[layer]))
            for layer in range(self.n_layers)
        ]
        return layers, network.module_state(layers)

    def _frozen_layers(self):
        state = getattr(self, "_source_state", None)
        return None if state is None else state.frozen



class PathNetClassifier(_BasePathNet):
    """PathNet classifier with evolutionary pathway search and transfer.

    A super-network of ``n_layers`` layers of ``n_modules`` modules (a module
    is a linear layer of ``n_units`` units, or with ``module="conv"`` a small
    convolution, followed by a ReLU; the outputs of a layer's active modules
    are averaged) is trained by a genetic algorithm
    over pathways [1]_: binary tournaments between pathways, each trained
    with SGD for ``T`` steps, the fitter one overwriting and mutating the
    other. Each task has its own final (classification) layer.

    :meth:`fit_transfer` evolves pathways on one or several source corpora
    and freezes the best pathway of each; a later :meth:`fit` on the target
    corpus re-initialises every other parameter and evolves a new population
    in which the frozen pathways are always active, with a new final layer,
    as in Nguyen et al. [2]_ (Sec. 3.3), or, with ``frozen="genes"``,
    available to the new pathways' genes as in Fernando et al. [1]_. The
    transferred knowledge survives :func:`sklearn.base.clone`, so
    ``cross_validate`` and ``GridSearchCV`` use it in every fold.

    Each source keeps its final layer, and :meth:`predict_source` scores a
    source task with its frozen pathway, which target training cannot
    change: source accuracy after :meth:`fit` equals that before it (no
    catastrophic forgetting; with ``frozen_learning_rate > 0`` too, which
    fine-tunes only the target's copy of the frozen modules).

    Parameters
    ----------
    n_layers : int, default=3
        ``L``, the number of layers of modules (Nguyen et al. 2020,
        "PathNet Settings": L = 3).
    n_modules : int, default=20
        ``M``, modules per layer (ibid.: M = 20).
    n_active : int, default=4
        ``N``, genes per layer of a genotype: a pathway activates at most
        ``N`` distinct modules per layer (ibid.: N = 4).
    n_units : int, default=20
        Units of each module's linear layer (ibid.: 20 units, ReLU). Not used
        by convolutional modules.
    module : {"linear", "conv"}, default="linear"
        Module type. "linear": a fully connected layer of ``n_units`` units
        on the flattened input (Nguyen et al. 2020, Sec. 3.3). "conv": a
        ``kernel_size x kernel_size`` convolution with ``n_channels`` output
        channels (same padding), 2 x 2 average pooling (which halves the
        resolution) and a ReLU, in LeNet-5's order (LeCun et al. 1998, Sec.
        II-B), computed as one stride-2 convolution
        (:func:`skpathnet.engine.pooled_kernel`); a layer averages its
        active modules' feature maps, and the last maps feed each task's
        final layer (see ``global_pooling``). Convolutional modules are those
        of Fernando et al. (2017) for image input and what Nguyen et al.
        (2020, end of Sec. 4.1) propose as future work ("convolution
        operation in each module rather than linear multiplication") to
        capture spatial structure with far fewer parameters per pathway.
        Needs image inputs: ``(n_samples, C, H, W)`` or clips of
        ``(n_segments_i, C, H, W)``. Trained with autograd (plain SGD).
    n_channels : int, default=8
        Output channels of each convolutional module (``module="conv"``).
        8 kernels per module as in the convolutional modules of Fernando et
        al. (2017, Atari experiments); a 4-module layer then has 32 channels.
    kernel_size : int, default=3
        Odd kernel side of each convolutional module (``module="conv"``):
        3 x 3, the smallest kernel that sees a neighbourhood, so three layers
        (with their pooling) see 22 x 22 input pixels.
    global_pooling : bool, default=False
        What feeds each task's final layer with ``module="conv"``. False:
        the last layer's feature maps flattened, ``n_channels * 8 * 8``
        features for three layers on 64 x 64 images, so the head knows where
        on the face a feature is, as the fully connected layer on the last
        feature maps of Fernando et al.'s (2017) convolutional pathways. True:
        global average pooling, ``n_channels`` features (translation-
        invariant). On faces, pooled features leave PathNet at chance level
        (CK+48 0.260, JAFFE 0.201 WAR; ``benchmarks/RESULTS.md``, "Engine
        v2").
    first_layer : {"auto", "direct", "row_space"}, default="auto"
        How linear modules of the first layer are trained. "direct": SGD on
        the ``(n_features, n_units)`` weights. "row_space": SGD in the row
        space of the standardised training matrix ``X`` (n x d): the
        updates ``W -= lr * X_b.T @ delta`` keep ``W - W_0`` in that space,
        so ``W = W_0 + X.T @ C`` and a step costs one ``batch x n`` GEMM
        instead of two ``batch x d`` ones (see
        :mod:`skpathnet.engine._network`); exact in exact arithmetic, equal
        to "direct" up to float32 rounding (activations within 1e-4, the
        same accuracy within 0.02 in ``tests/test_engine.py``), and it
        needs an ``n x n`` float32 Gram matrix. "auto": "row_space" when
        ``n_samples <= n_features / 2`` (e.g. EMO-DB: 4169 log-mel segments
        of 12288 features), else "direct"; convolutional modules, and any
        fit with ``augmentation`` or a task that fine-tunes frozen modules
        (``frozen_learning_rate``), always train directly.
    population_size : int, default=20
        Number of genotypes in the population (ibid.: 20).
    n_generations : int, default=200
        Number of binary tournaments (generations) per task (ibid.: 200).
    learning_rate : float, default=0.02
        Plain SGD learning rate (ibid.: 0.02).
    batch_size : int, default=64
        Mini-batch size in samples (ibid.: 64).
    n_steps : int or None, default=None
        ``T``, SGD steps per pathway per tournament. None: the number of
        training samples (segments) divided by ``batch_size``, at least 1
        (ibid.).
    mutation_rate : float or None, default=None
        Probability that a gene mutates; None: ``1 / (n_layers * n_active)``
        (Fernando et al. 2017, Sec. 2).
    mutation_shift : int, default=2
        A mutating gene moves by an integer drawn uniformly from
        ``[-mutation_shift, mutation_shift]``, wrapping modulo ``n_modules``
        (Fernando et al. 2017, Sec. 2: [-2, 2]).
    frozen : {"always", "genes"}, default="always"
        How the modules frozen by :meth:`fit_transfer` enter the pathways of
        a later task (the target of :meth:`fit`, and the second and later
        sources of :meth:`fit_transfer`); no effect without them. "always":
        every frozen module is active in every pathway, averaged with the
        pathway's trainable modules (Nguyen et al. 2020, Sec. 3.3 and
        Fig. 22: "always activated during evolving on the destination
        task"); with two sources, up to ``2 * n_active`` frozen modules per
        layer are averaged with at most ``n_active`` trainable ones.
        "genes": the fixed modules of the sources' best pathways are
        *available*: a frozen module is active in a pathway only when one of
        its genes selects it, and a layer averages the distinct modules its
        genes select, trainable or frozen (Fernando et al. 2017, Sec. 2 and
        the transfer experiments). Evolution then decides whether the source
        features help; a pathway may use no frozen module at all, i.e. fall
        back to scratch-like learning. Frozen modules are never updated in
        either mode (unless ``frozen_learning_rate > 0``), and
        :meth:`predict_source` is unchanged.
    tournament : {"serial", "parallel"}, default="serial"
        How the two pathways of a binary tournament are trained. "serial":
        one after the other, the second starting from the modules the first
        has just updated (Nguyen et al. 2020, Sec. 3.3). "parallel": side by
        side on the same mini-batches, a module used by both getting the sum
        of their gradients (the synchronous form of the parallel evolution of
        Fernando et al. 2017, Sec. 2). "parallel" evaluates the first layer
        once per step for the union of both pathways' modules, so it is
        faster when the pathways share modules (on 2 CPU cores: 1.7x per
        generation for a winner and its mutant, none for unrelated
        pathways, 1.09x over a 40-generation evolution; see
        ``benchmarks/RESULTS.md``), but not bit-identical to "serial".
    weight_decay : float, default=0.0
        L2 penalty ``weight_decay / 2 * ||W||^2`` on the weights (not the
        biases) of the modules a pathway trains and of the task's final
        layer: each SGD step is ``W <- (1 - learning_rate * weight_decay) *
        W - learning_rate * grad``. Frozen modules never decay (fine-tuned
        with ``frozen_learning_rate``, by ``1 - frozen_learning_rate *
        weight_decay``). Exact in the
        row-space first layer too (``W = s * W_0 + X.T @ C``, see
        :mod:`skpathnet.engine._network`). 0.0: plain SGD, the paper's
        (Nguyen et al. 2020, Sec. 3.3); not in either paper, a standard
        regulariser against the over-fitting of small corpora.
    momentum : float, default=0.0
        Heavy-ball momentum ``mu`` in ``[0, 1)`` of the SGD steps (Polyak
        1964; the form of :class:`torch.optim.SGD` with ``dampening=0``, no
        Nesterov): each step is ``v <- mu * v + grad; p <- p - learning_rate
        * v`` for the modules a pathway trains and the task's final layer.
        The velocity starts at zero for each pathway's ``T`` steps of a
        tournament (and for ``final_steps``). Weight decay stays decoupled
        from it: ``W <- (1 - learning_rate * weight_decay) * W -
        learning_rate * v``. Frozen modules never move (fine-tuned with
        ``frozen_learning_rate``, by the same rule at that rate). Exact in the
        row-space first layer too. 0.0: plain SGD, the paper's (Nguyen et
        al. 2020, Sec. 3.3); not in either paper.
    augmentation : SpecAugment, FaceAugment or None, default=None
        Training-time data augmentation: every mini-batch of every SGD step
        (tournaments and ``final_steps``, sources and target) gets a fresh
        random variant of its samples; fitness on held-out data, the
        ``tie_break`` losses, ``X_val`` scores and prediction see the data
        as they are. Not in either paper; a standard lever against the
        over-fitting of small corpora. :class:`~skpathnet.SpecAugment` for
        log-mel segments ``(3, n_mels, frames)``: time and frequency masks
        (Park et al. 2019, "SpecAugment", Interspeech) and a small
        zero-padded time shift; :class:`~skpathnet.FaceAugment` for face
        crops ``(3, size, size)``: random translations (zero padding) and
        horizontal flips (Krizhevsky et al. 2012, Sec. 4.1). Masks and
        padding write 0, each feature's training mean when ``standardize``
        is True. Needs image inputs, ``(n_samples, C, H, W)`` or clips of
        ``(n_segments_i, C, H, W)`` (their shape tells rows from images),
        and direct first-layer training: ``first_layer="auto"`` resolves to
        "direct", and "row_space" is refused (it trains on the fixed
        training rows). Works with ``module="linear"`` and ``"conv"``.
        None: no augmentation; the fit is then exactly that without this
        parameter.
    fitness : {"train", "validation"}, default="train"
        What a tournament compares. "train": the fraction of the training
        samples seen during the ``T`` steps that the pathway classified
        correctly before each step's update (Nguyen et al. 2020, Sec. 3.3;
        Fernando et al. 2017, Sec. 2). It reaches 1.0 once a small corpus is
        fitted, so tournaments end in ties. "validation": a stratified
        ``validation_fraction`` of the training samples (clips; a clip's
        segments stay together) is held out; pathways train on the rest,
        and each one's fitness is its clip-level accuracy on the held-out
        part after its ``T`` steps (Nguyen et al. 2020, Sec. 4: pathways
        are trained "and then on the destination data for validation").
        Applies to every task, sources included. The held-out samples are
        not trained on during the tournaments; ``final_steps`` then trains
        the kept pathway on all of the data, held-out part included. The
        standardisation statistics use all of the training data. Default
        ``T`` counts the rows trained on.
    tie_break : {"first", "loss"}, default="first"
        Who wins a tournament whose two fitnesses are equal. "first": the
        pathway drawn first (the papers compare "greater" fitness; Nguyen
        et al. 2020, Sec. 3.3). "loss": the one with the lower mean
        cross-entropy on the training rows, both scored after both are
        trained (``history_`` records get ``tie_break``, the two losses).
        Training-accuracy fitness reaches 1.0 on small corpora, and then
        most tournaments are ties.
    final_steps : int, default=0
        SGD steps given to the best pathway alone after the last generation
        of each task, on all of its training data (with
        ``fitness="validation"``, the held-out part included). Every pathway trains the shared
        modules and the task's final layer in turn, so at the end they fit
        the last tournament's pathways, not necessarily the one kept; these
        steps fit them to it. 0: none, as in both papers (Nguyen et al.
        2020, Sec. 3.3; Fernando et al. 2017, Sec. 2), which keep the best
        pathway as it is.
    validation_fraction : float, default=0.2
        Share of each class's samples (clips) held out when
        ``fitness="validation"`` (at least one clip per class with two or
        more clips, and one left for training); unused otherwise.
    standardize : bool, default=True
        Standardise each input feature with the training set's mean and
        standard deviation (each source uses its own statistics). Not part of
        the papers; log-mel inputs in dB otherwise make SGD at 0.02 unstable.
    seed_pathway : bool, default=False
        After :meth:`fit_transfer`, start the target's population with the
        last source's best genotype in its first slot (the others random),
        so that the source pathway's module choice competes from the first
        tournament. Not part of the papers (issue 31's transfer levers); it
        needs the ``n_active`` of ``fit_transfer``. Measured on the search
        corpus: ``benchmarks/RESULTS.md``.
    pathway_per_class : bool, default=False
        How :meth:`fit_transfer` learns a source. False: one task on all of
        its classes, one best pathway frozen per source (Nguyen et al. 2020,
        Sec. 3.3). True: one pathway per emotion, the paper's own proposal
        (ibid., end of Sec. 4.1): each class of the source is learnt as a
        one-vs-rest task (its own evolution of ``n_generations`` and its
        own final layer of 2 outputs), one after another, and the best
        pathway of each is frozen, so the target (and later sources) build
        on a set of emotion-specific pathways. It costs ``n_classes`` source
        evolutions instead of one, and freezes up to ``n_classes *
        n_active`` modules per layer per source: with ``frozen="always"``
        all of them are averaged into every target pathway, and a layer
        whose modules are all frozen trains nothing on the target (then use
        more ``n_modules`` or ``frozen="genes"``). :meth:`predict_source`
        still answers the source's classes: each class's pathway gives the
        probability of its class, normalised over the classes. Not in the
        paper's experiments; measured on the search corpus:
        ``benchmarks/RESULTS.md``. No effect on :meth:`fit` from scratch.
    frozen_weight : float in (0, 1], default=1.0
        Share of each frozen module in its layer's average on a later task
        (the target of :meth:`fit`, the second and later sources of
        :meth:`fit_transfer`): a layer outputs ``(sum of its active
        trainable modules' outputs + frozen_weight * sum of its active
        frozen modules' outputs) / (n_trainable + frozen_weight *
        n_frozen)``. 1.0: the plain average of both papers (Nguyen et al.
        2020, Sec. 3.3; Fernando et al. 2017, Sec. 2). Below 1 the task's own
        modules weigh more against the source features (with
        ``frozen="always"`` and two sources, up to ``2 * n_active`` frozen
        modules are averaged with at most ``n_active`` trainable ones). Not
        in either paper (issue 31's transfer levers). It costs nothing per
        step: ReLU is positively homogeneous (``w * relu(W x + b) =
        relu(w W x + w b)``), so the frozen modules enter the pathways as
        copies scaled by ``frozen_weight``, and the saved pathway folds it
        into its weights. No effect without :meth:`fit_transfer`;
        :meth:`predict_source` is unchanged.
    frozen_learning_rate : float, default=0.0
        Learning rate at which a later task (as for ``frozen_weight``)
        fine-tunes the frozen modules (the sources' best pathways',
        ``frozen_modules_``) in every SGD step where they are active, by the
        rules of the trainable modules (``weight_decay``, ``momentum``; in a
        parallel tournament a module both pathways use gets the sum of their
        gradients). 0.0: they are never updated, as in both papers (Nguyen
        et al. 2020, Sec. 3.3; Fernando et al. 2017, Sec. 2). Not in either
        paper (issue 31's transfer levers). Above 0 the transfer is **no
        longer zero-forgetting inside the super-network**: the frozen
        modules drift towards the later task, whose pathways no longer see
        the sources' exact features. The fine-tuned modules live in that
        task's copy of the network only: :meth:`predict_source` keeps each
        source's saved pathway (its answers do not change), and
        ``frozen_modules_`` and the saved frozen values (where a later fit, a
        clone and :func:`skpathnet.load` start from) are not modified, so
        every fit starts again from the sources' values. Cost: each step
        also computes the frozen modules' weight gradients, and their
        first-layer outputs are computed from the rows at every step
        instead of once per fit; it needs direct first-layer training
        (``first_layer="auto"`` resolves to "direct", "row_space" is
        refused), so wide data lose the row-space speed-up. No effect
        without :meth:`fit_transfer`.
    device : {"cpu", "cuda"} or str, default="cpu"
        Torch device for the network and the training data.
    n_threads : int or None, default=None
        Torch CPU threads during fit and predict (restored afterwards). Set
        to 1 when running ``n_jobs`` workers in ``GridSearchCV`` or
        ``cross_validate`` so they do not oversubscribe the cores; None
        leaves torch's setting (joblib workers limit it already).
    random_state : int, RandomState instance or None, default=None
        Seeds genotypes, tournaments, mutations, initialisation and
        mini-batch order. With an int, results are reproducible on CPU (for
        a fixed ``n_threads``).
    verbose : bool, default=False
        Show a tqdm progress bar over generations.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Target class labels.
    best_path_ : ndarray of shape (n_layers, n_active), int64
        Genotype of the best target pathway (highest last measured fitness).
    best_fitness_ : float
        Its fitness: the fraction of training segments classified correctly
        during its last ``T`` training steps; with ``fitness="validation"``,
        its clip accuracy on the held-out part of the training data.
    history_ : list of dict
        One record per target generation: ``task``, ``generation``,
        ``genotypes`` (two (n_layers, n_active) arrays), ``indices``,
        ``fitness`` (two floats), ``winner`` (0 or 1), and ``val_score``
        (clip-level accuracy of the winner on ``X_val``) when :meth:`fit`
        got a validation set.
    n_steps_ : int
        ``T`` used by the last fit.
    first_layer_ : {"direct", "row_space"}
        How the last fit trained the first layer (``first_layer`` resolved).
    input_shape_ : tuple of int
        Shape of one input segment as given (e.g. ``(3, 64, 64)``, or
        ``(n_features,)`` for 2-D input).
    n_features_in_ : int
        Number of input features per segment (12288 for 3 x 64 x 64 images).
    source_paths_ : list of ndarray of shape (n_layers, n_active)
        After :meth:`fit_transfer`: the best genotype of each source task;
        with ``pathway_per_class``, of shape (n_source_classes, n_layers,
        n_active): one per class.
    source_classes_ : list of ndarray
        Class labels of each source task.
    source_fitness_ : list of float
        Fitness of each source's best pathway (with ``pathway_per_class``,
        an ndarray of shape (n_source_classes,): each class's).
    source_history_ : list of list of dict
        Generation records of each source task (as ``history_``; with
        ``pathway_per_class``, those of its class tasks one after another,
        told apart by their ``task``).
    frozen_modules_ : list of ndarray of int
        Per layer, the frozen module indices (union of the sources' best
        pathways); their saved parameters never change again (with
        ``frozen_learning_rate > 0`` a fit fine-tunes a copy of them).

    See Also
    --------
    skpathnet.transformers.LogMelSegmenter : audio front end.
    skpathnet.transformers.FaceCropper : visual front end.

    Notes
    -----
    Inputs may be

    - a 2-D array of shape (n_samples, n_features);
    - an image batch of shape (n_samples, 3, 64, 64) (flattened);
    - clips: a list or 1-D object array of length n_clips whose item ``i``
      has shape ``(n_segments_i, 3, 64, 64)``, as produced by the
      transformers. Training uses every segment with its clip's label;
      :meth:`predict_proba` averages each clip's segment posteriors, and
      :meth:`predict_proba_segments` gives one answer per segment.

    The population shares the module parameters and, per task, the final
    layer. The best pathway is the population member with the highest last
    measured fitness.

    References
    ----------
    .. [1] C. Fernando, D. Banarse, C. Blundell, Y. Zwols, D. Ha, A. A. Rusu,
       A. Pritzel and D. Wierstra, "PathNet: Evolution Channels Gradient
       Descent in Super Neural Networks", arXiv:1701.08734, 2017.
    .. [2] D. Nguyen, D. T. Nguyen, S. Sridharan, M. Abdelrazek, S. Denman,
       S. N. Tran, R. Zeng and C. Fookes, "Meta Transfer Learning for
       Emotion Recognition", arXiv:2006.13211, 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skpathnet import PathNetClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(128, 10)).astype("float32")
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = PathNetClassifier(n_generations=20, population_size=4,
    ...                         learning_rate=0.2, n_steps=10, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    """

def _holdout_rows(y_seg, clip_index, fraction, rng):
    """Split segment rows into training and held-out rows, stratified by clip label.

    Each class with ``k >= 2`` clips gives ``round(fraction * k)`` clips to
    the held-out part, at least 1 and at most ``k - 1``; a class with one clip
    stays in training. A clip's segments stay together.

    Returns
    -------
    train, heldout : ndarray of int
        Sorted row indices.

    Raises
    ------
    ValueError
        If no class has two clips (nothing can be held out).
    """
    clips, first = np.unique(clip_index, return_index=True)
    clip_y = y_seg[first]
    held = []
    for label in np.unique(clip_y):
        members = clips[clip_y == label]
        k = len(members)
        if k < 2:
            continue
        n_held = min(max(round(fraction * k), 1), k - 1)
        held.append(rng.permutation(members)[:n_held])
    if not held:
        raise ValueError(
            'fitness="validation" needs at least one class with two or more samples '
            "(clips) to hold one out."
        )
    is_held = np.isin(clip_index, np.concatenate(held))
    return np.flatnonzero(~is_held), np.flatnonzero(is_held)
