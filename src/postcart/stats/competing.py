"""Competing risks: Aalen-Johansen cumulative incidence and Gray's test.

* ``cumulative_incidence``: the Aalen-Johansen estimate of the probability of being in each
  state (event-free, or having had cause k) with the infinitesimal-jackknife standard error
  and pointwise confidence limits, exactly as R's ``survfit(Surv(time, factor(cause)) ~ 1)``
  (``pstate``, ``std.err``, ``lower``/``upper`` with ``conf.type = "log"``).
* ``gray_test``: Gray's (1988) k-sample test comparing the cumulative incidence of one cause
  between groups, as ``cmprsk::cuminc(...)$Tests`` (``rho = 0`` by default).

References
----------
Aalen O.O., Johansen S. (1978). An empirical transition matrix for non-homogeneous Markov
chains based on censored observations. Scand. J. Statist. 5, 141-150.
Gray R.J. (1988). A class of K-sample tests for comparing the cumulative incidence of a
competing risk. Ann. Statist. 16, 1141-1154.
Therneau T., Crowson C., Atkinson E. "Multi-state models and competing risks" (survival
package vignette): the infinitesimal-jackknife variance of ``pstate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from postcart.errors import StatsError
from postcart.stats._gray import gray_scores
from postcart.stats.conventions import Conventions, resolve_conventions
from postcart.stats.results import TestStatistic

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

__all__ = [
    "CumulativeIncidenceAtTimes",
    "CumulativeIncidenceResult",
    "GrayTestResult",
    "cumulative_incidence",
    "cumulative_incidence_by_group",
    "gray_test",
]

EVENT_FREE = "event_free"


# ---------------------------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------------------------
def _as_time(time: ArrayLike) -> FloatArray:
    try:
        t = np.asarray(time, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StatsError(f"time must be numeric: {exc}") from None
    if t.ndim != 1:
        raise StatsError(f"time must be one-dimensional, but has shape {t.shape}")
    if t.size == 0:
        raise StatsError("time is empty: at least one observation is needed")
    bad = np.flatnonzero(~np.isfinite(t))
    if bad.size:
        raise StatsError(f"time must be finite, but row {bad[0]} is {float(t[bad[0]])!r}")
    return t


def _factorize(values: ArrayLike, name: str, n: int) -> tuple[list[Any], IntArray]:
    """Distinct values (as Python objects, in order of appearance) and each row's index."""
    a = np.asarray(values)
    if a.ndim != 1 or a.shape[0] != n:
        raise StatsError(f"{name} must be one-dimensional with {n} values (as time), but has shape {a.shape}")
    miss = np.asarray(pd.isna(a), dtype=bool)
    if miss.any():
        i = int(np.flatnonzero(miss)[0])
        raise StatsError(f"{name} must not be missing, but row {i} is {a[i]!r}")
    inv, uniq = pd.factorize(a, sort=False)
    return [u.item() if isinstance(u, np.generic) else u for u in uniq], np.asarray(inv, dtype=np.int64)


def _sort_key(v: Any) -> tuple[str, Any]:
    return (str(type(v)), v)


def _cause_codes(
    cause: ArrayLike, n: int, causes: Sequence[Any] | None, censor: Any
) -> tuple[IntArray, tuple[str, ...]]:
    """Codes 0 = censored, 1..K = position of the cause in ``causes`` (+1)."""
    uniq, inv = _factorize(cause, "cause", n)
    is_cens = [bool(u == censor) for u in uniq]
    observed = sorted((u for u, ce in zip(uniq, is_cens, strict=True) if not ce), key=_sort_key)
    if causes is None:
        labels: list[Any] = observed
    else:
        labels = list(causes)
        if len(set(labels)) != len(labels):
            raise StatsError(f"causes must be distinct, but were {labels!r}")
        if censor in labels:
            raise StatsError(f"causes must not contain the censoring code {censor!r}")
        missing = [v for v in observed if v not in labels]
        if missing:
            row = int(np.flatnonzero(inv == uniq.index(missing[0]))[0])
            raise StatsError(
                f"cause has value {missing[0]!r} (row {row}) "
                f"that is neither the censoring code {censor!r} nor one of causes={labels!r}"
            )
    index = {v: k + 1 for k, v in enumerate(labels)}
    code_of_unique = np.array(
        [0 if ce else index[u] for u, ce in zip(uniq, is_cens, strict=True)], dtype=np.int64
    )
    names = tuple(str(v) for v in labels)
    if EVENT_FREE in names:
        raise StatsError(f"a cause must not be named {EVENT_FREE!r} (the name of the initial state)")
    return code_of_unique[inv], names


