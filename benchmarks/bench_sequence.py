"""Task sequences scored as continual learning scores them (issue 31).

Speech: RAVDESS -> EMOVO -> EMO-DB, the main job's front end (librosa
acoustic functionals, ``AcousticFunctionals``) with speaker normalisation
``"auto"`` (every speech corpus is normalised). Faces (``--faces``):
CK+48 -> JAFFE, the best face front end (HOG of the crops) with subject
normalisation ``"auto"`` (JAFFE only), the six shared emotions.

Each corpus is split once by speaker (subject):
``GroupShuffleSplit(n_splits=1, test_size=0.25, random_state=0)``
(:func:`skpathnet.experiments.speaker_split`: RAVDESS 6 of 24 actors are
test speakers, EMOVO 2 of 6, EMO-DB 3 of 10, CK+48 27 of 106, JAFFE 3 of
10). The tasks are learnt in order, one ``fit_transfer(append=True)`` each;
after each task every task learnt so far is scored on its test speakers
with its own head: ``R[i, j]`` (clip WAR). Each task is also learnt alone
from scratch on the same split (``S``). BWT and FWT as in
:mod:`skpathnet.metrics` (:func:`~skpathnet.experiments.run_task_sequence`).

Methods, at settings fixed before any run:

- ``pathnet``: ``PathNetClassifier(**BEST_AUDIO["params"])`` (the main
  job's: T = 100 steps at learning rate 0.1, 64 units per module, two
  layers) at ``--generations`` (40, the main job's); the earlier tasks'
  best pathways frozen and always active (``frozen="always"``).
- ``finetune``: ``FineTuneClassifier``, an MLP of one pathway's width (two
  hidden layers of 4 active modules x 64 units = 256 units), plain SGD at
  PathNet's learning rate 0.1, batch 64, ``--epochs`` (100) per task;
  cascaded: each task fine-tunes the previous trunk with a new head.
- ``ewc``: the same MLP with Elastic Weight Consolidation, its
  ``ewc_lambda`` chosen on the first two tasks' *training* speakers only:
  each of those training sets is split again by speaker (the same
  ``speaker_split``, test_size 0.25, seed 0) into inner-training and
  validation speakers; for each lambda of ``--lambdas`` the EWC model
  learns task 0 -> task 1 on the inner-training speakers (model seed of the
  first ``--seeds``), and the lambda with the highest final average
  accuracy on the validation speakers (GEM's ACC: the mean of R[1, 0] and
  R[1, 1]) is kept, ties to the smaller. The test speakers are never seen.

Every method runs with each model seed of ``--seeds`` on the same splits;
the tables give mean ± standard deviation over seeds.

Usage::

    SKPATHNET_DATA=../shared/data python benchmarks/bench_sequence.py --threads 1 \\
        --cache .skpathnet_cache [--faces]
    python benchmarks/bench_sequence.py --summary   # tables from the saved JSON

Writes ``benchmarks/results/sequence/<speech|faces>.json`` (R, S, BWT, FWT
per method and seed, the lambda search), ``.md`` (the report of
:func:`~skpathnet.experiments.save_sequence_results` plus the summary) and
``.png`` (heat maps of R, first seed).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from skpathnet import PathNetClassifier
from skpathnet.baselines import FineTuneClassifier
from skpathnet.experiments import (
    BEST_AUDIO, BEST_VISUAL, SequenceTask, prepare_sequence, run_task_sequence,
    save_sequence_results, speaker_split, task_sequence,
)

HERE = Path(__file__).parent
OUT = HERE / "results" / "sequence"
SEQUENCES = {
    "speech": {"corpora": ["ravdess", "emovo", "emodb"], "best": BEST_AUDIO},
    "faces": {"corpora": ["ckplus", "jaffe"], "best": BEST_VISUAL},
}
#: One pathway's width at BEST_AUDIO's settings: n_active (4) x n_units (64), n_layers (2).
MLP = {"hidden_units": (256, 256), "learning_rate": 0.1, "batch_size": 64}
LAMBDAS = ("0.1", "1", "10", "100", "1000", "10000")
LABELS = {"pathnet": "PathNet", "finetune": "fine-tuning", "ewc": "EWC"}


def estimators(best, args, seed, ewc_lambda):
    """The three methods at one model seed."""
    mlp = dict(MLP, max_epochs=args.epochs, n_threads=args.threads, random_state=seed)
    return {
        "pathnet": PathNetClassifier(**{**best["params"], "n_generations": args.generations,
                                        "n_threads": args.threads, "random_state": seed}),
        "finetune": FineTuneClassifier(**mlp),
        "ewc": FineTuneClassifier(**mlp, ewc_lambda=ewc_lambda),
    }


def inner_tasks(tasks, test_size, seed):
    """The first two tasks' training speakers, split again into training and validation."""
    inner = []
    for task in tasks[:2]:
        X, y = task.train_data()
        groups = task.groups[task.train]
        train, val = speaker_split(y, groups, test_size=test_size, random_state=seed)
        inner.append(SequenceTask(task.name, X, y, groups, train, val))
    return inner


