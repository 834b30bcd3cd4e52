"""The parameters of the synthetic registry model: their names, meaning, bounds and file format.

All parameters live in one file, ``parameters.yaml`` next to this module, written by
``postcart synth calibrate`` (``postcart.synth.calibrate``). Every parameter is declared here
once (``PARAMETER_SPECS``) with a description and bounds; the file holds the values. A file
naming an unknown parameter, or missing one, is refused.

Conventions of the names: ``p_*`` are probabilities, ``logit_*`` intercepts on the logit scale,
``b_*`` log-hazard or log-odds coefficients, ``*_days`` durations in days, ``mu_*``/``sd_*``
parameters of a normal on the log scale (log-normal times or lab values).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from postcart.errors import SpecError

PARAMETERS_FILE = Path(__file__).with_name("parameters.yaml")


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    """One model parameter: its name, what it means, its hand-set start value and bounds."""

    name: str
    start: float
    description: str
    lower: float = -50.0
    upper: float = 50.0


def _p(name: str, start: float, description: str, lower: float = -50.0, upper: float = 50.0) -> ParameterSpec:
    return ParameterSpec(name, start, description, lower, upper)


#: Every parameter of the model, in the order of the generative story.
PARAMETER_SPECS: tuple[ParameterSpec, ...] = (
    # --- accrual and flow
    _p("accrual_power", 1.8, "registration density grows as t^power over the window (0 = uniform)", 0.0, 6.0),
    _p(
        "decision_before_registration_days",
        4.0,
        "mean days from decision to registration (exponential)",
        0.0,
        60.0,
    ),
    _p("vein_to_vein_days", 38.0, "mean days from decision to lymphodepletion (gamma, shape 6)", 10.0, 120.0),
    _p("logit_dropout", -2.2, "logit of leaving before infusion (death, progression, manufacturing failure)"),
    _p("b_dropout_burden", 0.5, "log-odds of dropout per SD of the latent disease burden"),
    _p("p_dropout_death", 0.6, "probability that a dropout dies (else alive, not infused)", 0.0, 1.0),
    # --- baseline characteristics
    _p("age_mean", 59.0, "mean age at decision (normal, truncated 18-82)", 30.0, 80.0),
    _p("age_sd", 11.5, "SD of age at decision", 1.0, 30.0),
    _p("p_male", 0.64, "probability of male sex", 0.0, 1.0),
    _p("p_hist_dlbcl", 0.72, "probability of DLBCL NOS histology", 0.0, 1.0),
    _p("p_hist_tfl", 0.14, "probability of transformed FL", 0.0, 1.0),
    _p("p_hist_hgbl", 0.07, "probability of HGBL", 0.0, 1.0),
    _p("p_hist_pmbl", 0.05, "probability of PMBL (rest: other transformed indolent)", 0.0, 1.0),
    _p("lines_lambda", 2.0, "prior lines = 2 + Poisson(lambda)", 0.05, 10.0),
    _p("logit_prior_asct", -1.4, "logit of prior autologous transplant at age 60"),
    _p("b_asct_age", -0.06, "log-odds of prior ASCT per year of age"),
    _p("p_prior_allo", 0.01, "probability of prior allogeneic transplant", 0.0, 1.0),
    _p("logit_ecog_ge2", -1.6, "logit of ECOG >= 2 at decision at burden 0"),
    _p("b_ecog_burden", 0.6, "log-odds of ECOG >= 2 per SD of burden"),
    _p("logit_stage_3_4", 1.2, "logit of Ann Arbor stage III-IV at burden 0"),
    _p("b_stage_burden", 0.8, "log-odds of stage III-IV per SD of burden"),
    _p("log_extranodal_mean", -0.1, "log of the mean number of extranodal sites at burden 0 (Poisson)"),
    _p("mu_ldh_ratio", 0.25, "mean of log(LDH/ULN) at decision at burden 0"),
    _p("b_ldh_burden", 0.45, "slope of log(LDH/ULN) per SD of burden"),
    _p("sd_ldh_ratio", 0.35, "residual SD of log(LDH/ULN)", 0.01, 3.0),
    _p("d0_ldh_shift", -0.15, "mean change of log(LDH/ULN) from decision to D0 (bridging effect)"),
    _p("sd_ldh_change", 0.3, "SD of the change of log(LDH/ULN) from decision to D0", 0.01, 3.0),
    _p("mu_log_crp", 2.6, "mean of log CRP (mg/L) at D0 at burden 0"),
    _p("b_crp_burden", 0.2, "slope of log CRP per SD of burden"),
    _p("sd_log_crp", 1.0, "residual SD of log CRP", 0.01, 4.0),
    _p("mu_log_ferritin", 6.3, "mean of log ferritin (ug/L) at D0 at burden 0"),
    _p("b_ferritin_burden", 0.5, "slope of log ferritin per SD of burden"),
    _p("sd_log_ferritin", 0.9, "residual SD of log ferritin", 0.01, 4.0),
    _p("albumin_mean", 36.0, "mean albumin (g/L) at D0 at burden 0", 10.0, 60.0),
    _p("p_bridged", 0.86, "probability of bridging therapy", 0.0, 1.0),
    _p("p_bridge_lowdose", 0.12, "probability that bridging is low-dose", 0.0, 1.0),
    _p("p_bridge_rt", 0.045, "probability that bridging is radiotherapy", 0.0, 1.0),
    _p("logit_pd_at_infusion", 0.5, "logit of PD at infusion by PET (bridged only) at burden 0"),
    _p("b_pd_burden", 0.6, "log-odds of PD at infusion per SD of burden"),
    # --- missingness
    _p("p_missing_dec_ldh", 0.06, "probability LDH is missing at decision", 0.0, 1.0),
    _p("p_missing_d0_ldh", 0.22, "probability LDH is missing at D0", 0.0, 1.0),
    _p("p_missing_d0_ecog", 0.05, "probability ECOG is missing at D0", 0.0, 1.0),
    _p("p_missing_crp", 0.2, "probability CRP is missing at D0", 0.0, 1.0),
    _p("p_missing_ferritin", 0.25, "probability ferritin is missing at D0", 0.0, 1.0),
    _p("p_missing_albumin", 0.2, "probability albumin is missing at D0", 0.0, 1.0),
    _p("p_missing_pet_bridged", 0.0, "probability PET status is missing for a bridged patient", 0.0, 1.0),
    _p("p_alt_unit", 0.05, "probability a lab value is recorded in a non-canonical unit", 0.0, 1.0),
    # --- product
    _p("logit_axicel", 0.65, "logit of axi-cel (vs tisa-cel) at age 60"),
    _p("b_axicel_age", -0.04, "log-odds of axi-cel per year of age"),
    # --- CAR-T response and failure
    _p("logit_refractory", -1.7, "logit of primary refractory disease at burden 0 (axi-cel)"),
    _p("b_refractory_burden", 0.6, "log-odds of refractoriness per SD of burden"),
    _p("b_refractory_tisacel", 0.3, "log-odds of refractoriness for tisa-cel"),
    _p("p_sd", 0.04, "probability of stable disease as best response (non-refractory)", 0.0, 1.0),
    _p("logit_cr", 1.3, "logit of CR (vs PR) as best response of a responder"),
    _p("logit_relapse", -0.9, "logit of relapse of a responder at burden 0 (axi-cel)"),
    _p("b_relapse_burden", 0.4, "log-odds of relapse per SD of burden"),
    _p("b_relapse_tisacel", 0.5, "log-odds of relapse for tisa-cel"),
    _p("b_relapse_cr", -1.2, "log-odds of relapse for a complete responder"),
    _p(
        "mu_refractory_days",
        3.2,
        "log-normal mean (log days) of progression time of refractory disease",
        2.0,
        4.5,
    ),
    _p("sd_refractory_days", 0.45, "log-normal SD of refractory progression time", 0.01, 3.0),
    _p("mu_relapse_days", 4.45, "log-normal mean (log days after D30) of relapse time", 2.5, 6.5),
    _p("sd_relapse_days", 0.75, "log-normal SD of relapse time", 0.01, 3.0),
    _p(
        "mu_relapse_pr_days",
        3.8,
        "log-normal mean (log days after D30) of the relapse time of a partial responder",
        2.0,
        6.5,
    ),
    _p("sd_relapse_pr_days", 0.5, "log-normal SD of the relapse time of a partial responder", 0.01, 3.0),
    _p(
        "p_car_response_unrecorded",
        0.05,
        "probability that a patient's CAR-T response assessments are absent from the registry",
        0.0,
        1.0,
    ),
    _p(
        "p_detect_at_visit",
        0.35,
        "probability a progression is documented at the next scheduled visit or when clinically"
        " apparent, whichever is first (else on its day)",
        0.0,
        1.0,
    ),
    _p(
        "p_detect_relapse_at_visit",
        0.35,
        "probability a responder's relapse is documented at the next scheduled visit or when"
        " clinically apparent, whichever is first (else on its day)",
        0.0,
        1.0,
    ),
    _p(
        "symptom_lag_days",
        45.0,
        "mean days from a progression's onset to its becoming clinically apparent (gamma, shape 3)",
        5.0,
        730.0,
    ),
    _p("logit_nrm", -2.3, "logit of a death without progression (non-relapse mortality)"),
    _p("mu_nrm_days", 4.0, "log-normal mean (log days) of the time to non-relapse death"),
    _p("p_visit_missed", 0.08, "probability a scheduled visit is missed", 0.0, 1.0),
    _p(
        "p_d30_eval_before",
        0.5,
        "probability that the D30 evaluation falls before day 30 (else after; never on it)",
        0.0,
        1.0,
    ),
    _p(
        "p_d90_eval_before",
        0.5,
        "probability that the D90 evaluation falls before day 90 (else after; never on it)",
        0.0,
        1.0,
    ),
    _p("reporting_lag_days", 25.0, "mean lag between last contact and the cut-off (exponential)", 0.0, 365.0),
    _p("ltfu_rate_per_year", 0.04, "rate of loss to follow-up per year", 0.0, 2.0),
    _p(
        "ltfu_after_failure_per_year",
        0.0,
        "rate of loss to registry follow-up after a CAR-T failure, on top of the general rate (the"
        " referring centre takes over); its clock starts a typical salvage delay plus evaluation lag"
        " after the failure",
        0.0,
        3.0,
    ),
    _p("late_death_rate_per_year", 0.02, "rate of deaths from other causes per year, any time", 0.0, 2.0),
    # --- toxicity
    _p("p_cyto_d30_axicel", 0.55, "probability of grade >= 3 cytopenia at D30 after axi-cel", 0.0, 1.0),
    _p("p_cyto_d30_tisacel", 0.32, "probability of grade >= 3 cytopenia at D30 after tisa-cel", 0.0, 1.0),
    _p("p_cyto_d90_axicel", 0.35, "probability of grade >= 3 cytopenia at D90 after axi-cel", 0.0, 1.0),
    _p("p_cyto_d90_tisacel", 0.17, "probability of grade >= 3 cytopenia at D90 after tisa-cel", 0.0, 1.0),
    # --- salvage after failure
    _p(
        "salvage_delay_days",
        18.0,
        "mean days from failure to the start of salvage (gamma, shape 3)",
        1.0,
        120.0,
    ),
    _p("logit_treated", 0.85, "logit of receiving a recorded salvage line at burden 0"),
    _p("b_treated_burden", -0.3, "log-odds of a recorded salvage line per SD of burden"),
    _p(
        "p_untreated_unknown", 0.4, "share of failures without salvage data whose status is unknown", 0.0, 1.0
    ),
    _p("w_class_lenalidomide", 0.38, "relative weight of lenalidomide as first salvage", 0.0, 100.0),
    _p("w_class_bispecific", 0.07, "relative weight of a bispecific antibody", 0.0, 100.0),
    _p("w_class_targeted", 0.21, "relative weight of targeted therapy", 0.0, 100.0),
    _p("w_class_radiotherapy", 0.11, "relative weight of radiotherapy", 0.0, 100.0),
    _p("w_class_immunochemotherapy", 0.2, "relative weight of immunochemotherapy", 0.0, 100.0),
    _p(
        "w_class_other",
        0.02,
        "relative weight of other (antibody alone, checkpoint inhibitor, allo-SCT)",
        0.0,
        100.0,
    ),
    _p(
        "b_targeted_burden",
        0.5,
        "log-odds shift of choosing targeted therapy per risk factor (LDH > ULN, very early failure)",
    ),
    _p("p_rt_localized", 0.7, "share of radiotherapy salvage given alone for localized disease", 0.0, 1.0),
    _p("p_response_missing", 0.22, "probability that a treated failure has no response data", 0.0, 1.0),
    _p("eval_lag_days", 45.0, "mean days from salvage start to its response evaluation", 20.0, 150.0),
    _p("p_salvage_pd_eval", 0.6, "probability the first salvage evaluation shows progression", 0.0, 1.0),
    _p(
        "b_eval_lenalidomide",
        0.0,
        "log-odds of a progression found at the first salvage evaluation, lenalidomide (beyond its"
        " second-progression effect)",
        -3.0,
        3.0,
    ),
    _p("logit_salvage_cr", -0.1, "logit of CR (vs PR/SD) among salvage responders evaluated event-free"),
    _p("p_salvage_sd", 0.06, "probability of SD among salvage patients evaluated event-free", 0.0, 1.0),
    # --- post-failure hazards (Weibull; lp = sum of b * covariate)
    _p(
        "eval_lag_shape",
        4.0,
        "gamma shape of the delay from salvage start to its response evaluation (smaller = more spread)",
        0.5,
        20.0,
    ),
    _p("pfs2_shape", 1.0, "Weibull shape of the time to second progression", 0.2, 5.0),
    _p("log_pfs2_scale_days", 4.6, "log Weibull scale (days) of the time to second progression", 2.0, 9.0),
    _p(
        "p2_delay_days",
        0.0,
        "mean days from the onset of a second progression to its documentation (gamma lag, shape 3)",
        0.0,
        120.0,
    ),
    _p("os2_shape", 1.0, "Weibull shape of the time to death after failure", 0.2, 5.0),
    _p(
        "log_os2_scale_days",
        6.0,
        "log Weibull scale (days) of a direct death after failure (no 2nd progression)",
    ),
    _p(
        "pps_shape",
        1.0,
        "Weibull shape of the survival after the second progression (1 = exponential)",
        0.2,
        5.0,
    ),
    _p(
        "log_pps_scale_days",
        4.1,
        "log Weibull scale (days) of the survival after the second progression",
        2.0,
        9.0,
    ),
    _p("b_p2_late", -0.3, "log-hazard of second progression, late failure (> D90)", -3.0, 3.0),
    _p("b_p2_ldh", 0.9, "log-hazard of second progression, LDH > ULN at D0", -3.0, 3.0),
    _p("b_p2_ecog", 0.3, "log-hazard of second progression, ECOG >= 2 at D0", -3.0, 3.0),
    _p("b_p2_ferritin", 0.015, "log-hazard of second progression per 100 ug/L ferritin", -0.05, 0.05),
    _p("b_p2_crp", 0.02, "log-hazard of second progression per 10 mg/L CRP", -0.3, 0.3),
    _p("b_p2_very_early", 0.5, "log-hazard of second progression, very early failure", -3.0, 3.0),
    _p("b_p2_lenalidomide", -0.6, "log-hazard of second progression, lenalidomide vs reference", -3.0, 3.0),
    _p("b_p2_bispecific", -1.5, "log-hazard of second progression, bispecific vs reference", -3.0, 3.0),
    _p("b_p2_targeted", -0.4, "log-hazard of second progression, targeted vs reference", -3.0, 3.0),
    _p(
        "b_p2_rt_localized",
        -0.3,
        "log-hazard of second progression, localized sole RT vs reference",
        -3.0,
        3.0,
    ),
    _p(
        "b_p2_immunochemo",
        0.0,
        "log-hazard of second progression, immunochemotherapy vs reference",
        -3.0,
        3.0,
    ),
    _p("b_p2_untreated", 0.6, "log-hazard of second progression, no salvage data", -3.0, 3.0),
    _p("b_d2_late", -0.3, "log-hazard of death after failure, late failure (> D90)", -3.0, 3.0),
    _p("b_d2_ldh", 0.75, "log-hazard of death after failure, LDH > ULN at D0", -3.0, 3.0),
    _p("b_d2_ecog", 0.4, "log-hazard of death, ECOG >= 2 at D0", -3.0, 3.0),
    _p("b_d2_ferritin", 0.005, "log-hazard of death per 100 ug/L ferritin", -0.05, 0.05),
    _p("b_d2_crp", 0.1, "log-hazard of death per 10 mg/L CRP", -0.3, 0.3),
    _p("b_d2_very_early", 1.0, "log-hazard of death, very early failure", -3.0, 3.0),
    _p("b_d2_lenalidomide", -0.85, "log-hazard of death, lenalidomide vs reference", -3.0, 3.0),
    _p("b_d2_bispecific", -1.3, "log-hazard of death, bispecific vs reference", -3.0, 3.0),
    _p("b_d2_targeted", -0.7, "log-hazard of death, targeted vs reference", -3.0, 3.0),
    _p("b_d2_rt_localized", -1.0, "log-hazard of death, localized sole RT vs reference", -3.0, 3.0),
    _p("b_d2_untreated", 0.8, "log-hazard of death, no salvage data", -3.0, 3.0),
    _p(
        "b_pps_immunochemo",
        0.0,
        "log-hazard of death after a second progression, immunochemotherapy vs reference",
        -3.0,
        3.0,
    ),
    _p(
        "b_pps_lenalidomide",
        0.0,
        "log-hazard of death after a second progression, lenalidomide (beyond its death effect)",
        -3.0,
        3.0,
    ),
)
SPECS_BY_NAME: dict[str, ParameterSpec] = {s.name: s for s in PARAMETER_SPECS}


@dataclass(frozen=True, slots=True)
class SynthParameters:
    """Values of every model parameter, plus where they came from (``meta``)."""

    values: Mapping[str, float]
    meta: Mapping[str, Any]

    def __getitem__(self, name: str) -> float:
        return float(self.values[name])

    def replace(self, **changes: float) -> SynthParameters:
        """A copy with some values changed (names are checked)."""
        unknown = sorted(set(changes) - set(SPECS_BY_NAME))
        if unknown:
            raise SpecError(f"unknown synthetic-model parameters: {unknown}")
        new = dict(self.values)
        new.update({k: float(v) for k, v in changes.items()})
        return SynthParameters(values=new, meta=dict(self.meta))

    @classmethod
    def start_values(cls) -> SynthParameters:
        """The hand-set start values of the calibration (not calibrated)."""
        return cls(values={s.name: s.start for s in PARAMETER_SPECS}, meta={"produced_by": "start values"})


def load_parameters(path: Path | None = None, *, fill_missing: bool = False) -> SynthParameters:
    """Read the parameter file (default: the calibrated ``parameters.yaml`` of the package).

    ``fill_missing=True`` takes the start value of parameters the file lacks (used to start a
    calibration after the model gained a parameter); otherwise a missing one is an error.

    Raises
    ------
    SpecError
        If the file is missing, a parameter is unknown or missing, or a value is out of bounds.
    """
    path = PARAMETERS_FILE if path is None else path
    if not path.is_file():
        raise SpecError(f"{path}: synthetic-model parameter file not found; run `postcart synth calibrate`")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or not isinstance(doc.get("parameters"), dict):
        raise SpecError(f"{path}: expected a mapping with a 'parameters' section")
    raw = doc["parameters"]
    values: dict[str, float] = {}
    problems: list[str] = []
    for name, entry in raw.items():
        spec = SPECS_BY_NAME.get(name)
        if spec is None:
            problems.append(f"unknown parameter {name!r}")
            continue
        value = entry.get("value") if isinstance(entry, dict) else entry
        if not isinstance(value, int | float):
            problems.append(f"parameter {name!r}: value {value!r} is not a number")
            continue
        if not spec.lower <= float(value) <= spec.upper:
            problems.append(f"parameter {name!r}: {value!r} outside [{spec.lower}, {spec.upper}]")
        values[name] = float(value)
    missing = sorted(set(SPECS_BY_NAME) - set(raw))
    if fill_missing:
        values.update({name: SPECS_BY_NAME[name].start for name in missing})
    else:
        problems.extend(f"missing parameter {name!r}" for name in missing)
    if problems:
        raise SpecError(f"{path}: " + "; ".join(problems))
    meta_raw = doc.get("meta")
    meta: dict[str, Any] = dict(meta_raw) if isinstance(meta_raw, dict) else {}
    return SynthParameters(values=values, meta=meta)


def dump_parameters(
    params: SynthParameters, path: Path, *, header: str, targets_used: Mapping[str, list[str]] | None = None
) -> None:
    """Write ``params`` to ``path`` with a comment ``header`` and each parameter's description."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines.append("")
    meta = dict(params.meta)
    meta.setdefault("written", _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    body: dict[str, Any] = {"meta": meta, "parameters": {}}
    for spec in PARAMETER_SPECS:
        entry: dict[str, Any] = {
            "value": round(float(params.values[spec.name]), 6),
            "doc": spec.description,
            "bounds": [spec.lower, spec.upper],
        }
        used = (targets_used or {}).get(spec.name)
        entry["calibrated_to"] = used if used else "fixed (hand-set, see docs/synth.md)"
        body["parameters"][spec.name] = entry
    text = "\n".join(lines) + "\n" + yaml.safe_dump(body, sort_keys=False, width=110)
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
