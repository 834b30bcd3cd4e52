"""Export of the registry in the import layout: CSV folder, Excel workbook or Parquet folder.

Every format holds the canonical text of the values (``postcart.registry.convert``), rows in
key order, one file or sheet per table named as the table, columns in schema order. Excel cells
and Parquet columns are text, so what is exported reads back exactly: export -> import ->
export gives the same files (CSV byte for byte; Excel and Parquet cell for cell).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Literal

import pandas as pd

from postcart.registry.convert import to_text
from postcart.registry.schema import TABLES
from postcart.registry.store import load_registry
from postcart.registry.tables import RegistryTables

ExportFormat = Literal["csv", "xlsx", "parquet"]


def write_tables(tables: RegistryTables, out: str | os.PathLike[str], *, fmt: ExportFormat) -> Path:
    """Write typed tables in the import layout (see :func:`export_registry`)."""
    target = Path(out)
    texts = {spec.name: to_text(tables.table(spec.name), spec) for spec in TABLES}
    if fmt == "xlsx":
        return _write_xlsx(texts, target)
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"unknown export format {fmt!r}; use csv, xlsx or parquet")
    if target.exists() and not target.is_dir():
        raise FileExistsError(f"{target} exists and is not a folder")
    target.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=target))
    try:
        for name, text in texts.items():
            if fmt == "csv":
                text.to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n", encoding="utf-8")
            else:
                frame = text.astype("string").where(text != "", None)
                frame.to_parquet(tmp / f"{name}.parquet", index=False)
        for name in texts:
            os.replace(tmp / f"{name}.{fmt}", target / f"{name}.{fmt}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _write_xlsx(texts: dict[str, pd.DataFrame], target: Path) -> Path:
    from openpyxl import Workbook

    if target.suffix.lower() != ".xlsx":
        raise ValueError(f"an Excel export needs a .xlsx file name, not {target.name!r}")
    target.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    for name, text in texts.items():
        ws = wb.create_sheet(title=name)
        ws.append(list(text.columns))
        for row in text.itertuples(index=False, name=None):
            ws.append([v if v != "" else None for v in row])
    fd, tmp_name = tempfile.mkstemp(prefix=".export-", suffix=".xlsx", dir=target.parent)
    os.close(fd)
    try:
        wb.save(tmp_name)
        os.replace(tmp_name, target)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return target


def export_registry(
    out: str | os.PathLike[str],
    db_url: str | os.PathLike[str] | None = None,
    *,
    fmt: ExportFormat = "csv",
) -> Path:
    """Write the registry in the import layout.

    Parameters
    ----------
    out:
        ``csv``/``parquet``: a folder (created; the table files in it are replaced).
        ``xlsx``: the workbook's path (``.xlsx``).
    db_url:
        Database URL or SQLite path (see ``postcart.registry.store.resolve_db_url``).
    fmt:
        ``"csv"``, ``"xlsx"`` or ``"parquet"``.

    Returns
    -------
    Path
        What was written.
    """
    return write_tables(load_registry(db_url), out, fmt=fmt)
