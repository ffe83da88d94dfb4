"""Transfer experiments: source corpora -> target corpus, scored per speaker/subject.

The main job (``skpathnet transfer``) and ``benchmarks/bench_paper.py`` go
through the same steps:

1. :func:`load_experiment`: list and check the corpora (cheap), before any
   expensive step;
2. :func:`extract_experiment`: the features of every corpus
   (:class:`ExperimentData`);
3. :func:`fit_sources`: the source phase, ``fit_transfer`` of each transfer
   method, each saved in a checkpoint folder as it finishes
   (:class:`SourceFit`);
4. :func:`~skpathnet.experiments.evaluate_methods`: every method on the
   same group-wise folds of the target.

:func:`run_transfer_experiment` runs them all for the CLI: transfer against
training from scratch (or any :class:`Method`), leave-one-speaker-out by
default, at clip level and at segment level, every fold of every method as
one batch of tasks (local, or on a Dask cluster).
"""

import contextlib
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from joblib import Memory
from sklearn.base import clone
from sklearn.model_selection import LeaveOneGroupOut

from .._classifier import PathNetClassifier
from ..utils._clips import is_clips
from ..transformers import low_coverage_groups
from . import _checkpoint
from ._corpora import (
    CORPORA, check_speaker_norm, describe_corpus, extract_features, load_corpora, load_corpus,
    other_corpora, speaker_norm_applies,
)
from ._evaluate import evaluate_methods
from ._integrity import shared_files, single_group_classes

__all__ = ["Corpus", "ExperimentCorpora", "ExperimentData", "Method", "SourceFit",
           "extract_experiment", "fit_sources", "load_experiment", "resolve_sources",
           "run_transfer_experiment"]


@dataclass(frozen=True)
class Method:
    """One method of an experiment: an estimator, and whether it learns the sources first.

    With ``transfer=True`` the estimator (it must have ``fit_transfer``) is
    fitted on the sources once (:func:`fit_sources`) and that fitted model is
    cloned for every target fold; otherwise it is trained on the target only.
    """

    estimator: Any
    transfer: bool = False


class Corpus(NamedTuple):
    """One corpus's features, labels and speakers/subjects (one row per file)."""

    X: Any
    y: np.ndarray
    groups: np.ndarray


@dataclass
class ExperimentCorpora:
    """The corpora of an experiment, listed and checked (:func:`load_experiment`), no features yet."""

    sources: list
    target: str
    modality: str
    bunches: dict  # corpus name -> Bunch, sources then target, each once


@dataclass
class ExperimentData:
    """The features of an experiment's corpora (:func:`extract_experiment`)."""

    sources: list
    target: str
    modality: str
    corpora: dict  # corpus name -> Corpus
    normalised: list = field(default_factory=list)  # names of the speaker-normalised corpora

    @property
    def source_X(self):
        """The sources' features, in learning order (``fit_transfer``'s first argument)."""
        return [self.corpora[s].X for s in self.sources]

    @property
    def source_y(self):
        """The sources' labels, in learning order."""
        return [self.corpora[s].y for s in self.sources]


class SourceFit(NamedTuple):
    """A transfer method after its source phase (:func:`fit_sources`)."""

    estimator: Any  # fitted by fit_transfer
    seconds: float  # the time fit_transfer took (when it ran, even if loaded since)
    loaded: bool  # read from its checkpoint file rather than fitted now


