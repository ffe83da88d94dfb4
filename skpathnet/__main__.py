"""Command line: ``skpathnet transfer --source ravdess --target emodb``."""

import argparse
import json
import sys
import warnings
from contextlib import nullcontext
from pathlib import Path

from sklearn.model_selection import GroupKFold

from .experiments import (
    AUDIO_FEATURES, BEST_AUDIO, BEST_VISUAL, CORPORA, VISUAL_FEATURES, ClusterError,
    collect_inputs, dask_cluster, fit_final, format_curve_markdown, format_description,
    format_markdown, format_predictions, load_corpus, other_corpora, predict_files, pretrain,
    resolve_sources, run_curve_experiment, run_transfer_experiment, save_curve_results,
    save_results,
)
from .experiments.checkpoint import check_writable, describe_saved
from .experiments.checkpoint import remove as remove_checkpoint
from .io import export_onnx, load, read_info, save
from .utils import torch_threads

DEFAULT_SOURCES = {"audio": ["ravdess"], "visual": ["ckplus"]}
DEFAULT_TARGETS = {"audio": "emodb", "visual": "jaffe"}


def build_parser():
    parser = argparse.ArgumentParser(
        prog="skpathnet",
        description="PathNet transfer learning for emotion recognition: evaluate a transfer, "
        "pretrain on source corpora, fit a final model, label new recordings.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "evaluate", aliases=["transfer"],
        help="fit_transfer on source corpora, then score transfer and scratch "
        "on the target, leave-one-speaker/subject-out",
    )
    _corpus_options(p)
    p.add_argument("--source", nargs="+", metavar="CORPUS",
                   help="source corpora, learnt in order: built-in names "
                   f"({', '.join(sorted(CORPORA))}), manifest CSV files or folders, or "
                   "'all': every other built-in corpus of the target's modality "
                   "(default: ravdess; visual: ckplus)")
    p.add_argument("--target", metavar="CORPUS",
                   help="target corpus, as for --source (default: emodb; visual: jaffe)")
    _overlap_option(p)
    _training_options(p)
    p.add_argument("--methods", nargs="+", choices=["transfer", "scratch"],
                   default=["transfer", "scratch"])
    _folds_option(p)
    p.add_argument("--out", default="results", help="folder for the JSON and Markdown reports")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="run the folds on the Dask cluster of this scheduler, e.g. "
                       "tcp://10.0.0.5:8786 (workers started with --nthreads 1; the dask "
                       "extra); features and the source phase run here")
    where.add_argument("--local-cluster", metavar="N", type=_positive_int, default=None,
                       help="run the folds on a Dask LocalCluster of N single-thread worker "
                       "processes on this machine (the dask extra)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the reports <out>/<name>.json and .md of an earlier run "
                   "(refused otherwise)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from what it saved in "
                   "<out>/<name>.parts (the same options otherwise)")

    p = sub.add_parser(
        "pretrain", help="fit_transfer on source corpora and save the pretrained model "
        "(a library of frozen pathways) to a file")
    _corpus_options(p)
    p.add_argument("--source", nargs="+", metavar="CORPUS",
                   help="source corpora, learnt in order, as for evaluate, or 'all': every "
                   "built-in corpus of the modality (default: ravdess; visual: ckplus)")
    p.add_argument("--pretrained", metavar="FILE", default=None,
                   help="a pretrained model to add these sources to (its frozen pathways "
                   "stay; its front end and settings are kept)")
    _training_options(p)
    _model_out_option(p)

    p = sub.add_parser(
        "fit", help="train the final model on a whole target corpus (front end and speaker "
        "normalisation included) and save it to a file")
    _corpus_options(p)
    origin = p.add_mutually_exclusive_group()
    origin.add_argument("--source", nargs="+", metavar="CORPUS",
                        help="source corpora to learn first (transfer), or 'all': every other "
                        "built-in corpus of the target's modality")
    origin.add_argument("--pretrained", metavar="FILE", default=None,
                        help="a model file from `skpathnet pretrain`: transfer with no source "
                        "data on this machine (its front end and settings are used)")
    p.add_argument("--target", metavar="CORPUS", required=True,
                   help="the corpus to learn: a built-in name, a manifest CSV or a folder")
    p.add_argument("--evaluate", action="store_true",
                   help="also run the leave-one-speaker/subject-out evaluation of the same "
                   "training and keep its summary in the file")
    _folds_option(p)
    _overlap_option(p)
    _training_options(p)
    _model_out_option(p)

    p = sub.add_parser(
        "curve", help="learning curve: transfer, scratch, fine-tuning and a linear SVM as "
        "the target trains on K speakers (or n clips per emotion), leave-one-speaker-out")
    _corpus_options(p)
    p.add_argument("--source", nargs="+", metavar="CORPUS", default=["all"],
                   help="source corpora, learnt in order, or 'all': every other built-in "
                   "corpus of the target's modality (default: all)")
    p.add_argument("--target", metavar="CORPUS", required=True,
                   help="the target corpus: a built-in name, a manifest CSV or a folder")
    p.add_argument("--unit", choices=["speakers", "clips"], default="speakers",
                   help="train on K other speakers, or on n clips per emotion drawn from them")
    p.add_argument("--sizes", nargs="+", metavar="N", default=None,
                   help="training sizes, positive integers or 'all' (default: 1 2 4 all "
                   "speakers; 1 2 5 10 all clips per emotion)")
    p.add_argument("--draws", type=_positive_int, default=3,
                   help="seeded draws of the training speakers/clips per size (default: 3)")
    _overlap_option(p)
    _training_options(p)
    p.add_argument("--out", default="results", help="folder for the JSON, Markdown and PNG")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the reports of an earlier run of these settings")

    p = sub.add_parser("predict", help="label audio, video or image files with a model file")
    p.add_argument("model", metavar="MODEL", help="a model file from `skpathnet fit`")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="files, folders (searched recursively) or manifest CSV files (a "
                   "'file' column, optionally 'group')")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--group-pattern", default=None,
                     help="regular expression with one named group, searched in each file's "
                     "path (relative to the folder given), that gives its speaker/subject, "
                     r"e.g. '^(?P<group>[^/]+)/'; each speaker is normalised with its own "
                     "files, best from about 10 files each (default without it or a "
                     "manifest's group column: each file is its own speaker)")
    who.add_argument("--one-speaker", action="store_true",
                     help="every input is the same speaker/subject")
    p.add_argument("--format", choices=["csv", "json"], default="csv",
                   help="output format (default: csv)")
    p.add_argument("--out", default=None, help="output file (default: standard output)")
    p.add_argument("--n-jobs", type=_n_jobs, default=2,
                   help="files read at once (-1: all cores)")
    p.add_argument("--threads", type=_int_at_least(1), default=None,
                   help="torch CPU threads (default: torch's)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")

    p = sub.add_parser("export-onnx", help="write a model's best pathway as an ONNX graph "
                       "(features in, probabilities out; the onnx extra), checked against "
                       "torch with onnxruntime")
    p.add_argument("model", metavar="MODEL", help="a model file from `skpathnet fit`")
    p.add_argument("--out", metavar="FILE", required=True, help="the .onnx file to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")

    p = sub.add_parser("describe", help="what a model file is, what it was trained on, its "
                       "settings and evaluation (read without building the network)")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--json", action="store_true", help="print the description as JSON")
    return parser


