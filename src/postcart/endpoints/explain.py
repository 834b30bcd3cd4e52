"""``explain_patient``: one patient's timeline and how each endpoint was derived from which records.

The endpoints are those of ``derive_endpoints`` run on the patient's records alone (the same
code path as the full table, so the explanation cannot drift from it); this module only lists the
records and words the derivation.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from postcart.endpoints.config import EndpointConfig
from postcart.endpoints.derive import EndpointsResult, derive_endpoints
from postcart.errors import EndpointError
from postcart.registry.schema import TABLES
from postcart.registry.tables import RegistryTables

_DESCRIBE: dict[str, tuple[str, ...]] = {
    "patients": ("indication", "histology", "prior_lines"),
    "characteristics": ("timepoint", "ecog", "ann_arbor_stage", "disease_status"),
    "bridging": ("bridging_type", "regimen"),
    "infusions": ("product", "lymphodepletion_regimen"),
    "assessments": ("visit", "response", "modality"),
    "disease_events": ("event_type", "next_treatment"),
    "treatment_lines": ("line_number", "regimen", "components", "best_response"),
    "vital_status": ("death_cause",),
}


#: Dates the derivation never reads (left out of the timeline).
_UNUSED_DATES: frozenset[str] = frozenset({"planned_date"})


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One dated registry value of the patient."""

    date: str
    precision: str
    table: str
    field: str
    detail: str
    status: str


