"""Control of torch's intra-op thread count around a fit or predict."""

import sys
from contextlib import contextmanager

import torch

__all__ = ["torch_threads"]


@contextmanager
def torch_threads(n_threads):
    """Run the block with ``torch.set_num_threads(n_threads)``, then restore.

    Parameters
    ----------
    n_threads : int or None
        Threads for torch's CPU kernels. None leaves torch's setting alone,
        except inside a Dask worker, where it means one thread: Dask runs one
        task per worker thread and, unlike joblib's loky workers (where torch
        follows the ``OMP_NUM_THREADS`` limit that joblib sets for each
        worker), does not bound the threads a task may start.
    """
    if n_threads is None and _in_dask_worker():
        n_threads = 1
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _in_dask_worker():
    """Whether this code runs in a task of a Dask worker (without importing Dask)."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return False
    try:
        distributed.get_worker()
    except ValueError:
        return False
    return True
