"""Calibration of the synthetic model to the paper by simulation (``postcart synth calibrate``).

Method: a damped fixed-point iteration of the method of simulated moments, with common random
numbers and backtracking. Each iteration

1. simulates a large registry (default 100x the paper's size) with the *same* seed, so the
   statistics are deterministic, nearly smooth functions of the parameters;
2. runs the production pipeline on it (write extract -> strict import -> endpoints ->
   ``postcart.study.run_study``) and compares the computed targets with the paper
   (``postcart.synth.check.evaluate_targets``); the loss is the mean squared gap of the mapped
   targets on their link scales;
3. if the loss is the lowest so far, accepts the point and moves each calibrated parameter along
   its own target (``CALIBRATION_MAP``):
   ``theta <- theta + f * gain * sign * (g(paper) - g(simulated))`` where ``g`` is the logit for
   shares, the log for medians and hazard ratios; probabilities are moved on the logit scale
   and positive durations on the log scale, then clipped to their bounds; otherwise it rejects
   the point and retries the step from the best point with ``f`` halved. ``f`` grows back
   (x1.5, at most 1) after an accepted step.

The pairs are chosen so that each parameter has a first-order effect on its target (the "sign"
is that effect's direction). Coupled targets can make the plain fixed-point iteration oscillate
or drift; backtracking keeps the loss from ever increasing along the accepted path. The
iteration stops after ``iterations`` simulations, when every mapped target is within
``tolerance`` on its link scale, or when ``f`` falls below 1/64. The paper's values are read
from paper-targets.yaml only as the moments to fit; the output is the parameter file, whose
header says it was produced by this calibration, when, with which seed and size.
"""

from __future__ import annotations

import datetime as _dt
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from postcart.synth.check import TargetCheck, analyse_registry, evaluate_targets, load_paper_targets
from postcart.synth.generate import DEFAULT_N, simulate
from postcart.synth.parameters import (
    PARAMETERS_FILE,
    SPECS_BY_NAME,
    SynthParameters,
    dump_parameters,
    load_parameters,
)

Link = Literal["logit", "log"]
ParamScale = Literal["add", "logit", "log"]


@dataclass(frozen=True, slots=True)
class CalibrationStep:
    """One parameter fitted to one target: ``param`` moves by ``gain * sign * gap``."""

    param: str
    target: str
    link: Link
    sign: int
    gain: float = 1.0
    scale: ParamScale = "add"


def _c(
    param: str, target: str, link: Link, sign: int, gain: float = 1.0, scale: ParamScale = "add"
) -> CalibrationStep:
    return CalibrationStep(param, target, link, sign, gain, scale)


