"""Model files and prediction: size, load time, fit time and throughput (issue 28).

Two parts, each through the package's own calls (``skpathnet.experiments.pretrain``,
``fit_final``, ``predict_files``; ``skpathnet.save``/``load``):

``--sizes``
    A model pretrained on RAVDESS + EMOVO (the main job's PathNet settings)
    on each speech front end: file size, number of tensors, load time (the
    median of ``--repeats`` loads). A file's size depends on the front end
    and the architecture, not on the number of generations, so the source
    phase runs ``--size-generations`` generations (default 1).
``--throughput``
    Speech: the final model of the main job (pretrained on RAVDESS + EMOVO,
    fitted on the whole of EMO-DB, 40 generations, librosa functionals,
    speaker normalisation) and the time that took; then clips per second
    from EMO-DB's audio files (``predict_files``, ``--n-jobs`` workers, each
    speaker normalised with its own clips), split into the front end (the
    files' features) and the classifier (speaker normalisation and
    ``predict_proba``). Faces: the same for JAFFE images (face crops + HOG,
    trained from scratch: no face transfer source is needed to time it).

Usage::

    SKPATHNET_DATA=../shared/data .venv/bin/python benchmarks/bench_predict.py --sizes
    SKPATHNET_DATA=../shared/data .venv/bin/python benchmarks/bench_predict.py --throughput
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone

import skpathnet
from skpathnet.experiments import (
    AUDIO_FEATURES, BEST_AUDIO, fit_final, load_corpus, predict_files, pretrain,
)
from skpathnet.io import read_info

OUT = Path(__file__).resolve().parent / "results" / "predict"


def _params(generations, threads):
    return {**BEST_AUDIO["params"], "n_generations": generations, "random_state": 0,
            "n_threads": threads}


def sizes(args, log):
    rows = []
    for features in args.features:
        t0 = time.perf_counter()
        model, info = pretrain(["ravdess", "emovo"], features=features, speaker_norm="auto",
                               params=_params(args.size_generations, args.threads),
                               n_jobs=args.n_jobs, cache=args.cache or None)
        seconds = time.perf_counter() - t0
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "pretrained.safetensors"
            skpathnet.save(model, path, info=info)
            loads = []
            for _ in range(args.repeats):
                t1 = time.perf_counter()
                skpathnet.load(path)
                loads.append(time.perf_counter() - t1)
            described = read_info(path)
        rows.append({"features": features, "n_features": int(model[-1].n_features_in_),
                     "bytes": described["n_bytes"], "n_tensors": described["n_tensors"],
                     "load_seconds": statistics.median(loads),
                     "pretrain_seconds": seconds})
        log(f"{features}: {rows[-1]['bytes'] / 1e6:.2f} MB, {rows[-1]['n_tensors']} tensors, "
            f"load {rows[-1]['load_seconds'] * 1e3:.0f} ms")
    return {"what": "pretrained ravdess+emovo", "size_generations": args.size_generations,
            "rows": rows}


def _time_predict(model, files, groups, n_jobs, repeats):
    """Median seconds of predict_files, its front end alone, and the classifier alone."""
    front = model.steps[0][1]
    rest = model[1:]
    total, features, classifier = [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        predictions = predict_files(model, files, groups=groups, n_jobs=n_jobs)
        total.append(time.perf_counter() - t0)
        serial = clone(front).set_params(**{k: n_jobs for k in front.get_params()
                                            if k.split("__")[-1] == "n_jobs"})
        t0 = time.perf_counter()
        X = serial.transform(files)
        features.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        if "speaker_norm" in dict(model.steps):
            X = rest[0].transform(X, groups=np.asarray([f"new:{g}" for g in groups]))
        rest[-1].predict_proba(X)
        classifier.append(time.perf_counter() - t0)
    failed = sum(p.error is not None for p in predictions)
    return (statistics.median(total), statistics.median(features),
            statistics.median(classifier), failed)


def throughput(args, log):
    out = {}
    cases = [("speech", "emodb", ["ravdess", "emovo"]), ("faces", "jaffe", None)]
    for kind, target, sources in cases:
        if kind not in args.kinds:
            continue
        t0 = time.perf_counter()
        pretrained = None
        features = BEST_AUDIO["features"] if kind == "speech" else "hog"
        if sources:
            pretrained = pretrain(sources, features=features, speaker_norm="auto",
                                  params=_params(args.generations, args.threads),
                                  n_jobs=args.n_jobs, cache=args.cache or None)
        pretrain_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        model, info = fit_final(target, pretrained=pretrained, features=features,
                                speaker_norm="auto",
                                params=_params(args.generations, args.threads),
                                n_jobs=args.n_jobs, cache=args.cache or None)
        fit_seconds = time.perf_counter() - t0
        bunch = load_corpus(target)
        files, groups = [str(f) for f in bunch.filenames], [str(g) for g in bunch.groups]
        total, front, classifier, failed = _time_predict(model, files, groups, args.n_jobs,
                                                          args.repeats)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.safetensors"
            skpathnet.save(model, path, info=info)
            size = path.stat().st_size
            t1 = time.perf_counter()
            skpathnet.load(path)
            load_seconds = time.perf_counter() - t1
        out[kind] = {"target": target, "sources": sources or [], "features": features,
                     "generations": args.generations, "n_files": len(files),
                     "failed": failed, "pretrain_seconds": pretrain_seconds,
                     "fit_seconds": fit_seconds, "predict_seconds": total,
                     "files_per_second": len(files) / total,
                     "front_end_seconds": front, "classifier_seconds": classifier,
                     "bytes": size, "load_seconds": load_seconds}
        log(f"{kind} ({target}): fit {fit_seconds:.0f} s (pretrain {pretrain_seconds:.0f} s), "
            f"{len(files) / total:.1f} files/s (front end {front:.1f} s, classifier "
            f"{classifier:.2f} s for {len(files)} files), {size / 1e6:.2f} MB, load "
            f"{load_seconds * 1e3:.0f} ms")
    return out


def markdown(results):
    lines = []
    if "sizes" in results:
        s = results["sizes"]
        lines += ["| front end | features | file size | tensors | load |",
                  "|---|---|---|---|---|"]
        lines += [f"| {r['features']} | {r['n_features']} | {r['bytes'] / 1e6:.2f} MB | "
                  f"{r['n_tensors']} | {r['load_seconds'] * 1e3:.0f} ms |" for r in s["rows"]]
        lines.append("")
    if "throughput" in results:
        lines += ["| | model | fit | files/s | front end | classifier | file | load |",
                  "|---|---|---|---|---|---|---|---|"]
        for kind, r in results["throughput"].items():
            origin = f"{' + '.join(r['sources'])} -> " if r["sources"] else ""
            lines.append(
                f"| {kind} | {origin}{r['target']}, {r['features']}, g{r['generations']} | "
                f"{r['fit_seconds']:.0f} s (+ {r['pretrain_seconds']:.0f} s pretrain) | "
                f"{r['files_per_second']:.1f} | {r['front_end_seconds']:.1f} s | "
                f"{r['classifier_seconds']:.2f} s | {r['bytes'] / 1e6:.2f} MB | "
                f"{r['load_seconds'] * 1e3:.0f} ms |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", action="store_true")
    parser.add_argument("--throughput", action="store_true")
    parser.add_argument("--features", nargs="+", default=list(AUDIO_FEATURES),
                        choices=list(AUDIO_FEATURES))
    parser.add_argument("--kinds", nargs="+", default=["speech", "faces"],
                        choices=["speech", "faces"])
    parser.add_argument("--size-generations", type=int, default=1)
    parser.add_argument("--generations", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--cache", default=".skpathnet_cache")
    args = parser.parse_args(argv)
    if not (args.sizes or args.throughput):
        parser.error("give --sizes and/or --throughput")
    results = {}
    if args.sizes:
        results["sizes"] = sizes(args, print)
    if args.throughput:
        results["throughput"] = throughput(args, print)
    OUT.mkdir(parents=True, exist_ok=True)
    stem = "+".join(k for k in ("sizes", "throughput") if k in results)
    (OUT / f"{stem}.json").write_text(json.dumps(results, indent=1))
    text = markdown(results)
    (OUT / f"{stem}.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
