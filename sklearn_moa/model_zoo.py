"""Named, ready-to-fit models: each family with its feature preset and the control rule.

The command line and the benchmarks pick models from :data:`MODEL_ZOO` by
name. Every entry builds ``ControlAwareClassifier(Pipeline([features, model]))``
so that it takes the raw Kaggle feature frame.
"""

import importlib.util
from dataclasses import dataclass
from typing import Callable

from sklearn.compose import make_column_transformer
from sklearn.pipeline import make_pipeline

from .models import ControlAwareClassifier, PriorClassifier
from .utils._optional import MissingOptionalDependency

__all__ = ["ModelSpec", "MODEL_ZOO", "build_model"]


@dataclass(frozen=True)
class ModelSpec:
    """How to build one named model.

    Attributes
    ----------
    name : str
    description : str
        Source of the model (the seed notebook or a winning solution).
    extra : str or None
        sklearn-moa extra that installs its framework (None: core only).
    modules : tuple of str
        Modules that must be importable.
    build : callable ``(full, random_state) -> estimator``
        ``full=True`` uses the seed's epochs and sizes; ``False`` quick settings
        that finish in a minute or two on 2 cores.
    """

    name: str
    description: str
    extra: object
    modules: tuple
    build: Callable

    def available(self):
        """Whether the framework this model needs is installed."""
        return all(importlib.util.find_spec(m) is not None for m in self.modules)


def _with_controls(features, model):
    return ControlAwareClassifier(make_pipeline(features, model))


def _prior(full, random_state):
    return _with_controls(
        make_column_transformer(("passthrough", ["cp_time"])), PriorClassifier(random_state=random_state)
    )


def _tabnet_features(full, random_state):
    """The seed's TabNet preset; the quick build keeps fewer PCA components."""
    from .preprocessing import make_moa_features

    quick = {} if full else dict(n_gene_components=100, n_cell_components=20)
    return make_moa_features("tabnet", random_state=random_state, **quick)


def _tabnet(full, random_state):
    from .models import TabNetMoAClassifier

    quick = {} if full else dict(epochs=10, batch_size=256)
    return _with_controls(_tabnet_features(full, random_state),
                          TabNetMoAClassifier(random_state=random_state, **quick))


def _residual_nn(full, random_state):
    from .models import ResidualNNClassifier
    from .preprocessing import make_moa_features

    quick = {} if full else dict(hidden_layer_sizes=(256, 256), epochs=10)
    return _with_controls(
        make_moa_features("winners", random_state=random_state),
        ResidualNNClassifier(random_state=random_state, **quick),
    )


def _deep_cnn(full, random_state):
    from .models import DeepCNNClassifier
    from .preprocessing import make_moa_features

    quick = {} if full else dict(hidden_size=512, n_channels=32, conv_channels=64, epochs=8)
    return _with_controls(
        make_moa_features("winners", random_state=random_state),
        DeepCNNClassifier(random_state=random_state, **quick),
    )


def _tabm(full, random_state):
    from .models import TabMClassifier
    from .preprocessing import make_moa_features

    # Full: the paper's default TabM with the MoA solutions' label smoothing.
    # Quick: a narrower, shallower TabM with 16 members, trained as the
    # winners' networks are (OneCycle, more dropout, 8 epochs, no early
    # stopping): on one drug-aware fold of make_moa(6000) that scored 0.0189,
    # where the paper's constant rate for 15 epochs scored 0.0198 and early
    # stopping on held-out rows 0.0199 (held-out rows share drugs with the
    # training rows, so their loss kept falling while the fold's rose).
    quick = {} if full else dict(k=16, d_block=256, n_blocks=2, dropout=0.3, epochs=8, lr_schedule="onecycle",
                                 early_stopping=False)
    return _with_controls(
        make_moa_features("winners", random_state=random_state),
        TabMClassifier(label_smoothing=0.001, random_state=random_state, **quick),
    )


def _two_head_nn(full, random_state):
    from .models import TwoHeadNNClassifier
    from .preprocessing import make_moa_features

    # Pandas output: the network routes the PCA columns to head 1 by name.
    features = make_moa_features("two_head", random_state=random_state).set_output(transform="pandas")
    # Quick: the output starts at the target prevalences, so a few epochs at the
    # seed's batch size suffice; more overfit the 1.4M weights on a few thousand rows.
    quick = {} if full else dict(epochs=4, batch_size=128, learning_rate=1e-3)
    return _with_controls(features, TwoHeadNNClassifier(random_state=random_state, **quick))


