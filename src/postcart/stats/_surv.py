"""Private helpers shared by the Kaplan-Meier and log-rank code.

* input validation of ``time``, ``event``, ``entry``, ``weights`` and group labels, with errors
  that name the argument, the position and the bad value;
* grouping of observations by distinct time in O(N): ``np.bincount`` on integer codes when the
  times are integral and their range is moderate (the usual integer-day registry data), otherwise
  ``np.unique(..., return_inverse=True)``;
* the pointwise confidence-interval transforms of R's ``survfit`` (``survfit_confint``).

Nothing here is public API; the formulas are documented in ``docs/stats-km.md``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.stats import norm

from postcart.errors import StatsError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

#: R's ``sqrt(.Machine$double.eps)``: the tolerance of ``quantile.survfit``.
QUANTILE_TOL = math.sqrt(np.finfo(np.float64).eps)

# Integer-time fast path: the grid is [tmin, tmax] in steps of 1 when it is not much larger
# than the data, and the count table (cells x grid) stays small.
_MAX_GRID_FACTOR = 4
_MIN_GRID = 4096
_MAX_CELLS = 20_000_000
_MAX_DENSE_LEVELS = 1024


def _first_bad(mask: BoolArray) -> int:
    return int(np.flatnonzero(mask)[0])


def as_time(values: ArrayLike, name: str = "time") -> FloatArray:
    """A 1-d float64 array of finite, non-negative times."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise StatsError(f"{name} must be one-dimensional, but has shape {arr.shape}")
    if arr.dtype.kind not in "iuf":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise StatsError(f"{name} must be numeric, but has dtype {arr.dtype} ({exc})") from None
    out = np.asarray(arr, dtype=np.float64)
    if out.dtype.kind == "f" and arr.dtype.kind == "f":
        finite = np.isfinite(out)
        if not finite.all():
            i = _first_bad(~finite)
            raise StatsError(f"{name}[{i}] is {out[i].item()!r}: times must be finite numbers")
    if out.size and out.min() < 0:
        i = _first_bad(out < 0)
        raise StatsError(f"{name}[{i}] is {out[i].item()!r}: times must be >= 0")
    return out


def as_event(values: ArrayLike, n: int, name: str = "event") -> NDArray[np.uint8]:
    """Event indicators as uint8 0/1 (True/1 = event, False/0 = censored)."""
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise StatsError(f"{name} must be one-dimensional with length {n}, but has shape {arr.shape}")
    if arr.dtype == np.bool_:
        return arr.view(np.uint8)
    if arr.dtype.kind not in "iuf":
        raise StatsError(f"{name} must be boolean or 0/1, but has dtype {arr.dtype}")
    ok = (arr == 0) | (arr == 1)
    if not ok.all():
        i = _first_bad(~ok)
        raise StatsError(f"{name}[{i}] is {arr[i].item()!r}: event indicators must be 0/1 or boolean")
    return arr.astype(np.uint8)


def as_weights(values: ArrayLike | None, n: int, name: str = "weights") -> FloatArray | None:
    """Case weights: finite and >= 0, or None."""
    if values is None:
        return None
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise StatsError(f"{name} must be one-dimensional with length {n}, but has shape {arr.shape}")
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        i = _first_bad(bad)
        raise StatsError(f"{name}[{i}] is {arr[i].item()!r}: case weights must be finite and >= 0")
    return arr


def check_entry(entry: ArrayLike | None, time: FloatArray) -> FloatArray | None:
    """Delayed-entry times: finite, >= 0 and strictly before the exit time (R's ``Surv``)."""
    if entry is None:
        return None
    arr = as_time(entry, "entry")
    if arr.shape[0] != time.shape[0]:
        raise StatsError(f"entry must have length {time.shape[0]}, but has length {arr.shape[0]}")
    bad = arr >= time
    if bad.any():
        i = _first_bad(bad)
        raise StatsError(
            f"entry[{i}] is {arr[i].item()!r} but time[{i}] is {time[i].item()!r}: an entry time must be "
            "strictly before the exit time"
        )
    return arr


