"""The written report folder: files, results.json schema, no patient ids, atomic replacement."""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from postcart.reporting import writer as writer_module
from postcart.reporting.figure_set import report_figures
from postcart.reporting.figures import at_risk, save_figure
from postcart.reporting.writer import ReportOutput, write_report
from postcart.study import StudyResult
from postcart.study.compare import load_paper_targets


def _all_text(folder: Path) -> dict[str, str]:
    """Every text the report contains: plain files, and the XML inside DOCX/XLSX."""
    out: dict[str, str] = {}
    for p in folder.rglob("*"):
        if p.is_dir() or p.suffix == ".png":
            continue
        if p.suffix in (".docx", ".xlsx"):
            with zipfile.ZipFile(p) as z:
                for name in z.namelist():
                    out[f"{p.name}:{name}"] = z.read(name).decode("utf-8", errors="replace")
        else:
            out[str(p.relative_to(folder))] = p.read_text(encoding="utf-8")
    return out


def test_report_folder_has_every_output(written_report: ReportOutput) -> None:
    d = written_report.directory
    for name in ("report.html", "results.json", "report.docx", "tables.xlsx"):
        assert (d / name).stat().st_size > 0
    pngs = sorted(p.stem for p in (d / "figures").glob("*.png"))
    svgs = sorted(p.stem for p in (d / "figures").glob("*.svg"))
    assert pngs == svgs
    for name in ("flow_diagram", "figure_1", "figure_2", "figure_3", "figure_4", "figure_5", "forest_mv_os2"):
        assert name in pngs
    assert {p.stem for p in (d / "tables").glob("*.csv")} >= {
        "table_1",
        "table_2",
        "table_3",
        "response",
        "flow",
    }


def test_figures_are_saved_as_300_dpi_png_and_svg(small_result: StudyResult, tmp_path: Path) -> None:
    fig = next(f for f in report_figures(small_result) if f.name == "figure_2")
    paths = save_figure(fig.figure, tmp_path, "f2")
    assert paths["svg"].read_text(encoding="utf-8").lstrip().startswith("<?xml")
    png = paths["png"].read_bytes()
    i = png.find(b"pHYs")
    assert i > 0
    ppm = int.from_bytes(png[i + 4 : i + 8], "big")
    assert round(ppm * 0.0254) == 300


def test_report_never_contains_a_patient_id(small_table: pd.DataFrame, report_dir: Path) -> None:
    ids = set(small_table["patient_id"].astype(str))
    texts = _all_text(report_dir)
    assert len(texts) > 20
    found = [(name, pid) for name, text in texts.items() for pid in ids if pid in text]
    assert found == []
    # the id prefix never appears either (no truncated ids)
    assert not any("FAKE-" in text for text in texts.values())


def _no_nan(x: Any) -> bool:
    if isinstance(x, float):
        return not (math.isnan(x) or math.isinf(x))
    if isinstance(x, dict):
        return all(_no_nan(v) for v in x.values())
    if isinstance(x, list):
        return all(_no_nan(v) for v in x)
    return True


def test_results_json_follows_the_documented_layout(report_dir: Path, small_result: StudyResult) -> None:
    doc = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    assert doc["schema"] == "postcart.results/1"
    assert {"conventions", "data", "targets", "analyses", "warnings", "software"} <= set(doc)
    conv = doc["conventions"]
    assert conv["profile"] == "sas" and conv["conf_type"] == "log-log" and conv["ties"] == "breslow"
    assert conv["days_per_month"] == pytest.approx(365.25 / 12, rel=1e-15)
    assert len(doc["data"]["fingerprint_sha256"]) == 64
    # every key of "targets" that looks like a paper id is one
    paper = load_paper_targets()
    ids = [k for k in doc["targets"] if not k.endswith(("_alt", "_d90"))]
    assert set(ids) <= set(paper)
    # values are unrounded: identical to the in-memory result
    assert doc["targets"]["pop_failures_pct"]["value"] == small_result.targets["pop_failures_pct"].value
    assert doc["targets"]["cox_mv_pfs2_bispecific"]["estimable"] is False
    assert _no_nan(doc)
    assert set(doc["analyses"]) >= {
        "flow",
        "table_1",
        "table_2",
        "response",
        "survival",
        "cox",
        "contingency",
    }


def test_every_reproducible_analysis_target_has_a_value(report_dir: Path) -> None:
    doc = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    paper = load_paper_targets()
    analysis = {k for k, t in paper.items() if t["target_type"] == "analysis"}
    missing = analysis - set(doc["targets"])
    # only the Discussion's P = .045 has no source analysis (paper-notes b.22)
    assert missing == {"test_discussion_len_advantage"}


def test_a_failed_write_leaves_the_previous_report_untouched(
    small_result: StudyResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "rep"
    out.mkdir()
    (out / "old.txt").write_text("previous report")

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(writer_module, "write_docx", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        write_report(small_result, out, version="test")
    assert [p.name for p in out.iterdir()] == ["old.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]  # no temporary folder left


def test_at_risk_counts_are_patients_still_followed(
    small_table: pd.DataFrame, small_result: StudyResult
) -> None:
    km = small_result.survival["os2_overall"].overall.km  # type: ignore[union-attr]
    t = small_table.loc[
        small_table["failed"].astype("boolean").fillna(False).astype(bool), "os2_months"
    ].to_numpy()
    ticks = [0.0, 1.0, 2.5, 3.0, 6.0, 12.0, 100.0]
    assert at_risk(km, ticks) == [int(np.sum(t >= x)) for x in ticks]


def test_docx_holds_every_table_and_figure(written_report: ReportOutput, small_result: StudyResult) -> None:
    from docx import Document

    from postcart.reporting.tables import report_tables

    doc = Document(str(written_report.docx))
    assert len(doc.tables) == len(report_tables(small_result))
    assert len(doc.inline_shapes) == len(list((written_report.directory / "figures").glob("*.png")))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Statistical methods." in text and small_result.methods.source.fingerprint in text


def test_xlsx_has_one_sheet_per_table_and_the_targets(
    written_report: ReportOutput, small_result: StudyResult
) -> None:
    from openpyxl import load_workbook

    from postcart.reporting.tables import report_tables

    wb = load_workbook(written_report.xlsx, read_only=True)
    assert wb.sheetnames == [t.id for t in report_tables(small_result)] + ["targets"]
    rows = list(wb["targets"].iter_rows(values_only=True))
    assert rows[0][:2] == ("id", "value")
    values = {r[0]: r[1] for r in rows[1:]}
    assert values["pop_failures_pct"] == small_result.targets["pop_failures_pct"].value


@pytest.mark.parametrize("n", [5, 12])
def test_a_tiny_registry_still_gives_a_complete_report(n: int, tmp_path: Path) -> None:
    from postcart.study import run_study
    from study.fake_table import fake_analysis_table

    result = run_study(fake_analysis_table(n, seed=1))
    out = write_report(result, tmp_path / "rep", version="test", dpi=40)
    assert out.html.exists() and out.results_json.exists() and out.docx.exists()
    doc = json.loads(out.results_json.read_text(encoding="utf-8"))
    assert doc["targets"]["pop_registered"]["value"] == n
