"""Failure, timing groups and best response to CAR-T, on hand-built timelines.

Expected values are worked by hand: D0 = 2020-02-01, days counted from D0 = day 0,
months = days / 30.4375.
"""

from __future__ import annotations

import pandas as pd
import pytest

from postcart.endpoints import EndpointConfig, derive_endpoints

from .builders import RegistryBuilder, plus, row

D0 = "2020-02-01"


def _failing_at(day: int) -> RegistryBuilder:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).event("P", plus(D0, day)).vital("P", "2021-01-01")
    return b


@pytest.mark.reference("hand-worked", fixture="timing boundaries 30/31/90/91")
@pytest.mark.parametrize(
    ("day", "group", "very_early"),
    [
        (0, "very_early", True),
        (30, "very_early", True),
        (31, "early", False),
        (90, "early", False),
        (91, "late", False),
    ],
)
def test_failure_day_falls_in_the_documented_timing_group(day: int, group: str, very_early: bool) -> None:
    r = row(derive_endpoints(_failing_at(day).build()), "P")
    assert bool(r["failed"]) is True
    assert r["days_to_failure"] == day
    assert r["months_to_failure"] == pytest.approx(day / 30.4375, rel=1e-12)
    assert r["timing_group"] == group
    assert bool(r["very_early"]) is very_early


def test_timing_boundaries_are_configurable() -> None:
    cfg = EndpointConfig(very_early_max_day=29, early_max_day=91)
    r30 = row(derive_endpoints(_failing_at(30).build(), config=cfg), "P")
    r91 = row(derive_endpoints(_failing_at(91).build(), config=cfg), "P")
    assert (r30["timing_group"], r91["timing_group"]) == ("early", "early")


def test_stable_disease_is_never_failure() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0)
    b.assessment("P", plus(D0, 30), "sd", visit="d30").assessment("P", plus(D0, 90), "sd", visit="d90")
    b.vital("P", "2020-12-01")
    res = derive_endpoints(b.build())
    r = row(res, "P")
    assert bool(r["failed"]) is False
    assert r["best_response_cart"] == "sd"
    assert bool(r["cart_responder"]) is False
    assert pd.isna(r["failure_date"]) and r["timing_group"] is None
    assert dict(res.flow.step("failed").exclusions)["no failure: SD (stable disease is not failure)"] == 1


def test_relapse_after_cr_is_a_failure_of_type_relapse_with_best_response_cr() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0)
    b.assessment("P", plus(D0, 30), "cr", visit="d30").assessment("P", plus(D0, 90), "cr", visit="d90")
    b.assessment("P", plus(D0, 150), "pd")  # relapse documented by assessment only
    b.vital("P", "2021-01-01")
    r = row(derive_endpoints(b.build()), "P")
    assert r["failure_date"] == pd.Timestamp(plus(D0, 150))
    assert r["failure_source"] == "assessment"
    assert r["failure_type"] == "relapse"
    assert r["best_response_cart"] == "cr"
    assert r["timing_group"] == "late"
    # DOR: first CR at day 30 to relapse at day 150 = 120 days
    assert r["dor_months"] == pytest.approx(120 / 30.4375, rel=1e-12)
    assert bool(r["dor_event"]) is True


def test_pd_assessment_without_prior_response_is_progression() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).assessment("P", plus(D0, 28), "pd", visit="d30")
    b.vital("P", "2021-01-01")
    r = row(derive_endpoints(b.build()), "P")
    assert (r["failure_type"], r["best_response_cart"], r["days_to_failure"]) == ("progression", "pd", 28)


def test_failure_is_the_earliest_of_disease_event_and_pd_assessment() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0)
    b.assessment("P", plus(D0, 30), "pr", visit="d30").assessment("P", plus(D0, 85), "pd", visit="d90")
    b.event("P", plus(D0, 100), event_type="relapse")
    b.vital("P", "2021-01-01")
    r = row(derive_endpoints(b.build()), "P")
    assert (r["days_to_failure"], r["failure_source"]) == (85, "assessment")


def test_same_day_disease_event_is_the_failure_source_and_gives_its_type() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).assessment("P", plus(D0, 40), "pd")
    b.event("P", plus(D0, 40), event_type="relapse")
    b.vital("P", "2021-01-01")
    r = row(derive_endpoints(b.build()), "P")
    assert (r["failure_source"], r["failure_type"]) == ("disease_event", "relapse")


def test_failure_without_any_assessment_has_best_response_pd() -> None:
    r = row(derive_endpoints(_failing_at(45).build()), "P")
    assert r["best_response_cart"] == "pd"
    assert bool(r["cart_responder"]) is False


def test_responses_after_the_failure_do_not_count_for_the_best_cart_response() -> None:
    b = _failing_at(45)
    b.assessment("P", plus(D0, 30), "sd", visit="d30").assessment("P", plus(D0, 180), "cr", visit="d180")
    r = row(derive_endpoints(b.build()), "P")
    assert r["best_response_cart"] == "sd"


def test_ne_only_and_no_assessment_are_distinct_non_failures() -> None:
    b = RegistryBuilder()
    b.patient("NE").infusion("NE", D0).assessment("NE", plus(D0, 30), "ne", visit="d30").vital(
        "NE", "2020-06-01"
    )
    b.patient("NONE").infusion("NONE", D0).vital("NONE", "2020-06-01")
    res = derive_endpoints(b.build())
    assert row(res, "NE")["best_response_cart"] == "ne"
    assert row(res, "NONE")["best_response_cart"] is None
    assert pd.isna(row(res, "NONE")["cart_responder"])
    excl = dict(res.flow.step("failed").exclusions)
    assert excl["no failure: NE (not evaluated)"] == 1
    assert excl["no failure: no response assessment"] == 1


def test_events_before_d0_are_ignored_and_counted() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).event("P", "2020-01-20").vital("P", "2020-06-01")
    res = derive_endpoints(b.build())
    assert bool(row(res, "P")["failed"]) is False
    assert res.notes.counts["disease_events_before_d0_ignored"] == 1


def test_not_infused_patient_has_no_failure_and_no_survival_from_d0() -> None:
    b = RegistryBuilder()
    b.patient("P").event("P", "2020-03-01").vital("P", "2020-06-01")
    res = derive_endpoints(b.build())
    r = row(res, "P")
    assert bool(r["infused"]) is False
    assert pd.isna(r["failed"]) and pd.isna(r["os_months"]) and pd.isna(r["pfs_months"])
    assert res.notes.counts["disease_events_of_patients_not_infused_ignored"] == 1
