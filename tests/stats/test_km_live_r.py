"""Kaplan-Meier and log-rank checks against live R (``Rscript`` with ``survival``).

What the JSON fixtures do not hold is computed here by R, in one Rscript run per module
(the R code is in ``R_CODE`` below; data are the fixture CSVs):

* ``survfit(..., conf.type = "arcsin" | "logit")``: pointwise CIs and ``quantile()``;
* ``summary(survfit(...), rmean = tau)$table[, c("rmean", "se(rmean)")]`` (RMST);
* case weights: integer weights (``survfit`` default) and non-integer weights with
  ``robust = FALSE`` (Greenwood on weighted counts);
* the test for trend, stratified, from R's own ``survdiff`` U and V: (c'U)^2 / (c'Vc);
* pairwise two-group ``survdiff`` on subsets;
* near-tied floating times, merged by R's ``aeqSurv`` (``timefix = TRUE``).

Tolerance 1e-10 relative. Numbers travel as ``%.17g`` text (exact round trip).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from postcart.stats import kaplan_meier, kaplan_meier_by_group, logrank_test, pairwise_logrank

pytestmark = [pytest.mark.needs_r, pytest.mark.reference("live R survival", fixture="R_CODE")]

REF = Path(__file__).resolve().parents[1] / "fixtures" / "survival_reference"
RTOL = 1e-10

R_CODE = r"""
suppressMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
rd <- function(n) read.csv(file.path(args[1], paste0(n, ".csv")), stringsAsFactors = FALSE)
out <- function(key, x) {
  cat(key, "|", paste(ifelse(is.na(x), "NA", sprintf("%.17g", x)), collapse = " "), "\n", sep = "")
}
lung <- rd("lung"); toy <- rd("toy_edge"); vet <- rd("veteran")
for (ct in c("arcsin", "logit")) {
  for (nm in c("lung", "toy_edge")) {
    d <- if (nm == "lung") lung else toy
    f <- survfit(Surv(time, status) ~ 1, data = d, conf.type = ct)
    out(paste(nm, ct, "lower"), f$lower); out(paste(nm, ct, "upper"), f$upper)
    q <- quantile(f, probs = c(.25, .5, .75))
    out(paste(nm, ct, "q"), q$quantile); out(paste(nm, ct, "ql"), q$lower); out(paste(nm, ct, "qu"), q$upper)
  }
  for (g in c("A", "B", "C")) {
    f <- survfit(Surv(time, status) ~ 1, data = toy[toy$group == g, ], conf.type = ct)
    q <- quantile(f, probs = c(.25, .5, .75))
    out(paste("toy", g, ct, "lower"), f$lower); out(paste("toy", g, ct, "upper"), f$upper)
    out(paste("toy", g, ct, "q"), q$quantile); out(paste("toy", g, ct, "ql"), q$lower)
    out(paste("toy", g, ct, "qu"), q$upper)
  }
}
rm1 <- function(key, d, tau) {
  tb <- summary(survfit(Surv(time, status) ~ 1, data = d), rmean = tau)$table
  out(key, c(tb["rmean"], tb["se(rmean)"]))
}
rm1("rmst lung 365", lung, 365); rm1("rmst lung 1000", lung, 1000); rm1("rmst lung 5", lung, 5)
rm1("rmst toy 5", toy, 5); rm1("rmst toy 12", toy, 12); rm1("rmst toy 30", toy, 30)
rm1("rmst vet 100", vet, 100)
wi <- (seq_len(nrow(lung)) %% 3) + 1
f <- survfit(Surv(time, status) ~ 1, data = lung, weights = wi)
out("wint time", f$time); out("wint nrisk", f$n.risk); out("wint surv", f$surv); out("wint se", f$std.err)
wf <- ((seq_len(nrow(lung)) %% 7) + 1) / 4
f <- survfit(Surv(time, status) ~ 1, data = lung, weights = wf, robust = FALSE)
out("wfrac nrisk", f$n.risk); out("wfrac surv", f$surv); out("wfrac se", f$std.err)
vet$celltype <- factor(vet$celltype, levels = c("squamous", "smallcell", "adeno", "large"))
for (rho in c(0, 1)) {
  sd <- survdiff(Surv(time, status) ~ celltype + strata(trt), data = vet, rho = rho)
  U <- rowSums(sd$obs - sd$exp); sc <- c(1, 2, 3, 4)
  out(paste("trend", rho), c((sum(sc * U))^2 / as.numeric(t(sc) %*% sd$var %*% sc), U))
}
f <- survfit(Surv(time, status) ~ 1, data = lung, conf.type = "log-log", conf.int = 0.9)
q <- quantile(f, probs = .5)
out("cl90 lower", f$lower); out("cl90 upper", f$upper); out("cl90 median", c(q$quantile, q$lower, q$upper))
tt <- c(1/3, 1 - 2/3, 0.5, 0.5 + 1e-12, 2, 3 + 1e-10, 3, lung$time[1:40] / 365.25)
ss <- c(1, 1, 0, 1, 1, 1, 0, lung$status[1:40])
gg <- rep(c("a", "b"), length.out = length(tt))
f <- survfit(Surv(tt, ss) ~ 1)
out("aeq time", f$time); out("aeq nrisk", f$n.risk); out("aeq surv", f$surv)
out("aeq chisq", survdiff(Surv(tt, ss) ~ gg)$chisq)
lv <- levels(vet$celltype)
for (i in 1:3) for (j in (i + 1):4) {
  sub <- vet[vet$celltype %in% lv[c(i, j)], ]
  sd <- survdiff(Surv(time, status) ~ celltype, data = sub)
  out(paste("pair", lv[i], lv[j]), sd$chisq)
}
"""


@pytest.fixture(scope="module")
def r_out() -> dict[str, np.ndarray]:
    proc = subprocess.run(
        ["Rscript", "-", str(REF / "data")],
        input=R_CODE,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    res = {}
    for line in proc.stdout.splitlines():
        if not line.strip():
            continue
        key, _, values = line.partition("|")
        res[key] = np.array([np.nan if w == "NA" else float(w) for w in values.split()])
    return res


def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / "data" / f"{name}.csv", float_precision="round_trip")


def _q(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@pytest.mark.parametrize("conf_type", ["arcsin", "logit"])
@pytest.mark.parametrize("name", ["lung", "toy_edge"])
def test_arcsin_and_logit_ci_match_live_r_survfit(
    r_out: dict[str, np.ndarray], name: str, conf_type: str
) -> None:
    d = _data(name)
    fit = kaplan_meier(d["time"], d["status"], profile="r", conf_type=conf_type)
    np.testing.assert_allclose(fit.ci_low, r_out[f"{name} {conf_type} lower"], rtol=RTOL)
    np.testing.assert_allclose(fit.ci_high, r_out[f"{name} {conf_type} upper"], rtol=RTOL)
    qs = fit.quantiles()
    np.testing.assert_allclose(_q([q.estimate for q in qs]), r_out[f"{name} {conf_type} q"], rtol=RTOL)
    np.testing.assert_allclose(_q([q.ci_low for q in qs]), r_out[f"{name} {conf_type} ql"], rtol=RTOL)
    np.testing.assert_allclose(_q([q.ci_high for q in qs]), r_out[f"{name} {conf_type} qu"], rtol=RTOL)


@pytest.mark.parametrize("conf_type", ["arcsin", "logit"])
def test_arcsin_and_logit_quantiles_on_toy_edge_groups_match_live_r(
    r_out: dict[str, np.ndarray], conf_type: str
) -> None:
    d = _data("toy_edge")
    by = kaplan_meier_by_group(d["time"], d["status"], d["group"], profile="r", conf_type=conf_type)
    for g in ("A", "B", "C"):
        fit = by[g]
        np.testing.assert_allclose(fit.ci_low, r_out[f"toy {g} {conf_type} lower"], rtol=RTOL)
        np.testing.assert_allclose(fit.ci_high, r_out[f"toy {g} {conf_type} upper"], rtol=RTOL)
        qs = fit.quantiles()
        np.testing.assert_allclose(_q([q.estimate for q in qs]), r_out[f"toy {g} {conf_type} q"], rtol=RTOL)
        np.testing.assert_allclose(_q([q.ci_low for q in qs]), r_out[f"toy {g} {conf_type} ql"], rtol=RTOL)
        np.testing.assert_allclose(_q([q.ci_high for q in qs]), r_out[f"toy {g} {conf_type} qu"], rtol=RTOL)


@pytest.mark.parametrize(
    ("name", "key", "tau"),
    [
        ("lung", "rmst lung 365", 365.0),
        ("lung", "rmst lung 1000", 1000.0),
        ("lung", "rmst lung 5", 5.0),
        ("toy_edge", "rmst toy 5", 5.0),
        ("toy_edge", "rmst toy 12", 12.0),
        ("toy_edge", "rmst toy 30", 30.0),
        ("veteran", "rmst vet 100", 100.0),
    ],
)
def test_rmst_matches_live_r_print_survfit_rmean(
    r_out: dict[str, np.ndarray], name: str, key: str, tau: float
) -> None:
    d = _data(name)
    res = kaplan_meier(d["time"], d["status"], profile="r").rmst(tau)
    est, se = r_out[key]
    assert res.tau == tau
    assert res.estimate == pytest.approx(est, rel=RTOL)
    assert res.std_err == pytest.approx(se, rel=RTOL, abs=1e-300)


def test_integer_case_weights_match_live_r_survfit_weights(r_out: dict[str, np.ndarray]) -> None:
    d = _data("lung")
    w = (np.arange(1, len(d) + 1) % 3) + 1
    fit = kaplan_meier(d["time"], d["status"], weights=w, profile="r")
    assert fit.weighted
    np.testing.assert_array_equal(fit.time, r_out["wint time"])
    np.testing.assert_allclose(fit.n_risk, r_out["wint nrisk"], rtol=RTOL)
    np.testing.assert_allclose(fit.survival, r_out["wint surv"], rtol=RTOL)
    np.testing.assert_allclose(fit.std_err_cumhaz, r_out["wint se"], rtol=RTOL)


def test_fractional_case_weights_match_live_r_greenwood_on_weighted_counts(
    r_out: dict[str, np.ndarray],
) -> None:
    d = _data("lung")
    w = ((np.arange(1, len(d) + 1) % 7) + 1) / 4
    fit = kaplan_meier(d["time"], d["status"], weights=w, profile="r")
    np.testing.assert_allclose(fit.n_risk, r_out["wfrac nrisk"], rtol=RTOL)
    np.testing.assert_allclose(fit.survival, r_out["wfrac surv"], rtol=RTOL)
    np.testing.assert_allclose(fit.std_err_cumhaz, r_out["wfrac se"], rtol=RTOL)


@pytest.mark.parametrize("rho", [0.0, 1.0])
def test_stratified_trend_test_matches_live_r_survdiff_u_and_v(
    r_out: dict[str, np.ndarray], rho: float
) -> None:
    d = _data("veteran")
    group = pd.Categorical(d["celltype"], categories=["squamous", "smallcell", "adeno", "large"])
    kwargs = {"weights": "logrank"} if rho == 0 else {"weights": "peto-peto"}
    res = logrank_test(d["time"], d["status"], group, strata=d["trt"], scores=[1, 2, 3, 4], **kwargs)
    want = r_out[f"trend {rho:g}"]
    assert res.df == 1
    assert res.chisq == pytest.approx(want[0], rel=RTOL)
    np.testing.assert_allclose(res.u, want[1:], rtol=RTOL)


def test_pairwise_logrank_matches_live_r_survdiff_on_subsets(r_out: dict[str, np.ndarray]) -> None:
    d = _data("veteran")
    group = pd.Categorical(d["celltype"], categories=["squamous", "smallcell", "adeno", "large"])
    pairs = pairwise_logrank(d["time"], d["status"], group)
    assert len(pairs) == 6
    for res in pairs:
        a, b = res.groups
        assert res.chisq == pytest.approx(r_out[f"pair {a} {b}"][0], rel=RTOL)


def test_near_tied_float_times_are_merged_as_r_aeqsurv(r_out: dict[str, np.ndarray]) -> None:
    lung = _data("lung")
    tt = np.concatenate([[1 / 3, 1 - 2 / 3, 0.5, 0.5 + 1e-12, 2, 3 + 1e-10, 3], lung["time"][:40] / 365.25])
    ss = np.concatenate([[1, 1, 0, 1, 1, 1, 0], lung["status"][:40]])
    fit = kaplan_meier(tt, ss, profile="r")
    np.testing.assert_array_equal(fit.time, r_out["aeq time"])
    np.testing.assert_array_equal(fit.n_risk, r_out["aeq nrisk"])
    np.testing.assert_allclose(fit.survival, r_out["aeq surv"], rtol=RTOL)
    gg = np.resize(["a", "b"], tt.size)
    assert logrank_test(tt, ss, gg).chisq == pytest.approx(r_out["aeq chisq"][0], rel=RTOL)


def _random_sets(seed: int = 20261124, k: int = 40) -> pd.DataFrame:
    """Small heavily tied data sets: integer times 0..8, ~35 % censored, some with late entry."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(k):
        n = int(rng.integers(3, 40))
        time = rng.integers(0, 9, n).astype(float)
        status = (rng.random(n) < 0.65).astype(int)
        frames.append(pd.DataFrame({"set": i, "time": time, "status": status}))
    return pd.concat(frames, ignore_index=True)


