"""Time-to-event endpoints: PFS-2, OS-2 (from failure), PFS, OS (from D0), DOR (from first CR/PR).

Every endpoint is ``(origin, events, censoring date)``:

========  ==================  ======================================  ========================
endpoint  origin              event (earliest of)                     censored at
========  ==================  ======================================  ========================
pfs2      failure date        second progression, death               PFS censoring date
os2       failure date        death                                   last contact
pfs       D0                  failure, death                          PFS censoring date
os        D0                  death                                   last contact
dor       first CR/PR date    failure, death                          PFS censoring date
========  ==================  ======================================  ========================

* **last contact** = the later of ``vital_status.last_contact_date`` and the patient's latest
  dated record (assessment, disease event, treatment line start or best response, D0), never
  after the cut-off (``last_contact_date`` of the analysis table).
* **PFS censoring date**: the last contact (``pfs_censoring="last_contact"``, default) or the
  latest assessment or disease event (``"last_assessment"``).
* time = (end - origin) in whole days, then months by the one constant. A censoring date before
  the origin gives time 0 (counted: ``<endpoint>_no_follow_up_after_origin``; every censoring at
  time 0, e.g. no contact after infusion, is counted in ``<endpoint>_censored_at_origin``); an
  event before the origin (e.g. a death recorded before the failure date) gives time 0 and is
  counted (``<endpoint>_event_before_origin``). Without any censoring date
  (``last_assessment`` censoring and no assessment), follow-up ends at the origin (end source
  ``origin``, counted ``<endpoint>_no_censoring_date``). A death on the day of failure is an event
  at time 0, kept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from postcart.endpoints.config import EndpointConfig
from postcart.endpoints.dates import ColumnCollector, NoteCounter, days_between, labels, to_months


def time_to_event(
    name: str,
    origin: pd.Series,
    events: list[tuple[str, pd.Series]],
    censor: tuple[str, pd.Series],
    *,
    config: EndpointConfig,
    notes: NoteCounter,
) -> ColumnCollector:
    """One endpoint for every row with an ``origin`` (other rows are NA).

    Returns columns ``<name>_months`` (float), ``<name>_event`` (boolean), ``<name>_end_date``,
    ``<name>_end_source`` (the name of the event or censoring that ended follow-up).
    """
    has = origin.notna()
    stack = np.stack([s.to_numpy(dtype="datetime64[ns]") for _, s in events])
    filled = np.where(np.isnat(stack), np.datetime64("NaT", "ns"), stack)
    # earliest event per row (NaT ignored); first in list wins ties
    big = np.datetime64("2262-01-01", "ns")
    masked = np.where(np.isnat(filled), big, filled)
    which = masked.argmin(axis=0)
    earliest = masked.min(axis=0)
    is_event = earliest != big
    cname, cdate = censor
    cvals = cdate.to_numpy(dtype="datetime64[ns]")
    no_censor = np.isnat(cvals) & ~is_event & has.to_numpy()
    notes.add("other", f"{name}_no_censoring_date", int(no_censor.sum()))
    # without any censoring date (e.g. no assessment at all), follow-up ends at the origin
    cvals = np.where(no_censor, origin.to_numpy(dtype="datetime64[ns]"), cvals)
    end = np.where(is_event, earliest, cvals)
    names = np.array([n for n, _ in events], dtype=object)
    source = labels(
        origin.index, [(is_event, names[which]), (no_censor, "origin"), (~np.isnat(cvals), cname)]
    )
    end_s = pd.Series(end, index=origin.index).where(has)
    days = days_between(origin, end_s)
    neg = days.lt(0).fillna(False).astype(bool)
    ev_b = pd.Series(is_event, index=origin.index)
    notes.add("other", f"{name}_event_before_origin", int((neg & ev_b & has).sum()))
    notes.add("other", f"{name}_no_follow_up_after_origin", int((neg & ~ev_b & has).sum()))
    days = days.where(~neg, 0)
    at0 = days.eq(0).fillna(False).astype(bool) & ~ev_b & has
    notes.add("other", f"{name}_censored_at_origin", int(at0.sum()))
    out = ColumnCollector(origin.index)
    out[f"{name}_months"] = to_months(days, config)
    event = pd.array(is_event, dtype="boolean")
    event[~has.to_numpy()] = pd.NA
    out[f"{name}_event"] = event
    out[f"{name}_end_date"] = end_s
    out[f"{name}_end_source"] = source.where(has, None)
    return out


def derive_survival(
    *,
    d0: pd.Series,
    failure_date: pd.Series,
    first_response_date: pd.Series,
    second_progression_date: pd.Series,
    death_date: pd.Series,
    last_contact: pd.Series,
    last_assessment: pd.Series,
    config: EndpointConfig,
    notes: NoteCounter,
) -> ColumnCollector:
    """PFS-2, OS-2, PFS, OS and DOR (see the module table)."""
    if config.pfs_censoring == "last_contact":
        pfs_censor = ("last_contact", last_contact)
    else:
        pfs_censor = ("last_assessment", last_assessment)
    parts = [
        time_to_event(
            "pfs2",
            failure_date,
            [("second_progression", second_progression_date), ("death", death_date)],
            pfs_censor,
            config=config,
            notes=notes,
        ),
        time_to_event(
            "os2",
            failure_date,
            [("death", death_date)],
            ("last_contact", last_contact),
            config=config,
            notes=notes,
        ),
        time_to_event(
            "pfs",
            d0,
            [("failure", failure_date), ("death", death_date)],
            pfs_censor,
            config=config,
            notes=notes,
        ),
        time_to_event(
            "os", d0, [("death", death_date)], ("last_contact", last_contact), config=config, notes=notes
        ),
        time_to_event(
            "dor",
            first_response_date,
            [("failure", failure_date), ("death", death_date)],
            pfs_censor,
            config=config,
            notes=notes,
        ),
    ]
    out = ColumnCollector(d0.index)
    for part in parts:
        out.update(part)
    return out
