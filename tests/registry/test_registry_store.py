"""Storage: import, read back, re-import with audit, atomicity, export round trip.

Every test runs on a SQLite file and on a fresh PostgreSQL database (``db_url`` fixture).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, func, select

from postcart.registry import (
    ExtractValidationError,
    export_registry,
    import_extract,
    import_history,
    load_registry,
    read_extract,
)
from postcart.registry.convert import to_text
from postcart.registry.models import REGISTRY_TABLES
from postcart.registry.schema import TABLES


def _csv_set(path: Path, table: str, where: dict[str, str], field: str, value: str) -> None:
    f = path / f"{table}.csv"
    frame = pd.read_csv(f, dtype=str, keep_default_na=False, na_filter=False)
    mask = pd.Series(True, index=frame.index)
    for k, v in where.items():
        mask &= frame[k] == v
    assert mask.sum() == 1
    frame.loc[mask, field] = value
    frame.to_csv(f, index=False, lineterminator="\n")


def _texts(tables: object) -> dict[str, pd.DataFrame]:
    out = {}
    for spec in TABLES:
        t = to_text(tables.table(spec.name), spec)  # type: ignore[attr-defined]
        out[spec.name] = t.sort_values(list(spec.key)).reset_index(drop=True)
    return out


def _counts(db_url: str) -> dict[str, int]:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        counts = {
            name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for name, t in REGISTRY_TABLES.items()
        }
    engine.dispose()
    return counts


def test_loaded_registry_equals_the_validated_extract(sample: Path, db_url: str) -> None:
    import_extract(sample, db_url)
    loaded = load_registry(db_url)
    direct = read_extract(sample)
    for name, text in _texts(direct).items():
        pd.testing.assert_frame_equal(_texts(loaded)[name], text, obj=name)
    # typed per tables.py conventions
    assert str(loaded.patients["prior_lines"].dtype) == "Int64"
    assert str(loaded.patients["prior_asct"].dtype) == "boolean"
    assert loaded.patients["decision_date"].dtype == "datetime64[ns]"
    assert (
        loaded.vital_status.set_index("patient_id").loc["DSC-010", "last_contact_date_precision"] == "month"
    )
    assert loaded.treatment_lines.set_index("patient_id").loc["DSC-003", "components"] == (
        "lenalidomide",
        "rituximab",
    )
    assert loaded.data_cutoff == pd.Timestamp("2022-06-30")


def test_reimport_updates_in_place_and_audits_each_changed_field(sample: Path, db_url: str) -> None:
    first = import_extract(sample, db_url)
    _csv_set(sample, "vital_status", {"patient_id": "DSC-002"}, "last_contact_date", "2022-06-25")
    where = {"patient_id": "DSC-012", "visit": "unscheduled"}
    _csv_set(sample, "assessments", where, "modality", "pet")
    _csv_set(sample, "assessments", where, "deauville", "4")
    second = import_extract(sample, db_url)
    assert (first.inserted, second.inserted, second.updated) == (120, 0, 2)
    assert _counts(db_url)["patients"] == 12
    batches, log = import_history(db_url)
    assert list(batches["batch_id"]) == [first.batch_id, second.batch_id]
    assert list(batches["n_updated"]) == [0, 2]
    changes = log[log["action"] == "update"]
    got = sorted(
        zip(
            changes["table_name"],
            changes["row_key"],
            changes["field"],
            changes["old_value"],
            changes["new_value"],
            strict=True,
        )
    )
    # the key of a row matches on the stored day: 2021-11 (month precision) is stored as 2021-11-01
    key = json.dumps(["DSC-012", "unscheduled", "2021-11-01"])
    assert got == [
        ("assessments", key, "deauville", None, "4"),
        ("assessments", key, "modality", "ct", "pet"),
        ("vital_status", json.dumps(["DSC-002"]), "last_contact_date", "2022-05-20", "2022-06-25"),
    ]
    assert set(changes["batch_id"]) == {second.batch_id}
    assert (log["action"] == "insert").sum() == 120
    assert str(batches["source_files"].iloc[1]).startswith("extract.csv;centres.csv;patients.csv")
    assert len(batches["fingerprint"].iloc[0]) == 64
    assert batches["fingerprint"].iloc[0] != batches["fingerprint"].iloc[1]
    loaded = load_registry(db_url).vital_status.set_index("patient_id")
    assert loaded.loc["DSC-002", "last_contact_date"] == pd.Timestamp("2022-06-25")


def test_changing_a_date_in_a_key_adds_a_row_unless_pruned(sample: Path, db_url: str) -> None:
    import_extract(sample, db_url)
    where = {"patient_id": "DSC-012", "visit": "unscheduled"}
    _csv_set(sample, "assessments", where, "assessment_date", "2021-11-08")
    kept = import_extract(sample, db_url)
    assert [(i.rule, i.value) for i in kept.issues] == [
        ("absent_in_extract", json.dumps(["DSC-012", "unscheduled", "2021-11-01"]))
    ]
    assert _counts(db_url)["assessments"] == 31
    pruned = import_extract(sample, db_url, prune=True)
    assert {c.table: c.deleted for c in pruned.changes}["assessments"] == 1
    assert _counts(db_url)["assessments"] == 30
    log = import_history(db_url)[1]
    deleted = log[(log["action"] == "delete") & (log["table_name"] == "assessments")]
    assert list(deleted["old_value"]) == [
        json.dumps(["DSC-012", "unscheduled", "", "2021-11", "pd", "ct", ""])
    ]


def test_rows_absent_from_a_new_extract_are_kept_and_reported(sample: Path, db_url: str) -> None:
    import_extract(sample, db_url)
    f = sample / "treatment_lines.csv"
    lines = f.read_text().splitlines(keepends=True)
    f.write_text("".join(line for line in lines if not line.startswith("DSC-005,2,")))
    result = import_extract(sample, db_url)
    notes = [i for i in result.issues if i.rule == "absent_in_extract"]
    assert [(i.file, i.patient_id, i.value, i.severity) for i in notes] == [
        ("treatment_lines.csv", "DSC-005", json.dumps(["DSC-005", "2"]), "warning")
    ]
    assert _counts(db_url)["treatment_lines"] == 7


def test_a_new_extract_replaces_the_extract_row(sample: Path, db_url: str) -> None:
    import_extract(sample, db_url)
    _csv_set(sample, "extract", {"extract_id": "sample-2022-06"}, "extract_id", "sample-2022-09")
    result = import_extract(sample, db_url)
    assert {c.table: c.deleted for c in result.changes}["extract"] == 1
    assert list(load_registry(db_url).extract["extract_id"]) == ["sample-2022-09"]


def test_bad_row_in_last_file_writes_nothing(sample: Path, db_url: str, tmp_path: Path) -> None:
    import_extract(sample, db_url)
    before = _counts(db_url)
    sqlite_file = tmp_path / "registry.sqlite"
    digest = hashlib.sha256(sqlite_file.read_bytes()).hexdigest() if db_url.startswith("sqlite") else None
    # a valid change in an early file, a broken row in the last file (vital_status.csv)
    _csv_set(sample, "patients", {"patient_id": "DSC-002"}, "prior_lines", "4")
    _csv_set(sample, "vital_status", {"patient_id": "DSC-011"}, "death_date", "2022-13-01")
    with pytest.raises(ExtractValidationError) as exc:
        import_extract(sample, db_url)
    assert [i.text() for i in exc.value.validation_issues] == [
        "vital_status.csv row 12 (patient_id=DSC-011), field 'death_date': '2022-13-01' is not a valid date "
        "(use YYYY-MM-DD, YYYY-MM or YYYY) [rule: date]"
    ]
    assert _counts(db_url) == before
    if digest is not None:
        assert hashlib.sha256(sqlite_file.read_bytes()).hexdigest() == digest
    assert load_registry(db_url).patients.set_index("patient_id").loc["DSC-002", "prior_lines"] == 3


def test_dry_run_writes_nothing(sample: Path, db_url: str, tmp_path: Path) -> None:
    import_extract(sample, db_url)
    _csv_set(sample, "patients", {"patient_id": "DSC-002"}, "prior_lines", "4")
    before = _counts(db_url)
    result = import_extract(sample, db_url, dry_run=True)
    assert (result.batch_id, result.updated) == (None, 1)
    assert _counts(db_url) == before
    assert len(import_history(db_url)[0]) == 1


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_export_import_export_is_identical(sample: Path, db_url: str, tmp_path: Path, fmt: str) -> None:
    import_extract(sample, db_url)
    first = tmp_path / ("first.xlsx" if fmt == "xlsx" else "first")
    export_registry(first, db_url, fmt=fmt)  # type: ignore[arg-type]
    other = f"sqlite:///{tmp_path / 'other.sqlite'}"
    import_extract(first, other)
    second = tmp_path / ("second.xlsx" if fmt == "xlsx" else "second")
    export_registry(second, other, fmt=fmt)  # type: ignore[arg-type]
    a, b = read_extract(first), read_extract(second)
    for name, text in _texts(a).items():
        pd.testing.assert_frame_equal(_texts(b)[name], text, obj=name)
    if fmt == "csv":
        for spec in TABLES:
            name = f"{spec.name}.csv"
            assert (first / name).read_bytes() == (second / name).read_bytes(), name
    # and the export holds what the extract said
    for name, text in _texts(read_extract(sample)).items():
        pd.testing.assert_frame_equal(_texts(a)[name], text, obj=name)


def test_kept_rows_that_conflict_with_the_new_extract_block_the_import(sample: Path, db_url: str) -> None:
    import_extract(sample, db_url)
    before = _counts(db_url)
    # the new extract drops DSC-005's second line (2020-03-10 to 2020-04-20) and moves death earlier:
    # valid on its own, but the kept line would end after the death
    f = sample / "treatment_lines.csv"
    f.write_text(
        "".join(x for x in f.read_text().splitlines(keepends=True) if not x.startswith("DSC-005,2,"))
    )
    _csv_set(sample, "vital_status", {"patient_id": "DSC-005"}, "death_date", "2020-04-01")
    _csv_set(sample, "vital_status", {"patient_id": "DSC-005"}, "last_contact_date", "2020-04-01")
    with pytest.raises(ExtractValidationError) as exc:
        import_extract(sample, db_url)
    texts = [i.text() for i in exc.value.validation_issues]
    vs = "registry table vital_status (kept rows + this extract) (patient_id=DSC-005)"
    tl = "registry table treatment_lines (kept rows + this extract)"
    assert texts == [
        f"{vs}, field 'death_date': '2020-04-01' is before end_date '2020-04-20' in {tl} "
        "[rule: death_after_events]",
        f"{vs}, field 'death_date': '2020-04-01' is before best_response_date '2020-05-04' in {tl} "
        "[rule: death_after_events]",
        f"{vs}, field 'last_contact_date': '2020-04-01' is before end_date '2020-04-20' in {tl} "
        "[rule: last_contact_after_events]",
        f"{vs}, field 'last_contact_date': '2020-04-01' is before best_response_date '2020-05-04' in {tl} "
        "[rule: last_contact_after_events]",
    ]
    assert _counts(db_url) == before
    result = import_extract(sample, db_url, prune=True)
    assert {c.table: c.deleted for c in result.changes}["treatment_lines"] == 1
