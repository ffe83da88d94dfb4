"""Command line: ``skpathnet transfer --source ravdess --target emodb``."""

import argparse
import sys

from sklearn.model_selection import GroupKFold

from ._experiment import CORPORA, run_transfer_experiment
from ._report import format_markdown, save_results

DEFAULT_SOURCES = {"audio": ["ravdess"], "visual": ["ckplus"]}
DEFAULT_TARGETS = {"audio": "emodb", "visual": "jaffe"}


def build_parser():
    parser = argparse.ArgumentParser(
        prog="skpathnet",
        description="PathNet transfer learning for emotion recognition.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "transfer",
        help="fit_transfer on source corpora, then score transfer and scratch "
        "on the target, leave-one-speaker/subject-out",
    )
    p.add_argument("--modality", choices=["audio", "visual"], default="audio")
    p.add_argument("--source", nargs="+", choices=sorted(CORPORA),
                   help="source corpora, learnt in order (default: ravdess; visual: ckplus)")
    p.add_argument("--target", choices=sorted(CORPORA),
                   help="target corpus (default: emodb; visual: jaffe)")
    p.add_argument("--full", action="store_true",
                   help="the paper's full settings: 200 generations (default: 40)")
    p.add_argument("--generations", type=int, default=None,
                   help="generations per task (overrides --full)")
    p.add_argument("--population", type=int, default=20, help="population size (paper: 20)")
    p.add_argument("--seed", type=int, default=0, help="random_state")
    p.add_argument("--tournament", choices=["serial", "parallel"], default="serial",
                   help="train a tournament's two pathways one after the other (the "
                   "paper's) or side by side on shared mini-batches (faster)")
    p.add_argument("--module", choices=["linear", "conv"], default="linear",
                   help="PathNet module type: a linear layer of 20 units (the paper's) or a "
                   "3x3 convolution of 8 channels on the 3x64x64 images")
    p.add_argument("--methods", nargs="+", choices=["transfer", "scratch"],
                   default=["transfer", "scratch"])
    p.add_argument("--folds", type=int, default=None,
                   help="GroupKFold with this many folds instead of leave-one-group-out "
                   "(for targets with many subjects, e.g. CK+48)")
    p.add_argument("--data-home", default=None, help="corpora folder (default: $SKPATHNET_DATA)")
    p.add_argument("--n-jobs", type=int, default=2, help="feature-extraction workers")
    p.add_argument("--cache", default=".skpathnet_cache",
                   help="joblib feature cache folder ('' disables)")
    p.add_argument("--out", default="results", help="folder for the JSON and Markdown reports")
    p.add_argument("--device", default="cpu", help="torch device: cpu or cuda")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    sources = args.source or DEFAULT_SOURCES[args.modality]
    target = args.target or DEFAULT_TARGETS[args.modality]
    generations = args.generations or (200 if args.full else 40)
    params = dict(
        n_generations=generations,
        population_size=args.population,
        random_state=args.seed,
        tournament=args.tournament,
        module=args.module,
        device=args.device,
        verbose=not args.quiet,
    )
    try:
        results = run_transfer_experiment(
            sources, target, params=params, data_home=args.data_home,
            n_jobs=args.n_jobs, cache=args.cache or None, methods=tuple(args.methods),
            cv=None if args.folds is None else GroupKFold(n_splits=args.folds),
        )
    except (FileNotFoundError, ValueError) as exc:
        print(f"skpathnet: error: {exc}", file=sys.stderr)
        return 2
    stem = f"{'+'.join(sources)}-to-{target}-g{generations}"
    json_path, md_path = save_results(results, args.out, stem)
    print()
    print(format_markdown(results))
    print(f"saved {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
