"""Conversions between typed frames (``postcart.registry.tables``), the text of the import
format, and database rows.

The *canonical text* of a value is how an export writes it: dates ``YYYY-MM-DD``/``YYYY-MM``/
``YYYY`` according to their precision, whole numbers without a decimal point, other numbers
in the shortest form that reads back to the same double, booleans ``yes``/``no``, code lists
joined by ``;``, missing values empty. Re-importing canonical text gives the same typed values,
so export -> import -> export is identical.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from postcart.registry.schema import TableSpec
from postcart.registry.tables import empty_frame, frame_columns


def format_float(x: object) -> str:
    """Canonical text of a float: ``12`` for 12.0, else the shortest round-trip repr."""
    if x is None or pd.isna(x):  # type: ignore[call-overload]
        return ""
    v = float(x)  # type: ignore[arg-type]
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def date_text(dates: pd.Series, precision: pd.Series) -> pd.Series:
    """Canonical text of dates with their precision (``""`` when missing)."""
    full = dates.dt.strftime("%Y-%m-%d")
    prec = precision.to_numpy(dtype=object)
    text = np.where(prec == "year", full.str[:4], np.where(prec == "month", full.str[:7], full))
    return pd.Series(text, index=dates.index, dtype=object).where(dates.notna(), "")


def to_text(frame: pd.DataFrame, spec: TableSpec, *, fields: Sequence[str] | None = None) -> pd.DataFrame:
    """The table in canonical text, every cell a ``str``; columns = ``fields`` (default: all
    of ``spec.field_names``)."""
    names = list(spec.field_names if fields is None else fields)
    out: dict[str, pd.Series] = {}
    for f in (spec.field(n) for n in names):
        s = frame[f.name]
        if f.kind == "date":
            out[f.name] = date_text(s, frame[f"{f.name}_precision"])
        elif f.kind == "int":
            out[f.name] = s.astype("Int64").astype("string").fillna("").astype(object)
        elif f.kind == "float":
            out[f.name] = s.map(format_float).astype(object)
        elif f.kind == "bool":
            out[f.name] = s.astype("boolean").map({True: "yes", False: "no"}).fillna("").astype(object)
        elif f.kind == "codes":
            out[f.name] = s.map(lambda t: ";".join(t) if isinstance(t, tuple) else "").astype(object)
        else:
            out[f.name] = s.where(s.notna(), "").astype(object)
    return pd.DataFrame(out, index=frame.index, columns=names)


def to_db_frame(frame: pd.DataFrame, spec: TableSpec, *, dates_as_text: bool = False) -> pd.DataFrame:
    """The table as database values: Python objects, ``None`` when missing.

    ``dates_as_text``: dates as ISO ``YYYY-MM-DD`` strings (what SQLAlchemy stores in SQLite),
    for inserts through the driver's own ``executemany``.
    """
    out: dict[str, pd.Series] = {}
    for f in spec.fields:
        s = frame[f.name]
        if f.kind == "date":
            if dates_as_text:
                dates = s.dt.strftime("%Y-%m-%d").astype(object)
            else:
                dates = pd.Series(s.dt.date, index=s.index, dtype=object)
            out[f.name] = dates.where(s.notna(), None)
            p = frame[f"{f.name}_precision"]
            out[f"{f.name}_precision"] = p.astype(object).where(p.notna(), None)
        elif f.kind == "int":
            ints = s.astype("Int64")
            out[f.name] = pd.Series(
                [None if pd.isna(v) else int(v) for v in ints], index=s.index, dtype=object
            )
        elif f.kind == "float":
            out[f.name] = s.astype(object).where(s.notna(), None)
        elif f.kind == "bool":
            b = s.astype("boolean")
            flags: list[bool | None] = [None if pd.isna(v) else bool(v) for v in b]
            out[f.name] = pd.Series(flags, index=s.index, dtype=object)
        elif f.kind == "codes":
            joined = [";".join(t) if isinstance(t, tuple) and t else None for t in s]
            out[f.name] = pd.Series(joined, index=s.index, dtype=object)
        else:
            out[f.name] = s.astype(object).where(s.notna(), None)
    return pd.DataFrame(out, index=frame.index, columns=frame_columns(spec))


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a database frame as dicts (for ``executemany``)."""
    cols = list(frame.columns)
    return [dict(zip(cols, row, strict=True)) for row in frame.itertuples(index=False, name=None)]


def from_db_rows(rows: list[tuple[Any, ...]], columns: list[str], spec: TableSpec) -> pd.DataFrame:
    """Typed frame (``tables.py`` conventions) from database rows of ``spec``'s table."""
    if not rows:
        return empty_frame(spec)
    cols = list(zip(*rows, strict=True))
    raw = pd.DataFrame({c: pd.Series(list(v), dtype=object) for c, v in zip(columns, cols, strict=True)})
    out: dict[str, pd.Series] = {}
    for f in spec.fields:
        s = raw[f.name]
        if f.kind == "date":
            vals = [
                None if v is None else (v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)))
                for v in s
            ]
            out[f.name] = pd.Series(pd.to_datetime(pd.Series(vals, dtype=object)), index=s.index).astype(
                "datetime64[ns]"
            )
            p = raw[f"{f.name}_precision"]
            out[f"{f.name}_precision"] = p.astype(object).where(p.notna(), None)
        elif f.kind == "int":
            out[f.name] = pd.Series(
                pd.array([None if v is None else int(v) for v in s], dtype="Int64"), index=s.index
            )
        elif f.kind == "float":
            out[f.name] = pd.Series(
                [np.nan if v is None else float(v) for v in s], index=s.index, dtype="float64"
            )
        elif f.kind == "bool":
            out[f.name] = pd.Series(
                pd.array([None if v is None else bool(v) for v in s], dtype="boolean"), index=s.index
            )
        elif f.kind == "codes":
            out[f.name] = s.map(lambda v: tuple(v.split(";")) if isinstance(v, str) and v else ()).astype(
                object
            )
        else:
            out[f.name] = s.astype(object).where(s.notna(), None)
    return pd.DataFrame(out, index=raw.index, columns=frame_columns(spec))