def finite_vector(
    name: str, v: ArrayLike, n: int | None = None, *, length_note: str | None = None
) -> FloatArray:
    """A 1-d float64 array of finite values (any sign: Cox times may be negative in (start, stop]
    data). ``n`` is the expected length; ``length_note`` says where it comes from in the message
    (default ``"time has n"``)."""
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StatsError(f"{name} must be numeric: {exc}") from None
    if a.ndim != 1:
        raise StatsError(f"{name} must be one-dimensional, but has shape {a.shape}")
    if n is not None and a.size != n:
        raise StatsError(f"{name} has {a.size} values but {length_note or f'time has {n}'}")
    bad = np.flatnonzero(~np.isfinite(a))
    if bad.size:
        raise StatsError(f"{name} must be finite, but row {bad[0]} is {float(a[bad[0]])!r}")
    return a


def stratum_codes(name: str, v: ArrayLike | None, n: int) -> tuple[IntArray, int]:
    """Integer codes 0..k-1 (sorted levels) of a strata or cluster variable, and k; all zero when
    ``v`` is None. Missing labels are an error."""
    if v is None:
        return np.zeros(n, dtype=np.int64), 1
    arr = np.asarray(v)
    if arr.ndim != 1 or arr.size != n:
        raise StatsError(f"{name} must be one-dimensional with {n} values, but has shape {arr.shape}")
    codes, uniques = pd.factorize(arr, sort=True)
    if np.any(codes < 0):
        bad = int(np.flatnonzero(codes < 0)[0])
        raise StatsError(f"{name} must not be missing, but row {bad} is missing")
    return codes.astype(np.int64), len(uniques)


def factorize(values: ArrayLike, n: int, name: str = "group") -> tuple[IntArray, tuple[str, ...]]:
    """Integer codes 0..k-1 and the level labels, in sorted order (R's factor levels).

    A ``pandas.Categorical`` keeps its category order. Integers with a small range use the dense
    levels ``min..max`` (no sort). **Some levels may be unused** (callers drop the levels that
    have no observation). Missing labels (None, NaN) are an error.
    """
    if isinstance(values, pd.Series):
        values = values.array  # type: ignore[assignment]
    if isinstance(values, pd.Categorical):
        if len(values) != n:
            raise StatsError(f"{name} must have length {n}, but has length {len(values)}")
        codes = np.asarray(values.codes, dtype=np.intp)
        if n and codes.min() < 0:
            i = _first_bad(codes < 0)
            raise StatsError(f"{name}[{i}] is missing: every observation needs a {name} label")
        return codes, tuple(str(c) for c in values.categories)
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise StatsError(f"{name} must be one-dimensional with length {n}, but has shape {arr.shape}")
    if arr.dtype.kind in "iub":
        a = arr.view(np.uint8) if arr.dtype == np.bool_ else arr
        lo = int(a.min()) if n else 0
        hi = int(a.max()) if n else 0
        if hi - lo < _MAX_DENSE_LEVELS:
            icodes = (a - lo) if lo != 0 else a
            return icodes.astype(np.intp, copy=False), tuple(str(v) for v in range(lo, hi + 1))
        uniq, inv = np.unique(a, return_inverse=True)
        return inv.astype(np.intp).reshape(-1), tuple(str(v) for v in uniq)
    if arr.dtype.kind == "f":
        nan = np.isnan(arr)
        if nan.any():
            i = _first_bad(nan)
            raise StatsError(f"{name}[{i}] is missing: every observation needs a {name} label")
        uniq_f, inv = np.unique(arr, return_inverse=True)
        return inv.astype(np.intp).reshape(-1), tuple(_num_label(v) for v in uniq_f)
    codes_raw, uniques = pd.factorize(arr, use_na_sentinel=True)
    if (codes_raw < 0).any():
        i = _first_bad(codes_raw < 0)
        raise StatsError(f"{name}[{i}] is missing: every observation needs a {name} label")
    labels_raw = [str(u) for u in uniques]
    order = sorted(range(len(labels_raw)), key=lambda j: labels_raw[j])
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order), dtype=np.intp)
    return rank[codes_raw], tuple(labels_raw[j] for j in order)


