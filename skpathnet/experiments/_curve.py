"""Learning curves: transfer against scratch and its peers as the target's training data shrinks.

Transfer is for small target corpora. A learning curve keeps every test
speaker of a leave-one-speaker-out evaluation and trains each fold on less
of the other speakers' data: on ``K`` of them drawn at random
(:class:`~skpathnet.model_selection.FewTrainingGroups`, ``unit="speakers"``)
or on ``n`` clips of each emotion drawn from all of them
(:class:`~skpathnet.model_selection.FewTrainingClips`, ``unit="clips"``),
several seeded draws per size, every method on the same draws:

1. :func:`load_experiment` and :func:`extract_experiment`, as for a transfer
   experiment;
2. :func:`fit_sources`: the source phase of each transfer method, once;
3. for each size, :func:`~skpathnet.experiments.evaluate_methods` on the
   draws of that size chained into one cross-validator, each transfer
   method's fitted model cloned for every fold (one evaluation code path
   with :func:`run_transfer_experiment`).

:func:`run_curve_experiment` runs them all; :func:`learning_curve` runs steps
2-3 on features already extracted; :func:`format_curve_markdown` and
:func:`save_curve_results` write the report, and
:func:`~skpathnet.plotting.plot_learning_curve` draws it.
"""

import contextlib
import json
import time
from pathlib import Path

import numpy as np
from joblib import Memory
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import LeaveOneGroupOut
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from .._classifier import PathNetClassifier
from ..utils._clips import is_clips
from ..model_selection import FewTrainingClips, FewTrainingGroups
from . import _checkpoint
from ._corpora import check_speaker_norm
from ._evaluate import evaluate_methods
from ._report import _normalisation, fold_mean_std, paired_difference, write_json
from ._transfer import (
    Method, _config_params, _log, _resolve_methods, extract_experiment, fit_sources,
    load_experiment, resolve_sources,
)

__all__ = ["CURVE_SIZES", "curve_methods", "format_curve_markdown", "learning_curve",
           "linear_svm", "run_curve_experiment", "save_curve_results"]

#: Default sizes of each unit of :func:`run_curve_experiment`: training speakers
#: per fold, or training clips per emotion; ``"all"``: every other speaker's clips
#: (leave-one-speaker-out).
CURVE_SIZES = {"speakers": (1, 2, 4, "all"), "clips": (1, 2, 5, 10, "all")}

_WHAT = {"speakers": "training speakers", "clips": "training clips per emotion"}


class _ClipRows(TransformerMixin, BaseEstimator):
    """One row per clip: clips (face crops, segments) become their segments' mean, flattened.

    A class rather than a ``FunctionTransformer``, whose repr holds the
    function's memory address: a checkpoint's settings must read the same
    in the process that resumes it.
    """

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        if is_clips(X):
            return np.stack([np.asarray(clip, dtype=np.float32).mean(0).ravel() for clip in X])
        return X


def linear_svm(C=1e-2):
    """The linear-SVM peer: standardised features, then a linear SVM (one-vs-rest scores).

    The peer of ``benchmarks/bench_accuracy.py`` (``functionals-svm-norm``
    on speaker-normalised features): ``C`` barely matters where clips are
    fewer than features. Clips of several segments or images (log-mel,
    face crops) are first averaged over their segments and flattened.

    Parameters
    ----------
    C : float, default=0.01

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
    """
    return make_pipeline(_ClipRows(), StandardScaler(), SVC(kernel="linear", C=C))


def curve_methods(params=None, *, finetune=None, svm_C=1e-2, random_state=0, n_threads=None):
    """The four methods of a learning curve, by name.

    Parameters
    ----------
    params : dict, default=None
        :class:`~skpathnet.PathNetClassifier` parameters of both PathNet
        methods (e.g. ``BEST_AUDIO["params"]``).
    finetune : dict, default=None
        :class:`~skpathnet.baselines.FineTuneClassifier` parameters (its
        defaults otherwise: an MLP of a paper pathway's capacity).
    svm_C : float, default=0.01
        :func:`linear_svm`'s ``C``.
    random_state : int, default=0
        Seed of the PathNet and fine-tuning networks (the same for every fold
        and draw: the draws alone vary).
    n_threads : int, default=None
        Torch threads of each network.

    Returns
    -------
    methods : dict of str -> Method
        ``"transfer"`` (PathNet, pretrained on the sources),
        ``"scratch"`` (PathNet, target only), ``"finetune"`` (cascaded
        fine-tuning of an MLP pretrained on the sources) and ``"svm"``
        (:func:`linear_svm`, target only).
    """
    from ..baselines import FineTuneClassifier

    pathnet = {**(params or {}), "random_state": random_state, "n_threads": n_threads}
    return {
        "transfer": Method(PathNetClassifier(**pathnet), transfer=True),
        "scratch": Method(PathNetClassifier(**pathnet)),
        "finetune": Method(FineTuneClassifier(
            **{"random_state": random_state, "n_threads": n_threads, **(finetune or {})}),
            transfer=True),
        "svm": Method(linear_svm(svm_C)),
    }


