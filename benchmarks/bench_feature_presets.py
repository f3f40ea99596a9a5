"""Time fitting (and transforming) each feature preset on full-size synthetic data.

The issue's goal: the "tabnet" preset fits on 23,814 rows well under a minute
on 2 cores. Run with, e.g.::

    OMP_NUM_THREADS=1 python benchmarks/bench_feature_presets.py
    python benchmarks/bench_feature_presets.py --presets tabnet --n-samples 5000

It prints one line per preset: fit wall-clock and CPU seconds, transform
wall-clock seconds (of the test rows), output width. On a shared machine the
CPU time (all threads of this process) is the steadier figure: with
``OMP_NUM_THREADS=1`` it is what the fit takes on one idle core.
"""

import argparse
import os
import time
import warnings

from sklearn_moa.datasets import make_moa
from sklearn_moa.preprocessing import PRESETS, make_moa_features


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=23_814, help="training rows (Kaggle: 23,814)")
    parser.add_argument("--n-test-samples", type=int, default=3_982, help="rows to transform")
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=PRESETS)
    parser.add_argument("--repeat", type=int, default=1, help="fits per preset (the best is shown)")
    parser.add_argument("--svd-solver", default=None, help="override the PCA solver of the presets")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    data = make_moa(args.n_samples, n_test_samples=args.n_test_samples, random_state=0)
    print(
        f"make_moa({args.n_samples}): {time.perf_counter() - start:.1f} s; "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, cpus={os.cpu_count()}"
    )
    print(f"{'preset':<10} {'fit s':>8} {'fit cpu s':>10} {'transform s':>12} {'width':>6}")
    for preset in args.presets:
        overrides = {}
        if args.svd_solver and preset != "cnn1d":
            overrides["svd_solver"] = args.svd_solver
        fit_times, cpu_times = [], []
        for _ in range(args.repeat):
            features = make_moa_features(preset, random_state=0, **overrides)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                start, cpu_start = time.perf_counter(), time.process_time()
                features.fit(data.features)
                fit_times.append(time.perf_counter() - start)
                cpu_times.append(time.process_time() - cpu_start)
        start = time.perf_counter()
        width = features.transform(data.test_features).shape[1]
        transform_time = time.perf_counter() - start
        print(
            f"{preset:<10} {min(fit_times):>8.2f} {min(cpu_times):>10.2f} "
            f"{transform_time:>12.2f} {width:>6}",
            flush=True,
        )


if __name__ == "__main__":
    main()
