"""Compare computed results (``results.json``) with the paper's printed values.

The paper's values come only from the packaged copy of ``paper-targets.yaml``. Rules (from the
yaml header): percentages within 0.1 percentage point (1 point when printed as an integer);
medians, rates and CI limits within 0.1 after rounding to one decimal; hazard ratios within
0.01; P-values equal at the printed precision (``P < x``: computed below x). A median, rate or
hazard ratio also counts as reproduced when it falls inside the paper's CI. Counts must match
exactly.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from postcart.errors import SpecError

PAPER_TARGETS = Path(__file__).with_name("paper-targets.yaml")


@dataclass(frozen=True, slots=True)
class Comparison:
    """One target: the paper's value and CI beside ours, the difference and the verdict."""

    id: str
    kind: str
    quantity: str
    paper: Any
    paper_ci_low: Any
    paper_ci_high: Any
    paper_p: float | None
    computed: float | None
    computed_ci_low: float | None
    computed_ci_high: float | None
    computed_p: float | None
    difference: float | None
    rule: str
    inside: bool | None


@dataclass(frozen=True, slots=True)
class ComparisonResult:
    """All comparisons, plus the ids the results could not reproduce."""

    rows: tuple[Comparison, ...]
    not_computed: tuple[str, ...]

    @property
    def n_inside(self) -> int:
        """Targets inside the paper's CI or tolerance."""
        return sum(1 for r in self.rows if r.inside)

    def to_frame(self) -> pd.DataFrame:
        """One row per compared target."""
        return pd.DataFrame([_asdict(r) for r in self.rows])


def _asdict(r: Comparison) -> dict[str, Any]:
    return {f.name: getattr(r, f.name) for f in fields(r)}


