"""Reproduce the experiments of Nguyen et al. (2020), Tables 3-7, with stand-in corpora.

Nguyen et al., "Meta Transfer Learning for Emotion Recognition", arXiv:2006.13211,
used eNTERFACE'05, SAVEE and EMO-DB. Only EMO-DB is available here, so each
experiment keeps the paper's *structure* with the corpora we have:

=====================  ==========================================  ============
``--experiment``       here                                        paper
=====================  ==========================================  ============
ravdess-emovo          RAVDESS -> EMOVO (audio)                    A_eNTERFACE -> SAVEE (Table 6)
ravdess+emovo-emodb    RAVDESS + EMOVO -> EMO-DB (audio)           A_eNTERFACE+SAVEE -> EMO (Table 7)
ckplus-jaffe           CK+48 -> JAFFE (visual, six emotions)       V_eNTERFACE -> SAVEE (Table 4)
jaffe-ckplus           JAFFE -> CK+48 (visual, six emotions)       V_SAVEE -> eNTERFACE (Table 5)
=====================  ==========================================  ============

Methods, side by side on the same folds:

- ``pathnet-transfer``: :meth:`PathNetClassifier.fit_transfer` on the sources,
  then a clone fitted per fold (frozen source pathways, new target population).
- ``pathnet-scratch``: the same PathNet without transfer.
- ``finetune``: :class:`FineTuneClassifier` trained on the source (two sources:
  cascaded, source 1 then source 2, Ng et al. 2015), then fine-tuned per fold.
- ``finetune-scratch``: the same MLP trained on the target only.
- ``linear``: :class:`~skpathnet.baselines.SegmentLinearClassifier`, standardised
  flattened segments -> ``SGDClassifier(log_loss)``, segment posteriors averaged
  per clip (a classical baseline).

Protocols:

- ``loso``: leave-one-speaker/subject-out (``--folds K``: GroupKFold(K) instead),
  clip-level and segment-level scores. Honest: no speaker is on both sides.
- ``kfold``: the paper's "k-fold, repeated 5 times" at segment level:
  ``RepeatedKFold(n_splits=--kfold-splits, n_repeats=--repeats)`` over
  individual segments (each segment becomes its own one-segment clip), so
  overlapping segments of one clip, and every speaker, fall on both sides of a
  split. Reported next to ``loso`` to show the leak.

Also: forgetting (each transferred model's source-task accuracy on the source
training data, right after source training and after target training),
accuracy over generations with and without transfer (``fit(X_val=, y_val=)``
on the first LOSO fold), confusion matrices, per-emotion ROC curves and the
pathway grids, under ``<out>/<experiment>/``. One JSON per run
(``<out>/<experiment>/<protocol>-g<generations>.json``) and Markdown tables on
stdout (and ``.md`` next to the JSON).

Long runs: options, the output folder and the corpora are checked before any
work; every finished fold and each fitted source phase is saved (joblib) in
``<out>/<experiment>/.parts-g<generations>/`` as it completes (the
first-fold curve fits are not), Ctrl-C says what was saved and exits with
status 130, and ``--resume`` continues from there with the same results.

Example (reduced settings)::

    SKPATHNET_DATA=/path/to/data .venv/bin/python benchmarks/bench_paper.py \\
        --experiment ckplus-jaffe --protocol both --generations 40

Paper settings: ``--generations 200 --population 20`` (the defaults).
"""

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from joblib import Memory
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, RepeatedKFold

from skpathnet import PathNetClassifier
from skpathnet.experiments import (
    checkpoint, clip_report, evaluate_methods, extract_experiment, fit_sources, fold_mean_std,
    load_experiment, write_json,
)
from skpathnet.metrics import war_score
from skpathnet.model_selection import FoldSlice
from skpathnet.baselines import FineTuneClassifier, SegmentLinearClassifier
from skpathnet.utils import flatten_clips, make_clips

