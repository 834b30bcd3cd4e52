"""PFS-2, OS-2, PFS, OS and DOR on hand-built timelines (months = days / 30.4375, by hand)."""

from __future__ import annotations

import pandas as pd
import pytest

from postcart.endpoints import EndpointConfig, derive_endpoints

from .builders import RegistryBuilder, plus, row

D0 = "2020-02-01"
M = 30.4375


def _months(days: int) -> float:
    return days / M


def test_death_on_the_day_of_failure_is_an_event_at_time_zero() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).event("P", plus(D0, 45))
    b.vital("P", plus(D0, 45), death=plus(D0, 45), cause="lymphoma")
    res = derive_endpoints(b.build())
    r = row(res, "P")
    assert (r["pfs2_months"], bool(r["pfs2_event"]), r["pfs2_end_source"]) == (0.0, True, "death")
    assert (r["os2_months"], bool(r["os2_event"])) == (0.0, True)
    assert r["pfs_months"] == pytest.approx(_months(45), rel=1e-12)
    assert r["pfs_end_source"] == "failure"
    assert r["os_months"] == pytest.approx(_months(45), rel=1e-12)
    assert res.notes.counts["death_on_failure_day"] == 1


def test_pfs2_ends_at_the_next_disease_event_and_os2_at_death() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).event("P", plus(D0, 60), event_type="relapse")
    b.event("P", plus(D0, 150))
    b.vital("P", plus(D0, 200), death=plus(D0, 200), cause="lymphoma")
    r = row(derive_endpoints(b.build()), "P")
    assert r["pfs2_months"] == pytest.approx(_months(90), rel=1e-12)
    assert (bool(r["pfs2_event"]), r["pfs2_end_source"]) == (True, "second_progression")
    assert r["second_progression_source"] == "disease_event"
    assert r["os2_months"] == pytest.approx(_months(140), rel=1e-12)
    assert bool(r["os2_event"]) is True


def test_pd_assessment_is_a_second_progression_only_after_a_documented_response() -> None:
    b = RegistryBuilder()
    b.patient("A").infusion("A", D0).event("A", plus(D0, 60))
    b.assessment("A", plus(D0, 90), "pd", visit="d90")  # the ongoing first progression
    b.assessment("A", plus(D0, 120), "pr").assessment("A", plus(D0, 180), "pd", visit="d180")
    b.vital("A", "2021-01-01")
    b.patient("B").infusion("B", D0).event("B", plus(D0, 60))
    b.assessment("B", plus(D0, 90), "pd", visit="d90").vital("B", "2021-01-01")
    res = derive_endpoints(b.build())
    a = row(res, "A")
    assert a["pfs2_months"] == pytest.approx(_months(120), rel=1e-12)
    assert a["second_progression_source"] == "assessment"
    bb = row(res, "B")
    # censored at last contact 2021-01-01, failure 2020-04-01: 275 days
    assert bb["pfs2_months"] == pytest.approx(_months(275), rel=1e-12)
    assert (bool(bb["pfs2_event"]), bb["pfs2_end_source"]) == (False, "last_contact")


def test_alive_failure_is_censored_at_last_contact_for_pfs2_and_os2() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).event("P", plus(D0, 60)).vital("P", "2021-01-01")
    r = row(derive_endpoints(b.build()), "P")
    for ep in ("pfs2", "os2"):
        assert r[f"{ep}_months"] == pytest.approx(_months(275), rel=1e-12)
        assert bool(r[f"{ep}_event"]) is False
    assert r["os_months"] == pytest.approx(_months(335), rel=1e-12)  # 2020-02-01 -> 2021-01-01


def test_pfs_censoring_at_last_assessment_is_a_config_option() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).event("P", plus(D0, 60))
    b.assessment("P", plus(D0, 120), "sd").vital("P", "2021-01-01")
    r = row(derive_endpoints(b.build(), config=EndpointConfig(pfs_censoring="last_assessment")), "P")
    assert r["pfs2_months"] == pytest.approx(_months(60), rel=1e-12)
    assert r["pfs2_end_source"] == "last_assessment"
    assert r["os2_months"] == pytest.approx(_months(275), rel=1e-12)  # OS-2 still at last contact