class _Draws:
    """The folds of several cross-validators one after the other (the draws of one size)."""

    def __init__(self, splitters):
        self.splitters = list(splitters)

    def split(self, X, y=None, groups=None):
        for splitter in self.splitters:
            yield from splitter.split(X, y, groups)

    def get_n_splits(self, X=None, y=None, groups=None):
        return sum(s.get_n_splits(X, y, groups) for s in self.splitters)

    def __repr__(self):
        return f"{len(self.splitters)} draws: {self.splitters[0]!r}, ..."


def _check_sizes(unit, sizes):
    """``unit`` and ``sizes`` checked (cheap, before any work); the sizes as a tuple."""
    if unit not in CURVE_SIZES:
        raise ValueError(f"unit must be 'speakers' or 'clips'; got {unit!r}.")
    sizes = CURVE_SIZES[unit] if sizes is None else tuple(sizes)
    if not sizes:
        raise ValueError("sizes is empty: give at least one size.")
    for size in sizes:
        if not (size == "all" or (isinstance(size, (int, np.integer))
                                  and not isinstance(size, (bool, np.bool_)) and size >= 1)):
            raise ValueError(f"each size must be a positive integer or 'all'; got {size!r}.")
    return sizes


def _resolve_sizes(unit, sizes, y, groups):
    """The sizes in increasing order, each distinct, those that train on everything as "all".

    ``K`` training speakers with ``K`` at least the number of speakers minus
    one, or ``n`` clips per emotion with ``n`` at least every fold's largest
    class, are leave-one-speaker-out: they become ``"all"``.
    """
    names = np.unique(groups)
    if unit == "speakers":
        limit = len(names) - 1
    else:
        limit = max(int(np.max(np.unique(y[groups != name], return_counts=True)[1]))
                    for name in names)
    kept = sorted({int(s) for s in sizes if s != "all" and s < limit})
    if any(s == "all" or s >= limit for s in sizes):
        kept.append("all")
    return kept


def _splitter(unit, size, seed):
    if size == "all":
        return LeaveOneGroupOut()
    if unit == "speakers":
        return FewTrainingGroups(size, random_state=seed)
    return FewTrainingClips(size, random_state=seed)


def _size_name(unit, size):
    return f"{unit}-{size}"


