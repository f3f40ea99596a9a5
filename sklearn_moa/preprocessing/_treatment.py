"""Encoding of the treatment descriptors cp_time, cp_dose (and cp_type)."""

import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_array
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

from ..datasets._columns import CP_DOSES, CP_TIMES, CP_TYPES
from ..datasets._validation import _show
from ._selection import resolve_columns

__all__ = ["TreatmentEncoder"]

#: The Kaggle vocabulary, in the order of the ordinal codes.
MOA_CATEGORIES = {"cp_type": CP_TYPES, "cp_time": CP_TIMES, "cp_dose": CP_DOSES}


class TreatmentEncoder(TransformerMixin, BaseEstimator):
    """Encode the treatment descriptors (``cp_time``, ``cp_dose``, ``cp_type``).

    Parameters
    ----------
    columns : None, str, sequence of str or sequence of int, default=("cp_time", "cp_dose")
        Columns to encode: names (prefixes) for a DataFrame, positions for an
        array, None for all columns. ``cp_type`` is left out by default: the
        control rule (:class:`~sklearn_moa.models.ControlAwareClassifier`)
        handles control rows; add it for a model that wants it as a feature
        (the seed's TabNet features do).
    encoding : {"ordinal", "onehot"}, default="ordinal"
        ``"ordinal"``: one column per input column holding the category's
        position in the vocabulary (``cp_time`` 24/48/72 -> 0/1/2, ``cp_dose``
        D1/D2 -> 0/1, ``cp_type`` trt_cp/ctl_vehicle -> 0/1), named like the
        input column. ``"onehot"``: one 0/1 column per category, named
        ``"{column}_{category}"`` (``cp_time_24``, ``cp_dose_D1``, ...).
    categories : {"moa", "fit"}, default="moa"
        ``"moa"``: the Kaggle vocabulary for columns named ``cp_type``,
        ``cp_time`` and ``cp_dose`` (so a fold that lacks a value encodes it
        the same way), the sorted values seen in fit for any other column.
        ``"fit"``: the sorted values seen in fit for every column.

    Attributes
    ----------
    categories_ : list of ndarray
        Vocabulary of each encoded column, in code order.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fit on a DataFrame with string column names.

    Raises
    ------
    ValueError
        In ``transform`` (and in ``fit`` with the Kaggle vocabulary) for a value
        outside the vocabulary, naming the column and the values; for missing
        values, naming the columns. Unknown values are never encoded silently.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_moa.preprocessing import TreatmentEncoder
    >>> X = pd.DataFrame({"cp_time": [24, 72], "cp_dose": ["D2", "D1"]})
    >>> TreatmentEncoder().fit_transform(X)
    array([[0., 1.],
           [2., 0.]])
    >>> TreatmentEncoder(encoding="onehot").fit(X).get_feature_names_out().tolist()
    ['cp_time_24', 'cp_time_48', 'cp_time_72', 'cp_dose_D1', 'cp_dose_D2']
    """

    _parameter_constraints = {
        "columns": [None, str, "array-like"],
        "encoding": [StrOptions({"ordinal", "onehot"})],
        "categories": [StrOptions({"moa", "fit"})],
    }

    def __init__(self, columns=("cp_time", "cp_dose"), *, encoding="ordinal", categories="moa"):
        self.columns = columns
        self.encoding = encoding
        self.categories = categories

    def _input_names(self):
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            names = [f"x{i}" for i in range(self.n_features_in_)]
        return [str(names[i]) for i in self._positions]

    def _validate(self, X, reset):
        if not hasattr(X, "iloc"):
            X = check_array(X, dtype=None, ensure_all_finite=False)
        return validate_data(self, X, reset=reset, skip_check_array=True)

    def _column_values(self, X):
        """The selected columns as a list of 1-D arrays, checked for missing values."""
        if hasattr(X, "iloc"):
            columns = [X.iloc[:, i].to_numpy() for i in self._positions]
        else:
            columns = [X[:, i] for i in self._positions]
        names = self._input_names()
        bad = []
        for name, values in zip(names, columns):
            if values.dtype == object:
                odd = [v for v in values if not isinstance(v, (str, numbers.Number)) and v is not None]
                if odd:
                    raise TypeError(
                        f"TreatmentEncoder argument must be a string or a number; column {name} "
                        f"holds {type(odd[0]).__name__} values."
                    )
            missing = pd.isna(values)
            if values.dtype.kind in "fc":
                missing = missing | np.isinf(values)
            if missing.any():
                bad.append(name)
        if bad:
            raise ValueError(f"X has missing (NaN) or infinite values in treatment columns: {_show(bad)}")
        return columns

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Set the vocabulary of each column; ``y`` is ignored."""
        X = self._validate(X, reset=True)
        self._positions = resolve_columns(
            self.columns, getattr(self, "feature_names_in_", None), X.shape[1]
        )
        self.categories_ = []
        for name, values in zip(self._input_names(), self._column_values(X)):
            if self.categories == "moa" and name in MOA_CATEGORIES:
                self.categories_.append(np.asarray(MOA_CATEGORIES[name], dtype=object))
            else:
                found = pd.unique(values)
                try:
                    found = np.sort(found)
                except TypeError:  # mixed types: keep first-seen order
                    pass
                self.categories_.append(np.asarray(found, dtype=object))
        # A value outside the Kaggle vocabulary is an error in fit too.
        self._codes(X)
        return self

    def _codes(self, X):
        codes = []
        for name, values, vocabulary in zip(
            self._input_names(), self._column_values(X), self.categories_
        ):
            code = pd.Index(vocabulary).get_indexer(values)
            if (code < 0).any():
                unknown = pd.unique(values[code < 0])
                raise ValueError(
                    f"X has {int((code < 0).sum())} rows with unknown {name} values "
                    f"{_show([repr(v) for v in unknown])}; known values are "
                    f"{_show([repr(v) for v in vocabulary], n=20)}."
                )
            codes.append(code)
        return codes

    def transform(self, X):
        """Encode the treatment columns; unknown values raise a ValueError."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        codes = self._codes(X)
        n_samples = len(codes[0]) if codes else 0
        if self.encoding == "ordinal":
            return np.column_stack(codes).astype(float) if codes else np.empty((n_samples, 0))
        blocks = []
        for code, vocabulary in zip(codes, self.categories_):
            block = np.zeros((len(code), len(vocabulary)))
            block[np.arange(len(code)), code] = 1.0
            blocks.append(block)
        return np.hstack(blocks)

    def get_feature_names_out(self, input_features=None):
        """Input names (ordinal) or ``"{column}_{category}"`` (one-hot)."""
        check_is_fitted(self)
        _check_feature_names_in(self, input_features)
        names = self._input_names()
        if self.encoding == "ordinal":
            return np.asarray(names, dtype=object)
        return np.asarray(
            [f"{n}_{c}" for n, vocab in zip(names, self.categories_) for c in vocab], dtype=object
        )
