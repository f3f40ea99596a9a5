"""scikit-learn's common estimator checks over every estimator the package exports."""

import pytest
from sklearn.base import is_classifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_moa.models import MoAClassifierBase
from sklearn_moa.utils._optional import MissingOptionalDependency
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
    try:
        check(estimator)
    except MissingOptionalDependency as exc:
        # Only a framework that is not installed skips; any other ImportError fails.
        pytest.skip(str(exc))


def test_every_exported_estimator_is_checked():
    names = {name for name, _ in all_estimators()}
    assert {"PriorClassifier", "ControlAwareClassifier"} <= names
    assert set(EXPECTED_FAILURES) <= names, "expected failures listed for unknown estimators"


def test_a_broken_import_fails_discovery(monkeypatch):
    """A package that cannot be imported is an error, not silently fewer checked estimators."""
    import importlib

    real_import = importlib.import_module

    def broken(name, *args):
        if name == "sklearn_moa.ensemble":
            raise ImportError("cannot import name 'Missing' from 'sklearn_moa.models'")
        return real_import(name, *args)

    monkeypatch.setattr(importlib, "import_module", broken)
    with pytest.raises(ImportError, match="Missing"):
        all_estimators()


def test_only_a_missing_framework_is_a_skip():
    from sklearn_moa.utils._optional import import_optional

    with pytest.raises(MissingOptionalDependency, match=r"pip install 'sklearn-moa\[nothing\]'"):
        import_optional("sklearn_moa_no_such_module", "nothing", "SomeClassifier")
    assert not issubclass(ImportError, MissingOptionalDependency)


_CONSTRAINTS_PENDING = set()


def _cases(pending, reason):
    return [
        pytest.param(name, id=name, marks=pytest.mark.xfail(strict=True, reason=reason) if name in pending else ())
        for name, _ in all_estimators()
    ]


@pytest.mark.parametrize("name", _cases(_CONSTRAINTS_PENDING, "constraints come with the base's fit lifecycle"))
def test_every_constructor_parameter_has_a_constraint(name):
    """As scikit-learn's test_common: _parameter_constraints names exactly the parameters."""
    estimator = dict(all_estimators())[name](**FAST_PARAMS[name])
    params = set(estimator.get_params(deep=False))
    constrained = set(getattr(estimator, "_parameter_constraints", {}))
    assert params == constrained, (
        f"{name}: missing constraints {sorted(params - constrained)}, "
        f"constraints of no parameter {sorted(constrained - params)}"
    )


_VALIDATION_PENDING = set()


@pytest.mark.parametrize("name", _cases(_VALIDATION_PENDING, "validation comes with the base's _fit_context"))
def test_bad_parameter_values_are_rejected_by_fit(name):
    """scikit-learn's check_param_validation: a wrong type or a value outside the
    constraint raises InvalidParameterError naming the parameter."""
    from sklearn.utils.estimator_checks import check_param_validation

    estimator = dict(all_estimators())[name](**FAST_PARAMS[name])
    try:
        check_param_validation(name, estimator)
    except MissingOptionalDependency as exc:
        pytest.skip(str(exc))
