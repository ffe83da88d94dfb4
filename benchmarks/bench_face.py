"""Face-cropping throughput of FaceCropper, in frames per second.

Command::

    SKPATHNET_DATA=/work/shared/data .venv/bin/python benchmarks/bench_face.py

Crops every frame of ``$SKPATHNET_DATA/video/WolfgangLanger_Pexels.mp4``
(472 frames, 640x360, one face) with the default detector settings, for
``n_jobs`` 1 and 2. ``n_jobs`` parallelises over inputs, so the video path is
passed ``--copies`` times (default 4, i.e. 1,888 frames per run) to give the
workers something to split; every copy is decoded and processed in full. The
first, untimed run warms the worker pool and the file cache. Prints a
Markdown table: n_jobs, frames, seconds (wall clock, best of ``--repeat``)
and fps. OpenCV's own threads (``cv2.getNumThreads()``) also run inside each
job.

One run on a shared 2-CPU VM (load average ~3.6 from other jobs, so read
the figures as a lower bound)::

    | n_jobs | frames | seconds | fps |
    |---:|---:|---:|---:|
    | 1 | 1888 | 147.9 | 12.8 |
    | 2 | 1888 | 130.2 | 14.5 |
"""

import argparse
import os
import sys
import time
from pathlib import Path

import cv2

from skpathnet.transformers import FaceCropper


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=4, help="times the video is passed")
    parser.add_argument("--n-jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--max-frames", type=int, default=None, help="frames kept per copy")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per setting")
    args = parser.parse_args(argv)

    home = os.environ.get("SKPATHNET_DATA")
    if not home:
        sys.exit("Set SKPATHNET_DATA to the shared data folder.")
    video = Path(home, "video", "WolfgangLanger_Pexels.mp4")
    if not video.is_file():
        sys.exit(f"Benchmark video {str(video)!r} not found.")
    X = [str(video)] * args.copies

    FaceCropper(n_jobs=max(args.n_jobs), max_frames=2).transform(X)  # warm-up
    print(
        f"OpenCV {cv2.__version__}, cv2.getNumThreads()={cv2.getNumThreads()}, "
        f"CPUs={os.cpu_count()}"
    )
    print(f"{args.copies} x {video.name}\n")
    print("| n_jobs | frames | seconds | fps |")
    print("|---:|---:|---:|---:|")
    for n_jobs in args.n_jobs:
        cropper = FaceCropper(n_jobs=n_jobs, max_frames=args.max_frames)
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            clips = cropper.transform(X)
            best = min(best, time.perf_counter() - start)
        frames = sum(len(crops) for crops in clips)
        print(f"| {n_jobs} | {frames} | {best:.1f} | {frames / best:.1f} |")


if __name__ == "__main__":
    main()
