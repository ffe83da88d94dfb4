"""From a report to a model: pretrain, fit a final model, label new recordings.

The CLI's ``pretrain``, ``fit`` and ``predict`` commands are these
functions:

* :func:`pretrain`: ``fit_transfer`` on source corpora; the result is a
  pretrained pathway library (a :class:`~sklearn.pipeline.Pipeline` of the
  front end and the transfer-fitted :class:`~skpathnet.PathNetClassifier`),
  to save with :func:`skpathnet.save`;
* :func:`fit_final`: the final model trained on a whole target corpus, from
  sources or from a pretrained model, front end and speaker normalisation
  included, optionally with its leave-one-speaker-out evaluation;
* :func:`predict_files`: labels for audio, video or image files, each
  speaker normalised with its own clips, one bad file reported without
  stopping the others.
"""

import csv
import io
import json
import re
import time
import warnings
from pathlib import Path
from typing import NamedTuple, Optional

import numpy as np
from joblib import Memory, Parallel, delayed
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from .._classifier import PathNetClassifier
from ..utils._clips import is_clips
from ..datasets import AUDIO_EXTENSIONS, VISUAL_EXTENSIONS
from ..transformers import GroupStandardScaler
from ._corpora import (
    check_speaker_norm, describe_corpus, extract_features, front_end, load_corpora,
    speaker_norm_applies,
)
from ._evaluate import evaluate
from ._integrity import file_digest
from ._transfer import load_experiment

__all__ = ["Prediction", "collect_inputs", "fit_final",
           "format_description", "format_predictions", "predict_files", "pretrain"]

_EXTENSIONS = {"audio": AUDIO_EXTENSIONS, "visual": VISUAL_EXTENSIONS}


class Prediction(NamedTuple):
    """The prediction for one input file (:func:`predict_files`).

    Attributes
    ----------
    path : str
    label : str or None
        The predicted class; None where ``error``.
    proba : ndarray of shape (n_classes,) or None
        Class probabilities in the order of the model's classes.
    n_segments : int or None
        Segments (log-mel) or frames (video) averaged; 1 for functionals
        and images.
    group : str or None
        The speaker/subject whose statistics normalised it.
    error : str or None
        Why this file could not be predicted.
    """

    path: str
    label: Optional[str]
    proba: Optional[np.ndarray]
    n_segments: Optional[int]
    group: Optional[str]
    error: Optional[str]


# --------------------------------------------------------------------------- training


def _features(name, bunch, features, speaker_norm, n_jobs, memory, log):
    """``(X, normalised)`` of one corpus, logged."""
    t0 = time.perf_counter()
    normalised = speaker_norm_applies(bunch, speaker_norm)
    X = extract_features(name, bunch, features=features, speaker_norm=normalised,
                         n_jobs=n_jobs, memory=memory)
    _log(log, f"{describe_corpus(bunch)}: features in {time.perf_counter() - t0:.0f} s"
              f"{', speaker-normalised' if normalised else ''}")
    return X, normalised


def _describe_corpus(name, bunch, normalised, *, digests=False):
    """A corpus in a model's description; ``digests``: the SHA-256 of every file too."""
    out = {"name": str(getattr(bunch, "name", name)),
           "classes": [str(c) for c in np.unique(bunch.target)],
           "n_clips": int(len(bunch.target)),
           "n_groups": int(len(np.unique(bunch.groups))),
           "speaker_normalised": bool(normalised)}
    if digests:  # a later target is checked against them (fit --pretrained)
        out["content_sha256"] = sorted({file_digest(f) for f in bunch.filenames})
    return out


def _portable(front):
    """A clone of ``front`` with every ``memory`` and ``n_jobs`` of it and its steps set to
    None: what a model file keeps (no cache folder or worker count of this machine), and
    what reads one file at a time when predicting."""
    front = clone(front)
    return front.set_params(**{k: None for k in front.get_params()
                               if k.split("__")[-1] in ("memory", "n_jobs")})


