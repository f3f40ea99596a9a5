"""Torch plumbing shared by the torch models: lazy import, local seeding, threads.

Nothing here imports torch at module import: :func:`import_torch` does it on
first use and raises an ImportError naming the ``torch`` extra when torch or
skorch is missing.
"""

import contextlib

import numpy as np
from joblib import effective_n_jobs

from ..utils._optional import import_optional

__all__ = [
    "TORCH_EXTRA", "import_torch", "load_state_arrays", "local_torch_seed", "resolve_torch_device",
    "state_arrays", "torch_thread_budget",
]

#: The sklearn-moa extra that installs torch and skorch.
TORCH_EXTRA = "torch"


def import_torch(purpose=None):
    """Import torch and skorch, or raise an ImportError naming the extra.

    Parameters
    ----------
    purpose : str, default=None
        What needs them (an estimator name), for the message.

    Returns
    -------
    torch : module
    """
    torch = import_optional("torch", TORCH_EXTRA, purpose)
    import_optional("skorch", TORCH_EXTRA, purpose)
    return torch


def resolve_torch_device(device, owner):
    """The torch device a model's ``device`` parameter names: ``"cpu"`` or ``"cuda"``.

    Parameters
    ----------
    device : {"cpu", "cuda", "auto"}
        ``"auto"`` is CUDA when torch sees a GPU, else the CPU.
    owner : str
        The estimator's name, for the message.

    Raises
    ------
    ValueError
        For ``"cuda"`` when torch sees no GPU (torch would fail deep inside
        the first batch, and pytorch-tabnet would fall back to the CPU
        silently).
    """
    torch = import_optional("torch", TORCH_EXTRA, owner)
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{owner}(device='cuda'): torch sees no GPU; use device='cpu' or 'auto'.")
    return device


@contextlib.contextmanager
def local_torch_seed(seed):
    """Seed torch for the block and give back every global torch RNG state after it.

    Weight initialisation, dropout masks and batch order all draw from torch's
    global generators; forking them makes a fit reproducible from ``seed``
    without changing what the caller's own torch code draws afterwards.
    ``torch.manual_seed`` reseeds every CUDA device too, so all of them are
    forked, whatever device the model trains on.

    Parameters
    ----------
    seed : int

    Notes
    -----
    The global generator is process-wide: two fits running in threads of one
    process at the same time draw from it in turn and are then not
    reproducible (processes, joblib's default, are not affected).
    """
    torch = import_optional("torch", TORCH_EXTRA)
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


@contextlib.contextmanager
def torch_thread_budget(n_jobs):
    """Run the block with ``n_jobs`` torch intra-op threads, then restore the setting.

    Parameters
    ----------
    n_jobs : int or None
        None leaves torch's setting alone (by default torch uses every core,
        or ``OMP_NUM_THREADS``); a negative value counts back from the number
        of cores as in joblib (-1: all of them).
    """
    if n_jobs is None:
        yield
        return
    torch = import_torch()
    previous = torch.get_num_threads()
    torch.set_num_threads(effective_n_jobs(n_jobs))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def state_arrays(module):
    """A torch module's ``state_dict`` as NumPy arrays (what a saved model stores)."""
    return {name: tensor.detach().cpu().numpy() for name, tensor in module.state_dict().items()}


def load_state_arrays(module, weights, mismatch):
    """Load ``weights`` (a dict of arrays from :func:`state_arrays`) into ``module``.

    Raises ``ValueError("<mismatch>: <torch's first line>")`` when they do not
    fit the module. Returns the module in evaluation mode.
    """
    torch = import_torch()
    tensors = {name: torch.from_numpy(np.array(value)) for name, value in weights.items()}
    try:
        module.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"{mismatch}: {str(exc).splitlines()[0]}") from None
    return module.eval()
