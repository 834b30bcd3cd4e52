"""One call from a registry to the written report: load, derive, analyse, write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from postcart import __version__
from postcart.reporting.writer import ReportOutput, write_report
from postcart.study.data import load_study_data
from postcart.study.results import StudyResult
from postcart.study.run import run_study


def build_report(
    out_dir: Path,
    *,
    db: str | None = None,
    cutoff: dt.date | None = None,
    profile: str = "sas",
    progress: Callable[[str], None] | None = None,
) -> tuple[StudyResult, ReportOutput]:
    """Load the registry (``db``, or the built-in synthetic one), run the study, write ``out_dir``."""
    say = progress or (lambda _label: None)
    say("loading the registry" + (" (built-in synthetic registry)" if db is None else ""))
    data = load_study_data(db, cutoff=cutoff)
    cfg = data.endpoints.config
    result = run_study(
        data.endpoints.table,
        spec=data.spec,
        profile=profile,
        source=data.source,
        days_per_month=float(cfg.days_per_month),
        timing_boundaries_days=(int(cfg.very_early_max_day), int(cfg.early_max_day)),
        progress=say,
    )
    output = write_report(result, out_dir, version=__version__, progress=say)
    return result, output
