"""Tests on contingency tables: Pearson's chi-square and Fisher's exact test (2 x 2 and r x c).

* ``chisq_test``: as R's ``chisq.test(table, correct = ...)``. Yates' continuity correction
  applies only to 2 x 2 tables (as R). scipy's ``chi2_contingency`` gives the same numbers
  but applies Yates whenever df = 1; the statistic is written out here so the rule is R's and
  the expected counts and the small-expected flag are part of the result.
* ``fisher_exact``: two-sided p-value = the sum of the probabilities of all tables with the
  same margins that are no more probable than the observed one, as R's ``fisher.test``.
  2 x 2: the conditional hypergeometric distribution with R's relative tolerance
  ``1 + 1e-7`` (scipy's ``fisher_exact`` uses a different tolerance rule, so it is used only
  as a cross-check in the tests), plus the conditional maximum-likelihood odds ratio and its
  exact CI. r x c (Freeman-Halton): an exact network algorithm in the spirit of Mehta & Patel
  (1983), with FEXACT's tolerance (a table counts when its log-probability is at most the
  observed one + 3.45254e-7). A Monte Carlo p-value is computed only when asked
  (``simulate=True`` with an explicit ``numpy.random.Generator``).

References
----------
Mehta C.R., Patel N.R. (1983). A network algorithm for performing Fisher's exact test in
r x c contingency tables. JASA 78, 427-434.
Freeman G.H., Halton J.H. (1951). Note on an exact treatment of contingency, goodness of fit
and other problems of significance. Biometrika 38, 141-149.
Yates F. (1934). Contingency tables involving small numbers and the chi-square test.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import optimize as spo
from scipy import special as spsp
from scipy import stats as sps

from postcart.errors import StatsError
from postcart.stats._fisher_network import fisher_network

FloatArray = NDArray[np.float64]
Alternative = Literal["two-sided", "less", "greater"]

__all__ = ["ChiSquareResult", "FisherExactResult", "chisq_test", "fisher_exact"]

R_2X2_REL_ERR = 1.0 + 1e-7  # R fisher.test 2 x 2: d <= d_obs * relErr


def _as_table(table: ArrayLike, *, integer: bool) -> FloatArray:
    try:
        x = np.asarray(table, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StatsError(f"table must be a numeric 2-d array of counts: {exc}") from None
    if x.ndim != 2:
        raise StatsError(f"table must be two-dimensional (rows x columns), but has shape {x.shape}")
    if x.shape[0] < 2 or x.shape[1] < 2:
        raise StatsError(f"table must have at least 2 rows and 2 columns, but has shape {x.shape}")
    bad = np.argwhere(~np.isfinite(x) | (x < 0))
    if bad.size:
        i, j = bad[0]
        raise StatsError(f"table counts must be finite and >= 0, but cell [{i}, {j}] is {float(x[i, j])!r}")
    if integer:
        bad = np.argwhere(x != np.round(x))
        if bad.size:
            i, j = bad[0]
            raise StatsError(f"table counts must be integers, but cell [{i}, {j}] is {float(x[i, j])!r}")
    if x.sum() == 0:
        raise StatsError("table is empty: all counts are 0")
    return x


# ---------------------------------------------------------------------------------------------
# Pearson chi-square
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ChiSquareResult:
    """Pearson's chi-square test of independence (R's ``chisq.test``).

    Attributes
    ----------
    chisq, df, p : statistic, degrees of freedom ``(r-1)(c-1)``, upper-tail p-value.
    correct : bool
        True when Yates' continuity correction was applied (2 x 2, ``correct=True`` and O != E).
    method : str
        ``"Pearson's chi-squared test"`` (``" with Yates' continuity correction"``).
    observed, expected, residuals : ndarray (r, c)
        Counts, expected counts ``row_i col_j / n``, Pearson residuals ``(O - E)/sqrt(E)``.
    min_expected : float
    low_expected : bool
        True when some expected count is below 5: R warns "Chi-squared approximation may be
        incorrect"; here it is a flag (prefer ``fisher_exact`` then).
    n : int
    """

    chisq: float
    df: int
    p: float
    correct: bool
    method: str
    observed: FloatArray
    expected: FloatArray
    residuals: FloatArray
    min_expected: float
    low_expected: bool
    n: int

    def to_frame(self) -> pd.DataFrame:
        """One row: method, chisq, df, p, n, min_expected, low_expected."""
        return pd.DataFrame(
            {
                "method": [self.method],
                "chisq": [self.chisq],
                "df": [self.df],
                "p": [self.p],
                "n": [self.n],
                "min_expected": [self.min_expected],
                "low_expected": [self.low_expected],
            }
        )

    def __repr__(self) -> str:
        flag = ", low_expected" if self.low_expected else ""
        return (
            f"ChiSquareResult(chisq={self.chisq:.6g}, df={self.df}, p={self.p:.4g}, "
            f"correct={self.correct}{flag})"
        )


def chisq_test(table: ArrayLike, *, correct: bool = False) -> ChiSquareResult:
    r"""Pearson's chi-square test of independence on an r x c table of counts.

    Parameters
    ----------
    table : array-like (r, c)
        Non-negative counts, at least 2 x 2, no row or column of zeros.
    correct : bool, default False
        Yates' continuity correction, applied to 2 x 2 tables only (as R).

    Notes
    -----
    :math:`E_{ij} = R_i C_j / n`, :math:`X^2 = \sum_{ij} (|O_{ij} - E_{ij}| - Y)^2 / E_{ij}`
    with :math:`Y = \min(0.5, |O_{11} - E_{11}|)` for a corrected 2 x 2 table, else 0;
    ``p = P(chi2_df > X^2)``, ``df = (r-1)(c-1)``. Note the default ``correct=False`` differs
    from R's default (``TRUE``) on purpose: SAS FREQ's "Chi-Square" row is uncorrected.
    """
    x = _as_table(table, integer=False)
    rs = x.sum(axis=1)
    cs = x.sum(axis=0)
    for name, margin in (("row", rs), ("column", cs)):
        zero = np.flatnonzero(margin == 0)
        if zero.size:
            raise StatsError(f"table {name} {zero[0]} has only zero counts: the expected counts are 0")
    n = float(x.sum())
    e = np.outer(rs, cs) / n
    dev = np.abs(x - e)
    yates = min(0.5, float(dev.min())) if correct and x.shape == (2, 2) else 0.0
    applied = yates > 0.0  # as R: a table at independence (|O - E| = 0) is not "corrected"
    stat = float(np.sum((dev - yates) ** 2 / e))
    df = (x.shape[0] - 1) * (x.shape[1] - 1)
    method = "Pearson's chi-squared test" + (" with Yates' continuity correction" if applied else "")
    return ChiSquareResult(
        chisq=stat,
        df=df,
        p=float(sps.chi2.sf(stat, df)),
        correct=applied,
        method=method,
        observed=x,
        expected=e,
        residuals=(x - e) / np.sqrt(e),
        min_expected=float(e.min()),
        low_expected=bool(np.any(e < 5.0)),
        n=int(round(n)),
    )


# ---------------------------------------------------------------------------------------------
# Fisher's exact test
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FisherExactResult:
    """Fisher's exact test (R's ``fisher.test``).

    Attributes
    ----------
    p : float
        The p-value (exact, or Monte Carlo when ``simulated``).
    alternative : str
        ``"two-sided"`` (the only choice for r x c), ``"less"`` or ``"greater"`` (2 x 2).
    method : str
        ``"2x2 conditional hypergeometric"``, ``"r x c network algorithm"`` or
        ``"r x c Monte Carlo"``.
    odds_ratio, ci_low, ci_high : float or None
        2 x 2 only: conditional maximum-likelihood odds ratio and its exact confidence limits
        (R's ``estimate`` and ``conf.int``); may be 0 or ``inf``. ``None`` for r x c.
    conf_level : float
    shape : (int, int)
    n : int
    simulated : bool
    n_simulations : int or None
    """

    p: float
    alternative: str
    method: str
    odds_ratio: float | None
    ci_low: float | None
    ci_high: float | None
    conf_level: float
    shape: tuple[int, int]
    n: int
    simulated: bool
    n_simulations: int | None

    def to_frame(self) -> pd.DataFrame:
        """One row: method, alternative, p, odds_ratio, ci_low, ci_high, n, shape."""
        return pd.DataFrame(
            {
                "method": [self.method],
                "alternative": [self.alternative],
                "p": [self.p],
                "odds_ratio": [self.odds_ratio],
                "ci_low": [self.ci_low],
                "ci_high": [self.ci_high],
                "n": [self.n],
                "shape": [f"{self.shape[0]}x{self.shape[1]}"],
            }
        )

    def __repr__(self) -> str:
        orr = "" if self.odds_ratio is None else f", odds_ratio={self.odds_ratio:.4g}"
        return (
            f"FisherExactResult(p={self.p:.4g}, {self.shape[0]}x{self.shape[1]}, method={self.method!r}{orr})"
        )


def fisher_exact(
    table: ArrayLike,
    *,
    alternative: Alternative = "two-sided",
    conf_level: float = 0.95,
    simulate: bool = False,
    n_simulations: int = 2000,
    rng: np.random.Generator | None = None,
) -> FisherExactResult:
    r"""Fisher's exact test for a 2 x 2 or r x c table of counts.

    Parameters
    ----------
    table : array-like (r, c)
        Non-negative integer counts, at least 2 x 2.
    alternative : {"two-sided", "less", "greater"}
        One-sided alternatives (odds ratio < 1 or > 1) exist for 2 x 2 tables only.
    conf_level : float, default 0.95
        Level of the odds-ratio CI (2 x 2).
    simulate : bool, default False
        r x c only: Monte Carlo p-value (R's ``simulate.p.value = TRUE``) from
        ``n_simulations`` random tables with the observed margins (Patefield's algorithm,
        ``scipy.stats.random_table``); requires ``rng``. The exact network algorithm is the
        default and handles tables of the size of a clinical report (e.g. 2 x 6, n ~ 150).

    Notes
    -----
    Given the margins, a table has probability
    :math:`P(x) = \prod_i R_i! \prod_j C_j! / (n! \prod_{ij} x_{ij}!)`. The two-sided p-value is
    :math:`\sum_{x: P(x) \le P(x_{obs})(1+\epsilon)} P(x)`, with R's tolerances
    (:math:`\epsilon = 10^{-7}` for 2 x 2, :math:`\log(1+\epsilon) = 3.45254\cdot10^{-7}` for
    r x c, as FEXACT). The r x c sum runs over columns: a node is the multiset of remaining row
    margins; paths with equal past probability are merged; a node whose completions are all
    at most (or all above) the threshold is settled at once, using the closed-form total
    :math:`N!/\prod m_i!` of its completions and column-wise bounds on their probabilities.
    Two-row (or two-column) tables use a vectorised variant with exact bounds and a
    meet-in-the-middle tail (fast up to n of a few thousand).

    Raises
    ------
    StatsError
        For a bad table, or when the exact r x c computation would be too large (the message
        then says to use ``simulate=True``, as R's FEXACT workspace error does).
    """
    x = _as_table(table, integer=True)
    if not 0.0 < conf_level < 1.0:
        raise StatsError(f"conf_level must be a float in the range (0, 1), but was {conf_level!r}")
    if alternative not in ("two-sided", "less", "greater"):
        raise StatsError(f"alternative must be 'two-sided', 'less' or 'greater', but was {alternative!r}")
    n = int(x.sum())
    shape = (int(x.shape[0]), int(x.shape[1]))
    if shape == (2, 2):
        if simulate:
            raise StatsError("simulate=True is for r x c tables; a 2 x 2 table is always computed exactly")
        return _fisher_2x2(x.astype(np.int64), alternative, conf_level)
    if alternative != "two-sided":
        raise StatsError(f"alternative {alternative!r} exists only for 2 x 2 tables; this table is {shape}")
    xi = x.astype(np.int64)
    xi = xi[xi.sum(axis=1) > 0][:, xi.sum(axis=0) > 0]
    if simulate:
        if rng is None:
            raise StatsError("simulate=True needs an explicit rng (numpy.random.Generator)")
        if n_simulations < 1:
            raise StatsError(f"n_simulations must be >= 1, but was {n_simulations!r}")
        p = _fisher_mc(xi, n_simulations, rng)
        method = "r x c Monte Carlo"
    else:
        p = 1.0 if min(xi.shape) < 2 else fisher_network(xi)
        method = "r x c network algorithm"
    return FisherExactResult(
        p=max(0.0, min(1.0, p)),
        alternative="two-sided",
        method=method,
        odds_ratio=None,
        ci_low=None,
        ci_high=None,
        conf_level=conf_level,
        shape=shape,
        n=n,
        simulated=simulate,
        n_simulations=n_simulations if simulate else None,
    )


# --- 2 x 2 -----------------------------------------------------------------------------------
def _fisher_2x2(x: NDArray[np.int64], alternative: str, conf_level: float) -> FisherExactResult:
    m = int(x[:, 0].sum())
    nn = int(x[:, 1].sum())
    k = int(x[0, :].sum())
    a = int(x[0, 0])
    lo = max(0, k - nn)
    hi = min(k, m)
    support = np.arange(lo, hi + 1)
    logdc = sps.hypergeom.logpmf(support, m + nn, m, k)

    def dnhyper(ncp: float) -> FloatArray:
        d = logdc + math.log(ncp) * support
        d = np.exp(d - d.max())
        return np.asarray(d / d.sum(), dtype=np.float64)

    def mnhyper(ncp: float) -> float:
        if ncp == 0.0:
            return float(lo)
        if math.isinf(ncp):
            return float(hi)
        return float(np.sum(support * dnhyper(ncp)))

    def pnhyper(q: int, ncp: float, upper: bool) -> float:
        if ncp == 1.0:
            if upper:
                return float(sps.hypergeom.sf(q - 1, m + nn, m, k))
            return float(sps.hypergeom.cdf(q, m + nn, m, k))
        if ncp == 0.0:
            return float(q <= lo) if upper else float(q >= lo)
        if math.isinf(ncp):
            return float(q <= hi) if upper else float(q >= hi)
        d = dnhyper(ncp)
        return float(d[support >= q].sum() if upper else d[support <= q].sum())

    if alternative == "less":
        p = pnhyper(a, 1.0, False)
    elif alternative == "greater":
        p = pnhyper(a, 1.0, True)
    else:
        d = dnhyper(1.0)
        p = float(d[d <= d[a - lo] * R_2X2_REL_ERR].sum())

    def root(f: Callable[[float], float], lo_t: float, hi_t: float) -> float:
        return float(spo.brentq(f, lo_t, hi_t, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500))

    eps = float(np.finfo(float).eps)

    def mle() -> float:
        if a == lo:
            return 0.0
        if a == hi:
            return math.inf
        mu = mnhyper(1.0)
        if mu > a:
            return root(lambda t: mnhyper(t) - a, 0.0, 1.0)
        if mu < a:
            return 1.0 / root(lambda t: mnhyper(1.0 / t) - a, eps, 1.0)
        return 1.0

    def ncp_upper(alpha: float) -> float:
        if a == hi:
            return math.inf
        pp = pnhyper(a, 1.0, False)
        if pp < alpha:
            return root(lambda t: pnhyper(a, t, False) - alpha, 0.0, 1.0)
        if pp > alpha:
            return 1.0 / root(lambda t: pnhyper(a, 1.0 / t, False) - alpha, eps, 1.0)
        return 1.0

    def ncp_lower(alpha: float) -> float:
        if a == lo:
            return 0.0
        pp = pnhyper(a, 1.0, True)
        if pp > alpha:
            return root(lambda t: pnhyper(a, t, True) - alpha, 0.0, 1.0)
        if pp < alpha:
            return 1.0 / root(lambda t: pnhyper(a, 1.0 / t, True) - alpha, eps, 1.0)
        return 1.0

    with np.errstate(divide="ignore"):
        if alternative == "less":
            ci = (0.0, ncp_upper(1.0 - conf_level))
        elif alternative == "greater":
            ci = (ncp_lower(1.0 - conf_level), math.inf)
        else:
            alpha = (1.0 - conf_level) / 2.0
            ci = (ncp_lower(alpha), ncp_upper(alpha))
        est = mle()
    return FisherExactResult(
        p=min(1.0, p),
        alternative=alternative,
        method="2x2 conditional hypergeometric",
        odds_ratio=est,
        ci_low=ci[0],
        ci_high=ci[1],
        conf_level=conf_level,
        shape=(2, 2),
        n=int(x.sum()),
        simulated=False,
        n_simulations=None,
    )


def _fisher_mc(x: NDArray[np.int64], b: int, rng: np.random.Generator) -> float:
    """R's simulate.p.value: (1 + #{sim: -sum log x! <= obs / almost.1}) / (B + 1)."""
    stat = -float(np.sum(spsp.gammaln(x + 1.0)))
    almost1 = 1.0 + 64.0 * float(np.finfo(float).eps)
    tables = sps.random_table(x.sum(axis=1), x.sum(axis=0)).rvs(size=b, random_state=rng)
    sims = -np.sum(spsp.gammaln(tables + 1.0), axis=(1, 2))
    return float((1 + np.sum(sims <= stat / almost1)) / (b + 1))
