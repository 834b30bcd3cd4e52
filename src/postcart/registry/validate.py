"""Validation of an extract: every rule, vectorized with pandas, all issues collected.

Input: one *raw* frame per table (every cell a ``str``, ``""`` when empty, index = 0-based
position of the data row in its file). Output: the typed frames of ``postcart.registry.tables``
and every :class:`~postcart.registry.issues.ValidationIssue` found.

Rules (ids as reported; ``docs/registry.md`` has an example message for each):

=========================== ===============================================================
``required``                a required field is empty
``int`` / ``number``        not a whole number / not a number
``bool``                    not yes/no (true/false, 1/0, y/n)
``date``                    not an ISO date ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``
``code``                    not one of the allowed codes of the field
``pattern``                 text does not match the field's pattern (ids, country codes)
``range``                   number outside its allowed range (after unit conversion)
``unit_missing``            a value with a unit column is given without its unit
``duplicate_key``           two rows of a table have the same key
``reference``               a patient or centre that is not in its table
``extract_rows``            the extract table does not have exactly one row
``date_order``              dates of one row in the wrong order (lymphodepletion after
                            infusion; treatment line ending before it starts)
``decision_before_infusion`` infusion before the decision to treat
``requires_infusion``       post-infusion data for a patient with no infusion
``after_infusion``          assessment, disease event or treatment line before D0
``death_after_events``      death before another dated event of the patient
``last_contact_not_after_death`` last contact after death
``last_contact_after_events``    last contact before another dated event (death excepted)
``after_cutoff`` (warning)  a date after the extract's data cut-off
=========================== ===============================================================

Partial dates are compared at the coarser precision of the two: ``2021-03`` is compatible with
``2021-03-05`` in both directions, so an order rule only fails when the order is certainly
wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from postcart.registry import codes as codes_mod
from postcart.registry.issues import Severity, ValidationIssue
from postcart.registry.schema import TABLES, TABLES_BY_NAME, FieldSpec, TableSpec
from postcart.registry.tables import frame_columns

TRUE_WORDS = frozenset({"yes", "true", "1", "y"})
FALSE_WORDS = frozenset({"no", "false", "0", "n"})
_DATE_RE = r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$"
_INT_RE = r"^[+-]?\d+$"
LEVEL_NAMES: tuple[str, ...] = ("day", "month", "year")

#: Date fields that are plans, not events: excluded from the cross-table order rules.
NOT_EVENT_DATES: frozenset[tuple[str, str]] = frozenset(
    {("assessments", "planned_date"), ("extract", "data_cutoff")}
)
#: Tables whose rows only exist for infused patients.
POST_INFUSION_TABLES: tuple[str, ...] = ("assessments", "toxicities", "disease_events", "treatment_lines")
#: Dates that must not be before D0.
AFTER_INFUSION_DATES: tuple[tuple[str, str], ...] = (
    ("assessments", "assessment_date"),
    ("disease_events", "event_date"),
    ("treatment_lines", "start_date"),
)


@dataclass(frozen=True, slots=True)
class RawTable:
    """A table as read from its file: every cell a stripped ``str`` (``""`` when empty)."""

    spec: TableSpec
    file: str
    data: pd.DataFrame
    #: Whether row numbers mean something (false for tables read back from the database).
    numbered: bool = True

    def where(self, rows: pd.Series) -> pd.Series:
        """`` (file row N)`` for each row label in ``rows`` (or `` (file)`` when not numbered)."""
        if not self.numbered:
            return pd.Series(f" ({self.file})", index=rows.index, dtype=object)
        return f" ({self.file} row " + rows.astype(str) + ")"


class _Collector:
    """Collects issues; builds them only for the flagged rows."""

    def __init__(self) -> None:
        self.issues: list[ValidationIssue] = []

    def add_rows(
        self,
        raw: RawTable,
        mask: pd.Series | npt.NDArray[np.bool_],
        *,
        field: str | None,
        rule: str,
        message: str | pd.Series,
        value: pd.Series | None = None,
        severity: Severity = "error",
    ) -> None:
        """One issue per flagged row; ``message`` may be a per-row Series."""
        m = np.asarray(mask, dtype=bool)
        if not m.any():
            return
        idx = raw.data.index[m]
        msgs: list[str] = (
            [message] * len(idx) if isinstance(message, str) else [str(x) for x in message.loc[idx]]
        )
        self.emit(raw, idx, field=field, rule=rule, messages=msgs, value=value, severity=severity)

    def emit(
        self,
        raw: RawTable,
        idx: pd.Index,
        *,
        field: str | None,
        rule: str,
        messages: list[str],
        value: pd.Series | None = None,
        severity: Severity = "error",
    ) -> None:
        """One issue per index label of ``raw.data`` in ``idx``."""
        data = raw.data
        pids = data["patient_id"] if "patient_id" in data.columns else None
        if value is None and field is not None and field in data.columns:
            value = data[field]
        for i, msg in zip(idx, messages, strict=True):
            v = None if value is None else value.loc[i]
            pid = None if pids is None else (pids.loc[i] or None)
            self.issues.append(
                ValidationIssue(
                    file=raw.file,
                    row=int(i) + 2,
                    patient_id=pid,
                    field=field,
                    value=(str(v) if v is not None and v != "" else None),
                    rule=rule,
                    message=msg,
                    severity=severity,
                )
            )


def _allowed_text(allowed: tuple[str, ...]) -> str:
    if len(allowed) <= 12:
        return ", ".join(allowed)
    return "see docs/data-dictionary.md"


def _fmt_num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _range_text(f: FieldSpec) -> str:
    unit = f" {f.unit}" if f.unit else ""
    lo, hi = f.minimum, f.maximum
    if lo is not None and hi is not None:
        return f"{_fmt_num(lo)} to {_fmt_num(hi)}{unit}"
    if lo is not None:
        return f">= {_fmt_num(lo)}{unit}"
    return f"<= {_fmt_num(hi)}{unit}" if hi is not None else ""


def _factorize(s: pd.Series) -> tuple[npt.NDArray[np.intp], pd.Series]:
    """Codes and unique values of a text column: rules run once per distinct value."""
    codes, uniques = pd.factorize(s)
    return np.asarray(codes, dtype=np.intp), pd.Series(np.asarray(uniques, dtype=object), dtype=object)


def _expand(values: pd.Series, codes: npt.NDArray[np.intp], index: pd.Index) -> pd.Series:
    """Per-unique results back to one value per row."""
    return values.take(codes).set_axis(index)


def _parse_unique_dates(u: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    present = u != ""
    parts = u.str.extract(_DATE_RE)
    y, m, d = parts[0], parts[1], parts[2]
    full = y + "-" + m.fillna("01") + "-" + d.fillna("01")
    dates = pd.to_datetime(full, format="%Y-%m-%d", errors="coerce").astype("datetime64[ns]")
    invalid = present & dates.isna()
    precision = pd.Series(
        np.where(d.notna(), "day", np.where(m.notna(), "month", "year")), index=u.index, dtype=object
    )
    return dates, precision.where(dates.notna(), None), invalid


def parse_dates(s: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse ISO (possibly partial) dates.

    Returns ``(dates, precision, invalid)``: ``datetime64[ns]`` (first day of the period),
    precision names (``None`` when missing or invalid), and a mask of non-empty invalid cells.
    """
    codes, u = _factorize(s)
    dates, precision, invalid = _parse_unique_dates(u)
    return (
        _expand(dates, codes, s.index),
        _expand(precision, codes, s.index),
        _expand(invalid.astype(bool), codes, s.index),
    )


