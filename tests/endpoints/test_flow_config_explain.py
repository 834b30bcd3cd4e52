"""The patient flow, the configuration (files, validation) and ``explain`` / the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from postcart.endpoints import EndpointConfig, derive_endpoints, explain_patient
from postcart.endpoints.io import write_table
from postcart.errors import EndpointError

from .builders import RegistryBuilder, plus

D0 = "2020-02-01"
SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample_registry"


def _cohort() -> RegistryBuilder:
    b = RegistryBuilder(cutoff="2021-04-12")
    b.patient("NOINF").vital("NOINF", "2020-05-01")
    b.patient("CR").infusion("CR", D0).assessment("CR", plus(D0, 30), "cr", visit="d30").vital(
        "CR", "2021-01-01"
    )
    b.patient("SD").infusion("SD", D0).assessment("SD", plus(D0, 30), "sd", visit="d30").vital(
        "SD", "2021-01-01"
    )
    b.patient("T1").infusion("T1", D0).event("T1", plus(D0, 20)).vital("T1", "2021-01-01")
    b.line("T1", plus(D0, 30), ("glofitamab",), best_response="cr")
    b.patient("T2").infusion("T2", D0).event("T2", plus(D0, 50)).vital("T2", "2021-01-01")
    b.line("T2", plus(D0, 60), ("rituximab", "gemcitabine"))
    b.patient("NT").infusion("NT", D0).event("NT", plus(D0, 100), next_treatment="none").vital(
        "NT", "2020-07-01"
    )
    return b


def test_flow_counts_each_step_and_reason_and_reasons_partition_exclusions() -> None:
    res = derive_endpoints(_cohort().build())
    f = res.flow
    assert [s.n for s in f.steps] == [6, 5, 3, 2, 1]
    for prev, step in zip(f.steps, f.steps[1:], strict=False):
        assert prev.n - step.n == step.n_excluded
    assert dict(f.step("failed").exclusions)["no failure: CR"] == 1
    frame = f.to_frame()
    assert list(frame.columns) == ["step", "n", "reason", "count"]
    assert f.as_dict()["cutoff"] == "2021-04-12"
    assert repr(f) == (
        "PatientFlow(registered 6 -> infused 5 -> failed 3 -> salvage data 2 -> response evaluable 1)"
    )


def test_config_is_stated_with_the_result_and_has_the_paper_defaults() -> None:
    res = derive_endpoints(_cohort().build())
    d = res.config.as_dict()
    assert d["days_per_month"] == 30.4375
    assert (d["very_early_max_day"], d["early_max_day"]) == (30, 90)
    assert d["class_precedence"] == [
        "bispecific",
        "lenalidomide",
        "immunochemotherapy",
        "targeted",
        "radiotherapy",
        "other",
    ]
    assert d["partial_date_rule"].startswith("month known -> day 15; year known -> 07-01")


def test_config_reads_yaml_and_toml_overrides(tmp_path: Path) -> None:
    y = tmp_path / "ep.yaml"
    y.write_text("very_early_max_day: 28\ngroup_classes:\n  adc: other\n", encoding="utf-8")
    t = tmp_path / "ep.toml"
    t.write_text('days_per_month = 30.0\n[component_groups]\ntafasitamab = "anti_cd20"\n', encoding="utf-8")
    cy, ct = EndpointConfig.from_file(y), EndpointConfig.from_file(t)
    assert (cy.very_early_max_day, cy.group_classes["adc"], cy.group_classes["chemotherapy"]) == (
        28,
        "other",
        "immunochemotherapy",
    )
    assert (ct.days_per_month, ct.component_groups["tafasitamab"]) == (30.0, "anti_cd20")


def test_config_file_with_unknown_option_is_refused(tmp_path: Path) -> None:
    y = tmp_path / "ep.yaml"
    y.write_text("very_early: 28\n", encoding="utf-8")
    with pytest.raises(EndpointError, match=r"EndpointConfig has no options \['very_early'\]"):
        EndpointConfig.from_file(y)


def test_bad_timing_boundaries_are_refused_with_their_values() -> None:
    with pytest.raises(EndpointError, match="very_early_max_day=90, early_max_day=30"):
        EndpointConfig(very_early_max_day=90, early_max_day=30)


def test_explain_lists_records_and_derivation_sources() -> None:
    b = _cohort()
    b.event("T1", "2022-01-01")  # after the cut-off
    exp = explain_patient(b.build(), "T1")
    text = exp.to_text()
    assert "disease_events.event_date" in text and "ignored: after the cut-off" in text
    assert "first progression/relapse on/after D0: disease_event dated 2020-02-21" in text
    assert "glofitamab -> bispecific -> bispecific" in text
    d = exp.as_dict()
    json.dumps(d)
    assert d["row"]["salvage_class"] == "bispecific" and d["row"]["days_to_failure"] == 20
    assert d["notes"]["records_after_cutoff"] == {"disease_events.event_date": 1}


def test_explain_unknown_patient_names_it() -> None:
    with pytest.raises(EndpointError, match=r"patient 'NOPE' is not in the registry"):
        explain_patient(_cohort().build(), "NOPE")


def test_write_table_csv_and_parquet_round_trip(tmp_path: Path) -> None:
    table = derive_endpoints(_cohort().build()).table
    write_table(table, tmp_path / "a.csv")
    write_table(table, tmp_path / "a.parquet")
    back = pd.read_parquet(tmp_path / "a.parquet")
    assert back["days_to_failure"].dtype == "Int64" and len(back) == 6
    assert pd.read_csv(tmp_path / "a.csv")["patient_id"].tolist() == table["patient_id"].tolist()
    with pytest.raises(EndpointError, match=r"suffix must be one of \['.csv', '.parquet'\], but was '.xlsx'"):
        write_table(table, tmp_path / "a.xlsx")


def test_cli_explain_and_derive_on_the_sample_extract(tmp_path: Path) -> None:
    from postcart.cli.main import app

    runner = CliRunner()
    out = runner.invoke(app, ["explain", "DSC-003", "--extract", str(SAMPLE), "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["row"]["timing_group"] == "very_early"
    out = runner.invoke(app, ["explain", "NOPE", "--extract", str(SAMPLE)])
    assert out.exit_code == 1
    dest = tmp_path / "table.csv"
    out = runner.invoke(
        app, ["derive", "--extract", str(SAMPLE), "--cutoff", "2021-01-01", "--out", str(dest)]
    )
    assert out.exit_code == 0, out.output
    assert "registered: " in out.output and dest.exists()
    assert "excluded, not infused (no infusion record): 1" in out.output


def test_docs_mapping_table_matches_the_default_config() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "endpoints.md").read_text(encoding="utf-8")
    cfg = EndpointConfig()
    seen: dict[str, str] = {}
    for line in doc.splitlines():
        if line.startswith("| `") and "comp_" not in line and line.count("|") == 4:
            cells = [c.strip() for c in line.strip("|").split("|")]
            group = cells[0].strip("`")
            if group in cfg.group_classes:
                for comp in cells[1].split(","):
                    seen[comp.strip()] = group
                assert cells[2].split(" ")[0] == cfg.group_classes[group], group
    assert seen == dict(cfg.component_groups)
