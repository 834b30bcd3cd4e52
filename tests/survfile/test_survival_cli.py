"""``postcart survival`` on every data set of the R survival reference, compared with R.

Reference: ``tests/fixtures/survival_reference/ref/NAME.json`` (R 4.2.2, survival 3.5-3, full
precision; see that folder's README-original.md). Tolerances are those of issue 3: 1e-8 relative
for Kaplan-Meier, its CIs, medians and the log-rank test; 1e-6 relative for Cox.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from postcart.cli.main import app

REF = Path(__file__).resolve().parents[1] / "fixtures" / "survival_reference"
DATASETS = sorted(p.stem for p in (REF / "data").glob("*.csv"))
CONF_TYPES = ("log-log", "log", "plain")
KM_RTOL = 1e-8
COX_RTOL = 1e-6

pytestmark = pytest.mark.reference("survival::survfit/survdiff/coxph", fixture="survival_reference")


@cache
def ref(name: str) -> dict[str, Any]:
    return json.loads((REF / "ref" / f"{name}.json").read_text(encoding="utf-8"))


@cache
def run(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["survival", *args, "--format", "json"])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return json.loads(result.stdout)


def km_args(name: str, conf_type: str) -> tuple[str, ...]:
    r = ref(name)
    times = ",".join(str(t) for t in r["milestones"])
    return (
        str(REF / "data" / f"{name}.csv"),
        "--time", "time", "--event", "status", "--group", r["group_var"],
        "--profile", "r", "--conf-type", conf_type, "--times", times,
    )  # fmt: skip


def close(ours: Any, theirs: Any, rtol: float, what: str) -> None:
    """Null must match null; numbers must agree to ``rtol`` (exact zeros compare exactly)."""
    a = [ours] if not isinstance(ours, list) else ours
    b = [theirs] if not isinstance(theirs, list) else theirs
    assert len(a) == len(b), f"{what}: {len(a)} values vs R's {len(b)}"
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if y is None:
            assert x is None, f"{what}[{i}]: {x!r}, R has null"
        else:
            assert x is not None, f"{what}[{i}]: null, R has {y!r}"
            assert math.isclose(x, y, rel_tol=rtol, abs_tol=0.0), f"{what}[{i}]: {x!r} vs R {y!r}"


def curves(name: str, conf_type: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    out = run(*km_args(name, conf_type))
    by = {k["group"]: k for k in out["km"]}
    r = ref(name)["km"]
    pairs = [(by["all"], r["overall"])]
    pairs += [(by[level], block) for level, block in r["by_group"].items()]
    assert len(by) == len(pairs)
    return pairs


# ------------------------------------------------------------------------------ Kaplan-Meier


@pytest.mark.parametrize("conf_type", CONF_TYPES)
@pytest.mark.parametrize("name", DATASETS)
def test_km_table_and_median_match_r_survfit(name: str, conf_type: str) -> None:
    for ours, theirs in curves(name, conf_type):
        where = f"{name} {ours['group']} {conf_type}"
        assert ours["n"] == theirs["n"] and ours["events"] == theirs["n_events"]
        tab = theirs["table"]
        rows = ours["table"]
        for key, rkey in (
            ("time", "time"),
            ("n_risk", "n_risk"),
            ("n_event", "n_event"),
            ("n_censor", "n_censor"),
            ("survival", "surv"),
            ("std_err", "std_err"),
        ):
            close([row[key] for row in rows], tab[rkey], KM_RTOL, f"{where} {key}")
        ci = theirs["ci"][conf_type]
        close([row["ci_low"] for row in rows], ci["lower"], KM_RTOL, f"{where} ci_low")
        close([row["ci_high"] for row in rows], ci["upper"], KM_RTOL, f"{where} ci_high")
        med = theirs["median"][conf_type]
        close(ours["median"], med["estimate"], KM_RTOL, f"{where} median")
        close(ours["median_ci"], [med["lower"], med["upper"]], KM_RTOL, f"{where} median_ci")
        q = theirs["quantiles"][conf_type]
        close([x["estimate"] for x in ours["quantiles"]], q["estimate"], KM_RTOL, f"{where} quartiles")
        close([x["ci_low"] for x in ours["quantiles"]], q["lower"], KM_RTOL, f"{where} quartile low")
        close([x["ci_high"] for x in ours["quantiles"]], q["upper"], KM_RTOL, f"{where} quartile high")


@pytest.mark.parametrize("name", DATASETS)
def test_km_at_times_match_r_summary_survfit(name: str) -> None:
    for conf_type in CONF_TYPES:
        for ours, theirs in curves(name, conf_type):
            where = f"{name} {ours['group']} {conf_type}"
            at = ours["at_times"]
            ms = theirs["milestones"]
            assert [a["time"] for a in at] == [m["time"] for m in ms]
            for a, m in zip(at, ms, strict=True):
                assert a["beyond_last_time"] == m["beyond_last_time"], where
                close(a["survival"], m["surv"], KM_RTOL, f"{where} t={m['time']} survival")
                close(a["std_err"], m["std_err"], KM_RTOL, f"{where} t={m['time']} std_err")
                close(a["n_risk"], None if m["beyond_last_time"] else m["n_risk"], KM_RTOL, where)
                close(a["ci_low"], m["ci"][conf_type]["lower"], KM_RTOL, f"{where} t={m['time']} low")
                close(a["ci_high"], m["ci"][conf_type]["upper"], KM_RTOL, f"{where} t={m['time']} high")


@pytest.mark.parametrize("name", DATASETS)
def test_followup_matches_r_reverse_km(name: str) -> None:
    for conf_type in CONF_TYPES:
        out = run(*km_args(name, conf_type))["followup"]
        r = ref(name)["reverse_km_followup"]
        med = r["overall"]["median"][conf_type]
        close(out["median"], med["estimate"], KM_RTOL, f"{name} follow-up {conf_type}")
        close(out["median_ci"], [med["lower"], med["upper"]], KM_RTOL, f"{name} follow-up CI {conf_type}")
        by = {g["group"]: g for g in out["by_group"]}
        for level, block in r["by_group"].items():
            med = block["median"][conf_type]
            close(by[level]["median"], med["estimate"], KM_RTOL, f"{name} {level} follow-up")
            close(by[level]["median_ci"], [med["lower"], med["upper"]], KM_RTOL, f"{name} {level} fu CI")


# ------------------------------------------------------------------------------- log-rank


def _logrank(ours: dict[str, Any], theirs: dict[str, Any], where: str) -> None:
    close(ours["chisq"], theirs["chisq"], KM_RTOL, f"{where} chisq")
    assert ours["df"] == theirs["df"], where
    close(ours["p"], theirs["p"], KM_RTOL, f"{where} p")
    assert sorted(ours["groups"]) == sorted(theirs["groups"]), where
    idx = [ours["groups"].index(g) for g in theirs["groups"]]
    close([ours["observed"][i] for i in idx], theirs["observed"], KM_RTOL, f"{where} observed")
    close([ours["expected"][i] for i in idx], theirs["expected"], KM_RTOL, f"{where} expected")
    close([ours["n"][i] for i in idx], theirs["n"], KM_RTOL, f"{where} n")


@pytest.mark.parametrize("name", DATASETS)
def test_logrank_matches_r_survdiff(name: str) -> None:
    _logrank(run(*km_args(name, "log"))["logrank"], ref(name)["logrank"], name)


@pytest.mark.parametrize("name", [n for n in DATASETS if "logrank_stratified" in ref(n)])
def test_stratified_logrank_matches_r_survdiff_strata(name: str) -> None:
    theirs = ref(name)["logrank_stratified"]
    out = run(*km_args(name, "log"), "--strata", theirs["strata_var"])
    _logrank(out["logrank_stratified"], theirs, f"{name} stratified")
    assert out["logrank_stratified"]["strata"] == theirs["strata_var"]
    n_na = ref(name)["na_counts"].get(theirs["strata_var"], 0)
    assert out["logrank_stratified"]["n_dropped"] == n_na
    _logrank(out["logrank"], ref(name)["logrank"], f"{name} unstratified beside stratified")


# ------------------------------------------------------------------------------------ Cox


def cox_cases() -> list[tuple[str, str, str]]:
    cases = []
    for name in DATASETS:
        cox = ref(name)["cox"]
        models = [("multivariate", m) for m in cox["multivariate"]]
        models += [("univariate", m) for m in cox["univariate"]]  # each on its own complete cases
        if "stratified" in cox:
            models.append(("stratified", ""))
        for kind, model in models:
            for ties in ("breslow", "efron"):
                cases.append((name, f"{kind}:{model}" if model else kind, ties))
    return cases


def cox_block(name: str, model: str, ties: str) -> dict[str, Any]:
    cox = ref(name)["cox"]
    kind, _, sub = model.partition(":")
    block: dict[str, Any] = cox[kind][sub][ties] if sub else cox[kind][ties]
    return block


def cox_args(name: str, block: dict[str, Any], ties: str) -> tuple[str, ...]:
    factors = ref(name)["factors"]
    covs = block["covariates"]
    args = [str(REF / "data" / f"{name}.csv"), "--time", "time", "--event", "status"]
    args += ["--covariates", ",".join(covs), "--ties", ties]
    refs = [f"{c}={factors[c]['reference']}" for c in covs if c in factors]
    if refs:
        args += ["--reference", ",".join(refs)]
    if block["strata"]:
        args += ["--strata", block["strata"]]
    return tuple(args)


def term_name(t: dict[str, Any]) -> str:
    return f"{t['variable']}[{t['level']}]" if t["level"] is not None else str(t["variable"])


@pytest.mark.parametrize(("name", "model", "ties"), cox_cases())
def test_cox_matches_r_coxph(name: str, model: str, ties: str) -> None:
    theirs = cox_block(name, model, ties)
    cox = run(*cox_args(name, theirs, ties))["cox"]
    where = f"{name} {model} {ties}"
    assert cox["ties"] == ties
    assert (cox["n"], cox["events"], cox["n_dropped"]) == (
        theirs["n"],
        theirs["n_events"],
        theirs["n_dropped_na"],
    ), where
    by = {t["term"]: t for t in cox["terms"]}
    assert sorted(by) == sorted(term_name(t) for t in theirs["terms"]), where
    for t in theirs["terms"]:
        ours = by[term_name(t)]
        for key, rkey in (
            ("coef", "coef"),
            ("se", "se"),
            ("hr", "hr"),
            ("ci_low", "hr_lower"),
            ("ci_high", "hr_upper"),
            ("z", "z"),
            ("p", "p"),
        ):
            close(ours[key], t[rkey], COX_RTOL, f"{where} {ours['term']} {key}")
    close(cox["loglik_null"], theirs["loglik_null"], COX_RTOL, f"{where} loglik_null")
    close(cox["loglik"], theirs["loglik_fit"], COX_RTOL, f"{where} loglik")
    for key in ("lr_test", "wald_test", "score_test"):
        close(cox[key]["chisq"], theirs[key]["stat"], COX_RTOL, f"{where} {key}")
        assert cox[key]["df"] == theirs[key]["df"], where
        close(cox[key]["p"], theirs[key]["p"], COX_RTOL, f"{where} {key} p")
    close(cox["concordance"], theirs["concordance"]["concordance"], COX_RTOL, f"{where} C")
    close(cox["concordance_se"], theirs["concordance"]["std"], COX_RTOL, f"{where} C se")


def test_delayed_entry_km_and_cox_match_r_counting_process() -> None:
    """myeloma: ``survfit(Surv(entry, time, status) ~ 1, conf.type='log-log')`` and
    ``coxph(Surv(entry, time, status) ~ era)`` (Efron), from ``extra.left_truncated_km``."""
    theirs = ref("myeloma")["extra"]["left_truncated_km"]
    ms = theirs["milestones"]
    out = run(
        str(REF / "data" / "myeloma.csv"),
        "--time", "time", "--event", "status", "--entry", "entry",
        "--conf-type", "log-log", "--profile", "r", "--times", ",".join(str(t) for t in ms["time"]),
        "--covariates", "era", "--reference", "era=1947-1969", "--ties", "efron",
    )  # fmt: skip
    km = out["km"][0]
    med = theirs["median"]
    close(km["median"], med["estimate"], KM_RTOL, "median")
    close(km["median_ci"], [med["lower"], med["upper"]], KM_RTOL, "median CI")
    for key, rkey in (
        ("survival", "surv"),
        ("std_err", "std_err"),
        ("n_risk", "n_risk"),
        ("ci_low", "lower"),
        ("ci_high", "upper"),
    ):
        close([a[key] for a in km["at_times"]], ms[rkey], KM_RTOL, key)
    rc = theirs["cox_era_efron"]
    by = {t["term"]: t for t in out["cox"]["terms"]}
    names = [f"era[{t.removeprefix('era')}]" for t in rc["terms"]]
    close([by[n]["coef"] for n in names], rc["coef"], COX_RTOL, "coef")
    close([by[n]["se"] for n in names], rc["se"], COX_RTOL, "se")
    close([out["cox"]["loglik_null"], out["cox"]["loglik"]], rc["loglik"], COX_RTOL, "loglik")
    assert out["logrank"] is None


# ------------------------------------------------------------------------------- contract

TOP_KEYS = {"conventions", "km", "followup", "logrank", "cox"}
KM_KEYS = {"group", "n", "events", "median", "median_ci", "table", "at_times"}
TABLE_KEYS = {"time", "n_risk", "n_event", "n_censor", "survival", "std_err", "ci_low", "ci_high"}
AT_KEYS = {"time", "survival", "std_err", "ci_low", "ci_high", "n_risk"}
COX_KEYS = {
    "ties", "n", "events", "n_dropped", "terms", "loglik_null", "loglik", "lr_test", "wald_test",
    "score_test", "concordance", "concordance_se",
}  # fmt: skip
TERM_KEYS = {"term", "coef", "se", "hr", "ci_low", "ci_high", "z", "p"}


def test_json_has_every_key_of_the_issue_contract() -> None:
    out = run(*km_args("lung", "log-log"), "--covariates", "age,sex,ph_ecog_cat", "--reference", "sex=male")
    assert TOP_KEYS <= set(out)
    assert set(out["conventions"]) >= {"conf_type", "conf_level", "ties", "median_rule", "profile"}
    assert out["conventions"] == {
        "profile": "r",
        "conf_type": "log-log",
        "conf_level": 0.95,
        "ties": "efron",
        "median_rule": "r",
    }
    assert [k["group"] for k in out["km"]] == ["all", "female", "male"]
    for k in out["km"]:
        assert KM_KEYS <= set(k)
        assert len(k["median_ci"]) == 2
        assert all(TABLE_KEYS <= set(row) for row in k["table"])
        assert [a["time"] for a in k["at_times"]] == [180.0, 365.0, 730.0]
        assert all(AT_KEYS <= set(a) for a in k["at_times"])
    assert {"median", "median_ci"} <= set(out["followup"])
    assert {"chisq", "df", "p", "groups", "observed", "expected"} <= set(out["logrank"])
    assert COX_KEYS <= set(out["cox"])
    assert all(TERM_KEYS <= set(t) for t in out["cox"]["terms"])
    assert [t["term"] for t in out["cox"]["terms"]] == [
        "age",
        "sex[female]",
        "ph_ecog_cat[ecog1]",
        "ph_ecog_cat[ecog2-3]",
    ]
    for key in ("lr_test", "wald_test", "score_test"):
        assert set(out["cox"][key]) >= {"chisq", "df", "p"}
    assert out["cox"]["n_dropped"] == 1  # ph_ecog_cat is missing once


def test_json_writes_not_reached_and_undefined_as_null() -> None:
    """ovarian: the median of rx2 and the upper limits are not reached; toy_edge C: S reaches 0
    (SE undefined)."""
    ovarian = {k["group"]: k for k in run(*km_args("ovarian", "log-log"))["km"]}
    assert ovarian["rx2"]["median"] is None
    assert ovarian["rx1"]["median_ci"][1] is None
    toy = {k["group"]: k for k in run(*km_args("toy_edge", "log-log"))["km"]}
    last = toy["C"]["table"][-1]
    assert (last["survival"], last["std_err"], last["ci_low"], last["ci_high"]) == (0.0, None, None, None)


def test_default_profile_is_sas_with_log_log_and_breslow() -> None:
    out = run(str(REF / "data" / "lung.csv"), "--time", "time", "--event", "status", "--covariates", "age")
    assert out["conventions"] == {
        "profile": "sas",
        "conf_type": "log-log",
        "conf_level": 0.95,
        "ties": "breslow",
        "median_rule": "sas",
    }
    assert out["cox"]["ties"] == "breslow"
    assert out["logrank"] is None


def test_text_format_is_a_readable_summary() -> None:
    result = CliRunner().invoke(
        app,
        [
            "survival", str(REF / "data" / "lung.csv"), "--time", "time", "--event", "status",
            "--group", "sex", "--strata", "ph_ecog_cat", "--covariates", "age,sex",
            "--reference", "sex=male", "--times", "365", "--profile", "r",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert text.startswith("postcart survival: lung.csv (228 rows; time=time, event=status)\n")
    assert "conventions: profile=r, CI log 0.95, median rule r, Cox ties efron\n" in text
    assert "Log-rank test: chisq = 10.3267, df = 1, p = 0.001311\n" in text
    assert "Stratified log-rank test (strata: ph_ecog_cat): chisq = 11.0542, df = 1, p = 0.0008849\n" in text
    assert "Median follow-up (reverse Kaplan-Meier): 588 (511 - 1010)\n" in text
    assert "\nsex[female]" in text
    assert "NaN" not in text and "nan" not in text


# ------------------------------------------------------------------------------ bad input


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["survival", *args])
    return result.exit_code, result.stderr


@pytest.fixture
def bad_csv(tmp_path: Path) -> Path:
    path = tmp_path / "bad.csv"
    path.write_text(
        "id,t,e,g,x,start\n1,5,1,a,0.1,0\n2,abc,0,b,0.2,0\n3,-1,2,a,,0\n4,7,,b,0.3,9\n5,8,true,a,0.4,1\n",
        encoding="utf-8",
    )
    return path


def test_missing_file_is_named(tmp_path: Path) -> None:
    code, err = invoke(str(tmp_path / "none.csv"), "--time", "t", "--event", "e")
    assert (code, err) == (1, f"error: {tmp_path / 'none.csv'}: file not found\n")


def test_missing_column_lists_the_columns(bad_csv: Path) -> None:
    code, err = invoke(str(bad_csv), "--time", "time", "--event", "e")
    assert code == 1
    assert err == (
        "error: bad.csv: 1 problem found\n"
        "  bad.csv: column 'time' (--time) not found; columns are: id, t, e, g, x, start\n"
    )


def test_every_bad_value_is_listed_by_line(bad_csv: Path) -> None:
    code, err = invoke(str(bad_csv), "--time", "t", "--event", "e", "--entry", "start")
    assert code == 1
    assert err == (
        "error: bad.csv: 5 problems found\n"
        "  bad.csv line 3: column 't' (time) value 'abc' is not a number\n"
        "  bad.csv line 4: column 't' (time) value -1.0 is negative\n"
        "  bad.csv line 4: column 'e' (event) value '2' is not 0/1 or true/false\n"
        "  bad.csv line 5: column 'e' (event) is empty\n"
        "  bad.csv line 5: entry 9.0 (column 'start') is not before time 7.0 (column 't')\n"
    )


def test_unknown_reference_level_is_named(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text("t,e,g\n1,1,a\n2,0,b\n3,1,a\n", encoding="utf-8")
    code, err = invoke(str(path), "--time", "t", "--event", "e", "--covariates", "g", "--reference", "g=c")
    assert (code, err) == (
        1,
        "error: ok.csv: 1 problem found\n"
        "  --reference g=c: level 'c' not found in column 'g' of ok.csv; levels are: a, b\n",
    )


def test_categorical_outside_covariates_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text("t,e,g\n1,1,a\n2,0,b\n3,1,a\n", encoding="utf-8")
    code, err = invoke(str(path), "--time", "t", "--event", "e", "--categorical", "g")
    assert (code, err) == (
        1,
        "error: ok.csv: 1 problem found\n  'g' is declared categorical but is not in --covariates\n",
    )


def test_event_accepts_true_false_like_0_1(tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    b = tmp_path / "b.csv"
    a.write_text("t,e\n1,1\n2,0\n3,1\n4,0\n", encoding="utf-8")
    b.write_text("t,e\n1,TRUE\n2,false\n3,True\n4,FALSE\n", encoding="utf-8")
    ka = run(str(a), "--time", "t", "--event", "e")["km"]
    kb = run(str(b), "--time", "t", "--event", "e")["km"]
    assert ka == kb
    assert [row["survival"] for row in ka[0]["table"]] == [0.75, 0.75, 0.375, 0.375]


def test_bad_times_option_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text("t,e\n1,1\n2,0\n", encoding="utf-8")
    code, err = invoke(str(path), "--time", "t", "--event", "e", "--times", "1,x")
    assert code == 2
    assert "'x' is not a number" in err


def test_km_and_cox_use_their_own_rows_when_covariates_are_missing() -> None:
    """lung: KM uses all 228 rows; the model age + wt_loss drops the 14 rows without wt_loss."""
    out = run(
        str(REF / "data" / "lung.csv"), "--time", "time", "--event", "status", "--covariates", "age,wt_loss"
    )
    assert out["km"][0]["n"] == 228
    assert (out["cox"]["n"], out["cox"]["n_dropped"]) == (214, 14)
    assert np.isfinite(out["cox"]["loglik"])


def test_installed_command_prints_the_same_json_as_in_process() -> None:
    exe = Path(sys.executable).parent / "postcart"
    assert exe.exists(), f"{exe} missing: install the package (scripts/setup.sh)"
    args = km_args("toy_edge", "log-log") + ("--covariates", "x,group", "--reference", "group=A")
    proc = subprocess.run(
        [str(exe), "survival", *args, "--format", "json"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == run(*args)


def test_single_level_factor_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("t,e,g\n1,1,a\n2,0,a\n3,1,a\n", encoding="utf-8")
    code, err = invoke(str(path), "--time", "t", "--event", "e", "--covariates", "g")
    assert (code, err) == (
        1,
        "error: one.csv: the Cox model has no coefficient to estimate; "
        "covariate 'g' (a) has a single level\n",
    )


def test_group_levels_are_the_text_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text("t,e,g\n1,1,01\n2,0,02\n3,1,01\n4,1,10\n", encoding="utf-8")
    out = run(str(path), "--time", "t", "--event", "e", "--group", "g")
    assert [k["group"] for k in out["km"]] == ["all", "01", "02", "10"]
    assert out["logrank"]["groups"] == ["01", "02", "10"]


def test_monotone_likelihood_is_a_note_and_firth_gives_a_finite_hr(tmp_path: Path) -> None:
    """Group b has no event: R's coxph warns "coefficient may be infinite"; postcart reports the
    term as not estimable with a note, and ``--firth`` gives a finite penalized estimate."""
    path = tmp_path / "mono.csv"
    path.write_text("t,e,g\n1,1,a\n2,1,a\n3,0,b\n4,1,a\n5,0,b\n6,0,b\n", encoding="utf-8")
    plain = run(str(path), "--time", "t", "--event", "e", "--covariates", "g")
    (term,) = plain["cox"]["terms"]
    assert (plain["cox"]["monotone"], term["estimable"], term["hr"], term["p"]) == (True, False, None, None)
    assert [n.split(":")[0] for n in plain["notes"]] == ["monotone likelihood"]
    firth = run(str(path), "--time", "t", "--event", "e", "--covariates", "g", "--firth")
    (term,) = firth["cox"]["terms"]
    assert firth["cox"]["firth"] and term["estimable"] and 0 < term["hr"] < 1
    assert firth["notes"] == []


def test_delayed_entry_leaves_out_the_logrank_test_with_a_note() -> None:
    out = run(str(REF / "data" / "myeloma.csv"), "--time", "time", "--event", "status", "--entry", "entry",
              "--group", "era")  # fmt: skip
    assert out["logrank"] is None
    assert out["notes"] == [
        "log-rank test not computed with delayed entry (--entry); "
        "use the Cox model with the group as a covariate"
    ]


@pytest.mark.parametrize("name", DATASETS)
def test_default_sas_profile_km_table_matches_r_log_log(name: str) -> None:
    """The SAS profile's curve and pointwise CIs are R's ``conf.type = "log-log"`` ones (only the
    median rule differs; it is checked against the LIFETEST formulas in tests/stats)."""
    r = ref(name)
    out = run(
        str(REF / "data" / f"{name}.csv"), "--time", "time", "--event", "status", "--group", r["group_var"]
    )
    assert out["conventions"]["conf_type"] == "log-log" and out["conventions"]["median_rule"] == "sas"
    by = {k["group"]: k for k in out["km"]}
    for level, block in [("all", r["km"]["overall"]), *r["km"]["by_group"].items()]:
        rows = by[level]["table"]
        close([row["survival"] for row in rows], block["table"]["surv"], KM_RTOL, f"{name} {level} S")
        close(
            [row["ci_low"] for row in rows], block["ci"]["log-log"]["lower"], KM_RTOL, f"{name} {level} low"
        )
        close(
            [row["ci_high"] for row in rows], block["ci"]["log-log"]["upper"], KM_RTOL, f"{name} {level} high"
        )


@pytest.mark.parametrize("name", DATASETS)
def test_text_format_runs_on_every_data_set(name: str) -> None:
    r = ref(name)
    block = cox_block(name, *cox_cases_for_text(name))
    args = [*cox_args(name, block, "breslow"), "--group", r["group_var"], "--times", "30"]
    result = CliRunner().invoke(app, ["survival", *args])
    assert result.exit_code == 0, result.stderr
    for header in ("Kaplan-Meier by", "Median follow-up", "Log-rank test:", "Cox model (breslow ties"):
        assert header in result.stdout, (name, header)
    assert "nan" not in result.stdout.lower()


def cox_cases_for_text(name: str) -> tuple[str, str]:
    cox = ref(name)["cox"]
    if cox["multivariate"]:
        return f"multivariate:{next(iter(cox['multivariate']))}", "breslow"
    return f"univariate:{list(cox['univariate'])[-1]}", "breslow"


def test_excel_csv_with_bom_and_crlf_is_read(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbftime,status\r\n1,1\r\n2,0\r\n3,1\r\n")
    out = run(str(path), "--time", "time", "--event", "status")
    close([row["survival"] for row in out["km"][0]["table"]], [2 / 3, 2 / 3, 0.0], 1e-15, "S by hand")


def test_semicolon_separated_file_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("time;status\n1;1\n", encoding="utf-8")
    code, err = invoke(str(path), "--time", "time", "--event", "status")
    assert code == 1
    assert err.endswith(
        "  semi.csv: the header has one column with ';' in it: save the file comma-separated\n"
    )


def test_bad_values_in_numeric_columns_are_listed_by_line(tmp_path: Path) -> None:
    path = tmp_path / "num.csv"
    path.write_text("t,e,x\n1,1,0.5\n2,2,inf\n3,0,1\n", encoding="utf-8")
    code, err = invoke(str(path), "--time", "t", "--event", "e", "--covariates", "x")
    assert (code, err) == (
        1,
        "error: num.csv: 2 problems found\n"
        "  num.csv line 3: column 'e' (event) value 2 is not 0/1 or true/false\n"
        "  num.csv line 3: column 'x' (covariate) value inf is not finite\n",
    )


def test_reference_levels_can_be_repeated_or_comma_separated() -> None:
    data = str(REF / "data" / "veteran.csv")
    base = (data, "--time", "time", "--event", "status", "--covariates", "trt,celltype")
    repeated = run(*base, "--reference", "trt=test", "--reference", "celltype=large")
    listed = run(*base, "--reference", "trt=test,celltype=large")
    names = ["trt[standard]", "celltype[adeno]", "celltype[smallcell]", "celltype[squamous]"]
    assert [t["term"] for t in repeated["cox"]["terms"]] == names
    assert repeated["cox"] == listed["cox"]
    code, err = invoke(*base, "--reference", "trt")
    assert code == 2 and "'trt' is not VARIABLE=LEVEL" in err
