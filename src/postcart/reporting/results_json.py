"""``results.json``: every result of the run, unrounded, in the schema of docs/results-schema.md."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

from postcart.study.results import StudyResult, SurvivalAnalysisResult

SCHEMA = "postcart.results/1"


def _clean(x: Any) -> Any:
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python, tuples -> lists, NA -> None."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return [_clean(v) for v in x.tolist()]
    if isinstance(x, np.bool_ | bool):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        v = float(x)
        return None if math.isnan(v) or math.isinf(v) else v
    if x is None or x is pd.NA or x is pd.NaT:
        return None
    return x


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [_clean(r) for r in df.astype(object).where(df.notna(), None).to_dict("records")]


def _km_block(g: Any) -> dict[str, Any]:
    med = g.km.median
    lm = g.landmarks
    return {
        "level": g.level,
        "label": g.label,
        "n": g.n,
        "events": g.n_events,
        "median": {"estimate": med.estimate, "ci_low": med.ci_low, "ci_high": med.ci_high},
        "landmarks": [
            {
                "time": float(lm.time[i]),
                "survival": lm.survival[i],
                "ci_low": lm.ci_low[i],
                "ci_high": lm.ci_high[i],
                "event_rate": lm.event_rate[i],
                "event_rate_ci_low": lm.event_rate_ci_low[i],
                "event_rate_ci_high": lm.event_rate_ci_high[i],
                "n_risk": lm.n_risk[i],
            }
            for i in range(len(lm.time))
        ],
    }


def _lr(res: Any) -> dict[str, Any] | None:
    if res is None:
        return None
    return {"test": getattr(res, "test", "log-rank"), "chisq": res.chisq, "df": res.df, "p": res.p}


def _survival(a: SurvivalAnalysisResult) -> dict[str, Any]:
    return {
        "title": a.spec.title,
        "endpoint": a.spec.endpoint.name,
        "population": a.spec.population,
        "group": a.spec.group,
        "overall": None if a.overall is None else _km_block(a.overall),
        "groups": [_km_block(g) for g in a.groups],
        "logrank": _lr(a.logrank),
        "pairwise": [{"a": p.a, "b": p.b, **(_lr(p.result) or {})} for p in a.pairwise],
        "n_missing": a.n_missing,
    }


def results_document(r: StudyResult, *, version: str) -> dict[str, Any]:
    """The results as a JSON-ready dict (see docs/results-schema.md)."""
    m = r.methods
    conv = {
        **m.conventions,
        "quantile_method": m.quantile_method,
        "days_per_month": m.days_per_month,
        "timing_boundaries_days": list(m.timing_boundaries_days),
        "covariate_scaling": dict(m.covariate_scaling),
        "time_unit": "months",
        "percent_unit": "percent (0-100)",
        "survival_unit": "proportion (0-1) in analyses; percent in targets",
        "proportion_ci": r.response.method,
        "monte_carlo_seed": m.seed,
    }
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "study": r.spec.name,
        "generated_utc": m.started_utc,
        "postcart_version": version,
        "conventions": conv,
        "data": {
            "description": m.source.description,
            "fingerprint_sha256": m.source.fingerprint,
            "cutoff": m.source.cutoff,
            "seed": m.source.seed,
            "endpoint_config": dict(m.source.endpoint_config),
            "notes": dict(m.source.notes),
        },
        "targets": {k: v.as_dict() for k, v in sorted(r.targets.items())},
        "analyses": {
            "flow": {
                "steps": [
                    {
                        "name": s.name,
                        "label": s.label,
                        "n": s.n,
                        "exclusions": [{"reason": a, "n": k} for a, k in s.exclusions],
                    }
                    for s in r.flow.steps
                ],
                "notes": {k: v for k, v in r.flow.notes},
            },
            "table_1": {
                "groups": dict(zip(r.characteristics.groups, r.characteristics.group_sizes, strict=True)),
                "body": _records(r.characteristics.body),
                "tests": _records(r.characteristics.tests),
            },
            "failure_timing": {
                "counts": _records(r.failure_timing.counts),
                "n": r.failure_timing.n,
                "median_months": r.failure_timing.median_months,
                "min_months": r.failure_timing.min_months,
                "max_months": r.failure_timing.max_months,
            },
            "table_2": {
                "status": _records(r.salvage.status),
                "classes": _records(r.salvage.classes),
                "regimens": _records(r.salvage.regimens),
                "n_treated": r.salvage.n_treated,
                "n_rt_localized": r.salvage.n_rt_localized,
            },
            "response": {
                "method": r.response.method,
                "conf_level": r.response.conf_level,
                "table": _records(r.response.table),
            },
            "survival": {k: _survival(a) for k, a in r.survival.items()},
            "cox": {
                k: {
                    "title": a.spec.title,
                    "endpoint": a.spec.endpoint.name,
                    "multivariable": a.spec.multivariable,
                    "models": [
                        {
                            "name": mm.name,
                            "n": mm.n,
                            "events": mm.n_events,
                            "n_dropped": mm.n_dropped,
                            "warnings": list(mm.warnings),
                        }
                        for mm in a.models
                    ],
                    "terms": _records(a.to_frame()),
                }
                for k, a in r.cox.items()
            },
            "contingency": {
                k: {
                    "title": c.spec.title,
                    "test": c.test,
                    "statistic": c.statistic,
                    "df": c.df,
                    "p": c.p,
                    "n": c.n,
                    "n_missing": c.n_missing,
                    "rows": [str(i) for i in c.counts.index],
                    "columns": [str(j) for j in c.counts.columns],
                    "counts": c.counts.to_numpy().tolist(),
                }
                for k, c in r.contingency.items()
            },
            "followup": {k: _records(a.to_frame()) for k, a in r.followup.items()},
        },
        "warnings": list(m.warnings),
        "software": dict(m.software),
    }
    cleaned: dict[str, Any] = _clean(doc)
    return cleaned


def dumps(doc: dict[str, Any]) -> str:
    """Serialise with full float precision (repr), no NaN."""
    return json.dumps(doc, indent=1, allow_nan=False, ensure_ascii=False)
