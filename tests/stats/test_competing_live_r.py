"""Aalen-Johansen and Gray's test against live R on generated competing-risks data.

One Rscript run for the module (``R_CODE``): ``survfit(Surv(time, factor(cause)) ~ 1)``
(``pstate``, ``std.err``, ``lower``, ``upper``) and ``cmprsk::cuminc(time, cause, group)$Tests``.
Data sets (generated here, seeded): heavy ties with 3 causes and 3 groups; no censoring (the
event-free curve reaches 0); heavy censoring; a tiny set; events and censorings at time 0.
Tolerances: 1e-8 relative for the curves (the brief's), 1e-6 for Gray's test (plain, rho = 1
and stratified).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from postcart.stats import cumulative_incidence, gray_test

pytestmark = [pytest.mark.needs_r, pytest.mark.reference("live R survival + cmprsk", fixture="R_CODE")]

R_CODE = r"""
suppressMessages({library(survival); library(cmprsk)})
args <- commandArgs(trailingOnly = TRUE)
out <- function(key, x) {
  cat(key, "|", paste(ifelse(is.na(x), "NA", sprintf("%.17g", x)), collapse = " "), "\n", sep = "")
}
for (f in args) {
  d <- read.csv(f); nm <- sub("\\.csv$", "", basename(f))
  k <- max(d$cause)
  ev <- factor(d$cause, levels = 0:k, labels = c("censor", paste0("c", 1:k)))
  fit <- survfit(Surv(time, ev) ~ 1, data = d)
  out(paste(nm, "time"), fit$time)
  for (j in seq_len(ncol(fit$pstate))) {
    out(paste(nm, "pstate", j), fit$pstate[, j]); out(paste(nm, "se", j), fit$std.err[, j])
    out(paste(nm, "lower", j), fit$lower[, j]); out(paste(nm, "upper", j), fit$upper[, j])
  }
  if (length(unique(d$group)) > 1) {
    tst <- cuminc(d$time, d$cause, d$group, cencode = 0)$Tests
    out(paste(nm, "gray"), c(tst[, "stat"]))
    tst <- cuminc(d$time, d$cause, d$group, cencode = 0, rho = 1)$Tests
    out(paste(nm, "gray_rho1"), c(tst[, "stat"]))
    tst <- cuminc(d$time, d$cause, d$group, strata = d$stratum, cencode = 0)$Tests
    out(paste(nm, "gray_strata"), c(tst[, "stat"]))
  }
}
"""


def _data() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(20260604)
    out = {}
    n = 240
    out["ties3"] = (rng.integers(1, 25, n).astype(float), rng.integers(0, 4, n), rng.integers(0, 3, n))
    n = 60
    out["no_censoring"] = (rng.integers(1, 10, n).astype(float), rng.integers(1, 3, n), rng.integers(0, 2, n))
    n = 150
    cause = np.where(rng.random(n) < 0.75, 0, rng.integers(1, 3, n))
    out["heavy_censoring"] = (rng.exponential(10, n).round(1), cause, rng.integers(0, 2, n))
    out["tiny"] = (
        np.array([1.0, 2, 2, 3, 5, 5, 8]),
        np.array([1, 0, 2, 1, 0, 2, 1]),
        np.array([0, 1, 0, 1, 0, 1, 0]),
    )
    out["time_zero"] = (
        np.array([0.0, 0, 0, 1, 2, 2, 3, 4, 4, 4]),
        np.array([1, 0, 2, 2, 1, 0, 1, 2, 0, 1]),
        np.array([0, 1, 0, 1, 1, 0, 1, 0, 1, 0]),
    )
    return out


@pytest.fixture(scope="module")
def r_values(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    d: Path = tmp_path_factory.mktemp("rcr")
    files = []
    for name, (t, c, g) in _data().items():
        p = d / f"{name}.csv"
        st = np.arange(t.size) % 2
        rows = "\n".join(f"{a:.17g},{b},{x},{y}" for a, b, x, y in zip(t, c, g, st, strict=True))
        p.write_text("time,cause,group,stratum\n" + rows + "\n")
        files.append(str(p))
    (d / "run.R").write_text(R_CODE)
    proc = subprocess.run(["Rscript", str(d / "run.R"), *files], capture_output=True, text=True, check=True)
    vals = {}
    for line in proc.stdout.splitlines():
        key, _, rest = line.partition("|")
        vals[key] = np.array([np.nan if s == "NA" else float(s) for s in rest.split()])
    return vals


@pytest.mark.parametrize("name", list(_data()))
def test_aalen_johansen_matches_live_r_survfit(name: str, r_values: dict[str, np.ndarray]) -> None:
    t, c, _ = _data()[name]
    res = cumulative_incidence(t, c, causes=list(range(1, int(c.max()) + 1)))
    np.testing.assert_allclose(res.time, r_values[f"{name} time"], rtol=1e-15)
    for j in range(len(res.states)):
        for ours, key in (
            (res.pstate, "pstate"),
            (res.std_err, "se"),
            (res.ci_low, "lower"),
            (res.ci_high, "upper"),
        ):
            np.testing.assert_allclose(
                ours[:, j],
                r_values[f"{name} {key} {j + 1}"],
                rtol=1e-8,
                atol=1e-15,
                equal_nan=True,
                err_msg=key,
            )


@pytest.mark.parametrize("name", [k for k, v in _data().items() if len(np.unique(v[2])) > 1])
def test_gray_test_matches_live_r_cuminc(name: str, r_values: dict[str, np.ndarray]) -> None:
    t, c, g = _data()[name]
    causes = [k for k in range(1, int(c.max()) + 1)]
    ours = [gray_test(t, c, g, cause_of_interest=k).chisq for k in causes]
    np.testing.assert_allclose(ours, r_values[f"{name} gray"], rtol=1e-6)


@pytest.mark.parametrize("name", ["ties3", "heavy_censoring"])
def test_gray_test_weighted_and_stratified_match_live_r_cuminc(
    name: str, r_values: dict[str, np.ndarray]
) -> None:
    t, c, g = _data()[name]
    causes = list(range(1, int(c.max()) + 1))
    rho1 = [gray_test(t, c, g, cause_of_interest=k, rho=1.0).chisq for k in causes]
    np.testing.assert_allclose(rho1, r_values[f"{name} gray_rho1"], rtol=1e-6)
    strata = np.arange(t.size) % 2
    strat = [gray_test(t, c, g, cause_of_interest=k, strata=strata).chisq for k in causes]
    np.testing.assert_allclose(strat, r_values[f"{name} gray_strata"], rtol=1e-6)
