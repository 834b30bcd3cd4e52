"""Numerical core of the Cox model: partial likelihood, score and information, aggregated by time.

Private to ``postcart.stats``; the public entry point is :func:`postcart.stats.cox.cox_ph`.

Layout of the computation (all vectorised, no Python loop over times or subjects):

* The *grid* is the sorted list of distinct (stratum, event time) pairs, ``k = 0..K-1``.
* Row ``i`` (one (start, stop] interval) is at risk at grid points ``lo_i <= k < hi_i``
  (``start_i < t_k <= stop_i`` in its own stratum). Without ``entry``, ``lo_i`` is the first
  grid point of its stratum.
* Risk-set sums ``S0_k = sum r_i``, ``S1_k = sum r_i x_i`` (``r_i = w_i exp(eta_i)``) come from
  a difference array: row sums are added at ``hi_i`` and subtracted at ``lo_i``, then a reverse
  cumulative sum. Rows are sorted once by (hi, stratum, event first), so the additions are one
  ``np.add.reduceat`` over contiguous pieces.
* Ties: each grid point carries ``d_k`` "l-terms" for Efron (``f = l/d_k``, ``l = 0..d_k-1``,
  each with weight ``wbar_k`` = mean case weight of the deaths) and one term (``f = 0``, weight
  the summed death weights) for Breslow. ``den_kl = S0_k - f E0_k`` (``E`` = sums over the
  deaths at ``t_k``).
* The information ``sum_kl wl [(S2 - f E2)/den - a a'/den^2]`` is never formed per time: the
  ``S2`` part is ``X' diag(r_i C_i) X`` with ``C_i`` the sum of ``sum_l wl/den_kl`` over the grid
  points where row ``i`` is at risk (one matrix product); the ``a a'`` part is a K x p product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(slots=True)
class CoxSetup:
    """Data sorted and indexed once for repeated evaluation at different ``beta``."""

    n: int
    p: int
    K: int
    order: IntArray  # sorted position -> original row
    X: FloatArray  # centred covariates, sorted rows
    means: FloatArray
    w: FloatArray
    unit_weights: bool
    delta: FloatArray  # 1.0 for an event row
    lo: IntArray
    hi: IntArray
    has_entry: bool
    lo_all_zero: bool  # every row enters at the first grid point (no entry, one stratum with events)
    Xa: FloatArray | None  # [1, X] when pieces are large enough for per-piece products (tied data)
    piece_bounds: list[tuple[int, int]]
    efron: bool
    piece_starts: IntArray
    piece_hi: IntArray
    piece_event: NDArray[np.bool_]
    piece_lo_strat: IntArray  # grid offset of the piece's stratum (subtraction point w/o entry)
    ek: IntArray  # grid index of each event row (sorted rows), -1 for non-events
    dead: IntArray  # sorted positions of the event rows
    dead_k: IntArray  # their grid index
    wd: FloatArray  # summed death weights per grid point
    nd: FloatArray  # number of deaths per grid point
    lk: IntArray  # grid index of each l-term
    lf: FloatArray  # fraction f of each l-term
    lw: FloatArray  # weight of each l-term
    lcounts: IntArray  # number of l-terms per grid point (d_k for Efron, 1 for Breslow)
    lstarts: IntArray  # first l-term of each grid point
    wdx: FloatArray  # sum_i w_i delta_i x_i
    grid_time: FloatArray
    grid_stratum: IntArray


@dataclass(slots=True)
class CoxEval:
    """Log partial likelihood and its derivatives at one ``beta`` (plus pieces for residuals)."""

    loglik: float
    score: FloatArray
    info: FloatArray
    eta: FloatArray  # sorted rows, centred covariates
    S0: FloatArray
    S1: FloatArray
    E0: FloatArray
    E1: FloatArray
    alpha: FloatArray  # sum_l wl/den per grid point (hazard increment)
    beta_f: FloatArray  # sum_l wl f/den
    gamma: FloatArray  # sum_l wl/den^2
    zeta: FloatArray  # sum_l wl f/den^2
    theta: FloatArray  # sum_l wl f^2/den^2


#: Minimum mean rows per piece for the per-piece product path of ``evaluate``.
PIECE_ROWS = 64


def _revcumsum(a: FloatArray) -> FloatArray:
    return np.asarray(np.cumsum(a[::-1], axis=0)[::-1], dtype=np.float64)


def _bincount(idx: IntArray, weights: FloatArray, size: int) -> FloatArray:
    return np.asarray(np.bincount(idx, weights=weights, minlength=size), dtype=np.float64)


def _sort_rows(stop: FloatArray, event: NDArray[np.bool_], strata: IntArray) -> IntArray:
    """Order by (stratum, stop, events first); the order inside a tie block is irrelevant."""
    n = stop.size
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    tmin, tmax = float(stop.min()), float(stop.max())
    n_strata = int(strata.max()) + 1
    span = tmax - tmin + 1.0
    if span * 2 * n_strata < 65536 and bool(np.all(stop == np.floor(stop))):
        key16 = (stop - tmin).astype(np.uint16)
        if n_strata > 1:
            key16 += strata.astype(np.uint16) * np.uint16(span)
        key16 <<= 1
        key16 |= ~event
        return np.argsort(key16, kind="stable")
    if span * 2 * n_strata < 2**62 and bool(np.all(stop == np.floor(stop))):
        key = ((strata.astype(np.int64) * int(span)) + (stop - tmin).astype(np.int64)) * 2
        key += (~event).astype(np.int64)
        return np.argsort(key)
    return np.lexsort(((~event).astype(np.int8), stop, strata)).astype(np.intp)


def build_setup(
    X: FloatArray,
    stop: FloatArray,
    event: NDArray[np.bool_],
    start: FloatArray | None,
    strata: IntArray,
    weights: FloatArray,
    *,
    efron: bool,
) -> CoxSetup:
    """Sort and index the data once (one sort, then linear passes); see the module docstring."""
    n, p = X.shape
    n_strata = int(strata.max()) + 1 if n else 1
    order = _sort_rows(stop, event, strata)
    ts = np.take(stop, order)
    ss = np.take(strata, order).astype(np.intp)
    ev = np.take(event, order)
    # dense rank of (stratum, stop) in sorted order
    change = np.ones(n, dtype=bool)
    if n > 1:
        change[1:] = (ts[1:] != ts[:-1]) | (ss[1:] != ss[:-1])
    rank = np.cumsum(change) - 1
    # grid: distinct (stratum, time) among the events
    er = rank[ev]
    gfirst = np.ones(er.size, dtype=bool)
    if er.size > 1:
        gfirst[1:] = er[1:] != er[:-1]
    grid_rank = er[gfirst]
    dead = np.flatnonzero(ev).astype(np.intp)
    grid_t = ts[dead[gfirst]]
    grid_s = ss[dead[gfirst]]
    K = int(grid_rank.size)
    his = np.searchsorted(grid_rank, rank, side="right").astype(np.intp)
    strat_off = np.searchsorted(grid_s, np.arange(n_strata), side="left").astype(np.intp)
    if start is not None:
        # rows are at risk at the grid points of their stratum with time > start
        sts = np.take(start, order)
        ut = np.unique(grid_t)
        base = ut.size + 1
        gkey = grid_s.astype(np.int64) * base + np.searchsorted(ut, grid_t, side="right")
        bkey = ss.astype(np.int64) * base + np.searchsorted(ut, sts, side="right")
        los = np.searchsorted(gkey, bkey, side="right").astype(np.intp)
    else:
        los = strat_off[ss]
    Xs = np.take(X, order, axis=0)
    means = Xs.mean(axis=0) if n else np.zeros(p)
    Xs -= means
    ws = np.take(weights, order)
    unit = bool(np.all(ws == 1.0))
    pchange = np.ones(n, dtype=bool)
    if n > 1:
        pchange[1:] = (his[1:] != his[:-1]) | (ev[1:] != ev[:-1]) | (ss[1:] != ss[:-1])
    piece_starts = np.flatnonzero(pchange).astype(np.intp)
    # heavily tied data without entry: the per-time sums of r [1 x][1 x]' are one small matrix
    # product per piece (rows sharing a grid interval and event status)
    use_pieces = start is None and piece_starts.size * PIECE_ROWS <= n and p > 0
    Xa = np.hstack((np.ones((n, 1)), Xs)) if use_pieces else None
    ends = np.append(piece_starts[1:], n)
    bounds = list(zip(piece_starts.tolist(), ends.tolist(), strict=True)) if use_pieces else []
    piece_hi = his[piece_starts]
    piece_event = ev[piece_starts]
    piece_lo_strat = strat_off[ss[piece_starts]]
    dead_k = (his[dead] - 1).astype(np.intp)
    ek = np.full(n, -1, dtype=np.intp)
    ek[dead] = dead_k
    delta = ev.astype(np.float64)
    wd = _bincount(dead_k, ws[dead], K)
    nd = np.bincount(dead_k, minlength=K).astype(np.float64)
    if efron:
        counts = nd.astype(np.intp)
        lk = np.repeat(np.arange(K, dtype=np.intp), counts)
        starts = (np.cumsum(counts) - counts).astype(np.intp)
        ell = np.arange(lk.size, dtype=np.float64) - np.repeat(starts, counts)
        lf = ell / nd[lk]
        lw = (wd / np.where(nd > 0, nd, 1.0))[lk]
    else:
        lk = np.arange(K, dtype=np.intp)
        lf = np.zeros(K)
        lw = wd.copy()
        counts = np.ones(K, dtype=np.intp)
        starts = np.arange(K, dtype=np.intp)
    wdx = np.take(ws, dead) @ np.take(Xs, dead, axis=0)
    return CoxSetup(
        n=n,
        p=p,
        K=K,
        order=order,
        X=Xs,
        means=means,
        w=ws,
        unit_weights=unit,
        delta=delta,
        lo=los,
        hi=his,
        has_entry=start is not None,
        lo_all_zero=not bool(np.any(los)),
        Xa=Xa,
        piece_bounds=bounds,
        efron=efron,
        piece_starts=piece_starts,
        piece_hi=piece_hi,
        piece_event=piece_event,
        piece_lo_strat=piece_lo_strat,
        ek=ek,
        dead=dead,
        dead_k=dead_k,
        wd=wd,
        nd=nd,
        lk=lk,
        lf=lf,
        lw=lw,
        lcounts=counts,
        lstarts=starts,
        wdx=wdx,
        grid_time=grid_t,
        grid_stratum=grid_s,
    )


def risk_sums(
    s: CoxSetup, r: FloatArray, cols: FloatArray, *, deaths: bool = True
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Risk-set sums ``S0, S1`` and death sums ``E0, E1`` of ``r`` and ``r * cols`` on the grid."""
    K = s.K
    q = cols.shape[1]
    if s.n == 0:
        z = np.zeros((K, q))
        return np.zeros(K), z, np.zeros(K), z.copy()
    M = np.empty((s.n, q + 1))
    M[:, 0] = r
    np.multiply(cols, r[:, None], out=M[:, 1:])
    pieces = np.add.reduceat(M, s.piece_starts, axis=0)
    diff = np.zeros((K + 1, q + 1))
    np.add.at(diff, s.piece_hi, pieces)
    if s.has_entry:
        for j in range(q + 1):
            diff[:, j] -= np.bincount(s.lo, weights=M[:, j], minlength=K + 1)
    else:
        np.add.at(diff, s.piece_lo_strat, -pieces)
    S = _revcumsum(diff)[1:]
    E = np.zeros((K, q + 1))
    pe = s.piece_event
    if deaths and pe.any():
        np.add.at(E, s.piece_hi[pe] - 1, pieces[pe])
    return S[:, 0], S[:, 1:], E[:, 0], E[:, 1:]


