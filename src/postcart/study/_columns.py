"""Column access helpers for the analysis table: typed numpy views and named populations."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from postcart.errors import SpecError

BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]


def require_columns(table: pd.DataFrame, needed: dict[str, str]) -> None:
    """Raise one ``SpecError`` naming every missing column and the analysis that needs it."""
    missing = {col: who for col, who in needed.items() if col not in table.columns}
    if missing:
        listing = "; ".join(f"{col!r} (needed by {who})" for col, who in sorted(missing.items()))
        raise SpecError(f"the analysis table lacks {len(missing)} column(s): {listing}")


def flag(series: pd.Series) -> BoolArray:
    """A boolean column as a numpy bool array, missing = False."""
    return series.astype("boolean").fillna(False).to_numpy(dtype=bool)


def known(series: pd.Series) -> BoolArray:
    """True where the value is not missing."""
    return series.notna().to_numpy(dtype=bool)


def as_float(series: pd.Series) -> FloatArray:
    """A numeric or boolean column as float64 with NaN for missing (booleans as 1.0/0.0)."""
    if pd.api.types.is_bool_dtype(series.dtype) or str(series.dtype) == "boolean":
        s = series.astype("boolean")
        out: FloatArray = np.where(s.fillna(False).to_numpy(dtype=bool), 1.0, 0.0).astype(np.float64)
        out[s.isna().to_numpy(dtype=bool)] = np.nan
        return out
    return np.asarray(pd.to_numeric(series, errors="coerce"), dtype=np.float64)


def as_label(series: pd.Series) -> NDArray[np.object_]:
    """A categorical or boolean column as strings (booleans as "true"/"false"), missing = None."""
    if pd.api.types.is_bool_dtype(series.dtype) or str(series.dtype) == "boolean":
        s = series.astype("boolean")
        vals = np.where(s.fillna(False).to_numpy(dtype=bool), "true", "false").astype(object)
        vals[s.isna().to_numpy(dtype=bool)] = None
        return vals
    out = series.astype(object).to_numpy().copy()
    isna = pd.isna(out)
    out[isna] = None
    return out


def population_mask(table: pd.DataFrame, name: str) -> BoolArray:
    """The rows of the named population (see ``postcart.study.spec.POPULATIONS``)."""
    n = len(table)
    if name == "registered":
        return np.ones(n, dtype=bool)
    if name == "infused":
        return flag(table["infused"])
    if name == "responders":
        return flag(table["infused"]) & flag(table["cart_responder"])
    if name == "failures":
        return flag(table["failed"])
    treated: BoolArray = flag(table["failed"]) & np.asarray(
        as_label(table["salvage_status"]) == "treated", dtype=bool
    )
    if name == "salvage":
        return treated
    if name == "response_evaluable":
        return treated & flag(table["salvage_response_evaluable"])
    if name == "rt_localized":
        rt: BoolArray = np.asarray(as_label(table["salvage_class"]) == "radiotherapy", dtype=bool)
        return treated & rt & flag(table["rt_localized_sole"])
    raise SpecError(f"unknown population {name!r}")


POPULATION_COLUMNS: tuple[str, ...] = (
    "infused",
    "cart_responder",
    "failed",
    "salvage_status",
    "salvage_response_evaluable",
    "salvage_class",
    "rt_localized_sole",
)