def _split_codes(v: str) -> tuple[str, ...]:
    return tuple(p for p in (x.strip() for x in v.split(";")) if p)


def _parse_field(raw: RawTable, f: FieldSpec, out: dict[str, pd.Series], col: _Collector) -> None:
    s = raw.data[f.name]
    present = s != ""
    if f.required:
        col.add_rows(raw, ~present, field=f.name, rule="required", message="is required but empty")
    kind = f.kind
    if kind == "date":
        dates, precision, invalid = parse_dates(s)
        col.add_rows(
            raw,
            invalid,
            field=f.name,
            rule="date",
            message="is not a valid date (use YYYY-MM-DD, YYYY-MM or YYYY)",
        )
        out[f.name] = dates
        out[f"{f.name}_precision"] = precision
        return
    if kind == "code":
        ok = s.isin(f.codes)
        col.add_rows(
            raw,
            present & ~ok,
            field=f.name,
            rule="code",
            message=f"is not an allowed code (allowed: {_allowed_text(f.codes)})",
        )
        out[f.name] = s.where(present & ok, None).astype(object)
        return
    codes, u = _factorize(s)
    u_present = u != ""
    if kind == "int":
        u_ok = u.str.fullmatch(_INT_RE).astype(bool)
        bad = _expand(u_present & ~u_ok, codes, s.index)
        col.add_rows(raw, bad, field=f.name, rule="int", message="is not a whole number")
        u_ints = pd.to_numeric(u.where(u_ok, None), errors="coerce").astype("Int64")
        ints = _expand(u_ints, codes, s.index)
        _check_range(raw, f, ints.astype("float64"), col)
        out[f.name] = ints
        return
    if kind == "float":
        u_floats = pd.to_numeric(u.where(u_present, None), errors="coerce").astype("float64")
        u_bad = u_present & ~np.isfinite(u_floats.to_numpy(dtype="float64", na_value=np.nan))
        col.add_rows(
            raw, _expand(u_bad, codes, s.index), field=f.name, rule="number", message="is not a number"
        )
        floats = _expand(u_floats.where(~u_bad, np.nan), codes, s.index)
        _check_range(raw, f, floats, col)
        out[f.name] = floats
        return
    if kind == "bool":
        low = u.str.lower()
        u_true = low.isin(TRUE_WORDS)
        u_false = low.isin(FALSE_WORDS)
        bad = _expand(u_present & ~u_true & ~u_false, codes, s.index)
        col.add_rows(raw, bad, field=f.name, rule="bool", message="is not yes or no")
        u_vals = pd.Series(pd.NA, index=u.index, dtype="boolean")
        u_vals[u_true] = True
        u_vals[u_false] = False
        out[f.name] = _expand(u_vals, codes, s.index)
        return
    if kind == "codes":
        allowed = set(f.codes)
        u_tuples = pd.Series([_split_codes(v) for v in u], index=u.index, dtype=object)
        u_unknown = [[c for c in t if c not in allowed] for t in u_tuples]
        if any(u_unknown):
            u_msg = pd.Series(
                [
                    "contains unknown code(s) "
                    + ", ".join(repr(c) for c in unknown)
                    + f" (allowed: {_allowed_text(f.codes)})"
                    for unknown in u_unknown
                ],
                index=u.index,
                dtype=object,
            )
            u_bad = pd.Series([bool(x) for x in u_unknown], index=u.index)
            col.add_rows(
                raw,
                _expand(u_bad, codes, s.index),
                field=f.name,
                rule="code",
                message=_expand(u_msg, codes, s.index),
            )
        out[f.name] = _expand(u_tuples, codes, s.index)
        return
    # free text
    if f.pattern is not None:
        ok = _expand(u.str.fullmatch(f.pattern).astype(bool), codes, s.index)
        col.add_rows(
            raw,
            present & ~ok,
            field=f.name,
            rule="pattern",
            message=f"does not match the pattern {f.pattern}",
        )
    out[f.name] = s.where(present, None).astype(object)


