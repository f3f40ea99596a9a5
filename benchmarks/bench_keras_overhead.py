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

alternately (each side first in every other repeat), ``--repeats`` times
each after short warm-up fits, and print
the best times and their ratio (goal: <= 1.05). Both sides include
TensorFlow's tracing of the training step, which happens once per fit.

On a shared machine the epoch loop's time varies by tens of percent from one
run to the next, more than the wrapper costs; so a Keras callback also times
the epoch loop on both sides, and the script prints the time spent outside it
(validation, input preparation, build, compile, tracing set-up): the
difference between the two sides is what the wrapper adds.

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


class _LoopTimer:
    """A Keras callback that records how long ``Model.fit``'s epoch loop took."""

    def __new__(cls):
        import keras

        class LoopTimer(keras.callbacks.Callback):
            seconds = 0.0

            def on_train_begin(self, logs=None):
                self._start = time.perf_counter()

            def on_train_end(self, logs=None):
                self.seconds = time.perf_counter() - self._start

        return LoopTimer()


def _bare_fit(estimator, X, Y, widths, inputs, timer=None):
    model = estimator.build_keras_model(widths, Y.shape[1])
    model.fit(
        inputs, Y.astype(np.float32), epochs=1, batch_size=estimator.batch_size, shuffle=True,
        verbose=0, callbacks=[timer] if timer else None,
    )
    return model


def bench(name, estimator, X, Y, widths, inputs, repeats):
    # Warm-up: the first fits of a process pay TensorFlow's and oneDNN's
    # one-off set-up for these shapes (seconds to a minute), whichever side
    # runs them; the warm-up includes the short last batch of the real fit.
    n_warm = 2 * estimator.batch_size + len(X) % estimator.batch_size
    for _ in range(2):
        _bare_fit(estimator, X[:n_warm], Y[:n_warm], widths, [part[:n_warm] for part in inputs]
                  if isinstance(inputs, list) else inputs[:n_warm])
    wrapped, bare, outside = [], [], {"estimator": [], "bare": []}

    def run_estimator():
        timer = _LoopTimer()
        estimator.set_params(callbacks=[timer])
        start = time.perf_counter()
        estimator.fit(X, Y)
        wrapped.append(time.perf_counter() - start)
        outside["estimator"].append(wrapped[-1] - timer.seconds)

    def run_bare():
        timer = _LoopTimer()
        start = time.perf_counter()
        _bare_fit(estimator, X, Y, widths, inputs, timer)
        bare.append(time.perf_counter() - start)
        outside["bare"].append(bare[-1] - timer.seconds)

    for repeat in range(repeats):  # alternate which side goes first
        for run in (run_estimator, run_bare)[:: 1 if repeat % 2 == 0 else -1]:
            run()
    ratio = min(wrapped) / min(bare)
    print(
        f"{name:10s} rows={len(X)} batch={estimator.batch_size} "
        f"estimator={min(wrapped):7.2f}s bare keras={min(bare):7.2f}s ratio={ratio:.3f} "
        f"(all estimator {[round(t, 2) for t in wrapped]}, bare {[round(t, 2) for t in bare]})",
        flush=True,
    )
    # The epoch loop itself is the same work on both sides and carries most of
    # the noise of a shared machine; the time outside it is what the wrapper adds.
    extra = min(outside["estimator"]) - min(outside["bare"])
    print(
        f"{'':10s} outside Keras' epoch loop: estimator {min(outside['estimator']):.2f}s, "
        f"bare {min(outside['bare']):.2f}s; wrapper adds {extra:.2f}s = "
        f"{100 * extra / min(bare):.1f}% of the bare fit",
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