#: Which parameter is fitted to which target (the rest stay at their hand-set values).
CALIBRATION_MAP: tuple[CalibrationStep, ...] = (
    # flow and CAR-T course
    _c("logit_dropout", "pop_infused", "logit", -1),
    _c("logit_axicel", "pop_axicel", "logit", +1),
    _c("logit_relapse", "pop_failures_pct", "logit", +1),
    _c("logit_refractory", "pop_responders_all", "logit", -1, 0.8),
    _c("mu_refractory_days", "ft_very_early_pct", "logit", -1, 0.3),
    _c("p_d90_eval_before", "ft_late_pct", "logit", -1, 1.0, "logit"),
    _c("mu_relapse_days", "surv_dor_median", "log", +1, 0.5),
    _c("mu_relapse_pr_days", "ft_early_pct", "logit", -1, 0.3),
    _c("p_detect_relapse_at_visit", "ft_median_months", "log", +1, 1.0, "logit"),
    _c("p_car_response_unrecorded", "pop_nonprog_pr_pct", "logit", -1, 0.7, "logit"),
    _c("b_refractory_tisacel", "pop_failures_tisacel", "logit", +1, 0.8),
    _c("logit_cr", "pop_nonprog_cr_pct", "logit", +1),
    _c("p_sd", "pop_nonprog_sd_pct", "logit", +1, 0.1, "logit"),
    _c("logit_nrm", "surv_pfs_all_6m", "logit", -1, 0.8),
    _c("mu_nrm_days", "surv_pfs_all_median", "log", +1, 0.5),
    _c("sd_relapse_days", "surv_dor_6m", "logit", +1, 0.5, "log"),
    _c("accrual_power", "fu_median_all", "log", -1, 2.0),
    # baseline characteristics of the failures
    _c("logit_ecog_ge2", "base_ecog_ge2_pct", "logit", +1),
    _c("mu_ldh_ratio", "base_aaipi_2_3_pct", "logit", +1, 0.5),
    _c("d0_ldh_shift", "base_ldh_high_d0_pct", "logit", +1, 0.5),
    _c("lines_lambda", "base_lines_gt3_pct", "logit", +1, 0.6, "log"),
    _c("logit_prior_asct", "base_prior_auto", "logit", +1),
    _c("p_prior_allo", "base_prior_allo", "logit", +1, 0.7, "logit"),
    _c("p_bridged", "base_bridging_any_pct", "logit", +1, 1.0, "logit"),
    _c("p_bridge_lowdose", "base_bridging_lowdose_pct", "logit", +1, 1.0, "logit"),
    _c("p_bridge_rt", "base_bridging_rt_pct", "logit", +1, 1.0, "logit"),
    _c("logit_pd_at_infusion", "base_pd_at_infusion_pct", "logit", +1),
    _c("p_hist_dlbcl", "base_dlbcl_pct", "logit", +1, 1.0, "logit"),
    # salvage
    _c("logit_treated", "pop_salvage_data_pct", "logit", +1),
    _c("p_response_missing", "pop_response_data_pct", "logit", -1, 1.0, "logit"),
    _c("w_class_lenalidomide", "st_lenalidomide_pct", "logit", +1, 1.0, "log"),
    _c("w_class_bispecific", "st_bispecific_pct", "logit", +1, 1.0, "log"),
    _c("w_class_targeted", "st_targeted_pct", "logit", +1, 1.0, "log"),
    _c("w_class_radiotherapy", "st_radiotherapy_pct", "logit", +1, 1.0, "log"),
    _c("w_class_immunochemotherapy", "st_immunochemo_pct", "logit", +1, 1.0, "log"),
    _c("p_rt_localized", "st_rt_localized_n", "logit", +1, 1.0, "logit"),
    _c("p_salvage_pd_eval", "resp_orr_pct", "logit", -1, 0.7, "logit"),
    _c("log_os2_scale_days", "resp_pd_pct", "logit", +1, 0.5),
    _c("logit_salvage_cr", "resp_cr_pct", "logit", +1),
    _c("p_salvage_sd", "resp_sd_pct", "logit", +1, 0.1, "logit"),
    # post-failure survival: scales on the reference class, untreated effect on the pooled
    _c("eval_lag_days", "surv_pfs2_median", "log", +1, 0.6, "log"),
    _c("log_pfs2_scale_days", "surv_pfs2_event_12m", "logit", -1, 0.5),
    _c("b_p2_untreated", "surv_pfs2_median", "log", -1, 0.8),
    _c("log_pps_scale_days", "trt_os2_median_immunochemo", "log", +1, 0.8),
    _c("b_d2_untreated", "surv_os2_median", "log", -1, 0.8),
    _c("b_p2_late", "tim_pfs2_median_late", "log", -1, 0.8),
    _c("b_d2_late", "tim_os2_median_late", "log", -1, 0.8),
    _c("b_p2_rt_localized", "trt_pfs2_median_rt", "log", -1, 0.8),
    _c("b_d2_rt_localized", "trt_os2_median_rt", "log", -1, 0.8),
    # hazard ratios (Cox, through the pipeline)
    _c("b_d2_ldh", "cox_mv_os2_ldh_high", "log", +1, 0.8),
    _c("b_d2_crp", "cox_uni_os2_crp", "log", +1, 0.8),
    _c("b_d2_very_early", "tim_os2_median_very_early", "log", -1, 0.8),
    _c("b_d2_ecog", "cox_uni_os2_ecog_ge2", "log", +1, 0.8),
    _c("b_d2_ferritin", "cox_uni_os2_ferritin", "log", +1, 0.8),
    _c("b_d2_lenalidomide", "trt_os2_median_lenalidomide", "log", -1, 0.8),
    _c("b_d2_targeted", "cox_mv_os2_targeted", "log", +1, 0.6),
    _c("b_d2_bispecific", "trt_os2_median_bispecific", "log", -1, 0.5),
    _c("b_targeted_burden", "cox_uni_os2_targeted", "log", +1, 1.0),
    _c("b_p2_ldh", "cox_mv_pfs2_ldh_high", "log", +1, 0.8),
    _c("b_p2_ferritin", "cox_mv_pfs2_ferritin", "log", +1, 0.8),
    _c("b_p2_ecog", "cox_uni_pfs2_ecog_ge2", "log", +1, 0.8),
    _c("b_p2_crp", "cox_uni_pfs2_crp", "log", +1, 0.8),
    _c("b_p2_very_early", "tim_pfs2_median_very_early", "log", -1, 0.8),
    _c("b_p2_lenalidomide", "cox_uni_pfs2_lenalidomide", "log", +1, 0.8),
    _c("b_p2_targeted", "cox_mv_pfs2_targeted", "log", +1, 0.6),
    _c("b_p2_bispecific", "trt_pfs2_median_bispecific", "log", -1, 0.5),
    _c("b_p2_immunochemo", "trt_pfs2_median_immunochemo", "log", -1, 0.8),
)
#: Largest move of one parameter in one iteration, on its own scale.
MAX_STEP = 0.3


