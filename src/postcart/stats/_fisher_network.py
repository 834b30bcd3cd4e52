"""Exact p-value of Fisher's test for r x c tables: a network algorithm (private helpers).

Used by ``postcart.stats.contingency.fisher_exact``; see its docstring for the method. The
two-sided p-value sums the probabilities of the tables with the observed margins whose
log-probability is at most the observed one + ``FEXACT_TOL`` (R's FEXACT tolerance).

References
----------
Mehta C.R., Patel N.R. (1983). A network algorithm for performing Fisher's exact test in
r x c contingency tables. JASA 78, 427-434.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy import special as spsp

from postcart.errors import StatsError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

__all__ = ["FEXACT_TOL", "fisher_network"]

FEXACT_TOL = 3.45254e-7  # FEXACT's tolerance on the log-probability scale (R fisher.test, r x c)


# --- r x c: network algorithm ---------------------------------------------------------------
def _caps_max_g(lf: list[float], caps: tuple[int, ...], total: int) -> float:
    """max over x (sum x = total, 0 <= x_i <= caps_i) of -sum log x_i!: spread x evenly."""
    rem = total
    slots = len(caps)
    s = 0.0
    for i, cap in enumerate(sorted(caps)):
        if cap * slots <= rem:
            s += lf[cap]
            rem -= cap
            slots -= 1
        else:
            left = len(caps) - i
            base, extra = divmod(rem, left)
            s += extra * lf[base + 1] + (left - extra) * lf[base]
            return -s
    return -s


def _caps_min_g(lf: list[float], caps: tuple[int, ...], total: int) -> float:
    """min over x of -sum log x_i!: fill the largest caps first."""
    rem = total
    s = 0.0
    for cap in sorted(caps, reverse=True):
        take = min(cap, rem)
        s += lf[take]
        rem -= take
        if rem == 0:
            break
    return -s


def _future_bounds(lf: list[float], rows: tuple[int, ...], cols: tuple[int, ...]) -> tuple[float, float]:
    """Upper and lower bounds of sum_j g_j over the tables with margins ``rows`` x ``cols``.

    g_j = log C_j! - sum_i log x_ij!. Each bound relaxes one set of margins to caps: column by
    column (x_ij <= m_i) or row by row (x_ij <= C_j); the tighter of the two is kept.
    """
    base = float(sum(lf[c] for c in cols))
    ub_col = sum(_caps_max_g(lf, rows, c) for c in cols)
    lb_col = sum(_caps_min_g(lf, rows, c) for c in cols)
    ub_row = sum(_caps_max_g(lf, cols, m) for m in rows)
    lb_row = sum(_caps_min_g(lf, cols, m) for m in rows)
    return base + min(ub_col, ub_row), base + max(lb_col, lb_row)


_ENUMERATE_LIMIT = 200_000
_MAX_MATCH = 30_000_000  # 2 x c: completion values matched to past values (about 1 s)
_ENUMERATE_LIMIT2 = 5_000_000  # 2 x c: completions enumerated at once (meet in the middle)
_MAX_PATHS = 1_500_000  # guard against tables too large for the exact computation


def _n_futures(rows: tuple[int, ...], cols: tuple[int, ...]) -> float:
    """Rough count of the completions (ignoring caps): product over all but the last column."""
    r = len(rows)
    total = 1.0
    for c in cols[:-1]:
        total *= math.comb(c + r - 1, r - 1)
        if total > _ENUMERATE_LIMIT:
            break
    return total


def _future_values(
    lf: list[float],
    rows: tuple[int, ...],
    cols: tuple[int, ...],
    memo: dict[tuple[tuple[int, ...], tuple[int, ...]], FloatArray],
) -> FloatArray:
    """sum_j g_j of every completion with margins rows x cols (unsorted, with repeats)."""
    key = (rows, cols)
    hit = memo.get(key)
    if hit is not None:
        return hit
    if len(cols) == 1:
        out = np.array([lf[cols[0]] - sum(lf[v] for v in rows)])
    else:
        c = cols[0]
        parts = []
        for comp in _compositions(rows, c):
            g = lf[c] - sum(lf[v] for v in comp)
            child = tuple(sorted(m - v for m, v in zip(rows, comp, strict=True)))
            parts.append(_future_values(lf, child, cols[1:], memo) + g)
        out = np.concatenate(parts)
    memo[key] = out
    return out


def _futures(
    lf: list[float],
    rows: tuple[int, ...],
    cols: tuple[int, ...],
    memo: dict[tuple[tuple[int, ...], tuple[int, ...]], FloatArray],
) -> tuple[FloatArray, FloatArray, float]:
    """Sorted completion values fv, cumulative sums of exp(fv - c0), and c0 = max fv."""
    fv = np.sort(_future_values(lf, rows, cols, memo))
    c0 = float(fv[-1])
    return fv, np.cumsum(np.exp(fv - c0)), c0


def _compositions(caps: tuple[int, ...], total: int) -> list[tuple[int, ...]]:
    """All x with sum x = total and 0 <= x_i <= caps_i."""
    out: list[tuple[int, ...]] = []
    suffix = [0] * (len(caps) + 1)
    for i in range(len(caps) - 1, -1, -1):
        suffix[i] = suffix[i + 1] + caps[i]

    def rec(i: int, rem: int, acc: list[int]) -> None:
        if i == len(caps) - 1:
            if rem <= caps[i]:
                out.append((*acc, rem))
            return
        lo = max(0, rem - suffix[i + 1])
        for v in range(lo, min(caps[i], rem) + 1):
            acc.append(v)
            rec(i + 1, rem - v, acc)
            acc.pop()

    rec(0, total, [])
    return out


def fisher_network(x: NDArray[np.int64]) -> float:
    """Exact two-sided p-value of an r x c table (no zero margins, at least 2 x 2)."""
    if x.shape[0] > x.shape[1]:
        x = x.T
    if x.shape[0] == 2:
        return _fisher_two_rows(x)
    rows = x.sum(axis=1)
    cols = np.sort(x.sum(axis=0))[::-1]
    n = int(rows.sum())
    lf: list[float] = spsp.gammaln(np.arange(n + 2, dtype=np.float64) + 1.0).tolist()
    const = sum(lf[int(r)] for r in rows) - lf[n]  # log P = const + sum_j g_j (g_j holds log C_j!)
    xs = x[:, np.argsort(-x.sum(axis=0), kind="stable")]
    obs = sum(lf[int(c)] - sum(lf[int(v)] for v in xs[:, j]) for j, c in enumerate(cols))
    thr = obs + FEXACT_TOL
    ncol = len(cols)
    # future bounds for a node: remaining columns j..ncol-1 with row margins m
    level: dict[tuple[int, ...], tuple[FloatArray, FloatArray]] = {
        tuple(sorted(int(r) for r in rows)): (np.zeros(1), np.ones(1))
    }
    p = 0.0
    grid = 1e9
    rest_cols = [tuple(int(c) for c in cols[j:]) for j in range(ncol)]
    memo: dict[tuple[tuple[int, ...], tuple[int, ...]], FloatArray] = {}
    for j in range(ncol):
        nxt: dict[tuple[int, ...], list[tuple[FloatArray, FloatArray]]] = {}
        size = 0
        cj = int(cols[j])
        for key, (pv, cnt) in level.items():
            nrem = sum(key)
            if j == ncol - 1:  # the last column is the remaining margins: the future is exact
                fut = lf[cj] - sum(lf[v] for v in key)
                take = pv + fut <= thr
                p += float(np.sum(cnt[take] * np.exp(pv[take] + fut + const)))
                continue
            if _n_futures(key, rest_cols[j]) <= _ENUMERATE_LIMIT:
                # few completions: enumerate their values and match them to the past by sorting
                fv, cw, c0 = _futures(lf, key, rest_cols[j], memo)
                idx = np.searchsorted(fv, thr - pv, side="right")
                hit = idx > 0
                p += float(np.sum(cnt[hit] * np.exp(pv[hit] + const + c0) * cw[idx[hit] - 1]))
                continue
            ub, lb = _future_bounds(lf, key, rest_cols[j])
            log_total = lf[nrem] - sum(lf[v] for v in key)
            take = pv + ub <= thr
            if take.any():
                p += float(np.sum(cnt[take] * np.exp(pv[take] + log_total + const)))
            keep = ~take & (pv + lb <= thr)
            if not keep.any():
                continue
            pv_k = pv[keep]
            cnt_k = cnt[keep]
            comps = _compositions(key, cj)
            size += len(comps) * pv_k.size
            if size > _MAX_PATHS:
                raise StatsError(
                    f"the exact Fisher test of this {x.shape[0]} x {x.shape[1]} table (n={n}) needs more "
                    f"than {_MAX_PATHS} partial tables; use fisher_exact(table, simulate=True, rng=...) "
                    "for a Monte Carlo p-value"
                )
            for comp in comps:
                g = lf[cj] - sum(lf[v] for v in comp)
                child = tuple(sorted(m - v for m, v in zip(key, comp, strict=True)))
                nxt.setdefault(child, []).append((pv_k + g, cnt_k))
        level = {}
        for key, parts in nxt.items():
            pv = np.concatenate([a for a, _ in parts])
            cnt = np.concatenate([b for _, b in parts])
            ukey, inv = np.unique(np.round(pv * grid), return_inverse=True)
            pv_m = np.zeros(ukey.size)
            cnt_m = np.zeros(ukey.size)
            np.add.at(cnt_m, inv, cnt)
            pv_m[inv] = pv
            level[key] = (pv_m, cnt_m)
        if not level:
            break
    return p


def _merge(m: IntArray, val: FloatArray, cnt: FloatArray) -> tuple[IntArray, FloatArray, FloatArray]:
    """Merge entries with the same m and the same value (to 1e-9), summing their counts."""
    key = np.round(val * 1e9)
    o = np.lexsort((key, m))
    m_s, k_s = m[o], key[o]
    first = np.concatenate(([True], (m_s[1:] != m_s[:-1]) | (k_s[1:] != k_s[:-1])))
    grp = np.cumsum(first) - 1
    return m_s[first], val[o][first], np.asarray(np.bincount(grp, weights=cnt[o]), dtype=np.float64)


def _fisher_two_rows(x: NDArray[np.int64]) -> float:
    """Exact p-value of a 2 x c table: network algorithm with exact bounds, vectorised.

    A node is the count m still to place in the first row; with g_j(x) = log C(c_j, x) a table
    has log-probability const + sum_j g_j(x_j). The longest and shortest completions of every
    node are computed exactly by dynamic programming over the columns, and the total of a
    node's completions is log C(S_j, m) (Vandermonde), so a past value is settled as soon as
    all its completions fall on one side of the threshold. The last columns (at most
    ``_ENUMERATE_LIMIT2`` completions) are enumerated once and matched to the past values by
    sorting (meet in the middle).
    """
    cols = np.sort(x.sum(axis=0))[::-1].astype(np.int64)
    order = np.argsort(-x.sum(axis=0), kind="stable")
    top = x[0, order].astype(np.int64)
    r1 = int(x[0].sum())
    n = int(x.sum())
    lf = spsp.gammaln(np.arange(n + 2, dtype=np.float64) + 1.0)
    const = float(lf[r1] + lf[n - r1] - lf[n])
    ncol = cols.size
    suffix = np.concatenate((np.cumsum(cols[::-1])[::-1], [0]))

    def g(j: int, xv: IntArray) -> FloatArray:
        c = int(cols[j])
        return np.asarray(lf[c] - lf[xv] - lf[c - xv], dtype=np.float64)

    obs = float(sum(g(j, np.array([top[j]]))[0] for j in range(ncol)))
    thr = obs + FEXACT_TOL
    # columns split.. are enumerated, columns ..split-1 are walked forward (meet in the middle):
    # balance the two sides, with at most _ENUMERATE_LIMIT2 enumerated completions
    # (log sizes: forward paths before pruning; enumerated tail without the last column, matched
    # once per first-row total m)
    width = np.log(cols.astype(np.float64) + 1.0)
    fwd = np.concatenate(([0.0], np.cumsum(width)))[:ncol]
    tail = fwd[-1] - fwd  # columns split..ncol-2
    tail_cost = tail + np.log(np.minimum(r1, suffix[:ncol]) + 1.0)
    allowed = tail <= math.log(_ENUMERATE_LIMIT2)
    split = int(np.argmin(np.where(allowed, np.maximum(fwd, tail_cost), np.inf)))
    # exact longest (fmax) and shortest (fmin) completions from (column j, m), m = 0..r1
    fmax: list[FloatArray] = [np.empty(0)] * (ncol + 1)
    fmin: list[FloatArray] = [np.empty(0)] * (ncol + 1)
    fmax[ncol] = np.where(np.arange(r1 + 1) == 0, 0.0, -np.inf)
    fmin[ncol] = np.where(np.arange(r1 + 1) == 0, 0.0, np.inf)
    for j in range(ncol - 1, -1, -1):
        c = int(cols[j])
        rest = np.arange(r1 + 1)[:, None] - np.arange(c + 1)[None, :]
        ok = (rest >= 0) & (rest <= suffix[j + 1])
        gx = g(j, np.arange(c + 1))[None, :]
        idx = np.clip(rest, 0, r1)
        fmax[j] = np.max(np.where(ok, gx + fmax[j + 1][idx], -np.inf), axis=1)
        fmin[j] = np.min(np.where(ok, gx + fmin[j + 1][idx], np.inf), axis=1)

    m_cur = np.array([r1], dtype=np.int64)
    pv = np.zeros(1)
    cnt = np.ones(1)
    p = 0.0
    for j in range(split):
        ub = fmax[j][m_cur]
        lb = fmin[j][m_cur]
        take = pv + ub <= thr
        if take.any():
            sj = int(suffix[j])
            mt = m_cur[take]
            log_total = lf[sj] - lf[mt] - lf[sj - mt]
            p += float(np.sum(cnt[take] * np.exp(pv[take] + log_total + const)))
        keep = ~take & (pv + lb <= thr)
        if not keep.any():
            return p
        m_k, pv_k, cnt_k = m_cur[keep], pv[keep], cnt[keep]
        c = int(cols[j])
        lo = np.maximum(0, m_k - suffix[j + 1])
        hi = np.minimum(c, m_k)
        reps = hi - lo + 1
        total = int(reps.sum())
        if total > _MAX_PATHS:
            raise StatsError(
                f"the exact Fisher test of this 2 x {ncol} table (n={n}) needs more than {_MAX_PATHS} "
                "partial tables; use fisher_exact(table, simulate=True, rng=...) for a Monte Carlo p-value"
            )
        start = np.repeat(np.cumsum(reps) - reps, reps)
        xv = np.repeat(lo, reps) + (np.arange(total) - start)
        m_cur, pv, cnt = _merge(
            np.repeat(m_k, reps) - xv, np.repeat(pv_k, reps) + g(j, xv), np.repeat(cnt_k, reps)
        )
    # enumerate the completions of the columns split..ncol-2; the last column is then fixed by m
    fm_ = np.zeros(1, dtype=np.int64)
    fv = np.zeros(1)
    fc = np.ones(1)
    for j in range(ncol - 2, split - 1, -1):
        c = int(cols[j])
        xs = np.arange(c + 1)
        mm = (fm_[:, None] + xs[None, :]).ravel()
        vv = (fv[:, None] + g(j, xs)[None, :]).ravel()
        cc = np.repeat(fc, c + 1)
        ok = mm <= r1
        fm_, fv, fc = _merge(mm[ok], vv[ok], cc[ok])
    c_last = int(cols[-1])
    # match: for each past (m, pv), the completions of total m with value <= thr - pv
    order_m = np.argsort(m_cur, kind="stable")
    m_sorted = m_cur[order_m]
    starts = np.flatnonzero(np.concatenate(([True], m_sorted[1:] != m_sorted[:-1])))
    ends = np.concatenate((starts[1:], [m_sorted.size]))
    m_groups = m_sorted[starts]
    lo_all = np.searchsorted(fm_, m_groups - c_last, side="left")
    hi_all = np.searchsorted(fm_, m_groups, side="right")
    if int(np.sum(hi_all - lo_all)) > _MAX_MATCH:
        raise StatsError(
            f"the exact Fisher test of this 2 x {ncol} table (n={n}) needs more than {_MAX_MATCH} "
            "table probabilities; use fisher_exact(table, simulate=True, rng=...) for a Monte Carlo p-value"
        )
    for a_i, b_i, lo_i, hi_i in zip(starts, ends, lo_all.tolist(), hi_all.tolist(), strict=True):
        m = int(m_sorted[a_i])
        if lo_i == hi_i:
            continue
        vals = fv[lo_i:hi_i] + g(ncol - 1, m - fm_[lo_i:hi_i])
        o = np.argsort(vals)
        vals = vals[o]
        c0 = float(vals[-1])
        cw = np.cumsum(fc[lo_i:hi_i][o] * np.exp(vals - c0))
        idx = order_m[a_i:b_i]
        k = np.searchsorted(vals, thr - pv[idx], side="right")
        hit = k > 0
        p += float(np.sum(cnt[idx][hit] * np.exp(pv[idx][hit] + const + c0) * cw[k[hit] - 1]))
    return p
