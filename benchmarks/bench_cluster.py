"""Cluster benchmark: EMO-DB leave-one-speaker-out, serial against a Dask LocalCluster.

The same folds and seed run twice: one after the other in this process
(``evaluate``), then as Dask tasks on a ``LocalCluster`` of ``--workers``
single-thread worker processes (``evaluate(client=...)``); the two must give
the same predictions. Measured: wall time of each and the speed-up, the
cluster's start-up, and the overhead per task that does not shrink with
more machines: sending the features to every worker (scatter), pickling a
fold task (estimator and fold indices), and a no-op task's round trip.
Those give the projection for N machines::

    wall(N) ~ scatter + ceil(folds x configurations / N) x fold time
              + tasks x round trip

Usage (features from the cache of bench_accuracy)::

    SKPATHNET_DATA=../shared/data .venv/bin/python benchmarks/bench_cluster.py \\
        --generations 10 --workers 2
"""

import argparse
import math
import os
import pickle
import sys
import time

import numpy as np
from joblib import Memory
from sklearn.model_selection import LeaveOneGroupOut

from skpathnet import PathNetClassifier
from skpathnet.experiments import (
    BEST_AUDIO, Fold, dask_cluster, evaluate, extract_features, load_corpus,
)


def timed(function, *args, **kwargs):
    t0 = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generations", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache", default=".skpathnet_cache")
    parser.add_argument("--round-trips", type=int, default=50)
    args = parser.parse_args(argv)
    bunch = load_corpus("emodb")
    X = extract_features("emodb", bunch, features=BEST_AUDIO["features"],
                         speaker_norm=BEST_AUDIO["speaker_norm"], n_jobs=1,
                         memory=Memory(args.cache, verbose=0))
    y, groups = bunch.target, bunch.groups
    estimator = PathNetClassifier(**BEST_AUDIO["params"], n_generations=args.generations,
                                  n_threads=1, random_state=0)
    n_folds = LeaveOneGroupOut().get_n_splits(X, y, groups)
    print(f"EMO-DB: {X.shape[0]} clips x {X.shape[1]} ComParE functionals, {n_folds} folds; "
          f"PathNet {BEST_AUDIO['params']}, {args.generations} generations, 1 torch thread",
          flush=True)

    serial, serial_s = timed(evaluate, estimator, X, y, groups)
    fold_s = np.array([f["seconds"] for f in serial["folds"]])
    print(f"serial: {serial_s:.1f} s (fold {fold_s.mean():.1f} ± {fold_s.std():.1f} s)",
          flush=True)

    t0 = time.perf_counter()
    with dask_cluster(n_workers=args.workers) as client:
        start_s = time.perf_counter() - t0
        _, scatter_s = timed(lambda: client.scatter([X, y, groups], broadcast=True))
        train, test = next(iter(LeaveOneGroupOut().split(X, y, groups)))
        payload, pickle_s = timed(pickle.dumps, (estimator, Fold("", 0, train, test)))
        t0 = time.perf_counter()
        for _ in range(args.round_trips):
            client.submit(int, 0, pure=False).result()
        trip_s = (time.perf_counter() - t0) / args.round_trips
        remote, remote_s = timed(evaluate, estimator, X, y, groups, client=client)
    assert remote["predictions"] == serial["predictions"], "the cluster run differs"
    remote_fold_s = np.array([f["seconds"] for f in remote["folds"]])
    print(f"LocalCluster of {args.workers} workers: start {start_s:.1f} s, run {remote_s:.1f} s "
          f"(speed-up {serial_s / remote_s:.2f}x; same predictions; fold "
          f"{remote_fold_s.mean():.1f} ± {remote_fold_s.std():.1f} s on the workers)")
    print(f"overhead: scatter of the features {scatter_s * 1e3:.0f} ms "
          f"({X.nbytes / 1e6:.1f} MB to each worker), task pickle {len(payload) / 1e3:.0f} kB "
          f"in {pickle_s * 1e3:.1f} ms, no-op round trip {trip_s * 1e3:.1f} ms")
    print("\nprojection (10 folds x configurations over N single-thread workers, "
          f"fold {fold_s.mean():.1f} s):")
    print("| configurations | N = 1 | N = 10 | N = 50 |")
    print("|---|---|---|---|")
    for configs in (1, 8, 32):
        tasks = n_folds * configs
        cells = [scatter_s + math.ceil(tasks / n) * fold_s.mean() + tasks * trip_s
                 for n in (1, 10, 50)]
        print(f"| {configs} | " + " | ".join(f"{c:.0f} s" for c in cells) + " |")
    print(f"\nload average over the last 1, 5, 15 min: {os.getloadavg()} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
