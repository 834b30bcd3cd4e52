"""The joint least-squares calibration (``postcart.synth.fit``) and the common random numbers it
relies on. The pipeline is replaced by hand-built responses whose solution is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from postcart.synth.check import TargetCheck, load_paper_targets
from postcart.synth.fit import (
    MISSING_RESIDUAL,
    fit,
    free_parameters,
    from_vector,
    residual_ids,
    scaled_residuals,
    to_vector,
)
from postcart.synth.parameters import SPECS_BY_NAME, SynthParameters


def _check(tid: str, kind: str, paper: float, sim: float | None) -> TargetCheck:
    return TargetCheck(tid, kind, "", "", "", "", sim is not None, paper, sim)


def test_residuals_are_gaps_in_units_of_the_100x_goal() -> None:
    paper = load_paper_targets()
    hr = paper["cox_uni_pfs2_ldh_high"]  # 2.66 (1.74-4.06)
    checks = (
        _check("pop_failures_pct", "percent", 43.3, 46.3),  # +3 points, goal 2 -> 1.5
        _check("surv_os2_median", "median", 5.2, 4.68),  # -10 % of 5.2 -> -1.0 exactly at the goal
        _check("cox_uni_pfs2_ldh_high", "hr", float(hr.value), 4.065),  # at the widened upper limit
        _check("cox_uni_os2_ecog_ge2", "hr", 2.37, 2.37 * math.sqrt(1.43 / 2.37)),  # halfway down
        _check("surv_dor_median", "median", 11.1, None),  # not estimable
        TargetCheck("tim_pfs2_logrank", "p", "", "", "", "", None, 0.0001, 1e-9),  # not assessed
    )
    ids = residual_ids(checks)
    assert "tim_pfs2_logrank" not in ids
    r = dict(zip(ids, scaled_residuals(checks, ids, paper), strict=True))
    assert r["pop_failures_pct"] == pytest.approx(1.5)
    assert r["surv_os2_median"] == pytest.approx(-1.0)
    assert r["cox_uni_pfs2_ldh_high"] == pytest.approx(1.0)
    # lower side: log-distance to the lower limit 1.43 widened by half a printed unit (1.425)
    expected = 0.5 * math.log(1.43 / 2.37) / math.log(2.37 / 1.425)
    assert r["cox_uni_os2_ecog_ge2"] == pytest.approx(expected)  # negative: below the paper
    assert r["surv_dor_median"] == MISSING_RESIDUAL


def test_a_failed_target_never_gets_a_passing_residual() -> None:
    """The residual agrees with the check's verdict: an HR whose value is inside the CI but
    which the check failed (fit not estimable) counts as a miss."""
    paper = load_paper_targets()
    inside_but_failed = TargetCheck("cox_uni_os2_bispecific", "hr", "", "", "", "", False, 0.51, 0.55)
    inside_and_passed = TargetCheck("cox_uni_os2_bispecific", "hr", "", "", "", "", True, 0.51, 0.55)
    ids = ("cox_uni_os2_bispecific",)
    assert abs(scaled_residuals((inside_but_failed,), ids, paper)[0]) > 1.0
    assert abs(scaled_residuals((inside_and_passed,), ids, paper)[0]) < 1.0


def test_vector_round_trip_respects_scales_and_bounds() -> None:
    free = free_parameters()
    base = SynthParameters.start_values()
    x = to_vector(base, free)
    back = from_vector(x, base, free)
    for f in free:
        assert back[f.name] == pytest.approx(base[f.name], rel=1e-9, abs=1e-9)
    # far outside: clipped to the parameter's bounds
    high, low = from_vector(x + 100.0, base, free), from_vector(x - 100.0, base, free)
    for f in free:
        assert high[f.name] <= SPECS_BY_NAME[f.name].upper
        assert low[f.name] >= SPECS_BY_NAME[f.name].lower


def _coupled_evaluator():  # type: ignore[no-untyped-def]
    """Three shares that each depend on two parameters (so a one-parameter-per-target map
    would chase its tail); the paper's values are hit exactly at ``truth``."""
    truth = {"logit_dropout": -1.5, "logit_axicel": 0.3, "logit_relapse": 1.0}
    names = list(truth)
    a = np.array([[1.0, 0.8, 0.0], [0.0, 1.0, -0.9], [0.7, 0.0, 1.0]])
    paper = {"pop_infused": 80.9, "pop_axicel": 63.6, "pop_failures_pct": 43.3}

    def share(p0: float, shift: float) -> float:
        lp = math.log(p0 / (100 - p0)) + shift
        return 100 / (1 + math.exp(-lp))

    def evaluate(params):  # type: ignore[no-untyped-def]
        d = np.array([params[n] - truth[n] for n in names])
        shifts = a @ d
        return tuple(
            _check(tid, "percent", p0, share(p0, s))
            for (tid, p0), s in zip(paper.items(), shifts, strict=True)
        )

    return truth, evaluate


