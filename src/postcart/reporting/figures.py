"""Journal-style figures drawn from study results (matplotlib, Agg, no pyplot global state).

* :func:`km_figure`: Kaplan-Meier curves with pointwise CI bands, censoring ticks, the numbers
  at risk under the axis (aligned to the x ticks), medians in the legend and the log-rank P;
* :func:`forest_figure`: hazard ratios with CIs on a log axis, with the values in text columns
  and "not estimable" where a coefficient diverges;
* :func:`response_figure`: Figure 1, best response to salvage by class (stacked bars) and
  median PFS-2 by class with its CI;
* :func:`flow_figure`: the patient flow diagram.

Every function returns a ``matplotlib.figure.Figure``; :func:`save_figure` writes PNG (300 dpi)
and SVG with one ``savefig`` per format. Numbers come from the result objects; nothing is
estimated here (the numbers at risk are read from the KM table).
"""

from __future__ import annotations

import functools
import io
import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

from postcart.reporting.format import EN, fmt_estimate_ci, fmt_hr, fmt_p, fmt_time  # noqa: E402

F = TypeVar("F", bound=Callable[..., Any])

#: Okabe-Ito colour-blind-safe palette.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
#: Failure-timing colours of the paper's Figures 4-5 (D0-D30 red, D31-D90 blue, >D90 green).
TIMING_COLOURS = {"very_early": "#C0392B", "early": "#1F5FA8", "late": "#2E8B3E"}
RESPONSE_COLOURS = {"cr": "#1B7837", "pr": "#7FBF7B", "sd": "#E0E0E0", "pd": "#C2362F", "ne": "#9E9E9E"}

BASE_RC: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.linewidth": 0.8,
    "svg.fonttype": "none",
    "svg.hashsalt": "postcart",
}


@dataclass(frozen=True, slots=True)
class Curve:
    """One KM curve to draw: the stats result and how to label it."""

    label: str
    km: Any  # postcart.stats.KaplanMeierResult
    colour: str


