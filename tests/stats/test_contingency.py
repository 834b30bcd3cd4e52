"""Pearson chi-square and Fisher's exact test against R, by hand, scipy and invariants.

References:

* ``tests/fixtures/r_contingency.json``, made by ``tests/reference/r/contingency.R`` (R 4.2.2):
  ``chisq.test(x, correct = FALSE/TRUE)``, ``fisher.test(x)`` (p-value, and for 2 x 2 the
  conditional MLE odds ratio with its CI, also recomputed in R with a tight ``uniroot``
  tolerance because fisher.test's own is ~1.2e-4), one-sided 2 x 2 tests.
* hand-worked: Fisher's tea-tasting table (p = 34/70), its chi-squares (2 and 0.5);
* an r x c exact p-value by brute-force enumeration of all tables with the margins (here);
* ``scipy.stats.fisher_exact`` for 2 x 2 tables (same relative tolerance rule);
* invariants: transpose, row and column order.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from postcart.errors import StatsError
from postcart.stats import chisq_test, fisher_exact

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "r_contingency.json"
CASES: list[dict[str, Any]] = json.loads(FIXTURE.read_text())["contingency"]
EXACT_RTOL = 1e-10  # exact computations (chi-square, hypergeometric and network p-values)
ROOT_RTOL = 1e-8  # odds ratio and CI: roots of monotone equations, vs R with uniroot(tol = 1e-13)
R_UNIROOT_RTOL = 1e-2  # vs fisher.test's own estimate/CI (uniroot default tol ~1.2e-4 on [0, 1])
TWO_BY_TWO = [c for c in CASES if len(c["table"]) == 2 and len(c["table"][0]) == 2]


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [c["name"] for c in cases]


def _approx(ours: float | None, ref: float | None, rtol: float) -> None:
    if ref is None:  # R's Inf
        assert ours is not None and math.isinf(ours)
    else:
        assert ours == pytest.approx(ref, rel=rtol, abs=0)


@pytest.mark.reference("R stats::chisq.test", fixture="r_contingency.contingency[].chisq*")
@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
@pytest.mark.parametrize("correct", [False, True])
def test_chisq_matches_r_chisq_test(case: dict[str, Any], correct: bool) -> None:
    ref = case["chisq_correct" if correct else "chisq"]
    res = chisq_test(case["table"], correct=correct)
    assert res.chisq == pytest.approx(ref["statistic"], rel=EXACT_RTOL, abs=1e-14)
    assert res.p == pytest.approx(ref["p"], rel=EXACT_RTOL)
    assert res.df == ref["df"]
    np.testing.assert_allclose(res.expected, ref["expected"], rtol=EXACT_RTOL)
    assert res.correct == ("Yates" in ref["method"])
    assert res.low_expected == bool(np.min(ref["expected"]) < 5)


@pytest.mark.reference("R stats::fisher.test", fixture="r_contingency.contingency[].fisher.p")
@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_fisher_p_matches_r_fisher_test(case: dict[str, Any]) -> None:
    res = fisher_exact(case["table"])
    assert res.p == pytest.approx(case["fisher"]["p"], rel=EXACT_RTOL)
    assert not res.simulated


@pytest.mark.reference("R stats::fisher.test 2x2 estimate and conf.int", fixture="r_contingency")
@pytest.mark.parametrize("case", TWO_BY_TWO, ids=_ids(TWO_BY_TWO))
def test_fisher_odds_ratio_and_ci_match_r(case: dict[str, Any]) -> None:
    res = fisher_exact(case["table"])
    tight = case["fisher"]["tight"]
    _approx(res.odds_ratio, tight["odds_ratio"], ROOT_RTOL)
    _approx(res.ci_low, tight["ci_low"], ROOT_RTOL)
    _approx(res.ci_high, tight["ci_high"], ROOT_RTOL)
    _approx(res.odds_ratio, case["fisher"]["odds_ratio"], R_UNIROOT_RTOL)
    _approx(res.ci_low, case["fisher"]["ci_low"], R_UNIROOT_RTOL)
    _approx(res.ci_high, case["fisher"]["ci_high"], R_UNIROOT_RTOL)


@pytest.mark.reference("R stats::fisher.test one-sided", fixture="r_contingency")
@pytest.mark.parametrize("case", TWO_BY_TWO, ids=_ids(TWO_BY_TWO))
def test_fisher_one_sided_p_matches_r(case: dict[str, Any]) -> None:
    less = fisher_exact(case["table"], alternative="less")
    greater = fisher_exact(case["table"], alternative="greater")
    assert less.p == pytest.approx(case["fisher_less"]["p"], rel=EXACT_RTOL)
    assert greater.p == pytest.approx(case["fisher_greater"]["p"], rel=EXACT_RTOL)
    assert less.ci_low == 0.0 and greater.ci_high == math.inf
    _approx(less.ci_high, case["fisher_less"]["ci_high"], R_UNIROOT_RTOL)
    _approx(greater.ci_low, case["fisher_greater"]["ci_low"], R_UNIROOT_RTOL)


@pytest.mark.reference("hand-worked: Fisher's lady tasting tea")
def test_fisher_and_chisq_on_tea_tasting_by_hand() -> None:
    # margins 4/4/4/4: P(a) = C(4,a) C(4,4-a) / C(8,4) = (1, 16, 36, 16, 1)/70
    res = fisher_exact([[3, 1], [1, 3]])
    assert res.p == pytest.approx(34 / 70, rel=1e-14)
    assert fisher_exact([[3, 1], [1, 3]], alternative="greater").p == pytest.approx(17 / 70, rel=1e-14)
    # E = 2 in every cell: X2 = 4 (1^2/2) = 2; Yates: 4 (0.5^2/2) = 0.5
    assert chisq_test([[3, 1], [1, 3]]).chisq == pytest.approx(2.0, rel=1e-15)
    assert chisq_test([[3, 1], [1, 3]], correct=True).chisq == pytest.approx(0.5, rel=1e-15)
    # the conditional MLE solves E[a; psi] = a, i.e. sum a C(4,a)^2 psi^a / sum C(4,a)^2 psi^a = 3
    psi = res.odds_ratio
    assert psi is not None
    w = [math.comb(4, a) ** 2 * psi**a for a in range(5)]
    assert sum(a * wa for a, wa in enumerate(w)) / sum(w) == pytest.approx(3.0, rel=1e-12)


def _brute_force_fisher(table: np.ndarray) -> float:
    """Enumerate every table with the margins of ``table`` (small tables only)."""
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    n = int(table.sum())

    lf = [math.lgamma(v + 1) for v in range(n + 1)]

    def log_p(t: np.ndarray) -> float:
        return sum(lf[r] for r in rows) + sum(lf[c] for c in cols) - lf[n] - sum(lf[v] for v in t.ravel())

    obs = log_p(table)
    r, c = table.shape
    total = 0.0
    free = [range(min(rows[i], cols[j]) + 1) for i in range(r - 1) for j in range(c - 1)]
    for cells in itertools.product(*free):
        t = np.zeros((r, c), dtype=int)
        t[: r - 1, : c - 1] = np.array(cells).reshape(r - 1, c - 1)
        t[: r - 1, c - 1] = rows[: r - 1] - t[: r - 1, : c - 1].sum(axis=1)
        t[r - 1, :] = cols - t[: r - 1, :].sum(axis=0)
        if (t < 0).any():
            continue
        lp = log_p(t)
        if lp <= obs + 1e-7:
            total += math.exp(lp)
    return total


@pytest.mark.reference("hand-worked: brute-force enumeration of r x c tables")
@pytest.mark.parametrize(
    "table",
    [
        [[1, 2, 3], [4, 0, 2]],
        [[2, 0, 1], [0, 3, 1], [1, 1, 2]],
        [[3, 1, 0, 2], [0, 2, 4, 1]],
        [[2, 2], [1, 3], [4, 0]],
    ],
)
def test_fisher_r_by_c_matches_brute_force_enumeration(table: list[list[int]]) -> None:
    x = np.array(table)
    assert fisher_exact(x).p == pytest.approx(_brute_force_fisher(x), rel=1e-12)


@pytest.mark.reference("scipy.stats.fisher_exact (2 x 2)")
def test_fisher_two_by_two_matches_scipy_on_random_tables() -> None:
    rng = np.random.default_rng(11)
    for _ in range(60):
        t = rng.integers(0, 25, size=(2, 2))
        if (t.sum(axis=0) == 0).any() or (t.sum(axis=1) == 0).any():
            continue
        ours = fisher_exact(t).p
        assert ours == pytest.approx(sps.fisher_exact(t).pvalue, rel=1e-10), t


def test_fisher_is_symmetric_under_transpose_and_row_or_column_order() -> None:
    t = np.array([[10, 12, 8, 15, 20, 9], [14, 9, 16, 11, 12, 14]])
    p = fisher_exact(t).p
    assert fisher_exact(t.T).p == pytest.approx(p, rel=1e-12)
    assert fisher_exact(t[::-1]).p == pytest.approx(p, rel=1e-12)
    assert fisher_exact(t[:, [3, 0, 5, 1, 4, 2]]).p == pytest.approx(p, rel=1e-12)
    small = np.array([[12, 5], [7, 15]])
    a, b = fisher_exact(small), fisher_exact(small.T)
    assert b.p == pytest.approx(a.p, rel=1e-14)
    assert b.odds_ratio == pytest.approx(a.odds_ratio, rel=1e-10)


def test_chisq_is_invariant_to_row_and_column_order_and_transpose() -> None:
    t = np.array([[8, 2, 5, 3], [4, 9, 2, 6], [1, 3, 7, 4]])
    ref = chisq_test(t)
    for other in (t[[2, 0, 1]], t[:, [3, 1, 0, 2]], t.T):
        res = chisq_test(other)
        assert res.chisq == pytest.approx(ref.chisq, rel=1e-13)
        assert res.p == pytest.approx(ref.p, rel=1e-12)


def test_yates_correction_applies_to_two_by_two_only() -> None:
    t = [[8, 2, 5], [4, 9, 2]]
    assert chisq_test(t, correct=True).chisq == chisq_test(t).chisq
    assert not chisq_test(t, correct=True).correct
    assert chisq_test([[8, 2], [4, 9]], correct=True).correct


def test_small_expected_counts_are_flagged_not_warned() -> None:
    res = chisq_test([[3, 1], [1, 3]])
    assert res.low_expected and res.min_expected == 2.0
    assert not chisq_test([[45, 105], [30, 120]]).low_expected


@pytest.mark.reference("R's Monte Carlo p-value rule, against the exact p-value")
def test_monte_carlo_p_value_only_on_request_and_close_to_exact() -> None:
    t = np.array([[3, 0, 1, 5, 2, 0], [20, 30, 25, 18, 22, 27]])
    exact = fisher_exact(t)
    sim = fisher_exact(t, simulate=True, n_simulations=4000, rng=np.random.default_rng(5))
    assert sim.simulated and sim.n_simulations == 4000 and sim.method == "r x c Monte Carlo"
    se = math.sqrt(exact.p * (1 - exact.p) / 4000)
    assert abs(sim.p - exact.p) < 5 * se + 1 / 4001
    with pytest.raises(StatsError, match="needs an explicit rng"):
        fisher_exact(t, simulate=True)


def test_report_size_table_is_exact_and_fast() -> None:
    import time

    t = np.array([[10, 12, 8, 15, 20, 9], [14, 9, 16, 11, 12, 14]])
    start = time.perf_counter()
    res = fisher_exact(t)
    assert time.perf_counter() - start < 2.0
    assert res.method == "r x c network algorithm"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ([1, 2, 3], r"table must be two-dimensional \(rows x columns\), but has shape \(3,\)"),
        ([[1, 2, 3]], r"at least 2 rows and 2 columns, but has shape \(1, 3\)"),
        ([[1, -2], [3, 4]], r"cell \[0, 1\] is -2.0"),
        ([[1, 2.5], [3, 4]], r"table counts must be integers, but cell \[0, 1\] is 2.5"),
        ([[0, 0], [0, 0]], r"table is empty"),
    ],
)
def test_fisher_rejects_bad_tables_naming_the_cell(table: Any, message: str) -> None:
    with pytest.raises(StatsError, match=message):
        fisher_exact(table)


def test_chisq_rejects_a_zero_margin_and_one_sided_r_by_c() -> None:
    with pytest.raises(StatsError, match="table row 1 has only zero counts"):
        chisq_test([[1, 2], [0, 0]])
    with pytest.raises(StatsError, match="exists only for 2 x 2 tables"):
        fisher_exact([[1, 2, 3], [3, 2, 1]], alternative="less")


def test_results_have_frames_and_one_line_reprs() -> None:
    c = chisq_test([[3, 1], [1, 3]])
    f = fisher_exact([[3, 1], [1, 3]])
    g = fisher_exact([[1, 2, 3], [4, 0, 2]])
    assert c.to_frame().shape == (1, 7)
    assert f.to_frame().loc[0, "odds_ratio"] == f.odds_ratio
    assert g.odds_ratio is None
    for r in (c, f, g):
        assert "\n" not in repr(r)


def test_too_large_r_by_c_table_raises_and_points_to_monte_carlo(monkeypatch: pytest.MonkeyPatch) -> None:
    from postcart.stats import _fisher_network

    monkeypatch.setattr(_fisher_network, "_MAX_PATHS", 1000)
    monkeypatch.setattr(_fisher_network, "_ENUMERATE_LIMIT", 10)
    t = [[8, 2, 5, 3], [4, 9, 2, 6], [1, 3, 7, 4]]
    with pytest.raises(
        StatsError, match=r"3 x 4 table \(n=54\) needs more than 1000 partial tables; use .*simulate=True"
    ):
        fisher_exact(t)


@pytest.mark.reference("hand-worked: brute-force enumeration (hypothesis-generated tables)")
@settings(max_examples=20, deadline=None)
@given(
    st.integers(2, 3).flatmap(
        lambda r: st.integers(2, 4).flatmap(
            lambda c: st.lists(st.integers(0, 4), min_size=r * c, max_size=r * c).map(
                lambda v: np.array(v).reshape(r, c)
            )
        )
    )
)
def test_fisher_network_matches_brute_force_on_any_small_table(table: np.ndarray) -> None:
    if (table.sum(axis=1) == 0).any() or (table.sum(axis=0) == 0).any():
        return
    assert fisher_exact(table).p == pytest.approx(min(1.0, _brute_force_fisher(table)), rel=1e-10)


@pytest.mark.reference("hand-worked: direct summation over every 2 x 3 table with the margins")
def test_fisher_two_by_c_with_large_n_matches_direct_summation() -> None:
    from scipy.special import gammaln

    x = np.array([[170, 160, 175], [165, 180, 150]])
    cols, r1, n = x.sum(axis=0), int(x[0].sum()), int(x.sum())
    a = np.arange(cols[0] + 1)[:, None]
    b = np.arange(cols[1] + 1)[None, :]
    c = r1 - a - b
    ok = (c >= 0) & (c <= cols[2])
    cc = np.where(ok, c, 0)
    lp = (
        gammaln(r1 + 1) + gammaln(n - r1 + 1) - gammaln(n + 1) + gammaln(cols + 1).sum()
        - gammaln(a + 1) - gammaln(cols[0] - a + 1) - gammaln(b + 1) - gammaln(cols[1] - b + 1)
        - gammaln(cc + 1) - gammaln(cols[2] - cc + 1)
    )  # fmt: skip
    obs = lp[x[0, 0], x[0, 1]]
    expected = float(np.sort(np.exp(lp[ok & (lp <= obs + 3.45254e-7)])).sum())
    assert fisher_exact(x).p == pytest.approx(expected, rel=1e-11)