def _z(conf_level: float) -> float:
    return float(sps.norm.ppf(1.0 - (1.0 - conf_level) / 2.0))


def _log_ci(p: FloatArray, se: FloatArray, z: float) -> tuple[FloatArray, FloatArray]:
    """R ``survfit_confint(p, se, logse = FALSE, "log")``: exp(log p -/+ z se/p), upper <= 1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        pp = np.where(p == 0.0, np.nan, p)
        s = np.where(se == 0.0, 0.0, se / pp)
        lo = np.exp(np.log(pp) - z * s)
        hi = np.minimum(np.exp(np.log(pp) + z * s), 1.0)
    return lo, hi


# ---------------------------------------------------------------------------------------------
# Aalen-Johansen
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CumulativeIncidenceAtTimes:
    """The Aalen-Johansen estimate read at chosen times (R's ``summary(fit, times = t)``).

    Arrays have one row per requested time and one column per state (``states``). Times past
    the last observed time are ``nan`` with ``beyond_last_time`` True; times before the first
    observed time give the initial state (event-free probability 1, SE 0).
    """

    time: FloatArray
    states: tuple[str, ...]
    pstate: FloatArray
    std_err: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    n_risk: FloatArray
    beyond_last_time: NDArray[np.bool_]
    conventions: Conventions

    def to_frame(self) -> pd.DataFrame:
        """Long format: one row per (time, state)."""
        return _long_frame(
            self.time,
            self.states,
            self.pstate,
            self.std_err,
            self.ci_low,
            self.ci_high,
            {"n_risk": self.n_risk, "beyond_last_time": self.beyond_last_time},
        )

    def __repr__(self) -> str:
        return f"CumulativeIncidenceAtTimes(times={len(self.time)}, states={list(self.states)})"


def _long_frame(
    time: FloatArray,
    states: tuple[str, ...],
    pstate: FloatArray,
    se: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    extra: dict[str, NDArray[Any]],
) -> pd.DataFrame:
    frames = []
    for j, s in enumerate(states):
        d: dict[str, Any] = {"time": time, "state": s}
        d.update(extra)
        d.update({"pstate": pstate[:, j], "std_err": se[:, j], "ci_low": lo[:, j], "ci_high": hi[:, j]})
        frames.append(pd.DataFrame(d))
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True, slots=True)
class CumulativeIncidenceResult:
    """Aalen-Johansen estimate for competing risks (one initial state, K absorbing causes).

    Attributes
    ----------
    time : ndarray (T,)
        Every distinct observed time (event or censoring), as R's ``survfit`` object.
    states : tuple of str
        ``("event_free", cause_1, ..., cause_K)``: the columns of the matrices below.
    causes : tuple of str
        The causes, in the order of ``states[1:]``.
    n_risk, n_censor : ndarray (T,)
        Number at risk just before ``time`` (censored at ``time`` are at risk) and censored.
    n_event : ndarray (T, K+1)
        Events of each cause (column 0, the event-free state, is 0).
    pstate : ndarray (T, K+1)
        Probability of each state at ``time``: column 0 = event-free (the all-cause KM),
        column k = cumulative incidence function of cause k.
    std_err : ndarray (T, K+1)
        Infinitesimal-jackknife standard error of ``pstate`` (R's ``std.err``).
    ci_low, ci_high : ndarray (T, K+1)
        Pointwise limits, log transform: ``exp(log p -/+ z se/p)``, upper capped at 1; ``nan``
        where ``p = 0``.
    n, n_events : int
        Observations; events of any cause.
    conventions : Conventions
        ``conf_type = "log"`` (R's multi-state default) and the confidence level.
    """

    time: FloatArray
    states: tuple[str, ...]
    causes: tuple[str, ...]
    n_risk: FloatArray
    n_event: FloatArray
    n_censor: FloatArray
    pstate: FloatArray
    std_err: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    n: int
    n_events: int
    conventions: Conventions

    def cif(self, cause: str) -> FloatArray:
        """The cumulative incidence curve of one cause (aligned with ``time``)."""
        if cause not in self.causes:
            raise StatsError(f"cause must be one of {list(self.causes)}, but was {cause!r}")
        return self.pstate[:, self.states.index(cause)]

    def at(self, times: ArrayLike) -> CumulativeIncidenceAtTimes:
        """Read the step functions at ``times`` (right-continuous), as R's ``summary(fit, times)``."""
        t = np.atleast_1d(np.asarray(times, dtype=np.float64))
        if t.ndim != 1 or not np.all(np.isfinite(t)):
            raise StatsError(f"times must be finite numbers, but were {times!r}")
        idx = np.searchsorted(self.time, t, side="right") - 1
        beyond = t > self.time[-1]
        k = len(self.states)
        p0 = np.zeros(k)
        p0[0] = 1.0
        p = np.where(idx[:, None] >= 0, self.pstate[np.maximum(idx, 0)], p0)
        se = np.where(idx[:, None] >= 0, self.std_err[np.maximum(idx, 0)], 0.0)
        lo, hi = _log_ci(p, se, _z(self.conventions.conf_level))
        # n at risk at t: number with time >= t
        pos = np.searchsorted(self.time, t, side="left")
        n_at = np.where(pos < len(self.time), self.n_risk[np.minimum(pos, len(self.time) - 1)], 0.0)
        for arr in (p, se, lo, hi):
            arr[beyond] = np.nan
        n_at = np.where(beyond, np.nan, n_at)
        return CumulativeIncidenceAtTimes(
            time=t,
            states=self.states,
            pstate=p,
            std_err=se,
            ci_low=lo,
            ci_high=hi,
            n_risk=n_at.astype(np.float64),
            beyond_last_time=beyond,
            conventions=self.conventions,
        )

    def to_frame(self) -> pd.DataFrame:
        """Long format: one row per (time, state) with n_risk, n_event, n_censor."""
        frames = []
        for j, s in enumerate(self.states):
            frames.append(
                pd.DataFrame(
                    {
                        "time": self.time,
                        "state": s,
                        "n_risk": self.n_risk,
                        "n_event": self.n_event[:, j],
                        "n_censor": self.n_censor,
                        "pstate": self.pstate[:, j],
                        "std_err": self.std_err[:, j],
                        "ci_low": self.ci_low[:, j],
                        "ci_high": self.ci_high[:, j],
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def __repr__(self) -> str:
        return (
            f"CumulativeIncidenceResult(n={self.n}, events={self.n_events}, causes={list(self.causes)}, "
            f"conf_type={self.conventions.conf_type!r})"
        )


def cumulative_incidence(
    time: ArrayLike,
    cause: ArrayLike,
    *,
    causes: Sequence[Any] | None = None,
    censor: Any = 0,
    conf_level: float = 0.95,
) -> CumulativeIncidenceResult:
    r"""Aalen-Johansen cumulative incidence of competing causes, with R's IJ standard errors.

    Parameters
    ----------
    time : array-like of float
        Follow-up time of each subject (finite).
    cause : array-like
        The cause of the event; the value ``censor`` (default 0) marks a censored subject.
    causes : sequence, optional
        The causes in the order wanted (default: the observed causes, sorted). A cause may
        have no events; an observed value not listed (and not ``censor``) is an error.
    censor : object, default 0
        The value of ``cause`` meaning censored.
    conf_level : float, default 0.95
        Level of the pointwise confidence limits.

    Returns
    -------
    CumulativeIncidenceResult

    Notes
    -----
    At each distinct time :math:`t_j` with :math:`n_j` at risk and :math:`d_{kj}` events of
    cause k (:math:`d_j = \sum_k d_{kj}`), with :math:`h_{kj} = d_{kj}/n_j`:

    .. math::
        p_0(t_j) = p_0(t_{j-1})(1 - d_j/n_j), \qquad
        p_k(t_j) = p_k(t_{j-1}) + p_0(t_{j-1})\, d_{kj}/n_j .

    The standard error is the infinitesimal jackknife of R's ``survfit`` for multi-state
    data: with :math:`U_i` the derivative of :math:`p(t)` with respect to subject i's case
    weight, :math:`\mathrm{var}\, p(t) = \sum_i U_i(t)^2`. :math:`U_i` follows the same
    recursion as :math:`p` with :math:`\partial h_{kj}/\partial w_i = (dN_{ikj} -
    Y_{ij} h_{kj})/n_j`. Subjects who leave the risk set at the same time with the same
    status share one influence, and after leaving it evolves linearly, so the sum of squares
    is accumulated in O(T K) without an n x T matrix. A subject censored at :math:`t_j` is
    at risk at :math:`t_j`. Limits: ``exp(log p -/+ z se/p)``, the upper capped at 1 (R's
    default ``conf.type = "log"`` for multi-state curves).
    """
    t = _as_time(time)
    n = t.size
    codes, names = _cause_codes(cause, n, causes, censor)
    conv = resolve_conventions("r", conf_type="log", conf_level=conf_level)
    k = len(names)
    ns = k + 1

    utimes, inv = np.unique(t, return_inverse=True)
    nt = utimes.size
    counts = np.zeros((nt, ns), dtype=np.float64)  # column 0: censored; k: cause k
    np.add.at(counts, (inv, codes), 1.0)
    n_censor = counts[:, 0].copy()
    d_k = counts[:, 1:]
    d = d_k.sum(axis=1)
    leaving = counts.sum(axis=1)
    n_risk = n - np.concatenate(([0.0], np.cumsum(leaving)[:-1]))

    pstate, var = _aalen_johansen(n_risk, d_k, n_censor)
    se = np.sqrt(np.maximum(var, 0.0))
    lo, hi = _log_ci(pstate, se, _z(conf_level))
    n_event = np.concatenate((np.zeros((nt, 1)), d_k), axis=1)
    return CumulativeIncidenceResult(
        time=utimes,
        states=(EVENT_FREE, *names),
        causes=names,
        n_risk=n_risk,
        n_event=n_event,
        n_censor=n_censor,
        pstate=pstate,
        std_err=se,
        ci_low=lo,
        ci_high=hi,
        n=n,
        n_events=int(d.sum()),
        conventions=conv,
    )


def _aalen_johansen(
    n_risk: FloatArray, d_k: FloatArray, n_censor: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """State probabilities and their IJ variances at each distinct time (vectorised).

    ``A`` is the influence of a subject still at risk at t_j (the same for all of them); a
    subject with an event of cause k at t_j has ``A + step (e_k - e_0)``, step = p0(t_j-)/n_j.
    After leaving, a subject's influence U evolves as U_0(t) = a p_0(t), U_k(t) = b_k + a p_k(t),
    so the sum of squares over those who left before t_j needs only the running sums of a^2,
    a b_k and b_k^2 (S_aa, S_ab, S_bb).
    """
    n = n_risk
    d = d_k.sum(axis=1)
    h = d / n
    hk = d_k / n[:, None]
    p0 = np.cumprod(1.0 - h)
    p0_prev = np.concatenate(([1.0], p0[:-1]))
    pk = np.cumsum(p0_prev[:, None] * hk, axis=0)
    step = p0_prev / n
    # A_0(t_j) = A_0(t_j-)(1 - h_j) + p_0(t_j-) h_j / n_j  =>  A_0 = p_0 cumsum(h / (n (1 - h)));
    # h_j = 1 (everyone at risk has the event) can only happen at the last time: A_0 = step there
    full = h >= 1.0
    q = np.where(full, 0.0, h / (n * np.where(full, 1.0, 1.0 - h)))
    a0 = np.where(full, step, p0 * np.cumsum(q))
    a0_prev = np.concatenate(([0.0], a0[:-1]))
    ak = np.cumsum(hk * (a0_prev - step)[:, None], axis=0)
    # subjects leaving at t_i: censored (influence A) and events (A + step (e_k - e_0))
    c = n_censor
    alive = p0 > 0.0
    inv_p0 = np.where(alive, 1.0 / np.where(alive, p0, 1.0), 0.0)
    a_c = a0 * inv_p0
    a_e = (a0 - step) * inv_p0
    b_c = ak - a_c[:, None] * pk
    b_e = ak - a_e[:, None] * pk
    saa = np.where(alive, c * a_c**2 + d * a_e**2, 0.0)
    sab = np.where(
        alive[:, None],
        c[:, None] * a_c[:, None] * b_c + a_e[:, None] * (d[:, None] * b_e + d_k * step[:, None]),
        0.0,
    )

    def before(x: FloatArray) -> FloatArray:  # sum over i < j
        cs = np.cumsum(x, axis=0)
        return np.concatenate((np.zeros_like(cs[:1]), cs[:-1]), axis=0)

    # sum_i w_i (b_ik + a_i p)^2 = S_aa (p - centre)^2 + R: the residual R is accumulated from
    # non-negative increments (no cancellation when the variance is ~0, e.g. p_k = 1 at the end)
    s_aa, s_ab = before(saa), before(sab)
    s_run = s_aa.copy()
    sab_run = s_ab.copy()
    r_inc = np.zeros_like(pk)
    k_causes = d_k.shape[1]
    groups = [(np.where(alive, c, 0.0), a_c, b_c)]
    for kk in range(k_causes):
        b_kk = b_e.copy()
        b_kk[:, kk] += step
        groups.append((np.where(alive, d_k[:, kk], 0.0), a_e, b_kk))
    for w, a_g, b_g in groups:
        centre = np.where(s_run[:, None] > 0.0, -sab_run / np.where(s_run > 0.0, s_run, 1.0)[:, None], 0.0)
        wa2 = w * a_g**2
        denom = s_run + wa2
        ratio = np.where(denom > 0.0, s_run / np.where(denom > 0.0, denom, 1.0), 1.0)
        r_inc += (w * ratio)[:, None] * (b_g + a_g[:, None] * centre) ** 2
        s_run = s_run + wa2
        sab_run = sab_run + (w * a_g)[:, None] * b_g
    r_past = before(r_inc)
    centre_past = np.where(s_aa[:, None] > 0.0, -s_ab / np.where(s_aa > 0.0, s_aa, 1.0)[:, None], 0.0)
    var0 = (n - d) * a0**2 + d * (a0 - step) ** 2 + s_aa * p0**2
    vark = (
        (n[:, None] - d_k) * ak**2
        + d_k * (ak + step[:, None]) ** 2
        + s_aa[:, None] * (pk - centre_past) ** 2
        + r_past
    )
    pstate = np.concatenate((p0[:, None], pk), axis=1)
    var = np.concatenate((var0[:, None], vark), axis=1)
    return pstate, var


def cumulative_incidence_by_group(
    time: ArrayLike,
    cause: ArrayLike,
    group: ArrayLike,
    *,
    causes: Sequence[Any] | None = None,
    censor: Any = 0,
    conf_level: float = 0.95,
) -> dict[str, CumulativeIncidenceResult]:
    """``cumulative_incidence`` in each level of ``group`` (sorted levels; the same causes in each).

    As R's ``survfit(Surv(time, factor(cause)) ~ group)``, whose curves are fitted separately.
    """
    t = _as_time(time)
    codes, names = _cause_codes(cause, t.size, causes, censor)
    levels, gi = _levels(group, t.size)
    # refit each group on the codes, so every group has the same causes in the same order
    out: dict[str, CumulativeIncidenceResult] = {}
    for k, lev in enumerate(levels):
        m = gi == k
        res = cumulative_incidence(
            t[m], codes[m], causes=list(range(1, len(names) + 1)), conf_level=conf_level
        )
        out[str(lev)] = _rename(res, names)
    return out


def _rename(res: CumulativeIncidenceResult, names: tuple[str, ...]) -> CumulativeIncidenceResult:
    return CumulativeIncidenceResult(
        time=res.time,
        states=(EVENT_FREE, *names),
        causes=names,
        n_risk=res.n_risk,
        n_event=res.n_event,
        n_censor=res.n_censor,
        pstate=res.pstate,
        std_err=res.std_err,
        ci_low=res.ci_low,
        ci_high=res.ci_high,
        n=res.n,
        n_events=res.n_events,
        conventions=res.conventions,
    )


def _levels(group: ArrayLike, n: int) -> tuple[list[Any], IntArray]:
    """Sorted group levels and each row's level index."""
    uniq, inv = _factorize(group, "group", n)
    order = sorted(range(len(uniq)), key=lambda i: _sort_key(uniq[i]))
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[order] = np.arange(len(uniq))
    return [uniq[i] for i in order], rank[inv]


# ---------------------------------------------------------------------------------------------
# Gray's test
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class GrayTestResult:
    """Gray's test that the cumulative incidence of ``cause`` is the same in every group.

    ``chisq = s' V^-1 s`` on ``df = groups - 1`` degrees of freedom, where ``score`` (s) holds
    the scores of the first ``groups - 1`` groups and ``variance`` (V) their covariance.
    """

    cause: str
    groups: tuple[str, ...]
    chisq: float
    df: int
    p: float
    score: FloatArray
    variance: FloatArray
    rho: float
    n: int

    @property
    def test(self) -> TestStatistic:
        """The statistic as a plain ``TestStatistic(chisq, df, p)``."""
        return TestStatistic(chisq=self.chisq, df=self.df, p=self.p)

    def to_frame(self) -> pd.DataFrame:
        """One row: cause, chisq, df, p, rho, groups."""
        return pd.DataFrame(
            {
                "cause": [self.cause],
                "chisq": [self.chisq],
                "df": [self.df],
                "p": [self.p],
                "rho": [self.rho],
                "groups": [", ".join(self.groups)],
            }
        )

    def __repr__(self) -> str:
        return (
            f"GrayTestResult(cause={self.cause!r}, groups={len(self.groups)}, chisq={self.chisq:.6g}, "
            f"df={self.df}, p={self.p:.4g})"
        )


def gray_test(
    time: ArrayLike,
    cause: ArrayLike,
    group: ArrayLike,
    *,
    cause_of_interest: Any,
    censor: Any = 0,
    rho: float = 0.0,
    strata: ArrayLike | None = None,
) -> GrayTestResult:
    r"""Gray's K-sample test for the cumulative incidence of one cause (``cmprsk::cuminc``).

    Parameters
    ----------
    time : array-like of float
    cause : array-like
        The cause of each event; ``censor`` (default 0) marks censored subjects.
    group : array-like
        Group of each subject (at least two levels).
    cause_of_interest : object
        The value of ``cause`` whose cumulative incidence is compared; every other non-censor
        value is a competing cause.
    rho : float, default 0
        Power of the weight :math:`(1 - \hat F_1(t-))^\rho` (cmprsk's ``rho``).
    strata : array-like, optional
        Stratified test (cmprsk's ``strata``): scores and variances are computed within each
        stratum and summed before the quadratic form.

    Notes
    -----
    The score of group k is :math:`s_k = \int W(t)\,\{d\hat F_{1k}(t)/ (1-\hat F_{1k}(t-))
    - d\hat F_1^0(t)/(1-\hat F_1^0(t-))\}` weighted by the group's "risk set" for the
    subdistribution hazard (Gray 1988, eq. 2.3), and its variance is Gray's asymptotic
    estimator (section 3), computed by the same recursions as ``cmprsk``'s ``crstm`` routine
    (Gray 2000, GPL; re-derived here in vector form). The statistic
    :math:`s' V^{-1} s` is referred to :math:`\chi^2_{K-1}`.
    """
    t = _as_time(time)
    n = t.size
    uniq, inv_c = _factorize(cause, "cause", n)
    if cause_of_interest == censor:
        raise StatsError(f"cause_of_interest must not be the censoring code {censor!r}")
    if not any(u == cause_of_interest for u in uniq):
        raise StatsError(f"cause_of_interest {cause_of_interest!r} never occurs in cause")
    m_of_unique = np.array(
        [0 if u == censor else (1 if u == cause_of_interest else 2) for u in uniq], dtype=np.int64
    )
    m = m_of_unique[inv_c]
    levels, gi = _levels(group, n)
    if len(levels) < 2:
        raise StatsError(f"group must have at least two levels, but has {len(levels)}: {levels!r}")
    ng = len(levels)

    if strata is None:
        s, v = gray_scores(t, m, gi, ng, rho)
    else:
        st_levels, si = _levels(strata, n)
        s = np.zeros(ng - 1)
        v = np.zeros((ng - 1, ng - 1))
        for k in range(len(st_levels)):
            sel = si == k
            s_k, v_k = gray_scores(t[sel], m[sel], gi[sel], ng, rho)
            s += s_k
            v += v_k
    ng1 = ng - 1
    try:
        chisq = float(s @ np.linalg.solve(v, s))
    except np.linalg.LinAlgError:
        raise StatsError(
            f"Gray's test variance is singular for cause {cause_of_interest!r} "
            f"(a group may have no subject at risk at any event time)"
        ) from None
    return GrayTestResult(
        cause=str(cause_of_interest),
        groups=tuple(str(x) for x in levels),
        chisq=chisq,
        df=ng1,
        p=float(sps.chi2.sf(chisq, ng1)),
        score=s,
        variance=v,
        rho=float(rho),
        n=n,
    )
