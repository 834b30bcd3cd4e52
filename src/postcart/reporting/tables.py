"""Report tables: content (``body``) separated from presentation (``styling``).

A :class:`ReportTable` has a ``body`` DataFrame of display strings, one row per table row,
with the leading columns ``row_type`` (``"section"``, ``"label"``, ``"level"``, ``"value"``) and
``label``, followed by the value columns, and a :class:`TableStyling` with the column headers,
row indents, bold rows and footnotes. The ``table_*`` builders read study results and only
format them (``postcart.reporting.format``); they compute nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from postcart.reporting.format import (
    DASH,
    fmt_estimate_ci,
    fmt_hr,
    fmt_int,
    fmt_n_pct,
    fmt_num,
    fmt_p,
    fmt_range,
)
from postcart.study.results import StudyResult, SurvivalAnalysisResult


@dataclass(frozen=True, slots=True)
class TableStyling:
    """Presentation of a table: headers of the value columns, footnotes."""

    headers: tuple[str, ...]
    footnotes: tuple[str, ...] = ()
    align: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class ReportTable:
    """A table of the report: ``body`` (strings) and ``styling``."""

    id: str
    title: str
    body: pd.DataFrame
    styling: TableStyling

    @property
    def value_columns(self) -> list[str]:
        """The body's value columns (after ``row_type`` and ``label``)."""
        return [c for c in self.body.columns if c not in ("row_type", "label")]

    def to_frame(self) -> pd.DataFrame:
        """Body with the display headers as column names (for CSV/XLSX)."""
        out = self.body.drop(columns="row_type").copy()
        out.columns = ["", *self.styling.headers]
        return out


def _table(
    tid: str,
    title: str,
    rows: list[dict[str, Any]],
    headers: list[str],
    notes: list[str],
    *,
    text_columns: tuple[int, ...] = (),
) -> ReportTable:
    keys = [f"c{i}" for i in range(len(headers))]
    body = pd.DataFrame(rows, columns=["row_type", "label", *keys]).fillna("")
    align = tuple("l" if i in text_columns else "r" for i in range(len(headers)))
    return ReportTable(tid, title, body, TableStyling(tuple(headers), tuple(notes), align))


# --------------------------------------------------------------------------------------------


def table_flow(r: StudyResult) -> ReportTable:
    """Patient flow: each step's n and the exclusions with reasons."""
    rows: list[dict[str, Any]] = []
    for s in r.flow.steps:
        rows.append({"row_type": "label", "label": s.label, "c0": fmt_int(s.n), "c1": ""})
        for reason, k in s.exclusions:
            rows.append({"row_type": "level", "label": f"excluded: {reason}", "c0": "", "c1": fmt_int(k)})
    for name, k in r.flow.notes:
        rows.append({"row_type": "level", "label": name, "c0": fmt_int(k), "c1": ""})
    return _table("flow", "Patient flow", rows, ["n", "excluded"], [])


