"""Every validation rule refuses its broken example with the exact expected message.

The broken copies live in ``examples/broken/<rule>/`` and are generated from the sample by
``examples/broken/make_broken.py`` (one test checks the committed copies are up to date).
"""

from __future__ import annotations

import filecmp
import importlib.util
from pathlib import Path

import pytest

from postcart.registry import ExtractSchemaError, check_extract

BROKEN = Path(__file__).resolve().parents[2] / "examples" / "broken"

#: Rule -> exact text of every issue the broken copy produces.
EXPECTED: dict[str, list[str]] = {
    "required": [
        "patients.csv row 4 (patient_id=DSC-003), field 'sex': is required but empty [rule: required]"
    ],
    "int": [
        "toxicities.csv row 4 (patient_id=DSC-004), field 'crs_grade': 'two' is not a whole number "
        "[rule: int]"
    ],
    "number": [
        "characteristics.csv row 8 (patient_id=DSC-005), field 'ldh': '4,55' is not a number [rule: number]"
    ],
    "bool": [
        "patients.csv row 3 (patient_id=DSC-002), field 'prior_asct': 'maybe' is not yes or no [rule: bool]"
    ],
    "date": [
        "patients.csv row 4 (patient_id=DSC-003), field 'decision_date': '2020-02-30' is not a valid date "
        "(use YYYY-MM-DD, YYYY-MM or YYYY) [rule: date]"
    ],
    "code": [
        "infusions.csv row 2 (patient_id=DSC-002), field 'product': 'axicel' is not an allowed code "
        "(allowed: axi-cel, tisa-cel, liso-cel, brexu-cel, other) [rule: code]"
    ],
    "code_list": [
        "treatment_lines.csv row 3 (patient_id=DSC-004), field 'components': 'glofitamab;obinutuzumabb' "
        "contains unknown code(s) 'obinutuzumabb' (allowed: see docs/data-dictionary.md) [rule: code]"
    ],
    "pattern": [
        "centres.csv row 3, field 'country': 'France' does not match the pattern ^[A-Z]{2}$ [rule: pattern]"
    ],
    "range": [
        "characteristics.csv row 3 (patient_id=DSC-002), field 'albumin': '8.1' is out of range: "
        "8.1 g/dL = 81 g/L, allowed 5 to 70 g/L [rule: range]"
    ],
    "unit_missing": [
        "characteristics.csv row 5 (patient_id=DSC-003), field 'crp': '6.2' is given without its unit: "
        "crp_unit is empty (allowed: mg/L, mg/dL) [rule: unit_missing]"
    ],
    "duplicate_key": [
        "assessments.csv row 32 (patient_id=DSC-002): duplicates the key (patient_id, visit, "
        "assessment_date) of row 2 [rule: duplicate_key]"
    ],
    "reference": [
        "vital_status.csv row 14 (patient_id=DSC-099), field 'patient_id': 'DSC-099' is not in "
        "patients.csv [rule: reference]"
    ],
    "extract_rows": [
        "extract.csv: must have exactly one row describing the extract, found 2 [rule: extract_rows]"
    ],
    "date_order": [
        "infusions.csv row 4 (patient_id=DSC-004), field 'lymphodepletion_date': '2020-05-08' is after "
        "infusion_date '2020-05-06' of the same row [rule: date_order]"
    ],
    "decision_before_infusion": [
        "infusions.csv row 5 (patient_id=DSC-005), field 'infusion_date': '2019-07-10' is before the "
        "decision date 2019-07-15 (patients.csv row 6) [rule: decision_before_infusion]"
    ],
    "requires_infusion": [
        "toxicities.csv row 13 (patient_id=DSC-001), field 'patient_id': 'DSC-001' has no row in "
        "infusions.csv, so cannot have toxicities rows (they follow the infusion) [rule: requires_infusion]"
    ],
    "after_infusion": [
        "assessments.csv row 24 (patient_id=DSC-011), field 'assessment_date': '2020-07-01' is before the "
        "infusion date (D0) 2020-07-06 (infusions.csv row 11) [rule: after_infusion]"
    ],
    "death_after_events": [
        "vital_status.csv row 8 (patient_id=DSC-007), field 'death_date': '2020-10-10' is before end_date "
        "'2020-10-20' in treatment_lines.csv row 7 [rule: death_after_events]",
        # last contact = death, so it is also before that event:
        "vital_status.csv row 8 (patient_id=DSC-007), field 'last_contact_date': '2020-10-10' is before "
        "end_date '2020-10-20' in treatment_lines.csv row 7 [rule: last_contact_after_events]",
    ],
    "last_contact_not_after_death": [
        "vital_status.csv row 4 (patient_id=DSC-003), field 'last_contact_date': '2020-10-01' is after the "
        "death date 2020-09-14 [rule: last_contact_not_after_death]"
    ],
    "last_contact_after_events": [
        "vital_status.csv row 5 (patient_id=DSC-004), field 'last_contact_date': '2020-12-01' is before "
        "end_date '2020-12-15' in treatment_lines.csv row 3 [rule: last_contact_after_events]"
    ],
    "after_cutoff": [
        "warning: vital_status.csv row 3 (patient_id=DSC-002), field 'last_contact_date': '2022-07-15' is "
        "after the data cut-off 2022-06-30 [rule: after_cutoff]"
    ],
}

