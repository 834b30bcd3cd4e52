"""model_matrix: treatment contrasts named ``variable[level]`` and complete-case rows.

Hand-made examples here; against R, the coding (dummy per non-reference level, reference from
the JSON ``factors``) and the n / n_dropped of every reference Cox block are checked through
the coefficients in ``test_cox_reference.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from postcart.errors import StatsError
from postcart.stats import model_matrix


def test_factor_becomes_one_dummy_per_non_reference_level_named_variable_level() -> None:
    mm = model_matrix(
        {"age": [60, 70, 55, 50], "celltype": ["squamous", "large", "adeno", "squamous"]},
        categorical={"celltype": ["squamous", "smallcell", "adeno", "large"]},
    )
    # smallcell does not occur: left out; the order given is kept
    assert mm.names == ("age", "celltype[adeno]", "celltype[large]")
    assert_array_equal(mm.X, [[60, 0, 0], [70, 0, 1], [55, 1, 0], [50, 0, 0]])
    assert mm.terms == {"age": ("age",), "celltype": ("celltype[adeno]", "celltype[large]")}
    assert mm.levels == {"celltype": ("squamous", "adeno", "large")}


def test_reference_defaults_to_first_level_in_sorted_order_or_can_be_named() -> None:
    col = {"arm": ["b", "c", "a", "b"]}
    assert model_matrix(col, categorical={"arm": None}).names == ("arm[b]", "arm[c]")
    assert model_matrix(col, categorical={"arm": "c"}).names == ("arm[a]", "arm[b]")


def test_pandas_categorical_keeps_its_category_order() -> None:
    s = pd.Series(pd.Categorical(["lo", "hi", "mid"], categories=["lo", "mid", "hi"]))
    assert model_matrix({"dose": s}, categorical={"dose": None}).names == ("dose[mid]", "dose[hi]")


def test_rows_with_any_missing_value_are_dropped_and_counted() -> None:
    mm = model_matrix(
        {
            "x": [1.0, np.nan, 3.0, 4.0, 5.0],
            "g": ["a", "b", None, "a", "b"],
            "b": [True, False, True, True, False],
        },
        categorical={"g": None},
    )
    assert_array_equal(mm.rows_used, [True, False, False, True, True])
    assert mm.n_dropped == 2
    assert mm.names == ("x", "g[b]", "b")
    assert_array_equal(mm.X, [[1, 0, 1], [4, 0, 1], [5, 1, 0]])


@pytest.mark.parametrize(
    ("columns", "categorical", "message"),
    [
        ({"g": ["a", "b"]}, {}, "column 'g' is not numeric \\(e.g. 'a'\\); declare it in categorical="),
        ({"x": [1, 2]}, {"y": None}, "categorical names \\['y'\\] are not among the columns \\['x'\\]"),
        ({"g": ["a", "b"]}, {"g": "z"}, "reference level 'z' of 'g' does not occur"),
        ({"g": ["a", "b"]}, {"g": ["a"]}, "column 'g' has levels \\['b'\\] that are not in the given levels"),
        ({"x": [1, 2], "y": [1, 2, 3]}, {}, "column 'y' has 3 values but the first column has 2"),
        ({"x": [np.nan, np.nan]}, {}, "no row is complete"),
    ],
)
def test_bad_columns_raise_an_error_naming_the_column(columns: dict, categorical: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(StatsError, match=message):
        model_matrix(columns, categorical=categorical)
