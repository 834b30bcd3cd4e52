"""What the extract sees of a simulated cohort at its cut-off (shared by the tables and the truth).

A latent event enters the registry only if it happens on or before the patient's last contact
(``SimulatedCohort.last_contact_day``; for a patient whose death is known that is the death
day). This module computes, once, the observed dates and states used by both
``postcart.synth.tables`` (raw registry rows) and ``postcart.synth.truth`` (analysis table).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from postcart.synth.model import NEVER, BoolArray, IntArray, SimulatedCohort


@dataclass(frozen=True, slots=True)
class ObservedCohort:
    """Observed absolute days (``NEVER`` = not in the extract) and states, one entry per patient."""

    cohort: SimulatedCohort
    failure_day: IntArray
    failed: BoolArray
    salvage_status: IntArray  # -1 not a failure, 0 treated, 1 none, 2 unknown
    salvage_start_day: IntArray
    salvage_class: IntArray
    p2_day: IntArray
    salvage_response: IntArray  # -1 no data, 0 cr, 1 pr, 2 sd, 3 pd, 4 ne
    salvage_response_day: IntArray
    death_day: IntArray
    visit_recorded: BoolArray  # (n, 8) scheduled visits recorded before failure
    visit_response: IntArray  # (n, 8) 0 cr, 1 pr, 2 sd
    failure_visit: IntArray  # index of the scheduled visit that documented the failure, -1 none
    second_line_day: IntArray


def observe(c: SimulatedCohort) -> ObservedCohort:
    """Apply the cut-off, loss to follow-up and death to the latent histories of ``c``."""
    lc = c.last_contact_day
    inf = np.where(c.infused, c.inf_day, NEVER)
    death = np.where(c.dead_observed, c.death_day, NEVER)
    fail_abs = np.where(c.infused & (c.fail_rel < NEVER), inf + c.fail_rel, NEVER)
    failed = fail_abs <= lc
    fail_abs = np.where(failed, fail_abs, NEVER)

    start = fail_abs + c.salvage_start_rel
    treated = failed & (c.salvage_status == 0) & (start <= lc) & (start <= death)
    status = np.where(failed, np.where(treated, 0, np.where(c.salvage_status == 0, 2, c.salvage_status)), -1)
    start = np.where(treated, start, NEVER)
    cls = np.where(treated, c.salvage_class, -1)

    p2 = fail_abs + c.p2_rel
    p2_ok = failed & (p2 <= lc) & (p2 <= death)
    p2 = np.where(p2_ok, p2, NEVER)

    resp = np.where(treated, c.salvage_response, -1)
    eval_day = fail_abs + c.salvage_eval_rel
    resp_day = np.where(resp == 3, p2, np.where(resp == 4, NEVER, eval_day))
    ok = (resp >= 0) & ((resp == 4) & (death < NEVER) | (resp != 4) & (resp_day <= lc))
    resp = np.where(ok, resp, -1)
    resp_day = np.where(ok & (resp != 4), resp_day, NEVER)

    rel_end = np.minimum(lc, death) - np.where(c.infused, c.inf_day, 0)
    v = c.visit_days
    rec = (
        c.infused[:, None]
        & ~c.response_unrecorded[:, None]
        & (v < NEVER)
        & (v <= rel_end[:, None])
        & (v < c.fail_rel[:, None])
        & ((fail_abs == NEVER)[:, None] | (v < (fail_abs - inf)[:, None]))
    )
    n = c.n
    vr = np.full(v.shape, 2, dtype=np.int64)
    vr = np.where((c.resp_type == 2)[:, None], 1, vr)
    first_cr = np.where(c.regimen_variant % 3 == 0, 1, 0)  # a third of CRs show PR at D30
    cr_mat = np.where(np.arange(v.shape[1])[None, :] == 0, first_cr[:, None], 0)
    vr = np.where((c.resp_type == 3)[:, None], cr_mat, vr)
    fv = np.full(n, -1, dtype=np.int64)
    fail_rel_obs = np.where(failed, fail_abs - inf, NEVER)
    hit = (v == fail_rel_obs[:, None]) & failed[:, None]
    fv = np.where(hit.any(axis=1), hit.argmax(axis=1), -1)

    second = np.where(c.second_line & p2_ok, p2 + 14, NEVER)
    second = np.where((second <= lc) & (second <= death), second, NEVER)
    return ObservedCohort(
        cohort=c,
        failure_day=fail_abs,
        failed=failed,
        salvage_status=status.astype(np.int64),
        salvage_start_day=start,
        salvage_class=cls.astype(np.int64),
        p2_day=p2,
        salvage_response=resp.astype(np.int64),
        salvage_response_day=resp_day,
        death_day=death,
        visit_recorded=rec,
        visit_response=vr,
        failure_visit=fv.astype(np.int64),
        second_line_day=second,
    )