def load_experiment(sources, target, *, data_home=None, label_pattern=None, group_pattern=None,
                    label_map=None, keep_labels=False, fold_groups=False, modality=None,
                    allow_overlap=False, log=None):
    """List the corpora of an experiment and check them, before any feature is extracted.

    Besides the corpora's own checks (:func:`load_corpus`), the target must
    share no file with a source, by resolved path or by content
    (:func:`~skpathnet.experiments._integrity.shared_files`): a test clip
    learnt in the source phase inflates the transfer scores. Classes that
    only one speaker/subject of the target holds are warned about.

    Parameters
    ----------
    sources, target, data_home, label_pattern, group_pattern
        As for :func:`run_transfer_experiment`.
    label_map, keep_labels, fold_groups, modality
        For users' corpora (:func:`load_corpus`).
    allow_overlap : bool, default=False
        Run even when a source and the target share files (e.g. to measure
        what such a leak does); the shared files are then only logged.
    log : callable, default=None
        Called with :func:`describe_corpus` of each corpus, and with the
        findings of the checks.

    Returns
    -------
    corpora : ExperimentCorpora
        The visual built-in corpora keep the six emotions they share
        (:data:`VISUAL_SHARED_EMOTIONS`).

    Raises
    ------
    ValueError
        If a corpus name is unknown, the corpora do not share one modality,
        or (without ``allow_overlap``) a source and the target share files:
        the message gives their count and examples.
    FileNotFoundError
        If a corpus is missing.

    Warns
    -----
    UserWarning
        If a class of the target is held by one speaker/subject only (its
        clips cannot be scored by a group-wise split).
    """
    bunches = load_corpora(
        [*sources, target], data_home=data_home, what="Sources and target", corpus_options={
            "label_pattern": label_pattern, "group_pattern": group_pattern,
            "label_map": label_map, "keep_labels": keep_labels, "fold_groups": fold_groups,
            "modality": modality})
    if log is not None:
        for bunch in bunches.values():
            log(describe_corpus(bunch))
    _check_overlap(bunches, sources, target, allow_overlap, log)
    single = single_group_classes(bunches[target].target, bunches[target].groups)
    if single:
        who = "speaker" if bunches[target].modality == "audio" else "subject"
        listed = ", ".join(f"{label!r} ({n} clips, all of {who} {group!r})"
                           for label, (group, n) in single.items())
        message = (f"{target}: {len(single)} of {len(np.unique(bunches[target].target))} "
                   f"classes are held by one {who} only: {listed}; a group-wise split never "
                   f"trains on them when it tests them, so their recall is 0 by construction. "
                   f"Add other {who}s' clips of them, or drop them from the corpus.")
        warnings.warn(message, UserWarning, stacklevel=2)
        _log(log, f"warning: {message}")
    return ExperimentCorpora(list(sources), target, bunches[target].modality, bunches)


def _check_overlap(bunches, sources, target, allow_overlap, log):
    """Refuse (or, with ``allow_overlap``, log) files shared by a source and the target."""
    target_files = bunches[target].filenames
    for source in dict.fromkeys(sources):
        shared = shared_files(bunches[source].filenames, target_files)
        if not shared:
            continue
        by_content = sum(how == "content" for *_, how in shared)
        examples = "; ".join(
            f"{t!r}" + ("" if how == "path" else f" = {s!r} (same content)")
            for t, s, how in shared[:3])
        what = (f"source {source} and target {target} share {len(shared)} of the "
                f"{len(target_files)} target files ({len(shared) - by_content} by path, "
                f"{by_content} by content), e.g. {examples}")
        if allow_overlap:
            _log(log, f"warning: {what} (allow_overlap: the transfer scores include clips "
                      "learnt in the source phase)")
            continue
        raise ValueError(
            f"{what}: their test clips would be learnt in the source phase, inflating the "
            "transfer scores. Use a target that shares no file with the sources, or pass "
            "allow_overlap=True (command line: --allow-overlap) if the overlap is intended."
        )


def extract_experiment(corpora, *, features="logmel", speaker_norm=False, n_jobs=None,
                       memory=None, log=None):
    """The features of every corpus of ``corpora`` (:func:`extract_features`).

    Parameters
    ----------
    corpora : ExperimentCorpora
        From :func:`load_experiment`.
    features, speaker_norm, n_jobs, memory
        As for :func:`extract_features` (``memory``: a joblib ``Memory``).
    log : callable, default=None
        Called with one line per corpus as its features are ready.

    Returns
    -------
    data : ExperimentData
    """
    data, normalised = {}, []
    who = "speakers" if corpora.modality == "audio" else "subjects"
    for name, bunch in corpora.bunches.items():
        t0 = time.perf_counter()
        normalise = speaker_norm_applies(bunch, speaker_norm)
        if normalise:
            normalised.append(name)
        elif speaker_norm == "auto" and log is not None:
            low = low_coverage_groups(bunch.target, bunch.groups)
            log(f"{name}: not speaker-normalised: {len(low)} of "
                f"{len(np.unique(bunch.groups))} {who} have labels of at most half of its "
                f"{len(np.unique(bunch.target))} classes (speaker_norm='auto')")
        X = extract_features(name, bunch, features=features, speaker_norm=normalise,
                             n_jobs=n_jobs, memory=memory)
        data[name] = Corpus(X, np.asarray(bunch.target), np.asarray(bunch.groups))
        if log is not None:
            log(f"{name}: {len(X)} clips, {_describe_rows(X)}, "
                f"{len(np.unique(bunch.groups))} {who} ({time.perf_counter() - t0:.0f} s)")
    return ExperimentData(corpora.sources, corpora.target, corpora.modality, data, normalised)