#: File-level rules: the extract cannot be read at all (SchemaError).
EXPECTED_SCHEMA: dict[str, list[str]] = {
    "encoding": [
        "centres.csv: is not UTF-8 text (it contains the byte b'\\xf4'); save it as UTF-8 (CSV UTF-8 in "
        "Excel) [rule: encoding]"
    ],
    "csv_format": [
        "toxicities.csv: cannot be read as a table: Error tokenizing data. C error: Expected 5 fields in "
        "line 13, saw 6 [rule: csv_format]"
    ],
    "missing_table": [
        "toxicities.csv: is missing (every table must be present; an empty table is a file or sheet with "
        "only the header row) [rule: missing_table]"
    ],
    "unknown_table": [
        "notes.csv: is not a registry table (tables: extract, centres, patients, characteristics, bridging, "
        "infusions, assessments, toxicities, disease_events, treatment_lines, vital_status) "
        "[rule: unknown_table]"
    ],
    "unknown_column": [
        "patients.csv, field 'weight_kg': is not a field of table 'patients' (see docs/data-dictionary.md) "
        "[rule: unknown_column]"
    ],
    "missing_column": [
        "assessments.csv, field 'deauville': is missing (every field has a column) [rule: missing_column]"
    ],
    "identifier_column": [
        "patients.csv, field 'date_of_birth': looks like a direct identifier (names, initials, exact birth "
        "dates, addresses, phone numbers and e-mails are not allowed in a pseudonymous registry); remove "
        "the column [rule: identifier_column]"
    ],
}


@pytest.mark.parametrize("rule", sorted(EXPECTED))
def test_each_row_rule_reports_its_broken_example_exactly(rule: str) -> None:
    result = check_extract(BROKEN / rule)
    assert [i.text() for i in result.issues] == EXPECTED[rule]
    assert {i.rule for i in result.issues} >= {rule if rule != "code_list" else "code"}


@pytest.mark.parametrize("rule", sorted(EXPECTED_SCHEMA))
def test_each_file_rule_raises_schema_error_with_exact_message(rule: str) -> None:
    with pytest.raises(ExtractSchemaError) as exc:
        check_extract(BROKEN / rule)
    assert [i.text() for i in exc.value.issues] == EXPECTED_SCHEMA[rule]
    assert str(exc.value).splitlines()[1:] == EXPECTED_SCHEMA[rule]


def test_after_cutoff_is_a_warning_not_an_error() -> None:
    result = check_extract(BROKEN / "after_cutoff")
    assert result.ok and len(result.warnings) == 1


def test_every_broken_folder_has_an_expected_message() -> None:
    folders = {p.name for p in BROKEN.iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert folders == set(EXPECTED) | set(EXPECTED_SCHEMA)


def test_committed_broken_examples_match_the_generator(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_broken", BROKEN / "make_broken.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for rule in module.build(tmp_path):
        cmp = filecmp.dircmp(tmp_path / rule, BROKEN / rule)
        assert not (cmp.diff_files or cmp.left_only or cmp.right_only), rule
        _, mismatch, errors = filecmp.cmpfiles(
            tmp_path / rule, BROKEN / rule, [p.name for p in (tmp_path / rule).iterdir()], shallow=False
        )
        assert not mismatch and not errors, (rule, mismatch)
