"""Number formatting for tables and figures (display only; results keep full precision).

Rounding is half-up on the decimal value (``2.25 -> 2.3``), not Python's banker's rounding,
as journals and SAS ``PUT`` formats do. ``None`` / NaN print as an em dash, a survival time or
limit that is not reached prints as ``NR``.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

DASH = "\u2014"
EN = "\u2013"


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_num(x: float | None, digits: int = 1, *, missing: str = DASH) -> str:
    """``x`` rounded half-up to ``digits`` decimals."""
    if _missing(x):
        return missing
    assert x is not None
    if math.isinf(x):
        return "\u221e" if x > 0 else "-\u221e"
    q = Decimal(1).scaleb(-digits)
    return str(Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP))


def fmt_int(x: float | int | None) -> str:
    """An integer count."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return DASH
    return str(int(x))


def fmt_n_pct(k: int | None, pct: float | None, digits: int = 1) -> str:
    """``"54 (22.7)"``."""
    if k is None:
        return DASH
    return f"{int(k)} ({fmt_num(pct, digits)})"


def fmt_time(x: float | None, digits: int = 1) -> str:
    """A time (months); ``None`` = not reached."""
    return fmt_num(x, digits, missing="NR")


def fmt_estimate_ci(
    est: float | None, lo: float | None, hi: float | None, digits: int = 1, *, nr: bool = True
) -> str:
    """``"2.8 (2.4-3.1)"`` with ``NR`` for limits not reached (when ``nr``)."""
    miss = "NR" if nr else DASH
    if not nr and _missing(lo) and _missing(hi):
        return fmt_num(est, digits)
    if _missing(est):
        if _missing(lo) and _missing(hi):
            return miss
        return f"{miss} ({fmt_num(lo, digits, missing=miss)}{EN}{fmt_num(hi, digits, missing=miss)})"
    return (
        f"{fmt_num(est, digits)} ({fmt_num(lo, digits, missing=miss)}{EN}{fmt_num(hi, digits, missing=miss)})"
    )


def fmt_hr(hr: float | None, lo: float | None, hi: float | None, *, estimable: bool = True) -> str:
    """Hazard ratio with CI, two decimals; ``"not estimable"`` when the estimate diverges."""
    if not estimable or _missing(hr):
        return "not estimable"
    return f"{fmt_num(hr, 2)} ({fmt_num(lo, 2)}{EN}{fmt_num(hi, 2)})"


def fmt_p(p: float | None) -> str:
    """A P-value in journal style: ``<.0001``, ``.0009``, ``.012``, ``.32``, ``>.99``."""
    if _missing(p):
        return DASH
    assert p is not None
    if p < 0.0001:
        return "<.0001"
    if p < 0.001:
        s = fmt_num(p, 4)
    elif p < 0.01:
        s = fmt_num(p, 3)
    elif p > 0.99:
        return ">.99"
    else:
        s = fmt_num(p, 3) if p < 0.1 else fmt_num(p, 2)
    return s[1:] if s.startswith("0.") else s


def fmt_range(lo: float | None, hi: float | None, digits: int = 1) -> str:
    """``"0.2-21.5"``."""
    return f"{fmt_num(lo, digits)}{EN}{fmt_num(hi, digits)}"
