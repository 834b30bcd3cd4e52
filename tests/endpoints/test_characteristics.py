"""IPI/aaIPI from components (with missing ones), canonical units, baseline flags (by hand)."""

from __future__ import annotations

import pandas as pd
import pytest

from postcart.endpoints import EndpointsResult, derive_endpoints

from .builders import RegistryBuilder


@pytest.fixture(scope="module")
def result() -> EndpointsResult:
    b = RegistryBuilder()
    dec = "decision"
    b.patient("A", age=65.0, prior_lines=4, prior_asct=True).characteristics(
        "A", dec, ecog=2, ann_arbor_stage=3, extranodal_sites=2, ldh=300.0, ldh_uln=250.0
    )
    b.patient("B", age=55.0, prior_lines=3).characteristics(
        "B", dec, ecog=1, ann_arbor_stage=2, extranodal_sites=1, ldh=200.0, ldh_uln=250.0
    )
    b.patient("C", age=70.0).characteristics(
        "C", dec, ann_arbor_stage=4, extranodal_sites=0, ldh=300.0, ldh_uln=250.0
    )
    b.patient("D", age=70.0).characteristics(
        "D", dec, ecog=0, ann_arbor_stage=4, extranodal_sites=0, ldh=300.0
    )
    b.patient("E", age=50.0).characteristics("E", dec, ecog=0, ann_arbor_stage=3, ldh=260.0, ldh_uln=250.0)
    b.patient("F", age=60.0).characteristics(
        "F", dec, ecog=0, ann_arbor_stage=1, extranodal_sites=0, ldh=250.0, ldh_uln=250.0
    )
    # D0 age crosses 60: 59.9 at decision 2020-01-01, D0 2020-03-01 (60 days) -> 60.064
    b.patient("G", age=59.9, decision="2020-01-01").infusion("G", "2020-03-01").characteristics(
        "G",
        "d0",
        ecog=0,
        ann_arbor_stage=1,
        extranodal_sites=0,
        ldh=100.0,
        ldh_uln=250.0,
        crp=2.5,
        crp_unit="mg/dL",
        ferritin=2247.0,
        ferritin_unit="pmol/L",
        albumin=3.5,
        albumin_unit="g/dL",
        disease_status="pd",
    )
    b.patient("H", age=None, birth_year=1955, decision="2020-01-01").infusion("H", "2020-02-01")
    b.characteristics("H", "d0", crp=12.0, ferritin=500.0, ferritin_unit="ng/mL", disease_status="cr")
    b.bridging("A", "conventional").bridging("B", "none")
    b.toxicities("A", crs_grade=2, icans_grade=0, cytopenia_d30_grade=3, cytopenia_d90_grade=2)
    return derive_endpoints(b.build())


@pytest.fixture(scope="module")
def table(result: EndpointsResult) -> pd.DataFrame:
    return result.table.set_index("patient_id")


def test_ipi_and_aaipi_from_all_components(table: pd.DataFrame) -> None:
    # A: age>60, stage III, LDH 300>250, ECOG 2, 2 extranodal sites -> IPI 5, aaIPI 3
    assert (table.loc["A", "dec_ipi"], table.loc["A", "dec_aaipi"]) == (5, 3)
    assert bool(table.loc["A", "dec_aaipi_2_3"]) is True
    # B: none of the factors -> 0 / 0
    assert (table.loc["B", "dec_ipi"], table.loc["B", "dec_aaipi"]) == (0, 0)
    assert bool(table.loc["B", "dec_aaipi_2_3"]) is False


def test_missing_component_makes_the_scores_that_need_it_missing(table: pd.DataFrame) -> None:
    # C: ECOG missing -> both NA
    assert pd.isna(table.loc["C", "dec_ipi"]) and pd.isna(table.loc["C", "dec_aaipi"])
    assert pd.isna(table.loc["C", "dec_aaipi_2_3"])
    # D: LDH ULN missing -> LDH high NA -> both NA
    assert pd.isna(table.loc["D", "dec_ldh_high"]) and pd.isna(table.loc["D", "dec_ipi"])
    # E: extranodal missing -> IPI NA, aaIPI = stage III (1) + LDH 260>250 (1) + ECOG 0 = 2
    assert pd.isna(table.loc["E", "dec_ipi"])
    assert table.loc["E", "dec_aaipi"] == 2 and bool(table.loc["E", "dec_aaipi_2_3"]) is True


def test_boundaries_age_60_and_ldh_equal_to_uln_do_not_count(table: pd.DataFrame) -> None:
    assert table.loc["F", "dec_ipi"] == 0
    assert bool(table.loc["F", "dec_ldh_high"]) is False


def test_d0_ipi_uses_age_at_d0(table: pd.DataFrame) -> None:
    assert table.loc["G", "age_d0_years"] == pytest.approx(59.9 + 60 / 365.25, rel=1e-12)
    assert table.loc["G", "d0_ipi"] == 1 and table.loc["G", "d0_aaipi"] == 0


def test_units_are_converted_to_canonical(table: pd.DataFrame, result: EndpointsResult) -> None:
    g = table.loc["G"]
    assert g["d0_crp_mg_l"] == pytest.approx(25.0, rel=1e-12)  # 2.5 mg/dL x 10
    assert g["d0_crp_scaled"] == pytest.approx(2.5, rel=1e-12)  # per 10 mg/L
    assert g["d0_ferritin_ug_l"] == pytest.approx(1000.0, rel=1e-12)  # 2247 pmol/L / 2.247
    assert g["d0_ferritin_scaled"] == pytest.approx(10.0, rel=1e-12)  # per 100 ug/L
    assert g["d0_albumin_g_l"] == pytest.approx(35.0, rel=1e-12)  # 3.5 g/dL x 10
    assert g["d0_disease_status"] == "pd" and bool(g["d0_pd"]) is True
    h = table.loc["H"]
    assert h["d0_crp_mg_l"] == pytest.approx(12.0, rel=1e-12)  # no unit: taken as mg/L, counted
    assert h["d0_ferritin_ug_l"] == pytest.approx(500.0, rel=1e-12)  # ng/mL = ug/L
    assert bool(h["d0_pd"]) is False
    assert result.notes.counts["d0_crp_unit_missing_assumed_canonical"] == 1


def test_age_from_birth_year_when_age_is_missing(table: pd.DataFrame, result: EndpointsResult) -> None:
    assert table.loc["H", "age_years"] == pytest.approx(2020 - 1955 - 0.5, rel=1e-12)
    assert result.notes.counts["age_from_birth_year"] == 1


def test_prior_lines_bridging_and_toxicity_flags(table: pd.DataFrame) -> None:
    a, b = table.loc["A"], table.loc["B"]
    assert (bool(a["prior_lines_gt3"]), bool(b["prior_lines_gt3"])) == (True, False)
    assert (bool(a["prior_transplant"]), bool(b["prior_transplant"])) == (True, False)
    assert (a["bridging_type"], bool(a["bridged"]), bool(b["bridged"])) == ("conventional", True, False)
    assert pd.isna(table.loc["C", "bridged"])
    assert (bool(a["cytopenia_d30_ge3"]), bool(a["cytopenia_d90_ge3"])) == (True, False)
    assert pd.isna(table.loc["B", "cytopenia_d30_ge3"])
    assert (a["crs_grade"], a["icans_grade"]) == (2, 0)