def _styled(fn: F) -> F:
    """Run a figure builder under the house rc settings without changing matplotlib's globals."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with matplotlib.rc_context(cast(Any, BASE_RC)):
            return fn(*args, **kwargs)

    return cast(F, wrapper)


def _new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout=None)


def _tick_step(tmax: float) -> float:
    for step in (1.0, 2.0, 3.0, 6.0, 12.0, 24.0, 60.0):
        if tmax / step <= 10:
            return step
    return 120.0


def at_risk(km: Any, ticks: Sequence[float]) -> list[int]:
    """Numbers at risk at each tick, read from the KM table (patients with time >= tick)."""
    times = np.asarray(km.time, dtype=float)
    n_risk = np.asarray(km.n_risk, dtype=float)
    out = []
    for t in ticks:
        idx = int(np.searchsorted(times, t, side="left"))
        out.append(int(n_risk[idx]) if idx < times.size else 0)
    return out


@_styled
def km_figure(
    curves: Sequence[Curve],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    logrank_p: float | None = None,
    logrank_label: str = "Log-rank",
    xmax: float | None = None,
    show_ci: bool = True,
) -> Figure:
    """Kaplan-Meier curves with CI bands, censoring ticks, medians, log-rank P and risk table."""
    n_curves = len(curves)
    # layout in inches, top to bottom: title, legend, plot, x label, risk header, risk rows
    h_title, h_leg, h_plot, h_xlab = 0.36, 0.17 * n_curves + 0.06, 3.1, 0.55
    h_head, h_rows, h_bot = 0.26, 0.2 * n_curves, 0.12
    width = 6.8
    height = h_title + h_leg + h_plot + h_xlab + h_head + h_rows + h_bot
    fig = _new_figure(width, height)
    longest = max([len(c.label) for c in curves] + [11])
    left, right = max(1.45, 0.068 * longest + 0.45) / width, 0.97
    y_plot = (h_bot + h_rows + h_head + h_xlab) / height
    ax = fig.add_axes((left, y_plot, right - left, h_plot / height))
    axr = fig.add_axes((left, h_bot / height, right - left, (h_rows + h_head) / height), sharex=ax)
    fig.text(0.02, 1 - 0.08 / height, title, ha="left", va="top", fontsize=10.5, fontweight="bold")
    tmax_data = (
        max((float(np.nanmax(c.km.time)) if len(c.km.time) else 0.0) for c in curves) if curves else 1.0
    )
    tmax = xmax if xmax is not None else max(tmax_data, 1.0)
    step = _tick_step(tmax)
    ticks = list(np.arange(0.0, np.ceil(tmax / step - 1e-9) * step + 1e-9, step))
    multi = n_curves > 2
    for c in curves:
        t = np.concatenate([[0.0], np.asarray(c.km.time, dtype=float)])
        s = np.concatenate([[1.0], np.asarray(c.km.survival, dtype=float)])
        (line,) = ax.step(t, s, where="post", color=c.colour, lw=1.6, zorder=3)
        med = c.km.median
        unit = " mo" if med.estimate is not None else ""
        text = fmt_estimate_ci(med.estimate, med.ci_low, med.ci_high)
        line.set_label(f"{c.label}: n = {c.km.n}, median {text}{unit}")
        if show_ci and n_curves <= 3:
            lo = np.concatenate([[1.0], np.asarray(c.km.ci_low, dtype=float)])
            hi = np.concatenate([[1.0], np.asarray(c.km.ci_high, dtype=float)])
            ok = ~(np.isnan(lo) | np.isnan(hi))
            ax.fill_between(
                t[ok],
                lo[ok],
                hi[ok],
                step="post",
                color=c.colour,
                alpha=0.09 if multi else 0.15,
                lw=0,
                zorder=1,
            )
        cens = np.asarray(c.km.n_censor, dtype=float) > 0
        if cens.any():
            ct = np.asarray(c.km.time, dtype=float)[cens]
            cs = np.asarray(c.km.survival, dtype=float)[cens]
            dense = ct.size > 60  # many censorings: smaller, thinner ticks keep the curve readable
            ax.plot(
                ct,
                cs,
                ls="none",
                marker="|",
                ms=4 if dense else 6,
                mew=0.6 if dense else 1.0,
                color=c.colour,
                zorder=4,
            )
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(left - 0.01, 1 - h_title / height),
        frameon=False,
        fontsize=8,
        handlelength=1.6,
        borderaxespad=0.0,
        labelspacing=0.3,
    )
    if logrank_p is not None:
        fig.text(
            right,
            1 - h_title / height,
            f"{logrank_label} P = {fmt_p(logrank_p)}".replace("= <", "< "),
            ha="right",
            va="top",
            fontsize=8.5,
        )
    ax.set_xlim(0, ticks[-1] + step * 0.03)
    ax.set_ylim(-0.02, 1.02)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_yticklabels([f"{int(v * 100)}" for v in np.linspace(0, 1, 6)])
    ax.set_ylabel(f"{ylabel} (%)")
    ax.set_xticks(ticks)
    ax.tick_params(labelbottom=True)
    ax.set_xlabel(xlabel)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#e6e6e6", lw=0.6, zorder=0)
    # numbers at risk, one row per curve, aligned on the same x ticks
    axr.set_ylim(n_curves - 0.5, -1.5)
    axr.axis("off")
    axr.text(
        -0.03,
        -1.0,
        "No. at risk",
        transform=axr.get_yaxis_transform(),
        ha="right",
        va="center",
        fontsize=8.5,
        fontweight="bold",
    )
    for i, c in enumerate(curves):
        counts = at_risk(c.km, ticks)
        axr.text(
            -0.03,
            i,
            c.label,
            transform=axr.get_yaxis_transform(),
            ha="right",
            va="center",
            fontsize=8,
            color=c.colour,
        )
        for x, k in zip(ticks, counts, strict=True):
            axr.text(x, i, str(k), ha="center", va="center", fontsize=8)
    return fig


@dataclass(frozen=True, slots=True)
class ForestRow:
    """One row of a forest plot."""

    label: str
    hr: float | None
    ci_low: float | None
    ci_high: float | None
    p: float | None
    estimable: bool
    n: int | None = None
    header: bool = False


@_styled
def forest_figure(rows: Sequence[ForestRow], *, title: str, note: str | None = None) -> Figure:
    """Hazard ratios (log axis) with text columns: variable, n, HR (95% CI), P."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter
    from matplotlib.transforms import blended_transform_factory

    n = len(rows)
    note_lines = 0 if not note else note.count("\n") + 1
    height = 0.95 + 0.27 * n + 0.16 * note_lines
    fig = _new_figure(7.6, height)
    bottom = (0.5 + 0.16 * note_lines) / height
    ax = fig.add_axes((0.44, bottom, 0.26, 1 - bottom - 0.5 / height))
    vals = [
        v for r in rows if r.estimable for v in (r.ci_low, r.ci_high) if v is not None and 0 < v < math.inf
    ]
    lo = min([*vals, 0.5]) / 1.25
    hi = max([*vals, 2.0]) * 1.25
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(n - 0.5, -1.2)
    ax.plot([1.0, 1.0], [n - 0.5, -0.5], color="#777777", lw=0.8, ls="--", zorder=1)
    for i, r in enumerate(rows):
        if r.header:
            continue
        drawable = all(v is not None and 0 < v < math.inf for v in (r.hr, r.ci_low, r.ci_high))
        if r.estimable and drawable and r.hr is not None and r.ci_low is not None and r.ci_high is not None:
            left, right = max(r.ci_low, lo), min(r.ci_high, hi)
            ax.plot([left, right], [i, i], color="#1F3B73", lw=1.3, zorder=2)
            ax.plot([r.hr], [i], marker="s", ms=5, color="#1F3B73", zorder=3)
        else:
            ax.text(
                1.0,
                i,
                " not estimable",
                ha="left",
                va="center",
                fontsize=7.5,
                color="#A33333",
                style="italic",
            )
    ax.set_yticks([])
    ax.spines[["top", "right", "left"]].set_visible(False)
    ax.set_xlabel("Hazard ratio (log scale)", fontsize=8.5)
    major = [v for v in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if lo <= v <= hi]
    ax.xaxis.set_major_locator(FixedLocator(major))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.tick_params(axis="x", labelsize=8)
    trans = blended_transform_factory(fig.transFigure, ax.transData)
    cols = {"label": 0.02, "n": 0.40, "hr": 0.72, "p": 0.93}
    for key, text, ha in (
        ("label", "Variable", "left"),
        ("n", "n", "right"),
        ("hr", "HR (95% CI)", "left"),
        ("p", "P", "left"),
    ):
        ax.text(cols[key], -1.0, text, transform=trans, fontweight="bold", va="center", ha=ha, fontsize=8.5)
    for i, r in enumerate(rows):
        weight = "bold" if r.header else "normal"
        indent = 0.0 if r.header else 0.012
        ax.text(
            cols["label"] + indent, i, r.label, transform=trans, va="center", fontsize=8, fontweight=weight
        )
        if r.header:
            continue
        if r.n is not None:
            ax.text(cols["n"], i, str(r.n), transform=trans, va="center", ha="right", fontsize=8)
        ax.text(
            cols["hr"],
            i,
            fmt_hr(r.hr, r.ci_low, r.ci_high, estimable=r.estimable),
            transform=trans,
            va="center",
            fontsize=8,
        )
        ax.text(
            cols["p"], i, fmt_p(r.p) if r.estimable else "\u2014", transform=trans, va="center", fontsize=8
        )
    fig.text(0.02, 1 - 0.06 / height, title, ha="left", va="top", fontsize=10.5, fontweight="bold")
    if note:
        fig.text(0.02, 0.08 / height, note, fontsize=7.5, color="#444444", ha="left", va="bottom")
    return fig


