"""Folds, model comparisons and grid searches spread over a real (local) Dask cluster.

The cluster listens on the loopback interface only, has two worker processes
with one thread each, and is closed at the end of the module.
"""

import os

import joblib
import numpy as np
import pytest
from sklearn.compose import make_column_transformer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info

from sklearn_moa.datasets import make_moa
from sklearn_moa.metrics import moa_log_loss_scorer
from sklearn_moa.model_selection import (
    DrugMultilabelStratifiedKFold,
    compare_models,
    cross_validate_moa,
    thread_budget,
    worker_thread_env,
)
from sklearn_moa.models import ControlAwareClassifier, PriorClassifier

distributed = pytest.importorskip("distributed")


class WorkerProbe(PriorClassifier):
    """A prior that records where it was fitted and under which thread budget."""

    def fit(self, X, Y, **fit_params):
        super().fit(X, Y, **fit_params)
        self.pid_ = os.getpid()
        self.pool_threads_ = sorted({pool["num_threads"] for pool in threadpool_info()})
        self.tf_threads_env_ = os.environ.get("TF_NUM_INTRAOP_THREADS")
        return self


def _model(**params):
    features = make_column_transformer((StandardScaler(), ["g-0", "g-1", "c-0"]))
    return ControlAwareClassifier(make_pipeline(features, PriorClassifier(**params)))


@pytest.fixture(scope="module")
def data():
    return make_moa(600, random_state=0)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as local_cluster, distributed.Client(local_cluster) as client:
        yield client
    assert local_cluster.status.name == "closed"


def test_folds_on_dask_match_serial_and_run_in_workers(data, cluster):
    X = data.features.filter(like="c-")
    serial = cross_validate_moa(PriorClassifier(), X, data.targets, groups=data.drugs, cv=4)
    with joblib.parallel_config(backend="dask"):
        spread = cross_validate_moa(
            WorkerProbe(), X, data.targets, groups=data.drugs, cv=4, n_jobs=-1,
            return_estimators=True, threads_per_fold=1,
        )
    np.testing.assert_allclose(spread.fold_log_loss, serial.fold_log_loss, rtol=1e-12)
    np.testing.assert_allclose(spread.oof_predictions, serial.oof_predictions, rtol=1e-12)
    worker_pids = set(cluster.run(os.getpid).values())
    assert {model.pid_ for model in spread.estimators} <= worker_pids
    assert os.getpid() not in worker_pids
    # The thread budget was applied inside the workers.
    assert all(model.pool_threads_ == [1] for model in spread.estimators)
    assert all(model.tf_threads_env_ == "1" for model in spread.estimators)


def test_compare_models_and_checkpoint_on_dask(data, cluster, tmp_path):
    models = {"prior": _model(), "smooth": _model(smoothing=5.0)}
    serial = compare_models(models, data.features, data.targets, groups=data.drugs, cv=3)
    with joblib.parallel_config(backend="dask"):
        spread, results = compare_models(
            models, data.features, data.targets, groups=data.drugs, cv=3, n_jobs=-1,
            checkpoint_dir=tmp_path, return_results=True,
        )
    np.testing.assert_allclose(
        spread.loc[serial.index, "oof_log_loss"], serial["oof_log_loss"], rtol=1e-12
    )
    # Results come back to this process, which writes the checkpoint.
    assert len(list(tmp_path.glob("*/fold-*.json"))) == 6
    assert not results["prior"].resumed.any()


def test_grid_search_on_dask_matches_serial(data, cluster):
    cv = DrugMultilabelStratifiedKFold(3, random_state=0)
    grid = {"estimator__priorclassifier__smoothing": [0.01, 50.0]}

    def search():
        return GridSearchCV(_model(), grid, scoring=moa_log_loss_scorer, cv=cv, n_jobs=-1).fit(
            data.features, data.targets, groups=data.drugs
        )

    serial = search()
    with joblib.parallel_config(backend="dask"):
        spread = search()
    assert spread.best_params_ == serial.best_params_
    np.testing.assert_allclose(
        spread.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"], rtol=1e-12
    )


def test_thread_budget_limits_and_restores():
    before = {pool["internal_api"]: pool["num_threads"] for pool in threadpool_info()}
    previous_env = os.environ.get("TF_NUM_INTRAOP_THREADS")
    with thread_budget(1):
        assert {pool["num_threads"] for pool in threadpool_info()} == {1}
        assert os.environ["TF_NUM_INTRAOP_THREADS"] == "1"
    assert {pool["internal_api"]: pool["num_threads"] for pool in threadpool_info()} == before
    assert os.environ.get("TF_NUM_INTRAOP_THREADS") == previous_env
    with pytest.raises(ValueError, match="integer >= 1"):
        with thread_budget(0):
            pass
    env = worker_thread_env(3)
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == env["TF_NUM_INTRAOP_THREADS"] == "3"


def test_backend_without_result_generators(data, tmp_path):
    """joblib's "multiprocessing" backend cannot stream results: folds still run and are saved."""
    X = data.features.filter(like="c-")
    serial = cross_validate_moa(PriorClassifier(), X, data.targets, groups=data.drugs, cv=3)
    with joblib.parallel_config(backend="multiprocessing"):
        spread = cross_validate_moa(PriorClassifier(), X, data.targets, groups=data.drugs, cv=3,
                                    n_jobs=2, checkpoint_dir=tmp_path)
    np.testing.assert_allclose(spread.oof_predictions, serial.oof_predictions)
    assert len(list(tmp_path.glob("*/fold-*.json"))) == 3
