"""The study report: tables (body + styling), journal figures, HTML/JSON/DOCX/XLSX/CSV writers.

Reporting formats results of ``postcart.study``; it never computes statistics.
``write_report(result, out_dir, version=...)`` writes the whole report folder atomically;
``postcart.reporting.build.build_report`` goes from a registry to the written report.
"""

from postcart.reporting.tables import ReportTable, TableStyling, report_tables
from postcart.reporting.writer import ReportOutput, write_report

__all__ = ["ReportOutput", "ReportTable", "TableStyling", "report_tables", "write_report"]