def _corpus_options(p):
    """The options of users' corpora (and the modality), shared by the training commands."""
    p.add_argument("--modality", choices=["audio", "visual"], default=None,
                   help="speech or faces (default: that of --source/--target, else audio); "
                   "it must match the corpora")
    p.add_argument("--label-pattern", default=None,
                   help="for a corpus given as a folder: regular expression with one named "
                   "group, applied to each file's path relative to the folder, that gives "
                   r"its emotion, e.g. '^[^/]+/(?P<label>[^/]+)/'")
    p.add_argument("--group-pattern", default=None,
                   help="for a folder: the same for the speaker/subject, e.g. "
                   r"'^(?P<group>[^/]+)/'")
    p.add_argument("--label-map", nargs="+", metavar="LABEL=EMOTION", type=_label_pair,
                   default=None,
                   help="for a manifest or folder: map its labels onto the shared emotions, "
                   "e.g. --label-map fru=anger exc=happiness (on top of the default map)")
    p.add_argument("--keep-labels", action="store_true",
                   help="for a manifest or folder: keep its labels as given instead of "
                   "mapping them onto the shared emotions")
    p.add_argument("--fold-groups", action="store_true",
                   help="for a manifest or folder: speaker/subject ids that differ only in "
                   "case (spk03, SPK03) are one speaker")
    p.add_argument("--data-home", default=None, help="corpora folder (default: $SKPATHNET_DATA)")


