"""Tests of sklearn_moa.preprocessing: the feature transformers and the presets."""

import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import QuantileTransformer

from sklearn_moa.datasets import CELL_COLUMNS, GENE_COLUMNS, make_moa
from sklearn_moa.metrics import moa_log_loss_scorer
from sklearn_moa.model_selection import DrugMultilabelStratifiedKFold
from sklearn_moa.models import ControlAwareClassifier, PriorClassifier
from sklearn_moa.preprocessing import (
    PRESETS,
    TWO_HEAD_PREFIXES,
    BlockPCA,
    ClusterLabels,
    RankGaussScaler,
    RowQuantileNormalizer,
    RowStatistics,
    TreatmentEncoder,
    columns_by_prefix,
    make_moa_features,
)

GC = list(GENE_COLUMNS) + list(CELL_COLUMNS)
STATS = [f"stats__{b}_{s}" for b in ("g", "c", "gc") for s in ("sum", "mean", "std", "kurt", "skew")]
# Small component counts for the tests that do not check widths.
SMALL_TABNET = dict(n_gene_components=8, n_cell_components=4, n_gene_clusters=4)
SMALL_WINNERS = dict(n_gene_components=8, n_cell_components=4)


@pytest.fixture(scope="module")
def moa():
    # >= 600 rows so that 600 gene components fit without capping.
    return make_moa(700, n_test_samples=150, random_state=0)


@pytest.fixture(scope="module")
def X(moa):
    return moa.features


@pytest.fixture(scope="module")
def X_test(moa):
    return moa.test_features


def _fit_quietly(estimator, X):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no capping at these sizes
        return estimator.fit(X)


# --------------------------------------------------------------------------- presets


def test_two_head_widths_and_head_routing(X, X_test):
    features = _fit_quietly(make_moa_features("two_head", random_state=0), X)
    Z = features.transform(X_test)
    names = features.get_feature_names_out()
    assert Z.shape == (len(X_test), 60 + 887)
    expected = (
        [f"gene_pca__{i}" for i in range(50)] + [f"cell_pca__{i}" for i in range(10)] + GC + STATS
    )
    assert names.tolist() == expected
    head1, head2 = columns_by_prefix(names, TWO_HEAD_PREFIXES)
    assert head1.tolist() == list(range(60))
    assert head2.tolist() == list(range(60, 947))
    # The raw block is passed through untouched.
    np.testing.assert_array_equal(Z[:, head2[:872]], X_test[GC].to_numpy())


def test_cnn1d_is_the_872_features(X):
    features = make_moa_features("cnn1d").fit(X)
    assert features.get_feature_names_out().tolist() == GC
    np.testing.assert_array_equal(features.transform(X), X[GC].to_numpy())


def test_tabnet_width_and_blocks(X, X_test):
    features = _fit_quietly(make_moa_features("tabnet", random_state=0), X)
    names = features.get_feature_names_out().tolist()
    Z = features.transform(X_test)
    assert Z.shape == (len(X_test), 875 + 600 + 50 + 3 + 15) == (len(X_test), len(names))
    assert names[:3] == ["cp_type", "cp_time", "cp_dose"]
    assert names[3:875] == GC
    assert names[875:1525] == [f"gene_pca__{i}" for i in range(600)] + [
        f"cell_pca__{i}" for i in range(50)
    ]
    assert names[1525:1528] == ["gene_cluster__label", "cell_cluster__label", "pca_cluster__label"]
    assert names[1528:] == STATS
    # Ordinal treatment codes and cluster labels within their ranges.
    assert set(np.unique(Z[:, 1])) <= {0.0, 1.0, 2.0}
    assert set(np.unique(Z[:, 2])) <= {0.0, 1.0}
    for column, n_clusters in zip(range(1525, 1528), (35, 5, 5)):
        labels = np.unique(Z[:, column])
        assert labels.min() >= 0 and labels.max() < n_clusters


