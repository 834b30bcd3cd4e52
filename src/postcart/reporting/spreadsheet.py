"""Tables as CSV (one file per table) and XLSX (one sheet per table, plus the paper targets)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from postcart.reporting.tables import ReportTable


def write_csv_tables(directory: Path, tables: list[ReportTable]) -> list[Path]:
    """``<table id>.csv`` (UTF-8, display strings as in the report) for every table."""
    paths = []
    for t in tables:
        p = directory / f"{t.id}.csv"
        t.to_frame().to_csv(p, index=False, encoding="utf-8")
        paths.append(p)
    return paths


def write_xlsx(path: Path, tables: list[ReportTable], targets: pd.DataFrame) -> None:
    """One sheet per table (bold section/label rows, indented levels), then ``targets`` (unrounded)."""
    wb = Workbook()
    first = wb.active
    if first is not None:
        wb.remove(first)
    for t in tables:
        ws = wb.create_sheet(t.id[:31])
        ws.append([t.title])
        ws["A1"].font = Font(bold=True, size=12)
        ws.append(["", *t.styling.headers])
        for cell in ws[2]:
            cell.font = Font(bold=True)
        cols = t.value_columns
        for rec in t.body.to_dict("records"):
            ws.append([str(rec["label"]), *[str(rec[c]) for c in cols]])
            row = ws[ws.max_row]
            if rec["row_type"] in ("section", "label"):
                row[0].font = Font(bold=True)
            elif rec["row_type"] == "level":
                row[0].alignment = Alignment(indent=2)
        for note in t.styling.footnotes:
            ws.append([note])
            ws[ws.max_row][0].font = Font(italic=True, size=9)
        ws.column_dimensions["A"].width = 48
        for j in range(len(cols)):
            ws.column_dimensions[chr(ord("B") + j) if j < 25 else "Z"].width = 22
    ws = wb.create_sheet("targets")
    ws.append(list(targets.columns))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for values in targets.astype(object).where(targets.notna(), None).to_numpy().tolist():
        ws.append(list(values))
    wb.save(path)
