"""Save and load time and file size of each zoo model: safe model files vs pickle.

Every model is built with the zoo's ``--full`` settings (so its networks,
PCA blocks and quantile tables have their full-size shapes), fitted on
``--samples`` synthetic rows for one epoch (XGBoost: ``--trees`` trees per
target, not its full 200: file size grows with the trees), then:

- safe: ``save_model`` / ``load_model`` (format 2, what ``train`` writes);
- pickle: ``pickle.dumps`` / ``pickle.loads`` of the same estimator (what
  sklearn-moa 0.1.x wrote, without the header).

Predictions of the loaded model are checked to be identical. Usage::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/bench_model_files.py [--samples N]
        [--models a,b] [--full]
"""

import argparse
import os
import pickle
import tempfile
import time
import warnings

import numpy as np

from sklearn_moa.cli import load_model, save_model
from sklearn_moa.datasets import make_moa
from sklearn_moa.model_zoo import MODEL_ZOO, build_model


def _best_of(fn, repeat):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--models", default=",".join(n for n, s in MODEL_ZOO.items() if s.available()))
    parser.add_argument("--quick", action="store_true", help="the zoo's quick settings instead of full")
    parser.add_argument("--trees", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    data = make_moa(args.samples, n_test_samples=200, random_state=0)
    print(f"{args.samples} synthetic rows, {'quick' if args.quick else 'full'} zoo settings, "
          "one epoch; best of", args.repeat)
    print(f"{'model':12} {'safe MB':>8} {'pickle MB':>9} {'save s':>7} {'pickle s':>8} "
          f"{'load s':>7} {'unpickle s':>10}")
    folder = tempfile.mkdtemp()
    for name in args.models.split(","):
        model = build_model(name, full=not args.quick, random_state=0)
        final = model.estimator.steps[-1][1]
        params = final.get_params()
        final.set_params(**{k: v for k, v in dict(epochs=1, n_estimators=args.trees).items()
                            if k in params})
        model.fit(data.features, data.targets)
        path = os.path.join(folder, f"{name}.skmoa")
        save_s, _ = _best_of(lambda: save_model(model, path), args.repeat)
        load_s, loaded = _best_of(lambda: load_model(path).estimator, args.repeat)
        pickle_s, blob = _best_of(lambda: pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL),
                                  args.repeat)
        unpickle_s, _ = _best_of(lambda: pickle.loads(blob), args.repeat)
        same = np.array_equal(loaded.predict_proba(data.test_features),
                              model.predict_proba(data.test_features))
        print(f"{name:12} {os.path.getsize(path) / 2**20:8.1f} {len(blob) / 2**20:9.1f} "
              f"{save_s:7.2f} {pickle_s:8.2f} {load_s:7.2f} {unpickle_s:10.2f}"
              + ("" if same else "  PREDICTIONS DIFFER"))


if __name__ == "__main__":
    main()
