"""What every deep model does when its loss turns NaN or infinite during fit.

A diverged network predicts NaN; a fit that returns it (or a command that
saves it) fails later and far from the cause. Each framework module (skorch,
Keras, pytorch-tabnet) hooks a small callback into its training loop that
checks the epoch's losses with :func:`non_finite_loss` and then either

- restores the weights of the best epoch and warns, where early stopping
  keeps one (:func:`warn_restored`), or
- stops the fit with a :class:`NonFiniteLossError` naming the epoch
  (:func:`non_finite_loss_error`).

Nothing here imports a framework.
"""

import math
import warnings

__all__ = ["NonFiniteLossError", "non_finite_loss", "non_finite_loss_error", "warn_restored"]


class NonFiniteLossError(FloatingPointError):
    """A deep model's training or validation loss became NaN or infinite.

    Raised by ``fit`` at the end of the epoch where it happened, instead of
    returning a network that predicts NaN.

    Examples
    --------
    >>> from sklearn_moa.models import NonFiniteLossError
    >>> issubclass(NonFiniteLossError, FloatingPointError)
    True
    """


def non_finite_loss(losses):
    """The first ``(name, value)`` of ``losses`` that is NaN or infinite, or None.

    Parameters
    ----------
    losses : dict of str -> float or None
        The epoch's losses by name; None (not computed) is skipped.
    """
    for name, value in losses.items():
        if value is not None and not math.isfinite(float(value)):
            return name, float(value)
    return None


def non_finite_loss_error(model, phase, epoch, name, value):
    """The :class:`NonFiniteLossError` for ``model``'s ``name`` loss at ``epoch`` (1-based)."""
    return NonFiniteLossError(
        f"{model}: the {name} became {value} at epoch {epoch} of {phase}; the fit is stopped "
        "rather than return a network that predicts NaN. Lower learning_rate, or check the "
        "features for extreme values."
    )


def warn_restored(model, phase, epoch, name, value, best_epoch):
    """Warn that ``model`` stopped at ``epoch`` and went back to ``best_epoch`` (1-based)."""
    warnings.warn(
        f"{model}: the {name} became {value} at epoch {epoch} of {phase}; training stopped "
        f"there and the weights of the best epoch ({best_epoch}) were restored.",
        RuntimeWarning,
        stacklevel=2,
    )
