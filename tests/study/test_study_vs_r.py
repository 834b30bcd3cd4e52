"""The study's survival, Cox and contingency numbers against live R on the same analysis table.

The fake analysis table is written to CSV; R (survival) recomputes each quantity from the raw
columns with its own population selection; values are compared at explicit tolerances. R
conventions are set to match each profile (log CIs and R quantiles for ``profile="r"``;
Breslow ties for the SAS-profile Cox models).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest

from postcart.study import StudyResult

R_SCRIPT = r"""
suppressMessages(library(survival))
d <- read.csv(ARGS_CSV, stringsAsFactors = FALSE)
out <- character(0)
put <- function(k, v) out <<- c(out, sprintf("%s=%.17g", k, v))
f <- d[d$failed == 1, ]
# OS-2 by timing (R profile: log CIs, R quantile rule)
fit <- survfit(Surv(os2_months, os2_event) ~ timing_group, data = f)
q <- quantile(fit, 0.5)
for (g in c("very_early", "early", "late")) {
  k <- paste0("timing_group=", g)
  put(paste0("os2_med_", g), q$quantile[k, 1]); put(paste0("os2_lo_", g), q$lower[k, 1])
  put(paste0("os2_hi_", g), q$upper[k, 1])
}
sd <- survdiff(Surv(os2_months, os2_event) ~ timing_group, data = f)
put("os2_lr_chisq", sd$chisq)
fo <- survfit(Surv(os2_months, os2_event) ~ 1, data = f)
s <- summary(fo, times = c(6, 12))
put("os2_s6", s$surv[1]); put("os2_s6_lo", s$lower[1]); put("os2_s6_hi", s$upper[1])
put("os2_s12", s$surv[2])
# Cox OS-2 multivariable among the treated, Breslow ties (SAS profile)
tr <- f[f$salvage_status == "treated", ]
tr$bisp <- as.numeric(tr$salvage_class == "bispecific")
tr$len <- as.numeric(tr$salvage_class == "lenalidomide")
tr$targ <- as.numeric(tr$salvage_class == "targeted")
tr$crp10 <- tr$d0_crp_mg_l / 10
m <- coxph(Surv(os2_months, os2_event) ~ d0_ldh_high + crp10 + very_early + bisp + len + targ,
           data = tr, ties = "breslow")
cf <- summary(m)$coefficients
for (i in seq_len(nrow(cf))) { put(paste0("cox_coef_", i), cf[i, 1]); put(paste0("cox_se_", i), cf[i, 3])
  put(paste0("cox_p_", i), cf[i, 5]) }
put("cox_n", m$n)
# univariate CRP, PFS-2, all failures with known CRP
u <- coxph(Surv(pfs2_months, pfs2_event) ~ I(d0_crp_mg_l / 10), data = f, ties = "breslow")
put("uni_crp_coef", coef(u)); put("uni_crp_p", summary(u)$coefficients[1, 5])
# contingency
ok <- !is.na(f$cytopenia_d30_ge3)
put("chisq_d30_p", chisq.test(table(f$cytopenia_d30_ge3[ok], f$product[ok]), correct = FALSE)$p.value)
tc <- tr[!is.na(tr$cytopenia_d30_ge3), ]
put("fisher_p", fisher.test(table(tc$cytopenia_d30_ge3, tc$salvage_class))$p.value)
# reverse KM follow-up from D0, all infused (R profile: log CI)
inf <- d[d$infused == 1, ]
rk <- survfit(Surv(os_months, 1 - os_event) ~ 1, data = inf)
put("fu_med", quantile(rk, 0.5)$quantile)
# Wilcoxon (normal approximation, continuity correction) of age between products among failures
put("wilcox_age_p", wilcox.test(age_years ~ product, data = f, exact = FALSE, correct = TRUE)$p.value)
writeLines(out, ARGS_OUT)
"""


@pytest.fixture(scope="module")
def r_values(fake_table: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> dict[str, float | None]:
    tmp = tmp_path_factory.mktemp("r")
    cols = [
        "infused",
        "failed",
        "product",
        "timing_group",
        "very_early",
        "os2_months",
        "os2_event",
        "pfs2_months",
        "pfs2_event",
        "os_months",
        "os_event",
        "salvage_status",
        "salvage_class",
        "d0_ldh_high",
        "d0_crp_mg_l",
        "cytopenia_d30_ge3",
        "age_years",
    ]
    t = fake_table[cols].copy()
    for c in (
        "infused",
        "failed",
        "very_early",
        "os2_event",
        "pfs2_event",
        "os_event",
        "d0_ldh_high",
        "cytopenia_d30_ge3",
    ):
        t[c] = t[c].astype("Float64")
    csv, out = tmp / "t.csv", tmp / "out.txt"
    t.to_csv(csv, index=False, na_rep="NA")
    script = R_SCRIPT.replace("ARGS_CSV", repr(str(csv))).replace("ARGS_OUT", repr(str(out)))
    (tmp / "s.R").write_text(script)
    proc = subprocess.run(["Rscript", str(tmp / "s.R")], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    pairs = (line.split("=") for line in Path(out).read_text().splitlines())
    return {k: None if v == "NA" else float(v) for k, v in pairs}


def _same(ours: float | None, theirs: float | None, rel: float) -> bool:
    """Equal within ``rel``; R's NA (not reached) matches our None."""
    if theirs is None or ours is None:
        return ours is None and theirs is None
    return ours == pytest.approx(theirs, rel=rel)


