"""The paper's analyses as a declarative spec (``spec``) and the runner (``run_study``).

``run_study(table)`` takes the endpoints analysis table (one row per registered patient) and
runs every analysis of :data:`PAPER_STUDY` with ``postcart.stats``; ``compute_targets`` maps the
results to the ids of ``paper-targets.yaml``.
"""

from postcart.study.results import DataSource, StudyResult, TargetValue
from postcart.study.run import run_study, table_fingerprint
from postcart.study.spec import PAPER_STUDY, StudySpec
from postcart.study.targets import compute_targets

__all__ = [
    "PAPER_STUDY",
    "DataSource",
    "StudyResult",
    "StudySpec",
    "TargetValue",
    "compute_targets",
    "run_study",
    "table_fingerprint",
]
