"""``postcart report`` and ``postcart compare-paper`` (argument parsing only; see docs/report.md)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path

import typer

from postcart.errors import PostcartError


class _Profile(StrEnum):
    sas = "sas"
    r = "r"


def _cutoff(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--cutoff") from None


def report(
    db: str | None = typer.Option(
        None, "--db", help="Registry database URL or SQLite path. Default: the built-in synthetic registry."
    ),
    cutoff: str | None = typer.Option(
        None, "--cutoff", help="Data cut-off date YYYY-MM-DD (default: the extract's)."
    ),
    profile: _Profile = typer.Option(
        _Profile.sas, "--profile", help="Statistical conventions: sas (paper) or r."
    ),
    out: Path = typer.Option(Path("out/report"), "--out", help="Output folder (replaced atomically)."),
) -> None:
    """Build the full study report: HTML, results.json, tables (CSV/XLSX), DOCX, figures (PNG/SVG)."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from postcart.reporting.build import build_report

    console = Console(stderr=True)
    cut = _cutoff(cutoff)
    try:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("starting", total=None)

            def say(label: str) -> None:
                bar.update(task, description=label)

            result, output = build_report(out, db=db, cutoff=cut, profile=profile.value, progress=say)
    except PostcartError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    for w in result.methods.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")
    console.print(f"Report written to {output.directory}")
    console.print(
        f"  {output.html.name}, {output.results_json.name}, {output.docx.name}, {output.xlsx.name}, "
        f"tables/ ({len(output.csv)} CSV), figures/ ({len(output.figures)} PNG+SVG)"
    )


def compare_paper(
    results: Path = typer.Argument(
        ..., help="results.json written by `postcart report` (or its folder).", exists=True
    ),
) -> None:
    """Print the paper's value and CI beside the computed one, the difference and whether it is inside."""
    from postcart.study.compare import compare_paper as run_compare
    from postcart.study.compare import format_comparison

    if results.is_dir():
        results = results / "results.json"
    try:
        res = run_compare(results)
    except PostcartError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(format_comparison(res))


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``compare-paper`` to ``app``."""
    app.command("report")(report)
    app.command("compare-paper")(compare_paper)
