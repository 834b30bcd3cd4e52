"""Rank tests: Wilcoxon rank-sum (Mann-Whitney) and Kruskal-Wallis, as R's ``stats`` package.

* ``wilcoxon_test(x, y)``: R's ``wilcox.test(x, y)``. ``W`` is the rank sum of ``x`` minus
  ``n_x (n_x + 1)/2`` (= Mann-Whitney U of ``x``). Exact p-value when there are no ties and
  both samples have fewer than 50 values (R's default), else the normal approximation with
  continuity correction and the tie-corrected variance. The exact null distribution is
  computed here with integer arithmetic (R's ``pwilcox``); ``scipy.stats.mannwhitneyu`` is not
  used because its automatic method choice (exact up to n = 8 ... ) and tie handling differ
  from R's, and only R's rule is wanted.
* ``kruskal_wallis(*samples)``: R's ``kruskal.test`` (tie-corrected H on k - 1 df), the same
  as ``scipy.stats.kruskal``; written out so the tie correction is visible and documented.
  Ranks are mid-ranks (``scipy.stats.rankdata``, R's ``rank``).

References
----------
Wilcoxon F. (1945); Mann H.B., Whitney D.R. (1947); Kruskal W.H., Wallis W.A. (1952).
Hollander M., Wolfe D.A. (1973). Nonparametric Statistical Methods, sections 4.1 and 6.1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from postcart.errors import StatsError

FloatArray = NDArray[np.float64]
Alternative = Literal["two-sided", "less", "greater"]

__all__ = ["KruskalWallisResult", "WilcoxonResult", "kruskal_wallis", "wilcoxon_test"]

EXACT_MAX_N = 50  # R: exact when n_x < 50 and n_y < 50 and no ties


def _sample(values: ArrayLike, name: str) -> FloatArray:
    try:
        v = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StatsError(f"{name} must be numeric: {exc}") from None
    if v.ndim != 1:
        raise StatsError(f"{name} must be one-dimensional, but has shape {v.shape}")
    if v.size == 0:
        raise StatsError(f"{name} is empty: at least one value is needed")
    bad = np.flatnonzero(~np.isfinite(v))
    if bad.size:
        raise StatsError(f"{name} must be finite, but value {bad[0]} is {float(v[bad[0]])!r}")
    return v


def _tie_sizes(v: FloatArray) -> NDArray[np.int64]:
    _, counts = np.unique(v, return_counts=True)
    return counts.astype(np.int64)


@dataclass(frozen=True, slots=True)
class WilcoxonResult:
    """Wilcoxon rank-sum / Mann-Whitney test of ``x`` against ``y``.

    Attributes
    ----------
    statistic : float
        R's ``W`` = rank sum of x - n_x (n_x + 1)/2.
    p : float
    alternative : str
    exact : bool
        True for the exact permutation distribution, False for the normal approximation.
    correct : bool
        Continuity correction applied (normal approximation only).
    z : float or None
        The (corrected) normal deviate; None for the exact test.
    ties : bool
        Some values are tied (the exact test is then unavailable, as in R).
    method : str
    n_x, n_y : int
    """

    statistic: float
    p: float
    alternative: str
    exact: bool
    correct: bool
    z: float | None
    ties: bool
    method: str
    n_x: int
    n_y: int

    def to_frame(self) -> pd.DataFrame:
        """One row: method, statistic, z, p, alternative, n_x, n_y."""
        return pd.DataFrame(
            {
                "method": [self.method],
                "statistic": [self.statistic],
                "z": [self.z],
                "p": [self.p],
                "alternative": [self.alternative],
                "n_x": [self.n_x],
                "n_y": [self.n_y],
            }
        )

    def __repr__(self) -> str:
        return (
            f"WilcoxonResult(W={self.statistic:g}, p={self.p:.4g}, "
            f"{'exact' if self.exact else 'normal'}, n_x={self.n_x}, n_y={self.n_y})"
        )


def _wilcox_counts(m: int, n: int) -> list[int]:
    """Number of arrangements giving W = 0..m n (coefficients of the Gaussian binomial)."""
    # prod_{i=1}^{m} (1 - q^{n+i}) / (1 - q^i): exact integer polynomial arithmetic
    size = m * n + 1
    a = [0] * size
    a[0] = 1
    for i in range(1, m + 1):
        k = n + i
        for j in range(size - 1, k - 1, -1):
            a[j] -= a[j - k]
        for j in range(i, size):
            a[j] += a[j - i]
    return a


def _pwilcox(q: int, m: int, n: int, counts: list[int]) -> float:
    """P(W <= q), exactly (R's ``pwilcox``)."""
    if q < 0:
        return 0.0
    if q >= m * n:
        return 1.0
    return float(Fraction(sum(counts[: q + 1]), math.comb(m + n, m)))


def _pwilcox_upper(q: int, m: int, n: int, counts: list[int]) -> float:
    """P(W > q), exactly (R's ``pwilcox(q, lower.tail = FALSE)``)."""
    if q < 0:
        return 1.0
    if q >= m * n:
        return 0.0
    return float(Fraction(sum(counts[q + 1 :]), math.comb(m + n, m)))


def wilcoxon_test(
    x: ArrayLike,
    y: ArrayLike,
    *,
    alternative: Alternative = "two-sided",
    exact: bool | None = None,
    correct: bool = True,
) -> WilcoxonResult:
    r"""Wilcoxon rank-sum test (Mann-Whitney U) comparing two independent samples.

    Parameters
    ----------
    x, y : array-like of float
        The two samples (finite values).
    alternative : {"two-sided", "less", "greater"}
        "greater": x tends to be larger than y.
    exact : bool, optional
        None (default): exact when both samples have fewer than 50 values and there are no
        ties, as R. True with ties is an error (no exact distribution with ties).
    correct : bool, default True
        Continuity correction of the normal approximation.

    Notes
    -----
    Normal approximation (R): :math:`z = (W - n_x n_y/2 - \mathrm{CORR}) / \sigma`,
    :math:`\sigma^2 = \frac{n_x n_y}{12}\left(n_x + n_y + 1 - \frac{\sum (t^3 - t)}
    {(n_x+n_y)(n_x+n_y-1)}\right)` over tie groups of size t; CORR = 0.5 sign(z) two-sided,
    0.5 for "greater", -0.5 for "less". Exact two-sided: :math:`\min(1, 2\min(P(W \le w),
    P(W \ge w)))` as R (which takes the tail on the side of ``w`` relative to :math:`n_x n_y/2`).
    """
    xs = _sample(x, "x")
    ys = _sample(y, "y")
    if alternative not in ("two-sided", "less", "greater"):
        raise StatsError(f"alternative must be 'two-sided', 'less' or 'greater', but was {alternative!r}")
    nx, ny = xs.size, ys.size
    allv = np.concatenate((xs, ys))
    r = sps.rankdata(allv)
    w = float(np.sum(r[:nx]) - nx * (nx + 1) / 2.0)
    ties_sizes = _tie_sizes(allv)
    has_ties = bool(np.any(ties_sizes > 1))
    use_exact = (nx < EXACT_MAX_N and ny < EXACT_MAX_N) if exact is None else exact
    if use_exact and has_ties:
        if exact:
            raise StatsError(
                "exact=True is impossible with tied values; use exact=False (normal approximation)"
            )
        use_exact = False
    if use_exact:
        counts = _wilcox_counts(nx, ny)
        wi = int(round(w))
        if alternative == "two-sided":
            if w > nx * ny / 2.0:
                pp = _pwilcox_upper(wi - 1, nx, ny, counts)
            else:
                pp = _pwilcox(wi, nx, ny, counts)
            p = min(2.0 * pp, 1.0)
        elif alternative == "greater":
            p = _pwilcox_upper(wi - 1, nx, ny, counts)
        else:
            p = _pwilcox(wi, nx, ny, counts)
        return WilcoxonResult(
            statistic=w,
            p=p,
            alternative=alternative,
            exact=True,
            correct=False,
            z=None,
            ties=has_ties,
            method="Wilcoxon rank sum exact test",
            n_x=nx,
            n_y=ny,
        )
    z = w - nx * ny / 2.0
    ntot = nx + ny
    tsum = float(np.sum(ties_sizes.astype(np.float64) ** 3 - ties_sizes))
    sigma = math.sqrt((nx * ny / 12.0) * ((ntot + 1) - tsum / (ntot * (ntot - 1)))) if ntot > 1 else 0.0
    if sigma == 0.0:
        raise StatsError("all values in x and y are tied: the Wilcoxon statistic has no variance")
    if correct:
        corr = {"two-sided": math.copysign(0.5, z) if z != 0 else 0.0, "greater": 0.5, "less": -0.5}[
            alternative
        ]
    else:
        corr = 0.0
    zz = (z - corr) / sigma
    if alternative == "two-sided":
        p = 2.0 * min(float(sps.norm.cdf(zz)), float(sps.norm.sf(zz)))
    elif alternative == "greater":
        p = float(sps.norm.sf(zz))
    else:
        p = float(sps.norm.cdf(zz))
    method = "Wilcoxon rank sum test" + (" with continuity correction" if correct else "")
    return WilcoxonResult(
        statistic=w,
        p=p,
        alternative=alternative,
        exact=False,
        correct=correct,
        z=zz,
        ties=has_ties,
        method=method,
        n_x=nx,
        n_y=ny,
    )


@dataclass(frozen=True, slots=True)
class KruskalWallisResult:
    """Kruskal-Wallis rank-sum test of k samples (R's ``kruskal.test``).

    ``chisq`` is the tie-corrected H statistic on ``df = k - 1`` degrees of freedom.
    ``rank_means`` holds the mean rank of each sample, ``n`` the sample sizes.
    """

    chisq: float
    df: int
    p: float
    n: NDArray[np.int64]
    rank_means: FloatArray
    ties: bool

    def to_frame(self) -> pd.DataFrame:
        """One row: chisq, df, p, n_total, groups."""
        return pd.DataFrame(
            {
                "chisq": [self.chisq],
                "df": [self.df],
                "p": [self.p],
                "n_total": [int(self.n.sum())],
                "groups": [len(self.n)],
            }
        )

    def __repr__(self) -> str:
        return (
            f"KruskalWallisResult(chisq={self.chisq:.6g}, df={self.df}, p={self.p:.4g}, groups={len(self.n)})"
        )


def kruskal_wallis(*samples: ArrayLike) -> KruskalWallisResult:
    r"""Kruskal-Wallis rank-sum test that k samples come from the same distribution.

    Notes
    -----
    With mid-ranks over the pooled sample (size N), rank sums :math:`R_g` and sizes
    :math:`n_g`: :math:`H = \left(\frac{12}{N(N+1)}\sum_g R_g^2/n_g - 3(N+1)\right) /
    \left(1 - \frac{\sum(t^3-t)}{N^3-N}\right)`, referred to :math:`\chi^2_{k-1}`.
    """
    if len(samples) < 2:
        raise StatsError(f"kruskal_wallis needs at least 2 samples, but got {len(samples)}")
    arrs = [_sample(s, f"sample {i}") for i, s in enumerate(samples)]
    sizes = np.array([a.size for a in arrs], dtype=np.int64)
    allv = np.concatenate(arrs)
    n = allv.size
    r = sps.rankdata(allv)
    bounds = np.concatenate(([0], np.cumsum(sizes)))
    rsum = np.array([r[bounds[i] : bounds[i + 1]].sum() for i in range(len(arrs))])
    tsz = _tie_sizes(allv).astype(np.float64)
    denom = 1.0 - float(np.sum(tsz**3 - tsz)) / (n**3 - n)
    if denom <= 0.0:
        raise StatsError("all values are tied: the Kruskal-Wallis statistic is undefined")
    h = (12.0 * float(np.sum(rsum**2 / sizes)) / (n * (n + 1)) - 3.0 * (n + 1)) / denom
    df = len(arrs) - 1
    return KruskalWallisResult(
        chisq=h,
        df=df,
        p=float(sps.chi2.sf(h, df)),
        n=sizes,
        rank_means=rsum / sizes,
        ties=bool(np.any(tsz > 1)),
    )
