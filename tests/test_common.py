"""scikit-learn's common estimator checks over every estimator the package exports."""

from sklearn.base import is_classifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_moa.utils.discovery import all_estimators

from ._estimator_params import EXPECTED_FAILURES, FAST_PARAMS, MULTILABEL_EXPECTED_FAILURES


def _instances():
    for name, cls in all_estimators():
        if name not in FAST_PARAMS:
            raise AssertionError(
                f"{name} is exported but has no entry in tests/_estimator_params.FAST_PARAMS"
            )
        yield cls(**FAST_PARAMS[name])


def _expected_failures(estimator):
    failures = {}
    if is_classifier(estimator):
        failures.update(MULTILABEL_EXPECTED_FAILURES)
    failures.update(EXPECTED_FAILURES.get(type(estimator).__name__, {}))
    return failures


@parametrize_with_checks(list(_instances()), expected_failed_checks=_expected_failures)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_every_exported_estimator_is_checked():
    names = {name for name, _ in all_estimators()}
    assert {"PriorClassifier", "ControlAwareClassifier"} <= names
    assert set(EXPECTED_FAILURES) <= names, "expected failures listed for unknown estimators"
