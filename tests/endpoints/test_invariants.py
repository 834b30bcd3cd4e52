"""Invariants on random consistent registries: row order, endpoint ordering, flow arithmetic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from postcart.endpoints import EndpointsResult, derive_endpoints
from postcart.registry.tables import RegistryTables

from .builders import RegistryBuilder, plus

RESPONSES = ["cr", "pr", "sd", "pd", "ne"]
COMPONENT_SETS = [
    ("lenalidomide", "rituximab"),
    ("glofitamab",),
    ("ibrutinib",),
    ("radiotherapy",),
    ("rituximab", "gemcitabine", "oxaliplatin"),
    ("nivolumab",),
]


def _random_registry(seed: int, n: int = 60) -> RegistryTables:
    rng = np.random.default_rng(seed)
    b = RegistryBuilder(cutoff="2021-06-30")
    for i in range(n):
        pid = f"R{i:03d}"
        decision = plus("2019-01-01", int(rng.integers(0, 700)))
        b.patient(pid, decision=decision, age=float(rng.uniform(30, 80)))
        if rng.random() < 0.2:
            b.vital(pid, plus(decision, int(rng.integers(0, 60))))
            continue
        d0 = plus(decision, int(rng.integers(20, 60)))
        b.infusion(pid, d0 if rng.random() > 0.1 else d0[:7])
        last = 0
        for day in sorted(rng.choice([30, 90, 180, 270, 360], size=int(rng.integers(0, 5)), replace=False)):
            b.assessment(pid, plus(d0, int(day)), str(rng.choice(RESPONSES)))
            last = max(last, int(day))
        if rng.random() < 0.5:
            fday = int(rng.integers(1, 400))
            b.event(pid, plus(d0, fday), next_treatment=str(rng.choice(["given", "none", "unknown"])))
            last = max(last, fday)
            if rng.random() < 0.6:
                start = fday + int(rng.integers(0, 40))
                comps = COMPONENT_SETS[int(rng.integers(0, len(COMPONENT_SETS)))]
                b.line(pid, plus(d0, start), comps, best_response=str(rng.choice([*RESPONSES, "pd"])))
                last = max(last, start)
            if rng.random() < 0.3:
                second = last + int(rng.integers(1, 200))
                b.event(pid, plus(d0, second))
                last = second
        end = last + int(rng.integers(0, 300))
        death = plus(d0, end) if rng.random() < 0.4 else None
        b.vital(pid, plus(d0, end), death=death)
    return b.build()


def _shuffled(tables: RegistryTables, seed: int) -> RegistryTables:
    rng = np.random.default_rng(seed)
    frames = {}
    for name in RegistryTables.__dataclass_fields__:
        frame = tables.table(name)
        frames[name] = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    return RegistryTables.from_frames(frames)


@pytest.fixture(scope="module", params=[1, 2, 3])
def pair(request: pytest.FixtureRequest) -> tuple[EndpointsResult, EndpointsResult]:
    tables = _random_registry(request.param)
    return derive_endpoints(tables), derive_endpoints(_shuffled(tables, request.param + 100))


def test_results_do_not_depend_on_row_order(pair: tuple[EndpointsResult, EndpointsResult]) -> None:
    a, b = pair
    left = a.table.sort_values("patient_id").reset_index(drop=True)
    right = b.table.sort_values("patient_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(left, right)
    assert a.flow.to_frame().equals(b.flow.to_frame())
    assert a.notes == b.notes


def test_endpoint_times_are_ordered_and_non_negative(pair: tuple[EndpointsResult, EndpointsResult]) -> None:
    t = pair[0].table
    assert (t["days_to_failure"].dropna() >= 0).all()
    both = t["pfs_months"].notna() & t["os_months"].notna()
    assert (t.loc[both, "pfs_months"] <= t.loc[both, "os_months"] + 1e-12).all()
    both2 = t["pfs2_months"].notna()
    assert (t.loc[both2, "pfs2_months"] <= t.loc[both2, "os2_months"] + 1e-12).all()
    failed = t["failed"].fillna(False).astype(bool)
    assert t.loc[failed, "pfs2_months"].notna().all() and t.loc[~failed, "pfs2_months"].isna().all()
    # PFS of a failure ends at the failure (deaths never precede failures here)
    assert np.allclose(t.loc[failed, "pfs_months"], t.loc[failed, "months_to_failure"], rtol=1e-12)


def test_flow_steps_are_nested_and_exclusions_add_up(pair: tuple[EndpointsResult, EndpointsResult]) -> None:
    steps = pair[0].flow.steps
    for prev, step in zip(steps, steps[1:], strict=False):
        assert 0 <= step.n <= prev.n
        assert prev.n - step.n == step.n_excluded