def fit_sources(estimators, data, *, checkpoints=None, log=None):
    """The source phase: ``fit_transfer`` of each estimator on the sources of ``data``.

    Parameters
    ----------
    estimators : dict of str -> classifier with ``fit_transfer``
        The transfer methods, by name; each is cloned, then fitted.
    data : ExperimentData
    checkpoints : dict of str -> path-like or None, default=None
        Per-method file where its fitted model and time are saved
        (atomically, without pickle: :func:`_checkpoint.save`; a model
        holding objects that cannot be saved so is not saved, and logged)
        as soon as its source phase is done. A method whose
        file exists is loaded from it instead of being fitted again, so that
        a resumed run reuses the source phases of the interrupted one.
    log : callable, default=None

    Returns
    -------
    fits : dict of str -> SourceFit
        In the order of ``estimators``.
    """
    checkpoints = checkpoints or {}
    on = " + ".join(data.sources)
    fits = {}
    for name, estimator in estimators.items():
        path = checkpoints.get(name)
        if path is not None and Path(path).exists():
            saved = _checkpoint.load(path)
            if not isinstance(saved, dict) or not hasattr(saved.get("estimator"), "predict"):
                raise _checkpoint.CheckpointError(
                    f"the checkpoint part {str(path)!r} holds no fitted estimator; delete it "
                    f"to recompute the source phase (rm {str(path)!r}), then run again.")
            fits[name] = SourceFit(saved["estimator"], saved["seconds"], loaded=True)
            _log(log, f"{name}: fit_transfer on {on}: loaded from {path}")
        else:
            _log(log, f"{name}: fit_transfer on {on} ...")
            t0 = time.perf_counter()
            model = clone(estimator).fit_transfer(data.source_X, data.source_y)
            fits[name] = SourceFit(model, time.perf_counter() - t0, loaded=False)
            if path is not None:
                try:
                    _checkpoint.save(path, {"estimator": model, "seconds": fits[name].seconds})
                except TypeError as exc:  # an estimator that cannot be saved without pickle
                    _log(log, f"  not saved ({exc}): a resumed run fits it again")
        frozen = getattr(fits[name].estimator, "frozen_modules_", None)
        _log(log, (f"  frozen modules per layer: {[m.tolist() for m in frozen]}" if frozen else
                   "  source phase done") + f" ({fits[name].seconds:.0f} s)")
    return fits


def _log(log, message):
    if log is not None:
        log(message)


def resolve_sources(sources, target, *, data_home=None, log=None, load=None):
    """``sources`` as a list of corpus names; ``"all"``: :func:`other_corpora` of ``target``.

    Parameters
    ----------
    sources : list of str or "all"
    target : str
    data_home : str, default=None
    log : callable, default=None
        Told which corpora ``"all"`` stands for.
    load : dict, default=None
        :func:`load_corpus` arguments for a user's ``target``, loaded to
        learn its modality when ``"all"`` needs it.

    Returns
    -------
    sources : list of str

    Raises
    ------
    ValueError
        If ``sources`` is a string other than ``"all"``, or ``"all"`` finds
        no other corpus (:func:`other_corpora`).
    """
    if not isinstance(sources, str):
        return list(sources)
    if sources != "all":
        raise ValueError(f"sources must be a list of corpora or 'all'; got {sources!r}.")
    modality = None
    if target not in CORPORA:  # a user's corpus: its files say its modality
        modality = load_corpus(target, data_home=data_home, **(load or {})).modality
    modality = modality or CORPORA[target][1]
    found = other_corpora(target, modality=modality, data_home=data_home)
    _log(log, f"sources: every other {'speech' if modality == 'audio' else 'face'} corpus "
              f"here, largest first: {', '.join(found)}")
    return found


