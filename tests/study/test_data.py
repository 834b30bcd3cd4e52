"""The built-in synthetic registry: created on first use through the normal import, then reused."""

from __future__ import annotations

from pathlib import Path

import pytest

from postcart.study.data import _redact, default_registry, load_study_data, registry_fingerprint


@pytest.mark.slow
def test_default_registry_is_created_once_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTCART_CACHE", str(tmp_path / "cache"))
    tables, path, seed = default_registry()
    assert path.parent == tmp_path / "cache" and path.suffix == ".sqlite"
    assert len(tables.patients) == 680
    stamp = path.stat().st_mtime_ns
    tables2, path2, seed2 = default_registry()
    assert (path2, seed2) == (path, seed)
    assert path.stat().st_mtime_ns == stamp  # not regenerated
    assert registry_fingerprint(tables) == registry_fingerprint(tables2)
    data = load_study_data()
    assert data.source.seed == seed
    assert data.source.fingerprint == registry_fingerprint(tables)
    assert "synthetic" in data.source.description
    assert not list((tmp_path / "cache").glob(".synth-*"))  # no temporary folder left


def test_database_urls_are_shown_without_password() -> None:
    assert _redact("postgresql+psycopg://stat:s3cret@db.example:5432/descar") == (
        "postgresql+psycopg://stat:***@db.example:5432/descar"
    )
    assert _redact("/data/registry.sqlite") == "/data/registry.sqlite"
