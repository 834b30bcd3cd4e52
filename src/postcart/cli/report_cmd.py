"""Subcommands registered by this module (being built; see the issues)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's subcommands to ``app``."""