def _num_label(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def time_codes(time: FloatArray, n_cells: int = 1) -> tuple[IntArray, FloatArray]:
    """Codes into a grid of candidate times, so that ``grid[codes] == time``.

    Integral times with a moderate range use the grid ``tmin, tmin + 1, ..., tmax`` (no sort,
    O(N)); otherwise the grid is ``np.unique(time)``, with near-ties merged as R's ``aeqSurv``
    (``timefix = TRUE``): each run of times closer than sqrt(eps) becomes its first value.
    Grid points may be unused (zero counts).
    ``n_cells`` is the number of (stratum x group) cells that will share the grid.
    """
    n = time.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float64)
    tmin = float(time.min())
    tmax = float(time.max())
    span = tmax - tmin
    if span + 1 <= max(_MAX_GRID_FACTOR * n, _MIN_GRID) and (span + 1) * n_cells <= _MAX_CELLS:
        shifted = time - tmin
        codes = shifted.astype(np.intp)
        if np.array_equal(codes, shifted):
            grid = np.arange(int(span) + 1, dtype=np.float64) + tmin
            return codes, grid
    grid, inv = np.unique(time, return_inverse=True)
    codes_u = inv.astype(np.intp).reshape(-1)
    if grid.size > 1:
        # R's aeqSurv (survfit/survdiff/coxph timefix = TRUE): times closer than sqrt(eps),
        # absolutely or relative to the mean |time|, are the same time (e.g. days / 365.25).
        dy = np.diff(grid)
        tied = (dy <= QUANTILE_TOL) | (dy / np.mean(np.abs(grid)) <= QUANTILE_TOL)
        if tied.any():
            start = np.concatenate(([True], ~tied))
            run = np.cumsum(start) - 1
            return run[codes_u], grid[start]
    return codes_u, grid


def cells_fit(n_cells: int, n_grid: int) -> bool:
    """Whether a dense (cells x grid) count table is small enough to build."""
    return n_cells * n_grid <= _MAX_CELLS


def count_cells(
    codes: IntArray,
    event: NDArray[np.uint8],
    cell: IntArray | None,
    n_cells: int,
    n_grid: int,
    weights: FloatArray | None = None,
) -> tuple[NDArray[np.intp], NDArray[np.intp], FloatArray | None, FloatArray | None]:
    """Counts per (cell, grid time): records, event records, and weighted sums if weighted.

    Returns ``(n_rec, n_ev, w_rec, w_ev)`` with shape ``(n_cells, n_grid)``; the weighted
    arrays are None without weights.
    """
    if n_cells * n_grid > _MAX_CELLS:
        raise StatsError(
            f"too many distinct (stratum x group x time) cells: {n_cells} x {n_grid}; "
            "use fewer groups or strata, or round the times"
        )
    idx2 = codes * 2
    idx2 += event
    if cell is not None:
        idx2 += cell * (2 * n_grid)
    both = np.bincount(idx2, minlength=2 * n_cells * n_grid).reshape(n_cells, n_grid, 2)
    n_ev: NDArray[np.intp] = np.asarray(both[:, :, 1], dtype=np.intp)
    n_rec: NDArray[np.intp] = np.asarray(both[:, :, 0] + n_ev, dtype=np.intp)
    if weights is None:
        return n_rec, n_ev, None, None
    size = n_cells * n_grid
    idx = idx2 >> 1
    w_rec = np.bincount(idx, weights=weights, minlength=size).astype(np.float64, copy=False)
    w_ev = np.bincount(idx, weights=weights * event, minlength=size).astype(np.float64, copy=False)
    return n_rec, n_ev, w_rec.reshape(n_cells, n_grid), w_ev.reshape(n_cells, n_grid)


