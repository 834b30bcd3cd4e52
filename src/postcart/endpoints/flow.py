"""The patient flow: registered -> infused -> failed -> salvage data -> response evaluable.

Each step keeps the patients of the previous step that pass it; the others are exclusions,
counted by reason (the reasons of a step partition its exclusions):

1. **registered**: patients registered on or before the cut-off.
2. **infused**: infusion record dated on or before the cut-off. Exclusions: ``not infused (no
   infusion record)``, ``infused after the cut-off``.
3. **failed**: failure (first progression/relapse) on or before the cut-off. Exclusions, by best
   response to CAR-T: ``no failure: CR``, ``no failure: PR``, ``no failure: SD (stable disease is
   not failure)``, ``no failure: NE (not evaluated)``, ``no failure: no response assessment``.
4. **salvage data**: ``salvage_status == "treated"``. Exclusions: ``no further treatment``,
   ``unknown (no treatment line recorded)``.
5. **response evaluable**: a best response to salvage is recorded (NE included). Exclusion:
   ``no response data``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import pandas as pd

FLOW_STEPS: tuple[str, ...] = ("registered", "infused", "failed", "salvage data", "response evaluable")


@dataclass(frozen=True, slots=True)
class FlowStep:
    """One step of the flow: patients kept (``n``) and exclusions from the previous step."""

    name: str
    n: int
    exclusions: tuple[tuple[str, int], ...] = ()

    @property
    def n_excluded(self) -> int:
        """Patients of the previous step excluded at this step."""
        return sum(c for _, c in self.exclusions)


@dataclass(frozen=True, slots=True)
class PatientFlow:
    """The flow of patients from registration to salvage response (see the module docstring).

    Attributes
    ----------
    steps
        The five steps in order.
    cutoff
        The data cut-off applied (``None``: no cut-off).
    records_after_cutoff
        ``"table.field"`` -> records ignored because dated after the cut-off.
    """

    steps: tuple[FlowStep, ...]
    cutoff: pd.Timestamp | None = None
    records_after_cutoff: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def step(self, name: str) -> FlowStep:
        """The step called ``name``."""
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(f"no flow step {name!r}; steps are {list(FLOW_STEPS)}")

    def to_frame(self) -> pd.DataFrame:
        """One row per step and exclusion: ``step``, ``n``, ``reason`` (None on step rows), ``count``."""
        rows: list[tuple[str, int, str | None, int | None]] = []
        for s in self.steps:
            rows.append((s.name, s.n, None, None))
            rows.extend((s.name, s.n, reason, count) for reason, count in s.exclusions)
        return pd.DataFrame(rows, columns=["step", "n", "reason", "count"])

    def as_dict(self) -> dict[str, object]:
        """Plain data (JSON-ready)."""
        return {
            "cutoff": None if self.cutoff is None else self.cutoff.date().isoformat(),
            "steps": [
                {"name": s.name, "n": s.n, "exclusions": [{"reason": r, "count": c} for r, c in s.exclusions]}
                for s in self.steps
            ],
            "records_after_cutoff": dict(self.records_after_cutoff),
        }

    def __repr__(self) -> str:
        chain = " -> ".join(f"{s.name} {s.n}" for s in self.steps)
        return f"PatientFlow({chain})"


def build_flow(
    table: pd.DataFrame,
    *,
    n_infused_after_cutoff: int,
    cutoff: pd.Timestamp | None,
    records_after_cutoff: Mapping[str, int],
) -> PatientFlow:
    """The flow from the analysis table (vectorized counts)."""
    n_reg = len(table)
    infused = table["infused"].fillna(False).astype(bool)
    n_inf = int(infused.sum())
    n_late = min(int(n_infused_after_cutoff), n_reg - n_inf)
    failed = table["failed"].fillna(False).astype(bool) & infused
    n_fail = int(failed.sum())
    nf = table.loc[(infused & ~failed).to_numpy(), "best_response_cart"]
    reasons = [
        ("no failure: CR", int(nf.eq("cr").sum())),
        ("no failure: PR", int(nf.eq("pr").sum())),
        ("no failure: SD (stable disease is not failure)", int(nf.eq("sd").sum())),
        ("no failure: NE (not evaluated)", int(nf.eq("ne").sum())),
        ("no failure: no response assessment", int(nf.isna().sum())),
    ]
    st = table.loc[failed.to_numpy(), "salvage_status"]
    treated = failed & table["salvage_status"].eq("treated")
    evaluable = treated & table["salvage_response_evaluable"].fillna(False).astype(bool)
    n_tr = int(treated.sum())
    n_ev = int(evaluable.sum())
    steps = (
        FlowStep("registered", n_reg),
        FlowStep(
            "infused",
            n_inf,
            (
                ("not infused (no infusion record)", n_reg - n_inf - n_late),
                ("infused after the cut-off", n_late),
            ),
        ),
        FlowStep("failed", n_fail, tuple(reasons)),
        FlowStep(
            "salvage data",
            n_tr,
            (
                ("no further treatment", int(st.eq("none").sum())),
                ("unknown (no treatment line recorded)", int(st.eq("unknown").sum())),
            ),
        ),
        FlowStep("response evaluable", n_ev, (("no response data", n_tr - n_ev),)),
    )
    return PatientFlow(
        steps=steps, cutoff=cutoff, records_after_cutoff=MappingProxyType(dict(records_after_cutoff))
    )
