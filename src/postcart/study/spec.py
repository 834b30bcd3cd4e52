"""The paper's analyses as a declarative specification.

Every analysis of Di Blasi et al. (Blood 2022) is one frozen spec object: which population
(a named subset of the analysis table), which endpoint or variables, which grouping, which
method. ``postcart.study.run.run_study`` executes a :class:`StudySpec` with ``postcart.stats``;
nothing here computes anything. The default :data:`PAPER_STUDY` follows
``paper-notes.md`` sections a.4, b.19, b.20 and e.8:

* univariate Cox terms (all measured at D0): LDH > ULN, ECOG >= 2, very early failure
  (D0-D30 vs later), CRP per 10 mg/L, ferritin per 100 ug/L, and the salvage-treatment factor
  (bispecific / lenalidomide / targeted vs every other treated patient) among the treated;
* multivariable models as printed (Table 3): PFS-2 = LDH, ferritin + treatment factor;
  OS-2 = LDH, CRP, very early + treatment factor; complete cases among the treated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: Named populations (subsets of the analysis table, one row per registered patient).
POPULATIONS: dict[str, str] = {
    "registered": "all registered patients",
    "infused": "infused patients",
    "responders": "CAR-T responders (best response CR or PR)",
    "failures": "CAR-T failures (progression or relapse after infusion)",
    "salvage": "failures with data on a first post-failure treatment line",
    "response_evaluable": "treated failures with a response to salvage recorded",
    "rt_localized": "failures treated with radiotherapy alone for localized disease",
}

Population = Literal[
    "registered", "infused", "responders", "failures", "salvage", "response_evaluable", "rt_localized"
]
VariableKind = Literal["binary", "categorical", "continuous"]
CovariateKind = Literal["binary", "continuous", "factor"]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A time-to-event endpoint: columns of the analysis table and its label."""

    name: str
    label: str
    time_column: str
    event_column: str
    origin: str
    event: str


PFS2 = Endpoint(
    "pfs2",
    "PFS-2",
    "pfs2_months",
    "pfs2_event",
    "CAR-T failure",
    "next progression/relapse or death",
)
OS2 = Endpoint("os2", "OS-2", "os2_months", "os2_event", "CAR-T failure", "death from any cause")
PFS = Endpoint("pfs", "PFS", "pfs_months", "pfs_event", "infusion (D0)", "progression/relapse or death")
OS = Endpoint("os", "OS", "os_months", "os_event", "infusion (D0)", "death from any cause")
DOR = Endpoint(
    "dor", "DOR", "dor_months", "dor_event", "first CR/PR after CAR-T", "progression/relapse or death"
)


@dataclass(frozen=True, slots=True)
class Variable:
    """A characteristic summarised in Table 1."""

    column: str
    label: str
    kind: VariableKind
    section: str
    levels: tuple[str, ...] | None = None
    level_labels: tuple[str, ...] | None = None
    unit: str = ""


@dataclass(frozen=True, slots=True)
class CharacteristicsAnalysis:
    """Table 1: characteristics of a population, overall and by a grouping column."""

    id: str
    title: str
    population: Population
    by: str
    variables: tuple[Variable, ...]


@dataclass(frozen=True, slots=True)
class SurvivalAnalysis:
    """Kaplan-Meier estimates of one endpoint, overall or by group, with a log-rank test.

    ``levels`` fixes the groups and their order (rows whose group is another value are left
    out of the analysis); ``None`` = overall only. Landmark rates at ``landmarks`` months.
    """

    id: str
    title: str
    endpoint: Endpoint
    population: Population
    group: str | None = None
    levels: tuple[str, ...] | None = None
    level_labels: tuple[str, ...] | None = None
    landmarks: tuple[float, ...] = (6.0, 12.0)
    pairwise: bool = False
    figure: str | None = None


@dataclass(frozen=True, slots=True)
class Covariate:
    """A Cox model term built from a column of the analysis table.

    ``binary``: boolean column coded 1/0. ``continuous``: the column divided by ``per``
    (HR per ``per`` units). ``factor``: dummies for ``levels`` against every other non-missing
    value of the column (the reference, labelled ``reference_label``).
    """

    name: str
    label: str
    column: str
    kind: CovariateKind
    per: float = 1.0
    levels: tuple[str, ...] = ()
    level_labels: tuple[str, ...] = ()
    reference_label: str = ""


