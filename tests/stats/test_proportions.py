"""Confidence intervals for proportions against R, closed forms and scipy.

References: ``tests/fixtures/r_contingency.json`` ``proportions`` (R 4.2.2,
``tests/reference/r/contingency.R``): ``binom.test(k, n)$conf.int`` (Clopper-Pearson) and
``prop.test(k, n, correct = FALSE)$conf.int`` (Wilson); the closed forms at k = 0 and k = n;
``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scipy import stats as sps

from postcart.errors import StatsError
from postcart.stats import proportion_ci

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "r_contingency.json"
CASES: list[dict[str, Any]] = json.loads(FIXTURE.read_text())["proportions"]
RTOL = 1e-10  # beta quantiles and a closed form; observed agreement with R ~1e-15


@pytest.mark.reference(
    "R stats::binom.test and prop.test(correct = FALSE)", fixture="r_contingency.proportions"
)
@pytest.mark.parametrize("case", CASES, ids=[f"{c['k']}of{c['n']}@{c['conf_level']}" for c in CASES])
@pytest.mark.parametrize("method", ["exact", "wilson"])
def test_proportion_ci_matches_r(case: dict[str, Any], method: str) -> None:
    res = proportion_ci(case["k"], case["n"], method=method, conf_level=case["conf_level"])  # type: ignore[arg-type]
    ref = case[method]
    assert res.ci_low == pytest.approx(ref["ci_low"], rel=RTOL, abs=1e-300)
    assert res.ci_high == pytest.approx(ref["ci_high"], rel=RTOL)
    assert res.estimate == case["k"] / case["n"]
    assert res.ci_low <= res.estimate <= res.ci_high


@pytest.mark.reference("hand-worked: Clopper-Pearson closed forms at k = 0 and k = n")
@pytest.mark.parametrize("n", [1, 7, 40])
def test_exact_ci_has_closed_form_at_the_edges(n: int) -> None:
    zero = proportion_ci(0, n)
    assert zero.ci_low == 0.0
    assert zero.ci_high == pytest.approx(1 - 0.025 ** (1 / n), rel=1e-12)
    full = proportion_ci(n, n)
    assert full.ci_high == 1.0
    assert full.ci_low == pytest.approx(0.025 ** (1 / n), rel=1e-12)


@pytest.mark.reference("scipy.stats.binomtest proportion_ci (wilson)")
@pytest.mark.parametrize(("k", "n"), [(1, 10), (5, 10), (45, 150), (3, 1000)])
def test_wilson_matches_scipy_and_is_symmetric(k: int, n: int) -> None:
    res = proportion_ci(k, n, method="wilson")
    ref = sps.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert res.ci_low == pytest.approx(ref.low, rel=1e-12)
    assert res.ci_high == pytest.approx(ref.high, rel=1e-12)
    mirror = proportion_ci(n - k, n, method="wilson")
    assert mirror.ci_low == pytest.approx(1 - res.ci_high, rel=1e-12)


@pytest.mark.parametrize(
    ("k", "n", "kwargs", "message"),
    [
        (0, 0, {}, r"n must be >= 1: a proportion of 0 trials is undefined \(k=0, n=0\)"),
        (5, 3, {}, r"k must be <= n, but k=5 and n=3"),
        (-1, 3, {}, r"k must be a non-negative integer, but was -1"),
        (1.5, 3, {}, r"k must be a non-negative integer, but was 1.5"),
        (True, 3, {}, r"k must be a non-negative integer, but was True"),
        (1, 3, {"method": "wald"}, r"method must be 'exact' or 'wilson', but was 'wald'"),
        (1, 3, {"conf_level": 95}, r"conf_level must be a float in the range \(0, 1\), but was 95"),
    ],
)
def test_proportion_ci_rejects_bad_input(k: Any, n: Any, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(StatsError, match=message):
        proportion_ci(k, n, **kwargs)


def test_proportion_ci_frame_and_repr() -> None:
    res = proportion_ci(7, 23)
    assert list(res.to_frame().columns) == ["k", "n", "estimate", "ci_low", "ci_high", "method", "conf_level"]
    assert repr(res).startswith("ProportionCI(7/23")
    assert proportion_ci(7.0, 23).k == 7
