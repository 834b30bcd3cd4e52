"""The registry: table layout (schema, codes), validated atomic import, storage and export."""

from postcart.registry.export import export_registry, write_tables
from postcart.registry.extract import ExtractCheckResult, check_extract, read_extract
from postcart.registry.issues import (
    ExtractSchemaError,
    ExtractValidationError,
    ValidationIssue,
    format_issues,
)
from postcart.registry.schema import TABLES, TABLES_BY_NAME, FieldSpec, TableSpec
from postcart.registry.store import (
    ImportResult,
    TableChanges,
    import_extract,
    import_history,
    load_registry,
    open_registry,
    resolve_db_url,
)
from postcart.registry.tables import RegistryTables

__all__ = [
    "TABLES",
    "TABLES_BY_NAME",
    "ExtractCheckResult",
    "ExtractSchemaError",
    "ExtractValidationError",
    "FieldSpec",
    "ImportResult",
    "RegistryTables",
    "TableChanges",
    "TableSpec",
    "ValidationIssue",
    "check_extract",
    "export_registry",
    "format_issues",
    "import_extract",
    "import_history",
    "load_registry",
    "open_registry",
    "read_extract",
    "resolve_db_url",
    "write_tables",
]