def pretrain(sources, *, features, speaker_norm, params, data_home=None, n_jobs=None,
             cache=None, corpus_options=None, pretrained=None, log=None):
    """``fit_transfer`` on source corpora: a pretrained model and its description.

    Parameters
    ----------
    sources : list of str
        Built-in corpus names, manifests or folders (:func:`load_corpus`),
        learnt in order.
    features : str
        Front end (:func:`front_end`).
    speaker_norm : bool or "auto"
        Per corpus, as :func:`speaker_norm_applies`.
    params : dict
        :class:`~skpathnet.PathNetClassifier` parameters.
    data_home, n_jobs, cache
        Corpora folder, feature-extraction workers, joblib cache folder
        (None: none).
    corpus_options : dict, default=None
        For users' corpora (:func:`load_corpus`: ``label_pattern``,
        ``group_pattern``, ``label_map``, ``keep_labels``, ``fold_groups``,
        ``modality``).
    pretrained : tuple of (Pipeline, dict), default=None
        A pretrained model and its description (:func:`skpathnet.load`,
        :func:`skpathnet.io.read_info`) to add these sources to
        (``fit_transfer(..., append=True)``); its front end, speaker
        normalisation and PathNet parameters are kept, and ``features``,
        ``speaker_norm`` and ``params`` are ignored.
    log : callable, default=None

    Returns
    -------
    model : Pipeline
        ``[("front_end", ...), ("pathnet", PathNetClassifier)]``, the
        classifier fitted by ``fit_transfer`` only.
    info : dict
        What :func:`skpathnet.save` keeps beside it: ``kind``
        ("pretrained"), ``modality``, ``features``, ``speaker_norm`` and
        ``sources`` (name, classes, clips, speakers, whether normalised,
        SHA-256 of every file: a later target is checked against them).

    Raises
    ------
    ValueError, FileNotFoundError
        As :func:`load_corpus`, for an invalid parameter, or corpora of
        mixed modalities (before any feature is extracted).
    """
    if pretrained is not None:
        model, old = pretrained
        features, speaker_norm = old["features"], old["speaker_norm"]
    speaker_norm = check_speaker_norm(speaker_norm)
    bunches = load_corpora(sources, data_home=data_home, corpus_options=corpus_options)
    modality = next(iter(bunches.values())).modality
    if pretrained is not None:
        if old["modality"] != modality:
            raise ValueError(f"the pretrained model is for {old['modality']} corpora, "
                             f"but {', '.join(sources)} are {modality}.")
        clf = model[-1]
    else:
        clf = PathNetClassifier(**params)
        clf._check_params()
    memory = Memory(cache, verbose=0) if cache else None
    Xs, ys, described = [], [], []
    for name, bunch in bunches.items():
        X, normalised = _features(name, bunch, features, speaker_norm, n_jobs, memory, log)
        Xs.append(X)
        ys.append(np.asarray(bunch.target))
        described.append(_describe_corpus(name, bunch, normalised, digests=True))
    t0 = time.perf_counter()
    _log(log, f"fit_transfer on {' + '.join(bunches)} ...")
    clf.fit_transfer(Xs, ys, append=pretrained is not None)
    _log(log, f"  frozen modules per layer: {[m.tolist() for m in clf.frozen_modules_]} "
              f"({time.perf_counter() - t0:.0f} s)")
    previous = [] if pretrained is None else list(old["sources"])
    info = {"kind": "pretrained", "modality": modality, "features": features,
            "speaker_norm": speaker_norm, "sources": previous + described,
            "source_seconds": time.perf_counter() - t0}
    front = model[0] if pretrained is not None else front_end(sources[0], features=features,
                                                                  modality=modality)
    return Pipeline([("front_end", _portable(front)), ("pathnet", clf)]), info


