r"""Kaplan-Meier product-limit estimate with Greenwood variance, SAS and R conventions.

Definitions (``docs/stats-km.md`` has the full text and the validation table):

* rows: one per distinct observed time (event or censoring), as R's ``survfit`` object;
  ``n_risk`` is the number at risk at the start of the interval (a subject censored at t is at
  risk at t); with delayed entry, ``n_risk(t) = #{entry < t <= time}``.
* :math:`\hat S(t) = \prod_{t_j \le t} (1 - d_j / n_j)` (Kaplan and Meier 1958).
* Greenwood: :math:`\sigma^2(t) = \sum_{t_j \le t} d_j / (n_j (n_j - d_j))` is the variance of
  :math:`-\log \hat S(t)` (``std_err_cumhaz``, R's ``$std.err``) and
  ``std_err`` = :math:`\hat S(t)\,\sigma(t)` is the SE of :math:`\hat S(t)`.
* pointwise CIs (z = the normal quantile): ``plain`` S ± z SE(S) clipped to [0, 1]; ``log``
  exp(log S ± z σ), upper capped at 1; ``log-log`` exp(-exp(log(-log S) ∓ z σ / log S));
  ``logit`` and ``arcsin`` (arcsine-square-root) as R's ``survfit_confint`` (identical to SAS
  LIFETEST's CONFTYPE= formulas). Undefined points are NaN.

Quantiles (the median is p = 0.5):

* ``median_rule="r"`` is R's ``quantile.survfit`` (survival 3.5): the smallest t with
  S(t) <= 1 - p, except that where S equals 1 - p (within sqrt(machine eps)) on a flat segment
  the midpoint of the segment is returned, and (t_i + t_last)/2 when the curve stays at 1 - p
  until the last time of the fit. The CI is the same rule applied to the lower and upper
  pointwise CI curves (this inverts the band, so it depends on ``conf_type``; NaN points of a
  band are skipped).
* ``median_rule="sas"`` is PROC LIFETEST (SAS/STAT 9.3 User's Guide, "The LIFETEST Procedure:
  Computational Formulas"): :math:`\hat q_p = \min\{t_j : \hat S(t_j) < 1 - p\}` over the
  distinct event times, and :math:`(t_j + t_{j+1})/2` when :math:`\hat S = 1 - p` exactly on
  :math:`[t_j, t_{j+1})` (:math:`t_{j+1}` the next event time). If the curve stays at 1 - p
  after the last event time there is no :math:`t_{j+1}` and the quantile is not estimated
  (None). The Brookmeyer-Crowley (1982) CI, generalised to the CONFTYPE= transform g (Klein and
  Moeschberger 1997), is the set of event times with
  :math:`|g(\hat S(t_j)) - g(1-p)| \le z\,|g'(\hat S(t_j))|\,\mathrm{SE}(\hat S(t_j))`; the
  lower limit is the smallest such time and the upper limit the next event time after the
  largest one (None when the largest one is the last event time with a defined SE). The same
  construction is used by statsmodels' ``SurvfuncRight.quantile_ci``, which cites the SAS
  documentation. "Exactly" uses the tolerance sqrt(machine eps) (as R).

References
----------
Kaplan EL, Meier P (1958). JASA 53:457-481. Greenwood M (1926). Brookmeyer R, Crowley J (1982).
Biometrics 38:29-41. Klein JP, Moeschberger ML (1997), Survival Analysis, section 4.5.
Therneau T (2023), survival 3.5: ``survfit``, ``quantile.survfit``, ``survmean``.
SAS Institute (2011), SAS/STAT 9.3 User's Guide, The LIFETEST Procedure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from postcart.errors import StatsError
from postcart.stats._surv import (
    QUANTILE_TOL,
    FloatArray,
    IntArray,
    as_event,
    as_time,
    as_weights,
    cells_fit,
    check_entry,
    count_cells,
    factorize,
    pointwise_ci,
    time_codes,
    transform,
    transform_se,
    z_value,
)
from postcart.stats.conventions import Conventions, resolve_conventions
from postcart.stats.results import QuantileEstimate, RMSTResult, SurvivalAtTimes

__all__ = [
    "FollowUpResult",
    "KaplanMeierByGroupResult",
    "KaplanMeierResult",
    "kaplan_meier",
    "kaplan_meier_by_group",
    "median_followup",
]


def _opt(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)


# ---------------------------------------------------------------------------------------------
# quantile rules
# ---------------------------------------------------------------------------------------------
def _approx_index(kv: FloatArray, kpos: IntArray, p: float, *, is_sorted: bool) -> int | None:
    """R's ``approx(kv, kpos, p, method = "constant", f = 1)`` for distinct knots ``kv``."""
    if kv.size == 0:
        return None
    if is_sorted:
        sv, pos = kv, kpos
    else:
        order = np.argsort(kv, kind="stable")
        sv, pos = kv[order], kpos[order]
    if p < sv[0] or p > sv[-1]:
        return None
    return int(pos[int(np.searchsorted(sv, p, side="left"))])


