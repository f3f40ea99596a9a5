"""Fast constructor parameters and expected common-check failures per estimator.

Each model issue adds its estimator here. An expected failure names the
check and the reason it cannot pass for that estimator.
"""

from sklearn_moa.models import PriorClassifier

# Constructor parameters that keep a common-check fit under a second or two.
FAST_PARAMS = {
    "ControlAwareClassifier": dict(
        estimator=PriorClassifier(), control_column=0, control_value=-1e9, treated_value=None
    ),
    "PriorClassifier": {},
    # Classical models (issue 4).
    "LogisticMoAClassifier": dict(max_iter=50),
    "SVMMoAClassifier": dict(n_components=20, random_state=0),
    "XGBMoAClassifier": dict(n_estimators=10, random_state=0),
    "DeepCNNClassifier": dict(
        hidden_size=32, n_channels=4, conv_channels=4, epochs=1, batch_size=32, random_state=0
    ),
    "ResidualNNClassifier": dict(hidden_layer_sizes=(8,), epochs=1, batch_size=32, random_state=0),
    "TabMClassifier": dict(k=2, d_block=8, epochs=1, batch_size=32, early_stopping=False, random_state=0),
    "TabNetMoAClassifier": dict(
        n_d=4, n_a=4, epochs=1, batch_size=32, virtual_batch_size=16, random_state=0
    ),
    # Ensembles (issue 7), checked around priors like ControlAwareClassifier.
    "BlendedMoAClassifier": dict(
        estimators=[("sharp", PriorClassifier(smoothing=0.01)), ("smooth", PriorClassifier())], cv=2
    ),
    "SeedAveragedClassifier": dict(estimator=PriorClassifier(), seeds=2, random_state=0),
    # Preprocessing transformers (issue 3): column specs that work on arrays.
    "BlockPCA": dict(n_components=2, random_state=0),
    "ClusterLabels": dict(n_clusters=3, random_state=0),
    "RankGaussScaler": dict(n_quantiles=10, random_state=0),
    "RowQuantileNormalizer": dict(gene_columns=None, cell_columns=None),
    "RowStatistics": dict(blocks=None),
    "TreatmentEncoder": dict(columns=None, categories="fit"),
    # Keras models (issue 5): one batch per epoch, TensorFlow traces a step once.
    "TwoHeadNNClassifier": dict(
        head1_columns=1, head1_units=(2,), body_units=(2,), tail_units=(), epochs=1,
        batch_size=512, random_state=0,
    ),
    "CNN1DClassifier": dict(
        filters=(2,), kernel_size=1, dense_units=(), epochs=1, batch_size=512, random_state=0
    ),
}

_ONE_D_Y = (
    "The check fits on a 1-D y it does not reshape; the suite's multi-label estimators "
    "require a 2-D (n_samples, n_targets) Y and reject 1-D y with a clear error (issue #2)."
)

_TWO_D_PREDICTIONS = {
    "check_classifiers_train": (
        "The check asserts predict returns shape (n_samples,) after fitting a 2-D y of one "
        "column; a multi-label estimator of the suite returns (n_samples, n_targets)."
    ),
    "check_classifiers_classes": (
        "The check fits on 1-D string class labels ('one'/'two'); the suite's multi-label "
        "estimators take a 2-D 0/1 target matrix and reject them with a clear error."
    ),
}

#: Failures shared by every multi-label classifier of the suite.
MULTILABEL_EXPECTED_FAILURES = {
    "check_estimators_dtypes": _ONE_D_Y,
    "check_classifier_data_not_an_array": _ONE_D_Y,
    "check_classifiers_one_label": _ONE_D_Y,
    "check_fit2d_1feature": _ONE_D_Y,
    **_TWO_D_PREDICTIONS,
}

# Estimators whose fit takes **fit_params: the check then passes sample_weight
# with a 1-D y (for the others, whose fit names its parameters, it is skipped).
_ONE_D_Y_WITH_SAMPLE_WEIGHT = {"check_classifiers_one_label_sample_weights": _ONE_D_Y}

_PRIOR_IGNORES_X = {
    "check_classifiers_train": "A prior ignores X, so it cannot reach the accuracy this check demands.",
    "check_classifiers_classes": "A prior ignores X and predicts the same label for every row.",
    **_ONE_D_Y_WITH_SAMPLE_WEIGHT,
}

EXPECTED_FAILURES = {
    "LogisticMoAClassifier": {**_ONE_D_Y_WITH_SAMPLE_WEIGHT, "check_class_weight_classifiers": _ONE_D_Y},
    "SVMMoAClassifier": {**_ONE_D_Y_WITH_SAMPLE_WEIGHT, "check_class_weight_classifiers": _ONE_D_Y},
    "XGBMoAClassifier": dict(_ONE_D_Y_WITH_SAMPLE_WEIGHT),
    "TreatmentEncoder": {
        "check_fit_idempotent": (
            "The check transforms a held-out split of continuous random data, whose values "
            "are all categories unseen in fit; the encoder rejects unknown categories with "
            "a ValueError by design (issue 3: never silent garbage)."
        ),
    },
    "PriorClassifier": dict(_PRIOR_IGNORES_X),
    # Checked around a PriorClassifier, so they inherit the prior's limits.
    "ControlAwareClassifier": dict(_PRIOR_IGNORES_X),
    "BlendedMoAClassifier": dict(_PRIOR_IGNORES_X),
    "SeedAveragedClassifier": dict(_PRIOR_IGNORES_X),
}