def fit_final(target, *, sources=None, pretrained=None, features=None, speaker_norm="auto",
              params=None, evaluate_model=False, cv=None, data_home=None, n_jobs=None,
              cache=None, corpus_options=None, allow_overlap=False, log=None):
    """The final model trained on the whole ``target``, and its description.

    Give ``sources`` (learnt first, as :func:`pretrain`) or ``pretrained``
    (a model from :func:`pretrain`: transfer with no source data on this
    machine), or neither (trained from scratch).

    Parameters
    ----------
    target : str
        Built-in corpus name, manifest or folder.
    sources : list of str, default=None
    pretrained : tuple of (Pipeline, dict), default=None
        A pretrained model and its description; its front end, speaker
        normalisation and parameters are used (``features``,
        ``speaker_norm`` and ``params`` are then ignored).
    features, speaker_norm, params
        As for :func:`pretrain`.
    evaluate_model : bool, default=False
        Also run the leave-one-speaker-out evaluation (``cv``) of the same
        transfer on the target (:func:`evaluate`) and keep its summary.
    cv : cross-validator, default=LeaveOneGroupOut()
    data_home, n_jobs, cache, corpus_options, log
        As for :func:`pretrain`.
    allow_overlap : bool, default=False
        Fit even if the target shares files (by path or content) with a
        source; refused otherwise.

    Returns
    -------
    model : Pipeline
        ``front_end``, ``speaker_norm`` (a
        :class:`~skpathnet.transformers.GroupStandardScaler` with
        ``shrinkage``, when the target is speaker-normalised: new speakers
        are then normalised with their own clips' statistics shrunk towards
        the target speakers', :func:`predict_files`) and ``pathnet``.
    info : dict
        ``kind`` ("model"), ``modality``, ``features``, ``speaker_norm``,
        ``sources`` (as :func:`pretrain`), ``target`` (name, classes, clips,
        speakers, whether normalised), ``fit_seconds`` and, with
        ``evaluate_model``, ``evaluation`` (protocol, folds, pooled clip
        WAR, UAR, UAP and each fold's).

    Raises
    ------
    ValueError
        As :func:`pretrain`; if both ``sources`` and ``pretrained`` are
        given, the target is of another modality than the pretrained model,
        or it shares files with a source (without ``allow_overlap``).
    """
    if sources and pretrained is not None:
        raise ValueError("give sources or a pretrained model, not both.")
    if pretrained is not None:
        model, old = pretrained
        features, speaker_norm = old["features"], old["speaker_norm"]
        clf, described = model[-1], list(old["sources"])
    speaker_norm = check_speaker_norm(speaker_norm)
    names = list(sources or [])
    if names:
        corpora = load_experiment(names, target, data_home=data_home,
                                  allow_overlap=allow_overlap, log=log,
                                  **(corpus_options or {}))
        bunches = corpora.bunches
    else:
        bunches = load_corpora([target], data_home=data_home, corpus_options=corpus_options)
    bunch = bunches[target]
    modality = bunch.modality
    if pretrained is not None:
        if old["modality"] != modality:
            raise ValueError(f"the pretrained model is for {old['modality']} corpora, but "
                             f"{target} is {modality}.")
        _check_pretrained_overlap(bunch, described, allow_overlap, log)
    elif not names:
        clf, described = PathNetClassifier(**params), []
        clf._check_params()
    memory = Memory(cache, verbose=0) if cache else None
    t0 = time.perf_counter()
    if names:
        trained = pretrain(names, features=features, speaker_norm=speaker_norm, params=params,
                           data_home=data_home, n_jobs=n_jobs, cache=cache,
                           corpus_options=corpus_options, log=log)
        clf, described = trained[0][-1], trained[1]["sources"]
    X, normalised = _features(target, bunch, features, False, n_jobs, memory, log)
    y, groups = np.asarray(bunch.target), np.asarray(bunch.groups)
    normalised = speaker_norm_applies(bunch, speaker_norm)
    scaler = None
    if normalised:  # exactly extract_features' normalisation, plus the prior of new speakers
        scaler = GroupStandardScaler(shrinkage=True).fit(X, y, groups=groups)
        X = scaler.transform(X, groups=groups)
        _log(log, f"{target}: speaker-normalised")
    info = {"kind": "model", "modality": modality, "features": features,
            "speaker_norm": speaker_norm, "sources": described,
            "target": _describe_corpus(target, bunch, normalised)}
    if evaluate_model:
        _log(log, f"leave-one-{'speaker' if modality == 'audio' else 'subject'}-out "
                  f"evaluation on {target} ...")
        result = evaluate(clf, X, y, groups, cv=cv, log=log)
        info["evaluation"] = _summary(result, cv)
    _log(log, f"fit on all of {target} ({len(y)} clips) ...")
    final = clone(clf).fit(X, y)
    info["fit_seconds"] = time.perf_counter() - t0
    steps = [("front_end", _portable(front_end(target, features=features, modality=modality)))]
    if scaler is not None:
        steps.append(("speaker_norm", scaler))
    steps.append(("pathnet", final))
    return Pipeline(steps), info