def _findq(x: FloatArray, y: FloatArray, p: float, tol: float = QUANTILE_TOL) -> float:
    """R's ``survival:::findq`` for one probability: x = c(0, time), y = c(0, 1 - curve).

    Duplicated y values are dropped (first occurrence kept, as ``duplicated``), NaN knots are
    skipped (as ``approx``), and a non-monotone curve (possible for a CI band) is handled as
    ``approx`` does, by sorting the knots.
    """
    isn = np.isnan(y)
    nonnan = np.flatnonzero(~isn)
    if nonnan.size == 0:
        return float("nan")
    yv = y[nonnan]
    if float(yv.max()) < p:
        return float("nan")
    xmax = float(x[-1])
    monotone = bool(np.all(yv[1:] >= yv[:-1]))
    if monotone:
        first = np.empty(yv.size, dtype=bool)
        first[0] = True
        np.not_equal(yv[1:], yv[:-1], out=first[1:])
        keep = nonnan[first]
    else:
        _, first_idx = np.unique(yv, return_index=True)
        keep = np.sort(nonnan[first_idx])
    if isn.any():
        keep = np.sort(np.append(keep, np.flatnonzero(isn)[0]))
    xd = x[keep]
    yd = y[keep]
    kpos = np.flatnonzero(~np.isnan(yd))
    kv = yd[kpos]
    i1 = _approx_index(kv + tol, kpos, p, is_sorted=monotone)
    i2 = _approx_index(kv - tol, kpos, p, is_sorted=monotone)
    quant = float("nan") if i1 is None or i2 is None else (xd[i1] + xd[i2]) / 2
    if p == 0:
        quant = float(xd[0])
    if not np.isnan(yd[-1]) and abs(p - yd[-1]) < tol:
        quant = float("nan") if i1 is None else (xd[i1] + xmax) / 2
    return float(quant)


def _quantile_r(
    time: FloatArray, surv: FloatArray, low: FloatArray, high: FloatArray, p: float
) -> QuantileEstimate:
    x = np.concatenate(([0.0], time))
    est = _findq(x, np.concatenate(([0.0], 1 - surv)), p)
    lo = _findq(x, np.concatenate(([0.0], 1 - low)), p)
    hi = _findq(x, np.concatenate(([0.0], 1 - high)), p)
    return QuantileEstimate(p=p, estimate=_opt(est), ci_low=_opt(lo), ci_high=_opt(hi))