def _overlap_option(p):
    p.add_argument("--allow-overlap", action="store_true",
                   help="run even if a source and the target share files (by path or "
                   "content), e.g. emodb -> emodb; refused otherwise, since the test clips "
                   "would be learnt in the source phase")


def _folds_option(p):
    p.add_argument("--folds", type=_int_at_least(2), default=None,
                   help="GroupKFold with this many folds instead of leave-one-group-out "
                   "(for targets with many subjects, e.g. CK+48)")


def _training_options(p):
    """Front end and PathNet options, shared by evaluate, pretrain and fit."""
    p.add_argument("--paper", action="store_true",
                   help="the paper's configuration: log-mel segments (faces: crops) without "
                   "speaker normalisation, T = n / 64 SGD steps at learning rate 0.02, 200 "
                   "generations (default: the best configuration of benchmarks/RESULTS.md)")
    p.add_argument("--features", choices=list(AUDIO_FEATURES) + list(VISUAL_FEATURES),
                   default=None,
                   help="speech front end: acoustic functionals computed with librosa "
                   "(functionals), the paper's log-mel segments (logmel), or openSMILE's "
                   "ComParE_2016 or eGeMAPSv02 functionals (compare, egemaps: the opensmile "
                   "extra, audEERING's research licence, non-commercial use only) (default: "
                   f"{BEST_AUDIO['features']}; --paper: logmel); face front end: the paper's "
                   "crops or their histograms of oriented gradients (default: "
                   f"{BEST_VISUAL['features']}; --paper: crops)")
    p.add_argument("--speaker-norm", action=argparse.BooleanOptionalAction, default=None,
                   help="standardise each speaker/subject with its own statistics: every "
                   "corpus with --speaker-norm, none with --no-speaker-norm (default: each "
                   "corpus whose speakers/subjects cover more than half of its emotions, so "
                   "not CK+48; --paper: none)")
    p.add_argument("--full", action="store_true",
                   help="200 generations per task, the paper's (default: 40; --paper: 200)")
    p.add_argument("--generations", type=_positive_int, default=None,
                   help="generations per task (overrides --full and --paper)")
    p.add_argument("--population", type=_int_at_least(2), default=20,
                   help="population size, at least 2 for a binary tournament (paper: 20)")
    p.add_argument("--seed", type=int, default=0, help="random_state")
    p.add_argument("--tournament", choices=["serial", "parallel"], default="serial",
                   help="train a tournament's two pathways one after the other (the "
                   "paper's) or side by side on shared mini-batches (faster)")
    p.add_argument("--module", choices=["linear", "conv"], default="linear",
                   help="PathNet module type: a linear layer of 20 units (the paper's) or a "
                   "3x3 convolution of 8 channels on the 3x64x64 images")
    p.add_argument("--n-jobs", type=_n_jobs, default=2,
                   help="feature-extraction workers (-1: all cores)")
    p.add_argument("--threads", type=_int_at_least(1), default=None,
                   help="torch CPU threads during training (default: torch's)")
    p.add_argument("--cache", default=".skpathnet_cache",
                   help="joblib feature cache folder ('' disables)")
    p.add_argument("--device", default="cpu", help="torch device: cpu or cuda")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _model_out_option(p):
    p.add_argument("--out", metavar="FILE", required=True,
                   help="the model file to write (e.g. model.safetensors; no pickle)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")


