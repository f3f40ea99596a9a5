"""Shared test helpers: the toy multi-label data, the scorer check, optional packages."""

import importlib

import numpy as np
from sklearn.model_selection import cross_validate

from sklearn_moa.metrics import mean_columnwise_log_loss, moa_log_loss_scorer


def toy_multilabel(n=120, n_features=12, n_targets=4, *, threshold=0.8, noise=0.5, seed=0):
    """Features with signal: target ``j`` is ``X[:, j % n_features] + noise > threshold``.

    Returns
    -------
    X : ndarray of shape (n, n_features)
    Y : ndarray of int of shape (n, n_targets)
    """
    rng = np.random.RandomState(seed)
    X = rng.randn(n, n_features)
    signal = X[:, np.arange(n_targets) % n_features]
    Y = (signal + noise * rng.randn(n, n_targets) > threshold).astype(int)
    return X, Y


def write_kaggle_files(data, folder, *, nonscored=True):
    """Write ``data`` (a make_moa bunch) as the Kaggle files of ``folder``; return it."""
    data.features.to_csv(folder / "train_features.csv")
    data.targets.to_csv(folder / "train_targets_scored.csv")
    if nonscored:
        data.nonscored_targets.to_csv(folder / "train_targets_nonscored.csv")
    data.drugs.to_frame().to_csv(folder / "train_drug.csv")
    data.test_features.to_csv(folder / "test_features.csv")
    return folder


def _rows(data, rows):
    return data.iloc[rows] if hasattr(data, "iloc") else np.asarray(data)[rows]


def moa_cv_scores(model, X, Y, cv, groups=None, **params):
    """``cross_val_score`` with the MoA scorer, checked to be the negated fold losses.

    Recomputes each fold's mean column-wise log loss from the fitted fold
    estimators: the scores must be exactly their negatives (the scorer is wired
    with the right sign, the right metric and the right rows).

    Returns
    -------
    scores : ndarray of shape (n_splits,)
    """
    result = cross_validate(model, X, Y, groups=groups, cv=cv, scoring=moa_log_loss_scorer,
                            return_estimator=True, return_indices=True, params=params or None)
    losses = [
        mean_columnwise_log_loss(_rows(Y, test), fitted.predict_proba(_rows(X, test)))
        for fitted, test in zip(result["estimator"], result["indices"]["test"])
    ]
    np.testing.assert_allclose(result["test_score"], -np.asarray(losses), rtol=1e-12)
    return result["test_score"]


def assert_search_compared(search):
    """The searched parameter reached the model, and the best candidate won.

    Distinct mean scores show that each candidate fitted a different model
    (a parameter lost on its way through a pipeline gives equal scores).
    """
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all()
    assert len(np.unique(scores)) == len(scores), f"candidates scored the same: {scores}"
    best = int(np.argmax(scores))
    assert search.best_index_ == best and search.best_score_ == scores[best]
    assert search.best_params_ == search.cv_results_["params"][best]


def installed(module):
    """Whether the optional ``module`` imports (a test that needs it is skipped if not)."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True
