"""The multi-label base every MoA estimator stands on.

A model of this package only implements two hooks:

- ``_fit_targets(X, Y, seeds, **fit_params)``: fit on ``Y`` holding only the
  targets that have both classes in the training data;
- ``_predict_targets(X)``: positive-class probabilities for those targets.

The base owns everything else: input validation with readable errors,
``classes_``, the constant prediction of targets with a single class in the
training fold (19 of the 206 real targets come from one drug, so drug-aware
folds routinely leave a target without positives), clipping, thresholds,
seeding and tags.
"""

import numpy as np
import pandas as pd
from numbers import Integral, Real

from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

# Re-exported: the target validation lives in utils (model_selection and
# ensemble need it without model internals).
from ..utils._targets import check_multilabel_targets

__all__ = ["MultiLabelClassifierMixin", "MoAClassifierBase", "PROBA_EPS", "check_multilabel_targets"]

#: Predicted probabilities are clipped to ``[PROBA_EPS, 1 - PROBA_EPS]``.
PROBA_EPS = 1e-7

#: Constraints of the one training vocabulary every deep model shares
#: (DESIGN.md), whatever its framework; each framework adds its own parameters.
DEEP_MODEL_PARAMETER_CONSTRAINTS = {
    "epochs": [Interval(Integral, 1, None, closed="left")],
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "patience": [Interval(Integral, 1, None, closed="left")],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}


class MultiLabelClassifierMixin(ClassifierMixin):
    """Tags and ``predict`` of a multi-label classifier of this package.

    ``predict_proba`` returns an (n_samples, n_targets) ndarray of
    positive-class probabilities, ``classes_`` is ``arange(n_targets)``, and
    ``predict`` thresholds the probabilities. This is the convention of
    :class:`~sklearn.neural_network.MLPClassifier` in the multi-label case.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        # Each target is binary: common checks then generate 0/1 labels.
        tags.classifier_tags.multi_class = False
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        tags.target_tags.two_d_labels = True
        return tags

    def predict(self, X):
        """Predict the 0/1 label matrix by thresholding :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        Y : ndarray of shape (n_samples, n_targets), dtype int
        """
        threshold = getattr(self, "threshold", 0.5)
        return (self.predict_proba(X) >= threshold).astype(int)


class MoAClassifierBase(MultiLabelClassifierMixin, BaseEstimator):
    """Base class of the MoA estimators: validation, constant targets, seeding.

    Subclasses set their parameters in ``__init__`` (stored as given, nothing
    else) and implement ``_fit_targets`` and ``_predict_targets``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_targets,)
        ``arange(n_targets)``.
    n_targets_ : int
    target_names_ : ndarray of str
        Column names of ``Y`` when it was a DataFrame, else ``"target_<i>"``.
    target_prior_ : ndarray of shape (n_targets,)
        Training prevalence of each target.
    constant_targets_ : ndarray of bool of shape (n_targets,)
        Targets with a single class in the training data. They are not passed
        to the model and are predicted as the smoothed training prevalence
        ``(positives + 0.5) / (n_samples + 1)``.
    n_features_in_, feature_names_in_
        As in scikit-learn.
    """

    #: Number of independent seeds handed to ``_fit_targets``.
    _n_seeds = 1

    def fit(self, X, Y, **fit_params):
        """Fit the model on features ``X`` and the 0/1 target matrix ``Y``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numeric features (e.g. the output of a feature preset).
        Y : array-like or DataFrame of shape (n_samples, n_targets)
            0/1 label indicator matrix.
        **fit_params : dict
            Passed to the model's own fit (see the subclass).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X = self._validate_features(X, reset=True)
        Y, names = check_multilabel_targets(Y, n_samples=X.shape[0])
        n_samples, n_targets = Y.shape
        self.classes_ = np.arange(n_targets)
        self.n_targets_ = n_targets
        self.target_names_ = (
            names.astype(str) if names is not None
            else np.array([f"target_{i}" for i in range(n_targets)])
        )
        positives = Y.sum(axis=0)
        self.target_prior_ = positives / n_samples
        self.constant_targets_ = (positives == 0) | (positives == n_samples)
        self._constant_proba = (positives + 0.5) / (n_samples + 1.0)
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=self._n_seeds)
        varying = ~self.constant_targets_
        if varying.any():
            self._fit_targets(X, Y[:, varying], seeds, **fit_params)
        return self

    def predict_proba(self, X):
        """Positive-class probability of each target.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_targets)
            Float64 probabilities strictly inside (0, 1).
        """
        check_is_fitted(self, "classes_")
        X = self._validate_features(X, reset=False)
        proba = np.tile(self._constant_proba, (X.shape[0], 1))
        varying = ~self.constant_targets_
        if varying.any():
            proba[:, varying] = self._predict_targets(X)
        return np.clip(proba, PROBA_EPS, 1 - PROBA_EPS)

    def _validate_features(self, X, reset):
        if isinstance(X, pd.DataFrame):
            non_numeric = [c for c, t in X.dtypes.items() if not pd.api.types.is_numeric_dtype(t)]
            if non_numeric:
                raise ValueError(
                    f"{type(self).__name__} needs numeric features, but columns "
                    f"{non_numeric[:5]} are not numeric. Put a feature preset "
                    "(sklearn_moa.preprocessing.make_moa_features) in front of it in a "
                    "Pipeline, and the control rule (ControlAwareClassifier) around it."
                )
        return validate_data(self, X, reset=reset, dtype=np.float64, ensure_all_finite=True)

    def _validation_split(self, n_samples, seed, min_train=2):
        """Training and validation rows of the explicit inner hold-out.

        Deep models hold out ``validation_fraction`` of the rows when
        ``early_stopping`` is on, and nothing otherwise (``valid`` is None).

        Returns
        -------
        train, valid : ndarray of int, ndarray of int or None
        """
        n_valid = int(np.ceil(self.validation_fraction * n_samples)) if self.early_stopping else 0
        if n_samples - n_valid < min_train:
            held_out = f" after holding out validation_fraction={self.validation_fraction}" if n_valid else ""
            raise ValueError(
                f"{type(self).__name__} needs at least {min_train} training samples{held_out}; "
                f"got {n_samples} sample{'s' if n_samples != 1 else ''}."
            )
        if not n_valid:
            return np.arange(n_samples), None
        order = np.random.RandomState(seed).permutation(n_samples)
        return np.sort(order[n_valid:]), np.sort(order[:n_valid])

    def _fit_targets(self, X, Y, seeds, **fit_params):  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict_targets(self, X):  # pragma: no cover - abstract
        raise NotImplementedError
