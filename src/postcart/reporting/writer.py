"""Write the whole report folder atomically.

Everything is written into a temporary folder next to the destination (same parent, so the
final ``os.replace`` is a rename on one file system); only when every file is complete does
the temporary folder replace the destination. A failure leaves the previous report untouched
and removes the partial one.

Layout of ``DIR``::

    report.html        self-contained (figures as data URIs, inline CSS)
    results.json       every result, unrounded (docs/results-schema.md)
    report.docx        methods, tables and figures for manuscripts
    tables.xlsx        one sheet per table + the paper-target values
    tables/<id>.csv    one CSV per table (display strings as in the report)
    figures/<name>.png 300 dpi, and figures/<name>.svg
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from postcart.reporting.docx import write_docx
from postcart.reporting.figure_set import report_figures
from postcart.reporting.figures import save_figure
from postcart.reporting.html import EmbeddedFigure, render_html
from postcart.reporting.results_json import dumps, results_document
from postcart.reporting.spreadsheet import write_csv_tables, write_xlsx
from postcart.reporting.tables import report_tables
from postcart.study.results import StudyResult
from postcart.study.targets import targets_frame


@dataclass(frozen=True, slots=True)
class ReportOutput:
    """Paths of the written report."""

    directory: Path
    html: Path
    results_json: Path
    docx: Path
    xlsx: Path
    csv: tuple[Path, ...]
    figures: tuple[Path, ...]


def write_report(
    result: StudyResult,
    out_dir: Path,
    *,
    version: str,
    progress: Callable[[str], None] | None = None,
    dpi: int = 300,
) -> ReportOutput:
    """Write every output of the report into ``out_dir`` (atomically; see the module docstring)."""
    say = progress or (lambda _label: None)
    out_dir = Path(out_dir).resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        tmp.chmod(0o755)
        (tmp / "figures").mkdir()
        (tmp / "tables").mkdir()
        say("tables")
        tables = report_tables(result)
        csv = write_csv_tables(tmp / "tables", tables)
        write_xlsx(tmp / "tables.xlsx", tables, targets_frame(result.targets))
        say("figures")
        embedded: list[EmbeddedFigure] = []
        docx_figs: list[tuple[str, str, Path]] = []
        fig_paths: list[Path] = []
        for rf in report_figures(result):
            paths = save_figure(rf.figure, tmp / "figures", rf.name, dpi=dpi)
            rf.figure.clear()
            embedded.append(
                EmbeddedFigure(
                    rf.name, rf.section, rf.caption, paths["svg"].read_bytes(), paths["png"].read_bytes()
                )
            )
            docx_figs.append((rf.name, rf.caption, paths["png"]))
            fig_paths += [paths["png"], paths["svg"]]
            say(f"figure {rf.name}")
        say("results.json")
        (tmp / "results.json").write_text(dumps(results_document(result, version=version)), encoding="utf-8")
        say("report.html")
        (tmp / "report.html").write_text(
            render_html(result, tables, embedded, version=version), encoding="utf-8"
        )
        say("report.docx")
        write_docx(tmp / "report.docx", result, tables, docx_figs)
        _swap_in(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    rel = [out_dir / p.relative_to(tmp) for p in fig_paths]
    return ReportOutput(
        directory=out_dir,
        html=out_dir / "report.html",
        results_json=out_dir / "results.json",
        docx=out_dir / "report.docx",
        xlsx=out_dir / "tables.xlsx",
        csv=tuple(out_dir / p.relative_to(tmp) for p in csv),
        figures=tuple(rel),
    )


def _swap_in(tmp: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by ``tmp``: rename any old report aside, rename, then delete the old one."""
    old: Path | None = None
    if out_dir.exists():
        if not out_dir.is_dir():
            raise NotADirectoryError(f"--out {out_dir} exists and is not a directory")
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old", dir=out_dir.parent))
        os.replace(out_dir, old / "report")
    try:
        os.replace(tmp, out_dir)
    except BaseException:
        if old is not None:
            os.replace(old / "report", out_dir)
            shutil.rmtree(old, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
