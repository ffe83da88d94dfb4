"""Saving a long run as it goes, so that an interrupted run can be resumed, without pickle.

A run's checkpoint is a folder of part files (``.npz``), each written
atomically (to a temporary file, then renamed): an interrupt, a crash or a
full disk loses at most the piece in progress, never a piece already saved.
:func:`skpathnet.experiments.evaluate` saves one file per finished fold,
:func:`~skpathnet.experiments.run_transfer_experiment` also the fitted
source phase, and ``benchmarks/bench_paper.py`` the same.

**No pickle.** A checkpoint folder is a file that others can hand you, so
loading it must run no code. A part is a NumPy ``.npz`` archive read with
``allow_pickle=False``: its numeric arrays are plain ``.npy`` entries and
the structure around them (dicts, lists, numbers, strings, and estimators
such as a fitted :class:`~skpathnet.PathNetClassifier`) is one JSON
document in it, in the encoding of model files (:mod:`skpathnet.io`):
objects are rebuilt only for trusted classes, by setting their saved
attributes (no constructor, no ``__setstate__``); anything else is refused. A damaged or tampered part is
an error that names the file and says to delete it to recompute that part.

**Trustworthy resumes.** :func:`open_checkpoint` writes ``config.json``,
the settings of the run and a fingerprint of its data (:func:`fingerprint`:
the files, their sizes and modification times, the labels and groups, the
package version), and refuses to resume when any of it changed, naming
what. :func:`lock` makes a second run on the same folder stop at once.
"""

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..io._codec import decode, encode

__all__ = ["CheckpointError", "SUFFIX", "check_writable", "describe_saved", "fingerprint",
           "load", "lock", "open_checkpoint", "remove", "save"]

CONFIG = "config.json"
LOCK = ".lock"
#: Extension of the part files.
SUFFIX = ".npz"
_FORMAT = 1  # version of the part format
_DOC = "__json__"  # the archive entry holding the JSON document


class CheckpointError(ValueError):
    """A checkpoint part or folder cannot be used: damaged, tampered, from another run or busy."""


# --------------------------------------------------------------------------- folders


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


# --------------------------------------------------------------------------- parts


