"""The study runner: populations, counts, Table 1 and targets against hand counts on the table.

Every expected value here is computed directly from the fake analysis table with plain pandas
(or by hand on a tiny table), never with postcart.study itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta

from postcart.errors import SpecError
from postcart.study import StudyResult, run_study
from study.fake_table import fake_analysis_table


def _is(s: pd.Series) -> pd.Series:
    return s.astype("boolean").fillna(False).astype(bool)


def test_flow_counts_equal_direct_counts_on_the_table(
    fake_table: pd.DataFrame, fake_result: StudyResult
) -> None:
    t = fake_table
    failed = _is(t["failed"])
    treated = failed & (t["salvage_status"] == "treated")
    evaluable = treated & _is(t["salvage_response_evaluable"])
    flow = fake_result.flow
    assert flow.step("registered").n == len(t)
    assert flow.step("infused").n == int(_is(t["infused"]).sum())
    assert flow.step("failures").n == int(failed.sum())
    assert flow.step("salvage").n == int(treated.sum())
    assert flow.step("response_evaluable").n == int(evaluable.sum())
    excl = dict(flow.step("failures").exclusions)
    assert excl["no further treatment recorded"] == int((failed & (t["salvage_status"] == "none")).sum())
    assert sum(excl.values()) == int(failed.sum() - treated.sum())


def test_targets_percentages_are_unrounded_hand_ratios(
    fake_table: pd.DataFrame, fake_result: StudyResult
) -> None:
    t = fake_table
    failed = _is(t["failed"])
    infused = _is(t["infused"])
    tg = fake_result.targets
    assert tg["pop_failures_pct"].value == pytest.approx(100 * failed.sum() / infused.sum(), rel=1e-12)
    very_early = (t["timing_group"] == "very_early") & failed
    assert tg["ft_very_early_pct"].value == pytest.approx(100 * very_early.sum() / failed.sum(), rel=1e-12)
    months = t.loc[failed, "months_to_failure"]
    assert tg["ft_median_months"].value == pytest.approx(float(np.median(months)), rel=1e-12)
    assert tg["ft_min_months"].value == pytest.approx(float(months.min()), rel=1e-12)
    treated = failed & (t["salvage_status"] == "treated")
    len_n = int((treated & (t["salvage_class"] == "lenalidomide")).sum())
    assert tg["st_lenalidomide_pct"].value == pytest.approx(100 * len_n / treated.sum(), rel=1e-12)
    # percent over patients with a known value (aaIPI has missing values)
    aa = t.loc[failed, "dec_aaipi_2_3"]
    assert tg["base_aaipi_2_3_pct"].denominator == int(aa.notna().sum())
    assert tg["base_aaipi_2_3_pct"].value == pytest.approx(100 * aa.sum() / aa.notna().sum(), rel=1e-12)


def test_response_rates_have_clopper_pearson_limits(
    fake_table: pd.DataFrame, fake_result: StudyResult
) -> None:
    t = fake_table
    ev = _is(t["failed"]) & (t["salvage_status"] == "treated") & _is(t["salvage_response_evaluable"])
    resp = t.loc[ev, "salvage_best_response"]
    n, k = int(ev.sum()), int(resp.isin(["cr", "pr"]).sum())
    orr = fake_result.targets["resp_orr_pct"]
    assert (orr.n, orr.denominator) == (k, n)
    # Clopper-Pearson: beta quantiles (independent of postcart.stats)
    lo = beta.ppf(0.025, k, n - k + 1) if k else 0.0
    hi = beta.ppf(0.975, k + 1, n - k) if k < n else 1.0
    assert orr.ci_low == pytest.approx(100 * lo, rel=1e-8)
    assert orr.ci_high == pytest.approx(100 * hi, rel=1e-8)


def _tiny_table() -> pd.DataFrame:
    t = fake_analysis_table(60, seed=3)
    # make the first 8 patients failures with hand-set values; drop everyone else from failures
    t["failed"] = pd.array([i < 8 for i in range(len(t))], dtype="boolean")
    t.loc[:7, "infused"] = True
    t.loc[:7, "product"] = ["axi-cel"] * 4 + ["tisa-cel"] * 4
    t.loc[:7, "age_years"] = [30.0, 40.0, 50.0, 60.0, 35.0, 45.0, 55.0, 65.0]
    t["prior_asct"] = pd.array(
        [True, False, True, None, False, False, True, False] + [False] * 52, dtype="boolean"
    )
    return t


def test_table1_cells_match_hand_worked_values() -> None:
    r = run_study(_tiny_table(), profile="sas")
    body = r.characteristics.body
    age = body[(body["variable"] == "age_years")].set_index("group")
    # all 8: 30 35 40 45 50 55 60 65 -> median 47.5; SAS PCTLDEF=5 quartiles: np=2 exact -> (35+40)/2
    assert age.loc["overall", "median"] == 47.5
    assert age.loc["overall", "q1"] == 37.5
    assert age.loc["overall", "q3"] == 57.5
    assert (age.loc["axi-cel", "min"], age.loc["axi-cel", "max"]) == (30.0, 60.0)
    asct = body[(body["variable"] == "prior_asct") & (body["group"] == "overall")].iloc[0]
    # known 7 of 8 (one missing), 3 yes
    assert (asct["n"], asct["denominator"], asct["missing"]) == (3, 7, 1)
    assert asct["pct"] == pytest.approx(300 / 7, rel=1e-12)


def test_table1_quartiles_follow_the_r_profile_type_7() -> None:
    r = run_study(_tiny_table(), profile="r")
    body = r.characteristics.body
    age = body[(body["variable"] == "age_years") & (body["group"] == "overall")].iloc[0]
    # R quantile(type = 7) of 30..65 step 5: 1 + 0.25 * 7 = 2.75th value -> 35 + 0.75 * 5
    assert age["q1"] == pytest.approx(38.75, rel=1e-12)
    assert age["q3"] == pytest.approx(56.25, rel=1e-12)


def test_bispecific_pfs2_hazard_ratio_is_reported_not_estimable(fake_result: StudyResult) -> None:
    # the fake table gives bispecific patients no PFS-2 event: the likelihood is monotone
    tv = fake_result.targets["cox_mv_pfs2_bispecific"]
    assert tv.estimable is False
    assert tv.value is None and tv.ci_low is None and tv.p_value is None
    assert any("not estimable" in w or "monotone" in w for w in fake_result.methods.warnings)


def test_missing_columns_are_all_named_in_one_error(fake_table: pd.DataFrame) -> None:
    broken = fake_table.drop(columns=["pfs2_months", "salvage_class"])
    with pytest.raises(SpecError, match=r"lacks 2 column\(s\): 'pfs2_months' \(needed by .*'salvage_class'"):
        run_study(broken)


def test_run_does_not_modify_the_callers_table(fake_table: pd.DataFrame) -> None:
    before = fake_table.copy()
    run_study(fake_table)
    pd.testing.assert_frame_equal(fake_table, before)


def test_results_do_not_depend_on_row_order(fake_table: pd.DataFrame, fake_result: StudyResult) -> None:
    shuffled = fake_table.sample(frac=1.0, random_state=11).reset_index(drop=True)
    other = run_study(shuffled)
    for key in ("surv_os2_median", "tim_os2_logrank", "cox_uni_os2_crp", "resp_orr_pct", "base_dlbcl_pct"):
        a, b = fake_result.targets[key], other.targets[key]
        for x, y in ((a.value, b.value), (a.ci_low, b.ci_low), (a.p_value, b.p_value)):
            assert (x is None and y is None) or x == pytest.approx(y, rel=1e-9)


def test_large_fisher_table_falls_back_to_a_seeded_monte_carlo_p(fake_table: pd.DataFrame) -> None:
    from postcart.study._models import fisher_p

    notes: list[str] = []
    arr = np.array([[3000, 500, 2000, 1500, 1200, 300], [5000, 1000, 3000, 2500, 2200, 298]])
    p1, method = fisher_p(arr, seed=5, where="x", notes=notes)
    p2, _ = fisher_p(arr, seed=5, where="x", notes=[])
    assert p1 == p2  # reproducible with the seed
    assert "Monte Carlo" in method and "seed 5" in method
    assert notes and "exact Fisher test infeasible" in notes[0]
    # a small table stays exact
    assert fisher_p(np.array([[3, 1], [1, 3]]), seed=5, where="y", notes=[])[1].startswith("Fisher exact (")


def test_fingerprint_ignores_row_order_but_not_content(fake_table: pd.DataFrame) -> None:
    from postcart.study import table_fingerprint

    shuffled = fake_table.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert table_fingerprint(shuffled) == table_fingerprint(fake_table)
    changed = fake_table.copy()
    changed.loc[0, "age_years"] = 99.0
    assert table_fingerprint(changed) != table_fingerprint(fake_table)
