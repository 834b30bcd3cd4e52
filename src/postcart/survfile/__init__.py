"""Survival analysis of any time-to-event CSV file (the library behind ``postcart survival``).

``reader`` validates the file, ``analysis`` runs Kaplan-Meier, reverse-KM follow-up, log-rank
and Cox through :mod:`postcart.stats`, ``output`` builds the JSON document and the text.
"""

from postcart.survfile.analysis import (
    CoxFit,
    GroupCurve,
    SurvivalFileAnalysis,
    analyze_survival_data,
    analyze_survival_file,
)
from postcart.survfile.output import SCHEMA_VERSION, analysis_to_dict, analysis_to_json, render_text
from postcart.survfile.reader import SurvivalData, SurvivalFileError, read_survival_csv

__all__ = [
    "SCHEMA_VERSION",
    "CoxFit",
    "GroupCurve",
    "SurvivalData",
    "SurvivalFileAnalysis",
    "SurvivalFileError",
    "analysis_to_dict",
    "analysis_to_json",
    "analyze_survival_data",
    "analyze_survival_file",
    "read_survival_csv",
    "render_text",
]
