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

from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

# Re-exported: the target validation lives in utils (model_selection and
# ensemble need it without model internals).
from ..utils._targets import check_multilabel_targets

__all__ = ["MultiLabelClassifierMixin", "MoAClassifierBase", "PROBA_EPS", "check_multilabel_targets", "check_targets"]

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


def check_targets(Y, n_samples=None):
    """Validate the targets of a fit: a 0/1 matrix, or one binary label vector.

    Parameters
    ----------
    Y : array-like, Series or DataFrame of shape (n_samples,) or (n_samples, n_targets)
        A 2-D 0/1 indicator matrix (multi-label), or a 1-D vector of two
        class labels of any type (binary classification, as every
        scikit-learn classifier takes).
    n_samples : int, default=None
        Expected number of rows (that of ``X``).

    Returns
    -------
    Y : ndarray of shape (n_samples, n_targets), dtype int8
        A 1-D ``y`` becomes one 0/1 column: 1 where ``y == classes[1]``.
    names : ndarray of str or None
        Column names (the Series name for a named 1-D ``y``).
    classes : ndarray or None
        The two sorted labels of a 1-D ``y``; None for a 2-D ``Y``.

    Raises
    ------
    ValueError
        As :func:`check_multilabel_targets`; for a 1-D ``y``, also when it
        holds more than two classes, only one, or continuous values.
    """
    values = Y if isinstance(Y, (pd.Series, pd.DataFrame)) or Y is None else np.asarray(Y)
    if values is None or values.ndim != 1:
        return (*check_multilabel_targets(Y, n_samples=n_samples), None)
    y = values.to_numpy() if isinstance(values, pd.Series) else values
    if n_samples is not None and len(y) != n_samples:
        raise ValueError(f"X has {n_samples} rows but y has {len(y)}; they must match.")
    if len(y) == 0:
        raise ValueError("y is empty: 0 rows.")
    if pd.isna(y).any():
        raise ValueError(f"y contains missing values (NaN) in {int(pd.isna(y).sum())} rows.")
    kind = type_of_target(y, input_name="y")
    if kind == "continuous":
        raise ValueError(
            "Unknown label type: continuous values in y. A classifier needs class labels "
            "(a 1-D y of two classes, or a 2-D 0/1 target matrix)."
        )
    classes = np.unique(y)
    if len(classes) > 2:
        raise ValueError(
            f"Only binary classification is supported for a 1-D y, but it holds "
            f"{len(classes)} classes ({_listed(classes)}). For several MoA targets pass "
            "the 2-D (n_samples, n_targets) 0/1 target matrix."
        )
    if len(classes) < 2:
        raise ValueError(
            f"y holds only one class ({_listed(classes)}): a classifier needs samples "
            "of 2 classes."
        )
    names = None if getattr(Y, "name", None) is None else np.array([str(Y.name)])
    return (y == classes[1]).astype(np.int8).reshape(-1, 1), names, classes


def _listed(values, limit=5):
    shown = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


