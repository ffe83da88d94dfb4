"""Group-wise cross-validation of one or several classifiers on the same folds.

Every fold of every method is one task: run one after the other by default,
on local processes with ``n_jobs`` (joblib), or on a Dask cluster with
``client`` (:func:`~skpathnet.experiments.dask_cluster`). Results come back
in any order;
each is saved (when a checkpoint folder is given) and logged as it arrives,
and the pooled scores are assembled in fold order, so they do not depend on
where or in which order the folds ran.
"""

import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import confusion_matrix, roc_auc_score
from sklearn.model_selection import LeaveOneGroupOut

from ..utils._clips import is_clips
from ..utils._metrics import emotion_report, war_score
from . import _checkpoint

__all__ = ["ClusterError", "Fold", "clip_report", "evaluate", "evaluate_methods"]


class ClusterError(RuntimeError):
    """Fold tasks were lost with the workers that ran them (a Dask cluster).

    The folds that had finished are saved in the checkpoint folder, if one
    was given; running again with the same checkpoint continues from there.
    """


class Fold(NamedTuple):
    """One fold task: which method, its number over the run, its samples.

    What :func:`evaluate_methods` sends to a worker (with the estimator) for
    each fold; its size is part of a cluster run's overhead.

    Attributes
    ----------
    method : str
        The name of the estimator (``""`` for :func:`evaluate`).
    number : int
        The fold's number over the run (from ``first_fold``).
    train, test : ndarray of int
        Indices of the training and test samples.
    """

    method: str
    number: int
    train: np.ndarray
    test: np.ndarray


class FoldResult(NamedTuple):
    """What a fold task returns: clip predictions, posteriors and its record."""

    pred: np.ndarray
    proba: np.ndarray
    strue: np.ndarray
    spred: np.ndarray
    record: dict


def evaluate(estimator, X, y, groups, *, cv=None, labels=None, first_fold=0, log=None,
             inspect=None, checkpoint=None, n_jobs=None, client=None):
    """Group-wise cross-validation with clip- and segment-level predictions.

    Parameters
    ----------
    estimator : classifier
        Cloned for every fold (transfer knowledge travels with the clone);
        its ``predict_proba`` (else ``decision_function``, one score per
        class) gives the saved ``proba``. With clips and an estimator that has
        ``predict_segments`` (:class:`~skpathnet.PathNetClassifier`), segments
        are also scored; otherwise the segment level repeats the clip level.
    X : clips (ndarray of dtype object and shape (n_clips,)) or ndarray of shape (n_clips, n_features)
    y, groups : ndarray of shape (n_clips,)
    cv : cross-validator, default=LeaveOneGroupOut()
    labels : array-like, default=None
        Classes to report; default: the sorted labels of ``y``.
    first_fold : int, default=0
        How many folds came before, for a run that continues another one:
        the ``i``-th fold (from 0) is number ``first_fold + i`` (its record's
        ``fold``), saved with the group name ``"fold <first_fold + i>"``
        where its test fold holds several groups, and logged as fold
        ``first_fold + i + 1``.
    log : callable, default=None
        Called with one progress line per fold as it finishes, e.g.
        ``"  fold 3 (03): clip WAR 0.512 UAR 0.498, 61 s"``.
    inspect : callable, default=None
        Called as ``inspect(model)`` with each fold's fitted model, where the
        fold runs (it must pickle to run on other processes); the dict it
        returns is added to that fold's record (e.g. the source accuracy
        after target training, to measure forgetting).
    checkpoint : str or path-like, default=None
        Folder where each finished fold is saved (``fold-<n>.npz``, no
        pickle, :mod:`~skpathnet.experiments._checkpoint`; written
        atomically, ``n`` counted from ``first_fold``) as soon as it is
        scored. A fold already saved there is loaded instead of being
        fitted again, so calling ``evaluate`` again after an interrupt, a
        crash or a lost worker continues where it stopped and returns the
        same scores as one uninterrupted call (the ``seconds`` of loaded
        folds are those saved).
    n_jobs : int, default=None
        Folds run at once on local processes, through joblib: None runs them
        one after the other (unless a :func:`joblib.parallel_config` says
        otherwise).
    client : dask.distributed.Client, default=None
        Run the folds on this Dask cluster instead
        (:func:`~skpathnet.experiments.dask_cluster`): ``X``, ``y``,
        ``groups`` and the estimator are sent to each worker once, every fold
        is a task, and a worker lost mid-fold has its task run again on
        another (Dask's ``allowed-failures``, default 3); ``n_jobs`` is then
        ignored.

    Returns
    -------
    result : dict
        ``clip`` and ``segment``: :func:`~skpathnet.emotion_report` of the
        pooled out-of-fold predictions, the clip level with ``macro_AUC``
        (one-vs-rest ROC AUC of the pooled ``proba``, averaged over the
        classes present) and ``confusion`` (rows: true ``labels``, columns:
        predicted); ``folds``: per-fold dicts (``fold``, ``group``,
        ``n_clips``, ``clip_WAR``, ``clip_UAR``, ``clip_UAP``,
        ``segment_WAR``, ``segment_UAR``, ``seconds``; UAR and UAP over the
        emotions present in that fold's test clips); ``predictions``: pooled
        clip-level ``labels``, ``y_true``, ``y_pred`` and ``proba`` (lists);
        ``seconds``: the sum of the folds' ``seconds`` (compute time, the
        same however the folds were spread); ``wall_seconds``: this call's
        wall time.

    Raises
    ------
    ValueError
        If a fold saved in ``checkpoint`` was tested on other samples than
        this call's fold of the same number (another ``cv`` or data), or is
        damaged (:class:`~skpathnet.experiments._checkpoint.CheckpointError`,
        naming the file to delete).
    ClusterError
        If the workers running the folds were lost (folds finished before
        are saved in ``checkpoint``).
    """
    return evaluate_methods(
        {"": estimator}, X, y, groups, cv=cv, labels=labels, first_fold=first_fold, log=log,
        inspect=None if inspect is None else {"": inspect},
        checkpoints={"": checkpoint}, n_jobs=n_jobs, client=client,
    )[""]