def table_characteristics(r: StudyResult) -> ReportTable:
    """Table 1: n (%) / median (range) and IQR, missing counts, test between groups."""
    c = r.characteristics
    body = c.body
    test_rows = {str(t["variable"]): t for t in c.tests.to_dict("records")} if not c.tests.empty else {}
    groups = list(c.groups)
    headers = [
        f"{'All' if g == 'overall' else g} (N = {n})" for g, n in zip(groups, c.group_sizes, strict=True)
    ]
    headers += ["P", "Test"]
    rows: list[dict[str, Any]] = []
    section = None
    for var in c.spec.variables:
        sub = body[body["variable"] == var.column] if not body.empty else body
        if sub.empty:
            continue
        if var.section != section:
            section = var.section
            rows.append({"row_type": "section", "label": section})
        trow = test_rows.get(var.column)
        p_val = None if trow is None else trow["p"]
        p = fmt_p(float(p_val)) if p_val is not None and p_val == p_val else DASH
        test = str(trow["test"]) if trow is not None else ""
        by_group = {g: sub[sub["group"] == g] for g in groups}
        if var.kind == "continuous":
            unit = f" ({var.unit})" if var.unit else ""
            row = {"row_type": "label", "label": f"{var.label}{unit}, median (range)"}
            iqr = {"row_type": "level", "label": "IQR"}
            for i, g in enumerate(groups):
                x = by_group[g].iloc[0]
                row[f"c{i}"] = f"{fmt_num(x['median'])} ({fmt_range(x['min'], x['max'])})" if x["n"] else DASH
                iqr[f"c{i}"] = fmt_range(x["q1"], x["q3"]) if x["n"] else DASH
            row[f"c{len(groups)}"], row[f"c{len(groups) + 1}"] = p, test
            rows += [row, iqr]
            missing = [int(by_group[g].iloc[0]["missing"]) for g in groups]
        else:
            levels = list(dict.fromkeys(sub["level"].tolist()))
            if var.kind == "binary":
                row = {"row_type": "label", "label": f"{var.label}, n (%)"}
                for i, g in enumerate(groups):
                    x = by_group[g].iloc[0]
                    row[f"c{i}"] = fmt_n_pct(int(x["n"]), x["pct"])
                row[f"c{len(groups)}"], row[f"c{len(groups) + 1}"] = p, test
                rows.append(row)
            else:
                head = {
                    "row_type": "label",
                    "label": f"{var.label}, n (%)",
                    f"c{len(groups)}": p,
                    f"c{len(groups) + 1}": test,
                }
                rows.append(head)
                for level in levels:
                    lrow: dict[str, Any] = {"row_type": "level"}
                    for i, g in enumerate(groups):
                        x = by_group[g][by_group[g]["level"] == level].iloc[0]
                        lrow["label"] = str(x["level_label"])
                        lrow[f"c{i}"] = fmt_n_pct(int(x["n"]), x["pct"])
                    rows.append(lrow)
            missing = [int(by_group[g].iloc[0]["missing"]) for g in groups]
        if any(missing):
            mrow: dict[str, Any] = {"row_type": "level", "label": "Missing"}
            for i, k in enumerate(missing):
                mrow[f"c{i}"] = str(k)
            rows.append(mrow)
    notes = [
        "Percentages are of patients with a known value; missing counts are shown where any value is "
        "missing.",
        "Tests between products: Pearson chi-square without continuity correction when every expected "
        "count is"
        " >= 5, else Fisher exact (Freeman-Halton r x c); Wilcoxon rank-sum for continuous variables.",
        f"Quartiles: {c.quantile_method} sample quantiles.",
    ]
    return _table("table_1", c.spec.title, rows, headers, notes, text_columns=(len(headers) - 1,))


def table_failure_timing(r: StudyResult) -> ReportTable:
    """Failure timing groups and time to failure."""
    ft = r.failure_timing
    rows: list[dict[str, Any]] = []
    for rec in ft.counts.to_dict("records"):
        rows.append(
            {"row_type": "label", "label": str(rec["label"]), "c0": fmt_n_pct(int(rec["n"]), rec["pct"])}
        )
    rows.append(
        {
            "row_type": "label",
            "label": "Time to failure, months, median (range)",
            "c0": f"{fmt_num(ft.median_months)} ({fmt_range(ft.min_months, ft.max_months)})",
        }
    )
    b1, b2 = ft.boundaries_days
    notes = [
        f"Timing groups in days from infusion (D0 = day 0): very early 0-{b1}, early {b1 + 1}-{b2}, "
        f"late > {b2}.",
        "Time to failure is summarised by the sample median and range (not Kaplan-Meier).",
    ]
    return _table("failure_timing", f"Failure timing (N = {ft.n})", rows, ["n (%)"], notes)


def table_salvage(r: StudyResult) -> ReportTable:
    """Table 2: salvage status; first post-failure line by class and regimen."""
    s = r.salvage
    rows: list[dict[str, Any]] = [{"row_type": "section", "label": "Salvage status of failures"}]
    for rec in s.status.to_dict("records"):
        rows.append(
            {"row_type": "level", "label": str(rec["label"]), "c0": fmt_n_pct(int(rec["n"]), rec["pct"])}
        )
    rows.append({"row_type": "section", "label": f"First post-failure line, by class (N = {s.n_treated})"})
    regs = s.regimens
    for rec in s.classes.to_dict("records"):
        rows.append(
            {"row_type": "label", "label": str(rec["label"]), "c0": fmt_n_pct(int(rec["n"]), rec["pct"])}
        )
        if rec["class"] == "radiotherapy":
            rows.append(
                {
                    "row_type": "level",
                    "label": "alone, for localized disease",
                    "c0": fmt_n_pct(
                        s.n_rt_localized, 100.0 * s.n_rt_localized / s.n_treated if s.n_treated else None
                    ),
                }
            )
        for rg in regs[regs["class"] == rec["class"]].to_dict("records"):
            rows.append(
                {"row_type": "level", "label": str(rg["regimen"]), "c0": fmt_n_pct(int(rg["n"]), rg["pct"])}
            )
    notes = [
        "Status percentages are of all failures; class and regimen percentages are of treated failures.",
        "Each patient has one exclusive class (precedence: bispecific > lenalidomide > immunochemotherapy >"
        " targeted > radiotherapy > other).",
    ]
    return _table("table_2", "Table 2. Treatment at CAR-T failure", rows, ["n (%)"], notes)