def _check_pretrained_overlap(bunch, sources, allow_overlap, log):
    """Refuse a target that shares files (by content) with a pretrained model's sources."""
    known = {d for s in sources for d in s.get("content_sha256", ())}
    if not known:
        return
    shared = [f for f in bunch.filenames if file_digest(f) in known]
    if not shared:
        return
    what = (f"{len(shared)} of the {len(bunch.filenames)} files of {bunch.name} were learnt by "
            f"the pretrained model (same content as a file of its sources), e.g. "
            f"{', '.join(map(repr, map(str, shared[:3])))}")
    if allow_overlap:
        _log(log, f"warning: {what} (allow_overlap)")
        return
    raise ValueError(f"{what}: its evaluation would score clips learnt in the source phase. "
                     "Use a target that shares no file with the sources, or pass "
                     "--allow-overlap if that is intended.")


def _summary(result, cv):
    clip = result["clip"]
    return {"protocol": "leave-one-group-out" if cv is None else str(cv),
            "n_folds": len(result["folds"]),
            "clip_WAR": clip["WAR"], "clip_UAR": clip["UAR"], "clip_UAP": clip["UAP"],
            "folds": [{k: f[k] for k in ("group", "n_clips", "clip_WAR", "clip_UAR")}
                      for f in result["folds"]]}


# --------------------------------------------------------------------------- prediction


def collect_inputs(inputs, *, modality, group_pattern=None, single_group=False):
    """The files to predict, and each one's speaker/subject.

    Parameters
    ----------
    inputs : list of str
        Files, folders (searched recursively for the modality's
        extensions, sorted) and manifests (``.csv`` with a ``file`` column
        and optionally ``group``; relative paths are read from the
        manifest's folder).
    modality : {"audio", "visual"}
    group_pattern : str, default=None
        Regular expression with one named group, searched in each file's
        path (relative to the folder it was found in, as written in its
        manifest, else as given) for its speaker/subject, e.g. ``'^(?P<group>[^/]+)/'``.
    single_group : bool, default=False
        Every input is the same speaker/subject.

    Returns
    -------
    files : list of str
    groups : list of str or None
        None where no input says who is speaking.

    Raises
    ------
    ValueError
        If an input does not exist, a folder holds no file of the modality,
        a manifest has no ``file`` column, ``group_pattern`` is not a
        regular expression with one named group or does not match a file
        (the message names it), or both ``group_pattern`` and
        ``single_group`` are given.
    """
    if group_pattern is not None and single_group:
        raise ValueError("give a group pattern or 'one speaker', not both.")
    pattern = None
    if group_pattern is not None:
        try:
            pattern = re.compile(group_pattern)
        except re.error as exc:
            raise ValueError(f"--group-pattern {group_pattern!r} is not a regular expression "
                             f"({exc}).") from None
        if len(pattern.groupindex) != 1:
            raise ValueError(f"--group-pattern {group_pattern!r} needs exactly one named "
                             "group, e.g. '^(?P<group>[^/]+)/'.")
    files, groups, relatives = [], [], []
    for item in inputs:
        path = Path(item).expanduser()
        if path.is_dir():
            found = sorted(p for p in path.rglob("*")
                           if p.is_file() and p.suffix.lower() in _EXTENSIONS[modality])
            if not found:
                raise ValueError(f"the folder {item!r} holds no {modality} file "
                                 f"({', '.join(_EXTENSIONS[modality])}).")
            for p in found:
                files.append(str(p))
                relatives.append(p.relative_to(path).as_posix())
                groups.append(None)
        elif path.is_file() and path.suffix.lower() == ".csv":
            for f, written, g in _read_manifest(path):
                files.append(f)
                relatives.append(written)
                groups.append(g)
        elif path.is_file():
            files.append(str(path))
            relatives.append(str(item))
            groups.append(None)
        else:
            raise ValueError(f"no such file or folder: {item!r}.")
    if single_group:
        return files, ["1"] * len(files)
    if pattern is not None:
        for i, rel in enumerate(relatives):
            if groups[i] is None:
                match = pattern.search(rel)
                if match is None:
                    raise ValueError(f"--group-pattern {group_pattern!r} does not match "
                                     f"{rel!r}; every file needs its speaker/subject.")
                groups[i] = match.group(next(iter(pattern.groupindex)))
    if all(g is None for g in groups):
        return files, None
    missing = [f for f, g in zip(files, groups) if g is None]
    if missing:
        raise ValueError(f"{len(missing)} inputs have no speaker/subject (e.g. {missing[0]!r})"
                         " while others do: give --group-pattern, or a group column for "
                         "every manifest.")
    return files, [str(g) for g in groups]


