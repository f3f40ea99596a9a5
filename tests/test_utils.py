"""The shared helpers of sklearn_moa.utils and the package's import layers."""

import ast
import pathlib

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.metrics import log_loss

import sklearn_moa
from sklearn_moa.datasets import check_moa_features, make_moa
from sklearn_moa.preprocessing import BlockPCA
from sklearn_moa.utils._log_loss import binary_log_loss
from sklearn_moa.utils._prevalence import prevalence_logits
from sklearn_moa.utils._targets import check_multilabel_targets
from sklearn_moa.utils._validation import check_numeric_finite

# Data flows top to bottom (DESIGN.md); utils is below everything.
_LAYERS = ["utils", "datasets", "metrics", "preprocessing", "models", "model_selection",
           "ensemble", "model_zoo", "cli"]


def _layer(parts):
    return _LAYERS.index(parts[0]) if parts and parts[0] in _LAYERS else None


def test_no_module_imports_upward():
    root = pathlib.Path(sklearn_moa.__file__).parent
    upward = []
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        own = _layer(parts)
        if own is None:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                package = parts[:-1] if path.name != "__init__.py" else parts[:-1]
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = base + (node.module.split(".") if node.module else [])
                other = _layer(target)
                if other is not None and other > own:
                    upward.append(f"{'/'.join(parts)} imports {'.'.join(target)}")
    assert not upward, upward


def test_layer_test_sees_a_violation(tmp_path, monkeypatch):
    """The check above can fail: an upward import in a utils module is caught."""
    fake = tmp_path / "sklearn_moa"
    (fake / "utils").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "utils" / "bad.py").write_text("from ..models._base import PROBA_EPS\n")
    monkeypatch.setattr(sklearn_moa, "__file__", str(fake / "__init__.py"))
    with pytest.raises(AssertionError, match="utils/bad imports models._base"):
        test_no_module_imports_upward()


@pytest.fixture(scope="module")
def features():
    return make_moa(40, random_state=0).features


def test_booleans_are_numeric_everywhere(features):
    """One rule for booleans (0/1, as check_array): readers, transformers and targets agree."""
    X = features.copy()
    X["g-0"] = X["g-0"] > 0
    check_moa_features(X)
    assert np.isfinite(BlockPCA(columns="g-", n_components=2).fit_transform(X)).all()
    Y, _ = check_multilabel_targets(pd.DataFrame({"a": [True, False], "b": [False, True]}))
    np.testing.assert_array_equal(Y, [[1, 0], [0, 1]])
    np.testing.assert_array_equal(check_numeric_finite(np.array([True, False])), [1.0, 0.0])
    # A Series keeps its 1-D shape (a single target stays distinguishable from a matrix).
    assert check_numeric_finite(pd.Series([True, False], name="t")).shape == (2,)
    with pytest.raises(ValueError, match="1 non-numeric columns: t"):
        check_numeric_finite(pd.Series(["a", "b"], name="t"))


def test_strings_are_refused_everywhere_with_the_column_name(features):
    X = features.copy()
    X["g-1"] = "a"
    for call in (lambda: check_moa_features(X),
                 lambda: BlockPCA(columns="g-", n_components=2).fit(X),
                 lambda: check_multilabel_targets(pd.DataFrame({"t": [0, 1], "g-1": ["a", "b"]}))):
        with pytest.raises(ValueError, match="1 non-numeric .*g-1"):
            call()
    with pytest.raises(ValueError, match="X has 1 non-numeric columns: g-1"):
        check_numeric_finite(np.array([[0.5, "a"]], dtype=object), columns=["g-0", "g-1"])


def test_non_finite_values_name_their_columns():
    with pytest.raises(ValueError, match=r"Y has 2 NaN or infinite values in 1 target columns: b"):
        check_multilabel_targets(pd.DataFrame({"a": [0, 1, 0], "b": [np.nan, 1, np.inf]}))
    with pytest.raises(ValueError, match=r"in 1 columns: 1"):
        check_numeric_finite(np.array([[0.0, np.nan]]))


def test_binary_log_loss_is_sklearns_per_column():
    rng = np.random.RandomState(0)
    y = rng.randint(0, 2, size=(50, 3))
    p = rng.uniform(0.01, 0.99, size=(50, 3))
    expected = [log_loss(y[:, j], p[:, j], labels=[0, 1]) for j in range(3)]
    np.testing.assert_allclose(binary_log_loss(y, p), expected)
    assert binary_log_loss(y[:, 0], p[:, 0]) == pytest.approx(expected[0])
    # Clipping: a confident miss costs -log(eps), not infinity.
    assert binary_log_loss(np.array([1.0]), np.array([0.0]), eps=1e-7) == pytest.approx(-np.log(1e-7))


def test_prevalence_logits_start_at_the_prevalence():
    Y = np.zeros((100, 3))
    Y[:5, 0] = 1
    Y[:, 2] = 1
    np.testing.assert_allclose(expit(prevalence_logits(Y)), [0.05, 1e-4, 1 - 1e-4])
