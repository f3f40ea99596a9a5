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

``--runs`` chooses the fits: ``plain`` (no pretraining), ``pretrain`` (the
real non-scored labels) and ``shuffled``, a control: pretraining on the
non-scored labels moved between drugs (each treated drug gets the label row
of another treated drug with the same number of rows, so every target keeps
its positive-row count but loses its link to the drug's signature). If
``pretrain`` is no better than ``shuffled``, the network does not transfer
the programmes the two label sets share; if it is better, what pretraining
costs is the procedure's, not the labels'.

Run::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_nonscored_pretraining.py --data-seeds 0
    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_nonscored_pretraining.py --data-seeds 1
    python benchmarks/bench_nonscored_pretraining.py --rows 3000 --folds 3 --data-seeds 0
    # the same without weight decay (the zoo's default is 1e-5):
    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_nonscored_pretraining.py --weight-decay 0
    # real against shuffled non-scored labels:
    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_nonscored_pretraining.py --weight-decay 0 \
        --data-seeds 0 --runs plain,pretrain,shuffled
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


def shuffle_between_drugs(Y_nonscored, drugs, treated, random_state):
    """The non-scored label rows of the treated drugs, permuted between drugs.

    Drugs are permuted among those with the same number of rows (drugs whose
    row count no other drug shares are permuted among themselves), so each
    target keeps its positive-row count as nearly as possible. Control rows
    keep their labels (none). Needs labels constant within a drug, as
    ``make_moa`` draws them.
    """
    Y = np.asarray(Y_nonscored)
    drugs = np.asarray(drugs)
    names, first, inverse, counts = np.unique(
        drugs, return_index=True, return_inverse=True, return_counts=True)
    if not (Y == Y[first][inverse]).all():
        raise ValueError("the non-scored labels differ between rows of one drug; "
                         "a shuffle between drugs needs them constant within a drug")
    drug_treated = np.zeros(len(names), dtype=bool)
    drug_treated[inverse[np.asarray(treated)]] = True
    shared = np.bincount(counts)[counts] > 1
    key = np.where(shared, counts, -1)
    rng = np.random.default_rng(random_state)
    source = np.arange(len(names))
    for k in np.unique(key[drug_treated]):
        members = np.flatnonzero(drug_treated & (key == k))
        source[members] = rng.permutation(members)
    shuffled = Y[first][source][inverse]
    kept = (Y * shuffled).sum() / max(Y.sum(), 1)
    print(f"  shuffled non-scored labels: {int((source != np.arange(len(names)))[drug_treated].sum())} of "
          f"{int(drug_treated.sum())} treated drugs take another drug's row; positive rows "
          f"{int(Y.sum())} -> {int(shuffled.sum())}; share left on the same rows {kept:.3f}")
    return type(Y_nonscored)(shuffled, index=Y_nonscored.index, columns=Y_nonscored.columns)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=23814)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--models", default="residual_nn")
    parser.add_argument("--data-seeds", default="0,1", help="make_moa seeds (the model seed follows)")
    parser.add_argument("--weight-decay", type=float, default=None,
                        help="the network's weight_decay (default: the zoo's)")
    parser.add_argument("--runs", default="plain,pretrain",
                        help="comma-separated fits: plain, pretrain (real non-scored labels), "
                             "shuffled (non-scored labels permuted between drugs)")
    args = parser.parse_args(argv)
    runs = args.runs.split(",")
    unknown = set(runs) - {"plain", "pretrain", "shuffled"}
    if unknown:
        parser.error(f"unknown --runs {sorted(unknown)}; choose from plain, pretrain, shuffled")

    for data_seed in (int(s) for s in args.data_seeds.split(",")):
        data = make_moa(args.rows, n_test_samples=0, random_state=data_seed)
        print(f"make_moa({args.rows}, random_state={data_seed}); {args.folds}-fold drug-aware CV")
        describe_nonscored(data)
        labels = {"plain": None, "pretrain": data.nonscored_targets}
        if "shuffled" in runs:
            labels["shuffled"] = shuffle_between_drugs(
                data.nonscored_targets, data.drugs, data.features["cp_type"] == "trt_cp", data_seed)
        for name in args.models.split(","):
            step = STEPS[name]
            scores = {}
            for run in runs:
                pretrain = labels[run] is not None
                fit_params = {f"{step}__Y_nonscored": labels[run]} if pretrain else None
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
                scores[run] = result.fold_log_loss
                folds = " ".join(f"{s:.5f}" for s in result.fold_log_loss)
                print(f"  {name} {run:<8} folds {folds}  "
                      f"mean {result.fold_log_loss_mean:.5f}  oof {result.oof_log_loss:.5f}  "
                      f"wall {wall:.0f} s  cpu {cpu:.0f} s", flush=True)
                if pretrain:
                    used = [_n_pretrain_targets(_network(est, step)) for est in result.estimators]
                    print(f"  non-scored targets used for pretraining per fold "
                          f"(pretrain_min_positives={_network(result.estimators[0], step).pretrain_min_positives}): "
                          f"{used}")
            for run, baseline in (("pretrain", "plain"), ("shuffled", "plain"), ("pretrain", "shuffled")):
                if run in scores and baseline in scores:
                    diff = scores[run] - scores[baseline]
                    print(f"  {name}: {run} minus {baseline} per fold: mean {diff.mean():+.5f}, "
                          f"min {diff.min():+.5f}, max {diff.max():+.5f}, lower in {(diff < 0).sum()} of "
                          f"{len(diff)}", flush=True)


if __name__ == "__main__":
    main()
