"""``RegistryTables``: the registry in memory, as typed pandas DataFrames, one per table.

This is the hand-over between the registry (import, storage) and everything downstream
(``postcart.endpoints``, ``postcart.synth`` checks, the report). Whatever the source (an extract
folder, a workbook, SQLite or PostgreSQL), downstream code sees the same frames:

* one DataFrame per table of ``postcart.registry.schema.TABLES``, columns = the table's field
  names, in schema order;
* ``date`` fields are ``datetime64[ns]`` holding the date, or for a partial date the *first day*
  of the period given, plus a sibling column ``<field>_precision`` with ``"day"``, ``"month"``
  or ``"year"`` (``<NA>`` when the date is missing). Endpoint rules decide how to use partial
  dates, and count each use;
* ``int`` fields are pandas ``Int64``; ``float`` are ``float64``; ``bool`` are pandas
  ``boolean``; ``code`` and ``str`` are ``object`` holding ``str`` or ``None``; ``codes`` are
  ``object`` holding a ``tuple[str, ...]`` (empty when missing);
* values are as recorded, in the unit recorded (``crp`` with ``crp_unit``, ...): conversion
  to canonical units is an endpoint rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from postcart.registry.schema import TABLES, TableSpec

DATE_PRECISIONS: tuple[str, ...] = ("day", "month", "year")


def frame_columns(spec: TableSpec) -> list[str]:
    """Columns of a table's frame: its fields, each date followed by its precision column."""
    cols: list[str] = []
    for f in spec.fields:
        cols.append(f.name)
        if f.kind == "date":
            cols.append(f"{f.name}_precision")
    return cols


def empty_frame(spec: TableSpec) -> pd.DataFrame:
    """An empty frame with the columns and dtypes of ``spec``."""
    data: dict[str, pd.Series] = {}
    for f in spec.fields:
        if f.kind == "date":
            data[f.name] = pd.Series([], dtype="datetime64[ns]")
            data[f"{f.name}_precision"] = pd.Series([], dtype="object")
        elif f.kind == "int":
            data[f.name] = pd.Series([], dtype="Int64")
        elif f.kind == "float":
            data[f.name] = pd.Series([], dtype="float64")
        elif f.kind == "bool":
            data[f.name] = pd.Series([], dtype="boolean")
        else:
            data[f.name] = pd.Series([], dtype="object")
    return pd.DataFrame(data)


@dataclass(frozen=True, slots=True)
class RegistryTables:
    """The registry as typed frames (see the module docstring for the column conventions)."""

    extract: pd.DataFrame
    centres: pd.DataFrame
    patients: pd.DataFrame
    characteristics: pd.DataFrame
    bridging: pd.DataFrame
    infusions: pd.DataFrame
    assessments: pd.DataFrame
    toxicities: pd.DataFrame
    disease_events: pd.DataFrame
    treatment_lines: pd.DataFrame
    vital_status: pd.DataFrame

    def table(self, name: str) -> pd.DataFrame:
        """The frame of table ``name``."""
        frame: pd.DataFrame = getattr(self, name)
        return frame

    @property
    def data_cutoff(self) -> pd.Timestamp | None:
        """The data cut-off of the extract, if recorded."""
        if self.extract.empty or pd.isna(self.extract["data_cutoff"].iloc[0]):
            return None
        return pd.Timestamp(self.extract["data_cutoff"].iloc[0])

    @classmethod
    def from_frames(cls, frames: dict[str, pd.DataFrame]) -> RegistryTables:
        """Build from frames already typed per the conventions; absent tables are empty."""
        unknown = set(frames) - {t.name for t in TABLES}
        if unknown:
            raise KeyError(f"unknown registry tables: {sorted(unknown)}")
        return cls(**{t.name: frames.get(t.name, empty_frame(t)) for t in TABLES})
