"""Speech front-end benchmark: librosa acoustic functionals against openSMILE.

Two parts:

``--search``
    How :class:`~skpathnet.transformers.AcousticFunctionals` was chosen: each
    variant of ``VARIANTS`` (and openSMILE's ComParE_2016 and eGeMAPSv02 as the
    reference) on ``--corpus`` RAVDESS (``GroupKFold(4)`` over its 24 actors)
    or EMOVO (leave-one-speaker-out, 6 actors), EMO-DB's source corpora:
    speaker-normalised features, a linear SVM (standardised, C of ``SVM_C``),
    pooled clip WAR and UAR; and the extraction time of the variant (one
    process, ``--n-jobs`` workers, then cached in ``--cache``; the subsets of
    one extraction, by feature name, share it: timed once, then 0).
``--per-clip``
    Seconds per clip of the librosa variants of ``--only`` (extractor
    parameters only; subsets are free), one process, no cache, on the first
    ``--clips`` EMO-DB files, the variants interleaved clip by clip so that
    the machine's load falls on them alike; median and mean.
``--speed``
    Clips per second from EMO-DB's 535 audio files with ``--n-jobs`` workers
    (default 2: both cores), AcousticFunctionals at the defaults against
    openSMILE ComParE_2016, in the same run, interleaved ``--repeats`` times,
    no cache.

Usage::

    SKPATHNET_DATA=../shared/data .venv/bin/python benchmarks/bench_frontend.py --search
    SKPATHNET_DATA=../shared/data .venv/bin/python benchmarks/bench_frontend.py --search \\
        --corpus emovo --only compare default no-shape
    SKPATHNET_DATA=../shared/data .venv/bin/python benchmarks/bench_frontend.py --search \\
        --only default no-mel kbest300 --n-jobs 1 --cache /tmp/fe-cache
    SKPATHNET_DATA=../shared/data .venv/bin/python benchmarks/bench_frontend.py --speed
    SKPATHNET_DATA=../shared/data .venv/bin/python benchmarks/bench_frontend.py --per-clip \
        --only default r5-all --clips 100
"""

import argparse
import re
import sys
import time

import numpy as np
from joblib import Memory
from sklearn.decomposition import PCA
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skpathnet.experiments import evaluate, load_corpus
from skpathnet.transformers import (
    TEMPORAL_NAMES, AcousticFunctionals, GroupStandardScaler, OpenSmileFunctionals,
)


def _mel_bands_but_every(step, n_mels=64):
    """Regular expression of the log-mel bands' features but those of every ``step``-th band."""
    return "logmel(" + "|".join(str(k) for k in range(n_mels) if k % step) + ")_.*"


#: Round 5's options all at once, and the names of each option's features.
_R5 = {"loudness": True, "temporal": True, "formants": True}
_R5_LOUDNESS = r"loudness_(?!peaks_per_s).*"
_R5_TEMPORAL = "|".join(TEMPORAL_NAMES)
_R5_FORMANTS = r"f[123]_.*"
#: Round 4's prosody: energy, zero crossings, pitch, voicing, duration (80 features).
_PROSODY = r"(log_energy|zcr|f0_semitone)_.*|voiced_fraction|log_duration"

