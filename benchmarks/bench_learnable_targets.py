"""How much of a benchmark's gain over the prior can a model make? Targets split by their drugs.

Question: under drug-aware CV a target whose positives all sit on one drug
(or on none) has no positive row to learn from whenever that drug is held
out, so every model scores about what the prior scores on it. How many such
targets does a ``sklearn-moa benchmark`` run have, and what does each model
gain over the prior on the others?

Reads the folders written by ``sklearn-moa benchmark`` (their
``oof_predictions.npz`` and ``comparison.json``; one of them must hold the
``prior``), rebuilds the data they ran on (the recorded ``make_moa`` call, or
``--data DIR``) and prints, per model, the OOF log loss and its gain over the
prior on all targets, on the targets with positives on at least two drugs,
and the loss on the others.

Run::

    sklearn-moa benchmark --seed 0 --out runs/seed0
    python benchmarks/bench_learnable_targets.py runs/seed0
"""

import argparse
import types

import numpy as np

from sklearn_moa.cli._blend import _aligned_targets, _benchmark_data, _read_results
from sklearn_moa.metrics import columnwise_log_loss


def drugs_per_target(Y, drugs):
    """Number of distinct drugs among each target's positive rows."""
    return np.array([np.unique(drugs[Y[:, j] == 1]).size for j in range(Y.shape[1])])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="+", help="output folders of `sklearn-moa benchmark` on the same data")
    parser.add_argument("--data", default=None, help="the Kaggle folder the benchmark ran on, if not make_moa")
    args = parser.parse_args(argv)

    oof, first = {}, None
    for folder in args.folders:
        models, target_names, sig_id, run = _read_results(folder)
        if first is None:
            first = (folder, run.get("data"), sig_id)
        elif run.get("data") != first[1] or not np.array_equal(sig_id, first[2]):
            parser.error(f"{folder} ran on other data than {first[0]} ({run.get('data')} against {first[1]})")
        oof.update(models)
    if "prior" not in oof:
        parser.error("none of the folders holds the prior's OOF predictions (run the benchmark with it)")
    data = _benchmark_data(types.SimpleNamespace(data=args.data), run)
    Y = _aligned_targets(data, target_names, sig_id)
    drugs = data.drugs.loc[sig_id].to_numpy()
    learnable = drugs_per_target(Y, drugs) >= 2

    print(f"{run.get('data', args.data)}: {Y.shape[1]} targets; {learnable.sum()} with positives on >= 2 drugs, "
          f"{(~learnable).sum()} on one drug or none (nothing to learn from when their drug is held out)")
    losses = {name: columnwise_log_loss(Y, proba) for name, proba in oof.items()}
    prior = losses["prior"]
    print(f"{'model':16s} {'OOF':>8s} {'gain':>6s}   {'>=2 drugs':>9s} {'gain':>6s}   {'<=1 drug':>8s}")
    for name, loss in sorted(losses.items(), key=lambda item: item[1].mean()):
        print(f"{name:16s} {loss.mean():8.5f} {100 * (1 - loss.mean() / prior.mean()):5.1f}%"
              f"   {loss[learnable].mean():9.5f} {100 * (1 - loss[learnable].mean() / prior[learnable].mean()):5.1f}%"
              f"   {loss[~learnable].mean():8.5f}")


if __name__ == "__main__":
    main()
