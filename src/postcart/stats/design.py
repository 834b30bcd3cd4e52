"""Design matrices for regression models: numeric columns and treatment-contrast dummies.

``model_matrix`` reproduces what R's ``model.matrix`` gives a ``coxph`` formula (no intercept):
a numeric column is used as is; a categorical column with levels ``l_0 (reference), l_1, ...``
becomes one 0/1 column per non-reference level, named ``"variable[level]"``. Rows with a missing
value in any of the model's columns are dropped (R's ``na.omit``) and counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from postcart.errors import StatsError

__all__ = ["ModelMatrix", "model_matrix"]

#: How a categorical column is coded: its reference level (``None`` = first level in sorted
#: order, or the first category of a pandas Categorical), or the full ordered list of levels
#: (the first is the reference).
LevelSpec = str | None | Sequence[str]


@dataclass(frozen=True, slots=True)
class ModelMatrix:
    """A numeric design matrix with named columns.

    Attributes
    ----------
    X : ndarray, shape (rows_used.sum(), p)
        The complete-case rows only.
    names : tuple of str
        Column names; dummies are ``"variable[level]"``.
    rows_used : ndarray of bool
        Which input rows are in ``X`` (the same mask must be applied to time/event/...).
    n_dropped : int
        Rows dropped for a missing value.
    terms : dict
        Variable -> the column names it produced (a factor gives several; used by ``cox_zph``).
    levels : dict
        Categorical variable -> its levels in order (the first is the reference).
    """

    X: NDArray[np.float64]
    names: tuple[str, ...]
    rows_used: NDArray[np.bool_]
    n_dropped: int
    terms: dict[str, tuple[str, ...]]
    levels: dict[str, tuple[str, ...]]

    def to_frame(self) -> pd.DataFrame:
        """The design matrix as a DataFrame with the column names."""
        return pd.DataFrame(self.X, columns=list(self.names))


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _missing_mask(v: NDArray[Any]) -> NDArray[np.bool_]:
    return np.asarray(pd.isna(pd.Series(v, dtype=object if v.dtype == object else None)), dtype=bool)


def model_matrix(
    columns: Mapping[str, ArrayLike],
    *,
    categorical: Mapping[str, LevelSpec] | None = None,
) -> ModelMatrix:
    """Build a design matrix with treatment contrasts and complete-case rows.

    Parameters
    ----------
    columns : mapping of str to array-like
        The model's variables, in the order of the output columns. All the same length.
    categorical : mapping, optional
        Variables to treat as categorical, each mapped to its reference level, to ``None`` (the
        first level in sorted order) or to the ordered list of levels (the first is the
        reference). A pandas Categorical column keeps its category order when given ``None``.
        Levels that no complete-case row has are left out.

    Returns
    -------
    ModelMatrix

    Raises
    ------
    StatsError
        Unequal lengths, a non-numeric column not declared categorical, an unknown variable in
        ``categorical``, a reference level that does not occur, or no complete row.

    Examples
    --------
    >>> mm = model_matrix({"age": [60, 70, None, 50], "arm": ["b", "a", "a", "c"]},
    ...                   categorical={"arm": "a"})
    >>> mm.names, mm.n_dropped
    (('age', 'arm[b]', 'arm[c]'), 1)
    """
    categorical = dict(categorical or {})
    unknown = sorted(set(categorical) - set(columns))
    if unknown:
        raise StatsError(f"categorical names {unknown} are not among the columns {list(columns)}")
    if not columns:
        raise StatsError("columns is empty: a model needs at least one variable")
    arrays: dict[str, NDArray[Any]] = {}
    n: int | None = None
    cat_orders: dict[str, list[str] | None] = {}
    for name, col in columns.items():
        if isinstance(col, pd.Series) and isinstance(col.dtype, pd.CategoricalDtype):
            cat_orders[name] = [str(c) for c in col.cat.categories]
            arr = np.asarray(col.astype(object))
        elif isinstance(col, pd.Categorical):
            cat_orders[name] = [str(c) for c in col.categories]
            arr = np.asarray(col.astype(object))
        else:
            cat_orders[name] = None
            arr = np.asarray(col)
        if arr.ndim != 1:
            raise StatsError(f"column {name!r} must be one-dimensional, but has shape {arr.shape}")
        if n is None:
            n = arr.size
        elif arr.size != n:
            raise StatsError(f"column {name!r} has {arr.size} values but the first column has {n}")
        arrays[name] = arr
    n = 0 if n is None else n
    missing = np.zeros(n, dtype=bool)
    for arr in arrays.values():
        missing |= _missing_mask(arr)
    used = ~missing
    if not used.any():
        raise StatsError(f"no row is complete: every one of the {n} rows has a missing value")
    out_cols: list[NDArray[np.float64]] = []
    out_names: list[str] = []
    terms: dict[str, tuple[str, ...]] = {}
    levels_out: dict[str, tuple[str, ...]] = {}
    for name, arr in arrays.items():
        if name not in categorical and arr.dtype.kind in "OUS":
            try:
                arr = arr.astype(np.float64)
            except (TypeError, ValueError):
                raise StatsError(
                    f"column {name!r} is not numeric (e.g. {_py(arr[used][0])!r}); "
                    "declare it in categorical= with its reference level"
                ) from None
        if name in categorical:
            vals = np.array([str(v) for v in arr[used]], dtype=object)
            present = sorted(set(vals))
            spec = categorical[name]
            if spec is None or isinstance(spec, str):
                order = cat_orders[name] or present
                lv = [lvl for lvl in order if lvl in present]
                if isinstance(spec, str):
                    if spec not in present:
                        raise StatsError(
                            f"reference level {spec!r} of {name!r} does not occur in the rows used; "
                            f"levels are {present}"
                        )
                    lv = [spec] + [lvl for lvl in lv if lvl != spec]
            else:
                given = [str(v) for v in spec]
                extra = sorted(set(present) - set(given))
                if extra:
                    raise StatsError(
                        f"column {name!r} has levels {extra} that are not in the given levels {given}"
                    )
                lv = [lvl for lvl in given if lvl in present]
                if not lv or lv[0] != given[0]:
                    raise StatsError(
                        f"reference level {given[0]!r} of {name!r} does not occur in the rows used"
                    )
            levels_out[name] = tuple(lv)
            names_here = []
            for lvl in lv[1:]:
                out_cols.append((vals == lvl).astype(np.float64))
                names_here.append(f"{name}[{lvl}]")
            out_names.extend(names_here)
            terms[name] = tuple(names_here)
        else:
            try:
                col = arr[used].astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise StatsError(f"column {name!r} must be numeric: {exc}") from None
            bad = np.flatnonzero(~np.isfinite(col))
            if bad.size:
                raise StatsError(f"column {name!r} has a non-finite value {col[bad[0]]!r}")
            out_cols.append(col)
            out_names.append(name)
            terms[name] = (name,)
    X = np.column_stack(out_cols) if out_cols else np.zeros((int(used.sum()), 0))
    return ModelMatrix(
        X=np.ascontiguousarray(X, dtype=np.float64),
        names=tuple(out_names),
        rows_used=used,
        n_dropped=int(n - used.sum()),
        terms=terms,
        levels=levels_out,
    )