def table_response(r: StudyResult) -> ReportTable:
    """Best response to salvage with exact 95% CIs, overall and by class."""
    t = r.response.table
    cats = [*r.response.spec.categories, "orr"]
    cat_labels = dict(zip(t["category"], t["category_label"], strict=False))
    headers = ["N"] + [str(cat_labels.get(c, c)) for c in cats]
    rows: list[dict[str, Any]] = []
    for g in dict.fromkeys(t["group"].tolist()):
        sub = t[t["group"] == g].set_index("category")
        n = int(sub["n"].iloc[0])
        row: dict[str, Any] = {
            "row_type": "label" if g == "overall" else "level",
            "label": str(sub["group_label"].iloc[0]),
            "c0": str(n),
        }
        for i, c in enumerate(cats):
            x = sub.loc[c]
            row[f"c{i + 1}"] = (
                f"{int(x['k'])} ({fmt_num(x['pct'])}; {fmt_num(x['ci_low'])}\u2013{fmt_num(x['ci_high'])})"
                if n
                else DASH
            )
        rows.append(row)
    conf = int(round(100 * r.response.conf_level))
    notes = [f"n (%; {conf}% CI), {r.response.method} confidence intervals. NE: not evaluated. ORR: CR + PR."]
    return _table("response", r.response.spec.title, rows, headers, notes)


def _pct_ci(v: float, lo: float, hi: float) -> str:
    def f(x: float) -> float | None:
        return None if x != x else 100.0 * float(x)

    return fmt_estimate_ci(f(v), f(lo), f(hi), nr=False)


def _surv_rows(a: SurvivalAnalysisResult) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    parts = ([a.overall] if a.overall is not None else []) + list(a.groups)
    lr = fmt_p(a.logrank.p) if a.logrank is not None else ""
    for j, g in enumerate(parts):
        med = g.km.median
        lm = g.landmarks
        row: dict[str, Any] = {
            "row_type": "label" if j == 0 else "level",
            "label": a.spec.title if j == 0 else "",
            "c0": "All" if g.level == "overall" else g.label,
            "c1": str(g.n),
            "c2": str(g.n_events),
            "c3": fmt_estimate_ci(med.estimate, med.ci_low, med.ci_high),
        }
        for i in range(len(lm.time)):
            row[f"c{4 + i}"] = _pct_ci(lm.survival[i], lm.ci_low[i], lm.ci_high[i])
        row[f"c{4 + len(lm.time)}"] = lr if j == 0 else ""
        rows.append(row)
    return rows


def table_survival(r: StudyResult) -> ReportTable:
    """Every Kaplan-Meier analysis: n, events, median (95% CI), landmark rates, log-rank P."""
    rows: list[dict[str, Any]] = []
    lms = [f"{t:g}-month % (95% CI)" for t in r.spec.landmarks]
    for a in r.survival.values():
        rows += _surv_rows(a)
    conv = r.methods.conventions
    notes = [
        f"Kaplan-Meier estimates; {conv['conf_type']} pointwise {int(round(100 * conv['conf_level']))}% "
        "CIs and Brookmeyer-Crowley CIs for medians (months). NR: not reached. Log-rank test across the "
        "groups shown.",
        "PFS-2 and OS-2 start at CAR-T failure; PFS, OS start at infusion; DOR at the first CR/PR.",
    ]
    for a in r.survival.values():
        if a.pairwise:
            labels = dict(zip(a.spec.levels or (), a.spec.level_labels or a.spec.levels or (), strict=True))
            pairs = "; ".join(
                f"{labels.get(pw.a, pw.a)} vs {labels.get(pw.b, pw.b)} P = {fmt_p(pw.result.p)}".replace(
                    "= <", "< "
                )
                for pw in a.pairwise
            )
            notes.append(f"{a.spec.title}, pairwise log-rank: {pairs}.")
    return _table(
        "survival",
        "Survival estimates",
        rows,
        ["Group", "n", "Events", "Median (95% CI)", *lms, "Log-rank P"],
        notes,
        text_columns=(0,),
    )


