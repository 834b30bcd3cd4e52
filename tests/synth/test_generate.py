"""The synthetic registry: determinism, import cleanliness, schema conformance, invariants.

Distribution checks use explicit tolerances at large n; they test the generator's invariants
(what it must never produce) and its flow, not the paper's statistics (``test_check.py`` and
``postcart synth check`` do that through the real pipeline).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from postcart.registry import check_extract
from postcart.registry.codes import COMPONENTS
from postcart.registry.schema import TABLES
from postcart.synth.generate import DEFAULT_N, generate_registry
from postcart.synth.parameters import SynthParameters

CUTOFF = pd.Timestamp("2021-04-12")


def _read(folder: Path) -> dict[str, pd.DataFrame]:
    return {t.name: pd.read_csv(folder / f"{t.name}.csv", dtype=str, keep_default_na=False) for t in TABLES}


@pytest.fixture(scope="module")
def default_extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_registry().write(tmp_path_factory.mktemp("default") / "extract")


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    folder = generate_registry(20_000, seed=7).write(tmp_path_factory.mktemp("large") / "extract")
    return _read(folder)


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    a = generate_registry(300, seed=11).write(tmp_path / "a")
    b = generate_registry(300, seed=11).write(tmp_path / "b")
    for t in TABLES:
        assert (a / f"{t.name}.csv").read_bytes() == (b / f"{t.name}.csv").read_bytes(), t.name


def test_different_seeds_give_different_registries(tmp_path: Path) -> None:
    a = generate_registry(300, seed=11).write(tmp_path / "a")
    b = generate_registry(300, seed=12).write(tmp_path / "b")
    assert (a / "vital_status.csv").read_bytes() != (b / "vital_status.csv").read_bytes()


def test_default_registry_has_680_registered_and_about_550_infused(default_extract: Path) -> None:
    tables = _read(default_extract)
    assert len(tables["patients"]) == DEFAULT_N == 680
    assert 500 <= len(tables["infusions"]) <= 600


def test_default_registry_imports_without_any_issue(default_extract: Path) -> None:
    result = check_extract(default_extract)
    assert result.ok
    assert [i.text() for i in result.issues] == []


def test_large_registry_imports_without_any_issue(tmp_path: Path) -> None:
    result = check_extract(generate_registry(5_000, seed=3).write(tmp_path / "x"))
    assert result.ok and len(result.issues) == 0


def test_every_table_has_the_schema_columns_required_values_and_codes(large: dict[str, pd.DataFrame]) -> None:
    problems: list[str] = []
    for spec in TABLES:
        frame = large[spec.name]
        if list(frame.columns) != list(spec.field_names):
            problems.append(f"{spec.name}: columns {list(frame.columns)}")
            continue
        for f in spec.fields:
            col = frame[f.name]
            if f.required and (col == "").any():
                problems.append(f"{spec.name}.{f.name}: empty required value")
            if f.kind == "code" and f.codes:
                bad = set(col[col != ""]) - set(f.codes)
                if bad:
                    problems.append(f"{spec.name}.{f.name}: codes {sorted(bad)[:3]}")
            if f.kind == "codes":
                used = {c for v in col[col != ""] for c in v.split(";")}
                if used - set(COMPONENTS):
                    problems.append(f"{spec.name}.{f.name}: components {sorted(used - set(COMPONENTS))[:3]}")
            if f.kind == "bool":
                bad = set(col[col != ""]) - {"yes", "no"}
                if bad:
                    problems.append(f"{spec.name}.{f.name}: booleans {sorted(bad)}")
    assert problems == []


def _day(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s.where(s.str.len() == 10), format="%Y-%m-%d")


def test_dates_follow_the_registry_order_rules(large: dict[str, pd.DataFrame]) -> None:
    pat = large["patients"].set_index("patient_id")
    inf = large["infusions"].set_index("patient_id")
    vs = large["vital_status"].set_index("patient_id")
    d0 = _day(inf["infusion_date"])
    assert (_day(pat["decision_date"]) <= _day(pat["registration_date"])).all()
    assert (_day(pat.loc[inf.index, "registration_date"]) <= _day(inf["lymphodepletion_date"])).all()
    assert (_day(inf["lymphodepletion_date"]) < d0).all()
    death = _day(vs["death_date"])
    last = _day(vs["last_contact_date"])
    assert (last <= CUTOFF).all()
    assert ((death.isna()) | (last == death)).all()
    for table, column in (
        ("assessments", "assessment_date"),
        ("disease_events", "event_date"),
        ("treatment_lines", "start_date"),
    ):
        t = large[table]
        when = _day(t[column]).to_numpy()
        assert (when > d0.reindex(t["patient_id"]).to_numpy()).all(), f"{table} not after D0"
        assert (when <= last.reindex(t["patient_id"]).to_numpy()).all(), f"{table} after last contact"


def test_no_failure_falls_exactly_on_day_30_or_90(large: dict[str, pd.DataFrame]) -> None:
    ev = large["disease_events"]
    first = ev.assign(d=_day(ev["event_date"])).groupby("patient_id")["d"].min()
    d0 = _day(large["infusions"].set_index("patient_id")["infusion_date"])
    days = (first - d0.reindex(first.index)).dt.days
    assert not days.isin([30, 90]).any()
    assert days.min() >= 1


def test_registrations_increase_over_the_accrual_window(large: dict[str, pd.DataFrame]) -> None:
    reg = _day(large["patients"]["registration_date"])
    assert reg.min() >= pd.Timestamp("2018-08-01") and reg.max() <= CUTOFF
    first_year = (reg < pd.Timestamp("2019-08-01")).sum()
    last_year = (reg >= pd.Timestamp("2020-04-12")).sum()
    assert last_year > 1.5 * first_year


def test_flow_and_product_shares_are_plausible_at_large_n(large: dict[str, pd.DataFrame]) -> None:
    n = len(large["patients"])
    infused = len(large["infusions"])
    assert 0.75 <= infused / n <= 0.87  # paper: 550/680 = 0.81
    axi = (large["infusions"]["product"] == "axi-cel").mean()
    assert 0.55 <= axi <= 0.72  # paper: 350/550 = 0.64


def test_lab_values_are_right_skewed_and_pet_only_after_bridging(large: dict[str, pd.DataFrame]) -> None:
    ch = large["characteristics"]
    d0 = ch[ch["timepoint"] == "d0"]
    crp = pd.to_numeric(d0["crp"], errors="coerce") * np.where(d0["crp_unit"] == "mg/dL", 10.0, 1.0)
    ferritin = pd.to_numeric(d0["ferritin"], errors="coerce")
    assert crp.mean() > 1.3 * crp.median()
    assert ferritin.mean() > 1.2 * ferritin.median()
    bridging = large["bridging"].set_index("patient_id")["bridging_type"]
    pet = d0[d0["pet_performed"] == "yes"]["patient_id"]
    assert (bridging.reindex(pet) != "none").all()
    ldh_missing = (d0["ldh"] == "").mean()
    assert 0.1 <= ldh_missing <= 0.35  # paper (b.10): 53 of 238 failures


def test_registry_starts_and_ends_within_the_window() -> None:
    reg = generate_registry(200, seed=2, cutoff=dt.date(2020, 1, 1))
    days = reg.cohort.reg_day
    assert days.max() <= (dt.date(2020, 1, 1) - dt.date(1970, 1, 1)).days


def test_partial_responders_relapse_earlier_than_complete_responders() -> None:
    # model structure: a D30 partial response that does not deepen is mostly lost by the D90
    # evaluation; complete responders relapse later and over a wider range
    c = generate_registry(20_000, seed=11).cohort
    relapsed = c.fail_rel < 10**7
    pr = c.fail_rel[relapsed & (c.resp_type == 2)]
    cr = c.fail_rel[relapsed & (c.resp_type == 3)]
    assert pr.size > 200 and cr.size > 200
    assert np.median(pr) < np.median(cr)
    assert np.percentile(cr, 95) - np.percentile(cr, 50) > np.percentile(pr, 95) - np.percentile(pr, 50)


def test_patients_with_unrecorded_response_have_no_scheduled_assessment_rows() -> None:
    reg = generate_registry(5_000, seed=12)
    unrecorded = reg.cohort.response_unrecorded & reg.cohort.infused
    assert unrecorded.sum() > 0
    assert not reg.observed.visit_recorded[unrecorded].any()


def test_d30_and_d90_evaluations_fall_before_the_nominal_day_with_the_set_probability() -> None:
    from postcart.synth.parameters import load_parameters

    params = load_parameters().replace(p_d30_eval_before=0.2, p_d90_eval_before=0.7, p_visit_missed=0.0)
    c = generate_registry(20_000, seed=13, params=params).cohort
    d30, d90 = c.visit_days[:, 0], c.visit_days[:, 1]
    assert not np.isin(d30, 30).any() and not np.isin(d90, 90).any()
    # binomial SE at n = 20,000 is 0.003: 0.02 is more than six SEs
    assert abs(np.mean(d30 < 30) - 0.2) < 0.02
    assert abs(np.mean(d90 < 90) - 0.7) < 0.02
    assert d30.min() >= 30 - 1 - 4 * 3 and d30.max() <= 30 + 1 + 4 * 3  # 1 + |N(0, 3)| days away


def test_second_progression_is_documented_after_a_detection_lag() -> None:
    import math

    from postcart.synth.model import NEVER
    from postcart.synth.parameters import load_parameters

    def cohort(delay: float):  # type: ignore[no-untyped-def]
        params = load_parameters().replace(p2_delay_days=delay)
        return generate_registry(20_000, seed=14, params=params).cohort

    c21, c0 = cohort(21.0), cohort(0.0)
    failed = c21.fail_rel < NEVER
    np.testing.assert_array_equal(failed, c0.fail_rel < NEVER)  # common random numbers
    at_eval = c21.p2_rel == c21.salvage_eval_rel
    # a progression found at the salvage's first evaluation is documented then, at least
    # 1 + 14 days after the failure
    assert (failed & at_eval).sum() > 500 and c21.p2_rel[failed & at_eval].min() >= 15
    # the same onsets (same random numbers) documented after the lag: gamma, shape 3, mean 21
    # (patients without salvage in both cohorts: for the treated, the salvage start and its
    # evaluation depend on the progression time)
    both = failed & (c21.p2_rel < 10**5) & (c0.p2_rel < 10**5)
    both &= (c21.salvage_status != 0) & (c0.salvage_status != 0)
    lag = (c21.p2_rel - c0.p2_rel)[both]
    assert both.sum() > 2_000 and lag.min() >= 0
    assert abs(lag.mean() - 21.0) < 1.0
    p_within_week = 1 - math.exp(-1) * (1 + 1 + 0.5)  # gamma(3, scale 7) CDF at 7 days: 0.080
    assert abs(np.mean(lag <= 7) - p_within_week) < 0.03


def test_a_progression_waiting_for_a_visit_is_found_when_clinically_apparent_if_earlier() -> None:
    """``symptom_lag_days``: a progression not documented on its day is documented at the next
    scheduled visit or its onset plus a gamma lag (shape 3), whichever is first. Checked on the
    same random numbers (the lag is drawn whatever its mean) against onsets documented on their
    day (both detection probabilities 0)."""
    import math

    from postcart.synth.model import NEVER
    from postcart.synth.parameters import load_parameters

    def cohort(p_wait: float, lag: float, missed: float):  # type: ignore[no-untyped-def]
        params = load_parameters().replace(
            p_detect_at_visit=p_wait,
            p_detect_relapse_at_visit=p_wait,
            symptom_lag_days=lag,
            p_visit_missed=missed,
        )
        return generate_registry(20_000, seed=15, params=params).cohort

    def next_visit(visits: np.ndarray, start: np.ndarray) -> np.ndarray:
        """The first visit on or after ``start`` (shifted like a failure on day 30/90), or NEVER."""
        nxt = np.where(visits >= start[:, None], visits, NEVER).min(axis=1)
        return np.where(np.isin(nxt, (30, 90)), nxt + 1, nxt)

    onset = cohort(0.0, 30.0, 1.0).fail_rel
    # the import's day-30/90 rule moves a documented failure on day 30 or 90 one day later:
    # leave those out, their onset is ambiguous
    known = (onset < NEVER) & ~np.isin(onset, (31, 91))

    # no scheduled visit at all: documented = onset + ceil(gamma(3, scale 10)), mean 30 + ~0.5
    c = cohort(1.0, 30.0, 1.0)
    both = known & (c.fail_rel < NEVER)
    lag = (c.fail_rel - onset)[both]
    assert both.sum() > 5_000 and lag.min() >= 1
    assert abs(lag.mean() - 30.5) < 1.0  # SE about 0.25 days
    p_within_10 = 1 - math.exp(-1) * (1 + 1 + 0.5)  # gamma(3, scale 10) CDF at 10 days: 0.080
    assert abs(np.mean(lag <= 10) - p_within_10) < 0.02

    # every visit held: documented = min(next visit on or after the onset, onset + lag)
    c = cohort(1.0, 30.0, 0.0)
    both = known & (c.fail_rel < NEVER)
    nxt = next_visit(c.visit_days[both], onset[both])
    doc = c.fail_rel[both]
    assert np.all(doc <= nxt) and np.all(doc >= onset[both])
    # both routes are taken among progressions with a visit left (about 0.54 here; a model that
    # always waits for the visit gives 0)
    has_visit = nxt < NEVER
    assert 0.3 < np.mean(doc[has_visit] < nxt[has_visit]) < 0.8
    # a lag near its upper bound: almost every such progression waits for the visit
    c = cohort(1.0, 730.0, 0.0)
    both = known & (c.fail_rel < NEVER)
    nxt = next_visit(c.visit_days[both], onset[both])
    has_visit = nxt < NEVER
    assert np.mean(c.fail_rel[both][has_visit] == nxt[has_visit]) > 0.97


def test_immunochemotherapy_effects_scale_its_own_second_progression_and_survival_after_it() -> None:
    """``b_p2_immunochemo`` and ``b_pps_immunochemo`` (session 6): on the same random numbers,
    a log-hazard effect b on a Weibull time of shape k multiplies that time by exp(-b / k), for
    patients treated with immunochemotherapy only. Direct deaths are pushed beyond any horizon,
    the documentation lag and the PD-at-evaluation route switched off, so that the second
    progression is the Weibull onset and death follows it by the post-progression survival."""
    import math

    from postcart.synth.model import CLASSES
    from postcart.synth.parameters import load_parameters

    base = load_parameters().replace(log_os2_scale_days=30.0, p2_delay_days=0.0, p_salvage_pd_eval=0.0)

    def cohort(b_p2: float, b_pps: float):  # type: ignore[no-untyped-def]
        params = base.replace(b_p2_immunochemo=b_p2, b_pps_immunochemo=b_pps)
        return generate_registry(20_000, seed=16, params=params).cohort

    a, b = cohort(0.0, 0.0), cohort(-0.5, 1.0)
    imm = CLASSES.index("immunochemotherapy")
    treated_imm = a.infused & (a.salvage_class == imm) & (b.salvage_class == imm)
    others = (a.salvage_class != imm) & (b.salvage_class != imm)
    assert treated_imm.sum() > 500
    # nobody else moves (the PD-at-evaluation logistic is off: its centre moves with the effect)
    np.testing.assert_array_equal(a.p2_rel[others], b.p2_rel[others])
    np.testing.assert_array_equal(a.death_day[others], b.death_day[others])

    # second progression: ceil(t) -> ceil(t * c) with c = exp(0.5 / k_p); from a = ceil(t),
    # a - 1 < t <= a, so c (a - 1) < ceil(t c) <= ceil(c a)
    k_p, k_pps = base["pfs2_shape"], base["pps_shape"]
    c = math.exp(0.5 / k_p)
    p2 = treated_imm & (a.p2_rel < 10**5)
    old, new = a.p2_rel[p2], b.p2_rel[p2]
    assert p2.sum() > 1000
    assert np.all(new > c * (old - 1)) and np.all(new <= np.ceil(c * old))

    # survival after it, death by lymphoma after the documented progression in both cohorts:
    # floor(pps) -> floor(pps * exp(-1 / k_pps))
    def after_p2(c):  # type: ignore[no-untyped-def]
        return c.death_day - c.inf_day - c.fail_rel - c.p2_rel

    chain = treated_imm & (a.death_cause == 0) & (b.death_cause == 0)
    chain &= (a.p2_rel < 10**4) & (b.p2_rel < 10**4)  # not at the model's clip of 10**6 days
    chain &= (after_p2(a) < 10**5) & (after_p2(b) < 10**5)
    old, new = after_p2(a)[chain], after_p2(b)[chain]
    assert chain.sum() > 500 and old.max() > 100
    # floor(s) -> floor(s * c) with c = exp(-1 / k_pps): floor(c old) <= new < c (old + 1)
    c = math.exp(-1.0 / k_pps)
    assert np.all(new >= np.floor(c * old)) and np.all(new < c * (old + 1))


def test_lenalidomide_survival_effect_after_a_second_progression_scales_only_its_own() -> None:
    """``b_pps_lenalidomide`` (session 7): a log-hazard effect b on the Weibull survival after a
    second progression (shape k) multiplies it by exp(-b / k), for patients treated with
    lenalidomide only; their second progressions and everybody else's histories do not move.
    Same set-up as the immunochemotherapy test: no direct deaths, no documentation lag, no
    PD-at-evaluation route."""
    import math

    from postcart.synth.model import CLASSES
    from postcart.synth.parameters import load_parameters

    base = load_parameters().replace(log_os2_scale_days=30.0, p2_delay_days=0.0, p_salvage_pd_eval=0.0)
    a = generate_registry(20_000, seed=18, params=base.replace(b_pps_lenalidomide=0.0)).cohort
    b = generate_registry(20_000, seed=18, params=base.replace(b_pps_lenalidomide=0.8)).cohort
    lenalidomide = CLASSES.index("lenalidomide")
    len_ = (a.salvage_class == lenalidomide) & (b.salvage_class == lenalidomide)
    others = (a.salvage_class != lenalidomide) & (b.salvage_class != lenalidomide)
    # the only patients in neither set: drawn lenalidomide, dead before its start in one cohort
    # (a second progression on day 1 and a survival after it of under a day)
    assert (~len_ & ~others).sum() <= 5
    assert len_.sum() > 1000
    np.testing.assert_array_equal(a.p2_rel[len_ | others], b.p2_rel[len_ | others])
    np.testing.assert_array_equal(a.death_day[others], b.death_day[others])

    after_a = a.death_day - a.inf_day - a.fail_rel - a.p2_rel
    after_b = b.death_day - b.inf_day - b.fail_rel - b.p2_rel
    chain = len_ & a.infused & (a.death_cause == 0) & (b.death_cause == 0) & (a.p2_rel < 10**4)
    chain &= (after_a < 10**5) & (after_b < 10**5)  # not at the model's clip of 10**6 days
    old, new = after_a[chain], after_b[chain]
    assert chain.sum() > 500 and old.max() > 100
    # floor(s) -> floor(s * c) with c = exp(-0.8 / k_pps): floor(c old) <= new < c (old + 1)
    c = math.exp(-0.8 / base["pps_shape"])
    assert np.all(new >= np.floor(c * old)) and np.all(new < c * (old + 1))
    assert np.mean(new < old) > 0.9

    # with direct deaths on (the committed parameters): a lenalidomide patient who dies before
    # any second progression dies on the same day, so the effect does not reach the direct death
    full = load_parameters()
    a = generate_registry(20_000, seed=18, params=full.replace(b_pps_lenalidomide=0.0)).cohort
    b = generate_registry(20_000, seed=18, params=full.replace(b_pps_lenalidomide=0.8)).cohort
    direct = (a.salvage_class == lenalidomide) & (b.salvage_class == lenalidomide) & a.infused
    direct &= (a.death_cause == 0) & (a.death_day - a.inf_day - a.fail_rel < a.p2_rel)
    assert direct.sum() > 200
    np.testing.assert_array_equal(a.death_day[direct], b.death_day[direct])


def test_lenalidomide_evaluation_effect_lowers_only_its_progressions_found_at_evaluation() -> None:
    """``b_eval_lenalidomide`` (session 6): a log-odds effect on a progression found at the first
    salvage evaluation, for lenalidomide only. On the same uniforms the logistic is monotone, so
    a lower effect can only remove lenalidomide patients' progressions found at the evaluation;
    the logistic is centred on the failures' mean, so the other classes' can only be added."""
    from postcart.synth.model import CLASSES
    from postcart.synth.parameters import load_parameters

    base = load_parameters()

    def found_at_eval(b: float):  # type: ignore[no-untyped-def]
        c = generate_registry(20_000, seed=17, params=base.replace(b_eval_lenalidomide=b)).cohort
        treated = c.infused & (c.salvage_status == 0)
        return treated, c.salvage_class, treated & (c.p2_rel == c.salvage_eval_rel)

    treated, cls, at_0 = found_at_eval(0.0)
    treated_b, cls_b, at_b = found_at_eval(-1.5)
    np.testing.assert_array_equal(treated, treated_b)  # the latent times do not move
    np.testing.assert_array_equal(cls, cls_b)
    len_ = treated & (cls == CLASSES.index("lenalidomide"))
    other = treated & ~len_
    assert not np.any(at_b & ~at_0 & len_)  # lenalidomide: only removed
    assert not np.any(at_0 & ~at_b & other)  # the others: only added
    assert at_b[len_].mean() < 0.8 * at_0[len_].mean()
    assert at_b[other].mean() > at_0[other].mean()


def _largest_3_day_share_of_pfs2_events(params: SynthParameters) -> tuple[int, float]:
    from postcart.synth.model import NEVER

    c = generate_registry(20_000, seed=21, params=params).cohort
    failed = (c.fail_rel < NEVER) & c.infused
    death_after_failure = c.death_day[failed] - c.inf_day[failed] - c.fail_rel[failed]
    event = np.minimum(c.p2_rel[failed], death_after_failure)
    per_day = np.bincount(np.clip(event, 0, 400), minlength=401)[:400] / failed.sum()
    window = np.convolve(per_day, np.ones(3), "valid")
    return int(np.argmax(window)), float(window.max())


def test_second_progressions_do_not_pile_up_on_any_day_after_failure() -> None:
    """Guards the defect of sessions 1-2: the calibration drove the latent PFS-2 hazard to a
    switch (LDH log-HR 7.9, ferritin 0.19 per 100 ug/L), and 11 % of the failures progressed on
    days 15-17 (a cliff in Figure 2). The bounded coefficients keep every 3-day window of PFS-2
    events (progression or death) below 4 % of the failures (2.8 % with the committed
    parameters, on days 0-2: deaths on the day of failure)."""
    from postcart.synth.parameters import load_parameters

    day, share = _largest_3_day_share_of_pfs2_events(load_parameters())
    assert share < 0.04, f"{100 * share:.1f}% of the failures have their PFS-2 event on days {day}-{day + 2}"
    # the check can fail: the switch of sessions 1-2 (its values exceed today's bounds, so they
    # are set directly) still piles up ~5 % in one 3-day window two to three weeks after failure,
    # even with the detection lag that spreads it (11 % on days 15-17 with session 2's fixed shift)
    switch = load_parameters().values | {
        "log_pfs2_scale_days": 11.7,
        "b_p2_ldh": 7.9,
        "b_p2_ferritin": 0.185,
        "b_p2_very_early": -3.9,
        "b_p2_lenalidomide": -3.8,
        "b_p2_bispecific": -4.5,
        "b_p2_rt_localized": -4.0,
        "b_p2_untreated": -2.7,
    }
    day_s, share_s = _largest_3_day_share_of_pfs2_events(SynthParameters(values=switch, meta={}))
    assert share_s > 0.04 and 7 <= day_s <= 30


def test_loss_to_follow_up_after_failure_shortens_only_the_failures_follow_up() -> None:
    """``ltfu_after_failure_per_year``: an exponential loss whose clock starts after a fresh
    draw of the salvage delay plus evaluation lag, all from its own random numbers.
    Hand-worked check: a failure still followed t years after that start without the extra
    loss is lost within them with probability 1 - exp(-rate * t)."""
    import math

    from postcart.synth.model import NEVER, simulate_cohort
    from postcart.synth.parameters import load_parameters

    base = load_parameters().replace(ltfu_after_failure_per_year=0.0)
    a = simulate_cohort(base, 100_000, np.random.default_rng(5))
    b = simulate_cohort(base.replace(ltfu_after_failure_per_year=1.2), 100_000, np.random.default_rng(5))
    failed = a.infused & (a.fail_rel < NEVER)
    np.testing.assert_array_equal(failed, b.infused & (b.fail_rel < NEVER))
    np.testing.assert_array_equal(a.last_contact_day[~failed], b.last_contact_day[~failed])
    assert (b.last_contact_day <= a.last_contact_day).all()
    fail_day = a.inf_day + np.where(failed, a.fail_rel, 0)
    treated = failed & (a.salvage_status == 0)
    clock = fail_day + a.loss_clock_rel
    np.testing.assert_array_equal(a.loss_clock_rel, b.loss_clock_rel)
    # the clock's start is a fresh salvage delay plus evaluation lag: its mean is the sum of
    # the two gamma means (rounding and the 14-day floor move it by < 0.1 day) and it is
    # uncorrelated with the patient's own evaluation date (independent censoring)
    clock_rel = a.loss_clock_rel[failed].astype(float)
    expected_mean = base["salvage_delay_days"] + base["eval_lag_days"]
    assert abs(clock_rel.mean() - expected_mean) < 4 * clock_rel.std() / math.sqrt(clock_rel.size)
    own = a.salvage_eval_rel[treated].astype(float)
    assert treated.sum() > 10_000
    assert abs(np.corrcoef(a.loss_clock_rel[treated], own)[0, 1]) < 4 / math.sqrt(own.size)
    # nobody alive is lost to the extra hazard before the clock starts; a death no longer
    # observed is bounded by the reporting lag instead, so it is left out here
    alive = failed & ~a.dead_observed
    assert (b.last_contact_day[alive] >= np.minimum(a.last_contact_day, clock)[alive]).all()
    # failures die fast: windows of half a year (treated) and a quarter (untreated) leave enough
    for group, days in ((treated, 182), (failed & ~treated, 91)):
        followed = group & ~a.dead_observed & (a.last_contact_day > clock + days)
        lost = b.last_contact_day[followed] < clock[followed] + days
        expected = 1 - math.exp(-1.2 * days / 365.25)  # 0.450 in half a year, 0.258 in a quarter
        se = math.sqrt(expected * (1 - expected) / followed.sum())
        assert followed.sum() > 700 and abs(lost.mean() - expected) < 4 * se, (lost.mean(), followed.sum())


@pytest.mark.parametrize(
    "loss_after_failure", [0.0, 1.5], ids=["no-loss-after-failure", "loss-after-failure-1.5"]
)
def test_km_of_the_derived_endpoints_recovers_the_latent_truth_without_reporting_lag(
    loss_after_failure: float,
) -> None:
    # an end-to-end check with a known answer: the synthetic cohort's latent OS-2 and PFS-2 of
    # the observed failures, against the Kaplan-Meier estimates of the production pipeline
    # (extract -> import -> endpoints -> study). With the reporting lag at 0 the censoring is
    # independent of the outcome, so KM must be unbiased: with ~7,000 failures the SE of a
    # 6- or 12-month estimate is about 0.6-1 point; the tolerance is 2 points. A heavy loss to
    # follow-up after failure (1.5 per year, from a clock drawn independently of the patient's
    # own dates) is also independent censoring: KM must stay unbiased through the derivation.
    # (A clock that started at the patient's own salvage evaluation made PFS-2 at 12 months
    # 2-3 points too high, because a progression found at that evaluation shares its date.)
    from postcart.synth.check import analyse_registry
    from postcart.synth.observe import observe
    from postcart.synth.parameters import load_parameters

    params = load_parameters().replace(reporting_lag_days=0.0, ltfu_after_failure_per_year=loss_after_failure)
    reg = generate_registry(680 * 30, seed=3, params=params)
    _endpoints, study, _ = analyse_registry(reg)
    c, obs = reg.cohort, observe(reg.cohort)
    failed = obs.failed
    assert failed.sum() > 5_000
    month = 365.25 / 12
    os2 = (c.death_day - obs.failure_day)[failed]
    pfs2 = np.minimum(c.p2_rel, c.death_day - obs.failure_day)[failed]
    truth = {
        "surv_os2_6m": 100 * np.mean(os2 > 6 * month),
        "surv_os2_12m": 100 * np.mean(os2 > 12 * month),
        "surv_pfs2_event_6m": 100 * np.mean(pfs2 <= 6 * month),
        "surv_pfs2_event_12m": 100 * np.mean(pfs2 <= 12 * month),
    }
    for key, value in truth.items():
        assert abs(study.targets[key].value - value) < 2.0, (key, study.targets[key].value, value)
