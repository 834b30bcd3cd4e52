"""Confidence intervals for a binomial proportion: exact (Clopper-Pearson) and Wilson.

* ``method="exact"``: Clopper-Pearson limits from beta quantiles, as R's ``binom.test`` and
  SAS FREQ's ``BINOMIAL`` "Exact Conf Limits". ``scipy.stats.beta.ppf`` gives the quantiles
  (``scipy.stats.binomtest(...).proportion_ci("exact")`` is the same formula).
* ``method="wilson"``: the score interval without continuity correction, as R's
  ``prop.test(k, n, correct = FALSE)$conf.int``, written out with R's clipping rules at
  ``k = 0`` and ``k = n``.

References
----------
Clopper C.J., Pearson E.S. (1934). The use of confidence or fiducial limits illustrated in the
case of the binomial. Biometrika 26, 404-413.
Wilson E.B. (1927). Probable inference, the law of succession, and statistical inference.
JASA 22, 209-212.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Literal

import pandas as pd
from scipy import stats as sps

from postcart.errors import StatsError

__all__ = ["ProportionCI", "proportion_ci"]

Method = Literal["exact", "wilson"]


@dataclass(frozen=True, slots=True)
class ProportionCI:
    """A proportion ``k / n`` with its confidence interval.

    Attributes
    ----------
    estimate : float
        ``k / n``.
    ci_low, ci_high : float
        Confidence limits (0 <= ci_low <= estimate <= ci_high <= 1).
    method : str
        ``"exact"`` (Clopper-Pearson) or ``"wilson"`` (score, no continuity correction).
    k, n : int
    conf_level : float
    """

    estimate: float
    ci_low: float
    ci_high: float
    method: str
    k: int
    n: int
    conf_level: float

    def to_frame(self) -> pd.DataFrame:
        """One row: k, n, estimate, ci_low, ci_high, method, conf_level."""
        return pd.DataFrame(
            {
                "k": [self.k],
                "n": [self.n],
                "estimate": [self.estimate],
                "ci_low": [self.ci_low],
                "ci_high": [self.ci_high],
                "method": [self.method],
                "conf_level": [self.conf_level],
            }
        )

    def __repr__(self) -> str:
        return (
            f"ProportionCI({self.k}/{self.n} = {self.estimate:.4g}, "
            f"ci=[{self.ci_low:.4g}, {self.ci_high:.4g}], method={self.method!r})"
        )


def _as_count(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise StatsError(f"{name} must be a non-negative integer, but was {value!r}")
    if isinstance(value, numbers.Integral):
        v = int(value)
    elif isinstance(value, numbers.Real) and math.isfinite(float(value)) and float(value).is_integer():
        v = int(float(value))
    else:
        raise StatsError(f"{name} must be a non-negative integer, but was {value!r}")
    if v < 0:
        raise StatsError(f"{name} must be a non-negative integer, but was {value!r}")
    return v


def proportion_ci(
    k: int,
    n: int,
    *,
    method: Method = "exact",
    conf_level: float = 0.95,
) -> ProportionCI:
    r"""Confidence interval for the proportion of ``k`` successes among ``n`` trials.

    Parameters
    ----------
    k, n : int
        Successes and trials, ``0 <= k <= n``, ``n >= 1``.
    method : {"exact", "wilson"}
        Clopper-Pearson (default) or Wilson score.
    conf_level : float, default 0.95

    Notes
    -----
    With :math:`\alpha = 1 - \text{conf\_level}`:

    * exact: :math:`[B^{-1}(\alpha/2; k, n-k+1),\ B^{-1}(1-\alpha/2; k+1, n-k)]`, the lower
      limit 0 when k = 0 and the upper 1 when k = n (R ``binom.test``).
    * wilson: with :math:`z = \Phi^{-1}(1-\alpha/2)`, :math:`\hat p = k/n`,
      :math:`c = z^2/(2n)`: :math:`(\hat p + c \mp z\sqrt{\hat p(1-\hat p)/n + c/(2n)})/(1+2c)`,
      the lower limit 0 when k = 0 and the upper 1 when k = n (R ``prop.test``).

    Raises
    ------
    StatsError
        For n = 0 (no proportion), k > n, negative or non-integer counts, or a confidence level
        outside (0, 1).
    """
    kk = _as_count(k, "k")
    nn = _as_count(n, "n")
    if nn == 0:
        raise StatsError("n must be >= 1: a proportion of 0 trials is undefined (k=0, n=0)")
    if kk > nn:
        raise StatsError(f"k must be <= n, but k={kk!r} and n={nn!r}")
    if not 0.0 < conf_level < 1.0:
        raise StatsError(f"conf_level must be a float in the range (0, 1), but was {conf_level!r}")
    alpha = 1.0 - conf_level
    est = kk / nn
    if method == "exact":
        lo = 0.0 if kk == 0 else float(sps.beta.ppf(alpha / 2.0, kk, nn - kk + 1))
        hi = 1.0 if kk == nn else float(sps.beta.ppf(1.0 - alpha / 2.0, kk + 1, nn - kk))
    elif method == "wilson":
        z = float(sps.norm.ppf(1.0 - alpha / 2.0))
        c = z * z / (2.0 * nn)
        half = z * math.sqrt(est * (1.0 - est) / nn + c / (2.0 * nn))
        hi = 1.0 if est >= 1.0 else (est + c + half) / (1.0 + 2.0 * c)
        lo = 0.0 if est <= 0.0 else (est + c - half) / (1.0 + 2.0 * c)
    else:
        raise StatsError(f"method must be 'exact' or 'wilson', but was {method!r}")
    return ProportionCI(
        estimate=est, ci_low=lo, ci_high=hi, method=method, k=kk, n=nn, conf_level=float(conf_level)
    )
