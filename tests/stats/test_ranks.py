"""Wilcoxon rank-sum and Kruskal-Wallis against R, by hand, scipy and invariants.

References: ``tests/fixtures/r_contingency.json`` ``wilcoxon`` and ``kruskal`` (R 4.2.2,
``tests/reference/r/contingency.R``): ``wilcox.test(x, y, alternative, exact, correct)`` and
``kruskal.test``; hand-worked exact distributions; ``scipy.stats.kruskal``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats as sps

from postcart.errors import StatsError
from postcart.stats import kruskal_wallis, wilcoxon_test

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "r_contingency.json"
DATA = json.loads(FIXTURE.read_text())
RUNS = [(w, run) for w in DATA["wilcoxon"] for run in w["runs"]]
RTOL = 1e-10  # exact counts and closed-form normal approximation; observed ~1e-15


@pytest.mark.reference("R stats::wilcox.test", fixture="r_contingency.wilcoxon")
@pytest.mark.parametrize(
    ("case", "run"),
    RUNS,
    ids=[f"{w['name']}-{r['alternative']}-{r['exact']}-{r['correct']}" for w, r in RUNS],
)
def test_wilcoxon_matches_r_wilcox_test(case: dict[str, Any], run: dict[str, Any]) -> None:
    alt = "two-sided" if run["alternative"] == "two.sided" else run["alternative"]
    exact = None if run["exact"] == "default" else run["exact"]
    res = wilcoxon_test(case["x"], case["y"], alternative=alt, exact=exact, correct=run["correct"])
    assert res.statistic == run["statistic"]
    assert res.p == pytest.approx(run["p"], rel=RTOL)
    assert res.exact == ("exact" in run["method"])
    assert res.method == run["method"]


@pytest.mark.reference("R stats::kruskal.test", fixture="r_contingency.kruskal")
@pytest.mark.parametrize("case", DATA["kruskal"], ids=[c["name"] for c in DATA["kruskal"]])
def test_kruskal_wallis_matches_r_kruskal_test(case: dict[str, Any]) -> None:
    res = kruskal_wallis(*case["samples"])
    assert res.chisq == pytest.approx(case["statistic"], rel=RTOL)
    assert res.p == pytest.approx(case["p"], rel=RTOL)
    assert res.df == case["df"]
    ref = sps.kruskal(*case["samples"])
    assert res.chisq == pytest.approx(ref.statistic, rel=1e-12)


@pytest.mark.reference("hand-worked: exact rank-sum distribution for n_x = n_y = 2")
def test_exact_wilcoxon_by_hand() -> None:
    # the 6 equally likely rank sets of x give W = 0, 1, 2, 2, 3, 4
    res = wilcoxon_test([1.0, 2.0], [3.0, 4.0])
    assert res.exact and res.statistic == 0.0
    assert res.p == pytest.approx(2 / 6, rel=1e-15)
    assert wilcoxon_test([1.0, 3.0], [2.0, 4.0], alternative="less").p == pytest.approx(2 / 6, rel=1e-15)
    assert wilcoxon_test([1.0, 4.0], [2.0, 3.0]).p == 1.0


@pytest.mark.reference("hand-worked: Kruskal-Wallis without ties")
def test_kruskal_wallis_by_hand() -> None:
    # ranks: a = (1, 2), b = (3, 4), c = (5, 6); H = 12/(6*7) (9/2 + 49/2 + 121/2) - 21 = 32/7
    res = kruskal_wallis([1.0, 2.0], [3.0, 4.0], [5.0, 6.0])
    assert res.chisq == pytest.approx(32 / 7, rel=1e-14)
    assert not res.ties
    np.testing.assert_allclose(res.rank_means, [1.5, 3.5, 5.5])


def test_swapping_samples_mirrors_w_and_keeps_the_two_sided_p() -> None:
    x = DATA["wilcoxon"][1]["x"]
    y = DATA["wilcoxon"][1]["y"]
    a, b = wilcoxon_test(x, y), wilcoxon_test(y, x)
    assert a.statistic + b.statistic == len(x) * len(y)
    assert b.p == pytest.approx(a.p, rel=1e-14)


def test_kruskal_wallis_of_two_samples_does_not_depend_on_order() -> None:
    x, y = DATA["wilcoxon"][1]["x"], DATA["wilcoxon"][1]["y"]
    assert kruskal_wallis(y, x).chisq == pytest.approx(kruskal_wallis(x, y).chisq, rel=1e-14)


def test_rank_tests_reject_bad_input() -> None:
    with pytest.raises(StatsError, match="exact=True is impossible with tied values"):
        wilcoxon_test([1.0, 2.0, 2.0], [3.0, 4.0], exact=True)
    with pytest.raises(StatsError, match=r"y must be finite, but value 1 is nan"):
        wilcoxon_test([1.0], [2.0, float("nan")])
    with pytest.raises(StatsError, match="x is empty"):
        wilcoxon_test([], [1.0])
    with pytest.raises(StatsError, match="at least 2 samples, but got 1"):
        kruskal_wallis([1.0, 2.0])
    with pytest.raises(StatsError, match="all values are tied"):
        kruskal_wallis([1.0, 1.0], [1.0])


def test_rank_results_have_frames_and_one_line_reprs() -> None:
    w = wilcoxon_test([1.0, 2.0], [3.0, 4.0])
    k = kruskal_wallis([1.0, 2.0], [3.0, 4.0])
    assert w.to_frame().shape == (1, 7) and k.to_frame().shape == (1, 5)
    assert "\n" not in repr(w) + repr(k)


@pytest.mark.reference("scipy.stats.mannwhitneyu (exact and asymptotic with continuity correction)")
def test_wilcoxon_matches_scipy_on_random_samples() -> None:
    rng = np.random.default_rng(8)
    for _ in range(100):
        x = rng.normal(size=int(rng.integers(1, 15)))
        y = rng.normal(0.5, 1, size=int(rng.integers(1, 15)))
        ref = sps.mannwhitneyu(x, y, method="exact").pvalue
        assert wilcoxon_test(x, y).p == pytest.approx(ref, rel=1e-12)
        xi = rng.integers(0, 8, size=int(rng.integers(2, 30))).astype(float)
        yi = rng.integers(1, 9, size=int(rng.integers(2, 30))).astype(float)
        ref = sps.mannwhitneyu(xi, yi, method="asymptotic", use_continuity=True).pvalue
        assert wilcoxon_test(xi, yi, exact=False).p == pytest.approx(ref, rel=1e-10)
