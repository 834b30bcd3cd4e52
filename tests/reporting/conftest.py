"""Fixtures of the reporting tests: one study run and one written report, shared by the module."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from postcart.reporting.writer import ReportOutput, write_report
from postcart.study import StudyResult, run_study
from study.fake_table import fake_analysis_table


@pytest.fixture(scope="session")
def small_table() -> pd.DataFrame:
    """A 300-patient fake analysis table."""
    return fake_analysis_table(300, seed=5)


@pytest.fixture(scope="session")
def small_result(small_table: pd.DataFrame) -> StudyResult:
    """The study run on the small table."""
    return run_study(small_table)


@pytest.fixture(scope="session")
def written_report(small_result: StudyResult, tmp_path_factory: pytest.TempPathFactory) -> ReportOutput:
    """The report of the small table, written once."""
    out = tmp_path_factory.mktemp("report") / "report"
    return write_report(small_result, out, version="test", dpi=80)  # low dpi: speed only


@pytest.fixture(scope="session")
def report_dir(written_report: ReportOutput) -> Path:
    """Folder of the written report."""
    return written_report.directory
