"""``postcart import``, ``postcart export`` and the ``postcart registry`` group.

Exit codes: 0 success, 1 the extract has validation errors (or file-level problems), 2 usage
errors (bad option, missing path).
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import typer

from postcart.errors import RegistryError
from postcart.registry.dictionary import write_data_dictionary
from postcart.registry.export import export_registry
from postcart.registry.extract import check_extract
from postcart.registry.issues import (
    ExtractSchemaError,
    ExtractValidationError,
    ValidationIssue,
    format_issues,
)
from postcart.registry.store import import_extract, import_history, resolve_db_url


class ReportFormat(StrEnum):
    """Formats of the validation report."""

    text = "text"
    csv = "csv"
    json = "json"


class ExportFormat(StrEnum):
    """Export formats."""

    csv = "csv"
    xlsx = "xlsx"
    parquet = "parquet"


DB_HELP = (
    "Database: SQLAlchemy URL (sqlite:///file.sqlite, postgresql+psycopg://user@host/db) or a SQLite "
    "file path. Default: $POSTCART_DB, else .postcart/registry.sqlite in the current directory."
)

registry_app = typer.Typer(
    help="Registry utilities: check an extract, data dictionary, import history.", no_args_is_help=True
)


def _emit_report(issues: list[ValidationIssue], fmt: ReportFormat, out: Path | None) -> None:
    text = format_issues(issues, fmt.value)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        typer.echo(f"report written to {out}", err=True)
    elif issues or fmt is not ReportFormat.text:
        sys.stdout.write(text)


def import_cmd(
    path: Path = typer.Argument(..., help="Folder of <table>.csv files, or one .xlsx workbook."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Validate and show what would change; write nothing."
    ),
    report_format: ReportFormat = typer.Option(
        ReportFormat.text, "--report-format", help="Format of the list of problems: text, csv or json."
    ),
    report_out: Path | None = typer.Option(
        None, "--report-out", help="Write the problem report to this file."
    ),
    prune: bool = typer.Option(
        False,
        "--prune",
        help="Delete registry rows absent from the extract (audited). Default: keep them and warn.",
    ),
) -> None:
    """Validate an extract and load it into the registry in one transaction.

    Every problem is reported (file, row, patient, field, value, rule); rows are numbered as in a
    spreadsheet (header = row 1). Any error: exit code 1 and nothing is written. Warnings (dates
    after the data cut-off, rows absent from the extract) are reported and do not block.
    """
    if not path.exists():
        typer.echo(f"error: {path}: no such file or folder", err=True)
        raise typer.Exit(2)
    try:
        result = import_extract(path, db, dry_run=dry_run, prune=prune)
    except ExtractSchemaError as exc:
        _emit_report(exc.issues, report_format, report_out)
        typer.echo(f"error: {exc.args[0].splitlines()[0]}; nothing was written", err=True)
        raise typer.Exit(1) from None
    except ExtractValidationError as exc:
        _emit_report(exc.validation_issues, report_format, report_out)
        typer.echo(f"error: {str(exc).splitlines()[0]}", err=True)
        raise typer.Exit(1) from None
    except RegistryError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    _emit_report(list(result.issues), report_format, report_out)
    typer.echo(result.summary() + f"\ndatabase: {result.db_url}", err=True)


def export_cmd(
    out: Path = typer.Option(..., "--out", help="Folder (csv, parquet) or .xlsx file to write."),
    fmt: ExportFormat = typer.Option(ExportFormat.csv, "--format", help="csv, xlsx or parquet."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Write the registry back in the import layout (export -> import -> export is identical)."""
    if fmt is ExportFormat.xlsx and out.suffix.lower() != ".xlsx":
        typer.echo(f"error: --out must be a .xlsx file for --format xlsx, not {out}", err=True)
        raise typer.Exit(2)
    try:
        written = export_registry(out, db, fmt=fmt.value)
    except (RegistryError, FileExistsError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"registry {resolve_db_url(db)} exported to {written}", err=True)


@registry_app.command("check")
def check_cmd(
    path: Path = typer.Argument(..., help="Folder of <table>.csv files, or one .xlsx workbook."),
    report_format: ReportFormat = typer.Option(
        ReportFormat.text, "--report-format", help="Format of the list of problems: text, csv or json."
    ),
    report_out: Path | None = typer.Option(
        None, "--report-out", help="Write the problem report to this file."
    ),
) -> None:
    """Validate an extract without any database (exit 1 when it has errors)."""
    if not path.exists():
        typer.echo(f"error: {path}: no such file or folder", err=True)
        raise typer.Exit(2)
    try:
        result = check_extract(path)
    except ExtractSchemaError as exc:
        _emit_report(exc.issues, report_format, report_out)
        typer.echo(f"error: {exc.args[0].splitlines()[0]}", err=True)
        raise typer.Exit(1) from None
    _emit_report(list(result.issues), report_format, report_out)
    typer.echo(
        f"{path}: {len(result.errors)} error(s), {len(result.warnings)} warning(s), "
        f"{len(result.tables.patients)} patient(s)",
        err=True,
    )
    if not result.ok:
        raise typer.Exit(1)


@registry_app.command("dictionary")
def dictionary_cmd(
    out: Path = typer.Option(Path("docs/data-dictionary.md"), "--out", help="Markdown file to write."),
) -> None:
    """Write the data dictionary (tables, fields, codes, units) generated from the schema."""
    typer.echo(f"data dictionary written to {write_data_dictionary(out)}", err=True)


@registry_app.command("history")
def history_cmd(
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    changes: bool = typer.Option(False, "--changes", help="Also list every audited change (CSV)."),
) -> None:
    """List the import batches (and optionally the audit log) of the registry."""
    try:
        batches, log = import_history(db)
    except RegistryError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    sys.stdout.write(batches.to_csv(index=False, lineterminator="\n"))
    if changes:
        sys.stdout.write("\n" + log.to_csv(index=False, lineterminator="\n"))


def register(app: typer.Typer) -> None:
    """Add ``import``, ``export`` and the ``registry`` group to ``app``."""
    app.command("import")(import_cmd)
    app.command("export")(export_cmd)
    app.add_typer(registry_app, name="registry")
