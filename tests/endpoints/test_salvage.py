"""Salvage after failure: first line, class mapping and precedence, flags, status, response."""

from __future__ import annotations

import pandas as pd
import pytest

from postcart.endpoints import COMPONENT_GROUPS, EndpointConfig, derive_endpoints
from postcart.errors import EndpointError

from .builders import RegistryBuilder, plus, row

D0 = "2020-02-01"
FAIL = plus(D0, 60)


def _salvage(components: tuple[str, ...], **line: object) -> pd.Series:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).event("P", FAIL).vital("P", "2021-01-01")
    b.line("P", plus(D0, 70), components, **line)  # type: ignore[arg-type]
    return row(derive_endpoints(b.build()), "P")


CLASS_CASES: list[tuple[tuple[str, ...], str]] = [
    (("lenalidomide",), "lenalidomide"),
    (("lenalidomide", "rituximab"), "lenalidomide"),
    (("lenalidomide", "tafasitamab"), "lenalidomide"),
    (("glofitamab",), "bispecific"),
    (("blinatumomab",), "bispecific"),
    (("ibrutinib",), "targeted"),
    (("venetoclax",), "targeted"),
    (("polatuzumab_vedotin",), "targeted"),  # ADC without chemotherapy: targeted by default
    (("polatuzumab_vedotin", "rituximab", "bendamustine"), "immunochemotherapy"),
    (("rituximab", "gemcitabine", "oxaliplatin"), "immunochemotherapy"),
    (("cytarabine", "cisplatin", "steroids"), "immunochemotherapy"),
    (("radiotherapy",), "radiotherapy"),
    (("rituximab",), "other"),
    (("nivolumab",), "other"),
    (("allo_sct",), "other"),
    (("car_t",), "other"),
    (("trial_drug",), "other"),
    # precedence: bispecific > lenalidomide > immunochemotherapy > targeted > radiotherapy > other
    (("glofitamab", "lenalidomide"), "bispecific"),
    (("lenalidomide", "gemcitabine"), "lenalidomide"),
    (("gemcitabine", "ibrutinib"), "immunochemotherapy"),
    (("ibrutinib", "radiotherapy"), "targeted"),
    (("radiotherapy", "rituximab"), "radiotherapy"),
    (("epcoritamab", "gemcitabine", "oxaliplatin", "radiotherapy"), "bispecific"),
]


@pytest.fixture(scope="module")
def class_table() -> pd.DataFrame:
    b = RegistryBuilder()
    for i, (components, _) in enumerate(CLASS_CASES):
        pid = f"P{i}"
        b.patient(pid).infusion(pid, D0).event(pid, FAIL).vital(pid, "2021-01-01")
        b.line(pid, plus(D0, 70), components)
    return derive_endpoints(b.build()).table.set_index("patient_id")


@pytest.mark.parametrize(
    ("i", "case"), list(enumerate(CLASS_CASES)), ids=[";".join(c) for c, _ in CLASS_CASES]
)
def test_each_component_set_maps_to_its_documented_class_by_precedence(
    class_table: pd.DataFrame, i: int, case: tuple[tuple[str, ...], str]
) -> None:
    assert class_table.loc[f"P{i}", "salvage_class"] == case[1]


def test_component_flags_are_multi_label() -> None:
    r = _salvage(("lenalidomide", "rituximab", "radiotherapy"))
    flags = {g for g in COMPONENT_GROUPS if bool(r[f"comp_{g}"])}
    assert flags == {"lenalidomide", "anti_cd20", "radiotherapy"}
    assert r["salvage_components"] == "lenalidomide;rituximab;radiotherapy"


def test_mapping_and_precedence_are_overridable() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).event("P", FAIL).vital("P", "2021-01-01")
    b.line("P", plus(D0, 70), ("polatuzumab_vedotin", "lenalidomide"))
    tables = b.build()
    cfg = EndpointConfig().replace(group_classes={"adc": "other"})
    assert row(derive_endpoints(tables, config=cfg), "P")["salvage_class"] == "lenalidomide"
    order = ("targeted", "bispecific", "lenalidomide", "immunochemotherapy", "radiotherapy", "other")
    cfg2 = EndpointConfig().replace(class_precedence=order)
    assert row(derive_endpoints(tables, config=cfg2), "P")["salvage_class"] == "targeted"


