"""cox.zph against R (survival 3.5-3): the ``cox_zph`` blocks of the reference set.

Source: ``tests/fixtures/survival_reference/ref/{lung,veteran}.json`` (``cox_zph.{efron,breslow}``,
transforms km / identity / rank, ``by_term`` = R's default ``terms = TRUE`` and
``by_coefficient`` = ``terms = FALSE``), for the model named in each block's ``formula``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from postcart.stats import cox_ph, cox_zph, model_matrix

REF = Path(__file__).resolve().parents[1] / "fixtures" / "survival_reference"
RTOL = 1e-6

CASES = [
    (name, ties, transform, layout)
    for name in ("lung", "veteran")
    for ties in ("efron", "breslow")
    for transform in ("km", "identity", "rank")
    for layout in ("by_term", "by_coefficient")
]


@pytest.mark.reference("survival::cox.zph", fixture="survival_reference/ref/{lung,veteran}.json cox_zph")
@pytest.mark.parametrize(("dataset", "ties", "transform", "layout"), CASES, ids=["-".join(c) for c in CASES])
def test_cox_zph_matches_r(dataset: str, ties: str, transform: str, layout: str) -> None:
    data = pd.read_csv(REF / "data" / f"{dataset}.csv", float_precision="round_trip")
    ref = json.loads((REF / "ref" / f"{dataset}.json").read_text())
    block = ref["cox_zph"][ties]
    covariates = re.sub(r"^.*~", "", block["formula"]).replace(" ", "").split("+")
    cat = {v: ref["factors"][v]["levels"] for v in covariates if v in ref["factors"]}
    mm = model_matrix({v: data[v].to_numpy() for v in covariates}, categorical=cat)
    t = data["time"].to_numpy(float)[mm.rows_used]
    e = data["status"].to_numpy(float)[mm.rows_used]
    fit = cox_ph(mm.X, t, e, names=mm.names, ties=ties)
    res = cox_zph(fit, mm.X, t, e, transform=transform, by_coefficient=layout == "by_coefficient")
    want = block[transform][layout]
    assert len(res.term) == len(want["term"])
    assert res.term[-1] == "GLOBAL"
    if layout == "by_term":
        assert list(res.term) == want["term"]
    assert list(res.df) == want["df"]
    assert_allclose(res.chisq, want["chisq"], rtol=RTOL)
    assert_allclose(res.p, want["p"], rtol=RTOL)


def test_cox_zph_with_a_single_event_is_a_clear_error_like_r() -> None:
    """R 4.2.2 / survival 3.5-3: ``cox.zph(coxph(Surv(t, e) ~ x))`` on t = 1:4, e = (0, 1, 0, 0),
    x = (0.5, 0.6, 0.2, 0.8) (a finite fit) fails with "Lapack routine dgesv: system is exactly
    singular"."""
    import numpy as np

    from postcart.errors import StatsError
    from postcart.stats import cox_ph, cox_zph

    X = np.array([[0.5], [0.6], [0.2], [0.8]])
    t = np.array([1.0, 2, 3, 4])
    e = np.array([0, 1, 0, 0])
    fit = cox_ph(X, t, e, names=["x"])
    assert fit.terms[0].estimable
    with pytest.raises(StatsError, match=r"information matrix for 'x' is singular"):
        cox_zph(fit, X, t, e)