R_RANDOM = r"""
suppressMessages(library(survival))
d <- read.csv(commandArgs(trailingOnly = TRUE)[1])
probs <- c(.1, .25, .5, .75, .9)
fmt <- function(x) paste(ifelse(is.na(x), "NA", sprintf("%.17g", x)), collapse = " ")
for (s in sort(unique(d$set))) for (ct in c("log-log", "log", "plain", "arcsin", "logit")) {
  f <- survfit(Surv(time, status) ~ 1, data = d[d$set == s, ], conf.type = ct)
  q <- quantile(f, probs = probs)
  cat(s, ct, "|", fmt(q$quantile), "|", fmt(q$lower), "|", fmt(q$upper), "\n", sep = "")
}
"""


def test_quantiles_on_random_tied_data_match_live_r_in_every_transform(tmp_path: Path) -> None:
    data = _random_sets()
    path = tmp_path / "random.csv"
    data.to_csv(path, index=False)
    proc = subprocess.run(
        ["Rscript", "-", str(path)], input=R_RANDOM, capture_output=True, text=True, check=True
    )
    probs = (0.1, 0.25, 0.5, 0.75, 0.9)
    checked = 0
    for line in proc.stdout.splitlines():
        head, est, low, high = line.split("|")
        s, conf_type = int(head[: len(head) - len(head.lstrip("0123456789"))]), head.lstrip("0123456789")
        sub = data[data["set"] == s]
        fit = kaplan_meier(sub["time"], sub["status"], profile="r", conf_type=conf_type)
        qs = fit.quantiles(probs)
        for got, want in (
            ([q.estimate for q in qs], est),
            ([q.ci_low for q in qs], low),
            ([q.ci_high for q in qs], high),
        ):
            w = np.array([np.nan if v == "NA" else float(v) for v in want.split()])
            np.testing.assert_allclose(_q(got), w, rtol=RTOL, err_msg=f"set {s} {conf_type}")
        checked += 1
    assert checked == 40 * 5


