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

import numpy as np
import numpy.typing as npt
import pandas as pd

from postcart.endpoints.dates import ColumnCollector, group_min, labels

RESPONSE_RANK: dict[str, int] = {"cr": 0, "pr": 1, "sd": 2, "pd": 3, "ne": 4}
RANK_RESPONSE: dict[int, str] = {v: k for k, v in RESPONSE_RANK.items()}
_PD = RESPONSE_RANK["pd"]


def response_rank(response: pd.Series) -> npt.NDArray[np.int8]:
    """Rank of each Lugano response (cr 0 < pr 1 < sd 2 < pd 3 < ne 4; -1 when missing)."""
    cat = pd.Categorical(response, categories=list(RESPONSE_RANK))
    return np.asarray(cat.codes, dtype=np.int8)


def derive_failure(
    index: pd.Index, d0: pd.Series, assessments: pd.DataFrame, events: pd.DataFrame
) -> ColumnCollector:
    """Per patient of ``index``: failure date, source, type, best response, first CR/PR date.

    ``index`` is ``RangeIndex(n)`` and ``patient_id`` in the frames is the patient's position
    (see ``_prepare``). Returns columns ``failure_date``, ``failure_source``
    (``disease_event``/``assessment``), ``failed`` (boolean, NA when not infused),
    ``best_response_cart``, ``first_response_date``, ``failure_type``, ``cart_responder``.
    """
    n = len(index)
    infused = d0.notna().to_numpy()
    a_pid = assessments["patient_id"].to_numpy(dtype=np.int64)
    a_date = assessments["date"].to_numpy(dtype="datetime64[ns]")
    a_rank = response_rank(assessments["response"])
    e_pid = events["patient_id"].to_numpy(dtype=np.int64)
    e_date = events["date"].to_numpy(dtype="datetime64[ns]")

    first_ev = group_min(e_pid, e_date, n)
    is_pd = a_rank == _PD
    first_pd = group_min(a_pid[is_pd], a_date[is_pd], n)
    use_ev = ~np.isnat(first_ev) & (np.isnat(first_pd) | (first_ev <= first_pd))
    fdate = np.where(use_ev, first_ev, first_pd)
    failed = ~np.isnat(fdate)
    out = ColumnCollector(index)
    out["failure_date"] = pd.Series(fdate, index=index, dtype="datetime64[ns]")
    out["failure_source"] = labels(index, [(use_ev, "disease_event"), (failed, "assessment")])
    failed_arr = pd.array(failed, dtype="boolean")
    failed_arr[~infused] = pd.NA
    out["failed"] = failed_arr

    # best response up to the failure; a failure counts as PD
    a_fdate = fdate[a_pid]
    before = np.isnat(a_fdate) | (a_date <= a_fdate)
    keep = before & (a_rank >= 0)
    best = np.full(n, 99, dtype=np.int64)
    np.minimum.at(best, a_pid[keep], a_rank[keep].astype(np.int64))
    best = np.where(failed & (best > _PD), _PD, best)
    best_resp = np.full(n, None, dtype=object)
    for rank, resp in RANK_RESPONSE.items():
        best_resp[best == rank] = resp
    out["best_response_cart"] = pd.Series(best_resp, index=index, dtype=object)

    is_resp = (a_rank == 0) | (a_rank == 1)
    strictly_before = np.isnat(a_fdate) | (a_date < a_fdate)
    sel = is_resp & strictly_before
    first_resp = group_min(a_pid[sel], a_date[sel], n)
    out["first_response_date"] = pd.Series(first_resp, index=index, dtype="datetime64[ns]")

    # type: the disease event's own type, else relapse when a CR/PR came before the PD assessment
    at_failure = e_date == fdate[e_pid]
    ev_type = np.full(n, None, dtype=object)
    ev_type[e_pid[at_failure]] = events["event_type"].to_numpy(dtype=object)[at_failure]
    from_ass = failed & ~use_ev
    had_response = ~np.isnat(first_resp)
    out["failure_type"] = labels(
        index, [(use_ev, ev_type), (from_ass & had_response, "relapse"), (from_ass, "progression")]
    )
    responder = pd.array(best <= 1, dtype="boolean")
    responder[best == 99] = pd.NA
    out["cart_responder"] = responder
    return out


def second_progression(
    index: pd.Index, failure_date: pd.Series, assessments: pd.DataFrame, events: pd.DataFrame
) -> ColumnCollector:
    """Per patient: ``second_progression_date`` and its ``second_progression_source``."""
    n = len(index)
    fdate = failure_date.to_numpy(dtype="datetime64[ns]")
    e_pid = events["patient_id"].to_numpy(dtype=np.int64)
    e_date = events["date"].to_numpy(dtype="datetime64[ns]")
    after = ~np.isnat(fdate[e_pid]) & (e_date > fdate[e_pid])
    next_ev = group_min(e_pid[after], e_date[after], n)

    a_pid = assessments["patient_id"].to_numpy(dtype=np.int64)
    a_date = assessments["date"].to_numpy(dtype="datetime64[ns]")
    a_rank = response_rank(assessments["response"])
    a_after = ~np.isnat(fdate[a_pid]) & (a_date > fdate[a_pid])
    ok = a_after & (a_rank >= 0) & (a_rank <= 2)
    first_ok = group_min(a_pid[ok], a_date[ok], n)
    pd_after_ok = a_after & (a_rank == _PD) & ~np.isnat(first_ok[a_pid]) & (a_date > first_ok[a_pid])
    next_pd = group_min(a_pid[pd_after_ok], a_date[pd_after_ok], n)

    use_ev = ~np.isnat(next_ev) & (np.isnat(next_pd) | (next_ev <= next_pd))
    out = ColumnCollector(index)
    out["second_progression_date"] = pd.Series(np.where(use_ev, next_ev, next_pd), index=index)
    out["second_progression_source"] = labels(
        index, [(use_ev, "disease_event"), (~np.isnat(next_pd), "assessment")]
    )
    return out
