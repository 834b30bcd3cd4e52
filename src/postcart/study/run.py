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
import warnings
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from postcart import stats
from postcart.errors import SpecError, StatsError
from postcart.study._columns import (
    POPULATION_COLUMNS,
    as_float,
    as_label,
    flag,
    known,
    population_mask,
    require_columns,
)
from postcart.study.characteristics import run_characteristics
from postcart.study.results import (
    ContingencyResult,
    CoxAnalysisResult,
    CoxModel,
    DataSource,
    FailureTimingResult,
    FlowResult,
    FlowStep,
    FollowUpAnalysisResult,
    FollowUpGroup,
    MethodsInfo,
    PairwiseTest,
    ResponseResult,
    SalvageResult,
    StudyResult,
    SurvivalAnalysisResult,
    SurvivalGroup,
)
from postcart.study.spec import (
    PAPER_STUDY,
    ContingencyAnalysis,
    Covariate,
    CoxAnalysis,
    FollowUpAnalysis,
    ResponseAnalysis,
    StudySpec,
    SurvivalAnalysis,
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
    followup = {f.id: _followup(table, f, masks, conv) for f in spec.followup}

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


# --------------------------------------------------------------------------------------------
# survival
# --------------------------------------------------------------------------------------------


def _km(time_: np.ndarray, event: np.ndarray, conv: Any) -> Any:
    return stats.kaplan_meier(
        time_,
        event,
        profile=conv.profile,
        conf_type=conv.conf_type,
        conf_level=conv.conf_level,
        median_rule=conv.median_rule,
    )


def _survival(
    table: pd.DataFrame, spec: SurvivalAnalysis, m: dict[str, np.ndarray], conv: Any
) -> SurvivalAnalysisResult:
    pop = m[spec.population]
    t = as_float(table[spec.endpoint.time_column])[pop]
    ev_raw = table[spec.endpoint.event_column][pop]
    valid = ~np.isnan(t) & known(ev_raw)
    ev = flag(ev_raw)
    n_missing = int((~valid).sum())
    landmarks = np.asarray(spec.landmarks, dtype=float)

    def fit(sel: np.ndarray, level: str, label: str) -> SurvivalGroup:
        km = _km(t[sel], ev[sel], conv)
        return SurvivalGroup(level, label, int(sel.sum()), int(ev[sel].sum()), km, km.at(landmarks))

    overall = fit(valid, "overall", "All") if valid.any() else None
    groups: list[SurvivalGroup] = []
    logrank = None
    pairwise: list[PairwiseTest] = []
    if spec.group is not None and spec.levels is not None:
        g = as_label(table[spec.group])[pop]
        labels = spec.level_labels or spec.levels
        for level, label in zip(spec.levels, labels, strict=True):
            sel = valid & (g == level)
            if sel.any():
                groups.append(fit(sel, level, label))
        present = [x.level for x in groups]
        in_groups = valid & np.isin(g, present)
        if len(present) >= 2:
            logrank = stats.logrank_test(t[in_groups], ev[in_groups], g[in_groups].astype(str))
            if spec.pairwise:
                for a, b in combinations(present, 2):
                    sel = valid & np.isin(g, [a, b])
                    pairwise.append(
                        PairwiseTest(a, b, stats.logrank_test(t[sel], ev[sel], g[sel].astype(str)))
                    )
    return SurvivalAnalysisResult(spec, overall, tuple(groups), logrank, tuple(pairwise), n_missing)


# --------------------------------------------------------------------------------------------
# Cox
# --------------------------------------------------------------------------------------------


def _design(
    table: pd.DataFrame, covs: tuple[Covariate, ...]
) -> tuple[dict[str, np.ndarray], list[tuple[str, str]]]:
    cols: dict[str, np.ndarray] = {}
    labels: list[tuple[str, str]] = []
    for cov in covs:
        if cov.kind == "binary":
            cols[cov.name] = as_float(table[cov.column])
            labels.append((cov.name, cov.label))
        elif cov.kind == "continuous":
            cols[cov.name] = as_float(table[cov.column]) / cov.per
            labels.append((cov.name, cov.label))
        else:
            values = as_label(table[cov.column])
            miss = pd.isna(values)
            for level, label in zip(cov.levels, cov.level_labels or cov.levels, strict=True):
                d = (values == level).astype(float)
                d[miss] = np.nan
                name = f"{cov.name}[{level}]"
                cols[name] = d
                labels.append((name, label))
    return cols, labels


def _fit_cox(
    name: str,
    label: str,
    table: pd.DataFrame,
    pop: np.ndarray,
    spec: CoxAnalysis,
    covs: tuple[Covariate, ...],
    conv: Any,
    notes: list[str],
) -> CoxModel:
    sub = table.loc[pop]
    cols, labels = _design(sub, covs)
    t = as_float(sub[spec.endpoint.time_column])
    ev_raw = sub[spec.endpoint.event_column]
    X = np.column_stack([cols[k] for k in cols]) if cols else np.empty((len(sub), 0))
    used = ~np.isnan(t) & known(ev_raw) & ~np.isnan(X).any(axis=1)
    ev = flag(ev_raw)[used]
    X, t = X[used], t[used]
    n, n_events, n_dropped = int(used.sum()), int(ev.sum()), int((~used).sum())
    model_warnings: list[str] = []
    keep = [j for j in range(X.shape[1]) if np.ptp(X[:, j]) > 0] if n else []
    names = list(cols)
    for j in range(len(names)):
        if j not in keep:
            model_warnings.append(
                f"{spec.id}/{name}: term {names[j]!r} is constant among the {n} patients analysed; "
                "its hazard ratio is not estimable"
            )
    result = None
    if n_events == 0 or not keep:
        model_warnings.append(
            f"{spec.id}/{name}: no event or no varying covariate among {n} patients; model not fitted"
        )
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = stats.cox_ph(
                    X[:, keep],
                    t,
                    ev,
                    names=[names[j] for j in keep],
                    ties=conv.ties,
                    profile=conv.profile,
                    conf_level=conv.conf_level,
                )
            except (StatsError, ArithmeticError, np.linalg.LinAlgError) as exc:
                model_warnings.append(f"{spec.id}/{name}: the Cox model could not be fitted: {exc}")
        for w in caught:
            model_warnings.append(f"{spec.id}/{name}: {w.message}")
        if result is not None and not caught:
            for term in result.terms:
                if not term.estimable:
                    term_label = dict(labels).get(term.term, term.term)
                    model_warnings.append(
                        f"{spec.id}/{name}: the hazard ratio of {term_label!r} is not "
                        "estimable (monotone likelihood: the estimate diverges)"
                    )
    notes.extend(model_warnings)
    return CoxModel(name, label, tuple(labels), result, n, n_events, n_dropped, tuple(model_warnings))


def _cox(
    table: pd.DataFrame, spec: CoxAnalysis, m: dict[str, np.ndarray], conv: Any, notes: list[str]
) -> CoxAnalysisResult:
    models: list[CoxModel] = []
    if spec.multivariable:
        models.append(
            _fit_cox(
                "multivariable", spec.title, table, m[spec.population], spec, spec.covariates, conv, notes
            )
        )
    else:
        for cov in spec.covariates:
            pop = m[spec.factor_population] if cov.kind == "factor" else m[spec.population]
            models.append(_fit_cox(cov.name, cov.label, table, pop, spec, (cov,), conv, notes))
    return CoxAnalysisResult(spec, tuple(models))


# --------------------------------------------------------------------------------------------
# contingency, follow-up
# --------------------------------------------------------------------------------------------


def _test_fields(res: Any) -> tuple[float | None, int | None, float | None]:
    stat = getattr(res, "chisq", getattr(res, "statistic", None))
    df = getattr(res, "df", None)
    p = getattr(res, "p", getattr(res, "p_value", None))
    return (
        None if stat is None else float(stat),
        None if df is None else int(df),
        None if p is None else float(p),
    )


#: Monte Carlo tables when an exact r x c Fisher test is too large (R's simulate.p.value).
FISHER_SIMULATIONS = 20_000
#: Above this many patients an r x c (not 2 x 2) table goes straight to Monte Carlo: the exact
#: network algorithm would enumerate millions of partial tables before giving up.
FISHER_EXACT_MAX_N = 5_000


def fisher_p(arr: np.ndarray, *, seed: int, where: str, notes: list[str]) -> tuple[float, str]:
    """Fisher exact P of ``arr``; Monte Carlo (seeded) when the exact enumeration is infeasible."""
    if arr.shape == (2, 2) or int(arr.sum()) <= FISHER_EXACT_MAX_N:
        try:
            return float(stats.fisher_exact(arr).p), "Fisher exact (Freeman-Halton r x c)"
        except StatsError as exc:
            if "simulate" not in str(exc):
                raise
    rng = np.random.default_rng(seed)
    res = stats.fisher_exact(arr, simulate=True, n_simulations=FISHER_SIMULATIONS, rng=rng)
    notes.append(
        f"{where}: exact Fisher test infeasible for a {arr.shape[0]} x {arr.shape[1]} table "
        f"(n = {int(arr.sum())}); Monte Carlo P from {FISHER_SIMULATIONS} simulated tables (seed {seed})"
    )
    return float(res.p), f"Fisher exact, Monte Carlo ({FISHER_SIMULATIONS} tables, seed {seed})"


def _contingency(
    table: pd.DataFrame, spec: ContingencyAnalysis, m: dict[str, np.ndarray], *, seed: int, notes: list[str]
) -> ContingencyResult:
    pop = m[spec.population]
    r = as_label(table[spec.row])[pop]
    c = as_label(table[spec.column])[pop]
    ok = ~pd.isna(r) & ~pd.isna(c)
    counts = pd.crosstab(pd.Series(r[ok], name=spec.row), pd.Series(c[ok], name=spec.column))
    if spec.column_levels is not None:
        cols = [lv for lv in spec.column_levels if lv in counts.columns]
        cols += [lv for lv in counts.columns if lv not in cols]
        counts = counts[cols]
    counts = counts.loc[:, counts.sum(axis=0) > 0]
    counts = counts.loc[counts.sum(axis=1) > 0]
    if "true" in counts.index:  # event row first ("true" then "false")
        counts = counts.reindex([x for x in ("true", "false") if x in counts.index])
    n = int(counts.to_numpy().sum())
    stat = df = p = None
    test_name = "Pearson chi-square" if spec.test == "chisq" else "Fisher exact (Freeman-Halton r x c)"
    if counts.shape[0] >= 2 and counts.shape[1] >= 2:
        arr = counts.to_numpy(dtype=np.int64)
        if spec.test == "chisq":
            stat, df, p = _test_fields(stats.chisq_test(arr, correct=False))
        else:
            p, test_name = fisher_p(arr, seed=seed, where=spec.id, notes=notes)
    return ContingencyResult(spec, counts, test_name, stat, df, p, n, int((~ok).sum()))


def _followup(
    table: pd.DataFrame, spec: FollowUpAnalysis, m: dict[str, np.ndarray], conv: Any
) -> FollowUpAnalysisResult:
    pop = m[spec.population]
    t = as_float(table[spec.endpoint.time_column])[pop]
    ev_raw = table[spec.endpoint.event_column][pop]
    valid = ~np.isnan(t) & known(ev_raw)
    ev = flag(ev_raw)

    def fu(sel: np.ndarray, level: str) -> FollowUpGroup:
        if not sel.any():
            raise SpecError(f"follow-up analysis {spec.id!r}: no patient in group {level!r}")
        r = stats.median_followup(
            t[sel], ev[sel], profile=conv.profile, conf_type=conv.conf_type, conf_level=conv.conf_level
        )
        return FollowUpGroup(level, int(sel.sum()), r.median)

    overall = fu(valid, "overall")
    groups: list[FollowUpGroup] = []
    if spec.group is not None and spec.levels is not None:
        g = as_label(table[spec.group])[pop]
        for level in spec.levels:
            sel = valid & (g == level)
            if sel.any():
                groups.append(fu(sel, level))
    return FollowUpAnalysisResult(spec, overall, tuple(groups))
