"""The registry: table layout (schema, codes), validated atomic import, storage and export."""

from postcart.registry.extract import ExtractCheckResult, check_extract, read_extract
from postcart.registry.issues import (
    ExtractSchemaError,
    ExtractValidationError,
    ValidationIssue,
    format_issues,
)
from postcart.registry.schema import TABLES, TABLES_BY_NAME, FieldSpec, TableSpec
from postcart.registry.tables import RegistryTables

__all__ = [
    "TABLES",
    "TABLES_BY_NAME",
    "ExtractCheckResult",
    "ExtractSchemaError",
    "ExtractValidationError",
    "FieldSpec",
    "RegistryTables",
    "TableSpec",
    "ValidationIssue",
    "check_extract",
    "format_issues",
    "read_extract",
]
