r"""Log-rank test and its weighted, stratified and trend versions (k groups).

At each distinct event time :math:`t_j` (within a stratum) with :math:`n_j` at risk,
:math:`d_j` events, :math:`n_{gj}` at risk and :math:`d_{gj}` events in group g, and weight
:math:`w_j`:

.. math::

    U_g = \sum_j w_j (d_{gj} - d_j n_{gj} / n_j), \qquad
    V_{gh} = \sum_j w_j^2 \frac{d_j (n_j - d_j)}{n_j - 1}
             \frac{n_{gj}}{n_j}\Bigl(\delta_{gh} - \frac{n_{hj}}{n_j}\Bigr)

(hypergeometric variance; the term is 0 when :math:`n_j = 1`). U and V are summed over strata.
The statistic is :math:`U' V^{-} U` over the groups with :math:`V_{gg} > 0` but the last, on
``df`` = (number of groups with :math:`V_{gg} > 0`) - 1 degrees of freedom, as R's ``survdiff``.

Weights: ``"logrank"`` 1; ``"gehan"`` :math:`n_j` (Gehan-Breslow generalised Wilcoxon, SAS
LIFETEST's TEST=WILCOXON); ``"tarone-ware"`` :math:`\sqrt{n_j}`; ``"peto-peto"``
:math:`\hat S(t_j-)`, the pooled Kaplan-Meier just before :math:`t_j` (R's
``survdiff(rho = 1)``, which R calls Peto & Peto; SAS's TEST=PETO uses a modified estimate and
differs); ``"fleming-harrington"`` :math:`\hat S(t_j-)^\rho (1 - \hat S(t_j-))^\gamma`
(Fleming and Harrington 1991, G(rho, gamma); R's ``survdiff(rho)`` is G(rho, 0)). The pooled
KM is computed within each stratum.

Test for trend (``scores`` c, one per group in level order): :math:`(c'U)^2 / (c'Vc)` on 1 df
(SAS LIFETEST's TREND option; Collett 2015, section 2.6).

References
----------
Mantel N (1966). Peto R, Peto J (1972). Gehan EA (1965). Tarone RE, Ware J (1977).
Fleming TR, Harrington DP (1991), Counting Processes and Survival Analysis, chapter 7.
Therneau T (2023), survival 3.5: ``survdiff``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.stats import chi2

from postcart.errors import StatsError
from postcart.stats._surv import (
    FloatArray,
    IntArray,
    as_event,
    as_time,
    cells_fit,
    count_cells,
    factorize,
    time_codes,
)
from postcart.stats.conventions import Conventions, resolve_conventions

__all__ = ["LogRankResult", "logrank_test", "pairwise_logrank"]

WEIGHTS = ("logrank", "gehan", "peto-peto", "tarone-ware", "fleming-harrington")


@dataclass(frozen=True, slots=True)
class LogRankResult:
    """A (weighted, stratified) k-sample log-rank test or a test for trend.

    Attributes
    ----------
    test : str
        ``"logrank"``, ``"gehan"``, ``"peto-peto"``, ``"tarone-ware"``,
        ``"fleming-harrington(rho, gamma)"``, with `` trend`` appended for a trend test.
    chisq, df, p : float, int, float
        The statistic, its degrees of freedom and the upper-tail chi-square p-value
        (``p`` is NaN when ``df == 0``).
    groups : tuple of str
        Group levels (sorted; a ``pandas.Categorical`` keeps its order).
    n : ndarray
        Number of observations per group.
    observed, expected : ndarray
        Weighted sums of observed and expected events per group, summed over strata.
    u : ndarray
        ``observed - expected`` (the score vector U).
    variance : ndarray
        The k x k variance matrix of U.
    weights, rho, gamma : str, float, float
        The weight function and its Fleming-Harrington parameters.
    scores : tuple of float or None
        The trend scores, if a trend test.
    strata : tuple of str or None
        Stratum levels, if stratified.
    conventions : Conventions
    """

    test: str
    chisq: float
    df: int
    p: float
    groups: tuple[str, ...]
    n: FloatArray
    observed: FloatArray
    expected: FloatArray
    u: FloatArray
    variance: FloatArray
    weights: str
    rho: float
    gamma: float
    scores: tuple[float, ...] | None
    strata: tuple[str, ...] | None
    conventions: Conventions

    def to_frame(self) -> pd.DataFrame:
        """One row per group: n, observed, expected, O - E, variance (diagonal)."""
        return pd.DataFrame(
            {
                "group": list(self.groups),
                "n": self.n,
                "observed": self.observed,
                "expected": self.expected,
                "o_minus_e": self.u,
                "variance": np.diag(self.variance),
            }
        )

    def __repr__(self) -> str:
        return (
            f"LogRankResult(test={self.test!r}, chisq={self.chisq:.6g}, df={self.df}, "
            f"p={self.p:.4g}, groups={list(self.groups)})"
        )


def _test_name(weights: str, rho: float, gamma: float, trend: bool) -> str:
    name = f"fleming-harrington({rho:g}, {gamma:g})" if weights == "fleming-harrington" else weights
    return name + (" trend" if trend else "")


def logrank_test(
    time: ArrayLike,
    event: ArrayLike,
    group: ArrayLike,
    *,
    strata: ArrayLike | None = None,
    weights: str = "logrank",
    rho: float = 0.0,
    gamma: float = 0.0,
    scores: ArrayLike | None = None,
    profile: str = "sas",
) -> LogRankResult:
    """Compare survival between k groups (log-rank and weighted versions, stratified, trend).

    Parameters
    ----------
    time, event : array-like
        Follow-up times (>= 0) and event indicators (1/True = event).
    group : array-like
        Group labels (any hashable values; missing labels are an error).
    strata : array-like, optional
        Stratum labels: U and V are summed over strata before the quadratic form.
    weights : {"logrank", "gehan", "peto-peto", "tarone-ware", "fleming-harrington"}
        The weight function (see the module docstring).
    rho, gamma : float
        Fleming-Harrington G(rho, gamma) parameters (only with ``"fleming-harrington"``).
    scores : array-like of float, optional
        One score per group (in level order): gives the 1-df test for trend.
    profile : {"sas", "r"}
        Recorded in ``conventions`` (the test is the same in both).

    Returns
    -------
    LogRankResult

    Raises
    ------
    StatsError
        Bad times/events/labels, unknown weights, negative rho/gamma, or scores of the wrong
        length.
    """
    conv = resolve_conventions(profile)
    if weights not in WEIGHTS:
        raise StatsError(f"weights must be one of {list(WEIGHTS)}, but was {weights!r}")
    if weights != "fleming-harrington" and (rho != 0.0 or gamma != 0.0):
        raise StatsError(
            f"rho and gamma apply to weights='fleming-harrington' only, but weights={weights!r} "
            f"with rho={rho!r}, gamma={gamma!r}"
        )
    if not (np.isfinite(rho) and np.isfinite(gamma) and rho >= 0 and gamma >= 0):
        raise StatsError(f"rho and gamma must be finite and >= 0, but were {rho!r}, {gamma!r}")
    t = as_time(time)
    if t.size == 0:
        raise StatsError("time is empty: the log-rank test needs observations")
    e = as_event(event, t.size)
    gcodes, all_levels = factorize(group, t.size, "group")
    k = len(all_levels)
    if strata is not None:
        scodes, s_all = factorize(strata, t.size, "strata")
        ns = len(s_all)
    else:
        scodes, s_all, ns = None, None, 1
    codes, grid = time_codes(t, ns * k)
    if cells_fit(ns * k, grid.size):
        cell = gcodes if scodes is None else scodes * k + gcodes
        parts = [_accumulate(codes, grid.size, e, cell, ns, k, weights, rho, gamma)]
    elif scodes is not None:  # large: one pass per stratum, each with its own time grid
        parts = []
        for s in range(ns):
            sel = scodes == s
            if sel.any():
                c_s, g_s = time_codes(t[sel], k)
                parts.append(_accumulate(c_s, g_s.size, e[sel], gcodes[sel], 1, k, weights, rho, gamma))
    else:
        raise StatsError(
            f"too many distinct (group x time) cells: {k} groups x {grid.size} times; "
            "use fewer groups or round the times"
        )
    observed = sum((p[0] for p in parts), np.zeros(k))
    expected = sum((p[1] for p in parts), np.zeros(k))
    variance = sum((p[2] for p in parts), np.zeros((k, k)))
    n_all = sum((p[3] for p in parts), np.zeros(k))
    used = np.flatnonzero(n_all > 0)
    levels = tuple(all_levels[i] for i in used)
    observed, expected, n_g = observed[used], expected[used], n_all[used]
    variance = variance[np.ix_(used, used)]
    u = observed - expected
    s_levels: tuple[str, ...] | None = None
    if scodes is not None and s_all is not None:
        s_used = np.bincount(scodes, minlength=ns) > 0
        s_levels = tuple(lv for lv, ok in zip(s_all, s_used, strict=True) if ok)
    sc: FloatArray | None = None
    if scores is not None:
        sc = np.asarray(scores, dtype=np.float64).reshape(-1)
        if sc.size != len(levels) or not np.isfinite(sc).all():
            raise StatsError(
                f"scores must be {len(levels)} finite numbers (one per group {list(levels)}), "
                f"but was {np.asarray(scores).tolist()!r}"
            )
    if sc is not None:
        num = float(sc @ u)
        den = float(sc @ variance @ sc)
        if den > 0:
            chisq, df = num * num / den, 1
        else:
            chisq, df = 0.0, 0
    else:
        keep = np.flatnonzero(np.diag(variance) > 0)
        kk = keep[:-1]
        df = int(kk.size)
        if df == 0:
            chisq = 0.0
        else:
            vv = variance[np.ix_(kk, kk)]
            try:
                chisq = float(u[kk] @ np.linalg.solve(vv, u[kk]))
            except np.linalg.LinAlgError:
                chisq = float(u[kk] @ np.linalg.pinv(vv) @ u[kk])
    p = float(chi2.sf(chisq, df)) if df > 0 else float("nan")
    for arr in (n_g, observed, expected, u, variance):
        arr.flags.writeable = False  # results are immutable
    return LogRankResult(
        test=_test_name(weights, rho, gamma, sc is not None),
        chisq=float(chisq),
        df=df,
        p=p,
        groups=levels,
        n=n_g,
        observed=observed,
        expected=expected,
        u=u,
        variance=variance,
        weights=weights,
        rho=float(rho),
        gamma=float(gamma),
        scores=None if sc is None else tuple(float(x) for x in sc),
        strata=s_levels,
        conventions=conv,
    )


def _accumulate(
    codes: IntArray,
    n_grid: int,
    event: NDArray[np.uint8],
    cell: IntArray,
    ns: int,
    k: int,
    weights: str,
    rho: float,
    gamma: float,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Weighted observed, expected, variance (k x k) and n per group, summed over strata."""
    rec, ev, _, _ = count_cells(codes, event, cell, ns * k, n_grid)
    d_sgt = ev.reshape(ns, k, n_grid).astype(np.float64)
    tot = rec.reshape(ns, k, n_grid).astype(np.float64)
    n_sgt = np.cumsum(tot[:, :, ::-1], axis=2)[:, :, ::-1]  # at risk at t within stratum
    n_st = n_sgt.sum(axis=1)
    d_st = d_sgt.sum(axis=1)
    mask = d_st > 0
    with np.errstate(all="ignore"):
        factor = np.where(mask, 1.0 - d_st / n_st, 1.0)
    km = np.cumprod(factor, axis=1)  # pooled KM within stratum
    s_minus = np.concatenate([np.ones((ns, 1)), km[:, :-1]], axis=1)[mask]
    nj = n_st[mask]
    dj = d_st[mask]
    if weights == "logrank":
        w = np.ones_like(nj)
    elif weights == "gehan":
        w = nj
    elif weights == "tarone-ware":
        w = np.sqrt(nj)
    elif weights == "peto-peto":
        w = s_minus
    else:
        w = s_minus**rho * (1.0 - s_minus) ** gamma
    a = n_sgt.transpose(1, 0, 2)[:, mask] / nj  # (k, m): share of the risk set
    dg = d_sgt.transpose(1, 0, 2)[:, mask]
    observed = dg @ w
    expected = (dj * a) @ w
    with np.errstate(all="ignore"):
        c = np.where(nj > 1, w * w * dj * (nj - dj) / (nj - 1), 0.0)
    ac = a * c
    variance = np.diag(ac.sum(axis=1)) - ac @ a.T
    return observed, expected, variance, tot.sum(axis=(0, 2))