def learning_curve(methods, data, *, unit="speakers", sizes=None, n_draws=3, random_state=0,
                   reference="transfer", fits=None, fold_jobs=None, client=None, checkpoint=None,
                   log=None):
    """Steps 2 and 3 of a learning curve, on features already extracted.

    Parameters
    ----------
    methods : dict of str -> Method
        E.g. :func:`curve_methods`; the transfer ones need ``fit_transfer``.
    data : ExperimentData
        From :func:`extract_experiment` (or built by hand).
    unit : {"speakers", "clips"}, default="speakers"
        Train each fold on ``size`` other speakers drawn at random
        (:class:`~skpathnet.model_selection.FewTrainingGroups`), or on
        ``size`` clips of each emotion drawn from all other speakers
        (:class:`~skpathnet.model_selection.FewTrainingClips`).
    sizes : sequence of int or "all", default=None
        :data:`CURVE_SIZES` of ``unit`` by default. A size that trains on
        everything (``K`` >= the speakers but one; ``n`` >= every fold's
        largest class) is ``"all"``, leave-one-speaker-out.
    n_draws : int, default=3
        Draws per size, draw ``d`` seeded ``random_state + d`` at every
        size: the training speakers (clips) of a smaller size are then
        part of those of a larger one in the same draw, so that the curve
        compares nested training sets. ``"all"`` has one draw (every draw
        would be the same).
    random_state : int, default=0
        Seed of the first draw.
    reference : str or None, default="transfer"
        The method compared with each other method, test speaker by test
        speaker pooled over the draws (:func:`paired_difference`); None,
        or a name not in ``methods``: no comparison.
    fits : dict of str -> SourceFit, default=None
        The source phases of the transfer methods, if already fitted
        (:func:`fit_sources`); otherwise fitted here.
    fold_jobs, client
        As for :func:`evaluate_methods` (``n_jobs``, ``client``).
    checkpoint : str or path-like, default=None
        Folder where each source phase (``source-<method>.npz``) and each
        finished fold (``<unit>-<size>-<method>/``) is saved as it is done,
        and loaded from on a second call (see :func:`evaluate`); the
        caller makes sure the folder belongs to this run
        (:func:`run_curve_experiment` does).
    log : callable, default=None

    Returns
    -------
    results : dict
        JSON-serialisable: ``unit``, ``sizes`` (as run), ``n_draws``,
        ``random_state``, ``reference``, ``params`` (per method),
        ``source_seconds`` (per transfer method) and ``curve``, one entry
        per size: ``size``, ``x`` (the size as a number: for ``"all"``,
        the speakers but one, or the mean training clips per emotion),
        ``n_draws``, ``n_folds``, ``train_clips`` (mean training clips per
        fold), ``cv``, ``methods`` (per method, what :func:`evaluate`
        returns, pooled over the draws; each fold record also has its
        ``draw`` and ``n_train_clips``) and ``paired`` (per other method,
        ``"<reference> - <method>"``: ``WAR`` and ``UAR``, the fields of
        :class:`PairedDifference` over every test speaker of every draw).

    Raises
    ------
    ValueError
        If ``unit``, ``sizes`` or ``n_draws`` is invalid.
    """
    sizes = _check_sizes(unit, sizes)
    if isinstance(n_draws, (bool, np.bool_)) or not isinstance(n_draws, (int, np.integer)) \
            or n_draws < 1:
        raise ValueError(f"n_draws must be a positive integer; got {n_draws!r}.")
    X, y, groups = data.corpora[data.target]
    sizes = _resolve_sizes(unit, sizes, y, groups)
    parts = None if checkpoint is None else Path(checkpoint)
    transfer = [name for name, m in methods.items() if m.transfer]
    if fits is None:
        fits = fit_sources(
            {name: methods[name].estimator for name in transfer}, data, log=log,
            checkpoints={name: None if parts is None else
                         parts / f"source-{name}{_checkpoint.SUFFIX}" for name in transfer})
    estimators = {name: fits[name].estimator if m.transfer else m.estimator
                  for name, m in methods.items()}
    results = {
        "unit": unit, "sizes": list(sizes), "n_draws": int(n_draws),
        "random_state": int(random_state),
        "reference": reference if reference in methods else None,
        # JSON values as they are, anything else (a pipeline's steps) by its repr
        "params": {name: json.loads(json.dumps(m.estimator.get_params(), default=repr))
                   for name, m in methods.items()},
        "source_seconds": {name: fits[name].seconds for name in transfer},
        "curve": [],
    }
    for size in sizes:
        draws = 1 if size == "all" else n_draws
        cv = _Draws(_splitter(unit, size, random_state + d) for d in range(draws))
        splits = list(cv.split(X, y, groups))
        per_draw = len(splits) // draws
        _log(log, f"{size} {_WHAT[unit]}: {draws} draw{'s' if draws > 1 else ''} x "
                  f"{per_draw} test speakers, {len(methods)} methods ...")
        scored = evaluate_methods(
            estimators, X, y, groups, cv=cv, log=log, n_jobs=fold_jobs, client=client,
            checkpoints={m: None if parts is None else parts / f"{_size_name(unit, size)}-{m}"
                         for m in estimators})
        for res in scored.values():
            for record, (train, _) in zip(res["folds"], splits):
                record["draw"] = record["fold"] // per_draw
                record["n_train_clips"] = int(len(train))
        if size != "all":
            x = float(size)
        elif unit == "speakers":
            x = float(len(np.unique(groups)) - 1)
        else:  # mean over folds of the training clips per emotion present
            x = float(np.mean([len(train) / len(np.unique(y[train])) for train, _ in splits]))
        entry = {"size": size, "x": x, "n_draws": draws, "n_folds": len(splits),
                 "train_clips": float(np.mean([len(train) for train, _ in splits])),
                 "cv": repr(cv.splitters[0]) if draws == 1 else repr(cv),
                 "methods": scored, "paired": {}}
        if results["reference"] is not None:
            ref = scored[reference]["folds"]
            for name, res in scored.items():
                if name != reference:
                    entry["paired"][f"{reference} - {name}"] = {
                        key: paired_difference(ref, res["folds"], f"clip_{key}")._asdict()
                        for key in ("WAR", "UAR")}
        results["curve"].append(entry)
        _log(log, f"{size} {_WHAT[unit]}: " + ", ".join(
            f"{name} {res['clip']['WAR']:.3f}" for name, res in scored.items())
            + " (pooled clip WAR)")
    return results


