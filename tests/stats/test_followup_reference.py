"""Reverse Kaplan-Meier median follow-up against R, on every reference data set.

Reference: ``reverse_km_followup`` blocks of ``tests/fixtures/survival_reference/ref/*.json``:
``survfit(Surv(time, 1 - status) ~ 1, conf.type = ...)`` then ``quantile(fit, probs)``
(R 4.2.2, survival 3.5-3). Tolerance 1e-10 relative.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from postcart.stats import FollowUpResult, median_followup

REF = Path(__file__).resolve().parents[1] / "fixtures" / "survival_reference"
DATASETS = sorted(p.stem for p in (REF / "ref").glob("*.json"))
RTOL = 1e-10


@functools.cache
def _load(name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    data = pd.read_csv(REF / "data" / f"{name}.csv", float_precision="round_trip")
    return data, json.loads((REF / "ref" / f"{name}.json").read_text())


def _opt(x: float | None) -> float:
    return np.nan if x is None else float(x)


def _cases() -> list[Any]:
    out = []
    for name in DATASETS:
        _, ref = _load(name)
        mark = pytest.mark.reference("survival::survfit (reverse KM)", fixture=name)
        for level in [None, *ref["group_levels"]]:
            for ct in ("log-log", "log", "plain"):
                out.append(pytest.param(name, level, ct, marks=mark, id=f"{name}-{level or 'overall'}-{ct}"))
    return out


@pytest.mark.parametrize(("name", "level", "conf_type"), _cases())
def test_median_followup_matches_r_reverse_km(name: str, level: str | None, conf_type: str) -> None:
    data, ref = _load(name)
    if level is None:
        block, sub = ref["reverse_km_followup"]["overall"], data
    else:
        block = ref["reverse_km_followup"]["by_group"][level]
        sub = data[data[ref["group_var"]].astype(str) == level]
    fu = median_followup(sub["time"], sub["status"], profile="r", conf_type=conf_type)
    assert isinstance(fu, FollowUpResult)
    assert fu.n == block["n"]
    assert fu.n_censored == block["n_censored_in_original"]
    med = block["median"][conf_type]
    np.testing.assert_allclose(
        [_opt(fu.median.estimate), _opt(fu.median.ci_low), _opt(fu.median.ci_high)],
        [_opt(med["estimate"]), _opt(med["lower"]), _opt(med["upper"])],
        rtol=RTOL,
    )
    q = block["quantiles"][conf_type]
    got = fu.km.quantiles(tuple(q["probs"]))
    for field, key in (("estimate", "estimate"), ("ci_low", "lower"), ("ci_high", "upper")):
        np.testing.assert_allclose(
            [_opt(getattr(g, field)) for g in got], [_opt(v) for v in q[key]], rtol=RTOL
        )


def test_median_followup_counts_censorings_as_events_and_keeps_deaths_at_risk_at_ties() -> None:
    # Hand-worked: times 1 (death), 2 (censored), 2 (death), 3 (censored).
    # Reverse KM: at t=2, 3 at risk (the tied death stays at risk), 1 "event" -> 2/3;
    # at t=3, 1 at risk, 1 "event" -> 0. The reverse median is 3 (first S <= 1/2).
    fu = median_followup([1, 2, 2, 3], [1, 0, 1, 0], profile="r")
    np.testing.assert_array_equal(fu.km.time, [1, 2, 3])
    np.testing.assert_array_equal(fu.km.n_risk, [4, 3, 1])
    np.testing.assert_array_equal(fu.km.n_event, [0, 1, 1])
    np.testing.assert_allclose(fu.km.survival, [1, 2 / 3, 0], rtol=1e-15)
    assert fu.median.estimate == 3.0
    assert fu.n_censored == 2
    assert "FollowUpResult(n=4" in repr(fu)
    assert fu.to_frame()["median"].tolist() == [3.0]