@dataclass(frozen=True, slots=True)
class CoxAnalysis:
    """Cox models for one endpoint: one model per covariate (``univariate``) or one model."""

    id: str
    title: str
    endpoint: Endpoint
    covariates: tuple[Covariate, ...]
    multivariable: bool
    population: Population = "failures"
    #: population of factor covariates in univariate models (treatment terms: the treated)
    factor_population: Population = "salvage"
    figure: str | None = None


@dataclass(frozen=True, slots=True)
class ResponseAnalysis:
    """Best response to salvage with exact CIs, overall and by class."""

    id: str
    title: str
    population: Population
    column: str
    categories: tuple[str, ...]
    category_labels: tuple[str, ...]
    by: str
    by_levels: tuple[str, ...]
    by_labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ContingencyAnalysis:
    """A test of association between two categorical columns in a population."""

    id: str
    title: str
    population: Population
    row: str
    column: str
    test: Literal["chisq", "fisher"]
    row_label: str
    column_label: str
    column_levels: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class FollowUpAnalysis:
    """Median follow-up by reverse Kaplan-Meier, overall and optionally by group."""

    id: str
    title: str
    endpoint: Endpoint
    population: Population
    group: str | None = None
    levels: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class StudySpec:
    """Every analysis of a study report."""

    name: str
    characteristics: CharacteristicsAnalysis
    survival: tuple[SurvivalAnalysis, ...]
    cox: tuple[CoxAnalysis, ...]
    response: ResponseAnalysis
    contingency: tuple[ContingencyAnalysis, ...]
    followup: tuple[FollowUpAnalysis, ...]
    salvage_classes: tuple[str, ...]
    salvage_class_labels: tuple[str, ...]
    timing_levels: tuple[str, ...] = ("very_early", "early", "late")
    timing_labels: tuple[str, ...] = ("D0-D30", "D31-D90", ">D90")
    landmarks: tuple[float, ...] = field(default=(6.0, 12.0))


# --------------------------------------------------------------------------------------------
# The DESCAR-T post-failure study
# --------------------------------------------------------------------------------------------

SALVAGE_CLASSES = ("lenalidomide", "bispecific", "targeted", "radiotherapy", "immunochemotherapy", "other")
SALVAGE_CLASS_LABELS = (
    "Lenalidomide",
    "Bispecific antibody",
    "Targeted therapy",
    "Radiotherapy",
    "Immunochemotherapy",
    "Other",
)
#: The five classes of the Results / Figure 1 (log-rank across these; "other" is a residue).
FIGURE1_CLASSES = SALVAGE_CLASSES[:5]
FIGURE1_LABELS = SALVAGE_CLASS_LABELS[:5]

_DEC = "At decision"
_D0 = "At infusion (D0)"
_BR = "Bridging"

