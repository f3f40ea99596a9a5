"""TabM against the winners' networks: OOF log loss, fit time and peak memory, side by side.

Question: on MoA-shaped data, does TabM (``TabMClassifier``, zoo entry
``tabm``) beat the winners' dense network (``residual_nn``) and the
2nd-place 1D-CNN (``deep_cnn``), and at what cost?

Every model is the zoo's (winners' features, control rule; quick settings,
or ``--full``), cross-validated with drug-aware folds on ``make_moa`` data,
the same folds for every model and seed. Each (model, seed) runs in a fresh
subprocess that records its peak resident memory (``ru_maxrss``), so one
model's peak does not hide another's. ``--only-fold`` fits a single fold
(its log loss stands in for the OOF loss) when a whole CV does not fit the
time there is: the full-size figures are then an extrapolation, and the
script says so.

Run::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_tabm.py                 # 6,000 rows, 3 folds, quick
    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_tabm.py --rows 23814 --folds 5 --full \\
        --seeds 0 --only-fold 0 --epochs 2        # seconds per epoch at full size

Columns: log loss (OOF, or the fold's), fold losses, summed fit seconds
(wall clock; on a shared machine it includes waiting for a core), the
child's CPU seconds, peak RSS, and epochs trained per fold.
"""

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time

import numpy as np

from bench_cv_memory import MB, _current_rss_bytes, _peak_rss_bytes


def _epochs(fitted):
    """Epochs the network of a fitted zoo model trained (fine-tuning phase)."""
    return int(getattr(fitted.estimator_[-1], "n_iter_", 0))


def _child(data_path, name, seed, folds, full, only_fold, epochs):
    from sklearn_moa.metrics import mean_columnwise_log_loss
    from sklearn_moa.model_selection import DrugMultilabelStratifiedKFold, cross_validate_moa
    from sklearn_moa.model_zoo import build_model

    with open(data_path, "rb") as f:
        data = pickle.load(f)
    model = build_model(name, full=full, random_state=seed)
    if epochs is not None:
        model.estimator.steps[-1][1].set_params(epochs=epochs, early_stopping=False)
    before = _current_rss_bytes()
    cpu = time.process_time()
    if only_fold is None:
        result = cross_validate_moa(model, data.features, data.targets, groups=data.drugs, cv=folds,
                                    return_estimators=True, random_state=0)
        row = dict(log_loss=result.oof_log_loss, fold_log_loss=list(result.fold_log_loss),
                   fit_s=float(np.sum(result.fit_time)), epochs=[_epochs(m) for m in result.estimators])
    else:
        splitter = DrugMultilabelStratifiedKFold(folds, random_state=0)
        train, valid = list(splitter.split(data.features, data.targets, data.drugs))[only_fold]
        start = time.perf_counter()
        model.fit(data.features.iloc[train], data.targets.iloc[train])
        fit_s = time.perf_counter() - start
        loss = mean_columnwise_log_loss(data.targets.iloc[valid].to_numpy(),
                                        model.predict_proba(data.features.iloc[valid]))
        row = dict(log_loss=loss, fold_log_loss=[loss], fit_s=fit_s, epochs=[_epochs(model)],
                   epoch_s=model.estimator_[-1].history_["seconds"])
    row.update(model=name, seed=seed, cpu_s=time.process_time() - cpu, rss_before_mb=before / MB,
               peak_rss_mb=_peak_rss_bytes() / MB)
    print(json.dumps(row))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="tabm,residual_nn,deep_cnn", help="comma-separated zoo names")
    parser.add_argument("--rows", type=int, default=6000)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--seeds", default="0,1", help="model seeds (the folds stay the same)")
    parser.add_argument("--full", action="store_true", help="the models' full settings")
    parser.add_argument("--only-fold", type=int, default=None, help="fit this fold only")
    parser.add_argument("--epochs", type=int, default=None,
                        help="train this many epochs without early stopping (to time epochs: the log "
                             "loss is then not the model's)")
    parser.add_argument("--data-seed", type=int, default=0)
    parser.add_argument("--child", nargs=3, metavar=("DATA", "MODEL", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child[0], args.child[1], int(args.child[2]), args.folds, args.full, args.only_fold, args.epochs)
        return 0

    from sklearn_moa.datasets import make_moa

    data = make_moa(args.rows, n_test_samples=0, random_state=args.data_seed)
    scope = f"fold {args.only_fold} only" if args.only_fold is not None else "OOF"
    if args.epochs is not None:
        scope += f"; {args.epochs} epochs, no early stopping (timing run)"
    print(f"make_moa({args.rows}, random_state={args.data_seed}); {args.folds}-fold drug-aware CV ({scope}); "
          f"{'full' if args.full else 'quick'} zoo settings; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}",
          flush=True)
    print(f"{'model':<12}{'seed':>5}{'log loss':>10}  {'folds':<26}{'fit s':>8}{'CPU s':>8}{'peak MB':>9}  epochs",
          flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data_path = os.path.join(tmp, "data.pkl")
        with open(data_path, "wb") as f:
            pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
        del data
        for name in args.models.split(","):
            for seed in args.seeds.split(","):
                command = [sys.executable, os.path.abspath(__file__), "--child", data_path, name, seed,
                           "--folds", str(args.folds)] + (["--full"] if args.full else [])
                if args.only_fold is not None:
                    command += ["--only-fold", str(args.only_fold)]
                if args.epochs is not None:
                    command += ["--epochs", str(args.epochs)]
                run = subprocess.run(command, capture_output=True, text=True)
                if run.returncode != 0:
                    print(f"{name:<12}{seed:>5}  failed: {run.stderr.strip().splitlines()[-1:]}", flush=True)
                    continue
                row = json.loads(run.stdout.strip().splitlines()[-1])
                rows.append(row)
                folds = " ".join(f"{s:.5f}" for s in row["fold_log_loss"])
                print(f"{name:<12}{seed:>5}{row['log_loss']:>10.5f}  {folds:<26}{row['fit_s']:>8.1f}"
                      f"{row['cpu_s']:>8.1f}{row['peak_rss_mb']:>9.0f}  {row['epochs']}", flush=True)
                if "epoch_s" in row:
                    print(f"{'':<17}seconds per epoch: {np.round(row['epoch_s'], 1).tolist()}", flush=True)
    print("\nper model, mean over seeds:")
    for name in args.models.split(","):
        mine = [r for r in rows if r["model"] == name]
        if mine:
            print(f"{name:<12} log loss {np.mean([r['log_loss'] for r in mine]):.5f}  "
                  f"fit {np.mean([r['fit_s'] for r in mine]):.1f} s  CPU {np.mean([r['cpu_s'] for r in mine]):.1f} s  "
                  f"peak {max(r['peak_rss_mb'] for r in mine):.0f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
