"""Cox model, tier 1 and 3: hand-worked answers and invariants (no R needed).

* The data set of Therneau & Grambsch (2000), appendix E.1 (R survival ``tests/book1.R``):
  times 9, 1, 1, 6, 6, 8 with status 1, 1, 0, 1, 1, 0 and x 0, 1, 1, 1, 0, 0 (the seventh row,
  with a missing status, is left out). With ``r = exp(beta)`` the log partial likelihoods are

  - Breslow: ``l(b) = 2b - log(3r + 3) - 2 log(r + 3)``, ``U = 2 - r/(r+1) - 2r/(r+3)``,
    ``I = r/(r+1)^2 + 6r/(r+3)^2``; the MLE solves ``r^2 - 3r - 6 = 0``: ``r = (3 + sqrt 33)/2``;
  - Efron (the two deaths at 6 have x = 1 and 0): ``l(b) = 2b - log(3r + 3) - log(r + 3) -
    log((r + 5)/2)``, ``U = 2 - r/(r+1) - r/(r+3) - r/(r+5)``,
    ``I = r/(r+1)^2 + 3r/(r+3)^2 + 5r/(r+5)^2``.
* Harrell's C and its infinitesimal-jackknife SE by brute force over all pairs, the jackknife
  derivative taken numerically.
* Invariants: row order does not matter; with one binary covariate and no tied times the score
  test equals the log-rank statistic (computed here from its textbook formula).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import brentq

from postcart.errors import MonotoneLikelihoodWarning, StatsError
from postcart.stats import concordance_index, cox_ph

TIME = np.array([9.0, 1, 1, 6, 6, 8])
STATUS = np.array([1.0, 1, 0, 1, 1, 0])
XB = np.array([0.0, 1, 1, 1, 0, 0])


def breslow_u(b: float) -> float:
    r = math.exp(b)
    return 2 - r / (r + 1) - 2 * r / (r + 3)


def efron_u(b: float) -> float:
    r = math.exp(b)
    return 2 - r / (r + 1) - r / (r + 3) - r / (r + 5)


@pytest.mark.reference("hand-worked", fixture="Therneau & Grambsch appendix E.1 (book1.R)")
def test_breslow_fit_matches_closed_form_of_therneau_grambsch() -> None:
    fit = cox_ph(XB[:, None], TIME, STATUS, names=["x"], ties="breslow")
    r = (3 + math.sqrt(33)) / 2
    b = math.log(r)
    assert fit.coef[0] == pytest.approx(b, rel=1e-9)
    assert fit.loglik_null == pytest.approx(-math.log(6) - 2 * math.log(4), rel=1e-12)
    assert fit.loglik == pytest.approx(2 * b - math.log(3 * r + 3) - 2 * math.log(r + 3), rel=1e-12)
    info = r / (r + 1) ** 2 + 6 * r / (r + 3) ** 2
    assert fit.var[0, 0] == pytest.approx(1 / info, rel=1e-8)
    # score test at 0: U(0) = 1, I(0) = 1/4 + 6/16
    assert fit.score_test.chisq == pytest.approx(1 / 0.625, rel=1e-12)
    assert fit.wald_test.chisq == pytest.approx(b * b * info, rel=1e-8)
    assert fit.lr_test.chisq == pytest.approx(2 * (fit.loglik - fit.loglik_null), rel=1e-12)
    assert breslow_u(fit.coef[0]) == pytest.approx(0, abs=1e-9)


@pytest.mark.reference("hand-worked", fixture="Therneau & Grambsch appendix E.1 (book1.R)")
def test_efron_fit_matches_closed_form_of_therneau_grambsch() -> None:
    fit = cox_ph(XB[:, None], TIME, STATUS, names=["x"], ties="efron")
    b = brentq(efron_u, 0.0, 5.0, xtol=1e-14)
    r = math.exp(b)
    assert fit.coef[0] == pytest.approx(b, rel=1e-8)
    assert fit.loglik_null == pytest.approx(-math.log(6) - math.log(4) - math.log(3), rel=1e-12)
    assert fit.loglik == pytest.approx(
        2 * b - math.log(3 * r + 3) - math.log(r + 3) - math.log((r + 5) / 2), rel=1e-12
    )
    info = r / (r + 1) ** 2 + 3 * r / (r + 3) ** 2 + 5 * r / (r + 5) ** 2
    assert fit.var[0, 0] == pytest.approx(1 / info, rel=1e-8)
    u0, i0 = efron_u(0.0), 1 / 4 + 3 / 16 + 5 / 36
    assert fit.score_test.chisq == pytest.approx(u0 * u0 / i0, rel=1e-12)


def brute_somers(time, event, x, w, strata):  # type: ignore[no-untyped-def]
    """Weighted counts over all ordered pairs (i event, j at risk later), R's definitions."""
    conc = disc = tx = 0.0
    n = len(time)
    for i in range(n):
        if not event[i]:
            continue
        for j in range(n):
            if j == i or strata[i] != strata[j]:
                continue
            later = time[j] > time[i] or (time[j] == time[i] and not event[j])
            if not later:
                continue
            ww = w[i] * w[j]
            if x[i] > x[j]:
                conc += ww
            elif x[i] < x[j]:
                disc += ww
            else:
                tx += ww
    return conc, disc, tx


