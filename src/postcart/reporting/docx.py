"""The manuscript DOCX (python-docx): methods, every table and every figure (PNG, 300 dpi)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Inches, Pt

from postcart.reporting.methods import methods_paragraphs
from postcart.reporting.tables import ReportTable
from postcart.study.results import StudyResult


def _new_section(doc: Any, *, landscape: bool) -> None:
    """Start a new section (page) in portrait or landscape."""
    sec = doc.add_section(WD_SECTION.NEW_PAGE)
    w, h = sec.page_width, sec.page_height
    if landscape and w < h or not landscape and w > h:
        sec.page_width, sec.page_height = h, w
    sec.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT


def write_docx(
    path: Path, r: StudyResult, tables: list[ReportTable], figures: list[tuple[str, str, Path]]
) -> None:
    """Write the DOCX: ``figures`` are (name, caption, png path)."""
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(10)
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(sec, side, Inches(0.8))
    doc.add_heading("Outcomes after failure of anti-CD19 CAR T-cell therapy: study report", level=0)
    doc.add_paragraph(r.spec.name)
    doc.add_heading("Methods", level=1)
    for heading, text in methods_paragraphs(r):
        p = doc.add_paragraph()
        p.add_run(f"{heading}. ").bold = True
        p.add_run(text)
    doc.add_heading("Tables", level=1)
    landscape = False
    for t in tables:
        cols = t.value_columns
        wide = len(cols) > 5
        if wide != landscape:  # wide tables on landscape pages
            _new_section(doc, landscape=wide)
            landscape = wide
        doc.add_paragraph().add_run(t.title).bold = True
        table = doc.add_table(rows=1, cols=1 + len(cols))
        table.style = "Table Grid"
        hdr = table.rows[0].cells
        hdr[0].text = ""
        for j, h in enumerate(t.styling.headers[: len(cols)]):
            hdr[1 + j].text = h
        for rec in t.body.to_dict("records"):
            cells = table.add_row().cells
            indent = "    " if rec["row_type"] == "level" else ""
            cells[0].text = indent + str(rec["label"])
            if rec["row_type"] in ("section", "label"):
                for run in cells[0].paragraphs[0].runs:
                    run.bold = True
            for j, c in enumerate(cols):
                cells[1 + j].text = str(rec[c])
                cells[1 + j].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        for row in table.rows:
            for cell in row.cells:
                for para in cell.paragraphs:
                    for run in para.runs:
                        run.font.size = Pt(8)
        for note in t.styling.footnotes:
            doc.add_paragraph(note).runs[0].font.size = Pt(8)
    if landscape:
        _new_section(doc, landscape=False)
    doc.add_heading("Figures", level=1)
    for _name, caption, png in figures:
        doc.add_picture(str(png), width=Inches(6.5))
        cap = doc.add_paragraph(caption)
        cap.runs[0].font.size = Pt(8.5)
    doc.core_properties.author = "postcart"
    doc.core_properties.title = "postcart study report"
    doc.save(str(path))
