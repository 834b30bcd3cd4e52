"""``postcart synth check``: analyse simulated registries with the real pipeline, compare to the paper.

The path is the production one: the simulated tables are written as an extract (CSV folder),
imported with ``postcart.registry.read_extract`` (which refuses any error), derived with
``postcart.endpoints.derive_endpoints``, analysed with ``postcart.study.run_study`` (which uses
``postcart.stats``) and mapped to paper ids by ``postcart.study.compute_targets``. So the
*computation* of each target lives in ``postcart.study.targets``; this module holds only the
declarative **comparison** table ``TARGET_RULES`` (what kind of number each target is, which
computed id answers it, how it is compared at paper size and at 100x) and the evaluation.

Comparison rules
----------------
At the paper's size (``scale=1``), a target passes when the simulated value is inside the
paper's printed 95% CI, or, when the paper prints none, inside a tolerance equal to the
paper's own sampling uncertainty:

* ``percent`` / ``rate`` / ``count`` (as a share of its base): +/- 1.96 * sqrt(p (1 - p) / m)
  percentage points around the paper's share ``p`` with the paper's base ``m`` (a binomial
  95% half-width), at least 1 point;
* ``median`` without CI: +/- 15 %; ``range`` (min/max of time to failure): +/- 0.3 months
  for the minimum, +/- 30 % for the maximum;
* ``hr``: inside the printed CI (widened by half a unit of the printed precision,
  ``PRINTED_HR`` = 0.005, at both scales; medians' CIs likewise by ``PRINTED_MONTHS`` = 0.05,
  at paper size); ``hr_nr`` (printed "not reached"): passes when the fit is not estimable;
* ``p``: same side of 0.05 as the printed P.

At 100x (``scale=100``) the issue's goals apply: shares within 2 points, medians within 10 %,
HRs inside the paper's CI. P-values, extreme order statistics (min/max) and "not reached"
HRs scale with the sample size and are reported as ``n/a`` (not counted).
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml

from postcart.synth.generate import DEFAULT_N, DEFAULT_SEED, SyntheticRegistry, simulate
from postcart.synth.model import DEFAULT_CUTOFF
from postcart.synth.parameters import SynthParameters, load_parameters

Kind = Literal["count", "percent", "rate", "median", "range_min", "range_max", "hr", "hr_nr", "p"]


@dataclass(frozen=True, slots=True)
class TargetRule:
    """How one paper target is compared.

    ``computed`` is the id in ``postcart.study.compute_targets`` that answers it (default: the
    same id). ``base`` (counts only) is the target whose value is the count's denominator
    (``None``: the count scales with the registry size).
    """

    id: str
    kind: Kind
    computed: str | None = None
    base: str | None = None
    note: str = ""


def _r(id_: str, kind: Kind, **kw: Any) -> TargetRule:
    return TargetRule(id_, kind, **kw)


#: Every analysis target of paper-targets.yaml and how it is compared (see the module doc).
TARGET_RULES: tuple[TargetRule, ...] = (
    _r("pop_registered", "count"),
    _r("pop_infused", "count", base="pop_registered"),
    _r("pop_axicel", "count", base="pop_infused"),
    _r("pop_tisacel", "count", base="pop_infused"),
    _r("pop_nonprogressive", "count", base="pop_infused"),
    _r("pop_nonprog_cr_pct", "percent"),
    _r("pop_nonprog_pr_pct", "percent"),
    _r("pop_nonprog_sd_pct", "percent"),
    _r("pop_failures_pct", "percent"),
    _r("pop_failures_axicel", "count", base="_failures"),
    _r("pop_failures_tisacel", "count", base="_failures"),
    _r("pop_salvage_data_pct", "percent"),
    _r("pop_salvage_data_pct_abstract", "percent", note="abstract truncates 64.7 to 64 (b.1)"),
    _r("pop_response_data_pct", "percent"),
    _r("pop_responders_all", "count", base="pop_infused"),
    _r("base_dlbcl_pct", "percent"),
    _r("base_aaipi_2_3_pct", "percent"),
    _r("base_ecog_ge2_pct", "percent"),
    _r("base_lines_gt3_pct", "percent"),
    _r("base_prior_transplant_pct", "percent"),
    _r("base_prior_auto", "count", base="_failures"),
    _r("base_prior_allo", "count", base="_failures"),
    _r("base_bridging_any_pct", "percent"),
    _r("base_bridging_conventional_pct", "percent"),
    _r("base_bridging_lowdose_pct", "percent"),
    _r("base_bridging_rt_pct", "percent"),
    _r("base_pd_at_infusion_pct", "percent"),
    _r("base_ldh_high_d0_pct", "percent"),
    _r("ft_very_early_pct", "percent"),
    _r("ft_early_pct", "percent"),
    _r("ft_late_pct", "percent"),
    _r("ft_median_months", "median"),
    _r("ft_min_months", "range_min"),
    _r("ft_max_months", "range_max"),
    _r("st_lenalidomide_pct", "percent"),
    _r("st_bispecific_pct", "percent"),
    _r("st_targeted_pct", "percent"),
    _r("st_radiotherapy_pct", "percent"),
    _r("st_immunochemo_pct", "percent"),
    _r("st_rt_localized_n", "count", base="_salvage"),
    _r("test_cytopenia_by_product", "p"),
    _r("test_cytopenia_d30_vs_treatment", "p"),
    _r("test_discussion_len_os", "p", note="restates cox_mv_os2_lenalidomide"),
    _r("test_discussion_len_pfs", "p", note="restates cox_mv_pfs2_lenalidomide"),
    _r("resp_orr_pct", "percent"),
    _r("resp_cr_pct", "percent"),
    _r("resp_pr_pct", "percent"),
    _r("resp_sd_pct", "percent"),
    _r("resp_pd_pct", "percent"),
    _r("surv_pfs_all_median", "median", note="soft target (b.23)"),
    _r("surv_pfs_all_6m", "rate", note="soft target (b.23)"),
    _r("surv_dor_median", "median"),
    _r("surv_dor_6m", "rate"),
    _r("surv_pfs2_median", "median"),
    _r("surv_pfs2_event_6m", "rate"),
    _r("surv_pfs2_event_12m", "rate"),
    _r("surv_os2_median", "median"),
    _r("surv_os2_6m", "rate"),
    _r("surv_os2_12m", "rate"),
    _r("tim_pfs2_median_very_early", "median"),
    _r("tim_pfs2_median_early", "median"),
    _r("tim_pfs2_median_late", "median"),
    _r("tim_pfs2_logrank", "p"),
    _r("tim_os2_median_very_early", "median"),
    _r("tim_os2_median_early", "median"),
    _r("tim_os2_median_late", "median"),
    _r("tim_os2_logrank", "p"),
    _r("tim_os2_6m_very_early", "rate"),
    _r(
        "tim_os2_median_very_early_abstract",
        "median",
        computed="tim_os2_median_very_early_abstract_alt",
        note="abstract 'OS' read as PFS-2 (b.6)",
    ),
    _r(
        "tim_os2_median_after_d30_abstract",
        "median",
        computed="tim_os2_median_after_d30_abstract_alt",
        note="abstract 'OS' read as PFS-2 (b.6)",
    ),
    _r("tim_logrank_d30_abstract", "p"),
    _r("trt_pfs2_median_bispecific", "median"),
    _r("trt_pfs2_median_lenalidomide", "median"),
    _r("trt_pfs2_median_targeted", "median"),
    _r("trt_pfs2_median_immunochemo", "median"),
    _r("trt_pfs2_logrank", "p"),
    _r("trt_os2_median_bispecific", "median"),
    _r("trt_os2_median_lenalidomide", "median"),
    _r("trt_os2_median_targeted", "median"),
    _r("trt_os2_median_immunochemo", "median"),
    _r("trt_os2_logrank", "p"),
    _r("trt_pfs2_median_rt", "median"),
    _r("trt_os2_median_rt", "median"),
    _r("cox_uni_pfs2_ldh_high", "hr", note="possible copy of the OS-2 result (b.12)"),
    _r("cox_uni_pfs2_ecog_ge2", "hr"),
    _r("cox_uni_pfs2_very_early", "hr"),
    _r("cox_uni_pfs2_crp", "hr"),
    _r("cox_uni_pfs2_ferritin", "hr", note="possible copy of the OS-2 result (b.12)"),
    _r("cox_uni_pfs2_bispecific", "hr"),
    _r("cox_uni_pfs2_lenalidomide", "hr"),
    _r("cox_uni_pfs2_targeted", "hr"),
    _r("cox_uni_os2_ldh_high", "hr"),
    _r("cox_uni_os2_ecog_ge2", "hr"),
    _r("cox_uni_os2_very_early", "hr"),
    _r("cox_uni_os2_crp", "hr"),
    _r("cox_uni_os2_ferritin", "hr"),
    _r("cox_uni_os2_bispecific", "hr"),
    _r("cox_uni_os2_lenalidomide", "hr"),
    _r("cox_uni_os2_targeted", "hr"),
    _r("cox_mv_pfs2_ldh_high", "hr"),
    _r("cox_mv_pfs2_ferritin", "hr"),
    _r("cox_mv_pfs2_bispecific", "hr_nr", note="printed 'not reached' (b.21)"),
    _r("cox_mv_pfs2_lenalidomide", "hr"),
    _r("cox_mv_pfs2_targeted", "hr"),
    _r("cox_mv_os2_ldh_high", "hr"),
    _r("cox_mv_os2_crp", "hr"),
    _r("cox_mv_os2_very_early", "hr"),
    _r("cox_mv_os2_bispecific", "hr"),
    _r("cox_mv_os2_targeted", "hr"),
    _r("cox_mv_os2_lenalidomide", "hr"),
    _r("fu_median_all", "median"),
    # b.17 leaves the origin of the failures' follow-up open: compared from D0 (as all infused);
    # the study also reports the failure-date reading (ids ending in _alt), not compared
    _r("fu_median_axicel_failures", "median"),
    _r("fu_median_tisacel_failures", "median"),
)
RULES_BY_ID: dict[str, TargetRule] = {r.id: r for r in TARGET_RULES}
#: Half a unit of the paper's printed precision: a printed CI limit 1.01 stands for [1.005, 1.015)
#: (hazard ratios, 2 decimals), a printed 4.1 months for [4.05, 4.15) (1 decimal).
PRINTED_HR = 0.005
PRINTED_MONTHS = 0.05
#: The rule text of a simulated median that is not reached (a miss at both scales, even where the
#: paper's CI is open on the right: a reading left to the team, docs/synth.md "The check").
MEDIAN_NOT_REACHED = "median not reached"
#: Paper targets deliberately not checked, with the reason.
NOT_CHECKED: dict[str, str] = {
    "test_discussion_len_advantage": "Discussion P = .045 has no source analysis (b.22)",
}


@dataclass(frozen=True, slots=True)
class PaperTarget:
    """The printed value of a paper target (read from paper-targets.yaml, never copied)."""

    id: str
    kind: str
    value: Any
    ci_low: Any
    ci_high: Any
    n: int | None
    denominator: int | None
    p_value: float | None
    p_operator: str | None
    quantity: str


def paper_targets_path() -> Path:
    """The packaged copy of paper-targets.yaml (``postcart.study``), else the shared reference."""
    import postcart.study as study

    packaged = Path(study.__file__).with_name("paper-targets.yaml")
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[4] / "shared" / "reference" / "paper-targets.yaml"


def load_paper_targets(path: Path | None = None) -> dict[str, PaperTarget]:
    """Analysis targets (``target_type: analysis``) of paper-targets.yaml, by id."""
    return dict(_load_paper_targets(path or paper_targets_path()))


@functools.lru_cache(maxsize=4)
def _load_paper_targets(path: Path) -> dict[str, PaperTarget]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: dict[str, PaperTarget] = {}
    for t in doc["targets"]:
        if t.get("target_type") != "analysis":
            continue
        out[t["id"]] = PaperTarget(
            id=t["id"],
            kind=t["kind"],
            value=t["value"],
            ci_low=t.get("ci_low"),
            ci_high=t.get("ci_high"),
            n=t.get("n"),
            denominator=t.get("denominator"),
            p_value=t.get("p_value"),
            p_operator=t.get("p_operator"),
            quantity=t.get("quantity", ""),
        )
    return out


@dataclass(frozen=True, slots=True)
class TargetCheck:
    """One row of the check: the paper's value, ours, and the verdict."""

    id: str
    kind: str
    paper: str
    simulated: str
    difference: str
    rule: str
    passed: bool | None  # None = not assessed at this scale
    paper_value: float | None
    sim_value: float | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Result of ``run_check``: one ``TargetCheck`` per target, and how it was produced."""

    rows: tuple[TargetCheck, ...]
    scale: int
    n_registered: int
    seed: int
    import_issues: int
    flow: str
    elapsed_seconds: float
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def n_assessed(self) -> int:
        return sum(r.passed is not None for r in self.rows)

    @property
    def n_passed(self) -> int:
        return sum(r.passed is True for r in self.rows)

    @property
    def pass_rate(self) -> float:
        return self.n_passed / self.n_assessed if self.n_assessed else float("nan")

    def to_frame(self) -> pd.DataFrame:
        """The check table (one row per target)."""
        return pd.DataFrame(
            {
                "target": [r.id for r in self.rows],
                "kind": [r.kind for r in self.rows],
                "paper": [r.paper for r in self.rows],
                "simulated": [r.simulated for r in self.rows],
                "difference": [r.difference for r in self.rows],
                "rule": [r.rule for r in self.rows],
                "pass": ["n/a" if r.passed is None else ("yes" if r.passed else "NO") for r in self.rows],
                "note": [r.note for r in self.rows],
            }
        )


def as_number(x: Any) -> float | None:
    """A printed or computed value as a float; ``None`` for "NR", missing, non-numeric or NaN."""
    if x is None or x == "NR":
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _fmt(x: float | None, digits: int = 1) -> str:
    return "NA" if x is None else f"{x:.{digits}f}"


def _ci(lo: Any, hi: Any, digits: int = 2) -> str:
    if lo is None and hi is None:
        return ""
    lo_s = "NR" if lo == "NR" or lo is None else f"{float(lo):.{digits}f}"
    hi_s = "NR" if hi == "NR" or hi is None else f"{float(hi):.{digits}f}"
    return f" ({lo_s}-{hi_s})"


def evaluate_targets(
    computed: Mapping[str, Any],
    *,
    scale: int,
    goals: Literal["paper", "large"] | None = None,
    paper: Mapping[str, PaperTarget] | None = None,
) -> tuple[TargetCheck, ...]:
    """Compare computed target values (``compute_targets`` output) with the paper.

    ``scale`` is the registry size relative to the paper's (1 = paper size, 100 = 100x);
    ``goals`` selects the comparison rules (see the module docstring): ``"paper"`` (paper-size
    CI/tolerance) or ``"large"`` (the 100x goals); default ``"large"`` from 100x up.
    """
    paper = load_paper_targets() if paper is None else paper
    large = goals == "large" or (goals is None and scale >= 100)
    fail_n = as_number(getattr(computed.get("pop_failures_pct"), "n", None))
    salv_n = as_number(getattr(computed.get("pop_salvage_data_pct"), "n", None))
    bases: dict[str, float | None] = {"_failures": fail_n, "_salvage": salv_n}
    rows: list[TargetCheck] = []
    for rule in TARGET_RULES:
        pt = paper.get(rule.id)
        if pt is None:
            continue
        tv = computed.get(rule.computed or rule.id)
        rows.append(_evaluate_one(rule, pt, tv, computed, bases, paper, scale, large))
    return tuple(rows)


def _share_tolerance(p: float, m: float) -> float:
    return max(1.0, 196.0 * math.sqrt(max(p * (1 - p), 1e-9) / max(m, 1.0)))


def _evaluate_one(
    rule: TargetRule,
    pt: PaperTarget,
    tv: Any,
    computed: Mapping[str, Any],
    bases: Mapping[str, float | None],
    paper: Mapping[str, PaperTarget],
    scale: int,
    large: bool,
) -> TargetCheck:
    value = as_number(getattr(tv, "value", None)) if tv is not None else None
    lo = as_number(getattr(tv, "ci_low", None)) if tv is not None else None
    hi = as_number(getattr(tv, "ci_high", None)) if tv is not None else None
    pval = as_number(getattr(tv, "p_value", None)) if tv is not None else None
    estimable = bool(getattr(tv, "estimable", True)) if tv is not None else True
    pv = as_number(pt.value)

    def done(
        paper_s: str,
        sim_s: str,
        diff: str,
        rule_s: str,
        ok: bool | None,
        sv: float | None,
        paper_v: float | None = None,
    ) -> TargetCheck:
        return TargetCheck(
            id=rule.id,
            kind=rule.kind,
            paper=paper_s,
            simulated=sim_s,
            difference=diff,
            rule=rule_s,
            passed=ok,
            paper_value=pv if paper_v is None else paper_v,
            sim_value=sv,
            note=rule.note,
        )

    if tv is None or (value is None and rule.kind not in ("hr_nr", "p", "median")):
        return done(str(pt.value), "missing", "", "not computed by the pipeline", False, None)

    if rule.kind in ("count", "percent", "rate"):
        if rule.kind == "count":
            if rule.base is None:
                share_p = 100.0
                share_s = 100.0 * (value or 0.0) / (DEFAULT_N * scale)
                m = float(pt.value)
            else:
                base_paper = pt.denominator or as_number(getattr(paper.get(rule.base), "value", None))
                base_sim = bases.get(rule.base)
                if base_sim is None and rule.base in computed:
                    base_sim = as_number(getattr(computed[rule.base], "value", None))
                if not base_paper or not base_sim:
                    return done(str(pt.value), _fmt(value, 0), "", "base missing", False, None)
                share_p = 100.0 * float(pt.value) / float(base_paper)
                share_s = 100.0 * (value or 0.0) / base_sim
                m = float(base_paper)
            paper_s = f"{pt.value} ({share_p:.1f}%)"
            sim_s = f"{value:.0f} ({share_s:.1f}%)"
        else:
            share_p = float(pt.value)
            share_s = float(value or 0.0)
            m = float(pt.denominator or pt.n or 100)
            paper_s = f"{share_p:g}"
            sim_s = f"{share_s:.1f}"
        diff = share_s - share_p
        if large:
            tol = 2.0
        else:
            tol = (
                _share_tolerance(share_p / 100.0, m)
                if not (rule.base is None and rule.kind == "count")
                else 0.5
            )
        return done(
            paper_s, sim_s, f"{diff:+.1f} pt", f"|diff| <= {tol:.1f} pt", abs(diff) <= tol, share_s, share_p
        )

    if rule.kind == "median":
        plo, phi = as_number(pt.ci_low), as_number(pt.ci_high)
        paper_s = f"{pt.value}{_ci(pt.ci_low, pt.ci_high, 1)}"
        sim_s = ("NR" if value is None else f"{value:.2f}") + _ci(lo, hi, 1)
        if value is None or pv is None:
            return done(paper_s, sim_s, "", MEDIAN_NOT_REACHED, False, value)
        rel = (value - pv) / pv
        if large:
            return done(paper_s, sim_s, f"{100 * rel:+.0f}%", "|diff| <= 10%", abs(rel) <= 0.10, value)
        if plo is not None or pt.ci_high is not None:
            upper = phi + PRINTED_MONTHS if phi is not None else math.inf
            low = plo - PRINTED_MONTHS if plo is not None else -math.inf
            return done(paper_s, sim_s, f"{100 * rel:+.0f}%", "inside paper CI", low <= value <= upper, value)
        return done(paper_s, sim_s, f"{100 * rel:+.0f}%", "|diff| <= 15%", abs(rel) <= 0.15, value)

    if rule.kind in ("range_min", "range_max"):
        paper_s, sim_s = f"{pt.value}", _fmt(value, 2)
        if large or value is None or pv is None:
            return done(paper_s, sim_s, "", "extreme values grow with n", None, value)
        if rule.kind == "range_min":
            d = value - pv
            return done(paper_s, sim_s, f"{d:+.2f}", "|diff| <= 0.3 mo", abs(d) <= 0.3, value)
        rel = (value - pv) / pv
        return done(paper_s, sim_s, f"{100 * rel:+.0f}%", "|diff| <= 30%", abs(rel) <= 0.30, value)

    if rule.kind in ("hr", "hr_nr"):
        paper_s = f"{pt.value}{_ci(pt.ci_low, pt.ci_high)}"
        sim_s = ("not estimable" if not estimable or value is None else f"{value:.2f}") + (
            _ci(lo, hi) if estimable and value is not None else ""
        )
        if rule.kind == "hr_nr":
            if large:
                return done(paper_s, sim_s, "", "monotone likelihood needs a small group", None, value)
            return done(paper_s, sim_s, "", "not estimable", not estimable or value is None, value)
        plo, phi = as_number(pt.ci_low), as_number(pt.ci_high)
        if value is None or not estimable or plo is None or phi is None or pv is None:
            return done(paper_s, sim_s, "", "inside paper CI", False, value)
        log_diff = f"{math.log(value / pv):+.2f} log"
        inside = plo - PRINTED_HR <= value <= phi + PRINTED_HR
        return done(paper_s, sim_s, log_diff, "inside paper CI", inside, value)

    # p-values: same side of 0.05 as the printed P
    p_sim = pval if pval is not None else value
    paper_p = pt.p_value
    paper_s = f"P {pt.p_operator or '='} {paper_p}"
    sim_s = "NA" if p_sim is None else f"P = {p_sim:.3g}"
    if large:
        return done(paper_s, sim_s, "", "P-values shrink with n", None, p_sim)
    if p_sim is None or paper_p is None:
        return done(paper_s, sim_s, "", "same side of 0.05", False, p_sim)
    return done(paper_s, sim_s, "", "same side of 0.05", (p_sim < 0.05) == (float(paper_p) < 0.05), p_sim)


def analyse_registry(registry: SyntheticRegistry, *, workdir: Path | None = None) -> tuple[Any, Any, int]:
    """Import (strictly), derive and analyse a simulated registry with the production pipeline.

    Returns ``(endpoints_result, study_result, n_import_warnings)``.
    """
    from postcart.endpoints import derive_endpoints
    from postcart.registry import check_extract
    from postcart.registry.issues import ExtractValidationError
    from postcart.study import run_study

    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        folder = registry.write(Path(tmp) / "extract")
        checked = check_extract(folder)
        if not checked.ok:
            raise ExtractValidationError(
                f"the synthetic registry does not import cleanly ({len(checked.issues)} issues)",
                list(checked.issues),
            )
        tables = checked.tables
    endpoints = derive_endpoints(tables)
    study = run_study(endpoints.table)
    return endpoints, study, len(checked.issues)


def run_check(
    *,
    scale: int = 1,
    seed: int = DEFAULT_SEED,
    params: SynthParameters | None = None,
    cutoff: _dt.date = DEFAULT_CUTOFF,
    progress: Callable[[str], None] | None = None,
) -> CheckResult:
    """Simulate ``680 * scale`` registered patients, analyse them, compare with the paper."""
    import time

    say = progress or (lambda _s: None)
    t0 = time.perf_counter()
    params = load_parameters() if params is None else params
    n = DEFAULT_N * scale
    say(f"simulating {n} registered patients (seed {seed})")
    reg = simulate(n, rng=np.random.default_rng(seed), params=params, cutoff=cutoff, seed=seed)
    say("import, derivation and analysis through the pipeline")
    endpoints, study, n_issues = analyse_registry(reg)
    rows = evaluate_targets(study.targets, scale=scale)
    return CheckResult(
        rows=rows,
        scale=scale,
        n_registered=n,
        seed=seed,
        import_issues=n_issues,
        flow=str(endpoints.flow),
        elapsed_seconds=time.perf_counter() - t0,
        meta=dict(params.meta),
    )


def format_check(result: CheckResult) -> str:
    """The check table as plain text (as printed by ``postcart synth check``)."""
    frame = result.to_frame()
    widths = {c: max(len(c), int(frame[c].astype(str).str.len().max() or 0)) for c in frame.columns}
    cols = ["target", "paper", "simulated", "difference", "rule", "pass"]
    lines = [
        f"synth check: scale {result.scale}x ({result.n_registered} registered), seed {result.seed}",
        f"flow: {result.flow}",
        f"import: clean ({result.import_issues} warnings)",
        "",
        "  ".join(c.ljust(widths[c]) for c in cols),
        "  ".join("-" * widths[c] for c in cols),
    ]
    for _, r in frame.iterrows():
        lines.append("  ".join(str(r[c]).ljust(widths[c]) for c in cols))
    lines.append("")
    lines.append(
        f"passed {result.n_passed} of {result.n_assessed} assessed targets "
        f"({100 * result.pass_rate:.1f}%); {len(result.rows) - result.n_assessed} not assessed at this scale"
    )
    return "\n".join(lines)