def _cnn1d(full, random_state):
    from .models import CNN1DClassifier
    from .preprocessing import make_moa_features

    quick = {} if full else dict(dense_units=(512, 256), epochs=3, learning_rate=1e-3)
    return _with_controls(
        make_moa_features("cnn1d", random_state=random_state),
        CNN1DClassifier(random_state=random_state, **quick),
    )


def _linear_features(full, random_state):
    """The winners' RankGauss + PCA recipe (quick: fewer PCA components)."""
    from .preprocessing import make_moa_features

    quick = {} if full else dict(n_gene_components=100, n_cell_components=20)
    return make_moa_features("winners", random_state=random_state, **quick)


def _logistic(full, random_state):
    from .models import LogisticMoAClassifier

    return _with_controls(_linear_features(full, random_state),
                          LogisticMoAClassifier(random_state=random_state))


def _svm(full, random_state):
    from .models import SVMMoAClassifier

    quick = {} if full else dict(n_components=150)
    return _with_controls(_linear_features(full, random_state),
                          SVMMoAClassifier(random_state=random_state, **quick))


def _xgboost(full, random_state):
    from .models import XGBMoAClassifier

    # Quick: half the trees at twice the rate, a third of the columns per tree
    # and coarser bins: the quick benchmark's slowest model, cut about 4x.
    quick = {} if full else dict(n_estimators=50, learning_rate=0.2, colsample_bytree=0.3,
                                 max_bin=64)
    return _with_controls(_tabnet_features(full, random_state),
                          XGBMoAClassifier(random_state=random_state, **quick))


MODEL_ZOO = {
    spec.name: spec
    for spec in [
        ModelSpec("prior", "Per-target training prevalence (baseline).", None, (), _prior),
        ModelSpec(
            "tabnet", "Seed's TabNet (0.01627 private) with the 1st place's settings (pytorch-tabnet).",
            "tabnet", ("torch", "pytorch_tabnet"), _tabnet,
        ),
        ModelSpec(
            "residual_nn", "Winners' dense network (BatchNorm, dropout, weight norm; skorch).",
            "torch", ("torch", "skorch"), _residual_nn,
        ),
        ModelSpec(
            "deep_cnn", "2nd-place 1D-CNN (single model 0.01601 private; skorch).",
            "torch", ("torch", "skorch"), _deep_cnn,
        ),
        ModelSpec(
            "tabm", "TabM, a parameter-efficient ensemble of 32 MLPs (Gorishniy et al., ICLR 2025; tabm, skorch).",
            "tabm", ("torch", "skorch", "tabm", "rtdl_num_embeddings"), _tabm,
        ),
        ModelSpec(
            "two_head_nn", "Seed's two-head network: PCA head and raw-feature head (Keras).",
            "keras", ("keras",), _two_head_nn,
        ),
        ModelSpec(
            "cnn1d", "Seed's 1D CNN over the 872 g-/c- features (Keras).",
            "keras", ("keras",), _cnn1d,
        ),
        ModelSpec(
            "logistic", "Seed's logistic regression, L2-regularised, one model per target.",
            None, (), _logistic,
        ),
        ModelSpec(
            "svm", "Calibrated SVM per target on a Nystroem RBF map (seed's SVM; 4th place used SVMs).",
            None, (), _svm,
        ),
        ModelSpec(
            "xgboost", "Seed's XGBoost on its TabNet feature set, one booster per target.",
            "xgboost", ("xgboost",), _xgboost,
        ),
    ]
}


def build_model(name, *, full=False, random_state=0):
    """Build the named model of :data:`MODEL_ZOO`.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones).
    ImportError
        When the model's framework is missing (the message names the extra).
    """
    if name not in MODEL_ZOO:
        raise ValueError(f"Unknown model {name!r}; available: {', '.join(MODEL_ZOO)}.")
    spec = MODEL_ZOO[name]
    if not spec.available():
        raise MissingOptionalDependency(
            f"Model {name!r} needs the extra {spec.extra!r}: pip install 'sklearn-moa[{spec.extra}]'"
        )
    return spec.build(full, random_state)
