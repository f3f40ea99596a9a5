"""Calibrated support vector machines, one per MoA target, on a shared kernel map."""

from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from scipy.optimize import minimize
from scipy.special import expit, log_expit, logit
from sklearn.kernel_approximation import Nystroem
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import MoAClassifierBase

__all__ = ["SVMMoAClassifier"]

_KERNELS = ("linear", "rbf", "poly", "sigmoid")


def platt_scaling(decision, y):
    """Fit Platt's sigmoid ``p = expit(a * decision + b)`` to 0/1 labels.

    Uses Platt's smoothed targets ``(n_pos + 1) / (n_pos + 2)`` and
    ``1 / (n_neg + 2)`` instead of 1 and 0, so a handful of positives never
    produces a probability of exactly 0 or 1.

    Parameters
    ----------
    decision : ndarray of shape (n_samples,)
        Out-of-sample decision values.
    y : ndarray of shape (n_samples,)
        0/1 labels.

    Returns
    -------
    a, b : float
    """
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    target = np.where(y == 1, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))

    def loss_and_grad(ab):
        z = ab[0] * decision + ab[1]
        loss = -np.sum(target * log_expit(z) + (1 - target) * log_expit(-z))
        residual = expit(z) - target
        return loss, np.array([residual @ decision, residual.sum()])

    start = np.array([0.0, logit((n_pos + 1.0) / (len(y) + 2.0))])
    a, b = minimize(loss_and_grad, start, jac=True, method="L-BFGS-B").x
    return float(a), float(b)


def _fit_calibrated_svm(Z, y, n_folds, svm_params, seed):
    """Cross-fitted linear SVM of one target and its Platt calibration.

    The ``n_folds`` fold models' weights are averaged into the returned
    model; Platt's sigmoid is fitted on their out-of-fold decision values.
    """
    n_pos = int(y.sum())
    n_folds = min(n_folds, n_pos, len(y) - n_pos)
    if n_folds < 2:
        # One positive (or negative) row cannot be held out and kept in training
        # at once: no out-of-sample decision values, so predict the prevalence.
        return np.zeros(Z.shape[1]), 0.0, 0.0, float(logit((n_pos + 0.5) / (len(y) + 1.0))), 0
    decision = np.empty(len(y))
    coef, intercept, n_iter = np.zeros(Z.shape[1]), 0.0, 0
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    for train, test in folds.split(Z, y):
        svm = LinearSVC(**svm_params, random_state=seed).fit(Z[train], y[train])
        decision[test] = svm.decision_function(Z[test])
        coef += svm.coef_[0] / n_folds
        intercept += svm.intercept_[0] / n_folds
        n_iter = max(n_iter, int(svm.n_iter_))
    a, b = platt_scaling(decision, y)
    return coef, intercept, a, b, n_iter


