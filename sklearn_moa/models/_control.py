"""The control-row rule, in the one place every model shares.

``ctl_vehicle`` rows are treated with the vehicle only: they never carry a
mechanism of action. Winning LISH-MoA solutions dropped them from training and
predicted exactly zero for them; :class:`ControlAwareClassifier` does that
around any estimator or Pipeline.
"""

import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context, clone
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.validation import _check_method_params, check_array, check_is_fitted

from ..datasets._columns import CONTROL_TYPE
from ..utils._routing import routing_enabled
from ._base import PROBA_EPS, MultiLabelClassifierMixin

__all__ = ["ControlAwareClassifier"]


class ControlAwareClassifier(MultiLabelClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """Drop control rows in fit and predict (clipped) zero for them.

    Parameters
    ----------
    estimator : estimator or Pipeline
        A multi-label estimator whose ``predict_proba`` returns an
        (n_samples, n_targets) matrix, typically
        ``make_pipeline(make_moa_features(preset), model)``. It sees only the
        treated rows, with every column of ``X`` (the control column included).
    control_column : str or int, default="cp_type"
        Column of ``X`` that tells controls from treated rows: a name for a
        DataFrame, a position for an array.
    control_value : object, default="ctl_vehicle"
        Value of ``control_column`` that marks a control row.
    treated_value : object or None, default="trt_cp"
        Value that marks a treated row. Any other value is an error, so a typo
        or a new treatment type never passes silently; ``None`` treats every
        value other than ``control_value`` as treated.

    Attributes
    ----------
    estimator_ : estimator
        The fitted clone of ``estimator``.
    classes_ : ndarray of shape (n_targets,)
        ``arange(n_targets)``, or the two labels of a 1-D ``y``.
    n_targets_ : int
    n_controls_dropped_ : int
        Control rows left out of training.

    Examples
    --------
    >>> from sklearn_moa.datasets import make_moa
    >>> from sklearn_moa.models import ControlAwareClassifier, PriorClassifier
    >>> from sklearn.compose import make_column_transformer
    >>> from sklearn.pipeline import make_pipeline
    >>> data = make_moa(300, random_state=0)
    >>> model = ControlAwareClassifier(
    ...     make_pipeline(make_column_transformer(("passthrough", ["cp_time"])), PriorClassifier()))
    >>> proba = model.fit(data.features, data.targets).predict_proba(data.features)
    >>> bool((proba[(data.features.cp_type == "ctl_vehicle").to_numpy()] < 1e-6).all())
    True
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "control_column": [str, Integral],
        # Any value can mark a row (strings, numbers); compared with ==.
        "control_value": "no_validation",
        "treated_value": "no_validation",
    }

    def __init__(self, estimator, *, control_column="cp_type", control_value=CONTROL_TYPE,
                 treated_value="trt_cp"):
        self.estimator = estimator
        self.control_column = control_column
        self.control_value = control_value
        self.treated_value = treated_value

    def _control_mask(self, X):
        if isinstance(X, pd.DataFrame):
            if self.control_column not in X.columns:
                raise ValueError(
                    f"X has no {self.control_column!r} column; ControlAwareClassifier needs it "
                    "to find the control rows."
                )
            values = X[self.control_column].to_numpy()
        elif isinstance(self.control_column, (int, np.integer)):
            values = check_array(X, dtype=None, ensure_all_finite=False)
            if values.shape[1] <= self.control_column:
                raise ValueError(
                    f"X has {values.shape[1]} columns; control_column={self.control_column} "
                    "is out of range."
                )
            values = values[:, self.control_column]
        else:
            raise ValueError(
                f"X is a {type(X).__name__}, but control_column={self.control_column!r} is a "
                "name: pass X as a pandas DataFrame (or give the column position)."
            )
        if len(values) == 0:
            raise ValueError("X is empty: 0 rows.")
        is_control = values == self.control_value
        if self.treated_value is not None:
            unknown = ~is_control & (values != self.treated_value)
            if unknown.any():
                found = pd.unique(values[unknown])[:5].tolist()
                raise ValueError(
                    f"Unknown {self.control_column} values {found}: expected "
                    f"{self.treated_value!r} or {self.control_value!r}."
                )
        return np.asarray(is_control, dtype=bool)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, Y, **fit_params):
        """Fit ``estimator`` on the treated rows only.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Raw features including ``control_column``.
        Y : array-like or DataFrame of shape (n_samples, n_targets), or (n_samples,)
            0/1 target matrix, or a 1-D ``y`` of two labels (binary
            classification: ``estimator`` is fitted on its 0/1 column).
        **fit_params : dict
            Passed to ``estimator.fit``; those with one entry per row (for
            instance a non-scored target matrix or the drug ids) are subset
            to the treated rows. With metadata routing enabled, each goes
            only where it was requested (e.g.
            ``model.set_fit_request(Y_nonscored=True)`` on the inner model).

        Returns
        -------
        self : object
        """
        X = _indexable_rows(X)
        is_control = self._control_mask(X)
        Y_checked, _ = self._check_targets(Y, n_samples=len(is_control))
        if Y_checked[is_control].any():
            warnings.warn(
                f"{int(Y_checked[is_control].any(axis=1).sum())} control rows carry MoA labels; "
                "they are dropped from training all the same.",
                UserWarning,
            )
        treated = np.flatnonzero(~is_control)
        if treated.size == 0:
            raise ValueError("Every row of X is a control row: nothing to train on.")
        if routing_enabled():
            fit_params = process_routing(self, "fit", **fit_params).estimator.fit
        self.estimator_ = clone(self.estimator).fit(
            _safe_indexing(X, treated),
            _safe_indexing(self._encoded_targets(Y), treated),
            **_check_method_params(X, fit_params, indices=treated),
        )
        self.n_targets_ = Y_checked.shape[1]
        self.n_controls_dropped_ = int(is_control.sum())
        self.n_features_in_ = np.asarray(X).shape[1] if not hasattr(X, "columns") else len(X.columns)
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def predict_proba(self, X):
        """Probabilities from ``estimator_`` for treated rows, ``1e-7`` for controls.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_targets)
        """
        check_is_fitted(self, "estimator_")
        X = _indexable_rows(X)
        is_control = self._control_mask(X)
        proba = np.full((len(is_control), self.n_targets_), PROBA_EPS)
        treated = np.flatnonzero(~is_control)
        if treated.size:
            proba[treated] = self.estimator_.predict_proba(_safe_indexing(X, treated))
        return self._proba_output(proba)

    def get_metadata_routing(self):
        """Routing of fit metadata to ``estimator`` (scikit-learn's metadata routing).

        Returns
        -------
        routing : MetadataRouter
        """
        return MetadataRouter(owner=self).add(
            estimator=self.estimator, method_mapping=MethodMapping().add(caller="fit", callee="fit")
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        return tags


def _indexable_rows(X):
    """A DataFrame as it is; any other array-like as an ndarray of its own dtype."""
    if isinstance(X, pd.DataFrame):
        return X
    return check_array(X, dtype=None, ensure_all_finite=False)
