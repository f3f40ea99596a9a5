"""``sklearn-moa``: benchmark MoA models from the command line."""

import argparse
import sys

__all__ = ["main"]


def _benchmark(args):
    import pandas as pd

    from ..datasets import load_moa, make_moa
    from ..model_selection import compare_models
    from ..model_zoo import MODEL_ZOO, build_model

    if args.data:
        data = load_moa(args.data)
    else:
        data = make_moa(args.samples, random_state=args.seed)
    names = args.models.split(",") if args.models else [
        name for name, spec in MODEL_ZOO.items() if spec.available()
    ]
    models = {name: build_model(name, full=args.full, random_state=args.seed) for name in names}
    table = compare_models(
        models, data.features, data.targets, groups=data.drugs, cv=args.folds,
        n_jobs=args.jobs, verbose=0 if args.quiet else 1, random_state=args.seed,
    )
    with pd.option_context("display.float_format", "{:.5f}".format, "display.width", 120):
        print(table.to_string())
    return 0


def _build_parser():
    parser = argparse.ArgumentParser(prog="sklearn-moa", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("benchmark", help="cross-validate models and print a comparison table")
    bench.add_argument("--data", help="Kaggle lish-moa folder (default: built-in synthetic data)")
    bench.add_argument("--models", help="comma-separated model names (default: all available)")
    bench.add_argument("--folds", type=int, default=3)
    bench.add_argument("--samples", type=int, default=6000, help="synthetic rows")
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--jobs", type=int, default=None)
    bench.add_argument("--full", action="store_true", help="the seed's epochs and sizes")
    bench.add_argument("--quiet", action="store_true")
    bench.set_defaults(func=_benchmark)
    return parser


def main(argv=None):
    """Entry point of the ``sklearn-moa`` console script."""
    args = _build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, ImportError, FileNotFoundError) as exc:
        print(f"sklearn-moa: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
