"""Speaker normalisation with few clips of a new speaker (issue 28, item 4).

The best speech models standardise each speaker's features with that
speaker's own statistics (:class:`~skpathnet.transformers.GroupStandardScaler`);
the experiments do it with all of a test speaker's clips. A deployed model
meets a new speaker with only a few clips. This script measures, on EMO-DB
leave-one-speaker-out (10 speakers, clip level, ``AcousticFunctionals``, the
main job's default front end), what accuracy that costs:

- Each fold trains each model once, on the nine training speakers, each
  normalised with all of its own clips (as the experiments do).
- The test speaker is normalised with the statistics of k of its clips
  (k in ``--ks``; ``all`` = every clip, and any k at or above the speaker's
  clip count), drawn at random (``--draws`` seeded draws per k), applied to
  all of its clips, which are all scored. The k clips are unlabelled input
  to the normalisation, never their labels, so scoring them too is honest.
  GroupStandardScaler is fitted on the k clips with the speaker's id and
  then transforms all of them (a known group uses its fitted statistics).
  For k = 1 the clip's std is 0 everywhere, which the scaler replaces by 1:
  the clips are only centred on that one clip, not scaled.
- ``shrunk``: ``GroupStandardScaler(shrinkage=True)``, as ``skpathnet fit``
  models have it: the test speaker's per-feature mean and variance are
  shrunk towards the training speakers' average (normal-normal posterior
  means, the prior ``prior_`` fitted on the fold's training speakers
  alone; see the class Notes and :func:`shrunk_normalise`).
- ``none``: the same model family trained and tested without speaker
  normalisation (the SVM's StandardScaler, PathNetClassifier's
  ``standardize=True``: one standardisation from the training clips).

Models: the linear SVM of ``bench_accuracy.py``'s ``functionals-svm-norm``
and PathNet from scratch at the main job's settings (``BEST_AUDIO["params"]``,
as ``pathnet-l2-func-scratch``) at ``--generations`` (40, the main job's),
seed 0. WAR and UAR are pooled over the 10 folds for each draw, then
mean ± std over the draws (pooled over folds and draws is the same mean:
every draw scores the same clips).

Usage::

    SKPATHNET_DATA=../shared/data python benchmarks/bench_speaker_norm.py --threads 1
    python benchmarks/bench_speaker_norm.py --summary   # table and figure from the JSON

Writes ``benchmarks/results/speaker_norm/emodb.json`` (scores only),
``emodb.md`` (the tables) and ``curve.png``.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from joblib import Memory
from sklearn.base import clone
from sklearn.model_selection import LeaveOneGroupOut

from skpathnet.experiments import BEST_AUDIO, extract_features, load_corpus, write_json
from skpathnet.metrics import uar_score, war_score
from skpathnet.transformers import GroupStandardScaler
from skpathnet.transformers._group_scaling import _shrunk_stats  # see shrunk_normalise

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # the scripts are no package
from bench_accuracy import METHODS  # noqa: E402  (the same estimators as its rows)

OUT = HERE / "results" / "speaker_norm"
#: model name -> bench_accuracy method whose estimator it is
MODELS = {"svm": "functionals-svm-norm", "pathnet": "pathnet-l2-func-scratch"}
LABELS = {"svm": "linear SVM", "pathnet": "PathNet scratch"}
VARIANTS = {"none": "no speaker normalisation", "speaker": "speaker norm. from k clips",
            "shrunk": "shrunk towards training speakers"}
KS = ("1", "2", "5", "10", "20", "all")


def draw_clips(n_clips, k, n_draws, seed):
    """Which of a speaker's ``n_clips`` clips give its statistics: a list of index arrays.

    ``n_draws`` sorted draws of ``k`` distinct clips, from
    ``numpy.random.default_rng(seed)``; a single draw of every clip when ``k``
    is None or at least ``n_clips``.
    """
    if k is None or k >= n_clips:
        return [np.arange(n_clips)]
    rng = np.random.default_rng(seed)
    return [np.sort(rng.choice(n_clips, size=k, replace=False)) for _ in range(n_draws)]


def speaker_normalise(X, idx, speaker):
    """All of one speaker's clips ``X`` standardised with the statistics of ``X[idx]``."""
    groups = np.full(len(X), speaker)
    scaler = GroupStandardScaler().fit(X[idx], groups=groups[idx])
    return scaler.transform(X, groups=groups)


