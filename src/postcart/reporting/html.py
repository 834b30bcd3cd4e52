"""The self-contained HTML report (Jinja2): inline CSS, figures as PNG data URIs, no network."""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from typing import Any

import jinja2

from postcart.reporting.format import fmt_estimate_ci, fmt_num, fmt_p
from postcart.reporting.methods import methods_paragraphs
from postcart.reporting.tables import ReportTable
from postcart.study.results import StudyResult

#: (section id, title, table ids, figure sections) in report order.
SECTIONS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("summary", "Summary", (), ()),
    ("methods", "Methods", (), ()),
    ("flow", "Patient flow", ("flow",), ("flow",)),
    ("table-1", "Table 1: characteristics", ("table_1",), ()),
    ("failure-timing", "Failure timing", ("failure_timing",), ()),
    ("table-2", "Table 2: salvage treatment", ("table_2",), ()),
    ("response", "Response to salvage", ("response",), ("response",)),
    ("survival", "PFS-2 and OS-2", ("survival",), ("survival",)),
    ("cox", "Cox models", ("cox_univariate", "table_3"), ("cox",)),
    ("cytopenia", "Cytopenia", ("cytopenia",), ()),
    ("followup", "Follow-up and outcomes from infusion", ("followup",), ("context",)),
)


@dataclass(frozen=True, slots=True)
class EmbeddedFigure:
    """A figure ready for the HTML page: PNG bytes and metadata."""

    name: str
    section: str
    caption: str
    svg: bytes
    png: bytes


def _png_size(png: bytes) -> tuple[int, int]:
    w, h = struct.unpack(">II", png[16:24])
    return int(w), int(h)


def _png_dpi(png: bytes) -> float:
    i = png.find(b"pHYs")
    if i < 0:
        return 72.0
    ppm = int.from_bytes(png[i + 4 : i + 8], "big")
    return ppm * 0.0254 if ppm else 72.0


def _table_ctx(t: ReportTable) -> dict[str, Any]:
    rows = []
    cols = t.value_columns
    for rec in t.body.to_dict("records"):
        rows.append({"type": rec["row_type"], "label": rec["label"], "cells": [rec[c] for c in cols]})
    return {
        "id": t.id,
        "title": t.title,
        "headers": list(t.styling.headers),
        "rows": rows,
        "align": list(t.styling.align) or ["r"] * len(cols),
        "footnotes": list(t.styling.footnotes),
    }


def _key_numbers(r: StudyResult) -> list[dict[str, str]]:
    out = [
        {"label": "registered", "value": str(r.flow.step("registered").n)},
        {"label": "infused", "value": str(r.flow.step("infused").n)},
        {"label": "CAR-T failures (analysis population)", "value": str(r.flow.step("failures").n)},
        {"label": "with salvage data", "value": str(r.flow.step("salvage").n)},
    ]
    for aid, label in (
        ("pfs2_overall", "median PFS-2, months (95% CI)"),
        ("os2_overall", "median OS-2, months (95% CI)"),
    ):
        a = r.survival.get(aid)
        if a is not None and a.overall is not None:
            med = a.overall.km.median
            out.append({"label": label, "value": fmt_estimate_ci(med.estimate, med.ci_low, med.ci_high)})
    orr = r.response.table
    row = orr[(orr["group"] == "overall") & (orr["category"] == "orr")]
    if not row.empty:
        x = row.iloc[0]
        out.append({"label": f"ORR to salvage, % (n = {int(x['n'])})", "value": fmt_num(x["pct"])})
    a = r.survival.get("os2_by_timing")
    if a is not None and a.logrank is not None:
        out.append({"label": "OS-2 by failure timing, log-rank P", "value": fmt_p(a.logrank.p)})
    return out


def render_html(
    r: StudyResult, tables: list[ReportTable], figures: list[EmbeddedFigure], *, version: str
) -> str:
    """The full report as one HTML string."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("postcart.reporting", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    by_id = {t.id: t for t in tables}
    sections = []
    for sid, title, table_ids, fig_sections in SECTIONS:
        figs = []
        for f in figures:
            if f.section in fig_sections:
                w, h = _png_size(f.png)
                width = min(int(w * 125 / _png_dpi(f.png)), 1000)  # ~1.3x print size on screens
                figs.append(
                    {
                        "name": f.name,
                        "caption": f.caption,
                        "src": "data:image/svg+xml;base64," + base64.b64encode(f.svg).decode("ascii"),
                        "width": width,
                        "height": int(h * width / w),
                    }
                )
        sections.append(
            {
                "id": sid,
                "title": title,
                "tables": [_table_ctx(by_id[t]) for t in table_ids if t in by_id],
                "figures": figs,
                "paragraphs": methods_paragraphs(r) if sid == "methods" else [],
            }
        )
    template = env.get_template("report.html.j2")
    cutoff = r.methods.source.cutoff or "not recorded"
    return template.render(
        title="Outcomes after failure of anti-CD19 CAR T-cell therapy: study report",
        subtitle=f"{r.spec.name}. Data: {r.methods.source.description}; cut-off {cutoff}.",
        sections=sections,
        key_numbers=_key_numbers(r),
        warnings=list(r.methods.warnings),
        version=version,
        generated=r.methods.started_utc,
        profile=r.methods.profile,
        fingerprint=r.methods.source.fingerprint,
    )
