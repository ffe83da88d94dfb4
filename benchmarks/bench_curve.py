"""Learning-curve benchmark (issue 31): when does transfer pay as the target shrinks?

Leave one speaker of the target out and train on ``K`` other speakers drawn
at random (``--unit speakers``, K = 1, 2, 4, all) or on ``n`` clips per
emotion drawn from all the others (``--unit clips``, n = 1, 2, 5, 10, all),
several seeded draws per size; PathNet with transfer from every other
corpus of the modality (``--sources all``, leave-one-corpus-out), PathNet
from scratch, cascaded fine-tuning and a linear SVM, all on the same draws,
through :func:`skpathnet.experiments.run_curve_experiment`. Defaults: the
main job's front end (librosa functionals), speaker normalisation "auto"
and PathNet settings (``BEST_AUDIO``, 40 generations).

Usage::

    SKPATHNET_DATA=../shared/data python -u benchmarks/bench_curve.py --target emodb \\
        --threads 1 --cache .skpathnet_cache
    python -u benchmarks/bench_curve.py --target emovo --draws 2 --threads 1
    python -u benchmarks/bench_curve.py --target emodb --unit clips --sizes 1 5 all
    python -u benchmarks/bench_curve.py --target emodb --sizes 1 2 --methods transfer scratch \
        --pathnet fitness=validation --tag validation
    python benchmarks/bench_curve.py --pair results/curve/emodb-speakers-validation.json:transfer \
        results/curve/emodb-speakers.json:scratch

Writes ``benchmarks/results/curve/<target>-<unit>.json`` (no per-clip
predictions), ``.md`` (the tables for RESULTS.md) and ``.png`` (pooled clip
WAR against the training size, log x axis); ``--checkpoint`` saves every fold
as it finishes and ``--resume`` continues an interrupted run.
"""

import argparse
import json
import time
from pathlib import Path

from skpathnet.experiments import (
    BEST_AUDIO, BEST_VISUAL, CORPORA, curve_methods, format_curve_markdown, paired_difference,
    run_curve_experiment, save_curve_results,
)

HERE = Path(__file__).parent
OUT = HERE / "results" / "curve"


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="emodb", help="target corpus (default: emodb)")
    parser.add_argument("--sources", nargs="+", default=["all"],
                        help="source corpora, learnt in order; 'all' (default): every other "
                             "corpus of the target's modality under the data home")
    parser.add_argument("--unit", choices=("speakers", "clips"), default="speakers")
    parser.add_argument("--sizes", nargs="+", default=None,
                        help="sizes (integers or 'all'); default: 1 2 4 all speakers, "
                             "1 2 5 10 all clips per emotion")
    parser.add_argument("--draws", type=int, default=3, help="seeded draws per size")
    parser.add_argument("--methods", nargs="+", default=None,
                        choices=("transfer", "scratch", "finetune", "svm"),
                        help="default: all four")
    parser.add_argument("--generations", type=int, default=40,
                        help="PathNet generations (default 40: the main job's)")
    parser.add_argument("--features", default=None,
                        help="front end; default: the modality's best (functionals, hog)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the networks and of the first draw")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per network")
    parser.add_argument("--n-jobs", type=int, default=1, help="feature-extraction workers")
    parser.add_argument("--fold-jobs", type=int, default=None, help="folds fitted at once")
    parser.add_argument("--cache", default=".skpathnet_cache", help="feature cache ('' : none)")
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--checkpoint", default=None, help="folder saving every fold")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--pathnet", nargs="+", default=[], metavar="NAME=VALUE",
                        type=pathnet_setting,
                        help="PathNet parameters on top of the defaults, for transfer and "
                             "scratch alike (values read as JSON: fitness='\"validation\"' "
                             "or fitness=validation, frozen_weight=0.5)")
    parser.add_argument("--pair", nargs=2, default=None, metavar="FILE.json:METHOD",
                        help="no run: pair two saved runs' methods fold by fold at every size "
                             "both have (the same draws: same target, unit and seed), e.g. "
                             "emodb-speakers-source-ravdess.json:transfer "
                             "emodb-speakers.json:scratch")
    parser.add_argument("--tag", default=None,
                        help="appended to the output names (<target>-<unit>-<tag>.*), for a "
                             "run with other --pathnet settings beside the default one")
    return parser


