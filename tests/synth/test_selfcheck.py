"""The check of the model against pseudo-papers drawn from itself (``postcart.synth.selfcheck``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from postcart.study import TargetValue
from postcart.synth.check import TARGET_RULES, analyse_registry, evaluate_targets, load_paper_targets
from postcart.synth.generate import DEFAULT_N, simulate
from postcart.synth.selfcheck import SelfCheckResult, pseudo_paper, self_check


def test_pseudo_paper_keeps_the_paper_structure_and_takes_the_registry_numbers() -> None:
    paper = load_paper_targets()
    computed = {
        "surv_os2_median": TargetValue(value=6.0, ci_low=5.0, ci_high=None),
        "ft_median_months": TargetValue(value=2.5, ci_low=2.0, ci_high=3.0),
        "pop_failures_pct": TargetValue(value=40.0, n=200, denominator=500),
        "pop_failures_axicel": TargetValue(value=120.0),
        "trt_os2_logrank": TargetValue(value=0.03, p_value=0.03),
        "cox_mv_pfs2_bispecific": TargetValue(value=0.5, ci_low=0.2, ci_high=1.2),
    }
    pseudo = pseudo_paper(computed, paper)
    # the paper prints a CI for the OS-2 median: it is replaced, an upper limit not reached is "NR"
    assert (pseudo["surv_os2_median"].value, pseudo["surv_os2_median"].ci_low) == (6.0, 5.0)
    assert pseudo["surv_os2_median"].ci_high == "NR"
    # the paper prints no CI for the median time to failure: none is invented
    assert pseudo["ft_median_months"].ci_low is None and pseudo["ft_median_months"].ci_high is None
    # shares take the registry's own denominator, counts the registry's own base (failures n)
    assert (pseudo["pop_failures_pct"].value, pseudo["pop_failures_pct"].denominator) == (40.0, 500)
    assert (pseudo["pop_failures_axicel"].value, pseudo["pop_failures_axicel"].denominator) == (120, 200)
    assert (pseudo["trt_os2_logrank"].p_value, pseudo["trt_os2_logrank"].p_operator) == (0.03, "=")
    # "not reached" HRs need the paper's monotone likelihood: left out
    assert "cox_mv_pfs2_bispecific" not in pseudo
    # nothing computed, nothing made up
    assert "surv_pfs2_median" not in pseudo


def test_a_registry_checked_against_its_own_pseudo_paper_passes_every_target() -> None:
    reg = simulate(DEFAULT_N, rng=np.random.default_rng(5), params=None, seed=5)
    computed = analyse_registry(reg)[1].targets
    pseudo = pseudo_paper(computed)
    rows = evaluate_targets(computed, scale=1, goals="paper", paper=pseudo)
    assert len(rows) >= len(TARGET_RULES) - 10  # only non-estimable values and hr_nr are left out
    assert [r.id for r in rows if r.passed is not True] == []


def test_self_check_summary_statistics_on_hand_values() -> None:
    result = SelfCheckResult(
        pass_rates=(0.8, 0.85, 0.9, 0.95), n_assessed=(100, 100, 100, 100), misses={}, base_seed=1
    )
    assert result.pairs == 4
    assert math.isclose(result.mean, 0.875)
    assert math.isclose(result.quantile(0.5), 0.875)
    assert math.isclose(result.share_at_least(0.9), 0.5)
    assert "87.5% of 100 assessed targets" in result.summary()
    assert "50% of the pairs reach 90%" in result.summary()


@pytest.mark.slow
def test_self_check_is_reproducible_and_its_misses_add_up() -> None:
    first, again = self_check(2), self_check(2)
    assert first.pass_rates == again.pass_rates and dict(first.misses) == dict(again.misses)
    missed = sum(round((1 - r) * n) for r, n in zip(first.pass_rates, first.n_assessed, strict=True))
    assert sum(first.misses.values()) == missed > 0
    assert all(n >= len(TARGET_RULES) - 10 for n in first.n_assessed)


def test_pairs_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        self_check(0)