def evaluate_methods(estimators, X, y, groups, *, cv=None, labels=None, first_fold=0, log=None,
                     inspect=None, checkpoints=None, n_jobs=None, client=None):
    """:func:`evaluate` for several methods on the same folds, all folds as one batch of tasks.

    Parameters
    ----------
    estimators : dict of str -> classifier
        The methods, by name (``""`` for :func:`evaluate`'s single one).
    inspect : dict of str -> callable, default=None
        Per-method ``inspect`` (see :func:`evaluate`); methods not in it
        have none.
    checkpoints : dict of str -> path-like or None, default=None
        Per-method checkpoint folder (see :func:`evaluate`).
    X, y, groups, cv, labels, first_fold, log, n_jobs, client
        As for :func:`evaluate`; with several methods, a method's log lines
        start with its name.

    Returns
    -------
    results : dict of str -> dict
        Per method, what :func:`evaluate` returns; ``wall_seconds`` is the
        wall time of the whole call.
    """
    cv = LeaveOneGroupOut() if cv is None else cv
    labels = np.unique(y) if labels is None else np.asarray(labels)
    inspect, checkpoints = inspect or {}, checkpoints or {}
    # segment-level scores for clips and an estimator that answers per segment
    counts = np.array([len(c) for c in X]) if is_clips(X) else None
    splits = list(cv.split(X, y, groups))
    start = time.perf_counter()
    done, pending = {}, []
    for method in estimators:
        for i, (train, test) in enumerate(splits):
            fold = Fold(method, first_fold + i, train, test)
            saved = _load_saved(checkpoints.get(method), fold)
            if saved is None:
                pending.append(fold)
            else:
                done[method, fold.number] = saved
                _log_fold(log, fold, saved.record, loaded=True, named=len(estimators) > 1)
    arguments = (X, y, groups, labels, counts)
    try:
        for fold, result in _run_folds(pending, estimators, inspect, arguments, n_jobs, client):
            folder = checkpoints.get(fold.method)
            if folder is not None:
                _checkpoint.save(_fold_path(folder, fold.number),
                                 {"test": fold.test, **result._asdict()})
            done[fold.method, fold.number] = result
            _log_fold(log, fold, result.record, loaded=False, named=len(estimators) > 1)
    except Exception as exc:
        if not type(exc).__module__.startswith("distributed"):
            raise
        saved = [str(p) for p in checkpoints.values() if p is not None]
        n_folds = len(estimators) * len(splits)
        if not done:
            progress = f"none of the {n_folds} folds had finished"
        else:
            progress = f"{len(done)} of {n_folds} folds finished" + (
                f" and are saved in {', '.join(saved)}: run again with the same checkpoint "
                "to continue" if saved else "")
        raise ClusterError(
            f"the Dask cluster lost fold tasks ({type(exc).__name__}: {exc}); {progress}. "
            "Check that the workers are alive and have enough memory."
        ) from exc
    seconds = time.perf_counter() - start
    return {
        method: _pool([done[method, first_fold + i] for i in range(len(splits))], y, splits,
                      labels, seconds)
        for method in estimators
    }


