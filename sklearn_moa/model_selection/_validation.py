"""The cross-validation helper: fold scores, out-of-fold predictions, timings."""

import numbers
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _check_method_params

from ..metrics import columnwise_log_loss, mean_columnwise_log_loss
from ..models._base import check_multilabel_targets
from ._split import DrugMultilabelStratifiedKFold, MultilabelStratifiedKFold

__all__ = ["CVResult", "cross_validate_moa", "check_moa_cv"]


@dataclass
class CVResult:
    """What :func:`cross_validate_moa` measured.

    Attributes
    ----------
    fold_log_loss : ndarray of shape (n_folds,)
        Competition metric on each validation fold.
    oof_predictions : ndarray of shape (n_samples, n_targets)
        Out-of-fold probabilities: row ``i`` was predicted by the model that
        did not see it. Rows in no validation fold are NaN.
    oof_log_loss : float
        Competition metric on all out-of-fold predictions together.
    fit_time, predict_time : ndarray of shape (n_folds,)
        Seconds per fold.
    test_indices : list of ndarray
        Validation rows of each fold.
    cv : str
        The splitter that made the folds.
    target_names : ndarray of str
    index : Index or None
        Row labels of ``X`` when it was a DataFrame.
    estimators : list or None
        The fitted fold models, when asked for.
    """

    fold_log_loss: np.ndarray
    oof_predictions: np.ndarray
    oof_log_loss: float
    fit_time: np.ndarray
    predict_time: np.ndarray
    test_indices: list
    cv: str
    target_names: np.ndarray
    index: object = None
    estimators: list = field(default=None, repr=False)

    @property
    def fold_log_loss_mean(self):
        """Mean of the fold scores."""
        return float(np.mean(self.fold_log_loss))

    @property
    def fold_log_loss_std(self):
        """Standard deviation of the fold scores."""
        return float(np.std(self.fold_log_loss))

    def summary(self):
        """One row of a comparison table, as a dict."""
        return {
            "fold_log_loss_mean": self.fold_log_loss_mean,
            "fold_log_loss_std": self.fold_log_loss_std,
            "oof_log_loss": self.oof_log_loss,
            "fit_time_s": float(np.sum(self.fit_time)),
            "predict_time_s": float(np.sum(self.predict_time)),
            "n_folds": len(self.fold_log_loss),
        }

    def oof_frame(self):
        """Out-of-fold predictions as a DataFrame (rows of ``X``, target columns)."""
        return pd.DataFrame(self.oof_predictions, index=self.index, columns=self.target_names)

    def per_target_log_loss(self, Y):
        """Out-of-fold log loss of each target, as a Series.

        Parameters
        ----------
        Y : array-like of shape (n_samples, n_targets)
            The targets that were cross-validated.
        """
        Y, _ = check_multilabel_targets(Y, n_samples=self.oof_predictions.shape[0])
        covered = ~np.isnan(self.oof_predictions).any(axis=1)
        losses = columnwise_log_loss(Y[covered], self.oof_predictions[covered])
        return pd.Series(losses, index=self.target_names, name="oof_log_loss")


def check_moa_cv(cv=5, groups=None, random_state=0):
    """Turn ``cv`` into a splitter: drug-aware when ``groups`` is given.

    Parameters
    ----------
    cv : int or splitter, default=5
        An int is a number of folds: :class:`DrugMultilabelStratifiedKFold`
        when ``groups`` (drug ids) is given, else
        :class:`MultilabelStratifiedKFold`, seeded with ``random_state``.
    groups : array-like or None
    random_state : int, default=0

    Returns
    -------
    splitter : cross-validator
    """
    if isinstance(cv, numbers.Integral):
        if groups is not None:
            return DrugMultilabelStratifiedKFold(cv, random_state=random_state)
        return MultilabelStratifiedKFold(cv, random_state=random_state)
    if not hasattr(cv, "split"):
        raise ValueError(f"cv must be an int or a splitter with a split method; got {cv!r}.")
    return cv


def _fit_and_predict(estimator, X, Y, train, test, fit_params):
    """Fit ``estimator`` on the ``train`` rows and predict the ``test`` rows."""
    fold_params = _check_method_params(X, fit_params or {}, indices=train)
    start = time.perf_counter()
    estimator.fit(_safe_indexing(X, train), _safe_indexing(Y, train), **fold_params)
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    proba = np.asarray(estimator.predict_proba(_safe_indexing(X, test)), dtype=float)
    predict_time = time.perf_counter() - start
    expected = (len(test), np.shape(Y)[1])
    if proba.shape != expected:
        raise ValueError(
            f"{type(estimator).__name__}.predict_proba returned shape {proba.shape}; "
            f"expected {expected} (n_samples, n_targets)."
        )
    return proba, fit_time, predict_time, estimator


