"""The outputs of ``postcart survival``: the JSON document (a stable contract, documented key by
key in ``docs/survival-cli.md``) and a readable text rendering.

Numbers in the JSON are unrounded (Python's shortest repr, which round-trips exactly); ``nan``,
``inf`` and "not reached" are ``null``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from postcart import __version__
from postcart.survfile.analysis import CoxFit, GroupCurve, LogRankFit, SurvivalFileAnalysis

__all__ = ["SCHEMA_VERSION", "analysis_to_dict", "analysis_to_json", "render_text"]

#: Version of the JSON layout; bumped only when a key changes meaning (keys are never renamed).
SCHEMA_VERSION = 1


def _num(x: object) -> float | int | None:
    """A JSON number: ints stay ints, nan/inf/None become None."""
    if x is None:
        return None
    if isinstance(x, bool | np.bool_):
        return int(x)
    if isinstance(x, int | np.integer):
        return int(x)
    v = float(x)  # type: ignore[arg-type]
    if not math.isfinite(v):
        return None
    return v


def _count(x: object) -> int | float | None:
    """A count: an int when integral (weights aside), else a float."""
    v = _num(x)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _nums(xs: Sequence[object] | NDArray[Any]) -> list[float | int | None]:
    return [_num(x) for x in list(xs)]


def _km_dict(curve: GroupCurve) -> dict[str, Any]:
    km = curve.km
    table = [
        {
            "time": _num(km.time[i]),
            "n_risk": _count(km.n_risk[i]),
            "n_event": _count(km.n_event[i]),
            "n_censor": _count(km.n_censor[i]),
            "survival": _num(km.survival[i]),
            "std_err": _num(km.std_err[i]),
            "ci_low": _num(km.ci_low[i]),
            "ci_high": _num(km.ci_high[i]),
        }
        for i in range(len(km.time))
    ]
    at_times: list[dict[str, Any]] = []
    if curve.at_times is not None:
        at = curve.at_times
        at_times = [
            {
                "time": _num(at.time[i]),
                "survival": _num(at.survival[i]),
                "std_err": _num(at.std_err[i]),
                "ci_low": _num(at.ci_low[i]),
                "ci_high": _num(at.ci_high[i]),
                "n_risk": _count(at.n_risk[i]),
                "event_rate": _num(at.event_rate[i]),
                "event_rate_ci_low": _num(at.event_rate_ci_low[i]),
                "event_rate_ci_high": _num(at.event_rate_ci_high[i]),
                "beyond_last_time": bool(at.beyond_last_time[i]),
            }
            for i in range(len(at.time))
        ]
    quantiles = []
    for p in (0.25, 0.5, 0.75):
        q = km.quantile(p)
        quantiles.append(
            {"p": p, "estimate": _num(q.estimate), "ci_low": _num(q.ci_low), "ci_high": _num(q.ci_high)}
        )
    return {
        "group": curve.group,
        "n": int(km.n),
        "events": int(km.n_events),
        "median": _num(km.median.estimate),
        "median_ci": [_num(km.median.ci_low), _num(km.median.ci_high)],
        "quantiles": quantiles,
        "table": table,
        "at_times": at_times,
    }


def _logrank_dict(fit: LogRankFit) -> dict[str, Any]:
    r = fit.result
    out: dict[str, Any] = {
        "test": r.test,
        "chisq": _num(r.chisq),
        "df": int(r.df),
        "p": _num(r.p),
        "groups": [str(g) for g in r.groups],
        "n": [_count(x) for x in r.n],
        "observed": _nums(r.observed),
        "expected": _nums(r.expected),
        "n_dropped": fit.n_dropped,
    }
    if fit.strata_col is not None:
        out["strata"] = fit.strata_col
    return out


def _cox_dict(fit: CoxFit) -> dict[str, Any]:
    r = fit.result
    terms = [
        {
            "term": t.term,
            "coef": _num(t.coef),
            "se": _num(t.se),
            "hr": _num(t.hr),
            "ci_low": _num(t.ci_low),
            "ci_high": _num(t.ci_high),
            "z": _num(t.z),
            "p": _num(t.p),
            "estimable": bool(t.estimable),
        }
        for t in r.terms
    ]

    def test(ts: Any) -> dict[str, Any]:
        return {"chisq": _num(ts.chisq), "df": int(ts.df), "p": _num(ts.p)}

    return {
        "ties": r.ties,
        "n": int(r.n),
        "events": int(r.n_events),
        "n_dropped": fit.n_dropped,
        "covariates": list(fit.covariates),
        "strata": fit.strata_col,
        "terms": terms,
        "loglik_null": _num(r.loglik_null),
        "loglik": _num(r.loglik),
        "lr_test": test(r.lr_test),
        "wald_test": test(r.wald_test),
        "score_test": test(r.score_test),
        "concordance": _num(r.concordance),
        "concordance_se": _num(r.concordance_se),
        "converged": bool(r.converged),
        "iterations": int(r.iterations),
        "monotone": bool(r.monotone),
        "firth": bool(r.firth),
    }


def analysis_to_dict(analysis: SurvivalFileAnalysis) -> dict[str, Any]:
    """The JSON document of ``postcart survival --format json`` as a dict.

    Keys are documented in ``docs/survival-cli.md``; keys are added, never renamed.
    """
    d = analysis.data
    main_fu = analysis.followup[0].followup.median
    followup: dict[str, Any] = {
        "median": _num(main_fu.estimate),
        "median_ci": [_num(main_fu.ci_low), _num(main_fu.ci_high)],
        "by_group": [
            {
                "group": g.group,
                "median": _num(g.followup.median.estimate),
                "median_ci": [_num(g.followup.median.ci_low), _num(g.followup.median.ci_high)],
            }
            for g in analysis.followup[1:]
        ],
    }
    return {
        "schema_version": SCHEMA_VERSION,
        "postcart_version": __version__,
        "input": {
            "file": d.source,
            "n_rows": d.n_rows,
            "time": d.time_col,
            "event": d.event_col,
            "entry": d.entry_col,
            "group": d.group_col,
            "strata": d.strata_col,
            "covariates": list(d.covariates),
            "categorical": dict(d.categorical),
            "n_group_missing": analysis.n_group_missing,
        },
        "conventions": analysis.conventions.as_dict(),
        "times": list(analysis.times),
        "km": [_km_dict(c) for c in analysis.km],
        "followup": followup,
        "logrank": None if analysis.logrank is None else _logrank_dict(analysis.logrank),
        "logrank_stratified": (
            None if analysis.logrank_stratified is None else _logrank_dict(analysis.logrank_stratified)
        ),
        "cox": None if analysis.cox is None else _cox_dict(analysis.cox),
        "notes": list(analysis.notes),
    }


def analysis_to_json(analysis: SurvivalFileAnalysis, *, indent: int | None = 2) -> str:
    """The JSON text (strict JSON: no NaN or Infinity tokens)."""
    return json.dumps(analysis_to_dict(analysis), indent=indent, allow_nan=False)


# --------------------------------------------------------------------------------------- text


def _f(x: float | int | None, digits: int = 4) -> str:
    if x is None:
        return "NR"
    if isinstance(x, int):
        return str(x)
    return f"{x:.{digits}g}"


def _p(x: float | int | None) -> str:
    if x is None:
        return "NA"
    return "<1e-16" if x < 1e-16 else f"{x:.4g}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = "  ".join(
        h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(header, widths, strict=True))
    )
    out = [line, "-" * len(line)]
    for r in rows:
        out.append(
            "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        )
    return out


def render_text(analysis: SurvivalFileAnalysis) -> str:
    """A readable summary: conventions, KM medians, survival at the chosen times, follow-up,
    log-rank tests and the Cox table ("NR" = not reached)."""
    doc = analysis_to_dict(analysis)
    c = doc["conventions"]
    inp = doc["input"]
    lines = [
        f"postcart survival: {inp['file']} ({inp['n_rows']} rows; time={inp['time']}, event={inp['event']}"
        + (f", entry={inp['entry']}" if inp["entry"] else "")
        + ")",
        f"conventions: profile={c['profile']}, CI {c['conf_type']} {c['conf_level']:g}, "
        f"median rule {c['median_rule']}, Cox ties {c['ties']}",
        "",
        "Kaplan-Meier" + (f" by {inp['group']}" if inp["group"] else ""),
    ]
    rows = []
    for k in doc["km"]:
        lo, hi = k["median_ci"]
        rows.append([str(k["group"]), str(k["n"]), str(k["events"]), _f(k["median"]), f"{_f(lo)} - {_f(hi)}"])
    lines += _table(["group", "n", "events", "median", "median CI"], rows)
    if inp["n_group_missing"]:
        lines.append(f"({inp['n_group_missing']} rows with no {inp['group']} left out of the groups)")
    if doc["times"]:
        lines += ["", "Survival at chosen times"]
        rows = []
        for k in doc["km"]:
            for a in k["at_times"]:
                rows.append(
                    [
                        str(k["group"]),
                        _f(a["time"]),
                        _f(a["n_risk"]),
                        _f(a["survival"]),
                        f"{_f(a['ci_low'])} - {_f(a['ci_high'])}",
                    ]
                )
        lines += _table(["group", "time", "at risk", "survival", "CI"], rows)
    fu = doc["followup"]
    lines += [
        "",
        f"Median follow-up (reverse Kaplan-Meier): {_f(fu['median'])} "
        f"({_f(fu['median_ci'][0])} - {_f(fu['median_ci'][1])})",
    ]
    for key, title in (("logrank", "Log-rank test"), ("logrank_stratified", "Stratified log-rank test")):
        lr = doc[key]
        if lr is None:
            continue
        head = f"{title}" + (f" (strata: {lr['strata']})" if lr.get("strata") else "")
        lines += ["", f"{head}: chisq = {_f(lr['chisq'], 6)}, df = {lr['df']}, p = {_p(lr['p'])}"]
        rows = [
            [g, _f(n), _f(o, 6), _f(e, 6)]
            for g, n, o, e in zip(lr["groups"], lr["n"], lr["observed"], lr["expected"], strict=True)
        ]
        lines += _table(["group", "n", "observed", "expected"], rows)
        if lr["n_dropped"]:
            lines.append(f"({lr['n_dropped']} rows with a missing group or stratum left out)")
    cx = doc["cox"]
    if cx is not None:
        lines += [
            "",
            f"Cox model ({cx['ties']} ties"
            + (", Firth penalized likelihood" if cx["firth"] else "")
            + (f", strata {cx['strata']}" if cx["strata"] else "")
            + f"): n = {cx['n']}, events = {cx['events']}, dropped for missing values = {cx['n_dropped']}",
        ]
        rows = [
            [
                t["term"],
                _f(t["coef"], 5),
                _f(t["se"], 4),
                _f(t["hr"], 4) if t["estimable"] else "NE",
                f"{_f(t['ci_low'])} - {_f(t['ci_high'])}" if t["estimable"] else "not estimable",
                _p(t["p"]),
            ]
            for t in cx["terms"]
        ]
        lines += _table(["term", "coef", "se", "HR", "HR CI", "p"], rows)
        for name, key in (
            ("Likelihood ratio", "lr_test"),
            ("Wald", "wald_test"),
            ("Score", "score_test"),
        ):
            t = cx[key]
            lines.append(f"{name} test: chisq = {_f(t['chisq'], 6)}, df = {t['df']}, p = {_p(t['p'])}")
        lines.append(f"Concordance: {_f(cx['concordance'])} (se {_f(cx['concordance_se'])})")
    if doc["notes"]:
        lines += [""] + [f"Note: {note}" for note in doc["notes"]]
    return "\n".join(lines) + "\n"
