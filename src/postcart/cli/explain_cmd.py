"""``postcart explain PATIENT_ID`` and ``postcart derive``: endpoints from the registry."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from postcart.endpoints import EndpointConfig, derive_endpoints, explain_patient
from postcart.endpoints.io import write_table
from postcart.errors import PostcartError
from postcart.registry import RegistryTables, load_registry, read_extract


def _load(db: str | None, extract: Path | None) -> RegistryTables:
    if extract is not None:
        return read_extract(extract)
    return load_registry(db)


def _config(path: Path | None) -> EndpointConfig:
    return EndpointConfig() if path is None else EndpointConfig.from_file(path)


_DB = typer.Option(
    None,
    "--db",
    help="Registry database URL or SQLite path (default: POSTCART_DB or .postcart/registry.sqlite).",
)
_EXTRACT = typer.Option(None, "--extract", help="Read a registry extract (folder or workbook) instead.")
_CUTOFF = typer.Option(None, "--cutoff", help="Data cut-off YYYY-MM-DD (default: the extract's).")
_CONFIG = typer.Option(None, "--config", help="Endpoint configuration overrides (.yaml/.toml).")


def register(app: typer.Typer) -> None:
    """Add ``explain`` and ``derive`` to ``app``."""

    @app.command("explain")
    def explain(
        patient_id: str = typer.Argument(..., help="Registry id of the patient."),
        db: str | None = _DB,
        extract: Path | None = _EXTRACT,
        cutoff: str | None = _CUTOFF,
        config: Path | None = _CONFIG,
        fmt: str = typer.Option("text", "--format", help="text or json."),
    ) -> None:
        """Print a patient's timeline and how each endpoint was derived from which records."""
        if fmt not in ("text", "json"):
            raise typer.BadParameter(f"--format must be 'text' or 'json', but was {fmt!r}")
        try:
            res = explain_patient(_load(db, extract), patient_id, cutoff=cutoff, config=_config(config))
        except PostcartError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
        if fmt == "json":
            typer.echo(json.dumps(res.as_dict(), indent=2, default=str))
        else:
            typer.echo(res.to_text())

    @app.command("derive")
    def derive(
        out: Path = typer.Option(..., "--out", help="Output file: .csv or .parquet."),
        db: str | None = _DB,
        extract: Path | None = _EXTRACT,
        cutoff: str | None = _CUTOFF,
        config: Path | None = _CONFIG,
    ) -> None:
        """Derive the analysis table (one row per registered patient) and write it to a file."""
        try:
            res = derive_endpoints(_load(db, extract), cutoff=cutoff, config=_config(config))
            path = write_table(res.table, out)
        except PostcartError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
        typer.echo(f"wrote {len(res.table)} patients to {path}")
        typer.echo(res.summary())
