"""Does pretraining on the non-scored targets help? Drug-aware CV with and without.

The 1st, 2nd and 3rd place pretrained their networks on the 402 non-scored
targets and fine-tuned them on the 206 scored ones. This script measures it on
``make_moa`` data (full size by default), whose non-scored signatures share
the programmes of related scored targets: the zoo model (winners' features,
control rule, quick settings) is cross-validated with drug-aware folds, once
as is and once with the non-scored matrix passed as ``<step>__Y_nonscored``,
over the same folds, for each data seed (the model seed is the data seed).
It prints, per data seed, how much of the non-scored label mass is related to
scored targets and how many non-scored targets pretraining actually uses per
fold, then the fold scores, the mean, the OOF score, the paired per-fold
difference (negative: pretraining helps), wall and CPU time of the fits.

Run::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_nonscored_pretraining.py --data-seeds 0
    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_nonscored_pretraining.py --data-seeds 1
    python benchmarks/bench_nonscored_pretraining.py --rows 3000 --folds 3 --data-seeds 0
    # the same without weight decay (the zoo's default is 1e-5):
    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_nonscored_pretraining.py --weight-decay 0
"""

import argparse
import time

import numpy as np

from sklearn_moa.datasets import make_moa
from sklearn_moa.datasets._synthetic import _relations
from sklearn_moa.model_selection import cross_validate_moa
from sklearn_moa.model_zoo import build_model

#: Pipeline step name of each zoo model's network.
STEPS = {"residual_nn": "residualnnclassifier", "deep_cnn": "deepcnnclassifier"}


def _network(fitted, step):
    """The network at the end of a fitted ControlAwareClassifier(Pipeline)."""
    return fitted.estimator_.named_steps[step]


def _n_pretrain_targets(network):
    return 0 if network.pretrain_targets_ is None else len(network.pretrain_targets_)


def describe_nonscored(data):
    """Print how the non-scored labels relate to the scored ones."""
    Yn = data.nonscored_targets
    weights, _, _ = _relations(list(Yn.columns), list(data.targets.columns))
    related = np.abs(weights).sum(axis=1) > 0
    positives = Yn.sum(axis=0).to_numpy()
    has_ns, has_scored = Yn.to_numpy().any(axis=1), data.targets.to_numpy().any(axis=1)
    print(f"  non-scored: {int((positives > 0).sum())} targets with a positive row, "
          f"{int((positives > 0)[related].sum())} of them related to scored targets "
          f"(their share of positive rows {positives[related].sum() / positives.sum():.2f}); "
          f"rows with a non-scored label {int(has_ns.sum())}, with both {int((has_ns & has_scored).sum())}; "
          f"targets with >= 6 positive rows {int((positives >= 6).sum())}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=23814)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--models", default="residual_nn")
    parser.add_argument("--data-seeds", default="0,1", help="make_moa seeds (the model seed follows)")
    parser.add_argument("--weight-decay", type=float, default=None,
                        help="the network's weight_decay (default: the zoo's)")
    args = parser.parse_args(argv)

    for data_seed in (int(s) for s in args.data_seeds.split(",")):
        data = make_moa(args.rows, n_test_samples=0, random_state=data_seed)
        print(f"make_moa({args.rows}, random_state={data_seed}); {args.folds}-fold drug-aware CV")
        describe_nonscored(data)
        for name in args.models.split(","):
            step = STEPS[name]
            scores = {}
            for pretrain in (False, True):
                fit_params = {f"{step}__Y_nonscored": data.nonscored_targets} if pretrain else None
                wall, cpu = time.perf_counter(), time.process_time()
                model = build_model(name, random_state=data_seed)
                if args.weight_decay is not None:
                    model.set_params(**{f"estimator__{step}__weight_decay": args.weight_decay})
                result = cross_validate_moa(
                    model, data.features, data.targets,
                    groups=data.drugs, cv=args.folds, fit_params=fit_params, random_state=0,
                    return_estimators=pretrain,
                )
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                scores[pretrain] = result.fold_log_loss
                folds = " ".join(f"{s:.5f}" for s in result.fold_log_loss)
                print(f"  {name} pretrain={'yes' if pretrain else 'no '} folds {folds}  "
                      f"mean {result.fold_log_loss_mean:.5f}  oof {result.oof_log_loss:.5f}  "
                      f"wall {wall:.0f} s  cpu {cpu:.0f} s", flush=True)
                if pretrain:
                    used = [_n_pretrain_targets(_network(est, step)) for est in result.estimators]
                    print(f"  non-scored targets used for pretraining per fold "
                          f"(pretrain_min_positives={_network(result.estimators[0], step).pretrain_min_positives}): "
                          f"{used}")
            diff = scores[True] - scores[False]
            print(f"  {name}: pretrained minus plain per fold: mean {diff.mean():+.5f}, "
                  f"min {diff.min():+.5f}, max {diff.max():+.5f}, better in {(diff < 0).sum()} of "
                  f"{len(diff)}", flush=True)


if __name__ == "__main__":
    main()
