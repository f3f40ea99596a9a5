"""Weighted blends of MoA models, with weights learnt from out-of-fold predictions.

Every LISH-MoA winner submitted a weighted average of the probabilities of
several model families, the weights found by minimising the competition
metric on out-of-fold (OOF) predictions with a SciPy optimiser (SLSQP,
Nelder-Mead). :func:`optimize_blend_weights` does that on OOF matrices the
user already has (e.g. from :func:`~sklearn_moa.model_selection.compare_models`);
:class:`BlendedMoAClassifier` is the estimator that computes them by inner
cross-validation, learns the weights and refits the members.
"""

import warnings
from numbers import Integral

import numpy as np
from scipy.optimize import minimize
from sklearn.base import _fit_context, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import Bunch
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import _num_samples, check_is_fitted

from ..model_selection._validation import CVResult, _cross_validate_many, check_moa_cv
from ..utils._log_loss import COMPETITION_EPS, binary_log_loss
from ..utils._routing import routing_enabled
from ..utils._targets import check_multilabel_targets
from ._base import MoAEnsembleMixin, _stack_probabilities, check_blend_weights, check_meta_input

__all__ = ["BlendedMoAClassifier", "optimize_blend_weights"]


def _named_matrices(oof_predictions):
    """``(names, matrices)`` from a list or dict of OOF matrices or CVResults."""
    if isinstance(oof_predictions, dict):
        names, items = list(map(str, oof_predictions)), list(oof_predictions.values())
    elif isinstance(oof_predictions, (list, tuple)):
        names, items = [f"#{i}" for i in range(len(oof_predictions))], list(oof_predictions)
    else:
        raise ValueError(
            "oof_predictions must be a list or a dict {name: matrix} of out-of-fold "
            f"probability matrices (or CVResult objects); got {type(oof_predictions).__name__}."
        )
    matrices = [item.oof_predictions if isinstance(item, CVResult) else item for item in items]
    return names, matrices


def _blend_loss_and_gradient(weights, P, Y):
    """Mean column-wise log loss of ``weights @ P`` against ``Y``, and its gradient."""
    p = np.clip(np.tensordot(weights, P, axes=1), COMPETITION_EPS, 1 - COMPETITION_EPS)
    loss = np.mean(binary_log_loss(Y, p))
    d_loss_d_p = (p - Y) / (p * (1 - p) * Y.size)
    return loss, np.tensordot(P, d_loss_d_p, axes=([1, 2], [0, 1]))


def optimize_blend_weights(oof_predictions, Y, *, tol=1e-10, max_iter=500):
    """Non-negative weights summing to one that minimise the OOF log loss of a blend.

    Minimises the competition metric (mean column-wise log loss) of
    ``sum_i w_i P_i`` over the simplex with SciPy's SLSQP and an exact
    gradient. The problem is convex, so the optimum is global; the result is
    never worse than the best single matrix nor the plain mean.

    Parameters
    ----------
    oof_predictions : list or dict of str -> array-like or CVResult
        Out-of-fold probability matrices of shape (n_samples, n_targets), one
        per model, e.g. the results of
        :func:`~sklearn_moa.model_selection.compare_models` with
        ``return_results=True``. Rows that any matrix leaves NaN (rows in no
        validation fold) are ignored.
    Y : array-like or DataFrame of shape (n_samples, n_targets)
        The 0/1 targets the predictions were made for.
    tol : float, default=1e-10
        Tolerance on the loss (SLSQP's ``ftol``).
    max_iter : int, default=500

    Returns
    -------
    weights : ndarray of shape (n_models,)
        In the order of ``oof_predictions`` (a dict's insertion order).

    Raises
    ------
    ValueError
        For matrices of different shapes (another number of targets or rows),
        a shape that differs from ``Y``'s, values outside [0, 1], or no row
        predicted by every model.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_moa.ensemble import optimize_blend_weights
    >>> rng = np.random.RandomState(0)
    >>> Y = (rng.rand(1000, 3) < 0.2).astype(int)
    >>> a, b = (np.clip(0.2 + 0.5 * (Y - 0.2) + 0.15 * rng.randn(1000, 3), 0.01, 0.99)
    ...         for _ in range(2))
    >>> prior = np.full((1000, 3), 0.2)
    >>> optimize_blend_weights({"a": a, "b": b, "prior": prior}, Y).round(2)
    array([0.52, 0.48, 0.  ])
    """
    names, matrices = _named_matrices(oof_predictions)
    stacked = _stack_probabilities(matrices, names)
    Y, _ = check_multilabel_targets(Y)
    if stacked.shape[1:] != Y.shape:
        raise ValueError(
            f"The OOF predictions have shape {stacked.shape[1:]} but Y has shape {Y.shape}; "
            "they must match (n_samples, n_targets)."
        )
    finite = stacked[~np.isnan(stacked)]
    if ((finite < 0) | (finite > 1)).any():
        raise ValueError("OOF predictions must be probabilities in [0, 1].")
    covered = ~np.isnan(stacked).any(axis=(0, 2))
    if not covered.any():
        raise ValueError("No row is predicted by every model (all rows hold a NaN somewhere).")
    P, Y = stacked[:, covered], Y[covered].astype(float)
    n_models = len(P)
    if n_models == 1:
        return np.ones(1)
    result = minimize(
        _blend_loss_and_gradient, np.full(n_models, 1.0 / n_models), args=(P, Y), jac=True,
        method="SLSQP", bounds=[(0.0, 1.0)] * n_models,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": np.ones_like}],
        options={"ftol": tol, "maxiter": max_iter},
    )
    if not result.success:
        warnings.warn(f"Blend weight optimisation did not converge: {result.message}", ConvergenceWarning)
    optimised = np.clip(result.x, 0.0, None)
    candidates = [optimised / optimised.sum(), np.full(n_models, 1.0 / n_models)]
    candidates += list(np.eye(n_models))
    losses = [_blend_loss_and_gradient(w, P, Y)[0] for w in candidates]
    return candidates[int(np.argmin(losses))]


