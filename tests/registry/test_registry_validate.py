"""Validation details: partial dates, workbook input, row numbering, report formats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from postcart.registry import ExtractSchemaError, check_extract, format_issues, read_extract
from postcart.registry.schema import TABLES
from postcart.registry.validate import certainly_before, parse_dates


def _dates(*values: str) -> tuple[pd.Series, pd.Series]:
    d, p, invalid = parse_dates(pd.Series(list(values), dtype=object))
    assert not invalid.any()
    return d, p


@pytest.mark.parametrize(
    ("a", "b", "before"),
    [
        ("2021-03-04", "2021-03-05", True),
        ("2021-03-05", "2021-03-05", False),  # same day is not "before"
        ("2021-03", "2021-03-05", False),  # month compatible with the day: not certainly before
        ("2021-03-31", "2021-03", False),
        ("2021-02", "2021-03-01", True),
        ("2021", "2021-12-31", False),
        ("2020-12-31", "2021", True),
        ("2021-06", "2021", False),
    ],
)
def test_partial_dates_compare_at_the_coarser_precision(a: str, b: str, before: bool) -> None:
    da, pa = _dates(a)
    db, pb = _dates(b)
    assert bool(certainly_before(da, pa, db, pb)[0]) is before


def test_partial_dates_parse_to_first_day_with_precision() -> None:
    d, p, invalid = parse_dates(pd.Series(["2021", "2021-02", "2021-02-03", "", "2021-2-3", "2021-02-29"]))
    assert list(d[:3]) == [pd.Timestamp("2021-01-01"), pd.Timestamp("2021-02-01"), pd.Timestamp("2021-02-03")]
    assert list(p) == ["year", "month", "day", None, None, None]
    assert list(invalid) == [False, False, False, False, True, True]


def test_a_partial_date_compatible_with_the_order_is_not_an_error(sample: Path) -> None:
    # infusion 2020-02-20; an assessment dated only "2020-02" may be on or after D0
    f = sample / "assessments.csv"
    f.write_text(f.read_text().replace("DSC-003,d30,2020-03-21,2020-03-19", "DSC-003,d30,2020-03-21,2020-02"))
    result = check_extract(sample)
    assert result.issues == ()


def test_row_numbers_count_the_header_as_row_one_and_keep_blank_lines(sample: Path) -> None:
    f = sample / "patients.csv"
    lines = f.read_text().splitlines(keepends=True)
    lines.insert(2, "\n")  # a blank line after the first patient
    lines[4] = lines[4].replace(",male,", ",mal,")  # DSC-003 is now on line 5
    f.write_text("".join(lines))
    issues = check_extract(sample).issues
    assert [(i.file, i.row, i.patient_id, i.field, i.value, i.rule) for i in issues] == [
        ("patients.csv", 5, "DSC-003", "sex", "mal", "code")
    ]


def test_every_problem_is_collected_before_stopping(sample: Path) -> None:
    for table, old, new in (
        ("patients", "DSC-002,C01,female", "DSC-002,C01,femme"),
        ("toxicities", "DSC-011,0,0,1,0", "DSC-011,0,0,1,9"),
        ("vital_status", "DSC-011,2022-03-15,,", "DSC-011,2022-03-15,2021-01-01,"),
    ):
        f = sample / f"{table}.csv"
        f.write_text(f.read_text().replace(old, new))
    found = [(i.file, i.row, i.rule) for i in check_extract(sample).errors]
    assert found == [
        ("patients.csv", 3, "code"),
        ("toxicities.csv", 11, "range"),
        ("vital_status.csv", 12, "last_contact_not_after_death"),
        ("vital_status.csv", 12, "death_after_events"),  # before the D180 assessment
        ("vital_status.csv", 12, "death_after_events"),  # before the D360 assessment
    ]


def test_workbook_extract_reads_like_the_csv_folder(sample: Path, tmp_path: Path) -> None:
    """A hand-made workbook with real date, number and boolean cells reads as the CSV does."""
    wb = Workbook()
    wb.remove(wb.active)
    for spec in TABLES:
        frame = pd.read_csv(sample / f"{spec.name}.csv", dtype=str, keep_default_na=False)
        ws = wb.create_sheet(spec.name)
        ws.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            cells: list[object] = []
            for col, v in zip(frame.columns, row, strict=True):
                kind = spec.field(col).kind
                if v == "":
                    cells.append(None)
                elif kind == "date" and len(v) == 10:
                    cells.append(pd.Timestamp(v).to_pydatetime())
                elif kind in ("int", "float"):
                    cells.append(float(v))
                elif kind == "bool":
                    cells.append(v == "yes")
                else:
                    cells.append(v)
            ws.append(cells)
    book = tmp_path / "extract.xlsx"
    wb.save(book)
    from_book = read_extract(book)
    from_csv = read_extract(sample)
    for spec in TABLES:
        pd.testing.assert_frame_equal(from_book.table(spec.name), from_csv.table(spec.name), obj=spec.name)


def test_issue_report_formats_for_tools() -> None:
    from postcart.registry.issues import ValidationIssue

    issue = ValidationIssue(
        "patients.csv", 57, "DSC-0123", "decision_date", "2021-02-30", "date", "is not a valid date"
    )
    assert format_issues([issue], "text") == (
        "patients.csv row 57 (patient_id=DSC-0123), field 'decision_date': '2021-02-30' is not a valid date "
        "[rule: date]\n"
    )
    rows = list(csv.reader(io.StringIO(format_issues([issue], "csv"))))
    assert rows == [
        ["severity", "file", "row", "patient_id", "field", "value", "rule", "message"],
        [
            "error",
            "patients.csv",
            "57",
            "DSC-0123",
            "decision_date",
            "2021-02-30",
            "date",
            "is not a valid date",
        ],
    ]
    assert json.loads(format_issues([issue], "json")) == [
        {
            "severity": "error",
            "file": "patients.csv",
            "row": 57,
            "patient_id": "DSC-0123",
            "field": "decision_date",
            "value": "2021-02-30",
            "rule": "date",
            "message": "is not a valid date",
        }
    ]


def test_a_table_given_twice_is_refused(sample: Path) -> None:
    pd.read_csv(sample / "patients.csv", dtype=str).to_parquet(sample / "patients.parquet")
    with pytest.raises(ExtractSchemaError) as exc:
        check_extract(sample)
    assert [i.text() for i in exc.value.issues] == [
        "patients.parquet: gives table 'patients' a second time [rule: duplicate_table]"
    ]


def test_a_damaged_workbook_is_refused(tmp_path: Path) -> None:
    book = tmp_path / "extract.xlsx"
    book.write_bytes(b"this is not a zip file")
    with pytest.raises(ExtractSchemaError) as exc:
        check_extract(book)
    assert [i.rule for i in exc.value.issues] == ["xlsx_format"]
    assert exc.value.issues[0].text().startswith("extract.xlsx: cannot be read as an Excel workbook: ")
