"""Trees grown and holdout log loss of XGBMoAClassifier for each early-stopping patience.

One fit with a long patience records every target's held-out loss curve
(``validation_loss_``); replaying early stopping on those curves gives, for
each shorter patience, the round each target would stop at, the trees it
would keep and so the holdout log loss, without refitting. A target stopped
with patience ``p`` keeps a prefix of the trees kept with the long patience,
so the long fit holds every tree the replay needs.

Same data as ``bench_xgboost.py`` (full-size ``make_moa``, control rows
dropped, fold 0 of ``DrugMultilabelStratifiedKFold(5)`` held out, the TabNet
feature preset). Use a ``--seed`` other than the speed benchmark's to choose
the patience on a split that the speed benchmark does not score. The CPU
seconds per patience are an estimate: the long fit's CPU seconds scaled by
the share of rounds grown.

Usage::

    OMP_NUM_THREADS=1 timeout 1800 python benchmarks/bench_xgboost_patience.py --seed 1
"""

import argparse
import time

import numpy as np

from sklearn_moa.metrics import mean_columnwise_log_loss
from sklearn_moa.models import XGBMoAClassifier
from sklearn_moa.models._base import PROBA_EPS

from bench_xgboost import holdout


def replay_early_stopping(curve, patience):
    """(rounds grown, rounds kept) of early stopping with ``patience`` on a held-out loss curve."""
    best = 0
    for i in range(1, len(curve)):
        if curve[i] < curve[best]:
            best = i
        elif i - best >= patience:
            return i + 1, best + 1
    return len(curve), best + 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=23814)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-patience", type=int, default=30)
    parser.add_argument("--patience", default="3,4,5,6,7,8,10,15,20")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)

    X_train, Y_train, X_test, Y_test = holdout(args.samples, args.seed, "tabnet", {})
    model = XGBMoAClassifier(early_stopping_rounds=args.max_patience, n_jobs=args.jobs,
                             random_state=args.seed)
    start, cpu_start = time.perf_counter(), time.process_time()
    model.fit(X_train, Y_train)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    curves = model.validation_loss_
    grown_long = sum(len(c) if c is not None else n for c, n in
                     zip(curves, model.n_estimators_[~model.constant_targets_]))
    print(f"fit with patience {args.max_patience}: {seconds:.0f} s wall ({cpu_seconds:.0f} s CPU), "
          f"{grown_long} rounds grown over {len(curves)} boosted targets "
          f"({int(model.constant_targets_.sum())} constant)")

    boosted = np.flatnonzero(~model.constant_targets_)
    proba = model.predict_proba(X_test)  # constant targets keep these columns
    print(f"holdout log loss of that fit: {mean_columnwise_log_loss(Y_test, proba):.5f} "
          f"(the replay's last row must match it)")
    print(f"{'patience':>8} {'rounds grown':>12} {'per target':>10} {'est. CPU s':>10} "
          f"{'holdout log loss':>16}")
    for patience in [int(p) for p in args.patience.split(",")] + [args.max_patience]:
        grown = 0
        for column, booster, curve in zip(boosted, model.boosters_, curves):
            n_grown, n_kept = ((booster.num_boosted_rounds(),) * 2 if curve is None
                               else replay_early_stopping(curve, patience))
            grown += n_grown
            proba[:, column] = np.clip(booster.inplace_predict(X_test, iteration_range=(0, n_kept)),
                                       PROBA_EPS, 1 - PROBA_EPS)
        print(f"{patience:>8} {grown:>12} {grown / len(boosted):>10.1f} "
              f"{cpu_seconds * grown / grown_long:>10.0f} "
              f"{mean_columnwise_log_loss(Y_test, proba):>16.5f}", flush=True)


if __name__ == "__main__":
    main()