def fit_scaler(X, y, groups):
    """The fold's ``GroupStandardScaler(shrinkage=True)``, fitted on the training speakers.

    Known (training) speakers are standardised with their own statistics
    exactly as without shrinkage; ``prior_`` is the prior of a new
    speaker's statistics.
    """
    return GroupStandardScaler(shrinkage=True).fit(X, y, groups=groups)


def shrunk_normalise(X, idx, scaler):
    """All clips ``X`` of a new speaker standardised with ``X[idx]``'s shrunk statistics.

    ``scaler`` is :func:`fit_scaler`'s. ``scaler.transform(X[idx])`` standardises
    the k clips themselves with their statistics shrunk towards ``scaler.prior_``
    (one unknown group); the package has no public way to apply the statistics
    of k clips of a new speaker to its other clips (a known group's statistics
    come from :meth:`~GroupStandardScaler.fit`, without shrinkage), so this
    adapter takes them from the package's own helper, ``_shrunk_stats``, and
    applies them as ``transform`` does: ``(x - mean) / std`` in float64, back to
    ``X``'s dtype. On the k clips it equals ``scaler.transform(X[idx])`` bit for
    bit (tests/test_bench_speaker_norm.py).
    """
    mean, std = _shrunk_stats(X[idx], scaler.prior_)
    return ((X.astype(np.float64) - mean) / std).astype(X.dtype)