def _read_manifest(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    if not rows or "file" not in rows[0]:
        raise ValueError(f"the manifest {str(path)!r} needs a 'file' column (and optionally "
                         "'group').")
    out = []
    for row in rows:
        written = row["file"].strip()
        f = Path(written).expanduser()
        if not f.is_absolute():
            f = path.parent / f
        group = (row.get("group") or "").strip() or None
        out.append((str(f), written, group))
    return out


def predict_files(model, files, *, groups=None, n_jobs=None, progress=False):
    """Label audio, video or image files with a fitted model (:func:`fit_final`).

    Each file goes through the model's front end on its own (``n_jobs``
    at once), so that one unreadable or too short file is reported in its
    ``error`` and the others are still predicted. With speaker
    normalisation, each speaker's (``groups``) files are standardised with
    their own statistics, shrunk towards the training speakers' (the
    scaler's ``shrinkage``): a speaker with many files as in training, a
    speaker with one file about as without normalisation (see
    benchmarks/RESULTS.md, "Speaker normalisation with few clips of a new
    speaker"). Speakers are always new to the model: a training speaker's
    name in ``groups`` does not select its training statistics.

    Parameters
    ----------
    model : Pipeline
        ``front_end``, optionally ``speaker_norm``, and a classifier.
    files : list of str
    groups : list of str, default=None
        The speaker/subject of each file. None with speaker normalisation:
        each file is its own speaker (never are unrelated files pooled).
    n_jobs : int, default=None
        Files read and featurised at once (joblib processes).
    progress : bool, default=False
        A progress bar (tqdm) over the files.

    Returns
    -------
    predictions : list of Prediction
        In the order of ``files``.

    Raises
    ------
    ValueError
        If ``groups`` has another length than ``files``, or the model
        normalises speakers without ``shrinkage`` and ``groups`` is None.
    """
    steps = dict(model.steps)
    front, scaler, clf = steps["front_end"], steps.get("speaker_norm"), model.steps[-1][1]
    if groups is not None and len(groups) != len(files):
        raise ValueError(f"groups has {len(groups)} entries for {len(files)} files.")
    shrunk = scaler is not None and getattr(scaler, "shrinkage", False)
    if scaler is not None and groups is None and not shrunk:
        raise ValueError(
            "this model standardises each speaker/subject with the statistics of its own "
            "clips, so it needs to know who speaks in each file: give --group-pattern REGEX "
            "(e.g. '^(?P<group>[^/]+)/' for <speaker>/<file>), a manifest with a 'group' "
            "column, or --one-speaker if every input is the same speaker."
        )
    front = _portable(front)
    jobs = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_featurise)(front, f) for f in files)
    if progress:
        from tqdm.auto import tqdm

        jobs = tqdm(jobs, total=len(files), desc="predict", unit="file")
    rows = list(jobs)
    errors = [error for _, error in rows]
    ok = [i for i, e in enumerate(errors) if e is None]
    if scaler is not None and not shrunk:
        counts = {}
        for i in ok:
            counts[groups[i]] = counts.get(groups[i], 0) + 1
        for i in ok:
            if counts[groups[i]] < 2:
                errors[i] = (f"speaker/subject {groups[i]!r} has 1 readable file; this model's "
                             "speaker normalisation needs at least 2")
        ok = [i for i in ok if errors[i] is None]
    out = [None] * len(files)
    if ok:
        X = _concatenate([rows[i][0] for i in ok])
        if scaler is not None:
            # every speaker is new (prefixed: no training speaker's statistics); without
            # groups, every file is its own speaker
            who = [f"new:{groups[i]}" if groups is not None else f"file:{i}" for i in ok]
            X = scaler.transform(X, groups=np.asarray(who))
        proba = clf.predict_proba(X)
        labels = clf.classes_[proba.argmax(1)]
        for k, i in enumerate(ok):
            n = len(X[k]) if is_clips(X) else 1
            out[i] = Prediction(files[i], str(labels[k]), proba[k], int(n),
                                None if groups is None else groups[i], None)
    for i, error in enumerate(errors):
        if error is not None:
            out[i] = Prediction(files[i], None, None, None,
                                None if groups is None else groups[i], error)
    return out


def _featurise(front, path):
    """``(front.transform([path]), None)`` or ``(None, error message)``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return front.transform([path]), None
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # one bad file must not stop the others
        return None, f"{type(exc).__name__}: {exc}"


def _concatenate(outputs):
    """The front end's outputs of single files as one: rows, or clips (an object array)."""
    if all(is_clips(out) for out in outputs):
        clips = np.empty(len(outputs), dtype=object)
        for i, out in enumerate(outputs):
            clips[i] = out[0]
        return clips
    return np.concatenate([np.asarray(out) for out in outputs])


