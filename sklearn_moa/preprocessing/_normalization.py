"""The 2nd-place per-sample normalisation of gene and cell values."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils.validation import check_is_fitted

from ..datasets._validation import _show
from ._selection import resolve_columns
from ._validation import validate_block

__all__ = ["RowQuantileNormalizer"]


def _quartile_midpoint(values):
    q25, q75 = np.percentile(values, [25, 75], axis=1)
    return (q25 + q75) / 2.0


class RowQuantileNormalizer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Centre each row on its own quartiles (the LISH-MoA 2nd place's normalisation).

    For every row (sample), separately for each block:

    - gene values: ``g - (q25(g) + q75(g)) / 2``, where the quartiles are those
      of the row's gene values;
    - cell values: ``(c - (q25(c) + q75(c)) / 2) / (q75(|c|) + cell_offset)``,
      with the quartiles of the row's cell values and ``q75(|c|)`` the 75 %
      quantile of the absolute (raw) cell values of that row.

    Each row is normalised by its own values only, so nothing is learned from
    the fit data; ``fit`` records the columns. Quantiles are linearly
    interpolated (NumPy's and pandas' default).

    Parameters
    ----------
    gene_columns : None, str, sequence of str or sequence of int, default="g-"
        Gene block: name prefix(es) (DataFrame input) or positions. None: every
        column that is not in the cell block.
    cell_columns : None, str, sequence of str or sequence of int, default="c-"
        Cell block, selected the same way. None: no cell block.
        ``gene_columns=None, cell_columns=None`` treats every column as one
        gene-like block (this is how it works on plain arrays).
    cell_offset : float, default=4.0
        Added to ``q75(|c|)`` before dividing the cell values.

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fit on a DataFrame with string column names.

    Notes
    -----
    The output holds the gene block's columns followed by the cell block's,
    under their input names; other input columns (e.g. the treatment columns)
    are dropped: keep them with a :class:`~sklearn.compose.ColumnTransformer`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_moa.preprocessing import RowQuantileNormalizer
    >>> X = np.array([[0.0, 1.0, 2.0, 3.0, 4.0]])
    >>> RowQuantileNormalizer(gene_columns=None, cell_columns=None).fit_transform(X)
    array([[-2., -1.,  0.,  1.,  2.]])
    """

    _parameter_constraints = {
        "gene_columns": [None, str, "array-like"],
        "cell_columns": [None, str, "array-like"],
        "cell_offset": [Real],
    }

    def __init__(self, gene_columns="g-", cell_columns="c-", *, cell_offset=4.0):
        self.gene_columns = gene_columns
        self.cell_columns = cell_columns
        self.cell_offset = cell_offset

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the input columns and resolve both blocks; ``y`` is ignored."""
        sizes = {}

        def resolve(names, n_features):
            cells = (
                np.empty(0, dtype=np.intp) if self.cell_columns is None
                else resolve_columns(self.cell_columns, names, n_features, param="cell_columns")
            )
            if self.gene_columns is None:
                genes = np.setdiff1d(np.arange(n_features), cells)
            else:
                genes = resolve_columns(self.gene_columns, names, n_features, param="gene_columns")
            overlap = np.intersect1d(genes, cells)
            if overlap.size:
                shown = [names[i] if names is not None else i for i in overlap]
                raise ValueError(f"Columns {_show(shown)} are in both the gene and the cell block.")
            sizes["genes"] = len(genes)
            return np.concatenate([genes, cells])

        validate_block(self, X, reset=True, param="gene_columns/cell_columns", resolve=resolve)
        self._n_genes = sizes["genes"]
        return self

    def transform(self, X):
        """Normalise each row's gene and cell values."""
        check_is_fitted(self)
        values = validate_block(self, X, reset=False, param="gene_columns/cell_columns")
        out = np.empty_like(values)
        genes, cells = values[:, : self._n_genes], values[:, self._n_genes :]
        if genes.shape[1]:
            out[:, : self._n_genes] = genes - _quartile_midpoint(genes)[:, None]
        if cells.shape[1]:
            scale = np.percentile(np.abs(cells), 75, axis=1) + self.cell_offset
            out[:, self._n_genes :] = (cells - _quartile_midpoint(cells)[:, None]) / scale[:, None]
        return out

    def get_feature_names_out(self, input_features=None):
        """Input names of the gene block's then the cell block's columns."""
        check_is_fitted(self)
        names = super().get_feature_names_out(input_features)
        return names[self._positions]