def table_cox(r: StudyResult, analysis_ids: tuple[str, ...], tid: str, title: str) -> ReportTable:
    """Cox models: one block per analysis, rows = terms (HR, Wald CI and P, n, events)."""
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for aid in analysis_ids:
        a = r.cox[aid]
        rows.append({"row_type": "section", "label": a.spec.title})
        for m in a.models:
            frame_terms: dict[str, Any] = {}
            if m.result is not None:
                frame_terms = {t.term: t for t in m.result.terms}
            for term, label in m.term_labels:
                t = frame_terms.get(term)
                est = t is not None and bool(t.estimable)
                rows.append(
                    {
                        "row_type": "level",
                        "label": label,
                        "c0": str(m.n),
                        "c1": str(m.n_events),
                        "c2": fmt_hr(
                            t.hr if t else None,
                            t.ci_low if t else None,
                            t.ci_high if t else None,
                            estimable=est,
                        ),
                        "c3": fmt_p(t.p) if est and t is not None else DASH,
                    }
                )
                if not est:
                    notes.append(
                        f"{a.spec.title}: the hazard ratio of '{label}' is not estimable "
                        "(monotone likelihood or no variation); no number is reported."
                    )
        for cov in a.spec.covariates:
            if cov.kind == "factor" and cov.reference_label:
                notes.append(f"{cov.label}: reference = {cov.reference_label}.")
            if cov.kind == "continuous":
                notes.append(f"{cov.label}: hazard ratio per {cov.per:g} units of {cov.column}.")
    ties = r.methods.conventions["ties"]
    notes.insert(
        0, f"Cox proportional hazards, {ties} ties; Wald CIs and P-values; complete cases per model."
    )
    return _table(tid, title, rows, ["n", "Events", "HR (95% CI)", "P"], list(dict.fromkeys(notes)))


def table_contingency(r: StudyResult) -> ReportTable:
    """Cytopenia tests: counts (column %) per table and the test."""
    rows: list[dict[str, Any]] = []
    max_cols = max((c.counts.shape[1] for c in r.contingency.values()), default=0)
    for c in r.contingency.values():
        counts = c.counts
        p = fmt_p(c.p)
        rows.append(
            {"row_type": "section", "label": f"{c.spec.title} ({c.test}, P = {p})".replace("= <", "< ")}
        )
        head: dict[str, Any] = {"row_type": "label", "label": c.spec.row_label}
        for j, col in enumerate(counts.columns):
            head[f"c{j}"] = str(col)
        rows.append(head)
        totals = counts.sum(axis=0)
        for idx in counts.index:
            row: dict[str, Any] = {
                "row_type": "level",
                "label": {"true": "yes", "false": "no"}.get(str(idx), str(idx)),
            }
            for j, col in enumerate(counts.columns):
                k = int(counts.loc[idx, col])
                tot = int(totals[col])
                row[f"c{j}"] = fmt_n_pct(k, 100.0 * k / tot if tot else None)
            rows.append(row)
        if c.n_missing:
            rows.append({"row_type": "level", "label": f"not recorded (excluded): {c.n_missing}"})
    headers = [""] * max_cols
    notes = [
        "Column percentages. Pearson chi-square without continuity correction; Fisher exact test"
        " (Freeman-Halton) for the r x c table."
    ]
    return _table("cytopenia", "Grade >= 3 cytopenia", rows, headers, notes)


def table_followup(r: StudyResult) -> ReportTable:
    """Median follow-up by reverse Kaplan-Meier."""
    rows: list[dict[str, Any]] = []
    for a in r.followup.values():
        for j, g in enumerate((a.overall, *a.groups)):
            rows.append(
                {
                    "row_type": "label" if j == 0 else "level",
                    "label": a.spec.title if j == 0 else "",
                    "c0": "All" if g.level == "overall" else g.level,
                    "c1": str(g.n),
                    "c2": fmt_estimate_ci(g.median.estimate, g.median.ci_low, g.median.ci_high),
                }
            )
    notes = ["Reverse Kaplan-Meier (censoring as the event, deaths censored); months."]
    return _table(
        "followup", "Median follow-up", rows, ["Group", "n", "Median (95% CI)"], notes, text_columns=(0,)
    )


def report_tables(r: StudyResult) -> list[ReportTable]:
    """Every table of the report, in report order."""
    uni = tuple(a for a in ("cox_uni_pfs2", "cox_uni_os2") if a in r.cox)
    mv = tuple(a for a in ("cox_mv_pfs2", "cox_mv_os2") if a in r.cox)
    return [
        table_flow(r),
        table_characteristics(r),
        table_failure_timing(r),
        table_salvage(r),
        table_response(r),
        table_survival(r),
        table_cox(r, uni, "cox_univariate", "Univariate Cox models (PFS-2, OS-2)"),
        table_cox(r, mv, "table_3", "Table 3. Multivariable Cox models (PFS-2, OS-2)"),
        table_contingency(r),
        table_followup(r),
    ]
