"""Cox models against R's ``coxph`` at full precision, on every Cox block of the reference set.

Source: ``tests/fixtures/survival_reference`` (R 4.2.2, survival 3.5-3; see its SOURCE.md and
README-original.md). Each model block was produced by ``make_reference.R`` as
``coxph(Surv(time, status) ~ covariates [+ strata(S)], ties = ...)`` on the complete cases of
its own variables; factor levels and references are the JSON's ``factors``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from postcart.stats import cox_ph, model_matrix

REF = Path(__file__).resolve().parents[1] / "fixtures" / "survival_reference"
RTOL = 1e-6  # issue 3: <= 1e-6 relative for Cox


def _load(name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    data = pd.read_csv(REF / "data" / f"{name}.csv", float_precision="round_trip")
    ref = json.loads((REF / "ref" / f"{name}.json").read_text())
    return data, ref


def _blocks() -> list[tuple[str, str, str, str]]:
    out = []
    for path in sorted((REF / "ref").glob("*.json")):
        ref = json.loads(path.read_text())
        cox = ref.get("cox", {})
        for kind in ("univariate", "multivariate"):
            for model, block in cox.get(kind, {}).items():
                for ties in block:
                    out.append((path.stem, kind, model, ties))
        for ties in cox.get("stratified", {}):
            out.append((path.stem, "stratified", "-", ties))
        cr = ref.get("extra", {}).get("competing_risks", {}).get("cause_specific_cox", {})
        for cause, block in cr.items():
            for ties in block:
                out.append((path.stem, "cause_specific", cause, ties))
    return out


BLOCKS = _blocks()


def _block(ref: dict[str, Any], kind: str, model: str, ties: str) -> dict[str, Any]:
    if kind == "stratified":
        return ref["cox"]["stratified"][ties]  # type: ignore[no-any-return]
    if kind == "cause_specific":
        return ref["extra"]["competing_risks"]["cause_specific_cox"][model][ties]  # type: ignore[no-any-return]
    return ref["cox"][kind][model][ties]  # type: ignore[no-any-return]


def fit_block(name: str, kind: str, model: str, ties: str) -> tuple[Any, dict[str, Any], Any]:
    data, ref = _load(name)
    block = _block(ref, kind, model, ties)
    time = data["time"].to_numpy(float)
    status = data["status"].to_numpy(float)
    if kind == "cause_specific":  # mgus2: etime = ptime if pstat == 1 else futime
        pcm = data["pstat"].to_numpy() == 1
        time = np.where(pcm, data["ptime_months"], data["futime_months"]).astype(float)
        status = (pcm if model == "pcm" else (~pcm & (data["status"].to_numpy() == 1))).astype(float)
    cols = {v: data[v].to_numpy() for v in block["covariates"]}
    strata_var = block.get("strata")
    if strata_var:
        cols["__strata__"] = data[strata_var].to_numpy()
    cat = {v: ref["factors"][v]["levels"] for v in block["covariates"] if v in ref["factors"]}
    cat_strata = {"__strata__": None} if strata_var else {}
    mm = model_matrix(cols, categorical={**cat, **cat_strata})
    keep = [i for i, nm in enumerate(mm.names) if not nm.startswith("__strata__")]
    strata = None
    if strata_var:
        strata = np.asarray(cols["__strata__"])[mm.rows_used]
    fit = cox_ph(
        mm.X[:, keep],
        time[mm.rows_used],
        status[mm.rows_used],
        names=[mm.names[i] for i in keep],
        strata=strata,
        ties=ties,
    )
    return fit, block, mm


def _p_close(actual: float | None, expected: float) -> None:
    assert actual is not None
    if expected < 1e-8:
        assert np.log(actual) == pytest.approx(np.log(expected), rel=RTOL)
    else:
        assert actual == pytest.approx(expected, rel=RTOL)


@pytest.mark.reference("survival::coxph", fixture="survival_reference/ref/*.json cox")
@pytest.mark.parametrize(("dataset", "kind", "model", "ties"), BLOCKS, ids=["-".join(b) for b in BLOCKS])
def test_cox_matches_r_coxph_reference(dataset: str, kind: str, model: str, ties: str) -> None:
    fit, block, mm = fit_block(dataset, kind, model, ties)
    assert fit.n == block["n"]
    assert fit.n_events == block["n_events"]
    if kind != "cause_specific":
        assert mm.n_dropped == block["n_dropped_na"]
    terms = block["terms"]
    assert len(fit.terms) == len(terms)
    for got, exp in zip(fit.terms, terms, strict=True):
        want_name = exp["variable"] if exp["level"] is None else f"{exp['variable']}[{exp['level']}]"
        assert got.term == want_name
        assert got.estimable
        assert got.coef == pytest.approx(exp["coef"], rel=RTOL)
        assert got.se == pytest.approx(exp["se"], rel=RTOL)
        assert got.hr == pytest.approx(exp["hr"], rel=RTOL)
        assert got.ci_low == pytest.approx(exp["hr_lower"], rel=RTOL)
        assert got.ci_high == pytest.approx(exp["hr_upper"], rel=RTOL)
        assert got.z == pytest.approx(exp["z"], rel=RTOL)
        _p_close(got.p, exp["p"])
    assert_allclose(fit.var, np.array(block["var"], dtype=float).reshape(fit.var.shape), rtol=RTOL, atol=0)
    assert fit.loglik_null == pytest.approx(block["loglik_null"], rel=RTOL)
    assert fit.loglik == pytest.approx(block["loglik_fit"], rel=RTOL)
    for mine, key in ((fit.lr_test, "lr_test"), (fit.score_test, "score_test"), (fit.wald_test, "wald_test")):
        assert mine.chisq == pytest.approx(block[key]["stat"], rel=RTOL)
        assert mine.df == block[key]["df"]
        _p_close(mine.p, block[key]["p"])
    if "concordance" in block:
        conc = block["concordance"]
        assert fit.concordance == pytest.approx(conc["concordance"], rel=RTOL)
        assert fit.concordance_se == pytest.approx(conc["std"], rel=RTOL)
        detail = fit.concordance_detail
        assert detail is not None
        assert [detail.concordant, detail.discordant, detail.tied_x, detail.tied_y, detail.tied_xy] == [
            pytest.approx(conc[k], rel=1e-12)
            for k in ("concordant", "discordant", "tied_x", "tied_y", "tied_xy")
        ]
    assert fit.converged
    assert not fit.monotone
    if "iterations" in block:
        assert fit.iterations == block["iterations"]