def run_curve_experiment(sources, target, *, unit="speakers", sizes=None, n_draws=3,
                         methods=None, params=None, finetune=None, random_state=0,
                         n_threads=None, reference="transfer", features="functionals",
                         speaker_norm="auto", data_home=None, cache=None, n_jobs=None,
                         fold_jobs=None, client=None, checkpoint=None, resume=False,
                         allow_overlap=False, log=print):
    """A learning curve of ``target`` with ``sources``: every method on the same draws.

    Everything that can be checked is checked before features are
    extracted: the sizes, the methods, the corpora and the checkpoint.

    Parameters
    ----------
    sources : list of str or "all"
        Source corpora, learnt in order; ``"all"``: every other built-in
        corpus of the target's modality under the data home, largest first
        (leave-one-corpus-out, :func:`other_corpora`).
    target : str
        Target corpus (a key of :data:`CORPORA`, a manifest or a folder).
    unit, sizes, n_draws, random_state, reference
        As for :func:`learning_curve`.
    methods : dict of str -> Method, default=None
        The methods; None: :func:`curve_methods` with ``params``,
        ``finetune``, ``random_state`` and ``n_threads``.
    params, finetune, n_threads
        For :func:`curve_methods` (ignored with ``methods``).
    features, speaker_norm, data_home, cache, n_jobs
        As for :func:`run_transfer_experiment` (the defaults are the main
        job's: librosa functionals, ``speaker_norm="auto"``).
    fold_jobs, client
        As for :func:`evaluate_methods` (``n_jobs``, ``client``).
    checkpoint : str or path-like, default=None
        Folder where the run is saved as it goes (``config.json``, the
        source phases, every finished fold: :func:`learning_curve`), so that
        ``resume=True`` continues an interrupted run with the same settings
        and data (refused otherwise).
    resume : bool, default=False
    allow_overlap : bool, default=False
        As for :func:`load_experiment`.
    log : callable, default=print

    Returns
    -------
    results : dict
        JSON-serialisable: ``sources``, ``target``, ``modality``,
        ``features``, ``speaker_norm``, ``normalised``, ``n_clips``,
        ``n_groups``, ``seconds`` (the whole run) and what
        :func:`learning_curve` returns.

    Raises
    ------
    ValueError
        If a size, ``n_draws``, a method or ``speaker_norm`` is invalid, a
        corpus is unknown, the corpora mix modalities or share files, or
        ``checkpoint`` holds another run.
    FileNotFoundError
        If a corpus is missing.
    """
    t_start = time.perf_counter()
    sizes = _check_sizes(unit, sizes)
    speaker_norm = check_speaker_norm(speaker_norm)
    if methods is None:
        methods = curve_methods(params, finetune=finetune, random_state=random_state,
                                n_threads=n_threads)
    methods, _ = _resolve_methods(methods, None, None)
    sources = resolve_sources(sources, target, data_home=data_home, log=log)
    corpora = load_experiment(sources, target, data_home=data_home,
                              allow_overlap=allow_overlap, log=log)
    memory = Memory(cache, verbose=0) if cache else None
    with contextlib.ExitStack() as stack:
        if checkpoint is not None:
            stack.enter_context(_checkpoint.lock(checkpoint))
            resumed = _checkpoint.open_checkpoint(checkpoint, {
                "sources": list(sources), "target": target, "unit": unit,
                "sizes": [str(s) for s in sizes], "n_draws": n_draws,
                "random_state": random_state, "features": features,
                "speaker_norm": speaker_norm,
                "methods": {name: {"estimator": type(m.estimator).__name__,
                                   "transfer": m.transfer,
                                   "params": _config_params(m.estimator)}
                            for name, m in methods.items()},
                "data": _checkpoint.fingerprint(corpora.bunches),
            }, resume=resume)
            if resumed:
                _log(log, f"resuming from {checkpoint}: "
                          f"{_checkpoint.describe_saved(checkpoint)} saved")
        data = extract_experiment(corpora, features=features, speaker_norm=speaker_norm,
                                  n_jobs=n_jobs, memory=memory, log=log)
        curve = learning_curve(methods, data, unit=unit, sizes=sizes, n_draws=n_draws,
                               random_state=random_state, reference=reference,
                               fold_jobs=fold_jobs, client=client, checkpoint=checkpoint,
                               log=log)
    X, _, groups = data.corpora[target]
    return {
        "sources": list(sources), "target": target, "modality": data.modality,
        "features": features, "speaker_norm": speaker_norm,
        "normalised": list(data.normalised), "n_clips": int(len(X)),
        "n_groups": int(len(np.unique(groups))), **curve,
        "seconds": time.perf_counter() - t_start,
    }


