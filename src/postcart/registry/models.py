"""The SQL data model, generated from ``postcart.registry.schema`` (SQLAlchemy 2 Core).

One table per :class:`~postcart.registry.schema.TableSpec`, same name, same columns:

* ``str`` and ``code`` -> ``VARCHAR``/``TEXT``; ``int`` -> ``INTEGER``; ``float`` -> double
  precision; ``bool`` -> ``BOOLEAN``;
* ``date`` -> ``DATE`` (the first day of the period for a partial date) plus a column
  ``<field>_precision`` (``day``, ``month``, ``year``);
* ``codes`` -> ``TEXT`` holding the ``;``-separated codes (``NULL`` when empty);
* the table's ``key`` is its primary key; ``references`` become foreign keys.

Two audit tables follow every import: ``import_batches`` (one row per import: when, which
files, their fingerprint, counts) and ``audit_log`` (one row per inserted record, per changed
field of an updated record, per deleted record, with the batch).

The schema in the database is created and evolved by the Alembic migrations in
``postcart/registry/migrations``; a test checks that the migrated database matches this
metadata, so a change to ``schema.py`` without a migration fails the tests.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeEngine

from postcart.registry.schema import TABLES, FieldSpec, TableSpec

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: Name of the precision column of a date field.
PRECISION_SUFFIX = "_precision"


def _sql_type(f: FieldSpec) -> TypeEngine[Any]:
    kind = f.kind
    if kind == "int":
        return Integer()
    if kind == "float":
        return Double()
    if kind == "bool":
        return Boolean()
    if kind == "date":
        return Date()
    if kind == "code":
        return String(64)
    return Text()


def _columns(spec: TableSpec) -> list[Column[Any]]:
    cols: list[Column[Any]] = []
    for f in spec.fields:
        args: list[ForeignKey] = []
        if f.references is not None:
            ref_table, ref_field = f.references.split(".")
            if ref_table != spec.name:
                args.append(ForeignKey(f"{ref_table}.{ref_field}"))
        nullable = not (f.required or f.name in spec.key)
        cols.append(Column(f.name, _sql_type(f), *args, nullable=nullable))
        if f.kind == "date":
            cols.append(Column(f"{f.name}{PRECISION_SUFFIX}", String(5), nullable=nullable))
    return cols


def _build_table(spec: TableSpec) -> Table:
    return Table(spec.name, metadata, *_columns(spec), PrimaryKeyConstraint(*spec.key))


#: SQL table of each registry table, by name.
REGISTRY_TABLES: dict[str, Table] = {spec.name: _build_table(spec) for spec in TABLES}

import_batches = Table(
    "import_batches",
    metadata,
    Column("batch_id", Integer, primary_key=True, autoincrement=True),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("source", Text, nullable=False),
    Column("source_files", Text, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("extract_id", Text),
    Column("data_cutoff", Date),
    Column("n_inserted", Integer, nullable=False),
    Column("n_updated", Integer, nullable=False),
    Column("n_unchanged", Integer, nullable=False),
    Column("n_absent", Integer, nullable=False),
    Column("n_deleted", Integer, nullable=False),
    Column("n_warnings", Integer, nullable=False),
    Column("postcart_version", String(32), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("audit_id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", Integer, ForeignKey("import_batches.batch_id"), nullable=False),
    Column("table_name", String(64), nullable=False),
    Column("row_key", Text, nullable=False),
    Column("action", String(8), nullable=False),
    Column("field", String(64)),
    Column("old_value", Text),
    Column("new_value", Text),
)

AUDIT_TABLES: tuple[Table, ...] = (import_batches, audit_log)