def run_transfer_experiment(
    sources,
    target,
    *,
    params=None,
    estimator=None,
    data_home=None,
    n_jobs=None,
    fold_jobs=None,
    client=None,
    cache=None,
    cv=None,
    methods=("transfer", "scratch"),
    features="logmel",
    speaker_norm=False,
    label_pattern=None,
    group_pattern=None,
    log=print,
    checkpoint=None,
    resume=False,
    label_map=None,
    keep_labels=False,
    fold_groups=False,
    modality=None,
    allow_overlap=False,
):
    """PathNet transfer from ``sources`` to ``target`` against training from scratch.

    Everything that can be checked is checked before the first expensive
    step (feature extraction): the corpus names and modalities, the
    estimator parameters, that every corpus is there, that ``cv`` can split
    the target's speakers/subjects, and the checkpoint folder.

    Parameters
    ----------
    sources : list of str or "all"
        Source corpora, learnt in order: keys of :data:`CORPORA`, manifest
        files or folders (:func:`load_corpus`). ``"all"``: every other
        built-in corpus of the target's modality under the data home,
        largest first (leave-one-corpus-out, :func:`other_corpora`); the
        results' ``sources`` list them.
    target : str
        Target corpus name.
    params : dict, default=None
        :class:`~skpathnet.PathNetClassifier` parameters (paper defaults
        otherwise).
    estimator : classifier with ``fit_transfer``, default=None
        Another method to run instead of ``PathNetClassifier(**params)``
        (e.g. :class:`~skpathnet.baselines.FineTuneClassifier`); give
        ``params`` or ``estimator``, not both.
    data_home : str, default=None
        Corpora folder (default: ``SKPATHNET_DATA``).
    n_jobs : int, default=None
        Feature-extraction workers (local processes).
    fold_jobs : int, default=None
        Folds fitted at once on local processes (joblib); None: one after
        the other. Ignored with ``client``.
    client : dask.distributed.Client, default=None
        Run the folds of every method on this Dask cluster
        (:func:`dask_cluster`): the target's features are sent to each
        worker once, every fold is a task, and each finished fold is saved
        in ``checkpoint`` as it arrives. Features and the source phase are
        computed here.
    cache : str, default=None
        Folder of the joblib feature cache; None disables caching.
    cv : cross-validator, default=LeaveOneGroupOut()
    methods : tuple of {"transfer", "scratch"}, or dict of str -> Method
        A tuple: ``params`` / ``estimator`` with transfer (``"transfer"``)
        and without (``"scratch"``). A dict: any methods, by name, each an
        estimator with or without its source phase (:class:`Method`);
        ``params`` and ``estimator`` are then not given, and the results'
        ``params`` map each method to its estimator's parameters.
    features : {"logmel", "functionals", "compare", "egemaps", "crops", "hog"}, default="logmel"
        Front end (:func:`front_end`): for speech one of the first four;
        for faces the crops (any value but ``"hog"``) or their HOG.
    speaker_norm : bool or "auto", default=False
        Standardise each speaker/subject with its own statistics, sources
        and target (:func:`extract_features`); ``"auto"``: only the corpora
        whose speakers cover the emotions (:func:`speaker_norm_applies`).
        The results' ``normalised`` lists the corpora that were.
    label_pattern, group_pattern : str, default=None
        For corpora given as folders (:func:`load_corpus`).
    log : callable, default=print
    checkpoint : str or path-like, default=None
        Folder where the run is saved as it goes: ``config.json`` (the
        settings and a fingerprint of the data,
        :func:`_checkpoint.fingerprint`), the estimator fitted by ``fit_transfer`` and its time
        (``source.npz``; ``source-<method>.npz`` each with several
        transfer methods, :func:`fit_sources`) and one file per finished
        fold (one folder per method, e.g. ``transfer/``, ``scratch/``; see
        :func:`evaluate`), each written atomically, so that an interrupt, a
        crash or a full disk loses at most the fold in progress. The caller
        deletes it once the results are saved.
    resume : bool, default=False
        Continue the run saved in ``checkpoint``: the saved source phases
        and folds are loaded, the others computed, giving the results of
        one uninterrupted run with the same settings (timings aside).
        Refused if the settings, the corpora's files, sizes, modification
        times, labels or groups, or the package version changed.
        Without anything saved, the run starts from the beginning.
    label_map, keep_labels, fold_groups, modality : default=None, False, False, None
        For users' corpora (:func:`load_corpus`).
    allow_overlap : bool, default=False
        Run even if a source and the target share files (by path or
        content); refused otherwise (:func:`load_experiment`).

    Returns
    -------
    results : dict
        JSON-serialisable: settings, timings and, per method, the output of
        :func:`evaluate` (plus ``source_seconds`` for transfer methods).

    Raises
    ------
    CheckpointError
        (a ``ValueError``) If another run holds ``checkpoint`` (its lock
        file), or a saved part is damaged (the message names the file).
    ValueError
        If a corpus name is unknown, the corpora do not share one modality,
        a source and the target share files (without ``allow_overlap``),
        a parameter is invalid, ``cv`` cannot split the target, or
        ``checkpoint`` holds a saved run but ``resume`` is False or its
        settings differ.
    FileNotFoundError
        If a corpus is missing (before any feature is extracted).
    """
    methods, base = _resolve_methods(methods, params, estimator)
    speaker_norm = check_speaker_norm(speaker_norm)
    memory = Memory(cache, verbose=0) if cache else None
    t_start = time.perf_counter()
    sources = resolve_sources(
        sources, target, data_home=data_home, log=log,
        load=dict(label_pattern=label_pattern, group_pattern=group_pattern, label_map=label_map,
                  keep_labels=keep_labels, fold_groups=fold_groups, modality=modality))
    # Every corpus is listed (cheap) before any feature is extracted (expensive).
    corpora = load_experiment(sources, target, data_home=data_home,
                              label_pattern=label_pattern, group_pattern=group_pattern,
                              label_map=label_map, keep_labels=keep_labels,
                              fold_groups=fold_groups, modality=modality,
                              allow_overlap=allow_overlap, log=log)
    splitter = LeaveOneGroupOut() if cv is None else cv
    target_bunch = corpora.bunches[target]
    try:
        n_folds = len(list(splitter.split(np.zeros((len(target_bunch.target), 1)),
                                          target_bunch.target, target_bunch.groups)))
    except ValueError as exc:
        raise ValueError(
            f"cannot split {target} ({len(np.unique(target_bunch.groups))} speakers/subjects) "
            f"with {splitter}: {exc}"
        ) from exc
    if base is not None:  # the CLI's form: one estimator, with and without transfer
        estimator_config = {"estimator": type(base).__name__,
                            "params": _config_params(base)}
    else:
        estimator_config = {"methods": {
            name: {"estimator": type(m.estimator).__name__, "transfer": m.transfer,
                   "params": _config_params(m.estimator)} for name, m in methods.items()}}
    with contextlib.ExitStack() as stack:
        if checkpoint is not None:
            stack.enter_context(_checkpoint.lock(checkpoint))  # a second run stops here
            resumed = _checkpoint.open_checkpoint(checkpoint, {
                "sources": list(sources), "target": target, **estimator_config,
                "features": features, "speaker_norm": speaker_norm, "cv": str(splitter),
                "data": _checkpoint.fingerprint(corpora.bunches),
            }, resume=resume)
            if resumed:
                log(f"resuming from {checkpoint}: {_checkpoint.describe_saved(checkpoint)} saved")
            elif resume:
                log(f"nothing saved in {checkpoint} yet: starting from the beginning")
        return _run(corpora, methods, base, features, speaker_norm, n_jobs, memory, log,
                    checkpoint, cv, n_folds, fold_jobs, client, t_start)


