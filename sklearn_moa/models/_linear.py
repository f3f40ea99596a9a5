"""Regularised logistic regression, one binary model per MoA target."""

import numpy as np
from joblib import Parallel, delayed
from scipy.special import expit, logit
from numbers import Integral, Real

from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import MoAClassifierBase

__all__ = ["LogisticMoAClassifier"]


def _fit_logistic(X, y, params, seed):
    """Fit one target's logistic regression; return its weights and intercept."""
    model = LogisticRegression(**params, random_state=seed).fit(X, y)
    return model.coef_[0], model.intercept_[0], int(np.max(model.n_iter_))


class LogisticMoAClassifier(MoAClassifierBase):
    """One L2-regularised logistic regression per MoA target.

    Each target with both classes in the training data gets its own
    :class:`~sklearn.linear_model.LogisticRegression`; the targets are fitted
    in parallel threads. A target with a single class in the training data (a
    drug-aware fold often leaves a rare MoA without positives) is predicted
    as its smoothed training prevalence by the base class, so the model never
    predicts an exact 0 that the log loss would punish without bound.

    On ~900 standardised MoA features an unregularised logistic regression
    memorises the few positives of rare targets and scores badly on the
    competition metric; the default ``C`` is small for that reason. Scale the
    features first (a feature preset does).

    Parameters
    ----------
    C : float, default=0.01
        Inverse regularisation strength, as in ``LogisticRegression``.
    l1_ratio : float, default=0.0
        Elastic-net mixing (0: pure L2, 1: pure L1); needs ``solver="saga"``
        when not 0.
    class_weight : None, "balanced" or dict, default=None
        Per-target class weights. ``"balanced"`` inflates the probabilities of
        rare targets and usually worsens the log loss; it is there for
        ranking metrics.
    solver : {"lbfgs", "liblinear", "newton-cg", "newton-cholesky", "sag", "saga"}, default="lbfgs"
    max_iter : int, default=200
        Maximum solver iterations per target.
    tol : float, default=1e-4
        Solver tolerance.
    n_jobs : int or None, default=None
        Number of targets fitted at the same time (threads); ``-1`` uses all
        cores.
    random_state : None, int or RandomState, default=None
        Seeds the solvers that shuffle (``sag``, ``saga``, ``liblinear``).

    Attributes
    ----------
    coef_ : ndarray of shape (n_targets, n_features)
        Weights of each target's model; zero for constant targets.
    intercept_ : ndarray of shape (n_targets,)
        Intercepts; for a constant target the logit of its smoothed prevalence.
    n_iter_ : int
        Largest number of solver iterations over the targets (0 when every
        target is constant).
    classes_, n_targets_, target_names_, target_prior_, constant_targets_
        See :class:`~sklearn_moa.models.MoAClassifierBase`.

    See Also
    --------
    SVMMoAClassifier : calibrated (kernel-approximated) SVMs per target.
    XGBMoAClassifier : gradient-boosted trees per target.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_moa.models import LogisticMoAClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 5); Y = np.c_[X[:, 0] > 1, np.zeros(200)].astype(int)
    >>> model = LogisticMoAClassifier(C=1.0).fit(X, Y)
    >>> model.predict_proba(X[:2]).shape
    (2, 2)
    >>> model.coef_.shape
    (2, 5)
    """

    _parameter_constraints = {
        "C": [Interval(Real, 0, None, closed="neither")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "solver": [StrOptions({"lbfgs", "liblinear", "newton-cg", "newton-cholesky", "sag", "saga"})],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(self, C=0.01, *, l1_ratio=0.0, class_weight=None, solver="lbfgs", max_iter=200,
                 tol=1e-4, n_jobs=None, random_state=None):
        self.C = C
        self.l1_ratio = l1_ratio
        self.class_weight = class_weight
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _fit_untrained(self):
        self._store_coefficients(np.zeros((0, self.n_features_in_)), np.zeros(0))
        self.n_iter_ = 0

    def _store_coefficients(self, varying_coef, varying_intercept):
        """Full-size ``coef_``/``intercept_``; constant targets predict their prevalence."""
        varying = ~self.constant_targets_
        self.coef_ = np.zeros((self.n_targets_, self.n_features_in_))
        self.intercept_ = logit(self._constant_proba)
        self.coef_[varying], self.intercept_[varying] = varying_coef, varying_intercept

    def _fit_targets(self, X, Y, seeds):
        params = dict(C=self.C, l1_ratio=self.l1_ratio, class_weight=self.class_weight,
                      solver=self.solver, max_iter=self.max_iter, tol=self.tol)
        fitted = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(_fit_logistic)(X, Y[:, j], params, int(seeds[0]) + j) for j in range(Y.shape[1])
        )
        coef, intercept, n_iter = zip(*fitted)
        self._store_coefficients(np.array(coef), np.array(intercept))
        self.n_iter_ = max(n_iter)

    def _predict_targets(self, X):
        varying = ~self.constant_targets_
        return expit(X @ self.coef_[varying].T + self.intercept_[varying])
