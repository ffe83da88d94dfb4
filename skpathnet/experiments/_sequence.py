"""Task sequences over corpora, scored as continual learning scores them (issue 31).

A sequence ``T0 -> T1 -> ... -> Tn`` of corpora (e.g. RAVDESS -> EMOVO ->
EMO-DB) is learnt one corpus at a time, each a task with its own label set
and output layer (``fit_transfer(..., append=True)`` of
:class:`~skpathnet.PathNetClassifier` or
:class:`~skpathnet.baselines.FineTuneClassifier`). Each corpus is split
once by speaker (subject) into training and test speakers
(:func:`speaker_split`); after each task every task learnt so far is scored
on its test split, which fills the accuracy matrix ``R``
(:func:`~skpathnet.metrics.accuracy_matrix`), and each task is also learnt
alone from scratch on the same split (``S``). From them: backward transfer
(forgetting, :func:`~skpathnet.metrics.backward_transfer`) and forward
transfer (:func:`~skpathnet.metrics.forward_transfer`).

- :func:`speaker_split`, :func:`sequence_tasks`: the splits;
- :func:`task_sequence`: any methods on prepared tasks (no I/O);
- :func:`prepare_sequence`: corpora -> features -> splits
  (:class:`SequenceData`);
- :func:`run_task_sequence`: :func:`prepare_sequence` then
  :func:`task_sequence`, with the run's settings;
- :func:`format_sequence_markdown`, :func:`save_sequence_results`: the
  report (JSON, Markdown, heat maps of ``R``).
"""

import inspect
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from joblib import Memory
from sklearn.base import clone
from sklearn.model_selection import GroupShuffleSplit

from ..utils._clips import is_clips
from ..metrics import (
    accuracy_matrix, backward_transfer, forward_transfer, uar_score, war_score,
)
from ._corpora import check_speaker_norm, load_corpora
from ._report import write_json
from ._transfer import ExperimentCorpora, extract_experiment

__all__ = ["SequenceData", "SequenceTask", "format_sequence_markdown", "plot_sequence",
           "prepare_sequence",
           "run_task_sequence", "save_sequence_results", "sequence_tasks", "speaker_split",
           "task_sequence"]


class SequenceTask(NamedTuple):
    """One corpus of a sequence: its rows, labels, speakers, and its speaker split."""

    name: str
    X: Any  # one row (or clip) per file
    y: np.ndarray
    groups: np.ndarray
    train: np.ndarray  # row indices of the training speakers
    test: np.ndarray  # row indices of the test speakers

    def train_data(self):
        """``(X, y)`` of the training speakers."""
        return _take(self.X, self.train), self.y[self.train]

    def test_data(self):
        """``(X, y)`` of the test speakers."""
        return _take(self.X, self.test), self.y[self.test]


def speaker_split(y, groups, *, test_size=0.25, random_state=0):
    """One fixed, seeded split of a corpus's speakers (subjects) into training and test.

    ``GroupShuffleSplit(n_splits=1, test_size=test_size,
    random_state=random_state)``: ``ceil(test_size * n_speakers)`` speakers,
    drawn at random, are the test speakers, every clip of a speaker on one
    side (RAVDESS: 6 of 24 actors at the default 0.25, EMOVO 2 of 6, EMO-DB
    3 of 10). The same ``random_state`` gives the same split, so every
    method, and the scratch baselines, see the same speakers.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
    groups : array-like of shape (n_samples,)
        The speaker (subject) of each sample.
    test_size : float, default=0.25
        Share of the speakers held out (rounded up).
    random_state : int, default=0

    Returns
    -------
    train, test : ndarray of int
        Sorted row indices.

    Raises
    ------
    ValueError
        If there are fewer than 2 speakers, or the training speakers hold
        fewer than 2 classes.
    """
    y, groups = np.asarray(y), np.asarray(groups)
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        raise ValueError(f"a speaker split needs at least 2 speakers/subjects; got {n_groups}.")
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=random_state)
    train, test = next(splitter.split(np.zeros((len(y), 1)), y, groups))
    if len(np.unique(y[train])) < 2:
        raise ValueError("the training speakers of the split hold fewer than 2 classes.")
    return np.sort(train), np.sort(test)


