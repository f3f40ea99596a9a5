"""The input the epoch-time benchmarks train on: a feature preset's output on make_moa data."""

import time

import numpy as np

from sklearn_moa.datasets import make_moa


def preset_input(preset, n_rows, *, random_width=None, seed=0):
    """(features, targets, description) for a benchmark of ``n_rows`` rows.

    Parameters
    ----------
    preset : str
        Feature preset of :func:`sklearn_moa.preprocessing.make_moa_features`.
    n_rows : int
    random_width : int or None
        Instead of fitting the preset, a standard-normal matrix of this width
        (quicker, same shape).
    seed : int
    """
    data = make_moa(n_rows, n_test_samples=0, random_state=seed)
    Y = data.targets.to_numpy()
    if random_width is not None:
        X = np.random.RandomState(seed).randn(n_rows, random_width)
        return X, Y, f"random matrix of {random_width} columns in place of the {preset!r} preset"
    from sklearn_moa.preprocessing import make_moa_features

    start = time.perf_counter()
    X = make_moa_features(preset, random_state=seed).fit_transform(data.features)
    took = time.perf_counter() - start
    return X, Y, f'make_moa_features("{preset}") output ({X.shape[1]} columns, fitted in {took:.1f} s)'
