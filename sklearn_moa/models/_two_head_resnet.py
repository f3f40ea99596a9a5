"""The 1st place's two-head ResNet (torch, trained through skorch)."""

import copy
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, RealNotInt

from ..preprocessing._selection import resolve_columns
from ._skorch_base import SkorchMoAClassifier, _plain_history, fill_shared_doc

__all__ = ["TwoHeadResNetClassifier", "t_test_scores"]

#: Epochs without improvement that end a freeze or unfreeze phase (the source's 3).
REFINE_PATIENCE = 3
#: Learning rate of the frozen and of the unfrozen phase, as a fraction of
#: ``learning_rate`` (the source: 1e-3 for the main phases, 1e-3/3 and 1e-3/5).
REFINE_FROZEN_RATE = 1 / 3
REFINE_UNFROZEN_RATE = 1 / 5
#: A refinement phase must lower the validation loss by this much to count.
REFINE_MIN_DELTA = 1e-6


def t_test_scores(X, Y):
    """How strongly each column separates the positives of the targets from the rest.

    For every target and column, Student's two-sample t statistic (pooled
    variance) between the rows where the target is 1 and the others; a
    column's score is the mean of its squared t over the targets. Without
    signal a squared t averages about 1 whatever the number of positives, so
    targets with a single positive row do not swamp the score.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_targets)
        0/1 targets, each with both classes.

    Returns
    -------
    scores : ndarray of shape (n_features,)
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    n = X.shape[0]
    n_pos = Y.sum(axis=0)[:, None]
    n_neg = n - n_pos
    sum_pos = Y.T @ X
    sq_pos = Y.T @ (X**2)
    sum_all, sq_all = X.sum(axis=0), (X**2).sum(axis=0)
    mean_pos, mean_neg = sum_pos / n_pos, (sum_all - sum_pos) / n_neg
    within = (sq_pos - n_pos * mean_pos**2) + ((sq_all - sq_pos) - n_neg * mean_neg**2)
    pooled = np.maximum(within, 0) / np.maximum(n - 2, 1)
    t = (mean_pos - mean_neg) / np.sqrt(pooled * (1 / n_pos + 1 / n_neg) + 1e-12)
    return (t**2).mean(axis=0)


@fill_shared_doc
class TwoHeadResNetClassifier(SkorchMoAClassifier):
    """The 1st place's two-head ResNet, with non-scored transfer and freeze / unfreeze rounds.

    One input branch reads every column of ``X``, the other a selected subset
    of the columns; densely joined residual blocks mix them, and a tail of
    SELU layers leads to the output. Layer for layer, with the wide and
    narrow widths ``hidden_layer_sizes`` (512, 256): the all-columns branch
    ``h`` (BatchNorm, dropout, Dense wide ELU, BatchNorm, Dense narrow ELU);
    blocks ``b1`` = Dense wide ReLU of ``[h, selected]`` (after BatchNorm and
    dropout), ``b2`` = Dense wide ELU then narrow ReLU of ``[h, selected,
    b1]``, ``b3`` = Dense narrow ELU of ``[b1, b2]``, ``b4`` = Dense narrow
    ReLU of ``[b1, b2, b3]``, each behind a BatchNorm; the tail's SELU layers
    read ``[h, b2, b3, b4]``; a BatchNorm and a linear layer give the
    logits. Training follows the 1st place ("Hungry for gold", 2-heads ResNet
    CV 0.01589, private 0.01624 as a single model; the 10-fold "V2" CV
    0.01566, private 0.01623):

    1. with ``Y_nonscored``, pretraining on the non-scored targets;
    2. a fresh output layer, training on the scored targets;
    3. up to ``refine_rounds`` rounds of a *frozen* phase (only the tail and
       the output train, at a third of ``learning_rate``) and an *unfrozen*
       phase (everything, at a fifth), each kept only if it lowers the
       validation loss; the rounds end when one brings no improvement.

    Phases 1 and 2 use Adam, label smoothing 0.0005, the learning rate halved
    after 4 epochs without improvement and early stopping (patience 10) on the
    held-out rows, as the source did with Keras.

    Differences from the source: it ran the freeze / unfreeze rounds on the
    validation fold itself (training and judging on the same rows, so its
    out-of-fold score of this model is optimistic); here they train on the
    training rows and are judged on the held-out ``validation_fraction``.
    It used Adadelta for the rounds, here Adam at the lower rates. Without
    ``early_stopping`` there is nothing to judge on: every round runs
    ``refine_epochs`` epochs per phase and all of them are kept. Its
    ``last_frozen`` layer name sat inside a Keras ``Sequential`` block, where
    the freezing loop could not find it, so its "frozen" phase froze every
    layer; here the frozen phase trains the tail and the output, as the code
    meant to.

    The selected branch: the source fed it 447 of the 875 g-/c- columns (347
    genes and all 100 cell lines), kept by the t-tests of a public kernel;
    ``selected_columns`` chooses them here.

    Parameters
    ----------
    selected_columns : float, int, str or sequence, default=0.5
        Columns of ``X`` that feed the selected branch (the other branch reads
        every column):

        - float in (0, 1): that share of the columns, those with the largest
          :func:`t_test_scores` on the training targets (chosen in ``fit``);
        - int ``k``: the ``k`` columns with the largest scores;
        - str or sequence of str: the columns whose names start with these
          prefixes (``X`` a DataFrame), e.g. the 1st place's 447 names;
        - sequence of int: column positions.
    hidden_layer_sizes : (int, int), default=(512, 256)
        The blocks' wide and narrow widths.
    tail_units : tuple of int, default=(256, 206)
        Widths of the tail's SELU layers (the source's last one had one unit
        per scored target, 206).
    input_dropout : float, default=0.2
        Dropout on the all-columns branch's input.
    dropout : float, default=0.3
        Dropout on the first block's input.
    refine_rounds : int, default=3
        Maximum freeze / unfreeze rounds after training on the scored targets
        (the source looped until a round brought nothing); 0 skips them.
    refine_epochs : int, default=10
        Maximum epochs of each freeze or unfreeze phase; with early stopping
        a phase ends after 3 epochs without improvement.
    epochs : int, default=50
        Maximum passes over the training data of the main phase (and of the
        pretraining when ``pretrain_epochs`` is None).
    batch_size : int, default=128
        Rows per gradient step (and per prediction batch).
    learning_rate : float, default=1e-3
        Adam's learning rate of the main phases.
    weight_decay : float, default=0.0
        Adam's L2 penalty (the source had none).
    lr_schedule : {"onecycle", "plateau"} or None, default="plateau"
        ``"plateau"`` (the source's): the rate is halved after 4 epochs
        without improvement of the validation loss (of the training loss
        without early stopping). ``"onecycle"``: torch's ``OneCycleLR``
        stepped every batch. None: constant rate.
    label_smoothing : float, default=0.0005
        Training targets become ``y * (1 - label_smoothing) + label_smoothing / 2``
        (the source's Keras label smoothing of 0.0005).
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows (whole drugs when ``fit``
        gets ``groups``), stop each phase when their log loss has not improved
        for ``patience`` epochs (3 in the freeze / unfreeze phases) and keep
        its best epoch; it also judges the freeze / unfreeze phases.
    validation_fraction : float, default=0.1
        Share of the rows held out (the source held out one fold of ten).
    patience : int, default=10
        Epochs without improvement before early stopping (the source's 10).
    pretrain_epochs : int or None, default=None
        Epochs of pretraining on the non-scored targets when ``fit`` gets
        ``Y_nonscored``; None means ``epochs``, 0 disables pretraining.
    pretrain_min_positives : int, default=1
        Non-scored targets with fewer positive training rows (or with no
        negative) are left out of pretraining.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Torch device; ``"auto"`` picks CUDA when available.
    n_jobs : int or None, default=None
        Torch threads during fit and predict (restored afterwards); None keeps
        torch's setting, -1 uses every core.
    random_state : None, int or RandomState, default=None
        Seeds the weights, dropout, batch order and validation split.
        Torch's global random state is left as it was.
    verbose : int, default=0
        0 is silent; > 0 prints skorch's table of losses per epoch.

    Attributes
    ----------
    selected_columns_ : ndarray of int or None
        Positions of the columns that fed the selected branch (None when
        every target had a single class in training).
    refine_histories_ : list of dict
        One per freeze or unfreeze phase run, in order, as ``history_``.
    refine_improvements_ : list of bool
        Whether each of those phases lowered the validation loss (and was kept).
    {fitted_attributes}

    See Also
    --------
    ResidualNNClassifier : The winners' dense network on the same machinery.
    MultiStageNNClassifier : The 1st place's other non-scored transfer model.
    TwoHeadNNClassifier : The blog post's (Keras) two-head network: PCA head and raw head.

    Notes
    -----
    {nonscored_notes}

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_moa.models import TwoHeadResNetClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(80, 10); Y = (X[:, :3] > 0.5).astype(int)
    >>> Y_ns = (X[:, 3:7] > 0.8).astype(int)
    >>> model = TwoHeadResNetClassifier(hidden_layer_sizes=(16, 8), tail_units=(8,), epochs=2,
    ...                                 refine_rounds=1, refine_epochs=1, random_state=0)
    >>> model.fit(X, Y, Y_nonscored=Y_ns).predict_proba(X).shape
    (80, 3)
    >>> len(model.selected_columns_)
    5
    """

    _parameter_constraints = {
        **SkorchMoAClassifier._parameter_constraints,
        "selected_columns": [
            Interval(RealNotInt, 0, 1, closed="neither"), Interval(Integral, 1, None, closed="left"), str,
            "array-like",
        ],
        "hidden_layer_sizes": ["array-like"],
        "tail_units": ["array-like"],
        "input_dropout": [Interval(Real, 0, 1, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "refine_rounds": [Interval(Integral, 0, None, closed="left")],
        "refine_epochs": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        selected_columns=0.5,
        hidden_layer_sizes=(512, 256),
        tail_units=(256, 206),
        input_dropout=0.2,
        dropout=0.3,
        refine_rounds=3,
        refine_epochs=10,
        *,
        epochs=50,
        batch_size=128,
        learning_rate=1e-3,
        weight_decay=0.0,
        lr_schedule="plateau",
        label_smoothing=0.0005,
        early_stopping=True,
        validation_fraction=0.1,
        patience=10,
        pretrain_epochs=None,
        pretrain_min_positives=1,
        device="cpu",
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.selected_columns = selected_columns
        self.hidden_layer_sizes = hidden_layer_sizes
        self.tail_units = tail_units
        self.input_dropout = input_dropout
        self.dropout = dropout
        self.refine_rounds = refine_rounds
        self.refine_epochs = refine_epochs
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.label_smoothing = label_smoothing
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_min_positives = pretrain_min_positives
        self.device = device
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _check_architecture(self):
        for name, count in (("hidden_layer_sizes", "two"), ("tail_units", "one or more")):
            sizes = list(getattr(self, name))
            right_count = len(sizes) == 2 if count == "two" else len(sizes) >= 1
            if not right_count or not all(isinstance(s, Integral) and s >= 1 for s in sizes):
                raise ValueError(f"{name} must hold {count} positive ints; got {getattr(self, name)!r}.")

    def _fit_untrained(self):
        super()._fit_untrained()
        self.selected_columns_ = None
        self.refine_histories_ = []
        self.refine_improvements_ = []

    def _fit_targets(self, X, Y, seeds, Y_nonscored=None, groups=None):
        self.selected_columns_ = self._select_columns(X, Y)
        self.refine_histories_ = []
        self.refine_improvements_ = []
        super()._fit_targets(X, Y, seeds, Y_nonscored=Y_nonscored, groups=groups)

    def _select_columns(self, X, Y):
        spec, n_features = self.selected_columns, X.shape[1]
        if isinstance(spec, RealNotInt):
            spec = max(1, int(round(spec * n_features)))
        if isinstance(spec, Integral):
            if spec > n_features:
                raise ValueError(f"selected_columns={spec} asks for more columns than X has ({n_features}).")
            best = np.argsort(-t_test_scores(X, Y), kind="stable")[:spec]
            return np.sort(best)
        selected = resolve_columns(
            spec, getattr(self, "feature_names_in_", None), n_features, param="selected_columns"
        )
        if not len(selected):
            raise ValueError(f"selected_columns={spec!r} selects no column of X.")
        return np.asarray(selected)

    def _build_module(self, n_features, n_outputs):
        from ._transfer_modules import TwoHeadResNet

        return TwoHeadResNet(
            n_features, self.selected_columns_, n_outputs, hidden_layer_sizes=tuple(self.hidden_layer_sizes),
            tail_units=tuple(self.tail_units), input_dropout=self.input_dropout, dropout=self.dropout,
        )

    def _after_training(self, module, X, Y, train, valid):
        """The freeze / unfreeze rounds."""
        judged = valid is not None
        best_loss = _valid_loss(module, X, Y, valid) if judged else None
        best_state = copy.deepcopy(module.state_dict()) if judged else None
        for _ in range(self.refine_rounds):
            round_improved = False
            for frozen, rate in ((True, REFINE_FROZEN_RATE), (False, REFINE_UNFROZEN_RATE)):
                module.freeze_body(frozen)
                net = self._train(
                    module, X, Y, train, valid, self.refine_epochs,
                    "the frozen-body refinement" if frozen else "the unfrozen refinement",
                    learning_rate=self.learning_rate * rate, patience=REFINE_PATIENCE,
                )
                module.freeze_body(False)
                self.refine_histories_.append(_plain_history(net.history))
                if not judged:
                    self.refine_improvements_.append(True)
                    continue
                loss = _valid_loss(module, X, Y, valid)
                improved = best_loss - loss >= REFINE_MIN_DELTA
                self.refine_improvements_.append(bool(improved))
                if improved:
                    best_loss, best_state = loss, copy.deepcopy(module.state_dict())
                    round_improved = True
                else:
                    module.load_state_dict(best_state)
            if judged and not round_improved:
                break


def _valid_loss(module, X, Y, valid):
    """Mean binary log loss of ``module`` on the ``valid`` rows (eval mode)."""
    import torch
    import torch.nn.functional as F

    was_training = module.training
    module.eval()
    device = next(module.parameters()).device
    with torch.inference_mode():
        logits = module(X[valid].to(device))
        loss = F.binary_cross_entropy_with_logits(logits, torch.as_tensor(Y[valid]).float().to(device))
    module.train(was_training)
    return float(loss)
