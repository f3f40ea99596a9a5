"""The zoo's settings ("quick", "full", "blog") and devices, and the GPU paths of the deep models."""

import importlib.util

import numpy as np
import pytest

from sklearn_moa.model_zoo import MODEL_ZOO, SETTINGS, build_model


def _final(model):
    return model.estimator.steps[-1][1]


def _installed(name):
    return MODEL_ZOO[name].available()


def _cuda_available():
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return torch.cuda.is_available()


#: Tests that need a CUDA GPU are marked ``gpu`` and skipped without one (CI has none).
requires_gpu = pytest.mark.skipif(not _cuda_available(), reason="needs a CUDA GPU")


@pytest.mark.parametrize("settings", SETTINGS)
def test_every_installed_model_builds_with_every_settings(settings):
    for name, spec in MODEL_ZOO.items():
        if spec.available():
            model = build_model(name, settings=settings, random_state=3)
            # Single models take the raw frame through the control rule; an
            # ensemble holds such models.
            members = [m for _, m in model.estimators] if not spec.default else [model]
            assert all(type(m).__name__ == "ControlAwareClassifier" for m in members), name


@pytest.mark.skipif(not (_installed("two_head_nn") and _installed("tabnet")),
                    reason="needs the keras and tabnet extras")
def test_blog_settings_are_the_published_configurations():
    two_head = _final(build_model("two_head_nn", settings="blog"))
    assert (two_head.epochs, two_head.batch_size, two_head.learning_rate,
            two_head.learning_rate_decay, two_head.label_smoothing) == (50, 128, 1e-4, 1e-4, 0.001)
    assert (two_head.head1_units, two_head.body_units) == ((512, 256), (512, 512, 256, 256))
    cnn = _final(build_model("cnn1d", settings="blog"))
    assert (cnn.filters, cnn.dense_units, cnn.epochs, cnn.batch_size, cnn.learning_rate,
            cnn.dropout, cnn.label_smoothing) == ((32, 16, 8), (2048, 1048), 20, 300, 1e-4, 0.0, 0.0)
    tabnet = _final(build_model("tabnet", settings="blog"))
    assert (tabnet.epochs, tabnet.batch_size, tabnet.learning_rate) == (200, 1024, 2e-2)
    # The blog's TabNet features: 600 gene and 50 cell PCA components.
    preset = build_model("tabnet", settings="blog").estimator.steps[0][1]
    assert preset.get_params()["features__gene_pca__n_components"] == 600


@pytest.mark.skipif(not (_installed("deep_cnn") and _installed("cnn1d")), reason="needs the torch and keras extras")
def test_quick_settings_of_the_networks_keep_their_regularisation():
    # Issue 12: the settings that put them 10 % below the prior on make_moa
    # (docs/models.md); the blog settings stay the published ones.
    deep_cnn = _final(build_model("deep_cnn"))
    assert (deep_cnn.epochs, deep_cnn.weight_decay) == (12, 1e-4)
    cnn = _final(build_model("cnn1d"))
    assert (cnn.label_smoothing, cnn.dropout, cnn.learning_rate) == (0.001, 0.5, 1e-3)
    two_head = _final(build_model("two_head_nn"))
    assert (two_head.epochs, two_head.learning_rate, two_head.body_dropout) == (6, 1e-3, 0.5)
    assert _final(build_model("cnn1d", settings="blog")).label_smoothing == 0.0
    assert _final(build_model("two_head_nn", settings="blog")).epochs == 50
    # The blog's code leaves Keras' zero start of the output biases.
    assert _final(build_model("cnn1d", settings="blog")).output_bias == "zeros"
    assert _final(build_model("two_head_nn", settings="blog")).output_bias == "zeros"
    assert _final(build_model("two_head_nn")).output_bias == "prevalence"


@pytest.mark.skipif(not (_installed("deep_cnn") and _installed("tabnet")), reason="needs the torch and tabnet extras")
def test_full_settings_of_the_long_trainings_stop_on_held_out_drugs():
    # Issue 12: at full size their full epochs overfit (deep_cnn) or cost 3x
    # for no better score (tabnet); the blog's TabNet keeps its 200 epochs.
    for name in ("deep_cnn", "tabnet"):
        assert _final(build_model(name, settings="full")).early_stopping is True
    assert _final(build_model("tabnet", settings="blog")).early_stopping is False
    assert _final(build_model("deep_cnn")).early_stopping is False


@pytest.mark.parametrize("name", ["two_head_nn", "two_head_resnet", "multistage_nn"])
def test_full_settings_average_three_seeds_of_the_seed_unstable_networks(name):
    # Issue 12, criterion 4: one full fit of these networks is a draw; three
    # seeds beat it on all ten folds of two data seeds (benchmarks/README.md).
    if not _installed(name):
        pytest.skip(f"needs the {name} extra")
    from sklearn_moa.ensemble import SeedAveragedClassifier

    full = _final(build_model(name, settings="full", random_state=4))
    assert isinstance(full, SeedAveragedClassifier) and (full.seeds, full.random_state) == (3, 4)
    assert type(full.estimator) is type(_final(build_model(name)))