def choose_lambda(data, args, log):
    """EWC's lambda by the final average accuracy of tasks 0 -> 1 on inner validation speakers."""
    inner = inner_tasks(data.tasks, args.test_size, args.split_seed)
    lambdas = [float(v) for v in args.lambdas]
    mlp = dict(MLP, max_epochs=args.epochs, n_threads=args.threads, random_state=args.seeds[0])
    methods = {f"ewc {lam:g}": FineTuneClassifier(**mlp, ewc_lambda=lam) for lam in lambdas}
    t0 = time.perf_counter()
    scored = task_sequence(inner, methods, scratch=False, log=log)
    acc = [scored[f"ewc {lam:g}"]["ACC"] for lam in lambdas]
    chosen = lambdas[int(np.argmax(acc))]  # first maximum: the smallest lambda among ties
    log(f"EWC lambda search on the training speakers of {inner[0].name} -> {inner[1].name}: "
        + ", ".join(f"{lam:g}: {a:.3f}" for lam, a in zip(lambdas, acc))
        + f"; chosen {chosen:g} ({time.perf_counter() - t0:.0f} s)")
    return {"lambdas": lambdas, "ACC": acc, "chosen": chosen,
            "R": {f"{lam:g}": scored[f"ewc {lam:g}"]["R"] for lam in lambdas},
            "inner_split": [{"name": t.name, "n_train": int(len(t.train)),
                             "n_validation": int(len(t.test)),
                             "validation_groups": sorted(str(g) for g in
                                                         np.unique(t.groups[t.test]))}
                            for t in inner],
            "seconds": time.perf_counter() - t0}


def run(name, args, log):
    spec = SEQUENCES[name]
    best = spec["best"]
    t_all = time.perf_counter()
    data = prepare_sequence(spec["corpora"], features=best["features"],
                            speaker_norm=best["speaker_norm"], test_size=args.test_size,
                            split_seed=args.split_seed, cache=args.cache, log=log)
    search = choose_lambda(data, args, log)
    methods = {}
    for seed in args.seeds:
        for method, estimator in estimators(best, args, seed, search["chosen"]).items():
            methods[f"{method} s{seed}"] = estimator
    results = run_task_sequence(data, methods=methods, log=log)
    results.update(ewc_lambda_search=search, seeds=list(args.seeds), threads=args.threads,
                   generations=args.generations, epochs=args.epochs,
                   wall_seconds=time.perf_counter() - t_all)
    OUT.mkdir(parents=True, exist_ok=True)
    save_sequence_results(results, OUT, name, figure=False)
    first = {method: res for method, res in results["methods"].items()
             if method.endswith(f" s{args.seeds[0]}")}
    save_figure(results, first, OUT / f"{name}.png")
    return results


def save_figure(results, methods, path):
    from skpathnet.experiments import plot_sequence

    plot_sequence({**results, "methods": methods}, path)


