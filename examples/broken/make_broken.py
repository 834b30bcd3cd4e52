"""Generate ``examples/broken/<rule>/``: copies of ``examples/sample_registry`` with one
deliberate fault per validation rule (used by ``tests/registry/test_broken_examples.py``, which
pins the exact message of each and checks these folders are up to date with this script).

Run: ``.venv/bin/python examples/broken/make_broken.py``
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "sample_registry"

# Operations: ("set", table, {field: value to find the row}, field, new value)
#             ("append", table, {field: value, ...})
#             ("drop_table", table) / ("add_column", table, column, value) / ("drop_column", table, column)
#             ("add_file", file name, text) / ("reencode", table, encoding) / ("append_line", table, text)
BROKEN: dict[str, list[tuple[Any, ...]]] = {
    "required": [("set", "patients", {"patient_id": "DSC-003"}, "sex", "")],
    "int": [("set", "toxicities", {"patient_id": "DSC-004"}, "crs_grade", "two")],
    "number": [("set", "characteristics", {"patient_id": "DSC-005", "timepoint": "decision"}, "ldh", "4,55")],
    "bool": [("set", "patients", {"patient_id": "DSC-002"}, "prior_asct", "maybe")],
    "date": [("set", "patients", {"patient_id": "DSC-003"}, "decision_date", "2020-02-30")],
    "code": [("set", "infusions", {"patient_id": "DSC-002"}, "product", "axicel")],
    "code_list": [
        ("set", "treatment_lines", {"patient_id": "DSC-004"}, "components", "glofitamab;obinutuzumabb")
    ],
    "pattern": [("set", "centres", {"centre_id": "C02"}, "country", "France")],
    "range": [
        ("set", "characteristics", {"patient_id": "DSC-002", "timepoint": "decision"}, "albumin", "8.1")
    ],
    "unit_missing": [
        ("set", "characteristics", {"patient_id": "DSC-003", "timepoint": "decision"}, "crp_unit", "")
    ],
    "duplicate_key": [
        (
            "append",
            "assessments",
            {
                "patient_id": "DSC-002",
                "visit": "d30",
                "planned_date": "2020-01-11",
                "assessment_date": "2020-01-13",
                "response": "pr",
                "modality": "ct",
                "deauville": "",
            },
        )
    ],
    "reference": [
        ("append", "vital_status", {"patient_id": "DSC-099", "last_contact_date": "2021-01-01"}),
    ],
    "extract_rows": [
        ("append", "extract", {"extract_id": "sample-2022-07", "data_cutoff": "2022-07-31", "source": "x"})
    ],
    "date_order": [("set", "infusions", {"patient_id": "DSC-004"}, "lymphodepletion_date", "2020-05-08")],
    "decision_before_infusion": [
        ("set", "patients", {"patient_id": "DSC-005"}, "decision_date", "2019-07-15")
    ],
    "requires_infusion": [
        (
            "append",
            "toxicities",
            {"patient_id": "DSC-001", "crs_grade": "0", "icans_grade": "0"},
        )
    ],
    "after_infusion": [
        ("set", "assessments", {"patient_id": "DSC-011", "visit": "d30"}, "assessment_date", "2020-07-01")
    ],
    "death_after_events": [
        ("set", "vital_status", {"patient_id": "DSC-007"}, "death_date", "2020-10-10"),
        ("set", "vital_status", {"patient_id": "DSC-007"}, "last_contact_date", "2020-10-10"),
    ],
    "last_contact_not_after_death": [
        ("set", "vital_status", {"patient_id": "DSC-003"}, "last_contact_date", "2020-10-01")
    ],
    "last_contact_after_events": [
        ("set", "vital_status", {"patient_id": "DSC-004"}, "last_contact_date", "2020-12-01")
    ],
    "after_cutoff": [("set", "vital_status", {"patient_id": "DSC-002"}, "last_contact_date", "2022-07-15")],
    "missing_table": [("drop_table", "toxicities")],
    "unknown_table": [("add_file", "notes.csv", "note\nsee e-mail of 3 May\n")],
    "unknown_column": [("add_column", "patients", "weight_kg", "70")],
    "missing_column": [("drop_column", "assessments", "deauville")],
    "identifier_column": [("add_column", "patients", "date_of_birth", "1950-01-01")],
    "encoding": [
        ("set", "centres", {"centre_id": "C01"}, "centre_name", "Hôpital A"),
        ("reencode", "centres", "latin-1"),
    ],
    "csv_format": [("append_line", "toxicities", "DSC-012,1,0,,,3")],
}


def _read(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False, na_filter=False)


def _write(frame: pd.DataFrame, folder: Path, table: str) -> None:
    frame.to_csv(folder / f"{table}.csv", index=False, lineterminator="\n")


def apply(folder: Path, ops: list[tuple[Any, ...]]) -> None:
    """Apply the operations to the extract in ``folder``."""
    for op in ops:
        kind = op[0]
        if kind == "set":
            _, table, where, field, value = op
            frame = _read(folder, table)
            mask = pd.Series(True, index=frame.index)
            for k, v in where.items():
                mask &= frame[k] == v
            if mask.sum() != 1:
                raise ValueError(f"{table}: {where} matches {int(mask.sum())} rows, not 1")
            frame.loc[mask, field] = value
            _write(frame, folder, table)
        elif kind == "append":
            _, table, row = op
            frame = _read(folder, table)
            new = {c: row.get(c, "") for c in frame.columns}
            frame = pd.concat([frame, pd.DataFrame([new])], ignore_index=True)
            _write(frame, folder, table)
        elif kind == "drop_table":
            (folder / f"{op[1]}.csv").unlink()
        elif kind == "add_column":
            _, table, column, value = op
            frame = _read(folder, table)
            frame[column] = value
            _write(frame, folder, table)
        elif kind == "drop_column":
            _, table, column = op
            _write(_read(folder, table).drop(columns=[column]), folder, table)
        elif kind == "reencode":
            _, table, encoding = op
            f = folder / f"{table}.csv"
            f.write_bytes(f.read_text(encoding="utf-8").encode(encoding))
        elif kind == "append_line":
            _, table, line = op
            with (folder / f"{table}.csv").open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        elif kind == "add_file":
            (folder / op[1]).write_text(op[2], encoding="utf-8")
        else:
            raise ValueError(f"unknown operation {kind!r}")


def build(target: Path = HERE) -> list[str]:
    """(Re)write every broken copy under ``target``; returns the rule names."""
    for rule, ops in BROKEN.items():
        folder = target / rule
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(SAMPLE, folder)
        apply(folder, ops)
    return list(BROKEN)


if __name__ == "__main__":
    print("\n".join(build()))