def _described(model):
    """The final estimator's parameters and the preset's PCA sizes, comparable with ==."""
    params = _final(model).get_params()
    preset = model.estimator.steps[0][1].get_params()
    return params, {k: v for k, v in preset.items() if k.endswith("n_components")}


@pytest.mark.skipif(not _installed("xgboost"), reason="needs the xgboost extra")
def test_full_flag_is_the_full_settings_and_blog_defaults_to_full():
    for name in ("logistic", "svm", "xgboost"):
        full = _described(build_model(name, settings="full"))
        assert _described(build_model(name, full=True)) == full
        # Not from the blog post's networks: "blog" is "full".
        assert _described(build_model(name, settings="blog")) == full
    # xgboost's quick settings differ from its full ones; the linear models'
    # full settings are their quick ones (criterion 4 of issue 12: the larger
    # PCA sizes scored the same, the RBF kernel worse).
    assert _described(build_model("xgboost")) != _described(build_model("xgboost", settings="full"))
    for name in ("logistic", "svm"):
        assert _described(build_model(name)) == _described(build_model(name, settings="full"))


def test_quick_svm_and_tabnet_read_the_principal_components_of_the_winners_features():
    svm = build_model("svm")
    assert (_final(svm).kernel, _final(svm).C) == ("linear", 0.01)
    names = ["svm"] + (["tabnet"] if _installed("tabnet") else [])
    for name in names:
        features = build_model(name).estimator.steps[0][1]
        assert type(features.steps[-1][1]).__name__ == "PCA"
        assert features.steps[-1][1].n_components == 150
    # The full settings too: the RBF map overfit at full size.
    assert _final(build_model("svm", settings="full")).kernel == "linear"


@pytest.mark.parametrize("kwargs, match", [
    (dict(settings="fast"), "Unknown settings 'fast'; choose one of quick, full, blog"),
    (dict(settings="blog", full=True), "full=True .* settings='blog'"),
    (dict(device="gpu"), "Unknown device 'gpu'; choose one of cpu, cuda, auto"),
])
def test_bad_settings_or_device_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_model("prior", **kwargs)


@pytest.mark.skipif(not (_installed("residual_nn") and _installed("cnn1d") and _installed("tabnet")),
                    reason="needs the torch, keras and tabnet extras")
def test_device_reaches_every_model_that_has_one():
    for name in ("residual_nn", "deep_cnn", "cnn1d", "two_head_nn", "tabnet"):
        assert _final(build_model(name, device="cuda")).device == "cuda"
        assert _final(build_model(name, settings="blog", device="cpu")).device == "cpu"
    # Models without a GPU implementation build as usual.
    assert "device" not in _final(build_model("logistic", device="cuda")).get_params()


@pytest.mark.skipif(not _installed("residual_nn") or _cuda_available(), reason="needs torch, no GPU")
def test_cuda_without_a_gpu_is_a_clear_error_for_torch_models():
    from sklearn_moa.models import ResidualNNClassifier, TabNetMoAClassifier

    X, Y = np.random.RandomState(0).randn(40, 5), np.tile([0, 1], 20)[:, None]
    for model in (ResidualNNClassifier(epochs=1, device="cuda"),
                  TabNetMoAClassifier(epochs=1, device="cuda")):
        with pytest.raises(ValueError, match="device='cuda'.*torch sees no GPU"):
            model.fit(X, Y)


@pytest.mark.skipif(not _installed("cnn1d"), reason="needs keras")
def test_keras_device_cpu_pins_and_cuda_without_gpu_is_a_clear_error():
    from sklearn_moa.models import CNN1DClassifier

    import keras

    rng = np.random.RandomState(0)
    X, Y = rng.randn(40, 12), (rng.rand(40, 2) < 0.3).astype(int)
    params = dict(filters=(2,), dense_units=(4,), epochs=1, batch_size=20, random_state=0)
    auto = CNN1DClassifier(**params).fit(X, Y).predict_proba(X)
    cpu = CNN1DClassifier(device="cpu", **params).fit(X, Y).predict_proba(X)
    if not keras.distribution.list_devices("gpu"):
        np.testing.assert_allclose(cpu, auto, rtol=1e-5)
        with pytest.raises(ValueError, match="device='cuda'.*sees no GPU"):
            CNN1DClassifier(device="cuda", **params).fit(X, Y)


@pytest.mark.gpu
@requires_gpu
@pytest.mark.parametrize("name", ["residual_nn", "deep_cnn", "multistage_nn", "two_head_resnet", "tabm",
                                  "deepinsight_cnn", "tabnet", "two_head_nn", "cnn1d"])
def test_models_fit_and_predict_on_the_gpu(name):
    from sklearn_moa.datasets import make_moa

    data = make_moa(300, n_test_samples=0, random_state=0)
    model = build_model(name, device="cuda", random_state=0)
    proba = model.fit(data.features, data.targets).predict_proba(data.features)
    assert proba.shape == data.targets.shape and np.isfinite(proba).all()
