"""Log-rank family against R on every reference data set, plus hand-worked examples.

References (``tests/fixtures/survival_reference/ref/*.json``, R 4.2.2, survival 3.5-3):
``logrank`` = ``survdiff(Surv(time, status) ~ group)``; ``logrank_stratified`` = ``~ group +
strata(S)``; ``peto_peto_rho1`` = ``survdiff(rho = 1)``; ``weighted_logrank_hand`` = R function
``wlogrank`` of ``make_reference.R`` (Gehan, Tarone-Ware, Fleming-Harrington (1,0) and (0,1)).
The trend test is checked against c'(O - E) and c'Vc formed from R's own U and V.
Tolerance: 1e-10 relative (exact estimators); p-values below 1e-8 compared on the log scale.
"""

from __future__ import annotations

import functools
import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2

from postcart.errors import StatsError
from postcart.stats import LogRankResult, logrank_test, pairwise_logrank

REF = Path(__file__).resolve().parents[1] / "fixtures" / "survival_reference"
DATASETS = sorted(p.stem for p in (REF / "ref").glob("*.json"))
RTOL = 1e-10


@functools.cache
def _load(name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    data = pd.read_csv(REF / "data" / f"{name}.csv", float_precision="round_trip")
    return data, json.loads((REF / "ref" / f"{name}.json").read_text())


def _group(data: pd.DataFrame, ref: dict[str, Any]) -> pd.Categorical:
    g = ref["group_var"]
    levels = ref["factors"].get(g, {}).get("levels") or ref["group_levels"]
    return pd.Categorical(data[g].astype(str), categories=[str(v) for v in levels])


def _close_p(got: float, want: float) -> None:
    if want < 1e-8:
        assert math.log(got) == pytest.approx(math.log(want), rel=1e-10)
    else:
        assert got == pytest.approx(want, rel=RTOL)


def _check_matrix(got: np.ndarray, want: Any) -> None:
    w = np.asarray(want, dtype=float)
    np.testing.assert_allclose(got, w, rtol=RTOL, atol=1e-12 * np.abs(w).max())


def _with(block: str) -> list[Any]:
    out = []
    for name in DATASETS:
        if block in _load(name)[1]:
            out.append(pytest.param(name, marks=pytest.mark.reference("survival::survdiff", fixture=name)))
    return out


@pytest.mark.parametrize("name", _with("logrank"))
def test_logrank_matches_r_survdiff(name: str) -> None:
    data, ref = _load(name)
    want = ref["logrank"]
    res = logrank_test(data["time"], data["status"], _group(data, ref))
    assert list(res.groups) == [str(g) for g in want["groups"]]
    np.testing.assert_array_equal(res.n, want["n"])
    np.testing.assert_array_equal(res.observed, want["observed"])
    np.testing.assert_allclose(res.expected, want["expected"], rtol=RTOL)
    _check_matrix(res.variance, want["var"])
    assert res.chisq == pytest.approx(want["chisq"], rel=RTOL)
    assert res.df == want["df"]
    _close_p(res.p, want["p"])
    assert res.test == "logrank"


@pytest.mark.parametrize("name", _with("logrank_stratified"))
def test_stratified_logrank_matches_r_survdiff_strata(name: str) -> None:
    data, ref = _load(name)
    want = ref["logrank_stratified"]
    keep = data[want["strata_var"]].notna().to_numpy()
    sub = data[keep]
    res = logrank_test(
        sub["time"], sub["status"], _group(sub, ref), strata=sub[want["strata_var"]].astype(str)
    )
    np.testing.assert_allclose(res.observed, want["observed"], rtol=RTOL)
    np.testing.assert_allclose(res.expected, want["expected"], rtol=RTOL)
    _check_matrix(res.variance, want["var"])
    assert res.chisq == pytest.approx(want["chisq"], rel=RTOL)
    assert res.df == want["df"]
    _close_p(res.p, want["p"])
    assert res.strata is not None and len(res.strata) == len(want["strata"])


@pytest.mark.parametrize("name", _with("peto_peto_rho1"))
def test_peto_peto_matches_r_survdiff_rho_1(name: str) -> None:
    data, ref = _load(name)
    want = ref["peto_peto_rho1"]
    res = logrank_test(data["time"], data["status"], _group(data, ref), weights="peto-peto")
    np.testing.assert_allclose(res.observed, want["observed"], rtol=RTOL)
    np.testing.assert_allclose(res.expected, want["expected"], rtol=RTOL)
    _check_matrix(res.variance, want["var"])
    assert res.chisq == pytest.approx(want["chisq"], rel=RTOL)
    _close_p(res.p, want["p"])


WEIGHTED = {
    "logrank": {"weights": "logrank"},
    "gehan_wilcoxon": {"weights": "gehan"},
    "tarone_ware": {"weights": "tarone-ware"},
    "fleming_harrington_1_0": {"weights": "fleming-harrington", "rho": 1.0, "gamma": 0.0},
    "fleming_harrington_0_1": {"weights": "fleming-harrington", "rho": 0.0, "gamma": 1.0},
}


@pytest.mark.parametrize("block", sorted(WEIGHTED))
@pytest.mark.parametrize("name", _with("weighted_logrank_hand"))
def test_weighted_logrank_matches_r_hand_computation(name: str, block: str) -> None:
    data, ref = _load(name)
    want = ref["weighted_logrank_hand"][block]
    res = logrank_test(data["time"], data["status"], _group(data, ref), **WEIGHTED[block])
    np.testing.assert_allclose(res.observed, want["observed_weighted"], rtol=RTOL)
    np.testing.assert_allclose(res.expected, want["expected_weighted"], rtol=RTOL)
    u = np.asarray(want["U"], dtype=float)
    np.testing.assert_allclose(res.u, u, rtol=RTOL, atol=1e-12 * np.abs(u).max())
    _check_matrix(res.variance, want["var"])
    assert res.chisq == pytest.approx(want["chisq"], rel=RTOL)
    assert res.df == want["df"]
    _close_p(res.p, want["p"])


@pytest.mark.parametrize("name", _with("weighted_logrank_hand"))
def test_trend_test_equals_quadratic_form_of_r_u_and_v(name: str) -> None:
    data, ref = _load(name)
    for block in ("logrank", "gehan_wilcoxon"):
        want = ref["weighted_logrank_hand"][block]
        k = len(want["groups"])
        scores = np.arange(1.0, k + 1.0)
        u = np.asarray(want["U"], dtype=float)
        v = np.asarray(want["var"], dtype=float)
        expected = float(scores @ u) ** 2 / float(scores @ v @ scores)
        res = logrank_test(data["time"], data["status"], _group(data, ref), scores=scores, **WEIGHTED[block])
        assert res.df == 1
        assert res.chisq == pytest.approx(expected, rel=1e-10)
        assert res.p == pytest.approx(chi2.sf(expected, 1), rel=1e-9)
        assert res.test.endswith("trend")


# ---------------------------------------------------------------------------------------------
# hand-worked examples (exact fractions)
# ---------------------------------------------------------------------------------------------
HAND_TIME = [1, 2, 3, 4]
HAND_EVENT = [1, 1, 1, 0]
HAND_GROUP = ["A", "B", "A", "B"]


@pytest.mark.reference("hand-worked", fixture="4 subjects, 2 groups")
def test_logrank_hand_worked_two_groups() -> None:
    # t=1: n=4 (A2 B2), d=1 in A: E_A=1/2, V=1*3/3*(1/2)(1/2)=1/4
    # t=2: n=3 (A1 B2), d=1 in B: E_A=1/3, V=1*2/2*(1/3)(2/3)=2/9
    # t=3: n=2 (A1 B1), d=1 in A: E_A=1/2, V=(1/2)(1/2)=1/4
    # O_A=2, E_A=4/3, U=2/3, V=13/18, chisq=(4/9)/(13/18)=8/13
    res = logrank_test(HAND_TIME, HAND_EVENT, HAND_GROUP)
    e_a = Fraction(4, 3)
    v = Fraction(13, 18)
    chisq = Fraction(8, 13)
    np.testing.assert_allclose(res.expected, [float(e_a), float(3 - e_a)], rtol=1e-15)
    np.testing.assert_allclose(res.variance, [[float(v), -float(v)], [-float(v), float(v)]], rtol=1e-15)
    assert res.chisq == pytest.approx(float(chisq), rel=1e-14)
    assert res.df == 1
    assert res.p == pytest.approx(chi2.sf(8 / 13, 1), rel=1e-14)


@pytest.mark.reference("hand-worked", fixture="4 subjects, 2 groups")
def test_gehan_hand_worked_two_groups() -> None:
    # weights n_j = 4, 3, 2: U_A = 4(1-1/2) + 3(0-1/3) + 2(1-1/2) = 2,
    # V = 16/4 + 9(2/9) + 4/4 = 7, chisq = 4/7
    res = logrank_test(HAND_TIME, HAND_EVENT, HAND_GROUP, weights="gehan")
    assert res.u[0] == pytest.approx(2.0, rel=1e-15)
    assert res.variance[0, 0] == pytest.approx(7.0, rel=1e-15)
    assert res.chisq == pytest.approx(4 / 7, rel=1e-14)


def test_logrank_does_not_depend_on_row_order_or_label_type() -> None:
    data, ref = _load("veteran")
    base = logrank_test(data["time"], data["status"], data["celltype"])
    perm = np.random.default_rng(7).permutation(len(data))
    shuffled = data.iloc[perm]
    other = logrank_test(shuffled["time"], shuffled["status"], shuffled["celltype"].to_numpy())
    assert other.chisq == pytest.approx(base.chisq, rel=1e-12)
    np.testing.assert_allclose(other.expected, base.expected, rtol=1e-12)
    codes = pd.Categorical(data["celltype"]).codes
    as_int = logrank_test(data["time"], data["status"], codes)
    assert as_int.chisq == pytest.approx(base.chisq, rel=1e-12)
    assert as_int.groups == ("0", "1", "2", "3")


def test_float_times_use_the_same_statistic_as_integer_times() -> None:
    data, _ = _load("lung")
    a = logrank_test(data["time"], data["status"], data["sex"])
    b = logrank_test(data["time"] / 7.0, data["status"], data["sex"])  # non-integral path
    assert a.chisq == pytest.approx(b.chisq, rel=1e-12)


def test_group_without_events_is_kept_and_df_counts_groups_with_variance() -> None:
    time = [1, 2, 3, 4, 5, 6, 0.5, 0.5]
    event = [1, 1, 0, 1, 1, 0, 0, 0]
    group = ["a", "a", "a", "b", "b", "b", "c", "c"]  # c: censored before the first event
    res = logrank_test(time, event, group)
    assert res.groups == ("a", "b", "c")
    assert res.observed[2] == 0 and res.expected[2] == 0
    assert res.variance[2, 2] == 0
    assert res.df == 1  # R: groups with variance > 0, minus 1
    two = logrank_test(time[:6], event[:6], group[:6])
    assert res.chisq == pytest.approx(two.chisq, rel=1e-12)


def test_pairwise_logrank_two_levels_equals_the_overall_test() -> None:
    data, ref = _load("lung")
    (pair,) = pairwise_logrank(data["time"], data["status"], data["sex"])
    assert pair.groups == ("female", "male")
    assert pair.chisq == pytest.approx(ref["logrank"]["chisq"], rel=RTOL)
    veteran, vref = _load("veteran")
    pairs = pairwise_logrank(veteran["time"], veteran["status"], veteran["celltype"])
    assert len(pairs) == 6
    assert all(isinstance(p, LogRankResult) and p.df == 1 for p in pairs)


def test_logrank_result_frame_and_repr() -> None:
    res = logrank_test(HAND_TIME, HAND_EVENT, HAND_GROUP)
    frame = res.to_frame()
    assert list(frame.columns) == ["group", "n", "observed", "expected", "o_minus_e", "variance"]
    assert repr(res).startswith("LogRankResult(test='logrank', chisq=0.615385, df=1")
    assert res.conventions.profile == "sas"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weights": "wilcoxon"}, "weights must be one of"),
        ({"rho": 1.0}, "rho and gamma apply to weights='fleming-harrington' only"),
        ({"weights": "fleming-harrington", "rho": -1.0}, "rho and gamma must be finite and >= 0"),
        ({"scores": [1, 2, 3]}, r"scores must be 2 finite numbers \(one per group \['A', 'B'\]\)"),
        ({"strata": [1, 2, None, 1]}, r"strata\[2\] is missing"),
    ],
)
def test_logrank_rejects_bad_options_with_a_clear_message(kwargs: Any, message: str) -> None:
    with pytest.raises(StatsError, match=message):
        logrank_test(HAND_TIME, HAND_EVENT, HAND_GROUP, **kwargs)


def test_logrank_rejects_bad_data_naming_the_position() -> None:
    with pytest.raises(StatsError, match=r"time\[1\] is -2.0: times must be >= 0"):
        logrank_test([1, -2], [1, 1], ["a", "b"])
    with pytest.raises(StatsError, match=r"event\[0\] is 2"):
        logrank_test([1, 2], [2, 1], ["a", "b"])
    with pytest.raises(StatsError, match=r"group\[1\] is missing"):
        logrank_test([1, 2], [1, 1], ["a", None])
