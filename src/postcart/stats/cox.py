"""Cox proportional hazards regression, reproducing R's ``coxph`` (Breslow and Efron ties).

The model: hazard ``h(t | x) = h0_s(t) exp(x' beta)`` with a baseline hazard per stratum ``s``.
``beta`` maximises the log partial likelihood. With ``d_k`` deaths ``D_k`` at the ``k``-th
distinct event time of a stratum, risk set ``R_k``, ``r_i = w_i exp(eta_i)``,
``S0_k = sum_{R_k} r_i`` and ``E0_k = sum_{D_k} r_i``:

* Breslow: ``l = sum_k [ sum_{D_k} w_i eta_i - (sum_{D_k} w_i) log S0_k ]``;
* Efron: ``l = sum_k [ sum_{D_k} w_i eta_i - wbar_k sum_{l=0}^{d_k-1} log(S0_k - (l/d_k) E0_k) ]``
  with ``wbar_k`` the mean case weight of the deaths (R's convention).

Fitting is Newton-Raphson from ``beta = 0`` with step halving, stopping when the relative change
of ``l`` is below ``tol`` (1e-9, as R). Tests: likelihood ratio ``2 (l(b) - l(0))``, Wald
``b' V^{-1} b`` and score ``U(0)' I(0)^{-1} U(0)``, each on ``p`` degrees of freedom. Robust
(sandwich) variance: ``D' D`` with ``D`` the weighted score residuals times ``V`` (dfbeta),
summed within clusters (Lin & Wei 1989), as ``coxph(..., robust = TRUE)`` / ``cluster()``.

Monotone likelihood: after the fit, a coefficient ``j`` is declared divergent when the Newton
step that would still be taken, ``(V U)_j``, is larger than ``sqrt(tol) * |b_j|`` (R's
``toler.inf`` rule, which prints "Loglik converged before variable j; coefficient may be
infinite") and at least ``MONOTONE_MIN_STEP = 0.1`` in absolute value (R asks only ``> tol``;
the step of a diverging coefficient is ~1, the larger floor avoids false alarms for tiny
coefficients on huge data where the relative loglik criterion stops early). Its HR, CI, z and
p are then not reported and a ``MonotoneLikelihoodWarning`` is emitted. ``firth=True`` fits
Firth's penalized likelihood instead (Heinze & Schemper 2001), which gives finite estimates;
its CIs are profile penalized-likelihood intervals with penalized likelihood-ratio p-values (as
R's ``coxphf``), or Wald intervals from the inverse information (``firth_ci="wald"``).

References
----------
Cox D.R. (1972). Regression models and life-tables. JRSS B 34, 187-220.
Breslow N. (1974). Covariance analysis of censored survival data. Biometrics 30, 89-99.
Efron B. (1977). The efficiency of Cox's likelihood function for censored data. JASA 72, 557-565.
Lin D.Y., Wei L.J. (1989). The robust inference for the Cox proportional hazards model. JASA 84,
1074-1078.
Therneau T.M., Grambsch P.M. (2000). Modeling Survival Data: Extending the Cox Model. Springer.
Heinze G., Schemper M. (2001). A solution to the problem of monotone likelihood in Cox
regression. Biometrics 57, 114-119.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from postcart.errors import MonotoneLikelihoodWarning, StatsError
from postcart.stats import _cox_engine as engine
from postcart.stats._cox_firth import firth_fit, firth_profile_ci
from postcart.stats._surv import finite_vector, stratum_codes
from postcart.stats.concordance import ConcordanceResult, concordance_from_arrays
from postcart.stats.conventions import Conventions, resolve_conventions
from postcart.stats.results import TestStatistic

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

__all__ = ["CoxResult", "CoxTerm", "cox_ph"]

#: A coefficient whose remaining Newton step is at least this large after the log-likelihood has
#: converged is diverging: under monotone likelihood, l(b) ~ c - a exp(-|b|) and every Newton
#: step has length ~1, while a finite estimate leaves a step many orders of magnitude smaller.
MONOTONE_MIN_STEP = 0.1


@dataclass(frozen=True, slots=True)
class CoxTerm:
    """One coefficient of a Cox model.

    ``se`` is the model-based standard error (R's ``se(coef)``); ``robust_se`` the sandwich SE
    when the fit is robust (R's ``robust se``), else ``None``. ``z``, ``p`` and the CI use
    ``robust_se`` when present, as R does. A term with ``estimable=False`` (divergent
    coefficient, monotone likelihood) has ``hr``, ``ci_low``, ``ci_high``, ``z`` and ``p``
    ``None``; ``coef`` and ``se`` then hold the values where the iteration stopped.
    """

    term: str
    coef: float
    se: float
    hr: float | None
    ci_low: float | None
    ci_high: float | None
    z: float | None
    p: float | None
    estimable: bool
    robust_se: float | None = None

    def as_dict(self) -> dict[str, object]:
        """The term as a plain dict (JSON-ready; ``None`` for not estimable)."""
        return {
            "term": self.term,
            "coef": self.coef,
            "se": self.se,
            "robust_se": self.robust_se,
            "hr": self.hr,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "z": self.z,
            "p": self.p,
            "estimable": self.estimable,
        }


@dataclass(frozen=True, slots=True)
class CoxResult:
    """A fitted Cox model (field by field as R's ``coxph`` object where one exists).

    Attributes
    ----------
    terms : tuple of CoxTerm
        One per column of ``X``, in order.
    names : tuple of str
        Column names.
    coef : ndarray
        The coefficients (``log`` hazard ratios).
    n, n_events : int
        Rows used and number of events (rows with ``event == 1``).
    ties : str
        ``"breslow"`` or ``"efron"``.
    loglik_null, loglik : float
        Log partial likelihood at 0 and at the estimate (penalized values when ``firth``).
    lr_test, wald_test, score_test : TestStatistic
        Likelihood-ratio, Wald (robust variance when robust, as R) and score (at 0, model-based).
    concordance, concordance_se : float or None
        Harrell's C of the linear predictor and its infinitesimal-jackknife SE (``None`` when
        ``concordance=False`` was asked).
    concordance_detail : ConcordanceResult or None
        The pair counts behind it.
    var : ndarray
        Model-based variance matrix (inverse information at the estimate).
    robust_var : ndarray or None
        Sandwich variance when ``robust`` or ``cluster`` was given.
    converged : bool
        Whether the iteration met the stopping rule.
    iterations : int
        Newton-Raphson iterations (as R's ``iter``).
    monotone : bool
        A coefficient diverges (monotone likelihood); see ``monotone_terms``.
    monotone_terms : tuple of str
        The divergent terms.
    firth : bool
        Firth's penalized likelihood was used.
    firth_ci : str or None
        With ``firth``: ``"profile"`` (profile penalized-likelihood CIs and penalized LR
        p-values, as ``coxphf``) or ``"wald"``; ``None`` otherwise.
    means : ndarray
        Column means used for centring (R's ``means``).
    n_strata : int
        Number of strata.
    conventions : Conventions
        Profile, ties and confidence level used.
    """

    terms: tuple[CoxTerm, ...]
    names: tuple[str, ...]
    coef: FloatArray
    n: int
    n_events: int
    ties: str
    loglik_null: float
    loglik: float
    lr_test: TestStatistic
    wald_test: TestStatistic
    score_test: TestStatistic
    concordance: float | None
    concordance_se: float | None
    concordance_detail: ConcordanceResult | None
    var: FloatArray
    robust_var: FloatArray | None
    converged: bool
    iterations: int
    monotone: bool
    monotone_terms: tuple[str, ...]
    firth: bool
    firth_ci: str | None
    means: FloatArray
    n_strata: int
    conventions: Conventions

    def term(self, name: str) -> CoxTerm:
        """The term called ``name``.

        Raises
        ------
        StatsError
            If there is no such term.
        """
        for t in self.terms:
            if t.term == name:
                return t
        raise StatsError(f"no term {name!r} in this model; terms are {list(self.names)}")

    def to_frame(self) -> pd.DataFrame:
        """One row per term: term, coef, se, robust_se, hr, ci_low, ci_high, z, p, estimable."""
        return pd.DataFrame([t.as_dict() for t in self.terms])

    def __repr__(self) -> str:
        return (
            f"CoxResult(terms={list(self.names)}, n={self.n}, n_events={self.n_events}, "
            f"ties={self.ties!r}, loglik={self.loglik:.6g}, monotone={self.monotone}, firth={self.firth})"
        )


# ---------------------------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------------------------
def _vector(name: str, v: ArrayLike, n: int) -> FloatArray:
    return finite_vector(name, v, n, length_note=f"X has {n} rows")


def _design(X: ArrayLike, names: Sequence[str]) -> FloatArray:
    try:
        x = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StatsError(f"X must be numeric (use model_matrix for categorical columns): {exc}") from None
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise StatsError(f"X must be two-dimensional (rows x covariates), but has shape {x.shape}")
    names = list(names)
    if x.shape[1] == 0:
        raise StatsError("X has no columns: a Cox model needs at least one covariate")
    if len(names) != x.shape[1]:
        raise StatsError(f"names has {len(names)} entries but X has {x.shape[1]} columns")
    if len(set(names)) != len(names):
        dup = sorted({nm for nm in names if names.count(nm) > 1})
        raise StatsError(f"names must be unique, but {dup} repeat")
    bad = np.argwhere(~np.isfinite(x))
    if bad.size:
        i, j = bad[0]
        raise StatsError(
            f"X must be finite, but row {i}, column {names[j]!r} is {float(x[i, j])!r} "
            "(drop incomplete rows first, e.g. with model_matrix)"
        )
    return np.ascontiguousarray(x)


def _test(stat: float, df: int) -> TestStatistic:
    p = float(sps.chi2.sf(stat, df)) if df > 0 else float("nan")
    return TestStatistic(chisq=float(stat), df=int(df), p=p)


def _check_rank(info: FloatArray, names: Sequence[str]) -> None:
    """Raise when the information at 0 is singular (collinear or constant columns)."""
    p = info.shape[0]
    scale = np.sqrt(np.clip(np.diag(info), 0.0, None))
    zero = np.flatnonzero(scale <= 1e-12 * max(1.0, float(scale.max(initial=0.0))))
    if zero.size:
        raise StatsError(
            f"covariate(s) {[names[int(j)] for j in zero]} do not vary within the risk sets "
            "(constant, or a level absent from the rows used); drop them"
        )
    corr = info / np.outer(scale, scale)
    vals, vecs = np.linalg.eigh(corr)
    if vals[0] <= 1e-10 * max(1.0, float(vals[-1])):
        v = vecs[:, 0]
        involved = [names[j] for j in range(p) if abs(v[j]) > 1e-3]
        raise StatsError(f"covariates {involved} are collinear (the information matrix is singular)")


# ---------------------------------------------------------------------------------------------
# the fit
# ---------------------------------------------------------------------------------------------
def cox_ph(
    X: ArrayLike,
    time: ArrayLike,
    event: ArrayLike,
    *,
    names: Sequence[str],
    entry: ArrayLike | None = None,
    strata: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    ties: str | None = None,
    profile: str = "sas",
    robust: bool = False,
    cluster: ArrayLike | None = None,
    firth: bool = False,
    firth_ci: str = "profile",
    conf_level: float = 0.95,
    max_iter: int = 50,
    tol: float = 1e-9,
    concordance: bool = True,
) -> CoxResult:
    """Fit a Cox proportional hazards model.

    Parameters
    ----------
    X : array-like, shape (n, p)
        Numeric covariates (build dummies with :func:`postcart.stats.model_matrix`).
    time : array-like
        Follow-up time; the *stop* time of each (start, stop] row when ``entry`` is given.
    event : array-like
        1/True = event at ``time``, 0/False = censored.
    names : sequence of str
        One name per column of ``X`` (e.g. ``"celltype[smallcell]"``).
    entry : array-like, optional
        Start of each row's interval: late entry (left truncation) and time-dependent
        covariates as several rows per subject (give ``cluster`` for robust SEs).
    strata : array-like, optional
        A separate baseline hazard per stratum.
    weights : array-like, optional
        Case weights (> 0).
    ties : {"breslow", "efron"}, optional
        Default from ``profile``: ``"sas"`` -> Breslow (PROC PHREG), ``"r"`` -> Efron.
    profile : {"sas", "r"}
    robust : bool
        Add the sandwich variance (dfbeta); z, p, CIs and the Wald test then use it (as R).
    cluster : array-like, optional
        Cluster ids for the sandwich variance (implies ``robust``).
    firth : bool
        Fit Firth's penalized partial likelihood (finite estimates under monotone likelihood).
    firth_ci : {"profile", "wald"}
        With ``firth``: profile penalized-likelihood CIs and penalized likelihood-ratio p-values
        (default, as R's ``coxphf``), or Wald CIs/p from the inverse information.
    conf_level : float
        Level of the Wald CIs ``exp(coef +- z se)``.
    max_iter : int
        Maximum Newton-Raphson iterations.
    tol : float
        Convergence: relative change of the log partial likelihood (R's ``eps``).
    concordance : bool
        Compute Harrell's C and its SE (O(N log N); turn off to save time on huge data).

    Returns
    -------
    CoxResult

    Raises
    ------
    StatsError
        Bad input (lengths, non-finite values, non-0/1 events, weights <= 0, entry >= time,
        unknown ties/profile), no events, or collinear/constant covariates.

    Warns
    -----
    MonotoneLikelihoodWarning
        When a coefficient diverges (``monotone=True`` in the result).

    Examples
    --------
    >>> import numpy as np
    >>> fit = cox_ph(np.array([0, 2, 1, 1, 1, 0, 0])[[0, 2, 3, 4, 5, 6]],
    ...              [9, 1, 1, 6, 6, 8], [1, 1, 0, 1, 1, 0], names=["x"], ties="breslow")
    >>> round(fit.terms[0].coef, 6)  # log((3 + sqrt(33)) / 2), Therneau & Grambsch appendix E
    1.475285
    """
    conv = resolve_conventions(profile, ties=ties, conf_level=conf_level)
    x = _design(X, names)
    n, p = x.shape
    if n == 0:
        raise StatsError("X has no rows: at least one observation is needed")
    t = _vector("time", time, n)
    ev = _vector("event", event, n)
    badev = np.flatnonzero((ev != 0) & (ev != 1))
    if badev.size:
        raise StatsError(f"event must be 0/1 or boolean, but row {badev[0]} is {float(ev[badev[0]])!r}")
    evb = ev == 1
    if not evb.any():
        raise StatsError("there are no events (every event value is 0): a Cox model needs at least one")
    st = None if entry is None else _vector("entry", entry, n)
    if st is not None and np.any(st >= t):
        bad = int(np.flatnonzero(st >= t)[0])
        raise StatsError(
            f"entry must be < time, but row {bad} has entry {float(st[bad])!r} >= time {float(t[bad])!r}"
        )
    w = np.ones(n) if weights is None else _vector("weights", weights, n)
    if np.any(w <= 0):
        bad = int(np.flatnonzero(w <= 0)[0])
        raise StatsError(f"weights must be > 0, but row {bad} is {float(w[bad])!r}")
    s_codes, n_strata = stratum_codes("strata", strata, n)
    cl = None if cluster is None else stratum_codes("cluster", cluster, n)[0]
    do_robust = robust or cl is not None
    if firth and do_robust:
        raise StatsError(
            "robust/cluster variance is not available with firth=True (the sandwich of the "
            "penalized likelihood is not implemented); drop robust/cluster or firth"
        )
    if firth_ci not in ("profile", "wald"):
        raise StatsError(f"firth_ci must be 'profile' or 'wald', but was {firth_ci!r}")
    if max_iter < 1:
        raise StatsError(f"max_iter must be >= 1, but was {max_iter!r}")
    if not 0 < tol < 1:
        raise StatsError(f"tol must be in (0, 1), but was {tol!r}")

    setup = engine.build_setup(x, t, evb, st, s_codes.astype(np.intp), w, efron=conv.ties == "efron")
    ev0 = engine.evaluate(setup, np.zeros(p))
    _check_rank(ev0.info, names)

    monotone_idx: list[int] = []
    if firth:
        fr = firth_fit(setup, max_iter=max_iter, tol=tol)
        beta = fr.beta
        info = fr.ev.info
        loglik_null, loglik = fr.ev0.penalized, fr.ev.penalized
        converged, iterations = fr.converged, fr.iterations
        ev_fit = engine.evaluate(setup, beta)
    else:
        nr = engine.newton_raphson(setup, max_iter=max_iter, tol=tol, ev0=ev0)
        beta = nr.beta
        ev_fit = nr.ev
        info = ev_fit.info
        loglik_null, loglik = ev0.loglik, ev_fit.loglik
        converged, iterations = nr.converged, nr.iterations
    var = _inverse(info)
    if not firth:
        remaining = np.abs(var @ ev_fit.score)
        monotone_idx = [
            j
            for j in range(p)
            if (remaining[j] > MONOTONE_MIN_STEP and remaining[j] > np.sqrt(tol) * abs(beta[j]))
            or not np.isfinite(var[j, j])
            or var[j, j] <= 0
        ]
    robust_var = None
    if do_robust:
        L = engine.score_residuals(setup, beta, ev_fit)
        D = (setup.w[:, None] * L) @ var
        if cl is not None:
            cls = cl[setup.order]
            D = np.vstack([np.bincount(cls, weights=D[:, j]).astype(np.float64) for j in range(p)]).T
        robust_var = D.T @ D
    use_var = robust_var if robust_var is not None else var

    zq = float(sps.norm.ppf(0.5 + conv.conf_level / 2.0))
    profile_ci = None
    if firth and firth_ci == "profile":
        ses = np.sqrt(np.clip(np.diag(var), 0.0, None))
        profile_ci = firth_profile_ci(setup, beta, loglik, ses, zq * zq, tol=tol)
    terms = []
    for j, nm in enumerate(names):
        se = float(np.sqrt(var[j, j])) if var[j, j] > 0 else float("nan")
        rse = float(np.sqrt(robust_var[j, j])) if robust_var is not None else None
        use_se = rse if rse is not None else se
        b = float(beta[j])
        if j in monotone_idx:
            terms.append(CoxTerm(nm, b, se, None, None, None, None, None, False, rse))
            continue
        z = b / use_se
        if profile_ci is not None:
            lo_, hi_, pv_ = (float(a[j]) for a in profile_ci)
            terms.append(
                CoxTerm(
                    term=nm,
                    coef=b,
                    se=se,
                    hr=float(np.exp(b)),
                    ci_low=float(np.exp(lo_)) if np.isfinite(lo_) else None,
                    ci_high=float(np.exp(hi_)) if np.isfinite(hi_) else None,
                    z=float(z),
                    p=pv_,
                    estimable=True,
                    robust_se=rse,
                )
            )
            continue
        terms.append(
            CoxTerm(
                term=nm,
                coef=b,
                se=se,
                hr=float(np.exp(b)),
                ci_low=float(np.exp(b - zq * use_se)),
                ci_high=float(np.exp(b + zq * use_se)),
                z=float(z),
                p=float(2.0 * sps.norm.sf(abs(z))),
                estimable=True,
                robust_se=rse,
            )
        )
    monotone_terms = tuple(names[j] for j in monotone_idx)
    if monotone_terms:
        warnings.warn(
            f"monotone likelihood: the coefficient(s) of {list(monotone_terms)} diverge to "
            f"{'+' if beta[monotone_idx[0]] > 0 else '-'}infinity (the log partial likelihood "
            "converged while the estimate kept growing, e.g. a group with no events); their "
            "hazard ratios are not estimable. Use firth=True for finite (penalized) estimates.",
            MonotoneLikelihoodWarning,
            stacklevel=2,
        )

    u0 = ev0.score
    score_stat = float(u0 @ _solve_sym(ev0.info, u0))
    wald_stat = float(beta @ _solve_sym(use_var, beta))
    cres = None
    if concordance:
        eta = np.empty(n)
        eta[setup.order] = ev_fit.eta
        cres = concordance_from_arrays(t, evb, st, eta, s_codes, w, cl)
    return CoxResult(
        terms=tuple(terms),
        names=tuple(names),
        coef=np.asarray(beta, dtype=np.float64),
        n=n,
        n_events=int(evb.sum()),
        ties=conv.ties,
        loglik_null=float(loglik_null),
        loglik=float(loglik),
        lr_test=_test(2.0 * (loglik - loglik_null), p),
        wald_test=_test(wald_stat, p),
        score_test=_test(score_stat, p),
        concordance=None if cres is None else cres.concordance,
        concordance_se=None if cres is None else cres.std_err,
        concordance_detail=cres,
        var=var,
        robust_var=robust_var,
        converged=bool(converged),
        iterations=int(iterations),
        monotone=bool(monotone_terms),
        monotone_terms=monotone_terms,
        firth=firth,
        firth_ci=firth_ci if firth else None,
        means=setup.means.copy(),
        n_strata=n_strata,
        conventions=conv,
    )


def _inverse(a: FloatArray) -> FloatArray:
    try:
        return np.asarray(np.linalg.inv(a), dtype=np.float64)
    except np.linalg.LinAlgError:
        return np.asarray(np.linalg.pinv(a), dtype=np.float64)


def _solve_sym(a: FloatArray, b: FloatArray) -> FloatArray:
    try:
        return np.asarray(np.linalg.solve(a, b), dtype=np.float64)
    except np.linalg.LinAlgError:
        return np.asarray(np.linalg.lstsq(a, b, rcond=None)[0], dtype=np.float64)
