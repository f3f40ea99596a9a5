"""scikit-learn metadata routing of drug ids and non-scored targets through the suite.

Routing is switched on inside each test with ``config_context``, never globally.
"""

import numpy as np
import pytest
from sklearn import config_context
from sklearn.compose import make_column_transformer
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_moa.datasets import make_moa
from sklearn_moa.ensemble import BlendedMoAClassifier, SeedAveragedClassifier
from sklearn_moa.metrics import moa_log_loss_scorer
from sklearn_moa.model_selection import (
    DrugMultilabelStratifiedKFold,
    compare_models,
    cross_validate_moa,
)
from sklearn_moa.models import ControlAwareClassifier, PriorClassifier


class RecordingPrior(PriorClassifier):
    """A prior whose fit takes the routed metadata and keeps what it received."""

    def fit(self, X, Y, Y_nonscored=None, groups=None):
        super().fit(X, Y)  # the base forgets the previous fit: record after it
        self.received_ = {"Y_nonscored": Y_nonscored, "groups": groups}
        return self


@pytest.fixture(scope="module")
def data():
    data = make_moa(500, random_state=0)
    treated = (data.features.cp_type == "trt_cp").to_numpy()
    Y_ns = data.nonscored_targets.to_numpy()
    return data, treated, Y_ns, data.drugs.to_numpy()


def _features():
    return make_column_transformer((StandardScaler(), ["g-0", "g-1", "c-0"]))


def _wrapped(model):
    return ControlAwareClassifier(make_pipeline(_features(), model))


def _requesting():
    return RecordingPrior().set_fit_request(Y_nonscored=True, groups=True)


def test_grid_search_splits_by_drug_and_routes_to_the_model(data):
    data, treated, Y_ns, drugs = data
    with config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            _wrapped(_requesting()), {"estimator__recordingprior__smoothing": [0.01, 50.0]},
            cv=DrugMultilabelStratifiedKFold(3, random_state=0), scoring=moa_log_loss_scorer,
        ).fit(data.features, data.targets, groups=drugs, Y_nonscored=Y_ns)
    assert search.best_params_ == {"estimator__recordingprior__smoothing": 0.01}
    # The refit on all rows: the control rule passed on the treated rows' metadata only.
    received = search.best_estimator_.estimator_[-1].received_
    np.testing.assert_array_equal(received["Y_nonscored"], Y_ns[treated])
    np.testing.assert_array_equal(received["groups"], drugs[treated])


def test_grid_search_needs_the_drug_ids_routed_to_the_splitter(data):
    """Routing on or off the splitter gets the drug ids; without them, a clear error."""
    data, _, _, drugs = data
    search = GridSearchCV(
        _wrapped(PriorClassifier()), {"estimator__priorclassifier__smoothing": [0.01, 50.0]},
        cv=DrugMultilabelStratifiedKFold(3, random_state=0), scoring=moa_log_loss_scorer,
    )
    with config_context(enable_metadata_routing=True):
        with pytest.raises(ValueError, match="drug id of each row"):
            search.fit(data.features, data.targets)
    search.fit(data.features, data.targets, groups=drugs)
    assert search.best_params_ == {"estimator__priorclassifier__smoothing": 0.01}


def test_unrequested_metadata_is_an_error_not_silently_dropped(data):
    data, _, Y_ns, _ = data
    with config_context(enable_metadata_routing=True):
        with pytest.raises(UnsetMetadataPassedError, match="Y_nonscored"):
            _wrapped(RecordingPrior()).fit(data.features, data.targets, Y_nonscored=Y_ns)


def test_cross_validate_moa_routes_fold_rows(data):
    data, treated, Y_ns, drugs = data
    with config_context(enable_metadata_routing=True):
        result = cross_validate_moa(
            _wrapped(_requesting()), data.features, data.targets, groups=drugs, cv=3,
            fit_params={"Y_nonscored": Y_ns}, return_estimators=True,
        )
    assert result.cv.startswith("DrugMultilabelStratifiedKFold")
    all_rows = np.arange(len(drugs))
    for test, fold in zip(result.test_indices, result.estimators):
        train = np.setdiff1d(all_rows, test)
        rows = train[treated[train]]
        received = fold.estimator_[-1].received_
        np.testing.assert_array_equal(received["groups"], drugs[rows])
        np.testing.assert_array_equal(received["Y_nonscored"], Y_ns[rows])