def sequence_tasks(data, order, *, test_size=0.25, random_state=0):
    """The tasks of a sequence: each corpus with its :func:`speaker_split`.

    Parameters
    ----------
    data : dict of str to Corpus
        ``(X, y, groups)`` per corpus (:class:`~skpathnet.experiments.Corpus`,
        e.g. ``ExperimentData.corpora``).
    order : sequence of str
        The corpora in learning order.
    test_size, random_state
        As for :func:`speaker_split` (the same for every corpus).

    Returns
    -------
    tasks : list of SequenceTask
    """
    tasks = []
    for name in order:
        X, y, groups = data[name]
        y, groups = np.asarray(y), np.asarray(groups)
        train, test = speaker_split(y, groups, test_size=test_size, random_state=random_state)
        tasks.append(SequenceTask(name, X, y, groups, train, test))
    return tasks


def task_sequence(tasks, methods, *, scratch=True, log=None):
    """Learn ``tasks`` one after another with each method; their accuracy matrices.

    For each method, a fresh copy of its estimator (:func:`sklearn.base.clone`
    without any transferred source) learns task ``i``'s training split with
    ``fit_transfer(X, y, append=i > 0)``; then every task ``j <= i`` is
    scored on its test split with ``predict_source(X, source=j)``, its own
    output layer: ``R[i, j]`` (clip accuracy, WAR; also UAR). ``R[i, j]``
    for ``j > i`` is undefined (no head for a task not yet learnt) and NaN.
    With ``scratch``, each task is also learnt alone by another fresh copy,
    ``fit_transfer`` on its training split only, and scored the same way:
    ``S[i]``, the baseline of forward transfer.

    Parameters
    ----------
    tasks : list of SequenceTask
        In learning order (:func:`sequence_tasks`); at least one.
    methods : dict of str to estimator
        Estimators whose ``fit_transfer`` takes ``append`` and that have
        ``predict_source`` (:class:`~skpathnet.PathNetClassifier`,
        :class:`~skpathnet.baselines.FineTuneClassifier`). They are not
        changed.
    scratch : bool, default=True
        Learn each task alone too (``S``, needed for FWT).
    log : callable, default=None

    Returns
    -------
    results : dict
        JSON-able, per method name: ``R`` and ``R_UAR`` (lists of rows,
        None where undefined), ``scratch`` and ``scratch_UAR`` (per task,
        or None), ``BWT``, ``FWT`` (None without scratch or with one task),
        ``BWT_UAR``, ``FWT_UAR``, ``ACC`` (mean of the last row, GEM's
        average accuracy), ``seconds`` (per task in the sequence),
        ``scratch_seconds``, ``estimator`` (class name) and ``params``.

    Raises
    ------
    TypeError
        If an estimator's ``fit_transfer`` takes no ``append``.
    ValueError
        If ``tasks`` is empty.
    """
    if not tasks:
        raise ValueError("a task sequence needs at least one task.")
    for name, estimator in methods.items():
        fit_transfer = getattr(estimator, "fit_transfer", None)
        if fit_transfer is None or "append" not in inspect.signature(fit_transfer).parameters:
            raise TypeError(
                f"methods[{name!r}] ({type(estimator).__name__}) needs fit_transfer(X, y, "
                "append=...) and predict_source to learn a sequence one task at a time."
            )
    test_y = [task.y[task.test] for task in tasks]
    out = {}
    for name, estimator in methods.items():
        model = _fresh(estimator)
        predictions, seconds = [], []
        for i, task in enumerate(tasks):
            _log(log, f"{name}: task {i} ({task.name}), {len(task.train)} training clips ...")
            t0 = time.perf_counter()
            model.fit_transfer(*task.train_data(), append=i > 0)
            seconds.append(time.perf_counter() - t0)
            predictions.append([model.predict_source(tasks[j].test_data()[0], source=j)
                                for j in range(i + 1)])
            row = accuracy_matrix(test_y[: i + 1], [p[: i + 1] for p in predictions])[i]
            _log(log, f"  {seconds[-1]:.0f} s; WAR after it: "
                      + ", ".join(f"{tasks[j].name} {row[j]:.3f}" for j in range(i + 1)))
        R = accuracy_matrix(test_y, predictions)
        R_uar = accuracy_matrix(test_y, predictions, score=uar_score)
        res = {"estimator": type(estimator).__name__,
               "params": _params(estimator), "R": _rows(R), "R_UAR": _rows(R_uar),
               "ACC": float(np.mean(R[-1])), "seconds": seconds,
               "scratch": None, "scratch_UAR": None, "scratch_seconds": None,
               "BWT": None, "FWT": None, "BWT_UAR": None, "FWT_UAR": None}
        if len(tasks) > 1:
            res["BWT"], res["BWT_UAR"] = backward_transfer(R), backward_transfer(R_uar)
        if scratch:
            S, S_uar, s_seconds = [], [], []
            for task in tasks:
                _log(log, f"{name}: {task.name} alone (scratch) ...")
                t0 = time.perf_counter()
                alone = _fresh(estimator).fit_transfer(*task.train_data())
                s_seconds.append(time.perf_counter() - t0)
                X_test, y_test = task.test_data()
                pred = alone.predict_source(X_test, source=0)
                S.append(war_score(y_test, pred))
                S_uar.append(uar_score(y_test, pred))
                _log(log, f"  {s_seconds[-1]:.0f} s; WAR {S[-1]:.3f}")
            res.update(scratch=S, scratch_UAR=S_uar, scratch_seconds=s_seconds)
            if len(tasks) > 1:
                res["FWT"] = forward_transfer(R, S)
                res["FWT_UAR"] = forward_transfer(R_uar, S_uar)
        _log(log, f"{name}: BWT {_signed(res['BWT'])}, FWT {_signed(res['FWT'])}, "
                  f"ACC {res['ACC']:.3f}")
        out[name] = res
    return out


