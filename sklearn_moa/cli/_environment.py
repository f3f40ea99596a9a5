"""What a result depends on besides its settings: package versions and the machine."""

import importlib.metadata
import os
import platform
import shlex
import sys

__all__ = ["package_versions", "machine", "command_line", "FRAMEWORKS"]

#: Distributions whose version a benchmark records (the ones not installed are left out).
FRAMEWORKS = (
    "sklearn-moa", "scikit-learn", "numpy", "pandas", "scipy", "iterative-stratification",
    "torch", "skorch", "keras", "tensorflow", "tensorflow-cpu", "xgboost", "pytorch-tabnet", "joblib",
    "matplotlib",
)


def package_versions(names=FRAMEWORKS):
    """``{distribution: version}`` of the installed ones of ``names``, and Python's."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def _gpus():
    """Names of the CUDA devices torch sees; [] without torch or a GPU.

    torch is only asked when it is already imported (a torch model ran): the
    import alone costs seconds.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return []
    try:
        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception:  # a broken driver must not cost the results
        return []


def machine():
    """The machine a run used: OS, CPU, cores usable by this process, GPUs."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "gpus": _gpus(),
    }


def command_line(argv=None):
    """The command as typed (``argv`` default: ``sys.argv[1:]``), quoted for a shell."""
    argv = sys.argv[1:] if argv is None else argv
    return shlex.join(["sklearn-moa", *map(str, argv)])
