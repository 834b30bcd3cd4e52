"""Harrell's concordance index with its infinitesimal-jackknife standard error.

Reproduces R's ``survival::concordancefit`` (survival 3.x) with ``timewt = "n"``, which is what
``coxph`` stores in ``fit$concordance`` (there with ``reverse = TRUE``: a higher linear
predictor predicts a shorter survival).

Definitions (weights ``w``; for right-censored data ``start = -inf``):

* A pair (i, j) is *comparable* when ``i`` has an event at ``t_i`` and ``j`` is at risk at
  ``t_i`` in the same stratum without an event at ``t_i`` (``start_j < t_i``, and
  ``stop_j > t_i`` or ``j`` is censored at ``t_i``). Its weight is ``w_i w_j``.
* It is *concordant* if ``x_i > x_j`` (``higher_is_riskier=True``), *discordant* if
  ``x_i < x_j``, *tied on x* if equal. Two events at the same time form a pair *tied on y*
  (``tied_xy`` if their predictors are also equal); those are not comparable.
* ``C = (concordant + tied_x / 2) / (concordant + discordant + tied_x)``.
* Standard error: the infinitesimal jackknife. With Somers' ``d = (C_n - D_n) / N_p`` and
  ``I_j`` the weighted counts of the comparable pairs that contain observation ``j``,
  ``dfbeta_j = w_j ((I_conc,j - I_disc,j) / N_p - d / N_p (I_conc,j + I_disc,j + I_tx,j))``,
  summed within clusters if given, and ``var(C) = sum dfbeta^2 / 4``.

The counts are computed in O(N log N) without any Python loop over observations: a two-sided
dominance count (time key >= t, predictor < x) decomposed over the bits of the time key
(a wavelet-tree style sweep), each level being one stable sort and binary searches.

References
----------
Harrell F.E., Califf R.M., Pryor D.B., Lee K.L., Rosati R.A. (1982). Evaluating the yield of
medical tests. JAMA 247, 2543-2546.
Therneau T., Atkinson E. "Concordance" (vignette of the R survival package, 2023): the
definitions above and the infinitesimal-jackknife variance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from postcart.errors import StatsError
from postcart.stats._surv import finite_vector, stratum_codes

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

__all__ = ["ConcordanceResult", "concordance_index"]


@dataclass(frozen=True, slots=True)
class ConcordanceResult:
    """Harrell's C with its infinitesimal-jackknife SE and the weighted pair counts.

    Attributes
    ----------
    concordance : float
        ``(concordant + tied_x / 2) / (concordant + discordant + tied_x)``; ``nan`` when no pair
        is comparable.
    std_err : float
        Infinitesimal-jackknife standard error (R's ``sqrt(concordance(fit)$var)``).
    concordant, discordant, tied_x, tied_y, tied_xy : float
        Weighted pair counts as R's ``count`` (``tied_y``/``tied_xy``: pairs of events at the
        same time).
    n : int
        Number of rows used.
    """

    concordance: float
    std_err: float
    concordant: float
    discordant: float
    tied_x: float
    tied_y: float
    tied_xy: float
    n: int

    def to_frame(self) -> pd.DataFrame:
        """One row with every field."""
        return pd.DataFrame(
            {
                "concordance": [self.concordance],
                "std_err": [self.std_err],
                "concordant": [self.concordant],
                "discordant": [self.discordant],
                "tied_x": [self.tied_x],
                "tied_y": [self.tied_y],
                "tied_xy": [self.tied_xy],
                "n": [self.n],
            }
        )

    def __repr__(self) -> str:
        return (
            f"ConcordanceResult(concordance={self.concordance:.6g}, std_err={self.std_err:.4g}, n={self.n})"
        )


def _dense_rank(v: NDArray[np.float64] | IntArray) -> IntArray:
    return np.unique(v, return_inverse=True)[1].astype(np.int64).ravel()


def _stable_order(g: IntArray) -> NDArray[np.intp]:
    if g.size and int(g.max()) < 65536 and int(g.min()) >= 0:
        return np.argsort(g.astype(np.uint16), kind="stable")
    return np.argsort(g, kind="stable")


def _cumw(w: FloatArray, idx: NDArray[np.intp], unit: bool) -> FloatArray:
    """``[0, cumsum(w[idx])]``; with unit weights simply ``0..len(idx)``."""
    if unit:
        return np.arange(idx.size + 1, dtype=np.float64)
    return np.concatenate(([0.0], np.cumsum(w[idx])))


def _dominance(
    a_p: IntArray,
    b_p: IntArray,
    w_p: FloatArray,
    a_q: IntArray,
    b_q: IntArray,
    w_q: FloatArray,
    *,
    ob_p: NDArray[np.intp] | None = None,
    ob_q: NDArray[np.intp] | None = None,
    distinct_b: bool = False,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Two-sided dominance sums over the pairs ``a_p >= a_q`` (all integers >= 0).

    Returns, for each query q, ``sum_p w_p [b_p < b_q]`` and ``[b_p <= b_q]``; and for each
    point p, ``sum_q w_q [b_q > b_p]`` and ``[b_q >= b_p]``, all restricted to ``a_p >= a_q``.

    Decomposition over the bits of ``a``: either ``a_p == a_q``, or at the highest differing
    bit ``L`` ``a_p`` has 1 and ``a_q`` has 0 with equal higher bits. At each level both sides
    are sorted by (group ``a >> (L + 1)``, b) with a radix sort of the group (the b order is
    fixed once: ``ob_p``/``ob_q`` may give it), and the one-dimensional counts are binary
    searches of sorted needles. ``distinct_b``: no point shares its b with a query except the
    query's own row, whose pair is excluded by ``a`` (then ``<=`` equals ``<``).
    """
    nq, npt = a_q.size, a_p.size
    q_lt = np.zeros(nq)
    p_gt = np.zeros(npt)
    if npt == 0 or nq == 0:
        return q_lt, q_lt.copy(), p_gt, p_gt.copy()
    bb = int(max(b_p.max(), b_q.max())) + 1
    amax = int(max(a_p.max(), a_q.max()))
    nbits = max(amax.bit_length(), 1)
    if ob_p is None:
        ob_p = np.argsort(b_p, kind="stable")
    if ob_q is None:
        ob_q = np.argsort(b_q, kind="stable")
    a_p_b, b_p_b, w_p_b = a_p[ob_p], b_p[ob_p], w_p[ob_p]
    a_q_b, b_q_b, w_q_b = a_q[ob_q], b_q[ob_q], w_q[ob_q]
    unit_p = bool(np.all(w_p == 1.0))
    unit_q = bool(np.all(w_q == 1.0))
    q_lt_b = np.zeros(nq)
    q_le_b = np.zeros(nq)
    p_gt_b = np.zeros(npt)
    p_ge_b = np.zeros(npt)
    for level in range(-1, nbits):
        if level < 0:
            ip = np.arange(npt)
            iq = np.arange(nq)
            gp = a_p_b
            gq = a_q_b
        else:
            ip = np.flatnonzero((a_p_b >> level) & 1)
            iq = np.flatnonzero(((a_q_b >> level) & 1) == 0)
            if ip.size == 0 or iq.size == 0:
                continue
            gp = a_p_b[ip] >> (level + 1)
            gq = a_q_b[iq] >> (level + 1)
        if level < nbits - 1:  # at the top level every group is 0: already in b order
            op = _stable_order(gp)
            ip = ip[op]
            gps = gp[op]
            oq = _stable_order(gq)
            iq = iq[oq]
            gqs = gq[oq]
        else:
            gps, gqs = gp, gq
        kp = gps * bb + b_p_b[ip]
        kq = gqs * bb + b_q_b[iq]
        cwp = _cumw(w_p_b, ip, unit_p)
        cwq = _cumw(w_q_b, iq, unit_q)
        # first index of each group on both sides (groups are small integers)
        gmax = int(max(gps[-1], gqs[-1])) + 1
        gstart_p = np.searchsorted(gps, np.arange(gmax + 1), side="left")
        gstart_q = np.searchsorted(gqs, np.arange(gmax + 1), side="left")
        base = cwp[gstart_p[gqs]]
        end = cwq[gstart_q[gps + 1]]
        lt_q = cwp[np.searchsorted(kp, kq, side="left")] - base
        gt_p = end - cwq[np.searchsorted(kq, kp, side="right")]
        q_lt_b[iq] += lt_q
        p_gt_b[ip] += gt_p
        if distinct_b:
            q_le_b[iq] += lt_q
            p_ge_b[ip] += gt_p
        else:
            q_le_b[iq] += cwp[np.searchsorted(kp, kq, side="right")] - base
            p_ge_b[ip] += end - cwq[np.searchsorted(kq, kp, side="left")]
    q_le = np.zeros(nq)
    p_ge = np.zeros(npt)
    q_lt[ob_q] = q_lt_b
    q_le[ob_q] = q_le_b
    p_gt[ob_p] = p_gt_b
    p_ge[ob_p] = p_ge_b
    return q_lt, q_le, p_gt, p_ge