@pytest.mark.reference("hand-worked", fixture="brute-force pairs + numerical jackknife")
def test_concordance_and_its_jackknife_se_match_brute_force_over_pairs() -> None:
    rng = np.random.default_rng(11)
    n = 40
    time = rng.integers(1, 12, n).astype(float)
    event = rng.random(n) < 0.7
    x = rng.integers(0, 6, n).astype(float)  # many ties in x
    w = rng.uniform(0.5, 2.0, n)
    strata = rng.integers(0, 2, n)
    res = concordance_index(time, event, x, weights=w, strata=strata)
    conc, disc, tx = brute_somers(time, event, x, w, strata)
    assert res.concordant == pytest.approx(conc, rel=1e-12)
    assert res.discordant == pytest.approx(disc, rel=1e-12)
    assert res.tied_x == pytest.approx(tx, rel=1e-12)
    assert res.concordance == pytest.approx((conc + tx / 2) / (conc + disc + tx), rel=1e-12)

    def somers(wv: np.ndarray) -> float:
        c, d, t = brute_somers(time, event, x, wv, strata)
        return (c - d) / (c + d + t)

    h = 1e-6
    dfbeta = np.array(
        [w[i] * (somers(w + h * np.eye(n)[i]) - somers(w - h * np.eye(n)[i])) / (2 * h) for i in range(n)]
    )
    assert res.std_err == pytest.approx(math.sqrt(np.sum(dfbeta**2) / 4), rel=1e-6)


def test_cox_results_do_not_depend_on_row_order() -> None:
    rng = np.random.default_rng(5)
    n = 300
    X = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n)])
    entry = rng.integers(0, 3, n).astype(float)
    time = entry + rng.integers(1, 15, n)
    event = rng.random(n) < 0.6
    strata = rng.integers(0, 3, n)
    w = rng.uniform(0.5, 2, n)
    perm = rng.permutation(n)
    for ties in ("breslow", "efron"):
        a = cox_ph(
            X, time, event, names=["a", "b"], entry=entry, strata=strata, weights=w, ties=ties, robust=True
        )
        b = cox_ph(
            X[perm], time[perm], event[perm], names=["a", "b"], entry=entry[perm], strata=strata[perm],
            weights=w[perm], ties=ties, robust=True,
        )  # fmt: skip
        assert_allclose(a.coef, b.coef, rtol=1e-10)
        assert_allclose(a.var, b.var, rtol=1e-10)
        assert a.robust_var is not None and b.robust_var is not None
        assert_allclose(a.robust_var, b.robust_var, rtol=1e-9)
        assert a.loglik == pytest.approx(b.loglik, rel=1e-12)
        assert a.score_test.chisq == pytest.approx(b.score_test.chisq, rel=1e-10)
        assert a.concordance == pytest.approx(b.concordance, rel=1e-12)
        assert a.concordance_se == pytest.approx(b.concordance_se, rel=1e-10)


