"""``EndpointConfig``: every choice the derivation makes, in one documented, overridable object.

The defaults follow ``paper-notes.md`` (sections a.2, a.3, b.15, d, e). Every output of
``derive_endpoints`` carries the configuration it used (``EndpointsResult.config.as_dict()``), so
a table always states its timing boundaries, its day-to-month constant, its partial-date rule
and its salvage class mapping.

A configuration can be read from a YAML or TOML file (``EndpointConfig.from_file``); keys are
the field names below, and mappings given there *update* the default mappings.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from dataclasses import replace as dc_replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from postcart.errors import EndpointError
from postcart.registry import codes

#: The exclusive salvage classes, in the default precedence order (first wins).
SALVAGE_CLASSES: tuple[str, ...] = (
    "bispecific",
    "lenalidomide",
    "immunochemotherapy",
    "targeted",
    "radiotherapy",
    "other",
)

#: Component groups: each gives one multi-label flag ``comp_<group>`` in the analysis table.
COMPONENT_GROUPS: tuple[str, ...] = (
    "lenalidomide",
    "bispecific",
    "targeted",
    "adc",
    "chemotherapy",
    "radiotherapy",
    "anti_cd20",
    "checkpoint",
    "allo",
    "other",
)

_DEFAULT_COMPONENT_GROUP: dict[str, str] = {
    "lenalidomide": "lenalidomide",
    "glofitamab": "bispecific",
    "mosunetuzumab": "bispecific",
    "epcoritamab": "bispecific",
    "odronextamab": "bispecific",
    "blinatumomab": "bispecific",
    "ibrutinib": "targeted",
    "acalabrutinib": "targeted",
    "zanubrutinib": "targeted",
    "venetoclax": "targeted",
    "idelalisib": "targeted",
    "copanlisib": "targeted",
    "selinexor": "targeted",
    "tazemetostat": "targeted",
    "polatuzumab_vedotin": "adc",
    "loncastuximab_tesirine": "adc",
    "brentuximab_vedotin": "adc",
    "rituximab": "anti_cd20",
    "obinutuzumab": "anti_cd20",
    "tafasitamab": "other",
    "nivolumab": "checkpoint",
    "pembrolizumab": "checkpoint",
    "bendamustine": "chemotherapy",
    "gemcitabine": "chemotherapy",
    "oxaliplatin": "chemotherapy",
    "cisplatin": "chemotherapy",
    "carboplatin": "chemotherapy",
    "cytarabine": "chemotherapy",
    "ifosfamide": "chemotherapy",
    "etoposide": "chemotherapy",
    "cyclophosphamide": "chemotherapy",
    "doxorubicin": "chemotherapy",
    "vincristine": "chemotherapy",
    "methotrexate": "chemotherapy",
    "chemotherapy_other": "chemotherapy",
    "steroids": "other",
    "radiotherapy": "radiotherapy",
    "allo_sct": "allo",
    "auto_sct": "other",
    "car_t": "other",
    "trial_drug": "other",
    "palliative_care": "other",
    "other": "other",
}

_DEFAULT_GROUP_CLASS: dict[str, str] = {
    "lenalidomide": "lenalidomide",
    "bispecific": "bispecific",
    "targeted": "targeted",
    # Antibody-drug conjugates: with chemotherapy the line is immunochemotherapy by precedence;
    # alone (polatuzumab, loncastuximab) they are ambiguous in the paper: targeted by default.
    "adc": "targeted",
    "chemotherapy": "immunochemotherapy",
    "radiotherapy": "radiotherapy",
    "anti_cd20": "other",
    "checkpoint": "other",
    "allo": "other",
    "other": "other",
}

PARTIAL_DATE_CLAMPS: tuple[str, ...] = ("sequence", "none")
PFS_CENSORING: tuple[str, ...] = ("last_contact", "last_assessment")


def _frozen(mapping: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointConfig:
    """Choices of the endpoint derivation (all keyword-only, all with documented defaults).

    Parameters
    ----------
    very_early_max_day, early_max_day
        Timing groups of failure, in whole days from D0 (D0 = day 0): ``very_early`` when
        ``days_to_failure <= very_early_max_day`` (default 30), ``early`` when
        ``<= early_max_day`` (default 90), else ``late`` (paper-notes b.15).
    days_per_month
        The one day-to-month constant: ``months = days / days_per_month`` (default
        365.25 / 12 = 30.4375, paper-notes a.2).
    partial_month_day
        Day of month given to a date known to the month only (default 15).
    partial_year_month, partial_year_day
        Month and day given to a date known to the year only (default July 1).
    partial_date_clamp
        ``"sequence"`` (default): an imputed date is then moved, inside its own month/year,
        to no earlier than the patient's anchor date for that field (D0 for post-infusion
        records, the decision date for the infusion, the line start for a line's response) and
        to no later than the cut-off. ``"none"``: no clamping.
    pfs_censoring
        Where progression-free endpoints (PFS, PFS-2, DOR) are censored for a patient alive
        without a further progression: ``"last_contact"`` (default; the date of last contact,
        i.e. the later of ``vital_status.last_contact_date`` and the patient's latest dated
        record) or ``"last_assessment"`` (the latest disease assessment or disease event date,
        falling back to the origin when there is none).
    component_groups
        Component code -> component group (the multi-label ``comp_<group>`` flags). Must cover
        every code of ``postcart.registry.codes.COMPONENTS``.
    group_classes
        Component group -> exclusive salvage class.
    class_precedence
        Order in which the classes of a line's components decide its one exclusive class.
    crp_scale_mg_l, ferritin_scale_ug_l
        Analysis scale of CRP and ferritin (paper-notes b.13): ``d0_crp_scaled = d0_crp_mg_l /
        crp_scale_mg_l`` (default per 10 mg/L), ``d0_ferritin_scaled = d0_ferritin_ug_l /
        ferritin_scale_ug_l`` (default per 100 ug/L).
    ipi_age_threshold_years
        IPI age factor: ``age > ipi_age_threshold_years`` (default 60).
    """

    very_early_max_day: int = 30
    early_max_day: int = 90
    days_per_month: float = 365.25 / 12
    partial_month_day: int = 15
    partial_year_month: int = 7
    partial_year_day: int = 1
    partial_date_clamp: str = "sequence"
    pfs_censoring: str = "last_contact"
    component_groups: Mapping[str, str] = field(default_factory=lambda: _frozen(_DEFAULT_COMPONENT_GROUP))
    group_classes: Mapping[str, str] = field(default_factory=lambda: _frozen(_DEFAULT_GROUP_CLASS))
    class_precedence: tuple[str, ...] = SALVAGE_CLASSES
    crp_scale_mg_l: float = 10.0
    ferritin_scale_ug_l: float = 100.0
    ipi_age_threshold_years: float = 60.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "component_groups", _frozen(self.component_groups))
        object.__setattr__(self, "group_classes", _frozen(self.group_classes))
        object.__setattr__(self, "class_precedence", tuple(self.class_precedence))
        if not 0 <= self.very_early_max_day < self.early_max_day:
            raise EndpointError(
                "EndpointConfig: need 0 <= very_early_max_day < early_max_day, but got "
                f"very_early_max_day={self.very_early_max_day!r}, early_max_day={self.early_max_day!r}"
            )
        if not self.days_per_month > 0:
            raise EndpointError(f"EndpointConfig.days_per_month must be > 0, but was {self.days_per_month!r}")
        if not 1 <= self.partial_month_day <= 28:
            raise EndpointError(
                f"EndpointConfig.partial_month_day must be in 1..28, but was {self.partial_month_day!r}"
            )
        if not 1 <= self.partial_year_month <= 12 or not 1 <= self.partial_year_day <= 28:
            raise EndpointError(
                "EndpointConfig: partial_year_month must be in 1..12 and partial_year_day in 1..28, "
                f"but got {self.partial_year_month!r}/{self.partial_year_day!r}"
            )
        if self.partial_date_clamp not in PARTIAL_DATE_CLAMPS:
            raise EndpointError(
                f"EndpointConfig.partial_date_clamp must be one of {list(PARTIAL_DATE_CLAMPS)}, "
                f"but was {self.partial_date_clamp!r}"
            )
        if self.pfs_censoring not in PFS_CENSORING:
            raise EndpointError(
                f"EndpointConfig.pfs_censoring must be one of {list(PFS_CENSORING)}, "
                f"but was {self.pfs_censoring!r}"
            )
        missing = [c for c in codes.COMPONENTS if c not in self.component_groups]
        if missing:
            raise EndpointError(
                f"EndpointConfig.component_groups has no group for components {missing}; "
                "every code of postcart.registry.codes.COMPONENTS needs one"
            )
        bad_groups = sorted(set(self.component_groups.values()) - set(COMPONENT_GROUPS))
        if bad_groups:
            raise EndpointError(
                f"EndpointConfig.component_groups uses unknown groups {bad_groups}; "
                f"groups are {list(COMPONENT_GROUPS)}"
            )
        unmapped = [g for g in COMPONENT_GROUPS if g not in self.group_classes]
        if unmapped:
            raise EndpointError(f"EndpointConfig.group_classes has no class for groups {unmapped}")
        bad_classes = sorted(set(self.group_classes.values()) - set(SALVAGE_CLASSES))
        if bad_classes:
            raise EndpointError(
                f"EndpointConfig.group_classes uses unknown classes {bad_classes}; "
                f"classes are {list(SALVAGE_CLASSES)}"
            )
        if sorted(self.class_precedence) != sorted(SALVAGE_CLASSES):
            raise EndpointError(
                "EndpointConfig.class_precedence must order exactly the classes "
                f"{sorted(SALVAGE_CLASSES)}, but was {list(self.class_precedence)}"
            )

    def component_class(self, component: str) -> str:
        """The exclusive class a single component maps to."""
        return self.group_classes[self.component_groups[component]]

    def as_dict(self) -> dict[str, Any]:
        """The configuration as plain data (stated in every output), including the rules in words."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Mapping):
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        out["timing_groups"] = {
            "very_early": f"0 <= days_to_failure <= {self.very_early_max_day}",
            "early": f"{self.very_early_max_day} < days_to_failure <= {self.early_max_day}",
            "late": f"days_to_failure > {self.early_max_day}",
        }
        out["months_rule"] = f"months = days / {self.days_per_month!r}"
        out["partial_date_rule"] = (
            f"month known -> day {self.partial_month_day}; year known -> "
            f"{self.partial_year_month:02d}-{self.partial_year_day:02d}; "
            + (
                "then clamped inside its period to >= the patient's anchor date and <= the cut-off"
                if self.partial_date_clamp == "sequence"
                else "no clamping"
            )
        )
        return out

    def replace(self, **changes: Any) -> EndpointConfig:
        """A copy with some fields changed; mapping fields *update* the current mappings."""
        for name in ("component_groups", "group_classes"):
            if name in changes:
                changes[name] = {**getattr(self, name), **dict(changes[name])}
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise EndpointError(f"EndpointConfig has no options {unknown}; options are {sorted(known)}")
        if "class_precedence" in changes:
            changes["class_precedence"] = tuple(changes["class_precedence"])
        return dc_replace(self, **changes)

    @classmethod
    def from_file(cls, path: str | Path) -> EndpointConfig:
        """Read overrides of the defaults from a ``.yaml``/``.yml`` or ``.toml`` file.

        Raises
        ------
        EndpointError
            For an unreadable file, an unknown suffix or an unknown option.
        """
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise EndpointError(f"endpoint configuration {str(p)!r} cannot be read: {exc}") from exc
        if p.suffix.lower() in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
        elif p.suffix.lower() == ".toml":
            data = tomllib.loads(text)
        else:
            raise EndpointError(
                f"endpoint configuration {str(p)!r}: suffix must be .yaml, .yml or .toml, "
                f"but was {p.suffix!r}"
            )
        if not isinstance(data, dict):
            raise EndpointError(f"endpoint configuration {str(p)!r} must be a mapping of options")
        return cls().replace(**data)
