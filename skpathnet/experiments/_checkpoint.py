"""Saving a long run as it goes, so that an interrupted run can be resumed.

A run's checkpoint is a folder of joblib files, each written atomically (to
a temporary file, then renamed): an interrupt, a crash or a full disk loses
at most the piece in progress, never a piece already saved.
:func:`skpathnet.experiments.evaluate` saves one file per finished fold,
:func:`~skpathnet.experiments.run_transfer_experiment` also the fitted
source phase, and ``benchmarks/bench_paper.py`` the same.
"""

import json
import os
import shutil
import tempfile
from pathlib import Path

import joblib

__all__ = ["check_writable", "describe_saved", "load", "open_checkpoint", "remove", "save"]

CONFIG = "config.json"


def check_writable(folder, *, what="output folder"):
    """Create ``folder`` if needed and write (then delete) a test file in it.

    Raises
    ------
    OSError
        If the folder cannot be created or written; the message names it.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise OSError(
            exc.errno, f"cannot write to the {what} {str(folder)!r} ({exc.strerror or exc}); "
            "choose a writable folder"
        ) from exc


def save(path, value):
    """Write ``value`` to ``path`` with joblib, atomically (temporary file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        joblib.dump(value, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load(path):
    """Read what :func:`save` wrote."""
    return joblib.load(path)


def open_checkpoint(folder, config, *, resume):
    """Start or continue the checkpoint of a run in ``folder``.

    ``config`` (JSON-able) describes what the saved pieces depend on; it is
    written to ``folder/config.json`` and, on resume, must equal the saved
    one.

    Returns
    -------
    resumed : bool
        Whether saved pieces are there to be reused.

    Raises
    ------
    ValueError
        If ``folder`` holds a saved run and ``resume`` is False, or its
        saved configuration differs from ``config`` (naming the settings).
    """
    folder = Path(folder)
    config = json.loads(json.dumps(config))
    saved_path = folder / CONFIG
    if saved_path.exists():
        if not resume:
            raise ValueError(
                f"{str(folder)!r} holds the saved part of an earlier run ({describe_saved(folder)}); "
                "run again with --resume to continue it, or delete that folder to start over."
            )
        saved, now = _flat(json.loads(saved_path.read_text())), _flat(config)
        changed = sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k))
        if changed:
            details = "; ".join(f"{k}: saved {saved.get(k)!r}, now {now.get(k)!r}"
                                for k in changed)
            raise ValueError(
                f"cannot resume from {str(folder)!r}: it was saved with other settings "
                f"({details}). Rerun with the saved settings and --resume, or delete that "
                "folder to start over."
            )
        return True
    folder.mkdir(parents=True, exist_ok=True)
    saved_path.write_text(json.dumps(config, indent=1))
    return False


def _flat(config):
    """``{"params": {"seed": 0}}`` -> ``{"seed": 0}``: name changed settings one by one."""
    flat = {}
    for key, value in config.items():
        flat.update(value if isinstance(value, dict) else {key: value})
    return flat


def describe_saved(folder):
    """What ``folder`` holds, in words: "the source phase and 2 transfer folds"."""
    folder = Path(folder)
    if not folder.is_dir():
        return "nothing"
    parts = [f"the fitted source phase ({p.stem})" if p.stem != "source" else
             "the fitted source phase" for p in sorted(folder.glob("source*.joblib"))]
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        n = len(list(sub.glob("fold-*.joblib")))
        if n:
            parts.append(f"{n} {sub.name} fold{'s' if n > 1 else ''}")
    if not parts:
        return "nothing"
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


def remove(folder):
    """Delete a finished run's checkpoint folder."""
    shutil.rmtree(folder, ignore_errors=True)
