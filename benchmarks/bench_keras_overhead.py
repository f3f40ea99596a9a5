"""Overhead of the Keras estimators over a bare ``keras.Model.fit`` of the same network.

For each of :class:`~sklearn_moa.models.TwoHeadNNClassifier` (batch 128) and
:class:`~sklearn_moa.models.CNN1DClassifier` (batch 300), on full-size
synthetic inputs (23,814 rows; 60 + 887 columns for the two-head network, 872
for the CNN; 206 targets), time

- ``estimator.fit(X, Y)`` with ``epochs=1``: validation, constant targets,
  network build and compile, one epoch, history;
- the bare loop: ``estimator.build_keras_model(...)`` (the same network, the
  same initial weights) and ``model.fit`` for one epoch on float32 arrays
  already cut into the network's inputs,

alternately, ``--repeats`` times each, and print the best times and their
ratio (goal: <= 1.05). Both sides include TensorFlow's tracing of the training
step, which happens once per fit.

Run (2 cores; the CNN epoch is the long part)::

    OMP_NUM_THREADS=1 timeout 1800 python benchmarks/bench_keras_overhead.py
    KERAS_BACKEND=torch OMP_NUM_THREADS=1 python benchmarks/bench_keras_overhead.py --model two_head
"""

import argparse
import time

import numpy as np

from sklearn_moa.models import CNN1DClassifier, TwoHeadNNClassifier


def _data(n_rows, n_features, n_targets=206, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n_rows, n_features)
    # MoA-like rarity: about 0.35 % positives per target, none constant.
    Y = (rng.rand(n_rows, n_targets) < 0.0035).astype(np.int8)
    Y[:2] = 1 - Y[:2].max(axis=0)
    Y[0], Y[1] = 1, 0
    return X, Y


def _bare_fit(estimator, X, Y, widths, inputs):
    model = estimator.build_keras_model(widths, Y.shape[1])
    model.fit(inputs, Y.astype(np.float32), epochs=1, batch_size=estimator.batch_size, shuffle=True, verbose=0)
    return model


def bench(name, estimator, X, Y, widths, inputs, repeats):
    wrapped, bare = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        estimator.fit(X, Y)
        wrapped.append(time.perf_counter() - start)
        start = time.perf_counter()
        _bare_fit(estimator, X, Y, widths, inputs)
        bare.append(time.perf_counter() - start)
    ratio = min(wrapped) / min(bare)
    print(
        f"{name:10s} rows={len(X)} batch={estimator.batch_size} "
        f"estimator={min(wrapped):7.2f}s bare keras={min(bare):7.2f}s ratio={ratio:.3f} "
        f"(all estimator {[round(t, 2) for t in wrapped]}, bare {[round(t, 2) for t in bare]})",
        flush=True,
    )
    return ratio


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=23814)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--model", choices=["two_head", "cnn1d", "both"], default="both")
    args = parser.parse_args()

    import keras

    print(f"keras {keras.__version__}, backend {keras.backend.backend()}", flush=True)
    if args.model in ("two_head", "both"):
        X, Y = _data(args.rows, 60 + 887)
        X32 = X.astype(np.float32)
        estimator = TwoHeadNNClassifier(head1_columns=60, epochs=1, batch_size=128, random_state=0)
        bench("two_head", estimator, X, Y, (60, 887), [X32[:, :60], X32[:, 60:]], args.repeats)
    if args.model in ("cnn1d", "both"):
        X, Y = _data(args.rows, 872)
        estimator = CNN1DClassifier(epochs=1, batch_size=300, random_state=0)
        bench("cnn1d", estimator, X, Y, 872, X.astype(np.float32)[:, :, None], args.repeats)


if __name__ == "__main__":
    main()
