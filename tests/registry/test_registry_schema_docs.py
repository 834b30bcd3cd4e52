"""The database schema and the data dictionary follow schema.py."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from postcart.registry.dictionary import render_data_dictionary
from postcart.registry.models import metadata
from postcart.registry.schema import TABLES
from postcart.registry.store import open_registry

DICTIONARY = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"


def test_committed_data_dictionary_is_up_to_date() -> None:
    assert DICTIONARY.read_text(encoding="utf-8") == render_data_dictionary(), (
        "docs/data-dictionary.md is stale: run `postcart registry dictionary`"
    )


def test_migrated_database_matches_the_models(db_url: str) -> None:
    engine = open_registry(db_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, metadata)
        assert diff == [], f"schema.py changed without an Alembic migration: {diff}"
        names = set(inspect(engine).get_table_names())
        assert {t.name for t in TABLES} | {"import_batches", "audit_log", "alembic_version"} == names
    finally:
        engine.dispose()


def test_opening_twice_does_not_migrate_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    open_registry(url).dispose()
    before = (tmp_path / "r.sqlite").read_bytes()
    open_registry(url).dispose()
    assert (tmp_path / "r.sqlite").read_bytes() == before
    engine = create_engine(url)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0001"
    engine.dispose()
