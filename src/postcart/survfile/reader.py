"""Read a time-to-event CSV file into validated arrays for ``postcart survival``.

The file is read with pandas (``float_precision="round_trip"``, so 17-digit values come back
exactly). Every problem in the columns the analysis uses is collected first, then a single
:class:`SurvivalFileError` names each one by file, line and column.

Column rules
------------
* time: a number, finite and >= 0, never missing.
* event: ``0``/``1`` or ``true``/``false`` (any case), never missing.
* entry (optional, delayed entry / left truncation): a finite number < time, never missing.
* group: any value; a row with a missing group is left out of the by-group analyses (and
  counted there).
* strata and covariates: any value; missing values drop the row from the analysis that uses
  the variable only (and are counted).
* A covariate is categorical when it is named in ``categorical`` or ``reference``, or when its
  column is not numeric. Group, strata and categorical columns are read as text, so a level is
  exactly what the file says (``01`` stays ``01``); levels are in natural order (numeric order
  when every level is a number, else text order) and the reference level is the one given, else
  the first level.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from postcart.errors import PostcartError

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
ObjectArray = NDArray[np.object_]

__all__ = [
    "SurvivalData",
    "SurvivalFileError",
    "read_survival_csv",
]

#: How many problems are listed in one error message before "... and N more".
MAX_LISTED = 20

_TRUE = {"1", "1.0", "true"}
_FALSE = {"0", "0.0", "false"}


class SurvivalFileError(PostcartError, ValueError):
    """A time-to-event file cannot be analysed: missing file or column, or bad values.

    ``problems`` holds every problem found, one message each.
    """

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class SurvivalData:
    """The validated columns of a time-to-event file.

    Attributes
    ----------
    source : str
        The file name (used in messages and outputs).
    n_rows : int
        Number of data rows.
    time_col, event_col : str
        Names of the time and event columns.
    time : ndarray of float
        Follow-up time (the end of the interval when ``entry`` is given).
    event : ndarray of bool
        True for an event, False for a censoring.
    entry_col : str or None; entry : ndarray of float or None
        Delayed-entry time: the subject is at risk on (entry, time].
    group_col : str or None; group : object ndarray of str or None
        Group labels; ``None`` for a missing value.
    strata_col : str or None; strata : object ndarray of str or None
        Stratum labels; ``None`` for a missing value.
    covariates : dict
        Covariate name -> values, in the order given: a float array (``nan`` = missing) for a
        numeric covariate, an object array of ``str`` or ``None`` for a categorical one.
    categorical : dict
        Categorical covariate name -> its reference level.
    levels : dict
        Categorical covariate (and group/strata column) name -> its levels in natural order.
    """

    source: str
    n_rows: int
    time_col: str
    event_col: str
    time: FloatArray
    event: BoolArray
    entry_col: str | None = None
    entry: FloatArray | None = None
    group_col: str | None = None
    group: ObjectArray | None = None
    strata_col: str | None = None
    strata: ObjectArray | None = None
    covariates: dict[str, FloatArray | ObjectArray] = field(default_factory=dict)
    categorical: dict[str, str] = field(default_factory=dict)
    levels: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _show(value: object) -> str:
    """A cell value for a message: text quoted, numbers as plain Python numbers."""
    if isinstance(value, bool | np.bool_):
        return repr(bool(value))
    if isinstance(value, int | np.integer):
        return repr(int(value))
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return repr(str(value))


def _line(row: int) -> int:
    """The 1-based line of a 0-based data row (line 1 is the header)."""
    return row + 2


def _label(value: object) -> str | None:
    """A cell as a level label: ``None`` if missing, integer-valued numbers without ``.0``."""
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return None
        if math.isfinite(v) and v.is_integer():
            return str(int(v))
        return repr(v)
    text = str(value).strip()
    return text if text != "" else None


def natural_order(levels: Sequence[str]) -> tuple[str, ...]:
    """Levels in numeric order when all are numbers, else in text order."""
    try:
        return tuple(sorted(levels, key=float))
    except ValueError:
        return tuple(sorted(levels))


def _labels(series: pd.Series) -> ObjectArray:
    if pd.api.types.is_object_dtype(series) and series.map(type).isin([str, float]).all():
        # fast path: text cells (and NaN for missing), as read with dtype=str
        text = series.where(series.notna(), None)
        out = np.array([None if v is None else v.strip() or None for v in text.tolist()], dtype=object)
        return out
    out = np.empty(len(series), dtype=object)
    for i, v in enumerate(series.tolist()):
        out[i] = _label(v)
    return out


def _numeric(
    source: str, col: str, series: pd.Series, problems: list[str], *, what: str, allow_missing: bool
) -> FloatArray:
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        fast = series.to_numpy(dtype=float)  # exact: the file was parsed with round_trip
        if not np.isinf(fast).any() and (allow_missing or not np.isnan(fast).any()):
            return fast
    values = np.full(len(series), np.nan)
    for i, v in enumerate(series.tolist()):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            if not allow_missing:
                problems.append(f"{source} line {_line(i)}: column {col!r} ({what}) is empty")
            continue
        if isinstance(v, bool | np.bool_):
            x = float(v)
        elif isinstance(v, int | float | np.integer | np.floating):
            x = float(v)
        else:
            try:
                x = float(str(v).strip())
            except ValueError:
                problems.append(
                    f"{source} line {_line(i)}: column {col!r} ({what}) value {_show(v)} is not a number"
                )
                continue
        if not math.isfinite(x):
            problems.append(
                f"{source} line {_line(i)}: column {col!r} ({what}) value {_show(v)} is not finite"
            )
            continue
        values[i] = x
    return values


def _events(source: str, col: str, series: pd.Series, problems: list[str]) -> BoolArray:
    if pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(series):
        fast = series.to_numpy(dtype=float)
        if np.isin(fast, (0.0, 1.0)).all():
            is_event: BoolArray = fast == 1.0
            return is_event
    out = np.zeros(len(series), dtype=bool)
    for i, v in enumerate(series.tolist()):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            problems.append(f"{source} line {_line(i)}: column {col!r} (event) is empty")
            continue
        text = str(v).strip().lower()
        if text in _TRUE:
            out[i] = True
        elif text not in _FALSE:
            problems.append(
                f"{source} line {_line(i)}: column {col!r} (event) value {_show(v)} is not 0/1 or true/false"
            )
    return out


def _line_of(problem: str) -> int:
    match = re.search(r" line (\d+): ", problem)
    return int(match.group(1)) if match else 0


def _raise(source: str, problems: list[str]) -> None:
    if not problems:
        return
    problems = sorted(problems, key=_line_of)  # by line (stable: column order within a line)
    shown = problems[:MAX_LISTED]
    more = len(problems) - len(shown)
    head = f"{source}: {len(problems)} problem{'s' if len(problems) > 1 else ''} found"
    body = "\n".join(f"  {p}" for p in shown)
    tail = f"\n  ... and {more} more" if more else ""
    raise SurvivalFileError(f"{head}\n{body}{tail}", problems)


def read_survival_csv(
    path: str | Path,
    *,
    time: str,
    event: str,
    entry: str | None = None,
    group: str | None = None,
    strata: str | None = None,
    covariates: Sequence[str] = (),
    categorical: Sequence[str] = (),
    reference: Mapping[str, str] | None = None,
) -> SurvivalData:
    """Read and validate a time-to-event CSV file.

    Parameters
    ----------
    path : str or Path
        The CSV file (header row, comma-separated; empty field or ``NA`` = missing).
    time, event : str
        Columns of the follow-up time and the event indicator (0/1 or true/false).
    entry : str, optional
        Column of the delayed-entry time (left truncation): at risk on (entry, time].
    group, strata : str, optional
        Columns of the comparison group and of the strata.
    covariates : sequence of str
        Covariates of the Cox model.
    categorical : sequence of str
        Covariates to treat as categorical even if numeric.
    reference : mapping, optional
        Covariate -> reference level (implies categorical).

    Returns
    -------
    SurvivalData

    Raises
    ------
    SurvivalFileError
        The file cannot be read, a column is absent or used twice, a ``categorical`` or
        ``reference`` variable is not a covariate, a reference level does not occur, or values
        break the column rules (every bad value is listed by line).
    """
    reference = dict(reference or {})
    p = Path(path)
    source = p.name
    if not p.is_file():
        raise SurvivalFileError(f"{p}: file not found")
    wanted = {c for c in (time, event, entry, group, strata, *covariates) if c}
    options: dict[str, Any] = {"skipinitialspace": True, "encoding": "utf-8-sig"}
    try:
        header = [str(c).strip() for c in pd.read_csv(p, nrows=0, **options).columns]
        # only the columns used are parsed; label columns are read as text, so a level is
        # exactly what the file says ("01" stays "01")
        as_text = {c: str for c in (group, strata, *categorical, *reference) if c}
        frame = pd.read_csv(
            p,
            float_precision="round_trip",
            usecols=lambda c: str(c).strip() in wanted,
            dtype=as_text,
            **options,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, KeyError) as exc:
        raise SurvivalFileError(f"{source}: cannot be read as CSV ({exc})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]

    problems: list[str] = []
    roles: list[tuple[str, str]] = [("--time", time), ("--event", event)]
    roles += [(opt, c) for opt, c in (("--entry", entry), ("--group", group), ("--strata", strata)) if c]
    roles += [("--covariates", c) for c in covariates]
    seen: dict[str, str] = {}
    for opt, col in roles:
        if col not in header:
            problems.append(f"{source}: column {col!r} ({opt}) not found; columns are: {', '.join(header)}")
        if col in seen and not {seen[col], opt} <= {"--group", "--covariates", "--strata"}:
            problems.append(f"{source}: column {col!r} is given both as {seen[col]} and {opt}")
        seen.setdefault(col, opt)
    if problems and len(header) == 1 and ";" in header[0]:
        problems.append(f"{source}: the header has one column with ';' in it: save the file comma-separated")
    for name in list(categorical) + list(reference):
        if name not in covariates:
            problems.append(f"{name!r} is declared categorical but is not in --covariates")
    _raise(source, problems)

    n = len(frame)
    if n == 0:
        raise SurvivalFileError(f"{source}: the file has no data rows")
    t = _numeric(source, time, frame[time], problems, what="time", allow_missing=False)
    bad_neg = [i for i in range(n) if t[i] < 0]
    problems += [
        f"{source} line {_line(i)}: column {time!r} (time) value {float(t[i])!r} is negative" for i in bad_neg
    ]
    ev = _events(source, event, frame[event], problems)
    ent: FloatArray | None = None
    if entry:
        ent = _numeric(source, entry, frame[entry], problems, what="entry", allow_missing=False)
        problems += [
            f"{source} line {_line(i)}: entry {float(ent[i])!r} (column {entry!r}) is not before "
            f"time {float(t[i])!r} (column {time!r})"
            for i in range(n)
            if not (math.isnan(ent[i]) or math.isnan(t[i]) or t[i] < 0) and not ent[i] < t[i]
        ]

    levels: dict[str, tuple[str, ...]] = {}
    grp = strat = None
    if group:
        grp = _labels(frame[group])
        levels[group] = natural_order(sorted({g for g in grp if g is not None}))
    if strata:
        strat = _labels(frame[strata])
        levels[strata] = natural_order(sorted({s for s in strat if s is not None}))

    cov: dict[str, FloatArray | ObjectArray] = {}
    cats: dict[str, str] = {}
    for name in covariates:
        series = frame[name]
        is_cat = (
            name in categorical
            or name in reference
            or not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series))
        )
        if is_cat:
            lab = _labels(series)
            lv = natural_order(sorted({x for x in lab if x is not None}))
            levels[name] = lv
            cov[name] = lab
            ref = reference.get(name)
            if ref is not None and ref not in lv:
                problems.append(
                    f"--reference {name}={ref}: level {ref!r} not found in column {name!r} of "
                    f"{source}; levels are: {', '.join(lv)}"
                )
            if not lv:
                problems.append(f"{source}: column {name!r} (covariate) has no non-missing value")
            else:
                cats[name] = ref if ref is not None else lv[0]
        else:
            cov[name] = _numeric(source, name, series, problems, what="covariate", allow_missing=True)
    _raise(source, problems)
    return SurvivalData(
        source=source,
        n_rows=n,
        time_col=time,
        event_col=event,
        time=t,
        event=ev,
        entry_col=entry,
        entry=ent,
        group_col=group,
        group=grp,
        strata_col=strata,
        strata=strat,
        covariates=cov,
        categorical=cats,
        levels=levels,
    )
