"""Test of the proportional-hazards assumption, as R's ``cox.zph`` (survival >= 3.0).

For each term the model is extended to ``beta(t) = beta + theta g(t)`` (the term's covariates
``x`` plus the time-varying ``x g(t)``) and the *score test* of ``theta = 0`` is computed at
``(beta_hat, 0)``:

* ``g(t) = G(t) - mean_{events} G(t_i)`` with ``G`` one of ``"km"`` (``1 - S_KM(t-)``, the pooled,
  unweighted, unstratified Kaplan-Meier; R's default), ``"identity"`` (``t``) or ``"rank"``
  (``rank(t)`` over all rows, ties averaged);
* score ``U_theta = sum_k g_k [ sum_{D_k} w_i x_i - sum_l wl a_kl / den_kl ]`` (Schoenfeld
  residuals weighted by ``g``; Efron or Breslow as the fit);
* information blocks ``sum_k V_k``, ``sum_k g_k V_k``, ``sum_k g_k^2 V_k`` with ``V_k`` the
  time-``t_k`` contribution to the Cox information;
* for a term with columns ``J``: ``chisq = u' I^{-1} u`` with ``u = (0, U_theta[J])`` and ``I``
  the (p + |J|)-square information of ``(beta, theta_J)``; ``df = |J|``. ``GLOBAL`` uses all
  columns (df = p).

This is the full score test of survival 3.x, not the approximate one of survival < 3.0 nor
lifelines' ``proportional_hazard_test``.

References
----------
Grambsch P.M., Therneau T.M. (1994). Proportional hazards tests and diagnostics based on
weighted residuals. Biometrika 81, 515-526.
Therneau T.M., Grambsch P.M. (2000). Modeling Survival Data, section 6.2.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps
from scipy.stats import rankdata

from postcart.errors import StatsError
from postcart.stats import _cox_engine as engine
from postcart.stats._surv import stratum_codes
from postcart.stats.cox import CoxResult, _design, _vector

FloatArray = NDArray[np.float64]

__all__ = ["ZphResult", "cox_zph"]

TRANSFORMS = ("km", "identity", "rank")


@dataclass(frozen=True, slots=True)
class ZphResult:
    """Score tests of proportional hazards, one row per term plus ``GLOBAL`` (last).

    Attributes
    ----------
    term : tuple of str
        Term names (a factor's dummies are one term unless ``by_coefficient``), then "GLOBAL".
    chisq, p : ndarray
        Score statistic and its upper-tail chi-square p-value.
    df : ndarray of int
        Degrees of freedom (number of coefficients of the term).
    transform : str
        ``"km"``, ``"identity"`` or ``"rank"``.
    ties : str
        Ties method of the Cox fit.
    """

    term: tuple[str, ...]
    chisq: FloatArray
    df: NDArray[np.int64]
    p: FloatArray
    transform: str
    ties: str

    def to_frame(self) -> pd.DataFrame:
        """Columns term, chisq, df, p (R's ``cox.zph(fit)$table``)."""
        return pd.DataFrame({"term": list(self.term), "chisq": self.chisq, "df": self.df, "p": self.p})

    def __repr__(self) -> str:
        return f"ZphResult(transform={self.transform!r}, terms={list(self.term)})"


def _km_left(time: FloatArray, event: NDArray[np.bool_], entry: FloatArray | None) -> FloatArray:
    """``1 - S(t-)`` of the pooled unweighted Kaplan-Meier, evaluated at each ``time``."""
    ut = np.unique(time[event])
    n_event = np.bincount(np.searchsorted(ut, time[event]), minlength=ut.size).astype(float)
    at_risk = time.size - np.searchsorted(np.sort(time), ut, side="left").astype(float)
    if entry is not None:  # at risk at u: entry < u <= time
        at_risk = (
            np.searchsorted(np.sort(entry), ut, side="left") - np.searchsorted(np.sort(time), ut, side="left")
        ).astype(float)
    surv = np.cumprod(1.0 - n_event / at_risk)
    idx = np.searchsorted(ut, time, side="left")  # number of event times < t
    s_left = np.concatenate(([1.0], surv))[idx]
    return np.asarray(1.0 - s_left, dtype=np.float64)


def _default_terms(names: Sequence[str]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for j, nm in enumerate(names):
        key = nm.split("[", 1)[0] if nm.endswith("]") and "[" in nm else nm
        groups.setdefault(key, []).append(j)
    return groups


def cox_zph(
    fit: CoxResult,
    X: ArrayLike,
    time: ArrayLike,
    event: ArrayLike,
    *,
    entry: ArrayLike | None = None,
    strata: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    transform: str = "km",
    terms: Mapping[str, Sequence[str]] | None = None,
    by_coefficient: bool = False,
) -> ZphResult:
    """Score test of proportional hazards for each term of a fitted Cox model and globally.

    Parameters
    ----------
    fit : CoxResult
        The fitted model (its coefficients and ties are used).
    X, time, event, entry, strata, weights
        Exactly the data given to :func:`cox_ph` for ``fit``.
    transform : {"km", "identity", "rank"}
        The time scale ``g(t)`` (R's ``transform``; default ``"km"`` as R).
    terms : mapping of term -> column names, optional
        How columns form terms (e.g. ``ModelMatrix.terms``). Default: dummies named
        ``"var[level]"`` form the term ``var``; other columns are their own term.
    by_coefficient : bool
        One test per column (R's ``terms = FALSE``).

    Returns
    -------
    ZphResult

    Raises
    ------
    StatsError
        Unknown transform, data that do not match ``fit`` or a firth fit (not supported).
    """
    if transform not in TRANSFORMS:
        raise StatsError(f"transform must be one of {list(TRANSFORMS)}, but was {transform!r}")
    if fit.firth:
        raise StatsError("cox_zph is not defined for a Firth (penalized) fit; refit with firth=False")
    names = list(fit.names)
    x = _design(X, names)
    n, p = x.shape
    t = _vector("time", time, n)
    ev = _vector("event", event, n) == 1
    st = None if entry is None else _vector("entry", entry, n)
    w = np.ones(n) if weights is None else _vector("weights", weights, n)
    s_codes, _ = stratum_codes("strata", strata, n)
    if n != fit.n or int(ev.sum()) != fit.n_events:
        raise StatsError(
            f"the data ({n} rows, {int(ev.sum())} events) are not those of the fit "
            f"({fit.n} rows, {fit.n_events} events)"
        )
    if by_coefficient:
        groups = {nm: [j] for j, nm in enumerate(names)}
    elif terms is not None:
        groups = {}
        for term, cols in terms.items():
            idx = []
            for c in cols:
                if c not in names:
                    raise StatsError(f"term {term!r} names column {c!r}, which is not in the fit {names}")
                idx.append(names.index(c))
            if idx:
                groups[term] = idx
    else:
        groups = _default_terms(names)

    if transform == "km":
        gt = _km_left(t, ev, st)
    elif transform == "rank":
        gt = rankdata(t).astype(np.float64)
    else:
        gt = t.copy()
    gt = gt - gt[ev].mean()

    s = engine.build_setup(x, t, ev, st, s_codes.astype(np.intp), w, efron=fit.ties == "efron")
    beta = np.asarray(fit.coef, dtype=np.float64)
    eta = s.X @ beta
    r = np.exp(eta) * s.w
    X2 = (s.X[:, :, None] * s.X[:, None, :]).reshape(n, p * p)
    S0, S12, E0, E12 = engine.risk_sums(s, r, np.hstack((s.X, X2)))
    S1, S2 = S12[:, :p], S12[:, p:].reshape(-1, p, p)
    E1, E2 = E12[:, :p], E12[:, p:].reshape(-1, p, p)
    lk, lf, lw = s.lk, s.lf, s.lw
    den = S0[lk] - lf * E0[lk]
    a = S1[lk] - lf[:, None] * E1[lk]
    m2 = S2[lk] - lf[:, None, None] * E2[lk]
    vl = lw[:, None, None] * (
        m2 / den[:, None, None] - a[:, :, None] * a[:, None, :] / (den**2)[:, None, None]
    )
    K = s.K
    Vk = np.zeros((K, p, p))
    np.add.at(Vk, lk, vl)
    Uk = np.zeros((K, p))
    np.add.at(Uk, s.dead_k, s.w[s.dead, None] * s.X[s.dead])
    np.add.at(Uk, lk, -(lw / den)[:, None] * a)
    g_rows = gt[s.order]
    gk = np.zeros(K)
    gk[s.dead_k] = g_rows[s.dead]  # all deaths at one grid point share the time
    u2 = gk @ Uk
    i11 = Vk.sum(axis=0)
    i12 = np.einsum("k,kab->ab", gk, Vk)
    i22 = np.einsum("k,kab->ab", gk * gk, Vk)
    imat = np.block([[i11, i12], [i12, i22]])

    term_names = list(groups)
    chisq, dfs = [], []
    for term in term_names:
        jj = groups[term]
        kk = list(range(p)) + [p + j for j in jj]
        u = np.concatenate((np.zeros(p), u2[jj]))
        chisq.append(_quadratic_form(u, imat[np.ix_(kk, kk)], term))
        dfs.append(len(jj))
    u = np.concatenate((np.zeros(p), u2))
    chisq.append(_quadratic_form(u, imat, "GLOBAL"))
    dfs.append(p)
    chi = np.array(chisq)
    df = np.array(dfs, dtype=np.int64)
    return ZphResult(
        term=tuple(term_names) + ("GLOBAL",),
        chisq=chi,
        df=df,
        p=np.asarray(sps.chi2.sf(chi, df), dtype=np.float64),
        transform=transform,
        ties=fit.ties,
    )


def _quadratic_form(u: FloatArray, imat: FloatArray, term: str) -> float:
    """``u' I^-1 u``; a singular information (e.g. a single event) is a clear StatsError, as R fails."""
    try:
        return float(u @ np.linalg.solve(imat, u))
    except np.linalg.LinAlgError:
        raise StatsError(
            f"cox.zph: the information matrix for {term!r} is singular (too few events for a test of "
            "proportional hazards); R's cox.zph fails on these data too"
        ) from None
