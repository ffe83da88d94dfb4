"""Transfer experiments: source corpora -> target corpus, scored per speaker/subject.

The main job (``skpathnet transfer``) and the benchmarks share this code: it
loads corpora, extracts features with the package's front ends, runs
:meth:`PathNetClassifier.fit_transfer` on the sources, and scores transfer
and training from scratch on the target with a group-wise cross-validation
(leave-one-speaker-out by default), at clip level and at segment level.
"""

import functools
import time
from pathlib import Path

import numpy as np
from joblib import Memory
from sklearn.base import clone
from sklearn.model_selection import LeaveOneGroupOut

from . import _checkpoint
from ._classifier import PathNetClassifier
from ._clips import is_clips
from ._metrics import emotion_report, uar_score, war_score
from .datasets import (
    load_ckplus, load_emodb, load_emovo, load_enterface, load_folder, load_jaffe, load_manifest,
    load_ravdess, load_savee,
)
from .transformers import FaceCropper, GroupStandardScaler, LogMelSegmenter, OpenSmileFunctionals

__all__ = ["AUDIO_FEATURES", "BEST_AUDIO", "CORPORA", "VISUAL_SHARED_EMOTIONS", "load_corpus",
           "extract_features", "evaluate", "run_transfer_experiment"]

#: Built-in corpus name -> (loader, modality). SAVEE and eNTERFACE'05 are
#: audio-visual: ``savee`` / ``enterface`` are their speech, ``savee-visual`` /
#: ``enterface-visual`` their face videos.
CORPORA = {
    "emodb": (load_emodb, "audio"),
    "ravdess": (load_ravdess, "audio"),
    "emovo": (load_emovo, "audio"),
    "savee": (functools.partial(load_savee, modality="audio"), "audio"),
    "enterface": (functools.partial(load_enterface, modality="audio"), "audio"),
    "jaffe": (load_jaffe, "visual"),
    "ckplus": (load_ckplus, "visual"),
    "savee-visual": (functools.partial(load_savee, modality="visual"), "visual"),
    "enterface-visual": (functools.partial(load_enterface, modality="visual"), "visual"),
}

#: Audio front ends: the paper's log-mel segments, or openSMILE functionals
#: (the ``opensmile`` extra) by their feature set.
AUDIO_FEATURES = {"logmel": None, "compare": "ComParE_2016", "egemaps": "eGeMAPSv02"}

#: The best honest PathNet configuration for speech (benchmarks/RESULTS.md,
#: "Accuracy"): ComParE functionals, speaker normalisation, and more SGD per
#: tournament than the paper's T = n / 64 steps at learning rate 0.02. Chosen
#: on RAVDESS speakers, never on the targets.
BEST_AUDIO = {"features": "compare", "speaker_norm": True,
              "params": {"n_steps": 100, "learning_rate": 0.1, "n_units": 64}}

#: The six emotions shared by the visual corpora, to which Nguyen et al.
#: (2020, Sec. 4) restrict the visual experiments.
VISUAL_SHARED_EMOTIONS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")