def pathnet_setting(text):
    """``NAME=VALUE`` of ``--pathnet``: VALUE as JSON, else as a string."""
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE; got {text!r}")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value


def pair_runs(first, second, log=print):
    """Pair two saved runs' methods (``(path, method)`` each) test speaker by test speaker.

    Returns ``{size: {"WAR": PairedDifference, "UAR": ...}}`` for every size
    of both runs; raises ValueError (from ``paired_difference``) where their
    folds differ.
    """
    runs = [(json.loads(Path(path).read_text()), method) for path, method in (first, second)]
    curves = [{str(entry["size"]): entry["methods"][method] for entry in run["curve"]}
              for run, method in runs]
    out = {}
    for size in [size for size in curves[0] if size in curves[1]]:
        a, b = curves[0][size], curves[1][size]
        for key in ("n_train_clips", "group", "draw"):  # the same draws, fold by fold
            if [f.get(key) for f in a["folds"]] != [f.get(key) for f in b["folds"]]:
                raise ValueError(f"size {size}: the runs trained on other draws ({key} differs)")
        out[size] = {key: paired_difference(a["folds"], b["folds"], f"clip_{key}")
                     for key in ("WAR", "UAR")}
        war, uar = out[size]["WAR"], out[size]["UAR"]
        log(f"| {size} | {a['clip']['WAR']:.3f} | {b['clip']['WAR']:.3f} | {war.mean:+.3f} ± "
            f"{war.std:.3f} ({war.wins} / {war.ties} / {war.losses}, p = {war.p_value:.2f}) | "
            f"{uar.mean:+.3f} (p = {uar.p_value:.2f}) |")
    return out


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.pair:
        return pair_runs(*(spec.rpartition(":")[::2] for spec in args.pair))
    visual = args.target in CORPORA and CORPORA[args.target][1] == "visual"
    best = BEST_VISUAL if visual else BEST_AUDIO
    sizes = None if args.sizes is None else [s if s == "all" else int(s) for s in args.sizes]
    methods = curve_methods({**best["params"], "n_generations": args.generations,
                             **dict(args.pathnet)},
                            random_state=args.seed, n_threads=args.threads)
    if args.methods:
        methods = {name: methods[name] for name in args.methods}
    sources = "all" if args.sources == ["all"] else args.sources
    t0 = time.perf_counter()

    def log(line):
        print(f"[{time.perf_counter() - t0:6.0f} s] {line}", flush=True)

    results = run_curve_experiment(
        sources, args.target, unit=args.unit, sizes=sizes, n_draws=args.draws, methods=methods,
        random_state=args.seed, features=args.features or best["features"],
        speaker_norm=best["speaker_norm"], data_home=args.data_home,
        cache=args.cache or None, n_jobs=args.n_jobs, fold_jobs=args.fold_jobs,
        checkpoint=args.checkpoint, resume=args.resume, log=log)
    results["threads"] = args.threads
    stem = f"{args.target}-{args.unit}" + (f"-{args.tag}" if args.tag else "")
    json_path, md_path = save_curve_results(results, args.out, stem, predictions=False)
    png = Path(args.out) / f"{stem}.png"
    save_figure(results, png)
    print(format_curve_markdown(results))
    log(f"wrote {json_path}, {md_path}, {png}")
    return results


def save_figure(results, path):
    """Pooled clip WAR and UAR against the training size, side by side, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skpathnet.plotting import plot_learning_curve

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, metric in zip(axes, ("WAR", "UAR")):
        plot_learning_curve(results, metric=metric, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
