"""sklearn-moa: benchmark, train and apply MoA models from the command line.

Every user error (a bad folder, a missing file, an unknown model, a model file
from another version, a bad option) ends the command with one line on stderr,
``sklearn-moa: error: ...``, and exit status 2; ``--traceback`` shows the full
Python traceback instead.
"""

import argparse
import os
import sys
import warnings

from .. import __version__
from . import _benchmark, _blend, _make_data, _predict, _train
from ._environment import command_line
from ._output import add_verbosity_arguments, framework_startup_filter
from ._zoo import models_table

__all__ = ["main"]

PROG = "sklearn-moa"
USER_ERRORS = (ValueError, ImportError, OSError)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like the command's other errors."""

    def error(self, message):
        self.exit(2, f"{PROG}: error: {message} (see `{self.prog} --help`)\n")


def _models(args):
    print("\n".join(models_table()))
    return 0


def build_parser():
    """The ``sklearn-moa`` argument parser with its sub-commands."""
    parser = _Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--traceback", action="store_true",
                        help="show the Python traceback of an error")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)
    models = sub.add_parser("models", help="list the model names, their extra and whether installed")
    models.set_defaults(func=_models)
    _benchmark.add_parser(sub)
    _train.add_parser(sub)
    _predict.add_parser(sub)
    _make_data.add_parser(sub)
    _blend.add_parser(sub)
    for command in sub.choices.values():  # the same output options on every sub-command
        add_verbosity_arguments(command)
    return parser


def _quiet_frameworks(verbose):
    # Deep-learning frameworks print start-up chatter at import; keep the output readable.
    # Level 1 hides TensorFlow's C++ INFO lines only: its warnings and errors still show.
    if not verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def main(argv=None):
    """Entry point of the ``sklearn-moa`` console script.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : int
        0 on success, 1 when a benchmarked model failed, 2 on a user error,
        130 when interrupted.
    """
    args = build_parser().parse_args(argv)
    args.command_line = command_line(argv)
    verbose = getattr(args, "verbose", False)
    _quiet_frameworks(verbose)
    try:
        with framework_startup_filter(active=not verbose):
            return args.func(args)
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as exc:
        if args.traceback:
            raise
        message = str(exc).strip().replace("\n", " ") or type(exc).__name__
        if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
            message = f"{exc.strerror}: {exc.filename}"
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
