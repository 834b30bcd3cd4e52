"""Allowed codes of the registry's coded fields, and unit conversion factors.

Codes are lower-case strings, stable across versions: they are written in extracts and in the
database. Labels for people live in the reporting layer.
"""

from __future__ import annotations

SEX: tuple[str, ...] = ("male", "female")

INDICATION: tuple[str, ...] = (
    "rr_aggressive_bcl",  # relapsed/refractory aggressive B-cell lymphoma (the DESCAR-T study)
    "rr_mcl",
    "rr_fl",
    "other",
)

HISTOLOGY: tuple[str, ...] = (
    "dlbcl_nos",
    "hgbl",  # high-grade B-cell lymphoma (double/triple hit or NOS)
    "pmbl",  # primary mediastinal B-cell lymphoma
    "tfl",  # transformed follicular lymphoma
    "transformed_other_indolent",
    "other",
)

TIMEPOINT: tuple[str, ...] = ("decision", "lymphodepletion", "d0")

#: Lugano 2014 response categories; "pd" covers progression and relapse; "ne" = not evaluated.
RESPONSE: tuple[str, ...] = ("cr", "pr", "sd", "pd", "ne")

BRIDGING_TYPE: tuple[str, ...] = ("none", "low_dose", "conventional", "radiotherapy")

PRODUCT: tuple[str, ...] = ("axi-cel", "tisa-cel", "liso-cel", "brexu-cel", "other")

LYMPHODEPLETION: tuple[str, ...] = ("flu_cy", "bendamustine", "other")

#: Visits, with their nominal day after infusion (D0 = day 0); unscheduled has none.
VISIT_DAYS: dict[str, int] = {
    "d30": 30,
    "d90": 90,
    "d180": 180,
    "d270": 270,
    "d360": 360,
    "m18": 548,
    "m24": 730,
    "m36": 1096,
}
VISIT: tuple[str, ...] = (*VISIT_DAYS, "unscheduled")

MODALITY: tuple[str, ...] = ("pet", "ct", "clinical", "other")

EVENT_TYPE: tuple[str, ...] = ("progression", "relapse")

NEXT_TREATMENT: tuple[str, ...] = ("given", "none", "unknown")

DEATH_CAUSE: tuple[str, ...] = ("lymphoma", "toxicity", "infection", "other", "unknown")

#: Components of treatment regimens. The class each maps to is an endpoint rule
#: (postcart.endpoints), not a registry fact.
COMPONENTS: tuple[str, ...] = (
    # immunomodulatory
    "lenalidomide",
    # bispecific antibodies
    "glofitamab",
    "mosunetuzumab",
    "epcoritamab",
    "odronextamab",
    "blinatumomab",
    # targeted therapy
    "ibrutinib",
    "acalabrutinib",
    "zanubrutinib",
    "venetoclax",
    "idelalisib",
    "copanlisib",
    "selinexor",
    "tazemetostat",
    # antibody-drug conjugates
    "polatuzumab_vedotin",
    "loncastuximab_tesirine",
    "brentuximab_vedotin",
    # monoclonal antibodies
    "rituximab",
    "obinutuzumab",
    "tafasitamab",
    # checkpoint inhibitors
    "nivolumab",
    "pembrolizumab",
    # cytotoxic chemotherapy
    "bendamustine",
    "gemcitabine",
    "oxaliplatin",
    "cisplatin",
    "carboplatin",
    "cytarabine",
    "ifosfamide",
    "etoposide",
    "cyclophosphamide",
    "doxorubicin",
    "vincristine",
    "methotrexate",
    "chemotherapy_other",
    # other
    "steroids",
    "radiotherapy",
    "allo_sct",
    "auto_sct",
    "car_t",
    "trial_drug",
    "palliative_care",
    "other",
)

ALBUMIN_UNITS: tuple[str, ...] = ("g/L", "g/dL")
CRP_UNITS: tuple[str, ...] = ("mg/L", "mg/dL")
FERRITIN_UNITS: tuple[str, ...] = ("ug/L", "ng/mL", "pmol/L")

#: Multiply a value in the given unit by this factor to get the canonical unit of its field
#: (albumin g/L, CRP mg/L, ferritin ug/L). Ferritin: 1 ug/L = 2.247 pmol/L.
UNIT_FACTORS: dict[str, float] = {
    "g/L": 1.0,
    "g/dL": 10.0,
    "mg/L": 1.0,
    "mg/dL": 10.0,
    "ug/L": 1.0,
    "ng/mL": 1.0,
    "pmol/L": 1.0 / 2.247,
}
