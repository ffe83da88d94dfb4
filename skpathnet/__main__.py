"""Command line: ``skpathnet transfer --source ravdess --target emodb``."""

import argparse
import sys

from sklearn.model_selection import GroupKFold

from ._experiment import AUDIO_FEATURES, BEST_AUDIO, CORPORA, run_transfer_experiment
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
    p.add_argument("--paper", action="store_true",
                   help="the paper's configuration: log-mel segments without speaker "
                   "normalisation, T = n / 64 SGD steps at learning rate 0.02, 200 "
                   "generations (default: the best configuration of benchmarks/RESULTS.md)")
    p.add_argument("--features", choices=sorted(AUDIO_FEATURES), default=None,
                   help="audio front end: openSMILE ComParE_2016 or eGeMAPSv02 functionals "
                   "(the opensmile extra), or the paper's log-mel segments (default: "
                   f"{BEST_AUDIO['features']}; --paper: logmel)")
    p.add_argument("--speaker-norm", action=argparse.BooleanOptionalAction, default=None,
                   help="standardise each speaker/subject with its own statistics (default: "
                   "on for speech, off with --paper and for faces)")
    p.add_argument("--full", action="store_true",
                   help="200 generations per task, the paper's (default: 40; --paper: 200)")
    p.add_argument("--generations", type=_positive_int, default=None,
                   help="generations per task (overrides --full and --paper)")
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


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text}")
    return value


def configuration(args):
    """``(features, speaker_norm, params)``: the best configuration, or the paper's."""
    best = args.modality == "audio" and not args.paper
    features = args.features or (BEST_AUDIO["features"] if best else "logmel")
    speaker_norm = args.speaker_norm
    if speaker_norm is None:
        speaker_norm = best and BEST_AUDIO["speaker_norm"]
    params = dict(BEST_AUDIO["params"]) if best else {}
    if args.generations is not None:
        params["n_generations"] = args.generations
    else:
        params["n_generations"] = 200 if args.full or args.paper else 40
    return features, speaker_norm, params


def main(argv=None):
    args = build_parser().parse_args(argv)
    sources = args.source or DEFAULT_SOURCES[args.modality]
    target = args.target or DEFAULT_TARGETS[args.modality]
    features, speaker_norm, params = configuration(args)
    generations = params["n_generations"]
    params.update(
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
            features=features, speaker_norm=speaker_norm,
        )
    except (FileNotFoundError, ValueError, ImportError) as exc:
        print(f"skpathnet: error: {exc}", file=sys.stderr)
        return 2
    config = "paper" if args.paper else f"{results['features']}{'-norm' if speaker_norm else ''}"
    stem = f"{'+'.join(sources)}-to-{target}-{config}-g{generations}"
    json_path, md_path = save_results(results, args.out, stem)
    print()
    print(format_markdown(results))
    print(f"saved {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
