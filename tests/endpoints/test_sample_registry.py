"""End to end: the hand-written sample registry (examples/sample_registry) read by read_extract,
derived, and a few patients checked against dates worked by hand (cut-off 2022-06-30)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from postcart.endpoints import EndpointsResult, derive_endpoints
from postcart.registry import read_extract

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample_registry"
M = 30.4375


@pytest.fixture(scope="module")
def result() -> EndpointsResult:
    return derive_endpoints(read_extract(SAMPLE))


def _r(result: EndpointsResult, pid: str) -> pd.Series:
    t = result.table
    return t.loc[t["patient_id"] == pid].iloc[0]


def test_sample_flow_counts(result: EndpointsResult) -> None:
    f = result.flow
    assert [s.n for s in f.steps] == [12, 11, 8, 6, 6]
    assert dict(f.step("failed").exclusions)["no failure: SD (stable disease is not failure)"] == 1
    assert dict(f.step("salvage data").exclusions) == {
        "no further treatment": 1,
        "unknown (no treatment line recorded)": 1,
    }


def test_dsc003_very_early_failure_then_lenalidomide(result: EndpointsResult) -> None:
    r = _r(result, "DSC-003")
    # D0 2020-02-20 -> failure 2020-03-19: 9 + 19 = 28 days (2020 leap year)
    assert (r["days_to_failure"], r["timing_group"]) == (28, "very_early")
    # failure 2020-03-19 -> death 2020-09-14: 12+30+31+30+31+31+14 = 179 days
    assert r["os2_months"] == pytest.approx(179 / M, rel=1e-12) and bool(r["os2_event"])
    assert r["pfs2_months"] == pytest.approx(179 / M, rel=1e-12)
    assert (r["salvage_class"], r["salvage_best_response"]) == ("lenalidomide", "pr")


def test_dsc005_late_relapse_first_salvage_line_is_targeted(result: EndpointsResult) -> None:
    r = _r(result, "DSC-005")
    # D0 2019-07-10 -> 2020-01-06: 21+31+30+31+30+31+6 = 180 days
    assert (r["days_to_failure"], r["timing_group"], r["failure_type"]) == (180, "late", "relapse")
    assert r["best_response_cart"] == "cr"
    # 2020-01-06 -> death 2020-06-18: 25+29+31+30+31+18 = 164 days
    assert r["os2_months"] == pytest.approx(164 / M, rel=1e-12)
    assert (r["salvage_line_number"], r["salvage_class"], bool(r["salvage_orr"])) == (1, "targeted", False)


def test_dsc009_death_on_failure_day_without_treatment(result: EndpointsResult) -> None:
    r = _r(result, "DSC-009")
    assert (r["os2_months"], bool(r["os2_event"]), r["pfs2_months"]) == (0.0, True, 0.0)
    assert r["salvage_status"] == "none"


def test_dsc012_partial_failure_month_is_the_15th(result: EndpointsResult) -> None:
    r = _r(result, "DSC-012")
    # 2021-11 -> 2021-11-15; D0 2020-06-15 -> 2021-11-15 = 365 + 153 = 518 days
    assert r["failure_date"] == pd.Timestamp("2021-11-15") and r["days_to_failure"] == 518
    # censored at last contact 2022-06-20: 181 + 36 = 217 days after failure
    assert r["os2_months"] == pytest.approx(217 / M, rel=1e-12) and not bool(r["os2_event"])
    assert r["salvage_status"] == "unknown"
    assert result.notes.partial_dates_imputed["disease_events.event_date"] == 1


def test_dsc011_stable_disease_is_not_a_failure(result: EndpointsResult) -> None:
    r = _r(result, "DSC-011")
    assert (r["best_response_cart"], bool(r["failed"])) == ("sd", False)


def test_database_round_trip_gives_the_same_analysis_table(tmp_path: Path, result: EndpointsResult) -> None:
    from typer.testing import CliRunner

    from postcart.cli.main import app
    from postcart.registry import import_extract, load_registry

    db = str(tmp_path / "registry.sqlite")
    import_extract(SAMPLE, db)
    from_db = derive_endpoints(load_registry(db))
    pd.testing.assert_frame_equal(from_db.table, result.table)
    out = CliRunner().invoke(app, ["explain", "DSC-005", "--db", db])
    assert out.exit_code == 0, out.output
    assert "salvage_class = targeted" in out.output