def _int_at_least(minimum):
    """An argparse type: an integer >= ``minimum``."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer; got {text!r}") from None
        if value < minimum:
            kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
            raise argparse.ArgumentTypeError(f"must be {kind}; got {text}")
        return value
    return parse


_positive_int = _int_at_least(1)


def _label_pair(text):
    """An argparse type: ``LABEL=EMOTION`` -> ``(LABEL, EMOTION)``."""
    label, sep, emotion = text.partition("=")
    if not sep or not label.strip() or not emotion.strip():
        raise argparse.ArgumentTypeError(f"must be LABEL=EMOTION, e.g. fru=anger; got {text!r}")
    return label.strip(), emotion.strip()


def _user_options(args):
    """The options of :func:`load_corpus` for users' corpora, from the command line."""
    return {"label_pattern": args.label_pattern, "group_pattern": args.group_pattern,
            "label_map": dict(args.label_map) if args.label_map else None,
            "keep_labels": args.keep_labels, "fold_groups": args.fold_groups,
            "modality": args.modality}


def _n_jobs(text):
    value = int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be a positive number of workers or -1; got 0")
    return value


def resolve_corpora(args):
    """``(modality, sources, target)``: the corpora, checked against ``--modality``.

    Raises
    ------
    ValueError
        If a corpus is of another modality than ``--modality`` (or than the
        others), or ``--features`` is a front end of the other modality.
    """
    named = (args.source or []) + ([args.target] if args.target else [])
    found = sorted({_modality(n, args) for n in named})
    if len(found) > 1:
        raise ValueError(f"--source and --target mix speech and face corpora: {named}.")
    modality = args.modality or (found[0] if found else "audio")
    if found and found[0] != modality:
        kind = {"audio": "speech", "visual": "face"}[found[0]]
        choices = sorted(n for n, (_, m) in CORPORA.items() if m == modality)
        raise ValueError(
            f"--modality {modality}, but {', '.join(named)} {'is a' if len(named) == 1 else 'are'} "
            f"{kind} corpus{'' if len(named) == 1 else '/corpora'}; choose {modality} corpora "
            f"({', '.join(choices)}) or drop --modality."
        )
    allowed = AUDIO_FEATURES if modality == "audio" else VISUAL_FEATURES
    if args.features is not None and args.features not in allowed:
        kind = {"audio": "speech", "visual": "face"}[modality]
        raise ValueError(
            f"--features {args.features} is not a {kind} front end; choose one of "
            f"{', '.join(sorted(allowed))} for {kind} corpora."
        )
    sources = args.source or DEFAULT_SOURCES[modality]
    target = args.target or DEFAULT_TARGETS[modality]
    return modality, sources, target


def _modality(name, args):
    """The modality of a built-in corpus, or of a user's corpus (listed, not decoded)."""
    if name in CORPORA:
        return CORPORA[name][1]
    with warnings.catch_warnings():  # the run loads it again, and warns then
        warnings.simplefilter("ignore")
        return load_corpus(name, **_user_options(args)).modality


def _label(name):
    """A corpus's name in file names: the built-in name, or the file or folder name."""
    return name if name in CORPORA else Path(name).expanduser().resolve().stem


