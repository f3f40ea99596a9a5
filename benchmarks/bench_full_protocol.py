"""What the full protocol costs: fit time per fold, peak memory and log loss of each zoo model.

Question: how long does a model of the zoo take per fold at its full settings
(or ``--settings blog``) on data of the real size (23,814 rows), how much
memory does it need, and what does it score?

Each model runs in a fresh subprocess (its peak RSS is its own). The
subprocess takes ``--measure-folds`` folds (from ``--first-fold``) of a drug-aware
``--folds``-fold split of ``make_moa(--rows)`` and, for each, does what the
model's ``fit`` does in two timed parts: the feature preset on the treated
training rows, then the model on its output (``--measure-epochs`` epochs for
the deep models). It then scores the fold's held-out rows (0 for control
rows, as the control rule predicts).

Figures are **measured** when every fold ran with all its epochs (the OOF log
loss is then the protocol's), else **extrapolated**: the model's seconds
scaled by ``epochs / measured epochs`` (epoch times are about constant),
plus the preset's seconds, per fold, times the number of folds. The held-out
loss of a reduced run is shown for what it is (fewer epochs than the
protocol), never as the protocol's score.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_full_protocol.py --models logistic,svm
    OMP_NUM_THREADS=1 python benchmarks/bench_full_protocol.py --models tabnet --measure-epochs 2 --measure-folds 1

A model name may carry parameters of its final estimator after ``@``, to
time a change against the current settings in the same run, e.g.
``--models tabnet,tabnet@early_stopping=True`` (values are Python literals).
The key ``seeds=N`` is not a parameter: it fits the final estimator with
``N`` seeds and averages them (:class:`~sklearn_moa.ensemble.SeedAveragedClassifier`,
seeds drawn from ``--seed``), e.g. ``residual_nn@seeds=3``; for a zoo model
that already averages seeds (``two_head_resnet`` full) the other keys reach
its network, and ``seeds=1`` fits that network once.
"""

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
from _params import literal_params

MB = 2**20


def _epochs_param(model):
    """Name and value of the model's epoch (or tree) budget, if it has one."""
    params = model.get_params(deep=False)
    for name in ("epochs",):
        if name in params:
            return name, params[name]
    return None, None


def _peak_gpu_mb():
    """torch's peak CUDA allocation in this process (the torch, skorch and TabNet models)."""
    import torch

    return torch.cuda.max_memory_allocated() / MB


def _variant(spec):
    """``"name@key=value@..."`` -> (name, {key: value}); values are Python literals."""
    name, *assignments = spec.split("@")
    return name, literal_params(assignments, f"--models {spec}")