def logrank_direct(time: np.ndarray, event: np.ndarray, group: np.ndarray) -> float:
    """Two-sample log-rank chi-square, textbook formula (hypergeometric variance)."""
    u = v = 0.0
    for t in np.unique(time[event]):
        at_risk = time >= t
        n_all, n1 = at_risk.sum(), (at_risk & (group == 1)).sum()
        d_all = (event & (time == t)).sum()
        d1 = (event & (time == t) & (group == 1)).sum()
        u += d1 - d_all * n1 / n_all
        if n_all > 1:
            v += d_all * (n1 / n_all) * (1 - n1 / n_all) * (n_all - d_all) / (n_all - 1)
    return u * u / v


def test_score_test_equals_logrank_for_one_binary_covariate_without_ties() -> None:
    rng = np.random.default_rng(8)
    n = 120
    group = rng.integers(0, 2, n)
    time = rng.permutation(np.arange(1, n + 1)).astype(float) * (1 + 0.3 * group)
    time = time + rng.uniform(0, 0.01, n)  # no tied times at all
    event = rng.random(n) < 0.7
    want = logrank_direct(time, event, group)
    for ties in ("breslow", "efron"):
        fit = cox_ph(group[:, None].astype(float), time, event, names=["g"], ties=ties)
        assert fit.score_test.chisq == pytest.approx(want, rel=1e-10)


def test_a_group_without_events_is_flagged_monotone_and_not_estimable() -> None:
    rng = np.random.default_rng(3)
    n = 40
    g = np.repeat([0.0, 1.0], 20)
    x = rng.normal(size=n)
    t = rng.integers(1, 20, n).astype(float)
    e = (rng.random(n) < 0.6) & (g == 0)
    with pytest.warns(MonotoneLikelihoodWarning, match=r"\['grp'\] diverge to -infinity.*firth=True"):
        fit = cox_ph(np.column_stack([g, x]), t, e, names=["grp", "x"], ties="efron")
    assert fit.monotone
    assert fit.monotone_terms == ("grp",)
    grp, other = fit.terms
    assert not grp.estimable and grp.hr is None and grp.ci_low is None and grp.p is None
    assert grp.coef < -10
    assert other.estimable and other.hr is not None


