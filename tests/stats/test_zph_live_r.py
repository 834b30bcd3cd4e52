"""cox_zph against live R ``cox.zph`` where the stored references do not reach: strata, case
weights and (start, stop] data, for the three transforms (by term, with a factor, and GLOBAL)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from postcart.stats import cox_ph, cox_zph, model_matrix

pytestmark = [pytest.mark.needs_r, pytest.mark.reference("live R survival::cox.zph")]

R_CODE = r"""
suppressMessages(library(survival))
args <- commandArgs(TRUE)
d <- read.csv(args[1]); ties <- args[2]
d$f <- factor(d$f, levels = c("a", "b", "c"))
for (v in c("w", "time", "entry", "x")) d[[v]] <- as.numeric(d[[v]])  # cox.zph needs doubles
out <- c()
for (spec in c("strata_weights", "entry")) {
  fit <- if (spec == "strata_weights")
    coxph(Surv(time, status) ~ x + f + strata(s), data = d, weights = w, ties = ties)
  else coxph(Surv(entry, time, status) ~ x + f, data = d, ties = ties)
  for (tr in c("km", "identity", "rank")) {
    z <- cox.zph(fit, transform = tr)$table
    out <- c(out, sprintf('"%s_%s": {"chisq": [%s], "df": [%s]}', spec, tr,
      paste(sprintf("%.17g", z[, "chisq"]), collapse = ","), paste(z[, "df"], collapse = ",")))
  }
}
cat("{", paste(out, collapse = ","), "}\n")
"""


def make_data(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 160
    entry = rng.integers(0, 4, n).astype(float)
    return pd.DataFrame(
        {
            "entry": entry,
            "time": entry + 1 + rng.integers(0, 12, n),
            "status": (rng.random(n) < 0.7).astype(int),
            "x": rng.normal(size=n).round(2),
            "f": rng.choice(["a", "b", "c"], n),
            "s": rng.integers(0, 2, n),
            "w": rng.integers(1, 4, n),
        }
    )


@pytest.mark.parametrize("ties", ["breslow", "efron"])
def test_cox_zph_matches_live_r_with_strata_weights_and_late_entry(ties: str, tmp_path: Path) -> None:
    d = make_data()
    csv = tmp_path / "zph.csv"
    d.to_csv(csv, index=False)
    script = tmp_path / "zph.R"
    script.write_text(R_CODE)
    out = subprocess.run(["Rscript", str(script), str(csv), ties], capture_output=True, text=True, check=True)
    r = json.loads(out.stdout)
    mm = model_matrix({"x": d["x"].to_numpy(), "f": d["f"].to_numpy()}, categorical={"f": ["a", "b", "c"]})
    t, e = d["time"].to_numpy(float), d["status"].to_numpy(float)
    for spec in ("strata_weights", "entry"):
        kw: dict[str, object] = (
            {"strata": d["s"].to_numpy(), "weights": d["w"].to_numpy(float)}
            if spec == "strata_weights"
            else {"entry": d["entry"].to_numpy(float)}
        )
        fit = cox_ph(mm.X, t, e, names=mm.names, ties=ties, **kw)  # type: ignore[arg-type]
        for tr in ("km", "identity", "rank"):
            res = cox_zph(fit, mm.X, t, e, transform=tr, **kw)  # type: ignore[arg-type]
            want = r[f"{spec}_{tr}"]
            assert res.term == ("x", "f", "GLOBAL")
            assert list(res.df) == want["df"]
            assert_allclose(res.chisq, want["chisq"], rtol=1e-6, err_msg=f"{spec} {tr}")
