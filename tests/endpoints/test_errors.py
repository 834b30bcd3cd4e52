"""Bad input is refused with an EndpointError that names the place and the bad value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from postcart.endpoints import EndpointConfig, derive_endpoints, explain_patient
from postcart.errors import EndpointError

from .builders import RegistryBuilder

D0 = "2020-02-01"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"days_per_month": 0.0}, r"days_per_month must be > 0, but was 0.0"),
        ({"partial_month_day": 31}, r"partial_month_day must be in 1..28, but was 31"),
        ({"partial_year_month": 13}, r"partial_year_month must be in 1..12 .* but got 13/1"),
        ({"partial_date_clamp": "always"}, r"partial_date_clamp must be one of \['sequence', 'none'\]"),
        ({"pfs_censoring": "death"}, r"pfs_censoring must be one of \['last_contact', 'last_assessment'\]"),
        ({"group_classes": {"adc": "magic"}}, r"group_classes uses unknown classes \['magic'\]"),
        (
            {"component_groups": {"rituximab": "antibody"}},
            r"component_groups uses unknown groups \['antibody'\]",
        ),
    ],
)
def test_invalid_configuration_is_refused_with_its_value(options: dict[str, Any], message: str) -> None:
    with pytest.raises(EndpointError, match=message):
        EndpointConfig().replace(**options)


def test_group_without_class_is_refused() -> None:
    classes = dict(EndpointConfig().group_classes)
    del classes["allo"]
    with pytest.raises(EndpointError, match=r"group_classes has no class for groups \['allo'\]"):
        EndpointConfig(group_classes=classes)


def test_config_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(EndpointError, match="cannot be read"):
        EndpointConfig.from_file(tmp_path / "missing.yaml")
    bad = tmp_path / "ep.json"
    bad.write_text("{}", encoding="utf-8")
    with pytest.raises(EndpointError, match=r"suffix must be .yaml, .yml or .toml, but was '.json'"):
        EndpointConfig.from_file(bad)
    lst = tmp_path / "ep.yaml"
    lst.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(EndpointError, match="must be a mapping of options"):
        EndpointConfig.from_file(lst)


def test_two_infusions_for_one_patient_are_refused_naming_the_patient() -> None:
    b = RegistryBuilder()
    b.patient("P1").infusion("P1", D0).infusion("P1", "2020-03-01")
    with pytest.raises(
        EndpointError, match=r"table 'infusions' must hold one row per patient, but patients \['P1'\]"
    ):
        derive_endpoints(b.build())


def test_two_characteristics_rows_for_one_timepoint_are_refused() -> None:
    b = RegistryBuilder()
    b.patient("P1").characteristics("P1", "d0", ecog=1).characteristics("P1", "d0", ecog=2)
    with pytest.raises(EndpointError, match=r"patient 'P1' has several rows for timepoint 'd0'"):
        derive_endpoints(b.build())


def test_unknown_component_is_refused_naming_patient_line_and_value() -> None:
    b = RegistryBuilder()
    b.patient("P1").infusion("P1", D0).line("P1", "2020-05-01", ("aspirin",))
    with pytest.raises(
        EndpointError, match=r"patient 'P1', line 1, field 'components': 'aspirin' has no group"
    ):
        derive_endpoints(b.build())


def test_explain_patient_registered_after_cutoff_and_not_infused() -> None:
    b = RegistryBuilder(cutoff="2020-06-01")
    b.patient("LATE", decision="2020-07-01").patient("NI").vital("NI", "2020-05-01")
    with pytest.raises(EndpointError, match=r"patient 'LATE' was registered after the cut-off 2020-06-01"):
        explain_patient(b.build(), "LATE")
    text = explain_patient(b.build(), "NI").to_text()
    assert "infused = False" in text and "no infusion record dated on or before the cut-off" in text
