import warnings

import numpy as np
import pytest
from sklearn.metrics import log_loss

from sklearn_moa.metrics import columnwise_log_loss, mean_columnwise_log_loss, moa_log_loss_scorer
from sklearn_moa.models import PriorClassifier


def _reference_metric(y, p, eps=1e-15):
    """Independent formula: explicit loops over targets and rows."""
    total = 0.0
    n, m = y.shape
    for j in range(m):
        column = 0.0
        for i in range(n):
            q = min(max(p[i, j], eps), 1 - eps)
            column += y[i, j] * np.log(q) + (1 - y[i, j]) * np.log(1 - q)
        total += -column / n
    return total / m


def test_matches_independent_formula():
    rng = np.random.RandomState(0)
    y = (rng.rand(40, 7) < 0.2).astype(int)
    p = rng.rand(40, 7)
    p[0, 0] = 0.0  # clipped, not infinite
    assert mean_columnwise_log_loss(y, p) == pytest.approx(_reference_metric(y, p), rel=1e-12)


def test_differs_from_sklearn_log_loss_on_label_matrix():
    rng = np.random.RandomState(1)
    y = (rng.rand(50, 5) < 0.3).astype(int)
    p = np.clip(rng.rand(50, 5), 0.05, 0.95)
    ours = mean_columnwise_log_loss(y, p)
    columnwise = np.mean([log_loss(y[:, j], p[:, j], labels=[0, 1]) for j in range(5)])
    assert ours == pytest.approx(columnwise)
    # sklearn treats the matrix as one multi-class problem (recent versions warn
    # that its rows do not sum to one): the very misuse this test documents.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert ours != pytest.approx(log_loss(y, p))


def test_accepts_dataframes_and_reports_per_column():
    pd = pytest.importorskip("pandas")
    y = pd.DataFrame({"a": [1, 0], "b": [0, 0]})
    p = pd.DataFrame({"a": [0.5, 0.5], "b": [0.5, 0.5]})
    np.testing.assert_allclose(columnwise_log_loss(y, p), [np.log(2), np.log(2)])


@pytest.mark.parametrize(
    "y, p, match",
    [
        (np.zeros((3, 2)), np.zeros((3, 3)), "shape"),
        (np.full((3, 2), 2), np.zeros((3, 2)), "binary"),
        (np.zeros((3, 2)), np.full((3, 2), np.nan), "NaN"),
        (np.zeros((0, 2)), np.zeros((0, 2)), "empty"),
    ],
)
def test_bad_input(y, p, match):
    with pytest.raises(ValueError, match=match):
        mean_columnwise_log_loss(y, p)


def test_scorer_is_negated_metric():
    rng = np.random.RandomState(2)
    X = rng.randn(30, 3)
    Y = (rng.rand(30, 4) < 0.3).astype(int)
    model = PriorClassifier().fit(X, Y)
    assert moa_log_loss_scorer(model, X, Y) == pytest.approx(
        -mean_columnwise_log_loss(Y, model.predict_proba(X))
    )


def test_scorer_rejects_list_output():
    class ListOutput:
        def predict_proba(self, X):
            return [np.zeros((len(X), 2))]

    with pytest.raises(TypeError, match="list"):
        moa_log_loss_scorer(ListOutput(), np.zeros((2, 1)), np.zeros((2, 1)))