def test_winners_recipe(X):
    features = _fit_quietly(make_moa_features("winners", random_state=0), X)
    names = features.get_feature_names_out().tolist()
    assert names[:5] == ["cp_time_24", "cp_time_48", "cp_time_72", "cp_dose_D1", "cp_dose_D2"]
    kept = names[5:]
    # RankGauss makes every raw feature ~N(0, 1): all survive the 0.8 threshold,
    # the PCA components with small variance do not.
    assert kept[:872] == GC
    assert all(n.startswith(("gene_pca__", "cell_pca__")) for n in kept[872:])
    assert 0 < len(kept) - 872 < 650
    Z = features.set_output(transform="pandas").transform(X)
    assert Z[kept].var(ddof=0).min() > 0.8 - 1e-6
    means = Z[GC].mean().abs()
    assert means.mean() < 0.02 and means.max() < 0.2


def test_set_output_after_fit_does_not_change_inner_steps(X, X_test):
    features = make_moa_features("winners", random_state=0, **SMALL_WINNERS).fit(X)
    default = features.transform(X_test)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        framed = features.set_output(transform="pandas").transform(X_test)
        again = features.set_output(transform="default").transform(X_test)
    np.testing.assert_array_equal(framed.to_numpy(), default)
    np.testing.assert_array_equal(again, default)


def test_pandas_output_keeps_index_and_names(X_test, X):
    for preset, overrides in [("two_head", {}), ("tabnet", SMALL_TABNET)]:
        features = make_moa_features(preset, random_state=0, **overrides)
        Z = features.set_output(transform="pandas").fit(X).transform(X_test)
        assert isinstance(Z, pd.DataFrame)
        assert Z.index.equals(X_test.index)
        assert Z.columns.tolist() == features.get_feature_names_out().tolist()
        assert (Z.dtypes == np.float64).all()


def test_small_data_caps_component_counts_with_warning():
    X = make_moa(300, n_test_samples=0, random_state=1).features
    features = make_moa_features("tabnet", random_state=0)
    with pytest.warns(UserWarning, match=r"n_components=600 is more than the 300 components"):
        Z = features.fit_transform(X)
    assert Z.shape == (300, 875 + 300 + 50 + 3 + 15)


def test_presets_learn_only_from_fit_data(X, X_test):
    features = make_moa_features("two_head", random_state=0).fit(X)
    Z = features.transform(X_test)
    # Gene components: those of a PCA fit on the fit rows only, applied to new rows.
    reference = PCA(50, svd_solver="covariance_eigh").fit(X[list(GENE_COLUMNS)])
    np.testing.assert_allclose(Z[:, :50], reference.transform(X_test[list(GENE_COLUMNS)]))
    # Refitting on other rows changes the components; transforming does not refit.
    again = features.transform(X_test)
    np.testing.assert_array_equal(again, Z)
    other = make_moa_features("two_head", random_state=0).fit(X_test).transform(X_test)
    assert not np.allclose(np.abs(other[:, :50]), np.abs(Z[:, :50]))
    # Transforming one row alone gives the same values as in a batch.
    np.testing.assert_allclose(features.transform(X_test.iloc[[3]]), Z[[3]], atol=1e-10)


def test_rankgauss_quantiles_come_from_fit_rows(X, X_test):
    scaler = RankGaussScaler(random_state=0).fit(X[GC])
    reference = QuantileTransformer(
        n_quantiles=100, output_distribution="normal", subsample=None
    ).fit(X[GC])
    np.testing.assert_array_equal(scaler.quantiles_, reference.quantiles_)
    np.testing.assert_array_equal(scaler.transform(X_test[GC]), reference.transform(X_test[GC]))


def test_reproducible_with_random_state(X):
    a = make_moa_features("tabnet", random_state=3, **SMALL_TABNET).fit_transform(X)
    b = make_moa_features("tabnet", random_state=3, **SMALL_TABNET).fit_transform(X)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("preset", PRESETS)
def test_clone_and_pickle_round_trip(preset, X, X_test):
    overrides = {"tabnet": SMALL_TABNET, "winners": SMALL_WINNERS}.get(preset, {})
    features = make_moa_features(preset, random_state=0, **overrides)
    assert clone(features).get_params().keys() == features.get_params().keys()
    features.fit(X)
    restored = pickle.loads(pickle.dumps(features))
    # Equal up to floating-point noise (BLAS paths depend on memory alignment).
    np.testing.assert_allclose(restored.transform(X_test), features.transform(X_test), rtol=1e-10, atol=1e-12)