def _run_folds(pending, estimators, inspect, arguments, n_jobs, client):
    """Score the ``pending`` folds; yield ``(fold, FoldResult)`` as each finishes.

    Locally through joblib; on a Dask ``client`` through its futures, each
    array and estimator sent to the workers once, so that a task lost with
    its worker raises (``KilledWorker``) instead of waiting forever, as a
    joblib batch does on the ``"dask"`` backend.
    """
    if not pending:  # everything was saved before: nothing to send anywhere
        return
    X, y, groups, labels, counts = arguments
    if client is None:
        tasks = (delayed(_score_fold)(estimators[f.method], X, y, groups, f, labels, counts,
                                      inspect.get(f.method)) for f in pending)
        yield from Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks)
        return
    from ._cluster import import_distributed

    distributed = import_distributed()
    data = client.scatter([X, y, groups], broadcast=True)
    models = dict(zip(estimators, client.scatter(list(estimators.values()), broadcast=True)))
    futures = [client.submit(_score_fold, models[f.method], *data, f, labels, counts,
                             inspect.get(f.method), pure=False) for f in pending]
    for future in distributed.as_completed(futures):
        yield future.result()


def _fold_path(folder, number):
    return Path(folder) / f"fold-{number}{_checkpoint.SUFFIX}"


def _load_saved(folder, fold):
    """The saved :class:`FoldResult` of ``fold``, or None if it is not saved."""
    if folder is None or not _fold_path(folder, fold.number).exists():
        return None
    path = _fold_path(folder, fold.number)
    saved = _checkpoint.load(path)
    if not isinstance(saved, dict) or not {"test", *FoldResult._fields} <= set(saved):
        raise _checkpoint.CheckpointError(
            f"the checkpoint part {str(path)!r} is not a fold's result; delete it to "
            f"recompute that fold (rm {str(path)!r}), then run again."
        )
    if not np.array_equal(saved["test"], fold.test):
        raise ValueError(
            f"The fold saved in {str(path)!r} was tested on other samples than fold "
            f"{fold.number} of this run (another cv or data); delete {str(folder)!r} to start "
            "this evaluation over."
        )
    return FoldResult(**{key: saved[key] for key in FoldResult._fields})


def _log_fold(log, fold, record, *, loaded, named):
    if log is None:
        return
    # counted from 1 over the whole run; a group-named fold also shows its group
    group = f" ({record['group']})" if record["group"] != f"fold {fold.number}" else ""
    who = f"{fold.method} " if named and fold.method else ""
    log(f"  {who}fold {fold.number + 1}{group}: clip WAR {record['clip_WAR']:.3f} "
        f"UAR {record['clip_UAR']:.3f}, {record['seconds']:.0f} s"
        + (" (saved before)" if loaded else ""))