def test_joint_fit_solves_a_coupled_problem_from_a_distant_start() -> None:
    truth, evaluate = _coupled_evaluator()
    start = SynthParameters.start_values().replace(logit_dropout=0.5, logit_axicel=-1.0, logit_relapse=-1.0)
    before = evaluate(start)
    assert max(abs(c.sim_value - c.paper_value) for c in before) > 10  # type: ignore[operator]
    result = fit(start=start, evaluate=evaluate, max_jacobians=12)
    for c in result.last_checks:
        assert abs(c.sim_value - c.paper_value) < 0.2  # type: ignore[operator]
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, abs=0.02)
    assert result.method == "lm"
    assert result.params.meta["best_huber_loss"] < result.params.meta["start_huber_loss"]
    # parameters the targets do not depend on are left where they were
    assert result.params["logit_cr"] == pytest.approx(start["logit_cr"])


def test_the_margin_hinge_moves_the_fit_to_its_hand_worked_optimum() -> None:
    """Two targets that pull one parameter p apart: residuals r1 = 2p and r2 = p - 1.5 (in
    tolerances). Both stay in the Huber loss's quadratic zone, so by hand:

    * no margin: minimise (2p)^2 + (p - 1.5)^2, so 8p + 2(p - 1.5) = 0, p = 0.3, r2 = -1.2 misses;
    * margin weight 3 beyond 0.8: add 9 (2p - 0.8)^2 + 9 (0.7 - p)^2, so 100p - 44.4 = 0,
      p = 0.444: r1 = 0.888, r2 = -1.056, the worst target moves towards its goal."""
    paper = {"pop_infused": 80.9, "pop_axicel": 63.6}

    def evaluate(params):  # type: ignore[no-untyped-def]
        p = params["b_pps_immunochemo"]  # an additive parameter of the fit
        sims = {"pop_infused": 80.9 + 2.0 * (2.0 * p), "pop_axicel": 63.6 + 2.0 * (p - 1.5)}
        return tuple(_check(tid, "percent", pv, sims[tid]) for tid, pv in paper.items())

    start = SynthParameters.start_values()
    plain = fit(start=start, evaluate=evaluate, max_jacobians=4)
    margin = fit(start=start, evaluate=evaluate, max_jacobians=4, margin_weight=3.0)
    assert plain.params["b_pps_immunochemo"] == pytest.approx(0.3, abs=1e-3)
    assert margin.params["b_pps_immunochemo"] == pytest.approx(0.444, abs=1e-3)
    # the loss kept is the objective at the optimum: 0.6^2 + 1.2^2 = 1.80 without the margin;
    # 0.888^2 + 1.056^2 + 0.264^2 + 0.768^2 = 2.563 with it
    assert plain.params.meta["best_huber_loss"] == pytest.approx(1.80, abs=1e-3)
    assert margin.params.meta["best_huber_loss"] == pytest.approx(2.563, abs=1e-3)
    assert "no margin" in plain.params.meta["objective"]
    assert "margin weight 3" in margin.params.meta["objective"]