def _check_range(raw: RawTable, f: FieldSpec, nums: pd.Series, col: _Collector) -> None:
    if f.minimum is None and f.maximum is None and f.unit_field is None:
        return
    values = nums.copy()
    factor = pd.Series(1.0, index=nums.index)
    unit_text = pd.Series("", index=nums.index, dtype=object)
    if f.unit_field is not None:
        unit = raw.data[f.unit_field]
        missing_unit = nums.notna() & (unit == "")
        spec = TABLES_BY_NAME[raw.spec.name].field(f.unit_field)
        col.add_rows(
            raw,
            missing_unit,
            field=f.name,
            rule="unit_missing",
            message=f"is given without its unit: {f.unit_field} is empty (allowed: {', '.join(spec.codes)})",
        )
        factor = unit.map(codes_mod.UNIT_FACTORS).astype("float64")
        values = nums * factor
        unit_text = unit
    lo = -np.inf if f.minimum is None else f.minimum
    hi = np.inf if f.maximum is None else f.maximum
    out_of = values.notna() & ((values < lo) | (values > hi))
    if not out_of.any():
        return
    allowed = _range_text(f)
    if f.unit_field is not None:
        converted = values.map(lambda v: "" if pd.isna(v) else _fmt_num(round(float(v), 6)))
        msg = (
            "is out of range: "
            + raw.data[f.name]
            + " "
            + unit_text.astype(str)
            + " = "
            + converted
            + f" {f.unit}, allowed {allowed}"
        )
        col.add_rows(raw, out_of, field=f.name, rule="range", message=msg)
    else:
        col.add_rows(raw, out_of, field=f.name, rule="range", message=f"is out of range (allowed {allowed})")