@dataclass(frozen=True, slots=True)
class ExplanationResult:
    """A patient's timeline, analysis row and derivation trace.

    Attributes
    ----------
    patient_id, cutoff
        The patient and the cut-off applied.
    timeline
        Every dated registry value, sorted by date; ``status`` says whether it was used or why
        it was ignored.
    row
        The patient's analysis-table row (plain values).
    trace
        ``(endpoint, value, derivation)`` triples, in reading order.
    notes
        The patient's ``EndpointNotes`` as plain dicts.
    """

    patient_id: str
    cutoff: pd.Timestamp | None
    timeline: tuple[TimelineEntry, ...]
    row: dict[str, Any]
    trace: tuple[tuple[str, str, str], ...]
    notes: dict[str, dict[str, int]]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready plain data."""
        return {
            "patient_id": self.patient_id,
            "cutoff": None if self.cutoff is None else self.cutoff.date().isoformat(),
            "timeline": [
                {
                    "date": e.date,
                    "precision": e.precision,
                    "table": e.table,
                    "field": e.field,
                    "detail": e.detail,
                    "status": e.status,
                }
                for e in self.timeline
            ],
            "derivation": [{"endpoint": n, "value": v, "how": h} for n, v, h in self.trace],
            "row": self.row,
            "notes": self.notes,
        }

    def to_text(self) -> str:
        """A plain-text report: timeline, then derivation."""
        cut = "none" if self.cutoff is None else self.cutoff.date().isoformat()
        lines = [f"Patient {self.patient_id} (data cut-off: {cut})", "", "Timeline"]
        for e in self.timeline:
            prec = "" if e.precision == "day" else f" [{e.precision} precision]"
            flag = "" if e.status == "used" else f"  ({e.status})"
            lines.append(f"  {e.date}{prec}  {e.table}.{e.field}: {e.detail}{flag}")
        lines += ["", "Derivation"]
        for name, value, how in self.trace:
            lines.append(f"  {name} = {value}")
            if how:
                lines.append(f"      {how}")
        counted = [(kind, k, v) for kind, d in self.notes.items() for k, v in d.items()]
        if counted:
            lines += ["", "Counted (partial-date rule, cut-off, other situations)"]
            lines += [f"  {kind.replace('_', ' ')}: {k}: {v}" for kind, k, v in counted]
        return "\n".join(lines)


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "item"):
        return value.item()
    return value


def _iso(value: Any) -> str:
    v = _plain(value)
    return "NA" if v is None else str(v)


def _subset(tables: RegistryTables, patient_id: str) -> RegistryTables:
    frames: dict[str, pd.DataFrame] = {}
    for spec in TABLES:
        frame = tables.table(spec.name)
        if "patient_id" in frame.columns:
            frame = frame.loc[frame["patient_id"].eq(patient_id).to_numpy()].reset_index(drop=True)
        frames[spec.name] = frame
    return RegistryTables.from_frames(frames)


def _timeline(sub: RegistryTables, cutoff: pd.Timestamp | None) -> tuple[TimelineEntry, ...]:
    entries: list[tuple[pd.Timestamp, TimelineEntry]] = []
    for spec in TABLES:
        if spec.name in ("extract", "centres"):
            continue
        frame = sub.table(spec.name)
        for _, rec in frame.iterrows():
            detail = ", ".join(
                f"{k}={';'.join(rec[k]) if isinstance(rec[k], tuple) else _iso(rec[k])}"
                for k in _DESCRIBE.get(spec.name, ())
                if k in rec.index and _plain(rec[k]) not in (None, [])
            )
            for f in spec.fields:
                if f.kind != "date" or f.name in _UNUSED_DATES or pd.isna(rec[f.name]):
                    continue
                when = pd.Timestamp(rec[f.name])
                prec = str(rec[f"{f.name}_precision"] or "day")
                shown = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}.get(prec, "%Y-%m-%d")
                status = "used" if cutoff is None or when <= cutoff else "ignored: after the cut-off"
                entries.append(
                    (when, TimelineEntry(when.strftime(shown), prec, spec.name, f.name, detail, status))
                )
    entries.sort(key=lambda e: (e[0], e[1].table, e[1].field))
    return tuple(e for _, e in entries)


def _trace(res: EndpointsResult, r: pd.Series) -> tuple[tuple[str, str, str], ...]:
    cfg = res.config
    c = cfg.days_per_month
    out: list[tuple[str, str, str]] = []

    def add(name: str, how: str = "") -> None:
        out.append((name, _iso(r[name]), how))

    if not bool(r["infused"]):
        add("infused", "no infusion record dated on or before the cut-off")
        return tuple(out)
    add("infused", f"infusions.infusion_date -> D0 = {_iso(r['d0'])}")
    add(
        "best_response_cart",
        "best of assessments dated on/before the failure (CR > PR > SD > PD > NE); a failure counts as PD"
        + ("" if pd.isna(r["first_response_date"]) else f"; first CR/PR on {_iso(r['first_response_date'])}"),
    )
    if not bool(r["failed"]):
        add("failed", "no disease event and no PD assessment on/after D0 (SD is never failure)")
    else:
        add(
            "failed",
            f"first progression/relapse on/after D0: {r['failure_source']} dated {_iso(r['failure_date'])}",
        )
        if r["failure_source"] == "disease_event":
            add("failure_type", "event_type of that disease event")
        else:
            first = r["first_response_date"]
            add(
                "failure_type",
                f"PD assessment: relapse since a CR/PR assessment came before it ({_iso(first)})"
                if not pd.isna(first)
                else "PD assessment with no CR/PR before it: progression",
            )
        add("days_to_failure", f"{_iso(r['failure_date'])} - D0 {_iso(r['d0'])}")
        add("months_to_failure", f"{_iso(r['days_to_failure'])} / {c!r}")
        add(
            "timing_group",
            f"very_early <= {cfg.very_early_max_day} < early <= {cfg.early_max_day} < late (days)",
        )
    for ep, origin in (
        ("pfs2", "failure_date"),
        ("os2", "failure_date"),
        ("pfs", "d0"),
        ("os", "d0"),
        ("dor", "first_response_date"),
    ):
        if pd.isna(r[f"{ep}_months"]):
            continue
        kind = "event" if bool(r[f"{ep}_event"]) else "censored"
        add(
            f"{ep}_months",
            f"{kind}: from {origin} {_iso(r[origin])} to {r[f'{ep}_end_source']} "
            f"{_iso(r[f'{ep}_end_date'])}, days / {c!r}",
        )
    if bool(r["failed"]):
        status = r["salvage_status"]
        if status == "treated":
            add(
                "salvage_status",
                f"treatment line {_iso(r['salvage_line_number'])} started {_iso(r['salvage_start_date'])} "
                "(first line on/after the failure date)",
            )
            comps = str(r["salvage_components"] or "")
            mapped = ", ".join(
                f"{x} -> {cfg.component_groups[x]} -> {cfg.component_class(x)}"
                for x in comps.split(";")
                if x in cfg.component_groups
            )
            add("salvage_class", f"{mapped}; precedence {' > '.join(cfg.class_precedence)}")
            add("rt_localized_sole", "components all radiotherapy and radiotherapy_localized = yes")
            add("salvage_best_response", "best_response of the salvage line (NE counts as evaluable)")
        else:
            add(
                "salvage_status",
                "no line on/after failure; 'none' when the failure's disease event says "
                "next_treatment=none, else 'unknown'",
            )
    for p in ("dec", "d0"):
        add(
            f"{p}_ipi",
            f"age>{cfg.ipi_age_threshold_years:g} + stage III-IV ({_iso(r[f'{p}_stage_3_4'])}) + LDH>ULN "
            f"({_iso(r[f'{p}_ldh_high'])}) + ECOG>=2 ({_iso(r[f'{p}_ecog_ge2'])}) + >1 extranodal "
            f"({_iso(r[f'{p}_extranodal_gt1'])}); NA if any missing",
        )
    return tuple(out)


def explain_patient(
    tables: RegistryTables,
    patient_id: str,
    *,
    cutoff: dt.date | str | pd.Timestamp | None = None,
    config: EndpointConfig | None = None,
) -> ExplanationResult:
    """Explain one patient: timeline of records and the derivation of each endpoint.

    Raises
    ------
    EndpointError
        When ``patient_id`` is not a registered patient.
    """
    sub = _subset(tables, patient_id)
    if sub.patients.empty:
        raise EndpointError(f"patient {patient_id!r} is not in the registry (table 'patients')")
    res = derive_endpoints(sub, cutoff=cutoff, config=config)
    if res.table.empty:
        raise EndpointError(
            f"patient {patient_id!r} was registered after the cut-off {_iso(res.cutoff)}; nothing to derive"
        )
    r = res.table.iloc[0]
    return ExplanationResult(
        patient_id=patient_id,
        cutoff=res.cutoff,
        timeline=_timeline(sub, res.cutoff),
        row={str(k): _plain(v) for k, v in r.items()},
        trace=_trace(res, r),
        notes=res.notes.as_dict(),
    )
