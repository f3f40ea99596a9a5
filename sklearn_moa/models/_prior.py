"""The prior baseline: every row gets each target's training prevalence."""

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _num_samples, validate_data

from ._base import MoAClassifierBase

__all__ = ["PriorClassifier"]


class PriorClassifier(MoAClassifierBase):
    """Predict each target's (smoothed) training prevalence for every row.

    The floor any MoA model has to beat. On the real data this scores about
    0.0205 on the competition metric. Like
    :class:`~sklearn.dummy.DummyClassifier`, it takes any ``X`` (raw feature
    frames with string columns, NaN) and only counts its rows.

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

    _parameter_constraints = {
        "smoothing": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, smoothing=0.5, random_state=None):
        self.smoothing = smoothing
        self.random_state = random_state

    def _validate_features(self, X, reset):
        """Any X, as :class:`~sklearn.dummy.DummyClassifier`: only its rows are counted."""
        validate_data(self, X, reset=reset, skip_check_array=True)
        return np.empty((_num_samples(X), 0))

    def _fit_targets(self, X, Y, seeds):
        self.prior_ = self._constant_proba.copy()
        n_samples = Y.shape[0]
        self.prior_[~self.constant_targets_] = (
            (Y.sum(axis=0) + self.smoothing) / (n_samples + 2.0 * self.smoothing)
        )

    def _fit_untrained(self):
        self.prior_ = self._constant_proba.copy()

    def _predict_targets(self, X):
        return np.tile(self.prior_[~self.constant_targets_], (X.shape[0], 1))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.input_tags.sparse = True
        return tags
