"""Table 1: descriptive statistics of a population, overall and by group, with tests.

* binary variables: n (%) with the characteristic among patients with a known value;
* categorical variables: n (%) per level among known values;
* continuous variables: median, range and interquartile range (sample quartiles: SAS
  PCTLDEF=5 = Hyndman-Fan type 2 under the ``sas`` profile, R's type 7 under ``r``);
* missing counts for every variable;
* tests between groups: Pearson chi-square without continuity correction when every expected
  count is at least 5, otherwise the Fisher exact test (Freeman-Halton for r x c); the
  Wilcoxon rank-sum test for continuous variables (two groups), Kruskal-Wallis for more.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from postcart import stats
from postcart.study._columns import as_float, as_label
from postcart.study._models import fisher_p
from postcart.study.results import CharacteristicsResult
from postcart.study.spec import CharacteristicsAnalysis, Variable


def _p(res: Any) -> float | None:
    p = getattr(res, "p", getattr(res, "p_value", None))
    return None if p is None else float(p)


def _stat(res: Any) -> float | None:
    s = getattr(res, "chisq", getattr(res, "statistic", None))
    return None if s is None else float(s)


def _categorical_test(
    counts: np.ndarray, *, seed: int, where: str, notes: list[str]
) -> tuple[str, float | None, int | None, float | None]:
    counts = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    if counts.shape[0] < 2 or counts.shape[1] < 2:
        return "not tested (one level or group)", None, None, None
    expected = counts.sum(axis=1, keepdims=True) * counts.sum(axis=0, keepdims=True) / counts.sum()
    if (expected >= 5).all():
        chi = stats.chisq_test(counts, correct=False)
        return "chi-square", float(chi.chisq), int(chi.df), float(chi.p)
    p, _method = fisher_p(counts, seed=seed, where=where, notes=notes)
    return "Fisher exact", None, None, p


def _continuous_test(samples: list[np.ndarray]) -> tuple[str, float | None, int | None, float | None]:
    samples = [s for s in samples if s.size]
    if len(samples) < 2:
        return "not tested (one group)", None, None, None
    if len(samples) == 2:
        w = stats.wilcoxon_test(samples[0], samples[1], exact=False, correct=True)
        return "Wilcoxon rank-sum", float(w.statistic), None, float(w.p)
    kw = stats.kruskal_wallis(*samples)
    df = getattr(kw, "df", None)
    return "Kruskal-Wallis", _stat(kw), None if df is None else int(df), float(kw.p)


def _levels(var: Variable, values: np.ndarray) -> tuple[list[str], list[str]]:
    if var.kind == "binary":
        return ["true"], [var.label]
    seen = sorted({str(v) for v in values if v is not None})
    levels = list(var.levels or ())
    labels = list(var.level_labels or levels)
    for v in seen:
        if v not in levels:
            levels.append(v)
            labels.append(v)
    return levels, labels


def run_characteristics(
    table: pd.DataFrame,
    spec: CharacteristicsAnalysis,
    pop: np.ndarray,
    *,
    quantile_method: str,
    notes: list[str],
    seed: int = 20210412,
) -> CharacteristicsResult:
    """Compute Table 1 for the rows ``pop`` of ``table`` (see the module docstring)."""
    by = as_label(table[spec.by])[pop]
    groups = sorted({str(g) for g in by if g is not None})
    group_sel = {"overall": np.ones(int(pop.sum()), dtype=bool)} | {g: by == g for g in groups}
    rows: list[dict[str, Any]] = []
    tests: list[dict[str, Any]] = []
    for var in spec.variables:
        if var.column not in table.columns:
            notes.append(f"Table 1: column {var.column!r} is not in the analysis table; row omitted")
            continue
        base = {"section": var.section, "variable": var.column, "label": var.label, "kind": var.kind}
        if var.kind == "continuous":
            x = as_float(table[var.column])[pop]
            samples = []
            for g, sel in group_sel.items():
                xs = x[sel]
                xs = xs[~np.isnan(xs)]
                if g != "overall":
                    samples.append(xs)
                row = base | {
                    "level": None,
                    "level_label": None,
                    "group": g,
                    "n": int(xs.size),
                    "denominator": int(sel.sum()),
                    "pct": None,
                    "missing": int(sel.sum() - xs.size),
                }
                if xs.size:
                    q1, med, q3 = np.percentile(xs, [25, 50, 75], method=quantile_method)  # type: ignore[call-overload]
                    row |= {
                        "median": float(med),
                        "q1": float(q1),
                        "q3": float(q3),
                        "min": float(xs.min()),
                        "max": float(xs.max()),
                    }
                else:
                    row |= {"median": None, "q1": None, "q3": None, "min": None, "max": None}
                rows.append(row)
            test, stat, df, p = _continuous_test(samples)
        else:
            v = as_label(table[var.column])[pop]
            if var.kind == "categorical":  # numeric codes (e.g. ECOG 0-4) compare as text
                v = np.array([None if x is None else str(x) for x in v], dtype=object)
            levels, labels = _levels(var, v)
            knownv = ~pd.isna(v)
            mat = np.zeros((len(levels) if var.kind != "binary" else 2, len(groups)), dtype=np.int64)
            for g, sel in group_sel.items():
                n_known = int((sel & knownv).sum())
                for level, label in zip(levels, labels, strict=True):
                    k = int((sel & (v == level)).sum())
                    rows.append(
                        base
                        | {
                            "level": level,
                            "level_label": label,
                            "group": g,
                            "n": k,
                            "denominator": n_known,
                            "pct": 100.0 * k / n_known if n_known else None,
                            "missing": int(sel.sum()) - n_known,
                            "median": None,
                            "q1": None,
                            "q3": None,
                            "min": None,
                            "max": None,
                        }
                    )
                if g != "overall":
                    j = groups.index(g)
                    if var.kind == "binary":
                        mat[0, j] = int((sel & (v == "true")).sum())
                        mat[1, j] = int((sel & (v == "false")).sum())
                    else:
                        for i, level in enumerate(levels):
                            mat[i, j] = int((sel & (v == level)).sum())
            test, stat, df, p = _categorical_test(mat, seed=seed, where=f"Table 1/{var.column}", notes=notes)
        tests.append(
            {
                "variable": var.column,
                "label": var.label,
                "section": var.section,
                "test": test,
                "statistic": stat,
                "df": df,
                "p": p,
            }
        )
    return CharacteristicsResult(
        spec=spec,
        groups=("overall", *groups),
        group_sizes=tuple(int(s.sum()) for s in group_sel.values()),
        n=int(pop.sum()),
        body=pd.DataFrame(rows),
        tests=pd.DataFrame(tests),
        quantile_method=quantile_method,
    )