class MultiLabelClassifierMixin(ClassifierMixin):
    """Targets, outputs and tags of a classifier of this package.

    With a 2-D 0/1 target matrix ``Y`` (multi-label, the MoA case),
    ``predict_proba`` returns an (n_samples, n_targets) ndarray of
    positive-class probabilities, ``classes_`` is ``arange(n_targets)``, and
    ``predict`` thresholds the probabilities: the convention of
    :class:`~sklearn.neural_network.MLPClassifier` in the multi-label case.
    With a 1-D ``y`` of two labels (one target), the estimator is an ordinary
    binary classifier: ``classes_`` holds the two labels, ``predict_proba``
    has shape (n_samples, 2) and ``predict`` returns labels.

    A subclass calls :meth:`_check_targets` in ``fit``, computes
    (n_samples, n_targets) positive-class probabilities and returns them
    through :meth:`_proba_output` from ``predict_proba``.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        # One target is binary, several are a 0/1 matrix; more than two
        # classes in a 1-D y are an error.
        tags.classifier_tags.multi_class = False
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    def _check_targets(self, Y, n_samples):
        """Validate ``Y`` (see :func:`check_targets`) and set ``classes_``.

        Returns
        -------
        Y : ndarray of shape (n_samples, n_targets), dtype int8
        names : ndarray of str or None
        """
        Y, names, classes = check_targets(Y, n_samples=n_samples)
        self._binary_labels = classes
        self.classes_ = np.arange(Y.shape[1]) if classes is None else classes
        return Y, names

    def _encoded_targets(self, Y):
        """``Y`` as the 2-D 0/1 matrix a member or step of a meta-estimator is fitted on."""
        if getattr(self, "_binary_labels", None) is None:
            return Y
        encoded = (np.asarray(Y) == self._binary_labels[1]).astype(np.int8).reshape(-1, 1)
        if getattr(Y, "name", None) is not None:
            return pd.DataFrame(encoded, columns=[str(Y.name)], index=Y.index)
        return encoded

    def _proba_output(self, proba):
        """Positive-class probabilities as ``predict_proba`` returns them.

        Unchanged for multi-label targets; ``[1 - p, p]`` columns for a binary ``y``.
        """
        if getattr(self, "_binary_labels", None) is None:
            return proba
        return np.column_stack([1.0 - proba[:, 0], proba[:, 0]])

    def predict(self, X):
        """Predict by thresholding :meth:`predict_proba` at ``threshold`` (default 0.5).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        Y : ndarray of shape (n_samples, n_targets), dtype int, or (n_samples,)
            The 0/1 label matrix; for a 1-D training ``y``, its labels.
        """
        threshold = getattr(self, "threshold", 0.5)
        proba = self.predict_proba(X)
        if getattr(self, "_binary_labels", None) is not None:
            return self.classes_[(proba[:, 1] >= threshold).astype(int)]
        return (proba >= threshold).astype(int)


class MoAClassifierBase(MultiLabelClassifierMixin, BaseEstimator):
    """Base class of the MoA estimators: one fit lifecycle for every model.

    ``fit`` runs the same sequence for every model:

    1. validate the parameters against ``_parameter_constraints``
       (scikit-learn's ``_fit_context``), then ``_check_architecture()``
       for the checks that span several parameters;
    2. forget the previous fit (every public attribute ending in ``_``);
    3. validate ``X`` and ``Y`` (a 1-D ``y`` is binary classification) and
       the fit parameters the model declares in ``__metadata_request__fit``;
    4. record ``classes_``, the targets' prevalence and the targets with a
       single class, which get the constant ``(positives + 0.5) / (n + 1)``;
    5. ``_fit_targets(X, Y, seeds, **fit_params)`` on the targets that vary,
       or ``_fit_untrained()`` when none does.

    Subclasses store their parameters in ``__init__`` and implement
    ``_fit_targets``, ``_predict_targets`` and, where they keep fitted
    attributes of their own, ``_fit_untrained``. A model that takes fit
    parameters (``groups``, ``Y_nonscored``) declares them in
    ``__metadata_request__fit``, which also gives it ``set_fit_request``.

    Attributes
    ----------
    classes_ : ndarray
        ``arange(n_targets)`` for a 2-D ``Y``; the two labels of a 1-D ``y``.
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

    _parameter_constraints: dict = {}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, Y, **fit_params):
        """Fit the model on features ``X`` and the targets ``Y``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numeric features (e.g. the output of a feature preset).
        Y : array-like or DataFrame of shape (n_samples, n_targets), or (n_samples,)
            0/1 label indicator matrix; a 1-D ``y`` of two labels is binary
            classification.
        **fit_params : dict
            The fit parameters the model takes (see its class docstring):
            ``groups`` (one drug id per row: the inner validation split of
            early stopping keeps drugs whole) and ``Y_nonscored`` (the
            non-scored targets, for pretraining).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._check_architecture()
        self._forget_fit()
        X = self._validate_features(X, reset=True)
        Y, names = self._check_targets(Y, n_samples=X.shape[0])
        fit_params = self._check_fit_params(fit_params, X.shape[0])
        n_samples, n_targets = Y.shape
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
        else:
            self._fit_untrained()
        return self

    def predict_proba(self, X):
        """Positive-class probability of each target.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_targets), or (n_samples, 2)
            Float64 probabilities strictly inside (0, 1); for a 1-D training
            ``y``, the probabilities of ``classes_``.
        """
        check_is_fitted(self, "classes_")
        X = self._validate_features(X, reset=False)
        proba = np.tile(self._constant_proba, (X.shape[0], 1))
        varying = ~self.constant_targets_
        if varying.any():
            proba[:, varying] = self._predict_targets(X)
        if not np.isfinite(proba).all():
            raise FloatingPointError(
                f"{type(self).__name__} predicted NaN or infinite probabilities for "
                f"{int((~np.isfinite(proba)).any(axis=1).sum())} of {X.shape[0]} rows: "
                "the fitted model is broken (its training diverged)."
            )
        return self._proba_output(np.clip(proba, PROBA_EPS, 1 - PROBA_EPS))

    def _forget_fit(self):
        """Delete the previous fit's public attributes, so none outlives a refit."""
        for name in [n for n in vars(self) if n.endswith("_") and not n.startswith("_")]:
            delattr(self, name)

    def _check_fit_params(self, fit_params, n_samples):
        """Reject fit parameters the model does not take; check ``groups``' length."""
        accepted = set(self._get_metadata_request().fit.requests)
        unknown = sorted(set(fit_params) - accepted)
        if unknown:
            takes = f"it takes {', '.join(sorted(accepted))}" if accepted else "it takes none"
            raise TypeError(
                f"{type(self).__name__}.fit() got unexpected fit parameters {unknown}; {takes}."
            )
        groups = fit_params.get("groups")
        if groups is not None:
            groups = np.asarray(groups)
            if groups.shape != (n_samples,):
                raise ValueError(
                    f"groups must hold one drug id per row of X: X has {n_samples} rows, "
                    f"groups has shape {groups.shape}."
                )
            fit_params = {**fit_params, "groups": groups}
        return fit_params

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

    def _validation_split(self, n_samples, seed, groups=None, min_train=2):
        """Training and validation rows of the explicit inner hold-out.

        Models with early stopping hold out ``validation_fraction`` of the
        rows when ``early_stopping`` is on, and nothing otherwise (``valid``
        is None). With ``groups`` (drug ids), whole drugs are held out, so
        that replicates of a drug never sit on both sides: the early-stopping
        loss is then measured on unseen drugs, as the drug-aware CV's is.

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
        if groups is not None and len(np.unique(groups)) > 1:
            return _drug_holdout(groups, self.validation_fraction, seed, min_train)
        order = np.random.RandomState(seed).permutation(n_samples)
        return np.sort(order[n_valid:]), np.sort(order[:n_valid])

    def _check_architecture(self):
        """Raise a ValueError for parameters that do not fit together (a hook)."""

    def _fit_targets(self, X, Y, seeds, **fit_params):  # pragma: no cover - abstract
        raise NotImplementedError

    def _fit_untrained(self):
        """Set the fitted attributes of a model that had no varying target to learn (a hook)."""

    def _predict_targets(self, X):  # pragma: no cover - abstract
        raise NotImplementedError


def _drug_holdout(groups, fraction, seed, min_train):
    """Hold out whole drugs: about ``fraction`` of the rows, at least one drug.

    Drugs are taken in a seeded random order until the held-out rows reach
    ``fraction`` of all rows; the last drug taken may overshoot, but never so
    far that fewer than ``min_train`` rows stay for training.
    """
    drugs, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    order = np.random.RandomState(seed).permutation(len(drugs))
    target = fraction * len(groups)
    held, n_held = [], 0
    for drug in order:
        if n_held >= target:
            break
        if len(groups) - n_held - counts[drug] < min_train:
            continue
        held.append(drug)
        n_held += counts[drug]
    is_valid = np.isin(inverse, held)
    return np.flatnonzero(~is_valid), np.flatnonzero(is_valid)
