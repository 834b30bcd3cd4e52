"""Raw registry tables, in the import format, from a simulated cohort.

Every table of ``postcart.registry.schema.TABLES`` is produced as an Arrow table (columns =
field names in schema order; text and codes as strings, booleans ``yes``/``no``, code lists
``;``-separated, dates as dates, missing values null), and ``write_extract`` writes one
``<table>.csv`` per table (dates ISO, missing = empty cell). Text columns are built from
integer codes (dictionary arrays) so that a million patients take seconds, not minutes.
Realistic messiness kept on purpose (all accepted by the import): a share of lab values
in non-canonical units (CRP mg/dL, ferritin ng/mL, albumin g/dL) and bridging start dates given
to the month only (``YYYY-MM``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv

from postcart.registry.codes import TIMEPOINT
from postcart.registry.schema import TABLES, TABLES_BY_NAME
from postcart.synth.model import CLASSES, HISTOLOGIES, NEVER, VISIT_NAMES, IntArray
from postcart.synth.observe import ObservedCohort

StrArray = npt.NDArray[np.str_]

RESPONSES = ("cr", "pr", "sd", "pd", "ne")
BRIDGING = ("none", "low_dose", "conventional", "radiotherapy")
DEATH_CAUSES = ("lymphoma", "toxicity", "infection", "other")
BRIDGING_REGIMENS: dict[int, tuple[str, ...]] = {
    0: ("",),
    1: ("dexamethasone", "rituximab-dexamethasone", "methylprednisolone"),
    2: ("R-GemOx", "R-DHAX", "R-ICE", "Pola-R-Benda", "R-GDP", "R-CHOP"),
    3: ("involved-site RT",),
}
#: First-salvage regimens per class: (regimen as written, components). Precedence-consistent:
#: a regimen's class under the default mapping is the class it is listed under.
REGIMENS: dict[str, tuple[tuple[str, str], ...]] = {
    "lenalidomide": (
        ("lenalidomide", "lenalidomide"),
        ("R2 (lenalidomide-rituximab)", "lenalidomide;rituximab"),
        ("tafasitamab-lenalidomide", "lenalidomide;tafasitamab"),
    ),
    "bispecific": (
        ("glofitamab", "glofitamab"),
        ("mosunetuzumab", "mosunetuzumab"),
        ("epcoritamab", "epcoritamab"),
        ("odronextamab", "odronextamab"),
    ),
    "targeted": (
        ("ibrutinib", "ibrutinib"),
        ("ibrutinib-rituximab", "ibrutinib;rituximab"),
        ("acalabrutinib", "acalabrutinib"),
        ("venetoclax", "venetoclax"),
        ("selinexor", "selinexor"),
        ("tazemetostat", "tazemetostat"),
    ),
    "radiotherapy": (("involved-site RT", "radiotherapy"),),
    "immunochemotherapy": (
        ("R-DHAX", "rituximab;cytarabine;oxaliplatin;steroids"),
        ("R-ICE", "rituximab;ifosfamide;carboplatin;etoposide"),
        ("Pola-R-Benda", "polatuzumab_vedotin;rituximab;bendamustine"),
        ("R-GemOx", "rituximab;gemcitabine;oxaliplatin"),
        ("R-GDP", "rituximab;gemcitabine;cisplatin;steroids"),
    ),
    "other": (
        ("rituximab", "rituximab"),
        ("nivolumab", "nivolumab"),
        ("pembrolizumab", "pembrolizumab"),
    ),
}
RT_NOT_LOCALIZED = ("RT + steroids", "radiotherapy;steroids")
PRIOR_TYPES = (
    "rituximab;cyclophosphamide;doxorubicin;vincristine;steroids",
    "rituximab;cytarabine;cisplatin;steroids",
    "rituximab;gemcitabine;oxaliplatin",
    "rituximab;ifosfamide;carboplatin;etoposide",
)
N_CENTRES = 30


class Coded:
    """A coded text column: integer codes into ``labels`` (-1 = missing)."""

    __slots__ = ("codes", "labels")

    def __init__(self, codes: npt.ArrayLike, labels: Sequence[str] | pa.Array) -> None:
        self.codes = np.asarray(codes, dtype=np.int64)
        self.labels = labels

    def __len__(self) -> int:
        return int(self.codes.size)

    def take(self, idx: npt.ArrayLike) -> Coded:
        return Coded(self.codes[np.asarray(idx)], self.labels)

    def to_arrow(self) -> pa.Array:
        labels = (
            self.labels if isinstance(self.labels, pa.Array) else pa.array(list(self.labels), pa.string())
        )
        missing = self.codes < 0
        idx = pa.array(np.where(missing, 0, self.codes).astype(np.int32), mask=missing)
        return pa.DictionaryArray.from_arrays(idx, labels)


def _code(flag_or_index: npt.ArrayLike, labels: Sequence[str], missing: npt.ArrayLike | None = None) -> Coded:
    """``labels[i]`` for each index (booleans index 0/1); ``missing`` rows become empty."""
    idx = np.asarray(flag_or_index).astype(np.int64)
    if missing is not None:
        idx = np.where(np.asarray(missing, dtype=bool), -1, idx)
    return Coded(idx, labels)


def _yn(x: npt.NDArray[np.bool_], missing: npt.ArrayLike | None = None) -> Coded:
    return _code(x, ("no", "yes"), missing)


def _dates(days: IntArray) -> npt.NDArray[np.datetime64]:
    """Dates for integer days since 1970-01-01; ``NEVER`` becomes missing (NaT)."""
    days = np.asarray(days, dtype=np.int64)
    out = days.astype("datetime64[D]")
    out[days >= NEVER] = np.datetime64("NaT")
    return out


def iso_text(days: IntArray) -> StrArray:
    """ISO date strings for integer days since 1970-01-01; ``NEVER`` becomes an empty string."""
    days = np.asarray(days, dtype=np.int64)
    ok = days < NEVER
    out = np.full(days.shape, "", dtype="<U10")
    if ok.any():
        out[ok] = np.datetime_as_string(days[ok].astype("datetime64[D]"), unit="D")
    return out


def _num(x: npt.NDArray[np.float64], missing: npt.ArrayLike, *, decimals: int = 1) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = np.where(np.asarray(missing, dtype=bool), np.nan, np.round(x, decimals))
    return out


def _int(x: IntArray, missing: npt.ArrayLike | None = None) -> np.ma.MaskedArray[Any, Any]:
    mask = np.zeros(np.shape(x), dtype=bool) if missing is None else np.asarray(missing, dtype=bool)
    return np.ma.MaskedArray(np.asarray(x, dtype=np.int64), mask=mask)


def _arrow(v: object, nrow: int) -> pa.Array:
    if isinstance(v, Coded):
        return v.to_arrow()
    if isinstance(v, str):
        return pa.nulls(nrow, pa.string()) if v == "" else Coded(np.zeros(nrow, np.int64), [v]).to_arrow()
    if isinstance(v, np.ma.MaskedArray):
        return pa.array(np.ma.getdata(v), mask=np.ma.getmaskarray(v))
    arr = np.asarray(v)
    if arr.dtype.kind == "M":
        return pa.array(arr.astype("datetime64[D]"), pa.date32())
    if arr.dtype.kind == "f":
        return pa.array(arr, from_pandas=True)
    if arr.dtype.kind in "iu":
        return pa.array(arr)
    text = arr.astype(str)
    return pa.array(text.tolist(), pa.string(), mask=text == "")


def _take(v: object, idx: IntArray) -> object:
    if isinstance(v, str):
        return v
    if isinstance(v, Coded):
        return v.take(idx)
    return np.asarray(v)[idx] if not isinstance(v, np.ma.MaskedArray) else v[idx]


def _frame(name: str, cols: dict[str, object], order: npt.ArrayLike | None = None) -> pa.Table:
    """A table of the schema ``name`` (fields in schema order, absent fields empty)."""
    spec = TABLES_BY_NAME[name]
    nrow = max((len(v) for v in cols.values() if not isinstance(v, str)), default=1)  # type: ignore[arg-type]
    if order is not None:
        idx = np.asarray(order, dtype=np.int64)
        cols = {k: _take(v, idx) for k, v in cols.items()}
    arrays = [_arrow(cols.get(f, ""), nrow) for f in spec.field_names]
    return pa.Table.from_arrays(arrays, names=list(spec.field_names))


def patient_ids(n: int) -> pa.Array:
    """Pseudonymous ids ``SYN-000001`` ... in registration order."""
    width = max(6, len(str(n)))
    return pa.array([f"SYN-{i:0{width}d}" for i in range(1, n + 1)], pa.string())


def build_tables(
    obs: ObservedCohort, rng: np.random.Generator, *, extract_id: str, alt_unit_share: float = 0.05
) -> dict[str, pa.Table]:
    """All registry tables (schema order) as Arrow tables, ready for ``write_extract``.

    Columns are the schema's fields: text and codes as strings, dates as dates, numbers as
    numbers, missing values as nulls (written as empty cells).
    """
    c = obs.cohort
    n = c.n
    pid = Coded(np.arange(n), patient_ids(n))
    inf = c.infused
    lc = c.last_contact_day
    out: dict[str, pa.Table] = {}

    out["extract"] = _frame(
        "extract",
        {
            "extract_id": np.array([extract_id]),
            "data_cutoff": _dates(np.array([c.cutoff_day])),
            "source": np.array(["postcart.synth (synthetic DESCAR-T-like registry; not real patients)"]),
        },
    )
    cid = [f"C{i:02d}" for i in range(1, N_CENTRES + 1)]
    out["centres"] = _frame(
        "centres",
        {
            "centre_id": np.array(cid),
            "centre_name": np.array([f"Synthetic centre {x}" for x in cid]),
            "country": np.full(N_CENTRES, "FR"),
        },
    )
    w = rng.dirichlet(np.full(N_CENTRES, 1.5))
    centre = Coded(rng.choice(N_CENTRES, size=n, p=w), cid)
    dec_year = c.dec_day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    birth_year = dec_year - np.floor(c.age).astype(np.int64) - (rng.random(n) < 0.5)
    p0, p1, p2 = PRIOR_TYPES[0], PRIOR_TYPES[1], PRIOR_TYPES[2]
    prior_labels = []
    for three in (False, True):
        for auto in (False, True):
            for allo in (False, True):
                text = f"{p0};{p1};{p2}" if three else f"{p0};{p1}"
                text += ";auto_sct" if auto else ""
                text += ";allo_sct" if allo else ""
                prior_labels.append(text)
    prior_idx = 4 * (c.prior_lines >= 3) + 2 * c.prior_asct + c.prior_allo
    out["patients"] = _frame(
        "patients",
        {
            "patient_id": pid,
            "centre_id": centre,
            "sex": _code(~c.male, ("male", "female")),
            "birth_year": birth_year,
            "age_at_decision": _num(c.age, np.zeros(n, bool)),
            "registration_date": _dates(c.reg_day),
            "decision_date": _dates(c.dec_day),
            "indication": "rr_aggressive_bcl",
            "histology": Coded(c.histology, HISTOLOGIES),
            "prior_lines": c.prior_lines,
            "prior_asct": _yn(c.prior_asct),
            "prior_allo": _yn(c.prior_allo),
            "prior_line_types": Coded(prior_idx, prior_labels),
        },
    )

    # characteristics: decision (every patient) and D0 (infused), ordered by patient
    ii = np.flatnonzero(inf)
    alt = rng.random((n, 3)) < alt_unit_share
    crp_v = np.where(alt[:, 0], c.crp / 10.0, c.crp)
    alb_v = np.where(alt[:, 2], c.albumin / 10.0, c.albumin)
    rows = np.concatenate([np.arange(n), ii])
    at_d0 = np.concatenate([np.zeros(n, bool), np.ones(ii.size, bool)])
    r = rows
    d0 = at_d0
    order = np.lexsort((d0, r))
    missing_lab = ~d0
    out["characteristics"] = _frame(
        "characteristics",
        {
            "patient_id": pid.take(r),
            "timepoint": _code(d0.astype(np.int64) * 2, TIMEPOINT),
            "assessment_date": _dates(np.where(d0, c.inf_day[r], c.dec_day[r])),
            "ecog": _int(np.where(d0, c.d0_ecog[r], c.dec_ecog[r]), d0 & c.d0_ecog_missing[r]),
            "ann_arbor_stage": _int(c.stage[r], ~d0 & c.dec_stage_missing[r]),
            "extranodal_sites": _int(c.extranodal[r]),
            "ldh": _num(
                np.where(d0, c.d0_ldh[r], c.dec_ldh[r]),
                np.where(d0, c.d0_ldh_missing[r], c.dec_ldh_missing[r]),
                decimals=0,
            ),
            "ldh_uln": _num(c.ldh_uln[r], d0 & c.d0_ldh_missing[r], decimals=0),
            "albumin": _num(alb_v[r], missing_lab | c.albumin_missing[r], decimals=2),
            "albumin_unit": _code(alt[r, 2], ("g/L", "g/dL"), missing_lab | c.albumin_missing[r]),
            "crp": _num(crp_v[r], missing_lab | c.crp_missing[r], decimals=2),
            "crp_unit": _code(alt[r, 0], ("mg/L", "mg/dL"), missing_lab | c.crp_missing[r]),
            "ferritin": _num(c.ferritin[r], missing_lab | c.ferritin_missing[r], decimals=0),
            "ferritin_unit": _code(alt[r, 1], ("ug/L", "ng/mL"), missing_lab | c.ferritin_missing[r]),
            "disease_status": _code(
                np.maximum(c.pet_status[r], 0), RESPONSES, missing_lab | (c.pet_status[r] < 0)
            ),
            "pet_performed": _yn(c.pet_status[r] >= 0, missing_lab),
        },
        order,
    )

    # bridging: every registered patient; pending bridging after the last contact is "none"
    bstart_ok = (c.bridging > 0) & (c.bridge_start <= lc)
    btype = np.where(bstart_ok, c.bridging, 0)
    reg_pick = rng.integers(0, 6, n)
    bdate = iso_text(np.where(bstart_ok, c.bridge_start, NEVER))
    partial = bstart_ok & (rng.random(n) < 0.03)
    bdate = np.where(partial, np.char.ljust(bdate, 7).astype("<U7"), bdate)
    out["bridging"] = _frame(
        "bridging",
        {
            "patient_id": pid,
            "bridging_type": Coded(btype, BRIDGING),
            "regimen": _bridging_regimens(btype, reg_pick),
            "start_date": bdate,
        },
    )

    out["infusions"] = _frame(
        "infusions",
        {
            "patient_id": pid.take(ii),
            "product": _code(~c.axicel[ii], ("axi-cel", "tisa-cel")),
            "lymphodepletion_regimen": _code(
                ~(c.axicel[ii] | (rng.random(ii.size) < 0.9)), ("flu_cy", "bendamustine")
            ),
            "lymphodepletion_date": _dates(c.lymph_day[ii]),
            "infusion_date": _dates(c.inf_day[ii]),
        },
    )

    end_rel = np.minimum(lc, obs.death_day) - c.inf_day
    seen30 = inf & (end_rel >= 30)
    seen90 = inf & (end_rel >= 90)
    out["toxicities"] = _frame(
        "toxicities",
        {
            "patient_id": pid.take(ii),
            "crs_grade": c.crs[ii],
            "icans_grade": c.icans[ii],
            "cytopenia_d30_grade": _int(c.cyto_d30[ii], ~seen30[ii]),
            "cytopenia_d90_grade": _int(c.cyto_d90[ii], ~seen90[ii]),
        },
    )

    out["assessments"] = _assessments(obs, pid, rng)
    out["disease_events"] = _disease_events(obs, pid, rng)
    out["treatment_lines"] = _treatment_lines(obs, pid, rng)

    dead = obs.death_day < NEVER
    out["vital_status"] = _frame(
        "vital_status",
        {
            "patient_id": pid,
            "last_contact_date": _dates(lc),
            "death_date": _dates(obs.death_day),
            "death_cause": Coded(np.where(dead, c.death_cause, -1), DEATH_CAUSES),
        },
    )
    return {t.name: out[t.name] for t in TABLES}


def _bridging_regimens(btype: IntArray, pick: IntArray) -> Coded:
    labels: list[str] = []
    idx = np.full(btype.shape, -1, dtype=np.int64)
    for t, names in BRIDGING_REGIMENS.items():
        m = btype == t
        idx[m] = len(labels) + pick[m] % len(names)
        labels.extend(names)
    idx = np.where(btype == 0, -1, idx)
    return Coded(idx, labels)


PLANNED = np.array([30, 90, 180, 270, 360, 548, 730, 1096])
VISIT_LABELS = (*VISIT_NAMES, "unscheduled")
UNSCHEDULED = len(VISIT_NAMES)


def _assessments(obs: ObservedCohort, pid: Coded, rng: np.random.Generator) -> pa.Table:
    c = obs.cohort
    pi, vi = np.nonzero(obs.visit_recorded)
    parts = [
        (
            pi,
            vi,
            c.inf_day[pi] + PLANNED[vi],
            c.inf_day[pi] + c.visit_days[pi, vi],
            obs.visit_response[pi, vi],
        )
    ]
    # the failure assessment
    fi = np.flatnonzero(obs.failed)
    fvis = obs.failure_visit[fi]
    fplanned = np.where(fvis >= 0, c.inf_day[fi] + PLANNED[np.maximum(fvis, 0)], NEVER)
    parts.append(
        (fi, np.where(fvis >= 0, fvis, UNSCHEDULED), fplanned, obs.failure_day[fi], np.full(fi.size, 3))
    )
    # salvage evaluation (non-PD response) and the second progression
    ei = np.flatnonzero((obs.salvage_response >= 0) & (obs.salvage_response <= 2))
    parts.append(
        (
            ei,
            np.full(ei.size, UNSCHEDULED),
            np.full(ei.size, NEVER),
            obs.salvage_response_day[ei],
            obs.salvage_response[ei],
        )
    )
    si = np.flatnonzero(obs.p2_day < NEVER)
    parts.append(
        (si, np.full(si.size, UNSCHEDULED), np.full(si.size, NEVER), obs.p2_day[si], np.full(si.size, 3))
    )
    p_i = np.concatenate([x[0] for x in parts])
    vis = np.concatenate([x[1] for x in parts]).astype(np.int64)
    pl = np.concatenate([x[2] for x in parts])
    dd = np.concatenate([x[3] for x in parts])
    rr = np.concatenate([x[4] for x in parts]).astype(np.int64)
    pet = (vis <= 1) | (rng.random(p_i.size) < 0.4)
    deau = np.where(rr == 0, rng.integers(1, 4, p_i.size), np.where(rr == 3, 5, 4))
    order = np.lexsort((dd, p_i))
    return _frame(
        "assessments",
        {
            "patient_id": pid.take(p_i),
            "visit": Coded(vis, VISIT_LABELS),
            "planned_date": _dates(pl),
            "assessment_date": _dates(dd),
            "response": Coded(rr, RESPONSES),
            "modality": _code(~pet, ("pet", "ct")),
            "deauville": _int(deau, ~pet),
        },
        order,
    )


def _disease_events(obs: ObservedCohort, pid: Coded, rng: np.random.Generator) -> pa.Table:
    fi = np.flatnonzero(obs.failed)
    responded: npt.NDArray[np.bool_] = np.asarray(
        ((obs.visit_response <= 1) & obs.visit_recorded).any(axis=1)
    )
    nt = np.where(obs.salvage_status == 0, 0, np.where(obs.salvage_status == 1, 1, 2))
    si = np.flatnonzero(obs.p2_day < NEVER)
    s_resp = obs.salvage_response[si]
    nt2 = np.where(obs.second_line_day[si] < NEVER, 0, np.where(obs.death_day[si] < NEVER, 1, 2))
    p_i = np.concatenate([fi, si])
    day = np.concatenate([obs.failure_day[fi], obs.p2_day[si]])
    relapse = np.concatenate([responded[fi], (s_resp == 0) | (s_resp == 1)])
    order = np.lexsort((day, p_i))
    return _frame(
        "disease_events",
        {
            "patient_id": pid.take(p_i),
            "event_date": _dates(day),
            "event_type": _code(relapse, ("progression", "relapse")),
            "biopsy": _yn(rng.random(p_i.size) < 0.3),
            "next_treatment": Coded(np.concatenate([nt[fi], nt2]), ("given", "none", "unknown")),
        },
        order,
    )


def _treatment_lines(obs: ObservedCohort, pid: Coded, rng: np.random.Generator) -> pa.Table:
    c = obs.cohort
    ti = np.flatnonzero(obs.salvage_status == 0)
    cls = obs.salvage_class[ti]
    var = c.regimen_variant[ti]
    labels: list[tuple[str, str]] = []
    reg_idx = np.full(ti.size, -1, dtype=np.int64)
    for k, name in enumerate(CLASSES):
        m = cls == k
        opts = REGIMENS[name]
        reg_idx[m] = len(labels) + var[m] % len(opts)
        labels.extend(opts)
    rt = cls == CLASSES.index("radiotherapy")
    nonloc = rt & ~c.rt_localized[ti]
    reg_idx[nonloc] = len(labels)
    labels.append(RT_NOT_LOCALIZED)
    start = obs.salvage_start_day[ti]
    stop_at = np.minimum(np.minimum(obs.p2_day[ti], obs.death_day[ti]), start + 120)
    end = np.where(stop_at <= c.last_contact_day[ti], stop_at, NEVER)
    resp = obs.salvage_response[ti]
    si = np.flatnonzero(obs.second_line_day < NEVER)
    opts2 = (
        ("R-GemOx", "rituximab;gemcitabine;oxaliplatin"),
        ("palliative care", "palliative_care"),
        ("trial drug", "trial_drug"),
        ("glofitamab", "glofitamab"),
    )
    k2 = rng.integers(0, len(opts2), si.size)
    all_labels = labels + list(opts2)
    p_i = np.concatenate([ti, si])
    line = np.concatenate([np.ones(ti.size, np.int64), np.full(si.size, 2, np.int64)])
    ridx = np.concatenate([reg_idx, len(labels) + k2])
    order = np.lexsort((line, p_i))
    return _frame(
        "treatment_lines",
        {
            "patient_id": pid.take(p_i),
            "line_number": line,
            "start_date": _dates(np.concatenate([start, obs.second_line_day[si]])),
            "end_date": _dates(np.concatenate([end, np.full(si.size, NEVER)])),
            "regimen": Coded(ridx, [a for a, _ in all_labels]),
            "components": Coded(ridx, [b for _, b in all_labels]),
            "radiotherapy_localized": _yn(
                np.concatenate([c.rt_localized[ti], np.zeros(si.size, bool)]),
                np.concatenate([~rt, np.ones(si.size, bool)]),
            ),
            "in_trial": _yn(np.concatenate([cls == CLASSES.index("bispecific"), k2 >= 2])),
            "best_response": Coded(np.concatenate([resp, np.full(si.size, -1)]), RESPONSES),
            "best_response_date": _dates(
                np.concatenate([obs.salvage_response_day[ti], np.full(si.size, NEVER)])
            ),
        },
        order,
    )


def write_extract(tables: Mapping[str, pa.Table], out: Path) -> Path:
    """Write ``<table>.csv`` files into folder ``out`` atomically (all or nothing).

    The folder is built next to ``out`` under a temporary name and renamed into place; an
    existing ``out`` is replaced only when it holds nothing but registry CSV files. Dates are
    written ISO, missing values as empty cells, text quoted.
    """
    out = Path(out)
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        allowed = {f"{t.name}.csv" for t in TABLES}
        extra = [p.name for p in out.iterdir() if p.name not in allowed] if out.is_dir() else [out.name]
        if extra:
            raise FileExistsError(
                f"{out}: exists and holds files that are not registry tables: {sorted(extra)[:5]}"
            )
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    try:
        for name, table in tables.items():
            pacsv.write_csv(table, tmp / f"{name}.csv", pacsv.WriteOptions(quoting_style="needed"))
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
