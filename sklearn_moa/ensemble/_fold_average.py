"""The fold models of a cross-validation run, predicting as one model (the seed's test-time protocol)."""

from ._base import blend_probabilities

__all__ = ["FoldAveragedModel"]


class FoldAveragedModel:
    """The fitted models of the K folds of a CV run, averaging their probabilities.

    This is the seed's test-time protocol: each fold's model predicts the test
    rows and the submission is the mean of the K predictions. It only wraps
    models that are already fitted (``cross_validate_moa(...,
    return_estimators=True).estimators``), so it has no ``fit``.

    Parameters
    ----------
    estimators : list of fitted estimators
        One fitted multi-label model per fold.

    Attributes
    ----------
    estimators_ : list of fitted estimators
        The fold models.

    Examples
    --------
    >>> from sklearn_moa.datasets import make_moa
    >>> from sklearn_moa.ensemble import FoldAveragedModel
    >>> from sklearn_moa.model_selection import cross_validate_moa
    >>> from sklearn_moa.models import PriorClassifier
    >>> data = make_moa(300, n_test_samples=0, random_state=0)
    >>> X, Y = data.features.filter(like="g-"), data.targets
    >>> result = cross_validate_moa(PriorClassifier(), X, Y, groups=data.drugs, cv=3,
    ...                             return_estimators=True)
    >>> FoldAveragedModel(result.estimators).predict_proba(X).shape
    (300, 206)
    """

    #: Its state is its fold models: sklearn-moa's safe model files may store it.
    _plain_state = True

    def __init__(self, estimators):
        self.estimators_ = list(estimators)
        if not self.estimators_:
            raise ValueError("FoldAveragedModel needs at least one fitted fold model.")

    @property
    def classes_(self):
        """The fold models' ``classes_`` (target indices)."""
        return self.estimators_[0].classes_

    def predict_proba(self, X):
        """Mean of the fold models' ``predict_proba``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            What the fold models take.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_targets)
        """
        return blend_probabilities([estimator.predict_proba(X) for estimator in self.estimators_])
