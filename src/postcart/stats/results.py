"""Small result types shared by several estimators of ``postcart.stats``.

* ``TestStatistic``: a chi-square test (statistic, degrees of freedom, upper-tail p-value),
  used by the Cox model (likelihood-ratio, Wald and score tests) and others.
* ``QuantileEstimate``: a survival-time quantile (e.g. the median) with its Brookmeyer-Crowley
  confidence limits; ``None`` means "not reached".
* ``SurvivalAtTimes``: a survival curve read at chosen times, with pointwise CIs.
* ``RMSTResult``: a restricted mean survival time with its standard error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from postcart.stats.conventions import Conventions

FloatArray = NDArray[np.float64]

__all__ = ["QuantileEstimate", "RMSTResult", "SurvivalAtTimes", "TestStatistic"]


@dataclass(frozen=True, slots=True)
class TestStatistic:
    """A chi-square test: ``chisq`` on ``df`` degrees of freedom, ``p = P(X2_df > chisq)``.

    ``p`` is ``nan`` when ``df == 0`` (nothing to test).
    """

    __test__ = False  # not a pytest test class despite its name

    chisq: float
    df: int
    p: float

    def as_dict(self) -> dict[str, float | int]:
        """``{"chisq": ..., "df": ..., "p": ...}``."""
        return {"chisq": self.chisq, "df": self.df, "p": self.p}

    def __repr__(self) -> str:
        return f"TestStatistic(chisq={self.chisq:.6g}, df={self.df}, p={self.p:.4g})"


def _fmt(x: float | None) -> str:
    return "NR" if x is None else f"{x:.6g}"


@dataclass(frozen=True, slots=True)
class QuantileEstimate:
    """A quantile of the survival-time distribution with its confidence interval.

    Attributes
    ----------
    p : float
        The probability: the time by which a fraction ``p`` had the event (``p = 0.5``: median).
    estimate, ci_low, ci_high : float or None
        The estimate and the Brookmeyer-Crowley limits. ``None`` = not reached (JSON null, "NR").
    """

    p: float
    estimate: float | None
    ci_low: float | None
    ci_high: float | None

    def as_dict(self) -> dict[str, float | None]:
        """``{"p", "estimate", "ci_low", "ci_high"}`` with ``None`` for not reached."""
        return {
            "p": self.p,
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
        }

    def __repr__(self) -> str:
        return (
            f"QuantileEstimate(p={self.p:g}, estimate={_fmt(self.estimate)}, "
            f"ci=[{_fmt(self.ci_low)}, {_fmt(self.ci_high)}])"
        )


@dataclass(frozen=True, slots=True)
class SurvivalAtTimes:
    """A Kaplan-Meier curve read at chosen times (R's ``summary(fit, times = t)``).

    Arrays are aligned with ``time``; values past the last observed time are ``nan``
    (``beyond_last_time`` is True there). ``event_rate = 1 - survival`` with limits
    ``1 - ci_high`` and ``1 - ci_low``.
    """

    time: FloatArray
    survival: FloatArray
    std_err: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    n_risk: FloatArray
    event_rate: FloatArray
    event_rate_ci_low: FloatArray
    event_rate_ci_high: FloatArray
    beyond_last_time: NDArray[np.bool_]
    conventions: Conventions

    def to_frame(self) -> pd.DataFrame:
        """One row per requested time."""
        return pd.DataFrame(
            {
                "time": self.time,
                "survival": self.survival,
                "std_err": self.std_err,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
                "n_risk": self.n_risk,
                "event_rate": self.event_rate,
                "event_rate_ci_low": self.event_rate_ci_low,
                "event_rate_ci_high": self.event_rate_ci_high,
                "beyond_last_time": self.beyond_last_time,
            }
        )

    def __repr__(self) -> str:
        return f"SurvivalAtTimes(times={len(self.time)}, conf_type={self.conventions.conf_type!r})"


@dataclass(frozen=True, slots=True)
class RMSTResult:
    """Restricted mean survival time up to ``tau``: the area under S(t) on [0, tau]."""

    tau: float
    estimate: float
    std_err: float
    ci_low: float
    ci_high: float
    conventions: Conventions

    def to_frame(self) -> pd.DataFrame:
        """One row: tau, estimate, std_err, ci_low, ci_high."""
        return pd.DataFrame(
            {
                "tau": [self.tau],
                "estimate": [self.estimate],
                "std_err": [self.std_err],
                "ci_low": [self.ci_low],
                "ci_high": [self.ci_high],
            }
        )

    def __repr__(self) -> str:
        return f"RMSTResult(tau={self.tau:g}, estimate={self.estimate:.6g}, std_err={self.std_err:.4g})"
