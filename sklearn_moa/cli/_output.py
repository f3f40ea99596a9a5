"""What the command prints: ``--quiet``/``--verbose``, one progress bar per model, and
TensorFlow's start-up lines kept out of the default output.

Three levels, the same on every sub-command:

- default: one progress bar per model on stderr (folds done; the epoch, or the
  target for per-target models, that the running fold is at, after the seed
  for a seed-averaged model), then results;
- ``--verbose``: also everything the models print while they fit (skorch and
  TabNet epoch tables, Keras step bars, XGBoost's per-target lines) and
  TensorFlow's start-up lines;
- ``--quiet``: no progress bars: results and errors only.

Warnings and errors are never hidden at any level.
"""

import contextlib
import io
import os
import re
import sys
import threading

from ._zoo import _final_step, enable_epoch_progress

__all__ = ["add_verbosity_arguments", "ModelProgress", "model_progress", "framework_startup_filter"]


def add_verbosity_arguments(parser):
    """``-q/--quiet`` and ``-v/--verbose``, mutually exclusive, on a sub-command's parser."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", action="store_true",
                       help="no progress bars: results and errors only")
    group.add_argument("-v", "--verbose", action="store_true",
                       help="also what the models print while they fit (per-epoch logs, "
                            "per-target lines) and TensorFlow's start-up lines")


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# What the frameworks print once per epoch (or per target) at verbose=1:
_MARKS = (
    (re.compile(r"^Epoch (\d+)/(\d+)"), "epoch", 0),           # Keras
    (re.compile(r"^epoch (\d+)\s+\|"), "epoch", 1),            # pytorch-tabnet, from 0
    (re.compile(r"^\s*(\d+)\s+\d+\.\d"), "epoch", 0),          # skorch's table rows
    (re.compile(r"\] target (\d+):"), "target", 1),            # XGBMoAClassifier, from 0
)
# What a seed-averaged model prints as each seed's fit starts (verbose=1):
_SEED_MARK = re.compile(r"^\[\w+\] (seed \d+/\d+)")


class _MarkSink(io.TextIOBase):
    """A stdout stand-in that shows the latest epoch/target mark on a bar and drops the text.

    A seed-averaged model's seed line ("seed 2/3") is kept and shown before
    the epoch marks that follow it.
    """

    def __init__(self, bar, n_epochs):
        self._bar, self._n_epochs = bar, n_epochs
        self._pending = ""
        self._seed = ""
        self._lock = threading.Lock()  # XGBoost prints from worker threads

    def writable(self):
        return True

    def write(self, text):
        with self._lock:
            *lines, self._pending = re.split(r"[\r\n]", self._pending + text)
            for line in lines:
                self._mark(_ANSI.sub("", line))
        return len(text)

    def _mark(self, line):
        if self._bar is None:
            return
        seed = _SEED_MARK.search(line)
        if seed:
            self._seed = seed.group(1)
            self._bar.set_postfix_str(self._seed, refresh=True)
            return
        for pattern, unit, offset in _MARKS:
            match = pattern.search(line)
            if match:
                number = int(match.group(1)) + offset
                total = f"/{self._n_epochs}" if unit == "epoch" and self._n_epochs else ""
                mark = f"{unit} {number}{total}"
                self._bar.set_postfix_str(f"{self._seed}, {mark}" if self._seed else mark, refresh=True)
                return


class ModelProgress:
    """One progress bar for one model: folds done, and the epoch the running fold is at.

    Use as a context manager; pass :meth:`fold_done` as the ``progress``
    callback of :func:`~sklearn_moa.model_selection.compare_models`. The model
    must print its per-epoch lines (``verbose=1``) for the epoch to show; in
    the default mode those lines are read for the bar and not shown, with
    ``verbose`` they are shown as printed, with ``quiet`` they are dropped and
    there is no bar.

    Parameters
    ----------
    name : str
        Shown left of the bar.
    total : int
        Folds (or fits) to run.
    quiet, verbose : bool
    n_epochs : int or None
        Epochs of one fit, when the model has such a parameter.
    unit : str, default="fold"
    """

    def __init__(self, name, total, *, quiet, verbose, n_epochs=None, unit="fold"):
        self.name, self.total, self.unit = name, total, unit
        self.quiet, self.verbose, self.n_epochs = quiet, verbose, n_epochs
        self._bar = None
        self._stack = contextlib.ExitStack()

    def __enter__(self):
        if not self.quiet:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total, desc=self.name, unit=self.unit, leave=False,
                             file=sys.stderr, dynamic_ncols=True)
            self._stack.callback(self._bar.close)
        if not self.verbose:
            sink = _MarkSink(self._bar, self.n_epochs)
            self._stack.enter_context(contextlib.redirect_stdout(sink))
        return self

    def fold_done(self):
        """Advance the bar by one fold."""
        if self._bar is not None:
            self._bar.update(1)

    def __exit__(self, *exc):
        self._stack.close()
        return False


def model_progress(name, model, total, args, *, serial, unit="fold"):
    """The progress bar of one model, after setting what the model itself prints.

    In a serial run the model prints its per-epoch lines (``verbose=1``) at
    every output level (the bar reads them; ``--verbose`` shows them), so
    that the checkpoint of a fold does not depend on the output level. Folds
    fitted in worker processes print only with ``--verbose``.
    """
    if serial or args.verbose:
        enable_epoch_progress(model)
    n_epochs = _final_step(model)[1].get_params(deep=False).get("epochs")
    return ModelProgress(name, total, quiet=args.quiet, verbose=args.verbose,
                         n_epochs=n_epochs if isinstance(n_epochs, int) else None, unit=unit)


# TensorFlow's C++ start-up lines, printed on import whatever TF_CPP_MIN_LOG_LEVEL
# says (TensorFlow 2.21); informational only. Exactly these shapes are dropped.
_STARTUP_LINES = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|I\d{4} [0-9:. ]+\s+\d+ (port|cpu_feature_guard)\.cc:\d+\] .*"
    rb"|To enable the following instructions: .* in other operations, rebuild TensorFlow .*)$"
)


@contextlib.contextmanager
def framework_startup_filter(active=True):
    """Drop TensorFlow's informational C++ start-up lines from stderr; forward all else.

    Only what native code writes to file descriptor 2 goes through the filter
    (Python's own ``sys.stderr``, hence warnings, tracebacks and progress bars,
    goes straight to the terminal). Each line is forwarded as soon as it is
    complete, so an error written before a crash is still seen; only the
    line shapes in ``_STARTUP_LINES`` are dropped.
    """
    if not active:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real fd 2 (embedded, captured)
        yield
        return
    read_end, write_end = os.pipe()
    python_stderr = sys.stderr
    if _fileno(python_stderr) == 2:
        # Python keeps writing to the real stderr, through its own duplicate.
        sys.stderr = io.TextIOWrapper(open(os.dup(saved), "wb", buffering=0),
                                      encoding=python_stderr.encoding or "utf-8",
                                      errors="backslashreplace", line_buffering=True)

    def forward():
        with open(read_end, "rb") as source:
            for line in iter(source.readline, b""):
                if not _STARTUP_LINES.match(line.rstrip(b"\r\n")):
                    os.write(saved, line)

    thread = threading.Thread(target=forward, name="stderr-filter", daemon=True)
    thread.start()
    os.dup2(write_end, 2)
    os.close(write_end)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # the pipe closes once no process holds it: the thread ends
        # Worker processes (--jobs) may still hold the pipe: do not wait for them.
        thread.join(timeout=2)
        # The duplicate stays open: a logging handler made meanwhile may still hold it.
        sys.stderr = python_stderr


def _fileno(stream):
    try:
        return stream.fileno()
    except (OSError, ValueError, AttributeError):
        return None
