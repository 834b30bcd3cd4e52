"""Model-based analyses of the study: Kaplan-Meier/log-rank, Cox, contingency tests, follow-up.

Helpers of ``postcart.study.run``; each takes the analysis table, the population masks and the
resolved conventions, calls ``postcart.stats`` and returns a result object of
``postcart.study.results``.
"""

from __future__ import annotations

import warnings
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from postcart import stats
from postcart.errors import SpecError, StatsError
from postcart.study._columns import as_float, as_label, flag, known
from postcart.study.results import (
    ContingencyResult,
    CoxAnalysisResult,
    CoxModel,
    FollowUpAnalysisResult,
    FollowUpGroup,
    PairwiseTest,
    SurvivalAnalysisResult,
    SurvivalGroup,
)
from postcart.study.spec import (
    ContingencyAnalysis,
    Covariate,
    CoxAnalysis,
    FollowUpAnalysis,
    SurvivalAnalysis,
)

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
) -> FollowUpAnalysisResult | None:
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

    if not valid.any():
        return None
    overall = fu(valid, "overall")
    groups: list[FollowUpGroup] = []
    if spec.group is not None and spec.levels is not None:
        g = as_label(table[spec.group])[pop]
        for level in spec.levels:
            sel = valid & (g == level)
            if sel.any():
                groups.append(fu(sel, level))
    return FollowUpAnalysisResult(spec, overall, tuple(groups))
