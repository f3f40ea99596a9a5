"""What the ensemble meta-estimators share: fitting members, checking their width, averaging."""

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import MetaEstimatorMixin
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_array

from ..models._base import PROBA_EPS, MultiLabelClassifierMixin

__all__ = ["blend_probabilities"]


def check_blend_weights(weights, n_members):
    """Validate non-negative weights, one per member, and scale them to sum to one.

    Raises
    ------
    ValueError
        For a length other than ``n_members``, a negative, NaN or infinite
        weight, or weights that are all zero.
    """
    if isinstance(weights, str) or weights is None:
        raise ValueError(f"weights must be 'optimize' or a sequence of numbers; got {weights!r}.")
    try:
        values = np.asarray(weights, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"weights must be numbers; got {weights!r}.") from None
    if values.ndim != 1 or len(values) != n_members:
        raise ValueError(
            f"weights must hold one number per estimator: {n_members} estimators, "
            f"weights of shape {values.shape}."
        )
    if not np.isfinite(values).all():
        raise ValueError(f"weights must be finite; got {values.tolist()}.")
    if (values < 0).any():
        raise ValueError(
            f"weights must be non-negative; got {values.tolist()} (negative at positions "
            f"{np.flatnonzero(values < 0).tolist()})."
        )
    if values.sum() == 0:
        raise ValueError("weights are all zero: at least one estimator needs a positive weight.")
    return values / values.sum()


def blend_probabilities(probas, weights=None):
    """Weighted average of several (n_samples, n_targets) probability matrices.

    Parameters
    ----------
    probas : sequence of array-like of shape (n_samples, n_targets)
    weights : array-like of shape (n_matrices,), default=None
        Non-negative; scaled to sum to one. None: the plain mean.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_targets)
        Clipped to ``[1e-7, 1 - 1e-7]`` like every model of the suite.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_moa.ensemble import blend_probabilities
    >>> blend_probabilities([np.full((1, 2), 0.2), np.full((1, 2), 0.6)], [1, 3])
    array([[0.5, 0.5]])
    """
    stacked = _stack_probabilities(probas)
    weights = (
        np.full(len(stacked), 1.0 / len(stacked)) if weights is None
        else check_blend_weights(weights, len(stacked))
    )
    return weighted_average(stacked, weights)


def weighted_average(stacked, weights):
    """``sum_i weights[i] * stacked[i]``, clipped like every model's probabilities."""
    return np.clip(np.tensordot(weights, stacked, axes=1), PROBA_EPS, 1 - PROBA_EPS)


def _stack_probabilities(probas, names=None):
    """Stack probability matrices into (n_matrices, n_samples, n_targets), with clear errors."""
    matrices = [np.asarray(p, dtype=float) for p in probas]
    if not matrices:
        raise ValueError("Nothing to blend: no probability matrix given.")
    names = names or [f"#{i}" for i in range(len(matrices))]
    for name, matrix in zip(names, matrices):
        if matrix.ndim != 2:
            raise ValueError(
                f"Predictions of {name} must be an (n_samples, n_targets) matrix; "
                f"got shape {matrix.shape}."
            )
    shapes = {matrix.shape for matrix in matrices}
    if len(shapes) > 1:
        listed = ", ".join(f"{name!r}: {m.shape}" for name, m in zip(names, matrices))
        raise ValueError(
            "Cannot blend predictions of different shapes (a different number of rows or "
            f"targets): {listed}."
        )
    return np.stack(matrices)


def _fit_member(estimator, X, Y, fit_params):
    """Fit one member on all rows (a joblib task)."""
    return estimator.fit(X, Y, **fit_params)


class MoAEnsembleMixin(MultiLabelClassifierMixin, MetaEstimatorMixin):
    """Fitting and averaging of the members of an ensemble meta-estimator."""

    def _fit_members(self, named_members, X, Y, n_targets, fit_params):
        """Fit ``(name, unfitted clone)`` pairs in parallel; check their number of targets.

        ``fit_params`` holds one dict of fit parameters per member.
        """
        fitted = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_member)(member, X, Y, params)
            for (_, member), params in zip(named_members, fit_params)
        )
        for (name, _), estimator in zip(named_members, fitted):
            check_member_targets(name, estimator, X, n_targets)
        record_input_features(self, X)
        return fitted

    @staticmethod
    def _average_members(named_members, weights, X):
        stacked = _stack_probabilities(
            [member.predict_proba(X) for _, member in named_members],
            [name for name, _ in named_members],
        )
        return weighted_average(stacked, weights)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True  # members may take raw frames with string columns
        return tags


def check_member_targets(name, estimator, X, n_targets):
    """Raise a clear error when a fitted member predicts another number of targets."""
    classes = getattr(estimator, "classes_", None)
    if classes is not None and np.ndim(classes) == 1 and not isinstance(classes, list):
        width = len(classes)
    else:
        width = np.shape(estimator.predict_proba(_safe_indexing(X, [0])))[-1]
    if width != n_targets:
        raise ValueError(
            f"Estimator {name!r} predicts {width} targets but Y has {n_targets}: every "
            "member of an ensemble must predict the same targets."
        )


def check_meta_input(X):
    """Reject sparse, complex or non-2-D ``X`` early; return it indexable by rows.

    DataFrames pass through untouched; other array-likes become ndarrays of
    their own dtype. The members validate ``X`` themselves (they may take raw
    frames with string columns); this only gives the clear errors a
    meta-estimator owes before it starts cross-validating.
    """
    if isinstance(X, pd.DataFrame):
        return X
    return check_array(X, dtype=None, accept_sparse=False, ensure_all_finite=False)


def record_input_features(meta, X):
    """Set ``n_features_in_`` (and ``feature_names_in_`` for a DataFrame) on a meta-estimator."""
    shape = np.shape(X)
    meta.n_features_in_ = shape[1] if len(shape) > 1 else 1
    if isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns):
        meta.feature_names_in_ = np.asarray(X.columns, dtype=object)
