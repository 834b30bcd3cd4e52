"""Writing the analysis table to a file (CSV or Parquet), atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from postcart.errors import EndpointError

TABLE_SUFFIXES: tuple[str, ...] = (".csv", ".parquet")


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write ``table`` to ``path`` (``.csv``: ISO dates, empty cells for NA; ``.parquet``: typed).

    The file is written next to its destination and moved into place, so a failure never leaves
    a partial file.

    Raises
    ------
    EndpointError
        For an unsupported suffix.
    """
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise EndpointError(
            f"output {str(out)!r}: suffix must be one of {list(TABLE_SUFFIXES)}, but was {out.suffix!r}"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(fd)
    try:
        if suffix == ".csv":
            table.to_csv(tmp, index=False, date_format="%Y-%m-%d")
        else:
            table.to_parquet(tmp, index=False)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out
