"""Transfer experiments: source corpora -> target corpus, scored per speaker/subject.

The main job (``skpathnet transfer``) runs this: it loads the corpora,
extracts features with the package's front ends, runs ``fit_transfer`` on
the sources, and scores transfer and training from scratch on the target
with a group-wise cross-validation (leave-one-speaker-out by default), at
clip level and at segment level, every fold of both methods as one batch of
tasks (local, or on a Dask cluster).
"""

import time
from pathlib import Path

import numpy as np
from joblib import Memory
from sklearn.base import clone
from sklearn.model_selection import LeaveOneGroupOut

from .._classifier import PathNetClassifier
from .._clips import is_clips
from . import _checkpoint
from ._corpora import CORPORA, VISUAL_SHARED_EMOTIONS, describe_corpus, extract_features, load_corpus
from ._evaluate import evaluate_methods

__all__ = ["run_transfer_experiment"]


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
):
    """PathNet transfer from ``sources`` to ``target`` against training from scratch.

    Everything that can be checked is checked before the first expensive
    step (feature extraction): the corpus names and modalities, the
    estimator parameters, that every corpus is there, that ``cv`` can split
    the target's speakers/subjects, and the checkpoint folder.

    Parameters
    ----------
    sources : list of str
        Source corpora, learnt in order: keys of :data:`CORPORA`, manifest
        files or folders (:func:`load_corpus`).
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
    methods : tuple of {"transfer", "scratch"}
    features : {"logmel", "compare", "egemaps"}, default="logmel"
        Audio front end (:func:`front_end`); faces always use face crops.
    speaker_norm : bool, default=False
        Standardise each speaker/subject with its own statistics, sources
        and target (:func:`extract_features`).
    label_pattern, group_pattern : str, default=None
        For corpora given as folders (:func:`load_corpus`).
    log : callable, default=print
    checkpoint : str or path-like, default=None
        Folder where the run is saved as it goes: ``config.json`` (the
        settings), ``source.joblib`` (the estimator fitted by
        ``fit_transfer``, and its time) and one file per finished fold
        (``transfer/``, ``scratch/``; see :func:`evaluate`), each written
        atomically, so that an interrupt, a crash or a full disk loses at
        most the fold in progress. The caller deletes it once the results
        are saved.
    resume : bool, default=False
        Continue the run saved in ``checkpoint``: the saved source phase and
        folds are loaded, the others computed, giving the results of one
        uninterrupted run with the same settings (timings aside). Without
        anything saved, the run starts from the beginning.

    Returns
    -------
    results : dict
        JSON-serialisable: settings, timings and, per method, the output of
        :func:`evaluate` (plus ``source_seconds`` for transfer).

    Raises
    ------
    ValueError
        If a corpus name is unknown, the corpora do not share one modality,
        a parameter is invalid, ``cv`` cannot split the target, or
        ``checkpoint`` holds a saved run but ``resume`` is False or its
        settings differ.
    FileNotFoundError
        If a corpus is missing (before any feature is extracted).
    """
    names = list(sources) + [target]
    memory = Memory(cache, verbose=0) if cache else None
    if estimator is not None and params is not None:
        raise ValueError("give params (for PathNetClassifier) or estimator, not both.")
    if estimator is None:
        base = PathNetClassifier(**(params or {}))
        base._check_params()
    else:
        base = clone(estimator)
    t_start = time.perf_counter()
    # Every corpus is listed (cheap) before any feature is extracted (expensive).
    bunches = {}
    for name in dict.fromkeys(names):
        visual = name in CORPORA and CORPORA[name][1] == "visual"
        bunches[name] = load_corpus(
            name, data_home=data_home, labels=VISUAL_SHARED_EMOTIONS if visual else None,
            label_pattern=label_pattern, group_pattern=group_pattern)
    modalities = {bunch.modality for bunch in bunches.values()}
    if len(modalities) != 1:
        raise ValueError(
            "Sources and target mix speech and faces: "
            + ", ".join(f"{n} ({bunches[n].modality})" for n in bunches) + "."
        )
    modality = modalities.pop()
    for bunch in bunches.values():
        log(describe_corpus(bunch))
    splitter = LeaveOneGroupOut() if cv is None else cv
    target_bunch = bunches[target]
    try:
        n_folds = len(list(splitter.split(np.zeros((len(target_bunch.target), 1)),
                                          target_bunch.target, target_bunch.groups)))
    except ValueError as exc:
        raise ValueError(
            f"cannot split {target} ({len(np.unique(target_bunch.groups))} speakers/subjects) "
            f"with {splitter}: {exc}"
        ) from exc
    resumed = False
    if checkpoint is not None:
        resumed = _checkpoint.open_checkpoint(checkpoint, {
            "sources": list(sources), "target": target,
            "estimator": type(base).__name__,
            "params": {k: v for k, v in base.get_params().items() if k != "verbose"},
            "features": features, "speaker_norm": bool(speaker_norm), "cv": str(splitter),
        }, resume=resume)
        if resumed:
            log(f"resuming from {checkpoint}: {_checkpoint.describe_saved(checkpoint)} saved")
        elif resume:
            log(f"nothing saved in {checkpoint} yet: starting from the beginning")
    data = {}
    for name, bunch in bunches.items():
        t0 = time.perf_counter()
        X = extract_features(name, bunch, features=features, speaker_norm=speaker_norm,
                             n_jobs=n_jobs, memory=memory)
        data[name] = (X, bunch.target, bunch.groups)
        log(
            f"{name}: {len(X)} clips, {_describe_rows(X)}, "
            f"{len(np.unique(bunch.groups))} {'speakers' if modality == 'audio' else 'subjects'} "
            f"({time.perf_counter() - t0:.0f} s)"
        )
    X, y, groups = data[target]
    parts = None if checkpoint is None else Path(checkpoint)
    results = {
        "sources": list(sources),
        "target": target,
        "modality": modality,
        "protocol": "leave-one-group-out" if cv is None else str(cv),
        "params": base.get_params(),
        "features": features if modality == "audio" else "faces",
        "speaker_norm": bool(speaker_norm),
        "n_clips": int(len(X)),
        "n_segments": int(sum(len(c) for c in X)) if is_clips(X) else int(len(X)),
        "n_groups": int(len(np.unique(groups))),
        "n_folds": int(n_folds),
        "methods": {},
    }
    if "transfer" in methods:
        source_path = None if parts is None else parts / "source.joblib"
        if resumed and source_path.exists():
            saved = _checkpoint.load(source_path)
            transferred, source_seconds = saved["estimator"], saved["seconds"]
            log(f"fit_transfer on {' + '.join(sources)}: loaded from {source_path}")
        else:
            t0 = time.perf_counter()
            log(f"fit_transfer on {' + '.join(sources)} ...")
            transferred = clone(base).fit_transfer(
                [data[s][0] for s in sources], [data[s][1] for s in sources]
            )
            source_seconds = time.perf_counter() - t0
            if source_path is not None:
                _checkpoint.save(source_path, {"estimator": transferred,
                                               "seconds": source_seconds})
        frozen = getattr(transferred, "frozen_modules_", None)
        log((f"  frozen modules per layer: {[m.tolist() for m in frozen]}" if frozen else
             "  source phase done") + f" ({source_seconds:.0f} s)")
    estimators = {"transfer": transferred} if "transfer" in methods else {}
    if "scratch" in methods:
        estimators["scratch"] = base
    where = "" if client is None else f" on the Dask cluster {client.scheduler.address}"
    log(f"{' and '.join(estimators)} -> {target}, {n_folds} folds each{where} ...")
    scored = evaluate_methods(
        estimators, X, y, groups, cv=cv, log=log, n_jobs=fold_jobs, client=client,
        checkpoints={m: None if parts is None else parts / m for m in estimators},
    )
    if "transfer" in scored:
        scored["transfer"]["source_seconds"] = source_seconds
        if hasattr(transferred, "source_paths_"):  # PathNet: the frozen pathways
            scored["transfer"].update(
                source_paths=[p.tolist() for p in transferred.source_paths_],
                source_fitness=transferred.source_fitness_,
            )
    results["methods"] = scored
    results["seconds"] = time.perf_counter() - t_start
    return results


def _describe_rows(X):
    if is_clips(X):
        return f"{sum(len(c) for c in X)} segments/frames"
    return f"{X.shape[1]} features per clip"