def test_several_seeds_fit_the_mean_loss_which_charges_the_spread_between_seeds() -> None:
    """One target whose residual (in tolerances) is r_s = (p - 0.6) + e_s (1 - p / 2) on seed s,
    with e = +1 on seed 3 and -1 on seed 7: centre p - 0.6, spread between seeds 1 - p / 2. By hand
    (at each optimum every |r| is inside the Huber loss's quadratic zone, |r| <= 1.5):

    * seed 3 alone: r = 0.4 + p / 2, so p = -0.8 (inside the parameter's bound, -3);
    * seed 7 alone: r = 1.5 p - 1.6, so p = 16 / 15;
    * both: minimise (0.4 + 0.5 p)^2 + (1.5 p - 1.6)^2, so 2.5 p - 2.2 = 0, p = 0.88 (r = 0.84 and
      -0.28; loss (0.84^2 + 0.28^2) / 2 = 0.392, the mean over the seeds);
    * a fit of the pooled statistic (the mean residual over the seeds, p - 0.6) would give p = 0.6.
    """
    noise = {3: 1.0, 7: -1.0}

    def evaluator(seed: int):  # type: ignore[no-untyped-def]
        def evaluate(params):  # type: ignore[no-untyped-def]
            p = params["b_pps_immunochemo"]  # an additive parameter of the fit
            r = (p - 0.6) + noise[seed] * (1.0 - p / 2.0)
            return (_check("pop_infused", "percent", 80.9, 80.9 + 2.0 * r),)

        return evaluate

    start = SynthParameters.start_values()
    one = {s: fit(start=start, evaluate=evaluator(s), seed=s, max_jacobians=4) for s in noise}
    both = fit(start=start, evaluate={s: evaluator(s) for s in noise}, seed=(3, 7), max_jacobians=4)
    assert one[3].params["b_pps_immunochemo"] == pytest.approx(-0.8, abs=1e-3)
    assert one[7].params["b_pps_immunochemo"] == pytest.approx(16 / 15, abs=1e-3)
    assert both.params["b_pps_immunochemo"] == pytest.approx(0.88, abs=1e-3)
    assert both.params.meta["best_huber_loss"] == pytest.approx(0.392, abs=1e-3)
    assert both.params.meta["seed"] == 3 and both.params.meta["seeds"] == [3, 7]
    assert "mean over 2 seeds" in str(both.params.meta["objective"])
    assert both.seeds == (3, 7) and "seeds" not in one[3].params.meta
    # the trace counts targets per seed (one target, which the stub always marks passed)
    assert both.trace[-1]["assessed"] == 1.0 and both.trace[-1]["passed"] == 1.0
    best = min(both.trace, key=lambda t: t["loss"])
    assert best["loss"] == pytest.approx(0.392, abs=1e-3)
    # numpy integers are seeds too (a seed range built with numpy)
    both_stubs = {s: evaluator(s) for s in noise}
    from_numpy = fit(start=start, evaluate=both_stubs, seed=np.array([3, 7]), max_jacobians=1)
    assert from_numpy.seeds == (3, 7) and from_numpy.params.meta["seeds"] == [3, 7]
    assert fit(start=start, evaluate=evaluator(7), seed=np.int64(7), max_jacobians=1).seeds == (7,)


def test_the_seeds_of_a_fit_are_distinct_and_each_has_its_evaluator() -> None:
    truth, evaluate = _coupled_evaluator()
    start = SynthParameters.start_values()
    with pytest.raises(ValueError, match="distinct"):
        fit(start=start, evaluate={1: evaluate}, seed=(1, 1))
    with pytest.raises(ValueError, match="at least one seed"):
        fit(start=start, evaluate=evaluate, seed=())
    with pytest.raises(ValueError, match="one evaluator per seed"):
        fit(start=start, evaluate=evaluate, seed=(1, 2))
    with pytest.raises(ValueError, match="one evaluator per seed"):
        fit(start=start, evaluate={1: evaluate, 3: evaluate}, seed=(1, 2))