def test_a_finite_fit_emits_no_monotone_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = cox_ph(XB[:, None], TIME, STATUS, names=["x"])
    assert not fit.monotone


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"event": np.zeros(6)}, "there are no events"),
        ({"entry": TIME}, "entry must be < time, but row 0 has entry 9.0 >= time 9.0"),
        ({"names": ["x", "y"]}, "names has 2 entries but X has 1 columns"),
        ({"X": np.array([[0.0], [np.nan], [1], [1], [0], [0]])}, "row 1, column 'x' is nan"),
        ({"weights": np.array([1, 1, 0, 1, 1, 1.0])}, "weights must be > 0, but row 2 is 0.0"),
        ({"event": np.array([1, 2, 0, 1, 1, 0])}, "event must be 0/1 or boolean, but row 1 is 2.0"),
        ({"ties": "exact"}, "ties must be one of"),
        (
            {"X": np.column_stack([XB, 2 * XB]), "names": ["x", "x2"]},
            r"covariates \['x', 'x2'\] are collinear",
        ),
        ({"X": np.ones((6, 1))}, r"covariate\(s\) \['x'\] do not vary"),
        ({"firth": True, "robust": True}, "robust/cluster variance is not available with firth=True"),
        ({"firth": True, "firth_ci": "exact"}, "firth_ci must be 'profile' or 'wald', but was 'exact'"),
    ],
)
def test_bad_input_raises_an_error_that_names_the_fault(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    args = {"X": XB[:, None], "time": TIME, "event": STATUS, "names": ["x"]} | kwargs
    with pytest.raises(StatsError, match=message):
        cox_ph(args.pop("X"), args.pop("time"), args.pop("event"), **args)


def test_result_records_conventions_and_converts_to_a_tidy_frame() -> None:
    fit = cox_ph(XB[:, None], TIME, STATUS, names=["x"], profile="r")
    assert fit.ties == "efron" and fit.conventions.profile == "r" and fit.conventions.ties == "efron"
    assert cox_ph(XB[:, None], TIME, STATUS, names=["x"]).ties == "breslow"  # SAS profile default
    frame = fit.to_frame()
    assert list(frame.columns) == [
        "term",
        "coef",
        "se",
        "robust_se",
        "hr",
        "ci_low",
        "ci_high",
        "z",
        "p",
        "estimable",
    ]
    assert frame.loc[0, "coef"] == fit.term("x").coef
    with pytest.raises(StatsError, match=r"no term 'y' in this model; terms are \['x'\]"):
        fit.term("y")
    assert repr(fit).startswith("CoxResult(terms=['x'], n=6, n_events=4, ties='efron'")


def test_a_stratum_without_events_contributes_nothing() -> None:
    rng = np.random.default_rng(0)
    n = 50
    x = rng.normal(size=n)
    t = rng.integers(1, 10, n).astype(float)
    s = np.repeat([0, 1], 25)
    e = (rng.random(n) < 0.6) & (s == 0)
    for ties in ("breslow", "efron"):
        both = cox_ph(x[:, None], t, e, names=["x"], strata=s, ties=ties, concordance=False)
        alone = cox_ph(x[:25, None], t[:25], e[:25], names=["x"], ties=ties, concordance=False)
        assert both.coef[0] == pytest.approx(alone.coef[0], rel=1e-12)
        assert both.var[0, 0] == pytest.approx(alone.var[0, 0], rel=1e-12)
        assert both.n_strata == 2 and both.concordance is None


def test_per_piece_path_for_tied_data_equals_the_row_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both evaluation paths of the engine (the row path is the one checked against R on every
    reference block; the per-piece path against live R in test_cox_live_r.py::big_ties)."""
    from postcart.stats import _cox_engine

    rng = np.random.default_rng(2)
    n = 8000  # 2 strata x 14 times x 2 = 56 pieces of ~140 rows: the per-piece path
    X = np.column_stack([rng.normal(size=n), rng.integers(0, 3, n)])
    t = rng.integers(1, 15, n).astype(float)
    e = rng.random(n) < 0.6
    s = rng.integers(0, 2, n)
    w = rng.uniform(0.5, 2, n)
    setup = _cox_engine.build_setup(X, t, e, None, s.astype(np.intp), w, efron=True)
    assert setup.Xa is not None
    for ties in ("breslow", "efron"):
        fast = cox_ph(
            X, t, e, names=["a", "b"], strata=s, weights=w, ties=ties, robust=True, concordance=False
        )
        monkeypatch.setattr(_cox_engine, "PIECE_ROWS", 10**9)
        slow = cox_ph(
            X, t, e, names=["a", "b"], strata=s, weights=w, ties=ties, robust=True, concordance=False
        )
        monkeypatch.undo()
        assert_allclose(fast.coef, slow.coef, rtol=1e-12)
        assert_allclose(fast.var, slow.var, rtol=1e-11)
        assert fast.robust_var is not None and slow.robust_var is not None
        assert_allclose(fast.robust_var, slow.robust_var, rtol=1e-10)
        assert fast.loglik == pytest.approx(slow.loglik, rel=1e-13)
        assert fast.score_test.chisq == pytest.approx(slow.score_test.chisq, rel=1e-12)


def test_concordance_index_options_and_errors() -> None:
    rng = np.random.default_rng(12)
    n = 30
    t = rng.integers(1, 8, n).astype(float)
    e = rng.random(n) < 0.7
    x = rng.normal(size=n)
    a = concordance_index(t, e, x)
    b = concordance_index(t, e, x, higher_is_riskier=False)
    assert b.concordance == pytest.approx(1 - a.concordance, rel=1e-12)
    assert b.std_err == pytest.approx(a.std_err, rel=1e-12)
    # one cluster per row is the same as no cluster
    c = concordance_index(t, e, x, cluster=np.arange(n))
    assert c.std_err == pytest.approx(a.std_err, rel=1e-12)
    assert a.to_frame().shape == (1, 8)
    with pytest.raises(StatsError, match="entry must be < time, but row 0 has entry"):
        concordance_index(t, e, x, entry=t)
    with pytest.raises(StatsError, match="score has 29 values but time has 30"):
        concordance_index(t, e, x[:-1])
