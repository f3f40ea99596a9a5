"""The 1st place's non-scored transfer models against the dense network, drug-aware OOF.

Five configurations of the zoo (winners' features, control rule), each
cross-validated with the same drug-aware folds on ``make_moa`` data:

- ``residual_nn``: the dense network, scored targets only;
- ``residual_nn+pretrain``: the same, pretrained on the non-scored targets;
- ``multistage_nn``: the 3-stage NN (its first stage learns the non-scored
  targets);
- ``two_head_resnet``, ``two_head_resnet+pretrain``: the two-head ResNet,
  without and with non-scored pretraining.

Every model whose ``fit`` takes drug ids gets them, as from the command
line: the 3-stage NN's inner folds and the early-stopping split keep drugs
whole.

Prints per configuration and seed the fold log losses, their mean, the OOF
log loss, the wall-clock seconds of the CV and the CPU seconds of this
process (all threads) during it. Folds run in series in this process.

Run::

    OMP_NUM_THREADS=2 timeout 3600 python benchmarks/bench_transfer_models.py --rows 6000 --folds 3
    OMP_NUM_THREADS=2 nice python benchmarks/bench_transfer_models.py --rows 23814 --folds 5 --full
"""

import argparse
import time

import numpy as np

from sklearn_moa.cli._zoo import drug_fit_params, nonscored_fit_params
from sklearn_moa.datasets import make_moa
from sklearn_moa.model_selection import cross_validate_moa
from sklearn_moa.model_zoo import build_model

#: name: (zoo model, pass the non-scored targets to fit)
CONFIGURATIONS = {
    "residual_nn": ("residual_nn", False),
    "residual_nn+pretrain": ("residual_nn", True),
    "multistage_nn": ("multistage_nn", True),
    "two_head_resnet": ("two_head_resnet", False),
    "two_head_resnet+pretrain": ("two_head_resnet", True),
}


def _fit_params(model, data, nonscored):
    """The non-scored targets where asked, and the drug ids for every model whose fit takes them.

    As the command line does (``drug_fit_params``): the 3-stage NN's inner
    folds and the early-stopping split of the two-head ResNet then keep
    drugs whole. Without them those splits are row-wise, and replicates of a
    training drug on the held-out side make the held-out loss keep falling.
    """
    params = dict(drug_fit_params(model, data.drugs))
    if nonscored:
        params.update(nonscored_fit_params(model, data.nonscored_targets))
    return params or None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=6000)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--models", default=",".join(CONFIGURATIONS))
    parser.add_argument("--seeds", default="0,1", help="model seeds (the folds stay the same)")
    parser.add_argument("--data-seed", type=int, default=0)
    parser.add_argument("--full", action="store_true", help="the zoo's full settings (the source's)")
    args = parser.parse_args(argv)

    data = make_moa(args.rows, n_test_samples=0, random_state=args.data_seed)
    n_informative = int((data.nonscored_targets.sum() > 0).sum())
    print(f"make_moa({args.rows}, random_state={args.data_seed}): {data.nonscored_targets.shape[1]} "
          f"non-scored targets, {n_informative} with a positive row; {args.folds}-fold drug-aware CV; "
          f"{'full' if args.full else 'quick'} settings")
    print(f"{'configuration':<22} {'seed':>4} {'fold log loss':<42} {'mean':>8} {'oof':>8} "
          f"{'wall s':>8} {'cpu s':>8}", flush=True)
    summary = {}
    for seed in (int(s) for s in args.seeds.split(",")):
        for name in args.models.split(","):
            zoo_name, nonscored = CONFIGURATIONS[name]
            model = build_model(zoo_name, full=args.full, random_state=seed)
            wall, cpu = time.perf_counter(), time.process_time()
            result = cross_validate_moa(
                model, data.features, data.targets, groups=data.drugs, cv=args.folds,
                fit_params=_fit_params(model, data, nonscored), random_state=0,
            )
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            summary.setdefault(name, []).append(result.oof_log_loss)
            folds = " ".join(f"{s:.5f}" for s in result.fold_log_loss)
            print(f"{name:<22} {seed:>4} {folds:<42} {result.fold_log_loss_mean:>8.5f} "
                  f"{result.oof_log_loss:>8.5f} {wall:>8.1f} {cpu:>8.1f}", flush=True)
    print("mean OOF log loss over seeds:")
    for name, losses in summary.items():
        print(f"  {name:<22} {np.mean(losses):.5f} ({len(losses)} seeds)")


if __name__ == "__main__":
    main()