class SVMMoAClassifier(MoAClassifierBase):
    """Support vector machines with calibrated probabilities, one per MoA target.

    The features are mapped once through a Nystroem approximation of the
    kernel (shared by every target); each target then gets a linear SVM on
    that map. An exact kernel SVM costs time quadratic in the rows (hours for
    206 targets on the 23,814 Kaggle rows on CPU); the approximation fits the
    full data in minutes and tends to the exact kernel as ``n_components``
    grows.

    SVM margins are not probabilities: each target's decision values are
    calibrated with Platt's sigmoid fitted on out-of-fold decisions
    (``calibration_folds``-fold cross-fitting, stratified on the target), and
    the fold models are averaged. A target with fewer positives than folds
    uses as many folds as it has positives; a target with a single positive
    (or a single class, handled by the base) is predicted as its smoothed
    prevalence.

    Parameters
    ----------
    C : float, default=1.0
        Regularisation of the linear SVMs (``LinearSVC``'s ``C``); smaller
        is stronger.
    kernel : {"rbf", "linear", "poly", "sigmoid"}, default="rbf"
        ``"linear"`` skips the kernel map.
    gamma : float or None, default=None
        Kernel coefficient of ``"rbf"``, ``"poly"`` and ``"sigmoid"``;
        ``None`` is ``1 / n_features``.
    degree : int, default=3
        Degree of the ``"poly"`` kernel.
    coef0 : float, default=1.0
        Independent term of the ``"poly"`` and ``"sigmoid"`` kernels.
    n_components : int, default=300
        Size of the Nystroem map (capped at the number of rows).
    class_weight : None, "balanced" or dict, default=None
        Class weights of the SVMs (calibration undoes most of their effect on
        the probabilities).
    calibration_folds : int, default=3
        Folds of the cross-fitting that produces out-of-fold decision values.
    max_iter : int, default=1000
        Maximum iterations of each ``LinearSVC``.
    n_jobs : int or None, default=None
        Number of targets fitted at the same time (threads); ``-1`` uses all
        cores.
    random_state : None, int or RandomState, default=None
        Seeds the kernel map, the folds and the SVM solvers.

    Attributes
    ----------
    kernel_map_ : Nystroem or None
        The fitted kernel map (None for the linear kernel).
    coef_ : ndarray of shape (n_targets, n_mapped_features)
        Averaged fold-model weights on the mapped features (zero for
        constant targets).
    intercept_ : ndarray of shape (n_targets,)
    calibration_ : ndarray of shape (n_targets, 2)
        Platt's ``(a, b)`` of each target: ``p = expit(a * decision + b)``.
    n_iter_ : int
        Largest number of ``LinearSVC`` iterations over targets and folds.
    classes_, n_targets_, target_names_, target_prior_, constant_targets_
        See :class:`~sklearn_moa.models.MoAClassifierBase`.

    See Also
    --------
    LogisticMoAClassifier : regularised logistic regression per target.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_moa.models import SVMMoAClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(300, 4); Y = np.c_[X[:, 0] ** 2 > 2, X[:, 1] > 1].astype(int)
    >>> model = SVMMoAClassifier(C=1.0, n_components=50, random_state=0).fit(X, Y)
    >>> proba = model.predict_proba(X)
    >>> proba.shape, bool(((proba > 0) & (proba < 1)).all())
    ((300, 2), True)
    """

    _parameter_constraints = {
        "C": [Interval(Real, 0, None, closed="neither")],
        "kernel": [StrOptions(set(_KERNELS))],
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
        "degree": [Interval(Integral, 1, None, closed="left")],
        "coef0": [Real],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "calibration_folds": [Interval(Integral, 2, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(self, C=1.0, *, kernel="rbf", gamma=None, degree=3, coef0=1.0, n_components=300,
                 class_weight=None, calibration_folds=3, max_iter=1000, n_jobs=None,
                 random_state=None):
        self.C = C
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.n_components = n_components
        self.class_weight = class_weight
        self.calibration_folds = calibration_folds
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _fit_untrained(self):
        self.kernel_map_ = None
        self._store_models(np.zeros((0, self.n_features_in_)), [])

    def _fit_targets(self, X, Y, seeds):
        seed = int(seeds[0])
        self.kernel_map_ = None
        if self.kernel != "linear":
            self.kernel_map_ = Nystroem(
                kernel=self.kernel, gamma=self.gamma, degree=self.degree, coef0=self.coef0,
                n_components=min(self.n_components, X.shape[0]), random_state=seed,
            ).fit(X)
        Z = self._map(X)
        svm_params = dict(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)
        fitted = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(_fit_calibrated_svm)(Z, Y[:, j], self.calibration_folds, svm_params, seed + j)
            for j in range(Y.shape[1])
        )
        self._store_models(Z, fitted)

    def _store_models(self, Z, fitted):
        """Full-size weights and calibration; constant targets predict their prevalence."""
        varying = ~self.constant_targets_
        self.coef_ = np.zeros((self.n_targets_, Z.shape[1]))
        self.intercept_ = np.zeros(self.n_targets_)
        self.calibration_ = np.c_[np.zeros(self.n_targets_), logit(self._constant_proba)]
        self.n_iter_ = 0
        if fitted:
            coef, intercept, a, b, n_iter = (np.array(column) for column in zip(*fitted))
            self.n_iter_ = int(n_iter.max())
            self.coef_[varying], self.intercept_[varying] = coef, intercept
            self.calibration_[varying] = np.c_[a, b]

    def _map(self, X):
        return X if self.kernel_map_ is None else self.kernel_map_.transform(X)

    def _predict_targets(self, X):
        varying = ~self.constant_targets_
        decision = self._map(X) @ self.coef_[varying].T + self.intercept_[varying]
        a, b = self.calibration_[varying].T
        return expit(a * decision + b)
