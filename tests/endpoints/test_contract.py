"""The analysis table honours /tmp/analysis-table-contract.md: every contract column, typed."""

from __future__ import annotations

import pandas as pd
import pytest

from postcart.endpoints import EndpointsResult, derive_endpoints

from .builders import RegistryBuilder, plus

DATES = [
    "d0",
    "registration_date",
    "decision_date",
    "failure_date",
    "salvage_start_date",
    "death_date",
    "last_contact_date",
]
BOOLEANS = [
    "infused",
    "prior_lines_gt3",
    "prior_asct",
    "prior_allo",
    "prior_transplant",
    "dec_ecog_ge2",
    "dec_stage_3_4",
    "dec_extranodal_gt1",
    "dec_ldh_high",
    "dec_aaipi_2_3",
    "d0_ecog_ge2",
    "d0_stage_3_4",
    "d0_ldh_high",
    "d0_aaipi_2_3",
    "d0_pd",
    "bridged",
    "cytopenia_d30_ge3",
    "cytopenia_d90_ge3",
    "cart_responder",
    "failed",
    "very_early",
    "pfs2_event",
    "os2_event",
    "pfs_event",
    "os_event",
    "dor_event",
    "comp_lenalidomide",
    "comp_bispecific",
    "comp_targeted",
    "comp_radiotherapy",
    "comp_chemotherapy",
    "comp_anti_cd20",
    "comp_checkpoint",
    "comp_allo",
    "comp_other",
    "rt_localized_sole",
    "salvage_response_evaluable",
    "salvage_orr",
    "salvage_cr",
    "alive",
]
INTEGERS = [
    "prior_lines",
    "dec_ecog",
    "dec_stage",
    "dec_extranodal_sites",
    "dec_ipi",
    "dec_aaipi",
    "d0_ecog",
    "d0_stage",
    "d0_extranodal_sites",
    "d0_ipi",
    "d0_aaipi",
    "crs_grade",
    "icans_grade",
    "days_to_failure",
]
FLOATS = [
    "age_years",
    "d0_albumin_g_l",
    "d0_crp_mg_l",
    "d0_ferritin_ug_l",
    "months_to_failure",
    "pfs2_months",
    "os2_months",
    "pfs_months",
    "os_months",
    "dor_months",
]
CODES: dict[str, set[str]] = {
    "best_response_cart": {"cr", "pr", "sd", "pd", "ne"},
    "timing_group": {"very_early", "early", "late"},
    "salvage_status": {"treated", "none", "unknown"},
    "salvage_class": {
        "lenalidomide",
        "bispecific",
        "targeted",
        "radiotherapy",
        "immunochemotherapy",
        "other",
    },
    "salvage_best_response": {"cr", "pr", "sd", "pd", "ne"},
    "bridging_type": {"none", "low_dose", "conventional", "radiotherapy"},
}
STRINGS = [
    "patient_id",
    "centre_id",
    "product",
    "sex",
    "histology",
    "d0_disease_status",
    "failure_type",
    "salvage_regimen",
    "death_cause",
    *CODES,
]


@pytest.fixture(scope="module")
def result() -> EndpointsResult:
    b = RegistryBuilder()
    d0 = "2020-02-01"
    b.patient("F").infusion("F", d0).event("F", plus(d0, 40)).vital("F", "2021-01-01")
    b.line("F", plus(d0, 50), ("lenalidomide",), best_response="pr").bridging("F", "none")
    b.patient("N").vital("N", "2020-03-01")
    return derive_endpoints(b.build())


def test_every_contract_column_is_present_with_its_type(result: EndpointsResult) -> None:
    t = result.table
    missing = [c for c in [*DATES, *BOOLEANS, *INTEGERS, *FLOATS, *STRINGS] if c not in t.columns]
    assert missing == []
    assert all(t[c].dtype == "datetime64[ns]" for c in DATES)
    assert all(t[c].dtype == "boolean" for c in BOOLEANS)
    assert all(t[c].dtype == "Int64" for c in INTEGERS)
    assert all(t[c].dtype == "float64" for c in FLOATS)
    for c in STRINGS:
        assert t[c].dtype == object
        assert all(v is None or isinstance(v, str) for v in t[c]), c


def test_coded_columns_hold_only_documented_codes(result: EndpointsResult) -> None:
    for col, allowed in CODES.items():
        values = set(result.table[col].dropna())
        assert values <= allowed, col


def test_one_row_per_registered_patient(result: EndpointsResult) -> None:
    assert result.table["patient_id"].tolist() == ["F", "N"]
    assert isinstance(result.table.index, pd.RangeIndex)