def load_corpus(name, *, data_home=None, labels=None, label_pattern=None, group_pattern=None):
    """Load a built-in corpus, a user's manifest or a user's folder.

    Parameters
    ----------
    name : str
        A key of :data:`CORPORA`; else the path of a manifest (a CSV with
        ``file``, ``label`` and ``group`` columns,
        :func:`~skpathnet.datasets.load_manifest`) or of a folder read by
        :func:`~skpathnet.datasets.load_folder` with ``label_pattern`` and
        ``group_pattern``.
    data_home : str, default=None
        Folder of the built-in corpora (default: ``SKPATHNET_DATA``).
    labels : sequence of str, default=None
        Keep only these labels (built-in corpora only; a user's corpus keeps
        its labels).
    label_pattern, group_pattern : str, default=None
        Regular expressions with one named group, applied to each file's
        path relative to the folder (folders only).

    Returns
    -------
    bunch : sklearn.utils.Bunch
        As returned by the loader (``filenames``, ``target``, ``groups``,
        ...), with ``modality`` ("audio" or "visual") and ``name`` (the
        corpus name, or the file or folder name of a user's corpus).

    Raises
    ------
    ValueError
        If ``name`` is neither a built-in corpus nor an existing file or
        folder, or a folder is given without both patterns.
    """
    if name in CORPORA:
        loader, modality = CORPORA[name]
        bunch = loader(data_home)
        if labels is not None:
            keep = np.isin(bunch.target, labels)
            for key in ("filenames", "target", "groups"):
                bunch[key] = bunch[key][keep]
            bunch["target_names"] = np.unique(bunch.target)
        bunch["modality"], bunch["name"] = modality, name
        return bunch
    path = Path(name).expanduser()
    if path.is_file():
        bunch = load_manifest(path)
    elif path.is_dir():
        if label_pattern is None or group_pattern is None:
            raise ValueError(
                f"{name!r} is a folder: give --label-pattern and --group-pattern, regular "
                "expressions with one named group applied to each file's path relative to "
                r"it, e.g. --label-pattern '^[^/]+/(?P<label>[^/]+)/' --group-pattern "
                r"'^(?P<group>[^/]+)/' for <speaker>/<emotion>/001.wav."
            )
        bunch = load_folder(path, label=label_pattern, group=group_pattern)
    else:
        raise ValueError(
            f"Unknown corpus {name!r}: neither a built-in corpus ({', '.join(sorted(CORPORA))}) "
            "nor an existing manifest file or folder."
        )
    bunch["name"] = path.stem if path.is_file() else path.name
    return bunch


def describe_corpus(bunch):
    """One line: files, classes with counts, and speakers/subjects of a loaded corpus."""
    labels, counts = np.unique(bunch.target, return_counts=True)
    classes = ", ".join(f"{label} {count}" for label, count in zip(labels, counts))
    who = "speakers" if bunch.modality == "audio" else "subjects"
    return (f"{bunch.name}: {len(bunch.target)} files, {len(labels)} classes ({classes}), "
            f"{len(np.unique(bunch.groups))} {who}")


def front_end(name, *, features="logmel", modality=None, n_jobs=None, memory=None):
    """The feature extractor for corpus ``name``.

    Speech: ``features`` is a key of :data:`AUDIO_FEATURES`, the paper's
    log-mel segments (front-end defaults of Nguyen et al. 2020, Sec. 3.2) or
    openSMILE functionals. Faces: the paper's face crops (``features`` is
    ignored). CK+48 images are already face crops of 48 x 48 pixels: the
    detector runs with a small ``min_size`` and falls back to the whole image.

    Raises
    ------
    ValueError
        If ``features`` is not a key of :data:`AUDIO_FEATURES`.
    """
    modality = modality or CORPORA[name][1]
    if modality == "audio":
        if features not in AUDIO_FEATURES:
            raise ValueError(
                f"Unknown audio features {features!r}; choose from {sorted(AUDIO_FEATURES)}."
            )
        if features == "logmel":
            return LogMelSegmenter(n_jobs=n_jobs, memory=memory)
        return OpenSmileFunctionals(
            feature_set=AUDIO_FEATURES[features], n_jobs=n_jobs, memory=memory
        )
    if name == "ckplus":
        return FaceCropper(min_size=(20, 20), no_face="full_frame", n_jobs=n_jobs, memory=memory)
    return FaceCropper(n_jobs=n_jobs, memory=memory)


def extract_features(name, bunch, *, features="logmel", speaker_norm=False, n_jobs=None,
                     memory=None):
    """Run the corpus's front end over its files: one row (clip or feature vector) per file.

    With ``speaker_norm``, each speaker's (subject's) features are then
    standardised with that speaker's own statistics
    (:class:`~skpathnet.transformers.GroupStandardScaler`; it warns if a
    speaker's labels cover too few emotions). Done once per corpus, this is
    exactly the normalisation inside each fold of a group-wise
    cross-validation, since a speaker's features depend on that speaker
    alone.
    """
    modality = bunch.get("modality") or CORPORA[name][1]
    X = front_end(name, features=features, modality=modality, n_jobs=n_jobs,
                  memory=memory).fit_transform(bunch.filenames)
    if speaker_norm:
        scaler = GroupStandardScaler().fit(X, bunch.target, groups=bunch.groups)
        X = scaler.transform(X, groups=bunch.groups)
    return X