class BlendedMoAClassifier(MoAEnsembleMixin, _BaseComposition):
    """Weighted average of the probabilities of several MoA models.

    With ``weights="optimize"`` the weights are learnt: each member is
    cross-validated on the training data (drug-aware folds when ``groups`` is
    passed to :meth:`fit`, else multi-label stratified ones, through
    :func:`~sklearn_moa.model_selection.cross_validate_moa`'s machinery), and
    :func:`optimize_blend_weights` finds the non-negative weights summing to
    one that minimise the column-wise log loss of the blended OOF predictions.
    Members are then refitted on all rows (those with weight zero are not).

    To try a blend without retraining, optimise weights on OOF predictions you
    already have and pass them: ``BlendedMoAClassifier(estimators,
    weights=optimize_blend_weights(results, Y))``.

    Parameters
    ----------
    estimators : list of (str, estimator)
        The members: estimators whose ``predict_proba`` returns an
        (n_samples, n_targets) matrix, typically entries of the model zoo.
        Their parameters are reachable as ``<name>__<param>``.
    weights : "optimize" or array-like of shape (n_estimators,), default="optimize"
        Given weights must be non-negative; they are scaled to sum to one.
    cv : int or splitter, default=5
        Inner cross-validation used to learn the weights (only with
        ``weights="optimize"``); an int gives drug-aware folds when ``groups``
        is given to :meth:`fit`.
    n_jobs : int, default=None
        Parallel (member, fold) fits, through joblib (a Dask or Ray backend
        spreads them over a cluster).
    random_state : int, default=0
        Seeds the inner splitter built when ``cv`` is an int.
    verbose : int, default=0

    Attributes
    ----------
    weights_ : ndarray of shape (n_estimators,)
        Weights used by :meth:`predict_proba`, summing to one.
    estimators_ : list
        The members refitted on all rows, in the order of ``estimators``;
        None for a member of weight zero.
    named_estimators_ : Bunch
        ``estimators_`` by name.
    member_cv_results_ : dict of str -> CVResult
        Inner cross-validation of each member (only with ``weights="optimize"``).
    blend_oof_log_loss_ : float
        OOF log loss of the blend with ``weights_`` (only with
        ``weights="optimize"``). Slightly optimistic: the weights were fitted
        on these predictions.
    classes_ : ndarray of shape (n_targets,)
    n_features_in_, feature_names_in_

    See Also
    --------
    SeedAveragedClassifier : average one model over several seeds.

    Examples
    --------
    >>> from sklearn.compose import make_column_transformer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_moa.datasets import make_moa
    >>> from sklearn_moa.ensemble import BlendedMoAClassifier
    >>> from sklearn_moa.models import PriorClassifier
    >>> data = make_moa(300, random_state=0)
    >>> X = data.features.filter(like="g-")
    >>> blend = BlendedMoAClassifier(
    ...     [("sharp", PriorClassifier(smoothing=0.01)), ("smooth", PriorClassifier(smoothing=5))],
    ...     cv=3)
    >>> blend.fit(X, data.targets, groups=data.drugs).weights_.shape
    (2,)
    >>> blend.predict_proba(X).shape
    (300, 206)
    """

    _parameter_constraints = {
        "estimators": [list],
        "weights": [StrOptions({"optimize"}), "array-like"],
        "cv": [Interval(Integral, 2, None, closed="left"), HasMethods(["split", "get_n_splits"])],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # The drug ids make the inner folds drug-aware: requested unless told otherwise.
    __metadata_request__fit = {"groups": True}

    def __init__(self, estimators, *, weights="optimize", cv=5, n_jobs=None, random_state=0,
                 verbose=0):
        self.estimators = estimators
        self.weights = weights
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def get_params(self, deep=True):
        """Parameters of the blend and, with ``deep``, of each member as ``<name>__<param>``."""
        return self._get_params("estimators", deep=deep)

    def set_params(self, **params):
        """Set parameters of the blend or of its members (``<name>__<param>``)."""
        self._set_params("estimators", **params)
        return self

    def get_metadata_routing(self):
        """Routing of fit metadata: ``groups`` for the blend, the rest to each member.

        Returns
        -------
        routing : MetadataRouter
        """
        router = MetadataRouter(owner=self).add_self_request(self)
        for name, member in zip(*self._validate_estimators()):
            router.add(**{name: member}, method_mapping=MethodMapping().add(caller="fit", callee="fit"))
        return router

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

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, Y, groups=None, **fit_params):
        """Learn the weights (if asked to) and fit the members on all rows.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        Y : DataFrame or array-like of shape (n_samples, n_targets), or (n_samples,)
            0/1 target matrix, or a 1-D ``y`` of two labels.
        groups : array-like of shape (n_samples,), default=None
            Drug id of each row: makes the inner folds drug-aware. With
            metadata routing enabled the blend requests it by default (a
            Pipeline or search routes the drug ids here), and passes it on to
            the members that requested it.
        **fit_params : dict
            Passed to every member's ``fit`` (subset to the training rows of
            each inner fold); with metadata routing enabled, each member gets
            those it requested.

        Returns
        -------
        self : object
        """
        names, members = self._validate_estimators()
        X = check_meta_input(X)
        Y_checked, _ = self._check_targets(Y, n_samples=_num_samples(X))
        Y = self._encoded_targets(Y)
        n_targets = Y_checked.shape[1]
        if routing_enabled():
            routed = process_routing(self, "fit", groups=groups, **fit_params)
            member_params = {name: dict(routed[name].fit) for name in names}
        else:
            member_params = {name: fit_params for name in names}
        if isinstance(self.weights, str) and self.weights == "optimize":
            n_splits = check_moa_cv(self.cv, groups, self.random_state).get_n_splits()
            if Y_checked.shape[0] < n_splits:
                raise ValueError(
                    f"Cannot learn blend weights by {n_splits}-fold inner cross-validation on "
                    f"n_samples={Y_checked.shape[0]}; pass fixed weights or more rows."
                )
            self.member_cv_results_ = _cross_validate_many(
                dict(zip(names, members)), X, Y, groups=groups, cv=self.cv, n_jobs=self.n_jobs,
                fit_params=None, routed_fit_params=member_params, verbose=self.verbose,
                return_estimators=False, random_state=self.random_state,
            )
            self.weights_ = optimize_blend_weights(self.member_cv_results_, Y_checked)
            oof = [self.member_cv_results_[name].oof_predictions for name in names]
            covered = ~np.isnan(oof[0]).any(axis=1)
            self.blend_oof_log_loss_ = float(_blend_loss_and_gradient(
                self.weights_, np.stack(oof)[:, covered], Y_checked[covered].astype(float)
            )[0])
        else:
            self.weights_ = check_blend_weights(self.weights, len(members))
        used = np.flatnonzero(self.weights_ > 0)
        fitted = self._fit_members(
            [(names[i], clone(members[i])) for i in used], X, Y, n_targets,
            [member_params[names[i]] for i in used],
        )
        self.estimators_ = [None] * len(members)
        for i, estimator in zip(used, fitted):
            self.estimators_[i] = estimator
        self.named_estimators_ = Bunch(**dict(zip(names, self.estimators_)))
        return self

    def predict_proba(self, X):
        """Weighted average of the members' probabilities.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_targets)
        """
        check_is_fitted(self, "estimators_")
        used = np.flatnonzero(self.weights_ > 0)
        names = [name for name, _ in self.estimators]
        return self._proba_output(self._average_members(
            [(names[i], self.estimators_[i]) for i in used], self.weights_[used], X
        ))
