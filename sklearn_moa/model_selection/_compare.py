"""Compare several models on the same folds."""

import pandas as pd

from ._validation import _cross_validate_many

__all__ = ["compare_models"]


def compare_models(estimators, X, Y, *, groups=None, cv=5, n_jobs=None, fit_params=None,
                   verbose=0, random_state=0, return_results=False, checkpoint_dir=None,
                   threads_per_fold=None, progress=None):
    """Cross-validate each model on the same folds and tabulate the scores.

    Every (model, fold) pair is one joblib task, so ``n_jobs`` (or a Dask/Ray
    joblib backend) spreads models and folds alike.

    Parameters
    ----------
    estimators : dict of str -> estimator
    X, Y, groups, cv, n_jobs, fit_params, verbose, random_state, progress
        As in :func:`cross_validate_moa`.
    checkpoint_dir, threads_per_fold
        As in :func:`cross_validate_moa`; each model gets its own subfolder of
        ``checkpoint_dir``, so adding a model to the comparison refits only it.
    return_results : bool, default=False
        Also return the :class:`CVResult` of each model.

    Returns
    -------
    table : DataFrame
        One row per model, best (lowest OOF log loss) first, with the columns
        ``fold_log_loss_mean``, ``fold_log_loss_std``, ``oof_log_loss``,
        ``fit_time_s``, ``predict_time_s`` and ``n_folds``.
    results : dict of str -> CVResult
        Only when ``return_results=True``.
    """
    if not isinstance(estimators, dict) or not estimators:
        raise ValueError("estimators must be a non-empty dict {name: estimator}.")
    results = _cross_validate_many(
        estimators, X, Y, groups=groups, cv=cv, n_jobs=n_jobs, fit_params=fit_params,
        verbose=verbose, return_estimators=False, random_state=random_state,
        checkpoint_dir=checkpoint_dir, threads_per_fold=threads_per_fold, progress=progress,
    )
    table = pd.DataFrame({name: r.summary() for name, r in results.items()}).T
    table.index.name = "model"
    table["n_folds"] = table["n_folds"].astype(int)
    table = table.sort_values("oof_log_loss")
    return (table, results) if return_results else table