R_ENTRY = r"""
suppressMessages(library(survival))
d <- read.csv(commandArgs(trailingOnly = TRUE)[1])
fmt <- function(x) paste(ifelse(is.na(x), "NA", sprintf("%.17g", x)), collapse = " ")
for (s in sort(unique(d$set))) {
  f <- survfit(Surv(entry, time, status) ~ 1, data = d[d$set == s, ], conf.type = "log-log")
  q <- quantile(f, probs = .5)
  cat(s, "|", fmt(f$time), "|", fmt(f$n.risk), "|", fmt(f$surv), "|", fmt(f$std.err), "|",
      fmt(c(q$quantile, q$lower, q$upper)), "\n", sep = "")
}
"""


def test_delayed_entry_on_random_data_matches_live_r_surv_entry_time(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    data = _random_sets(seed=5, k=25)
    data["time"] = data["time"] + 1
    data["entry"] = np.floor(rng.random(len(data)) * data["time"]).astype(float)
    path = tmp_path / "entry.csv"
    data.to_csv(path, index=False)
    proc = subprocess.run(
        ["Rscript", "-", str(path)], input=R_ENTRY, capture_output=True, text=True, check=True
    )
    lines = proc.stdout.splitlines()
    assert len(lines) == 25
    for line in lines:
        parts = line.split("|")
        s = int(parts[0])
        want = [np.array([np.nan if v == "NA" else float(v) for v in p.split()]) for p in parts[1:]]
        sub = data[data["set"] == s]
        fit = kaplan_meier(sub["time"], sub["status"], entry=sub["entry"], profile="r", conf_type="log-log")
        np.testing.assert_array_equal(fit.time, want[0])
        np.testing.assert_array_equal(fit.n_risk, want[1])
        np.testing.assert_allclose(fit.survival, want[2], rtol=RTOL)
        se_r = np.where(np.isfinite(want[3]), want[3], np.nan)  # R: Inf once S = 0; we: NaN
        np.testing.assert_allclose(fit.std_err_cumhaz, se_r, rtol=RTOL)
        m = fit.median
        np.testing.assert_allclose(_q([m.estimate, m.ci_low, m.ci_high]), want[4], rtol=RTOL)


def test_conf_level_90_matches_live_r_conf_int(r_out: dict[str, np.ndarray]) -> None:
    d = _data("lung")
    fit = kaplan_meier(d["time"], d["status"], profile="r", conf_type="log-log", conf_level=0.9)
    assert fit.conventions.conf_level == 0.9
    np.testing.assert_allclose(fit.ci_low, r_out["cl90 lower"], rtol=RTOL)
    np.testing.assert_allclose(fit.ci_high, r_out["cl90 upper"], rtol=RTOL)
    m = fit.median
    np.testing.assert_allclose(_q([m.estimate, m.ci_low, m.ci_high]), r_out["cl90 median"], rtol=RTOL)
