"""DeepInsight: the feature-to-pixel transformer and the CNN on its images."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_moa.preprocessing import DeepInsightTransformer


def _correlated(n=60, n_groups=4, per_group=5, seed=0):
    """Features in groups of near-copies: a good map puts each group close together."""
    rng = np.random.RandomState(seed)
    base = rng.randn(n, n_groups)
    X = np.repeat(base, per_group, axis=1) + 0.05 * rng.randn(n, n_groups * per_group)
    return X, np.repeat(np.arange(n_groups), per_group)


@pytest.mark.parametrize("method", ["tsne", "kpca", "pca"])
def test_images_have_the_documented_shape_range_and_dtype(method):
    X, _ = _correlated()
    transformer = DeepInsightTransformer(resolution=7, method=method, random_state=0).fit(X)
    images = transformer.transform(X)
    assert images.shape == (60, 3, 7, 7) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1
    assert transformer.feature_density_.sum() == X.shape[1]
    assert transformer.image_shape_ == (3, 7, 7)
    one = DeepInsightTransformer(resolution=7, channels="mean", method=method, random_state=0)
    assert one.fit_transform(X).shape == (60, 1, 7, 7)


def test_pixels_hold_mean_min_max_of_their_features_and_empty_ones_the_empty_value():
    X, _ = _correlated()
    transformer = DeepInsightTransformer(resolution=5, empty_value=-1.0, random_state=0).fit(X)
    images = transformer.transform(X[:3])
    scaled = transformer.scale(X[:3])
    rows, cols = transformer.pixel_coords_.T
    for pixel in set(zip(rows, cols)):
        on_it = (rows == pixel[0]) & (cols == pixel[1])
        np.testing.assert_allclose(images[:, 0, pixel[0], pixel[1]], scaled[:, on_it].mean(axis=1), rtol=1e-6)
        np.testing.assert_allclose(images[:, 1, pixel[0], pixel[1]], scaled[:, on_it].min(axis=1), rtol=1e-6)
        np.testing.assert_allclose(images[:, 2, pixel[0], pixel[1]], scaled[:, on_it].max(axis=1), rtol=1e-6)
    empty = transformer.feature_density_ == 0
    assert empty.any() and np.all(images[:, :, empty] == -1.0)


def test_correlated_features_land_close_together():
    X, group = _correlated()
    coords = DeepInsightTransformer(resolution=20, random_state=0).fit(X).pixel_coords_
    distance = np.linalg.norm(coords[:, None] - coords[None], axis=2)
    same = group[:, None] == group[None]
    off_diagonal = ~np.eye(len(group), dtype=bool)
    assert distance[same & off_diagonal].mean() < 0.5 * distance[~same].mean()


def test_the_map_is_learnt_on_training_rows_only_and_is_reproducible():
    X, _ = _correlated()
    fitted = DeepInsightTransformer(resolution=9, random_state=0).fit(X[:40])
    again = DeepInsightTransformer(resolution=9, random_state=0).fit(X[:40])
    np.testing.assert_array_equal(fitted.pixel_index_, again.pixel_index_)
    # New rows are scaled with the training statistics: out-of-range values are clipped.
    wild = X[40:] * 100
    images = fitted.transform(wild)
    assert images.min() >= 0 and images.max() <= 1
    np.testing.assert_array_equal(fitted.transform(X[40:]), pickle.loads(pickle.dumps(fitted)).transform(X[40:]))


def test_log_scaling_is_the_papers_norm_2():
    X = np.array([[-2.0, 0.0], [0.0, 1.0], [2.0, 3.0]])
    transformer = DeepInsightTransformer(resolution=2, random_state=0).fit(X)
    logged = np.log(X + np.abs(X.min(axis=0)) + 1)
    np.testing.assert_allclose(transformer.scale(X), logged / logged.max())
    # Below the training minimum: clipped to it.
    np.testing.assert_allclose(transformer.scale(np.array([[-10.0, -10.0]])), [[0.0, 0.0]])


def test_bad_parameters_and_inputs_are_named():
    X, _ = _correlated()
    with pytest.raises(ValueError, match="resolution"):
        DeepInsightTransformer(resolution=1).fit(X)
    with pytest.raises(ValueError, match="method"):
        DeepInsightTransformer(method="umap").fit(X)
    fitted = DeepInsightTransformer(resolution=4, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        fitted.transform(X[:, :5])
    with pytest.raises(ValueError, match="NaN"):
        DeepInsightTransformer().fit(np.where(X > 2, np.nan, X))


# --- the CNN -------------------------------------------------------------------------------

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from sklearn_moa.models import DeepInsightCNNClassifier  # noqa: E402
from sklearn_moa.models._torch_modules import PixelPainter, SwapNoise  # noqa: E402


def test_network_paints_the_same_images_as_the_transformer():
    X, _ = _correlated()
    for channels in ("mean_min_max", "mean"):
        transformer = DeepInsightTransformer(resolution=6, channels=channels, random_state=0).fit(X)
        painter = PixelPainter(transformer.pixel_index_, transformer.image_shape_, transformer.empty_value)
        painted = painter(torch.as_tensor(transformer.scale(X), dtype=torch.float32)).numpy()
        np.testing.assert_allclose(painted, transformer.transform(X), atol=1e-6)


def test_swap_noise_swaps_the_documented_share_in_training_only():
    torch.manual_seed(0)
    x = torch.arange(4000, dtype=torch.float32).reshape(200, 20)
    noise = SwapNoise(probability=0.5, fraction=0.15)
    noisy = noise.train()(x)
    changed = (noisy != x).sum(dim=1)
    assert set(changed.unique().tolist()) == {0, 3}  # 15 % of 20 features, on about half the rows
    assert 60 < int((changed > 0).sum()) < 140
    # Swapped values come from the same column of another row.
    rows, cols = torch.nonzero(noisy != x, as_tuple=True)
    assert torch.all(noisy[rows, cols] % 20 == cols)
    assert torch.equal(noise.eval()(x), x)


def test_classifier_owns_a_map_fitted_on_its_training_rows_and_works_in_a_pipeline():
    X, _ = _correlated(n=80)
    Y = (X[:, [0, 5, 10]] > 0.3).astype(int)
    model = DeepInsightCNNClassifier(resolution=6, width=4, n_blocks=(1,), epochs=2, batch_size=32,
                                     random_state=0)
    pipe = make_pipeline(StandardScaler(), model).fit(X[:60], Y[:60])
    fitted = pipe[-1]
    assert fitted.transformer_.n_features_in_ == 20 and fitted.transformer_.image_shape_ == (3, 6, 6)
    assert fitted.network_.painter.image_shape == (3, 6, 6)
    proba = pipe.predict_proba(X[60:])
    assert proba.shape == (20, 3) and np.all((proba > 0) & (proba < 1))
    assert "transformer_" not in clone(model).__dict__
    with pytest.raises(ValueError, match="n_blocks"):
        clone(model).set_params(n_blocks=()).fit(X, Y)


def test_model_zoo_entry_builds_quick_and_full():
    from sklearn_moa.model_zoo import build_model

    quick, full = build_model("deepinsight_cnn"), build_model("deepinsight_cnn", full=True)
    assert isinstance(quick.estimator[-1], DeepInsightCNNClassifier)
    assert quick.estimator[-1].resolution < full.estimator[-1].resolution
    assert sum(full.estimator[-1].n_blocks) > sum(quick.estimator[-1].n_blocks)
