"""What the ensemble meta-estimators share: fitting members, checking their width, averaging."""

import time

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import MetaEstimatorMixin
from sklearn.utils import _safe_indexing
from sklearn.utils.metaestimators import _BaseComposition

from ..model_selection._checkpoint import FoldCheckpoint, FoldRecord
from ..model_selection._validation import _cross_validate_many, check_moa_cv
from ..models._base import PROBA_EPS, MultiLabelClassifierMixin
from ..utils._targets import check_multilabel_targets

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


def _fit_member(name, estimator, X, Y, fit_params, message=None):
    """Fit one member on all rows (a joblib task); returns its name, itself and the seconds taken.

    ``message``, when given, is printed first (the ensemble's ``verbose``).
    """
    if message is not None:
        print(message, flush=True)
    start = time.perf_counter()
    estimator.fit(X, Y, **fit_params)
    return name, estimator, time.perf_counter() - start


class MoAEnsembleMixin(MultiLabelClassifierMixin, MetaEstimatorMixin):
    """Fitting and averaging of the members of an ensemble meta-estimator."""

    def _fit_members(self, named_members, X, Y, n_targets, fit_params, checkpoint_dir=None,
                     messages=None):
        """Fit ``(name, unfitted clone)`` pairs in parallel; check their number of targets.

        ``fit_params`` holds one dict of fit parameters per member;
        ``messages``, one line per member printed as its fit starts. With
        ``checkpoint_dir``, each member is saved there as soon as it is
        fitted, and members already saved by an earlier run with the same
        settings and data are loaded instead of refitted (the fold store of
        :mod:`~sklearn_moa.model_selection._checkpoint`, one "fold" per member
        whose validation row is the first row: a check that the loaded model
        predicts it as it did).
        """
        params = {name: p for (name, _), p in zip(named_members, fit_params)}
        messages = dict(zip((name for name, _ in named_members), messages or []))
        fitted, stores = {}, {}
        if checkpoint_dir is not None:
            Y_checked, _ = check_multilabel_targets(Y, n_samples=len(X))
            checkpoint = FoldCheckpoint(checkpoint_dir, X, Y_checked)
            probe = np.arange(1)
            for name, member in named_members:
                stores[name] = checkpoint.run_store(
                    f"{name}-refit", member, [(np.arange(len(X)), probe)], fit_params=params[name]
                )
                record = stores[name].load(0, probe, n_targets, need_estimator=True)
                if record is not None:
                    fitted[name] = record.estimator
        jobs = [
            delayed(_fit_member)(name, member, X, Y, params[name], messages.get(name))
            for name, member in named_members if name not in fitted
        ]
        try:
            outputs = Parallel(n_jobs=self.n_jobs, return_as="generator_unordered")(jobs)
        except ValueError:  # a backend without result generators
            outputs = Parallel(n_jobs=self.n_jobs)(jobs)
        for name, estimator, fit_time in outputs:
            fitted[name] = estimator
            if name in stores:
                probe_proba = np.asarray(estimator.predict_proba(_safe_indexing(X, [0])), dtype=float)
                stores[name].save(0, FoldRecord(np.arange(1), probe_proba, fit_time, 0.0, estimator),
                                  score=np.nan)
        members = [fitted[name] for name, _ in named_members]
        for (name, _), estimator in zip(named_members, members):
            check_member_targets(name, estimator, X, n_targets)
        record_input_features(self, X)
        return members

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


def record_input_features(meta, X):
    """Set ``n_features_in_`` (and ``feature_names_in_`` for a DataFrame) on a meta-estimator."""
    shape = np.shape(X)
    meta.n_features_in_ = shape[1] if len(shape) > 1 else 1
    if isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns):
        meta.feature_names_in_ = np.asarray(X.columns, dtype=object)


class MemberEnsembleBase(MoAEnsembleMixin, _BaseComposition):
    """Base of an ensemble of named, different members (the stack).

    Holds the ``estimators`` list and its nested parameters, and the inner
    cross-validation that gives the members' out-of-fold predictions.
    Subclasses set ``estimators``, ``cv``, ``n_jobs``, ``random_state``,
    ``checkpoint_dir`` and ``verbose`` in ``__init__``.
    """

    def get_params(self, deep=True):
        """Parameters of the ensemble and, with ``deep``, of each member as ``<name>__<param>``."""
        return self._get_params("estimators", deep=deep)

    def set_params(self, **params):
        """Set parameters of the ensemble or of its members (``<name>__<param>``)."""
        self._set_params("estimators", **params)
        return self

    def _validate_estimators(self):
        if not isinstance(self.estimators, (list, tuple)) or not self.estimators:
            raise ValueError("estimators must be a non-empty list of (name, estimator) pairs.")
        try:
            names, members = zip(*self.estimators)
        except (TypeError, ValueError):
            raise ValueError("estimators must be a list of (name, estimator) pairs.") from None
        self._validate_names(names)
        for name, member in zip(names, members):
            if not hasattr(member, "fit") or not hasattr(member, "predict_proba"):
                raise ValueError(f"Estimator {name!r} has no fit/predict_proba: {member!r}.")
        return list(names), list(members)

    def _cross_validate_members(self, names, members, X, Y, groups, fit_params, purpose):
        """Out-of-fold predictions of every member (:class:`CVResult` by name)."""
        n_samples = np.shape(Y)[0]
        n_splits = check_moa_cv(self.cv, groups, self.random_state).get_n_splits()
        if n_samples < n_splits:
            raise ValueError(
                f"Cannot {purpose} by {n_splits}-fold inner cross-validation on "
                f"n_samples={n_samples}; pass more rows."
            )
        return _cross_validate_many(
            dict(zip(names, members)), X, Y, groups=groups, cv=self.cv, n_jobs=self.n_jobs,
            fit_params=fit_params, verbose=self.verbose, return_estimators=False,
            random_state=self.random_state, checkpoint_dir=self.checkpoint_dir,
        )