def _quantile_sas(
    time: FloatArray,
    n_event: FloatArray,
    surv: FloatArray,
    std_err: FloatArray,
    p: float,
    conf_type: str,
    z: float,
    tol: float = QUANTILE_TOL,
) -> QuantileEstimate:
    ev = n_event > 0
    te, se, sd = time[ev], surv[ev], std_err[ev]
    q = 1.0 - p
    est: float | None = None
    below = np.flatnonzero(se < q - tol)
    equal = np.flatnonzero(np.abs(se - q) <= tol)
    if equal.size and (below.size == 0 or equal[0] < below[0]):
        j = int(equal[0])
        est = float((te[j] + te[j + 1]) / 2) if j + 1 < te.size else None
    elif below.size:
        est = float(te[below[0]])
    with np.errstate(all="ignore"):
        valid = (se > 0) & (se < 1) & np.isfinite(sd) & (sd > 0)
        dist = np.abs(transform(se, conf_type) - transform(q, conf_type))
        inset = valid & (dist <= z * transform_se(se, sd, conf_type))
    idx = np.flatnonzero(inset)
    if idx.size == 0:
        return QuantileEstimate(p=p, estimate=est, ci_low=None, ci_high=None)
    lo = float(te[idx[0]])
    last = int(idx[-1])
    hi = float(te[last + 1]) if last + 1 < te.size else None
    return QuantileEstimate(p=p, estimate=est, ci_low=lo, ci_high=hi)


# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class KaplanMeierResult:
    """A Kaplan-Meier curve: R's ``survfit`` table plus median, quantiles, CIs and RMST.

    Attributes
    ----------
    time, n_risk, n_event, n_censor : ndarray
        One row per distinct observed time (event or censoring). Counts are float64 (weighted
        sums when case weights are given).
    survival, std_err, std_err_cumhaz : ndarray
        S(t), the Greenwood SE of S(t), and the SE of -log S(t) (R's ``$std.err``). NaN where
        undefined (after S reaches 0).
    ci_low, ci_high : ndarray
        Pointwise CI in ``conventions.conf_type``; NaN where undefined.
    n, n_events : int
        Number of observations (records) and of event records.
    median : QuantileEstimate
        Median with its Brookmeyer-Crowley CI under ``conventions.median_rule``.
    conventions : Conventions
        Profile, CI transform, confidence level and median rule used.
    group : str or None
        The group label when the curve is one of ``kaplan_meier_by_group``.
    weighted, left_truncated : bool
        Whether case weights / delayed entry were used.
    """

    time: FloatArray
    n_risk: FloatArray
    n_event: FloatArray
    n_censor: FloatArray
    survival: FloatArray
    std_err: FloatArray
    std_err_cumhaz: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    n: int
    n_events: int
    median: QuantileEstimate
    conventions: Conventions
    group: str | None = None
    weighted: bool = False
    left_truncated: bool = False

    # -- quantiles -------------------------------------------------------------------------
    def quantile(self, p: float) -> QuantileEstimate:
        """The time by which a fraction ``p`` had the event, with its CI (None = not reached).

        Uses ``conventions.median_rule`` ("r": ``quantile.survfit``; "sas": PROC LIFETEST) and
        ``conventions.conf_type`` for the Brookmeyer-Crowley CI.
        """
        if not 0.0 < p < 1.0:
            raise StatsError(f"p must be in the range (0, 1), but was {p!r}")
        z = z_value(self.conventions.conf_level)
        if self.conventions.median_rule == "r":
            return _quantile_r(self.time, self.survival, self.ci_low, self.ci_high, p)
        return _quantile_sas(
            self.time, self.n_event, self.survival, self.std_err, p,
            self.conventions.conf_type, z,
        )  # fmt: skip

    def quantiles(self, probs: tuple[float, ...] = (0.25, 0.5, 0.75)) -> tuple[QuantileEstimate, ...]:
        """Several quantiles (default: the quartiles)."""
        return tuple(self.quantile(p) for p in probs)

    def pointwise_ci(self, conf_type: str) -> tuple[FloatArray, FloatArray]:
        """Pointwise CI of S(t) in another transform (same confidence level)."""
        z = z_value(self.conventions.conf_level)
        return pointwise_ci(self.survival, self.std_err_cumhaz, conf_type, z)

    # -- reading the curve -----------------------------------------------------------------
    def at(self, times: ArrayLike) -> SurvivalAtTimes:
        """S(t), its SE and CI, n at risk and the event rate 1 - S(t) at chosen times.

        As R's ``summary(fit, times = t)``: the right-continuous step function at t; before the
        first observed time S = 1 with SE 0 and CI [1, 1]; ``n_risk`` is the number at risk at
        the first observed time >= t; past the last observed time every value is NaN and
        ``beyond_last_time`` is True.
        """
        t = np.atleast_1d(np.asarray(times, dtype=np.float64))
        if t.ndim != 1 or not np.isfinite(t).all():
            raise StatsError(f"times must be a 1-d array of finite numbers, but was {times!r}")
        m = self.time.size
        idx = np.searchsorted(self.time, t, side="right") - 1
        nxt = np.searchsorted(self.time, t, side="left")
        beyond = t > (self.time[-1] if m else -np.inf)
        before = idx < 0
        safe = np.clip(idx, 0, max(m - 1, 0))
        surv = np.where(before, 1.0, self.survival[safe])
        se = np.where(before, 0.0, self.std_err[safe])
        low = np.where(before, 1.0, self.ci_low[safe])
        high = np.where(before, 1.0, self.ci_high[safe])
        nrisk = self.n_risk[np.clip(nxt, 0, max(m - 1, 0))].astype(np.float64)
        for arr in (surv, se, low, high, nrisk):
            arr[beyond] = np.nan
        return SurvivalAtTimes(
            time=t,
            survival=surv,
            std_err=se,
            ci_low=low,
            ci_high=high,
            n_risk=nrisk,
            event_rate=1.0 - surv,
            event_rate_ci_low=1.0 - high,
            event_rate_ci_high=1.0 - low,
            beyond_last_time=beyond,
            conventions=self.conventions,
        )

    def rmst(self, tau: float) -> RMSTResult:
        r"""Restricted mean survival time :math:`\int_0^\tau S(t)\,dt` with its SE.

        Exactly R's ``print(survfit, rmean = tau)`` (``survival:::survmean``): the area under the
        step function up to tau, and
        :math:`\mathrm{Var} = \sum_{t_j \le \tau} A_j^2\, d_j / (n_j (n_j - d_j))` with
        :math:`A_j = \int_{t_j}^{\tau} S(t)\,dt`. The CI is estimate ± z SE (R prints none).
        """
        tau = float(tau)
        if not np.isfinite(tau) or tau < 0:
            raise StatsError(f"tau must be a finite number >= 0, but was {tau!r}")
        with np.errstate(all="ignore"):
            nr, ne = self.n_risk, self.n_event
            hh = np.where(nr - ne == 0, 0.0, ne / (nr * (nr - ne)))
        keep = self.time <= tau
        if not keep.any():
            temptime = np.array([tau])
            tempsurv = np.array([1.0])
            hh2 = np.array([0.0])
        else:
            temptime = np.append(self.time[keep], tau)
            tempsurv = np.append(self.survival[keep], self.survival[keep][-1])
            hh2 = np.append(hh[keep], 0.0)
        k = temptime.size
        delta = np.diff(np.concatenate(([0.0], temptime)))
        rect = delta * np.concatenate(([1.0], tempsurv[: k - 1]))
        area_after = np.cumsum(rect[1:][::-1])
        var = float(np.sum(area_after**2 * hh2[::-1][1:]))
        est = float(np.sum(rect))
        se = float(np.sqrt(var))
        z = z_value(self.conventions.conf_level)
        return RMSTResult(
            tau=tau, estimate=est, std_err=se, ci_low=est - z * se, ci_high=est + z * se,
            conventions=self.conventions,
        )  # fmt: skip

    def to_frame(self) -> pd.DataFrame:
        """The table: one row per distinct observed time."""
        df = pd.DataFrame(
            {
                "time": self.time,
                "n_risk": self.n_risk,
                "n_event": self.n_event,
                "n_censor": self.n_censor,
                "survival": self.survival,
                "std_err": self.std_err,
                "std_err_cumhaz": self.std_err_cumhaz,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
            }
        )
        if self.group is not None:
            df.insert(0, "group", self.group)
        return df

    def __repr__(self) -> str:
        med = self.median
        g = f"group={self.group!r}, " if self.group is not None else ""
        return (
            f"KaplanMeierResult({g}n={self.n}, events={self.n_events}, median={_txt(med.estimate)} "
            f"[{_txt(med.ci_low)}, {_txt(med.ci_high)}], conf_type={self.conventions.conf_type!r}, "
            f"median_rule={self.conventions.median_rule!r})"
        )


