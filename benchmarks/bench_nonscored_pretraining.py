"""Does pretraining on the non-scored targets help? Drug-aware CV with and without.

The 1st, 2nd and 3rd place pretrained their networks on the 402 non-scored
targets and fine-tuned them on the 206 scored ones. This script measures it on
``make_moa`` data: the zoo model (winners' features, control rule, quick
settings) is cross-validated with drug-aware folds, once as is and once with
the non-scored matrix passed as ``<step>__Y_nonscored``, over the same folds
and the same seeds. It prints the fold scores, the mean, the OOF score, the
paired per-fold difference (negative: pretraining helps) and the fit time.

Run::

    OMP_NUM_THREADS=1 timeout 1800 python benchmarks/bench_nonscored_pretraining.py
    python benchmarks/bench_nonscored_pretraining.py --rows 3000 --models residual_nn --seeds 0
"""

import argparse

import numpy as np

from sklearn_moa.datasets import make_moa
from sklearn_moa.model_selection import cross_validate_moa
from sklearn_moa.model_zoo import build_model

#: Pipeline step name of each zoo model's network.
STEPS = {"residual_nn": "residualnnclassifier", "deep_cnn": "deepcnnclassifier"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=6000)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--models", default="residual_nn,deep_cnn")
    parser.add_argument("--seeds", default="0,1", help="model seeds (the folds stay the same)")
    parser.add_argument("--data-seed", type=int, default=0)
    args = parser.parse_args(argv)

    data = make_moa(args.rows, n_test_samples=0, random_state=args.data_seed)
    n_informative = int((data.nonscored_targets.sum() > 0).sum())
    print(f"make_moa({args.rows}, random_state={args.data_seed}): {data.nonscored_targets.shape[1]} "
          f"non-scored targets, {n_informative} with a positive row; {args.folds}-fold drug-aware CV")
    print(f"{'model':<12} {'seed':>4} {'pretrain':>8} {'fold log loss':<32} {'mean':>8} {'oof':>8} {'fit s':>7}")
    for name in args.models.split(","):
        step = STEPS[name]
        differences = []
        for seed in (int(s) for s in args.seeds.split(",")):
            scores = {}
            for pretrain in (False, True):
                fit_params = {f"{step}__Y_nonscored": data.nonscored_targets} if pretrain else None
                result = cross_validate_moa(
                    build_model(name, random_state=seed), data.features, data.targets,
                    groups=data.drugs, cv=args.folds, fit_params=fit_params, random_state=0,
                )
                scores[pretrain] = result.fold_log_loss
                folds = " ".join(f"{s:.5f}" for s in result.fold_log_loss)
                print(f"{name:<12} {seed:>4} {'yes' if pretrain else 'no':>8} {folds:<32} "
                      f"{result.fold_log_loss_mean:>8.5f} {result.oof_log_loss:>8.5f} "
                      f"{np.sum(result.fit_time):>7.1f}", flush=True)
            differences.extend(scores[True] - scores[False])
        differences = np.array(differences)
        print(f"{name}: pretrained minus plain, per fold and seed: mean {differences.mean():+.5f}, "
              f"min {differences.min():+.5f}, max {differences.max():+.5f}, "
              f"better in {(differences < 0).sum()} of {len(differences)}")


if __name__ == "__main__":
    main()
