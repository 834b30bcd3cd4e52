"""Validation issues: one problem of an extract, located precisely, and its renderings.

Every rule of the import reports its problems as :class:`ValidationIssue` records. The import
collects *all* of them before deciding anything; errors block the write, warnings do not.

Row numbers follow the file as a person sees it in a spreadsheet: the header is row 1, so the
first data row is row 2 (for a CSV without quoted line breaks, the row is the line number).
File-level problems (a missing table, an unknown column) have no row (``None``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from postcart.errors import RegistryValidationError, SchemaError

Severity = Literal["error", "warning"]
ReportFormat = Literal["text", "csv", "json"]

ISSUE_FIELDS: tuple[str, ...] = (
    "severity",
    "file",
    "row",
    "patient_id",
    "field",
    "value",
    "rule",
    "message",
)


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One problem found in an extract.

    Attributes
    ----------
    file:
        File (``patients.csv``) or sheet (``book.xlsx[patients]``) the problem is in.
    row:
        Row in that file, header = row 1, first data row = row 2; ``None`` for file-level
        problems.
    patient_id:
        Patient of the row, when the table has one and it could be read.
    field:
        Column concerned (``None`` for whole-row or whole-file problems).
    value:
        The offending value as written in the file (``None`` when empty or not applicable).
    rule:
        Identifier of the rule (see ``docs/registry.md``), e.g. ``date``, ``code``, ``range``.
    message:
        What is wrong, for a person (without the location, which :meth:`text` adds).
    severity:
        ``"error"`` blocks the import; ``"warning"`` is reported and the import proceeds.
    """

    file: str
    row: int | None
    patient_id: str | None
    field: str | None
    value: str | None
    rule: str
    message: str
    severity: Severity = "error"

    def text(self) -> str:
        """The issue as one line for people.

        ``patients.csv row 57 (patient_id=DSC-0123), field 'decision_date': '2021-02-30' is not a
        valid date [rule: date]``
        """
        parts = [self.file]
        if self.row is not None:
            parts.append(f" row {self.row}")
        if self.patient_id is not None:
            parts.append(f" (patient_id={self.patient_id})")
        if self.field is not None:
            parts.append(f", field {self.field!r}")
        parts.append(": ")
        if self.value is not None:
            parts.append(f"{self.value!r} ")
        parts.append(f"{self.message} [rule: {self.rule}]")
        if self.severity == "warning":
            parts.insert(0, "warning: ")
        return "".join(parts)

    def to_dict(self) -> dict[str, object]:
        """The issue as a plain dict (keys = :data:`ISSUE_FIELDS`)."""
        d = asdict(self)
        return {k: d[k] for k in ISSUE_FIELDS}


class ExtractSchemaError(SchemaError):
    """Files of an extract cannot be read as registry tables (missing table, bad columns).

    ``issues`` lists every file-level problem found (all files are checked before raising).
    """

    def __init__(self, message: str, issues: Sequence[ValidationIssue]) -> None:
        super().__init__(message)
        self.issues: list[ValidationIssue] = list(issues)


class ExtractValidationError(RegistryValidationError):
    """Rows of an extract break validation rules; ``issues`` holds every issue (errors and
    warnings) found."""

    def __init__(self, message: str, issues: Sequence[ValidationIssue]) -> None:
        super().__init__(message, list(issues))
        self.issues: list[object] = list(issues)

    @property
    def validation_issues(self) -> list[ValidationIssue]:
        """The issues, typed."""
        return [i for i in self.issues if isinstance(i, ValidationIssue)]


def summary_message(
    issues: Sequence[ValidationIssue], *, limit: int = 20, outcome: str = "the extract was refused"
) -> str:
    """A short multi-line message: counts and ``outcome``, then the first ``limit`` errors."""
    errors = [i for i in issues if i.severity == "error"]
    warnings = [i for i in issues if i.severity == "warning"]
    head = f"{len(errors)} error(s) and {len(warnings)} warning(s) in the extract; {outcome}"
    lines = [head, *(i.text() for i in errors[:limit])]
    if len(errors) > limit:
        lines.append(f"... and {len(errors) - limit} more error(s)")
    return "\n".join(lines)


def format_issues(issues: Sequence[ValidationIssue], fmt: ReportFormat) -> str:
    """Render issues as ``text`` (one line each), ``csv`` (header + rows) or ``json`` (a list)."""
    if fmt == "text":
        return "".join(i.text() + "\n" for i in issues)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(ISSUE_FIELDS)
        for i in issues:
            writer.writerow(["" if v is None else v for v in i.to_dict().values()])
        return buf.getvalue()
    if fmt == "json":
        return json.dumps([i.to_dict() for i in issues], indent=2, ensure_ascii=False) + "\n"
    raise ValueError(f"unknown report format {fmt!r}; use text, csv or json")
