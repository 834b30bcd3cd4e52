"""postcart.stats against live R ``survival`` on generated edge cases (issue 3, Validation).

Small data sets are generated here (seeded), written as CSV, and run through
``tests/reference/r/edge_cases.R`` (one Rscript for all cases); its JSON (17 significant
digits) is compared with ``kaplan_meier`` (log-log, log, plain, arcsin and logit CIs, median
and its CI), ``logrank_test`` and ``cox_ph`` (Breslow and Efron). Tolerances: 1e-8 relative for KM, CIs,
medians and log-rank; 1e-6 relative for Cox. ``null`` in R's output (NA, NaN, Inf) must be
``nan``/``None`` here.
"""

from __future__ import annotations

import json
import math
import subprocess
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from postcart import stats
from postcart.errors import MonotoneLikelihoodWarning, StatsError

R_SCRIPT = Path(__file__).resolve().parents[1] / "reference" / "r" / "edge_cases.R"
KM_RTOL = 1e-8
COX_RTOL = 1e-6
CONF_TYPES = ("log-log", "log", "plain", "arcsin", "logit")

pytestmark = [pytest.mark.needs_r, pytest.mark.reference("live R survival", fixture="edge_cases.R")]


def make_cases(seed: int = 20240611) -> dict[str, pd.DataFrame]:
    """The edge cases of issue 3: heavy ties, all censored, a group with no events, events at
    time 0, one observation, S reaching 0, ties across groups, late entry."""
    rng = np.random.default_rng(seed)
    cases: dict[str, pd.DataFrame] = {}

    n = 80
    cases["heavy_ties"] = pd.DataFrame(
        {
            "time": rng.integers(1, 6, n),
            "status": (rng.random(n) < 0.7).astype(int),
            "group": rng.choice(["a", "b", "c"], n),
            "x1": rng.normal(size=n).round(3),
            "x2": rng.integers(0, 2, n),
        }
    )
    n = 12
    cases["all_censored"] = pd.DataFrame(
        {"time": rng.integers(1, 20, n), "status": 0, "group": rng.choice(["a", "b"], n)}
    )
    n = 30
    group = np.repeat(["a", "b", "c"], 10)
    status = (rng.random(n) < 0.6).astype(int)
    status[group == "c"] = 0
    status[0] = status[10] = 1
    cases["group_no_events"] = pd.DataFrame(
        {"time": rng.integers(1, 30, n), "status": status, "group": group, "x1": rng.normal(size=n).round(3)}
    )
    n = 25
    time = rng.integers(0, 8, n)
    time[:4] = 0
    status = (rng.random(n) < 0.6).astype(int)
    status[:3] = 1
    cases["events_at_zero"] = pd.DataFrame(
        {
            "time": time,
            "status": status,
            "group": rng.choice(["a", "b"], n),
            "x1": rng.normal(size=n).round(3),
        }
    )
    cases["one_observation"] = pd.DataFrame({"time": [3.5], "status": [1]})
    n = 16
    time = rng.integers(1, 10, n)
    group = np.repeat(["a", "b"], 8)
    status = (rng.random(n) < 0.6).astype(int)
    for g in ("a", "b"):  # each group ends with an event alone at its last time: S reaches 0
        idx = np.flatnonzero(group == g)
        last = idx[np.argmax(time[idx])]
        time[last] = time[idx].max() + 1
        status[last] = 1
    cases["s_reaches_zero"] = pd.DataFrame(
        {"time": time, "status": status, "group": group, "x1": rng.normal(size=n).round(3)}
    )
    times = np.tile([2, 4, 6, 8], 10)
    cases["ties_across_groups"] = pd.DataFrame(
        {
            "time": times,
            "status": (rng.random(40) < 0.65).astype(int),
            "group": np.repeat(["a", "b"], 20),
            "x1": rng.normal(size=40).round(3),
            "x2": rng.integers(0, 2, 40),
        }
    )
    n = 40
    entry = rng.uniform(0, 5, n).round(1)
    cases["late_entry"] = pd.DataFrame(
        {
            "entry": entry,
            "time": (entry + rng.exponential(5, n) + 0.1).round(1),
            "status": (rng.random(n) < 0.7).astype(int),
            "group": rng.choice(["a", "b"], n),
            "x1": rng.normal(size=n).round(3),
        }
    )
    return cases


