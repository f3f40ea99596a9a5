"""XGBMoAClassifier against MultiOutputClassifier(XGBClassifier) with the same tree settings.

Full-size synthetic data (``make_moa``: 23,814 rows), control rows dropped
(as ControlAwareClassifier does), one drug-aware holdout split (fold 0 of
``DrugMultilabelStratifiedKFold(5)``), the seed's TabNet feature set
(``make_moa_features("tabnet")``, fitted on the training part and shared by
both models). Prints fit seconds of both, their ratio, and the holdout log
loss (competition metric) of both on the same targets.

The naive baseline fits one ``XGBClassifier`` per target, each quantising the
features again and growing all ``n_estimators`` trees. On 2 cores it would
take hours for 206 targets, so by default it is timed on a subset of targets
spread over the prevalence range and its time is extrapolated linearly to all
targets; the output says so.

``--native`` also times XGBoost's own multi-label ``XGBClassifier`` on all
targets (``multi_strategy="one_output_per_tree"`` and ``"multi_output_tree"``)
with two small tree counts, extrapolated linearly to ``n_estimators``.

Both wall and CPU seconds are printed. XGBoost caps its OpenMP threads at
``OMP_NUM_THREADS``, so under ``OMP_NUM_THREADS=1`` the baseline's
``n_jobs=2`` runs one thread while ``XGBMoAClassifier`` still spreads targets
over ``--jobs`` Python threads: compare CPU seconds then (or unset the
variable on an idle machine for the wall-clock comparison).

Usage::

    OMP_NUM_THREADS=1 timeout 3000 python benchmarks/bench_xgboost.py --baseline-targets 8
"""

import argparse
import time

import numpy as np
from scipy.special import xlogy

from sklearn_moa.datasets import make_moa
from sklearn_moa.metrics import mean_columnwise_log_loss
from sklearn_moa.model_selection import DrugMultilabelStratifiedKFold
from sklearn_moa.models import XGBMoAClassifier
from sklearn_moa.preprocessing import make_moa_features


def holdout(n_samples, seed, features_preset, overrides):
    """Treated rows, a drug-aware train/holdout split and the preset's features."""
    data = make_moa(n_samples, n_test_samples=0, random_state=seed)
    treated = (data.features.cp_type == "trt_cp").to_numpy()
    X, Y, drugs = data.features[treated], data.targets.to_numpy()[treated], data.drugs[treated]
    train, test = next(DrugMultilabelStratifiedKFold(5, random_state=seed).split(X, Y, drugs))
    start = time.perf_counter()
    features = make_moa_features(features_preset, random_state=seed, **overrides)
    X_train = np.asarray(features.fit_transform(X.iloc[train]), dtype=np.float32)
    X_test = np.asarray(features.transform(X.iloc[test]), dtype=np.float32)
    print(f"features {features_preset!r}: {X_train.shape[1]} columns, "
          f"fitted in {time.perf_counter() - start:.1f} s; train {len(train)} rows, "
          f"holdout {len(test)} rows (drug-aware), {Y.shape[1]} targets")
    return X_train, Y[train], X_test, Y[test]


def column_log_loss(y, p, eps=1e-15):
    p = np.clip(p, eps, 1 - eps)
    return -np.mean(xlogy(y, p) + xlogy(1 - y, 1 - p), axis=0)


def spread_targets(Y, k):
    """``k`` targets spread evenly over the training prevalence range."""
    order = np.argsort(Y.sum(axis=0), kind="stable")
    return np.sort(order[np.linspace(0, len(order) - 1, k).round().astype(int)])


def naive_baseline(X_train, Y_train, X_test, tree_settings, n_jobs, seed):
    """``MultiOutputClassifier(XGBClassifier)``: wall and CPU fit seconds, probabilities."""
    from sklearn.multioutput import MultiOutputClassifier
    from xgboost import XGBClassifier

    model = MultiOutputClassifier(XGBClassifier(**tree_settings, tree_method="hist", n_jobs=n_jobs,
                                                random_state=seed))
    start, cpu_start = time.perf_counter(), time.process_time()
    model.fit(X_train, Y_train)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    proba = np.column_stack([
        p[:, list(est.classes_).index(1)] if 1 in est.classes_ else np.zeros(len(X_test))
        for p, est in zip(model.predict_proba(X_test), model.estimators_)
    ])
    return seconds, cpu_seconds, proba


