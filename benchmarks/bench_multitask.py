"""Multi-task benchmark: do facial Action Units help PathNet recognise emotions?

:class:`~skpathnet.MultiTaskPathNetClassifier` on the face crops of
skpathnet's front end (the six emotions shared by the visual corpora),
subject-independent folds throughout:

(a) CK+48, ``GroupKFold(5)`` over its subjects: emotion-only against
    emotion + AUs (the 24 FACS AUs of ``load_ckplus(aus=True)``), with raw
    and with subject-normalised crops: emotion WAR / UAR and AU mean F1.
    Emotion-only rows give an AU score too, "AUs from the predicted
    emotion": each test image gets the AUs present in at least half of the
    training images of its predicted emotion.
(b) CK+48 -> JAFFE transfer, leave-one-subject-out on JAFFE: the source is
    all of CK+48, learnt emotion-only or emotion + AUs; JAFFE from scratch
    for reference.
(c) Mixed labels, leave-one-subject-out on JAFFE: CK+48 (emotions and AUs)
    and the nine training JAFFE subjects (emotions only, AU rows all -1)
    trained together with the masked loss, against the same data without
    the AUs; scored on the held-out JAFFE subject.

Subject normalisation (:class:`~skpathnet.transformers.GroupStandardScaler`,
each subject standardised with its own statistics, which is the same inside
every fold as the folds split by subject) is used for (b) and (c), where
JAFFE's subjects pose every emotion; CK+48's subjects pose 2-3 of the six
(so their statistics are partly the emotions'), which (a) measures.

PathNet settings: linear modules with ``n_steps=100``,
``learning_rate=0.1``, ``n_units=64`` (the speech search's best,
:data:`skpathnet._experiment.BEST_AUDIO`), ``first_layer="auto"`` (row
space), paper values otherwise, but ``--generations`` (default 20, not the
paper's 200) to keep the run under ~25 minutes on one core.

Usage::

    SKPATHNET_DATA=/work/shared/data python benchmarks/bench_multitask.py \\
        --threads 1 --generations 20

Writes ``benchmarks/results/multitask/{a,b,c}.json`` and prints the tables.
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from joblib import Memory
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut

from skpathnet import MultiTaskPathNetClassifier, au_f1_scores
from skpathnet.experiments import (
    evaluate, extract_features, load_corpus, VISUAL_SHARED_EMOTIONS, write_json,
)
from skpathnet.metrics import uar_score, war_score
from skpathnet.model_selection import FoldSlice
from skpathnet.datasets import load_ckplus
from skpathnet.transformers import LabelCoverageWarning

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "multitask"
PARAMS = {"n_steps": 100, "learning_rate": 0.1, "n_units": 64}


def ckplus(memory, norm):
    """CK+48 crops of the six shared emotions, labels, subjects, AUs (0/1) and AU names.

    AU columns without a positive among these images are dropped.
    """
    bunch = load_ckplus(aus=True)
    keep = np.isin(bunch.target, VISUAL_SHARED_EMOTIONS)
    for key in ("filenames", "target", "groups", "sequence", "aus"):
        bunch[key] = bunch[key][keep]
    present = bunch.aus.sum(0) > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LabelCoverageWarning)
        X = extract_features("ckplus", bunch, speaker_norm=norm, n_jobs=1, memory=memory)
    return X, bunch.target, bunch.groups, bunch.aus[:, present], bunch.au_names[present]


def jaffe(memory, norm):
    bunch = load_corpus("jaffe", labels=VISUAL_SHARED_EMOTIONS)
    X = extract_features("jaffe", bunch, speaker_norm=norm, n_jobs=1, memory=memory)
    return X, bunch.target, bunch.groups


def model(args, **extra):
    return MultiTaskPathNetClassifier(**PARAMS, n_generations=args.generations,
                                      n_threads=args.threads, random_state=args.seed, **extra)


def folds(args, cv):
    return cv if args.max_folds is None else FoldSlice(cv, stop=args.max_folds)


def mean_std(values):
    values = np.asarray(values, dtype=float)
    return f"{np.nanmean(values):.3f} ± {np.nanstd(values):.3f}"


def prototype_aus(y_train, aus_train, y_pred):
    """AUs present in at least half of the training images of each predicted emotion."""
    table = {c: aus_train[y_train == c].mean(0) >= 0.5 for c in np.unique(y_train)}
    return np.stack([table[c] for c in y_pred]).astype(np.int8)


def part_a(args, memory, log):
    """CK+48: emotion-only vs emotion + AUs, raw and subject-normalised crops."""
    cv = folds(args, GroupKFold(n_splits=5))
    rows = {}
    for norm in (False, True):
        X, y, groups, aus, au_names = ckplus(memory, norm)
        per_subject = [len(np.unique(y[groups == g])) for g in np.unique(groups)]
        log(f"(a) CK+48{' subject-normalised' if norm else ''}: {len(X)} images, "
            f"{len(np.unique(groups))} subjects posing {np.median(per_subject):.0f} of 6 "
            f"emotions (median), {aus.shape[1]} AUs")
        for with_aus in (False, True):
            name = f"{'emotion+AUs' if with_aus else 'emotion'}{' norm' if norm else ' raw'}"
            records, pooled = [], {"y": [], "pred": [], "aus": [], "aus_pred": []}
            t0 = time.perf_counter()
            for fold, (train, test) in enumerate(cv.split(X, y, groups)):
                t1 = time.perf_counter()
                clf = model(args).fit(X[train], y[train], aus=aus[train] if with_aus else None)
                pred = clf.predict(X[test])
                if with_aus:
                    aus_pred = clf.predict_aus(X[test])
                else:
                    aus_pred = prototype_aus(y[train], aus[train], pred)
                _, f1 = au_f1_scores(aus[test], aus_pred)
                records.append({"WAR": war_score(y[test], pred), "UAR": uar_score(y[test], pred),
                                "AU_F1": f1, "seconds": time.perf_counter() - t1})
                for key, value in zip(pooled, (y[test], pred, aus[test], aus_pred)):
                    pooled[key].append(value)
                log(f"  {name} fold {fold + 1}: WAR {records[-1]['WAR']:.3f} UAR "
                    f"{records[-1]['UAR']:.3f} AU F1 {f1:.3f} ({records[-1]['seconds']:.0f} s)")
            pooled = {k: np.concatenate(v) for k, v in pooled.items()}
            per_au, pooled_f1 = au_f1_scores(pooled["aus"], pooled["aus_pred"])
            rows[name] = {
                "folds": records, "pooled_WAR": war_score(pooled["y"], pooled["pred"]),
                "pooled_UAR": uar_score(pooled["y"], pooled["pred"]),
                "pooled_AU_F1": pooled_f1,
                "per_AU_F1": {str(n): float(v) for n, v in zip(au_names, per_au)},
                "seconds": time.perf_counter() - t0,
            }
    return {"cv": repr(cv), "rows": rows}


def part_b(args, memory, log):
    """CK+48 -> JAFFE: emotion-only source vs emotion + AU source; JAFFE from scratch."""
    Xs, ys, _, aus, _ = ckplus(memory, True)
    X, y, groups = jaffe(memory, True)
    rows = {}
    for name, source_aus in (("transfer, emotion source", None),
                             ("transfer, emotion+AU source", aus)):
        t0 = time.perf_counter()
        clf = model(args).fit_transfer(Xs, ys, source_aus=source_aus)
        source_seconds = time.perf_counter() - t0
        log(f"(b) {name}: source fitness {clf.source_fitness_[0]:.3f}, frozen modules "
            f"{[len(m) for m in clf.frozen_modules_]} ({source_seconds:.0f} s)")
        res = evaluate(clf, X, y, groups, cv=folds(args, LeaveOneGroupOut()), log=log)
        res.pop("predictions")
        res["source_seconds"] = source_seconds
        res["source_fitness"] = clf.source_fitness_[0]
        rows[name] = res
    log("(b) JAFFE from scratch")
    res = evaluate(model(args), X, y, groups, cv=folds(args, LeaveOneGroupOut()), log=log)
    res.pop("predictions")
    rows["JAFFE from scratch"] = res
    return {"cv": "LeaveOneGroupOut() over JAFFE subjects", "rows": rows}


def part_c(args, memory, log):
    """CK+48 (emotions + AUs) and JAFFE (emotions only) trained together."""
    Xc, yc, _, aus, _ = ckplus(memory, True)
    X, y, groups = jaffe(memory, True)
    rows = {}
    for with_aus in (False, True):
        name = f"CK+48 + JAFFE, {'emotions + AUs (masked)' if with_aus else 'emotions only'}"
        records = []
        t0 = time.perf_counter()
        for train, test in folds(args, LeaveOneGroupOut()).split(X, y, groups):
            t1 = time.perf_counter()
            X_train = np.concatenate([Xc, X[train]])
            y_train = np.concatenate([yc, y[train]])
            aus_train = None
            if with_aus:
                aus_train = np.concatenate([aus, np.full((len(train), aus.shape[1]), -1, np.int8)])
            clf = model(args).fit(X_train, y_train, aus=aus_train)
            pred = clf.predict(X[test])
            records.append({"group": str(groups[test][0]), "clip_WAR": war_score(y[test], pred),
                            "clip_UAR": uar_score(y[test], pred),
                            "seconds": time.perf_counter() - t1})
            log(f"  {name} ({records[-1]['group']}): WAR {records[-1]['clip_WAR']:.3f} UAR "
                f"{records[-1]['clip_UAR']:.3f} ({records[-1]['seconds']:.0f} s)")
        rows[name] = {"folds": records, "seconds": time.perf_counter() - t0}
    return {"cv": "LeaveOneGroupOut() over JAFFE subjects", "rows": rows}


def paired(a, b, key):
    """``b - a`` per fold (same folds): 'mean ± std (b better in k of n folds)'."""
    d = np.array([fb[key] for fb in b["folds"]]) - np.array([fa[key] for fa in a["folds"]])
    return f"{d.mean():+.3f} ± {d.std():.3f} (better in {(d > 0).sum()}, worse in {(d < 0).sum()} of {len(d)})"


def tables(results, log):
    if "a" in results:
        log("\n(a) CK+48, GroupKFold(5) over subjects (mean ± std over folds; pooled)\n")
        log("| model | crops | emotion WAR | emotion UAR | AU mean F1 | pooled AU F1 | time (s) |")
        log("|---|---|---|---|---|---|---|")
        for name, r in results["a"]["rows"].items():
            task, crops = name.split(" ")
            au_label = "" if "AUs" in task else " (from predicted emotion)"
            log(f"| {task} | {'subject-normalised' if crops == 'norm' else 'raw'} | "
                f"{mean_std([f['WAR'] for f in r['folds']])} | "
                f"{mean_std([f['UAR'] for f in r['folds']])} | "
                f"{mean_std([f['AU_F1'] for f in r['folds']])}{au_label} | "
                f"{r['pooled_AU_F1']:.3f} | {r['seconds']:.0f} |")
        rows = results["a"]["rows"]
        for crops in ("raw", "norm"):
            a, b = rows.get(f"emotion {crops}"), rows.get(f"emotion+AUs {crops}")
            if a and b:
                log(f"\nemotion+AUs - emotion, {crops} crops, per fold: WAR {paired(a, b, 'WAR')}; "
                    f"UAR {paired(a, b, 'UAR')}; AU F1 {paired(a, b, 'AU_F1')}")
    for part, title in (("b", "(b) CK+48 -> JAFFE transfer"),
                        ("c", "(c) mixed labels, CK+48 + JAFFE trained together")):
        if part not in results:
            continue
        log(f"\n{title}, leave-one-subject-out on JAFFE (mean ± std over 10 folds)\n")
        log("| model | WAR | UAR | time (s) |")
        log("|---|---|---|---|")
        for name, r in results[part]["rows"].items():
            seconds = r["seconds"] + r.get("source_seconds", 0.0)
            log(f"| {name} | {mean_std([f['clip_WAR'] for f in r['folds']])} | "
                f"{mean_std([f['clip_UAR'] for f in r['folds']])} | {seconds:.0f} |")
        rows = list(results[part]["rows"].values())
        a, b = rows[0], rows[1]
        log(f"\nsecond - first row, per fold: WAR {paired(a, b, 'clip_WAR')}; "
            f"UAR {paired(a, b, 'clip_UAR')}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", nargs="+", choices=("a", "b", "c"), default=["a", "b", "c"])
    parser.add_argument("--generations", type=int, default=20,
                        help="PathNet generations per task (paper: 200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--cache", default=".skpathnet_cache", help="joblib feature cache")
    parser.add_argument("--max-folds", type=int, default=None,
                        help="run only the first folds of each protocol (smoke runs)")
    parser.add_argument("--out", default=str(OUT), help="folder of the JSON results")
    parser.add_argument("--summary", action="store_true", help="print the tables of saved runs")
    args = parser.parse_args(argv)
    out = Path(args.out)

    def log(line):
        print(line, flush=True)

    if args.summary:
        results = {p: json.loads((out / f"{p}.json").read_text())
                   for p in ("a", "b", "c") if (out / f"{p}.json").exists()}
        tables(results, log)
        return 0
    memory = Memory(args.cache, verbose=0) if args.cache else None
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    start = time.perf_counter()
    for part in args.parts:
        t0 = time.perf_counter()
        res = {"a": part_a, "b": part_b, "c": part_c}[part](args, memory, log)
        res.update(generations=args.generations, seed=args.seed, threads=args.threads,
                   params=PARAMS, seconds=time.perf_counter() - t0)
        write_json(out / f"{part}.json", res)
        results[part] = res
    tables(results, log)
    log(f"\nwall time {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
