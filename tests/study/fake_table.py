"""A tiny seeded simulator of the endpoints analysis table, FOR TESTS ONLY.

It produces a DataFrame with the columns of the analysis-table contract
(``postcart.endpoints.derive_endpoints(...).table``), one row per registered patient, with
sizes and rates loosely like DESCAR-T. It is not calibrated and carries no statistics of its
own; it only gives the study runner and the report realistic shapes to work on (missing
values, small classes, a class without events, ties).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DAYS_PER_MONTH = 365.25 / 12
CLASSES = ("lenalidomide", "bispecific", "targeted", "radiotherapy", "immunochemotherapy", "other")
CLASS_P = (0.38, 0.07, 0.21, 0.11, 0.20, 0.03)


def _bool(values: np.ndarray, missing: np.ndarray | None = None) -> pd.Series:
    s = pd.Series(values.astype(bool), dtype="boolean")
    if missing is not None:
        s[missing] = pd.NA
    return s


def fake_analysis_table(n_registered: int = 680, *, seed: int = 1) -> pd.DataFrame:
    """Simulate an analysis table with ``n_registered`` rows (seeded, deterministic)."""
    rng = np.random.default_rng(seed)
    n = n_registered
    pid = np.array([f"FAKE-{i:06d}" for i in range(n)], dtype=object)
    infused = rng.random(n) < 0.81
    product = np.where(rng.random(n) < 0.64, "axi-cel", "tisa-cel").astype(object)
    product[~infused] = None
    reg = pd.Timestamp("2018-08-01") + pd.to_timedelta(rng.integers(0, 960, n), unit="D")
    d0 = reg + pd.to_timedelta(rng.integers(20, 60, n), unit="D")
    cutoff = pd.Timestamp("2021-04-12")
    pot_fu_days = np.maximum((cutoff - d0).days.to_numpy(), 1)

    # CAR-T failure: 43 % of infused, timing mixture so that groups are all populated.
    p_fail = np.where(product == "tisa-cel", 0.51, 0.39)
    failed = infused & (rng.random(n) < p_fail)
    comp = rng.choice(3, n, p=[0.227, 0.429, 0.344])
    days = np.where(
        comp == 0,
        rng.integers(5, 30, n),
        np.where(comp == 1, rng.integers(31, 90, n), rng.integers(91, 600, n)),
    )
    days = np.minimum(days, pot_fu_days)
    failed &= days < pot_fu_days  # failures after the cut-off are not failures
    days_f = np.where(failed, days, np.nan)
    timing = np.where(days_f <= 30, "very_early", np.where(days_f <= 90, "early", "late")).astype(object)
    timing[~failed] = None

    # salvage
    u = rng.random(n)
    status = np.where(u < 0.647, "treated", np.where(u < 0.85, "none", "unknown")).astype(object)
    status[~failed] = None
    treated = status == "treated"
    klass = rng.choice(np.array(CLASSES, dtype=object), n, p=CLASS_P)
    klass[~treated] = None
    evaluable = treated & (rng.random(n) < 0.78)
    resp = rng.choice(
        np.array(["cr", "pr", "sd", "pd", "ne"], dtype=object), n, p=[0.07, 0.075, 0.01, 0.705, 0.14]
    )
    resp[~evaluable] = None

    # PFS-2 / OS-2 after failure: shorter when very early or untreated; lenalidomide better.
    scale_os = 7.0 * np.where(timing == "very_early", 0.35, 1.0) * np.where(treated, 1.3, 0.6)
    scale_os *= np.where(klass == "lenalidomide", 1.5, 1.0)
    os2 = rng.exponential(scale_os)
    pfs2 = np.minimum(os2, rng.exponential(scale_os * 0.5))
    fu_after = (pot_fu_days - np.nan_to_num(days_f)) / DAYS_PER_MONTH
    cens = np.minimum(fu_after, rng.exponential(30.0, n))
    os2_event = os2 <= cens
    os2_m = np.minimum(os2, cens)
    pfs2_event = pfs2 <= cens
    pfs2_m = np.minimum(pfs2, cens)
    # bispecific: no PFS-2 event at all (monotone likelihood in the PFS-2 Cox model)
    bis = klass == "bispecific"
    pfs2_event[bis] = False
    for arr in (os2_m, pfs2_m):
        arr[~failed] = np.nan

    # PFS / OS from D0 (infused)
    pfs_m = np.where(failed, days_f / DAYS_PER_MONTH, pot_fu_days / DAYS_PER_MONTH * rng.uniform(0.3, 1, n))
    pfs_e = failed.copy()
    nonprog_death = infused & ~failed & (rng.random(n) < 0.15)
    pfs_e |= nonprog_death
    os_m = np.where(failed, days_f / DAYS_PER_MONTH + os2_m, pfs_m)
    os_e = np.where(failed, os2_event, nonprog_death)

    best = rng.choice(
        np.array(["cr", "pr", "sd", "pd", "ne"], dtype=object), n, p=[0.45, 0.2, 0.05, 0.2, 0.1]
    )
    best[~infused] = None
    responder = np.isin(best, ["cr", "pr"])
    dor_m = np.where(responder, np.maximum(pfs_m - 1.0, 0.03), np.nan)
    dor_e = responder & pfs_e

    age = np.round(rng.normal(60, 11, n), 0)
    ecog_dec = rng.choice(4, n, p=[0.4, 0.41, 0.15, 0.04]).astype(float)
    ecog_d0 = np.clip(ecog_dec + rng.choice([-1, 0, 1], n, p=[0.1, 0.7, 0.2]), 0, 4)
    stage = rng.choice(4, n, p=[0.1, 0.15, 0.2, 0.55]) + 1
    ldh_miss = rng.random(n) < 0.22
    ldh = rng.random(n) < 0.4
    aaipi = rng.choice(4, n, p=[0.15, 0.3, 0.35, 0.2]).astype(float)
    aaipi_miss = rng.random(n) < 0.07
    crp = np.round(rng.lognormal(3.0, 1.0, n), 1)
    crp_miss = rng.random(n) < 0.1
    ferr = np.round(rng.lognormal(6.5, 0.9, n), 0)
    ferr_miss = rng.random(n) < 0.12
    bridging = rng.choice(
        np.array(["none", "low_dose", "conventional", "radiotherapy"], dtype=object),
        n,
        p=[0.12, 0.1, 0.74, 0.04],
    )
    prior_lines = rng.choice([2, 3, 4, 5, 6], n, p=[0.2, 0.23, 0.3, 0.17, 0.1])
    prior_asct = rng.random(n) < 0.19
    prior_allo = rng.random(n) < 0.01
    cyto30 = rng.random(n) < np.where(product == "axi-cel", 0.5, 0.3)
    cyto30_miss = rng.random(n) < 0.05
    cyto90 = rng.random(n) < np.where(product == "axi-cel", 0.3, 0.15)
    pd0 = rng.choice(np.array(["cr", "pr", "sd", "pd"], dtype=object), n, p=[0.05, 0.15, 0.14, 0.66])
    pd0_miss = bridging == "none"
    pd0 = pd0.copy()
    pd0[pd0_miss] = None

    def f(values: np.ndarray, miss: np.ndarray) -> pd.Series:
        s = pd.Series(values.astype(float), dtype="float64")
        s[miss] = np.nan
        return s

    def i(values: np.ndarray, miss: np.ndarray | None = None) -> pd.Series:
        s = pd.Series(values.astype("int64"), dtype="Int64")
        if miss is not None:
            s[miss] = pd.NA
        return s

    fail_date = d0 + pd.to_timedelta(np.nan_to_num(days_f), unit="D")
    fail_date = pd.Series(fail_date).where(failed)
    table = pd.DataFrame(
        {
            "patient_id": pid,
            "centre_id": rng.choice(np.array([f"C{j:02d}" for j in range(20)], dtype=object), n),
            "infused": _bool(infused),
            "product": product,
            "d0": pd.Series(d0).where(infused),
            "registration_date": pd.Series(reg),
            "decision_date": pd.Series(reg),
            "sex": rng.choice(np.array(["male", "female"], dtype=object), n, p=[0.64, 0.36]),
            "age_years": age,
            "histology": rng.choice(
                np.array(
                    ["dlbcl_nos", "hgbl", "pmbl", "tfl", "transformed_other_indolent", "other"], dtype=object
                ),
                n,
                p=[0.748, 0.08, 0.05, 0.09, 0.02, 0.012],
            ),
            "prior_lines": i(prior_lines),
            "prior_lines_gt3": _bool(prior_lines > 3),
            "prior_asct": _bool(prior_asct),
            "prior_allo": _bool(prior_allo),
            "prior_transplant": _bool(prior_asct | prior_allo),
            "dec_ecog": i(ecog_dec),
            "dec_ecog_ge2": _bool(ecog_dec >= 2),
            "dec_stage": i(stage),
            "dec_stage_3_4": _bool(stage >= 3),
            "dec_extranodal_sites": i(rng.poisson(1.2, n)),
            "dec_ldh_high": _bool(ldh, ldh_miss & (rng.random(n) < 0.3)),
            "dec_aaipi": i(aaipi, aaipi_miss),
            "dec_aaipi_2_3": _bool(aaipi >= 2, aaipi_miss),
            "d0_ecog": i(ecog_d0),
            "d0_ecog_ge2": _bool(ecog_d0 >= 2),
            "d0_stage_3_4": _bool(stage >= 3),
            "d0_ldh_high": _bool(ldh, ldh_miss),
            "d0_aaipi_2_3": _bool(aaipi >= 2, aaipi_miss),
            "d0_albumin_g_l": f(np.round(rng.normal(36, 5, n), 1), rng.random(n) < 0.15),
            "d0_crp_mg_l": f(crp, crp_miss),
            "d0_ferritin_ug_l": f(ferr, ferr_miss),
            "d0_disease_status": pd0,
            "d0_pd": _bool(pd0 == "pd", pd0_miss),
            "bridging_type": bridging,
            "bridged": _bool(bridging != "none"),
            "crs_grade": i(rng.choice(5, n, p=[0.2, 0.4, 0.3, 0.08, 0.02])),
            "icans_grade": i(rng.choice(5, n, p=[0.6, 0.2, 0.1, 0.08, 0.02])),
            "cytopenia_d30_ge3": _bool(cyto30, cyto30_miss),
            "cytopenia_d90_ge3": _bool(cyto90, rng.random(n) < 0.2),
            "best_response_cart": best,
            "cart_responder": _bool(responder, ~infused),
            "failed": _bool(failed, ~infused),
            "failure_date": fail_date,
            "failure_type": np.where(failed, "progression", None).astype(object),
            "days_to_failure": i(np.nan_to_num(days_f), ~failed),
            "months_to_failure": days_f / DAYS_PER_MONTH,
            "timing_group": timing,
            "very_early": _bool(timing == "very_early", ~failed),
            "pfs2_months": pfs2_m,
            "pfs2_event": _bool(pfs2_event, ~failed),
            "os2_months": os2_m,
            "os2_event": _bool(os2_event, ~failed),
            "pfs_months": np.where(infused, pfs_m, np.nan),
            "pfs_event": _bool(pfs_e, ~infused),
            "os_months": np.where(infused, os_m, np.nan),
            "os_event": _bool(os_e, ~infused),
            "dor_months": np.where(responder, dor_m, np.nan),
            "dor_event": _bool(dor_e, ~responder),
            "salvage_status": status,
            "salvage_class": klass,
            "salvage_regimen": np.where(treated, klass, None).astype(object),
            "rt_localized_sole": _bool((klass == "radiotherapy") & (rng.random(n) < 0.7), ~treated),
            "salvage_best_response": resp,
            "salvage_response_evaluable": _bool(evaluable, ~treated),
            "salvage_orr": _bool(np.isin(resp, ["cr", "pr"]), ~evaluable),
            "salvage_cr": _bool(resp == "cr", ~evaluable),
            "alive": _bool(~os_e, ~infused),
        }
    )
    return table