def test_rt_localized_sole_needs_radiotherapy_only_and_localized() -> None:
    assert bool(_salvage(("radiotherapy",), radiotherapy_localized=True)["rt_localized_sole"]) is True
    assert bool(_salvage(("radiotherapy",), radiotherapy_localized=False)["rt_localized_sole"]) is False
    assert pd.isna(_salvage(("radiotherapy",))["rt_localized_sole"])
    mixed = _salvage(("radiotherapy", "rituximab"), radiotherapy_localized=True)
    assert bool(mixed["rt_localized_sole"]) is False and mixed["salvage_class"] == "radiotherapy"


def test_salvage_is_the_first_line_started_on_or_after_failure() -> None:
    b = RegistryBuilder()
    b.patient("P").infusion("P", D0).event("P", FAIL).vital("P", "2021-01-01")
    b.line("P", plus(D0, 20), ("radiotherapy",))  # before failure: not salvage
    b.line("P", plus(D0, 120), ("ibrutinib",))
    b.line("P", FAIL, ("glofitamab",))  # same day as failure: salvage
    r = row(derive_endpoints(b.build()), "P")
    assert (r["salvage_class"], r["salvage_line_number"]) == ("bispecific", 3)
    assert r["salvage_start_date"] == pd.Timestamp(FAIL)


def test_salvage_status_treated_none_unknown() -> None:
    b = RegistryBuilder()
    b.patient("T").infusion("T", D0).event("T", FAIL, next_treatment="given").vital("T", "2021-01-01")
    b.line("T", plus(D0, 70), ("lenalidomide",), best_response="pd")
    b.patient("N").infusion("N", D0).event("N", FAIL, next_treatment="none").vital("N", "2021-01-01")
    b.patient("U").infusion("U", D0).event("U", FAIL).vital("U", "2021-01-01")
    b.patient("G").infusion("G", D0).event("G", FAIL, next_treatment="given").vital("G", "2021-01-01")
    b.patient("X").infusion("X", D0).vital("X", "2021-01-01")
    res = derive_endpoints(b.build())
    status = dict(zip(res.table["patient_id"], res.table["salvage_status"], strict=True))
    assert status == {"T": "treated", "N": "none", "U": "unknown", "G": "unknown", "X": None}
    assert res.notes.counts["next_treatment_given_without_line"] == 1
    assert pd.isna(row(res, "N")["comp_lenalidomide"]) and row(res, "N")["salvage_class"] is None
    step = res.flow.step("salvage data")
    assert step.n == 1
    assert dict(step.exclusions) == {"no further treatment": 1, "unknown (no treatment line recorded)": 2}


def test_ne_is_evaluable_and_missing_response_is_not() -> None:
    b = RegistryBuilder()
    for pid, resp in (("CR", "cr"), ("PR", "pr"), ("SD", "sd"), ("PD", "pd"), ("NE", "ne"), ("NA", None)):
        b.patient(pid).infusion(pid, D0).event(pid, FAIL).vital(pid, "2021-01-01")
        b.line(pid, plus(D0, 70), ("lenalidomide",), best_response=resp)
    res = derive_endpoints(b.build())
    t = res.table.set_index("patient_id")
    assert t.loc["NE", "salvage_best_response"] == "ne"
    assert bool(t.loc["NE", "salvage_response_evaluable"]) is True
    assert bool(t.loc["NE", "salvage_orr"]) is False
    assert t.loc["NA", "salvage_best_response"] is None
    assert bool(t.loc["NA", "salvage_response_evaluable"]) is False
    assert pd.isna(t.loc["NA", "salvage_orr"]) and pd.isna(t.loc["NA", "salvage_cr"])
    assert [bool(t.loc[p, "salvage_orr"]) for p in ("CR", "PR", "SD", "PD")] == [True, True, False, False]
    assert [bool(t.loc[p, "salvage_cr"]) for p in ("CR", "PR")] == [True, False]
    step = res.flow.step("response evaluable")
    assert (step.n, dict(step.exclusions)) == (5, {"no response data": 1})


def test_config_must_map_every_component_code() -> None:
    groups = dict(EndpointConfig().component_groups)
    del groups["glofitamab"]
    with pytest.raises(EndpointError, match=r"component_groups has no group for components \['glofitamab'\]"):
        EndpointConfig(component_groups=groups)


def test_unknown_class_in_precedence_is_refused() -> None:
    with pytest.raises(EndpointError, match="class_precedence must order exactly the classes"):
        EndpointConfig(class_precedence=("bispecific", "other"))