def _piece_moments(
    s: CoxSetup, r: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Risk-set sums ``S0, S1, S2`` and death sums ``E0, E1, E2`` via one product per piece."""
    K, p = s.K, s.p
    q = p + 1
    Xa = s.Xa
    if Xa is None:  # pragma: no cover - guarded by the caller
        raise ValueError("per-piece path without [1, X]")
    G = np.empty((len(s.piece_bounds), q, q))
    for i, (a, b) in enumerate(s.piece_bounds):
        xa = Xa[a:b]
        np.matmul(xa.T, xa * r[a:b, None], out=G[i])
    diff = np.zeros((K + 1, q, q))
    np.add.at(diff, s.piece_hi, G)
    np.add.at(diff, s.piece_lo_strat, -G)
    S = np.cumsum(diff[::-1], axis=0)[::-1][1:]
    E = np.zeros((K, q, q))
    pe = s.piece_event
    if pe.any():
        np.add.at(E, s.piece_hi[pe] - 1, G[pe])
    return S[:, 0, 0], S[:, 0, 1:], S[:, 1:, 1:], E[:, 0, 0], E[:, 0, 1:], E[:, 1:, 1:]


def evaluate(s: CoxSetup, beta: FloatArray, *, info: bool = True) -> CoxEval:
    """Log partial likelihood, score and information at ``beta`` (centred covariates)."""
    K, p = s.K, s.p
    eta = s.X @ beta
    r = np.exp(eta)
    if not s.unit_weights:
        r *= s.w
    S2 = E2 = None
    if s.Xa is not None:
        S0, S1, S2, E0, E1, E2 = _piece_moments(s, r)
    else:
        S0, S1, E0, E1 = risk_sums(s, r, s.X, deaths=s.efron)
    if s.efron:
        den = np.repeat(S0, s.lcounts) - s.lf * np.repeat(E0, s.lcounts)
    else:
        den = S0
    inv = s.lw / den
    loglik = float(s.wdx @ beta) - float(np.dot(s.lw, np.log(den)))  # sum_dead w eta = wdx' b
    inv2 = inv / den
    if s.efron:
        st = s.lstarts
        invf = inv * s.lf
        inv2f = inv2 * s.lf
        alpha = np.add.reduceat(inv, st) if K else np.zeros(0)
        beta_f = np.add.reduceat(invf, st) if K else np.zeros(0)
        gamma = np.add.reduceat(inv2, st) if K else np.zeros(0)
        zeta = np.add.reduceat(inv2f, st) if K else np.zeros(0)
        theta = np.add.reduceat(inv2f * s.lf, st) if K else np.zeros(0)
    else:
        alpha, gamma = inv, inv2
        beta_f = zeta = theta = np.zeros(K)
    score = s.wdx - (alpha @ S1 - beta_f @ E1)
    if info and S2 is not None and E2 is not None:
        imat = np.einsum("k,kab->ab", alpha, S2)
        if s.efron:
            imat -= np.einsum("k,kab->ab", beta_f, E2)
        imat -= S1.T @ (S1 * gamma[:, None])
        if s.efron:
            cross = S1.T @ (E1 * zeta[:, None])
            imat += cross + cross.T
            imat -= E1.T @ (E1 * theta[:, None])
        imat = 0.5 * (imat + imat.T)
    elif info:
        ca = np.concatenate(([0.0], np.cumsum(alpha)))
        v = np.take(ca, s.hi)
        if not s.lo_all_zero:
            v -= np.take(ca, s.lo)
        if s.efron:
            v[s.dead] -= beta_f[s.dead_k]
        v *= r
        y = s.X * np.sqrt(v)[:, None]
        imat = y.T @ y
        imat -= S1.T @ (S1 * gamma[:, None])
        if s.efron:
            cross = S1.T @ (E1 * zeta[:, None])
            imat += cross + cross.T
            imat -= E1.T @ (E1 * theta[:, None])
        imat = 0.5 * (imat + imat.T)
    else:
        imat = np.zeros((p, p))
    return CoxEval(
        loglik=loglik,
        score=score,
        info=imat,
        eta=eta,
        S0=S0,
        S1=S1,
        E0=E0,
        E1=E1,
        alpha=alpha,
        beta_f=beta_f,
        gamma=gamma,
        zeta=zeta,
        theta=theta,
    )


def score_residuals(s: CoxSetup, beta: FloatArray, ev: CoxEval) -> FloatArray:
    """Per-row score residuals ``L_i`` (sorted rows, unweighted), as R's ``residuals(type="score")``.

    ``L_i = delta_i (x_i - xbar_k(i)) - exp(eta_i) sum_{k at risk} sum_l c_il wl/den_kl (x_i - xbar_kl)``
    with ``c_il = 1 - f_l`` for a death at its own time and 1 otherwise; ``xbar_k`` is the mean
    of the ``xbar_kl`` (Efron) or ``S1/S0`` (Breslow). The weighted residuals sum to the score.
    """
    X = s.X
    e = np.exp(ev.eta)
    G = ev.S1 * ev.gamma[:, None] - ev.E1 * ev.zeta[:, None]  # sum_l wl xbar_l / den_l
    G1 = ev.S1 * ev.zeta[:, None] - ev.E1 * ev.theta[:, None]  # sum_l wl f xbar_l / den_l
    ca = np.concatenate(([0.0], np.cumsum(ev.alpha)))
    cG = np.vstack((np.zeros((1, s.p)), np.cumsum(G, axis=0)))
    A = ca[s.hi] - ca[s.lo]
    B = cG[s.hi] - cG[s.lo]
    dead = s.ek >= 0
    kd = s.ek[dead]
    A[dead] -= ev.beta_f[kd]
    B[dead] -= G1[kd]
    L = -(e[:, None] * (X * A[:, None] - B))
    wd_safe = np.where(s.wd > 0, s.wd, 1.0)
    xbar = (ev.S1 * ev.alpha[:, None] - ev.E1 * ev.beta_f[:, None]) / wd_safe[:, None]
    L[dead] += X[dead] - xbar[kd]
    return np.asarray(L, dtype=np.float64)


@dataclass(slots=True)
class NewtonResult:
    beta: FloatArray
    ev: CoxEval
    ev0: CoxEval
    iterations: int
    converged: bool


def newton_raphson(s: CoxSetup, *, max_iter: int, tol: float, ev0: CoxEval | None = None) -> NewtonResult:
    """Newton-Raphson from ``beta = 0`` with step halving, stopping rule of R's ``coxph``.

    Stops when ``|1 - loglik_old / loglik_new| <= tol`` after a full (not halved) step (tested as
    ``|new - old| <= tol |new|``, which is the same rule and safe when ``new`` is 0).
    """
    p = s.p
    beta = np.zeros(p)
    if ev0 is None:
        ev0 = evaluate(s, beta)
    if p == 0:
        return NewtonResult(beta, ev0, ev0, 0, True)
    cur = ev0
    step = _solve(cur.info, cur.score)
    newbeta = beta + step
    halving = False
    it = 0
    ev = cur
    for it in range(1, max_iter + 1):  # noqa: B007
        ev = evaluate(s, newbeta)
        if not np.isfinite(ev.loglik):
            halving = True
            newbeta = 0.5 * (newbeta + beta)
            continue
        # R's rule |1 - old/new| <= tol, written without the division: under complete
        # separation the log-likelihood can underflow to exactly 0.
        if abs(ev.loglik - cur.loglik) <= tol * abs(ev.loglik) and not halving:
            return NewtonResult(newbeta, ev, ev0, it, True)
        if it == max_iter:
            break
        if ev.loglik < cur.loglik:
            halving = True
            newbeta = 0.5 * (newbeta + beta)
        else:
            halving = False
            cur = ev
            beta = newbeta
            newbeta = beta + _solve(ev.info, ev.score)
    # not converged: report the best point reached
    best_beta, best = (newbeta, ev) if ev.loglik >= cur.loglik else (beta, cur)
    return NewtonResult(best_beta, best, ev0, it, False)


def _solve(a: FloatArray, b: FloatArray) -> FloatArray:
    try:
        c = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        return np.asarray(np.linalg.lstsq(a, b, rcond=None)[0], dtype=np.float64)
    y = np.linalg.solve(c, b)
    return np.asarray(np.linalg.solve(c.T, y), dtype=np.float64)
