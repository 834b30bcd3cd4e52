"""Kaplan-Meier: hand-worked examples (exact fractions), the SAS and R median rules,
invariants, and input errors.

Independent references used here:

* exact fractions worked out by hand in the comments (Therneau-Grambsch style);
* the SAS LIFETEST quantile rule and Brookmeyer-Crowley CI (SAS/STAT 9.3 User's Guide, The
  LIFETEST Procedure, Computational Formulas), re-implemented in this file in plain Python
  (``_sas_by_hand``), and statsmodels' ``SurvfuncRight.quantile_ci``, a third-party
  implementation of the same SAS CI definition;
* R's toy_edge reference (``quantile.survfit``) for the R rule.
"""

from __future__ import annotations

import functools
import json
import math
import warnings
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.survfunc import SurvfuncRight

from postcart.errors import StatsError
from postcart.stats import kaplan_meier, kaplan_meier_by_group, median_followup

REF = Path(__file__).resolve().parents[1] / "fixtures" / "survival_reference"
DATASETS = sorted(p.stem for p in (REF / "ref").glob("*.json"))
Z = 1.959963984540054


@functools.cache
def _load(name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    data = pd.read_csv(REF / "data" / f"{name}.csv", float_precision="round_trip")
    return data, json.loads((REF / "ref" / f"{name}.json").read_text())


# ---------------------------------------------------------------------------------------------
# hand-worked product-limit and Greenwood
# ---------------------------------------------------------------------------------------------
HAND_T = [1, 2, 2, 3, 4, 5]
HAND_E = [1, 1, 0, 1, 0, 1]


@pytest.mark.reference("hand-worked", fixture="6 subjects")
def test_km_and_greenwood_hand_worked_exact_fractions() -> None:
    # t=1: n=6 d=1 -> S=5/6,           sum d/(n(n-d)) = 1/30
    # t=2: n=5 d=1 c=1 -> S=2/3,       + 1/20
    # t=3: n=3 d=1 -> S=4/9,           + 1/6   (sum = 1/4, Var S = (4/9)^2/4 = 4/81, SE = 2/9)
    # t=4: n=2 c=1 -> S=4/9
    # t=5: n=1 d=1 -> S=0, SE undefined
    fit = kaplan_meier(HAND_T, HAND_E, profile="r")
    np.testing.assert_array_equal(fit.time, [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(fit.n_risk, [6, 5, 3, 2, 1])
    np.testing.assert_array_equal(fit.n_event, [1, 1, 1, 0, 1])
    np.testing.assert_array_equal(fit.n_censor, [0, 1, 0, 1, 0])
    surv = [Fraction(5, 6), Fraction(2, 3), Fraction(4, 9), Fraction(4, 9), Fraction(0)]
    np.testing.assert_allclose(fit.survival, [float(s) for s in surv], rtol=1e-15)
    cum = [Fraction(1, 30), Fraction(1, 30) + Fraction(1, 20), Fraction(1, 4), Fraction(1, 4)]
    se = [float(s) * math.sqrt(float(c)) for s, c in zip(surv, cum, strict=False)]
    np.testing.assert_allclose(fit.std_err[:4], se, rtol=1e-14)
    assert fit.std_err[2] == pytest.approx(2 / 9, rel=1e-14)
    assert np.isnan(fit.std_err[4]) and np.isnan(fit.std_err_cumhaz[4])
    assert np.isnan(fit.ci_low[4]) and np.isnan(fit.ci_high[4])
    assert fit.median.estimate == 3.0
    assert fit.n == 6 and fit.n_events == 4


@pytest.mark.reference("hand-worked", fixture="3 subjects")
def test_rmst_hand_worked() -> None:
    # S = 2/3, 1/3, 0 at 1, 2, 3: RMST(3) = 1 + 2/3 + 1/3 = 2;
    # Var = A1^2 * 1/(3*2) + A2^2 * 1/(2*1) with A1 = 1, A2 = 1/3 -> 1/6 + 1/18 = 2/9
    res = kaplan_meier([1, 2, 3], [1, 1, 1]).rmst(3.0)
    assert res.estimate == pytest.approx(2.0, rel=1e-15)
    assert res.std_err == pytest.approx(math.sqrt(2 / 9), rel=1e-14)
    assert res.ci_low == pytest.approx(2.0 - Z * math.sqrt(2 / 9), rel=1e-12)
    assert kaplan_meier([1, 2, 3], [1, 1, 1]).rmst(0.5).estimate == 0.5


@pytest.mark.reference("survival::survfit (live R, copied)", fixture="Surv(entry, time, status)")
def test_left_truncation_hand_worked() -> None:
    # risk set at t = #{entry < t <= time}; R 4.2.2 / survival 3.5-3 gives n.risk 4 4 3 3 2 1
    # and surv 1 .75 .5 .5 .25 0 at times 3 4 5 6 8 9.
    entry = [0, 0, 2, 3, 1, 5]
    time = [4, 6, 5, 8, 3, 9]
    status = [1, 0, 1, 1, 0, 1]
    fit = kaplan_meier(time, status, entry=entry, profile="r")
    np.testing.assert_array_equal(fit.time, [3, 4, 5, 6, 8, 9])
    np.testing.assert_array_equal(fit.n_risk, [4, 4, 3, 3, 2, 1])
    np.testing.assert_allclose(fit.survival, [1, 0.75, 0.5, 0.5, 0.25, 0], rtol=1e-15)
    assert fit.median.estimate == 6.5  # S = 1/2 on [5, 8): midpoint (R gives 6.5)
    by = kaplan_meier_by_group(time, status, ["a"] * 6, entry=entry, profile="r")
    np.testing.assert_array_equal(by["a"].n_risk, fit.n_risk)


# ---------------------------------------------------------------------------------------------
# median rules (toy_edge groups A, B, C)
# ---------------------------------------------------------------------------------------------
def _toy(rule: str, conf_type: str) -> Any:
    d, _ = _load("toy_edge")
    return kaplan_meier_by_group(d["time"], d["status"], d["group"], conf_type=conf_type, median_rule=rule)


@pytest.mark.reference("survival::quantile.survfit", fixture="toy_edge")
def test_r_median_rule_midpoint_on_flat_segment_and_until_last_time() -> None:
    by = _toy("r", "log-log")
    assert by["A"].median.estimate == 4.5  # S = 0.5 on [4, 5)
    assert by["B"].median.estimate == 9.0  # S = 0.5 from 6 to the last censoring at 12
    assert by["C"].median.estimate == 5.0
    assert by["C"].median.ci_high is None  # log-log band undefined at S = 0


def _sas_by_hand(time: list[float], status: list[int], p: float, z: float) -> tuple[Any, Any, Any]:
    """SAS LIFETEST quantile and log-log Brookmeyer-Crowley CI, written from the SAS formulas."""
    ts = sorted(set(t for t, s in zip(time, status, strict=True) if s == 1))
    surv, cum, rows = 1.0, 0.0, []
    for t in ts:
        n = sum(1 for u in time if u >= t)
        d = sum(1 for u, s in zip(time, status, strict=True) if u == t and s == 1)
        surv *= 1 - d / n
        cum = cum + d / (n * (n - d)) if n > d else math.inf
        rows.append((t, surv, surv * math.sqrt(cum)))
    q = 1 - p
    est = None
    for j, (t, s, _) in enumerate(rows):
        if abs(s - q) < 1e-8:
            est = (t + rows[j + 1][0]) / 2 if j + 1 < len(rows) else None
            break
        if s < q:
            est = t
            break
    inside = [
        j
        for j, (t, s, se) in enumerate(rows)
        if 0 < s < 1 and abs(math.log(-math.log(s)) - math.log(-math.log(q))) <= z * se / abs(s * math.log(s))
    ]
    if not inside:
        return est, None, None
    hi = rows[inside[-1] + 1][0] if inside[-1] + 1 < len(rows) else None
    return est, rows[inside[0]][0], hi


@pytest.mark.reference("SAS/STAT 9.3 LIFETEST formulas (hand)", fixture="toy_edge")
@pytest.mark.parametrize("group", ["A", "B", "C"])
@pytest.mark.parametrize("p", [0.25, 0.5, 0.75])
def test_sas_median_rule_matches_the_lifetest_formulas(group: str, p: float) -> None:
    d, _ = _load("toy_edge")
    sub = d[d["group"] == group]
    want = _sas_by_hand(sub["time"].tolist(), sub["status"].tolist(), p, Z)
    got = kaplan_meier(sub["time"], sub["status"], profile="sas").quantile(p)
    assert (got.estimate, got.ci_low, got.ci_high) == want


@pytest.mark.reference("SAS/STAT 9.3 LIFETEST formulas", fixture="toy_edge")
def test_sas_median_rule_on_toy_edge_groups() -> None:
    by = _toy("sas", "log-log")
    a, b, c = by["A"].median, by["B"].median, by["C"].median
    assert (a.estimate, a.ci_low, a.ci_high) == (4.5, 1.0, 7.0)  # midpoint of [4, 5)
    # S = 0.5 after the last event (6) until the last censoring: no t_{j+1}, not estimated
    assert (b.estimate, b.ci_low, b.ci_high) == (None, 2.0, None)
    # the upper limit is the next event time (6, where S drops to 0) after the last time in the set
    assert (c.estimate, c.ci_low, c.ci_high) == (5.0, 1.0, 6.0)


SM_METHOD = {"log-log": "cloglog", "log": "log", "plain": "linear", "logit": "logit", "arcsin": "asinsqrt"}


@pytest.mark.reference("statsmodels SurvfuncRight.quantile_ci (SAS method)", fixture="all")
@pytest.mark.parametrize("conf_type", sorted(SM_METHOD))
@pytest.mark.parametrize("name", DATASETS)
def test_sas_quantile_ci_matches_statsmodels_sas_method(name: str, conf_type: str) -> None:
    data, ref = _load(name)
    g = ref["group_var"]
    labels = data[g].astype(str)
    by = kaplan_meier_by_group(data["time"], data["status"], labels, conf_type=conf_type, profile="sas")
    for level in by.groups:
        sub = data[labels == level]
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            sf = SurvfuncRight(sub["time"].to_numpy(), sub["status"].to_numpy())
            limits = [sf.quantile_ci(p, method=SM_METHOD[conf_type]) for p in (0.25, 0.5, 0.75)]
        for p, (lb, ub) in zip((0.25, 0.5, 0.75), limits, strict=True):
            q = by[level].quantile(p)
            assert (np.nan if q.ci_low is None else q.ci_low) == pytest.approx(lb, nan_ok=True)
            assert (np.inf if q.ci_high is None else q.ci_high) == pytest.approx(
                np.inf if np.isnan(ub) else ub
            )


# ---------------------------------------------------------------------------------------------
# conventions, reading the curve, invariants
# ---------------------------------------------------------------------------------------------
def test_profiles_record_their_conventions() -> None:
    sas = kaplan_meier(HAND_T, HAND_E)
    r = kaplan_meier(HAND_T, HAND_E, profile="r")
    assert (sas.conventions.conf_type, sas.conventions.median_rule) == ("log-log", "sas")
    assert (r.conventions.conf_type, r.conventions.median_rule) == ("log", "r")
    assert kaplan_meier(HAND_T, HAND_E, conf_type="plain").conventions.conf_type == "plain"
    assert repr(sas).startswith("KaplanMeierResult(n=6, events=4, median=3 [")
    assert "\n" not in repr(sas)
    frame = sas.to_frame()
    assert list(frame.columns) == [
        "time", "n_risk", "n_event", "n_censor", "survival", "std_err", "std_err_cumhaz",
        "ci_low", "ci_high",
    ]  # fmt: skip


def test_at_reads_the_right_continuous_step_function() -> None:
    fit = kaplan_meier(HAND_T, HAND_E, profile="r")
    at = fit.at([0.5, 1, 2.5, 5, 6])
    np.testing.assert_allclose(at.survival[:4], [1, 5 / 6, 2 / 3, 0], rtol=1e-15)
    np.testing.assert_array_equal(at.n_risk[:4], [6, 6, 3, 1])
    assert (at.ci_low[0], at.ci_high[0], at.std_err[0]) == (1.0, 1.0, 0.0)
    np.testing.assert_array_equal(at.beyond_last_time, [False, False, False, False, True])
    assert np.isnan(at.survival[4]) and np.isnan(at.n_risk[4])
    np.testing.assert_allclose(at.event_rate[:3], [0, 1 / 6, 1 / 3], atol=1e-15)
    assert len(at.to_frame()) == 5


def test_km_does_not_depend_on_row_order() -> None:
    data, _ = _load("lung")
    base = kaplan_meier(data["time"], data["status"], profile="r")
    perm = np.random.default_rng(3).permutation(len(data))
    other = kaplan_meier(data["time"].to_numpy()[perm], data["status"].to_numpy()[perm], profile="r")
    np.testing.assert_array_equal(other.survival, base.survival)
    np.testing.assert_array_equal(other.std_err, base.std_err)
    assert other.median == base.median


@pytest.mark.parametrize("name", DATASETS)
def test_survival_is_non_increasing_and_inside_its_ci(name: str) -> None:
    data, _ = _load(name)
    for conf_type in ("log-log", "log", "plain", "arcsin", "logit"):
        fit = kaplan_meier(data["time"], data["status"], conf_type=conf_type)
        assert np.all(np.diff(fit.survival) <= 0)
        assert np.all(np.diff(fit.n_risk) <= 0)
        ok = ~np.isnan(fit.ci_low)
        assert np.all(fit.ci_low[ok] <= fit.survival[ok] + 1e-15)
        assert np.all(fit.survival[ok] <= fit.ci_high[ok] + 1e-15)


def test_float_and_integer_times_give_the_same_curve() -> None:
    data, _ = _load("lung")
    a = kaplan_meier(data["time"], data["status"])
    b = kaplan_meier(data["time"] / 7.0, data["status"])  # non-integral: the np.unique path
    np.testing.assert_allclose(a.survival, b.survival, rtol=1e-15)
    np.testing.assert_allclose(a.time / 7.0, b.time, rtol=1e-15)


def test_edge_cases_all_censored_event_at_zero_single_observation() -> None:
    none = kaplan_meier([3, 5, 5], [0, 0, 0])
    np.testing.assert_array_equal(none.survival, [1, 1])
    assert none.median.estimate is None and none.median.ci_low is None
    zero = kaplan_meier([0, 0, 2, 4], [1, 0, 1, 0], profile="r")
    np.testing.assert_array_equal(zero.time, [0, 2, 4])
    np.testing.assert_allclose(zero.survival, [0.75, 0.375, 0.375], rtol=1e-15)
    one = kaplan_meier([7], [1], profile="r")
    np.testing.assert_array_equal(one.survival, [0])
    assert one.median.estimate == 7.0
    fu = median_followup([7], [1])
    assert fu.median.estimate is None


# ---------------------------------------------------------------------------------------------
# errors name the place and the rule
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (([1, -2], [1, 0]), {}, r"time\[1\] is -2.0: times must be >= 0"),
        (([1.0, float("nan")], [1, 0]), {}, r"time\[1\] is nan: times must be finite numbers"),
        (([1, 2], [1, 2]), {}, r"event\[1\] is 2: event indicators must be 0/1 or boolean"),
        (([1, 2], [1]), {}, r"event must be one-dimensional with length 2"),
        (([], []), {}, r"time is empty"),
        (([1, 2], [1, 0]), {"entry": [0, 2]}, r"entry\[1\] is 2.0 but time\[1\] is 2.0"),
        (([1, 2], [1, 0]), {"weights": [1, -1]}, r"weights\[1\] is -1.0: case weights must be"),
        (([1, 2], [1, 0]), {"conf_type": "loglog"}, r"conf_type must be one of"),
        (([1, 2], [1, 0]), {"median_rule": "stata"}, r"median_rule must be 'sas' or 'r'"),
        ((["a", "b"], [1, 0]), {}, r"time must be numeric"),
    ],
)
def test_kaplan_meier_rejects_bad_input_naming_the_place(
    args: tuple[Any, Any], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(StatsError, match=message):
        kaplan_meier(*args, **kwargs)


def test_quantile_and_rmst_reject_bad_arguments() -> None:
    fit = kaplan_meier(HAND_T, HAND_E)
    with pytest.raises(StatsError, match=r"p must be in the range \(0, 1\), but was 1.5"):
        fit.quantile(1.5)
    with pytest.raises(StatsError, match=r"tau must be a finite number >= 0, but was -1.0"):
        fit.rmst(-1)
    with pytest.raises(KeyError, match="no group 'z'"):
        kaplan_meier_by_group(HAND_T, HAND_E, ["a", "b"] * 3)["z"]


def test_results_are_immutable() -> None:
    fit = kaplan_meier(HAND_T, HAND_E)
    with pytest.raises(AttributeError):
        fit.n = 3  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        fit.survival[0] = 0.5
