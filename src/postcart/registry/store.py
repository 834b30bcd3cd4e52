"""The registry database: opening (with migrations), atomic validated import, reading back.

Where the registry lives (first that is set):

1. the ``db`` argument (``--db``): a SQLAlchemy URL (``sqlite:///path.sqlite``,
   ``postgresql+psycopg://user@host/db``) or a plain file path (taken as a SQLite file);
2. the environment variable ``POSTCART_DB`` (same forms);
3. ``.postcart/registry.sqlite`` under the current directory.

Opening a database runs the Alembic migrations up to the current schema.

Import semantics (:func:`import_extract`): the extract is validated completely first; any error
means nothing is written (the database is not even opened). Then, in **one transaction**, each
table is upserted by its key: new rows are inserted, rows whose values changed are updated, and
every inserted row, changed field and deleted row is written to ``audit_log`` under a new
``import_batches`` row (time, source files, SHA-256 fingerprint, counts). Rows of the database
that are absent from the new extract are **kept** and reported as ``absent_in_extract``
warnings (an extract that drops a patient is more often incomplete than right; delete such
patients explicitly, or import with ``prune=True`` / ``--prune``, which deletes them with an
audit row holding their values). The one exception is the single-row ``extract`` table, which describes the
current extract and is replaced (the old row's deletion is audited).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    create_engine,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from postcart import __version__
from postcart.errors import RegistryError
from postcart.registry.convert import from_db_rows, records, to_db_frame, to_text
from postcart.registry.extract import ExtractCheckResult, check_extract
from postcart.registry.issues import ExtractValidationError, ValidationIssue, summary_message
from postcart.registry.models import REGISTRY_TABLES, audit_log, import_batches
from postcart.registry.schema import TABLES, TableSpec
from postcart.registry.tables import RegistryTables
from postcart.registry.validate import RawTable, validate_tables

DEFAULT_DB_PATH = Path(".postcart") / "registry.sqlite"
AUDIT_COLUMNS: list[str] = ["batch_id", "table_name", "row_key", "action", "field", "old_value", "new_value"]
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def resolve_db_url(db: str | os.PathLike[str] | None = None) -> str:
    """The database URL from ``db``, else ``POSTCART_DB``, else ``.postcart/registry.sqlite``.

    A value without ``://`` is a SQLite file path (made absolute).
    """
    value = str(db) if db is not None else os.environ.get("POSTCART_DB") or str(DEFAULT_DB_PATH)
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def _sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def migrate(engine: Engine) -> None:
    """Upgrade the database to the current schema (Alembic ``upgrade head``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_registry(db: str | os.PathLike[str] | None = None, *, create: bool = True) -> Engine:
    """An engine on the registry database, migrated to the current schema.

    Raises
    ------
    RegistryError
        ``create`` is false and the SQLite file does not exist.
    """
    url = resolve_db_url(db)
    path = _sqlite_path(url)
    if path is not None:
        if not path.exists():
            if not create:
                raise RegistryError(
                    f"no registry database at {path}; import an extract first (postcart import PATH)"
                )
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RegistryError(
                    f"cannot create the folder of the registry database {path}: {exc}"
                ) from exc
    try:
        engine = create_engine(url)
        migrate(engine)
    except (SQLAlchemyError, ImportError) as exc:
        raise RegistryError(f"cannot open the registry database {_safe(url)}: {_reason(exc)}") from exc
    return engine


def _safe(url: str) -> str:
    """The URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return url


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).strip().splitlines()[0]


@contextmanager
def _engine(db: str | os.PathLike[str] | None, *, create: bool) -> Iterator[Engine]:
    engine = open_registry(db, create=create)
    try:
        yield engine
    finally:
        engine.dispose()


def _read_table(conn: Connection, spec: TableSpec) -> pd.DataFrame:
    table = REGISTRY_TABLES[spec.name]
    stmt = select(table).order_by(*(table.c[k] for k in spec.key))
    result = conn.execute(stmt)
    columns = list(result.keys())
    return from_db_rows([tuple(r) for r in result.all()], columns, spec)


def read_tables(conn: Connection) -> RegistryTables:
    """Every registry table through an open connection, ordered by key."""
    return RegistryTables.from_frames({spec.name: _read_table(conn, spec) for spec in TABLES})


def load_registry(db_url: str | os.PathLike[str] | None = None) -> RegistryTables:
    """Read the whole registry from its database as typed frames.

    Parameters
    ----------
    db_url:
        SQLAlchemy URL or SQLite path; default ``POSTCART_DB`` or ``.postcart/registry.sqlite``.

    Returns
    -------
    RegistryTables
        One frame per table (``postcart.registry.tables`` conventions), rows ordered by key.

    Raises
    ------
    RegistryError
        The SQLite file does not exist.
    """
    with _engine(db_url, create=False) as engine, engine.connect() as conn:
        return read_tables(conn)


# --------------------------------------------------------------------------------- import


@dataclass(frozen=True, slots=True)
class TableChanges:
    """What an import did (or would do) to one table."""

    table: str
    inserted: int
    updated: int
    unchanged: int
    absent: int
    deleted: int


@dataclass(frozen=True, slots=True)
class ImportResult:
    """Outcome of :func:`import_extract`.

    ``batch_id`` is ``None`` for a dry run. ``issues`` holds the warnings of the extract and
    the ``absent_in_extract`` notes (errors never reach a result: they raise).
    """

    db_url: str
    batch_id: int | None
    dry_run: bool
    source: str
    files: tuple[str, ...]
    fingerprint: str
    changes: tuple[TableChanges, ...]
    issues: tuple[ValidationIssue, ...]

    @property
    def inserted(self) -> int:
        """Rows inserted over all tables."""
        return sum(c.inserted for c in self.changes)

    @property
    def updated(self) -> int:
        """Rows updated over all tables."""
        return sum(c.updated for c in self.changes)

    def to_frame(self) -> pd.DataFrame:
        """One row per table with its counts."""
        return pd.DataFrame(
            [
                {
                    "table": c.table,
                    "inserted": c.inserted,
                    "updated": c.updated,
                    "unchanged": c.unchanged,
                    "absent": c.absent,
                    "deleted": c.deleted,
                }
                for c in self.changes
            ]
        )

    def summary(self) -> str:
        """Counts for people."""
        verb = "would be" if self.dry_run else "were"
        lines = [
            f"{self.source}: {self.inserted} row(s) {verb} inserted and {self.updated} updated"
            + ("" if self.batch_id is None else f" (batch {self.batch_id})"),
        ]
        for c in self.changes:
            if c.inserted or c.updated or c.absent or c.deleted:
                lines.append(
                    f"  {c.table}: {c.inserted} inserted, {c.updated} updated, {c.unchanged} unchanged, "
                    f"{c.absent} kept though absent from the extract, {c.deleted} deleted"
                )
        return "\n".join(lines)


def _json_text(s: pd.Series) -> pd.Series:
    """JSON string literals of text values (quotes, backslashes and control characters escaped)."""
    plain = s.str.fullmatch(r"[^\"\\\x00-\x1f]*")
    if bool(plain.all()):
        return '"' + s + '"'
    return s.map(json.dumps).astype(object)


def _match_key(text: pd.DataFrame, frame: pd.DataFrame, spec: TableSpec) -> pd.Series:
    """Key of each row as stored (dates by their day, not their precision): a JSON list of text."""
    parts: list[pd.Series] = []
    for k in spec.key:
        if spec.field(k).kind == "date":
            parts.append(frame[k].dt.strftime("%Y-%m-%d").fillna("").astype(object))
        else:
            parts.append(text[k].astype(object))
    key = "[" + _json_text(parts[0])
    for part in parts[1:]:
        key = key + ", " + _json_text(part)
    return (key + "]").astype(object)


def _bulk_insert(conn: Connection, table: Table, frame: pd.DataFrame) -> None:
    """Insert rows with the driver's ``executemany`` (SQLAlchemy's per-row parameter processing
    dominates the time for 10^6 rows). Values must be driver-ready (see ``to_db_frame``)."""
    if frame.empty:
        return
    cols = list(frame.columns)
    compiled = insert(table).compile(dialect=conn.dialect, column_keys=cols)
    data: list[Any]
    if compiled.positional:
        order = list(compiled.positiontup or [])
        data = list(frame[order].itertuples(index=False, name=None))
    else:
        data = records(frame)
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(str(compiled), data)
    finally:
        cursor.close()


def _upsert_table(
    conn: Connection,
    spec: TableSpec,
    new: pd.DataFrame,
    batch_id: int,
    source_file: str,
    *,
    prune: bool,
) -> tuple[TableChanges, list[dict[str, Any]], list[ValidationIssue]]:
    table = REGISTRY_TABLES[spec.name]
    old = _read_table(conn, spec)
    new = new.reset_index(drop=True)
    # full text only when there are stored rows to compare with (the first import needs keys only)
    new_text = to_text(new, spec, fields=None if len(old) else spec.key)
    new_key = _match_key(new_text, new, spec)
    old_text = to_text(old, spec)
    old_key = _match_key(old_text, old, spec) if len(old) else pd.Series([], dtype=object)
    audit: list[dict[str, Any]] = []
    notes: list[ValidationIssue] = []

    is_new = ~new_key.isin(set(old_key))
    ins = new.loc[is_new]
    if len(ins):
        _bulk_insert(conn, table, to_db_frame(ins, spec, dates_as_text=conn.dialect.name == "sqlite"))
        audit.extend(
            {
                "table_name": spec.name,
                "row_key": k,
                "action": "insert",
                "field": None,
                "old_value": None,
                "new_value": None,
            }
            for k in new_key[is_new]
        )

    matched_new = new_text.loc[~is_new].assign(_key=new_key[~is_new].to_numpy())
    old_pos = pd.Series(range(len(old_key)), index=pd.Index(old_key.to_numpy()))
    n_updated = 0
    if len(matched_new):
        o = old_text.iloc[old_pos.loc[matched_new["_key"].to_numpy()].to_numpy()].reset_index(drop=True)
        n = matched_new.reset_index(drop=True)
        changed_any = pd.Series(False, index=n.index)
        for f in spec.field_names:
            diff = o[f].to_numpy() != n[f].to_numpy()
            if diff.any():
                changed_any |= diff
                audit.extend(
                    {
                        "table_name": spec.name,
                        "row_key": k,
                        "action": "update",
                        "field": f,
                        "old_value": ov or None,
                        "new_value": nv or None,
                    }
                    for k, ov, nv in zip(n["_key"][diff], o[f][diff], n[f][diff], strict=True)
                )
        n_updated = int(changed_any.sum())
        if n_updated:
            rows_new = new.loc[~is_new].reset_index(drop=True).loc[changed_any.to_numpy()]
            db = to_db_frame(rows_new, spec)
            key_cols = list(spec.key)
            value_cols = [c for c in db.columns if c not in key_cols]
            stmt = (
                update(table)
                .where(and_(*(table.c[k] == bindparam(f"k_{k}") for k in key_cols)))
                .values({c: bindparam(f"v_{c}") for c in value_cols})
            )
            params = records(
                db.rename(columns={**{k: f"k_{k}" for k in key_cols}, **{c: f"v_{c}" for c in value_cols}})
            )
            conn.execute(stmt, params)

    absent_mask = (~old_key.isin(set(new_key))).to_numpy(dtype=bool)
    n_absent = int(absent_mask.sum())
    n_deleted = 0
    if n_absent and (prune or spec.name == "extract"):
        gone = old.loc[absent_mask]
        key_cols = list(spec.key)
        del_stmt = delete(table).where(and_(*(table.c[k] == bindparam(f"k_{k}") for k in key_cols)))
        params = records(to_db_frame(gone, spec)[key_cols].rename(columns={k: f"k_{k}" for k in key_cols}))
        conn.execute(del_stmt, params)
        old_text_gone = old_text.loc[absent_mask]
        audit.extend(
            {
                "table_name": spec.name,
                "row_key": k,
                "action": "delete",
                "field": None,
                "old_value": json.dumps(list(row), ensure_ascii=False),
                "new_value": None,
            }
            for k, row in zip(
                old_key[absent_mask], old_text_gone.itertuples(index=False, name=None), strict=True
            )
        )
        n_deleted, n_absent = n_absent, 0
    elif n_absent:
        pids = old.loc[absent_mask, "patient_id"] if "patient_id" in old.columns else None
        for i, k in enumerate(old_key[absent_mask]):
            notes.append(
                ValidationIssue(
                    file=source_file,
                    row=None,
                    patient_id=None if pids is None else str(pids.iloc[i]),
                    field=None,
                    value=k,
                    rule="absent_in_extract",
                    message="this key is in the registry but not in the extract; the row is kept unchanged",
                    severity="warning",
                )
            )
    changes = TableChanges(
        table=spec.name,
        inserted=int(is_new.sum()),
        updated=n_updated,
        unchanged=int((~is_new).sum()) - n_updated,
        absent=n_absent,
        deleted=n_deleted,
    )
    for a in audit:
        a["batch_id"] = batch_id
    return changes, audit, notes


def _apply(
    conn: Connection, check: ExtractCheckResult, *, source: str, prune: bool
) -> tuple[int, list[TableChanges], list[ValidationIssue]]:
    cutoff = check.tables.data_cutoff
    res = conn.execute(
        insert(import_batches).values(
            imported_at=dt.datetime.now(dt.UTC),
            source=source,
            source_files=";".join(check.files),
            fingerprint=check.fingerprint,
            extract_id=None
            if check.tables.extract.empty
            else str(check.tables.extract["extract_id"].iloc[0]),
            data_cutoff=None if cutoff is None else cutoff.date(),
            n_inserted=0,
            n_updated=0,
            n_unchanged=0,
            n_absent=0,
            n_deleted=0,
            n_warnings=len(check.warnings),
            postcart_version=__version__,
        )
    )
    pk = res.inserted_primary_key
    if pk is None:
        raise RegistryError("the database did not return the id of the new import batch")
    batch_id = int(pk[0])
    all_changes: list[TableChanges] = []
    notes: list[ValidationIssue] = []
    audit_rows: list[dict[str, Any]] = []
    for spec, file in zip(TABLES, check.files, strict=True):
        changes, audit, found = _upsert_table(
            conn, spec, check.tables.table(spec.name), batch_id, file, prune=prune
        )
        all_changes.append(changes)
        audit_rows.extend(audit)
        notes.extend(found)
    if any(c.absent for c in all_changes):
        _check_merged(conn)
    if audit_rows:
        _bulk_insert(conn, audit_log, pd.DataFrame(audit_rows, columns=AUDIT_COLUMNS))
    conn.execute(
        update(import_batches)
        .where(import_batches.c.batch_id == batch_id)
        .values(
            n_inserted=sum(c.inserted for c in all_changes),
            n_updated=sum(c.updated for c in all_changes),
            n_unchanged=sum(c.unchanged for c in all_changes),
            n_absent=sum(c.absent for c in all_changes),
            n_deleted=sum(c.deleted for c in all_changes),
        )
    )
    return batch_id, all_changes, notes


def _check_merged(conn: Connection) -> None:
    """Re-check the registry as it would be after this import (new rows + rows kept from
    earlier imports) with every rule; any error aborts the transaction.

    Only needed when rows absent from the extract are kept: otherwise the registry equals the
    extract, which was validated already.
    """
    merged = read_tables(conn)
    raws = {
        spec.name: RawTable(
            spec,
            f"registry table {spec.name} (kept rows + this extract)",
            to_text(merged.table(spec.name), spec),
            numbered=False,
        )
        for spec in TABLES
    }
    _, issues = validate_tables(raws)
    errors = [replace(i, row=None) for i in issues if i.severity == "error"]
    if errors:
        raise ExtractValidationError(
            summary_message(
                errors,
                outcome="rows kept from earlier imports conflict with this extract; nothing was "
                "written (re-import with prune=True / --prune to drop the rows absent from it)",
            ),
            errors,
        )


def import_extract(
    path: str | os.PathLike[str],
    db_url: str | os.PathLike[str] | None = None,
    *,
    dry_run: bool = False,
    prune: bool = False,
) -> ImportResult:
    """Validate an extract and load it into the registry atomically.

    Parameters
    ----------
    path:
        Folder of ``<table>.csv`` (or ``.parquet``) files, or one ``.xlsx`` workbook.
    db_url:
        Database URL or SQLite path (see :func:`resolve_db_url`).
    dry_run:
        Validate and compute the changes, then roll back: nothing is written (a missing SQLite
        file is not created).
    prune:
        Delete the rows of the database that are absent from the extract (each deletion is
        audited with the row's values). Default: keep them and report them as
        ``absent_in_extract`` warnings.

    Returns
    -------
    ImportResult
        Per-table counts, batch id, warnings and ``absent_in_extract`` notes.

    Raises
    ------
    ExtractSchemaError
        Files cannot be read as registry tables.
    ExtractValidationError
        Any validation error; ``issues`` holds every issue. The database is unchanged. Also
        raised when rows kept from earlier imports (absent from this extract, ``prune`` false)
        would break a rule together with the new rows (those issues have no row number).
    """
    check = check_extract(Path(path))
    if not check.ok:
        raise ExtractValidationError(
            summary_message(check.issues, outcome="nothing was written"), check.issues
        )
    url = resolve_db_url(db_url)
    sqlite_path = _sqlite_path(url)
    target: str = url
    if dry_run and sqlite_path is not None and not sqlite_path.exists():
        target = "sqlite://"
    engine = open_registry(target) if not dry_run or target == "sqlite://" else create_engine(target)
    try:
        if dry_run and target != "sqlite://":
            _check_at_head(engine)
        with engine.connect() as conn:
            trans = conn.begin()
            try:
                batch_id, changes, notes = _apply(conn, check, source=str(Path(path).resolve()), prune=prune)
            except BaseException:
                trans.rollback()
                raise
            if dry_run:
                trans.rollback()
            else:
                trans.commit()
    except SQLAlchemyError as exc:
        raise RegistryError(
            f"the import into {_safe(url)} failed and was rolled back: {_reason(exc)}"
        ) from exc
    finally:
        engine.dispose()
    return ImportResult(
        db_url=url,
        batch_id=None if dry_run else batch_id,
        dry_run=dry_run,
        source=check.source,
        files=check.files,
        fingerprint=check.fingerprint,
        changes=tuple(changes),
        issues=(*check.warnings, *notes),
    )


def _check_at_head(engine: Engine) -> None:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head:
        raise RegistryError(
            f"the database is at schema revision {current!r}, not {head!r}; run a real import "
            "(or open it once) to migrate it before a dry run"
        )


def import_history(db_url: str | os.PathLike[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The audit trail: ``(import_batches, audit_log)`` as frames, oldest first."""
    with _engine(db_url, create=False) as engine, engine.connect() as conn:
        b_rows = conn.execute(select(import_batches).order_by(import_batches.c.batch_id)).all()
        a_rows = conn.execute(select(audit_log).order_by(audit_log.c.audit_id)).all()
    batches = pd.DataFrame([tuple(r) for r in b_rows], columns=list(import_batches.c.keys()))
    log = pd.DataFrame([tuple(r) for r in a_rows], columns=list(audit_log.c.keys()))
    return batches, log
