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
from ..utils._routing import route_fit_params
from ..utils._targets import check_multilabel_targets
from ._checkpoint import FoldCheckpoint, FoldRecord
from ._parallel import thread_budget
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
    resumed : ndarray of bool of shape (n_folds,) or None
        Which folds were loaded from ``checkpoint_dir`` instead of being
        fitted (their ``fit_time`` is that of the original fit); None without
        a checkpoint folder.
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
    resumed: np.ndarray = None

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


def _run_fold(task, estimator, X, Y, train, test, fit_params, threads_per_fold, keep_estimator):
    """One joblib task: fit and predict a fold within its thread budget, tagged with its key."""
    with thread_budget(threads_per_fold):
        proba, fit_time, predict_time, estimator = _fit_and_predict(
            estimator, X, Y, train, test, fit_params
        )
    # The fitted model travels back from the worker only when it is wanted.
    return task, FoldRecord(test, proba, fit_time, predict_time, estimator if keep_estimator else None)


def _progress(iterable, total, desc, verbose):
    if not verbose:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="fold")


def _cross_validate_many(estimators, X, Y, *, groups, cv, n_jobs, fit_params, verbose,
                         return_estimators, random_state, checkpoint_dir=None,
                         threads_per_fold=None, routed_fit_params=None):
    """Cross-validate several estimators over the same folds in one joblib pool.

    ``fit_params`` go to every estimator (routing off) or to those that
    requested them (routing on); a caller that routed them itself passes
    ``routed_fit_params`` (name -> params) instead.

    With ``checkpoint_dir``, finished folds found there are loaded instead of
    fitted, and every fold fitted now is saved as soon as it comes back (in
    this process, so the folder need not be reachable from remote workers).
    """
    if routed_fit_params is None:
        routed_fit_params = route_fit_params("cross_validate_moa", estimators, fit_params, groups)
    Y_checked, names = check_multilabel_targets(Y, n_samples=len(X))
    if names is None:
        names = np.array([f"target_{i}" for i in range(Y_checked.shape[1])])
    splitter = check_moa_cv(cv, groups, random_state)
    folds = list(splitter.split(X, Y_checked, groups))
    done, stores = {}, {}
    if checkpoint_dir is not None:
        checkpoint = FoldCheckpoint(checkpoint_dir, X, Y_checked)
        for name, estimator in estimators.items():
            stores[name] = checkpoint.run_store(
                name, estimator, folds, groups=groups, fit_params=routed_fit_params[name], cv=splitter
            )
            for k, (_, test) in enumerate(folds):
                record = stores[name].load(k, test, Y_checked.shape[1], return_estimators)
                if record is not None:
                    done[name, k] = record
    resumed = set(done)
    tasks = [(name, k) for name in estimators for k in range(len(folds)) if (name, k) not in done]
    if verbose and resumed:
        print(f"Resumed {len(resumed)} finished folds from {checkpoint_dir}; {len(tasks)} to fit.")
    jobs = [
        delayed(_run_fold)(
            (name, k), clone(estimators[name]), X, Y, *folds[k], routed_fit_params[name], threads_per_fold,
            return_estimators,
        )
        for name, k in tasks
    ]
    try:
        # Unordered: a fold is checkpointed as soon as it finishes, whatever its rank.
        outputs = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs)
    except ValueError:  # a backend without result generators (joblib's "multiprocessing")
        outputs = Parallel(n_jobs=n_jobs)(jobs)
    for (name, k), record in _progress(outputs, len(tasks), "cross-validation", verbose):
        done[name, k] = record
        if name in stores:
            stores[name].save(k, record, mean_columnwise_log_loss(Y_checked[record.test], record.proba))
    index = X.index if isinstance(X, pd.DataFrame) else None
    results = {}
    for name in estimators:
        oof = np.full(Y_checked.shape, np.nan)
        fold_scores = []
        for k, (_, test) in enumerate(folds):
            oof[test] = done[name, k].proba
            fold_scores.append(mean_columnwise_log_loss(Y_checked[test], done[name, k].proba))
        records = [done[name, k] for k in range(len(folds))]
        covered = ~np.isnan(oof).any(axis=1)
        results[name] = CVResult(
            fold_log_loss=np.array(fold_scores),
            oof_predictions=oof,
            oof_log_loss=mean_columnwise_log_loss(Y_checked[covered], oof[covered]),
            fit_time=np.array([r.fit_time for r in records]),
            predict_time=np.array([r.predict_time for r in records]),
            test_indices=[test for _, test in folds],
            cv=repr(splitter),
            target_names=np.asarray(names, dtype=str),
            index=index,
            estimators=[r.estimator for r in records] if return_estimators else None,
            resumed=(
                np.array([(name, k) in resumed for k in range(len(folds))])
                if checkpoint_dir is not None else None
            ),
        )
    return results


def cross_validate_moa(estimator, X, Y, *, groups=None, cv=5, n_jobs=None, fit_params=None,
                       verbose=0, return_estimators=False, random_state=0, checkpoint_dir=None,
                       threads_per_fold=None):
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
        to each fold's training rows. With metadata routing enabled
        (``sklearn.set_config(enable_metadata_routing=True)``) they are routed
        as by scikit-learn's ``cross_validate``: each reaches only the
        (nested) estimators that requested it, e.g. a model of a Pipeline
        with ``set_fit_request(Y_nonscored=True)``, and ``groups`` also
        reaches those that requested it (see the tuning guide).
    verbose : int, default=0
        Show a progress bar over folds when > 0.
    return_estimators : bool, default=False
        Keep the fitted fold models in the result.
    random_state : int, default=0
        Seeds the splitter built when ``cv`` is an int.
    checkpoint_dir : str or path-like, default=None
        Folder where each finished fold's validation rows, predictions, score
        and timings are saved (and, with ``return_estimators=True``, the fitted
        fold model). Run again with the same estimator parameters, folds, drug
        ids, fit parameters and data, the finished folds are loaded instead of
        refitted (``result.resumed`` tells which), so an interrupted run loses
        at most the folds in progress. Other settings get their own subfolder;
        a folder made with other data raises a ``ValueError``. Files left half
        written by a crash are never read back. See
        :class:`~sklearn_moa.model_selection.FoldCheckpoint`.
    threads_per_fold : int, default=None
        Thread budget of each fold (BLAS/OpenMP, torch and, where still
        possible, TensorFlow pools), applied where the fold runs, so that
        parallel folds do not oversubscribe the cores: use the cores of a
        worker divided by the folds it runs at once. None leaves the pools as
        they are. See :func:`~sklearn_moa.model_selection.thread_budget`.

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
    name = type(estimator).__name__
    results = _cross_validate_many(
        {name: estimator}, X, Y, groups=groups, cv=cv, n_jobs=n_jobs, fit_params=fit_params,
        verbose=verbose, return_estimators=return_estimators, random_state=random_state,
        checkpoint_dir=checkpoint_dir, threads_per_fold=threads_per_fold,
    )
    return results[name]