@pytest.mark.needs_r
@pytest.mark.reference("survival::survfit/survdiff (live R)")
def test_os2_by_timing_medians_and_logrank_match_r(
    r_values: dict[str, float | None], fake_result_r: StudyResult
) -> None:
    a = fake_result_r.survival["os2_by_timing"]
    for level in ("very_early", "early", "late"):
        med = a.group(level).km.median  # type: ignore[union-attr]
        assert _same(med.estimate, r_values[f"os2_med_{level}"], 1e-10)
        assert _same(med.ci_low, r_values[f"os2_lo_{level}"], 1e-10)
        assert _same(med.ci_high, r_values[f"os2_hi_{level}"], 1e-10)
    assert _same(a.logrank.chisq, r_values["os2_lr_chisq"], 1e-10)


@pytest.mark.needs_r
@pytest.mark.reference("survival::summary.survfit (live R)")
def test_os2_landmark_rates_match_r(r_values: dict[str, float | None], fake_result_r: StudyResult) -> None:
    tv6, tv12 = fake_result_r.targets["surv_os2_6m"], fake_result_r.targets["surv_os2_12m"]
    assert _same(tv6.value, 100 * r_values["os2_s6"], 1e-10)
    assert _same(tv6.ci_low, 100 * r_values["os2_s6_lo"], 1e-10)
    assert _same(tv6.ci_high, 100 * r_values["os2_s6_hi"], 1e-10)
    assert _same(tv12.value, 100 * r_values["os2_s12"], 1e-10)


@pytest.mark.needs_r
@pytest.mark.reference("survival::coxph ties='breslow' (live R)")
def test_multivariable_os2_cox_matches_r_breslow(
    r_values: dict[str, float | None], fake_result: StudyResult
) -> None:
    model = fake_result.cox["cox_mv_os2"].models[0]
    assert model.n == int(r_values["cox_n"])
    terms = {t.term: t for t in model.result.terms}
    order = [
        "ldh_high",
        "crp",
        "very_early",
        "treatment[bispecific]",
        "treatment[lenalidomide]",
        "treatment[targeted]",
    ]
    for i, name in enumerate(order, start=1):
        assert _same(terms[name].coef, r_values[f"cox_coef_{i}"], 1e-6)
        assert _same(terms[name].se, r_values[f"cox_se_{i}"], 1e-6)
        assert _same(terms[name].p, r_values[f"cox_p_{i}"], 1e-6)
    crp = fake_result.targets["cox_uni_pfs2_crp"]
    assert _same(crp.p_value, r_values["uni_crp_p"], 1e-6)


@pytest.mark.needs_r
@pytest.mark.reference("stats::chisq.test / fisher.test / wilcox.test (live R)")
def test_contingency_and_rank_tests_match_r(
    r_values: dict[str, float | None], fake_result: StudyResult
) -> None:
    assert _same(fake_result.contingency["cytopenia_d30_by_product"].p, r_values["chisq_d30_p"], 1e-8)
    assert _same(fake_result.contingency["cytopenia_d30_vs_salvage"].p, r_values["fisher_p"], 1e-6)
    tests = fake_result.characteristics.tests.set_index("variable")
    assert _same(float(tests.loc["age_years", "p"]), r_values["wilcox_age_p"], 1e-8)


@pytest.mark.needs_r
@pytest.mark.reference("survival::survfit reverse KM (live R)")
def test_median_followup_matches_reverse_km_in_r(
    r_values: dict[str, float | None], fake_result_r: StudyResult
) -> None:
    assert _same(fake_result_r.targets["fu_median_all"].value, r_values["fu_med"], 1e-10)