def _free_stem(out, stem):
    """``stem``, or ``stem-2``, ``stem-3``... if reports of that name exist in ``out``."""
    candidate, n = stem, 1
    while any((Path(out) / f"{candidate}{ext}").exists() for ext in (".json", ".md")):
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def configuration(args):
    """``(features, speaker_norm, params)``: the best configuration, or the paper's."""
    audio = (args.modality or "audio") == "audio"
    best = BEST_AUDIO if audio else BEST_VISUAL
    if args.paper:
        best = {"features": "logmel" if audio else "crops", "speaker_norm": False, "params": {}}
    features = args.features or best["features"]
    speaker_norm = best["speaker_norm"] if args.speaker_norm is None else args.speaker_norm
    params = dict(best["params"])
    if args.generations is not None:
        params["n_generations"] = args.generations
    else:
        params["n_generations"] = 200 if args.full or args.paper else 40
    return features, speaker_norm, params


def main(argv=None):
    """Run a command; return the exit status.

    0: done; 1 (``predict``): some inputs could not be predicted (each
    reported in its ``error`` column), the others were; 2: bad input,
    reported in one line before any expensive step; 130: interrupted
    (Ctrl-C), nothing half-written.
    """
    args = build_parser().parse_args(argv)
    command = {"evaluate": _evaluate, "transfer": _evaluate, "pretrain": _pretrain,
               "fit": _fit, "curve": _curve, "predict": _predict, "describe": _describe,
               "export-onnx": _export_onnx}[args.command]
    return command(args)


def _error(message):
    print(f"skpathnet: error: {message}", file=sys.stderr)
    return 2


def _train_params(args, params, *, verbose=True):
    """``params`` with the PathNet options of the command line."""
    return {**params, "population_size": args.population, "random_state": args.seed,
            "tournament": args.tournament, "module": args.module, "device": args.device,
            "n_threads": args.threads, "verbose": verbose and not args.quiet}


def _evaluate(args):
    """The ``evaluate`` (``transfer``) job.

    Every option, the output and cache folders and the corpora are checked
    before the first expensive step (status 2 with a one-line message), and
    reports of the same name are never replaced without ``--overwrite``
    (one written by another run meanwhile makes this one's ``<name>-2``).
    The run is saved as it goes in ``<out>/<name>.parts``, locked so that a
    second run on it stops at once; Ctrl-C (extraction included) prints
    what was saved and returns 130, and the command it prints continues it.
    """
    try:
        sources, target = _checked_corpora(args, out_folder=True)
    except (OSError, ValueError) as exc:
        return _error(exc)
    features, speaker_norm, params = configuration(args)
    distributed = args.scheduler is not None or args.local_cluster is not None
    generations = params["n_generations"]
    # on a cluster, progress is one line per finished fold (no bars from the workers)
    params = _train_params(args, params, verbose=not distributed)
    config = "paper" if args.paper else (
        f"{features if args.modality == 'audio' or features == 'hog' else 'faces'}"
        f"{'-norm' if speaker_norm else ''}")
    stem = f"{'+'.join(map(_label, sources))}-to-{_label(target)}-{config}-g{generations}"
    parts = Path(args.out) / f"{stem}.parts"
    reports = [Path(args.out) / f"{stem}{ext}" for ext in (".json", ".md")]
    if not args.overwrite and any(p.exists() for p in reports):
        print(f"skpathnet: error: {' and '.join(str(p) for p in reports if p.exists())} "
              "already hold the report of an earlier run of these settings; pass --overwrite "
              "to replace it, or give another --out folder.", file=sys.stderr)
        return 2
    try:
        with (dask_cluster(args.scheduler, n_workers=args.local_cluster) if distributed
              else nullcontext()) as client:
            results = run_transfer_experiment(
                sources, target, params=params, data_home=args.data_home,
                n_jobs=args.n_jobs, cache=args.cache or None, methods=tuple(args.methods),
                cv=None if args.folds is None else GroupKFold(n_splits=args.folds),
                features=features, speaker_norm=speaker_norm, **_user_options(args),
                allow_overlap=args.allow_overlap, checkpoint=parts, resume=args.resume,
                client=client,
            )
        if not args.overwrite:  # another run may have written it since the start
            stem = _free_stem(args.out, stem)
        json_path, md_path = save_results(results, args.out, stem)
    except KeyboardInterrupt:
        saved = describe_saved(parts)
        if saved == "nothing":
            print("skpathnet: interrupted before anything was saved; run the same command "
                  "again to start over.", file=sys.stderr)
        else:
            print(f"skpathnet: interrupted; saved {saved} in {parts}; run the same command "
                  "with --resume to continue.", file=sys.stderr)
        return 130
    except (OSError, ValueError, ImportError, ClusterError) as exc:
        saved = describe_saved(parts)
        hint = "" if saved == "nothing" or "--resume" in str(exc) else (
            f" (saved so far: {saved} in {parts}; fix this and run the same command with "
            "--resume to continue)")
        print(f"skpathnet: error: {exc}{hint}", file=sys.stderr)
        return 2
    remove_checkpoint(parts)
    print()
    print(format_markdown(results))
    print(f"saved {json_path} and {md_path}")
    return 0


