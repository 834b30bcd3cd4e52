"""The registry: table layout (schema, codes), validated atomic import, storage and export."""

from postcart.registry.schema import TABLES, TABLES_BY_NAME, FieldSpec, TableSpec

__all__ = ["TABLES", "TABLES_BY_NAME", "FieldSpec", "TableSpec"]