@dataclass(frozen=True, slots=True)
class ResponseBar:
    """Best-response distribution of one class (percent per category) and its median PFS-2."""

    label: str
    n: int
    pct: dict[str, float]
    median: float | None
    median_ci_low: float | None
    median_ci_high: float | None
    n_pfs2: int


@_styled
def response_figure(
    bars: Sequence[ResponseBar], categories: Sequence[tuple[str, str]], *, title: str
) -> Figure:
    """Figure 1: best response (%) by class as stacked horizontal bars; median PFS-2 by class."""
    k = len(bars)
    height = 1.35 + 0.42 * k
    fig = _new_figure(7.6, height)
    bottom, top = 0.62 / height, 1 - 0.75 / height
    longest = max([len(f"{b.label} (n = {b.n})") for b in bars] + [10])
    margin = max(0.2, (0.068 * longest + 0.3) / 7.6)  # room for the class labels (inches -> fraction)
    ax1 = fig.add_axes((margin, bottom, 0.61 - margin, top - bottom))
    ax2 = fig.add_axes((0.66, bottom, 0.31, top - bottom), sharey=ax1)
    y = np.arange(k)
    left = np.zeros(k)
    for code, label in categories:
        vals = np.array([b.pct.get(code, 0.0) for b in bars])
        ax1.barh(
            y,
            vals,
            left=left,
            color=RESPONSE_COLOURS.get(code, "#888888"),
            height=0.62,
            label=label,
            edgecolor="white",
            lw=0.5,
        )
        for yi, v, l0 in zip(y, vals, left, strict=True):
            if v >= 8:
                ax1.text(
                    l0 + v / 2,
                    float(yi),
                    f"{v:.0f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if code in ("cr", "pd") else "black",
                )
        left += vals
    ax1.set_yticks(y)
    ax1.set_yticklabels([f"{b.label} (n = {b.n})" for b in bars], fontsize=8)
    ax1.set_ylim(k - 0.5, -0.5)
    ax1.set_xlim(0, 100)
    ax1.set_xlabel("Best response to salvage (%)", fontsize=8.5)
    ax1.spines[["top", "right"]].set_visible(False)
    ax1.legend(
        ncol=len(categories),
        loc="lower left",
        bbox_to_anchor=(0.0, 1.01),
        frameon=False,
        fontsize=7.5,
        handlelength=1.0,
        columnspacing=0.8,
        borderaxespad=0.0,
    )
    # end of each CI line: the upper limit, or 1.6 x the median when the limit is not reached (arrow)
    ends = [
        (b.median_ci_high if b.median_ci_high is not None else 1.6 * b.median) if b.median else 0.0
        for b in bars
    ]
    xmax = max([*ends, 1.0]) * 2.4
    for i, b in enumerate(bars):
        if b.n_pfs2 == 0:
            ax2.text(
                0.02 * xmax, i, "not analysed", va="center", fontsize=7.5, color="#666666", style="italic"
            )
            continue
        if b.median is None:
            ax2.text(0.02 * xmax, i, f"NR (n = {b.n_pfs2})", va="center", fontsize=7.5)
            continue
        lo = b.median_ci_low if b.median_ci_low is not None else b.median
        hi = b.median_ci_high
        ax2.barh(i, b.median, color="#6B8EB8", height=0.62)
        right = hi if hi is not None else 1.6 * b.median
        if hi is None:
            ax2.annotate("", xy=(right, i), xytext=(lo, i), arrowprops={"arrowstyle": "->", "lw": 1.0})
        else:
            ax2.plot([lo, right], [i, i], color="black", lw=1.0)
        ax2.text(
            right + 0.03 * xmax,
            i,
            f"{fmt_estimate_ci(b.median, b.median_ci_low, b.median_ci_high)}; n = {b.n_pfs2}",
            va="center",
            fontsize=7,
        )
    ax2.set_xlim(0, xmax)
    ax2.tick_params(axis="y", labelleft=False, length=0)
    ax2.set_xlabel("Median PFS-2, months (95% CI)", fontsize=8.5)
    ax2.spines[["top", "right"]].set_visible(False)
    fig.text(0.02, 1 - 0.08 / height, title, ha="left", va="top", fontsize=10.5, fontweight="bold")
    return fig


