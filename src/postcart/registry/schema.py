"""The registry's tables and fields: the one declarative source of the import format.

Everything that reads or writes registry data follows this module: the SQLAlchemy models, the
import validator, the export, the synthetic generator and ``docs/data-dictionary.md`` (which is
generated from it by ``postcart registry dictionary``, so code and docs cannot drift).

An *extract* is a folder with one CSV file per table (``patients.csv``, ...) or one Excel
workbook with one sheet per table, named as ``TableSpec.name``. Column names are the field
names below. Conventions of the import format:

* Dates are ISO: ``YYYY-MM-DD``; a partial date may be given as ``YYYY-MM`` or ``YYYY``. The
  store keeps the date *and* its precision (``day``, ``month``, ``year``), so an export gives
  back exactly what was imported. How a partial date becomes a day is an *endpoint* rule
  (``postcart.endpoints``), applied and counted there, never at import.
* Booleans are ``yes``/``no`` (also accepted: ``true``/``false``, ``1``/``0``, ``y``/``n``).
* A missing value is an empty cell.
* Lists (``components``) are ``;``-separated codes.
* Codes are lower case, as listed in ``postcart.registry.codes``.
* Patients are pseudonymous: no names, initials, exact birth dates, addresses or phone numbers.
  Columns that look like such identifiers are refused (see ``IDENTIFIER_PATTERNS``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from postcart.registry import codes

FieldKind = Literal["str", "int", "float", "bool", "date", "code", "codes"]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One column of a registry table.

    ``kind``: ``str`` (free text), ``int``, ``float``, ``bool``, ``date`` (ISO, possibly partial),
    ``code`` (one value of ``codes``), ``codes`` (``;``-separated values of ``codes``).
    ``minimum``/``maximum`` bound numeric values *in the canonical unit* ``unit``; when
    ``unit_field`` names a sibling column, values are converted to the canonical unit with
    ``codes.UNIT_FACTORS[unit]`` before the range check.
    ``references`` is ``"table.field"`` for a foreign key.
    """

    name: str
    kind: FieldKind
    description: str
    required: bool = False
    codes: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    unit: str | None = None
    unit_field: str | None = None
    references: str | None = None
    pattern: str | None = None


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One registry table: its fields, its unique key and its place in the import order."""

    name: str
    description: str
    fields: tuple[FieldSpec, ...]
    key: tuple[str, ...]
    one_per_patient: bool = False
    date_order: tuple[str, ...] = field(default=())

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"table {self.name!r} has no field {name!r}")

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


PATIENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"


def _pid(description: str = "pseudonymous registry id of the patient") -> FieldSpec:
    return FieldSpec(
        "patient_id",
        "str",
        description,
        required=True,
        references="patients.patient_id",
        pattern=PATIENT_ID_PATTERN,
    )


CENTRES = TableSpec(
    name="centres",
    description="Treating centres.",
    key=("centre_id",),
    fields=(
        FieldSpec("centre_id", "str", "centre code", required=True, pattern=r"^[A-Za-z0-9_.-]{1,32}$"),
        FieldSpec("centre_name", "str", "centre name (an institution, not a person)"),
        FieldSpec("country", "str", "ISO 3166 alpha-2 country code", pattern=r"^[A-Z]{2}$"),
    ),
)

PATIENTS = TableSpec(
    name="patients",
    description=(
        "Registered patients with the decision to treat with CAR-T. Patients who are never "
        "infused stay here (intention-to-treat layer)."
    ),
    key=("patient_id",),
    one_per_patient=True,
    fields=(
        FieldSpec("patient_id", "str", "pseudonymous registry id", required=True, pattern=PATIENT_ID_PATTERN),
        FieldSpec("centre_id", "str", "treating centre", required=True, references="centres.centre_id"),
        FieldSpec("sex", "code", "sex", required=True, codes=codes.SEX),
        FieldSpec("birth_year", "int", "year of birth (never the exact date)", minimum=1900, maximum=2100),
        FieldSpec(
            "age_at_decision", "float", "age at the decision to treat", minimum=0, maximum=120, unit="years"
        ),
        FieldSpec("registration_date", "date", "date of registration in the registry", required=True),
        FieldSpec("decision_date", "date", "date of the decision to treat with CAR-T", required=True),
        FieldSpec("indication", "code", "indication for CAR-T", required=True, codes=codes.INDICATION),
        FieldSpec("histology", "code", "histology at decision", required=True, codes=codes.HISTOLOGY),
        FieldSpec(
            "prior_lines",
            "int",
            "number of prior lines of therapy before CAR-T",
            required=True,
            minimum=1,
            maximum=20,
        ),
        FieldSpec("prior_asct", "bool", "prior autologous stem-cell transplant", required=True),
        FieldSpec("prior_allo", "bool", "prior allogeneic stem-cell transplant", required=True),
        FieldSpec(
            "prior_line_types",
            "codes",
            "components of the prior lines (see codes.COMPONENTS)",
            codes=codes.COMPONENTS,
        ),
    ),
)

CHARACTERISTICS = TableSpec(
    name="characteristics",
    description=(
        "Disease characteristics tagged by time point: at decision, at lymphodepletion, at D0 "
        "(infusion). IPI and age-adjusted IPI are not imported: they are derived from these "
        "components by postcart.endpoints."
    ),
    key=("patient_id", "timepoint"),
    fields=(
        _pid(),
        FieldSpec(
            "timepoint", "code", "time point of the measurements", required=True, codes=codes.TIMEPOINT
        ),
        FieldSpec("assessment_date", "date", "date the characteristics were measured"),
        FieldSpec("ecog", "int", "ECOG performance status", minimum=0, maximum=4),
        FieldSpec("ann_arbor_stage", "int", "Ann Arbor stage (1-4)", minimum=1, maximum=4),
        FieldSpec("extranodal_sites", "int", "number of extranodal sites", minimum=0, maximum=20),
        FieldSpec("ldh", "float", "lactate dehydrogenase", minimum=0, maximum=20000, unit="U/L"),
        FieldSpec(
            "ldh_uln", "float", "local upper limit of normal of LDH", minimum=50, maximum=2000, unit="U/L"
        ),
        FieldSpec(
            "albumin", "float", "serum albumin", minimum=5, maximum=70, unit="g/L", unit_field="albumin_unit"
        ),
        FieldSpec("albumin_unit", "code", "unit of albumin", codes=codes.ALBUMIN_UNITS),
        FieldSpec(
            "crp", "float", "C-reactive protein", minimum=0, maximum=1000, unit="mg/L", unit_field="crp_unit"
        ),
        FieldSpec("crp_unit", "code", "unit of CRP", codes=codes.CRP_UNITS),
        FieldSpec(
            "ferritin",
            "float",
            "serum ferritin",
            minimum=0,
            maximum=100000,
            unit="ug/L",
            unit_field="ferritin_unit",
        ),
        FieldSpec("ferritin_unit", "code", "unit of ferritin", codes=codes.FERRITIN_UNITS),
        FieldSpec("disease_status", "code", "disease status (Lugano 2014)", codes=codes.RESPONSE),
        FieldSpec("pet_performed", "bool", "disease status assessed by PET"),
    ),
)

BRIDGING = TableSpec(
    name="bridging",
    description=(
        "Bridging therapy between decision and lymphodepletion, one row per patient. Type: none; "
        "low_dose (steroids +/- antibody, no chemotherapy); conventional (chemotherapy +/- "
        "immunotherapy); radiotherapy. Mixed bridging takes chemotherapy > radiotherapy > low dose."
    ),
    key=("patient_id",),
    one_per_patient=True,
    fields=(
        _pid(),
        FieldSpec("bridging_type", "code", "bridging group", required=True, codes=codes.BRIDGING_TYPE),
        FieldSpec("regimen", "str", "regimen as written (e.g. R-GemOx)"),
        FieldSpec("start_date", "date", "start of bridging"),
    ),
)

INFUSIONS = TableSpec(
    name="infusions",
    description="Lymphodepletion and CAR-T infusion, one row per infused patient. D0 = infusion_date.",
    key=("patient_id",),
    one_per_patient=True,
    date_order=("lymphodepletion_date", "infusion_date"),
    fields=(
        _pid(),
        FieldSpec("product", "code", "CAR-T product", required=True, codes=codes.PRODUCT),
        FieldSpec("lymphodepletion_regimen", "code", "lymphodepleting regimen", codes=codes.LYMPHODEPLETION),
        FieldSpec("lymphodepletion_date", "date", "first day of lymphodepletion"),
        FieldSpec("infusion_date", "date", "day of CAR-T infusion (D0)", required=True),
    ),
)

ASSESSMENTS = TableSpec(
    name="assessments",
    description=(
        "Disease assessments after infusion: scheduled visits D30, D90, D180, D270, D360, M18, "
        "M24, M36 and unscheduled ones. Response by Lugano 2014 (pd covers progression and relapse)."
    ),
    key=("patient_id", "visit", "assessment_date"),
    fields=(
        _pid(),
        FieldSpec("visit", "code", "visit", required=True, codes=codes.VISIT),
        FieldSpec("planned_date", "date", "planned date of a scheduled visit"),
        FieldSpec("assessment_date", "date", "actual date of the assessment", required=True),
        FieldSpec("response", "code", "Lugano 2014 response", required=True, codes=codes.RESPONSE),
        FieldSpec("modality", "code", "imaging modality", codes=codes.MODALITY),
        FieldSpec("deauville", "int", "Deauville score (PET)", minimum=1, maximum=5),
    ),
)

TOXICITIES = TableSpec(
    name="toxicities",
    description="CRS and ICANS (ASTCT grades) and cytopenia (worst CTCAE grade, any lineage) at D30/D90.",
    key=("patient_id",),
    one_per_patient=True,
    fields=(
        _pid(),
        FieldSpec("crs_grade", "int", "worst CRS grade (ASTCT, 0 = none)", minimum=0, maximum=5),
        FieldSpec("icans_grade", "int", "worst ICANS grade (ASTCT, 0 = none)", minimum=0, maximum=5),
        FieldSpec("cytopenia_d30_grade", "int", "worst cytopenia grade at D30 (CTCAE)", minimum=0, maximum=4),
        FieldSpec("cytopenia_d90_grade", "int", "worst cytopenia grade at D90 (CTCAE)", minimum=0, maximum=4),
    ),
)

DISEASE_EVENTS = TableSpec(
    name="disease_events",
    description="Documented progressions or relapses (Lugano 2014) after infusion, with their date.",
    key=("patient_id", "event_date"),
    fields=(
        _pid(),
        FieldSpec("event_date", "date", "date of documented progression or relapse", required=True),
        FieldSpec(
            "event_type",
            "code",
            "progression (never responded) or relapse (after CR/PR)",
            required=True,
            codes=codes.EVENT_TYPE,
        ),
        FieldSpec("biopsy", "bool", "histologically confirmed"),
        FieldSpec(
            "next_treatment",
            "code",
            "whether a new treatment line followed this event: given (see treatment_lines), "
            "none (no further treatment, e.g. palliative care), unknown",
            codes=codes.NEXT_TREATMENT,
        ),
    ),
)

TREATMENT_LINES = TableSpec(
    name="treatment_lines",
    description=(
        "Treatment lines given after CAR-T infusion, numbered from 1. Each line lists its "
        "components (see codes.COMPONENTS); the class of a line is derived by postcart.endpoints "
        "through a documented, overridable mapping."
    ),
    key=("patient_id", "line_number"),
    date_order=("start_date", "end_date"),
    fields=(
        _pid(),
        FieldSpec(
            "line_number", "int", "line number after CAR-T (1 = first)", required=True, minimum=1, maximum=30
        ),
        FieldSpec("start_date", "date", "start of the line", required=True),
        FieldSpec("end_date", "date", "end of the line"),
        FieldSpec("regimen", "str", "regimen as written (e.g. R-GemOx, glofitamab)"),
        FieldSpec("components", "codes", "components of the regimen", required=True, codes=codes.COMPONENTS),
        FieldSpec("radiotherapy_localized", "bool", "radiotherapy given for localized disease"),
        FieldSpec("in_trial", "bool", "given within a clinical trial"),
        FieldSpec("best_response", "code", "best Lugano response to this line", codes=codes.RESPONSE),
        FieldSpec("best_response_date", "date", "date of the best response"),
    ),
)

VITAL_STATUS = TableSpec(
    name="vital_status",
    description="Vital status: last contact and death, one row per registered patient.",
    key=("patient_id",),
    one_per_patient=True,
    fields=(
        _pid(),
        FieldSpec("last_contact_date", "date", "date of last contact (alive, or death)", required=True),
        FieldSpec("death_date", "date", "date of death"),
        FieldSpec("death_cause", "code", "cause of death", codes=codes.DEATH_CAUSE),
    ),
)

EXTRACT = TableSpec(
    name="extract",
    description=(
        "One row describing the extract: its data cut-off date and source. Dates after the "
        "cut-off are flagged (not refused) at import."
    ),
    key=("extract_id",),
    fields=(
        FieldSpec("extract_id", "str", "name of the extract", required=True),
        FieldSpec("data_cutoff", "date", "data cut-off date of the extract", required=True),
        FieldSpec("source", "str", "registry and version the extract comes from"),
    ),
)

#: Tables in import order (references point only to earlier tables).
TABLES: tuple[TableSpec, ...] = (
    EXTRACT,
    CENTRES,
    PATIENTS,
    CHARACTERISTICS,
    BRIDGING,
    INFUSIONS,
    ASSESSMENTS,
    TOXICITIES,
    DISEASE_EVENTS,
    TREATMENT_LINES,
    VITAL_STATUS,
)
TABLES_BY_NAME: dict[str, TableSpec] = {t.name: t for t in TABLES}

#: Column names that look like direct identifiers; an extract containing one is refused.
IDENTIFIER_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"(^|_)(first|last|family|given|sur|maiden)?_?name($|_)",
        r"(^|_)initials?($|_)",
        r"(^|_)(date_of_birth|birth_date|dob|birthdate)($|_)",
        r"(^|_)(address|street|city|zip|postcode|postal_code)($|_)",
        r"(^|_)(phone|telephone|mobile|email|e_mail)($|_)",
        r"(^|_)(ssn|nir|insurance_number|social_security)($|_)",
    )
)
#: Field names that match an identifier pattern but are allowed (e.g. the centre's name).
IDENTIFIER_ALLOWED: frozenset[str] = frozenset({"centre_name"})