def test_no_contact_after_infusion_gives_censoring_at_time_zero() -> None:
    b = RegistryBuilder()
    b.patient("V").infusion("V", D0).vital("V", D0)
    b.patient("N").infusion("N", D0)  # no vital status row at all
    res = derive_endpoints(b.build())
    for pid in ("V", "N"):
        r = row(res, pid)
        assert (r["os_months"], bool(r["os_event"])) == (0.0, False)
        assert (r["pfs_months"], bool(r["pfs_event"])) == (0.0, False)
    assert res.notes.counts["os_censored_at_origin"] == 2
    assert res.notes.counts["no_vital_status_record"] == 1
    assert pd.isna(row(res, "N")["alive"])


def test_last_contact_is_raised_to_the_latest_dated_record() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).assessment("P", plus(D0, 90), "cr", visit="d90")
    b.vital("P", plus(D0, 20))
    res = derive_endpoints(b.build())
    r = row(res, "P")
    assert r["last_contact_date"] == pd.Timestamp(plus(D0, 90))
    assert r["os_months"] == pytest.approx(_months(90), rel=1e-12)
    assert res.notes.counts["last_contact_raised_to_latest_record"] == 1


def test_death_without_failure_is_a_pfs_event_and_counted() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).assessment("P", plus(D0, 30), "pr", visit="d30")
    b.vital("P", plus(D0, 100), death=plus(D0, 100), cause="infection")
    res = derive_endpoints(b.build())
    r = row(res, "P")
    assert (r["pfs_end_source"], bool(r["pfs_event"])) == ("death", True)
    assert r["pfs_months"] == pytest.approx(_months(100), rel=1e-12)
    assert r["dor_months"] == pytest.approx(_months(70), rel=1e-12)
    assert bool(r["dor_event"]) is True
    assert pd.isna(r["pfs2_months"]) and pd.isna(r["os2_months"])
    assert res.notes.counts["died_without_failure"] == 1


def test_dor_of_an_ongoing_responder_is_censored_at_last_contact() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).assessment("P", plus(D0, 30), "cr", visit="d30")
    b.vital("P", plus(D0, 400))
    r = row(derive_endpoints(b.build()), "P")
    assert r["dor_months"] == pytest.approx(_months(370), rel=1e-12)
    assert bool(r["dor_event"]) is False


def test_dor_is_missing_for_non_responders() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).assessment("P", plus(D0, 30), "sd", visit="d30")
    b.vital("P", plus(D0, 100))
    r = row(derive_endpoints(b.build()), "P")
    assert pd.isna(r["dor_months"]) and pd.isna(r["dor_event"])


def test_death_recorded_before_failure_gives_time_zero_and_is_counted() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).event("P", plus(D0, 60))
    b.vital("P", plus(D0, 50), death=plus(D0, 50))
    res = derive_endpoints(b.build())
    r = row(res, "P")
    assert (r["os2_months"], bool(r["os2_event"])) == (0.0, True)
    assert res.notes.counts["os2_event_before_origin"] == 1


def test_days_per_month_is_the_one_configurable_constant() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).event("P", plus(D0, 60)).vital("P", plus(D0, 90))
    r = row(derive_endpoints(b.build(), config=EndpointConfig(days_per_month=30.0)), "P")
    assert r["months_to_failure"] == pytest.approx(2.0, rel=1e-12)
    assert r["os2_months"] == pytest.approx(1.0, rel=1e-12)
    assert r["os_months"] == pytest.approx(3.0, rel=1e-12)


def test_last_assessment_censoring_without_any_assessment_ends_at_the_origin() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).vital("P", "2021-01-01")
    res = derive_endpoints(b.build(), config=EndpointConfig(pfs_censoring="last_assessment"))
    r = row(res, "P")
    assert (r["pfs_months"], bool(r["pfs_event"]), r["pfs_end_source"]) == (0.0, False, "origin")
    assert r["os_months"] == pytest.approx(335 / M, rel=1e-12)  # OS still at last contact
    assert res.notes.counts["pfs_no_censoring_date"] == 1
