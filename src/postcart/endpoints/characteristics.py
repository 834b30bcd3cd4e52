"""Baseline characteristics at decision and at D0: binary factors, IPI, aaIPI, canonical units.

Rules:

* ``age_years`` = ``patients.age_at_decision``; when missing and ``birth_year`` is known,
  ``year(decision_date) - birth_year - 0.5`` (counted ``age_from_birth_year``).
  ``age_d0_years`` = ``age_years + (D0 - decision_date) / 365.25 days``.
* ``*_ecog_ge2`` = ECOG >= 2; ``*_stage_3_4`` = Ann Arbor stage III-IV; ``*_extranodal_gt1`` =
  more than 1 extranodal site; ``*_ldh_high`` = ``ldh > ldh_uln`` (NA when either is missing).
* **IPI** (0-5) = (age > 60) + stage III-IV + LDH > ULN + ECOG >= 2 + > 1 extranodal site;
  **aaIPI** (0-3) = stage III-IV + LDH > ULN + ECOG >= 2; NA when any needed component is
  missing. The age used is ``age_years`` at decision and ``age_d0_years`` at D0.
  ``*_aaipi_2_3`` = aaIPI >= 2.
* Albumin, CRP and ferritin are converted to g/L, mg/L and ug/L with
  ``postcart.registry.codes.UNIT_FACTORS``; a value without unit is taken as already canonical
  (counted ``<field>_unit_missing_assumed_canonical``). ``d0_crp_scaled`` and
  ``d0_ferritin_scaled`` divide by the configured analysis scales.
* ``d0_pd`` = disease status at D0 is PD; ``bridged`` = bridging type other than ``none``;
  ``cytopenia_d30_ge3``/``cytopenia_d90_ge3`` = worst cytopenia grade >= 3.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from postcart.endpoints.config import EndpointConfig
from postcart.endpoints.dates import ColumnCollector, NoteCounter
from postcart.registry.codes import UNIT_FACTORS

_TIMEPOINTS: dict[str, str] = {"decision": "dec", "d0": "d0"}


def _cmp(values: pd.Series, valid: pd.Series) -> pd.arrays.BooleanArray:
    arr = pd.array(values.fillna(False).astype(bool).to_numpy(), dtype="boolean")
    arr[~valid.fillna(False).astype(bool).to_numpy()] = pd.NA
    return arr


def _ge(values: pd.Series, threshold: float) -> pd.arrays.BooleanArray:
    v = pd.to_numeric(values).astype("float64")
    return _cmp(v >= threshold, v.notna())


def _gt(values: pd.Series, threshold: float | pd.Series) -> pd.arrays.BooleanArray:
    v = pd.to_numeric(values).astype("float64")
    t = threshold if not isinstance(threshold, pd.Series) else pd.to_numeric(threshold).astype("float64")
    valid = v.notna() & (t.notna() if isinstance(t, pd.Series) else True)
    return _cmp(v > t, valid)


def _score(*factors: pd.arrays.BooleanArray) -> pd.Series:
    total = pd.Series(pd.array(np.zeros(len(factors[0]), dtype=np.int64), dtype="Int64"))
    for f in factors:
        total = total + pd.Series(f).astype("Int64")
    return total


def _canonical(value: pd.Series, unit: pd.Series, field_name: str, notes: NoteCounter) -> pd.Series:
    factor = unit.map(UNIT_FACTORS)
    no_unit = value.notna() & unit.isna()
    notes.add("other", f"{field_name}_unit_missing_assumed_canonical", int(no_unit.sum()))
    factor = factor.where(unit.notna(), 1.0).astype("float64")
    return value.astype("float64") * factor


def derive_characteristics(
    patients: pd.DataFrame,
    d0: pd.Series,
    characteristics: pd.DataFrame,
    bridging: pd.DataFrame,
    toxicities: pd.DataFrame,
    *,
    config: EndpointConfig,
    notes: NoteCounter,
) -> ColumnCollector:
    """Characteristic columns per patient (index = ``patients.index``)."""
    index = patients.index
    out = ColumnCollector(index)
    out["sex"] = patients["sex"].astype(object)
    age = patients["age_at_decision"].astype("float64")
    by_year = patients["decision_date"].dt.year - patients["birth_year"].astype("float64") - 0.5
    from_year = age.isna() & by_year.notna()
    notes.add("other", "age_from_birth_year", int(from_year.sum()))
    age = age.where(~from_year, by_year)
    out["age_years"] = age
    d0i = d0.reindex(index)
    out["age_d0_years"] = age + (d0i - patients["decision_date"]).dt.days / 365.25
    out["indication"] = patients["indication"].astype(object)
    out["histology"] = patients["histology"].astype(object)
    out["prior_lines"] = patients["prior_lines"].astype("Int64")
    out["prior_lines_gt3"] = _gt(patients["prior_lines"], 3)
    out["prior_asct"] = patients["prior_asct"].astype("boolean")
    out["prior_allo"] = patients["prior_allo"].astype("boolean")
    out["prior_transplant"] = out["prior_asct"] | out["prior_allo"]

    ages = {"dec": out["age_years"], "d0": out["age_d0_years"]}
    for tp, p in _TIMEPOINTS.items():
        rows = characteristics.loc[characteristics["timepoint"].eq(tp).to_numpy()]
        c = rows.set_index("patient_id").reindex(index)
        out[f"{p}_ecog"] = c["ecog"].astype("Int64")
        out[f"{p}_ecog_ge2"] = _ge(c["ecog"], 2)
        out[f"{p}_stage"] = c["ann_arbor_stage"].astype("Int64")
        out[f"{p}_stage_3_4"] = _ge(c["ann_arbor_stage"], 3)
        out[f"{p}_extranodal_sites"] = c["extranodal_sites"].astype("Int64")
        out[f"{p}_extranodal_gt1"] = _gt(c["extranodal_sites"], 1)
        out[f"{p}_ldh_u_l"] = c["ldh"].astype("float64")
        out[f"{p}_ldh_uln_u_l"] = c["ldh_uln"].astype("float64")
        out[f"{p}_ldh_high"] = _gt(c["ldh"], c["ldh_uln"])
        age_gt = _gt(ages[p], config.ipi_age_threshold_years)
        out[f"{p}_ipi"] = _score(
            age_gt,
            out[f"{p}_stage_3_4"].array,
            out[f"{p}_ldh_high"].array,
            out[f"{p}_ecog_ge2"].array,
            out[f"{p}_extranodal_gt1"].array,
        ).to_numpy()
        out[f"{p}_aaipi"] = _score(
            out[f"{p}_stage_3_4"].array, out[f"{p}_ldh_high"].array, out[f"{p}_ecog_ge2"].array
        ).to_numpy()
        out[f"{p}_ipi"] = out[f"{p}_ipi"].astype("Int64")
        out[f"{p}_aaipi"] = out[f"{p}_aaipi"].astype("Int64")
        out[f"{p}_aaipi_2_3"] = _ge(out[f"{p}_aaipi"], 2)
        if p == "d0":
            out["d0_albumin_g_l"] = _canonical(c["albumin"], c["albumin_unit"], "d0_albumin", notes)
            out["d0_crp_mg_l"] = _canonical(c["crp"], c["crp_unit"], "d0_crp", notes)
            out["d0_ferritin_ug_l"] = _canonical(c["ferritin"], c["ferritin_unit"], "d0_ferritin", notes)
            out["d0_crp_scaled"] = out["d0_crp_mg_l"] / config.crp_scale_mg_l
            out["d0_ferritin_scaled"] = out["d0_ferritin_ug_l"] / config.ferritin_scale_ug_l
            status = c["disease_status"].astype(object)
            out["d0_disease_status"] = status.where(status.notna(), None)
            out["d0_pd"] = _cmp(status.eq("pd"), status.notna())
            out["d0_pet_performed"] = c["pet_performed"].astype("boolean")

    bt = bridging["bridging_type"].reindex(index).astype(object)
    out["bridging_type"] = bt.where(bt.notna(), None)
    out["bridged"] = _cmp(bt.ne("none"), bt.notna())
    tox = toxicities.reindex(index)
    out["crs_grade"] = tox["crs_grade"].astype("Int64")
    out["icans_grade"] = tox["icans_grade"].astype("Int64")
    out["cytopenia_d30_ge3"] = _ge(tox["cytopenia_d30_grade"], 3)
    out["cytopenia_d90_ge3"] = _ge(tox["cytopenia_d90_grade"], 3)
    return out
