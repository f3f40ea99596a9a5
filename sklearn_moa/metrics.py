"""The LISH-MoA competition metric and its scorer.

The competition scores the mean, over target columns, of each column's binary
log loss. :func:`sklearn.metrics.log_loss` on a label-indicator matrix computes
something else (it treats each row as a distribution over labels and drops the
``(1 - y) log(1 - p)`` terms), so it must not be used for MoA.
"""

import numbers

import numpy as np

from .utils._log_loss import COMPETITION_EPS, binary_log_loss
from .utils._validation import check_numeric_finite

__all__ = ["mean_columnwise_log_loss", "columnwise_log_loss", "moa_log_loss_scorer"]


def _as_2d_float(a, name):
    values = check_numeric_finite(a, name=name)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_targets); got {values.ndim}-D.")
    if values.size == 0:
        raise ValueError(f"{name} is empty.")
    return values


def columnwise_log_loss(y_true, y_proba, *, eps=COMPETITION_EPS):
    """Binary log loss of each target column.

    Parameters
    ----------
    y_true : array-like or DataFrame of shape (n_samples, n_targets)
        0/1 label indicator matrix.
    y_proba : array-like or DataFrame of shape (n_samples, n_targets)
        Predicted probability of the positive class of each target.
    eps : float, default=1e-15
        Probabilities are clipped to ``[eps, 1 - eps]``, as the competition did.

    Returns
    -------
    losses : ndarray of shape (n_targets,)
    """
    y = _as_2d_float(y_true, "y_true")
    p = _as_2d_float(y_proba, "y_proba")
    if y.shape != p.shape:
        raise ValueError(
            f"y_true has shape {y.shape} but y_proba has shape {p.shape}; "
            "they must match (n_samples, n_targets)."
        )
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y_true must be a binary 0/1 indicator matrix.")
    if not isinstance(eps, numbers.Real) or not 0 < eps < 0.5:
        raise ValueError(f"eps must be a float in (0, 0.5); got {eps!r}.")
    return binary_log_loss(y, p, eps=eps)


def mean_columnwise_log_loss(y_true, y_proba, *, eps=COMPETITION_EPS):
    """The LISH-MoA metric: mean over targets of each column's binary log loss.

    .. math::

        \\frac{1}{M} \\sum_{m=1}^{M} -\\frac{1}{N} \\sum_{i=1}^{N}
        \\left[ y_{im} \\log p_{im} + (1 - y_{im}) \\log(1 - p_{im}) \\right]

    Parameters
    ----------
    y_true : array-like or DataFrame of shape (n_samples, n_targets)
        0/1 label indicator matrix.
    y_proba : array-like or DataFrame of shape (n_samples, n_targets)
        Predicted positive-class probabilities.
    eps : float, default=1e-15
        Clipping applied to the probabilities.

    Returns
    -------
    loss : float
        Lower is better.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_moa.metrics import mean_columnwise_log_loss
    >>> y = np.array([[1, 0], [0, 0]])
    >>> round(mean_columnwise_log_loss(y, np.full((2, 2), 0.5)), 4)
    0.6931
    """
    return float(np.mean(columnwise_log_loss(y_true, y_proba, eps=eps)))


def moa_log_loss_scorer(estimator, X, y):
    """Scorer for :func:`mean_columnwise_log_loss` (negated: greater is better).

    Use it as ``scoring=moa_log_loss_scorer`` in
    :func:`~sklearn.model_selection.cross_val_score` or
    :class:`~sklearn.model_selection.GridSearchCV`. It calls
    ``estimator.predict_proba(X)``, which must return an
    (n_samples, n_targets) matrix of positive-class probabilities, the
    convention every estimator of this package follows.

    Returns
    -------
    score : float
        ``-mean_columnwise_log_loss(y, estimator.predict_proba(X))``.
    """
    proba = estimator.predict_proba(X)
    if isinstance(proba, list):
        raise TypeError(
            f"{type(estimator).__name__}.predict_proba returned a list (one array per "
            "target, as MultiOutputClassifier does); moa_log_loss_scorer needs an "
            "(n_samples, n_targets) matrix of positive-class probabilities."
        )
    return -mean_columnwise_log_loss(y, proba)