def test_the_fit_stops_at_its_budget_or_on_ctrl_c_and_keeps_its_best_point() -> None:
    truth, evaluate = _coupled_evaluator()
    start = SynthParameters.start_values().replace(logit_dropout=0.5, logit_axicel=-1.0, logit_relapse=-1.0)
    one = fit(start=start, evaluate=evaluate, max_jacobians=1)
    assert one.accepted_steps == 1 and "budget" in one.params.meta["stopped"]
    assert one.params.meta["best_huber_loss"] == round(min(t["loss"] for t in one.trace), 3)

    calls = 0

    def interrupted(params):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls > 100:  # during the second Jacobian
            raise KeyboardInterrupt
        return evaluate(params)

    stopped = fit(start=start, evaluate=interrupted, max_jacobians=5)
    assert "interrupted" in stopped.params.meta["stopped"]
    assert stopped.iterations < calls  # the interrupted batch (a Jacobian) is not recorded
    assert stopped.params.meta["best_huber_loss"] < stopped.params.meta["start_huber_loss"]


def test_no_random_draw_of_the_model_depends_on_a_parameter_value() -> None:
    """Common random numbers for every free parameter of the fit (and the hand-set shapes of
    the gamma lags): perturbing one leaves the generator in the same state after the cohort,
    i.e. the model consumed exactly the same random numbers."""
    from postcart.synth.model import simulate_cohort

    base = SynthParameters.start_values()
    rng = np.random.default_rng(3)
    simulate_cohort(base, 500, rng)
    reference = rng.bit_generator.state
    names = [f.name for f in free_parameters()] + ["eval_lag_shape", "p2_delay_days", "salvage_delay_days"]
    for name in names:
        spec = SPECS_BY_NAME[name]
        moved = min(max(base[name] * 1.3 + 0.05, spec.lower), spec.upper)
        assert moved != base[name], name
        rng = np.random.default_rng(3)
        simulate_cohort(base.replace(**{name: moved}), 500, rng)
        assert rng.bit_generator.state == reference, f"{name} changes how many random numbers are drawn"


def test_model_draws_do_not_shift_when_a_count_parameter_changes() -> None:
    """Common random numbers: a Poisson mean is drawn by inversion, so the rest of the cohort
    is drawn from the same numbers whatever the mean (numpy's own Poisson sampler consumes a
    mean-dependent number of uniforms, which reshuffled everything drawn after it)."""
    from postcart.synth.model import simulate_cohort

    base = SynthParameters.start_values()
    a = simulate_cohort(base, 3000, np.random.default_rng(7))
    b = simulate_cohort(
        base.replace(lines_lambda=3.5, log_extranodal_mean=0.6), 3000, np.random.default_rng(7)
    )
    assert a.prior_lines.mean() < b.prior_lines.mean() and a.extranodal.mean() < b.extranodal.mean()
    for name in ("burden", "age", "inf_day", "fail_rel", "death_day", "p2_rel", "salvage_response"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_poisson_inversion_matches_scipy_quantiles() -> None:
    """The model's capped Poisson inversion equals scipy's quantile function at the same
    uniforms (the independent reference), capped."""
    import scipy.stats

    from postcart.synth.model import _poisson

    lam = np.exp(np.random.default_rng(5).normal(0.5, 0.8, 50_000))
    ours = _poisson(np.random.default_rng(9), lam, cap=8)
    reference = np.minimum(scipy.stats.poisson.ppf(np.random.default_rng(9).random(lam.size), lam), 8)
    np.testing.assert_array_equal(ours, reference)
    assert (ours == 8).sum() > 100  # the cap is exercised
