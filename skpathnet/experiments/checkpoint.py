"""Checkpoints of long runs: the folder of saved parts a run resumes from.

The helpers a script or the command line calls around
:func:`~skpathnet.experiments.evaluate`,
:func:`~skpathnet.experiments.fit_sources` and
:func:`~skpathnet.experiments.run_transfer_experiment`, which save the parts
themselves (see :mod:`skpathnet.experiments._checkpoint` for the format):

- :func:`open_checkpoint`: start or resume a run's folder, refusing a resume
  whose settings or data (:func:`fingerprint`) changed;
- :func:`fingerprint`: what identifies a run's data;
- :func:`check_writable`: fail early on an output folder that cannot be written;
- :func:`describe_saved`: what a folder holds, for a message after an interrupt;
- :func:`remove`: delete a finished run's folder;
- :data:`SUFFIX`: the extension of the part files, to name a part's path;
- :class:`CheckpointError`: a part or folder that cannot be used.

Example
-------
>>> from skpathnet.experiments import checkpoint
>>> checkpoint.SUFFIX
'.npz'
"""

from ._checkpoint import (
    SUFFIX, CheckpointError, check_writable, describe_saved, fingerprint, open_checkpoint, remove,
)

__all__ = ["CheckpointError", "SUFFIX", "check_writable", "describe_saved", "fingerprint",
           "open_checkpoint", "remove"]
