"""Cut-off filtering and partial-date imputation: the registry frames the rules work on.

Every date the derivation uses goes through ``dates.impute_dates`` here, once, with its anchor:

==================================  ==============================================
field                               anchor (earliest day a partial date may take)
==================================  ==============================================
patients.registration_date          none
patients.decision_date              none
infusions.lymphodepletion_date      patients.decision_date
infusions.infusion_date             patients.decision_date, lymphodepletion date
assessments.assessment_date         D0 (decision date when not infused)
disease_events.event_date           D0 (decision date when not infused)
treatment_lines.start_date          the failure (first progression) date, else D0
treatment_lines.end_date            the line's start
treatment_lines.best_response_date  the line's start
vital_status.last_contact_date      D0 (decision date when not infused)
vital_status.death_date             the latest dated record (D0, assessments, events,
                                    line starts, day-precise last contact)
==================================  ==============================================

Cut-off: records whose date period starts after the cut-off are dropped and counted (patients by
registration date, infusions, assessments, disease events, treatment lines by start date,
characteristics by assessment date). A line's best response dated after the cut-off is blanked
(``treatment_lines.best_response_date``); a death after the cut-off is blanked
(``vital_status.death_date``: alive at the cut-off); a last contact after the cut-off is moved to
the cut-off (``vital_status.last_contact_date``). Post-infusion records of patients not infused
by the cut-off, and records dated before D0, are dropped and counted in ``counts``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from postcart.endpoints.config import EndpointConfig
from postcart.endpoints.dates import NoteCounter, after_cutoff, group_min, impute_dates
from postcart.errors import EndpointError
from postcart.registry.tables import RegistryTables


@dataclass(frozen=True, slots=True)
class Prepared:
    """Registry frames after the cut-off and the partial-date rule (dates are whole days)."""

    cutoff: pd.Timestamp | None
    ids: pd.Index  # registry patient ids; elsewhere patient_id is the position in ids
    patients: pd.DataFrame  # index patient_id
    infusions: pd.DataFrame  # index patient_id; d0
    n_infused_after_cutoff: int
    characteristics: pd.DataFrame
    bridging: pd.DataFrame  # index patient_id
    toxicities: pd.DataFrame  # index patient_id
    assessments: pd.DataFrame  # patient_id, visit, date, response (on/after D0)
    events: pd.DataFrame  # patient_id, date, event_type, next_treatment, biopsy (on/after D0)
    lines: pd.DataFrame  # treatment lines with imputed dates
    vital: pd.DataFrame  # index patient_id; last_contact_date, death_date, death_cause


def _encode(frame: pd.DataFrame, ids: pd.Index, columns: list[str] | None = None) -> pd.DataFrame:
    """Keep rows of registered patients, with ``patient_id`` replaced by its position in ``ids``."""
    codes = ids.get_indexer(pd.Index(frame["patient_id"]))
    keep = codes >= 0
    names = list(frame.columns) if columns is None else columns
    # new frame of the needed columns; columns are never written in place afterwards
    if keep.all():
        data: dict[str, object] = {c: frame[c].array for c in names}
    else:
        data = {c: frame[c].array[keep] for c in names}
    data["patient_id"] = codes[keep].astype(np.int64)
    return pd.DataFrame(data, index=pd.RangeIndex(int(keep.sum())), copy=False)


def _unique_index(frame: pd.DataFrame, table: str, ids: pd.Index | None = None) -> pd.DataFrame:
    dup = frame["patient_id"].duplicated(keep=False)
    if dup.any():
        dup_ids = frame.loc[dup.to_numpy(), "patient_id"].to_numpy()
        names = dup_ids if ids is None else ids[dup_ids]
        shown = sorted({str(x) for x in names})[:5]
        raise EndpointError(
            f"table {table!r} must hold one row per patient, but patients {shown} have several "
            "[rule: one_per_patient]"
        )
    return frame.set_index("patient_id")


def _check_components(lines: pd.DataFrame, ids: pd.Index, config: EndpointConfig) -> None:
    exploded = lines["components"].explode()
    known = exploded.isin(list(config.component_groups)) | exploded.isna()
    if not known.all():
        pos = int(np.flatnonzero(~known.to_numpy())[0])
        rec = lines.loc[exploded.index[pos]]
        raise EndpointError(
            f"table 'treatment_lines': patient {ids[int(rec['patient_id'])]!r}, line "
            f"{rec['line_number']}, field 'components': {exploded.iloc[pos]!r} has no group in "
            "EndpointConfig.component_groups [rule: component_mapping]"
        )


def _drop_after(
    frame: pd.DataFrame, column: str, key: str, cutoff: pd.Timestamp | None, notes: NoteCounter
) -> pd.DataFrame:
    late = after_cutoff(frame[column], cutoff)
    notes.add("after_cutoff", key, int(late.sum()))
    if not late.any():
        return frame
    return frame.loc[~late.to_numpy()].copy()


def prepare(
    tables: RegistryTables, *, cutoff: pd.Timestamp | None, config: EndpointConfig, notes: NoteCounter
) -> Prepared:
    """Apply the cut-off and the partial-date rule (see the module docstring)."""
    pts = _drop_after(tables.patients, "registration_date", "patients.registration_date", cutoff, notes)
    pts = _unique_index(pts, "patients")
    ids = pts.index
    pts = pts.reset_index(drop=True)
    pts.index = pd.RangeIndex(len(pts), name="patient_id")
    for col in ("registration_date", "decision_date"):
        pts[col] = impute_dates(
            pts[col],
            pts[f"{col}_precision"],
            field_name=f"patients.{col}",
            config=config,
            notes=notes,
            cutoff=cutoff,
        )
    registered = pts.index
    # From here on, patient_id is the patient's position in ``ids`` (int64): fast joins at scale.

    inf = _encode(tables.infusions, ids)
    late = after_cutoff(inf["infusion_date"], cutoff)
    n_late = int(late.sum())
    notes.add("after_cutoff", "infusions.infusion_date", n_late)
    inf = _unique_index(inf.loc[~late.to_numpy()], "infusions", ids)
    decision = pts["decision_date"].reindex(inf.index)
    inf["lymphodepletion_date"] = impute_dates(
        inf["lymphodepletion_date"],
        inf["lymphodepletion_date_precision"],
        field_name="infusions.lymphodepletion_date",
        config=config,
        notes=notes,
        anchor=decision,
        cutoff=cutoff,
    )
    anchor = inf["lymphodepletion_date"].where(inf["lymphodepletion_date"].notna(), decision)
    inf["d0"] = impute_dates(
        inf["infusion_date"],
        inf["infusion_date_precision"],
        field_name="infusions.infusion_date",
        config=config,
        notes=notes,
        anchor=anchor,
        cutoff=cutoff,
    )
    d0 = inf["d0"]
    post_anchor = d0.reindex(registered)
    post_anchor = post_anchor.where(post_anchor.notna(), pts["decision_date"])

    anchor_arr = post_anchor.to_numpy(dtype="datetime64[ns]")
    d0_arr = d0.reindex(registered).to_numpy(dtype="datetime64[ns]")

    def post_d0(
        frame: pd.DataFrame,
        table: str,
        column: str,
        *,
        drop_before: bool,
        columns: list[str] | None = None,
        anchors: npt.NDArray[np.datetime64] = anchor_arr,
    ) -> pd.DataFrame:
        frame = _drop_after(_encode(frame, ids, columns), column, f"{table}.{column}", cutoff, notes)
        frame[column] = impute_dates(
            frame[column],
            frame[f"{column}_precision"],
            field_name=f"{table}.{column}",
            config=config,
            notes=notes,
            anchor=pd.Series(anchors[frame["patient_id"].to_numpy()], index=frame.index),
            cutoff=cutoff,
        )
        if drop_before:
            pd0 = pd.Series(d0_arr[frame["patient_id"].to_numpy()], index=frame.index)
            no_inf = pd0.isna()
            notes.add("other", f"{table}_of_patients_not_infused_ignored", int(no_inf.sum()))
            before = (frame[column] < pd0).fillna(False).astype(bool)
            notes.add("other", f"{table}_before_d0_ignored", int(before.sum()))
            frame = frame.loc[~(no_inf | before).to_numpy()]
        return frame

    ass = post_d0(
        tables.assessments,
        "assessments",
        "assessment_date",
        drop_before=True,
        columns=["patient_id", "visit", "assessment_date", "assessment_date_precision", "response"],
    )
    ass = ass.rename(columns={"assessment_date": "date"})[["patient_id", "visit", "date", "response"]]
    ev = post_d0(tables.disease_events, "disease_events", "event_date", drop_before=True)
    ev = ev.rename(columns={"event_date": "date"})[
        ["patient_id", "date", "event_type", "next_treatment", "biopsy"]
    ]
    # lines are anchored at the first progression (the failure) when there is one, else at D0
    n = len(registered)
    is_pd = ass["response"].eq("pd").to_numpy()
    first_prog = group_min(
        np.concatenate(
            [ev["patient_id"].to_numpy(dtype=np.int64), ass["patient_id"].to_numpy(dtype=np.int64)[is_pd]]
        ),
        np.concatenate(
            [ev["date"].to_numpy(dtype="datetime64[ns]"), ass["date"].to_numpy(dtype="datetime64[ns]")[is_pd]]
        ),
        n,
    )
    lines = post_d0(
        tables.treatment_lines,
        "treatment_lines",
        "start_date",
        drop_before=False,
        anchors=np.where(np.isnat(first_prog), anchor_arr, first_prog),
    )
    _check_components(lines, ids, config)
    line_anchor = lines["start_date"]
    lines["end_date"] = impute_dates(
        lines["end_date"],
        lines["end_date_precision"],
        field_name="treatment_lines.end_date",
        config=config,
        notes=notes,
        anchor=line_anchor,
    )
    br_late = after_cutoff(lines["best_response_date"], cutoff)
    notes.add("after_cutoff", "treatment_lines.best_response_date", int(br_late.sum()))
    lines["best_response"] = lines["best_response"].where(~br_late, None)
    lines["best_response_date"] = lines["best_response_date"].where(~br_late)
    lines["best_response_date"] = impute_dates(
        lines["best_response_date"],
        lines["best_response_date_precision"],
        field_name="treatment_lines.best_response_date",
        config=config,
        notes=notes,
        anchor=line_anchor,
        cutoff=cutoff,
    )

    vit = _unique_index(_encode(tables.vital_status, ids), "vital_status", ids)
    v_anchor = post_anchor.reindex(vit.index)
    # a death is anchored at the patient's latest dated record (and day-precise last contact)
    lc_day = vit["last_contact_date"].where(vit["last_contact_date_precision"].eq("day"))
    latest = group_min(
        np.concatenate(
            [
                np.arange(n),
                ass["patient_id"].to_numpy(dtype=np.int64),
                ev["patient_id"].to_numpy(dtype=np.int64),
                lines["patient_id"].to_numpy(dtype=np.int64),
                vit.index.to_numpy(dtype=np.int64),
            ]
        ),
        np.concatenate(
            [
                anchor_arr,
                ass["date"].to_numpy(dtype="datetime64[ns]"),
                ev["date"].to_numpy(dtype="datetime64[ns]"),
                lines["start_date"].to_numpy(dtype="datetime64[ns]"),
                lc_day.to_numpy(dtype="datetime64[ns]"),
            ]
        ),
        n,
        latest=True,
    )
    death_anchor = pd.Series(latest[vit.index.to_numpy(dtype=np.int64)], index=vit.index)
    death_late = after_cutoff(vit["death_date"], cutoff)
    notes.add("after_cutoff", "vital_status.death_date", int(death_late.sum()))
    vit["death_date"] = vit["death_date"].where(~death_late)
    vit["death_cause"] = vit["death_cause"].where(~death_late, None)
    lc_late = after_cutoff(vit["last_contact_date"], cutoff)
    notes.add("after_cutoff", "vital_status.last_contact_date", int(lc_late.sum()))
    for col, anchor in (("last_contact_date", v_anchor), ("death_date", death_anchor)):
        vit[col] = impute_dates(
            vit[col],
            vit[f"{col}_precision"],
            field_name=f"vital_status.{col}",
            config=config,
            notes=notes,
            anchor=anchor,
            cutoff=cutoff,
        )
    if cutoff is not None:
        vit["last_contact_date"] = vit["last_contact_date"].where(~lc_late, pd.Timestamp(cutoff))

    ch = _encode(tables.characteristics, ids)
    ch = _drop_after(ch, "assessment_date", "characteristics.assessment_date", cutoff, notes)
    dup = ch.duplicated(["patient_id", "timepoint"], keep=False)
    if dup.any():
        first = ch.loc[dup].iloc[0]
        raise EndpointError(
            f"table 'characteristics': patient {ids[first['patient_id']]!r} has several rows for "
            f"timepoint {first['timepoint']!r} [rule: one row per patient and timepoint]"
        )
    br = _unique_index(_encode(tables.bridging, ids), "bridging", ids)
    tox = _unique_index(_encode(tables.toxicities, ids), "toxicities", ids)
    return Prepared(
        cutoff=cutoff,
        ids=ids,
        patients=pts,
        infusions=inf,
        n_infused_after_cutoff=n_late,
        characteristics=ch,
        bridging=br,
        toxicities=tox,
        assessments=ass.reset_index(drop=True),
        events=ev.reset_index(drop=True),
        lines=lines.reset_index(drop=True),
        vital=vit,
    )
