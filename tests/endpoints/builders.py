"""Hand-built registries for the endpoint tests: typed ``RegistryTables`` from a few rows.

Dates are given as ISO strings, possibly partial (``"2020-03"``, ``"2020"``), and stored as the
registry does: first day of the period plus ``<field>_precision``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd

from postcart.registry.schema import TABLES_BY_NAME
from postcart.registry.tables import RegistryTables, empty_frame

MONTH = 365.25 / 12


def plus(iso: str, days: int) -> str:
    """ISO day ``days`` after ``iso``."""
    return (date.fromisoformat(iso) + timedelta(days=days)).isoformat()


def _parse_date(value: str | None) -> tuple[pd.Timestamp | None, str | None]:
    if value is None:
        return None, None
    parts = value.split("-")
    if len(parts) == 3:
        return pd.Timestamp(value), "day"
    if len(parts) == 2:
        return pd.Timestamp(f"{value}-01"), "month"
    return pd.Timestamp(f"{value}-01-01"), "year"


class RegistryBuilder:
    """Collects rows per table, then ``build()`` types them per the registry conventions."""

    def __init__(self, cutoff: str | None = "2021-04-12") -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES_BY_NAME}
        if cutoff is not None:
            self.rows["extract"].append({"extract_id": "test", "data_cutoff": cutoff})
        self.rows["centres"].append({"centre_id": "C1"})

    def patient(
        self,
        pid: str,
        *,
        decision: str = "2020-01-01",
        registration: str | None = None,
        sex: str = "male",
        age: float | None = 55.0,
        birth_year: int | None = None,
        prior_lines: int = 2,
        prior_asct: bool = False,
        prior_allo: bool = False,
        histology: str = "dlbcl_nos",
    ) -> RegistryBuilder:
        self.rows["patients"].append(
            {
                "patient_id": pid,
                "centre_id": "C1",
                "sex": sex,
                "birth_year": birth_year,
                "age_at_decision": age,
                "registration_date": registration or decision,
                "decision_date": decision,
                "indication": "rr_aggressive_bcl",
                "histology": histology,
                "prior_lines": prior_lines,
                "prior_asct": prior_asct,
                "prior_allo": prior_allo,
            }
        )
        return self

    def infusion(
        self, pid: str, d0: str, *, product: str = "axi-cel", lymphodepletion: str | None = None
    ) -> RegistryBuilder:
        self.rows["infusions"].append(
            {
                "patient_id": pid,
                "product": product,
                "infusion_date": d0,
                "lymphodepletion_date": lymphodepletion,
            }
        )
        return self

    def assessment(
        self, pid: str, when: str, response: str, *, visit: str = "unscheduled"
    ) -> RegistryBuilder:
        self.rows["assessments"].append(
            {"patient_id": pid, "visit": visit, "assessment_date": when, "response": response}
        )
        return self

    def event(
        self, pid: str, when: str, *, event_type: str = "progression", next_treatment: str | None = None
    ) -> RegistryBuilder:
        self.rows["disease_events"].append(
            {
                "patient_id": pid,
                "event_date": when,
                "event_type": event_type,
                "next_treatment": next_treatment,
            }
        )
        return self

    def line(
        self,
        pid: str,
        start: str,
        components: tuple[str, ...],
        *,
        line_number: int | None = None,
        regimen: str | None = None,
        best_response: str | None = None,
        best_response_date: str | None = None,
        radiotherapy_localized: bool | None = None,
    ) -> RegistryBuilder:
        n = line_number or 1 + sum(1 for r in self.rows["treatment_lines"] if r["patient_id"] == pid)
        self.rows["treatment_lines"].append(
            {
                "patient_id": pid,
                "line_number": n,
                "start_date": start,
                "regimen": regimen,
                "components": components,
                "radiotherapy_localized": radiotherapy_localized,
                "best_response": best_response,
                "best_response_date": best_response_date,
            }
        )
        return self

    def vital(
        self, pid: str, last_contact: str, *, death: str | None = None, cause: str | None = None
    ) -> RegistryBuilder:
        self.rows["vital_status"].append(
            {"patient_id": pid, "last_contact_date": last_contact, "death_date": death, "death_cause": cause}
        )
        return self

    def characteristics(self, pid: str, timepoint: str, **values: Any) -> RegistryBuilder:
        self.rows["characteristics"].append({"patient_id": pid, "timepoint": timepoint, **values})
        return self

    def bridging(self, pid: str, bridging_type: str) -> RegistryBuilder:
        self.rows["bridging"].append({"patient_id": pid, "bridging_type": bridging_type})
        return self

    def toxicities(self, pid: str, **grades: int | None) -> RegistryBuilder:
        self.rows["toxicities"].append({"patient_id": pid, **grades})
        return self

    def build(self) -> RegistryTables:
        frames: dict[str, pd.DataFrame] = {}
        for name, rows in self.rows.items():
            spec = TABLES_BY_NAME[name]
            if not rows:
                frames[name] = empty_frame(spec)
                continue
            data: dict[str, pd.Series] = {}
            for f in spec.fields:
                values = [r.get(f.name) for r in rows]
                if f.kind == "date":
                    parsed = [_parse_date(v) for v in values]
                    data[f.name] = pd.Series([p[0] for p in parsed], dtype="datetime64[ns]")
                    data[f"{f.name}_precision"] = pd.Series([p[1] for p in parsed], dtype="object")
                elif f.kind == "int":
                    data[f.name] = pd.Series(values, dtype="Int64")
                elif f.kind == "float":
                    data[f.name] = pd.Series(
                        [float("nan") if v is None else v for v in values], dtype="float64"
                    )
                elif f.kind == "bool":
                    data[f.name] = pd.Series(values, dtype="boolean")
                elif f.kind == "codes":
                    data[f.name] = pd.Series([tuple(v) if v else () for v in values], dtype="object")
                else:
                    data[f.name] = pd.Series(values, dtype="object")
            frames[name] = pd.DataFrame(data)
        return RegistryTables.from_frames(frames)


def row(result: Any, pid: str) -> pd.Series:
    """The analysis-table row of patient ``pid``."""
    table = result.table
    return table.loc[table["patient_id"] == pid].iloc[0]