def run(args, log):
    memory = Memory(args.cache, verbose=0) if args.cache else None
    bunch = load_corpus("emodb")
    X = extract_features("emodb", bunch, features=BEST_AUDIO["features"], speaker_norm=False,
                         memory=memory)
    y, speakers = bunch.target, bunch.groups
    log(f"emodb: {len(X)} clips, {X.shape[1]} {BEST_AUDIO['features']}, "
        f"{len(np.unique(speakers))} speakers")
    estimators = {}
    for name in args.models:
        estimators[name] = METHODS[MODELS[name]].estimator(args.seed, args.threads)
        if name == "pathnet":
            estimators[name].set_params(n_generations=args.generations)
    ks = [None if k == "all" else int(k) for k in args.ks]
    # predictions[model][variant][k label][draw] = list over folds of prediction arrays
    preds = {m: {v: {} for v in VARIANTS} for m in estimators}
    truth, n0s, nu0s, seconds = [], [], [], {m: 0.0 for m in estimators}
    t_all = time.perf_counter()
    for fold, (train, test) in enumerate(LeaveOneGroupOut().split(X, y, speakers)):
        speaker = speakers[test][0]
        truth.append(y[test])
        scaler = fit_scaler(X[train], y[train], speakers[train])
        X_train = scaler.transform(X[train], groups=speakers[train])
        n0s.append(float(np.median(scaler.prior_["n_mean"])))
        nu0s.append(float(np.median(scaler.prior_["df_var"])))
        draws = {label: draw_clips(len(test), k, args.draws, [args.seed, fold, k or 0])
                 for label, k in zip(args.ks, ks)}
        for label, k in zip(args.ks, ks):  # k at or above this speaker's clips: all, each draw
            if k is not None and len(draws[label]) == 1:
                draws[label] = draws[label] * args.draws
        for name, estimator in estimators.items():
            t0 = time.perf_counter()
            plain = clone(estimator).fit(X[train], y[train])
            normed = clone(estimator).fit(X_train, y[train])
            preds[name]["none"].setdefault("all", [[]])[0].append(plain.predict(X[test]))
            for label, indices in draws.items():
                for variant, normalise in (("speaker", speaker_normalise),
                                           ("shrunk", shrunk_normalise)):
                    per_draw = preds[name][variant].setdefault(
                        label, [[] for _ in indices])
                    for d, idx in enumerate(indices):
                        X_test = normalise(X[test], idx, speaker if variant == "speaker"
                                           else scaler)
                        per_draw[d].append(normed.predict(X_test))
            seconds[name] += time.perf_counter() - t0
        log(f"fold {fold} (speaker {speaker}, {len(test)} clips): "
            f"{time.perf_counter() - t_all:.0f} s")
    y_all = np.concatenate(truth)
    scores = {m: {v: {} for v in VARIANTS} for m in estimators}
    for m, by_variant in preds.items():
        for v, by_k in by_variant.items():
            for label, per_draw in by_k.items():
                war = [war_score(y_all, np.concatenate(p)) for p in per_draw]
                uar = [uar_score(y_all, np.concatenate(p)) for p in per_draw]
                scores[m][v][label] = {"WAR": war, "UAR": uar}
    result = {
        "corpus": "emodb", "cv": "LeaveOneGroupOut()", "features": BEST_AUDIO["features"],
        "n_clips": len(y_all), "clips_per_speaker": {str(s): int(np.sum(speakers == s))
                                                     for s in np.unique(speakers)},
        "ks": args.ks, "draws": args.draws, "seed": args.seed, "threads": args.threads,
        "models": {m: {"method": MODELS[m],
                       "params": {k: v for k, v in est.get_params().items() if "__" not in k}}
                   for m, est in estimators.items()},
        "shrinkage_median_n0_per_fold": n0s, "shrinkage_median_nu0_per_fold": nu0s,
        "seconds": seconds, "wall_seconds": time.perf_counter() - t_all, "scores": scores,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    write_json(OUT / "emodb.json", result)
    return result


def cell(values):
    values = np.asarray(values)
    return f"{values.mean():.3f}" if len(values) == 1 else \
        f"{values.mean():.3f} ± {values.std():.3f}"


def tables(result):
    """The Markdown tables (WAR, then UAR) of a result."""
    ks = result["ks"]
    lines = []
    for metric in ("WAR", "UAR"):
        lines += [f"| {metric} | normalisation | " + " | ".join(f"k = {k}" for k in ks) + " |",
                  "|---|---|" + "---|" * len(ks)]
        for m, by_variant in result["scores"].items():
            for v, by_k in by_variant.items():
                if v == "none":
                    row = [cell(by_k["all"][metric])] * len(ks)
                else:
                    row = [cell(by_k[k][metric]) for k in ks]
                lines.append(f"| {LABELS[m]} | {VARIANTS[v]} | " + " | ".join(row) + " |")
        lines.append("")
    return "\n".join(lines)


def figure(result, path):
    """Accuracy against k (log axis), one line per model and normalisation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = result["ks"]
    n_max = max(result["clips_per_speaker"].values())
    x = [n_max if k == "all" else int(k) for k in ks]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    colours = {"svm": "tab:blue", "pathnet": "tab:orange"}
    for ax, metric in zip(axes, ("WAR", "UAR")):
        for m, by_variant in result["scores"].items():
            for v, style in (("speaker", "-o"), ("shrunk", "--s")):
                values = [np.asarray(by_variant[v][k][metric]) for k in ks]
                ax.errorbar(x, [a.mean() for a in values], yerr=[a.std() for a in values],
                            fmt=style, color=colours[m], ms=4, capsize=2,
                            label=f"{LABELS[m]}, {v}")
            ax.axhline(np.mean(by_variant["none"]["all"][metric]), color=colours[m], ls=":",
                       label=f"{LABELS[m]}, none")
        ax.set_xscale("log")
        ax.set_xticks(x, [str(k) for k in ks])
        ax.minorticks_off()
        ax.set_xlabel("clips of the test speaker for its statistics (k)")
        ax.set_title(f"EMO-DB leave-one-speaker-out, {metric}")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("pooled score (mean ± std over draws)")
    axes[1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ks", nargs="+", default=list(KS),
                        help="clips per test speaker for its statistics; 'all' for every clip")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--draws", type=int, default=5, help="seeded draws per k")
    parser.add_argument("--generations", type=int, default=40, help="PathNet generations")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--cache", default=".skpathnet_cache", help="joblib feature cache")
    parser.add_argument("--summary", action="store_true",
                        help="tables and figure from the saved JSON, no run")
    args = parser.parse_args(argv)
    bad = [k for k in args.ks if k != "all" and not (k.isdigit() and int(k) > 0)]
    if bad:
        parser.error(f"--ks: positive integers or 'all', not {bad}")

    def log(line):
        print(line, flush=True)

    if args.summary:
        result = json.loads((OUT / "emodb.json").read_text())
    else:
        result = run(args, log)
    text = tables(result)
    (OUT / "emodb.md").write_text(text)
    figure(result, OUT / "curve.png")
    log(text)
    log(f"wall {result['wall_seconds']:.0f} s; fit+predict seconds {result['seconds']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
