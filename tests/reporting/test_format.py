"""Number formatting: half-up rounding, journal P-values, NR."""

from __future__ import annotations

import pytest

from postcart.reporting.format import fmt_estimate_ci, fmt_hr, fmt_n_pct, fmt_num, fmt_p


@pytest.mark.parametrize(
    ("x", "digits", "text"),
    [
        (2.25, 1, "2.3"),
        (2.35, 1, "2.4"),
        (0.05, 1, "0.1"),
        (14.1666, 1, "14.2"),
        (3.0, 2, "3.00"),
        (None, 1, "\u2014"),
    ],
)
def test_fmt_num_rounds_half_up(x: float | None, digits: int, text: str) -> None:
    assert fmt_num(x, digits) == text


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.00001, "<.0001"),
        (0.0009, ".0009"),
        (0.0123, ".012"),
        (0.0499, ".050"),
        (0.104, ".10"),
        (0.32, ".32"),
        (0.999, ">.99"),
        (None, "\u2014"),
    ],
)
def test_fmt_p_uses_journal_style(p: float | None, text: str) -> None:
    assert fmt_p(p) == text


def test_fmt_estimate_ci_prints_nr_for_limits_not_reached() -> None:
    assert fmt_estimate_ci(9.6, 6.0, None) == "9.6 (6.0\u2013NR)"
    assert fmt_estimate_ci(None, 2.9, None) == "NR (2.9\u2013NR)"
    assert fmt_estimate_ci(None, None, None) == "NR"


def test_fmt_hr_says_not_estimable_instead_of_a_number() -> None:
    assert fmt_hr(None, None, None, estimable=False) == "not estimable"
    assert fmt_hr(2.655, 1.735, 4.065) == "2.66 (1.74\u20134.07)"


def test_fmt_n_pct() -> None:
    assert fmt_n_pct(54, 100 * 54 / 238) == "54 (22.7)"
