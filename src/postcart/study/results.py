"""Result objects of a study run (one per analysis family, plus the run's methods record).

All are frozen, slotted dataclasses. Tabular parts are tidy pandas DataFrames with unrounded
values; statistical parts are the ``postcart.stats`` result objects themselves, so every number
keeps the conventions that produced it. Nothing here holds a patient identifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from postcart.study.spec import (
    CharacteristicsAnalysis,
    ContingencyAnalysis,
    CoxAnalysis,
    FollowUpAnalysis,
    ResponseAnalysis,
    StudySpec,
    SurvivalAnalysis,
)


@dataclass(frozen=True, slots=True)
class FlowStep:
    """One box of the patient flow: ``n`` patients, and who left the flow at this step."""

    name: str
    label: str
    n: int
    exclusions: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class FlowResult:
    """Registered -> infused -> failed -> salvage data -> response evaluable."""

    steps: tuple[FlowStep, ...]
    notes: tuple[tuple[str, int], ...] = ()

    def step(self, name: str) -> FlowStep:
        """The step called ``name``."""
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(f"no flow step {name!r}; steps are {[s.name for s in self.steps]}")

    def to_frame(self) -> pd.DataFrame:
        """One row per step and exclusion reason."""
        rows: list[dict[str, Any]] = []
        for s in self.steps:
            rows.append({"step": s.name, "label": s.label, "n": s.n, "exclusion": None, "excluded": None})
            for reason, k in s.exclusions:
                rows.append({"step": s.name, "label": s.label, "n": s.n, "exclusion": reason, "excluded": k})
        return pd.DataFrame(rows)


@dataclass(frozen=True, slots=True)
class CharacteristicsResult:
    """Table 1. ``body``: one row per variable (or level) and group ("overall" or a product).

    Columns of ``body``: section, variable, label, kind, level, level_label, group, n
    (patients with the level or with a known value), denominator (known values), pct, missing,
    median, q1, q3, min, max. ``tests``: variable, test, statistic, df, p (between groups).
    """

    spec: CharacteristicsAnalysis
    groups: tuple[str, ...]
    group_sizes: tuple[int, ...]
    n: int
    body: pd.DataFrame
    tests: pd.DataFrame
    quantile_method: str

    def to_frame(self) -> pd.DataFrame:
        """The body."""
        return self.body.copy()


@dataclass(frozen=True, slots=True)
class FailureTimingResult:
    """Failure timing groups (n, % of failures) and the sample median/range of time to failure."""

    counts: pd.DataFrame  # level, label, n, denominator, pct
    n: int
    median_months: float
    min_months: float
    max_months: float
    boundaries_days: tuple[int, int]

    def to_frame(self) -> pd.DataFrame:
        """The counts."""
        return self.counts.copy()


@dataclass(frozen=True, slots=True)
class SalvageResult:
    """Table 2: salvage status of failures; class and regimen of the first post-failure line.

    ``status``: status, n, denominator, pct (of failures). ``classes``: class, label, n,
    denominator, pct (of treated), with ``rt_localized`` the radiotherapy-alone-for-localized
    subgroup. ``regimens``: class, regimen, n, pct (of treated).
    """

    status: pd.DataFrame
    classes: pd.DataFrame
    regimens: pd.DataFrame
    n_treated: int
    n_rt_localized: int

    def to_frame(self) -> pd.DataFrame:
        """The classes."""
        return self.classes.copy()


@dataclass(frozen=True, slots=True)
class ResponseResult:
    """Best response to salvage: category, k, n, pct and exact CI, overall and by class.

    ``table`` columns: group, group_label, category, category_label, k, n, pct, ci_low,
    ci_high (percent, exact Clopper-Pearson unless stated in ``method``).
    """

    spec: ResponseAnalysis
    table: pd.DataFrame
    method: str
    conf_level: float

    def to_frame(self) -> pd.DataFrame:
        """The table."""
        return self.table.copy()


@dataclass(frozen=True, slots=True)
class SurvivalGroup:
    """Kaplan-Meier fit of one group (or the whole population) with its landmark rates."""

    level: str
    label: str
    n: int
    n_events: int
    km: Any  # postcart.stats.KaplanMeierResult
    landmarks: Any  # postcart.stats.SurvivalAtTimes


@dataclass(frozen=True, slots=True)
class PairwiseTest:
    """A two-group log-rank test between levels ``a`` and ``b``."""

    a: str
    b: str
    result: Any  # postcart.stats.LogRankResult


@dataclass(frozen=True, slots=True)
class SurvivalAnalysisResult:
    """KM curves of one endpoint: the whole population, the groups, log-rank tests."""

    spec: SurvivalAnalysis
    overall: SurvivalGroup | None
    groups: tuple[SurvivalGroup, ...]
    logrank: Any  # LogRankResult | None
    pairwise: tuple[PairwiseTest, ...]
    n_missing: int

    def group(self, level: str) -> SurvivalGroup | None:
        """The group ``level`` (``None`` when it had no patient)."""
        for g in self.groups:
            if g.level == level:
                return g
        return None

    def to_frame(self) -> pd.DataFrame:
        """One row per group: n, events, median with CI, landmark rates with CI."""
        rows: list[dict[str, Any]] = []
        parts = ([self.overall] if self.overall is not None else []) + list(self.groups)
        for g in parts:
            med = g.km.median
            row: dict[str, Any] = {
                "analysis": self.spec.id,
                "group": g.level,
                "label": g.label,
                "n": g.n,
                "events": g.n_events,
                "median": med.estimate,
                "median_ci_low": med.ci_low,
                "median_ci_high": med.ci_high,
            }
            lm = g.landmarks
            for i, t in enumerate(lm.time):
                tag = f"{float(t):g}m"
                row[f"surv_{tag}"] = _f(lm.survival[i])
                row[f"surv_{tag}_ci_low"] = _f(lm.ci_low[i])
                row[f"surv_{tag}_ci_high"] = _f(lm.ci_high[i])
            rows.append(row)
        return pd.DataFrame(rows)


def _f(x: Any) -> float | None:
    v = float(x)
    return None if v != v else v


@dataclass(frozen=True, slots=True)
class CoxModel:
    """One fitted Cox model with the labels of its terms."""

    name: str
    label: str
    term_labels: tuple[tuple[str, str], ...]  # (term, label)
    result: Any  # postcart.stats.CoxResult | None (None: no data / no events)
    n: int
    n_events: int
    n_dropped: int
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CoxAnalysisResult:
    """Cox models of one analysis: univariate (one per covariate) or one multivariable."""

    spec: CoxAnalysis
    models: tuple[CoxModel, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per term: model, term, label, n, events, hr, ci, p, estimable."""
        rows: list[dict[str, Any]] = []
        labels_by_model = {m.name: dict(m.term_labels) for m in self.models}
        for m in self.models:
            if m.result is None:
                for term, label in m.term_labels:
                    rows.append(
                        {
                            "model": m.name,
                            "term": term,
                            "label": label,
                            "n": m.n,
                            "events": m.n_events,
                            "coef": None,
                            "se": None,
                            "hr": None,
                            "ci_low": None,
                            "ci_high": None,
                            "p": None,
                            "estimable": False,
                        }
                    )
                continue
            for t in m.result.terms:
                rows.append(
                    {
                        "model": m.name,
                        "term": t.term,
                        "label": labels_by_model[m.name].get(t.term, t.term),
                        "n": m.n,
                        "events": m.n_events,
                        "coef": _f(t.coef) if t.coef is not None else None,
                        "se": _f(t.se) if t.se is not None else None,
                        "hr": t.hr,
                        "ci_low": t.ci_low,
                        "ci_high": t.ci_high,
                        "p": t.p,
                        "estimable": bool(t.estimable),
                    }
                )
        return pd.DataFrame(rows)