def parse_table(raw: RawTable) -> tuple[pd.DataFrame, list[ValidationIssue]]:
    """Type one raw table and check its field-level rules and its key.

    Returns the typed frame (invalid cells become missing) and the issues.
    """
    col = _Collector()
    out: dict[str, pd.Series] = {}
    for f in raw.spec.fields:
        _parse_field(raw, f, out, col)
    frame = pd.DataFrame(out, index=raw.data.index)[frame_columns(raw.spec)]
    _check_duplicates(raw, frame, col)
    return frame, col.issues


def _check_duplicates(raw: RawTable, frame: pd.DataFrame, col: _Collector) -> None:
    key = list(raw.spec.key)
    complete = frame[key].notna().all(axis=1)
    sub = frame.loc[complete, key]
    dup = sub.duplicated(keep=False)
    if not dup.any():
        return
    dups = sub[dup]
    first_row = (
        pd.Series(dups.index, index=dups.index).groupby([dups[k] for k in key], sort=False).transform("min")
    )
    later = first_row.index != first_row.to_numpy()
    mask = raw.data.index.isin(first_row.index[later])
    msg = pd.Series("", index=raw.data.index, dtype=object)
    msg.loc[first_row.index[later]] = f"duplicates the key ({', '.join(key)}) of row " + (
        first_row[later] + 2
    ).astype(str)
    col.add_rows(raw, mask, field=None, rule="duplicate_key", message=msg)


# --------------------------------------------------------------------------- cross-table rules


def _level(precision: pd.Series) -> npt.NDArray[np.int64]:
    return np.asarray(precision.map({"day": 0, "month": 1, "year": 2}).fillna(0), dtype=np.int64)


def _keys(dates: pd.Series) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    d = dates.to_numpy(dtype="datetime64[ns]")
    days = d.astype("datetime64[D]").astype(np.int64)
    months = d.astype("datetime64[M]").astype(np.int64)
    years = d.astype("datetime64[Y]").astype(np.int64)
    return days, months, years


def certainly_before(
    a: pd.Series, a_prec: pd.Series, b: pd.Series, b_prec: pd.Series
) -> npt.NDArray[np.bool_]:
    """Element-wise: is date ``a`` certainly before date ``b``?

    Both are compared at the coarser of their precisions; missing dates give ``False``.
    """
    la, lb = _level(a_prec), _level(b_prec)
    coarse = np.maximum(la, lb)
    ad, am, ay = _keys(a)
    bd, bm, by = _keys(b)
    ka = np.where(coarse == 0, ad, np.where(coarse == 1, am, ay))
    kb = np.where(coarse == 0, bd, np.where(coarse == 1, bm, by))
    valid = a.notna().to_numpy() & b.notna().to_numpy()
    return valid & (ka < kb)


def _date_text(d: pd.Series, p: pd.Series) -> pd.Series:
    full = d.dt.strftime("%Y-%m-%d")
    return pd.Series(
        np.where(p == "year", full.str[:4], np.where(p == "month", full.str[:7], full)), index=d.index
    ).where(d.notna(), "")


@dataclass(frozen=True, slots=True)
class _Cross:
    raws: dict[str, RawTable]
    frames: dict[str, pd.DataFrame]


def _row_date_order(cx: _Cross, col: _Collector) -> None:
    for spec in TABLES:
        order = spec.date_order
        raw, fr = cx.raws[spec.name], cx.frames[spec.name]
        for early, late in zip(order, order[1:], strict=False):
            bad = certainly_before(fr[late], fr[f"{late}_precision"], fr[early], fr[f"{early}_precision"])
            msg = f"is after {late} " + ("'" + raw.data[late] + "'") + " of the same row"
            col.add_rows(raw, bad, field=early, rule="date_order", message=msg)


def _with_patient(cx: _Cross, table: str, other: str, fields: Iterable[str]) -> pd.DataFrame:
    """Rows of ``table`` (same index) with fields of ``other`` (one row per patient) as ``o_*``.

    ``o_row`` is the file row of the matched row of ``other``.
    """
    fr = cx.frames[table]
    o = cx.frames[other]
    cols: list[str] = []
    for f in fields:
        cols += [f, f"{f}_precision"]
    o = o.loc[o["patient_id"].notna()].drop_duplicates("patient_id")
    right = pd.DataFrame({f"o_{c}": o[c].to_numpy() for c in cols})
    right["o_row"] = o.index.to_numpy()
    right["patient_id"] = o["patient_id"].to_numpy()
    merged = fr[["patient_id"]].reset_index(names="_pos").merge(right, on="patient_id", how="left")
    merged.index = pd.Index(merged["_pos"].to_numpy())
    for c in cols:
        if c.endswith("_precision"):
            continue
        merged[f"o_{c}"] = merged[f"o_{c}"].astype("datetime64[ns]")
    return pd.concat([fr.drop(columns=["patient_id"]), merged], axis=1)


