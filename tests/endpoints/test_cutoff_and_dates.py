"""The data cut-off and the one partial-date rule, with their counters (hand-worked days)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from postcart.endpoints import EndpointConfig, derive_endpoints
from postcart.errors import EndpointError

from .builders import RegistryBuilder, plus, row

D0 = "2020-02-01"
M = 30.4375


def test_event_after_the_cutoff_is_ignored_counted_and_follow_up_censored_at_cutoff() -> None:
    b = RegistryBuilder(cutoff="2020-06-01")
    b.patient("P").infusion("P", D0).assessment("P", plus(D0, 30), "cr", visit="d30")
    b.event("P", "2020-07-01", event_type="relapse").vital("P", "2020-12-01")
    res = derive_endpoints(b.build())
    r = row(res, "P")
    assert bool(r["failed"]) is False
    assert res.notes.records_after_cutoff["disease_events.event_date"] == 1
    assert res.notes.records_after_cutoff["vital_status.last_contact_date"] == 1
    assert res.flow.records_after_cutoff["disease_events.event_date"] == 1
    # 2020-02-01 -> 2020-06-01 (2020 is a leap year): 29 + 31 + 30 + 31 = 121 days
    assert r["last_contact_date"] == pd.Timestamp("2020-06-01")
    assert r["os_months"] == pytest.approx(121 / M, rel=1e-12)
    assert bool(r["os_event"]) is False
    assert r["cutoff_date"] == pd.Timestamp("2020-06-01")


def test_death_after_the_cutoff_leaves_the_patient_alive_at_the_cutoff() -> None:
    b = RegistryBuilder(cutoff="2020-06-01")
    b.patient("P").infusion("P", D0).event("P", plus(D0, 60))
    b.vital("P", "2020-08-01", death="2020-08-01", cause="lymphoma")
    res = derive_endpoints(b.build())
    r = row(res, "P")
    assert pd.isna(r["death_date"]) and r["death_cause"] is None and bool(r["alive"]) is True
    # failure 2020-04-01 -> cut-off 2020-06-01 = 61 days, censored
    assert r["os2_months"] == pytest.approx(61 / M, rel=1e-12)
    assert bool(r["os2_event"]) is False
    assert res.notes.records_after_cutoff["vital_status.death_date"] == 1


def test_infusion_after_the_cutoff_is_an_exclusion_of_the_infused_step() -> None:
    b = RegistryBuilder(cutoff="2020-06-01")
    b.patient("LATE").infusion("LATE", "2020-06-02").vital("LATE", "2020-07-01")
    b.patient("NEVER").vital("NEVER", "2020-05-01")
    b.patient("OK").infusion("OK", D0).vital("OK", "2020-05-01")
    res = derive_endpoints(b.build())
    assert bool(row(res, "LATE")["infused"]) is False
    excl = dict(res.flow.step("infused").exclusions)
    assert excl == {"not infused (no infusion record)": 1, "infused after the cut-off": 1}
    assert res.flow.step("infused").n == 1


def test_patients_registered_after_the_cutoff_are_not_in_the_table() -> None:
    b = RegistryBuilder(cutoff="2020-06-01")
    b.patient("EARLY").patient("LATE", decision="2020-07-01")
    res = derive_endpoints(b.build())
    assert list(res.table["patient_id"]) == ["EARLY"]
    assert res.notes.records_after_cutoff["patients.registration_date"] == 1


def test_cutoff_argument_overrides_the_extract_cutoff() -> None:
    b = RegistryBuilder(cutoff="2021-04-12")
    b.patient("P").infusion("P", D0).event("P", "2020-07-01").vital("P", "2020-12-01")
    tables = b.build()
    assert bool(row(derive_endpoints(tables), "P")["failed"]) is True
    res = derive_endpoints(tables, cutoff=dt.date(2020, 6, 1))
    assert bool(row(res, "P")["failed"]) is False
    assert res.cutoff == pd.Timestamp("2020-06-01")


def test_without_any_cutoff_nothing_is_ignored() -> None:
    b = RegistryBuilder(cutoff=None)
    b.patient("P").infusion("P", D0).event("P", "2030-07-01").vital("P", "2030-12-01")
    res = derive_endpoints(b.build())
    assert res.cutoff is None and bool(row(res, "P")["failed"]) is True
    assert res.notes.records_after_cutoff == {}


def test_a_cutoff_that_is_not_a_date_is_refused_with_its_value() -> None:
    b = RegistryBuilder()
    b.patient("P")
    with pytest.raises(EndpointError, match=r"cutoff must be a date \(YYYY-MM-DD\), but was 'soon'"):
        derive_endpoints(b.build(), cutoff="soon")


def test_salvage_response_dated_after_the_cutoff_is_not_response_data() -> None:
    b = RegistryBuilder(cutoff="2020-06-01")
    b.patient("P").infusion("P", D0).event("P", plus(D0, 60))
    b.line("P", plus(D0, 70), ("lenalidomide",), best_response="cr", best_response_date="2020-07-01")
    b.vital("P", "2020-05-30")
    res = derive_endpoints(b.build())
    r = row(res, "P")
    assert r["salvage_status"] == "treated" and r["salvage_best_response"] is None
    assert bool(r["salvage_response_evaluable"]) is False
    assert res.notes.records_after_cutoff["treatment_lines.best_response_date"] == 1


def test_month_precision_infusion_date_becomes_the_15th_and_is_counted() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", "2020-03").vital("P", "2020-04-14")
    res = derive_endpoints(b.build())
    r = row(res, "P")
    assert r["d0"] == pd.Timestamp("2020-03-15")
    assert r["os_months"] == pytest.approx(30 / M, rel=1e-12)  # 03-15 -> 04-14
    assert res.notes.partial_dates_imputed["infusions.infusion_date"] == 1


def test_year_precision_event_becomes_july_first() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).event("P", "2020").vital("P", "2020-12-01")
    res = derive_endpoints(b.build())
    r = row(res, "P")
    # 2020-02-01 -> 2020-07-01: 29 + 31 + 30 + 31 + 30 = 151 days
    assert r["failure_date"] == pd.Timestamp("2020-07-01")
    assert r["days_to_failure"] == 151
    assert res.notes.partial_dates_imputed["disease_events.event_date"] == 1
    assert res.notes.partial_dates_clamped == {}


def test_partial_date_in_the_month_of_d0_is_clamped_to_d0_not_before() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", "2020-02-20").event("P", "2020-02").vital("P", "2020-12-01")
    res = derive_endpoints(b.build())
    r = row(res, "P")
    assert r["failure_date"] == pd.Timestamp("2020-02-20")
    assert r["days_to_failure"] == 0 and r["timing_group"] == "very_early"
    assert res.notes.partial_dates_clamped["disease_events.event_date"] == 1


def test_without_clamping_the_same_partial_date_falls_before_d0_and_is_ignored() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", "2020-02-20").event("P", "2020-02").vital("P", "2020-12-01")
    res = derive_endpoints(b.build(), config=EndpointConfig(partial_date_clamp="none"))
    assert bool(row(res, "P")["failed"]) is False
    assert res.notes.counts["disease_events_before_d0_ignored"] == 1


def test_partial_death_date_is_not_imputed_past_the_cutoff() -> None:
    b = RegistryBuilder(cutoff="2021-04-12")
    b.patient("P").infusion("P", D0).event("P", plus(D0, 60))
    b.vital("P", "2021-01-10", death="2021", cause="lymphoma")
    res = derive_endpoints(b.build())
    r = row(res, "P")
    assert r["death_date"] == pd.Timestamp("2021-04-12")
    assert res.notes.partial_dates_clamped["vital_status.death_date"] == 1


def test_partial_date_rule_is_configurable() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).event("P", "2020-05").event("P", "2021").vital("P", "2021-12-01")
    cfg = EndpointConfig(partial_month_day=1, partial_year_month=1, partial_year_day=1)
    r = row(derive_endpoints(b.build(), config=cfg), "P")
    assert r["failure_date"] == pd.Timestamp("2020-05-01")
    assert r["second_progression_date"] == pd.Timestamp("2021-01-01")


def test_partial_salvage_start_in_the_failure_month_is_anchored_at_the_failure() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).event("P", "2020-04-20").line("P", "2020-04", ("lenalidomide",))
    b.vital("P", "2020-12-01")
    res = derive_endpoints(b.build())
    r = row(res, "P")
    # 2020-04 -> 2020-04-15, clamped to the failure 2020-04-20: the line is the salvage line
    assert (r["salvage_status"], r["salvage_start_date"]) == ("treated", pd.Timestamp("2020-04-20"))
    assert res.notes.partial_dates_clamped["treatment_lines.start_date"] == 1


def test_partial_death_is_not_imputed_before_the_patients_latest_record() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).event("P", "2020-05-01").assessment("P", "2020-06-25", "pd")
    b.vital("P", "2020-06", death="2020-06", cause="lymphoma")
    r = row(derive_endpoints(b.build()), "P")
    # death 2020-06 -> 2020-06-15, clamped to the assessment of 2020-06-25; OS-2 = 55 days
    assert r["death_date"] == pd.Timestamp("2020-06-25")
    assert r["os2_months"] == pytest.approx(55 / M, rel=1e-12)


def test_derivation_never_modifies_the_callers_frames() -> None:
    b = RegistryBuilder(cutoff="2020-06-01")
    b.patient("P").infusion("P", "2020-02").event("P", "2020-04").assessment("P", "2020-07-01", "cr")
    b.line("P", "2020-05", ("lenalidomide",), best_response="cr", best_response_date="2020-07-01")
    b.vital("P", "2020-12-01", death="2020-12-01", cause="lymphoma")
    tables = b.build()
    before = {
        name: tables.table(name).copy(deep=True) for name in ("infusions", "treatment_lines", "vital_status")
    }
    derive_endpoints(tables)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(tables.table(name), frame)
