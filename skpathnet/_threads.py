"""Control of torch's intra-op thread count around a fit or predict."""

from contextlib import contextmanager

import torch

__all__ = ["torch_threads"]


@contextmanager
def torch_threads(n_threads):
    """Run the block with ``torch.set_num_threads(n_threads)``, then restore.

    Parameters
    ----------
    n_threads : int or None
        Threads for torch's CPU kernels. None leaves torch's setting alone
        (inside joblib workers torch then follows the ``OMP_NUM_THREADS``
        limit that joblib sets for each worker).
    """
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)
