"""The one partial-date rule and the one day-to-month constant, with their counters.

Registry dates arrive as ``datetime64`` holding the *first day* of the period recorded, plus a
``<field>_precision`` column (``day``/``month``/``year``; see ``postcart.registry.tables``).

**Partial-date rule** (``impute_dates``), applied to every date the derivation uses:

1. ``day`` precision: the date as recorded.
2. ``month`` precision: day ``config.partial_month_day`` (default 15) of that month.
3. ``year`` precision: ``config.partial_year_month``/``partial_year_day`` (default July 1).
4. With ``config.partial_date_clamp == "sequence"`` (default) the imputed day is then moved,
   *inside its own month/year*, to no earlier than the patient's anchor date for that field
   (e.g. D0 for a post-infusion record) and to no later than the data cut-off. A partial date
   therefore never precedes a known earlier date of the patient's sequence when its period
   allows it, and never runs past the cut-off.

Every imputation is counted by ``table.field`` in ``EndpointNotes.partial_dates_imputed``, and
every clamp that moved a date in ``partial_dates_clamped``.

**Cut-off rule** (``after_cutoff``): a record is *after the cut-off* when the first possible
day of its period is later than the cut-off; such records are ignored and counted by
``table.field``.

**Months**: ``months = days / config.days_per_month`` (default 365.25 / 12 = 30.4375), in
``to_months`` only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
import pandas as pd

from postcart.endpoints.config import EndpointConfig


class NoteCounter:
    """Mutable counters filled during one derivation (frozen into ``EndpointNotes``)."""

    def __init__(self) -> None:
        self.imputed: Counter[str] = Counter()
        self.clamped: Counter[str] = Counter()
        self.after_cutoff: Counter[str] = Counter()
        self.other: Counter[str] = Counter()

    def add(self, kind: str, key: str, n: int) -> None:
        """Add ``n`` to counter ``kind`` (imputed/clamped/after_cutoff/other) under ``key``."""
        if n:
            getattr(self, kind)[key] += int(n)

    def freeze(self) -> EndpointNotes:
        """The counters as an immutable ``EndpointNotes``."""
        return EndpointNotes(
            partial_dates_imputed=MappingProxyType(dict(sorted(self.imputed.items()))),
            partial_dates_clamped=MappingProxyType(dict(sorted(self.clamped.items()))),
            records_after_cutoff=MappingProxyType(dict(sorted(self.after_cutoff.items()))),
            counts=MappingProxyType(dict(sorted(self.other.items()))),
        )


@dataclass(frozen=True, slots=True)
class EndpointNotes:
    """What the derivation had to do to the records, counted.

    Attributes
    ----------
    partial_dates_imputed
        ``"table.field"`` -> number of partial dates turned into a day by the partial-date rule.
    partial_dates_clamped
        ``"table.field"`` -> number of imputed dates moved by the sequence clamp.
    records_after_cutoff
        ``"table.field"`` -> number of records (or values) ignored because dated after the cut-off.
    counts
        Other documented situations (e.g. ``no_contact_after_infusion``,
        ``death_before_failure``), by name.
    """

    partial_dates_imputed: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    partial_dates_clamped: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    records_after_cutoff: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    counts: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def as_dict(self) -> dict[str, dict[str, int]]:
        """The notes as plain nested dicts."""
        return {
            "partial_dates_imputed": dict(self.partial_dates_imputed),
            "partial_dates_clamped": dict(self.partial_dates_clamped),
            "records_after_cutoff": dict(self.records_after_cutoff),
            "counts": dict(self.counts),
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per counter: ``kind``, ``key``, ``count``."""
        rows = [(kind, key, n) for kind, d in self.as_dict().items() for key, n in d.items()]
        return pd.DataFrame(rows, columns=["kind", "key", "count"])


