"""The figures of the report, built from a study result (drawing is in ``figures``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from matplotlib.figure import Figure

from postcart.reporting.figures import (
    PALETTE,
    TIMING_COLOURS,
    Curve,
    FlowBox,
    ForestRow,
    ResponseBar,
    flow_figure,
    forest_figure,
    km_figure,
    response_figure,
)
from postcart.study.results import StudyResult, SurvivalAnalysisResult


@dataclass(frozen=True, slots=True)
class ReportFigure:
    """A figure of the report: file stem, section, caption and the matplotlib figure."""

    name: str
    section: str
    caption: str
    figure: Figure


def _curves(a: SurvivalAnalysisResult) -> list[Curve]:
    if not a.groups:
        return [] if a.overall is None else [Curve("All", a.overall.km, PALETTE[0])]
    out = []
    for i, g in enumerate(a.groups):
        colour = TIMING_COLOURS.get(g.level, PALETTE[i % len(PALETTE)])
        out.append(Curve(g.label, g.km, colour))
    return out


def _km(r: StudyResult, aid: str, name: str, section: str, title: str) -> ReportFigure | None:
    a = r.survival.get(aid)
    if a is None or (a.overall is None and not a.groups):
        return None
    ep = a.spec.endpoint
    origin = {"CAR-T failure": "Months since CAR-T failure", "infusion (D0)": "Months since infusion"}.get(
        ep.origin, f"Months since {ep.origin}"
    )
    fig = km_figure(
        _curves(a),
        title=title,
        xlabel=origin,
        ylabel=ep.label,
        logrank_p=None if a.logrank is None else float(a.logrank.p),
    )
    band = (
        f"with {r.methods.conventions['conf_type']} pointwise 95% confidence band"
        if len(a.groups) <= 3
        else "(confidence bands omitted for more than three groups; see the survival table)"
    )
    cap = (
        f"{title}. Kaplan-Meier estimate {band}; "
        "ticks mark censored observations; numbers at risk below the axis. "
        f"{ep.label}: from {ep.origin} to {ep.event}."
    )
    return ReportFigure(name, section, cap, fig)


def _forest(r: StudyResult, aid: str) -> ReportFigure | None:
    a = r.cox.get(aid)
    if a is None:
        return None
    rows: list[ForestRow] = []
    for m in a.models:
        terms = {t.term: t for t in m.result.terms} if m.result is not None else {}
        factor_header_done = False
        for term, label in m.term_labels:
            if "[" in term and not factor_header_done:
                cov = next(c for c in a.spec.covariates if term.startswith(c.name + "["))
                rows.append(
                    ForestRow(f"{cov.label} (vs reference)", None, None, None, None, True, header=True)
                )
                factor_header_done = True
            t = terms.get(term)
            est = t is not None and bool(t.estimable)
            rows.append(
                ForestRow(
                    label,
                    t.hr if t is not None else None,
                    t.ci_low if t is not None else None,
                    t.ci_high if t is not None else None,
                    t.p if t is not None else None,
                    est,
                    m.n,
                )
            )
    refs = [f"{c.label} reference: {c.reference_label}" for c in a.spec.covariates if c.kind == "factor"]
    ties = str(r.methods.conventions["ties"]).capitalize()
    note = f"Wald 95% CI; {ties} ties." + "".join(f" {x}." for x in refs)
    title = a.spec.title
    return ReportFigure(
        f"forest_{aid.removeprefix('cox_')}",
        "cox",
        f"{title}: hazard ratios with Wald 95% confidence intervals (log scale).",
        forest_figure(rows, title=title, note=note),
    )


def _figure1(r: StudyResult) -> ReportFigure | None:
    t = r.response.table
    spec = r.response.spec
    pfs2 = r.survival.get("pfs2_by_class")
    bars: list[ResponseBar] = []
    for level, label in zip(spec.by_levels, spec.by_labels, strict=True):
        sub = t[t["group"] == level]
        n = int(sub["n"].iloc[0]) if not sub.empty else 0
        g = pfs2.group(level) if pfs2 is not None else None
        if n == 0 and g is None:
            continue
        pct = {str(c): float(p) for c, p in zip(sub["category"], sub["pct"], strict=True) if n}
        med = g.km.median if g is not None else None
        bars.append(
            ResponseBar(
                label,
                n,
                pct,
                None if med is None else med.estimate,
                None if med is None else med.ci_low,
                None if med is None else med.ci_high,
                0 if g is None else g.n,
            )
        )
    if not bars:
        return None
    cats = list(zip(spec.categories, spec.category_labels, strict=True))
    fig = response_figure(
        bars, cats, title="Figure 1. Best response to salvage and median PFS-2, by treatment class"
    )
    cap = (
        "Figure 1. Left: best overall response to the first post-failure line among patients with a response "
        "recorded, by class (percent; labels shown for segments >= 8%). Right: median PFS-2 (months) with "
        "95% CI among treated failures, by class; NR = not reached, arrow = upper limit not reached."
    )
    return ReportFigure("figure_1", "response", cap, fig)


def _flow(r: StudyResult) -> ReportFigure:
    notes = dict(r.flow.notes)
    boxes = []
    for s in r.flow.steps:
        label = s.label
        prefix = {"infused": "infused: ", "failures": "failures: "}.get(s.name)
        if prefix:
            parts = [f"{k.removeprefix(prefix)} {v}" for k, v in notes.items() if k.startswith(prefix)]
            if parts:
                label = f"{label}\n({', '.join(parts)})"
        boxes.append(FlowBox(label, s.n, s.exclusions))
    return ReportFigure(
        "flow_diagram",
        "flow",
        "Patient flow from registration to response evaluation.",
        flow_figure(boxes, title="Patient flow"),
    )


def report_figures(r: StudyResult) -> Iterator[ReportFigure]:
    """Yield the figures one at a time (so each can be saved and closed before the next)."""
    yield _flow(r)
    fig1 = _figure1(r)
    if fig1 is not None:
        yield fig1
    for aid, name, section, title in (
        ("pfs2_overall", "figure_2", "survival", "Figure 2. PFS-2, all failures"),
        ("os2_overall", "figure_3", "survival", "Figure 3. OS-2, all failures"),
        ("pfs2_by_timing", "figure_4", "survival", "Figure 4. PFS-2 by failure timing"),
        ("os2_by_timing", "figure_5", "survival", "Figure 5. OS-2 by failure timing"),
        ("pfs2_by_class", "figure_6", "survival", "Figure 6. PFS-2 by salvage treatment class"),
        ("os2_by_class", "figure_7", "survival", "Figure 7. OS-2 by salvage treatment class"),
        ("pfs_infused", "figure_s1", "context", "Figure S1. PFS from infusion, all infused"),
        ("os_infused", "figure_s2", "context", "Figure S2. OS from infusion, all infused"),
        ("dor_responders", "figure_s3", "context", "Figure S3. Duration of response, CAR-T responders"),
    ):
        f = _km(r, aid, name, section, title)
        if f is not None:
            yield f
    for aid in ("cox_uni_pfs2", "cox_uni_os2", "cox_mv_pfs2", "cox_mv_os2"):
        f = _forest(r, aid)
        if f is not None:
            yield f
