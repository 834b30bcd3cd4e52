"""Firth's penalized partial likelihood for the Cox model (Heinze & Schemper 2001).

Private to ``postcart.stats``. Maximises ``l*(beta) = l(beta) + 1/2 log det I(beta)``, where
``I`` is the observed information of the (Breslow or Efron) partial likelihood, by the modified
Newton-Raphson iteration of Heinze & Schemper: ``beta <- beta + I^{-1} U*`` with
``U*_j = U_j + 1/2 tr(I^{-1} dI/dbeta_j)`` and step halving on ``l*``.

Each Efron/Breslow term of ``I`` is the covariance of ``x`` under the risk-set distribution
``p_i ~ c_i r_i`` (``c_i = 1 - f`` for the deaths at that time, 1 otherwise), so
``dI/dbeta_j`` is the corresponding third central moment.

References
----------
Firth D. (1993). Bias reduction of maximum likelihood estimates. Biometrika 80, 27-38.
Heinze G., Schemper M. (2001). A solution to the problem of monotone likelihood in Cox
regression. Biometrics 57, 114-119.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from postcart.stats._cox_engine import CoxSetup, risk_sums

FloatArray = NDArray[np.float64]


@dataclass(slots=True)
class FirthEval:
    loglik: float  # unpenalized
    penalized: float
    score: FloatArray  # modified score U*
    info: FloatArray
    eta: FloatArray


def moment_columns(s: CoxSetup) -> FloatArray:
    """``[x, x x', x x' x]`` per row (flattened); computed once per fit and passed around."""
    X, p = s.X, s.p
    X2 = (X[:, :, None] * X[:, None, :]).reshape(s.n, p * p)
    X3 = (X2[:, :, None] * X[:, None, :]).reshape(s.n, p * p * p)
    return np.asarray(np.hstack((X, X2, X3)), dtype=np.float64)


def firth_evaluate(s: CoxSetup, beta: FloatArray, cols: FloatArray) -> FirthEval:
    """Penalized log-likelihood, modified score and information at ``beta``."""
    X = s.X
    p = s.p
    eta = X @ beta
    r = s.w * np.exp(eta)
    S0, S, E0, E = risk_sums(s, r, cols)
    lk, lf, lw = s.lk, s.lf, s.lw
    m0 = S0[lk] - lf * E0[lk]
    mom = (S[lk] - lf[:, None] * E[lk]) / m0[:, None]
    m1 = mom[:, :p]
    m2 = mom[:, p : p + p * p].reshape(-1, p, p)
    m3 = mom[:, p + p * p :].reshape(-1, p, p, p)
    loglik = float(np.dot(s.w * s.delta, eta) - np.dot(lw, np.log(m0)))
    score = s.wdx - lw @ m1
    cov = m2 - m1[:, :, None] * m1[:, None, :]
    info = np.einsum("l,lab->ab", lw, cov)
    k3 = (
        m3
        - m1[:, :, None, None] * m2[:, None, :, :]
        - m1[:, None, :, None] * m2[:, :, None, :]
        - m1[:, None, None, :] * m2[:, :, :, None]
        + 2.0 * m1[:, :, None, None] * m1[:, None, :, None] * m1[:, None, None, :]
    )
    dinfo = np.einsum("l,labj->abj", lw, k3)
    sign, logdet = np.linalg.slogdet(info)
    if sign <= 0:
        return FirthEval(loglik, float("-inf"), score, info, eta)
    inv = np.linalg.inv(info)
    adj = 0.5 * np.einsum("ab,baj->j", inv, dinfo)
    return FirthEval(loglik, loglik + 0.5 * float(logdet), score + adj, info, eta)


@dataclass(slots=True)
class FirthResult:
    beta: FloatArray
    ev: FirthEval
    ev0: FirthEval
    iterations: int
    converged: bool


def firth_fit(s: CoxSetup, *, max_iter: int, tol: float) -> FirthResult:
    """Modified Newton-Raphson from 0 with step halving on the penalized log-likelihood.

    Converges when the largest absolute step is below ``sqrt(tol)`` (scaled by ``1 + |beta|``)
    and the relative change of the penalized log-likelihood is below ``tol``.
    """
    beta = np.zeros(s.p)
    cols = moment_columns(s)
    ev0 = firth_evaluate(s, beta, cols)
    cur = ev0
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        step = np.linalg.solve(cur.info, cur.score)
        new = beta + step
        nev = firth_evaluate(s, new, cols)
        halvings = 0
        while (not np.isfinite(nev.penalized) or nev.penalized < cur.penalized - 1e-12) and halvings < 30:
            step = 0.5 * step
            new = beta + step
            nev = firth_evaluate(s, new, cols)
            halvings += 1
        small_step = bool(np.all(np.abs(step) <= np.sqrt(tol) * (1.0 + np.abs(beta))))
        small_change = abs(1.0 - cur.penalized / nev.penalized) <= tol
        beta, cur = new, nev
        if small_step and small_change:
            return FirthResult(beta, cur, ev0, it, True)
    return FirthResult(beta, cur, ev0, it, False)


def firth_profile(
    s: CoxSetup, j: int, value: float, start: FloatArray, cols: FloatArray, *, tol: float
) -> float:
    """Profile penalized log-likelihood: ``max l*(b)`` over the other coefficients with ``b_j = value``."""
    beta = np.array(start, dtype=np.float64)
    beta[j] = value
    free = np.array([k for k in range(s.p) if k != j], dtype=np.intp)
    cur = firth_evaluate(s, beta, cols)
    if free.size == 0:
        return cur.penalized
    for _ in range(200):
        step = np.zeros(s.p)
        step[free] = np.linalg.solve(cur.info[np.ix_(free, free)], cur.score[free])
        new = beta + step
        nev = firth_evaluate(s, new, cols)
        halvings = 0
        while (not np.isfinite(nev.penalized) or nev.penalized < cur.penalized - 1e-12) and halvings < 30:
            step *= 0.5
            new = beta + step
            nev = firth_evaluate(s, new, cols)
            halvings += 1
        done = bool(np.all(np.abs(step) <= np.sqrt(tol) * (1.0 + np.abs(beta)))) and (
            abs(1.0 - cur.penalized / nev.penalized) <= tol
        )
        beta, cur = new, nev
        if done:
            break
    return cur.penalized


def firth_profile_ci(
    s: CoxSetup, beta_hat: FloatArray, pl_hat: float, se: FloatArray, crit: float, *, tol: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Profile penalized-likelihood CIs and penalized likelihood-ratio p-values (as ``coxphf``).

    The limits solve ``2 (l*(b_hat) - PL_j(c)) = crit`` (``crit`` = chi-square quantile); the
    p-value of ``b_j = 0`` is ``P(chi2_1 > 2 (l*(b_hat) - PL_j(0)))``.
    """
    from scipy.optimize import brentq
    from scipy.stats import chi2

    p = s.p
    cols = moment_columns(s)
    low = np.full(p, np.nan)
    high = np.full(p, np.nan)
    pval = np.full(p, np.nan)
    for j in range(p):

        def h(c: float, j: int = j) -> float:
            return 2.0 * (pl_hat - firth_profile(s, j, c, beta_hat, cols, tol=tol)) - crit

        step = float(se[j]) * np.sqrt(crit) if np.isfinite(se[j]) and se[j] > 0 else 1.0
        for sign, out in ((-1.0, low), (1.0, high)):
            a = float(beta_hat[j])
            b = a + sign * step  # the Wald limit: usually close to the profile limit
            hb = h(b)
            k = 0
            while hb < 0 and k < 40:
                a, b = b, b + sign * step * 2.0 ** (k - 1)
                hb = h(b)
                k += 1
            if hb >= 0:
                out[j] = brentq(h, min(a, b), max(a, b), xtol=1e-10, rtol=1e-12)
        lr0 = 2.0 * (pl_hat - firth_profile(s, j, 0.0, beta_hat, cols, tol=tol))
        pval[j] = float(chi2.sf(max(lr0, 0.0), 1))
    return low, high, pval