def mean_std(values):
    values = np.asarray(values, dtype=float)
    if len(values) == 1:
        return f"{values[0]:+.3f}"
    return f"{values.mean():+.3f} ± {values.std():.3f}"


def summary(results):
    """Markdown: BWT, FWT, ACC per method (mean ± std over seeds), then mean R and S."""
    names = [t["name"] for t in results["split"]["tasks"]]
    seeds = results["seeds"]
    by_method = {m: [results["methods"][f"{m} s{s}"] for s in seeds] for m in LABELS}
    lines = [f"| {' -> '.join(names)} | BWT | FWT | ACC | BWT (UAR) | FWT (UAR) | "
             "time per seed (s) |", "|---|---|---|---|---|---|---|"]
    for m, runs in by_method.items():
        label = LABELS[m] + (f" (lambda = {results['ewc_lambda_search']['chosen']:g})"
                             if m == "ewc" else "")
        seconds = np.mean([sum(r["seconds"]) + sum(r["scratch_seconds"]) for r in runs])
        acc = np.array([r["ACC"] for r in runs])
        acc_cell = f"{acc.mean():.3f}" + (f" ± {acc.std():.3f}" if len(acc) > 1 else "")
        lines.append(f"| {label} | {mean_std([r['BWT'] for r in runs])} | "
                     f"{mean_std([r['FWT'] for r in runs])} | {acc_cell} | "
                     f"{mean_std([r['BWT_UAR'] for r in runs])} | "
                     f"{mean_std([r['FWT_UAR'] for r in runs])} | {seconds:.0f} |")
    lines += ["", f"R (clip WAR, mean over {len(seeds)} seed{'s' * (len(seeds) > 1)}; row: "
              "after training up to, column: scored on) and S (each task alone):", "",
              "| method | after \\ on | " + " | ".join(names) + " |",
              "|---|---|" + "---|" * len(names)]
    for m, runs in by_method.items():
        R = np.mean([np.array(r["R"], dtype=float) for r in runs], axis=0)
        S = np.mean([r["scratch"] for r in runs], axis=0)
        for name, row in zip(names, R):
            lines.append(f"| {LABELS[m]} | {name} | "
                         + " | ".join("–" if np.isnan(v) else f"{v:.3f}" for v in row) + " |")
        lines.append(f"| {LABELS[m]} | S (scratch) | " + " | ".join(f"{v:.3f}" for v in S)
                     + " |")
    search = results["ewc_lambda_search"]
    lines += ["", "EWC lambda search (final average accuracy on the validation speakers of "
              "the first two tasks' training speakers): "
              + ", ".join(f"{lam:g}: {a:.3f}" for lam, a in zip(search["lambdas"],
                                                              search["ACC"]))
              + f"; chosen {search['chosen']:g}."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", action="store_true", help="also CK+48 -> JAFFE")
    parser.add_argument("--only", choices=list(SEQUENCES), nargs="+",
                        help="run these sequences only (default: speech, and faces with --faces)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="model seeds")
    parser.add_argument("--generations", type=int, default=40, help="PathNet generations")
    parser.add_argument("--epochs", type=int, default=100, help="MLP epochs per task")
    parser.add_argument("--lambdas", nargs="+", default=list(LAMBDAS), help="EWC lambda grid")
    parser.add_argument("--test-size", type=float, default=0.25)
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--cache", default=".skpathnet_cache", help="joblib feature cache")
    parser.add_argument("--summary", action="store_true",
                        help="tables from the saved JSON, no run")
    args = parser.parse_args(argv)
    names = args.only or (["speech", "faces"] if args.faces else ["speech"])

    def log(line):
        print(line, flush=True)

    for name in names:
        if args.summary:
            results = json.loads((OUT / f"{name}.json").read_text())
        else:
            results = run(name, args, log)
        text = summary(results)
        md = OUT / f"{name}.md"
        report = md.read_text() if md.exists() else ""
        marker = "\n## Summary over seeds\n"
        md.write_text(report.split(marker)[0] + marker + "\n" + text)
        log(text)
        log(f"{name}: wall {results.get('wall_seconds', results['seconds']):.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