def _key_cumsum(a: IntArray, w: FloatArray, size: int) -> FloatArray:
    """``c[k] = sum_j w_j [a_j < k]`` for ``k = 0..size`` (keys are small non-negative ints)."""
    hist = np.bincount(a, weights=w, minlength=size)
    return np.concatenate(([0.0], np.cumsum(hist)))


def _within_stratum_suffix(a: IntArray, w: FloatArray, a_q: IntArray, stratum_end: IntArray) -> FloatArray:
    """``sum_j w_j [a_q <= a_j < stratum_end_q]`` (keys already offset by stratum)."""
    size = int(max(a.max(), stratum_end.max())) + 1
    c = _key_cumsum(a, w, size)
    return np.asarray(np.take(c, stratum_end) - np.take(c, a_q))


def _within_stratum_prefix(a: IntArray, w: FloatArray, a_q: IntArray, stratum_start: IntArray) -> FloatArray:
    """``sum_j w_j [stratum_start_q <= a_j <= a_q]`` (keys already offset by stratum)."""
    size = int(max(a.max(), a_q.max())) + 2
    c = _key_cumsum(a, w, size)
    return np.asarray(np.take(c, a_q + 1) - np.take(c, stratum_start))


def _counts(
    stop: FloatArray,
    event: NDArray[np.bool_],
    start: FloatArray | None,
    x: FloatArray,
    strata: IntArray,
    w: FloatArray,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Total counts (5) and per-observation influence (n x 3: conc, disc, tied_x)."""
    n = stop.size
    times = stop if start is None else np.concatenate((stop, start))
    tr = np.searchsorted(np.unique(times), stop).astype(np.int64)
    tspan = 2 * (int(tr.max()) + 1 if n else 1) + 2
    soff = strata.astype(np.int64) * tspan
    # exit key: censored at t sorts after events at t; query key of an event at t
    e_key = soff + 2 * tr + np.where(event, 0, 1)
    ev = np.flatnonzero(event)
    q_key = soff[ev] + 2 * tr[ev] + 1
    send = soff + tspan
    # dense rank of x (one sort); the b order of all rows and of the events comes with it
    ox = np.argsort(x, kind="stable")
    xs = x[ox]
    newx = np.ones(n, dtype=bool)
    if n > 1:
        newx[1:] = xs[1:] != xs[:-1]
    xr = np.empty(n, dtype=np.int64)
    xr[ox] = np.cumsum(newx) - 1
    xspan = int(xr.max()) + 1 if n else 1
    distinct = bool(newx.all())
    bx = strata.astype(np.int64) * xspan + xr
    ob_all = np.argsort(bx, kind="stable") if bool(strata.size and strata.max() > 0) else ox
    we = w[ev]
    bq = bx[ev]
    # events (queries) against their at-risk partners (points), both directions in one sweep
    pos_ev = np.full(n, -1, dtype=np.int64)
    pos_ev[ev] = np.arange(ev.size)
    ob_ev = pos_ev[ob_all]
    ob_ev = ob_ev[ob_ev >= 0]
    order_kw = {"ob_p": ob_all, "ob_q": ob_ev, "distinct_b": distinct}
    lt, le, gt_p, ge_p = _dominance(e_key, bx, w, q_key, bq, we, **order_kw)  # type: ignore[arg-type]
    tot = _within_stratum_suffix(e_key, w, q_key, send[ev])
    # events whose query key is <= a partner's exit key (same stratum)
    tot_p = _within_stratum_prefix(q_key, we, e_key, soff)
    if start is not None:
        # rows with start >= t_i are not at risk at t_i: subtract them
        sr = np.searchsorted(np.unique(times), start).astype(np.int64)
        b_key = soff + 2 * sr + 1
        lt2, le2, gt2, ge2 = _dominance(b_key, bx, w, q_key, bq, we, **order_kw)  # type: ignore[arg-type]
        lt, le, gt_p, ge_p = lt - lt2, le - le2, gt_p - gt2, ge_p - ge2
        tot = tot - _within_stratum_suffix(b_key, w, q_key, send[ev])
        tot_p = tot_p - _within_stratum_prefix(q_key, we, b_key, soff)
    conc_e = lt
    tied_e = le - lt
    disc_e = tot - le
    le_p = tot_p - gt_p  # partner side: events with x_i <= x_j
    lt_p = tot_p - ge_p
    # for partner j: concordant if x_event > x_j
    infl = np.zeros((n, 3))
    infl[:, 0] = tot_p - le_p
    infl[:, 1] = lt_p
    infl[:, 2] = le_p - lt_p
    infl[ev, 0] += conc_e
    infl[ev, 1] += disc_e
    infl[ev, 2] += tied_e
    concordant = float(we @ conc_e)
    discordant = float(we @ disc_e)
    tied_x = float(we @ tied_e)
    # pairs of events at the same (stratum, time)
    tk = soff[ev] + tr[ev]
    ty_all, txy = _tied_event_pairs(tk, bx[ev], we)
    counts = np.array([concordant, discordant, tied_x, ty_all - txy, txy])
    return counts, infl


def _tied_event_pairs(tkey: IntArray, xkey: IntArray, w: FloatArray) -> tuple[float, float]:
    """Weighted numbers of unordered event pairs tied on time, and tied on time and x."""

    def pairs(keys: IntArray) -> float:
        _, inv = np.unique(keys, return_inverse=True)
        s1 = np.bincount(inv.ravel(), weights=w)
        s2 = np.bincount(inv.ravel(), weights=w * w)
        return float(0.5 * np.sum(s1 * s1 - s2))

    if tkey.size == 0:
        return 0.0, 0.0
    span = int(xkey.max()) + 1
    return pairs(tkey), pairs(tkey * span + xkey)


def concordance_from_arrays(
    stop: FloatArray,
    event: NDArray[np.bool_],
    start: FloatArray | None,
    x: FloatArray,
    strata: IntArray,
    w: FloatArray,
    cluster: IntArray | None,
) -> ConcordanceResult:
    """Concordance on validated arrays (used by ``cox_ph``)."""
    counts, infl = _counts(stop, event, start, x, strata, w)
    concordant, discordant, tied_x = counts[:3]
    npair = concordant + discordant + tied_x
    if npair <= 0:
        return ConcordanceResult(
            concordance=float("nan"),
            std_err=float("nan"),
            concordant=float(counts[0]),
            discordant=float(counts[1]),
            tied_x=float(counts[2]),
            tied_y=float(counts[3]),
            tied_xy=float(counts[4]),
            n=int(stop.size),
        )
    somer = (concordant - discordant) / npair
    dfbeta = w * ((infl[:, 0] - infl[:, 1]) / npair - (somer / npair) * infl.sum(axis=1))
    if cluster is not None:
        dfbeta = np.bincount(cluster, weights=dfbeta)
    var = float(np.sum(dfbeta**2)) / 4.0
    return ConcordanceResult(
        concordance=float((somer + 1.0) / 2.0),
        std_err=float(np.sqrt(var)),
        concordant=float(concordant),
        discordant=float(discordant),
        tied_x=float(tied_x),
        tied_y=float(counts[3]),
        tied_xy=float(counts[4]),
        n=int(stop.size),
    )


def concordance_index(
    time: ArrayLike,
    event: ArrayLike,
    score: ArrayLike,
    *,
    entry: ArrayLike | None = None,
    strata: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    cluster: ArrayLike | None = None,
    higher_is_riskier: bool = True,
) -> ConcordanceResult:
    """Harrell's concordance of a risk score with a (possibly left-truncated) survival outcome.

    Parameters
    ----------
    time, event : array-like
        Follow-up time (the stop time with ``entry``) and the event indicator (0/1 or bool).
    score : array-like
        The predictor, e.g. a Cox linear predictor.
    entry : array-like, optional
        Start of each (start, stop] interval (late entry / counting-process rows).
    strata : array-like, optional
        Pairs are compared only within a stratum.
    weights : array-like, optional
        Case weights (> 0); a pair has weight ``w_i w_j``.
    cluster : array-like, optional
        Cluster ids: the jackknife terms are summed within clusters before squaring.
    higher_is_riskier : bool
        ``True`` (default, as ``coxph``): a higher score predicts an earlier event. ``False``:
        a higher score predicts longer survival (R's ``concordance(y ~ x)``).

    Returns
    -------
    ConcordanceResult

    Raises
    ------
    StatsError
        On unequal lengths, non-finite values, events not 0/1, non-positive weights or
        ``entry >= time``.
    """
    t = finite_vector("time", time)
    n = t.size
    ev = finite_vector("event", event, n)
    if not np.all((ev == 0) | (ev == 1)):
        bad = int(np.flatnonzero((ev != 0) & (ev != 1))[0])
        raise StatsError(f"event must be 0/1 or boolean, but row {bad} is {float(ev[bad])!r}")
    x = finite_vector("score", score, n)
    if not higher_is_riskier:
        x = -x
    st = None if entry is None else finite_vector("entry", entry, n)
    if st is not None and np.any(st >= t):
        bad = int(np.flatnonzero(st >= t)[0])
        raise StatsError(
            f"entry must be < time, but row {bad} has entry {float(st[bad])!r} >= time {float(t[bad])!r}"
        )
    w = np.ones(n) if weights is None else finite_vector("weights", weights, n)
    if np.any(w <= 0):
        bad = int(np.flatnonzero(w <= 0)[0])
        raise StatsError(f"weights must be > 0, but row {bad} is {float(w[bad])!r}")
    s = stratum_codes("strata", strata, n)[0]
    cl = None if cluster is None else stratum_codes("cluster", cluster, n)[0]
    return concordance_from_arrays(t, ev.astype(bool), st, x, s, w, cl)