def evaluate(estimator, X, y, groups, *, cv=None, labels=None, first_fold=0, log=None,
             inspect=None, checkpoint=None):
    """Group-wise cross-validation with clip- and segment-level predictions.

    Parameters
    ----------
    estimator : classifier
        Cloned for every fold (transfer knowledge travels with the clone);
        its ``predict_proba`` (else ``decision_function``, one score per
        class) gives the saved ``proba``. With clips and an estimator that has
        ``predict_segments`` (:class:`PathNetClassifier`), segments are
        also scored; otherwise the segment level repeats the clip level.
    X : clips (ndarray of dtype object and shape (n_clips,)) or ndarray of shape (n_clips, n_features)
    y, groups : ndarray of shape (n_clips,)
    cv : cross-validator, default=LeaveOneGroupOut()
    labels : array-like, default=None
        Classes to report; default: the sorted labels of ``y``.
    first_fold : int, default=0
        How many folds came before, for a run that continues another one:
        the ``i``-th fold (from 0) is saved with the group name
        ``"fold <first_fold + i>"`` where its test fold holds several groups,
        and logged as fold ``first_fold + i + 1``.
    log : callable, default=None
        Called with one progress line per fold, e.g.
        ``"  fold 3 (03): clip WAR 0.512 UAR 0.498, 61 s"``.
    inspect : callable, default=None
        Called as ``inspect(model)`` with each fold's fitted model; the
        dict it returns is added to that fold's record (e.g. the source
        accuracy after target training, to measure forgetting).
    checkpoint : str or path-like, default=None
        Folder where each finished fold is saved (``fold-<n>.joblib``,
        written atomically, ``n`` counted from ``first_fold``) as soon as it
        is scored. A fold already saved there is loaded instead of being
        fitted again, so calling ``evaluate`` again after an interrupt or a
        crash continues where it stopped and returns the same scores as one
        uninterrupted call (the ``seconds`` of loaded folds are those saved).

    Returns
    -------
    result : dict
        ``clip`` and ``segment``: :func:`emotion_report` of the pooled
        out-of-fold predictions; ``folds``: per-fold dicts (``group``,
        ``n_clips``, ``clip_WAR``, ``clip_UAR``, ``segment_WAR``,
        ``segment_UAR``, ``seconds``); ``predictions``: pooled clip-level
        ``y_true``, ``y_pred`` and ``proba`` (lists); ``seconds``.

    Raises
    ------
    ValueError
        If a fold saved in ``checkpoint`` was tested on other samples than
        this call's fold of the same number (another ``cv`` or data).
    """
    cv = LeaveOneGroupOut() if cv is None else cv
    labels = np.unique(y) if labels is None else np.asarray(labels)
    # segment-level scores for clips and an estimator that answers per segment
    segments = is_clips(X) and hasattr(estimator, "predict_segments")
    counts = np.array([len(c) for c in X]) if segments else None
    clip_true, clip_pred, seg_true, seg_pred, probas, folds = [], [], [], [], [], []
    start = time.perf_counter()
    for fold, (train, test) in enumerate(cv.split(X, y, groups)):
        saved_path = None if checkpoint is None else (
            Path(checkpoint) / f"fold-{first_fold + fold}.joblib")
        loaded = saved_path is not None and saved_path.exists()
        if loaded:
            saved = _checkpoint.load(saved_path)
            if not np.array_equal(saved["test"], test):
                raise ValueError(
                    f"The fold saved in {str(saved_path)!r} was tested on other samples than "
                    f"fold {first_fold + fold} of this run (another cv or data); delete "
                    f"{str(checkpoint)!r} to start this evaluation over."
                )
            pred, full, strue, spred = saved["pred"], saved["proba"], saved["strue"], saved["spred"]
            record = saved["record"]
        else:
            pred, full, strue, spred, record = _score_fold(
                estimator, X, y, groups, train, test, labels, segments, counts,
                first_fold + fold, inspect,
            )
            if saved_path is not None:
                _checkpoint.save(saved_path, {"test": test, "pred": pred, "proba": full,
                                              "strue": strue, "spred": spred,
                                              "record": record})
        clip_true.append(y[test]), clip_pred.append(pred), probas.append(full)
        seg_true.append(strue), seg_pred.append(spred)
        folds.append(record)
        if log is not None:
            # counted from 1 over the whole run; a group-named fold also shows its group
            one_group = record["group"] != f"fold {first_fold + fold}"
            named = f" ({record['group']})" if one_group else ""
            log(
                f"  fold {first_fold + fold + 1}{named}: clip WAR {record['clip_WAR']:.3f} "
                f"UAR {record['clip_UAR']:.3f}, {record['seconds']:.0f} s"
                + (" (saved before)" if loaded else "")
            )
    clip_true, clip_pred = np.concatenate(clip_true), np.concatenate(clip_pred)
    return {
        "clip": emotion_report(clip_true, clip_pred, labels=labels),
        "segment": emotion_report(np.concatenate(seg_true), np.concatenate(seg_pred),
                                  labels=labels),
        "folds": folds,
        "predictions": {
            "labels": [str(c) for c in labels],
            "y_true": [str(v) for v in clip_true],
            "y_pred": [str(v) for v in clip_pred],
            # float64 so that a rounded value prints as 0.00188, not as its float32 0.0018799999
            "proba": np.concatenate(probas).astype(np.float64).round(5).tolist(),
        },
        "seconds": time.perf_counter() - start,
    }


