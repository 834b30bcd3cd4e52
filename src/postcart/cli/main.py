"""The ``postcart`` command. Each group of subcommands lives in its own module and registers
itself here; commands only parse arguments and call the library."""

from __future__ import annotations

import typer

from postcart import __version__
from postcart.cli import explain_cmd, registry_cmds, report_cmd, survival_cmd, synth_cmd

app = typer.Typer(
    name="postcart",
    help="CAR-T registry data, endpoints after CAR-T failure, survival statistics and the DESCAR-T report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"postcart {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """postcart command line."""


for _module in (registry_cmds, explain_cmd, survival_cmd, synth_cmd, report_cmd):
    _module.register(app)
