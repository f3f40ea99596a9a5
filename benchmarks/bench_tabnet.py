"""TabNetMoAClassifier: seconds per training epoch at the seed's batch size.

The seed notebook trained TabNet for 200 epochs with batches of 1024 rows on
its TabNet features (1,543 columns) of the 23,814 training rows, in 13 folds.
This script builds the same-size input from synthetic data (``make_moa`` +
``make_moa_features("tabnet")``) and times the estimator's epochs with the
default (seed / 1st place) architecture.

Each epoch's wall-clock time (one pass over the training batches) is taken
from the fitted model's ``history_["seconds"]``; the first epoch is reported
apart (warm-up) and the figure is the median of the others.

Run::

    OMP_NUM_THREADS=1 timeout 900 python benchmarks/bench_tabnet.py
    python benchmarks/bench_tabnet.py --rows 6000 --epochs 2 --random-features
"""

import argparse
import time

import numpy as np

from _inputs import preset_input
from sklearn_moa.models import TabNetMoAClassifier

#: Width of the seed's TabNet features (875 + 600 + 50 + 3 + 15).
TABNET_WIDTH = 1543


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=23814, help="training rows (real data: 23,814)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs timed after the first (warm-up)")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--virtual-batch-size", type=int, default=128)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    parser.add_argument(
        "--random-features", action="store_true",
        help="use a random matrix of the preset's width instead of fitting the preset",
    )
    args = parser.parse_args(argv)

    import torch

    X, Y, what = preset_input(
        "tabnet", args.rows, random_width=TABNET_WIDTH if args.random_features else None
    )
    params = dict(
        batch_size=args.batch_size, virtual_batch_size=args.virtual_batch_size, device=args.device
    )
    print(f"input: {X.shape[0]} rows x {X.shape[1]} columns, {Y.shape[1]} targets; {what}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} intra-op threads, "
          f"device {args.device}")
    print(f"TabNetMoAClassifier defaults, batch_size={args.batch_size}, "
          f"virtual_batch_size={args.virtual_batch_size}")

    start, start_cpu = time.perf_counter(), time.process_time()
    model = TabNetMoAClassifier(epochs=1 + args.epochs, random_state=0, **params).fit(X, Y)
    total, total_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    seconds = np.asarray(model.history_["seconds"])
    per_epoch = float(np.median(seconds[1:]))
    n_batches = int(np.ceil(X.shape[0] / args.batch_size))
    print(f"fit of {1 + args.epochs} epochs: {total:.2f} s wall, {total_cpu:.2f} s CPU; "
          f"epoch times: {np.round(seconds, 2).tolist()} s")
    print(f"seconds per epoch (median after the first): {per_epoch:.2f} "
          f"({n_batches} batches, {per_epoch / n_batches * 1e3:.0f} ms per batch)")
    # On a shared machine the wall clock counts time spent waiting for a core.
    print("CPU-time estimate per epoch (wall x fit CPU / fit wall): "
          f"{per_epoch * total_cpu / total:.2f} s")
    print(f"training loss by epoch: {np.round(model.history_['loss'], 4).tolist()}")
    print(f"extrapolated: 200 epochs = {200 * per_epoch / 60:.1f} min per fold; "
          f"13 folds = {13 * 200 * per_epoch / 3600:.1f} h")


if __name__ == "__main__":
    main()