EXPERIMENTS = {
    "ravdess-emovo": {
        "sources": ["ravdess"], "target": "emovo",
        "paper": "A_eNTERFACE -> SAVEE (Table 6)",
    },
    "ravdess+emovo-emodb": {
        "sources": ["ravdess", "emovo"], "target": "emodb",
        "paper": "A_eNTERFACE + SAVEE -> EMO (Table 7)",
    },
    "ckplus-jaffe": {
        "sources": ["ckplus"], "target": "jaffe",
        "paper": "V_eNTERFACE -> SAVEE (Table 4)",
    },
    "jaffe-ckplus": {
        "sources": ["jaffe"], "target": "ckplus",
        "paper": "V_SAVEE -> eNTERFACE (Table 5)",
    },
}
METHODS = ("pathnet-transfer", "pathnet-scratch", "finetune", "finetune-scratch", "linear")
TRANSFER_METHODS = ("pathnet-transfer", "finetune")  # fitted on the sources first

# The paper's reported WAR, per experiment and method (Nguyen et al. 2020, Tables 3-7, as
# tabulated in ../shared/paper/REPORTED.md): PathNet transfer, PathNet from scratch on the
# target (V_SAV, V_eNTER, A_SAV, A_EMO) and fine-tuned AlexNet (Zhang et al. 2018), the
# paper's fine-tuning baseline. Its corpora are SAVEE, eNTERFACE'05 and EMO-DB (ours stand
# in, see EXPERIMENTS) under k-fold folds (LOSO for EMO-DB): compare trends only.
# A eNTERFACE -> SAVEE: Table 3 says 0.71, Table 6 0.85; Table 3's figure is used.
PAPER = {
    "ckplus-jaffe": {"pathnet-transfer": {"WAR": 0.94}, "pathnet-scratch": {"WAR": 0.89},
                     "finetune": {"WAR": 0.85}},
    "jaffe-ckplus": {"pathnet-transfer": {"WAR": 0.94}, "pathnet-scratch": {"WAR": 0.88},
                     "finetune": {"WAR": 0.88}},
    "ravdess-emovo": {"pathnet-transfer": {"WAR": 0.71}, "pathnet-scratch": {"WAR": 0.81},
                      "finetune": {"WAR": 0.69}},
    "ravdess+emovo-emodb": {"pathnet-transfer": {"WAR": 0.97},
                            "pathnet-scratch": {"WAR": 0.89}, "finetune": {"WAR": 0.83}},
}


def explode(X, y):
    """One one-segment clip per segment (for segment-level random folds)."""
    segments, clip_index = flatten_clips(X)
    return make_clips([s[None] for s in segments]), np.asarray(y)[clip_index]


def fold_scores(res):
    """Mean and std over folds of the per-fold clip WAR, UAR, UAP and segment WAR, UAR."""
    return {k: list(fold_mean_std(res["folds"], k))
            for k in ("clip_WAR", "clip_UAR", "clip_UAP", "segment_WAR", "segment_UAR")}


def macro_auc(res):
    """The pooled clip macro AUC (top-level ``macro_AUC`` in JSON saved before evaluate had it)."""
    return res["clip"].get("macro_AUC", res.get("macro_AUC"))


def build_estimators(args):
    pn = PathNetClassifier(
        n_generations=args.generations, population_size=args.population,
        random_state=args.seed, device=args.device, n_threads=args.threads,
        module=getattr(args, "module", "linear"),
    )
    ft = FineTuneClassifier(max_epochs=args.epochs, random_state=args.seed, device=args.device,
                            n_threads=args.threads)
    return {
        "pathnet-transfer": pn, "pathnet-scratch": clone(pn),
        "finetune": ft, "finetune-scratch": clone(ft),
        "linear": SegmentLinearClassifier(random_state=args.seed),
    }


