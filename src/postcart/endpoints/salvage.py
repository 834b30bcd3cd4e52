"""Salvage after CAR-T failure: the first line, its class, its component flags and its response.

Rules:

* **Salvage line** = the first treatment line (by start date, then line number) whose start date
  is on or after the failure date.
* **salvage_status** (failures only): ``treated`` when there is a salvage line; ``none`` when
  there is none and the first disease event on or after the failure date (normally the failure's
  own event) has ``next_treatment == "none"``; ``unknown`` otherwise (including
  ``next_treatment == "given"`` with no line recorded, counted as
  ``next_treatment_given_without_line``).
* **Component flags** ``comp_<group>``: one per component group of ``EndpointConfig
  .component_groups`` (multi-label; NA when not treated).
* **salvage_class**: each component's group maps to a class (``group_classes``); the line's
  class is the first of ``class_precedence`` among its components' classes (default bispecific >
  lenalidomide > immunochemotherapy > targeted > radiotherapy > other). A line without
  components has no class (NA, counted ``salvage_line_without_components``).
* **rt_localized_sole**: the line's components are all radiotherapy and
  ``radiotherapy_localized`` is yes (NA when radiotherapy-only with ``radiotherapy_localized``
  missing; false for other lines).
* **salvage_best_response**: the line's ``best_response`` (cr/pr/sd/pd/ne), NA when not
  recorded; ``salvage_response_evaluable`` = a response is recorded, ``ne`` included;
  ``salvage_orr`` = CR or PR and ``salvage_cr`` = CR, both NA when not evaluable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from postcart.endpoints.config import COMPONENT_GROUPS, EndpointConfig
from postcart.endpoints.dates import ColumnCollector, NoteCounter


def _bool(values: pd.Series, valid: pd.Series) -> pd.arrays.BooleanArray:
    arr = pd.array(values.fillna(False).astype(bool).to_numpy(), dtype="boolean")
    arr[~valid.to_numpy()] = pd.NA
    return arr


def derive_salvage(
    index: pd.Index,
    failure_date: pd.Series,
    lines: pd.DataFrame,
    events: pd.DataFrame,
    *,
    config: EndpointConfig,
    notes: NoteCounter,
) -> ColumnCollector:
    """Salvage columns per patient of ``index`` (NA for patients without failure)."""
    fdate = failure_date.to_numpy(dtype="datetime64[ns]")
    l_fd = fdate[lines["patient_id"].to_numpy(dtype=np.int64)]
    l_start = lines["start_date"].to_numpy(dtype="datetime64[ns]")
    cand = lines.loc[~np.isnat(l_fd) & (l_start >= l_fd)]
    sl = (
        cand.sort_values(["patient_id", "start_date", "line_number"], kind="mergesort")
        .drop_duplicates("patient_id")
        .set_index("patient_id")
    )
    out = ColumnCollector(index)
    failed = failure_date.notna()
    treated = pd.Series(index.isin(sl.index), index=index)

    e_fd = fdate[events["patient_id"].to_numpy(dtype=np.int64)]
    e_date = events["date"].to_numpy(dtype="datetime64[ns]")
    ev = events.loc[~np.isnat(e_fd) & (e_date >= e_fd)]
    first_ev = ev.sort_values(["patient_id", "date"], kind="mergesort").drop_duplicates("patient_id")
    next_tr = first_ev.set_index("patient_id")["next_treatment"].reindex(index)
    status = np.where(treated, "treated", np.where(next_tr.eq("none"), "none", "unknown")).astype(object)
    status[~failed.to_numpy()] = None
    out["salvage_status"] = status
    notes.add(
        "other", "next_treatment_given_without_line", int((failed & ~treated & next_tr.eq("given")).sum())
    )

    out["salvage_line_number"] = sl["line_number"].reindex(index).astype("Int64")
    out["salvage_start_date"] = sl["start_date"].reindex(index)
    regimen = sl["regimen"].reindex(index).astype(object)
    out["salvage_regimen"] = regimen.where(regimen.notna(), None)
    comps = sl["components"]
    joined = comps.map(lambda t: ";".join(t) if isinstance(t, tuple) else None).reindex(index)
    out["salvage_components"] = joined.astype(object).where(joined.notna(), None)
    exploded = comps.explode()
    exploded = exploded.loc[exploded.notna().to_numpy()]
    groups = exploded.map(dict(config.component_groups))
    has_comp = pd.Series(index.isin(groups.index.unique()), index=index)
    notes.add("other", "salvage_line_without_components", int((treated & ~has_comp).sum()))
    for g in COMPONENT_GROUPS:
        members = groups.index[(groups == g).to_numpy()].unique()
        out[f"comp_{g}"] = _bool(pd.Series(index.isin(members), index=index), treated)

    rank_of = {c: i for i, c in enumerate(config.class_precedence)}
    ranks = groups.map(dict(config.group_classes)).map(rank_of)
    best = ranks.groupby(level=0).min().reindex(index)
    cls = best.map(dict(enumerate(config.class_precedence))).astype(object)
    out["salvage_class"] = cls.where(cls.notna(), None)

    rt_only = (groups == "radiotherapy").groupby(level=0).all().reindex(index, fill_value=False).astype(bool)
    localized = sl["radiotherapy_localized"].reindex(index)
    rt_sole = pd.array((rt_only & localized.fillna(False).astype(bool)).to_numpy(), dtype="boolean")
    rt_sole[(rt_only & localized.isna()).to_numpy() | ~treated.to_numpy()] = pd.NA
    out["rt_localized_sole"] = rt_sole
    out["salvage_in_trial"] = sl["in_trial"].reindex(index).astype("boolean")

    resp = sl["best_response"].reindex(index).astype(object)
    resp = resp.where(resp.notna(), None)
    out["salvage_best_response"] = resp
    out["salvage_best_response_date"] = sl["best_response_date"].reindex(index)
    evaluable = resp.notna() & treated
    out["salvage_response_evaluable"] = _bool(evaluable, treated)
    out["salvage_orr"] = _bool(resp.isin(["cr", "pr"]), evaluable)
    out["salvage_cr"] = _bool(resp.eq("cr"), evaluable)
    return out