@dataclass
class SequenceData:
    """The tasks of a sequence with how they were made (:func:`prepare_sequence`)."""

    tasks: list  # of SequenceTask, in learning order
    modality: str
    features: str
    speaker_norm: object  # True, False or "auto", as given
    normalised: list  # names of the speaker-normalised corpora
    split: str  # how each corpus was split

    def describe(self):
        """Per task: name, clip counts, training and test speakers, classes (JSON-able)."""
        return [{"name": task.name, "n_train": int(len(task.train)),
                 "n_test": int(len(task.test)),
                 "train_groups": sorted(str(g) for g in np.unique(task.groups[task.train])),
                 "test_groups": sorted(str(g) for g in np.unique(task.groups[task.test])),
                 "classes": [str(c) for c in np.unique(task.y)]} for task in self.tasks]


def prepare_sequence(corpora, *, features="functionals", speaker_norm="auto", test_size=0.25,
                     split_seed=0, data_home=None, cache=None, n_jobs=None, log=print):
    """The tasks of a sequence of corpora: features, then one speaker split per corpus.

    Visual built-in corpora keep the six emotions they share
    (:data:`~skpathnet.experiments.VISUAL_SHARED_EMOTIONS`), as in the
    transfer experiments.

    Parameters
    ----------
    corpora : sequence of str
        Corpora in learning order (keys of
        :data:`~skpathnet.experiments.CORPORA`, manifests or folders), at
        least two, each once, of one modality.
    features : str, default="functionals"
        Front end (:func:`~skpathnet.experiments.front_end`).
    speaker_norm : bool or "auto", default="auto"
        Speaker (subject) normalisation
        (:func:`~skpathnet.experiments.extract_features`); each speaker with
        its own statistics, so the split does not change it.
    test_size : float, default=0.25
        Share of each corpus's speakers in its test split
        (:func:`speaker_split`).
    split_seed : int, default=0
        Seed of every corpus's speaker split.
    data_home, cache, n_jobs
        Corpora folder, joblib feature cache folder, feature workers.
    log : callable, default=print

    Returns
    -------
    data : SequenceData

    Raises
    ------
    ValueError
        If fewer than two corpora are given, one is repeated, they mix
        modalities, or a parameter is invalid.
    """
    corpora = list(corpora)
    if len(corpora) < 2:
        raise ValueError(f"a task sequence needs at least 2 corpora; got {corpora}.")
    if len(set(corpora)) != len(corpora):
        raise ValueError(f"each corpus may appear once in a sequence; got {corpora}.")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1); got {test_size!r}.")
    speaker_norm = check_speaker_norm(speaker_norm)
    bunches = load_corpora(corpora, data_home=data_home, what="the corpora of a sequence")
    modality = next(iter(bunches.values())).modality
    listed = ExperimentCorpora(corpora[:-1], corpora[-1], modality, bunches)
    data = extract_experiment(listed, features=features, speaker_norm=speaker_norm,
                              n_jobs=n_jobs, memory=Memory(cache, verbose=0) if cache else None,
                              log=log)
    tasks = sequence_tasks(data.corpora, corpora, test_size=test_size, random_state=split_seed)
    prepared = SequenceData(tasks, listed.modality, features, speaker_norm,
                            list(data.normalised),
                            f"GroupShuffleSplit(n_splits=1, test_size={test_size}, "
                            f"random_state={split_seed}) per corpus")
    for task in prepared.describe():
        _log(log, f"{task['name']}: {task['n_train']} training clips, {task['n_test']} test "
                  f"clips (test speakers/subjects {', '.join(task['test_groups'])})")
    return prepared


