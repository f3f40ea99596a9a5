"""Peak memory of a full-size cross-validation run, per model.

Question: how much memory does ``cross_validate_moa`` need on data of the real
size (23,814 rows x 875 features, 206 targets), on top of the data itself?

Each model runs in a fresh subprocess, so that one model's peak does not hide
another's. The data is generated once by this script, pickled to a temporary
file and loaded by each subprocess; the subprocess records its resident set
size (RSS) right before the CV run and its peak RSS (``ru_maxrss``) after it.
Folds run serially (``n_jobs=1``, the CLI's default): with parallel folds each
worker process adds its own copy of a fold's model and data, not counted here.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_cv_memory.py                 # prior, 5 folds
    OMP_NUM_THREADS=1 python benchmarks/bench_cv_memory.py --models prior,logistic --folds 3

It prints one row per model: data size, RSS before CV, peak RSS, the peak
above the pre-CV level, and the wall time.
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

MB = 2**20


def _current_rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss_bytes():
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _child(data_path, name, folds, full):
    """Run one model's CV on the pickled data and print its memory figures as JSON."""
    from sklearn_moa.model_selection import cross_validate_moa
    from sklearn_moa.model_zoo import build_model

    with open(data_path, "rb") as f:
        data = pickle.load(f)
    model = build_model(name, full=full, random_state=0)
    before = _current_rss_bytes()
    start = time.perf_counter()
    result = cross_validate_moa(model, data.features, data.targets, groups=data.drugs, cv=folds)
    print(json.dumps({
        "model": name,
        "rss_before_cv_mb": before / MB,
        "peak_rss_mb": _peak_rss_bytes() / MB,
        "wall_s": time.perf_counter() - start,
        "oof_log_loss": result.oof_log_loss,
    }))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="prior", help="comma-separated zoo names")
    parser.add_argument("--samples", type=int, default=23814)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="the models' full settings")
    parser.add_argument("--child", nargs=2, metavar=("DATA", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child[0], args.child[1], args.folds, args.full)
        return 0

    from sklearn_moa.datasets import make_moa

    data = make_moa(args.samples, random_state=0)
    data_mb = (data.features.memory_usage(deep=True).sum() + data.targets.memory_usage().sum()) / MB
    print(f"data: make_moa({args.samples}): features + targets {data_mb:.0f} MB in memory; "
          f"{args.folds}-fold drug-aware CV, {'full' if args.full else 'quick'} settings, serial")
    print(f"{'model':<14}{'data MB':>9}{'RSS before CV MB':>18}{'peak RSS MB':>13}"
          f"{'peak - before MB':>18}{'wall s':>9}{'OOF loss':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        data_path = os.path.join(tmp, "data.pkl")
        with open(data_path, "wb") as f:
            pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
        del data
        for name in args.models.split(","):
            command = [sys.executable, os.path.abspath(__file__), "--child", data_path, name,
                       "--folds", str(args.folds)] + (["--full"] if args.full else [])
            run = subprocess.run(command, capture_output=True, text=True)
            if run.returncode != 0:
                print(f"{name:<14}failed: {run.stderr.strip().splitlines()[-1:]}")
                continue
            row = json.loads(run.stdout.strip().splitlines()[-1])
            print(f"{name:<14}{data_mb:>9.0f}{row['rss_before_cv_mb']:>18.0f}"
                  f"{row['peak_rss_mb']:>13.0f}"
                  f"{row['peak_rss_mb'] - row['rss_before_cv_mb']:>18.0f}"
                  f"{row['wall_s']:>9.1f}{row['oof_log_loss']:>10.5f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
