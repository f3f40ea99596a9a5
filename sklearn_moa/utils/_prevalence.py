"""Starting a sigmoid output at each target's training prevalence."""

import numpy as np

__all__ = ["prevalence_logits"]


def prevalence_logits(Y, *, eps=1e-4):
    """Logits of each target's prevalence in ``Y``, the output biases to start from.

    A zero bias starts every probability at 0.5, while MoA targets are rare
    (median prevalence about 0.2 %): the first epochs would go into pulling
    every output down, and quick fits end no better than the prior. Keras and
    torch models set their output biases to these logits.

    Parameters
    ----------
    Y : array-like of shape (n_samples, n_targets)
        0/1 training labels.
    eps : float, default=1e-4
        Prevalences are clipped to ``[eps, 1 - eps]`` (a target without
        positives would otherwise get an infinite bias).

    Returns
    -------
    logits : ndarray of shape (n_targets,), dtype float64

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_moa.utils._prevalence import prevalence_logits
    >>> prevalence_logits(np.array([[1, 0], [0, 0], [0, 0], [0, 0]])).round(3)
    array([-1.099, -9.21 ])
    """
    prevalence = np.clip(np.asarray(Y, dtype=np.float64).mean(axis=0), eps, 1 - eps)
    return np.log(prevalence / (1 - prevalence))