def run_task_sequence(corpora, *, methods, features="functionals", speaker_norm="auto",
                      test_size=0.25, split_seed=0, scratch=True, data_home=None, cache=None,
                      n_jobs=None, log=print):
    """Learn a sequence of corpora with each method; accuracy matrix, BWT and FWT.

    :func:`prepare_sequence` (features, one speaker split per corpus, the
    same ``split_seed`` for all), then :func:`task_sequence` runs every
    method on the same splits.

    Parameters
    ----------
    corpora : sequence of str, or SequenceData
        Corpora in learning order (see :func:`prepare_sequence`), or tasks
        it prepared already (e.g. to choose a parameter on their training
        speakers first); ``features``, ``speaker_norm``, ``test_size``,
        ``split_seed``, ``data_home``, ``cache`` and ``n_jobs`` are then
        those it was prepared with, and ignored here.
    methods : dict of str to estimator
        As for :func:`task_sequence`.
    features, speaker_norm, test_size, split_seed, data_home, cache, n_jobs
        As for :func:`prepare_sequence`.
    scratch : bool, default=True
        Learn each task alone too (FWT's baseline).
    log : callable, default=print

    Returns
    -------
    results : dict
        JSON-able: ``sequence``, ``modality``, ``features``,
        ``speaker_norm``, ``normalised``, ``split`` (``how``, and per task
        its training and test speakers and clip counts), ``methods`` (the
        output of :func:`task_sequence`) and ``seconds``.

    Raises
    ------
    ValueError
        As :func:`prepare_sequence`.
    """
    t_start = time.perf_counter()
    data = corpora
    if not isinstance(data, SequenceData):
        data = prepare_sequence(corpora, features=features, speaker_norm=speaker_norm,
                                test_size=test_size, split_seed=split_seed,
                                data_home=data_home, cache=cache, n_jobs=n_jobs, log=log)
    methods_out = task_sequence(data.tasks, methods, scratch=scratch, log=log)
    return {
        "sequence": [task.name for task in data.tasks],
        "modality": data.modality,
        "features": data.features,
        "speaker_norm": data.speaker_norm,
        "normalised": list(data.normalised),
        "split": {"how": data.split, "tasks": data.describe()},
        "methods": methods_out,
        "seconds": time.perf_counter() - t_start,
    }


