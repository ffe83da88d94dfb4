"""Checks that an experiment is valid, run on the listed corpora before any feature is extracted.

* :func:`shared_files`: files that a source and the target share, by
  resolved path or by content (SHA-256 of the bytes), so that no test clip
  was learnt in the source phase;
* :func:`single_group_classes`: classes that only one speaker/subject holds,
  which a group-wise split can never score (their test clips have no
  training clip of their class).
"""

import hashlib
import os

import numpy as np

__all__ = ["file_digest", "shared_files", "single_group_classes"]


def file_digest(path):
    """SHA-256 of the bytes of ``path``, as a hex string."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def shared_files(source_files, target_files):
    """The files of ``target_files`` that ``source_files`` also hold.

    Two files are the same when their resolved paths are equal (symbolic
    links, ``..``, relative paths) or when their contents are (a copy);
    only files of equal size are hashed, so the check reads little.

    Parameters
    ----------
    source_files, target_files : sequence of path-like

    Returns
    -------
    shared : list of (str, str, str)
        ``(target file, source file, "path" or "content")`` per shared
        target file, in target order.
    """
    by_path = {os.path.realpath(f): str(f) for f in source_files}
    by_size = {}
    for real in by_path:
        by_size.setdefault(os.path.getsize(real), []).append(real)
    digests = {}

    def digest(real):
        if real not in digests:
            digests[real] = file_digest(real)
        return digests[real]

    shared = []
    for f in target_files:
        real = os.path.realpath(f)
        if real in by_path:
            shared.append((str(f), by_path[real], "path"))
            continue
        same_size = by_size.get(os.path.getsize(real), ())
        match = next((s for s in same_size if digest(s) == digest(real)), None)
        if match is not None:
            shared.append((str(f), by_path[match], "content"))
    return shared


def single_group_classes(y, groups):
    """Classes that only one group holds: ``{class: (group, n_samples)}``.

    Under a group-wise split (leave-one-group-out, ``GroupKFold``) such a
    class is never in the training folds when its clips are tested, so its
    recall is 0 by construction.

    Parameters
    ----------
    y, groups : array-like of shape (n_samples,)

    Returns
    -------
    classes : dict
        In sorted class order; empty when every class has two groups or
        more, or when there is only one group.
    """
    y, groups = np.asarray(y), np.asarray(groups)
    if len(np.unique(groups)) < 2:
        return {}
    found = {}
    for label in np.unique(y):
        holders = np.unique(groups[y == label])
        if len(holders) == 1:
            found[str(label)] = (str(holders[0]), int(np.sum(y == label)))
    return found
