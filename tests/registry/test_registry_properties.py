"""Property tests against independent formulations (hypothesis)."""

from __future__ import annotations

import calendar
import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from postcart.registry.convert import format_float
from postcart.registry.validate import certainly_before, parse_dates

PRECISIONS = st.sampled_from(["day", "month", "year"])
DAYS = st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2026, 12, 31))


def _text(d: dt.date, precision: str) -> str:
    return {"day": d.isoformat(), "month": d.isoformat()[:7], "year": d.isoformat()[:4]}[precision]


def _interval(d: dt.date, precision: str) -> tuple[dt.date, dt.date]:
    """The days a partial date may stand for."""
    if precision == "day":
        return d, d
    if precision == "month":
        return d.replace(day=1), d.replace(day=calendar.monthrange(d.year, d.month)[1])
    return dt.date(d.year, 1, 1), dt.date(d.year, 12, 31)


@settings(max_examples=150, deadline=None)
@given(DAYS, PRECISIONS, DAYS, PRECISIONS)
def test_certainly_before_means_every_possible_day_is_before(
    a: dt.date, pa: str, b: dt.date, pb: str
) -> None:
    da, pra, _ = parse_dates(pd.Series([_text(a, pa)]))
    db, prb, _ = parse_dates(pd.Series([_text(b, pb)]))
    expected = _interval(a, pa)[1] < _interval(b, pb)[0]
    assert bool(certainly_before(da, pra, db, prb)[0]) is expected


@settings(max_examples=150, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_float_text_reads_back_to_the_same_double(x: float) -> None:
    text = format_float(x)
    assert float(text) == x
    assert format_float(float(text)) == text
