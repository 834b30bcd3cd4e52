"""Raw registry tables, in the import format, from a simulated cohort.

Every table of ``postcart.registry.schema.TABLES`` is produced as a DataFrame of strings
(columns = field names in schema order; dates ISO; booleans ``yes``/``no``; code lists
``;``-separated; missing = empty string), and ``write_extract`` writes one ``<table>.csv`` per
table. Realistic messiness kept on purpose (all accepted by the import): a share of lab values
in non-canonical units (CRP mg/dL, ferritin ng/mL, albumin g/dL) and bridging start dates given
to the month only (``YYYY-MM``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from postcart.registry.schema import TABLES, TABLES_BY_NAME
from postcart.synth.model import CLASSES, HISTOLOGIES, NEVER, VISIT_NAMES, IntArray
from postcart.synth.observe import ObservedCohort

StrArray = npt.NDArray[np.str_]

RESPONSES = np.array(["cr", "pr", "sd", "pd", "ne"])
BRIDGING = np.array(["none", "low_dose", "conventional", "radiotherapy"])
DEATH_CAUSES = np.array(["lymphoma", "toxicity", "infection", "other"])
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


def iso(days: IntArray) -> StrArray:
    """ISO date strings for integer days since 1970-01-01; ``NEVER`` becomes an empty string."""
    days = np.asarray(days, dtype=np.int64)
    ok = days < NEVER
    out = np.full(days.shape, "", dtype="<U10")
    if ok.any():
        out[ok] = np.datetime_as_string(days[ok].astype("datetime64[D]"), unit="D")
    return out


def _yn(x: npt.NDArray[np.bool_]) -> StrArray:
    return np.where(x, "yes", "no")


def _num(x: npt.NDArray[np.float64], missing: npt.NDArray[np.bool_], *, decimals: int = 1) -> list[str]:
    r = np.round(x, decimals)
    s = pd.Series(r).map(lambda v: f"{v:g}" if decimals else f"{int(v)}")
    return list(np.where(missing, "", s.to_numpy(dtype=object)))


def _int(x: IntArray, missing: npt.NDArray[np.bool_] | None = None) -> StrArray:
    s = x.astype(str)
    return s if missing is None else np.where(missing, "", s)


def _frame(name: str, cols: dict[str, object]) -> pd.DataFrame:
    spec = TABLES_BY_NAME[name]
    nrow = max((len(v) for v in cols.values() if not isinstance(v, str)), default=1)  # type: ignore[arg-type]
    data = {}
    for f in spec.field_names:
        v = cols.get(f, "")
        data[f] = np.full(nrow, v, dtype=object) if isinstance(v, str) else np.asarray(v, dtype=object)
    return pd.DataFrame(data, columns=list(spec.field_names))


def patient_ids(n: int) -> StrArray:
    """Pseudonymous ids ``SYN-0000001`` ... in registration order."""
    width = max(6, len(str(n)))
    return np.char.add("SYN-", np.char.zfill(np.arange(1, n + 1).astype(str), width))


def build_tables(
    obs: ObservedCohort, rng: np.random.Generator, *, extract_id: str, alt_unit_share: float = 0.05
) -> dict[str, pd.DataFrame]:
    """All registry tables (schema order) as string DataFrames in the import format."""
    c = obs.cohort
    n = c.n
    pid = patient_ids(n)
    inf = c.infused
    lc = c.last_contact_day
    out: dict[str, pd.DataFrame] = {}

    out["extract"] = _frame(
        "extract",
        {
            "extract_id": np.array([extract_id]),
            "data_cutoff": iso(np.array([c.cutoff_day])),
            "source": np.array(["postcart.synth (synthetic DESCAR-T-like registry; not real patients)"]),
        },
    )
    cid = np.array([f"C{i:02d}" for i in range(1, N_CENTRES + 1)])
    out["centres"] = _frame(
        "centres",
        {
            "centre_id": cid,
            "centre_name": np.char.add("Synthetic centre ", cid),
            "country": np.full(N_CENTRES, "FR"),
        },
    )
    w = rng.dirichlet(np.full(N_CENTRES, 1.5))
    centre = cid[rng.choice(N_CENTRES, size=n, p=w)]
    dec_year = c.dec_day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    birth_year = dec_year - np.floor(c.age).astype(np.int64) - (rng.random(n) < 0.5)
    prior = np.array(PRIOR_TYPES)
    prior_types = np.where(c.prior_lines >= 3, f"{prior[0]};{prior[1]};{prior[2]}", f"{prior[0]};{prior[1]}")
    prior_types = np.where(c.prior_asct, np.char.add(prior_types, ";auto_sct"), prior_types)
    prior_types = np.where(c.prior_allo, np.char.add(prior_types, ";allo_sct"), prior_types)
    out["patients"] = _frame(
        "patients",
        {
            "patient_id": pid,
            "centre_id": centre,
            "sex": np.where(c.male, "male", "female"),
            "birth_year": birth_year.astype(str),
            "age_at_decision": _num(c.age, np.zeros(n, bool)),
            "registration_date": iso(c.reg_day),
            "decision_date": iso(c.dec_day),
            "indication": "rr_aggressive_bcl",
            "histology": np.array(HISTOLOGIES)[c.histology],
            "prior_lines": c.prior_lines.astype(str),
            "prior_asct": _yn(c.prior_asct),
            "prior_allo": _yn(c.prior_allo),
            "prior_line_types": prior_types,
        },
    )

    # characteristics: decision (all) and D0 (infused)
    zero = np.zeros(n, bool)
    dec_rows = _frame(
        "characteristics",
        {
            "patient_id": pid,
            "timepoint": "decision",
            "assessment_date": iso(c.dec_day),
            "ecog": _int(c.dec_ecog),
            "ann_arbor_stage": _int(c.stage, c.dec_stage_missing),
            "extranodal_sites": _int(c.extranodal),
            "ldh": _num(c.dec_ldh, c.dec_ldh_missing, decimals=0),
            "ldh_uln": _num(c.ldh_uln, zero, decimals=0),
        },
    )
    alt = rng.random((n, 3)) < alt_unit_share
    crp_v = np.where(alt[:, 0], c.crp / 10.0, c.crp)
    alb_v = np.where(alt[:, 2], c.albumin / 10.0, c.albumin)
    d0_rows = _frame(
        "characteristics",
        {
            "patient_id": pid,
            "timepoint": "d0",
            "assessment_date": iso(c.inf_day),
            "ecog": _int(c.d0_ecog, c.d0_ecog_missing),
            "ann_arbor_stage": _int(c.stage),
            "extranodal_sites": _int(c.extranodal),
            "ldh": _num(c.d0_ldh, c.d0_ldh_missing, decimals=0),
            "ldh_uln": _num(c.ldh_uln, c.d0_ldh_missing, decimals=0),
            "albumin": _num(alb_v, c.albumin_missing, decimals=2),
            "albumin_unit": np.where(c.albumin_missing, "", np.where(alt[:, 2], "g/dL", "g/L")),
            "crp": _num(crp_v, c.crp_missing, decimals=2),
            "crp_unit": np.where(c.crp_missing, "", np.where(alt[:, 0], "mg/dL", "mg/L")),
            "ferritin": _num(c.ferritin, c.ferritin_missing, decimals=0),
            "ferritin_unit": np.where(c.ferritin_missing, "", np.where(alt[:, 1], "ng/mL", "ug/L")),
            "disease_status": np.where(c.pet_status >= 0, RESPONSES[np.maximum(c.pet_status, 0)], ""),
            "pet_performed": np.where(c.pet_status >= 0, "yes", "no"),
        },
    )
    out["characteristics"] = pd.concat([dec_rows, d0_rows[inf]], ignore_index=True).sort_values(
        "patient_id", kind="stable", ignore_index=True
    )

    # bridging: every registered patient; pending bridging after the last contact is "none"
    bstart_ok = (c.bridging > 0) & (c.bridge_start <= lc)
    btype = np.where(bstart_ok, c.bridging, 0)
    reg_pick = rng.integers(0, 6, n)
    regimen = _bridging_regimens(btype, reg_pick)
    bdate = iso(np.where(bstart_ok, c.bridge_start, NEVER))
    partial = bstart_ok & (rng.random(n) < 0.03)
    bdate = np.where(partial, np.char.ljust(bdate, 7).astype("<U7"), bdate)
    out["bridging"] = _frame(
        "bridging",
        {"patient_id": pid, "bridging_type": BRIDGING[btype], "regimen": regimen, "start_date": bdate},
    )

    ii = np.flatnonzero(inf)
    ld = np.where(c.axicel[ii] | (rng.random(ii.size) < 0.9), "flu_cy", "bendamustine")
    out["infusions"] = _frame(
        "infusions",
        {
            "patient_id": pid[ii],
            "product": np.where(c.axicel[ii], "axi-cel", "tisa-cel"),
            "lymphodepletion_regimen": ld,
            "lymphodepletion_date": iso(c.lymph_day[ii]),
            "infusion_date": iso(c.inf_day[ii]),
        },
    )

    end_rel = np.minimum(lc, obs.death_day) - c.inf_day
    seen30 = inf & (end_rel >= 30)
    seen90 = inf & (end_rel >= 90)
    out["toxicities"] = _frame(
        "toxicities",
        {
            "patient_id": pid[ii],
            "crs_grade": _int(c.crs[ii]),
            "icans_grade": _int(c.icans[ii]),
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
            "last_contact_date": iso(lc),
            "death_date": iso(obs.death_day),
            "death_cause": np.where(dead, DEATH_CAUSES[c.death_cause], ""),
        },
    )
    return {t.name: out[t.name] for t in TABLES}


def _bridging_regimens(btype: IntArray, pick: IntArray) -> StrArray:
    res = np.full(btype.shape, "", dtype=object)
    for t, names in BRIDGING_REGIMENS.items():
        m = btype == t
        res[m] = np.array(names, dtype=object)[pick[m] % len(names)]
    return res.astype(str)


def _assessments(obs: ObservedCohort, pid: StrArray, rng: np.random.Generator) -> pd.DataFrame:
    c = obs.cohort
    nv = len(VISIT_NAMES)
    pi, vi = np.nonzero(obs.visit_recorded)
    visit = np.array(VISIT_NAMES)[vi]
    day = c.inf_day[pi] + c.visit_days[pi, vi]
    planned = c.inf_day[pi] + np.array([30, 90, 180, 270, 360, 548, 730, 1096])[vi]
    resp = obs.visit_response[pi, vi]
    parts = [(pi, visit, planned, day, resp)]
    # the failure assessment
    fi = np.flatnonzero(obs.failed)
    fvis = obs.failure_visit[fi]
    fvisit = np.where(fvis >= 0, np.array(VISIT_NAMES)[np.maximum(fvis, 0)], "unscheduled")
    fplanned = np.where(
        fvis >= 0,
        c.inf_day[fi] + np.array([30, 90, 180, 270, 360, 548, 730, 1096])[np.maximum(fvis, 0)],
        NEVER,
    )
    parts.append((fi, fvisit, fplanned, obs.failure_day[fi], np.full(fi.size, 3)))
    # salvage evaluation (non-PD response) and the second progression
    ei = np.flatnonzero((obs.salvage_response >= 0) & (obs.salvage_response <= 2))
    parts.append(
        (
            ei,
            np.full(ei.size, "unscheduled"),
            np.full(ei.size, NEVER),
            obs.salvage_response_day[ei],
            obs.salvage_response[ei],
        )
    )
    si = np.flatnonzero(obs.p2_day < NEVER)
    parts.append(
        (si, np.full(si.size, "unscheduled"), np.full(si.size, NEVER), obs.p2_day[si], np.full(si.size, 3))
    )
    p_i = np.concatenate([x[0] for x in parts])
    vis = np.concatenate([x[1].astype(object) for x in parts])
    pl = np.concatenate([x[2] for x in parts])
    dd = np.concatenate([x[3] for x in parts])
    rr = np.concatenate([x[4] for x in parts]).astype(np.int64)
    early = np.isin(vis, ("d30", "d90"))
    modality = np.where(early | (rng.random(p_i.size) < 0.4), "pet", "ct")
    deau = np.where(rr == 0, rng.integers(1, 4, p_i.size), np.where(rr == 3, 5, 4))
    order = np.lexsort((dd, p_i))
    del nv
    return _frame(
        "assessments",
        {
            "patient_id": pid[p_i][order],
            "visit": vis[order],
            "planned_date": iso(pl[order]),
            "assessment_date": iso(dd[order]),
            "response": RESPONSES[rr[order]],
            "modality": modality[order],
            "deauville": np.where(modality[order] == "pet", deau[order].astype(str), ""),
        },
    )


def _disease_events(obs: ObservedCohort, pid: StrArray, rng: np.random.Generator) -> pd.DataFrame:
    c = obs.cohort
    fi = np.flatnonzero(obs.failed)
    responded: npt.NDArray[np.bool_] = np.asarray(
        ((obs.visit_response <= 1) & obs.visit_recorded).any(axis=1)
    )
    nt = np.where(obs.salvage_status == 0, "given", np.where(obs.salvage_status == 1, "none", "unknown"))
    si = np.flatnonzero(obs.p2_day < NEVER)
    s_resp = obs.salvage_response[si]
    nt2 = np.where(
        obs.second_line_day[si] < NEVER, "given", np.where(obs.death_day[si] < NEVER, "none", "unknown")
    )
    p_i = np.concatenate([fi, si])
    day = np.concatenate([obs.failure_day[fi], obs.p2_day[si]])
    etype = np.concatenate(
        [
            np.where(responded[fi], "relapse", "progression"),
            np.where((s_resp == 0) | (s_resp == 1), "relapse", "progression"),
        ]
    )
    nxt = np.concatenate([nt[fi], nt2])
    biopsy = np.where(rng.random(p_i.size) < 0.3, "yes", "no")
    order = np.lexsort((day, p_i))
    del c
    return _frame(
        "disease_events",
        {
            "patient_id": pid[p_i][order],
            "event_date": iso(day[order]),
            "event_type": etype[order],
            "biopsy": biopsy[order],
            "next_treatment": nxt[order],
        },
    )


def _treatment_lines(obs: ObservedCohort, pid: StrArray, rng: np.random.Generator) -> pd.DataFrame:
    c = obs.cohort
    ti = np.flatnonzero(obs.salvage_status == 0)
    cls = obs.salvage_class[ti]
    var = c.regimen_variant[ti]
    reg = np.empty(ti.size, dtype=object)
    comp = np.empty(ti.size, dtype=object)
    for k, name in enumerate(CLASSES):
        m = cls == k
        opts = REGIMENS[name]
        idx = var[m] % len(opts)
        reg[m] = np.array([o[0] for o in opts], dtype=object)[idx]
        comp[m] = np.array([o[1] for o in opts], dtype=object)[idx]
    rt = cls == CLASSES.index("radiotherapy")
    nonloc = rt & ~c.rt_localized[ti]
    reg[nonloc], comp[nonloc] = RT_NOT_LOCALIZED
    start = obs.salvage_start_day[ti]
    stop_at = np.minimum(np.minimum(obs.p2_day[ti], obs.death_day[ti]), start + 120)
    end = np.where(stop_at <= c.last_contact_day[ti], stop_at, NEVER)
    end = np.maximum(end, start)
    resp = obs.salvage_response[ti]
    line1 = {
        "pid": ti,
        "line": np.ones(ti.size, dtype=np.int64),
        "start": start,
        "end": end,
        "regimen": reg,
        "components": comp,
        "rtloc": np.where(rt, _yn(c.rt_localized[ti]), ""),
        "trial": _yn(cls == CLASSES.index("bispecific")),
        "resp": np.where(resp >= 0, RESPONSES[np.maximum(resp, 0)], ""),
        "resp_date": iso(obs.salvage_response_day[ti]),
    }
    si = np.flatnonzero(obs.second_line_day < NEVER)
    k2 = rng.integers(0, 4, si.size)
    opts2 = (
        ("R-GemOx", "rituximab;gemcitabine;oxaliplatin"),
        ("palliative care", "palliative_care"),
        ("trial drug", "trial_drug"),
        ("glofitamab", "glofitamab"),
    )
    line2 = {
        "pid": si,
        "line": np.full(si.size, 2, dtype=np.int64),
        "start": obs.second_line_day[si],
        "end": np.full(si.size, NEVER),
        "regimen": np.array([o[0] for o in opts2], dtype=object)[k2],
        "components": np.array([o[1] for o in opts2], dtype=object)[k2],
        "rtloc": np.full(si.size, ""),
        "trial": _yn(k2 >= 2),
        "resp": np.full(si.size, ""),
        "resp_date": np.full(si.size, ""),
    }
    cat = {k: np.concatenate([np.asarray(line1[k]), np.asarray(line2[k])]) for k in line1}
    order = np.lexsort((cat["line"], cat["pid"]))
    return _frame(
        "treatment_lines",
        {
            "patient_id": pid[cat["pid"][order]],
            "line_number": cat["line"][order].astype(str),
            "start_date": iso(cat["start"][order]),
            "end_date": iso(cat["end"][order]),
            "regimen": cat["regimen"][order],
            "components": cat["components"][order],
            "radiotherapy_localized": cat["rtloc"][order],
            "in_trial": cat["trial"][order],
            "best_response": cat["resp"][order],
            "best_response_date": cat["resp_date"][order],
        },
    )


def write_extract(tables: dict[str, pd.DataFrame], out: Path) -> Path:
    """Write ``<table>.csv`` files into folder ``out`` atomically (all or nothing).

    The folder is built next to ``out`` under a temporary name and renamed into place; an
    existing ``out`` is replaced only when it holds nothing but registry CSV files.
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
        for name, frame in tables.items():
            frame.to_csv(tmp / f"{name}.csv", index=False)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