#: Variants of the search: AcousticFunctionals parameters (the defaults are the
#: chosen set), or an openSMILE feature set for the reference rows. Four keys are
#: not parameters: "keep" and "drop" take a subset of the same extraction by
#: feature name (regular expressions matched against the whole name; kept: the
#: names that match "keep", if given, and not "drop"), so that the cached features
#: serve every subset; "kbest" puts SelectKBest(f_classif, k) into the SVM's
#: pipeline, after the standardisation, and "pca" PCA(n_components) (both fitted
#: on the training folds only).
VARIANTS = {
    "compare": {"opensmile": "ComParE_2016"},
    "egemaps": {"opensmile": "eGeMAPSv02"},
    "default": {},
    "no-shape": {"drop": r".*_(skewness|kurtosis|uplevel\d+)"},
    "no-deltas": {"deltas": False},
    "mfcc13": {"n_mfcc": 13},
    "mel40": {"n_mels": 40},
    "f0-none": {"f0_method": "none"},
    "f0-yin": {"f0_method": "yin", "f0_hop_ms": 10.0},
    "f0-pyin-20ms": {"f0_hop_ms": 20.0},
    "f0-pyin-librosa-grid": {"f0_hop_ms": 10.0, "f0_resolution": 0.1},
    # issue 30, round 3: eGeMAPS' spectral balance and voice quality descriptors on top
    "voice-quality": {"voice_quality": True},
    # issue 30, round 4: subsets of the default's 3,020 by LLD group and functional
    # (64 log-mel bands: 1,152 LLD functionals + 768 of their deltas), and univariate
    # selection inside the folds
    "no-mel": {"drop": r"logmel\d+_.*"},
    "no-mel-lld": {"drop": r"logmel\d+_(?!delta_).*"},
    "no-mel-deltas": {"drop": r"logmel\d+_delta_.*"},
    "mel-every2": {"drop": _mel_bands_but_every(2)},
    "mel-every4": {"drop": _mel_bands_but_every(4)},
    "no-deltas-cols": {"drop": r".*_delta_.*"},
    "no-mel-no-contrast": {"drop": r"(logmel|spectral_contrast)\d+_.*"},
    "mfcc-prosody": {"keep": r"(mfcc\d+|log_energy|f0_semitone)_.*|voiced_fraction|"
                             r"log_duration"},
    "prosody": {"keep": _PROSODY},
    "no-mel-no-shape": {"drop": r"logmel\d+_.*|.*_(skewness|kurtosis|uplevel\d+)"},
    # second pass, around the best mean of the first (mel-every2)
    "mel-every3": {"drop": _mel_bands_but_every(3)},
    "mel-every8": {"drop": _mel_bands_but_every(8)},
    "mel-every2-no-mel-deltas": {"drop": _mel_bands_but_every(2) + r"|logmel\d+_delta_.*"},
    "mel-no-shape": {"drop": r"logmel\d+_(skewness|kurtosis|uplevel\d+)"},
    "mel-every2-no-shape": {
        "drop": _mel_bands_but_every(2) + r"|logmel\d+_(skewness|kurtosis|uplevel\d+)"},
    "mel-levels": {"drop": r"logmel\d+_(delta_.*|slope|mean_abs_diff|std_diff|skewness|"
                           r"kurtosis|uplevel\d+)"},
    "kbest300": {"kbest": 300},
    "kbest1000": {"kbest": 1000},
    "no-mel-kbest300": {"drop": r"logmel\d+_.*", "kbest": 300},
    "pca100": {"pca": 100},
    "pca200": {"pca": 200},
    "pca300": {"pca": 300},  # at most 490: EMOVO's training folds
    "pca500": {"pca": 500},  # RAVDESS only
    # issue 30, round 5: eGeMAPS' descriptors the set lacked (loudness contour, temporal
    # features, formants F1-F3), each a subset of one extraction with all three
    "r5-all": _R5,
    "r5-loudness": {**_R5, "drop": _R5_TEMPORAL + "|" + _R5_FORMANTS},
    "r5-temporal": {**_R5, "drop": _R5_LOUDNESS + "|" + _R5_FORMANTS},
    "r5-formants": {**_R5, "drop": _R5_LOUDNESS + "|" + _R5_TEMPORAL},
    "r5-temporal-loudness": {**_R5, "drop": _R5_FORMANTS},
    # each option alone, as its own extraction (for --per-clip; the same columns as the
    # subsets above, tests/test_functionals.py)
    "loudness": {"loudness": True},
    "temporal": {"temporal": True},
    "formants": {"formants": True},
    # diagnostics: are the new descriptors informative alone, or beside the prosody?
    "r5-only": {**_R5, "keep": "|".join([_R5_LOUDNESS, _R5_TEMPORAL, _R5_FORMANTS])},
    "r5-prosody": {**_R5, "keep": "|".join([_R5_LOUDNESS, _R5_TEMPORAL, _R5_FORMANTS,
                                            _PROSODY])},
    "r5-no-mel": {**_R5, "drop": r"logmel\d+_.*"},
}

#: Keys of VARIANTS that are not extractor parameters.
SUBSET_KEYS = ("keep", "drop", "kbest", "pca")

#: Linear SVM regularisation tried on the search corpus.
SVM_C = (1e-3, 1e-2)


#: Search corpora and their folds.
SEARCH_CORPORA = {"ravdess": GroupKFold(n_splits=4), "emovo": LeaveOneGroupOut()}


def front_end(variant, *, n_jobs, memory):
    spec = {k: v for k, v in VARIANTS[variant].items() if k not in SUBSET_KEYS}
    if "opensmile" in spec:
        return OpenSmileFunctionals(feature_set=spec["opensmile"], n_jobs=n_jobs, memory=memory)
    return AcousticFunctionals(**spec, n_jobs=n_jobs, memory=memory)


def subset_mask(names, *, keep=None, drop=None):
    """Boolean mask of the feature ``names`` that fully match ``keep`` (if given), not ``drop``."""
    keep_re = re.compile(keep) if keep is not None else None
    drop_re = re.compile(drop) if drop is not None else None
    return np.array([(keep_re is None or keep_re.fullmatch(name) is not None)
                     and (drop_re is None or drop_re.fullmatch(name) is None)
                     for name in names], dtype=bool)