def make_random_cases(seed: int = 7, count: int = 30) -> dict[str, pd.DataFrame]:
    """Small random data sets: 2-39 rows, integer (tied, with zeros) or decimal times, 2 or 3
    groups, any share of events (sometimes none), and (start, stop] late entry in a quarter."""
    rng = np.random.default_rng(seed)
    cases: dict[str, pd.DataFrame] = {}
    for i in range(count):
        n = int(rng.integers(2, 40))
        kind = int(rng.integers(0, 4))
        time = rng.integers(0, 8, n).astype(float) if kind < 2 else rng.exponential(5, n).round(1)
        d: dict[str, Any] = {
            "time": time,
            "status": (rng.random(n) < rng.uniform(0.2, 1.0)).astype(int),
            "group": rng.choice(["a", "b", "c"][: int(rng.integers(2, 4))], n),
            "x1": rng.normal(size=n).round(2),
        }
        if kind == 3:
            entry = rng.uniform(0, 3, n).round(1)
            d["entry"] = entry
            d["time"] = (entry + rng.exponential(4, n) + 0.1).round(1)
        cases[f"random_{i:02d}"] = pd.DataFrame(d)
    return cases


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[pd.DataFrame, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("edge_cases")
    cases = make_cases() | make_random_cases()
    for name, frame in cases.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    proc = subprocess.run(
        ["Rscript", str(R_SCRIPT), str(folder)], capture_output=True, text=True, check=False, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return {
        name: (frame, json.loads((folder / f"{name}.json").read_text(encoding="utf-8")))
        for name, frame in cases.items()
    }


def arr(x: Any) -> list[Any]:
    return x if isinstance(x, list) else [x]


def close(ours: Any, theirs: Any, rtol: float, what: str) -> None:
    a = [None if v is None or not math.isfinite(float(v)) else float(v) for v in np.atleast_1d(ours)]
    b = arr(theirs)
    assert len(a) == len(b), f"{what}: {len(a)} values vs R's {len(b)}"
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if y is None:
            assert x is None, f"{what}[{i}]: {x!r}, R has NA"
        else:
            assert x is not None, f"{what}[{i}]: undefined, R has {y!r}"
            assert math.isclose(x, y, rel_tol=rtol, abs_tol=0.0), f"{what}[{i}]: {x!r} vs R {y!r}"


def check_km(frame: pd.DataFrame, block: dict[str, Any], where: str) -> None:
    entry = frame["entry"].to_numpy(float) if "entry" in frame else None
    for conf_type in CONF_TYPES:
        r = block[conf_type]
        km = stats.kaplan_meier(
            frame["time"].to_numpy(float),
            frame["status"].to_numpy(bool),
            entry=entry,
            profile="r",
            conf_type=conf_type,
        )
        w = f"{where} {conf_type}"
        close(km.time, r["time"], KM_RTOL, f"{w} time")
        close(km.n_risk, r["n_risk"], KM_RTOL, f"{w} n_risk")
        close(km.n_event, r["n_event"], KM_RTOL, f"{w} n_event")
        close(km.n_censor, r["n_censor"], KM_RTOL, f"{w} n_censor")
        close(km.survival, r["surv"], KM_RTOL, f"{w} survival")
        close(km.std_err, r["std_err"], KM_RTOL, f"{w} std_err")
        close(km.ci_low, r["lower"], KM_RTOL, f"{w} ci_low")
        close(km.ci_high, r["upper"], KM_RTOL, f"{w} ci_high")
        at = km.at(np.asarray(arr(r["at"]["time"]), dtype=float))
        close(at.survival, r["at"]["surv"], KM_RTOL, f"{w} at survival")
        close(at.std_err, r["at"]["std_err"], KM_RTOL, f"{w} at std_err")
        close(at.n_risk, r["at"]["n_risk"], KM_RTOL, f"{w} at n_risk")
        close(at.ci_low, r["at"]["lower"], KM_RTOL, f"{w} at ci_low")
        close(at.ci_high, r["at"]["upper"], KM_RTOL, f"{w} at ci_high")
        med = r["median"]
        got = np.array(
            [np.nan if v is None else v for v in (km.median.estimate, km.median.ci_low, km.median.ci_high)]
        )
        close(got, [med["estimate"], med["lower"], med["upper"]], KM_RTOL, f"{w} median")


CASES = list(make_cases())


@pytest.mark.parametrize("name", CASES)
def test_km_matches_live_r_survfit_on_edge_case(name: str, live: dict[str, Any]) -> None:
    frame, r = live[name]
    check_km(frame, r["km"]["overall"], f"{name} overall")
    for level, block in r["km"].get("by_group", {}).items():
        check_km(frame[frame["group"] == level], block, f"{name} group {level}")


@pytest.mark.parametrize("name", [n for n in CASES if "group" in make_cases()[n] and n != "late_entry"])
def test_logrank_matches_live_r_survdiff_on_edge_case(name: str, live: dict[str, Any]) -> None:
    frame, r = live[name]
    theirs = r["logrank"]
    assert "error" not in theirs, theirs
    res = stats.logrank_test(
        frame["time"].to_numpy(float), frame["status"].to_numpy(bool), frame["group"].to_numpy(str)
    )
    if theirs["df"] == 0:  # R: no group has a positive variance (all censored): nothing to test
        assert res.df == 0 and math.isnan(res.p)
    else:
        close(res.chisq, theirs["chisq"], KM_RTOL, f"{name} chisq")
        assert res.df == theirs["df"]
        close(res.p, theirs["p"], KM_RTOL, f"{name} p")
    groups = [str(g) for g in res.groups]
    assert groups == arr(theirs["groups"])
    close(res.observed, theirs["observed"], KM_RTOL, f"{name} observed")
    close(res.expected, theirs["expected"], KM_RTOL, f"{name} expected")


COX_CASES = [
    (n, ties) for n in CASES if "x1" in make_cases()[n] for ties in ("breslow", "efron")
]  # fmt: skip


def _check_cox(frame: pd.DataFrame, theirs: dict[str, Any], ties: str, where: str, *, strata: bool) -> None:
    assert "error" not in theirs, theirs
    names = [c for c in ("x1", "x2") if c in frame]
    res = stats.cox_ph(
        frame[names].to_numpy(float),
        frame["time"].to_numpy(float),
        frame["status"].to_numpy(bool),
        names=names,
        entry=frame["entry"].to_numpy(float) if "entry" in frame else None,
        strata=frame["group"].to_numpy(str) if strata else None,
        ties=ties,
    )
    w = f"{where} {ties}"
    close([t.coef for t in res.terms], theirs["coef"], COX_RTOL, f"{w} coef")
    close([t.se for t in res.terms], theirs["se"], COX_RTOL, f"{w} se")
    close([res.loglik_null, res.loglik], theirs["loglik"], COX_RTOL, f"{w} loglik")
    close(res.score_test.chisq, theirs["score"], COX_RTOL, f"{w} score")
    close(res.wald_test.chisq, theirs["wald"], COX_RTOL, f"{w} wald")
    close(res.lr_test.chisq, theirs["lr"], COX_RTOL, f"{w} lr")
    close(res.concordance, theirs["concordance"], COX_RTOL, f"{w} concordance")
    close(res.concordance_se, theirs["concordance_se"], COX_RTOL, f"{w} concordance se")


@pytest.mark.parametrize(("name", "ties"), COX_CASES)
def test_cox_matches_live_r_coxph_on_edge_case(name: str, ties: str, live: dict[str, Any]) -> None:
    frame, r = live[name]
    _check_cox(frame, r["cox"][ties], ties, name, strata=False)


@pytest.mark.parametrize(("name", "ties"), [(n, t) for n, t in COX_CASES if "group" in make_cases()[n]])
def test_stratified_cox_matches_live_r_coxph_strata_on_edge_case(
    name: str, ties: str, live: dict[str, Any]
) -> None:
    """``coxph(... + strata(group))``: risk sets, C and its SE within strata."""
    frame, r = live[name]
    _check_cox(frame, r["cox_strata"][ties], ties, f"{name} strata", strata=True)


GROUP_CASES = [
    (n, ties) for n in CASES if "group" in make_cases()[n] and n != "all_censored"
    for ties in ("breslow", "efron")
]  # fmt: skip


@pytest.mark.parametrize(("name", "ties"), GROUP_CASES)
def test_cox_on_a_factor_matches_live_r_and_flags_divergence(
    name: str, ties: str, live: dict[str, Any]
) -> None:
    """``coxph(~ group)``: where R warns that a coefficient may be infinite (a group with no
    events), postcart flags a monotone likelihood and the term is not estimable; the log
    partial likelihoods agree either way, and finite coefficients agree to 1e-6."""
    frame, r = live[name]
    theirs = r["cox_group"][ties]
    assert "error" not in theirs, theirs
    mm = stats.model_matrix({"group": frame["group"].to_numpy(object)}, categorical={"group": None})
    diverges = any("infinite" in w for w in arr(theirs.get("warning", [])))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = stats.cox_ph(
            mm.X,
            frame["time"].to_numpy(float),
            frame["status"].to_numpy(bool),
            names=list(mm.names),
            entry=frame["entry"].to_numpy(float) if "entry" in frame else None,
            ties=ties,
        )
    w = f"{name} ~group {ties}"
    close([res.loglik_null, res.loglik], theirs["loglik"], COX_RTOL, f"{w} loglik")
    assert res.monotone == diverges, w
    assert [isinstance(c.message, MonotoneLikelihoodWarning) for c in caught] == [True] * diverges
    if diverges:
        assert not all(t.estimable for t in res.terms), w
    else:
        close([t.coef for t in res.terms], theirs["coef"], COX_RTOL, f"{w} coef")
        close([t.se for t in res.terms], theirs["se"], COX_RTOL, f"{w} se")
        close(res.score_test.chisq, theirs["score"], COX_RTOL, f"{w} score")


def test_cox_refuses_data_without_events_where_r_returns_na() -> None:
    """R's ``coxph`` on all-censored data returns an NA coefficient with a non-convergence
    warning; postcart raises a StatsError that says why."""
    with pytest.raises(StatsError, match="there are no events"):
        stats.cox_ph(
            np.array([[0.1], [0.5], [0.2]]), np.array([1.0, 2.0, 3.0]), np.zeros(3, bool), names=["x"]
        )


def test_random_small_data_sets_match_live_r(live: dict[str, Any]) -> None:
    """30 random small data sets: KM (3 transforms, median CI) overall and by group, log-rank,
    and Cox (Breslow, Efron, plain and stratified) wherever R fits without a warning. Cox on a
    data set without events is an error here (R returns NA), so it is checked as such."""
    failures = []
    for name in make_random_cases():
        frame, r = live[name]
        checks: list[tuple[str, Any]] = [("km", lambda f=frame, b=r["km"]["overall"]: check_km(f, b, "all"))]
        for level, block in r["km"].get("by_group", {}).items():
            sub = frame[frame["group"] == level]
            checks.append((f"km {level}", lambda f=sub, b=block, lv=level: check_km(f, b, lv)))
        if "logrank" in r:
            checks.append(("logrank", lambda f=frame, th=r["logrank"]: _check_logrank(f, th)))
        for key, strata in (("cox", False), ("cox_strata", True)):
            for ties, th in r.get(key, {}).items():
                if frame["status"].sum() == 0:
                    checks.append((f"{key} {ties}", lambda f=frame: _check_no_events(f)))
                elif "error" not in th and "warning" not in th:
                    checks.append(
                        (
                            f"{key} {ties}",
                            lambda f=frame, t=th, ti=ties, s=strata: _check_cox(f, t, ti, "", strata=s),
                        )
                    )
        for label, check in checks:
            try:
                check()
            except (AssertionError, StatsError) as exc:
                failures.append(f"{name} {label}: {exc}")
    assert failures == []


def _check_logrank(frame: pd.DataFrame, theirs: dict[str, Any]) -> None:
    res = stats.logrank_test(
        frame["time"].to_numpy(float), frame["status"].to_numpy(bool), frame["group"].to_numpy(str)
    )
    assert res.df == theirs["df"], (res.df, theirs["df"])
    if theirs["df"] > 0:
        close(res.chisq, theirs["chisq"], KM_RTOL, "chisq")
        close(res.p, theirs["p"], KM_RTOL, "p")
    close(res.expected, theirs["expected"], KM_RTOL, "expected")


def _check_no_events(frame: pd.DataFrame) -> None:
    with pytest.raises(StatsError, match="there are no events"):
        stats.cox_ph(
            frame[["x1"]].to_numpy(float),
            frame["time"].to_numpy(float),
            np.zeros(len(frame), bool),
            names=["x1"],
        )


@pytest.mark.parametrize("name", [n for n in CASES if "group" in make_cases()[n] and n != "late_entry"])
def test_peto_peto_matches_live_r_survdiff_rho_1_on_edge_case(name: str, live: dict[str, Any]) -> None:
    frame, r = live[name]
    theirs = r["logrank"]["rho1"]
    res = stats.logrank_test(
        frame["time"].to_numpy(float),
        frame["status"].to_numpy(bool),
        frame["group"].to_numpy(str),
        weights="peto-peto",
    )
    close(res.chisq, theirs["chisq"], KM_RTOL, f"{name} chisq")
    close(res.observed, theirs["observed"], KM_RTOL, f"{name} observed")
    close(res.expected, theirs["expected"], KM_RTOL, f"{name} expected")


ZPH_CASES = [
    (n, ties, strata)
    for n, ties in COX_CASES
    for strata in ((False, True) if "group" in make_cases()[n] else (False,))
]  # fmt: skip


@pytest.mark.parametrize(("name", "ties", "strata"), ZPH_CASES)
def test_cox_zph_matches_live_r_on_edge_case(
    name: str, ties: str, strata: bool, live: dict[str, Any]
) -> None:
    """``cox.zph(fit, transform = "km" | "identity" | "rank")``: per-term and GLOBAL tests."""
    frame, r = live[name]
    theirs = r["cox_strata" if strata else "cox"][ties]
    names = [c for c in ("x1", "x2") if c in frame]
    data = {
        "X": frame[names].to_numpy(float),
        "time": frame["time"].to_numpy(float),
        "event": frame["status"].to_numpy(bool),
        "entry": frame["entry"].to_numpy(float) if "entry" in frame else None,
        "strata": frame["group"].to_numpy(str) if strata else None,
    }
    fit = stats.cox_ph(data["X"], data["time"], data["event"], names=names, entry=data["entry"],
                       strata=data["strata"], ties=ties)  # fmt: skip
    for transform, block in theirs["zph"].items():
        assert "error" not in block, block
        zph = stats.cox_zph(fit, data["X"], data["time"], data["event"], entry=data["entry"],
                            strata=data["strata"], transform=transform)  # fmt: skip
        w = f"{name} {ties} strata={strata} {transform}"
        assert list(zph.term) == arr(block["term"]), w
        close(zph.chisq, block["chisq"], COX_RTOL, f"{w} chisq")
        close(zph.p, block["p"], COX_RTOL, f"{w} p")


@pytest.mark.parametrize("name", [n for n in CASES if "entry" not in make_cases()[n]])
def test_reverse_km_followup_matches_live_r_on_edge_case(name: str, live: dict[str, Any]) -> None:
    """Median follow-up: ``quantile(survfit(Surv(time, 1 - status) ~ 1, conf.type = .))``."""
    frame, r = live[name]
    for conf_type in ("log-log", "log", "plain"):
        fu = stats.median_followup(
            frame["time"].to_numpy(float), frame["status"].to_numpy(bool), profile="r", conf_type=conf_type
        )
        want = r["followup"][conf_type]
        got = np.array(
            [np.nan if v is None else v for v in (fu.median.estimate, fu.median.ci_low, fu.median.ci_high)]
        )
        close(got, [want["estimate"], want["lower"], want["upper"]], KM_RTOL, f"{name} {conf_type}")


@pytest.mark.parametrize("name", [n for n in CASES if "entry" not in make_cases()[n]])
def test_rmst_matches_live_r_rmean_on_edge_case(name: str, live: dict[str, Any]) -> None:
    """RMST up to the last time: ``summary(survfit(...), rmean = tau)$table``."""
    frame, r = live[name]
    want = r["rmst"]
    km = stats.kaplan_meier(frame["time"].to_numpy(float), frame["status"].to_numpy(bool), profile="r")
    res = km.rmst(float(want["tau"]))
    close(res.estimate, want["estimate"], KM_RTOL, f"{name} rmst")
    close(res.std_err, want["se"], KM_RTOL, f"{name} rmst se")
