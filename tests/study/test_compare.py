"""compare-paper verdicts on hand-made results documents (tolerances of the yaml header)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from postcart.errors import SpecError
from postcart.study.compare import compare_paper, format_comparison, load_paper_targets


def _doc(targets: dict[str, dict[str, object]]) -> dict[str, object]:
    return {"schema": "postcart.results/1", "targets": targets}


def _row(result, tid):  # type: ignore[no-untyped-def]
    return next(r for r in result.rows if r.id == tid)


def test_packaged_targets_are_the_reference_copy() -> None:
    shipped = load_paper_targets()
    reference = Path(__file__).resolve().parents[3] / "shared" / "reference" / "paper-targets.yaml"
    if not reference.exists():
        pytest.skip("shared reference folder not present")
    assert shipped == load_paper_targets(reference)


def test_percent_tolerance_is_a_tenth_of_a_point_or_one_point_for_integers() -> None:
    res = compare_paper(
        _doc(
            {
                "pop_failures_pct": {"value": 43.27, "estimable": True},  # paper 43.3
                "resp_cr_pct": {"value": 6.8, "estimable": True},  # paper 6.6 -> outside
                "pop_nonprog_cr_pct": {"value": 58.9, "estimable": True},  # paper 58 (integer) -> inside
            }
        )
    )
    assert _row(res, "pop_failures_pct").inside is True
    assert _row(res, "resp_cr_pct").inside is False
    assert _row(res, "pop_nonprog_cr_pct").inside is True
    assert _row(res, "pop_failures_pct").difference == pytest.approx(43.27 - 43.3)


def test_medians_pass_inside_the_paper_ci_and_hazard_ratios_within_ci() -> None:
    res = compare_paper(
        _doc(
            {
                "surv_os2_median": {"value": 6.5, "ci_low": 5.0, "ci_high": 8.0},  # paper 5.2 (4.1-6.6)
                "surv_pfs2_median": {"value": 3.3},  # paper 2.8 (2.4-3.1): outside
                "cox_uni_os2_crp": {"value": 1.07, "p_value": 0.001, "estimable": True},  # 1.05 (1.02-1.08)
                "tim_os2_median_late": {"value": 30.0},  # paper 9.6 (6.0-NR): inside (upper NR)
            }
        )
    )
    assert _row(res, "surv_os2_median").inside is True
    assert _row(res, "surv_pfs2_median").inside is False
    assert _row(res, "cox_uni_os2_crp").inside is True
    assert _row(res, "tim_os2_median_late").inside is True


def test_p_values_compare_at_printed_precision_and_below_for_less_than() -> None:
    res = compare_paper(
        _doc(
            {
                "trt_os2_logrank": {"value": 0.324, "p_value": 0.324},  # printed .32
                "trt_pfs2_logrank": {"value": 0.12, "p_value": 0.12},  # printed .104 -> no
                "test_cytopenia_by_product": {"value": 0.0004, "p_value": 0.0004},  # printed < .001
            }
        )
    )
    assert _row(res, "trt_os2_logrank").inside is True
    assert _row(res, "trt_pfs2_logrank").inside is False
    assert _row(res, "test_cytopenia_by_product").inside is True


def test_not_estimable_matches_the_papers_not_reached_hazard_ratio() -> None:
    res = compare_paper(_doc({"cox_mv_pfs2_bispecific": {"value": None, "estimable": False}}))
    assert _row(res, "cox_mv_pfs2_bispecific").inside is True
    text = format_comparison(res)
    assert "cox_mv_pfs2_bispecific" in text and "not estimable" in text


def test_missing_targets_are_listed_and_bad_files_are_named(tmp_path: Path) -> None:
    res = compare_paper(_doc({}))
    assert "surv_os2_median" in res.not_computed
    bad = tmp_path / "results.json"
    bad.write_text(json.dumps({"no": "targets"}))
    with pytest.raises(SpecError, match="no 'targets' block"):
        compare_paper(bad)