def svm_pipeline(c, kbest=None, pca=None):
    """The judge: standardisation, optionally SelectKBest(f_classif, kbest) and/or
    PCA(pca, seed 0), then a linear SVM."""
    steps = [StandardScaler()]
    if kbest is not None:
        steps.append(SelectKBest(f_classif, k=kbest))
    if pca is not None:
        steps.append(PCA(n_components=pca, random_state=0))
    return make_pipeline(*steps, SVC(kernel="linear", C=c))


def search(args, log):
    bunch = load_corpus(args.corpus)
    memory = Memory(args.cache, verbose=0) if args.cache else None
    log(f"{args.corpus}: {len(bunch.target)} clips, {SEARCH_CORPORA[args.corpus]}\n")
    log("| variant | features | extraction (s) | " + " | ".join(
        f"C = {c:g}: WAR / UAR" for c in SVM_C) + " |")
    log("|---|---|---|" + "---|" * len(SVM_C))
    extracted = {}  # one extraction per front end, shared by its subsets
    for variant in args.only or VARIANTS:
        spec = VARIANTS[variant]
        extractor = front_end(variant, n_jobs=args.n_jobs, memory=memory)
        key = repr(sorted(extractor.get_params().items()))
        seconds = 0.0
        if key not in extracted:
            t0 = time.perf_counter()
            extracted[key] = extractor.fit_transform(bunch.filenames)
            seconds = time.perf_counter() - t0
        X = extracted[key]
        if "keep" in spec or "drop" in spec:
            X = X[:, subset_mask(extractor.get_feature_names_out(), keep=spec.get("keep"),
                                 drop=spec.get("drop"))]
        X = GroupStandardScaler().fit(X, bunch.target, groups=bunch.groups).transform(
            X, groups=bunch.groups)
        cells = []
        for c in SVM_C:
            svm = svm_pipeline(c, spec.get("kbest"), spec.get("pca"))
            res = evaluate(svm, X, bunch.target, bunch.groups, cv=SEARCH_CORPORA[args.corpus])
            cells.append(f"{res['clip']['WAR']:.3f} / {res['clip']['UAR']:.3f}")
        n = spec.get("kbest", spec.get("pca"))
        n = X.shape[1] if n is None else f"{n} of {X.shape[1]}"
        log(f"| {variant} {spec or ''} | {n} | {seconds:.0f} | " + " | ".join(cells) + " |")


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


def per_clip(args, log):
    files = load_corpus("emodb").filenames[:args.clips]
    variants = args.only or ["default"]
    extractors = {v: front_end(v, n_jobs=1, memory=None) for v in variants}
    for est in extractors.values():  # warm-up: imports, numba compilation
        est.fit_transform(files[:1])
    times = {v: [] for v in variants}
    for k, path in enumerate(files):
        order = variants if k % 2 == 0 else variants[::-1]
        for v in order:
            t0 = time.perf_counter()
            extractors[v].transform([path])
            times[v].append(time.perf_counter() - t0)
    log(f"{len(files)} EMO-DB clips, one process, no cache, interleaved:\n")
    log("| variant | features | ms per clip (median) | mean | vs first |")
    log("|---|---|---|---|---|")
    base = float(np.median(times[variants[0]]))
    for v in variants:
        median = float(np.median(times[v]))
        n = len(extractors[v].get_feature_names_out())
        log(f"| {v} | {n} | {1000 * median:.0f} | {1000 * np.mean(times[v]):.0f} | "
            f"{median / base:.2f}x |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--search", action="store_true", help="the variants on RAVDESS")
    parser.add_argument("--corpus", choices=sorted(SEARCH_CORPORA), default="ravdess",
                        help="with --search: the source corpus searched on")
    parser.add_argument("--only", nargs="+", choices=sorted(VARIANTS), default=None,
                        help="with --search: only these variants")
    parser.add_argument("--speed", action="store_true", help="clips per second on EMO-DB")
    parser.add_argument("--repeats", type=int, default=2, help="with --speed")
    parser.add_argument("--per-clip", action="store_true",
                        help="seconds per clip of the --only variants")
    parser.add_argument("--clips", type=int, default=100, help="with --per-clip")
    parser.add_argument("--n-jobs", type=int, default=2, help="extraction workers")
    parser.add_argument("--cache", default=".skpathnet_cache", help="joblib feature cache "
                        "(--search only; '' for none)")
    args = parser.parse_args(argv)
    if not (args.search or args.speed or args.per_clip):
        parser.error("give --search, --speed and/or --per-clip")

    def log(line):
        print(line, flush=True)

    if args.search:
        search(args, log)
    if args.speed:
        speed(args, log)
    if args.per_clip:
        per_clip(args, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