@dataclass(frozen=True, slots=True)
class ContingencyResult:
    """A contingency table (counts, rows x columns) and its test."""

    spec: ContingencyAnalysis
    counts: pd.DataFrame
    test: str
    statistic: float | None
    df: int | None
    p: float | None
    n: int
    n_missing: int

    def to_frame(self) -> pd.DataFrame:
        """The counts with row labels as a column."""
        return self.counts.reset_index()


@dataclass(frozen=True, slots=True)
class FollowUpGroup:
    """Median follow-up (reverse KM) of one group."""

    level: str
    n: int
    median: Any  # QuantileEstimate


@dataclass(frozen=True, slots=True)
class FollowUpAnalysisResult:
    """Median follow-up overall and by group."""

    spec: FollowUpAnalysis
    overall: FollowUpGroup
    groups: tuple[FollowUpGroup, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per group."""
        rows = []
        for g in (self.overall, *self.groups):
            rows.append(
                {
                    "analysis": self.spec.id,
                    "group": g.level,
                    "n": g.n,
                    "median": g.median.estimate,
                    "ci_low": g.median.ci_low,
                    "ci_high": g.median.ci_high,
                }
            )
        return pd.DataFrame(rows)


@dataclass(frozen=True, slots=True)
class DataSource:
    """Where the analysed data came from (never row-level content)."""

    description: str
    fingerprint: str
    cutoff: str | None
    seed: int | None = None
    endpoint_config: tuple[tuple[str, Any], ...] = ()
    notes: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class MethodsInfo:
    """Everything the methods section states, gathered from the run."""

    profile: str
    conventions: dict[str, Any]
    quantile_method: str
    days_per_month: float
    timing_boundaries_days: tuple[int, int]
    covariate_scaling: tuple[tuple[str, str], ...]
    source: DataSource
    software: tuple[tuple[str, str], ...]
    warnings: tuple[str, ...]
    started_utc: str
    elapsed_seconds: float
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class TargetValue:
    """A computed value matching a paper target id (percent values in percent, times in months)."""

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    n: int | None = None
    denominator: int | None = None
    estimable: bool = True
    source: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "value": self.value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "n": self.n,
            "denominator": self.denominator,
            "estimable": self.estimable,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class StudyResult:
    """Every result of a study run, plus the methods record and the paper-target values."""

    spec: StudySpec
    flow: FlowResult
    characteristics: CharacteristicsResult
    failure_timing: FailureTimingResult
    salvage: SalvageResult
    response: ResponseResult
    survival: dict[str, SurvivalAnalysisResult]
    cox: dict[str, CoxAnalysisResult]
    contingency: dict[str, ContingencyResult]
    followup: dict[str, FollowUpAnalysisResult]
    methods: MethodsInfo
    targets: dict[str, TargetValue]

    def __repr__(self) -> str:
        return (
            f"StudyResult(registered={self.flow.steps[0].n}, survival={len(self.survival)}, "
            f"cox={len(self.cox)}, targets={len(self.targets)}, profile={self.methods.profile!r})"
        )