@dataclass(frozen=True, slots=True)
class FlowBox:
    """A main box of the flow diagram, with side exclusions."""

    label: str
    n: int
    exclusions: tuple[tuple[str, int], ...]


@_styled
def flow_figure(boxes: Sequence[FlowBox], *, title: str) -> Figure:
    """Vertical CONSORT-style flow: main boxes with arrows, exclusions to the right."""
    n = len(boxes)
    fig = _new_figure(7.2, 1.1 * n + 0.6)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 1.1 * n + 0.6)
    ax.axis("off")
    y = 1.1 * n + 0.6 - 0.55
    for i, b in enumerate(boxes):
        yc = y - i * 1.1 - 0.35
        ax.add_patch(
            FancyBboxPatch(
                (0.4, yc - 0.3), 4.2, 0.6, boxstyle="round,pad=0.02", fc="#EEF3FA", ec="#1F3B73", lw=1.0
            )
        )
        ax.text(2.5, yc, f"{b.label}\nn = {b.n}", ha="center", va="center", fontsize=8.5)
        if i < n - 1:
            ax.annotate(
                "",
                xy=(2.5, yc - 0.8),
                xytext=(2.5, yc - 0.3),
                arrowprops={"arrowstyle": "-|>", "color": "#1F3B73", "lw": 1.0},
            )
        if b.exclusions:
            lines = [line for reason, k in b.exclusions for line in textwrap.wrap(f"{reason}: {k}", 52)]
            text = "\n".join(lines)
            h_box = 0.2 * len(lines) + 0.16
            ym = yc - 0.55
            ax.add_patch(
                FancyBboxPatch(
                    (5.3, ym - h_box / 2),
                    4.4,
                    h_box,
                    boxstyle="round,pad=0.02",
                    fc="#FAFAFA",
                    ec="#888888",
                    lw=0.8,
                )
            )
            ax.text(5.45, ym, text, ha="left", va="center", fontsize=7.5)
            ax.annotate(
                "",
                xy=(5.3, ym),
                xytext=(2.5, ym),
                arrowprops={"arrowstyle": "-|>", "color": "#888888", "lw": 0.8},
            )
    ax.text(0.4, 1.1 * n + 0.6 - 0.15, title, fontsize=10.5, fontweight="bold", va="top")
    return fig


@_styled
def save_figure(fig: Figure, directory: Path, name: str, *, dpi: int = 300) -> dict[str, Path]:
    """Write ``name.png`` (``dpi``, default 300) and ``name.svg``; one savefig per format."""
    paths = {"png": directory / f"{name}.png", "svg": directory / f"{name}.svg"}
    fig.savefig(
        paths["png"],
        dpi=dpi,
        facecolor="white",
        metadata={"Software": None},
        pil_kwargs={"compress_level": 2},
    )
    fig.savefig(paths["svg"], facecolor="white", metadata={"Date": None})
    return paths


@_styled
def figure_png_bytes(fig: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes (for embedding in HTML)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()


__all__ = [
    "EN",
    "Curve",
    "FlowBox",
    "ForestRow",
    "ResponseBar",
    "at_risk",
    "flow_figure",
    "forest_figure",
    "km_figure",
    "response_figure",
    "save_figure",
    "fmt_time",
]
