"""The winners' blend and a stack of the same members, each against its best member, out of fold.

Cross-validates the members of ``winners_blend`` on the drug-aware folds of
``make_moa`` data exactly as ``sklearn-moa benchmark`` does (same data, folds
and models for a seed, so its ``--checkpoint-dir`` is reused and nothing is
refitted), then compares on the competition metric, per seed:

- each member's OOF log loss and summed fit time (wall seconds);
- the blend (:func:`~sklearn_moa.ensemble.optimize_blend_weights`, SLSQP on
  the simplex) and the stack (the meta-model of
  :class:`~sklearn_moa.ensemble.StackedMoAClassifier`: a logistic regression
  per target on the members' logits, at a few regularisation strengths
  ``--stack-C``, the default C=0.05 among them), both *cross-fitted*: the meta level
  applied to the rows of fold k was fitted on the OOF rows of the other folds
  only, so neither has seen the rows it is scored on. This is the honest
  figure without nesting a second cross-validation inside each fold (which
  would cost three times the member fits);
- the blend with weights fitted on all OOF rows (in-sample, what a Kaggle
  notebook reports, slightly optimistic);
- the correlation of the DeepInsight CNN's OOF predictions with the residual
  NN's: Pearson per target over the treated rows, averaged over targets with
  a positive (the 1st place reported 0.63-0.73 between their DeepInsight
  models and their NNs), and over all (row, target) pairs.

Usage (two seeds, each after ``sklearn-moa benchmark --models
residual_nn,deep_cnn,tabnet,deepinsight_cnn --seed S --checkpoint-dir
CKPT-S``, or from scratch)::

    OMP_NUM_THREADS=1 python benchmarks/bench_winners_blend.py --seeds 0,1 \\
        --checkpoint-dir /tmp/ens/ckpt-seed{seed}
"""

import argparse

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from bench_blend import cross_fitted_blend
from sklearn_moa.cli._data import training_data
from sklearn_moa.ensemble import blend_probabilities, optimize_blend_weights
from sklearn_moa.ensemble._stack import MetaModel, default_final_estimator, member_logits
from sklearn_moa.metrics import mean_columnwise_log_loss
from sklearn_moa.model_selection import compare_models
from sklearn_moa.model_zoo import WINNERS_BLEND_MEMBERS, build_model


def cross_fitted_stack(oof, Y, test_indices, final_estimator):
    """OOF predictions of the per-target stack whose meta-models never saw the fold they predict."""
    stacked = np.full(Y.shape, np.nan)
    for test in test_indices:
        train = np.setdiff1d(np.arange(len(Y)), test)
        meta = MetaModel(final_estimator, "per_target").fit(member_logits([p[train] for p in oof]), Y[train])
        stacked[test] = meta.predict_proba(member_logits([p[test] for p in oof]))
    return stacked


def per_target_correlation(a, b, Y, rows):
    """Mean over targets (with a positive) of Pearson's r between two OOF columns, on ``rows``."""
    values = []
    for t in np.flatnonzero(Y[rows].sum(axis=0) > 0):
        x, y = a[rows, t], b[rows, t]
        if x.std() > 0 and y.std() > 0:
            values.append(np.corrcoef(x, y)[0, 1])
    return float(np.mean(values))


def run_seed(seed, args):
    data = training_data(None, n_samples=args.samples, random_state=seed)
    Y = data.targets.to_numpy()
    names = args.members.split(",")
    models = {name: build_model(name, random_state=seed) for name in names}
    checkpoint = args.checkpoint_dir.format(seed=seed) if args.checkpoint_dir else None
    _, results = compare_models(
        models, data.features, data.targets, groups=data.drugs, cv=args.folds, random_state=seed,
        checkpoint_dir=checkpoint, return_results=True,
    )
    oof = [results[name].oof_predictions for name in names]
    test_indices = results[names[0]].test_indices
    rows = {name: {"OOF log loss": results[name].oof_log_loss,
                   "fit time (s)": float(results[name].fit_time.sum()),
                   "resumed folds": int(results[name].resumed.sum()) if results[name].resumed is not None else 0}
            for name in names}
    best = min(names, key=lambda n: results[n].oof_log_loss)

    blended, fold_weights = cross_fitted_blend(oof, Y, test_indices)
    stacks = {C: cross_fitted_stack(oof, Y, test_indices, LogisticRegression(C=C)) for C in args.stack_C}
    in_sample = blend_probabilities(oof, optimize_blend_weights(oof, Y))
    rows["blend (cross-fitted weights)"] = {"OOF log loss": mean_columnwise_log_loss(Y, blended)}
    default_C = default_final_estimator("per_target").C
    for C, stacked in stacks.items():
        label = f"stack (cross-fitted, per-target logistic C={C:g}{', the default' if C == default_C else ''})"
        rows[label] = {"OOF log loss": mean_columnwise_log_loss(Y, stacked)}
    rows["blend (weights fitted on all OOF rows)"] = {"OOF log loss": mean_columnwise_log_loss(Y, in_sample)}
    table = pd.DataFrame(rows).T
    table["vs best member"] = table["OOF log loss"] - results[best].oof_log_loss

    print(f"\n=== seed {seed}: make_moa({args.samples}), {args.folds}-fold drug-aware CV, quick settings")
    print(table.to_string(float_format=lambda v: f"{v:.5f}" if abs(v) < 1 else f"{v:.1f}"))
    print("blend weights per outer fold (" + ", ".join(names) + "):")
    print(np.array2string(fold_weights, precision=3, suppress_small=True))
    treated = (data.features["cp_type"] == "trt_cp").to_numpy()
    if "deepinsight_cnn" in names and "residual_nn" in names:
        a, b = results["deepinsight_cnn"].oof_predictions, results["residual_nn"].oof_predictions
        print(f"DeepInsight CNN vs residual NN, Pearson r of OOF predictions: per target "
              f"{per_target_correlation(a, b, Y, treated):.3f} (mean over targets, treated rows), "
              f"all entries {np.corrcoef(a[treated].ravel(), b[treated].ravel())[0, 1]:.3f}")
        if "deep_cnn" in names:
            c = results["deep_cnn"].oof_predictions
            print(f"  for comparison, deep CNN vs residual NN: per target "
                  f"{per_target_correlation(c, b, Y, treated):.3f}")
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", default=",".join(WINNERS_BLEND_MEMBERS))
    parser.add_argument("--samples", type=int, default=6000)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--stack-C", default="0.01,0.05,1",
                        type=lambda text: [float(c) for c in text.split(",")],
                        help="inverse regularisation of the stack's per-target logistic regressions")
    parser.add_argument("--checkpoint-dir", default=None,
                        help="resume finished folds; '{seed}' is replaced by the seed")
    args = parser.parse_args(argv)
    tables = [run_seed(int(seed), args) for seed in args.seeds.split(",")]
    if len(tables) > 1:
        mean = sum(t["OOF log loss"] for t in tables) / len(tables)
        print(f"\n=== mean over seeds {args.seeds}")
        print(mean.to_string(float_format=lambda v: f"{v:.5f}"))


if __name__ == "__main__":
    main()