def _np_dates(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")


def impute_dates(
    values: pd.Series,
    precision: pd.Series,
    *,
    field_name: str,
    config: EndpointConfig,
    notes: NoteCounter,
    anchor: pd.Series | None = None,
    cutoff: pd.Timestamp | None = None,
) -> pd.Series:
    """Turn possibly partial dates into days by the one partial-date rule (module docstring).

    Parameters
    ----------
    values, precision
        The date column (first day of the recorded period) and its ``_precision`` column.
    field_name
        ``"table.field"``, the key under which uses of the rule are counted.
    anchor
        Per row, the earliest day the date may take (aligned on ``values``' index); NaT = none.
    cutoff
        The data cut-off: imputed days are not moved past it.

    Returns
    -------
    pandas.Series
        ``datetime64[ns]`` days, NaT where the date is missing.
    """
    v = _np_dates(values)
    prec = precision.to_numpy(dtype=object)
    is_month = prec == "month"
    is_year = prec == "year"
    partial = (is_month | is_year) & ~np.isnat(v)
    out = v.copy()
    if partial.any():
        months = v.astype("datetime64[M]")
        years = v.astype("datetime64[Y]")
        month_imp = months.astype("datetime64[D]") + np.timedelta64(config.partial_month_day - 1, "D")
        year_imp = (
            years.astype("datetime64[M]") + np.timedelta64(config.partial_year_month - 1, "M")
        ).astype("datetime64[D]") + np.timedelta64(config.partial_year_day - 1, "D")
        out = np.where(is_month, month_imp, np.where(is_year, year_imp, v))
        notes.add("imputed", field_name, int(partial.sum()))
        if config.partial_date_clamp == "sequence":
            start = np.where(is_month, months.astype("datetime64[D]"), years.astype("datetime64[D]"))
            end = np.where(
                is_month,
                (months + np.timedelta64(1, "M")).astype("datetime64[D]"),
                (years + np.timedelta64(1, "Y")).astype("datetime64[D]"),
            ) - np.timedelta64(1, "D")
            lo = start.copy()
            if anchor is not None:
                a = _np_dates(anchor)
                has_a = ~np.isnat(a)
                a_in = np.where(has_a, np.minimum(np.where(has_a, a, end), end), start)
                lo = np.maximum(start, a_in)
            hi = end.copy()
            if cutoff is not None:
                c = np.datetime64(pd.Timestamp(cutoff).date(), "D")
                hi = np.minimum(end, np.maximum(c, start))
            clamped = np.minimum(np.maximum(out, lo), hi)
            moved = partial & (clamped != out)
            notes.add("clamped", field_name, int(moved.sum()))
            out = np.where(partial, clamped, out)
    return pd.Series(out.astype("datetime64[ns]"), index=values.index, name=values.name)


def after_cutoff(values: pd.Series, cutoff: pd.Timestamp | None) -> pd.Series:
    """``True`` where a recorded date's period starts after the cut-off (NaT -> ``False``)."""
    if cutoff is None:
        return pd.Series(False, index=values.index)
    return (values > pd.Timestamp(cutoff)).fillna(False).astype(bool)


def days_between(start: pd.Series, end: pd.Series) -> pd.Series:
    """Whole days from ``start`` to ``end`` (``Int64``; NA when either is missing)."""
    return (end - start).dt.days.astype("Int64")


def to_months(days: pd.Series, config: EndpointConfig) -> pd.Series:
    """Days to months by the one constant: ``days / config.days_per_month`` (float, NaN kept)."""
    return days.astype("Float64").astype("float64") / config.days_per_month


def labels(index: pd.Index, choices: list[tuple[object, object]]) -> pd.Series:
    """An ``object`` Series: the value of the first true condition of ``choices``, else ``None``.

    Each choice is ``(condition, value)``: a boolean array-like aligned on ``index`` and a scalar
    or an array of values.
    """
    out = np.full(len(index), None, dtype=object)
    done = np.zeros(len(index), dtype=bool)
    for cond, value in choices:
        c = np.asarray(pd.Series(cond).fillna(False).to_numpy(dtype=bool)) & ~done
        vals = np.asarray(value, dtype=object)
        out[c] = vals[c] if vals.ndim else value
        done |= c
    return pd.Series(out, index=index, dtype=object)


def group_min(
    codes: npt.NDArray[np.int64], values: npt.NDArray[np.datetime64], n: int, *, latest: bool = False
) -> npt.NDArray[np.datetime64]:
    """Per patient position ``0..n-1``, the earliest (``latest=True``: latest) of ``values``.

    ``codes`` are patient positions; NaT values are skipped; NaT where a patient has none.
    """
    ints = values.astype("datetime64[ns]").view(np.int64).copy()
    empty = np.iinfo(np.int64).min if latest else np.iinfo(np.int64).max
    ints[np.isnat(values)] = empty
    acc = np.full(n, empty, dtype=np.int64)
    if len(codes):
        (np.maximum if latest else np.minimum).at(acc, codes, ints)
    res = acc.view("datetime64[ns]").copy()
    res[acc == empty] = np.datetime64("NaT")
    return res


class ColumnCollector(dict[str, pd.Series]):
    """Columns collected as Series on one index, turned into a DataFrame once (no block inserts)."""

    def __init__(self, index: pd.Index) -> None:
        super().__init__()
        self.index = index

    def __setitem__(self, key: str, value: object) -> None:
        series = value if isinstance(value, pd.Series) else pd.Series(value, index=self.index)
        super().__setitem__(key, series)

    def frame(self) -> pd.DataFrame:
        """The collected columns as one frame, in insertion order (columns are not copied)."""
        return pd.DataFrame(dict(self), index=self.index, copy=False)
