"""Fixtures of the study tests: the fake analysis table and a study run on it."""

from __future__ import annotations

import pandas as pd
import pytest

from postcart.study import StudyResult, run_study
from study.fake_table import fake_analysis_table


@pytest.fixture(scope="session")
def fake_table() -> pd.DataFrame:
    """A 400-patient fake analysis table (seeded)."""
    return fake_analysis_table(400, seed=7)


@pytest.fixture(scope="session")
def fake_result(fake_table: pd.DataFrame) -> StudyResult:
    """The paper study run on the fake table (SAS profile)."""
    return run_study(fake_table, profile="sas")


@pytest.fixture(scope="session")
def fake_result_r(fake_table: pd.DataFrame) -> StudyResult:
    """The paper study run on the fake table (R profile)."""
    return run_study(fake_table, profile="r")