def _run(corpora, methods, base, features, speaker_norm, n_jobs, memory, log, checkpoint, cv,
         n_folds, fold_jobs, client, t_start):
    """:func:`run_transfer_experiment` from feature extraction on."""
    sources, target = corpora.sources, corpora.target
    data = extract_experiment(corpora, features=features, speaker_norm=speaker_norm,
                              n_jobs=n_jobs, memory=memory, log=log)
    X, y, groups = data.corpora[target]
    parts = None if checkpoint is None else Path(checkpoint)
    modality = data.modality
    results = {
        "sources": list(sources),
        "target": target,
        "modality": modality,
        "protocol": "leave-one-group-out" if cv is None else str(cv),
        "params": base.get_params() if base is not None else
        {name: m.estimator.get_params() for name, m in methods.items()},
        "features": features if modality == "audio" or features == "hog" else "faces",
        "speaker_norm": speaker_norm,
        "normalised": list(data.normalised),
        "n_clips": int(len(X)),
        "n_segments": int(sum(len(c) for c in X)) if is_clips(X) else int(len(X)),
        "n_groups": int(len(np.unique(groups))),
        "n_folds": int(n_folds),
        "methods": {},
    }
    transfer = [name for name, m in methods.items() if m.transfer]
    fits = fit_sources(
        {name: methods[name].estimator for name in transfer}, data, log=log,
        checkpoints={name: None if parts is None else parts / (
            f"source{_checkpoint.SUFFIX}" if len(transfer) == 1 else
            f"source-{name}{_checkpoint.SUFFIX}")
            for name in transfer},
    )
    estimators = {name: fits[name].estimator if name in fits else m.estimator
                  for name, m in methods.items()}
    where = "" if client is None else f" on the Dask cluster {client.scheduler.address}"
    log(f"{' and '.join(estimators)} -> {target}, {n_folds} folds each{where} ...")
    scored = evaluate_methods(
        estimators, X, y, groups, cv=cv, log=log, n_jobs=fold_jobs, client=client,
        checkpoints={m: None if parts is None else parts / m for m in estimators},
    )
    for name, fit in fits.items():
        scored[name]["source_seconds"] = fit.seconds
        if hasattr(fit.estimator, "source_paths_"):  # PathNet: the frozen pathways
            scored[name].update(
                source_paths=[p.tolist() for p in fit.estimator.source_paths_],
                source_fitness=fit.estimator.source_fitness_,
            )
    results["methods"] = scored
    results["seconds"] = time.perf_counter() - t_start
    return results


