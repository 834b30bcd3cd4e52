"""Cox fits under complete separation: the partial likelihood climbs towards 0 as beta -> inf.

Reference (R 4.2.2, survival 3.5-3)::

    d <- data.frame(t = c(1, 2, 3, 4), e = c(1, 1, 1, 0), x = c(4, 3, 2, 1))
    f <- coxph(Surv(t, e) ~ x, data = d)
    # Warning: Ran out of iterations and did not converge; coef 20.29, loglik -3.178054, -4.6e-09

By hand: at beta = 0 the risk sets have 4, 3 and 2 members, so
loglik(0) = -(log 4 + log 3 + log 2) = -log 24 = -3.1780538303479458.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from postcart.errors import MonotoneLikelihoodWarning
from postcart.stats import cox_ph


@pytest.mark.reference("hand-worked + survival::coxph", fixture=None)
@pytest.mark.parametrize("ties", ["breslow", "efron"])
def test_cox_complete_separation_is_flagged_not_estimable_and_never_crashes(ties: str) -> None:
    X = np.array([[4.0], [3.0], [2.0], [1.0]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = cox_ph(X, np.array([1.0, 2, 3, 4]), np.array([1, 1, 1, 0]), names=["x"], ties=ties)
    assert fit.loglik_null == pytest.approx(-math.log(24.0), rel=1e-12)
    assert -1e-6 <= fit.loglik <= 0.0
    assert fit.monotone
    assert fit.terms[0].estimable is False
    assert fit.terms[0].hr is None and fit.terms[0].p is None
    assert any(issubclass(w.category, MonotoneLikelihoodWarning) for w in caught)
