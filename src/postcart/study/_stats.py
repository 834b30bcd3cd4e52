"""The few ``postcart.stats`` entry points the study uses that are not all exported yet.

Each name resolves, at call time, to the public ``postcart.stats`` function when it exists,
else to its module (``postcart.stats.contingency`` / ``proportions``). The rank tests fall back
to SciPy's ``mannwhitneyu`` / ``kruskal`` (two-sided, normal approximation with tie and
continuity correction for the Wilcoxon test, as SAS NPAR1WAY and R ``wilcox.test(exact=FALSE)``)
until ``postcart.stats`` provides them; the method name says which was used.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from postcart import stats


def _resolve(name: str, module: str) -> Any:
    fn = getattr(stats, name, None)
    if fn is None:
        try:
            fn = getattr(importlib.import_module(f"postcart.stats.{module}"), name, None)
        except ImportError:
            fn = None
    return fn


def chisq_test(table: Any, *, correct: bool = False) -> Any:
    """Pearson chi-square (``postcart.stats.chisq_test``)."""
    return _resolve("chisq_test", "contingency")(table, correct=correct)


def fisher_exact(table: Any) -> Any:
    """Fisher exact test, r x c (``postcart.stats.fisher_exact``)."""
    return _resolve("fisher_exact", "contingency")(table)


def proportion_ci(k: int, n: int, *, method: str = "exact", conf_level: float = 0.95) -> Any:
    """Binomial proportion CI (``postcart.stats.proportion_ci``)."""
    return _resolve("proportion_ci", "proportions")(k, n, method=method, conf_level=conf_level)


@dataclass(frozen=True, slots=True)
class RankTest:
    """A rank test result (statistic, df, p, method)."""

    statistic: float
    df: int | None
    p: float
    method: str


def wilcoxon_test(x: Any, y: Any) -> Any:
    """Wilcoxon rank-sum test (``postcart.stats.wilcoxon_test`` when available)."""
    fn = _resolve("wilcoxon_test", "tests")
    if fn is not None:
        return fn(x, y)
    from scipy.stats import mannwhitneyu

    r = mannwhitneyu(np.asarray(x, float), np.asarray(y, float), alternative="two-sided", method="asymptotic")
    return RankTest(
        float(r.statistic), None, float(r.pvalue), "Wilcoxon rank-sum (scipy, normal approximation)"
    )


def kruskal_wallis(*samples: Any) -> Any:
    """Kruskal-Wallis test (``postcart.stats.kruskal_wallis`` when available)."""
    fn = _resolve("kruskal_wallis", "tests")
    if fn is not None:
        return fn(*samples)
    from scipy.stats import kruskal

    r = kruskal(*[np.asarray(s, float) for s in samples])
    return RankTest(float(r.statistic), len(samples) - 1, float(r.pvalue), "Kruskal-Wallis (scipy)")
