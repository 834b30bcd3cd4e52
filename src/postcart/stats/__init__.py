"""Survival and categorical statistics on arrays: no files, databases, registry columns or plots.

Every result is an immutable object that records the conventions that produced it
(``Conventions``) and converts to a tidy DataFrame with ``.to_frame()``.
"""

# -- competing risks, contingency tables, proportions, rank tests (competing.py, contingency.py,
#    proportions.py, ranks.py) --
from postcart.stats.competing import (
    CumulativeIncidenceAtTimes,
    CumulativeIncidenceResult,
    GrayTestResult,
    cumulative_incidence,
    cumulative_incidence_by_group,
    gray_test,
)

# -- Cox model, design matrices, concordance, cox.zph (cox.py, design.py, concordance.py, zph.py) --
from postcart.stats.concordance import ConcordanceResult, concordance_index
from postcart.stats.contingency import ChiSquareResult, FisherExactResult, chisq_test, fisher_exact
from postcart.stats.conventions import Conventions, resolve_conventions
from postcart.stats.cox import CoxResult, CoxTerm, cox_ph
from postcart.stats.design import ModelMatrix, model_matrix

# -- Kaplan-Meier, follow-up, log-rank (km.py, logrank.py, results.py) --
from postcart.stats.km import (
    FollowUpResult,
    KaplanMeierByGroupResult,
    KaplanMeierResult,
    kaplan_meier,
    kaplan_meier_by_group,
    median_followup,
)
from postcart.stats.logrank import LogRankResult, logrank_test, pairwise_logrank
from postcart.stats.proportions import ProportionCI, proportion_ci
from postcart.stats.ranks import KruskalWallisResult, WilcoxonResult, kruskal_wallis, wilcoxon_test
from postcart.stats.results import QuantileEstimate, RMSTResult, SurvivalAtTimes, TestStatistic
from postcart.stats.zph import ZphResult, cox_zph

__all__ = [
    "Conventions",
    "resolve_conventions",
    # -- Kaplan-Meier, follow-up, log-rank --
    "FollowUpResult",
    "KaplanMeierByGroupResult",
    "KaplanMeierResult",
    "LogRankResult",
    "QuantileEstimate",
    "RMSTResult",
    "SurvivalAtTimes",
    "TestStatistic",
    "kaplan_meier",
    "kaplan_meier_by_group",
    "logrank_test",
    "median_followup",
    "pairwise_logrank",
    # -- Cox model, design matrices, concordance, cox.zph --
    "ConcordanceResult",
    "CoxResult",
    "CoxTerm",
    "ModelMatrix",
    "concordance_index",
    "cox_ph",
    "model_matrix",
    "ZphResult",
    "cox_zph",
    # -- competing risks, contingency tables, proportions, rank tests --
    "ChiSquareResult",
    "CumulativeIncidenceAtTimes",
    "CumulativeIncidenceResult",
    "FisherExactResult",
    "GrayTestResult",
    "KruskalWallisResult",
    "ProportionCI",
    "WilcoxonResult",
    "chisq_test",
    "cumulative_incidence",
    "cumulative_incidence_by_group",
    "fisher_exact",
    "gray_test",
    "kruskal_wallis",
    "proportion_ci",
    "wilcoxon_test",
]