def test_cross_validate_moa_fit_params_without_routing(data):
    """The suite's own path: Pipeline step names, every parameter to the estimator."""
    data, treated, Y_ns, drugs = data
    result = cross_validate_moa(
        _wrapped(RecordingPrior()), data.features, data.targets, groups=drugs, cv=2,
        fit_params={"recordingprior__Y_nonscored": Y_ns}, return_estimators=True,
    )
    for test, fold in zip(result.test_indices, result.estimators):
        train = np.setdiff1d(np.arange(len(drugs)), test)
        received = fold.estimator_[-1].received_
        np.testing.assert_array_equal(received["Y_nonscored"], Y_ns[train[treated[train]]])
        assert received["groups"] is None


def test_compare_models_routes_only_where_requested(data):
    data, _, Y_ns, drugs = data
    with config_context(enable_metadata_routing=True):
        models = {"recording": _wrapped(_requesting()), "prior": _wrapped(PriorClassifier())}
        table = compare_models(models, data.features, data.targets, groups=drugs, cv=2,
                               fit_params={"Y_nonscored": Y_ns})
    assert set(table.index) == {"recording", "prior"}
    # Without routing the same call hands Y_nonscored to the prior's pipeline too.
    with pytest.raises(ValueError, match="Y_nonscored"):
        compare_models(models, data.features, data.targets, groups=drugs, cv=2,
                       fit_params={"Y_nonscored": Y_ns})


def test_blend_routes_to_members_and_keeps_its_folds_drug_aware(data):
    data, treated, Y_ns, drugs = data
    X = data.features[treated][["g-0", "g-1"]]
    Y, groups, Y_ns = data.targets[treated], drugs[treated], Y_ns[treated]
    with config_context(enable_metadata_routing=True):
        blend = BlendedMoAClassifier([("recording", _requesting()), ("prior", PriorClassifier())], cv=2)
        blend.fit(X, Y, groups=groups, Y_nonscored=Y_ns)
        # Nested in a Pipeline, the blend asks for the drug ids by default.
        piped = make_pipeline(StandardScaler(), BlendedMoAClassifier(
            [("a", PriorClassifier()), ("b", PriorClassifier(smoothing=0.01))], cv=2))
        piped.fit(X, Y, groups=groups)
    assert blend.member_cv_results_["recording"].cv.startswith("DrugMultilabelStratifiedKFold")
    assert piped[-1].member_cv_results_["a"].cv.startswith("DrugMultilabelStratifiedKFold")
    received = blend.named_estimators_["recording"].received_
    np.testing.assert_array_equal(received["Y_nonscored"], Y_ns)
    np.testing.assert_array_equal(received["groups"], groups)


def test_seed_averaging_routes_to_every_member(data):
    data, treated, Y_ns, _ = data
    with config_context(enable_metadata_routing=True):
        model = SeedAveragedClassifier(_wrapped(_requesting()), seeds=2,
                                       seed_params="estimator__recordingprior__smoothing")
        model.fit(data.features, data.targets, Y_nonscored=Y_ns)
    for member in model.estimators_:
        np.testing.assert_array_equal(member.estimator_[-1].received_["Y_nonscored"], Y_ns[treated])


def test_routing_off_keeps_the_old_fit_params_path(data):
    data, treated, Y_ns, drugs = data
    model = SeedAveragedClassifier(_wrapped(RecordingPrior()), seeds=2,
                                   seed_params="estimator__recordingprior__smoothing")
    model.fit(data.features, data.targets, recordingprior__Y_nonscored=Y_ns)
    np.testing.assert_array_equal(model.estimators_[0].estimator_[-1].received_["Y_nonscored"],
                                  Y_ns[treated])


def test_a_pretraining_network_gets_its_non_scored_targets_through_the_cv_helper(data):
    pytest.importorskip("skorch")
    from sklearn_moa.models import ResidualNNClassifier

    data, _, Y_ns, drugs = data
    with config_context(enable_metadata_routing=True):
        net = ResidualNNClassifier(hidden_layer_sizes=(8,), epochs=1, pretrain_epochs=1,
                                   batch_size=64, random_state=0)
        result = cross_validate_moa(
            _wrapped(net.set_fit_request(Y_nonscored=True)), data.features, data.targets,
            groups=drugs, cv=2, fit_params={"Y_nonscored": Y_ns}, return_estimators=True,
        )
    assert all(fold.estimator_[-1].pretrain_history_ is not None for fold in result.estimators)