def _check_out_file(args, example="model.safetensors"):
    """Refuse an existing ``--out`` without ``--overwrite`` and a folder; check that its
    folder is writable. ``example``: the file name the folder message suggests."""
    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise ValueError(f"{str(out)!r} exists; pass --overwrite to replace it, or give "
                         "another --out file.")
    if out.is_dir():
        raise ValueError(f"--out {str(out)!r} is a folder; give a file name, e.g. "
                         f"{str(out / example)!r}.")
    check_writable(out.parent if str(out.parent) else Path("."), what="--out folder")


def _read_pretrained(path):
    """``(model, info)`` of a pretrained model file, checked."""
    model, info = load(path), read_info(path)
    if info.get("kind") not in ("pretrained", "model") or not hasattr(model, "steps"):
        raise ValueError(f"{path!r} is not a model written by `skpathnet pretrain` or `fit`.")
    return model, info


def _resolve_all(args):
    """``--source all``: every other built-in corpus of the target's modality (of the
    modality for ``pretrain``), present under the data home."""
    if args.source is None or "all" not in args.source:
        return
    if args.source != ["all"]:
        raise ValueError("--source all stands for every other corpus: give it alone.")
    target = getattr(args, "target", None)
    if target is None:
        modality = args.modality or "audio"
        args.source = other_corpora("", modality=modality, data_home=args.data_home)
    else:
        args.source = resolve_sources("all", target, data_home=args.data_home,
                                      load=_user_options(args))
    print(f"--source all: {' + '.join(args.source)}")


def _checked_corpora(args, *, out_folder=False):
    """``(sources, target)`` of a command that reads corpora, its inputs checked (cheap).

    ``--source all`` resolved, the corpora checked against ``--modality``
    (which is set), then ``--out`` as a folder (``out_folder``) and ``--cache``
    checked writable; raises ValueError or OSError naming the argument.
    """
    _resolve_all(args)
    args.modality, sources, target = resolve_corpora(args)
    if out_folder:
        check_writable(args.out, what="--out folder")
    if args.cache:
        check_writable(args.cache, what="--cache folder")
    return sources, target


def _training_setup(args, *, sources, target=None):
    """``(features, speaker_norm, params, pretrained)``, every input checked (cheap)."""
    args.source, args.target = sources, target
    _checked_corpora(args)
    sources = args.source
    _check_out_file(args)
    features, speaker_norm, params = configuration(args)
    pretrained = None
    if args.pretrained:
        pretrained = _read_pretrained(args.pretrained)
        if pretrained[1]["modality"] != args.modality:
            raise ValueError(f"{args.pretrained!r} is a model for {pretrained[1]['modality']} "
                             f"corpora, but the corpora are {args.modality}.")
    return features, speaker_norm, _train_params(args, params), pretrained


