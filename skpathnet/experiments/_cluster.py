"""Folds, grid searches and experiments on a Dask cluster.

Nothing here schedules anything: Dask distributed does. scikit-learn's
``GridSearchCV``, ``cross_validate`` and ``cross_val_predict`` reach it through
joblib's ``"dask"`` backend (:func:`on_cluster`); the experiment runner
submits its fold tasks to the same client as Dask futures
(:func:`~skpathnet.experiments.evaluate` with ``client``), which also
reports a task lost with its worker. This module only connects to (or
starts) the cluster, with a clear error when something is missing.
Inside a worker, a PathNet fit with ``n_threads=None`` uses one torch thread
per task (:func:`skpathnet.utils._threads.torch_threads`), since Dask, unlike
loky, does not bound the BLAS/OpenMP threads of the tasks it runs.
"""

import logging
from contextlib import contextmanager, nullcontext

from joblib import parallel_config

__all__ = ["dask_cluster", "import_distributed", "on_cluster"]

_INSTALL = "pip install 'skpathnet[dask]' (it installs dask[distributed])"


def import_distributed():
    """Import ``dask.distributed``, or say what to install.

    Raises
    ------
    ImportError
        If ``dask.distributed`` is not installed (the ``dask`` extra).
    """
    try:
        import dask.distributed as distributed
    except ImportError as exc:
        raise ImportError(
            f"Running on a Dask cluster needs dask.distributed, which is not installed: {_INSTALL}."
        ) from exc
    return distributed


@contextmanager
def dask_cluster(scheduler=None, *, n_workers=None, timeout=10):
    """Connect to a Dask scheduler, or start a local cluster; yield its client.

    Parameters
    ----------
    scheduler : str, default=None
        Address of a running scheduler (``"tcp://10.0.0.5:8786"``), started
        with ``dask scheduler``, its workers with ``dask worker ADDRESS
        --nthreads 1``.
    n_workers : int, default=None
        Instead of ``scheduler``: start a
        :class:`dask.distributed.LocalCluster` of this many single-thread
        worker processes on this machine, closed on exit.
    timeout : float, default=10
        Seconds to wait for the scheduler (and, locally, the workers).

    Yields
    ------
    client : dask.distributed.Client
        Closed on exit (and the local cluster with it).

    Raises
    ------
    ValueError
        If neither or both of ``scheduler`` and ``n_workers`` are given, or
        ``n_workers`` < 1.
    OSError
        If the scheduler cannot be reached (the message names the address
        and how to start one).
    ImportError
        If ``dask.distributed`` is not installed.
    """
    if (scheduler is None) == (n_workers is None):
        raise ValueError("give a scheduler address or n_workers for a local cluster (one of them).")
    if n_workers is not None and int(n_workers) < 1:
        raise ValueError(f"n_workers must be a positive number of workers; got {n_workers}.")
    distributed = import_distributed()
    cluster = None
    if scheduler is None:
        cluster = distributed.LocalCluster(
            n_workers=int(n_workers), threads_per_worker=1, processes=True,
            dashboard_address=":0", silence_logs=logging.ERROR,
        )
        client = distributed.Client(cluster, timeout=timeout)
    else:
        try:
            client = distributed.Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise OSError(
                f"cannot reach the Dask scheduler at {scheduler!r} within {timeout} s ({exc}); "
                "start one with `dask scheduler` and its workers with `dask worker "
                f"{scheduler} --nthreads 1`, or use --local-cluster N on one machine."
            ) from exc
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def on_cluster(client, *data):
    """A context in which joblib (so scikit-learn's searches) runs its tasks on ``client``.

    ``data`` (e.g. ``X, y``) is sent to every worker once, up front; tasks
    that take these very objects as arguments refer to the workers' copies
    instead of carrying them. With ``client=None``, nothing changes
    (joblib's current configuration applies).

    With joblib 1.6, a batch of tasks lost with its worker after Dask's
    retries (``KilledWorker``) leaves joblib waiting forever; the runner's
    :func:`~skpathnet.experiments.evaluate` (``client=``) raises instead.
    """
    if client is None:
        return nullcontext()
    return parallel_config(backend="dask", client=client, scatter=list(data))
