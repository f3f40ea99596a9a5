"""The prior baseline: every row gets each target's training prevalence."""

import numpy as np

from ._base import MoAClassifierBase

__all__ = ["PriorClassifier"]


class PriorClassifier(MoAClassifierBase):
    """Predict each target's (smoothed) training prevalence for every row.

    The floor any MoA model has to beat. On the real data this scores about
    0.0205 on the competition metric.

    Parameters
    ----------
    smoothing : float, default=0.5
        Pseudo-count added to the positives (and twice to the rows):
        ``(positives + smoothing) / (n_samples + 2 * smoothing)``. Targets with
        a single class in the training data always use the base's 0.5.
    random_state : None, int or RandomState, default=None
        Unused; accepted so that every estimator of the suite can be seeded alike.

    Attributes
    ----------
    prior_ : ndarray of shape (n_targets,)
        The probability predicted for each target.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_moa.models import PriorClassifier
    >>> X = np.zeros((4, 2)); Y = np.array([[1, 0], [0, 0], [1, 0], [0, 1]])
    >>> PriorClassifier(smoothing=0).fit(X, Y).prior_.round(2)
    array([0.5 , 0.25])
    """

    def __init__(self, smoothing=0.5, random_state=None):
        self.smoothing = smoothing
        self.random_state = random_state

    def fit(self, X, Y, **fit_params):
        """Store the smoothed prevalence of each target; ``X`` is only validated."""
        self._varying_prior = np.empty(0)
        super().fit(X, Y, **fit_params)
        self.prior_ = self._constant_proba.copy()
        self.prior_[~self.constant_targets_] = self._varying_prior
        return self

    def _fit_targets(self, X, Y, seeds):
        n_samples = Y.shape[0]
        self._varying_prior = (Y.sum(axis=0) + self.smoothing) / (n_samples + 2.0 * self.smoothing)

    def _predict_targets(self, X):
        return np.tile(self._varying_prior, (X.shape[0], 1))
