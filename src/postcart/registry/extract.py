"""Reading an extract: a folder of CSV (or Parquet) files, or one Excel workbook.

:func:`check_extract` reads and validates, returning every issue with the typed tables;
:func:`read_extract` does the same and raises when there is any error.

File-level problems (a missing table, an unknown column, a column that looks like a direct
identifier) are collected over *all* files and raised together as
:class:`~postcart.registry.issues.ExtractSchemaError`: they mean the file cannot be read as a
registry table at all, so the row rules are not run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from postcart.registry.issues import (
    ISSUE_FIELDS,
    ExtractSchemaError,
    ExtractValidationError,
    ValidationIssue,
    summary_message,
)
from postcart.registry.schema import IDENTIFIER_ALLOWED, IDENTIFIER_PATTERNS, TABLES, TableSpec
from postcart.registry.tables import RegistryTables
from postcart.registry.validate import RawTable, validate_tables


@dataclass(frozen=True, slots=True, repr=False)
class ExtractCheckResult:
    """An extract read and validated.

    Attributes
    ----------
    tables:
        The typed tables (cells breaking a rule are missing in them: use only when ``ok``).
    issues:
        Every issue found, errors and warnings, in table order.
    source:
        The path read.
    files:
        The files (or sheets) read, one per table, in table order.
    fingerprint:
        SHA-256 of the files' names and bytes: identifies the extract in the audit trail.
    """

    tables: RegistryTables
    issues: tuple[ValidationIssue, ...]
    source: str
    files: tuple[str, ...]
    fingerprint: str

    @property
    def errors(self) -> list[ValidationIssue]:
        """Issues that block an import."""
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[ValidationIssue]:
        """Issues reported without blocking."""
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        """No errors (warnings allowed)."""
        return not self.errors

    def to_frame(self) -> pd.DataFrame:
        """The issues, one row each (columns ``severity, file, row, patient_id, field, value,
        rule, message``)."""
        return pd.DataFrame([i.to_dict() for i in self.issues], columns=list(ISSUE_FIELDS))

    def __repr__(self) -> str:
        return (
            f"ExtractCheckResult(source={self.source!r}, patients={len(self.tables.patients)}, "
            f"errors={len(self.errors)}, warnings={len(self.warnings)})"
        )


def _is_identifier(column: str) -> bool:
    return column not in IDENTIFIER_ALLOWED and any(p.search(column) for p in IDENTIFIER_PATTERNS)


def _excel_cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if v != v:  # NaN
            return ""
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Strip cells, drop rows that are entirely empty (keeping the file positions as index)."""
    frame = frame.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    for c in frame.columns:
        codes, uniques = pd.factorize(frame[c].astype(str))
        stripped = pd.Series(np.asarray(uniques, dtype=object), dtype=object).str.strip()
        frame[c] = stripped.take(codes).set_axis(frame.index)
    if len(frame.columns):
        frame = frame.loc[(frame != "").any(axis=1)]
    return frame


def _issue(label: str, rule: str, message: str, field: str | None = None) -> ValidationIssue:
    return ValidationIssue(label, None, None, field, None, rule, message)


def _read_csv(p: Path) -> pd.DataFrame:
    return pd.read_csv(
        p,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=False,
        encoding="utf-8-sig",
    )


def _read_one(p: Path) -> tuple[pd.DataFrame | None, ValidationIssue | None]:
    """Read one CSV or Parquet file; an unreadable file gives a file-level issue."""
    try:
        if p.suffix.lower() == ".csv":
            raw = _read_csv(p)
        else:
            raw = pd.read_parquet(p).astype(object)
            raw = raw.where(raw.notna(), "")
    except UnicodeDecodeError as exc:
        return None, _issue(
            p.name,
            "encoding",
            f"is not UTF-8 text (it contains the byte {exc.object[exc.start : exc.start + 1]!r}); "
            "save it as UTF-8 (CSV UTF-8 in Excel)",
        )
    except pd.errors.EmptyDataError:
        return None, _issue(p.name, "csv_format", "is empty: it needs at least the header row")
    except (pd.errors.ParserError, ValueError, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, _issue(p.name, "csv_format", f"cannot be read as a table: {reason}")
    return _clean(raw), None


def _read_sources(
    path: Path,
) -> tuple[dict[str, tuple[str, pd.DataFrame]], list[ValidationIssue], set[str], str]:
    """Read every table file.

    Returns {table: (file label, raw frame)}, file-level issues (unknown or unreadable files),
    the names of tables whose file could not be read, and the fingerprint.
    """
    found: dict[str, tuple[str, pd.DataFrame]] = {}
    issues: list[ValidationIssue] = []
    unreadable: set[str] = set()
    digest = hashlib.sha256()
    names = {t.name for t in TABLES}
    tables_text = "is not a registry table (tables: " + ", ".join(t.name for t in TABLES) + ")"
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".csv", ".parquet"))
        for p in files:
            digest.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
            if p.stem not in names:
                issues.append(_issue(p.name, "unknown_table", tables_text))
                continue
            if p.stem in found or p.stem in unreadable:
                issues.append(_issue(p.name, "duplicate_table", f"gives table {p.stem!r} a second time"))
                continue
            raw, problem = _read_one(p)
            if raw is None:
                unreadable.add(p.stem)
                if problem is not None:
                    issues.append(problem)
                continue
            found[p.stem] = (p.name, raw)
        return found, issues, unreadable, digest.hexdigest()
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
        try:
            sheets = pd.read_excel(path, sheet_name=None, dtype=object, header=0, na_filter=False)
        except Exception as exc:  # openpyxl raises many types for a damaged workbook
            raise ExtractSchemaError(
                f"{path}: cannot be read as an Excel workbook: {exc}",
                [_issue(path.name, "xlsx_format", f"cannot be read as an Excel workbook: {exc}")],
            ) from exc
        for sheet, raw in sheets.items():
            label = f"{path.name}[{sheet}]"
            if sheet not in names:
                issues.append(_issue(label, "unknown_table", tables_text))
                continue
            found[sheet] = (label, _clean(raw.map(_excel_cell) if len(raw) else raw.astype(str)))
        return found, issues, unreadable, digest.hexdigest()
    if not path.exists():
        raise ExtractSchemaError(f"{path}: no such file or folder", [])
    raise ExtractSchemaError(
        f"{path}: an extract is a folder of <table>.csv files or one .xlsx workbook, not {path.suffix!r}", []
    )


