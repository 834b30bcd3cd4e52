"""The methods section, written from what the run actually did (never from the paper)."""

from __future__ import annotations

from postcart.study.results import StudyResult


def methods_paragraphs(r: StudyResult) -> list[tuple[str, str]]:
    """(heading, text) pairs of the methods section."""
    m = r.methods
    c = m.conventions
    src = m.source
    lvl = int(round(100 * float(c["conf_level"])))
    b1, b2 = m.timing_boundaries_days
    flow = r.flow
    excl = "; ".join(
        f"{s.label}: {s.n}" + "".join(f" ({reason}: {k})" for reason, k in s.exclusions) for s in flow.steps
    )
    out: list[tuple[str, str]] = [
        (
            "Data",
            f"Source: {src.description}. Data cut-off: {src.cutoff or 'not recorded'}. "
            f"Data fingerprint (sha256 of the registry tables): {src.fingerprint}."
            + (f" Synthetic registry seed: {src.seed}." if src.seed is not None else "")
            + (
                f" Seed of Monte Carlo tests (used only if an exact test is infeasible): {m.seed}."
                if m.seed
                else ""
            ),
        ),
        ("Populations and exclusions", f"{excl}."),
        (
            "Endpoints",
            " ".join(
                [
                    f"Durations in months = days / {m.days_per_month:.4f}.",
                    "Failure = first progression or relapse after infusion",
                    "(stable disease is not a failure).",
                    "Failure timing, in days from infusion (D0 = day 0):",
                    f"very early 0-{b1}, early {b1 + 1}-{b2},",
                    f"late > {b2}. PFS-2 runs from failure to the next",
                    "progression/relapse or death, OS-2 from",
                    "failure to death; both are censored at the last",
                    "assessment or contact. PFS and OS run from",
                    "infusion; duration of response from the first CR/PR after CAR-T.",
                ]
            ),
        ),
        (
            "Statistical methods",
            " ".join(
                [
                    f"Profile '{m.profile}'. Kaplan-Meier estimates with",
                    f"Greenwood variance; {c['conf_type']}",
                    f"pointwise {lvl}% confidence intervals and Brookmeyer-Crowley intervals for medians",
                    f"(median rule: {c['median_rule']}). Landmark rates at",
                    "6 and 12 months are read from the KM",
                    "curve with the same transform. Groups are compared",
                    "with the log-rank test (k-1 degrees of",
                    "freedom). Cox proportional-hazards models use",
                    f"{c['ties']} ties, Wald confidence intervals and",
                    "P-values, complete cases per model; a coefficient whose",
                    "likelihood is monotone is reported as",
                    "not estimable. Continuous covariates:",
                    (", ".join(f"{name} = {how}" for name, how in m.covariate_scaling) or "none") + ".",
                    "Proportions have exact (Clopper-Pearson) confidence",
                    "intervals. Contingency tables: Pearson",
                    "chi-square without continuity correction; Fisher exact test (Freeman-Halton) for r x c",
                    f"tables. Table 1 quartiles: {m.quantile_method} sample",
                    "quantiles. Median follow-up by reverse",
                    "Kaplan-Meier. All tests are two-sided.",
                ]
            ),
        ),
        (
            "Software",
            ", ".join(f"{k} {v}" for k, v in m.software)
            + f". Run started {m.started_utc}; analysis time {m.elapsed_seconds:.1f} s.",
        ),
    ]
    if src.endpoint_config:
        out.append(("Endpoint configuration", "; ".join(f"{k} = {v}" for k, v in src.endpoint_config)))
    if src.notes:
        out.append(("Derivation notes", "; ".join(f"{k}: {v}" for k, v in src.notes)))
    return out
