"""Report table bodies against values computed independently from the analysis table.

Expected cells are computed with plain pandas and ``decimal`` half-up rounding in the test,
or worked by hand on a tiny table; the report's own formatting helpers are not used to build
the expectations.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
from scipy.stats import beta

from postcart.reporting.tables import (
    table_characteristics,
    table_contingency,
    table_failure_timing,
    table_response,
    table_survival,
)
from postcart.study import StudyResult, run_study
from study.fake_table import fake_analysis_table


def _r1(x: float) -> str:
    return str(Decimal(repr(float(x))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _is(s: pd.Series) -> pd.Series:
    return s.astype("boolean").fillna(False).astype(bool)


def _cell(body: pd.DataFrame, label: str, col: str = "c0") -> str:
    rows = body[body["label"] == label]
    assert len(rows) >= 1, f"no row {label!r}"
    return str(rows.iloc[0][col])


def test_failure_timing_cells_are_counts_and_half_up_percentages(
    small_table: pd.DataFrame, small_result: StudyResult
) -> None:
    t = small_table
    failed = _is(t["failed"])
    n = int(failed.sum())
    body = table_failure_timing(small_result).body
    for level, label in (("very_early", "D0-D30"), ("early", "D31-D90"), ("late", ">D90")):
        k = int((failed & (t["timing_group"] == level)).sum())
        assert _cell(body, label) == f"{k} ({_r1(100 * k / n)})"
    months = t.loc[failed, "months_to_failure"].sort_values().to_numpy()
    expected = f"{_r1(float(pd.Series(months).median()))} ({_r1(months[0])}\u2013{_r1(months[-1])})"
    assert _cell(body, "Time to failure, months, median (range)") == expected


def test_table1_binary_row_counts_known_values_by_product(
    small_table: pd.DataFrame, small_result: StudyResult
) -> None:
    t = small_table[_is(small_table["failed"])]
    body = table_characteristics(small_result).body
    row = body[body["label"] == "LDH > ULN, n (%)"].iloc[-1]  # the D0 row comes after the decision row
    for i, group in enumerate(["overall", "axi-cel", "tisa-cel"]):
        sub = t if group == "overall" else t[t["product"] == group]
        known = sub["d0_ldh_high"].dropna()
        k = int(known.astype(bool).sum())
        assert row[f"c{i}"] == f"{k} ({_r1(100 * k / len(known))})"


def test_response_overall_row_has_exact_ci(small_table: pd.DataFrame, small_result: StudyResult) -> None:
    t = small_table
    ev = _is(t["failed"]) & (t["salvage_status"] == "treated") & _is(t["salvage_response_evaluable"])
    resp = t.loc[ev, "salvage_best_response"]
    n, k = int(ev.sum()), int((resp == "pd").sum())
    lo, hi = beta.ppf(0.025, k, n - k + 1), beta.ppf(0.975, k + 1, n - k)
    body = table_response(small_result).body
    headers = table_response(small_result).styling.headers
    col = f"c{headers.index('PD')}"
    assert _cell(body, "All", col) == f"{k} ({_r1(100 * k / n)}; {_r1(100 * lo)}\u2013{_r1(100 * hi)})"
    assert _cell(body, "All", "c0") == str(n)


def test_cytopenia_table_counts_equal_a_crosstab(
    small_table: pd.DataFrame, small_result: StudyResult
) -> None:
    t = small_table[_is(small_table["failed"])].dropna(subset=["cytopenia_d30_ge3"])
    ct = pd.crosstab(t["cytopenia_d30_ge3"].astype(bool), t["product"])
    body = table_contingency(small_result).body
    yes = body[body["label"] == "yes"].iloc[0]  # first block = D30 by product
    axi = int(ct.loc[True, "axi-cel"])
    assert yes["c0"] == f"{axi} ({_r1(100 * axi / int(ct['axi-cel'].sum()))})"


def test_survival_table_median_of_six_uncensored_times_is_hand_worked() -> None:
    # six failures dying at 1..6 months, no censoring: S(t) = 1 - k/6; S = 0.5 on [3, 4) -> median 3.5
    t = fake_analysis_table(40, seed=2)
    t["failed"] = pd.array([i < 6 for i in range(40)], dtype="boolean")
    t.loc[:5, "os2_months"] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    t.loc[:5, "os2_event"] = True
    r = run_study(t)
    body = table_survival(r).body
    row = body[body["label"] == "OS-2, all failures"].iloc[0]
    assert (row["c1"], row["c2"]) == ("6", "6")
    assert str(row["c3"]).startswith("3.5 (")
    # 6-month survival is 0: printed as 0.0
    assert str(row["c4"]).startswith("0.0") or str(row["c4"]).startswith("\u2014")
