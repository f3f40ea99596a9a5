"""Epoch time of the skorch-based models against a bare torch loop of the same network.

For each model (ResidualNNClassifier, DeepCNNClassifier) the estimator is fit
for ``--epochs`` epochs and, alternately, the same network (built by the
estimator's own ``_build_module`` from the same seed) is trained by a plain
torch loop over the same tensors: shuffled batches taken by tensor indexing,
Adam with the same weight decay, the same smoothed BCE, OneCycle stepped per
batch, the loss read back every batch (as any training loop that logs it).
What the ratio measures is therefore everything the estimator adds per epoch:
skorch's loop, callbacks and history, the batch iterator.

The estimator's epoch time is ``history_["seconds"]`` (skorch's per-epoch ``dur``); the bare loop's
is timed the same way (one pass over the training batches). The first epoch of
every run is dropped (warm-up) and the figure is the median of the others over
``--repeats`` alternating runs (the side that runs first alternates too). On a
shared machine wall-clock time swings with the other processes' load, so the
CPU time of the whole run (``time.process_time``: validation, tensor
conversion and network construction included, every epoch counted) is
reported too, per epoch: with one torch thread it measures the work done
rather than the share of the machine obtained.

Input: ``--rows`` rows (default: the real training set's 23,814) of the
winners' preset width. By default the features are the actual
``make_moa_features("winners")`` output on ``make_moa`` data; with
``--random-features`` a random matrix of ``--width`` columns stands in (same
shape, same cost per epoch, no minute of preprocessing).

Run::

    OMP_NUM_THREADS=1 timeout 3000 python benchmarks/bench_torch_overhead.py
    OMP_NUM_THREADS=1 python benchmarks/bench_torch_overhead.py --random-features --width 1081 \\
        --models residual_nn --epochs 3
"""

import argparse
import statistics
import time

import numpy as np

from _inputs import preset_input
from sklearn_moa.models import DeepCNNClassifier, ResidualNNClassifier
from sklearn_moa.models._torch_modules import count_batches

MODELS = {
    "residual_nn": ResidualNNClassifier,
    "deep_cnn": DeepCNNClassifier,
    # A network so small that the time left is mostly the loop's own: shows the
    # wrapper's cost per batch in seconds rather than as a share.
    "probe": lambda **params: ResidualNNClassifier(hidden_layer_sizes=(8,), **params),
}


def benchmark_input(n_rows, random_features, width, seed=0):
    """(features, targets, description): the winners preset's features and the varying targets."""
    X, Y, described = preset_input(
        "winners", n_rows, random_width=width if random_features else None, seed=seed
    )
    return X, Y[:, (Y.sum(axis=0) > 0) & (Y.sum(axis=0) < len(Y))], described


def skorch_epochs(model, X, Y):
    """Per-epoch seconds of the estimator (skorch's record) and the CPU seconds of its whole fit."""
    start = time.process_time()
    model.fit(X, Y)
    return list(model.history_["seconds"]), time.process_time() - start


def bare_epochs(model, X, Y, seed):
    """Per-epoch seconds of a plain torch loop training the estimator's network, and its CPU seconds."""
    import torch

    from sklearn_moa.models._skorch_base import _start_from_prevalence
    from sklearn_moa.models._torch_modules import SmoothBCEWithLogitsLoss
    from sklearn_moa.models._torch_utils import local_torch_seed

    start = time.process_time()
    X = torch.as_tensor(X, dtype=torch.float32)
    Y = torch.as_tensor(Y, dtype=torch.float32)
    n_rows, batch = len(X), model.batch_size
    n_batches = count_batches(n_rows, batch)
    durations = []
    with local_torch_seed(seed):
        module = model._build_module(X.shape[1], Y.shape[1])
        _start_from_prevalence(module.output, Y)  # the estimator's starting point
        criterion = SmoothBCEWithLogitsLoss(model.label_smoothing).train()
        optimizer = torch.optim.Adam(module.parameters(), lr=model.learning_rate,
                                     weight_decay=model.weight_decay)
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=model.learning_rate, total_steps=model.epochs * n_batches,
            pct_start=0.1, div_factor=1e3,
        )
        for _ in range(model.epochs):
            epoch_start = time.perf_counter()
            module.train()
            order = torch.randperm(n_rows)
            running = 0.0
            for k in range(n_batches):
                rows = order[k * batch : n_rows if k == n_batches - 1 else (k + 1) * batch]
                optimizer.zero_grad()
                loss = criterion(module(X[rows]), Y[rows])
                loss.backward()
                optimizer.step()
                schedule.step()
                running += loss.item()
            durations.append(time.perf_counter() - epoch_start)
    return durations, time.process_time() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=23814, help="training rows (real data: 23,814)")
    parser.add_argument("--random-features", action="store_true")
    parser.add_argument("--width", type=int, default=1081, help="columns with --random-features")
    parser.add_argument("--models", default="residual_nn,deep_cnn,probe")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run (the first is dropped)")
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs of each side")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import torch

    X, Y, described = benchmark_input(args.rows, args.random_features, args.width, args.seed)
    print(f"input: {X.shape[0]} rows x {X.shape[1]} columns ({described}), {Y.shape[1]} targets; "
          f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    print(f"{'':<12} {'wall s per epoch (median)':^37}   {'CPU s per epoch (whole run)':^37}")
    print(f"{'model':<12} {'skorch':>12} {'bare':>12} {'ratio':>11}   "
          f"{'skorch':>12} {'bare':>12} {'ratio':>11}")
    for name in args.models.split(","):
        model = MODELS[name](epochs=args.epochs, random_state=args.seed)
        # Warm-up on a few rows: first-call imports and allocator growth are
        # not what is measured.
        warm_up = MODELS[name](epochs=1, random_state=args.seed)
        skorch_epochs(warm_up, X[:512], Y[:512])
        bare_epochs(warm_up, X[:512], Y[:512], args.seed)
        wrapped, bare, wrapped_total, bare_total = [], [], [], []
        for repeat in range(args.repeats):
            # Alternate which side runs first, so that neither always runs
            # right after the other's clean-up.
            for side in (("skorch", "bare") if repeat % 2 == 0 else ("bare", "skorch")):
                if side == "skorch":
                    durations, total = skorch_epochs(model, X, Y)
                    wrapped += durations[1:]
                    wrapped_total.append(total / args.epochs)
                else:
                    durations, total = bare_epochs(model, X, Y, args.seed)
                    bare += durations[1:]
                    bare_total.append(total / args.epochs)
        epoch_w, epoch_b = statistics.median(wrapped), statistics.median(bare)
        total_w, total_b = statistics.median(wrapped_total), statistics.median(bare_total)
        per_batch_ms = 1e3 * (total_w - total_b) / count_batches(len(X), model.batch_size)
        print(f"{name:<12} {epoch_w:>12.3f} {epoch_b:>12.3f} {epoch_w / epoch_b:>11.3f}   "
              f"{total_w:>12.3f} {total_b:>12.3f} {total_w / total_b:>11.3f}   "
              f"(CPU {per_batch_ms:+.2f} ms per batch)", flush=True)
    print("goal: ratio <= 1.05")


if __name__ == "__main__":
    main()