def format_predictions(predictions, classes, fmt="csv"):
    """The predictions as CSV or JSON text.

    Parameters
    ----------
    predictions : list of Prediction
    classes : array-like of shape (n_classes,)
        The model's classes, in the order of ``Prediction.proba``.
    fmt : {"csv", "json"}, default="csv"
        CSV: a header, then one row per file: ``path``, ``label``, one
        ``p_<class>`` column per class (probabilities, 6 decimals),
        ``n_segments``, ``group``, ``error`` (empty where none). JSON: a list
        of objects with the same fields, ``proba`` a ``{class: p}`` object.

    Returns
    -------
    text : str
    """
    classes = [str(c) for c in classes]
    if fmt == "json":
        rows = [{"path": p.path, "label": p.label,
                 "proba": None if p.proba is None else
                 {c: round(float(v), 6) for c, v in zip(classes, p.proba)},
                 "n_segments": p.n_segments, "group": p.group, "error": p.error}
                for p in predictions]
        return json.dumps(rows, indent=1) + "\n"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["path", "label", *(f"p_{c}" for c in classes), "n_segments", "group",
                     "error"])
    for p in predictions:
        proba = [""] * len(classes) if p.proba is None else [f"{v:.6f}" for v in p.proba]
        writer.writerow([p.path, p.label or "", *proba,
                         "" if p.n_segments is None else p.n_segments, p.group or "",
                         p.error or ""])
    return out.getvalue()


def format_description(info):
    """A model file's description (:func:`skpathnet.io.read_info`) in lines of text."""
    kind = {"pretrained": "pretrained model (frozen pathways of its sources, no target yet)",
            "model": "model"}.get(info.get("kind"), info.get("estimator", "estimator"))
    lines = [f"skpathnet {kind}, {info.get('modality', '?')} "
             f"(format {info['format_version']}, {info.get('n_bytes', 0) / 1e6:.2f} MB, "
             f"written {info.get('created')} by skpathnet {info['versions']['skpathnet']}, "
             f"scikit-learn {info['versions']['scikit-learn']}, torch "
             f"{info['versions']['torch']})"]
    if "steps" in info:
        lines.append("steps: " + " -> ".join(f"{s['name']} ({s['type']})"
                                             for s in info["steps"]))
    if "features" in info:
        if info.get("kind") == "pretrained":  # decided for each target by `fit`
            norm = {True: "every corpus", False: "none",
                    "auto": "each corpus whose speakers cover its emotions"}.get(
                        info.get("speaker_norm"), str(info.get("speaker_norm")))
        else:
            norm = ("yes, each new speaker with its own clips (shrunk towards the training "
                    "speakers')" if info["speaker_normalisation"] else "no")
        lines.append(f"front end: {info['features']}; speaker normalisation: {norm}")
    if "classes" in info:
        lines.append(f"classes: {', '.join(map(str, info['classes']))}")
    for k, source in enumerate(info.get("sources", [])):
        name = source.get("name", f"source {k + 1}")
        detail = (f"{source['n_clips']} clips, {source['n_groups']} speakers/subjects, "
                  if "n_clips" in source else "")
        lines.append(f"source {k + 1}: {name} ({detail}classes "
                     f"{', '.join(map(str, source['classes']))})")
    if "target" in info:
        t = info["target"]
        lines.append(f"target: {t['name']} ({t['n_clips']} clips, {t['n_groups']} "
                     f"speakers/subjects, classes {', '.join(t['classes'])})")
    params = info.get("parameters", {})
    if params:
        keys = ("n_layers", "n_modules", "n_active", "n_units", "module", "population_size",
                "n_generations", "learning_rate", "n_steps", "random_state")
        lines.append("PathNet: " + ", ".join(f"{k}={params[k]}" for k in keys if k in params))
    if "evaluation" in info:
        e = info["evaluation"]
        lines.append(f"evaluation ({e['protocol']}, {e['n_folds']} folds): clip WAR "
                     f"{e['clip_WAR']:.3f}, UAR {e['clip_UAR']:.3f}, UAP {e['clip_UAP']:.3f}")
    if "command" in info:
        lines.append(f"made by: {info['command']}")
    return "\n".join(lines)


def _log(log, message):
    if log is not None:
        log(message)
