"""``derive_endpoints``: the analysis table, one row per registered patient, from the registry.

The rules live in the modules they name: ``dates`` (partial dates, months), ``_prepare``
(cut-off), ``failure``, ``survival_endpoints``, ``salvage``, ``characteristics``, ``flow``;
``docs/endpoints.md`` collects them. Everything is vectorized (merge/groupby), so the derivation
scales to millions of patients.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from postcart.endpoints._prepare import prepare
from postcart.endpoints.characteristics import derive_characteristics
from postcart.endpoints.config import EndpointConfig
from postcart.endpoints.dates import (
    ColumnCollector,
    EndpointNotes,
    NoteCounter,
    days_between,
    group_min,
    to_months,
)
from postcart.endpoints.failure import derive_failure, second_progression
from postcart.endpoints.flow import PatientFlow, build_flow
from postcart.endpoints.salvage import derive_salvage
from postcart.endpoints.survival_endpoints import derive_survival
from postcart.errors import EndpointError
from postcart.registry.tables import RegistryTables

TIMING_GROUPS: tuple[str, ...] = ("very_early", "early", "late")


@dataclass(frozen=True, slots=True)
class EndpointsResult:
    """The derived analysis table and how it was made.

    Attributes
    ----------
    table
        One row per registered patient (columns: ``docs/endpoints.md``).
    flow
        ``PatientFlow``: registered -> infused -> failed -> salvage data -> response evaluable.
    config
        The ``EndpointConfig`` used.
    notes
        ``EndpointNotes``: partial dates imputed/clamped, records after the cut-off, other counts.
    cutoff
        The data cut-off applied (``None`` when neither given nor recorded in the extract).
    """

    table: pd.DataFrame
    flow: PatientFlow
    config: EndpointConfig
    notes: EndpointNotes
    cutoff: pd.Timestamp | None

    def to_frame(self) -> pd.DataFrame:
        """The analysis table (a copy)."""
        return self.table.copy()

    def summary(self) -> str:
        """The flow with its exclusions, the configuration's key choices and the counters, as text."""
        cut = "none" if self.cutoff is None else self.cutoff.date().isoformat()
        cfg = self.config.as_dict()
        lines = [
            f"Analysis table: {len(self.table)} registered patients, data cut-off {cut}",
            f"  {cfg['months_rule']}; timing groups: "
            + "; ".join(f"{k} {v}" for k, v in cfg["timing_groups"].items()),
            f"  partial dates: {cfg['partial_date_rule']}",
            "Flow:",
        ]
        for step in self.flow.steps:
            lines.append(f"  {step.name}: {step.n}")
            lines.extend(f"      excluded, {reason}: {count}" for reason, count in step.exclusions if count)
        for kind, counts in self.notes.as_dict().items():
            if counts:
                lines.append(kind.replace("_", " ") + ":")
                lines.extend(f"  {key}: {n}" for key, n in counts.items())
        return "\n".join(lines)

    def __repr__(self) -> str:
        cut = "none" if self.cutoff is None else self.cutoff.date().isoformat()
        return f"EndpointsResult(n={len(self.table)}, cutoff={cut}, {self.flow!r})"


def _resolve_cutoff(
    tables: RegistryTables, cutoff: dt.date | str | pd.Timestamp | None
) -> pd.Timestamp | None:
    if cutoff is None:
        return tables.data_cutoff
    try:
        ts = pd.Timestamp(cutoff)
    except (ValueError, TypeError) as exc:
        raise EndpointError(f"cutoff must be a date (YYYY-MM-DD), but was {cutoff!r}") from exc
    if pd.isna(ts):
        raise EndpointError(f"cutoff must be a date (YYYY-MM-DD), but was {cutoff!r}")
    return ts.normalize()


def _latest(parts: list[tuple[pd.DataFrame, str]], n: int) -> pd.Series:
    """Per patient position, the latest date of column ``col`` over the ``(frame, col)`` parts."""
    codes = np.concatenate([f["patient_id"].to_numpy(dtype=np.int64) for f, _ in parts])
    dates = np.concatenate([f[c].to_numpy(dtype="datetime64[ns]") for f, c in parts])
    return pd.Series(group_min(codes, dates, n, latest=True), dtype="datetime64[ns]")