def _link(x: float, link: Link) -> float:
    if link == "log":
        return math.log(max(x, 1e-6))
    p = min(max(x / 100.0, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _move(value: float, delta: float, scale: ParamScale, lower: float, upper: float) -> float:
    delta = max(-MAX_STEP, min(MAX_STEP, delta))
    if scale == "log":
        new = math.exp(math.log(max(value, 1e-9)) + delta)
    elif scale == "logit":
        v = min(max(value, 1e-6), 1 - 1e-6)
        new = 1.0 / (1.0 + math.exp(-(math.log(v / (1 - v)) + delta)))
    else:
        new = value + delta
    return min(max(new, lower), upper)


@dataclass(frozen=True, slots=True)
class CalibrationResult:
    """Fitted parameters (the best point evaluated), the largest gap per simulation, the
    comparison at the returned parameters and the trace of every simulation (its loss, whether
    it was accepted, the step factor that produced it and the mapped parameters' values)."""

    params: SynthParameters
    history: tuple[float, ...]
    last_checks: tuple[TargetCheck, ...]
    trace: tuple[dict[str, float], ...]
    iterations: int
    accepted_steps: int
    seed: int
    scale: int
    elapsed_seconds: float
    #: ``"fixed-point"`` (this module) or ``"lm"`` (joint least squares, ``postcart.synth.fit``).
    method: str = "fixed-point"
    #: Every seed of the common random numbers (``lm`` may average its loss over several; empty:
    #: ``seed`` alone).
    seeds: tuple[int, ...] = ()


#: Compares the model at some parameter values with the paper (one simulation).
Evaluator = Callable[[SynthParameters], tuple[TargetCheck, ...]]

#: Loss contribution of a mapped target the simulation could not estimate (e.g. a median that
#: became "not reached"): as large as a gap of 1 on the link scale, so losing a target never
#: lowers the loss.
MISSING_PENALTY = 1.0


def pipeline_evaluator(scale: int, seed: int) -> Evaluator:
    """Simulate ``680 * scale`` registered patients with ``seed`` (common random numbers), run the
    production pipeline and compare with the paper at the 100x goals."""
    paper = load_paper_targets()

    def evaluate(params: SynthParameters) -> tuple[TargetCheck, ...]:
        reg = simulate(DEFAULT_N * scale, rng=np.random.default_rng(seed), params=params, seed=seed)
        _endpoints, study, _ = analyse_registry(reg)
        return evaluate_targets(study.targets, scale=scale, goals="large", paper=paper)

    return evaluate


def _gaps(
    checks: tuple[TargetCheck, ...],
) -> tuple[float, float, str, list[tuple[CalibrationStep, float]]]:
    """Loss, largest gap and its target, and each mapped parameter's step (before the factor)."""
    by_id = {c.id: c for c in checks}
    steps: list[tuple[CalibrationStep, float]] = []
    squares: list[float] = []
    worst, worst_id = 0.0, ""
    for step in CALIBRATION_MAP:
        c = by_id.get(step.target)
        if c is None or c.sim_value is None or c.paper_value is None:
            squares.append(MISSING_PENALTY)
            continue
        if step.link == "logit" and not 0.0 < c.sim_value < 100.0:
            squares.append(MISSING_PENALTY)  # degenerate share: leave the parameter alone
            continue
        gap = _link(c.paper_value, step.link) - _link(c.sim_value, step.link)
        if c.paper_value < 2.0 and step.link == "logit":
            gap = max(-1.0, min(1.0, gap))  # shares of ~1%: a few patients; keep out of the loss
        else:
            squares.append(gap * gap)
        if abs(gap) > worst:
            worst, worst_id = abs(gap), step.target
        # clip first, then scale by the step factor: halving a step always halves the move
        steps.append((step, max(-MAX_STEP, min(MAX_STEP, step.gain * step.sign * gap))))
    loss = float(np.mean(squares)) if squares else 0.0
    return loss, worst, worst_id, steps


def calibrate(
    *,
    start: SynthParameters | None = None,
    scale: int = 100,
    seed: int = 1,
    iterations: int = 20,
    tolerance: float = 0.02,
    progress: Callable[[str], None] | None = None,
    evaluate: Evaluator | None = None,
) -> CalibrationResult:
    """Fit the mapped parameters by simulation (see the module docstring).

    Each iteration simulates the registry at the proposed parameters (common random numbers:
    the same seed every time, so the loss is a deterministic function of the parameters) and
    computes the loss, the mean squared gap of the mapped targets on their link scales (a target
    the simulation cannot estimate counts ``MISSING_PENALTY``). A proposal that lowers the loss
    is accepted and the next step is taken from it (the step factor grows back towards 1); one
    that does not is rejected, and the step from the best point so far is retried at half the
    size (backtracking). So the returned point is the best one evaluated.

    Parameters
    ----------
    start
        Starting values (default: the current parameter file).
    scale
        Size of the simulated registry, in multiples of the paper's 680 registered.
    seed
        Seed of the common random numbers.
    iterations
        Maximum number of simulations (accepted and rejected).
    tolerance
        Stop when every mapped target is this close on its link scale.
    evaluate
        The comparison of one parameter set with the paper (default: ``pipeline_evaluator``);
        tests pass a cheap stand-in.
    """
    say = progress or (lambda _s: None)
    t0 = time.perf_counter()
    params = load_parameters(fill_missing=True) if start is None else start
    evaluate = pipeline_evaluator(scale, seed) if evaluate is None else evaluate
    history: list[float] = []
    best: tuple[float, SynthParameters, tuple[TargetCheck, ...], list[tuple[CalibrationStep, float]]] | None
    best = None
    best_worst = math.inf
    factor = 1.0
    accepted_steps = 0
    done_iterations = 0
    trace: list[dict[str, float]] = []
    for it in range(1, iterations + 1):
        checks = evaluate(params)
        loss, worst, worst_id, steps = _gaps(checks)
        history.append(worst)
        accepted = best is None or loss < best[0]
        trace.append(
            {
                "iteration": it,
                "loss": loss,
                "accepted": float(accepted),
                "factor": factor if it > 1 else 0.0,
                **{s.param: params[s.param] for s in CALIBRATION_MAP},
            }
        )
        if accepted:
            if best is not None:
                accepted_steps += 1
                factor = min(1.0, factor * 1.5)
            best = (loss, params, checks, steps)
            best_worst = worst
        else:
            factor *= 0.5
        passed = sum(c.passed is True for c in checks)
        assessed = sum(c.passed is not None for c in checks)
        say(
            f"iteration {it}/{iterations}: mean squared gap {loss:.4f} "
            f"({'accepted' if accepted else 'rejected, step halved'}), largest {worst:.3f} ({worst_id}); "
            f"{passed}/{assessed} targets within the 100x goals; {time.perf_counter() - t0:.0f} s"
        )
        done_iterations = it
        if best_worst <= tolerance or factor < 1.0 / 64:
            break
        assert best is not None
        changes: dict[str, float] = {}
        for step, delta in best[3]:
            spec = SPECS_BY_NAME[step.param]
            current = changes.get(step.param, best[1][step.param])
            changes[step.param] = _move(current, factor * delta, step.scale, spec.lower, spec.upper)
        params = best[1].replace(**changes)
    assert best is not None
    loss, params, checks, _steps = best
    meta = {
        "produced_by": "postcart synth calibrate (postcart.synth.calibrate.calibrate)",
        "calibrated_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seed": seed,
        "registered_per_iteration": DEFAULT_N * scale,
        "iterations": done_iterations,
        "accepted_steps": accepted_steps,
        "best_mean_squared_gap": round(loss, 5),
    }
    params = SynthParameters(values=dict(params.values), meta=meta)
    return CalibrationResult(
        trace=tuple(trace),
        params=params,
        history=tuple(history),
        last_checks=checks,
        iterations=done_iterations,
        accepted_steps=accepted_steps,
        seed=seed,
        scale=scale,
        elapsed_seconds=time.perf_counter() - t0,
    )


def write_calibrated(result: CalibrationResult, path: Path = PARAMETERS_FILE) -> Path:
    """Write the fitted parameters with a header saying how, when and with which seed."""
    used: dict[str, list[str]] = {}
    for step in CALIBRATION_MAP:
        used.setdefault(step.param, []).append(step.target)
    if result.method == "lm":
        from postcart.synth.fit import free_parameters

        used = {f.name: ["every target assessed at 100x (joint fit)"] for f in free_parameters()}
        how = (
            "by simulation (joint least squares on every target assessed at 100x: scipy\n"
            "least_squares, Huber loss (meta.objective), finite-difference Jacobian; common\n"
            "random numbers on "
            f"{DEFAULT_N * result.scale} simulated registered patients per simulation,\n"
            + (
                f"seeds {', '.join(map(str, result.seeds))} (the loss is the mean over them; each point\n"
                f"simulated on every seed), {result.iterations} points in {result.accepted_steps} Jacobian"
                if len(result.seeds) > 1
                else f"seed {result.seed}, {result.iterations} simulations in "
                f"{result.accepted_steps} Jacobian"
            )
            + " evaluations,\n"
        )
    else:
        how = (
            "by simulation (damped fixed-point iteration with backtracking, common\n"
            "random numbers on "
            f"{DEFAULT_N * result.scale} simulated registered patients per iteration, seed {result.seed},\n"
            f"{result.iterations} simulations of which {result.accepted_steps} accepted steps"
            " from the start,\n"
        )
    header = (
        "Parameters of the synthetic DESCAR-T-like registry (postcart.synth).\n"
        "PRODUCED BY CALIBRATION: `postcart synth calibrate` fitted the parameters marked\n"
        "'calibrated_to' " + how + f"on {result.params.meta.get('calibrated_utc')}), comparing the\n"
        "production pipeline's statistics with paper-targets.yaml. The other parameters are\n"
        "hand-set (docs/synth.md says why). Edit by re-running the calibration, not by hand."
    )
    dump_parameters(result.params, path, header=header, targets_used=used)
    return path


def parameter_table(params: SynthParameters | None = None) -> str:
    """Markdown table of every parameter: value, meaning and the target it is fitted to (for a
    file from the joint fit, every free parameter is fitted to all targets; the fixed-point
    map's pairing is shown in brackets).

    This is the "Every parameter" table of docs/synth.md (``scripts/synth_docs.py`` writes it;
    a test keeps the two in step).
    """
    params = load_parameters() if params is None else params
    fitted: dict[str, list[str]] = {}
    for step in CALIBRATION_MAP:
        fitted.setdefault(step.param, []).append(step.target)
    joint: set[str] = set()
    if "--method lm" in str(params.meta.get("produced_by", "")):
        from postcart.synth.fit import free_parameters

        joint = {f.name for f in free_parameters()}
    lines = ["| parameter | value | meaning | fitted to |", "|---|---|---|---|"]
    for name, spec in SPECS_BY_NAME.items():
        target = ", ".join(f"`{t}`" for t in fitted.get(name, [])) or "hand-set"
        if name in joint:
            paired = f" (fixed-point map: {target})" if name in fitted else ""
            target = "joint fit, all 100x targets" + paired
        lines.append(f"| `{name}` | {params[name]:.4g} | {spec.description} | {target} |")
    return "\n".join(lines)
