"""Full-size fit time and holdout log loss of the logistic and SVM models.

Same protocol as ``bench_xgboost.py``: ``make_moa`` (23,814 rows by default),
control rows dropped, fold 0 of ``DrugMultilabelStratifiedKFold(5)`` held
out, features of the winners' preset (RankGauss + PCA + variance filter)
fitted on the training part. Prints, per model, fit seconds and the holdout
competition metric next to the prior baseline's.

Usage::

    OMP_NUM_THREADS=1 timeout 2400 python benchmarks/bench_classical.py --jobs 2
"""

import argparse
import time

from sklearn_moa.metrics import mean_columnwise_log_loss
from sklearn_moa.models import LogisticMoAClassifier, PriorClassifier, SVMMoAClassifier

from bench_xgboost import holdout, spread_targets


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=23814)
    parser.add_argument("--features", default="winners", help="make_moa_features preset")
    parser.add_argument("--jobs", type=int, default=2, help="targets fitted at a time")
    parser.add_argument("--models", default="prior,logistic,svm")
    parser.add_argument("--targets", type=int, default=0,
                        help="fit only this many targets spread over the prevalence range and "
                             "extrapolate the fit time linearly to all (0: all targets)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    X_train, Y_train, X_test, Y_test = holdout(args.samples, args.seed, args.features, {})
    n_targets = Y_train.shape[1]
    if args.targets:
        subset = spread_targets(Y_train, args.targets)
        Y_train, Y_test = Y_train[:, subset], Y_test[:, subset]
    models = {
        "prior": PriorClassifier(),
        "logistic": LogisticMoAClassifier(n_jobs=args.jobs, random_state=args.seed),
        "svm": SVMMoAClassifier(n_jobs=args.jobs, random_state=args.seed),
    }
    for name in args.models.split(","):
        model = models[name]
        start, cpu_start = time.perf_counter(), time.process_time()
        model.fit(X_train, Y_train)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        loss = mean_columnwise_log_loss(Y_test, model.predict_proba(X_test))
        scope = "" if not args.targets else (
            f" on {args.targets} of {n_targets} targets, EXTRAPOLATED linearly to {n_targets}: "
            f"{seconds * n_targets / args.targets:.0f} s wall "
            f"({cpu_seconds * n_targets / args.targets:.0f} s CPU)")
        print(f"{model!r}: fit {seconds:.1f} s wall ({cpu_seconds:.1f} s CPU, {args.jobs} threads)"
              f"{scope}, holdout log loss {loss:.5f} (those targets)", flush=True)


if __name__ == "__main__":
    main()
