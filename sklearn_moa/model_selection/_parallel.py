"""Thread budget of a fold running next to other folds.

Folds run in parallel processes (joblib's loky, a Dask or Ray worker). Each
framework inside a fold starts its own thread pools sized to the whole machine
by default: BLAS and OpenMP (numpy, scikit-learn, XGBoost), torch's intra-op
pool, TensorFlow's intra- and inter-op pools. Eight folds on an eight-core
machine then run 64+ threads and are slower than one fold at a time.

Two knobs keep each fold within its share:

- :func:`thread_budget` (used by ``cross_validate_moa(threads_per_fold=...)``)
  limits the pools of the process a fold runs in, for the duration of the fold;
- :func:`worker_thread_env` gives the environment variables to start worker
  processes with (``LocalCluster(env=...)``, ``dask worker`` on a real cluster,
  Ray's ``runtime_env``), which also reach frameworks whose pool size is fixed
  at import (TensorFlow).
"""

import numbers
import os
import sys
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

__all__ = ["thread_budget", "worker_thread_env"]

_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
)


def _check_threads(n_threads):
    if not isinstance(n_threads, numbers.Integral) or isinstance(n_threads, bool) or n_threads < 1:
        raise ValueError(f"The thread budget must be an integer >= 1; got {n_threads!r}.")
    return int(n_threads)


def worker_thread_env(n_threads):
    """Environment variables that cap a worker process at ``n_threads`` threads per pool.

    Parameters
    ----------
    n_threads : int
        Threads each pool of a worker may use: the worker's cores divided by
        the tasks (folds) it runs at once.

    Returns
    -------
    env : dict of str -> str
        ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ...,
        ``TF_NUM_INTRAOP_THREADS`` (and ``TF_NUM_INTEROP_THREADS=1``), to give
        to ``dask.distributed.LocalCluster(env=...)`` or to export before
        ``dask worker`` starts.

    Examples
    --------
    >>> from sklearn_moa.model_selection import worker_thread_env
    >>> worker_thread_env(2)["OMP_NUM_THREADS"]
    '2'
    """
    n_threads = _check_threads(n_threads)
    env = {name: str(n_threads) for name in _THREAD_VARIABLES}
    env["TF_NUM_INTEROP_THREADS"] = "1"
    return env


@contextmanager
def thread_budget(n_threads):
    """Limit the thread pools of this process to ``n_threads`` while the block runs.

    Limits BLAS/OpenMP pools through :mod:`threadpoolctl` (numpy, scikit-learn,
    XGBoost's OpenMP), torch's intra-op pool when torch is imported, and
    TensorFlow's pools when TensorFlow has not created them yet. Environment
    variables of :func:`worker_thread_env` are set for the duration of the
    block, so a framework first imported inside it starts with the budget.
    Everything is restored on exit, except TensorFlow's pools, which are fixed
    once created (start TensorFlow workers with :func:`worker_thread_env`).

    Parameters
    ----------
    n_threads : int or None
        None leaves everything as it is.

    Examples
    --------
    >>> from sklearn_moa.model_selection import thread_budget
    >>> with thread_budget(1):
    ...     pass
    """
    if n_threads is None:
        yield
        return
    env = worker_thread_env(n_threads)
    n_threads = int(env["OMP_NUM_THREADS"])
    saved_env = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    torch = sys.modules.get("torch")
    saved_torch = torch.get_num_threads() if torch is not None else None
    try:
        if torch is not None:
            torch.set_num_threads(n_threads)
        _limit_tensorflow(n_threads)
        with threadpool_limits(limits=n_threads):
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(saved_torch)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _limit_tensorflow(n_threads):
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(n_threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except (RuntimeError, AttributeError):
        pass  # pools already created: only worker_thread_env at start-up can size them
