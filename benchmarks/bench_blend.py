"""Does an optimised blend of model families beat its best member out of fold?

Cross-validates the chosen model-zoo models on the same drug-aware folds of
``make_moa`` data (resumable: ``--checkpoint-dir``), then compares, on the
competition metric:

- each member's OOF log loss;
- the plain mean of the members;
- the optimised blend with weights fitted on all OOF rows (in-sample: slightly
  optimistic, this is what a Kaggle notebook reports);
- the optimised blend with *cross-fitted* weights: the weights applied to the
  rows of fold k were learnt on the OOF rows of the other folds only. This is
  the honest figure; it needs no retraining.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_blend.py --samples 3000 --folds 3 \\
        --models residual_nn,deep_cnn,tabnet,prior --checkpoint-dir /tmp/blend_ckpt

``--seed-average N`` wraps every member in ``SeedAveragedClassifier`` (N seeds);
run with and without it on the same ``--checkpoint-dir`` to compare single
seeds with averaged ones (each setting keeps its own resumable folds).
"""

import argparse
import time

import numpy as np
import pandas as pd

from sklearn_moa.datasets import make_moa
from sklearn_moa.ensemble import SeedAveragedClassifier, blend_probabilities, optimize_blend_weights
from sklearn_moa.metrics import mean_columnwise_log_loss
from sklearn_moa.model_selection import compare_models
from sklearn_moa.model_zoo import MODEL_ZOO, build_model


def cross_fitted_blend(oof, Y, test_indices):
    """OOF predictions of the blend whose weights never saw the fold they predict."""
    blended = np.full(Y.shape, np.nan)
    weights = []
    for test in test_indices:
        train = np.setdiff1d(np.arange(len(Y)), test)
        w = optimize_blend_weights([p[train] for p in oof], Y[train])
        blended[test] = blend_probabilities([p[test] for p in oof], w)
        weights.append(w)
    return blended, np.array(weights)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="comma-separated zoo names (default: every available one)")
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--checkpoint-dir", default=None, help="resume finished folds from here")
    parser.add_argument("--seed-average", type=int, default=1, metavar="N",
                        help="average each member over N seeds (SeedAveragedClassifier)")
    args = parser.parse_args(argv)

    names = args.models.split(",") if args.models else [
        name for name, spec in MODEL_ZOO.items() if spec.available()
    ]
    data = make_moa(args.samples, random_state=args.seed)
    Y = data.targets.to_numpy()
    models = {name: build_model(name, random_state=args.seed) for name in names}
    if args.seed_average > 1:
        models = {
            name: SeedAveragedClassifier(model, seeds=args.seed_average, random_state=args.seed)
            for name, model in models.items()
        }
    print(f"make_moa({args.samples}), {args.folds} drug-aware folds, models: {', '.join(names)}"
          + (f", each averaged over {args.seed_average} seeds" if args.seed_average > 1 else ""))
    start = time.perf_counter()
    table, results = compare_models(
        models, data.features, data.targets, groups=data.drugs, cv=args.folds, n_jobs=args.jobs,
        random_state=args.seed, checkpoint_dir=args.checkpoint_dir, return_results=True,
        threads_per_fold=1 if args.jobs not in (None, 1) else None,
    )
    print(f"cross-validation: {time.perf_counter() - start:.1f} s")
    oof = [results[name].oof_predictions for name in names]
    test_indices = results[names[0]].test_indices

    start = time.perf_counter()
    weights = optimize_blend_weights(oof, Y)
    optimise_time = time.perf_counter() - start
    cross_fitted, fold_weights = cross_fitted_blend(oof, Y, test_indices)
    rows = {name: results[name].oof_log_loss for name in names}
    rows["blend: mean of members"] = mean_columnwise_log_loss(Y, blend_probabilities(oof))
    rows["blend: optimised (in-sample weights)"] = mean_columnwise_log_loss(
        Y, blend_probabilities(oof, weights)
    )
    rows["blend: optimised (cross-fitted weights)"] = mean_columnwise_log_loss(Y, cross_fitted)
    scores = pd.Series(rows, name="oof_log_loss")
    best = min(results[name].oof_log_loss for name in names)
    with pd.option_context("display.float_format", "{:.6f}".format, "display.width", 120):
        print(table[["oof_log_loss", "fold_log_loss_std", "fit_time_s"]].to_string())
        print()
        print(scores.to_string())
        print()
        print(pd.DataFrame(fold_weights, columns=names, index=[
            f"weights fold {k}" for k in range(len(test_indices))
        ]).to_string())
    print("in-sample weights: " + ", ".join(f"{n}={w:.3f}" for n, w in zip(names, weights)))
    print(f"weight optimisation: {optimise_time:.2f} s")
    gain = best - rows["blend: optimised (cross-fitted weights)"]
    print(f"best member {best:.6f}; cross-fitted blend {rows['blend: optimised (cross-fitted weights)']:.6f}; "
          f"gain {gain:+.6f} ({100 * gain / best:+.2f} %)")


if __name__ == "__main__":
    main()