def _file_issues(spec: TableSpec, label: str, columns: Sequence[str]) -> list[ValidationIssue]:
    out: list[ValidationIssue] = []
    known = set(spec.field_names)
    for c in columns:
        if _is_identifier(c):
            out.append(
                ValidationIssue(
                    label,
                    None,
                    None,
                    c,
                    None,
                    "identifier_column",
                    "looks like a direct identifier (names, initials, exact birth dates, addresses, "
                    "phone numbers and e-mails are not allowed in a pseudonymous registry); "
                    "remove the column",
                )
            )
        elif c not in known:
            out.append(
                ValidationIssue(
                    label,
                    None,
                    None,
                    c,
                    None,
                    "unknown_column",
                    f"is not a field of table {spec.name!r} (see docs/data-dictionary.md)",
                )
            )
    for f in spec.fields:
        if f.name not in columns:
            out.append(
                ValidationIssue(
                    label, None, None, f.name, None, "missing_column", "is missing (every field has a column)"
                )
            )
    return out


def check_extract(path: str | Path) -> ExtractCheckResult:
    """Read and validate an extract, collecting every issue.

    Parameters
    ----------
    path:
        A folder holding one ``<table>.csv`` (or ``<table>.parquet``) per table of
        ``postcart.registry.schema.TABLES``, or one ``.xlsx`` workbook with one sheet per table.

    Returns
    -------
    ExtractCheckResult
        Typed tables and every issue (row-level errors do not raise here).

    Raises
    ------
    ExtractSchemaError
        A table is missing or a file has unknown, missing or identifying columns (all files are
        checked first; ``issues`` lists every such problem).
    """
    p = Path(path)
    found, file_issues, unreadable, fingerprint = _read_sources(p)
    for spec in TABLES:
        if spec.name in unreadable:
            continue
        if spec.name not in found:
            where = f"{p.name}[{spec.name}]" if p.is_file() else f"{spec.name}.csv"
            file_issues.append(
                ValidationIssue(
                    where,
                    None,
                    None,
                    None,
                    None,
                    "missing_table",
                    "is missing (every table must be present; an empty table is a file or sheet "
                    "with only the header row)",
                )
            )
            continue
        label, raw = found[spec.name]
        file_issues.extend(_file_issues(spec, label, list(raw.columns)))
    if file_issues:
        lines = [f"{p}: the extract's files cannot be read as registry tables"]
        lines += [i.text() for i in file_issues]
        raise ExtractSchemaError("\n".join(lines), file_issues)
    raws = {
        spec.name: RawTable(spec, found[spec.name][0], found[spec.name][1][list(spec.field_names)])
        for spec in TABLES
    }
    frames, issues = validate_tables(raws)
    return ExtractCheckResult(
        tables=RegistryTables.from_frames(frames),
        issues=tuple(issues),
        source=str(p),
        files=tuple(found[t.name][0] for t in TABLES),
        fingerprint=fingerprint,
    )


def read_extract(path: str | Path) -> RegistryTables:
    """Read an extract and return its typed tables, refusing it if any rule fails.

    Warnings (dates after the data cut-off) do not stop it; use :func:`check_extract` to see
    them.

    Raises
    ------
    ExtractSchemaError
        File-level problems (see :func:`check_extract`).
    ExtractValidationError
        One or more rows break a rule; ``issues`` holds every issue found.
    """
    result = check_extract(path)
    if not result.ok:
        raise ExtractValidationError(summary_message(result.issues), result.issues)
    return result.tables
