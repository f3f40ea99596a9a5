"""The binary log loss every part of the suite computes (metric, blends, early stopping)."""

import numpy as np

__all__ = ["COMPETITION_EPS", "binary_log_loss"]

#: Probability clipping of the LISH-MoA metric.
COMPETITION_EPS = 1e-15


def binary_log_loss(y, proba, *, eps=COMPETITION_EPS):
    """Binary log loss of each column (or of a 1-D vector), probabilities clipped.

    No validation: callers check shapes and labels first.

    Parameters
    ----------
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        0/1 labels.
    proba : ndarray of the same shape
        Positive-class probabilities.
    eps : float, default=1e-15
        Probabilities are clipped to ``[eps, 1 - eps]`` (the competition's).

    Returns
    -------
    loss : float or ndarray of shape (n_targets,)
    """
    p = np.clip(proba, eps, 1 - eps)
    return -np.mean(y * np.log(p) + (1 - y) * np.log1p(-p), axis=0)
