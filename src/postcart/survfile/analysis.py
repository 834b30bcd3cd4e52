"""The analyses of ``postcart survival`` on a validated time-to-event file.

* Kaplan-Meier overall and in each group (``kaplan_meier``), read at the chosen times.
* Median follow-up by the reverse Kaplan-Meier (``median_followup``), overall and by group.
* Log-rank test between groups (``logrank_test``), and the stratified log-rank when strata are
  given (rows with a missing stratum are left out of that test and counted).
* Cox model on the covariates (``model_matrix`` + ``cox_ph``), stratified when strata are
  given. The model is complete-case on its own variables (covariates and stratum, R's
  ``na.omit``): incomplete rows are dropped for the model only and counted in ``n_dropped``.

Rows with a missing group are left out of the by-group analyses and counted.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from postcart.errors import StatisticalWarning
from postcart.stats import (
    Conventions,
    CoxResult,
    FollowUpResult,
    KaplanMeierResult,
    LogRankResult,
    SurvivalAtTimes,
    cox_ph,
    kaplan_meier,
    logrank_test,
    median_followup,
    model_matrix,
    resolve_conventions,
)
from postcart.survfile.reader import SurvivalData, SurvivalFileError, read_survival_csv

__all__ = [
    "CoxFit",
    "GroupCurve",
    "SurvivalFileAnalysis",
    "analyze_survival_data",
    "analyze_survival_file",
]

BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class GroupCurve:
    """The Kaplan-Meier curve of one group (``"all"`` for the whole file)."""

    group: str
    km: KaplanMeierResult
    at_times: SurvivalAtTimes | None


@dataclass(frozen=True, slots=True)
class GroupFollowUp:
    """The reverse Kaplan-Meier follow-up of one group (``"all"`` for the whole file)."""

    group: str
    followup: FollowUpResult


@dataclass(frozen=True, slots=True)
class LogRankFit:
    """A log-rank test with the number of rows it left out (missing group or stratum)."""

    result: LogRankResult
    n_dropped: int
    strata_col: str | None


@dataclass(frozen=True, slots=True)
class CoxFit:
    """A Cox model with the number of rows dropped for a missing model variable."""

    result: CoxResult
    n_dropped: int
    covariates: tuple[str, ...]
    strata_col: str | None


@dataclass(frozen=True, slots=True)
class SurvivalFileAnalysis:
    """Everything ``postcart survival`` computes on one file.

    ``logrank``/``logrank_stratified`` are ``None`` without a group (or without strata, or
    with delayed entry); ``cox`` is ``None`` without covariates. ``notes`` holds what the
    reader should know: statistical warnings of the engine (e.g. a monotone likelihood) and
    analyses left out.
    """

    data: SurvivalData
    conventions: Conventions
    times: tuple[float, ...]
    km: tuple[GroupCurve, ...]
    followup: tuple[GroupFollowUp, ...]
    logrank: LogRankFit | None
    logrank_stratified: LogRankFit | None
    cox: CoxFit | None
    n_group_missing: int
    notes: tuple[str, ...] = ()


def _present(labels: NDArray[np.object_]) -> BoolArray:
    return np.array([x is not None for x in labels], dtype=bool)


def _km(
    data: SurvivalData, mask: BoolArray, conv: Conventions, times: Sequence[float]
) -> tuple[KaplanMeierResult, SurvivalAtTimes | None]:
    km = kaplan_meier(
        data.time[mask],
        data.event[mask],
        entry=None if data.entry is None else data.entry[mask],
        profile=conv.profile,
        conf_type=conv.conf_type,
        conf_level=conv.conf_level,
        median_rule=conv.median_rule,
    )
    at = km.at(np.asarray(times, dtype=float)) if len(times) else None
    return km, at


def _followup(data: SurvivalData, mask: BoolArray, conv: Conventions) -> FollowUpResult:
    return median_followup(
        data.time[mask],
        data.event[mask],
        profile=conv.profile,
        conf_type=conv.conf_type,
        conf_level=conv.conf_level,
        median_rule=conv.median_rule,
    )


def _cox(data: SurvivalData, conv: Conventions, *, firth: bool) -> CoxFit:
    complete = np.ones(data.n_rows, dtype=bool)
    for values in data.covariates.values():
        if values.dtype == object:
            complete &= _present(values)  # type: ignore[arg-type]
        else:
            complete &= ~np.isnan(values.astype(float))
    if data.strata is not None:
        complete &= _present(data.strata)
    if not complete.any():
        raise SurvivalFileError(
            f"{data.source}: no row has every Cox model variable "
            f"({', '.join(list(data.covariates) + ([data.strata_col] if data.strata_col else []))})"
        )
    columns = {name: values[complete] for name, values in data.covariates.items()}
    # levels in natural order with the reference first (numeric codes sort as numbers)
    orders = {
        name: [ref] + [lv for lv in data.levels[name] if lv != ref] for name, ref in data.categorical.items()
    }
    mm = model_matrix(columns, categorical=orders)
    if mm.X.shape[1] == 0:
        single = [
            f"{name!r} ({data.levels[name][0]})" for name in data.categorical if len(data.levels[name]) == 1
        ]
        raise SurvivalFileError(
            f"{data.source}: the Cox model has no coefficient to estimate"
            + (f"; covariate {', '.join(single)} has a single level" if single else "")
        )
    rows = np.flatnonzero(complete)[mm.rows_used]
    result = cox_ph(
        mm.X,
        data.time[rows],
        data.event[rows],
        names=list(mm.names),
        entry=None if data.entry is None else data.entry[rows],
        strata=None if data.strata is None else data.strata[rows],
        ties=conv.ties,
        profile=conv.profile,
        conf_level=conv.conf_level,
        firth=firth,
    )
    return CoxFit(
        result=result,
        n_dropped=int(data.n_rows - len(rows)),
        covariates=tuple(data.covariates),
        strata_col=data.strata_col,
    )


def analyze_survival_data(
    data: SurvivalData,
    *,
    profile: str = "sas",
    conf_type: str | None = None,
    conf_level: float = 0.95,
    ties: str | None = None,
    times: Sequence[float] = (),
    firth: bool = False,
) -> SurvivalFileAnalysis:
    """Run the analyses of ``postcart survival`` on validated data.

    Parameters
    ----------
    data : SurvivalData
        From :func:`postcart.survfile.reader.read_survival_csv`.
    profile, conf_type, conf_level, ties
        Conventions (see :func:`postcart.stats.resolve_conventions`).
    times : sequence of float
        Times at which each curve is read (R's ``summary(fit, times=)``).
    firth : bool
        Fit the Cox model by Firth's penalized likelihood (finite estimates under a monotone
        likelihood; profile-likelihood CIs as R's ``coxphf``).

    Returns
    -------
    SurvivalFileAnalysis
    """
    conv = resolve_conventions(profile, conf_type=conf_type, conf_level=conf_level, ties=ties)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StatisticalWarning)
        result = _analyze(data, conv, times, firth=firth)
    notes = list(result.notes) + [
        str(w.message) for w in caught if issubclass(w.category, StatisticalWarning)
    ]
    for w in caught:  # anything else goes on as it came
        if not issubclass(w.category, StatisticalWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return SurvivalFileAnalysis(
        data=result.data,
        conventions=result.conventions,
        times=result.times,
        km=result.km,
        followup=result.followup,
        logrank=result.logrank,
        logrank_stratified=result.logrank_stratified,
        cox=result.cox,
        n_group_missing=result.n_group_missing,
        notes=tuple(notes),
    )


def _analyze(
    data: SurvivalData, conv: Conventions, times: Sequence[float], *, firth: bool
) -> SurvivalFileAnalysis:
    notes: list[str] = []
    everyone = np.ones(data.n_rows, dtype=bool)
    km_all, at_all = _km(data, everyone, conv, times)
    curves = [GroupCurve("all", km_all, at_all)]
    follow = [GroupFollowUp("all", _followup(data, everyone, conv))]
    logrank = stratified = None
    n_group_missing = 0
    if data.group is not None and data.group_col is not None:
        has_group = _present(data.group)
        n_group_missing = int((~has_group).sum())
        for level in data.levels[data.group_col]:
            mask = has_group & (data.group == level)
            km, at = _km(data, mask, conv, times)
            curves.append(GroupCurve(level, km, at))
            follow.append(GroupFollowUp(level, _followup(data, mask, conv)))
        if data.entry is not None:
            notes.append(
                "log-rank test not computed with delayed entry (--entry); "
                "use the Cox model with the group as a covariate"
            )
        else:
            logrank = LogRankFit(
                logrank_test(
                    data.time[has_group],
                    data.event[has_group],
                    data.group[has_group],
                    profile=conv.profile,
                ),
                n_dropped=n_group_missing,
                strata_col=None,
            )
            if data.strata is not None:
                keep = has_group & _present(data.strata)
                stratified = LogRankFit(
                    logrank_test(
                        data.time[keep],
                        data.event[keep],
                        data.group[keep],
                        strata=data.strata[keep],
                        profile=conv.profile,
                    ),
                    n_dropped=int(data.n_rows - keep.sum()),
                    strata_col=data.strata_col,
                )
    cox = _cox(data, conv, firth=firth) if data.covariates else None
    return SurvivalFileAnalysis(
        data=data,
        conventions=conv,
        times=tuple(float(t) for t in times),
        km=tuple(curves),
        followup=tuple(follow),
        logrank=logrank,
        logrank_stratified=stratified,
        cox=cox,
        n_group_missing=n_group_missing,
        notes=tuple(notes),
    )


def analyze_survival_file(
    path: str | Path,
    *,
    time: str,
    event: str,
    entry: str | None = None,
    group: str | None = None,
    strata: str | None = None,
    covariates: Sequence[str] = (),
    categorical: Sequence[str] = (),
    reference: Mapping[str, str] | None = None,
    profile: str = "sas",
    conf_type: str | None = None,
    conf_level: float = 0.95,
    ties: str | None = None,
    times: Sequence[float] = (),
    firth: bool = False,
) -> SurvivalFileAnalysis:
    """Read a time-to-event CSV file and run every analysis of ``postcart survival``.

    See :func:`postcart.survfile.reader.read_survival_csv` for the file rules and
    :func:`analyze_survival_data` for the analyses.

    Raises
    ------
    SurvivalFileError
        Bad file, column or value (every problem listed by line).
    postcart.errors.StatsError
        Bad conventions (profile, transform, ties, level).
    """
    data = read_survival_csv(
        path,
        time=time,
        event=event,
        entry=entry,
        group=group,
        strata=strata,
        covariates=covariates,
        categorical=categorical,
        reference=reference,
    )
    return analyze_survival_data(
        data,
        profile=profile,
        conf_type=conf_type,
        conf_level=conf_level,
        ties=ties,
        times=times,
        firth=firth,
    )
