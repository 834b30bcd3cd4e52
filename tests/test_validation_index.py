"""docs/validation.md names only tests that exist (file and function), so the index stays true."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INDEX = ROOT / "docs" / "validation.md"


def _named_tests() -> list[tuple[str, str]]:
    """(file, test) pairs: a `tests/x.py::name` sets the file, a following `::name` reuses it."""
    pairs = []
    for line in INDEX.read_text(encoding="utf-8").splitlines():
        current = None
        for match in re.finditer(r"`(tests/[\w/]+\.py)?::(\w+)`", line):
            current = match.group(1) or current
            pairs.append((current or "?", match.group(2)))
    return pairs


def test_validation_index_names_only_existing_tests() -> None:
    pairs = _named_tests()
    assert len(pairs) > 50
    missing = [
        f"{path}::{name}"
        for path, name in pairs
        if not (ROOT / path).is_file()
        or not re.search(rf"^def {name}\(", (ROOT / path).read_text(encoding="utf-8"), re.MULTILINE)
    ]
    assert missing == []


def test_validation_index_names_existing_test_files() -> None:
    files = set(re.findall(r"`(tests/[\w/]+\.py)", INDEX.read_text(encoding="utf-8")))
    assert sorted(f for f in files if not (ROOT / f).is_file()) == []