TABLE1_VARIABLES: tuple[Variable, ...] = (
    Variable("sex", "Sex", "categorical", _DEC, ("male", "female"), ("Male", "Female")),
    Variable("age_years", "Age", "continuous", _DEC, unit="years"),
    Variable(
        "histology",
        "Histology",
        "categorical",
        _DEC,
        ("dlbcl_nos", "hgbl", "pmbl", "tfl", "transformed_other_indolent", "other"),
        ("DLBCL NOS", "HGBL", "PMBL", "Transformed FL", "Other transformed indolent", "Other"),
    ),
    Variable("prior_lines", "Prior lines of therapy", "continuous", _DEC),
    Variable("prior_lines_gt3", "More than 3 prior lines", "binary", _DEC),
    Variable("prior_asct", "Prior autologous SCT", "binary", _DEC),
    Variable("prior_allo", "Prior allogeneic SCT", "binary", _DEC),
    Variable("prior_transplant", "Prior transplant (auto or allo)", "binary", _DEC),
    Variable("dec_ecog_ge2", "ECOG PS >= 2", "binary", _DEC),
    Variable("dec_stage_3_4", "Ann Arbor stage III-IV", "binary", _DEC),
    Variable("dec_extranodal_gt1", "More than 1 extranodal site", "binary", _DEC),
    Variable("dec_ldh_high", "LDH > ULN", "binary", _DEC),
    Variable("dec_aaipi_2_3", "aaIPI 2-3", "binary", _DEC),
    Variable("d0_ecog_ge2", "ECOG PS >= 2", "binary", _D0),
    Variable("d0_stage_3_4", "Ann Arbor stage III-IV", "binary", _D0),
    Variable("d0_extranodal_gt1", "More than 1 extranodal site", "binary", _D0),
    Variable("d0_ldh_high", "LDH > ULN", "binary", _D0),
    Variable("d0_aaipi_2_3", "aaIPI 2-3", "binary", _D0),
    Variable("d0_albumin_g_l", "Albumin", "continuous", _D0, unit="g/L"),
    Variable("d0_crp_mg_l", "CRP", "continuous", _D0, unit="mg/L"),
    Variable("d0_ferritin_ug_l", "Ferritin", "continuous", _D0, unit="ug/L"),
    Variable("d0_pd", "Progressive disease at infusion (PET)", "binary", _D0),
    Variable("bridged", "Bridging therapy", "binary", _BR),
    Variable(
        "bridging_type",
        "Bridging type",
        "categorical",
        _BR,
        ("none", "low_dose", "conventional", "radiotherapy"),
        ("None", "Low-dose", "Conventional", "Radiotherapy"),
    ),
)

LDH = Covariate("ldh_high", "LDH > ULN (D0)", "d0_ldh_high", "binary")
ECOG = Covariate("ecog_ge2", "ECOG PS >= 2 (D0)", "d0_ecog_ge2", "binary")
VERY_EARLY = Covariate("very_early", "Very early failure (D0-D30)", "very_early", "binary")
CRP = Covariate("crp", "CRP (per 10 mg/L)", "d0_crp_mg_l", "continuous", per=10.0)
FERRITIN = Covariate("ferritin", "Ferritin (per 100 µg/L)", "d0_ferritin_ug_l", "continuous", per=100.0)
TREATMENT = Covariate(
    "treatment",
    "Salvage treatment",
    "salvage_class",
    "factor",
    levels=("bispecific", "lenalidomide", "targeted"),
    level_labels=("Bispecific antibody", "Lenalidomide", "Targeted therapy"),
    reference_label="other treatment (immunochemotherapy, radiotherapy, other)",
)
UNIVARIATE_COVARIATES = (LDH, ECOG, VERY_EARLY, CRP, FERRITIN, TREATMENT)

_TIMING = ("very_early", "early", "late")
_TIMING_LABELS = ("D0-D30", "D31-D90", ">D90")


def _survival_set() -> tuple[SurvivalAnalysis, ...]:
    out: list[SurvivalAnalysis] = []
    for ep, fig_all in ((PFS2, "figure_2"), (OS2, "figure_3")):
        out.append(
            SurvivalAnalysis(
                f"{ep.name}_overall", f"{ep.label}, all failures", ep, "failures", figure=fig_all
            )
        )
    for ep, fig_tim in ((PFS2, "figure_4"), (OS2, "figure_5")):
        out.append(
            SurvivalAnalysis(
                f"{ep.name}_by_timing",
                f"{ep.label} by failure timing",
                ep,
                "failures",
                group="timing_group",
                levels=_TIMING,
                level_labels=_TIMING_LABELS,
                pairwise=True,
                figure=fig_tim,
            )
        )
    for ep in (PFS2, OS2):
        out.append(
            SurvivalAnalysis(
                f"{ep.name}_by_d30",
                f"{ep.label}: failure D0-D30 vs after D30",
                ep,
                "failures",
                group="very_early",
                levels=("true", "false"),
                level_labels=("D0-D30", ">D30"),
            )
        )
    for ep, fig in ((PFS2, "figure_6"), (OS2, "figure_7")):
        out.append(
            SurvivalAnalysis(
                f"{ep.name}_by_class",
                f"{ep.label} by salvage treatment class",
                ep,
                "salvage",
                group="salvage_class",
                levels=FIGURE1_CLASSES,
                level_labels=FIGURE1_LABELS,
                figure=fig,
            )
        )
    for ep in (PFS2, OS2):
        out.append(
            SurvivalAnalysis(
                f"{ep.name}_rt_localized",
                f"{ep.label}, radiotherapy alone for localized disease",
                ep,
                "rt_localized",
            )
        )
    out.append(SurvivalAnalysis("pfs_infused", "PFS from infusion, all infused", PFS, "infused"))
    out.append(SurvivalAnalysis("os_infused", "OS from infusion, all infused", OS, "infused"))
    out.append(
        SurvivalAnalysis("dor_responders", "Duration of response, CAR-T responders", DOR, "responders")
    )
    return tuple(out)