def save(path, value):
    """Write ``value`` to ``path`` (a ``.npz`` part), atomically (temporary file + rename).

    Parameters
    ----------
    path : path-like
    value : object
        None, bool, int, float, str, NumPy arrays (numeric, bool or str;
        object arrays of str) and scalars, torch tensors, and dicts, lists,
        tuples and named tuples of them, and objects of skpathnet classes
        whose attributes are such values.

    Raises
    ------
    TypeError
        If ``value`` holds something else (the message names where); the
        file is then not written.
    """
    path = Path(path)
    arrays = {}
    document = json.dumps({"format": _FORMAT, "value": encode(value, arrays)})
    arrays[_DOC] = np.array(document)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load(path):
    """Read what :func:`save` wrote; no code in the file runs.

    Raises
    ------
    CheckpointError
        If the file is damaged or truncated, holds pickled data, names a
        class outside skpathnet, or was not written by :func:`save`; the
        message names the file and says to delete it to recompute that part.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        doc = json.loads(str(arrays.pop(_DOC)))
        if doc.get("format") != _FORMAT:
            raise ValueError(f"part format {doc.get('format')!r}, this version reads {_FORMAT}")
        return decode(doc["value"], arrays)
    except Exception as exc:  # zipfile, numpy, json, KeyError...: all mean a bad part
        raise CheckpointError(
            f"the checkpoint part {str(path)!r} is damaged or not a part this version of "
            f"skpathnet wrote ({type(exc).__name__}: {exc}); nothing in it was run. Delete that "
            f"file to recompute that part (rm {str(path)!r}), then run again with --resume."
        ) from exc


# --------------------------------------------------------------------------- resume


def fingerprint(bunches):
    """What a run's results depend on in its data, per corpus, for :func:`open_checkpoint`.

    Parameters
    ----------
    bunches : dict of str -> Bunch
        The corpora by name (``filenames``, ``target``, ``groups``).

    Returns
    -------
    fingerprint : dict
        ``{"package": skpathnet version, "corpora": {name: {"n_files",
        "files", "labels", "groups", "sizes and modification times"}}}``,
        each but ``n_files`` a SHA-256 of the values in file order (the
        files' sizes and modification times from :func:`os.stat`; files are
        not read).
    """
    from .. import __version__

    def digest(values):
        return hashlib.sha256("\n".join(map(str, values)).encode()).hexdigest()

    corpora = {}
    for name, bunch in bunches.items():
        stats = [os.stat(f) for f in bunch.filenames]
        corpora[name] = {
            "n_files": len(bunch.filenames),
            "files": digest(bunch.filenames),
            "labels": digest(bunch.target),
            "groups": digest(bunch.groups),
            "sizes and modification times": digest(f"{s.st_size}:{s.st_mtime_ns}"
                                                   for s in stats),
        }
    return {"package": __version__, "corpora": corpora}


def open_checkpoint(folder, config, *, resume):
    """Start or continue the checkpoint of a run in ``folder``.

    ``config`` (JSON-able) describes what the saved pieces depend on (the
    settings, and a :func:`fingerprint` of the data under ``"data"``); it is
    written to ``folder/config.json`` and, on resume, must equal the saved
    one.

    A folder whose run saved no part yet (e.g. interrupted during feature
    extraction) is started afresh, with or without ``resume``.

    Returns
    -------
    resumed : bool
        Whether saved pieces are there to be reused.

    Raises
    ------
    ValueError
        If ``folder`` holds a saved run and ``resume`` is False, or its
        saved configuration differs from ``config`` (naming the settings
        and data that changed).
    CheckpointError
        If ``config.json`` is damaged (the message names it), or ``folder``
        holds joblib (pickle) parts of an older version.
    """
    folder = Path(folder)
    # a parameter that is no JSON value (e.g. augmentation=FaceAugment()) counts by its repr
    config = json.loads(json.dumps(config, default=repr))
    saved_path = folder / CONFIG
    if folder.is_dir() and any(folder.rglob("*.joblib")):
        raise CheckpointError(
            f"{str(folder)!r} holds parts saved by an older skpathnet as joblib pickles, "
            "which this version never loads (loading a pickle can run any code); delete that "
            "folder to start over."
        )
    if saved_path.exists() and any(folder.rglob(f"*{SUFFIX}")):
        if not resume:
            raise ValueError(
                f"{str(folder)!r} holds the saved part of an earlier run "
                f"({describe_saved(folder)}); "
                "run again with --resume to continue it, or delete that folder to start over."
            )
        try:
            saved = json.loads(saved_path.read_text())
            if not isinstance(saved, dict):
                raise ValueError("not a JSON object")
        except (ValueError, UnicodeDecodeError) as exc:
            raise CheckpointError(
                f"{str(saved_path)!r} is damaged ({exc}); delete the folder {str(folder)!r} "
                "to start over."
            ) from exc
        saved, now = _flat(saved), _flat(config)
        changed = sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k))
        if changed:
            details = "; ".join(
                f"{k}: changed" if k.startswith("data.corpora.") and not k.endswith("n_files")
                else f"{k}: saved {saved.get(k)!r}, now {now.get(k)!r}" for k in changed)
            raise ValueError(
                f"cannot resume from {str(folder)!r}: it was saved with other settings or "
                f"data ({details}). Rerun with the saved settings and data and --resume, or "
                "delete that folder to start over."
            )
        return True
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{CONFIG}.tmp"
    tmp.write_text(json.dumps(config, indent=1))
    os.replace(tmp, saved_path)
    return False


def _flat(config):
    """Settings by name, to name the changed ones: the parameters by their own name
    (``{"params": {"seed": 0}}`` -> ``{"seed": 0}``), the data by dotted path
    (``"data.corpora.emodb.labels"``)."""
    flat = {}
    for key, value in config.items():
        if key == "data" and isinstance(value, dict):
            flat.update(_dotted(value, "data"))
        else:
            flat.update(value if isinstance(value, dict) else {key: value})
    return flat


def _dotted(tree, prefix):
    flat = {}
    for key, value in tree.items():
        name = f"{prefix}.{key}"
        flat.update(_dotted(value, name) if isinstance(value, dict) else {name: value})
    return flat


@contextlib.contextmanager
def lock(folder):
    """Hold ``folder/.lock`` while a run works in ``folder``; a second run stops at once.

    The lock is an advisory lock (:func:`fcntl.flock`) on that file: the
    operating system releases it when the process ends, however it ends,
    so a crash leaves no stale lock behind.

    Raises
    ------
    CheckpointError
        If another process holds the lock (the message names the folder and
        that process's id).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK
    f = open(path, "a+")
    try:
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks here; run unguarded
            fcntl = None
        if fcntl is not None:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                f.seek(0)
                holder = f.read().strip() or "unknown"
                raise CheckpointError(
                    f"another run (process {holder}) is working in {str(folder)!r}; wait for "
                    "it to finish, stop it, or give this run another --out folder."
                ) from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        yield
    finally:
        f.close()  # releases the lock


def describe_saved(folder):
    """What ``folder`` holds, in words: "the source phase and 2 transfer folds"."""
    folder = Path(folder)
    if not folder.is_dir():
        return "nothing"
    parts = [f"the fitted source phase ({p.stem})" if p.stem != "source" else
             "the fitted source phase" for p in sorted(folder.glob(f"source*{SUFFIX}"))]
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        n = len(list(sub.glob(f"fold-*{SUFFIX}")))
        if n:
            parts.append(f"{n} {sub.name} fold{'s' if n > 1 else ''}")
    if not parts:
        return "nothing"
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


def remove(folder):
    """Delete a finished run's checkpoint folder."""
    shutil.rmtree(folder, ignore_errors=True)