def source_scores(model, data):
    """Source-task accuracy of each source of ``data`` (training data), one float per source."""
    return [war_score(y, model.predict_source(X, source=k))
            for k, (X, y) in enumerate(zip(data.source_X, data.source_y))]


def make_figures(name, protocol, results, out_dir, curves=None, pathnets=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skpathnet.plotting import (
        plot_confusion_matrix, plot_generation_curves, plot_pathways, plot_roc_curves,
    )

    methods = list(results["methods"])
    paths = []
    for kind in ("confusion", "roc"):
        fig, axes = plt.subplots(1, len(methods), figsize=(4.6 * len(methods), 5.0),
                                 squeeze=False)
        for ax, method in zip(axes[0], methods):
            pred = results["methods"][method]["predictions"]
            if kind == "confusion":
                plot_confusion_matrix(pred["y_true"], pred["y_pred"], labels=pred["labels"],
                                      ax=ax)
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    plot_roc_curves(pred["y_true"], np.asarray(pred["proba"]), pred["labels"],
                                    ax=ax)
            ax.set_title(f"{method}\n({protocol}, pooled out-of-fold)", fontsize=9)
        fig.suptitle(f"{name}: {'confusion matrices' if kind == 'confusion' else 'ROC'}")
        fig.tight_layout()
        path = out_dir / f"{kind}-{protocol}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    if curves:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        pn = [(m, h) for m, h in curves.items() if m.startswith("pathnet")]
        ft = [(m, h) for m, h in curves.items() if m.startswith("finetune")]
        if pn:
            plot_generation_curves([h for _, h in pn], labels=[m for m, _ in pn], ax=axes[0])
            axes[0].set_title("PathNet: held-out clip accuracy of each generation's winner",
                              fontsize=9)
        if ft:
            plot_generation_curves([h for _, h in ft], labels=[m for m, _ in ft], ax=axes[1])
            axes[1].set_title("Fine-tuning: held-out clip accuracy per epoch", fontsize=9)
        fig.suptitle(f"{name}: first LOSO fold (Fig. 15)")
        fig.tight_layout()
        path = out_dir / "generations.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    for method, clf in (pathnets or {}).items():
        ax = plot_pathways(clf)
        ax.set_title(f"{name}: {method} pathways (first LOSO fold)", fontsize=9)
        path = out_dir / f"pathways-{method}.png"
        ax.figure.savefig(path, dpi=90, bbox_inches="tight")
        plt.close(ax.figure)
        paths.append(path)
    return paths


def fmt(ms):
    return f"{ms[0]:.3f} ± {ms[1]:.3f}"


def paper_cell(name, method, metric):
    value = PAPER.get(name, {}).get(method, {}).get(metric)
    return "n/a" if value is None else f"{value:.3f}"


def markdown(results):
    name = results["experiment"]
    exp = EXPERIMENTS[name]
    lines = [
        f"### {name}: {' + '.join(exp['sources'])} -> {exp['target']} "
        f"(paper: {exp['paper']}); protocol {results['protocol']} ({results['cv']})",
        "",
        f"{results['n_clips']} target clips, {results['n_segments']} segments, "
        f"{results['n_groups']} speakers/subjects; {results['settings']['generations']} "
        f"generations, population {results['settings']['population']}, fine-tuning "
        f"{results['settings']['epochs']} epochs; seed {results['settings']['seed']}; "
        f"wall time {results['seconds']:.0f} s.",
        "",
        "| method | level | WAR | UAR | UAP | pooled WAR | pooled UAR | macro AUC | paper WAR "
        "| time (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for method, res in results["methods"].items():
        fs = res["fold_scores"]
        t = res["seconds"] + res.get("source_seconds", 0.0)
        levels = ("clip", "segment") if results["protocol"] == "loso" else ("segment",)
        if results["n_segments"] == results["n_clips"] and results["protocol"] == "loso":
            levels = ("clip",)  # one frame per clip (images): both levels are the same
        for level in levels:
            rep = res["clip" if results["protocol"] == "kfold" else level]
            key = "clip" if results["protocol"] == "kfold" else level
            uap = fmt(fs["clip_UAP"]) if key == "clip" else f"{rep['UAP']:.3f} (pooled)"
            lines.append(
                f"| {method} | {level} | {fmt(fs[key + '_WAR'])} | {fmt(fs[key + '_UAR'])} | "
                f"{uap} | {rep['WAR']:.3f} | {rep['UAR']:.3f} | "
                f"{macro_auc(res):.3f} | {paper_cell(name, method, 'WAR')} | {t:.0f} |"
            )
    labels = results["labels"]
    level = "clip" if results["protocol"] == "loso" else "segment"
    lines += ["", f"Per-class recall ({level} level, pooled out-of-fold; paper Table 3 layout):",
              "", "| method | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for method, res in results["methods"].items():
        rec = res["clip"]["recall"]
        lines.append(f"| {method} | " + " | ".join(f"{rec[c]:.3f}" for c in labels) + " |")
    if results.get("forgetting"):
        lines += ["", "Forgetting: source-task accuracy on the source *training* data after "
                  "fit_transfer (all sources: for cascaded fine-tuning, source 1 is already "
                  "after source 2) and after target training (first LOSO fold's model):",
                  "", "| method | source | after source training | after target training |",
                  "|---|---|---|---|"]
        for method, f in results["forgetting"].items():
            for k, src in enumerate(f["sources"]):
                lines.append(f"| {method} | {src} | {f['before'][k]:.3f} | "
                             f"{f['after'][k]:.3f} |")
    return "\n".join(lines) + "\n"


def parts_dir(args, name):
    """Where a run of experiment ``name`` saves its finished folds and source phases."""
    return Path(args.out) / name / f".parts-g{args.generations}"


def check_args(p, args):
    """Reject bad options before any work (``p.error``: status 2, one line)."""
    for option, minimum in (("generations", 1), ("population", 2), ("epochs", 0),
                            ("kfold_splits", 2), ("repeats", 1), ("threads", 1)):
        value = getattr(args, option)
        if value < minimum:
            p.error(f"--{option.replace('_', '-')} must be >= {minimum}; got {value}")
    if args.folds is not None and args.folds < 2:
        p.error(f"--folds must be >= 2; got {args.folds}")
    if not 0 <= args.skip_folds < args.kfold_splits * args.repeats:
        p.error(f"--skip-folds must be in [0, {args.kfold_splits * args.repeats}), the "
                f"--kfold-splits x --repeats folds; got {args.skip_folds}")
    try:
        checkpoint.check_writable(args.out, what="--out folder")
        if args.cache:
            checkpoint.check_writable(args.cache, what="--cache folder")
    except OSError as exc:
        p.error(str(exc))


def run_config(args, name):
    """The settings that a run's saved folds depend on (checked by --resume)."""
    keys = ("generations", "population", "epochs", "seed", "folds", "kfold_splits",
            "repeats", "skip_folds", "module", "device", "threads")
    return {"experiment": name, **{k: getattr(args, k, None) for k in keys}}


def run(args, name, protocol, data, transferred, log):
    """One protocol of experiment ``name``: every method of ``args.methods`` on the same folds.

    ``transferred`` maps each transfer method to its :class:`SourceFit`.
    """
    exp = EXPERIMENTS[name]
    X, y, groups = data.corpora[exp["target"]]
    labels = np.unique(y)
    out_dir = Path(args.out) / name
    out_dir.mkdir(parents=True, exist_ok=True)
    built = build_estimators(args)
    estimators = {m: transferred[m].estimator if m in transferred else built[m]
                  for m in args.methods}
    if protocol == "loso":
        cv = LeaveOneGroupOut() if args.folds is None else GroupKFold(n_splits=args.folds)
        Xe, ye, ge = X, y, groups
    else:
        cv = RepeatedKFold(n_splits=args.kfold_splits, n_repeats=args.repeats,
                           random_state=args.seed)
        if args.skip_folds:
            # RepeatedKFold draws repeat by repeat: folds from skip_folds on resume a run
            cv = FoldSlice(cv, start=args.skip_folds)
        Xe, ye = explode(X, y)
        ge = np.arange(len(Xe))
    results = {
        "experiment": name, "sources": exp["sources"], "target": exp["target"],
        "paper_setting": exp["paper"], "protocol": protocol, "cv": repr(cv),
        "settings": {"generations": args.generations, "population": args.population,
                     "epochs": args.epochs, "seed": args.seed, "folds": args.folds,
                     "kfold_splits": args.kfold_splits, "repeats": args.repeats,
                     "skip_folds": args.skip_folds if protocol == "kfold" else 0},
        "labels": [str(c) for c in labels],
        "n_clips": int(len(X)), "n_segments": int(sum(len(c) for c in X)),
        "n_groups": int(len(np.unique(groups))),
        "machine": {"python": platform.python_version(), "nproc": os.cpu_count(),
                    "argv": sys.argv},
        "methods": {},
    }
    t_start = time.perf_counter()
    log(f"[{name} {protocol}] {', '.join(estimators)}: {cv} ...")
    # k-fold folds are numbered within the whole k-fold run
    scored = evaluate_methods(
        estimators, Xe, ye, ge, cv=cv, labels=labels, log=log,
        first_fold=args.skip_folds if protocol == "kfold" else 0,
        checkpoints={m: parts_dir(args, name) / f"{protocol}-{m}" for m in estimators})
    for method, res in scored.items():
        res["fold_scores"] = fold_scores(res)
        if method in transferred:
            res["source_seconds"] = transferred[method].seconds
        results["methods"][method] = res
        log(f"  -> clip WAR {fmt(res['fold_scores']['clip_WAR'])}, "
            f"UAR {fmt(res['fold_scores']['clip_UAR'])} ({res['seconds']:.0f} s)")
    curves, pathnets = {}, {}
    if protocol == "loso" and not args.no_curves:
        # Fig. 15, forgetting and pathway grids on the first LOSO fold.
        train, test = next(iter(cv.split(X, y, groups)))
        forgetting = {}
        for method in ("pathnet-transfer", "pathnet-scratch", "finetune", "finetune-scratch"):
            if method not in args.methods:
                continue
            t0 = time.perf_counter()
            model = clone(estimators[method]).fit(X[train], y[train], X_val=X[test],
                                                  y_val=y[test])
            curves[method] = model.history_
            if method.startswith("pathnet"):
                pathnets[method] = model
            if method in transferred:
                forgetting[method] = {
                    "sources": exp["sources"],
                    "before": source_scores(transferred[method].estimator, data),
                    "after": source_scores(model, data),
                }
            log(f"  curve fit {method}: {time.perf_counter() - t0:.0f} s")
        results["curves"] = {
            m: [{k: r[k] for k in ("generation", "epoch", "val_score", "train_loss")
                 if k in r} | ({"fitness": r["fitness"][r["winner"]]} if "winner" in r else {})
                for r in h]
            for m, h in curves.items()
        }
        results["forgetting"] = forgetting
        results["pathways"] = {
            m: {"target": c.best_path_.tolist(),
                "sources": [p.tolist() for p in getattr(c, "source_paths_", [])],
                "frozen": [f.tolist() for f in getattr(c, "frozen_modules_", [])]}
            for m, c in pathnets.items()
        }
    results["seconds"] = time.perf_counter() - t_start + sum(
        fit.seconds for fit in transferred.values())
    figures = make_figures(name, protocol, results, out_dir, curves, pathnets)
    results["figures"] = [str(p) for p in figures]
    stem = out_dir / f"{protocol}-g{args.generations}"
    write_json(stem.with_suffix(".json"), results)
    md = markdown(results)
    stem.with_suffix(".md").write_text(md)
    print("\n" + md, flush=True)
    log(f"saved {stem}.json, {stem}.md and {len(figures)} figures")
    return results


def merge(args, log):
    """Join the JSON of runs that split the methods between processes.

    Each ``--merge`` folder holds ``<experiment>/<protocol>-g<generations>.json``
    written by a run with ``--out`` that folder and some of the ``--methods``
    (for example PathNet in one process and fine-tuning in another, each on
    one core). The joined JSON, Markdown and figures go to ``--out``; the
    pathway figures are copied from the part that drew them. The wall time
    is that of the longest part, since the parts ran at the same time.

    A k-fold method found in several parts is joined fold-wise (the parts
    being a run and its continuation with ``--skip-folds``, listed in fold
    order): folds and out-of-fold predictions are concatenated and every
    score is recomputed; the wall time then adds up over the fold ranges.
    """
    import shutil

    name = args.experiment
    for protocol in ["loso", "kfold"] if args.protocol == "both" else [args.protocol]:
        stem = f"{protocol}-g{args.generations}"
        parts = [json.loads((Path(d) / name / f"{stem}.json").read_text()) for d in args.merge]
        results = parts[0]
        for part in parts[1:]:
            for key in ("curves", "forgetting", "pathways"):
                results.setdefault(key, {}).update(part.get(key, {}))
            for method, res in part["methods"].items():
                if method in results["methods"]:
                    results["methods"][method] = join_folds(results, results["methods"][method],
                                                            part, res)
                else:
                    results["methods"][method] = res
        results["methods"] = {m: results["methods"][m] for m in METHODS
                              if m in results["methods"]}
        if protocol == "kfold":
            n_folds = {len(res["folds"]) for res in results["methods"].values()}
            splits = results["settings"]["kfold_splits"]
            results["settings"]["repeats"] = max(n_folds) // splits
            results["settings"]["skip_folds"] = 0
            results["cv"] = repr(RepeatedKFold(n_splits=splits, n_repeats=max(n_folds) // splits,
                                               random_state=results["settings"]["seed"]))
            if len(n_folds) > 1:
                log(f"warning: methods have different numbers of folds: {sorted(n_folds)}")
        # Parts over the same folds ran side by side; fold ranges ran one after another.
        by_range = {}
        for p in parts:
            start = p["settings"].get("skip_folds", 0)
            by_range[start] = max(by_range.get(start, 0.0), p["seconds"])
        results["seconds"] = sum(by_range.values())
        results["merged_from"] = [str(Path(d) / name / f"{stem}.json") for d in args.merge]
        out_dir = Path(args.out) / name
        out_dir.mkdir(parents=True, exist_ok=True)
        figures = make_figures(name, protocol, results, out_dir, results.get("curves"))
        for d in args.merge:
            for png in (Path(d) / name).glob("pathways-*.png"):
                if png.resolve() != (out_dir / png.name).resolve():  # --out may be a part
                    shutil.copy(png, out_dir / png.name)
                figures.append(out_dir / png.name)
        results["figures"] = [str(p) for p in figures]
        write_json(out_dir / f"{stem}.json", results)
        md = markdown(results)
        (out_dir / f"{stem}.md").write_text(md)
        print("\n" + md, flush=True)
        log(f"merged {len(parts)} parts into {out_dir / stem}.json")
    return 0


def join_folds(results, res, part, more):
    """Append the folds of ``more`` (a later k-fold range) to those of ``res``."""
    if results["protocol"] != "kfold":
        raise SystemExit(f"--merge: {results['experiment']} {results['protocol']}: a method "
                         "appears in two parts; only k-fold runs split by --skip-folds "
                         "can be joined fold-wise")
    end = res["folds"][-1]["fold"] + 1
    start = part["settings"].get("skip_folds", 0)
    if start != end:
        raise SystemExit(f"--merge: a part starts at fold {start} but the parts before it "
                         f"end at fold {end}; list the parts in fold order")
    pred = {k: res["predictions"][k] + more["predictions"][k]
            for k in ("y_true", "y_pred", "proba")}
    pred["labels"] = res["predictions"]["labels"]
    report = clip_report(pred["y_true"], pred["y_pred"], pred["proba"], pred["labels"])
    joined = {
        "clip": report,
        "segment": report,  # k-fold clips are single segments
        "folds": res["folds"] + more["folds"],
        "predictions": pred,
        "seconds": res["seconds"] + more["seconds"],
    }
    if "source_seconds" in res:
        joined["source_seconds"] = res["source_seconds"] + more.get("source_seconds", 0.0)
    joined["fold_scores"] = fold_scores(joined)
    return joined


def summary(args):
    """Print two tables from the saved JSON of every experiment in ``--out``.

    First one row per experiment with a ``loso-g<generations>.json``: the
    clip-level LOSO WAR and UAR of every method; then :func:`leak_table` for
    the experiments that also have a ``kfold-g<generations>.json``. Each file
    is read once.
    """
    saved = {}
    for name in EXPERIMENTS:
        for protocol in ("loso", "kfold"):
            path = Path(args.out) / name / f"{protocol}-g{args.generations}.json"
            if path.exists():
                saved.setdefault(name, {})[protocol] = json.loads(path.read_text())
    lines = [table_head("experiment")]
    for name, runs in saved.items():
        if "loso" not in runs:
            continue
        cells = []
        for method in METHODS:
            res = runs["loso"]["methods"].get(method)
            fs = res and res["fold_scores"]
            cells.append(f"{fmt(fs['clip_WAR'])} / {fmt(fs['clip_UAR'])}" if fs else "")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    print("\n".join(lines))
    print("\n" + leak_table(saved))
    return 0


def table_head(first):
    """Markdown header of a table with one column per method."""
    return f"| {first} | " + " | ".join(METHODS) + " |\n|---|" + "---|" * len(METHODS)


def leak_table(saved):
    """What the random-fold protocol is worth: segment-level WAR, LOSO vs k-fold.

    ``saved`` maps experiment -> protocol -> saved results. Both columns are
    segment-level (a k-fold "clip" is one segment), so the difference is the
    leak of letting a clip's overlapping segments, and every speaker, fall on
    both sides of a split.
    """
    lines = [table_head("experiment (k-fold folds)")]
    for name, runs in saved.items():
        if set(runs) != {"loso", "kfold"}:
            continue
        loso, kfold = runs["loso"]["methods"], runs["kfold"]["methods"]
        cells = []
        for method in METHODS:
            if method not in loso or method not in kfold:
                cells.append("")
                continue
            a = loso[method]["fold_scores"]["segment_WAR"][0]
            b = kfold[method]["fold_scores"]["clip_WAR"][0]
            cells.append(f"{a:.3f} -> {b:.3f} ({b - a:+.3f})")
        k, r = (runs["kfold"]["settings"][key] for key in ("kfold_splits", "repeats"))
        lines.append(f"| {name} ({k} x {r} = {k * r}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--experiment", choices=[*EXPERIMENTS, "all"], default="all")
    p.add_argument("--protocol", choices=["loso", "kfold", "both"], default="both")
    p.add_argument("--generations", type=int, default=200, help="per task (paper: 200)")
    p.add_argument("--population", type=int, default=20, help="paper: 20")
    p.add_argument("--epochs", type=int, default=None,
                   help="fine-tuning epochs per task; default 2 x generations, the same "
                   "number of SGD steps as PathNet (2 pathways x T steps per generation)")
    p.add_argument("--folds", type=int, default=None,
                   help="GroupKFold(K) instead of leave-one-group-out for the loso protocol "
                   "(e.g. 10 for CK+48's subjects)")
    p.add_argument("--kfold-splits", type=int, default=5, help="k of the kfold protocol")
    p.add_argument("--repeats", type=int, default=5, help="repeats of the kfold protocol")
    p.add_argument("--skip-folds", type=int, default=0, metavar="K",
                   help="kfold protocol: start at fold K of the --repeats x --kfold-splits "
                   "folds, to finish an earlier run with fewer --repeats (join the two "
                   "with --merge, earlier part first)")
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    p.add_argument("--no-curves", action="store_true",
                   help="skip the first-fold curves, forgetting and pathway figures")
    p.add_argument("--out", default="benchmarks/results")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--module", choices=["linear", "conv"], default="linear",
                   help="PathNet module type (paper: linear)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: on a shared 2-core machine, 2 threads "
                   "were 20x slower than 1 while another job ran)")
    p.add_argument("--cache", default=".skpathnet_cache", help="joblib feature cache")
    p.add_argument("--data-home", default=None)
    p.add_argument("--summary", action="store_true",
                   help="print the clip-level WAR / UAR of every saved experiment in --out "
                   "as one table, without training anything")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from the folds and source phases it "
                   "saved in <out>/<experiment>/.parts-g<generations> (same options)")
    p.add_argument("--merge", nargs="+", default=None, metavar="DIR",
                   help="join the results of runs that split --methods between processes "
                   "(their --out folders) into --out, without training anything")
    args = p.parse_args(argv)
    warnings.filterwarnings("ignore", message="The groups parameter is ignored")
    if args.epochs is None:
        args.epochs = 2 * args.generations
    t_all = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - t_all:6.0f} s] {msg}", flush=True)

    if args.summary:
        return summary(args)
    if args.merge:
        if args.experiment == "all":
            p.error("--merge needs one --experiment")
        return merge(args, log)
    check_args(p, args)
    names = list(EXPERIMENTS) if args.experiment == "all" else [args.experiment]
    try:
        return run_all(args, names, log)
    except KeyboardInterrupt:
        saved = "; ".join(f"{name}: {checkpoint.describe_saved(parts_dir(args, name))}"
                          for name in names if parts_dir(args, name).is_dir())
        print(f"bench_paper: interrupted; saved {saved or 'nothing'} under {args.out}; run "
              "the same command with --resume to continue.", file=sys.stderr)
        return 130
    except (OSError, ValueError) as exc:
        print(f"bench_paper: error: {exc}", file=sys.stderr)
        return 2


