"""Competing risks: Aalen-Johansen CIF and Gray's test against R, by hand and by invariants.

References:

* ``tests/fixtures/survival_reference/ref/mgus2.json`` ``extra.competing_risks`` (R 4.2.2,
  survival 3.5-3, cmprsk 2.2.11; made by ``make_reference.R``): ``survfit(Surv(etime, event)
  ~ 1)`` and ``~ sex`` with ``event`` a factor (censor, pcm, death), and
  ``cmprsk::cuminc(etime, event, group = sex)$Tests``.
* a weighted Aalen-Johansen written out in this file, differentiated by the complex step, for
  the infinitesimal-jackknife standard error on a small hand-made data set;
* one cause: CIF = 1 - KM, with KM by the product-limit formula written here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postcart.errors import StatsError
from postcart.stats.competing import (
    CumulativeIncidenceResult,
    cumulative_incidence,
    cumulative_incidence_by_group,
    gray_test,
)

REF = Path(__file__).resolve().parents[1] / "fixtures" / "survival_reference"
RTOL = 1e-8  # the brief's tolerance for Aalen-Johansen vs R (observed agreement ~1e-13)
GRAY_RTOL = 1e-6


def _mgus2() -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    d = pd.read_csv(REF / "data" / "mgus2.csv", float_precision="round_trip")
    etime = np.where(d["pstat"] == 0, d["futime_months"], d["ptime_months"]).astype(float)
    event = np.where(d["pstat"] == 1, "pcm", np.where(d["status"] == 1, "death", "censor"))
    ref = json.loads((REF / "ref" / "mgus2.json").read_text())["extra"]["competing_risks"]
    return etime, event, d["sex"].to_numpy(), ref


def _arr(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _check_block(res: CumulativeIncidenceResult, blk: dict[str, Any]) -> None:
    assert res.states == tuple(blk["states"])
    np.testing.assert_array_equal(res.time, blk["time"])
    np.testing.assert_array_equal(res.n_risk, blk["n_risk"])
    np.testing.assert_array_equal(res.n_censor, blk["n_censor"])
    for j, s in enumerate(res.states):
        np.testing.assert_array_equal(res.n_event[:, j], blk["n_event"][s])
        for ours, key in ((res.pstate, "pstate"), (res.std_err, "std_err")):
            np.testing.assert_allclose(ours[:, j], _arr(blk[key][s]), rtol=RTOL, atol=0)
        for ours, key in ((res.ci_low, "lower_log"), (res.ci_high, "upper_log")):
            np.testing.assert_allclose(ours[:, j], _arr(blk[key][s]), rtol=RTOL, atol=0, equal_nan=True)
    ms = blk["milestones"]
    at = res.at(ms["time"])
    for j, s in enumerate(res.states):
        np.testing.assert_allclose(at.pstate[:, j], ms["pstate"][s], rtol=RTOL, atol=0)
        np.testing.assert_allclose(at.std_err[:, j], ms["std_err"][s], rtol=RTOL, atol=0)
        np.testing.assert_allclose(at.ci_low[:, j], ms["lower_log"][s], rtol=RTOL, atol=0)
        np.testing.assert_allclose(at.ci_high[:, j], ms["upper_log"][s], rtol=RTOL, atol=0)


@pytest.mark.reference("survival::survfit multi-state", fixture="mgus2.extra.competing_risks.overall")
def test_aalen_johansen_matches_r_survfit_mgus2_overall() -> None:
    etime, event, _, ref = _mgus2()
    res = cumulative_incidence(etime, event, causes=["pcm", "death"], censor="censor")
    _check_block(res, ref["overall"])
    assert res.n == ref["n"]
    assert res.n_events == ref["n_pcm"] + ref["n_death_without_pcm"]


@pytest.mark.reference("survival::survfit multi-state", fixture="mgus2.extra.competing_risks.by_sex")
def test_aalen_johansen_matches_r_survfit_mgus2_by_sex() -> None:
    etime, event, sex, ref = _mgus2()
    by = cumulative_incidence_by_group(etime, event, sex, causes=["pcm", "death"], censor="censor")
    assert sorted(by) == sorted(ref["by_sex"])
    for level, res in by.items():
        _check_block(res, ref["by_sex"][level])


@pytest.mark.reference("cmprsk::cuminc", fixture="mgus2.extra.competing_risks.gray_test_by_sex")
@pytest.mark.parametrize("i", [0, 1])
def test_gray_test_matches_cmprsk_cuminc_mgus2_by_sex(i: int) -> None:
    etime, event, sex, ref = _mgus2()
    g = ref["gray_test_by_sex"]
    res = gray_test(etime, event, sex, cause_of_interest=g["cause"][i], censor="censor")
    assert res.chisq == pytest.approx(g["stat"][i], rel=GRAY_RTOL)
    assert res.p == pytest.approx(g["p"][i], rel=GRAY_RTOL)
    assert res.df == g["df"][i]
    assert res.test.chisq == res.chisq


# --- hand-made data: weighted Aalen-Johansen differentiated by the complex step ---------------
TIME = np.array([1, 2, 2, 2, 3, 4, 4, 5, 6, 6, 7, 8, 8, 9], dtype=float)
CAUSE = np.array([1, 2, 0, 1, 0, 1, 1, 2, 0, 2, 1, 0, 2, 0])


def _weighted_aj(w: np.ndarray, time: np.ndarray = TIME, cause: np.ndarray = CAUSE) -> np.ndarray:
    """p(t) for states (0, 1, 2) at each distinct time, by the textbook recursion."""
    times = np.unique(time)
    p = np.array([1.0, 0.0, 0.0], dtype=w.dtype)
    out = []
    for t in times:
        at_risk = w[time >= t].sum()
        d1 = w[(time == t) & (cause == 1)].sum()
        d2 = w[(time == t) & (cause == 2)].sum()
        p = np.array(
            [p[0] * (1 - (d1 + d2) / at_risk), p[1] + p[0] * d1 / at_risk, p[2] + p[0] * d2 / at_risk]
        )
        out.append(p)
    return np.array(out)


def _ij_se(time: np.ndarray, cause: np.ndarray) -> np.ndarray:
    """sqrt(sum_i (d p / d w_i)^2), each derivative by the complex step (exact to rounding)."""
    n = time.size
    h = 1e-30
    infl = []
    for i in range(n):
        w = np.ones(n, dtype=complex)
        w[i] += 1j * h
        infl.append(_weighted_aj(w, time, cause).imag / h)
    return np.sqrt(np.sum(np.array(infl) ** 2, axis=0))


@pytest.mark.reference("hand-worked: complex-step derivative of a weighted Aalen-Johansen")
def test_aalen_johansen_se_equals_infinitesimal_jackknife_by_complex_step() -> None:
    n = TIME.size
    var = _ij_se(TIME, CAUSE) ** 2
    res = cumulative_incidence(TIME, CAUSE)
    np.testing.assert_allclose(res.pstate, _weighted_aj(np.ones(n)), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(res.std_err, np.sqrt(var), rtol=1e-10, atol=1e-15)
    assert res.causes == ("1", "2")


def test_cif_plus_event_free_sums_to_one() -> None:
    res = cumulative_incidence(TIME, CAUSE)
    np.testing.assert_allclose(res.pstate.sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.reference("invariant: one cause, CIF = 1 - Kaplan-Meier (product-limit written here)")
def test_cif_with_one_cause_equals_one_minus_km() -> None:
    rng = np.random.default_rng(20260601)
    t = rng.integers(1, 30, size=200).astype(float)
    e = rng.integers(0, 2, size=200)
    res = cumulative_incidence(t, e)
    s = 1.0
    km = []
    greenwood = 0.0
    se = []
    for u in np.unique(t):
        n_at = np.sum(t >= u)
        d = np.sum((t == u) & (e == 1))
        s *= 1 - d / n_at
        if d:
            greenwood += d / (n_at * (n_at - d))
        km.append(s)
        se.append(s * np.sqrt(greenwood))
    np.testing.assert_allclose(res.cif("1"), 1 - np.array(km), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(res.pstate[:, 0], km, rtol=1e-12)
    # the jackknife SE of the one-cause curve is close to (not equal to) Greenwood's
    np.testing.assert_allclose(res.std_err[:, 1], se, rtol=0.05)


def test_aalen_johansen_does_not_depend_on_row_order() -> None:
    perm = np.random.default_rng(7).permutation(TIME.size)
    a = cumulative_incidence(TIME, CAUSE)
    b = cumulative_incidence(TIME[perm], CAUSE[perm])
    np.testing.assert_array_equal(a.time, b.time)
    np.testing.assert_allclose(a.pstate, b.pstate, rtol=1e-14)
    np.testing.assert_allclose(a.std_err, b.std_err, rtol=1e-12)


def test_gray_test_does_not_depend_on_row_order_or_group_labels() -> None:
    etime, event, sex, _ = _mgus2()
    perm = np.random.default_rng(3).permutation(etime.size)
    a = gray_test(etime, event, sex, cause_of_interest="pcm", censor="censor")
    b = gray_test(
        etime[perm],
        event[perm],
        np.where(sex[perm] == "F", "z", "a"),
        cause_of_interest="pcm",
        censor="censor",
    )
    assert b.chisq == pytest.approx(a.chisq, rel=1e-12)


def test_at_reads_the_step_function_before_and_after_the_data() -> None:
    res = cumulative_incidence(TIME, CAUSE)
    at = res.at([0.5, 4.0, 4.5, 100.0])
    np.testing.assert_array_equal(at.pstate[0], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(at.pstate[1], res.pstate[res.time == 4.0][0])
    np.testing.assert_array_equal(at.pstate[2], res.pstate[res.time == 4.0][0])
    assert np.isnan(at.pstate[3]).all()
    assert list(at.beyond_last_time) == [False, False, False, True]
    assert list(at.n_risk[:3]) == [14, 9, 7]


def test_results_convert_to_tidy_frames_and_one_line_reprs() -> None:
    res = cumulative_incidence(TIME, CAUSE, causes=[2, 1])
    assert res.causes == ("2", "1")
    frame = res.to_frame()
    assert list(frame.columns) == [
        "time",
        "state",
        "n_risk",
        "n_event",
        "n_censor",
        "pstate",
        "std_err",
        "ci_low",
        "ci_high",
    ]
    assert len(frame) == 3 * res.time.size
    assert "\n" not in repr(res)
    assert res.conventions.conf_type == "log"
    g = gray_test(TIME, CAUSE, TIME > 4, cause_of_interest=1)
    assert g.to_frame().shape == (1, 6)
    assert "\n" not in repr(g)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"time": [1.0, np.nan], "cause": [1, 0]}, r"time must be finite, but row 1 is nan"),
        ({"time": [1.0, 2.0], "cause": [1]}, r"cause must be one-dimensional with 2 values"),
        ({"time": [1.0, 2.0], "cause": [1, None]}, r"cause must not be missing, but row 1 is None"),
        ({"time": [1.0, 2.0], "cause": [1, 3], "causes": [1, 2]}, r"cause has value 3 \(row 1\)"),
        ({"time": [], "cause": []}, r"time is empty"),
    ],
)
def test_cumulative_incidence_rejects_bad_input_naming_the_row(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(StatsError, match=message):
        cumulative_incidence(**kwargs)


def test_gray_test_rejects_one_group_and_unknown_cause() -> None:
    with pytest.raises(StatsError, match="at least two levels"):
        gray_test(TIME, CAUSE, np.zeros(TIME.size), cause_of_interest=1)
    with pytest.raises(StatsError, match="cause_of_interest 5 never occurs"):
        gray_test(TIME, CAUSE, TIME > 4, cause_of_interest=5)


@pytest.mark.reference("hand-worked: complex-step IJ on generated data (hypothesis)")
@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 2)), min_size=1, max_size=20),
)
def test_aalen_johansen_matches_the_complex_step_reference_on_any_small_data(
    rows: list[tuple[int, int]],
) -> None:
    time = np.array([r[0] for r in rows], dtype=float)
    cause = np.array([r[1] for r in rows])
    res = cumulative_incidence(time, cause, causes=[1, 2])
    np.testing.assert_allclose(
        res.pstate, _weighted_aj(np.ones(time.size), time, cause), rtol=1e-12, atol=1e-14
    )
    np.testing.assert_allclose(res.std_err, _ij_se(time, cause), rtol=1e-9, atol=1e-12)
    assert np.all(np.diff(res.pstate[:, 1:], axis=0) >= -1e-15)
    assert np.all(np.diff(res.pstate[:, 0]) <= 1e-15)