def _txt(x: float | None) -> str:
    return "NR" if x is None else f"{x:.6g}"


@dataclass(frozen=True, slots=True)
class KaplanMeierByGroupResult:
    """One Kaplan-Meier curve per group level (levels in sorted order, as R's factor)."""

    groups: tuple[str, ...]
    curves: tuple[KaplanMeierResult, ...]
    conventions: Conventions

    def __getitem__(self, group: str) -> KaplanMeierResult:
        try:
            return self.curves[self.groups.index(str(group))]
        except ValueError:
            raise KeyError(f"no group {group!r}; groups are {list(self.groups)}") from None

    def __len__(self) -> int:
        return len(self.groups)

    def to_frame(self) -> pd.DataFrame:
        """All tables stacked, with a ``group`` column."""
        return pd.concat([c.to_frame() for c in self.curves], ignore_index=True)

    def __repr__(self) -> str:
        return (
            f"KaplanMeierByGroupResult(groups={list(self.groups)}, "
            f"n={[c.n for c in self.curves]}, conf_type={self.conventions.conf_type!r})"
        )


@dataclass(frozen=True, slots=True)
class FollowUpResult:
    """Median follow-up by the reverse Kaplan-Meier method (censoring as the event)."""

    median: QuantileEstimate
    km: KaplanMeierResult
    n: int
    n_censored: int
    conventions: Conventions

    def to_frame(self) -> pd.DataFrame:
        """One row: n, n_censored, median and its CI."""
        return pd.DataFrame(
            {
                "n": [self.n],
                "n_censored": [self.n_censored],
                "median": [self.median.estimate],
                "ci_low": [self.median.ci_low],
                "ci_high": [self.median.ci_high],
            }
        )

    def __repr__(self) -> str:
        m = self.median
        return (
            f"FollowUpResult(n={self.n}, median={_txt(m.estimate)} "
            f"[{_txt(m.ci_low)}, {_txt(m.ci_high)}], conf_type={self.conventions.conf_type!r})"
        )


# ---------------------------------------------------------------------------------------------
# construction
# ---------------------------------------------------------------------------------------------
def _risk_with_entry(
    t: FloatArray, entry: FloatArray, time: FloatArray, weights: FloatArray | None
) -> FloatArray:
    """n_risk(t) = sum of weights with entry < t <= time."""
    oe = np.argsort(entry, kind="stable")
    ot = np.argsort(time, kind="stable")
    ie = np.searchsorted(entry[oe], t, side="left")
    it = np.searchsorted(time[ot], t, side="left")
    if weights is None:
        return (ie - it).astype(np.float64)
    ce = np.concatenate(([0.0], np.cumsum(weights[oe])))
    ct = np.concatenate(([0.0], np.cumsum(weights[ot])))
    out: FloatArray = ce[ie] - ct[it]
    return out