def derive_endpoints(
    tables: RegistryTables,
    *,
    cutoff: dt.date | str | pd.Timestamp | None = None,
    config: EndpointConfig | None = None,
) -> EndpointsResult:
    """Derive the analysis table (one row per registered patient) from the registry tables.

    Parameters
    ----------
    tables
        The registry (``postcart.registry.tables.RegistryTables``).
    cutoff
        Data cut-off; default: the extract's ``data_cutoff`` (no cut-off when absent). Records
        dated after it are ignored and counted; follow-up is censored at it.
    config
        Derivation choices (default ``EndpointConfig()``).

    Returns
    -------
    EndpointsResult

    Raises
    ------
    EndpointError
        When a one-per-patient table has several rows for a patient, a salvage component has no
        class, or the cut-off is not a date.
    """
    cfg = config if config is not None else EndpointConfig()
    cut = _resolve_cutoff(tables, cutoff)
    notes = NoteCounter()
    prep = prepare(tables, cutoff=cut, config=cfg, notes=notes)
    pts = prep.patients
    index = pts.index
    d0 = prep.infusions["d0"].reindex(index)

    t = ColumnCollector(index)
    t["patient_id"] = prep.ids.to_numpy(dtype=object)
    t["centre_id"] = pts["centre_id"].astype(object)
    infused = d0.notna()
    t["infused"] = pd.array(infused.to_numpy(), dtype="boolean")
    prod = prep.infusions["product"].reindex(index).astype(object)
    t["product"] = prod.where(prod.notna(), None)
    t["d0"] = d0
    t["registration_date"] = pts["registration_date"]
    t["decision_date"] = pts["decision_date"]
    t["lymphodepletion_date"] = prep.infusions["lymphodepletion_date"].reindex(index)

    chars = derive_characteristics(
        pts, d0, prep.characteristics, prep.bridging, prep.toxicities, config=cfg, notes=notes
    )

    fail = derive_failure(index, d0, prep.assessments, prep.events)
    fdate = fail["failure_date"]
    days = days_between(d0, fdate)
    timing = np.select(
        [
            days.le(cfg.very_early_max_day).fillna(False),
            days.le(cfg.early_max_day).fillna(False),
            days.notna(),
        ],
        list(TIMING_GROUPS),
        default="",
    ).astype(object)
    timing[timing == ""] = None
    fail["days_to_failure"] = days
    fail["months_to_failure"] = to_months(days, cfg)
    fail["timing_group"] = timing
    ve = pd.array(days.le(cfg.very_early_max_day).fillna(False).to_numpy(), dtype="boolean")
    ve[days.isna().to_numpy()] = pd.NA
    fail["very_early"] = ve

    sp = second_progression(index, fdate, prep.assessments, prep.events)

    # vital status, last contact, last assessment
    vit = prep.vital.reindex(index)
    death = vit["death_date"]
    notes.add("other", "no_vital_status_record", int((~index.isin(prep.vital.index)).sum()))
    d0_frame = pd.DataFrame({"patient_id": np.arange(len(index)), "d0": d0.to_numpy()})
    assessed = [(prep.assessments, "date"), (prep.events, "date")]
    record_latest = _latest(
        [*assessed, (prep.lines, "start_date"), (prep.lines, "best_response_date"), (d0_frame, "d0")],
        len(index),
    )
    lc_recorded = vit["last_contact_date"]
    raised = record_latest.notna() & (lc_recorded.isna() | (record_latest > lc_recorded))
    notes.add("other", "last_contact_raised_to_latest_record", int((raised & lc_recorded.notna()).sum()))
    last_contact = lc_recorded.where(~raised, record_latest)
    if cut is not None:
        last_contact = last_contact.where(~(last_contact > cut), cut)
    last_assessment = _latest(assessed, len(index))
    died_before_d0 = death.notna() & d0.notna() & (death < d0)
    notes.add("other", "death_before_d0", int(died_before_d0.sum()))

    surv = derive_survival(
        d0=d0,
        failure_date=fdate,
        first_response_date=fail["first_response_date"],
        second_progression_date=sp["second_progression_date"],
        death_date=death,
        last_contact=last_contact,
        last_assessment=last_assessment,
        config=cfg,
        notes=notes,
    )
    notes.add(
        "other",
        "died_without_failure",
        int((infused & fdate.isna() & death.notna()).sum()),
    )
    notes.add("other", "death_on_failure_day", int((fdate.notna() & death.eq(fdate)).sum()))

    salv = derive_salvage(index, fdate, prep.lines, prep.events, config=cfg, notes=notes)

    tail = ColumnCollector(index)
    tail["death_date"] = death
    cause = vit["death_cause"].astype(object)
    tail["death_cause"] = cause.where(cause.notna(), None)
    tail["last_contact_date"] = last_contact
    tail["last_assessment_date"] = last_assessment
    alive = pd.array(death.isna().to_numpy(), dtype="boolean")
    alive[(~index.isin(prep.vital.index))] = pd.NA
    tail["alive"] = alive
    tail["cutoff_date"] = pd.Series(cut if cut is not None else pd.NaT, index=index, dtype="datetime64[ns]")
    for part in (chars, fail, sp, surv, salv, tail):
        t.update(part)
    table = t.frame()
    table.index = pd.RangeIndex(len(table))

    flow = build_flow(
        table,
        n_infused_after_cutoff=prep.n_infused_after_cutoff,
        cutoff=cut,
        records_after_cutoff=dict(notes.after_cutoff),
    )
    return EndpointsResult(table=table, flow=flow, config=cfg, notes=notes.freeze(), cutoff=cut)
