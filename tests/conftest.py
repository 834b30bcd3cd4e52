"""Shared test fixtures and the rules for optional outside components.

Tests that need R, PostgreSQL or Chromium are marked ``needs_r``, ``needs_postgres`` or
``browser``. Locally they skip when the component is absent; under ``CI=true`` (where
``.ci/run`` installs everything) a missing component is a failure, so CI can never pass by
skipping the comparisons that matter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_REFERENCE = ROOT.parent / "shared" / "reference"
FIXTURES = ROOT / "tests" / "fixtures"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(
            f"{what} is required under CI=true; .ci/run (scripts/setup.sh --system) should install it"
        )
    pytest.skip(f"{what} not available")


def _have_r() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(
        ["Rscript", "-e", "library(survival)"], capture_output=True, text=True, check=False
    )
    return probe.returncode == 0


_R_OK: bool | None = None


@pytest.fixture(autouse=True)
def _require_components(request: pytest.FixtureRequest) -> None:
    global _R_OK
    if request.node.get_closest_marker("needs_r"):
        if _R_OK is None:
            _R_OK = _have_r()
        if not _R_OK:
            _missing("Rscript with the survival package")
    if request.node.get_closest_marker("needs_postgres") and not os.environ.get("POSTCART_TEST_PG_URL"):
        _missing("a PostgreSQL server (POSTCART_TEST_PG_URL, started by scripts/with-postgres.sh)")
    if request.node.get_closest_marker("browser") and shutil.which("chromium") is None:
        _missing("Chromium (/usr/bin/chromium)")


@pytest.fixture
def pg_url() -> str:
    """URL of the throwaway PostgreSQL server started by scripts/with-postgres.sh."""
    url = os.environ.get("POSTCART_TEST_PG_URL")
    if not url:
        _missing("a PostgreSQL server")
    assert url is not None
    return url