def _score_fold(estimator, X, y, groups, train, test, labels, segments, counts, number,
                inspect):
    """Fit a clone on ``train``, score ``test``: ``(pred, proba, strue, spred, record)``."""
    t0 = time.perf_counter()
    model = clone(estimator).fit(X[train], y[train])
    pred = model.predict(X[test])
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X[test])
    else:  # e.g. a linear SVM: one decision score per class (ranks for ROC/AUC)
        proba = model.decision_function(X[test])
    if segments:
        spred = model.predict_segments(X[test])
        strue = np.repeat(y[test], counts[test])
    else:
        spred, strue = pred, y[test]
    full = np.zeros((len(test), len(labels)), dtype=np.float32)
    full[:, np.searchsorted(labels, model.classes_)] = proba
    test_groups = np.unique(groups[test])
    record = {
        "group": str(test_groups[0]) if len(test_groups) == 1 else f"fold {number}",
        "n_clips": int(len(test)),
        "clip_WAR": war_score(y[test], pred),
        "clip_UAR": uar_score(y[test], pred),
        "segment_WAR": war_score(strue, spred),
        "segment_UAR": uar_score(strue, spred),
        "seconds": time.perf_counter() - t0,
    }
    if inspect is not None:
        record.update(inspect(model))
    return pred, full, strue, spred, record


def run_transfer_experiment(
    sources,
    target,
    *,
    params=None,
    data_home=None,
    n_jobs=None,
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
        :class:`PathNetClassifier` parameters (paper defaults otherwise).
    data_home : str, default=None
        Corpora folder (default: ``SKPATHNET_DATA``).
    n_jobs : int, default=None
        Feature-extraction workers.
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
    base = PathNetClassifier(**(params or {}))
    base._check_params()
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
        log(f"  frozen modules per layer: {[m.tolist() for m in transferred.frozen_modules_]}"
            f" ({source_seconds:.0f} s)")
        log(f"transfer -> {target}, {n_folds} folds ...")
        res = evaluate(transferred, X, y, groups, cv=cv, log=log,
                       checkpoint=None if parts is None else parts / "transfer")
        res["source_seconds"] = source_seconds
        res["source_paths"] = [p.tolist() for p in transferred.source_paths_]
        res["source_fitness"] = transferred.source_fitness_
        results["methods"]["transfer"] = res
    if "scratch" in methods:
        log(f"scratch on {target}, {n_folds} folds ...")
        results["methods"]["scratch"] = evaluate(
            base, X, y, groups, cv=cv, log=log,
            checkpoint=None if parts is None else parts / "scratch")
    results["seconds"] = time.perf_counter() - t_start
    return results


def _describe_rows(X):
    if is_clips(X):
        return f"{sum(len(c) for c in X)} segments/frames"
    return f"{X.shape[1]} features per clip"
