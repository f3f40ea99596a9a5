"""The ``sklearn-moa`` command and the model files it reads and writes.

Sub-commands: ``models``, ``benchmark``, ``train``, ``predict``, ``make-data`` (run
``sklearn-moa COMMAND --help``). :func:`save_model` and :func:`load_model` are
the Python side of the model files ``train`` writes and ``predict`` reads.
"""

from ._main import main
from ._persistence import ModelFile, ModelFileError, load_model, save_model

__all__ = ["ModelFile", "ModelFileError", "load_model", "main", "save_model"]
