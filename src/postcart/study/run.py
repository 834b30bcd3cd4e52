"""Run a :class:`~postcart.study.spec.StudySpec` on an analysis table with ``postcart.stats``.

``run_study(table, profile="sas")`` executes every analysis of the spec and returns a
:class:`~postcart.study.results.StudyResult`. The table is the endpoints analysis table
(``postcart.endpoints.derive_endpoints(...).table``): one row per registered patient. The
caller's table is never modified. Statistics warnings (e.g. a monotone Cox likelihood) are
caught and recorded in the result instead of escaping.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from postcart import stats
from postcart.study._columns import (
    POPULATION_COLUMNS,
    as_float,
    as_label,
    population_mask,
    require_columns,
)
from postcart.study._models import _contingency, _cox, _followup, _survival
from postcart.study.characteristics import run_characteristics
from postcart.study.results import (
    DataSource,
    FailureTimingResult,
    FlowResult,
    FlowStep,
    MethodsInfo,
    ResponseResult,
    SalvageResult,
    StudyResult,
)
from postcart.study.spec import (
    PAPER_STUDY,
    ResponseAnalysis,
    StudySpec,
)

Progress = Callable[[str], None]
DAYS_PER_MONTH = 365.25 / 12


def table_fingerprint(table: pd.DataFrame, *, row_order: bool = False) -> str:
    """sha256 of a DataFrame's content: column names, dtypes and values.

    By default the fingerprint does not depend on the order of the rows (the same registry read
    from SQLite or PostgreSQL, in any order, gives the same fingerprint); ``row_order=True``
    makes it order-sensitive.
    """
    h = hashlib.sha256()
    h.update("|".join(f"{c}:{table[c].dtype}" for c in table.columns).encode())
    rows = pd.util.hash_pandas_object(table, index=False).to_numpy()
    h.update((rows if row_order else np.sort(rows)).tobytes())
    return h.hexdigest()


def _needed_columns(spec: StudySpec) -> dict[str, str]:
    need: dict[str, str] = {c: "population definitions" for c in POPULATION_COLUMNS}
    for c in ("product", "timing_group", "months_to_failure", "best_response_cart"):
        need[c] = "flow and failure timing"
    for s in spec.survival:
        need[s.endpoint.time_column] = s.id
        need[s.endpoint.event_column] = s.id
        if s.group:
            need[s.group] = s.id
    for cx in spec.cox:
        need[cx.endpoint.time_column] = cx.id
        need[cx.endpoint.event_column] = cx.id
        for cov in cx.covariates:
            need[cov.column] = cx.id
    need[spec.response.column] = spec.response.id
    need[spec.response.by] = spec.response.id
    for t in spec.contingency:
        need[t.row] = t.id
        need[t.column] = t.id
    for f in spec.followup:
        need[f.endpoint.time_column] = f.id
        need[f.endpoint.event_column] = f.id
    return need


def _software() -> tuple[tuple[str, str], ...]:
    out = [("python", platform.python_version())]
    for pkg in ("postcart", "numpy", "scipy", "pandas", "matplotlib", "jinja2", "python-docx", "openpyxl"):
        try:
            out.append((pkg, importlib.metadata.version(pkg)))
        except importlib.metadata.PackageNotFoundError:
            out.append((pkg, "not installed"))
    return tuple(out)


def run_study(
    table: pd.DataFrame,
    *,
    spec: StudySpec = PAPER_STUDY,
    profile: str = "sas",
    conf_type: str | None = None,
    conf_level: float = 0.95,
    source: DataSource | None = None,
    days_per_month: float = DAYS_PER_MONTH,
    timing_boundaries_days: tuple[int, int] = (30, 90),
    seed: int = 20210412,
    progress: Progress | None = None,
) -> StudyResult:
    """Run every analysis of ``spec`` on ``table``.

    Parameters
    ----------
    table : pandas.DataFrame
        The endpoints analysis table, one row per registered patient (analysis-table contract).
    spec : StudySpec
        The analyses (default: the DESCAR-T post-failure study, :data:`PAPER_STUDY`).
    profile : {"sas", "r"}
        Conventions of ``postcart.stats`` (``sas``: log-log CIs, Breslow ties, SAS median rule;
        ``r``: log CIs, Efron ties, R median rule). Also selects the sample-quartile definition
        of Table 1 (SAS PCTLDEF=5 = Hyndman-Fan type 2; R type 7).
    conf_type, conf_level : optional
        Overrides of the profile's CI transform and level.
    source : DataSource, optional
        Where the data came from; default: the table itself, fingerprinted.
    days_per_month, timing_boundaries_days :
        Stated in the methods (the table already carries months and timing groups).
    seed : int
        Seed of the Monte Carlo Fisher test, used only when an exact r x c test is infeasible.
    progress : callable, optional
        Called with a short label before each analysis family.

    Returns
    -------
    StudyResult

    Raises
    ------
    SpecError
        When the table lacks columns the spec needs (all of them are named at once).
    """
    t0 = time.perf_counter()
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    require_columns(table, _needed_columns(spec))
    conv = stats.resolve_conventions(profile, conf_type=conf_type, conf_level=conf_level)
    notes: list[str] = []
    say = progress or (lambda _label: None)
    masks = {
        name: population_mask(table, name)
        for name in (
            "registered",
            "infused",
            "responders",
            "failures",
            "salvage",
            "response_evaluable",
            "rt_localized",
        )
    }

    say("patient flow")
    flow = _flow(table, masks)
    say("Table 1")
    quantile_method = "averaged_inverted_cdf" if profile == "sas" else "linear"
    characteristics = run_characteristics(
        table,
        spec.characteristics,
        masks[spec.characteristics.population],
        quantile_method=quantile_method,
        notes=notes,
        seed=seed,
    )
    say("failure timing and salvage")
    timing = _failure_timing(table, masks["failures"], spec, timing_boundaries_days)
    salvage = _salvage(table, masks, spec)
    say("response to salvage")
    response = _response(table, spec.response, masks, conv.conf_level)
    say("Kaplan-Meier and log-rank")
    survival = {s.id: _survival(table, s, masks, conv) for s in spec.survival}
    say("Cox models")
    cox = {c.id: _cox(table, c, masks, conv, notes) for c in spec.cox}
    say("contingency tests")
    contingency = {c.id: _contingency(table, c, masks, seed=seed, notes=notes) for c in spec.contingency}
    say("follow-up")
    followup = {}
    for f in spec.followup:
        fu = _followup(table, f, masks, conv)
        if fu is None:
            notes.append(f"{f.id}: no patient in the population {f.population!r}; follow-up not estimated")
        else:
            followup[f.id] = fu

    if source is None:
        source = DataSource("analysis table supplied by the caller", table_fingerprint(table), None)
    methods = MethodsInfo(
        profile=profile,
        conventions=conv.as_dict(),
        quantile_method=quantile_method,
        days_per_month=float(days_per_month),
        timing_boundaries_days=timing_boundaries_days,
        covariate_scaling=tuple(
            (cov.name, f"{cov.column} / {cov.per:g}")
            for cov in {c.name: c for a in spec.cox for c in a.covariates}.values()
            if cov.kind == "continuous"
        ),
        source=source,
        software=_software(),
        warnings=tuple(dict.fromkeys(notes)),
        seed=seed,
        started_utc=started,
        elapsed_seconds=0.0,
    )
    result = StudyResult(
        spec=spec,
        flow=flow,
        characteristics=characteristics,
        failure_timing=timing,
        salvage=salvage,
        response=response,
        survival=survival,
        cox=cox,
        contingency=contingency,
        followup=followup,
        methods=methods,
        targets={},
    )
    from postcart.study.targets import compute_targets

    targets = compute_targets(result)
    methods = replace(methods, elapsed_seconds=time.perf_counter() - t0)
    return replace(result, targets=targets, methods=methods)


# --------------------------------------------------------------------------------------------
# flow, timing, salvage
# --------------------------------------------------------------------------------------------


def _flow(table: pd.DataFrame, m: dict[str, np.ndarray]) -> FlowResult:
    n_reg = int(m["registered"].sum())
    n_inf = int(m["infused"].sum())
    n_fail = int(m["failures"].sum())
    n_salv = int(m["salvage"].sum())
    n_eval = int(m["response_evaluable"].sum())
    status = as_label(table["salvage_status"])
    fail = m["failures"]
    n_none = int((fail & (status == "none")).sum())
    n_unknown = n_fail - n_salv - n_none
    product = as_label(table["product"])
    nonprog = m["infused"] & ~fail
    best = as_label(table["best_response_cart"])
    prod_counts = tuple(
        (f"{p}", int((m["infused"] & (product == p)).sum()))
        for p in sorted({str(x) for x in product[m["infused"]] if x})
    )
    steps = (
        FlowStep("registered", "Registered", n_reg, (("not infused by the cut-off", n_reg - n_inf),)),
        FlowStep(
            "infused",
            "Infused with a CAR-T product",
            n_inf,
            (("nonprogressive at the cut-off (no progression or relapse)", int(nonprog.sum())),),
        ),
        FlowStep(
            "failures",
            "CAR-T failures (progression or relapse)",
            n_fail,
            (("no further treatment recorded", n_none), ("salvage status unknown", n_unknown)),
        ),
        FlowStep(
            "salvage",
            "Salvage treatment data available",
            n_salv,
            (("no response recorded", n_salv - n_eval),),
        ),
        FlowStep("response_evaluable", "Response to salvage recorded", n_eval, ()),
    )
    notes: list[tuple[str, int]] = [(f"infused: {p}", k) for p, k in prod_counts]
    for code, label in (("cr", "CR"), ("pr", "PR"), ("sd", "SD")):
        notes.append((f"nonprogressive: best CAR-T response {label}", int((nonprog & (best == code)).sum())))
    classified = sum(k for name, k in notes if name.startswith("nonprogressive"))
    notes.append(("nonprogressive: best response not classified", int(nonprog.sum()) - classified))
    notes.append(("CAR-T responders (CR or PR) among infused", int(m["responders"].sum())))
    for p, _k in prod_counts:
        notes.append((f"failures: {p}", int((fail & (product == p)).sum())))
    return FlowResult(steps=steps, notes=tuple(notes))


def _failure_timing(
    table: pd.DataFrame, fail: np.ndarray, spec: StudySpec, bounds: tuple[int, int]
) -> FailureTimingResult:
    groups = as_label(table["timing_group"])[fail]
    n = int(fail.sum())
    rows = []
    for level, label in zip(spec.timing_levels, spec.timing_labels, strict=True):
        k = int((groups == level).sum())
        rows.append({"level": level, "label": label, "n": k, "denominator": n, "pct": _pct(k, n)})
    months = as_float(table["months_to_failure"])[fail]
    months = months[~np.isnan(months)]
    if months.size:
        med, lo, hi = float(np.median(months)), float(months.min()), float(months.max())
    else:
        med = lo = hi = float("nan")
    return FailureTimingResult(pd.DataFrame(rows), n, med, lo, hi, bounds)


def _pct(k: int, n: int) -> float:
    return 100.0 * k / n if n else float("nan")


def _salvage(table: pd.DataFrame, m: dict[str, np.ndarray], spec: StudySpec) -> SalvageResult:
    fail = m["failures"]
    n_fail = int(fail.sum())
    status = as_label(table["salvage_status"])[fail]
    srows = []
    for code, label in (
        ("treated", "Treated (data available)"),
        ("none", "No further treatment"),
        ("unknown", "Unknown"),
    ):
        k = int((status == code).sum())
        srows.append({"status": code, "label": label, "n": k, "denominator": n_fail, "pct": _pct(k, n_fail)})
    k_missing = int(sum(1 for s in status if s is None))
    if k_missing:
        srows.append(
            {
                "status": "missing",
                "label": "Not recorded",
                "n": k_missing,
                "denominator": n_fail,
                "pct": _pct(k_missing, n_fail),
            }
        )
    treated = m["salvage"]
    n_t = int(treated.sum())
    klass = as_label(table["salvage_class"])[treated]
    crows = []
    for code, label in zip(spec.salvage_classes, spec.salvage_class_labels, strict=True):
        k = int((klass == code).sum())
        crows.append({"class": code, "label": label, "n": k, "denominator": n_t, "pct": _pct(k, n_t)})
    k_other = int(sum(1 for c in klass if c not in spec.salvage_classes))
    if k_other:
        crows.append(
            {
                "class": "unclassified",
                "label": "Class not recorded",
                "n": k_other,
                "denominator": n_t,
                "pct": _pct(k_other, n_t),
            }
        )
    n_rt = int(m["rt_localized"].sum())
    regimen = (
        as_label(table["salvage_regimen"])[treated]
        if "salvage_regimen" in table.columns
        else np.full(n_t, None, dtype=object)
    )
    reg_df = pd.DataFrame({"class": klass, "regimen": regimen})
    reg_df["class"] = reg_df["class"].fillna("unclassified")
    reg_df["regimen"] = reg_df["regimen"].fillna("not recorded")
    order = {c: i for i, c in enumerate((*spec.salvage_classes, "unclassified"))}
    regs = reg_df.groupby(["class", "regimen"], sort=False).size().reset_index(name="n")
    regs["pct"] = regs["n"] * (100.0 / n_t if n_t else float("nan"))
    regs["_o"] = regs["class"].map(order)
    regs = (
        regs.sort_values(["_o", "n", "regimen"], ascending=[True, False, True])
        .drop(columns="_o")
        .reset_index(drop=True)
    )
    return SalvageResult(pd.DataFrame(srows), pd.DataFrame(crows), regs, n_t, n_rt)


# --------------------------------------------------------------------------------------------
# response
# --------------------------------------------------------------------------------------------


def _response(
    table: pd.DataFrame, spec: ResponseAnalysis, m: dict[str, np.ndarray], conf_level: float
) -> ResponseResult:
    pop = m[spec.population]
    resp = as_label(table[spec.column])[pop]
    resp = np.where(pd.isna(resp), "ne", resp)  # evaluable patient without category = not evaluated
    by = as_label(table[spec.by])[pop]
    rows = []
    groups = [("overall", "All", np.ones(resp.size, dtype=bool))]
    groups += [(lv, lb, by == lv) for lv, lb in zip(spec.by_levels, spec.by_labels, strict=True)]
    cats = [*zip(spec.categories, spec.category_labels, strict=True), ("orr", "ORR (CR + PR)")]
    for g, glabel, sel in groups:
        n = int(sel.sum())
        for code, clabel in cats:
            k = (
                int(np.isin(resp[sel], ["cr", "pr"]).sum())
                if code == "orr"
                else int((resp[sel] == code).sum())
            )
            if n:
                ci = stats.proportion_ci(k, n, method="exact", conf_level=conf_level)
                lo, hi = 100.0 * float(ci.ci_low), 100.0 * float(ci.ci_high)
            else:
                lo = hi = float("nan")
            rows.append(
                {
                    "group": g,
                    "group_label": glabel,
                    "category": code,
                    "category_label": clabel,
                    "k": k,
                    "n": n,
                    "pct": _pct(k, n),
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
    return ResponseResult(spec, pd.DataFrame(rows), "exact (Clopper-Pearson)", conf_level)
