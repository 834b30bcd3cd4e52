"""Kaplan-Meier against R's survival package, on every data set of the reference folder.

Reference: ``tests/fixtures/survival_reference/ref/*.json``, written by ``make_reference.R``
(R 4.2.2, survival 3.5-3; copied from ``/work/shared/reference/survival-reference``):
``survfit(Surv(time, status) ~ 1 | group, conf.type = "log-log" | "log" | "plain")``,
``quantile(fit, probs = c(.25, .5, .75))`` and ``summary(fit, times = milestones)``.
R's quantile rule is ``median_rule="r"``. Tolerance: 1e-10 relative (exact estimators).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from postcart.stats import KaplanMeierResult, kaplan_meier, kaplan_meier_by_group

REF = Path(__file__).resolve().parents[1] / "fixtures" / "survival_reference"
DATASETS = sorted(p.stem for p in (REF / "ref").glob("*.json"))
CONF_TYPES = ("log-log", "log", "plain")
RTOL = 1e-10


@functools.cache
def _load(name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    data = pd.read_csv(REF / "data" / f"{name}.csv", float_precision="round_trip")
    ref = json.loads((REF / "ref" / f"{name}.json").read_text())
    return data, ref


def _arr(values: Any) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _opt(x: float | None) -> float:
    return np.nan if x is None else float(x)


def _curves(name: str) -> list[Any]:
    """(dataset, 'overall' or group level) pairs, each marked with its fixture."""
    _, ref = _load(name)
    out = [pytest.param(name, None, id=f"{name}-overall")]
    out += [pytest.param(name, g, id=f"{name}-{g}") for g in ref["group_levels"]]
    return [
        pytest.param(*p.values, id=p.id, marks=pytest.mark.reference("survival::survfit", fixture=name))
        for p in out
    ]


CURVES = [c for name in DATASETS for c in _curves(name)]


def _fit(name: str, level: str | None, conf_type: str) -> tuple[KaplanMeierResult, dict[str, Any]]:
    data, ref = _load(name)
    if level is None:
        block = ref["km"]["overall"]
        sub = data
    else:
        block = ref["km"]["by_group"][level]
        sub = data[data[ref["group_var"]].astype(str) == level]
    fit = kaplan_meier(sub["time"], sub["status"], profile="r", conf_type=conf_type)
    return fit, block


@pytest.mark.parametrize(("name", "level"), CURVES)
def test_km_table_matches_r_survfit(name: str, level: str | None) -> None:
    fit, block = _fit(name, level, "log")
    tab = block["table"]
    assert fit.n == block["n"]
    assert fit.n_events == block["n_events"]
    np.testing.assert_array_equal(fit.time, _arr(tab["time"]))
    np.testing.assert_array_equal(fit.n_risk, _arr(tab["n_risk"]))
    np.testing.assert_array_equal(fit.n_event, _arr(tab["n_event"]))
    np.testing.assert_array_equal(fit.n_censor, _arr(tab["n_censor"]))
    np.testing.assert_allclose(fit.survival, _arr(tab["surv"]), rtol=RTOL, atol=0)
    np.testing.assert_allclose(fit.std_err, _arr(tab["std_err"]), rtol=RTOL, atol=0)
    np.testing.assert_allclose(fit.std_err_cumhaz, _arr(tab["std_err_cumhaz"]), rtol=RTOL, atol=0)


@pytest.mark.parametrize("conf_type", CONF_TYPES)
@pytest.mark.parametrize(("name", "level"), CURVES)
def test_km_pointwise_ci_matches_r_survfit(name: str, level: str | None, conf_type: str) -> None:
    fit, block = _fit(name, level, conf_type)
    ci = block["ci"][conf_type]
    np.testing.assert_allclose(fit.ci_low, _arr(ci["lower"]), rtol=RTOL, atol=1e-300)
    np.testing.assert_allclose(fit.ci_high, _arr(ci["upper"]), rtol=RTOL, atol=1e-300)


@pytest.mark.parametrize("conf_type", CONF_TYPES)
@pytest.mark.parametrize(("name", "level"), CURVES)
def test_km_median_and_quartiles_match_r_quantile_survfit(
    name: str, level: str | None, conf_type: str
) -> None:
    fit, block = _fit(name, level, conf_type)
    med = block["median"][conf_type]
    got = fit.median
    np.testing.assert_allclose(
        [_opt(got.estimate), _opt(got.ci_low), _opt(got.ci_high)],
        [_opt(med["estimate"]), _opt(med["lower"]), _opt(med["upper"])],
        rtol=RTOL,
    )
    qref = block["quantiles"][conf_type]
    qs = fit.quantiles(tuple(qref["probs"]))
    np.testing.assert_allclose([_opt(q.estimate) for q in qs], _arr(qref["estimate"]), rtol=RTOL)
    np.testing.assert_allclose([_opt(q.ci_low) for q in qs], _arr(qref["lower"]), rtol=RTOL)
    np.testing.assert_allclose([_opt(q.ci_high) for q in qs], _arr(qref["upper"]), rtol=RTOL)


@pytest.mark.parametrize("conf_type", CONF_TYPES)
@pytest.mark.parametrize(("name", "level"), CURVES)
def test_km_at_milestones_matches_r_summary_times(name: str, level: str | None, conf_type: str) -> None:
    fit, block = _fit(name, level, conf_type)
    ms = block["milestones"]
    at = fit.at([m["time"] for m in ms])
    np.testing.assert_array_equal(at.beyond_last_time, [m["beyond_last_time"] for m in ms])
    np.testing.assert_allclose(at.survival, _arr([m["surv"] for m in ms]), rtol=RTOL)
    np.testing.assert_allclose(at.std_err, _arr([m["std_err"] for m in ms]), rtol=RTOL)
    np.testing.assert_array_equal(at.n_risk, _arr([m["n_risk"] for m in ms]))
    low = _arr([m["ci"][conf_type]["lower"] for m in ms])
    high = _arr([m["ci"][conf_type]["upper"] for m in ms])
    np.testing.assert_allclose(at.ci_low, low, rtol=RTOL)
    np.testing.assert_allclose(at.ci_high, high, rtol=RTOL)
    np.testing.assert_allclose(at.event_rate, 1 - _arr([m["surv"] for m in ms]), rtol=RTOL)
    np.testing.assert_allclose(at.event_rate_ci_low, 1 - high, rtol=RTOL)


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.reference("survival::survfit", fixture=n)) for n in DATASETS]
)
def test_km_by_group_equals_separate_fits_and_r(name: str) -> None:
    data, ref = _load(name)
    g = ref["group_var"]
    by = kaplan_meier_by_group(data["time"], data["status"], data[g].astype(str), profile="r")
    assert sorted(by.groups) == sorted(ref["group_levels"])
    for level in ref["group_levels"]:
        tab = ref["km"]["by_group"][level]["table"]
        curve = by[level]
        assert curve.group == level
        np.testing.assert_array_equal(curve.time, _arr(tab["time"]))
        np.testing.assert_array_equal(curve.n_risk, _arr(tab["n_risk"]))
        np.testing.assert_allclose(curve.survival, _arr(tab["surv"]), rtol=RTOL)
        np.testing.assert_allclose(curve.std_err, _arr(tab["std_err"]), rtol=RTOL)
        med = ref["km"]["by_group"][level]["median"]["log"]
        assert _opt(curve.median.estimate) == pytest.approx(_opt(med["estimate"]), rel=RTOL, nan_ok=True)
    frame = by.to_frame()
    assert list(frame.columns[:2]) == ["group", "time"]
    assert len(frame) == sum(len(c.time) for c in by.curves)


@pytest.mark.reference("survival::survfit", fixture="myeloma")
def test_km_left_truncated_matches_r_surv_entry_time_status() -> None:
    data, ref = _load("myeloma")
    block = ref["extra"]["left_truncated_km"]
    fit = kaplan_meier(data["time"], data["status"], entry=data["entry"], profile="r", conf_type="log-log")
    assert fit.left_truncated
    med = block["median"]
    np.testing.assert_allclose(
        [_opt(fit.median.estimate), _opt(fit.median.ci_low), _opt(fit.median.ci_high)],
        [_opt(med["estimate"]), _opt(med["lower"]), _opt(med["upper"])],
        rtol=RTOL,
    )
    ms = block["milestones"]
    at = fit.at(ms["time"])
    np.testing.assert_allclose(at.survival, _arr(ms["surv"]), rtol=RTOL)
    np.testing.assert_allclose(at.std_err, _arr(ms["std_err"]), rtol=RTOL)
    np.testing.assert_array_equal(at.n_risk, _arr(ms["n_risk"]))
    np.testing.assert_allclose(at.ci_low, _arr(ms["lower"]), rtol=RTOL)
    np.testing.assert_allclose(at.ci_high, _arr(ms["upper"]), rtol=RTOL)
