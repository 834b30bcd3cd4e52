"""CAR-T failure, best response to CAR-T and the next progression after failure.

Rules (all dates after the cut-off and partial-date rules of ``_prepare``):

* **Failure** = the first documented progression or relapse on or after D0: the earliest of
  ``disease_events.event_date`` and the dates of assessments with response ``pd``. Stable disease
  is never a failure. When a disease event and a ``pd`` assessment fall on the same day, the
  disease event is the source.
* **failure_type**: the event's ``event_type`` when the source is a disease event; for a ``pd``
  assessment, ``relapse`` when a CR/PR assessment precedes it, else ``progression``.
* **Best response to CAR-T**: the best of the assessments dated on or before the failure date
  (all assessments when there is no failure), CR > PR > SD > PD > NE; a failure counts as PD
  (so a patient who failed without any assessment has best response PD). NA when infused
  without any assessment and without failure.
* **First response date** (origin of DOR): the first CR/PR assessment before the failure date.
* **Second progression** (PFS-2 event): the earliest of (a) the next disease event strictly
  after the failure date and (b) a ``pd`` assessment dated after a CR/PR/SD assessment that is
  itself after the failure date (a progression after a documented response or stabilisation);
  repeated ``pd`` assessments of the ongoing first progression are not a second progression.
"""

from __future__ import annotations

import pandas as pd

from postcart.endpoints.dates import labels
from postcart.endpoints.dates import per_patient_column as _col

RESPONSE_RANK: dict[str, int] = {"cr": 0, "pr": 1, "sd": 2, "pd": 3, "ne": 4}
RANK_RESPONSE: dict[int, str] = {v: k for k, v in RESPONSE_RANK.items()}


def derive_failure(
    index: pd.Index, d0: pd.Series, assessments: pd.DataFrame, events: pd.DataFrame
) -> pd.DataFrame:
    """Per patient of ``index``: failure date, source, type, best response, first CR/PR date.

    Returns columns ``failed`` (boolean, NA when not infused), ``failure_date``,
    ``failure_source`` (``disease_event``/``assessment``), ``failure_type``,
    ``best_response_cart``, ``cart_responder``, ``first_response_date``.
    """
    infused = d0.reindex(index).notna()
    ev = events[["patient_id", "date"]].assign(_src=0)
    pd_ass = assessments.loc[assessments["response"].eq("pd").to_numpy(), ["patient_id", "date"]].assign(
        _src=1
    )
    cand = pd.concat([ev, pd_ass], ignore_index=True)
    cand = cand.sort_values(["patient_id", "date", "_src"], kind="mergesort")
    first = cand.drop_duplicates("patient_id").set_index("patient_id")
    out = pd.DataFrame(index=index)
    out["failure_date"] = first["date"].reindex(index)
    src = first["_src"].reindex(index)
    out["failure_source"] = labels(index, [(src.eq(0), "disease_event"), (src.eq(1), "assessment")])
    out["failed"] = pd.array(out["failure_date"].notna().to_numpy(), dtype="boolean")
    out.loc[~infused.to_numpy(), "failed"] = pd.NA

    # type of the failure
    ev_type = events.drop_duplicates(["patient_id", "date"]).set_index(["patient_id", "date"])["event_type"]
    fd = out["failure_date"]
    key = pd.MultiIndex.from_arrays([index, fd])
    type_from_event = pd.Series(ev_type.reindex(key).to_numpy(), index=index)
    a = assessments.merge(_col(fd.rename("fdate")), on="patient_id", how="left")
    before = a["fdate"].isna() | (a["date"] <= a["fdate"])
    resp_before = a.loc[before.to_numpy()]
    rank = resp_before["response"].map(RESPONSE_RANK)
    best_rank = rank.groupby(resp_before["patient_id"]).min().reindex(index)
    failed = out["failure_date"].notna()
    best = best_rank.astype("float64").mask(failed & ~best_rank.le(3), 3.0)
    best_resp = best.map(RANK_RESPONSE).astype(object)
    out["best_response_cart"] = best_resp.where(best_resp.notna(), None)
    resp = resp_before.loc[resp_before["response"].isin(["cr", "pr"]).to_numpy()]
    resp = resp.loc[(resp["fdate"].isna() | (resp["date"] < resp["fdate"])).to_numpy()]
    out["first_response_date"] = resp.groupby("patient_id")["date"].min().reindex(index)
    had_response = out["first_response_date"].notna() & (out["first_response_date"] < out["failure_date"])
    from_ass = out["failure_source"].eq("assessment")
    out["failure_type"] = labels(
        index,
        [
            (out["failure_source"].eq("disease_event"), type_from_event.to_numpy(dtype=object)),
            (from_ass & had_response, "relapse"),
            (from_ass, "progression"),
        ],
    )
    br = out["best_response_cart"]
    responder = pd.array(br.isin(["cr", "pr"]).to_numpy(), dtype="boolean")
    responder[br.isna().to_numpy()] = pd.NA
    out["cart_responder"] = responder
    return out


def second_progression(
    index: pd.Index, failure_date: pd.Series, assessments: pd.DataFrame, events: pd.DataFrame
) -> pd.DataFrame:
    """Per patient: ``second_progression_date`` and its ``second_progression_source``."""
    fd = failure_date.rename("fdate")
    ev = events.merge(_col(fd), on="patient_id", how="inner")
    ev = ev.loc[(ev["date"] > ev["fdate"]).to_numpy()]
    next_ev = ev.groupby("patient_id")["date"].min()
    a = assessments.merge(_col(fd), on="patient_id", how="inner")
    a = a.loc[(a["date"] > a["fdate"]).to_numpy()]
    ok = a.loc[a["response"].isin(["cr", "pr", "sd"]).to_numpy()]
    first_ok = ok.groupby("patient_id")["date"].min().rename("okdate")
    pdas = a.loc[a["response"].eq("pd").to_numpy()].merge(_col(first_ok), on="patient_id", how="inner")
    pdas = pdas.loc[(pdas["date"] > pdas["okdate"]).to_numpy()]
    next_pd = pdas.groupby("patient_id")["date"].min()
    e = next_ev.reindex(index)
    p = next_pd.reindex(index)
    use_ev = e.notna() & (p.isna() | (e <= p))
    out = pd.DataFrame(index=index)
    out["second_progression_date"] = e.where(use_ev, p)
    out["second_progression_source"] = labels(index, [(use_ev, "disease_event"), (p.notna(), "assessment")])
    return out
