"""Firth's penalized Cox likelihood (Heinze & Schemper 2001) against an independent maximisation.

R's ``coxphf`` is not packaged for Debian, so the reference here is a direct implementation of
the penalized log partial likelihood ``l(b) + 1/2 log det I(b)`` written with explicit loops
over event times (Breslow and Efron), maximised numerically with ``scipy.optimize``. Checked:
the estimates agree, Firth gives finite estimates where the ordinary fit diverges (monotone
likelihood), and it shrinks a finite ordinary estimate towards 0.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize

from postcart.errors import MonotoneLikelihoodWarning
from postcart.stats import cox_ph


def loglik_and_info(beta: np.ndarray, X: np.ndarray, time: np.ndarray, event: np.ndarray, ties: str):  # type: ignore[no-untyped-def]
    """Partial log-likelihood and information by explicit loops (textbook formulas)."""
    p = X.shape[1]
    ll = 0.0
    info = np.zeros((p, p))
    r = np.exp(X @ beta)
    for t in np.unique(time[event]):
        risk = time >= t
        dead = event & (time == t)
        d = int(dead.sum())
        ll += float((X[dead] @ beta).sum())
        fracs = [j / d for j in range(d)] if ties == "efron" else [0.0]
        wgt = 1.0 if ties == "efron" else float(d)
        for f in fracs:
            c = risk * r - f * dead * r
            s0 = c.sum()
            m1 = c @ X / s0
            m2 = (X * c[:, None]).T @ X / s0
            ll -= wgt * np.log(s0)
            info += wgt * (m2 - np.outer(m1, m1))
    return ll, info


def penalized(beta, X, time, event, ties):  # type: ignore[no-untyped-def]
    ll, info = loglik_and_info(beta, X, time, event, ties)
    return ll + 0.5 * np.linalg.slogdet(info)[1]


def monotone_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(21)
    n = 50
    g = np.repeat([0.0, 1.0], 25)
    x = rng.normal(size=n).round(2)
    time = rng.integers(1, 12, n).astype(float)  # tied times
    event = (rng.random(n) < 0.6) & (g == 0)  # group 1 has no events
    return np.column_stack([g, x]), time, event


@pytest.mark.reference("independent", fixture="direct maximisation of the penalized likelihood (scipy)")
@pytest.mark.parametrize("ties", ["breslow", "efron"])
def test_firth_matches_direct_maximisation_of_penalized_likelihood(ties: str) -> None:
    X, time, event = monotone_data()
    fit = cox_ph(X, time, event, names=["g", "x"], ties=ties, firth=True, firth_ci="wald")
    opt = minimize(
        lambda b: -penalized(b, X, time, event, ties), np.zeros(2), method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 20000},
    )  # fmt: skip
    assert fit.firth and fit.converged
    np.testing.assert_allclose(fit.coef, opt.x, rtol=1e-5)
    assert fit.loglik == pytest.approx(-opt.fun, rel=1e-9)
    _, info = loglik_and_info(fit.coef, X, time, event, ties)
    np.testing.assert_allclose(fit.var, np.linalg.inv(info), rtol=1e-8)
    g = fit.terms[0]
    assert g.estimable and g.hr is not None and g.ci_low is not None and g.ci_high is not None
    assert g.ci_low == pytest.approx(np.exp(g.coef - 1.959963984540054 * g.se), rel=1e-12)


def test_firth_gives_finite_estimates_where_the_likelihood_is_monotone() -> None:
    X, time, event = monotone_data()
    with pytest.warns(MonotoneLikelihoodWarning):
        ml = cox_ph(X, time, event, names=["g", "x"], ties="efron")
    assert ml.monotone and ml.monotone_terms == ("g",)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = cox_ph(X, time, event, names=["g", "x"], ties="efron", firth=True)
    assert not fit.monotone
    assert -10 < fit.coef[0] < 0
    assert np.isfinite(fit.terms[0].se) and fit.terms[0].se < 5


def test_firth_shrinks_a_finite_estimate_towards_zero() -> None:
    rng = np.random.default_rng(4)
    n = 30
    x = rng.integers(0, 2, n).astype(float)
    time = rng.exponential(np.exp(-1.0 * x)) * 10
    event = rng.random(n) < 0.8
    ml = cox_ph(x[:, None], time, event, names=["x"], ties="breslow")
    fr = cox_ph(x[:, None], time, event, names=["x"], ties="breslow", firth=True)
    assert 0 < abs(fr.coef[0]) < abs(ml.coef[0])
    assert np.sign(fr.coef[0]) == np.sign(ml.coef[0])


def profile(j: int, c: float, X: np.ndarray, time: np.ndarray, event: np.ndarray, ties: str) -> float:
    """Profile penalized log-likelihood of coefficient j (two coefficients), by scipy."""
    from scipy.optimize import minimize_scalar

    def neg(other: float) -> float:
        b = np.array([c, other]) if j == 0 else np.array([other, c])
        return -penalized(b, X, time, event, ties)

    return -minimize_scalar(neg, bracket=(-1.0, 1.0), tol=1e-12).fun


@pytest.mark.reference("independent", fixture="profile penalized likelihood by scipy root finding")
def test_firth_profile_ci_and_penalized_lr_p_match_independent_profile() -> None:
    from scipy.optimize import brentq
    from scipy.stats import chi2

    X, time, event = monotone_data()
    fit = cox_ph(X, time, event, names=["g", "x"], ties="breslow", firth=True)
    assert fit.firth_ci == "profile"
    crit = chi2.ppf(0.95, 1)
    top = fit.loglik
    for j, term in enumerate(fit.terms):
        b = fit.coef[j]

        def h(c: float, j: int = j) -> float:
            return 2 * (top - profile(j, c, X, time, event, "breslow")) - crit

        lo = brentq(h, b - 20, b, xtol=1e-12)
        hi = brentq(h, b, b + 20, xtol=1e-12)
        assert term.ci_low is not None and term.ci_high is not None
        assert np.log(term.ci_low) == pytest.approx(lo, rel=1e-5, abs=1e-6)
        assert np.log(term.ci_high) == pytest.approx(hi, rel=1e-5, abs=1e-6)
        lr0 = 2 * (top - profile(j, 0.0, X, time, event, "breslow"))
        assert term.p == pytest.approx(chi2.sf(lr0, 1), rel=1e-5)