def _build(
    grid: FloatArray,
    rec: NDArray[np.intp],
    ev: NDArray[np.intp],
    wrec: FloatArray | None,
    wev: FloatArray | None,
    conv: Conventions,
    *,
    group: str | None,
    entry: FloatArray | None,
    time: FloatArray | None,
    weights: FloatArray | None,
) -> KaplanMeierResult:
    rows = rec > 0
    tot = (wrec if wrec is not None else rec).astype(np.float64)
    dall = (wev if wev is not None else ev).astype(np.float64)
    t = grid[rows]
    if entry is not None and time is not None:
        n_risk = _risk_with_entry(t, entry, time, weights)
    else:
        n_risk = np.cumsum(tot[::-1])[::-1][rows]
    d = dall[rows]
    n_censor = tot[rows] - d
    with np.errstate(all="ignore"):
        surv: FloatArray = np.cumprod(np.where(d > 0, 1.0 - d / n_risk, 1.0)).astype(np.float64)
        inc = np.where(d > 0, d / (n_risk * (n_risk - d)), 0.0)
        var = np.cumsum(inc)
        se_ch: FloatArray = np.where(np.isfinite(var), np.sqrt(var), np.nan)
        std_err: FloatArray = surv * se_ch
    z = z_value(conv.conf_level)
    low, high = pointwise_ci(surv, se_ch, conv.conf_type, z)
    if conv.median_rule == "r":
        med = _quantile_r(t, surv, low, high, 0.5)
    else:
        med = _quantile_sas(t, d, surv, std_err, 0.5, conv.conf_type, z)
    for arr in (t, n_risk, d, n_censor, surv, std_err, se_ch, low, high):
        arr.flags.writeable = False  # results are immutable
    return KaplanMeierResult(
        time=t,
        n_risk=n_risk,
        n_event=d,
        n_censor=n_censor,
        survival=surv,
        std_err=std_err,
        std_err_cumhaz=se_ch,
        ci_low=low,
        ci_high=high,
        n=int(rec.sum()),
        n_events=int(ev.sum()),
        median=med,
        conventions=conv,
        group=group,
        weighted=weights is not None,
        left_truncated=entry is not None,
    )


def _prepare(
    time: ArrayLike, event: ArrayLike, entry: ArrayLike | None, weights: ArrayLike | None
) -> tuple[FloatArray, NDArray[np.uint8], FloatArray | None, FloatArray | None]:
    t = as_time(time)
    if t.size == 0:
        raise StatsError("time is empty: a Kaplan-Meier curve needs at least one observation")
    e = as_event(event, t.size)
    w = as_weights(weights, t.size)
    en = check_entry(entry, t)
    return t, e, en, w


def kaplan_meier(
    time: ArrayLike,
    event: ArrayLike,
    *,
    entry: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    profile: str = "sas",
    conf_type: str | None = None,
    conf_level: float = 0.95,
    median_rule: str | None = None,
) -> KaplanMeierResult:
    """Kaplan-Meier estimate of S(t) with Greenwood SEs, pointwise CIs and the median.

    Parameters
    ----------
    time : array-like of float
        Follow-up times (>= 0, finite).
    event : array-like of bool or 0/1
        1/True = event at ``time``, 0/False = censored at ``time``.
    entry : array-like of float, optional
        Delayed-entry (left-truncation) times, strictly before ``time``: a subject is at risk on
        (entry, time], as R's ``Surv(entry, time, status)``.
    weights : array-like of float, optional
        Case weights (>= 0): counts become weighted sums; Greenwood's formula is applied to
        the weighted counts.
    profile : {"sas", "r"}
        Default conventions: "sas" = log-log CIs and LIFETEST's median rule; "r" = log CIs and
        ``quantile.survfit``.
    conf_type : {"log-log", "log", "plain", "arcsin", "logit"}, optional
        Overrides the profile's CI transform.
    conf_level : float
        Confidence level of the pointwise and quantile CIs.
    median_rule : {"sas", "r"}, optional
        Overrides the profile's quantile rule (see the module docstring).

    Returns
    -------
    KaplanMeierResult

    Raises
    ------
    StatsError
        Empty input, lengths that differ, negative or non-finite times, event values other
        than 0/1, negative weights, entry >= time, or an unknown convention.

    Examples
    --------
    >>> r = kaplan_meier([1, 2, 3, 4], [1, 1, 0, 1], profile="r")
    >>> r.survival.tolist()
    [0.75, 0.5, 0.5, 0.0]
    >>> r.median.estimate
    3.0
    """
    conv = resolve_conventions(profile, conf_type=conf_type, conf_level=conf_level, median_rule=median_rule)
    t, e, en, w = _prepare(time, event, entry, weights)
    codes, grid = time_codes(t)
    rec, ev, wrec, wev = count_cells(codes, e, None, 1, grid.size, w)
    return _build(
        grid, rec[0], ev[0], None if wrec is None else wrec[0], None if wev is None else wev[0],
        conv, group=None, entry=en, time=t, weights=w,
    )  # fmt: skip