def _infusion_rules(cx: _Cross, col: _Collector) -> None:
    inf_raw = cx.raws["infusions"]
    m = _with_patient(cx, "infusions", "patients", ["decision_date"])
    bad = certainly_before(
        m["infusion_date"], m["infusion_date_precision"], m["o_decision_date"], m["o_decision_date_precision"]
    )
    msg = (
        "is before the decision date "
        + _date_text(m["o_decision_date"], m["o_decision_date_precision"])
        + cx.raws["patients"].where(m["o_row"].astype("Int64") + 2)
    )
    col.add_rows(inf_raw, bad, field="infusion_date", rule="decision_before_infusion", message=msg)
    patients = set(cx.frames["patients"]["patient_id"].dropna())
    infused = set(cx.frames["infusions"]["patient_id"].dropna())
    for table in POST_INFUSION_TABLES:
        raw = cx.raws[table]
        pid = cx.frames[table]["patient_id"]
        no_inf = pid.notna() & pid.isin(patients) & ~pid.isin(infused)
        col.add_rows(
            raw,
            no_inf,
            field="patient_id",
            rule="requires_infusion",
            message=f"has no row in {inf_raw.file}, so cannot have {table} rows (they follow the infusion)",
        )
    for table, field in AFTER_INFUSION_DATES:
        raw = cx.raws[table]
        m = _with_patient(cx, table, "infusions", ["infusion_date"])
        bad = certainly_before(
            m[field], m[f"{field}_precision"], m["o_infusion_date"], m["o_infusion_date_precision"]
        )
        msg = (
            "is before the infusion date (D0) "
            + _date_text(m["o_infusion_date"], m["o_infusion_date_precision"])
            + inf_raw.where(m["o_row"].astype("Int64") + 2)
        )
        col.add_rows(raw, bad, field=field, rule="after_infusion", message=msg)


def _event_dates(cx: _Cross) -> tuple[pd.DataFrame, list[tuple[RawTable, str]]]:
    """Every dated event of every patient, long: patient, date, precision, and where it is from
    (``src`` indexes the returned list of (table, field); ``pos`` is the row's label)."""
    parts: list[pd.DataFrame] = []
    sources: list[tuple[RawTable, str]] = []
    for spec in TABLES:
        if spec.name in ("vital_status", "extract", "centres"):
            continue
        fr = cx.frames[spec.name]
        raw = cx.raws[spec.name]
        for f in spec.fields:
            if f.kind != "date" or (spec.name, f.name) in NOT_EVENT_DATES:
                continue
            sub = fr.loc[
                fr[f.name].notna() & fr["patient_id"].notna(), ["patient_id", f.name, f"{f.name}_precision"]
            ]
            if sub.empty:
                continue
            parts.append(
                pd.DataFrame(
                    {
                        "patient_id": sub["patient_id"].to_numpy(),
                        "date": sub[f.name].to_numpy(),
                        "precision": sub[f"{f.name}_precision"].to_numpy(),
                        "src": len(sources),
                        "pos": sub.index.to_numpy(),
                    }
                )
            )
            sources.append((raw, f.name))
    if not parts:
        empty = pd.DataFrame(
            {
                "patient_id": pd.Series([], dtype=object),
                "date": pd.Series([], dtype="datetime64[ns]"),
                "precision": pd.Series([], dtype=object),
                "src": pd.Series([], dtype=np.int64),
                "pos": pd.Series([], dtype=np.int64),
            }
        )
        return empty, sources
    return pd.concat(parts, ignore_index=True), sources


