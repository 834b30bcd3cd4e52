"""Conventions of a statistical result: which software's rules produced it.

Two profiles:

* ``"sas"`` (default): the conventions of SAS 9.3, which produced the DESCAR-T paper's numbers.
  PROC LIFETEST: log-log pointwise CIs and Brookmeyer-Crowley median CIs on the log-log scale;
  the median rule of LIFETEST. PROC PHREG: Breslow ties.
* ``"r"``: the defaults of R's ``survival`` package. ``survfit``: log CIs, the median rule of
  ``quantile.survfit``; ``coxph``: Efron ties.

Any single convention can be overridden; the result records the resolved set, so every output
says which rules it used.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from postcart.errors import StatsError

Profile = Literal["sas", "r"]
ConfType = Literal["log-log", "log", "plain", "arcsin", "logit"]
Ties = Literal["breslow", "efron"]
MedianRule = Literal["sas", "r"]

CONF_TYPES: tuple[str, ...] = ("log-log", "log", "plain", "arcsin", "logit")
TIES: tuple[str, ...] = ("breslow", "efron")
PROFILES: dict[str, dict[str, str]] = {
    "sas": {"conf_type": "log-log", "ties": "breslow", "median_rule": "sas"},
    "r": {"conf_type": "log", "ties": "efron", "median_rule": "r"},
}


@dataclass(frozen=True, slots=True)
class Conventions:
    """The resolved conventions of one result."""

    profile: str
    conf_type: str
    conf_level: float
    ties: str
    median_rule: str

    def as_dict(self) -> dict[str, object]:
        """The conventions as a plain dict (the ``conventions`` block of JSON outputs)."""
        return asdict(self)


def resolve_conventions(
    profile: str = "sas",
    *,
    conf_type: str | None = None,
    conf_level: float = 0.95,
    ties: str | None = None,
    median_rule: str | None = None,
) -> Conventions:
    """Resolve a profile plus explicit overrides into a full set of conventions.

    Raises
    ------
    StatsError
        For an unknown profile, CI transform, ties method or median rule, or a confidence level
        outside (0, 1).
    """
    if profile not in PROFILES:
        raise StatsError(f"profile must be one of {sorted(PROFILES)}, but was {profile!r}")
    base = PROFILES[profile]
    ct = conf_type if conf_type is not None else base["conf_type"]
    if ct not in CONF_TYPES:
        raise StatsError(f"conf_type must be one of {list(CONF_TYPES)}, but was {ct!r}")
    tie = ties if ties is not None else base["ties"]
    if tie not in TIES:
        raise StatsError(f"ties must be one of {list(TIES)}, but was {tie!r}")
    rule = median_rule if median_rule is not None else base["median_rule"]
    if rule not in ("sas", "r"):
        raise StatsError(f"median_rule must be 'sas' or 'r', but was {rule!r}")
    if not 0.0 < conf_level < 1.0:
        raise StatsError(f"conf_level must be a float in the range (0, 1), but was {conf_level!r}")
    return Conventions(
        profile=profile, conf_type=ct, conf_level=float(conf_level), ties=tie, median_rule=rule
    )
