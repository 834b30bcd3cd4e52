"""Alembic environment of the registry database.

postcart runs the migrations itself when it opens a database (``postcart.registry.store``),
passing its connection in ``config.attributes["connection"]``. Run by hand
(``alembic -c <ini>``), the URL comes from ``sqlalchemy.url`` in the ini file or from
``POSTCART_DB``.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from postcart.registry.models import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    """Upgrade through the given connection, or one opened from the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("POSTCART_DB")
    if not url:
        raise RuntimeError("no database: set sqlalchemy.url in the ini file or POSTCART_DB")
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; run them on a database")
run_migrations()