def pairwise_logrank(
    time: ArrayLike,
    event: ArrayLike,
    group: ArrayLike,
    *,
    strata: ArrayLike | None = None,
    weights: str = "logrank",
    rho: float = 0.0,
    gamma: float = 0.0,
    profile: str = "sas",
) -> tuple[LogRankResult, ...]:
    """Two-group tests for every pair of levels (level order), without p-value adjustment."""
    t = as_time(time)
    gcodes, all_levels = factorize(group, t.size, "group")
    present = np.flatnonzero(np.bincount(gcodes, minlength=len(all_levels)) > 0)
    e = np.asarray(event)
    st = None if strata is None else np.asarray(strata)
    out = []
    for i, j in combinations(present.tolist(), 2):
        sel = (gcodes == i) | (gcodes == j)
        labels = np.where(gcodes[sel] == i, 0, 1)
        res = logrank_test(
            t[sel], e[sel], labels, strata=None if st is None else st[sel], weights=weights,
            rho=rho, gamma=gamma, profile=profile,
        )  # fmt: skip
        out.append(_relabel(res, (all_levels[i], all_levels[j])))
    return tuple(out)


def _relabel(res: LogRankResult, groups: tuple[str, ...]) -> LogRankResult:
    return LogRankResult(
        test=res.test, chisq=res.chisq, df=res.df, p=res.p, groups=groups, n=res.n,
        observed=res.observed, expected=res.expected, u=res.u, variance=res.variance,
        weights=res.weights, rho=res.rho, gamma=res.gamma, scores=res.scores,
        strata=res.strata, conventions=res.conventions,
    )  # fmt: skip