def _fmt_p(p):
    return "n/a" if np.isnan(p) else (f"{p:.3f}" if p >= 0.001 else f"{p:.1e}")


def format_curve_markdown(results):
    """Render :func:`run_curve_experiment` results as Markdown tables.

    The first table has one row per size and method: the pooled clip WAR
    and UAR over every fold of every draw, the mean ± standard deviation of
    the per-fold WAR, and the time; the second the reference method minus
    each other method, test speaker by test speaker pooled over the draws
    (mean ± std of the per-fold difference, folds ahead / level / behind,
    Wilcoxon signed-rank p).
    """
    unit = results["unit"]
    who = "speakers" if results.get("modality", "audio") == "audio" else "subjects"
    what = _WHAT[unit] if who == "speakers" else _WHAT[unit].replace("speakers", "subjects")
    sources = " + ".join(results.get("sources", []))
    lines = [
        f"## {sources} -> {results.get('target', '?')}: learning curve over {what} "
        f"(leave-one-{who[:-1]}-out, {results.get('n_groups', '?')} {who}, "
        f"{results['n_draws']} draws per size)",
        "",
        f"Features: {results.get('features', '?')}"
        + (_normalisation(results) if "normalised" in results else "")
        + f"; {results.get('n_clips', '?')} clips; draws seeded from {results['random_state']}"
        + (f"; total {results['seconds']:.0f} s." if "seconds" in results else "."),
        "",
        f"| {what} | draws x folds | training clips per fold | method | WAR | UAR | "
        "WAR per fold | time (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for entry in results["curve"]:
        size = _size_label(entry)
        for name, res in entry["methods"].items():
            mean, std = fold_mean_std(res["folds"], "clip_WAR")
            lines.append(
                f"| {size} | {entry['n_draws']} x {entry['n_folds'] // entry['n_draws']} | "
                f"{entry['train_clips']:.0f} | {name} | {res['clip']['WAR']:.3f} | "
                f"{res['clip']['UAR']:.3f} | {mean:.3f} ± {std:.3f} | {res['seconds']:.0f} |")
    seconds = results.get("source_seconds") or {}
    if seconds:
        lines += ["", "Source phases (once, cloned for every fold): " + ", ".join(
            f"{name} {s:.0f} s" for name, s in seconds.items()) + "."]
    reference = results.get("reference")
    if reference is not None:
        lines += ["", f"{reference} against each method, {who[:-1]} by {who[:-1]} pooled over "
                  "the draws (clip level; mean ± std of the per-fold difference, folds ahead / "
                  "level / behind, Wilcoxon signed-rank p):", "",
                  f"| {what} | comparison | WAR difference | folds (WAR) | p (WAR) | "
                  "UAR difference | p (UAR) |",
                  "|---|---|---|---|---|---|---|"]
        for entry in results["curve"]:
            for name, diff in entry["paired"].items():
                war, uar = diff["WAR"], diff["UAR"]
                lines.append(
                    f"| {_size_label(entry)} | {name} | {war['mean']:+.3f} ± {war['std']:.3f} | "
                    f"{war['wins']} / {war['ties']} / {war['losses']} | "
                    f"{_fmt_p(war['p_value'])} | {uar['mean']:+.3f} ± {uar['std']:.3f} | "
                    f"{_fmt_p(uar['p_value'])} |")
    return "\n".join(lines) + "\n"


def _size_label(entry):
    return f"all ({entry['x']:.0f})" if entry["size"] == "all" else str(entry["size"])


def save_curve_results(results, out_dir, stem, *, predictions=True):
    """Write ``<out_dir>/<stem>.json`` and ``<stem>.md``; return both paths.

    ``predictions=False`` leaves out each method's pooled out-of-fold
    ``predictions`` (nearly all of the file) from the JSON.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if not predictions:
        results = {**results, "curve": [
            {**entry, "methods": {name: {k: v for k, v in res.items() if k != "predictions"}
                                  for name, res in entry["methods"].items()}}
            for entry in results["curve"]]}
    json_path, md_path = out / f"{stem}.json", out / f"{stem}.md"
    write_json(json_path, results)
    md_path.write_text(format_curve_markdown(results))
    return json_path, md_path