def format_sequence_markdown(results):
    """Render :func:`run_task_sequence` results as Markdown tables.

    A summary table (BWT, FWT and ACC in WAR, the same in UAR, and time
    per method), then per method its accuracy matrix ``R`` (rows: after
    training up to; columns: scored on; ``–`` undefined) with the scratch
    row ``S`` under it.
    """
    names = [t["name"] for t in results["split"]["tasks"]]
    normalised = results.get("normalised") or []
    norm = (", speaker-normalised" if set(names) <= set(normalised) else
            f", speaker-normalised: {', '.join(normalised)} only" if normalised else "")
    lines = [
        f"## Task sequence {' -> '.join(names)} ({results['modality']}, "
        f"{results['features']}{norm})",
        "",
        f"Split: {results['split']['how']}: "
        + "; ".join(f"{t['name']} {len(t['train_groups'])} training / "
                    f"{len(t['test_groups'])} test speakers ({t['n_train']} / {t['n_test']} "
                    f"clips)" for t in results["split"]["tasks"])
        + f". Total {results['seconds']:.0f} s.",
        "",
        "| method | BWT | FWT | ACC | BWT (UAR) | FWT (UAR) | time (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for method, res in results["methods"].items():
        seconds = sum(res["seconds"]) + sum(res["scratch_seconds"] or [])
        lines.append(f"| {method} | {_signed(res['BWT'])} | {_signed(res['FWT'])} | "
                     f"{res['ACC']:.3f} | {_signed(res['BWT_UAR'])} | "
                     f"{_signed(res['FWT_UAR'])} | {seconds:.0f} |")
    lines += ["", "Accuracy matrices (clip WAR): row i is the model after training tasks "
              "0..i, column j the test split of task j; S is each task learnt alone.", ""]
    for method, res in results["methods"].items():
        lines += [f"{method}:", "", "| after \\ on | " + " | ".join(names) + " |",
                  "|---|" + "---|" * len(names)]
        for name, row in zip(names, res["R"]):
            lines.append(f"| {name} | " + " | ".join(_cell(v) for v in row) + " |")
        if res["scratch"] is not None:
            lines.append("| S (scratch) | " + " | ".join(_cell(v) for v in res["scratch"])
                         + " |")
        lines.append("")
    return "\n".join(lines)


def save_sequence_results(results, out_dir, stem, *, figure=True):
    """Write ``<stem>.json``, ``<stem>.md`` and (``figure``) ``<stem>.png``; return the paths.

    The figure has one heat map of ``R`` per method
    (:func:`~skpathnet.plotting.plot_accuracy_matrix`).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.json", out / f"{stem}.md"]
    write_json(paths[0], results)
    paths[1].write_text(format_sequence_markdown(results))
    if figure:
        paths.append(out / f"{stem}.png")
        plot_sequence(results, paths[2])
    return paths


def plot_sequence(results, path):
    """Heat maps of every method's ``R`` side by side, saved at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting import plot_accuracy_matrix

    names = [t["name"] for t in results["split"]["tasks"]]
    methods = results["methods"]
    n = len(names)
    fig, axes = plt.subplots(1, len(methods), figsize=((1.2 * n + 2.2) * len(methods),
                                                       1.0 * n + 1.6), squeeze=False)
    for ax, (method, res) in zip(axes[0], methods.items()):
        R = np.array([[np.nan if v is None else v for v in row] for row in res["R"]])
        title = f"{method}: BWT {_signed(res['BWT'])}, FWT {_signed(res['FWT'])}"
        plot_accuracy_matrix(R, tasks=names, ax=ax, title=title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _fresh(estimator):
    """A clone of ``estimator`` without the sources a clone would carry over."""
    new = clone(estimator)
    for name in getattr(new, "_transfer_attrs", ()):
        if hasattr(new, name):
            delattr(new, name)
    return new


def _take(X, index):
    if isinstance(X, np.ndarray):
        return X[index]
    if is_clips(X) or isinstance(X, list):
        return [X[i] for i in index]
    return np.asarray(X)[index]


def _rows(R):
    return [[None if np.isnan(v) else float(v) for v in row] for row in R]


def _params(estimator):
    return {k: v for k, v in estimator.get_params(deep=False).items() if k != "verbose"}


def _signed(value):
    return "n/a" if value is None else f"{value:+.3f}"


def _cell(value):
    return "–" if value is None else f"{value:.3f}"


def _log(log, message):
    if log is not None:
        log(message)