def z_value(conf_level: float) -> float:
    """The two-sided normal quantile: ``qnorm(1 - (1 - conf_level) / 2)``."""
    return float(norm.ppf(1.0 - (1.0 - conf_level) / 2.0))


def pointwise_ci(
    surv: FloatArray, se_cumhaz: FloatArray, conf_type: str, z: float
) -> tuple[FloatArray, FloatArray]:
    """Pointwise CI for S(t) exactly as R's ``survival:::survfit_confint`` (``logse = TRUE``).

    ``se_cumhaz`` is the SE of -log S (Greenwood: sqrt(sum d / (n (n - d)))). NaN where R gives
    NA/NaN: log-log at S in {0, 1}; log, logit and arcsin at S = 0; logit and arcsin at S = 1;
    every transform where the SE is undefined (S = 0).
    """
    p = surv
    se = se_cumhaz
    with np.errstate(all="ignore"):
        if conf_type == "plain":
            se2 = se * p * z
            return np.maximum(p - se2, 0.0), np.minimum(p + se2, 1.0)
        if conf_type == "log":
            xx = np.where(p == 0, np.nan, p)
            se2 = z * se
            return np.exp(np.log(xx) - se2), np.minimum(np.exp(np.log(xx) + se2), 1.0)
        if conf_type == "log-log":
            xx = np.where((p == 0) | (p == 1), np.nan, p)
            se2 = z * se / np.log(xx)
            ll = np.log(-np.log(xx))
            return np.exp(-np.exp(ll - se2)), np.exp(-np.exp(ll + se2))
        if conf_type == "logit":
            xx = np.where(p == 0, np.nan, p)
            se2 = z * se * (1 + xx / (1 - xx))
            lg = np.log(p / (1 - p))
            return 1 - 1 / (1 + np.exp(lg - se2)), 1 - 1 / (1 + np.exp(lg + se2))
        if conf_type == "arcsin":
            xx = np.where(p == 0, np.nan, p)
            se2 = 0.5 * z * se * np.sqrt(xx / (1 - xx))
            a = np.arcsin(np.sqrt(xx))
            low = np.sin(np.maximum(0.0, a - se2)) ** 2
            high = np.sin(np.minimum(np.pi / 2, a + se2)) ** 2
            return low, high
    raise StatsError(f"conf_type must be one of log-log, log, plain, arcsin, logit, but was {conf_type!r}")


def transform(x: FloatArray | float, conf_type: str) -> Any:
    """The CI transform g(S) of SAS LIFETEST's CONFTYPE= (used to invert the band)."""
    with np.errstate(all="ignore"):
        xa = np.asarray(x, dtype=np.float64)
        if conf_type == "plain":
            return xa
        if conf_type == "log":
            return np.log(xa)
        if conf_type == "log-log":
            return np.log(-np.log(xa))
        if conf_type == "logit":
            return np.log(xa / (1 - xa))
        if conf_type == "arcsin":
            return np.arcsin(np.sqrt(xa))
    raise StatsError(f"unknown conf_type {conf_type!r}")


def transform_se(surv: FloatArray, se_surv: FloatArray, conf_type: str) -> FloatArray:
    """Delta-method SE of g(S): |g'(S)| * SE(S) (SAS LIFETEST, "Pointwise Confidence Limits")."""
    with np.errstate(all="ignore"):
        if conf_type == "plain":
            d = np.ones_like(surv)
        elif conf_type == "log":
            d = 1 / surv
        elif conf_type == "log-log":
            d = 1 / (surv * np.log(surv))
        elif conf_type == "logit":
            d = 1 / (surv * (1 - surv))
        elif conf_type == "arcsin":
            d = 1 / (2 * np.sqrt(surv * (1 - surv)))
        else:
            raise StatsError(f"unknown conf_type {conf_type!r}")
        out: FloatArray = np.abs(d) * se_surv
    return out