def _progress(iterable, total, desc, verbose):
    if not verbose:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="fold")


def _cross_validate_many(estimators, X, Y, *, groups, cv, n_jobs, fit_params, verbose,
                         return_estimators, random_state):
    """Cross-validate several estimators over the same folds in one joblib pool."""
    Y_checked, names = check_multilabel_targets(Y, n_samples=len(X))
    if names is None:
        names = np.array([f"target_{i}" for i in range(Y_checked.shape[1])])
    splitter = check_moa_cv(cv, groups, random_state)
    folds = list(splitter.split(X, Y_checked, groups))
    tasks = [(name, k) for name in estimators for k in range(len(folds))]
    jobs = (
        delayed(_fit_and_predict)(clone(estimators[name]), X, Y, *folds[k], fit_params)
        for name, k in tasks
    )
    outputs = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    done = dict(zip(tasks, _progress(outputs, len(tasks), "cross-validation", verbose)))
    index = X.index if isinstance(X, pd.DataFrame) else None
    results = {}
    for name in estimators:
        oof = np.full(Y_checked.shape, np.nan)
        fold_scores, fit_times, predict_times, fitted = [], [], [], []
        for k, (_, test) in enumerate(folds):
            proba, fit_time, predict_time, estimator = done[name, k]
            oof[test] = proba
            fold_scores.append(mean_columnwise_log_loss(Y_checked[test], proba))
            fit_times.append(fit_time)
            predict_times.append(predict_time)
            fitted.append(estimator)
        covered = ~np.isnan(oof).any(axis=1)
        results[name] = CVResult(
            fold_log_loss=np.array(fold_scores),
            oof_predictions=oof,
            oof_log_loss=mean_columnwise_log_loss(Y_checked[covered], oof[covered]),
            fit_time=np.array(fit_times),
            predict_time=np.array(predict_times),
            test_indices=[test for _, test in folds],
            cv=repr(splitter),
            target_names=np.asarray(names, dtype=str),
            index=index,
            estimators=fitted if return_estimators else None,
        )
    return results


def cross_validate_moa(estimator, X, Y, *, groups=None, cv=5, n_jobs=None, fit_params=None,
                       verbose=0, return_estimators=False, random_state=0):
    """Cross-validate a MoA estimator: fold scores, OOF predictions, timings.

    Parameters
    ----------
    estimator : estimator
        Any estimator whose ``predict_proba`` returns an (n_samples,
        n_targets) matrix: a model of this package, a Pipeline ending in one,
        or :class:`~sklearn_moa.models.ControlAwareClassifier` around either.
    X : DataFrame or array-like of shape (n_samples, n_features)
    Y : DataFrame or array-like of shape (n_samples, n_targets)
        0/1 target matrix.
    groups : array-like of shape (n_samples,), default=None
        Drug id of each row. When given and ``cv`` is an int, folds are
        drug-aware (:class:`DrugMultilabelStratifiedKFold`): the honest setting.
    cv : int or splitter, default=5
    n_jobs : int, default=None
        Folds run in parallel through joblib. Under
        ``joblib.parallel_config(backend="dask")`` (or ``"ray"``) they are spread
        over that cluster's workers.
    fit_params : dict, default=None
        Passed to ``estimator.fit``; entries with one value per row are subset
        to each fold's training rows.
    verbose : int, default=0
        Show a progress bar over folds when > 0.
    return_estimators : bool, default=False
        Keep the fitted fold models in the result.
    random_state : int, default=0
        Seeds the splitter built when ``cv`` is an int.

    Returns
    -------
    result : CVResult

    Examples
    --------
    >>> from sklearn_moa.datasets import make_moa
    >>> from sklearn_moa.model_selection import cross_validate_moa
    >>> from sklearn_moa.models import PriorClassifier
    >>> data = make_moa(600, random_state=0)
    >>> X = data.features.filter(like="g-")
    >>> result = cross_validate_moa(PriorClassifier(), X, data.targets, groups=data.drugs, cv=3)
    >>> result.oof_predictions.shape
    (600, 206)
    """
    results = _cross_validate_many(
        {"model": estimator}, X, Y, groups=groups, cv=cv, n_jobs=n_jobs, fit_params=fit_params,
        verbose=verbose, return_estimators=return_estimators, random_state=random_state,
    )
    return results["model"]
