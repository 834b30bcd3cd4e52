"""Chi-square, Fisher, rank tests and proportion CIs against live R on generated tables.

One Rscript run for the module (``R_CODE`` below). The tables are generated here with a seeded
generator: 2 x 2 to 4 x 4, sparse and dense, with zeros; samples with and without ties.
Numbers travel as ``%.17g`` text. Tolerance 1e-10 relative (exact computations).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from postcart.stats import chisq_test, fisher_exact, kruskal_wallis, proportion_ci, wilcoxon_test

pytestmark = [pytest.mark.needs_r, pytest.mark.reference("live R stats", fixture="R_CODE")]
RTOL = 1e-10

R_CODE = r"""
args <- commandArgs(trailingOnly = TRUE)
lines <- readLines(args[1])
out <- function(key, x) {
  cat(key, "|", paste(ifelse(is.na(x), "NA", sprintf("%.17g", x)), collapse = " "), "\n", sep = "")
}
for (ln in lines) {
  parts <- strsplit(ln, "|", fixed = TRUE)[[1]]
  key <- parts[1]; kind <- parts[2]
  v <- as.numeric(strsplit(parts[4], " ")[[1]])
  if (kind == "table") {
    dims <- as.integer(strsplit(parts[3], " ")[[1]])
    x <- matrix(v, dims[1], dims[2], byrow = TRUE)
    c0 <- suppressWarnings(chisq.test(x, correct = FALSE))
    c1 <- suppressWarnings(chisq.test(x, correct = TRUE))
    f <- fisher.test(x, workspace = 2e8)
    out(key, c(c0$statistic, c0$p.value, c1$statistic, c1$p.value, f$p.value))
  } else if (kind == "two") {
    nx <- as.integer(parts[3]); x <- v[seq_len(nx)]; y <- v[-seq_len(nx)]
    w <- suppressWarnings(wilcox.test(x, y)); k <- kruskal.test(list(x, y))
    out(key, c(w$statistic, w$p.value, k$statistic, k$p.value))
  } else if (kind == "prop") {
    b <- binom.test(v[1], v[2])$conf.int
    p <- suppressWarnings(prop.test(v[1], v[2], correct = FALSE))$conf.int
    out(key, c(b, p))
  }
}
"""


def _tables() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20260602)
    out: dict[str, np.ndarray] = {}
    shapes = [(2, 2)] * 8 + [(2, 3), (3, 2), (2, 4), (3, 3), (2, 6), (3, 4), (4, 3)] * 2
    for i, (r, c) in enumerate(shapes):
        hi = 30 if r * c <= 4 else (12 if r * c <= 9 else 7)
        for _ in range(100):
            t = rng.integers(0, hi, size=(r, c))
            if t.sum(axis=0).min() > 0 and t.sum(axis=1).min() > 0:
                break
        out[f"t{i}_{r}x{c}"] = t
    return out


def _samples() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(20260603)
    return {
        "ties_small": (rng.integers(0, 6, 7).astype(float), rng.integers(2, 8, 9).astype(float)),
        "no_ties_small": (rng.normal(size=12), rng.normal(0.8, 1, 15)),
        "no_ties_large": (rng.normal(size=60), rng.normal(0.3, 1, 70)),
        "ties_large": (rng.integers(0, 20, 80).astype(float), rng.integers(3, 25, 65).astype(float)),
    }


PROPS = [(0, 5), (5, 5), (2, 9), (17, 40), (1, 300)]


@pytest.fixture(scope="module")
def r_values(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    lines = []
    for k, t in _tables().items():
        lines.append(f"{k}|table|{t.shape[0]} {t.shape[1]}|{' '.join(str(int(v)) for v in t.ravel())}")
    for k, (x, y) in _samples().items():
        lines.append(f"{k}|two|{x.size}|{' '.join(f'{v:.17g}' for v in np.concatenate((x, y)))}")
    for k, n in PROPS:
        lines.append(f"p{k}_{n}|prop||{k} {n}")
    d: Path = tmp_path_factory.mktemp("rlive")
    (d / "in.txt").write_text("\n".join(lines) + "\n")
    (d / "run.R").write_text(R_CODE)
    proc = subprocess.run(
        ["Rscript", str(d / "run.R"), str(d / "in.txt")], capture_output=True, text=True, check=True
    )
    vals = {}
    for line in proc.stdout.splitlines():
        key, _, rest = line.partition("|")
        vals[key] = np.array([np.nan if s == "NA" else float(s) for s in rest.split()])
    return vals


@pytest.mark.parametrize("key", list(_tables()))
def test_chisq_and_fisher_match_live_r(key: str, r_values: dict[str, np.ndarray]) -> None:
    t = _tables()[key]
    ref = r_values[key]
    c0, c1, f = chisq_test(t), chisq_test(t, correct=True), fisher_exact(t)
    np.testing.assert_allclose([c0.chisq, c0.p, c1.chisq, c1.p], ref[:4], rtol=RTOL, atol=1e-300)
    assert f.p == pytest.approx(ref[4], rel=RTOL)


@pytest.mark.parametrize("key", list(_samples()))
def test_wilcoxon_and_kruskal_match_live_r(key: str, r_values: dict[str, np.ndarray]) -> None:
    x, y = _samples()[key]
    w, k = wilcoxon_test(x, y), kruskal_wallis(x, y)
    np.testing.assert_allclose([w.statistic, w.p, k.chisq, k.p], r_values[key], rtol=RTOL)


@pytest.mark.parametrize(("k", "n"), PROPS)
def test_proportion_cis_match_live_r(k: int, n: int, r_values: dict[str, np.ndarray]) -> None:
    e, w = proportion_ci(k, n), proportion_ci(k, n, method="wilson")
    np.testing.assert_allclose(
        [e.ci_low, e.ci_high, w.ci_low, w.ci_high], r_values[f"p{k}_{n}"], rtol=RTOL, atol=1e-300
    )
