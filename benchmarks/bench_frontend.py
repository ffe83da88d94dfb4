"""Speech front-end benchmark: librosa acoustic functionals against openSMILE.

Two parts:

``--search``
    How :class:`~skpathnet.transformers.AcousticFunctionals` was chosen: each
    variant of ``VARIANTS`` (and openSMILE's ComParE_2016 and eGeMAPSv02 as the
    reference) on ``--corpus`` RAVDESS (``GroupKFold(4)`` over its 24 actors)
    or EMOVO (leave-one-speaker-out, 6 actors), EMO-DB's source corpora:
    speaker-normalised features, a linear SVM (standardised, C of ``SVM_C``),
    pooled clip WAR and UAR; and the extraction time of the variant (one
    process, ``--n-jobs`` workers, then cached in ``--cache``).
``--speed``
    Clips per second from EMO-DB's 535 audio files with ``--n-jobs`` workers
    (default 2: both cores), AcousticFunctionals at the defaults against
    openSMILE ComParE_2016, in the same run, interleaved ``--repeats`` times,
    no cache.

Usage::

    SKPATHNET_DATA=../shared/data .venv/bin/python benchmarks/bench_frontend.py --search
    SKPATHNET_DATA=../shared/data .venv/bin/python benchmarks/bench_frontend.py --search \\
        --corpus emovo --only compare default no-shape
    SKPATHNET_DATA=../shared/data .venv/bin/python benchmarks/bench_frontend.py --speed
"""

import argparse
import sys
import time

import numpy as np
from joblib import Memory
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skpathnet.experiments import evaluate, load_corpus
from skpathnet.transformers import (
    SHAPE_FUNCTIONALS, AcousticFunctionals, GroupStandardScaler, OpenSmileFunctionals,
)

#: Variants of the search: AcousticFunctionals parameters (the defaults are the
#: chosen set), or an openSMILE feature set for the reference rows; "drop" removes
#: the features whose names end in one of the given suffixes (a subset of the same
#: extraction: "no-shape" is the first set, before the shape functionals).
VARIANTS = {
    "compare": {"opensmile": "ComParE_2016"},
    "egemaps": {"opensmile": "eGeMAPSv02"},
    "default": {},
    "no-shape": {"drop": SHAPE_FUNCTIONALS},
    "no-deltas": {"deltas": False},
    "mfcc13": {"n_mfcc": 13},
    "mel40": {"n_mels": 40},
    "f0-none": {"f0_method": "none"},
    "f0-yin": {"f0_method": "yin", "f0_hop_ms": 10.0},
    "f0-pyin-20ms": {"f0_hop_ms": 20.0},
    "f0-pyin-librosa-grid": {"f0_hop_ms": 10.0, "f0_resolution": 0.1},
    # issue 30, round 3: eGeMAPS' spectral balance and voice quality descriptors on top
    "voice-quality": {"voice_quality": True},
}

#: Linear SVM regularisation tried on the search corpus.
SVM_C = (1e-3, 1e-2)


#: Search corpora and their folds.
SEARCH_CORPORA = {"ravdess": GroupKFold(n_splits=4), "emovo": LeaveOneGroupOut()}


def front_end(variant, *, n_jobs, memory):
    spec = {k: v for k, v in VARIANTS[variant].items() if k != "drop"}
    if "opensmile" in spec:
        return OpenSmileFunctionals(feature_set=spec["opensmile"], n_jobs=n_jobs, memory=memory)
    return AcousticFunctionals(**spec, n_jobs=n_jobs, memory=memory)


def search(args, log):
    bunch = load_corpus(args.corpus)
    memory = Memory(args.cache, verbose=0) if args.cache else None
    log(f"{args.corpus}: {len(bunch.target)} clips, {SEARCH_CORPORA[args.corpus]}\n")
    log("| variant | features | extraction (s) | " + " | ".join(
        f"C = {c:g}: WAR / UAR" for c in SVM_C) + " |")
    log("|---|---|---|" + "---|" * len(SVM_C))
    for variant in args.only or VARIANTS:
        t0 = time.perf_counter()
        extractor = front_end(variant, n_jobs=args.n_jobs, memory=memory)
        X = extractor.fit_transform(bunch.filenames)
        seconds = time.perf_counter() - t0
        if "drop" in VARIANTS[variant]:
            drop = tuple(VARIANTS[variant]["drop"])
            keep = [not name.endswith(drop) for name in extractor.get_feature_names_out()]
            X = X[:, keep]
        X = GroupStandardScaler().fit(X, bunch.target, groups=bunch.groups).transform(
            X, groups=bunch.groups)
        cells = []
        for c in SVM_C:
            svm = make_pipeline(StandardScaler(), SVC(kernel="linear", C=c))
            res = evaluate(svm, X, bunch.target, bunch.groups, cv=SEARCH_CORPORA[args.corpus])
            cells.append(f"{res['clip']['WAR']:.3f} / {res['clip']['UAR']:.3f}")
        log(f"| {variant} {VARIANTS[variant] or ''} | {X.shape[1]} | {seconds:.0f} | "
            + " | ".join(cells) + " |")


def speed(args, log):
    files = load_corpus("emodb").filenames
    extractors = {
        "AcousticFunctionals()": AcousticFunctionals(n_jobs=args.n_jobs),
        "OpenSmileFunctionals(ComParE_2016)": OpenSmileFunctionals(n_jobs=args.n_jobs),
    }
    times = {name: [] for name in extractors}
    for repeat in range(args.repeats):
        order = list(extractors) if repeat % 2 == 0 else list(extractors)[::-1]
        for name in order:
            t0 = time.perf_counter()
            extractors[name].fit_transform(files)
            times[name].append(time.perf_counter() - t0)
            log(f"  repeat {repeat + 1}: {name}: {times[name][-1]:.1f} s")
    log(f"\n{len(files)} EMO-DB clips, n_jobs={args.n_jobs}, {args.repeats} repeats "
        f"(median):\n")
    log("| front end | seconds | clips / s |")
    log("|---|---|---|")
    for name, ts in times.items():
        median = float(np.median(ts))
        log(f"| {name} | {median:.1f} | {len(files) / median:.1f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--search", action="store_true", help="the variants on RAVDESS")
    parser.add_argument("--corpus", choices=sorted(SEARCH_CORPORA), default="ravdess",
                        help="with --search: the source corpus searched on")
    parser.add_argument("--only", nargs="+", choices=sorted(VARIANTS), default=None,
                        help="with --search: only these variants")
    parser.add_argument("--speed", action="store_true", help="clips per second on EMO-DB")
    parser.add_argument("--repeats", type=int, default=2, help="with --speed")
    parser.add_argument("--n-jobs", type=int, default=2, help="extraction workers")
    parser.add_argument("--cache", default=".skpathnet_cache", help="joblib feature cache "
                        "(--search only; '' for none)")
    args = parser.parse_args(argv)
    if not (args.search or args.speed):
        parser.error("give --search and/or --speed")

    def log(line):
        print(line, flush=True)

    if args.search:
        search(args, log)
    if args.speed:
        speed(args, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