def _score_fold(estimator, X, y, groups, fold, labels, counts, inspect):
    """Fit a clone on ``fold.train``, score ``fold.test``: ``(fold, FoldResult)``."""
    t0 = time.perf_counter()
    train, test = fold.train, fold.test
    model = clone(estimator).fit(X[train], y[train])
    pred = model.predict(X[test])
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X[test])
    else:  # e.g. a linear SVM: one decision score per class (ranks for ROC/AUC)
        proba = model.decision_function(X[test])
        if proba.ndim == 1:  # two classes: one score, positive for classes_[1]
            proba = np.column_stack([-proba, proba])
    if counts is not None and hasattr(model, "predict_segments"):
        spred = model.predict_segments(X[test])
        strue = np.repeat(y[test], counts[test])
    else:
        spred, strue = pred, y[test]
    full = np.zeros((len(test), len(labels)), dtype=np.float32)
    full[:, np.searchsorted(labels, model.classes_)] = proba
    test_groups = np.unique(groups[test])
    present = np.intersect1d(labels, y[test])
    report = emotion_report(y[test], pred, labels=present)
    record = {
        "fold": int(fold.number),
        "group": str(test_groups[0]) if len(test_groups) == 1 else f"fold {fold.number}",
        "n_clips": int(len(test)),
        "clip_WAR": report["WAR"],
        "clip_UAR": report["UAR"],
        "clip_UAP": report["UAP"],
        "segment_WAR": war_score(strue, spred),
        "segment_UAR": emotion_report(strue, spred, labels=present)["UAR"],
        "seconds": time.perf_counter() - t0,
    }
    if inspect is not None:
        record.update(inspect(model))
    return fold, FoldResult(pred, full, strue, spred, record)


def _pool(results, y, splits, labels, wall_seconds):
    """One method's :func:`evaluate` result from its fold results, in fold order."""
    clip_true = np.concatenate([y[test] for _, test in splits])
    clip_pred = np.concatenate([r.pred for r in results])
    # float64 so that a rounded value prints as 0.00188, not as its float32 0.0018799999;
    # scored as saved, so that the saved predictions reproduce every score
    proba = np.concatenate([r.proba for r in results]).astype(np.float64).round(5)
    return {
        "clip": clip_report(clip_true, clip_pred, proba, labels),
        "segment": emotion_report(np.concatenate([r.strue for r in results]),
                                  np.concatenate([r.spred for r in results]), labels=labels),
        "folds": [r.record for r in results],
        "predictions": {
            "labels": [str(c) for c in labels],
            "y_true": [str(v) for v in clip_true],
            "y_pred": [str(v) for v in clip_pred],
            "proba": proba.tolist(),
        },
        "seconds": float(sum(r.record["seconds"] for r in results)),
        "wall_seconds": wall_seconds,
    }


def clip_report(y_true, y_pred, proba, labels):
    """The pooled clip-level scores of :func:`evaluate`.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_clips,)
    proba : array-like of shape (n_clips, n_labels)
        Posteriors (or decision scores) per class, columns in ``labels``
        order.
    labels : array-like of shape (n_labels,)

    Returns
    -------
    report : dict
        :func:`~skpathnet.emotion_report` plus ``macro_AUC`` (one-vs-rest
        ROC AUC averaged over the classes present in ``y_true``, NaN with
        fewer than two) and ``confusion`` (list of lists: rows true
        ``labels``, columns predicted).
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    proba, labels = np.asarray(proba, dtype=float), np.asarray(labels)
    report = emotion_report(y_true, y_pred, labels=labels)
    present = [k for k, c in enumerate(labels) if 0 < np.sum(y_true == c) < len(y_true)]
    report["macro_AUC"] = float("nan") if len(present) < 2 else float(np.mean(
        [roc_auc_score(y_true == labels[k], proba[:, k]) for k in present]))
    report["confusion"] = confusion_matrix(y_true, y_pred, labels=labels).tolist()
    return report