def kaplan_meier_by_group(
    time: ArrayLike,
    event: ArrayLike,
    group: ArrayLike,
    *,
    entry: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    profile: str = "sas",
    conf_type: str | None = None,
    conf_level: float = 0.95,
    median_rule: str | None = None,
) -> KaplanMeierByGroupResult:
    """One Kaplan-Meier curve per level of ``group`` (R's ``survfit(Surv(t, e) ~ group)``).

    Same options as :func:`kaplan_meier`. Levels are sorted (a ``pandas.Categorical`` keeps its
    category order; unused categories are dropped). The counting is done for all groups in one
    O(N) pass.
    """
    conv = resolve_conventions(profile, conf_type=conf_type, conf_level=conf_level, median_rule=median_rule)
    t, e, en, w = _prepare(time, event, entry, weights)
    gcodes, levels = factorize(group, t.size)
    k = len(levels)
    codes, grid = time_codes(t, k)
    curves = []
    if cells_fit(k, grid.size):
        rec, ev, wrec, wev = count_cells(codes, e, gcodes, k, grid.size, w)
        for g, label in enumerate(levels):
            if not rec[g].any():
                continue  # an unused level
            if en is not None:
                sel = gcodes == g
                ent_g: FloatArray | None = en[sel]
                t_g: FloatArray | None = t[sel]
                w_g = None if w is None else w[sel]
            else:
                ent_g, t_g, w_g = None, None, w
            curves.append(
                _build(
                    grid,
                    rec[g],
                    ev[g],
                    None if wrec is None else wrec[g],
                    None if wev is None else wev[g],
                    conv,
                    group=label,
                    entry=ent_g,
                    time=t_g,
                    weights=w_g,
                )  # fmt: skip
            )
    else:  # many groups and many distinct times: one pass per group
        for g, label in enumerate(levels):
            sel = gcodes == g
            if not sel.any():
                continue
            t_g2 = t[sel]
            w_g2 = None if w is None else w[sel]
            c_g, grid_g = time_codes(t_g2)
            r1, e1, wr1, we1 = count_cells(c_g, e[sel], None, 1, grid_g.size, w_g2)
            curves.append(
                _build(
                    grid_g,
                    r1[0],
                    e1[0],
                    None if wr1 is None else wr1[0],
                    None if we1 is None else we1[0],
                    conv,
                    group=label,
                    entry=None if en is None else en[sel],
                    time=t_g2,
                    weights=w_g2,
                )  # fmt: skip
            )
    used = tuple(c.group for c in curves if c.group is not None)
    return KaplanMeierByGroupResult(groups=used, curves=tuple(curves), conventions=conv)


def median_followup(
    time: ArrayLike,
    event: ArrayLike,
    *,
    profile: str = "sas",
    conf_type: str | None = None,
    conf_level: float = 0.95,
    median_rule: str | None = None,
) -> FollowUpResult:
    """Median follow-up by the reverse Kaplan-Meier method (Schemper and Smith 1996).

    The Kaplan-Meier estimate with the roles swapped: a censoring is the "event" and an event
    censors follow-up, as R's ``survfit(Surv(time, 1 - status) ~ 1)``. At a tied time the
    censorings are events at t and the events stay at risk at t.

    References
    ----------
    Schemper M, Smith TL (1996). A note on quantifying follow-up in studies of failure time.
    Controlled Clinical Trials 17:343-346.
    """
    t = as_time(time)
    e = as_event(event, t.size)
    km = kaplan_meier(
        t, 1 - e, profile=profile, conf_type=conf_type, conf_level=conf_level,
        median_rule=median_rule,
    )  # fmt: skip
    return FollowUpResult(
        median=km.median,
        km=km,
        n=int(t.size),
        n_censored=int(t.size - int(e.sum())),
        conventions=km.conventions,
    )
