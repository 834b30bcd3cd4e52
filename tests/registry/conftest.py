"""Fixtures of the registry tests: the sample extract and a fresh database on each backend."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample_registry"
BROKEN = ROOT / "examples" / "broken"


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A private copy of the sample extract (tests may edit it)."""
    dst = tmp_path / "extract"
    shutil.copytree(SAMPLE, dst)
    return dst


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.needs_postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty registry database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.sqlite'}"
        return
    base = request.getfixturevalue("pg_url")
    name = f"postcart_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