def _resolve_methods(methods, params, estimator):
    """``methods`` as a dict of name -> Method, and the estimator of the tuple form (else None)."""
    if isinstance(methods, Mapping):
        if params is not None or estimator is not None:
            raise ValueError("with methods as a dict of Method, give neither params nor "
                             "estimator: each Method has its estimator.")
        for name, method in methods.items():
            if not isinstance(method, Method):
                raise TypeError(f"methods[{name!r}] must be a Method; got {method!r}.")
            if isinstance(method.estimator, PathNetClassifier):
                method.estimator._check_params()
        return dict(methods), None
    unknown = set(methods) - {"transfer", "scratch"}
    if unknown:
        raise ValueError(f"unknown methods {sorted(unknown)}: give 'transfer' and/or 'scratch', "
                         "or a dict of Method.")
    if estimator is not None and params is not None:
        raise ValueError("give params (for PathNetClassifier) or estimator, not both.")
    if estimator is None:
        base = PathNetClassifier(**(params or {}))
        base._check_params()
    else:
        base = clone(estimator)
    return {name: Method(base, transfer=name == "transfer")
            for name in ("transfer", "scratch") if name in methods}, base


def _config_params(estimator):
    """The parameters a saved run depends on (``verbose`` aside)."""
    return {k: v for k, v in estimator.get_params().items() if k != "verbose"}


def _describe_rows(X):
    if is_clips(X):
        return f"{sum(len(c) for c in X)} segments/frames"
    return f"{X.shape[1]} features per clip"