def _vital_rules(cx: _Cross, col: _Collector) -> None:
    raw = cx.raws["vital_status"]
    vs = cx.frames["vital_status"]
    # last contact not after death
    bad = certainly_before(
        vs["death_date"],
        vs["death_date_precision"],
        vs["last_contact_date"],
        vs["last_contact_date_precision"],
    )
    col.add_rows(
        raw,
        bad,
        field="last_contact_date",
        rule="last_contact_not_after_death",
        message="is after the death date " + _date_text(vs["death_date"], vs["death_date_precision"]),
    )
    events, sources = _event_dates(cx)
    vsp = vs.loc[vs["patient_id"].notna()].assign(_pos=lambda x: x.index)
    m = events.merge(vsp, on="patient_id", how="inner")
    for field, rule in (
        ("death_date", "death_after_events"),
        ("last_contact_date", "last_contact_after_events"),
    ):
        bad = certainly_before(m[field], m[f"{field}_precision"], m["date"], m["precision"])
        if not bad.any():
            continue
        hits = m.loc[bad]
        col.emit(
            raw,
            pd.Index(hits["_pos"].to_numpy()),
            field=field,
            rule=rule,
            messages=[
                f"is before {sources[src][1]} {sources[src][0].data.loc[pos, sources[src][1]]!r} "
                f"in {sources[src][0].file}" + (f" row {int(pos) + 2}" if sources[src][0].numbered else "")
                for src, pos in zip(hits["src"], hits["pos"], strict=True)
            ],
        )


def _cutoff_rule(cx: _Cross, col: _Collector) -> None:
    ex = cx.frames["extract"]
    if len(ex) != 1 or ex["data_cutoff"].isna().iloc[0]:
        return
    cut = ex["data_cutoff"].iloc[0]
    cut_p = ex["data_cutoff_precision"].iloc[0]
    cut_text = _date_text(ex["data_cutoff"], ex["data_cutoff_precision"]).iloc[0]
    for spec in TABLES:
        if spec.name == "extract":
            continue
        fr, raw = cx.frames[spec.name], cx.raws[spec.name]
        for f in spec.fields:
            if f.kind != "date" or (spec.name, f.name) in NOT_EVENT_DATES:
                continue
            n = len(fr)
            after = certainly_before(
                pd.Series([cut] * n, index=fr.index, dtype="datetime64[ns]"),
                pd.Series([cut_p] * n, index=fr.index, dtype=object),
                fr[f.name],
                fr[f"{f.name}_precision"],
            )
            col.add_rows(
                raw,
                after,
                field=f.name,
                rule="after_cutoff",
                message=f"is after the data cut-off {cut_text}",
                severity="warning",
            )


def _reference_rules(cx: _Cross, col: _Collector) -> None:
    patients = set(cx.frames["patients"]["patient_id"].dropna())
    centres = set(cx.frames["centres"]["centre_id"].dropna())
    for spec in TABLES:
        raw, fr = cx.raws[spec.name], cx.frames[spec.name]
        for f in spec.fields:
            if f.references is None or f.references.split(".")[0] == spec.name:
                continue
            target_table = f.references.split(".")[0]
            target = patients if target_table == "patients" else centres
            s = fr[f.name]
            bad = s.notna() & ~s.isin(target)
            col.add_rows(
                raw,
                bad,
                field=f.name,
                rule="reference",
                message=f"is not in {cx.raws[target_table].file}",
            )


def validate_cross(raws: dict[str, RawTable], frames: dict[str, pd.DataFrame]) -> list[ValidationIssue]:
    """The rules spanning rows and tables (references, date order, cut-off)."""
    col = _Collector()
    cx = _Cross(raws, frames)
    ex_raw = raws["extract"]
    if len(ex_raw.data) != 1:
        col.issues.append(
            ValidationIssue(
                file=ex_raw.file,
                row=None,
                patient_id=None,
                field=None,
                value=None,
                rule="extract_rows",
                message=f"must have exactly one row describing the extract, found {len(ex_raw.data)}",
            )
        )
    _reference_rules(cx, col)
    _row_date_order(cx, col)
    _infusion_rules(cx, col)
    _vital_rules(cx, col)
    _cutoff_rule(cx, col)
    return col.issues


def validate_tables(raws: dict[str, RawTable]) -> tuple[dict[str, pd.DataFrame], list[ValidationIssue]]:
    """Type every table and check every rule; returns typed frames (index reset) and issues."""
    frames: dict[str, pd.DataFrame] = {}
    issues: list[ValidationIssue] = []
    for spec in TABLES:
        frame, found = parse_table(raws[spec.name])
        frames[spec.name] = frame
        issues.extend(found)
    issues.extend(validate_cross(raws, frames))
    return {k: v.reset_index(drop=True) for k, v in frames.items()}, issues