def native_multilabel(X_train, Y_train, tree_settings, n_jobs, seed, strategy, counts):
    """Seconds of XGBoost's own multi-label classifier, extrapolated from two tree counts."""
    from xgboost import XGBClassifier

    seconds = []
    for n in counts:
        params = {**tree_settings, "n_estimators": n}
        model = XGBClassifier(**params, tree_method="hist", multi_strategy=strategy, n_jobs=n_jobs,
                              random_state=seed)
        start = time.perf_counter()
        model.fit(X_train, Y_train)
        seconds.append(time.perf_counter() - start)
    per_tree = (seconds[1] - seconds[0]) / (counts[1] - counts[0])
    fixed = max(seconds[0] - per_tree * counts[0], 0.0)
    return seconds, fixed + per_tree * tree_settings["n_estimators"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=23814)
    parser.add_argument("--features", default="tabnet", help="make_moa_features preset")
    parser.add_argument("--n-estimators", type=int, default=200)
    parser.add_argument("--max-depth", type=int, default=3)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--early-stopping-rounds", type=int, default=None,
                        help="default: the estimator's")
    parser.add_argument("--jobs", type=int, default=2, help="threads for both models")
    parser.add_argument("--baseline-targets", type=int, default=8,
                        help="targets the naive baseline is timed on (0: all)")
    parser.add_argument("--native", action="store_true", help="also time XGBoost's multi-label modes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    X_train, Y_train, X_test, Y_test = holdout(args.samples, args.seed, args.features, {})
    n_targets = Y_train.shape[1]
    tree_settings = dict(n_estimators=args.n_estimators, max_depth=args.max_depth,
                         learning_rate=args.learning_rate, subsample=0.8, colsample_bytree=0.6,
                         min_child_weight=1.0, max_bin=256)
    print("tree settings (both models):", tree_settings)

    ours = XGBMoAClassifier(**tree_settings, n_jobs=args.jobs, random_state=args.seed)
    if args.early_stopping_rounds is not None:
        ours.set_params(early_stopping_rounds=args.early_stopping_rounds)
    print("XGBMoAClassifier early stopping:", ours.get_params()["early_stopping_rounds"],
          "rounds, validation_fraction", ours.validation_fraction)
    start, cpu_start = time.perf_counter(), time.process_time()
    ours.fit(X_train, Y_train)
    ours_seconds, ours_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    ours_proba = ours.predict_proba(X_test)
    trees = ours.n_estimators_[~ours.constant_targets_]
    print(f"XGBMoAClassifier: fit {ours_seconds:.1f} s wall ({ours_cpu:.1f} s CPU) "
          f"on all {n_targets} targets "
          f"({int(ours.constant_targets_.sum())} constant in training); trees per target after early "
          f"stopping: median {np.median(trees):.0f}, mean {trees.mean():.1f}, max {trees.max()}; "
          f"holdout log loss {mean_columnwise_log_loss(Y_test, ours_proba):.5f}")

    subset = np.arange(n_targets) if args.baseline_targets in (0, n_targets) else spread_targets(
        Y_train, args.baseline_targets)
    base_seconds, base_cpu, base_proba = naive_baseline(
        X_train, Y_train[:, subset], X_test, tree_settings, args.jobs, args.seed)
    scale = n_targets / len(subset)
    extrapolated, extrapolated_cpu = base_seconds * scale, base_cpu * scale
    note = "" if len(subset) == n_targets else (
        f" on {len(subset)} of {n_targets} targets (spread over the prevalence range), "
        f"EXTRAPOLATED linearly to {n_targets} targets: {extrapolated:.0f} s wall "
        f"({extrapolated_cpu:.0f} s CPU)")
    print(f"MultiOutputClassifier(XGBClassifier): fit {base_seconds:.1f} s wall "
          f"({base_cpu:.1f} s CPU){note}")
    ours_subset = column_log_loss(Y_test[:, subset], ours_proba[:, subset]).mean()
    base_subset = column_log_loss(Y_test[:, subset], base_proba).mean()
    print(f"holdout log loss on those {len(subset)} targets: XGBMoAClassifier {ours_subset:.5f}, "
          f"MultiOutputClassifier(XGBClassifier) {base_subset:.5f} "
          f"(baseline clipped like ours: "
          f"{column_log_loss(Y_test[:, subset], np.clip(base_proba, 1e-7, 1 - 1e-7)).mean():.5f})")
    print(f"speed-up (baseline fit time / XGBMoAClassifier fit time, {args.jobs} threads each): "
          f"{extrapolated / ours_seconds:.1f}x wall, {extrapolated_cpu / ours_cpu:.1f}x CPU")

    if args.native:
        for strategy in ("one_output_per_tree", "multi_output_tree"):
            counts = (2, 4)
            seconds, estimate = native_multilabel(X_train, Y_train, tree_settings, args.jobs,
                                                  args.seed, strategy, counts)
            print(f"XGBClassifier(multi_strategy={strategy!r}) on all {n_targets} targets: "
                  f"{counts[0]} trees {seconds[0]:.1f} s, {counts[1]} trees {seconds[1]:.1f} s, "
                  f"EXTRAPOLATED to {args.n_estimators} trees: {estimate:.0f} s "
                  f"({estimate / ours_seconds:.1f}x XGBMoAClassifier)")


if __name__ == "__main__":
    main()