def load_paper_targets(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """The paper targets (id -> entry) from the packaged yaml."""
    p = PAPER_TARGETS if path is None else path
    doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or "targets" not in doc:
        raise SpecError(f"{p}: not a paper-targets file (no 'targets' list)")
    return {str(t["id"]): t for t in doc["targets"]}


def _decimals(x: Any) -> int:
    s = str(x)
    if "e" in s.lower():
        return max(0, -Decimal(s).as_tuple().exponent)  # type: ignore[operator]
    return len(s.split(".")[1]) if "." in s else 0


def _num(x: Any) -> float | None:
    if x is None or isinstance(x, str):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _compare(tid: str, t: dict[str, Any], c: dict[str, Any]) -> Comparison:
    kind = str(t.get("kind"))
    value = c.get("value")
    p_comp = _num(c.get("p_value"))
    paper = t.get("value")
    lo, hi = t.get("ci_low"), t.get("ci_high")
    diff: float | None = None
    inside: bool | None = None
    rule = ""
    if kind == "p_value":
        pp = _num(t.get("p_value"))
        op = t.get("p_operator", "=")
        if pp is not None and p_comp is not None:
            diff = p_comp - pp
            if op == "<":
                rule = f"P < {pp:g}"
                inside = p_comp < pp
            else:
                d = _decimals(t.get("p_value"))
                rule = f"equal at {d} decimals"
                inside = abs(p_comp - pp) <= 0.5 * 10.0**-d + 1e-12
    elif kind == "hazard_ratio":
        pv, v = _num(paper), _num(value)
        if not c.get("estimable", True):
            rule = "not estimable"
            inside = paper == "NR"
        elif pv is not None and v is not None:
            diff = v - pv
            lo_v, hi_v = _num(lo), _num(hi)
            rule = "inside CI or +/- 0.01"
            inside = abs(diff) <= 0.01 + 1e-12 or (
                lo_v is not None and hi_v is not None and lo_v <= v <= hi_v
            )
        elif paper == "NR":
            rule = "not estimable"
            inside = False
    else:
        pv, v = _num(paper), _num(value)
        if pv is not None and v is not None:
            diff = v - pv
            if kind == "count":
                rule = "exact"
                inside = round(v) == round(pv)
            elif kind == "percent":
                tol = 1.0 if _decimals(paper) == 0 else 0.1
                rule = f"+/- {tol:g} point"
                inside = abs(diff) <= tol + 1e-9
            else:
                lo_v = _num(lo)
                hi_v = math.inf if hi == "NR" else _num(hi)
                rounded = float(Decimal(repr(v)).quantize(Decimal("0.1")))
                rule = "+/- 0.1 or inside CI" if lo_v is not None else "+/- 0.1"
                inside = abs(rounded - pv) <= 0.1 + 1e-9 or (
                    lo_v is not None and hi_v is not None and lo_v <= v <= hi_v
                )
        elif paper == "NR" and value is None:
            rule = "not reached"
            inside = True
    return Comparison(
        id=tid,
        kind=kind,
        quantity=str(t.get("quantity", "")),
        paper=paper,
        paper_ci_low=lo,
        paper_ci_high=hi,
        paper_p=_num(t.get("p_value")),
        computed=_num(value),
        computed_ci_low=_num(c.get("ci_low")),
        computed_ci_high=_num(c.get("ci_high")),
        computed_p=p_comp,
        difference=diff,
        rule=rule,
        inside=inside,
    )


def compare_paper(results: dict[str, Any] | Path, *, targets_path: Path | None = None) -> ComparisonResult:
    """Compare the ``targets`` block of a results document with the paper's values."""
    if isinstance(results, Path):
        try:
            results = json.loads(results.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SpecError(f"{results}: cannot read a results.json ({exc})") from exc
    assert isinstance(results, dict)
    computed = results.get("targets")
    if not isinstance(computed, dict):
        raise SpecError("results document has no 'targets' block (is this a postcart results.json?)")
    paper = load_paper_targets(targets_path)
    rows: list[Comparison] = []
    missing: list[str] = []
    for tid, t in paper.items():
        if t.get("target_type") != "analysis":
            continue
        if tid not in computed:
            missing.append(tid)
            continue
        rows.append(_compare(tid, t, computed[tid]))
    return ComparisonResult(tuple(rows), tuple(missing))


def _fmt(x: Any, digits: int = 2) -> str:
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    v = float(x)
    if v != 0 and abs(v) < 0.001:
        return f"{v:.1e}"
    return f"{v:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{v:.0f}"


def comparison_rows(result: ComparisonResult) -> list[list[str]]:
    """Display rows: id, paper (CI), computed (CI), difference, rule, verdict."""
    out = []
    for r in result.rows:
        if r.kind == "p_value":
            paper = f"P {'<' if r.rule.startswith('P <') else '='} {_fmt(r.paper_p, 4)}"
            comp = f"P = {_fmt(r.computed_p, 4)}"
        else:
            paper = _fmt(r.paper)
            if r.paper_ci_low is not None or r.paper_ci_high is not None:
                paper += f" ({_fmt(r.paper_ci_low)}-{_fmt(r.paper_ci_high)})"
            comp = "NE" if r.rule == "not estimable" and r.computed is None else _fmt(r.computed, 3)
            if r.computed_ci_low is not None or r.computed_ci_high is not None:
                comp += f" ({_fmt(r.computed_ci_low, 3)}-{_fmt(r.computed_ci_high, 3)})"
            if r.kind == "hazard_ratio" and r.computed_p is not None:
                comp += f" P={_fmt(r.computed_p, 4)}"
        verdict = {True: "yes", False: "NO", None: "?"}[r.inside]
        out.append([r.id, paper, comp, _fmt(r.difference, 3), r.rule, verdict])
    return out


def format_comparison(result: ComparisonResult) -> str:
    """Plain-text table of the comparison (for terminals and logs)."""
    head = ["id", "paper (CI)", "computed (CI)", "difference", "rule", "inside"]
    rows = comparison_rows(result)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=False)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.append("")
    lines.append(
        f"{result.n_inside} of {len(result.rows)} compared targets inside the paper's CI or tolerance."
    )
    if result.not_computed:
        lines.append(
            f"Not computed from these data ({len(result.not_computed)}): {', '.join(result.not_computed)}"
        )
    return "\n".join(lines)
