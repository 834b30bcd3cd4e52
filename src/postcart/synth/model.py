"""The generative model of the synthetic DESCAR-T-like registry (vectorized numpy).

``simulate_cohort`` draws every patient's latent history, in days, as arrays (one entry per
registered patient). ``postcart.synth.tables`` turns it into raw registry tables and
``postcart.synth.truth`` into the analysis table the generator *knows* to be true.

The story, per registered patient (every constant is a parameter of ``parameters.yaml``):

1. Registration date on a window 2018-08-01 .. cut-off with density growing as ``t**a``;
   decision to treat a few days before it.
2. A latent disease burden ``z ~ N(0, 1)`` drives ECOG, stage, extranodal sites, LDH/ULN,
   CRP, ferritin, albumin, PD at infusion, dropout, refractoriness, relapse, the choice of
   salvage and (through the recorded D0 values) the hazards after failure.
3. Dropout before infusion (logistic in ``z``); otherwise lymphodepletion after a gamma
   vein-to-vein delay and infusion 5 days later. Infusions after the cut-off are not seen.
4. Product (axi-cel/tisa-cel, logistic in age); bridging (type), D0 characteristics.
5. CAR-T: refractory (logistic in ``z``, product) with a log-normal progression time; else
   SD or response (CR/PR), and for responders a relapse (logistic) at D30 + log-normal time,
   with its own (earlier, tighter) distribution for partial responders and a wide one for
   complete responders. A progression is documented on its day, or else at the next scheduled
   visit or when it becomes clinically apparent (onset + a gamma lag), whichever is first (a
   responder's relapse waits more often than a refractory progression); the D30 and D90
   evaluations fall before or after the nominal day (never on it), before it with a set
   probability, which decides the timing group of the failures found there. A share of
   patients has no CAR-T response assessment in the registry. Non-relapse deaths (log-normal
   time), other-cause deaths and loss to follow-up (exponential) compete.
6. After failure: salvage (treated / none / unknown) with one exclusive class (weights, the
   targeted class more likely after high LDH or a very early failure), second progression
   (a Weibull onset plus a gamma detection lag of mean ``p2_delay_days``) and death = the
   earlier of a direct death (Weibull) and the second progression plus a post-progression
   survival (Weibull); shapes below 1 give the decreasing hazards and
   long tails of the paper's curves; log-hazards linear in LDH > ULN, ECOG >= 2, CRP/10,
   ferritin/100, very early / late failure and class; a salvage response evaluation after a
   gamma delay.
7. Observation: events after the last contact (cut-off minus a reporting lag, or loss to
   follow-up: a general rate from D0 and, after a failure, an extra rate whose clock starts
   a fresh draw of salvage delay plus evaluation lag later) are not seen; a death is seen
   when it precedes both.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt
import scipy.stats

from postcart.synth.parameters import SynthParameters

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

EPOCH = _dt.date(1970, 1, 1)
WINDOW_START = _dt.date(2018, 8, 1)
DEFAULT_CUTOFF = _dt.date(2021, 4, 12)
#: Nominal days of the scheduled visits (registry protocol), in codes.VISIT_DAYS order.
VISIT_NAMES: tuple[str, ...] = ("d30", "d90", "d180", "d270", "d360", "m18", "m24", "m36")
VISIT_NOMINAL: IntArray = np.array([30, 90, 180, 270, 360, 548, 730, 1096], dtype=np.int64)
VISIT_JITTER_SD: FloatArray = np.array([3.0, 6.0, 10.0, 12.0, 14.0, 20.0, 25.0, 30.0])
#: Shape of the gamma lag from a progression's onset to its becoming clinically apparent.
SYMPTOM_LAG_SHAPE = 3.0
NEVER = np.int64(10**7)  # "no such event" in day arithmetic (far beyond any cut-off)
#: Salvage classes in model order; index -1 = no salvage data.
CLASSES: tuple[str, ...] = (
    "lenalidomide",
    "bispecific",
    "targeted",
    "radiotherapy",
    "immunochemotherapy",
    "other",
)
#: Salvage classes with an effect of their own on each post-failure quantity: parameter
#: ``{prefix}_{class}`` (``rt_localized``: localized sole RT; ``immunochemo``: immunochemotherapy).
#: Every other class (other, non-localized RT, and any class not listed) is in the reference,
#: effect 0. ``b_p2``: second progression (and the PD-at-evaluation logistic); ``b_d2``: death,
#: direct and after a second progression; ``b_pps``: survival after a second progression, on top
#: of ``b_d2`` (sessions 6-7: with the shared survival, a later documented progression also
#: delayed the death; docs/synth.md); ``b_eval``: a progression found at the first salvage
#: evaluation, on top of ``b_p2`` (session 6).
CLASS_EFFECTS: dict[str, tuple[str, ...]] = {
    "b_p2": ("lenalidomide", "bispecific", "targeted", "rt_localized", "immunochemo"),
    "b_d2": ("lenalidomide", "bispecific", "targeted", "rt_localized"),
    "b_pps": ("lenalidomide", "immunochemo"),
    "b_eval": ("lenalidomide",),
}
HISTOLOGIES: tuple[str, ...] = ("dlbcl_nos", "tfl", "hgbl", "pmbl", "transformed_other_indolent")


def day_number(d: _dt.date) -> int:
    """Days since 1970-01-01 (the integer date of the model)."""
    return (d - EPOCH).days


@dataclass(frozen=True, slots=True)
class SimulatedCohort:
    """Latent histories of ``n`` registered patients (absolute days are days since 1970-01-01).

    ``NEVER`` marks an event that does not happen; observation flags say what the extract sees.
    """

    n: int
    cutoff_day: int
    # registration and baseline
    reg_day: IntArray
    dec_day: IntArray
    age: FloatArray
    male: BoolArray
    histology: IntArray
    prior_lines: IntArray
    prior_asct: BoolArray
    prior_allo: BoolArray
    burden: FloatArray
    dec_ecog: IntArray
    stage: IntArray
    extranodal: IntArray
    ldh_uln: FloatArray
    dec_ldh: FloatArray
    dec_ldh_missing: BoolArray
    dec_stage_missing: BoolArray
    # flow
    infused: BoolArray
    dropout: BoolArray
    lymph_day: IntArray
    inf_day: IntArray
    bridging: IntArray  # 0 none, 1 low-dose, 2 conventional, 3 radiotherapy
    bridge_start: IntArray
    axicel: BoolArray
    # D0
    d0_ecog: IntArray
    d0_ecog_missing: BoolArray
    d0_ldh: FloatArray
    d0_ldh_missing: BoolArray
    crp: FloatArray
    crp_missing: BoolArray
    ferritin: FloatArray
    ferritin_missing: BoolArray
    albumin: FloatArray
    albumin_missing: BoolArray
    pet_status: IntArray  # -1 missing, 0 cr, 1 pr, 2 sd, 3 pd
    crs: IntArray
    icans: IntArray
    cyto_d30: IntArray  # grade, -1 = not recorded
    cyto_d90: IntArray
    # CAR-T course (days from D0 unless "_day")
    visit_days: IntArray  # (n, 8) days from D0, NEVER when missed
    resp_type: IntArray  # 0 refractory, 1 sd, 2 pr, 3 cr
    fail_rel: IntArray  # documented failure day from D0, NEVER if none
    death_day: IntArray  # absolute, NEVER if alive forever (within the model)
    death_cause: IntArray  # 0 lymphoma, 1 toxicity, 2 infection, 3 other
    last_contact_day: IntArray
    dead_observed: BoolArray
    # after failure (days from the failure date)
    salvage_status: IntArray  # 0 treated, 1 none, 2 unknown, -1 not a failure
    salvage_class: IntArray  # index in CLASSES, -1 none
    rt_localized: BoolArray
    regimen_variant: IntArray
    salvage_start_rel: IntArray
    p2_rel: IntArray
    salvage_eval_rel: IntArray
    loss_clock_rel: IntArray  # start of the extra loss after failure: salvage delay + evaluation lag
    salvage_response: IntArray  # -1 no data, 0 cr, 1 pr, 2 sd, 3 pd, 4 ne
    second_line: BoolArray
    response_unrecorded: BoolArray  # CAR-T response assessments absent from the registry

    def column_names(self) -> tuple[str, ...]:
        """Names of the per-patient arrays."""
        return tuple(f.name for f in fields(self) if f.name not in {"n", "cutoff_day"})


def _sigmoid(x: FloatArray) -> FloatArray:
    out: FloatArray = 1.0 / (1.0 + np.exp(-x))
    return out


def _weibull(rng: np.random.Generator, shape: float, scale: FloatArray) -> FloatArray:
    out: FloatArray = scale * rng.weibull(shape, size=scale.shape)
    return out


def _poisson(rng: np.random.Generator, lam: FloatArray, cap: int) -> IntArray:
    """Poisson draws capped at ``cap``, by inversion of one uniform each: the smallest ``k``
    with ``u <= F(k)``, the CDF summed term by term (``p(k) = p(k - 1) * lam / k``).

    numpy's Poisson sampler consumes a number of uniforms that depends on ``lam``; inversion
    consumes exactly one per patient, so changing a parameter never shifts the random stream of
    the draws after it (common random numbers for the calibration). Hand-written because
    ``scipy.stats.poisson.ppf`` is 20-45 times slower (measured: 2.8 s vs 0.13 s for a million
    patients), and the model caps the counts anyway (prior lines, extranodal sites).
    """
    u = rng.random(lam.shape)
    term = np.exp(-lam)
    cdf = term.copy()
    k = np.zeros(lam.shape, dtype=np.int64)
    for j in range(1, cap + 1):
        beyond = u > cdf
        if not beyond.any():
            break
        k += beyond
        term = term * lam / j
        cdf += term
    return k


def _gamma(rng: np.random.Generator, shape: float, scale: float, n: int) -> FloatArray:
    """Gamma draws by inversion of one uniform each (a shape that is a parameter would otherwise
    change how many numbers numpy's rejection sampler consumes; see ``_poisson``)."""
    out: FloatArray = scipy.stats.gamma.ppf(rng.random(n), shape, scale=scale)
    return out


def _salvage_delay(rng: np.random.Generator, p: SynthParameters, n: int) -> IntArray:
    """Days from a failure to the start of salvage: gamma (shape 3, mean ``salvage_delay_days``),
    rounded, at least 1."""
    out: IntArray = np.maximum(1, np.round(rng.gamma(3.0, p["salvage_delay_days"] / 3.0, n))).astype(np.int64)
    return out


def _eval_lag(rng: np.random.Generator, p: SynthParameters, n: int) -> IntArray:
    """Days from the start of salvage to its first response evaluation: gamma (shape
    ``eval_lag_shape``, mean ``eval_lag_days``), rounded, at least 14."""
    k = p["eval_lag_shape"]
    out: IntArray = np.maximum(14, np.round(_gamma(rng, k, p["eval_lag_days"] / k, n))).astype(np.int64)
    return out


def simulate_cohort(
    params: SynthParameters,
    n: int,
    rng: np.random.Generator,
    *,
    cutoff: _dt.date = DEFAULT_CUTOFF,
) -> SimulatedCohort:
    """Draw the latent histories of ``n`` registered patients.

    Parameters
    ----------
    params
        Model parameters (``load_parameters()``).
    n
        Number of registered patients (>= 1).
    rng
        The random generator; the same generator state gives the same cohort.
    cutoff
        Data cut-off; registrations run from 2018-08-01 to it.
    """
    p = params
    cut = day_number(cutoff)
    start = day_number(WINDOW_START)
    span = cut - start
    if span <= 0:
        raise ValueError(f"cutoff {cutoff.isoformat()} is not after the window start 2018-08-01")

    # 1. accrual ---------------------------------------------------------------------------
    u = rng.random(n)
    reg = start + np.floor(span * u ** (1.0 / (1.0 + p["accrual_power"]))).astype(np.int64)
    reg = np.sort(reg)  # ids follow registration order
    lag_reg = np.minimum(10, np.floor(rng.exponential(p["decision_before_registration_days"], n)))
    dec = reg - lag_reg.astype(np.int64)  # registration never after lymphodepletion (>= 12 days)

    # 2. baseline ---------------------------------------------------------------------------
    z = rng.standard_normal(n)
    age = np.clip(rng.normal(p["age_mean"], p["age_sd"], n), 18.0, 82.0)
    male = rng.random(n) < p["p_male"]
    hist_p = np.array([p["p_hist_dlbcl"], p["p_hist_tfl"], p["p_hist_hgbl"], p["p_hist_pmbl"]])
    hist_p = np.append(hist_p, max(1e-9, 1.0 - hist_p.sum()))
    histology = rng.choice(len(HISTOLOGIES), size=n, p=hist_p / hist_p.sum()).astype(np.int64)
    prior_lines = 2 + _poisson(rng, np.full(n, p["lines_lambda"]), cap=10)  # at most 12 lines
    asct = rng.random(n) < _sigmoid(p["logit_prior_asct"] + p["b_asct_age"] * (age - 60.0))
    allo = rng.random(n) < p["p_prior_allo"]
    ecog_ge2 = rng.random(n) < _sigmoid(p["logit_ecog_ge2"] + p["b_ecog_burden"] * z)
    dec_ecog = np.where(ecog_ge2, 2 + (rng.random(n) < 0.2), (rng.random(n) < 0.55).astype(np.int64))
    dec_ecog = dec_ecog.astype(np.int64)
    stage34 = rng.random(n) < _sigmoid(p["logit_stage_3_4"] + p["b_stage_burden"] * z)
    stage = np.where(stage34, 3 + (rng.random(n) < 0.7), 1 + (rng.random(n) < 0.6)).astype(np.int64)
    extranodal = _poisson(rng, np.exp(p["log_extranodal_mean"] + 0.5 * z), cap=8)
    uln = rng.choice(np.array([214.0, 225.0, 246.0, 250.0, 280.0]), size=n)
    log_ratio_dec = p["mu_ldh_ratio"] + p["b_ldh_burden"] * z + p["sd_ldh_ratio"] * rng.standard_normal(n)
    dec_ldh = np.round(uln * np.exp(log_ratio_dec))
    dec_ldh_missing = rng.random(n) < p["p_missing_dec_ldh"]
    dec_stage_missing = rng.random(n) < 0.02

    # 3. flow to infusion -------------------------------------------------------------------
    dropout = rng.random(n) < _sigmoid(p["logit_dropout"] + p["b_dropout_burden"] * z)
    v2v = np.maximum(12, np.round(rng.gamma(6.0, p["vein_to_vein_days"] / 6.0, n))).astype(np.int64)
    lymph = dec + v2v
    inf = lymph + 5
    drop_day = dec + np.maximum(3, np.round(rng.uniform(0.2, 1.0, n) * v2v)).astype(np.int64)
    drop_day = np.maximum(drop_day, reg + 1)
    infused = (~dropout) & (inf <= cut)

    # 4. product, bridging, D0 ------------------------------------------------------------
    axicel = rng.random(n) < _sigmoid(p["logit_axicel"] + p["b_axicel_age"] * (age - 60.0))
    ub = rng.random(n)
    bridged = rng.random(n) < p["p_bridged"]
    btype = np.where(
        ub < p["p_bridge_lowdose"], 1, np.where(ub < p["p_bridge_lowdose"] + p["p_bridge_rt"], 3, 2)
    ).astype(np.int64)
    bridging = np.where(bridged, btype, 0).astype(np.int64)
    bridge_start = dec + 1 + np.floor(rng.uniform(0.0, 0.5, n) * v2v).astype(np.int64)
    bridge_start = np.minimum(bridge_start, lymph - 3)

    d0_ecog = np.clip(dec_ecog + rng.choice([-1, 0, 0, 0, 0, 1], size=n), 0, 4).astype(np.int64)
    d0_ecog_missing = rng.random(n) < p["p_missing_d0_ecog"]
    log_ratio_d0 = log_ratio_dec + p["d0_ldh_shift"] + p["sd_ldh_change"] * rng.standard_normal(n)
    d0_ldh = np.round(uln * np.exp(log_ratio_d0))
    d0_ldh_missing = rng.random(n) < p["p_missing_d0_ldh"]
    crp = np.exp(p["mu_log_crp"] + p["b_crp_burden"] * z + p["sd_log_crp"] * rng.standard_normal(n))
    crp = np.round(np.clip(crp, 0.5, 600.0), 1)
    ferritin = np.exp(
        p["mu_log_ferritin"] + p["b_ferritin_burden"] * z + p["sd_log_ferritin"] * rng.standard_normal(n)
    )
    ferritin = np.round(np.clip(ferritin, 8.0, 60000.0))
    albumin: FloatArray = np.round(
        np.clip(p["albumin_mean"] - 2.5 * z + 4.5 * rng.standard_normal(n), 15.0, 52.0), 1
    ).astype(np.float64)
    crp_missing = rng.random(n) < p["p_missing_crp"]
    ferritin_missing = rng.random(n) < p["p_missing_ferritin"]
    albumin_missing = rng.random(n) < p["p_missing_albumin"]
    pd_inf = rng.random(n) < _sigmoid(p["logit_pd_at_infusion"] + p["b_pd_burden"] * z)
    other_status = rng.choice(np.array([0, 1, 1, 2]), size=n)
    pet_status = np.where(pd_inf, 3, other_status).astype(np.int64)
    pet_status = np.where(
        (bridging > 0) & (rng.random(n) >= p["p_missing_pet_bridged"]), pet_status, -1
    ).astype(np.int64)

    # toxicity
    crs = np.where(
        axicel,
        rng.choice(5, size=n, p=[0.12, 0.45, 0.33, 0.08, 0.02]),
        rng.choice(5, size=n, p=[0.3, 0.42, 0.2, 0.06, 0.02]),
    ).astype(np.int64)
    icans = np.where(
        axicel,
        rng.choice(5, size=n, p=[0.55, 0.15, 0.14, 0.12, 0.04]),
        rng.choice(5, size=n, p=[0.8, 0.09, 0.06, 0.04, 0.01]),
    ).astype(np.int64)
    c30 = rng.random(n) < np.where(axicel, p["p_cyto_d30_axicel"], p["p_cyto_d30_tisacel"])
    c90 = rng.random(n) < np.where(axicel, p["p_cyto_d90_axicel"], p["p_cyto_d90_tisacel"])
    g30 = np.where(c30, 3 + (rng.random(n) < 0.45), rng.choice(3, size=n)).astype(np.int64)
    g90 = np.where(c90, 3 + (rng.random(n) < 0.35), rng.choice(3, size=n)).astype(np.int64)

    # 5. CAR-T course ---------------------------------------------------------------------
    tisa = (~axicel).astype(np.float64)
    refractory = rng.random(n) < _sigmoid(
        p["logit_refractory"] + p["b_refractory_burden"] * z + p["b_refractory_tisacel"] * tisa
    )
    sd_resp = (~refractory) & (rng.random(n) < p["p_sd"])
    cr = rng.random(n) < _sigmoid(np.full(n, p["logit_cr"]) - 0.3 * z)
    resp_type = np.where(refractory, 0, np.where(sd_resp, 1, np.where(cr, 3, 2))).astype(np.int64)
    relapse = (resp_type >= 1) & (
        rng.random(n)
        < _sigmoid(
            p["logit_relapse"]
            + p["b_relapse_burden"] * z
            + p["b_relapse_tisacel"] * tisa
            + p["b_relapse_cr"] * (resp_type == 3)
            + 1.5 * (resp_type == 1)
        )
    )
    t_ref = np.exp(p["mu_refractory_days"] + p["sd_refractory_days"] * rng.standard_normal(n))
    z_rel = rng.standard_normal(n)
    t_rel = 30.0 + np.exp(p["mu_relapse_days"] + p["sd_relapse_days"] * z_rel)
    # a partial response at D30 that does not deepen is usually lost by the D90 evaluation: the
    # relapse of a partial responder has its own (earlier, tighter) time distribution
    t_rel_pr = 30.0 + np.exp(p["mu_relapse_pr_days"] + p["sd_relapse_pr_days"] * z_rel)
    t_rel = np.where(resp_type == 2, t_rel_pr, t_rel)
    t_true = np.where(refractory, t_ref, np.where(relapse, t_rel, np.inf))
    t_true = np.maximum(t_true, 5.0)

    jitter = np.round(rng.normal(0.0, 1.0, (n, len(VISIT_NOMINAL))) * VISIT_JITTER_SD)
    # the D30 and D90 evaluations fall before or after the nominal day, never on it (b.15):
    # 1 + |N(0, sd)| days away, before it with probability p_d30/d90_eval_before
    for k, name in ((0, "p_d30_eval_before"), (1, "p_d90_eval_before")):
        away = 1.0 + np.floor(np.abs(rng.standard_normal(n)) * VISIT_JITTER_SD[k])
        jitter[:, k] = np.where(rng.random(n) < p[name], -away, away)
    visits = (VISIT_NOMINAL + jitter).astype(np.int64)
    missed = rng.random((n, len(VISIT_NOMINAL))) < p["p_visit_missed"]
    visits = np.where(missed, NEVER, visits)
    # a refractory progression is often clinically apparent; a responder's relapse is mostly
    # found at a scheduled evaluation (D90 PET, ...). A progression not documented on its day
    # is documented at the next scheduled visit or when it becomes clinically apparent
    # (a gamma lag after its onset), whichever comes first: between the D90 and D180 visits
    # relapses are found when symptoms bring the patient in, not all at D180. A waiting
    # progression with no visit left is documented when apparent. The lag is drawn for everyone
    # whatever its mean, from a fixed shape (numpy's rejection sampler consumes a number of
    # draws that depends on the shape and the stream, never on the scale), so that the mean
    # moves no other draw (common random numbers).
    at_visit = rng.random(n) < np.where(refractory, p["p_detect_at_visit"], p["p_detect_relapse_at_visit"])
    lag_scale = p["symptom_lag_days"] / SYMPTOM_LAG_SHAPE
    symptom_lag = np.ceil(rng.standard_gamma(SYMPTOM_LAG_SHAPE, n) * lag_scale)
    t_true_i = np.where(np.isfinite(t_true), np.ceil(t_true), NEVER).astype(np.int64)
    next_visit = np.where(visits >= t_true_i[:, None], visits, NEVER).min(axis=1)
    apparent = np.where(t_true_i < NEVER, t_true_i + symptom_lag.astype(np.int64), NEVER)
    fail_rel = np.where(at_visit, np.minimum(next_visit, apparent), t_true_i)
    fail_rel = np.where(np.isin(fail_rel, (30, 90)), fail_rel + 1, fail_rel).astype(np.int64)

    nrm = rng.random(n) < _sigmoid(np.full(n, p["logit_nrm"]) + 0.3 * z)
    t_nrm = np.maximum(2.0, np.exp(p["mu_nrm_days"] + 0.8 * rng.standard_normal(n)))
    nrm_rel = np.where(nrm, np.ceil(t_nrm), NEVER).astype(np.int64)
    late_rate = max(p["late_death_rate_per_year"], 1e-9) / 365.25
    late_rel = np.ceil(rng.exponential(1.0 / late_rate, n)).astype(np.int64) + 1
    pre_death_rel = np.minimum(nrm_rel, late_rel)
    failed_latent = fail_rel < pre_death_rel
    fail_rel = np.where(failed_latent, fail_rel, NEVER)

    # 6. after failure ----------------------------------------------------------------------
    very_early = fail_rel <= 30
    ldh_high = (d0_ldh > uln).astype(np.float64)
    ecog2 = (d0_ecog >= 2).astype(np.float64)
    treat_draw = rng.random(n) < _sigmoid(p["logit_treated"] + p["b_treated_burden"] * z)
    w = np.array([p[f"w_class_{c}"] for c in CLASSES])
    logits = np.log(np.maximum(w, 1e-12))[None, :] + np.zeros((n, len(CLASSES)))
    # confounding through measured covariates: targeted therapy goes to high-LDH / very early failures
    logits[:, CLASSES.index("targeted")] += p["b_targeted_burden"] * (ldh_high + very_early)
    gumbel = -np.log(-np.log(rng.random((n, len(CLASSES)))))
    cls = np.argmax(logits + gumbel, axis=1).astype(np.int64)
    rt_loc = (cls == CLASSES.index("radiotherapy")) & (rng.random(n) < p["p_rt_localized"])
    variant = rng.integers(0, 1000, n).astype(np.int64)

    def class_effects(prefix: str) -> FloatArray:
        """Each patient's salvage-class effect ``{prefix}_<class>`` (``CLASS_EFFECTS``; 0 in the
        reference). Reads ``cls`` and ``rt_loc`` when called: after they are masked to the
        treated below, the untreated get 0."""
        members = {
            "lenalidomide": cls == CLASSES.index("lenalidomide"),
            "bispecific": cls == CLASSES.index("bispecific"),
            "targeted": cls == CLASSES.index("targeted"),
            "rt_localized": rt_loc,
            "immunochemo": cls == CLASSES.index("immunochemotherapy"),
        }
        eff = np.zeros(n)
        for name in CLASS_EFFECTS[prefix]:
            eff = np.where(members[name], p[f"{prefix}_{name}"], eff)
        return eff

    ferr_u = ferritin / 100.0
    crp_u = crp / 10.0
    late = (fail_rel > 90).astype(np.float64)
    lp_p = (
        p["b_p2_late"] * late
        + p["b_p2_ldh"] * ldh_high
        + p["b_p2_ecog"] * ecog2
        + p["b_p2_ferritin"] * ferr_u
        + p["b_p2_crp"] * crp_u
        + p["b_p2_very_early"] * very_early
    )
    lp_d = (
        p["b_d2_late"] * late
        + p["b_d2_ldh"] * ldh_high
        + p["b_d2_ecog"] * ecog2
        + p["b_d2_ferritin"] * ferr_u
        + p["b_d2_crp"] * crp_u
        + p["b_d2_very_early"] * very_early
    )
    k_p, k_d = p["pfs2_shape"], p["os2_shape"]
    e_p = rng.weibull(k_p, n)
    e_d = rng.weibull(k_d, n)
    k_pps = p["pps_shape"]
    e_pps = rng.weibull(k_pps, n)
    s_draw = _salvage_delay(rng, p, n)
    # a new progression is documented by a later assessment: a detection lag (gamma, shape 3)
    # after its onset, so a high hazard spreads the documented dates over weeks instead of
    # piling them on one day
    p2_lag = _gamma(rng, 3.0, max(p["p2_delay_days"], 1e-6) / 3.0, n)

    def times(treated: BoolArray) -> tuple[IntArray, FloatArray, FloatArray]:
        """Second progression (days), direct death (days), post-progression survival (days)."""
        cp = np.where(treated, class_effects("b_p2"), p["b_p2_untreated"])
        cd = np.where(treated, class_effects("b_d2"), p["b_d2_untreated"])
        c_pps = cd + np.where(treated, class_effects("b_pps"), 0.0)  # survival after a 2nd progression
        tp = p2_lag + np.exp(p["log_pfs2_scale_days"] - (lp_p + cp) / k_p) * e_p
        direct = np.minimum(np.exp(p["log_os2_scale_days"] - (lp_d + cd) / k_d) * e_d, 1e6)
        pps = np.minimum(np.exp(p["log_pps_scale_days"] - (lp_d + c_pps) / k_pps) * e_pps, 1e6)
        return np.clip(np.ceil(tp), 1, 1e6).astype(np.int64), direct, pps

    def death_after(p2: IntArray, direct: FloatArray, pps: FloatArray) -> IntArray:
        """Death = the earlier of a direct death and the second progression plus survival after it."""
        return np.clip(np.floor(np.minimum(direct, p2 + pps)), 0, 1e6).astype(np.int64)

    tp_t, direct_t, pps_t = times(np.ones(n, dtype=bool))
    tp_u, direct_u, pps_u = times(np.zeros(n, dtype=bool))
    td_t = death_after(tp_t, direct_t, pps_t)
    s_rel = np.minimum(s_draw, np.maximum(1, tp_t // 2))
    treated = failed_latent & treat_draw & (td_t > s_rel)
    p2_rel = np.where(treated, tp_t, tp_u)
    d2_rel = np.where(treated, td_t, death_after(tp_u, direct_u, pps_u))
    cls = np.where(treated, cls, -1)
    rt_loc = rt_loc & treated  # class_effects from here on: 0 for the untreated

    # salvage response evaluation
    eval_lag = _eval_lag(rng, p, n)
    eval_rel = s_rel + eval_lag
    resp_missing = rng.random(n) < p["p_response_missing"]
    ur = rng.random(n)
    # progression found at the first evaluation: more likely with a higher progression hazard
    # lenalidomide has an effect of its own here (b_eval): its documented PFS-2 median sits on
    # the first evaluations' dates, whatever its latent hazard (docs/synth.md, session 6)
    lp_eval = lp_p + class_effects("b_p2") + class_effects("b_eval")
    centre = float(np.mean(lp_eval[failed_latent])) if failed_latent.any() else 0.0
    p0 = min(max(p["p_salvage_pd_eval"], 1e-6), 1 - 1e-6)
    pd_at_eval = ur < _sigmoid(np.log(p0 / (1 - p0)) + lp_eval - centre)
    ur2 = rng.random(n)
    p_cr = _sigmoid(np.full(n, p["logit_salvage_cr"]))
    good = np.where(ur2 < p["p_salvage_sd"], 2, np.where(rng.random(n) < p_cr, 0, 1)).astype(np.int64)
    event_free_at_eval = (p2_rel > eval_rel) & (d2_rel > eval_rel)
    resp = np.where(
        event_free_at_eval,
        np.where(pd_at_eval, 3, good),
        np.where(p2_rel <= d2_rel, 3, 4),
    ).astype(np.int64)
    # progression found at the evaluation becomes the documented second progression
    found_at_eval = treated & event_free_at_eval & pd_at_eval
    p2_rel = np.where(found_at_eval, eval_rel, p2_rel)
    d2_rel = np.where(found_at_eval, death_after(p2_rel, direct_t, pps_t), d2_rel)
    resp = np.where(treated & ~resp_missing, resp, -1).astype(np.int64)
    # death after second progression cannot precede it in the record: keep order p2 <= death
    second_line = treated & (rng.random(n) < 0.45)
    # a share of centres report the failure but not the CAR-T response assessments before it
    response_unrecorded = rng.random(n) < p["p_car_response_unrecorded"]

    # 7. death and observation --------------------------------------------------------------
    d0 = inf
    death_rel = np.where(failed_latent, np.minimum(fail_rel + d2_rel, late_rel), pre_death_rel)
    death_cause = np.where(
        failed_latent & (fail_rel + d2_rel <= late_rel),
        0,
        np.where(nrm_rel <= late_rel, np.where(rng.random(n) < 0.6, 2, 1), 3),
    ).astype(np.int64)
    death_day = np.where(infused, d0 + death_rel, NEVER)
    drop_dead = dropout & (rng.random(n) < p["p_dropout_death"])
    death_day = np.where(dropout, np.where(drop_dead, drop_day + rng.integers(1, 45, n), NEVER), death_day)
    death_cause = np.where(dropout, 0, death_cause)
    ltfu_rate = max(p["ltfu_rate_per_year"], 1e-9) / 365.25
    ltfu_day = np.where(infused, d0, dec) + np.ceil(rng.exponential(1.0 / ltfu_rate, n)).astype(np.int64)
    lag = np.floor(rng.exponential(max(p["reporting_lag_days"], 1e-9), n)).astype(np.int64)
    u_status = rng.random(n)
    # after a failure the registry loses patients faster: many return to the referring centre.
    # The clock starts after a typical salvage start and first evaluation, drawn afresh from
    # their distributions (not the patient's own dates, which a progression found at the
    # evaluation shares: that would make the censoring informative), so the treating centre
    # has usually reported the response before the patient leaves. Drawn last, whatever the
    # rate, so that the rate moves no other draw (common random numbers).
    e_lost = rng.exponential(1.0, n)
    loss_clock = _salvage_delay(rng, p, n) + _eval_lag(rng, p, n)
    rate_f = p["ltfu_after_failure_per_year"] / 365.25
    if rate_f > 0:
        after = failed_latent & infused
        clock = d0 + fail_rel + loss_clock
        lost_f = np.where(after, clock, 0) + np.ceil(e_lost / rate_f).astype(np.int64)
        ltfu_day = np.where(after, np.minimum(ltfu_day, lost_f), ltfu_day)
    alive_end = np.minimum(cut - lag, ltfu_day)
    floor_day = np.where(infused, d0, np.maximum(reg, np.where(dropout, drop_day, reg)))
    floor_day = np.minimum(floor_day, cut)
    dead_obs = (death_day <= np.minimum(cut, ltfu_day)) & (death_day >= np.where(infused, d0, reg))
    last_contact = np.where(dead_obs, death_day, np.clip(alive_end, floor_day, cut))
    # an alive patient's last contact is at least the last documented visit or event
    return SimulatedCohort(
        n=n,
        cutoff_day=cut,
        reg_day=reg,
        dec_day=dec,
        age=np.round(age, 1),
        male=male,
        histology=histology,
        prior_lines=prior_lines,
        prior_asct=asct,
        prior_allo=allo,
        burden=z,
        dec_ecog=dec_ecog,
        stage=stage,
        extranodal=extranodal,
        ldh_uln=uln,
        dec_ldh=dec_ldh,
        dec_ldh_missing=dec_ldh_missing,
        dec_stage_missing=dec_stage_missing,
        infused=infused,
        dropout=dropout,
        lymph_day=lymph,
        inf_day=inf,
        bridging=bridging,
        bridge_start=bridge_start,
        axicel=axicel,
        d0_ecog=d0_ecog,
        d0_ecog_missing=d0_ecog_missing,
        d0_ldh=d0_ldh,
        d0_ldh_missing=d0_ldh_missing,
        crp=crp,
        crp_missing=crp_missing,
        ferritin=ferritin,
        ferritin_missing=ferritin_missing,
        albumin=albumin,
        albumin_missing=albumin_missing,
        pet_status=pet_status,
        crs=crs,
        icans=icans,
        cyto_d30=g30,
        cyto_d90=g90,
        visit_days=visits,
        resp_type=resp_type,
        fail_rel=fail_rel,
        death_day=death_day,
        death_cause=death_cause,
        last_contact_day=last_contact.astype(np.int64),
        dead_observed=dead_obs,
        salvage_status=np.where(
            failed_latent, np.where(treated, 0, np.where(u_status < p["p_untreated_unknown"], 2, 1)), -1
        ).astype(np.int64),
        salvage_class=cls,
        rt_localized=rt_loc,
        regimen_variant=variant,
        salvage_start_rel=s_rel,
        p2_rel=p2_rel,
        salvage_eval_rel=eval_rel,
        loss_clock_rel=loss_clock,
        salvage_response=resp,
        second_line=second_line,
        response_unrecorded=response_unrecorded,
    )
