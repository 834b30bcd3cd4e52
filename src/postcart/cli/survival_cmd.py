"""``postcart survival``: Kaplan-Meier, log-rank and Cox on any time-to-event CSV file.

Argument parsing only; the work is in :mod:`postcart.survfile` (documented in
``docs/survival-cli.md``).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from postcart.errors import PostcartError


class _Ties(StrEnum):
    breslow = "breslow"
    efron = "efron"


class _ConfType(StrEnum):
    log_log = "log-log"
    log = "log"
    plain = "plain"
    arcsin = "arcsin"
    logit = "logit"


class _Profile(StrEnum):
    sas = "sas"
    r = "r"


class _Format(StrEnum):
    text = "text"
    json = "json"


def _names(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


def _parse_times(value: str | None) -> list[float]:
    out = []
    for item in _names(value):
        try:
            out.append(float(item))
        except ValueError:
            raise typer.BadParameter(f"{item!r} is not a number", param_hint="--times") from None
    return out


def _parse_reference(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        for part in _names(item):
            name, sep, level = part.partition("=")
            if not sep or not name.strip() or not level.strip():
                raise typer.BadParameter(f"{part!r} is not VARIABLE=LEVEL", param_hint="--reference")
            out[name.strip()] = level.strip()
    return out


def survival(
    data: Path = typer.Argument(..., help="CSV file with one row per subject (header row)."),
    time: str = typer.Option(..., "--time", help="Column of the follow-up time (number >= 0)."),
    event: str = typer.Option(..., "--event", help="Column of the event indicator: 0/1 or true/false."),
    group: str | None = typer.Option(
        None, "--group", help="Column of the groups to compare (KM by group, log-rank)."
    ),
    strata: str | None = typer.Option(
        None, "--strata", help="Column of strata: stratified log-rank and stratified Cox."
    ),
    covariates: str | None = typer.Option(None, "--covariates", help="Comma-separated Cox covariates."),
    categorical: str | None = typer.Option(
        None, "--categorical", help="Comma-separated covariates to treat as categorical."
    ),
    reference: list[str] = typer.Option(
        [], "--reference", help="Reference level, VARIABLE=LEVEL (repeatable or comma-separated)."
    ),
    entry: str | None = typer.Option(
        None, "--entry", help="Column of the delayed-entry time: at risk on (entry, time]."
    ),
    ties: _Ties | None = typer.Option(
        None, "--ties", help="Cox ties (default: breslow for sas, efron for r)."
    ),
    conf_type: _ConfType | None = typer.Option(
        None, "--conf-type", help="Pointwise CI transform (default: log-log for sas, log for r)."
    ),
    conf_level: float = typer.Option(0.95, "--conf-level", help="Confidence level."),
    times: str | None = typer.Option(
        None, "--times", help="Comma-separated times at which to read each curve."
    ),
    profile: _Profile = typer.Option(_Profile.sas, "--profile", help="Conventions: sas (the paper's) or r."),
    firth: bool = typer.Option(
        False, "--firth", help="Cox by Firth's penalized likelihood (finite HRs under a monotone likelihood)."
    ),
    fmt: _Format = typer.Option(_Format.text, "--format", help="Output: text or json."),
) -> None:
    """Kaplan-Meier (overall and by group), median follow-up, log-rank and Cox on a CSV file."""
    from postcart.survfile import analysis_to_json, analyze_survival_file, render_text

    try:
        result = analyze_survival_file(
            data,
            time=time,
            event=event,
            entry=entry,
            group=group,
            strata=strata,
            covariates=_names(covariates),
            categorical=_names(categorical),
            reference=_parse_reference(reference),
            profile=profile.value,
            conf_type=None if conf_type is None else conf_type.value,
            conf_level=conf_level,
            ties=None if ties is None else ties.value,
            times=_parse_times(times),
            firth=firth,
        )
    except PostcartError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(
        analysis_to_json(result) if fmt is _Format.json else render_text(result), nl=fmt is _Format.json
    )


def register(app: typer.Typer) -> None:
    """Add ``postcart survival`` to ``app``."""
    app.command("survival")(survival)