def _child(data_path, spec, settings, folds, first_fold, measure_folds, measure_epochs, seed, device):
    from sklearn.base import clone

    from sklearn_moa.cli._zoo import drug_fit_params
    from sklearn_moa.ensemble import SeedAveragedClassifier
    from sklearn_moa.metrics import mean_columnwise_log_loss
    from sklearn_moa.model_selection import DrugMultilabelStratifiedKFold
    from sklearn_moa.model_zoo import build_model

    with open(data_path, "rb") as f:
        data = pickle.load(f)
    Y = data.targets.to_numpy()
    treated = (data.features["cp_type"] == "trt_cp").to_numpy()
    name, params = _variant(spec)
    template = build_model(name, settings=settings, random_state=seed, device=device).estimator  # Pipeline
    preset_template, model_template = template.steps[0][1], template.steps[-1][1]
    # A seed-averaged zoo model: its network takes the parameters, seeds=1 fits it once.
    zoo_seeds = None
    if isinstance(model_template, SeedAveragedClassifier):
        zoo_seeds, model_template = model_template.seeds, model_template.estimator
    n_seeds = params.pop("seeds", zoo_seeds)
    n_seeds = None if n_seeds == 1 else n_seeds
    model_template.set_params(**params)
    epochs_name, epochs = _epochs_param(model_template)
    reduced = epochs_name is not None and measure_epochs is not None and measure_epochs < epochs
    if reduced:
        model_template.set_params(**{epochs_name: measure_epochs})
    splits = list(DrugMultilabelStratifiedKFold(folds, random_state=seed).split(
        data.features, Y, data.drugs))[first_fold:first_fold + measure_folds]
    # The drug ids reach the models whose fit splits by drug (early stopping,
    # inner folds), as the command line hands them (drug_fit_params).
    fit_params = drug_fit_params(model_template, data.drugs.to_numpy())
    early_stopping = bool(model_template.get_params(deep=False).get("early_stopping", False))
    if n_seeds is not None:
        model_template = SeedAveragedClassifier(model_template, seeds=n_seeds, random_state=seed)
    preset_s, model_s, preset_cpu, model_cpu, losses, epochs_run = [], [], [], [], [], []
    for train, test in splits:
        train = train[treated[train]]
        preset, model = clone(preset_template), clone(model_template)
        start, cpu = time.perf_counter(), time.process_time()
        X_train = preset.fit_transform(data.features.iloc[train])
        preset_s.append(time.perf_counter() - start)
        preset_cpu.append(time.process_time() - cpu)
        start, cpu = time.perf_counter(), time.process_time()
        model.fit(X_train, Y[train], **{k: v[train] for k, v in fit_params.items()})
        model_s.append(time.perf_counter() - start)
        model_cpu.append(time.process_time() - cpu)
        if n_seeds:
            epochs_run.append("/".join(str(getattr(m, "n_iter_", None)) for m in model.estimators_))
        else:
            epochs_run.append(getattr(model, "n_iter_", None))
        proba = np.full((len(test), Y.shape[1]), 1e-7)
        rows = treated[test]
        proba[rows] = model.predict_proba(preset.transform(data.features.iloc[test[rows]]))
        losses.append(mean_columnwise_log_loss(Y[test], proba))
    scale = epochs / measure_epochs if reduced else 1.0
    fold_s = float(np.mean(preset_s) + np.mean(model_s) * scale)
    fold_cpu_s = float(np.mean(preset_cpu) + np.mean(model_cpu) * scale)
    print(json.dumps({
        "model": spec,
        "epochs": epochs,
        "measured_epochs": measure_epochs if reduced else epochs,
        "measured_folds": len(splits),
        "fold_s": fold_s,
        "protocol_s": fold_s * folds,
        "fold_cpu_s": fold_cpu_s,
        "protocol_cpu_s": fold_cpu_s * folds,
        "early_stopping": early_stopping,
        "extrapolated": bool(reduced or len(splits) < folds),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_gpu_mb": _peak_gpu_mb() if device == "cuda" else None,
        "fold_losses": losses,
        "epochs_run": epochs_run,
    }))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="prior,logistic,svm,xgboost,residual_nn,deep_cnn,"
                                            "two_head_nn,cnn1d,tabnet")
    parser.add_argument("--settings", default="full", choices=["quick", "full", "blog"])
    parser.add_argument("--rows", type=int, default=23814, help="make_moa rows (real data: 23,814)")
    parser.add_argument("--folds", type=int, default=5, help="folds of the protocol")
    parser.add_argument("--measure-folds", type=int, default=None,
                        help="folds actually run (default: all)")
    parser.add_argument("--measure-epochs", type=int, default=None,
                        help="epochs actually run per fold by the deep models (default: all)")
    parser.add_argument("--first-fold", type=int, default=0,
                        help="index of the first fold run, to spread the folds over processes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None, choices=["cpu", "cuda", "auto"],
                        help="device of the models that have one (default: the zoo's)")
    parser.add_argument("--child", nargs=2, metavar=("DATA", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 0 <= args.first_fold < args.folds:
        parser.error(f"--first-fold must be a fold index below --folds ({args.folds}); got {args.first_fold}")
    measure_folds = args.measure_folds or args.folds - args.first_fold
    if args.first_fold + measure_folds > args.folds:
        parser.error(f"--first-fold {args.first_fold} with --measure-folds {measure_folds} runs "
                     f"past the {args.folds} folds")
    if args.child:
        _child(args.child[0], args.child[1], args.settings, args.folds, args.first_fold, measure_folds,
               args.measure_epochs, args.seed, args.device)
        return 0

    from sklearn_moa.datasets import make_moa

    data = make_moa(args.rows, n_test_samples=0, random_state=args.seed)
    print(f"make_moa({args.rows}, random_state={args.seed}), {args.folds}-fold drug-aware "
          f"protocol, {args.settings} settings; running {measure_folds} fold(s)"
          + (f" from fold {args.first_fold}" if args.first_fold else "")
          + (f", {args.measure_epochs} epoch(s) per deep model" if args.measure_epochs else "")
          + (f", device {args.device}" if args.device else ""))
    width = max(16, *(len(spec) + 2 for spec in args.models.split(",")))
    print(f"{'model':<{width}}{'epochs':>7}{'ran':>5}{'s/fold':>9}{'CPU s/fold':>11}{'protocol CPU h':>15}"
          f"{'peak MB':>9}  {'held-out loss (folds run)':<28}figures")
    with tempfile.TemporaryDirectory() as tmp:
        data_path = os.path.join(tmp, "data.pkl")
        with open(data_path, "wb") as f:
            pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
        del data
        for name in args.models.split(","):
            command = [sys.executable, os.path.abspath(__file__), "--child", data_path, name,
                       "--settings", args.settings, "--folds", str(args.folds),
                       "--first-fold", str(args.first_fold), "--measure-folds", str(measure_folds),
                       "--seed", str(args.seed)]
            if args.measure_epochs:
                command += ["--measure-epochs", str(args.measure_epochs)]
            if args.device:
                command += ["--device", args.device]
            run = subprocess.run(command, capture_output=True, text=True)
            if run.returncode != 0:
                print(f"{name:<{width}}failed: {run.stderr.strip().splitlines()[-1:]}")
                continue
            row = json.loads(run.stdout.strip().splitlines()[-1])
            if not row["extrapolated"]:
                kind = "measured"
            elif row["measured_epochs"] == row["epochs"]:
                kind = f"measured fold x {args.folds}"
            else:
                kind = f"extrapolated from {row['measured_epochs']} ep"
            if row["early_stopping"] and row["measured_epochs"] != row["epochs"]:
                kind += " (early stopping: at most)"
            if row["peak_gpu_mb"] is not None:
                kind += f", torch's GPU peak {row['peak_gpu_mb']:.0f} MB"
            loss = f"{np.mean(row['fold_losses']):.5f} ({row['measured_folds']})"
            if row["measured_epochs"] != row["epochs"]:
                loss += f" @{row['measured_epochs']} ep"
            elif row["early_stopping"] and row["epochs_run"][0] is not None:
                loss += f" stopped @{','.join(str(n) for n in row['epochs_run'])}"
            print(f"{name:<{width}}{str(row['epochs'] or '-'):>7}{row['measured_folds']:>5}"
                  f"{row['fold_s']:>9.0f}{row['fold_cpu_s']:>11.0f}{row['protocol_cpu_s'] / 3600:>15.2f}"
                  f"{row['peak_rss_mb']:>9.0f}  {loss:<27} {kind}", flush=True)
            if row["measured_folds"] > 1:
                print(f"{'':<{width}}per fold: " + " ".join(f"{v:.5f}" for v in row["fold_losses"]),
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
