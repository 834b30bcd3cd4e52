"""Paper targets: computed values keyed by the ids of ``paper-targets.yaml``.

``compute_targets(result)`` maps every target id the data can reproduce to a
:class:`~postcart.study.results.TargetValue` (unrounded; percentages in percent, times in
months, hazard ratios on the ratio scale, P-values in ``p_value`` and also ``value`` for
targets whose printed value is a P-value). Ids without a source analysis (Discussion
P = .045) are not produced. A few extra ids (suffix ``_alt`` or ``_d90``) give the alternative
readings that ``paper-notes.md`` asks for (b.6, b.17, b.27); ``compare-paper`` ignores ids
that are not in the yaml.

The paper's numbers are never read here: ``postcart.study.compare`` reads them from the yaml
copy shipped with the package (``paper-targets.yaml``), only to print them beside ours.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from postcart.study.results import StudyResult, SurvivalGroup, TargetValue


def _num(x: Any) -> float | None:
    if x is None:
        return None
    v = float(x)
    return None if v != v else v


def _count(k: int, src: str) -> TargetValue:
    return TargetValue(value=float(k), n=int(k), source=src)


def _pct(k: int, n: int, src: str) -> TargetValue:
    return TargetValue(value=100.0 * k / n if n else None, n=int(k), denominator=int(n), source=src)


def _median(g: SurvivalGroup | None, src: str) -> TargetValue | None:
    if g is None:
        return None
    med = g.km.median
    return TargetValue(
        value=_num(med.estimate), ci_low=_num(med.ci_low), ci_high=_num(med.ci_high), n=g.n, source=src
    )


def _rate(g: SurvivalGroup | None, month: float, src: str, *, event_rate: bool = False) -> TargetValue | None:
    if g is None:
        return None
    lm = g.landmarks
    idx = np.flatnonzero(np.isclose(np.asarray(lm.time, dtype=float), month))
    if idx.size == 0:
        return None
    i = int(idx[0])
    if event_rate:
        v, lo, hi = lm.event_rate[i], lm.event_rate_ci_low[i], lm.event_rate_ci_high[i]
    else:
        v, lo, hi = lm.survival[i], lm.ci_low[i], lm.ci_high[i]
    scale = 100.0
    return TargetValue(
        value=None if _num(v) is None else scale * float(v),
        ci_low=None if _num(lo) is None else scale * float(lo),
        ci_high=None if _num(hi) is None else scale * float(hi),
        n=g.n,
        source=src,
    )


def _char(result: StudyResult, variable: str, level: str = "true") -> TargetValue | None:
    body = result.characteristics.body
    if body.empty:
        return None
    row = body[(body["variable"] == variable) & (body["level"] == level) & (body["group"] == "overall")]
    if row.empty:
        return None
    r = row.iloc[0]
    return _pct(int(r["n"]), int(r["denominator"]), f"table_1/{variable}={level}")


def _char_count(result: StudyResult, variable: str, level: str = "true") -> int | None:
    body = result.characteristics.body
    if body.empty:
        return None
    row = body[(body["variable"] == variable) & (body["level"] == level) & (body["group"] == "overall")]
    return None if row.empty else int(row.iloc[0]["n"])


def _cox_term(result: StudyResult, analysis: str, term: str) -> TargetValue | None:
    a = result.cox.get(analysis)
    if a is None:
        return None
    for m in a.models:
        if m.result is None:
            if any(t == term for t, _ in m.term_labels):
                return TargetValue(value=None, n=m.n, estimable=False, source=f"{analysis}/{m.name}")
            continue
        for t in m.result.terms:
            if t.term == term:
                return TargetValue(
                    value=_num(t.hr),
                    ci_low=_num(t.ci_low),
                    ci_high=_num(t.ci_high),
                    p_value=_num(t.p),
                    n=m.n,
                    estimable=bool(t.estimable),
                    source=f"{analysis}/{m.name}/{term}",
                )
        if any(t == term for t, _ in m.term_labels):  # term dropped as constant
            return TargetValue(value=None, n=m.n, estimable=False, source=f"{analysis}/{m.name}/{term}")
    return None


def _p_only(p: float | None, src: str) -> TargetValue | None:
    if p is None:
        return None
    return TargetValue(value=p, p_value=p, source=src)


def _logrank(result: StudyResult, analysis: str) -> TargetValue | None:
    a = result.survival.get(analysis)
    if a is None or a.logrank is None:
        return None
    return _p_only(_num(a.logrank.p), f"{analysis}/logrank")


def compute_targets(result: StudyResult) -> dict[str, TargetValue]:
    """Every paper-target id the data can reproduce, with its computed (unrounded) value."""
    out: dict[str, TargetValue | None] = {}
    flow = result.flow
    reg, inf = flow.step("registered").n, flow.step("infused").n
    fail, salv, ev = flow.step("failures").n, flow.step("salvage").n, flow.step("response_evaluable").n
    notes = dict(flow.notes)
    nonprog = inf - fail
    out["pop_registered"] = _count(reg, "flow/registered")
    out["pop_infused"] = _count(inf, "flow/infused")
    out["pop_not_infused"] = _count(reg - inf, "flow/registered")
    out["pop_axicel"] = _count(notes.get("infused: axi-cel", 0), "flow/infused")
    out["pop_tisacel"] = _count(notes.get("infused: tisa-cel", 0), "flow/infused")
    out["pop_nonprogressive"] = _count(nonprog, "flow/infused")
    out["pop_nonprog_cr_pct"] = _pct(notes.get("nonprogressive: best CAR-T response CR", 0), nonprog, "flow")
    out["pop_nonprog_pr_pct"] = _pct(notes.get("nonprogressive: best CAR-T response PR", 0), nonprog, "flow")
    out["pop_nonprog_sd_pct"] = _pct(notes.get("nonprogressive: best CAR-T response SD", 0), nonprog, "flow")
    out["pop_nonprog_unclassified"] = _count(
        notes.get("nonprogressive: best response not classified", 0), "flow"
    )
    out["pop_failures_pct"] = _pct(fail, inf, "flow/failures")
    out["pop_failures_axicel"] = _count(notes.get("failures: axi-cel", 0), "flow/failures")
    out["pop_failures_tisacel"] = _count(notes.get("failures: tisa-cel", 0), "flow/failures")
    out["pop_salvage_data_pct"] = _pct(salv, fail, "flow/salvage")
    out["pop_salvage_data_pct_abstract"] = _pct(salv, fail, "flow/salvage")
    out["pop_no_salvage_data"] = _count(fail - salv, "flow/failures")
    out["pop_response_data_pct"] = _pct(ev, salv, "flow/response_evaluable")
    out["pop_no_response_data"] = _count(salv - ev, "flow/salvage")
    out["pop_responders_all"] = _count(notes.get("CAR-T responders (CR or PR) among infused", 0), "flow")

    out["base_dlbcl_pct"] = _char(result, "histology", "dlbcl_nos")
    out["base_aaipi_2_3_pct"] = _char(result, "dec_aaipi_2_3")
    out["base_ecog_ge2_pct"] = _char(result, "dec_ecog_ge2")
    out["base_lines_gt3_pct"] = _char(result, "prior_lines_gt3")
    out["base_prior_transplant_pct"] = _char(result, "prior_transplant")
    k_auto, k_allo = _char_count(result, "prior_asct"), _char_count(result, "prior_allo")
    out["base_prior_auto"] = None if k_auto is None else _count(k_auto, "table_1/prior_asct")
    out["base_prior_allo"] = None if k_allo is None else _count(k_allo, "table_1/prior_allo")
    out["base_bridging_any_pct"] = _char(result, "bridged")
    k_bridged = _char_count(result, "bridged")
    if k_bridged is not None:
        for level, tid in (
            ("conventional", "base_bridging_conventional_pct"),
            ("low_dose", "base_bridging_lowdose_pct"),
            ("radiotherapy", "base_bridging_rt_pct"),
        ):
            k = _char_count(result, "bridging_type", level)
            out[tid] = (
                None if k is None else _pct(k, k_bridged, f"table_1/bridging_type={level} among bridged")
            )
    k_none = _char_count(result, "bridging_type", "none")
    out["base_no_bridging"] = None if k_none is None else _count(k_none, "table_1/bridging_type=none")
    out["base_pd_at_infusion_pct"] = _char(result, "d0_pd")
    out["base_ldh_high_d0_pct"] = _char(result, "d0_ldh_high")

    ft = result.failure_timing
    tcount: dict[str, int] = {
        str(k): int(v) for k, v in zip(ft.counts["level"].tolist(), ft.counts["n"].tolist(), strict=True)
    }
    for level, tid in (
        ("very_early", "ft_very_early_pct"),
        ("early", "ft_early_pct"),
        ("late", "ft_late_pct"),
    ):
        if level in tcount:
            out[tid] = _pct(tcount[level], ft.n, f"failure_timing/{level}")
    out["ft_median_months"] = TargetValue(
        value=_num(ft.median_months), n=ft.n, source="failure_timing (sample median)"
    )
    out["ft_min_months"] = TargetValue(value=_num(ft.min_months), n=ft.n, source="failure_timing (minimum)")
    out["ft_max_months"] = TargetValue(value=_num(ft.max_months), n=ft.n, source="failure_timing (maximum)")
    if "early" in tcount and "late" in tcount:
        out["ft_after_d30_n"] = _count(tcount["early"] + tcount["late"], "failure_timing")

    cl = result.salvage.classes
    ccount: dict[str, int] = {
        str(k): int(v) for k, v in zip(cl["class"].tolist(), cl["n"].tolist(), strict=True)
    }
    n_t = result.salvage.n_treated
    for klass, tid in (
        ("lenalidomide", "st_lenalidomide_pct"),
        ("bispecific", "st_bispecific_pct"),
        ("targeted", "st_targeted_pct"),
        ("radiotherapy", "st_radiotherapy_pct"),
        ("immunochemotherapy", "st_immunochemo_pct"),
    ):
        if klass in ccount:
            out[tid] = _pct(ccount[klass], n_t, f"table_2/{klass}")
    five = ("lenalidomide", "bispecific", "targeted", "radiotherapy", "immunochemotherapy")
    out["st_class_sum"] = _count(sum(ccount.get(c, 0) for c in five), "table_2")
    out["st_rt_localized_n"] = _count(result.salvage.n_rt_localized, "table_2/rt_localized")

    c30 = result.contingency.get("cytopenia_d30_by_product")
    c90 = result.contingency.get("cytopenia_d90_by_product")
    out["test_cytopenia_by_product"] = None if c30 is None else _p_only(c30.p, "cytopenia_d30_by_product")
    out["test_cytopenia_by_product_d90"] = None if c90 is None else _p_only(c90.p, "cytopenia_d90_by_product")
    cf = result.contingency.get("cytopenia_d30_vs_salvage")
    out["test_cytopenia_d30_vs_treatment"] = None if cf is None else _p_only(cf.p, "cytopenia_d30_vs_salvage")
    for tid, analysis in (
        ("test_discussion_len_os", "cox_mv_os2"),
        ("test_discussion_len_pfs", "cox_mv_pfs2"),
    ):
        len_term = _cox_term(result, analysis, "treatment[lenalidomide]")
        out[tid] = (
            None if len_term is None else _p_only(len_term.p_value, f"{analysis}/treatment[lenalidomide]")
        )

    resp = result.response.table
    overall = {str(r["category"]): r for r in resp[resp["group"] == "overall"].to_dict("records")}
    for cat, tid in (
        ("orr", "resp_orr_pct"),
        ("cr", "resp_cr_pct"),
        ("pr", "resp_pr_pct"),
        ("sd", "resp_sd_pct"),
        ("pd", "resp_pd_pct"),
    ):
        if cat in overall:
            r = overall[cat]
            out[tid] = TargetValue(
                value=_num(r["pct"]),
                ci_low=_num(r["ci_low"]),
                ci_high=_num(r["ci_high"]),
                n=int(r["k"]),
                denominator=int(r["n"]),
                source=f"response/{cat}",
            )
    if "ne" in overall:
        out["resp_unclassified"] = _count(int(overall["ne"]["k"]), "response/ne")

    sv = result.survival

    def ov(aid: str) -> SurvivalGroup | None:
        a = sv.get(aid)
        return None if a is None else a.overall

    def grp(aid: str, level: str) -> SurvivalGroup | None:
        a = sv.get(aid)
        return None if a is None else a.group(level)

    out["surv_pfs_all_median"] = _median(ov("pfs_infused"), "pfs_infused")
    out["surv_pfs_all_6m"] = _rate(ov("pfs_infused"), 6.0, "pfs_infused")
    out["surv_dor_median"] = _median(ov("dor_responders"), "dor_responders")
    out["surv_dor_6m"] = _rate(ov("dor_responders"), 6.0, "dor_responders")
    out["surv_pfs2_median"] = _median(ov("pfs2_overall"), "pfs2_overall")
    out["surv_pfs2_event_6m"] = _rate(ov("pfs2_overall"), 6.0, "pfs2_overall (1 - KM)", event_rate=True)
    out["surv_pfs2_event_12m"] = _rate(ov("pfs2_overall"), 12.0, "pfs2_overall (1 - KM)", event_rate=True)
    out["surv_os2_median"] = _median(ov("os2_overall"), "os2_overall")
    out["surv_os2_6m"] = _rate(ov("os2_overall"), 6.0, "os2_overall")
    out["surv_os2_12m"] = _rate(ov("os2_overall"), 12.0, "os2_overall")
    for ep in ("pfs2", "os2"):
        for level in ("very_early", "early", "late"):
            out[f"tim_{ep}_median_{level}"] = _median(
                grp(f"{ep}_by_timing", level), f"{ep}_by_timing/{level}"
            )
        out[f"tim_{ep}_logrank"] = _logrank(result, f"{ep}_by_timing")
    out["tim_os2_6m_very_early"] = _rate(grp("os2_by_timing", "very_early"), 6.0, "os2_by_timing/very_early")
    out["tim_os2_median_very_early_abstract"] = _median(grp("os2_by_d30", "true"), "os2_by_d30/D0-D30")
    out["tim_os2_median_after_d30_abstract"] = _median(grp("os2_by_d30", "false"), "os2_by_d30/>D30")
    out["tim_logrank_d30_abstract"] = _logrank(result, "os2_by_d30")
    # paper-notes b.6: the abstract's contrast is most likely PFS-2; give that reading too
    out["tim_os2_median_very_early_abstract_alt"] = _median(grp("pfs2_by_d30", "true"), "pfs2_by_d30/D0-D30")
    out["tim_os2_median_after_d30_abstract_alt"] = _median(grp("pfs2_by_d30", "false"), "pfs2_by_d30/>D30")
    out["tim_logrank_d30_abstract_alt"] = _logrank(result, "pfs2_by_d30")
    for ep in ("pfs2", "os2"):
        for klass, short in (
            ("bispecific", "bispecific"),
            ("lenalidomide", "lenalidomide"),
            ("targeted", "targeted"),
            ("immunochemotherapy", "immunochemo"),
        ):
            out[f"trt_{ep}_median_{short}"] = _median(grp(f"{ep}_by_class", klass), f"{ep}_by_class/{klass}")
        out[f"trt_{ep}_logrank"] = _logrank(result, f"{ep}_by_class")
        out[f"trt_{ep}_median_rt"] = _median(ov(f"{ep}_rt_localized"), f"{ep}_rt_localized")

    for ep in ("pfs2", "os2"):
        for suffix, term_name in (
            ("ldh_high", "ldh_high"),
            ("ecog_ge2", "ecog_ge2"),
            ("very_early", "very_early"),
            ("crp", "crp"),
            ("ferritin", "ferritin"),
            ("bispecific", "treatment[bispecific]"),
            ("lenalidomide", "treatment[lenalidomide]"),
            ("targeted", "treatment[targeted]"),
        ):
            out[f"cox_uni_{ep}_{suffix}"] = _cox_term(result, f"cox_uni_{ep}", term_name)
            out[f"cox_mv_{ep}_{suffix}"] = _cox_term(result, f"cox_mv_{ep}", term_name)

    def fu(aid: str, level: str) -> TargetValue | None:
        a = result.followup.get(aid)
        if a is None:
            return None
        g = a.overall if level == "overall" else next((x for x in a.groups if x.level == level), None)
        if g is None:
            return None
        return TargetValue(
            value=_num(g.median.estimate),
            ci_low=_num(g.median.ci_low),
            ci_high=_num(g.median.ci_high),
            n=g.n,
            source=f"{aid}/{level} (reverse KM)",
        )

    out["fu_median_all"] = fu("fu_infused", "overall")
    out["fu_median_axicel_failures"] = fu("fu_failures_d0", "axi-cel")
    out["fu_median_tisacel_failures"] = fu("fu_failures_d0", "tisa-cel")
    out["fu_median_axicel_failures_alt"] = fu("fu_failures_failure", "axi-cel")
    out["fu_median_tisacel_failures_alt"] = fu("fu_failures_failure", "tisa-cel")
    return {k: v for k, v in out.items() if v is not None}


def targets_frame(targets: dict[str, TargetValue]) -> pd.DataFrame:
    """The targets as a tidy frame (one row per id)."""
    return pd.DataFrame([{"id": k, **v.as_dict()} for k, v in targets.items()])