PAPER_STUDY = StudySpec(
    name="DESCAR-T: outcomes after failure of anti-CD19 CAR-T (Di Blasi et al., Blood 2022)",
    characteristics=CharacteristicsAnalysis(
        "table_1", "Table 1. Characteristics of the CAR-T failures", "failures", "product", TABLE1_VARIABLES
    ),
    survival=_survival_set(),
    cox=(
        CoxAnalysis(
            "cox_uni_pfs2",
            "Univariate Cox models, PFS-2",
            PFS2,
            UNIVARIATE_COVARIATES,
            False,
            figure="forest_uni_pfs2",
        ),
        CoxAnalysis(
            "cox_uni_os2",
            "Univariate Cox models, OS-2",
            OS2,
            UNIVARIATE_COVARIATES,
            False,
            figure="forest_uni_os2",
        ),
        CoxAnalysis(
            "cox_mv_pfs2",
            "Table 3. Multivariable Cox model, PFS-2",
            PFS2,
            (LDH, FERRITIN, TREATMENT),
            True,
            population="salvage",
            figure="forest_mv_pfs2",
        ),
        CoxAnalysis(
            "cox_mv_os2",
            "Table 3. Multivariable Cox model, OS-2",
            OS2,
            (LDH, CRP, VERY_EARLY, TREATMENT),
            True,
            population="salvage",
            figure="forest_mv_os2",
        ),
    ),
    response=ResponseAnalysis(
        "response",
        "Response to salvage treatment",
        "response_evaluable",
        "salvage_best_response",
        ("cr", "pr", "sd", "pd", "ne"),
        ("CR", "PR", "SD", "PD", "NE"),
        "salvage_class",
        SALVAGE_CLASSES,
        SALVAGE_CLASS_LABELS,
    ),
    contingency=(
        ContingencyAnalysis(
            "cytopenia_d30_by_product",
            "Grade >= 3 cytopenia at D30 by product",
            "failures",
            "cytopenia_d30_ge3",
            "product",
            "chisq",
            "Cytopenia grade >= 3 at D30",
            "Product",
        ),
        ContingencyAnalysis(
            "cytopenia_d90_by_product",
            "Grade >= 3 cytopenia at D90 by product",
            "failures",
            "cytopenia_d90_ge3",
            "product",
            "chisq",
            "Cytopenia grade >= 3 at D90",
            "Product",
        ),
        ContingencyAnalysis(
            "cytopenia_d30_vs_salvage",
            "Grade >= 3 cytopenia at D30 vs salvage class",
            "salvage",
            "cytopenia_d30_ge3",
            "salvage_class",
            "fisher",
            "Cytopenia grade >= 3 at D30",
            "Salvage class",
            SALVAGE_CLASSES,
        ),
    ),
    followup=(
        FollowUpAnalysis(
            "fu_infused",
            "Median follow-up from infusion, all infused",
            OS,
            "infused",
            "product",
            ("axi-cel", "tisa-cel"),
        ),
        FollowUpAnalysis(
            "fu_failures_d0",
            "Median follow-up from infusion, failures",
            OS,
            "failures",
            "product",
            ("axi-cel", "tisa-cel"),
        ),
        FollowUpAnalysis(
            "fu_failures_failure",
            "Median follow-up from failure, failures",
            OS2,
            "failures",
            "product",
            ("axi-cel", "tisa-cel"),
        ),
    ),
    salvage_classes=SALVAGE_CLASSES,
    salvage_class_labels=SALVAGE_CLASS_LABELS,
)