def _save_model(args, model, info):
    info = {**info, "command": "skpathnet " + " ".join(sys.argv[1:])}
    save(model, args.out, info=info)
    size = Path(args.out).stat().st_size
    print(f"saved {args.out} ({size / 1e6:.2f} MB)")
    return 0


def _pretrain(args):
    """``skpathnet pretrain``: fit_transfer on the sources, save the pretrained model."""
    try:
        if args.pretrained and not args.source:
            raise ValueError("--pretrained adds sources to a pretrained model: give them "
                             "with --source CORPUS ...")
        sources = args.source or DEFAULT_SOURCES[args.modality or "audio"]
        features, speaker_norm, params, pretrained = _training_setup(args, sources=sources)
        sources = args.source  # "all" resolved
    except (OSError, ValueError) as exc:
        return _error(exc)
    return _train_and_save(args, lambda: pretrain(
        sources, features=features, speaker_norm=speaker_norm, params=params,
        data_home=args.data_home, n_jobs=args.n_jobs, cache=args.cache or None,
        corpus_options=_user_options(args), pretrained=pretrained, log=print))


def _fit(args):
    """``skpathnet fit``: the final model on the whole target, saved."""
    try:
        features, speaker_norm, params, pretrained = _training_setup(
            args, sources=args.source, target=args.target)
    except (OSError, ValueError) as exc:
        return _error(exc)
    def train():
        model, info = fit_final(
            args.target, sources=args.source, pretrained=pretrained, features=features,
            speaker_norm=speaker_norm, params=params, evaluate_model=args.evaluate,
            cv=None if args.folds is None else GroupKFold(n_splits=args.folds),
            data_home=args.data_home, n_jobs=args.n_jobs, cache=args.cache or None,
            corpus_options=_user_options(args), allow_overlap=args.allow_overlap, log=print)
        if "evaluation" in info:
            e = info["evaluation"]
            print(f"evaluation ({e['protocol']}, {e['n_folds']} folds): clip WAR "
                  f"{e['clip_WAR']:.3f}, UAR {e['clip_UAR']:.3f}")
        return model, info

    return _train_and_save(args, train)


def _train_and_save(args, train):
    """Run ``train() -> (model, info)`` and save the model to ``--out``; the exit status."""
    try:
        return _save_model(args, *train())
    except KeyboardInterrupt:
        print("skpathnet: interrupted; no model file was written.", file=sys.stderr)
        return 130
    except (OSError, ValueError, ImportError, TypeError) as exc:
        return _error(exc)


def _predict(args):
    """``skpathnet predict``: one row per input file, CSV or JSON."""
    try:
        if args.out is not None:
            _check_out_file(args, "predictions.csv")
        info = read_info(args.model)
        if info.get("kind") != "model":
            raise ValueError(
                f"{args.model!r} is a {info.get('kind', 'unknown')} model: it has no target "
                "classes yet. Fit one with `skpathnet fit --pretrained "
                f"{args.model} --target CORPUS --out model.safetensors`."
                if info.get("kind") == "pretrained" else
                f"{args.model!r} was not written by `skpathnet fit`.")
        model = load(args.model)
        files, groups = collect_inputs(args.inputs, modality=info["modality"],
                                       group_pattern=args.group_pattern,
                                       single_group=args.one_speaker)
        if groups is None and info.get("speaker_normalisation"):
            print("skpathnet: no speakers given: each file is normalised as a speaker of its "
                  "own (about the accuracy of no speaker normalisation); give --group-pattern "
                  "or a manifest's group column to normalise each speaker with its own files "
                  "(best from about 10 each).", file=sys.stderr)
        with torch_threads(args.threads):
            predictions = predict_files(model, files, groups=groups, n_jobs=args.n_jobs,
                                        progress=not args.quiet)
    except KeyboardInterrupt:
        print("skpathnet: interrupted; nothing was written.", file=sys.stderr)
        return 130
    except (OSError, ValueError) as exc:
        return _error(exc)
    text = format_predictions(predictions, model.steps[-1][1].classes_, args.format)
    if args.out is None:
        sys.stdout.write(text)
    else:
        tmp = Path(args.out).with_name(f".{Path(args.out).name}.tmp")
        tmp.write_text(text)
        tmp.replace(args.out)
        print(f"saved {args.out}", file=sys.stderr)
    failed = [p for p in predictions if p.error is not None]
    if failed:
        print(f"skpathnet: {len(failed)} of {len(predictions)} inputs could not be predicted "
              f"(see the error column), e.g. {failed[0].path}: {failed[0].error}",
              file=sys.stderr)
        return 1
    return 0