def run_all(args, names, log):
    """Every experiment of ``names``; each saved as it goes in :func:`parts_dir`."""
    protocols = ["loso", "kfold"] if args.protocol == "both" else [args.protocol]
    memory = Memory(args.cache, verbose=0) if args.cache else None
    # Every corpus is listed, and every saved run checked, before any extraction.
    corpora = {}
    for name in names:
        exp = EXPERIMENTS[name]
        corpora[name] = load_experiment(exp["sources"], exp["target"],
                                        data_home=args.data_home, log=log)
        checkpoint.open_checkpoint(
            parts_dir(args, name),
            {**run_config(args, name), "data": checkpoint.fingerprint(corpora[name].bunches)},
            resume=args.resume)
    for name in names:
        parts = parts_dir(args, name)
        data = extract_experiment(corpora[name], n_jobs=1, memory=memory, log=log)
        estimators = build_estimators(args)
        transfer = [m for m in TRANSFER_METHODS if m in args.methods]
        transferred = fit_sources({m: estimators[m] for m in transfer}, data, log=log,
                                  checkpoints={m: parts / f"source-{m}{checkpoint.SUFFIX}"
                                               for m in transfer})
        for method, fit in transferred.items():
            log(f"  {method}: source train accuracy {source_scores(fit.estimator, data)}")
        for protocol in protocols:
            run(args, name, protocol, data, transferred, log)
        checkpoint.remove(parts)
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