def test_model_pipeline_with_controls_cv_and_grid_search(moa):
    X, Y, drugs = moa.features, moa.targets, moa.drugs
    model = ControlAwareClassifier(
        make_pipeline(
            make_moa_features("two_head", random_state=0, n_gene_components=4, n_cell_components=2),
            PriorClassifier(),
        )
    )
    cv = DrugMultilabelStratifiedKFold(n_splits=3, random_state=0)
    scores = cross_val_score(model, X, Y, groups=drugs, cv=cv, scoring=moa_log_loss_scorer)
    assert scores.shape == (3,) and np.isfinite(scores).all()
    # Preset options are reachable as nested parameters of the Pipeline.
    key = "estimator__pipeline__features__gene_pca__n_components"
    assert model.get_params()[key] == 4
    search = GridSearchCV(model, {key: [2, 3]}, cv=2, scoring=moa_log_loss_scorer).fit(X, Y)
    fitted = search.best_estimator_.estimator_.steps[0][1]
    assert fitted.named_steps["features"].named_transformers_["gene_pca"].n_components_ in (2, 3)


def test_transformers_compose_in_column_transformer_and_feature_union(X):
    union = ColumnTransformer(
        [
            ("treatment", TreatmentEncoder(encoding="onehot"), ["cp_time", "cp_dose"]),
            ("gene_pca", BlockPCA(3, feature_prefix="gene_pca"), make_column_selector("^g-")),
            ("clusters", ClusterLabels(3, random_state=0), make_column_selector("^c-")),
            ("norm", RowQuantileNormalizer(), make_column_selector("^[gc]-")),
            ("stats", RowStatistics(), make_column_selector("^[gc]-")),
        ],
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    Z = union.fit_transform(X)
    assert Z.shape == (len(X), 5 + 3 + 1 + 872 + 15)
    assert Z.columns[:9].tolist() == [
        "cp_time_24", "cp_time_48", "cp_time_72", "cp_dose_D1", "cp_dose_D2",
        "gene_pca__0", "gene_pca__1", "gene_pca__2", "cluster__label",
    ]
    # FeatureUnion on the whole raw frame: the transformers select their block by prefix.
    fu = FeatureUnion([("pca", BlockPCA(2, columns="c-")), ("stats", RowStatistics())])
    assert fu.fit(X).get_feature_names_out().tolist()[:3] == [
        "pca__pca__0", "pca__pca__1", "stats__stats__g_sum"
    ]


# ------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("preset", PRESETS)
def test_missing_feature_column_is_named(preset, X):
    with pytest.raises(ValueError, match="missing 1 of the 772 gene columns: g-5"):
        make_moa_features(preset).fit(X.drop(columns=["g-5"]))


@pytest.mark.parametrize("preset", ["tabnet", "winners"])
def test_missing_treatment_column_is_named(preset, X):
    with pytest.raises(ValueError, match="treatment columns: cp_dose"):
        make_moa_features(preset).fit(X.drop(columns=["cp_dose"]))


def test_nan_is_named_at_fit_and_transform(X):
    bad = X.copy()
    bad.iloc[4, bad.columns.get_loc("c-3")] = np.nan
    with pytest.raises(ValueError, match="NaN.*c-3"):
        make_moa_features("two_head").fit(bad)
    features = make_moa_features("cnn1d").fit(X)
    with pytest.raises(ValueError, match="NaN.*c-3"):
        features.transform(bad)
    with pytest.raises(ValueError, match="NaN.*c-3"):
        BlockPCA(2, columns="c-").fit(bad)


def test_unknown_treatment_value_at_transform_is_an_error(X):
    features = make_moa_features("winners", **SMALL_WINNERS).fit(X)
    bad = X.copy()
    bad["cp_dose"] = bad["cp_dose"].astype(object)
    bad.iloc[0, bad.columns.get_loc("cp_dose")] = "D3"
    with pytest.raises(ValueError, match="unknown cp_dose values 'D3'"):
        features.transform(bad)
    # The encoder on its own: values unseen in fit are rejected, never encoded silently.
    encoder = TreatmentEncoder(categories="fit").fit(X[X["cp_time"] != 72])
    with pytest.raises(ValueError, match=r"unknown cp_time values .*72"):
        encoder.transform(X)
    # With the Kaggle vocabulary a fold without 72 h rows still encodes them.
    encoder = TreatmentEncoder().fit(X[X["cp_time"] != 72])
    assert set(encoder.transform(X)[:, 0]) == {0.0, 1.0, 2.0}


def test_bad_arguments():
    with pytest.raises(ValueError, match="Unknown preset 'resnet'; available: two_head"):
        make_moa_features("resnet")
    with pytest.raises(ValueError, match="Unknown option.*n_gene_clusters.*two_head"):
        make_moa_features("two_head", n_gene_clusters=3)
    with pytest.raises(ValueError, match="needs a pandas DataFrame"):
        RowStatistics().fit(np.zeros((5, 4)))
    with pytest.raises(ValueError, match="positions 7 out of range"):
        BlockPCA(1, columns=[0, 7]).fit(np.zeros((5, 4)))
    with pytest.raises(ValueError, match="no columns whose name starts with 'x-'"):
        BlockPCA(1, columns="x-").fit(pd.DataFrame({"a": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="must be a pandas DataFrame with the LISH-MoA columns"):
        make_moa_features("two_head").fit(np.zeros((5, 875)))


# ---------------------------------------------------------------- single transformers


def test_row_statistics_match_pandas(X):
    Z = RowStatistics().fit(X).transform(X)
    g, c = X[list(GENE_COLUMNS)], X[list(CELL_COLUMNS)]
    expected = np.column_stack([
        np.column_stack([b.sum(axis=1), b.mean(axis=1), b.std(axis=1),
                         b.kurtosis(axis=1), b.skew(axis=1)])
        for b in (g, c, X[GC])
    ])
    np.testing.assert_allclose(Z, expected, rtol=1e-10, atol=1e-10)
    # Degenerate rows: constant values give 0 skew/kurtosis, never NaN.
    flat = RowStatistics(blocks=None).fit_transform(np.ones((2, 6)))
    np.testing.assert_array_equal(flat, [[6, 1, 0, 0, 0]] * 2)


def test_row_quantile_normalizer_formula():
    X = pd.DataFrame(
        [[0.0, 2.0, 4.0, 6.0, -8.0, 0.0, 8.0, 16.0]],
        columns=["g-0", "g-1", "g-2", "g-3", "c-0", "c-1", "c-2", "c-3"],
    )
    Z = RowQuantileNormalizer().set_output(transform="pandas").fit_transform(X)
    # genes: quartiles 1.5 and 4.5 -> midpoint 3
    np.testing.assert_allclose(Z[["g-0", "g-1", "g-2", "g-3"]].to_numpy(), [[-3, -1, 1, 3]])
    # cells: quartiles -2 and 10 -> midpoint 4; q75(|c|) = 10 -> divide by 14
    np.testing.assert_allclose(
        Z[["c-0", "c-1", "c-2", "c-3"]].to_numpy(), [[-12 / 14, -4 / 14, 4 / 14, 12 / 14]]
    )
    with pytest.raises(ValueError, match="in both the gene and the cell block"):
        RowQuantileNormalizer("g-", ("c-", "g-0")).fit(X)


def test_treatment_encoder_codes(X):
    ordinal = TreatmentEncoder(["cp_type", "cp_time", "cp_dose"]).fit(X).transform(X)
    np.testing.assert_array_equal(ordinal[:, 0], (X["cp_type"] == "ctl_vehicle").to_numpy())
    np.testing.assert_array_equal(ordinal[:, 1], X["cp_time"].map({24: 0, 48: 1, 72: 2}))
    np.testing.assert_array_equal(ordinal[:, 2], (X["cp_dose"] == "D2").to_numpy())
    onehot = TreatmentEncoder(encoding="onehot").fit(X).transform(X)
    assert onehot.shape == (len(X), 5)
    np.testing.assert_array_equal(onehot.sum(axis=1), 2)


def test_cluster_labels_assign_new_rows_to_nearest_fitted_centre():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 10.0], [-10.0, 10.0]])
    X = np.vstack([c + rng.normal(size=(30, 2)) for c in centres])
    labeler = ClusterLabels(3, random_state=0).fit(X)
    new = labeler.transform(centres).ravel()
    assert len(set(new)) == 3
    np.testing.assert_array_equal(labeler.transform(X).ravel(), labeler.kmeans_.labels_)
    assert labeler.get_feature_names_out().tolist() == ["cluster__label"]