def _export_onnx(args):
    """``skpathnet export-onnx``: the best pathway as ONNX, checked with onnxruntime."""
    try:
        _check_out_file(args)
        model = load(args.model)
        info = read_info(args.model)
        diff = export_onnx(model, args.out)
    except ImportError as exc:
        return _error(exc)
    except (OSError, ValueError) as exc:
        return _error(exc)
    steps = [s["name"] for s in info.get("steps", [])[:-1]]
    print(f"saved {args.out}: features in, probabilities of {', '.join(info['classes'])} out "
          f"(largest difference from torch {diff:.1e}); "
          + (f"compute the features with the model's {' and '.join(steps)} first."
             if steps else "give it the model's input features."))
    return 0


def _curve(args):
    """``skpathnet curve``: the learning curve of a target, JSON, Markdown and PNG."""
    try:
        sources, target = _checked_corpora(args, out_folder=True)
        sizes = None if args.sizes is None else [_size(v) for v in args.sizes]
    except (OSError, ValueError) as exc:
        return _error(exc)
    features, speaker_norm, params = configuration(args)
    params = _train_params(args, params, verbose=False)
    stem = (f"curve-{'+'.join(map(_label, sources))}-to-{_label(target)}-{args.unit}-"
            f"g{params['n_generations']}")
    reports = [Path(args.out) / f"{stem}{ext}" for ext in (".json", ".md", ".png")]
    if not args.overwrite and any(p.exists() for p in reports):
        return _error(f"{' and '.join(str(p) for p in reports if p.exists())} already hold "
                      "an earlier run of these settings; pass --overwrite or another --out.")
    try:
        results = run_curve_experiment(
            sources, target, unit=args.unit, sizes=sizes, n_draws=args.draws, params={
                k: v for k, v in params.items() if k not in ("random_state", "n_threads")},
            random_state=args.seed, n_threads=args.threads, features=features,
            speaker_norm=speaker_norm, data_home=args.data_home, n_jobs=args.n_jobs,
            cache=args.cache or None, allow_overlap=args.allow_overlap, log=print)
        json_path, md_path = save_curve_results(results, args.out, stem, predictions=False)
    except KeyboardInterrupt:
        print("skpathnet: interrupted; no report was written.", file=sys.stderr)
        return 130
    except (OSError, ValueError, ImportError) as exc:
        return _error(exc)
    import matplotlib

    matplotlib.use("Agg")
    from .plotting import plot_learning_curve

    ax = plot_learning_curve(results)
    ax.figure.savefig(reports[2], dpi=100, bbox_inches="tight")
    print(format_curve_markdown(results))
    print(f"saved {json_path}, {md_path} and {reports[2]}")
    return 0


def _size(text):
    """A training size of ``--sizes``: a positive integer or "all"."""
    if text == "all":
        return text
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"--sizes takes positive integers or 'all'; got {text!r}.")
    return int(text)


def _describe(args):
    """``skpathnet describe``: the model file's description, read without loading it."""
    try:
        info = read_info(args.model)
    except (OSError, ValueError) as exc:
        return _error(exc)
    if args.json:
        print(json.dumps(info, indent=1))
    else:
        print(format_description(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
