"""Plots of the report: ``plot_*(ax, data, ..., labels) -> Axes``.

Every function draws on the ``Axes`` it is given, from data already computed
(frames of ``Result``, ``sweep``, ``recommend``, ``sensitivity``), and never
samples. ``labels`` (``forecast.i18n.Labels``) gives the words and the number
formats of the reader's language, so that no English is left on a French page;
without it, English with "$". In a notebook::

    fig, ax = plt.subplots()
    forecast.plot_fan(ax, result.daily(), result.scenario.goal, milestones=result.milestones())
"""
from __future__ import annotations

import re
import textwrap
from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .i18n import Labels

__all__ = ["plot_fan", "plot_daily", "plot_probability_curves", "plot_heatmap",
           "plot_tornado", "plot_circles", "plot_table", "table_height", "wrap_rows",
           "wrap_text", "money_axis", "percent_axis"]

#: Average width of a character of DejaVu Sans, in em, with a margin for bold.
CHAR_EM = 0.56
#: Colours: the campaign, the goal, low and high ends, and a palette for circles.
MAIN, BAND, GOAL, LOW, HIGH, MUTED = "#1f4e79", "#9ecae1", "#c0392b", "#d9822b", "#2e8b57", \
    "#7f7f7f"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#bcbd22", "#7f7f7f", "#d62728")


#: Spaces a line must not break at: in "25 000 $", "77,3 %", "« nom »", "Cible :".
_GLUE = re.compile(r"(?<=\d) (?=\d{3}(?!\d))|(?<=\d) (?=[$€£%])|(?<=«) | (?=[»:;?!])")


def wrap_text(text: str, width: int) -> list[str]:
    """Lines of at most about ``width`` characters, never breaking inside a number
    with its unit ("25 000 $", "77,3 %") or a word."""
    glued = _GLUE.sub("\u00a0", str(text))
    lines = textwrap.wrap(glued, width, break_long_words=False, break_on_hyphens=False)
    return [line.replace("\u00a0", " ") for line in lines]


def money_axis(axis, labels: Labels) -> None:
    """Format an axis (``ax.xaxis`` or ``ax.yaxis``) as money in the reader's style."""
    axis.set_major_formatter(FuncFormatter(lambda v, _: labels.money(v, 0)))


def percent_axis(axis, labels: Labels) -> None:
    """Format an axis of fractions (0 … 1) as whole percents."""
    axis.set_major_formatter(FuncFormatter(lambda v, _: labels.percent(v, 0)))


def _percent(p: float, labels: Labels) -> str:
    """A probability with no decimal, unless rounding would say 0 % or 100 % of
    what is neither (then as many decimals as it takes, up to two)."""
    for digits in (0, 1, 2):
        shown = round(100 * p, digits)
        if not ((p < 1 and shown >= 100) or (p > 0 and shown <= 0)):
            break
    return labels.percent(p, digits)


def plot_fan(ax: Axes, daily_frame: pd.DataFrame, goal: float, labels: Labels | None = None,
             milestones: dict | None = None) -> Axes:
    """Cumulative pledges day by day: median, 10–90 % band, goal line, milestones.

    Parameters
    ----------
    daily_frame : DataFrame
        ``Result.daily()``: columns ``day``, ``cumulative_p10``, ``cumulative_p50``,
        ``cumulative_p90``.
    goal : float
        The goal, drawn as a horizontal line.
    milestones : dict, optional
        ``Result.milestones()``: for "25", "50", "75", "100" (% of goal) the
        ``probability`` of reaching it and the ``median_day`` it is reached; each is
        marked at (median day, share of goal) with its label.
    """
    labels = labels or Labels()
    day = daily_frame["day"].to_numpy()
    ax.fill_between(day, daily_frame["cumulative_p10"], daily_frame["cumulative_p90"],
                    color=BAND, alpha=0.6, linewidth=0, label=labels["band_10_90"])
    ax.plot(day, daily_frame["cumulative_p50"], color=MAIN, lw=2,
            label=labels["median_campaign"])
    ax.axhline(goal, color=GOAL, lw=1.5, ls="--",
               label=labels("goal_line", goal=labels.money(goal)))
    last = int(day.max()) if day.size else 0
    first_marker = True
    for key, found in (milestones or {}).items():
        median_day = found.get("median_day")
        if median_day is None:
            continue
        fraction = float(key) / 100
        ax.plot([median_day], [fraction * goal], "o", color=GOAL, ms=6, zorder=5,
                label=labels["milestone_legend"] if first_marker else None)
        first_marker = False
        text = labels("milestone_goal" if fraction == 1 else "milestone_label",
                      pct=labels.percent(fraction, 0), day=labels.day(median_day),
                      p=_percent(found["probability"], labels))
        right = median_day <= 0.55 * last
        ax.annotate(text, (median_day, fraction * goal),
                    xytext=(10 if right else -10, -4), textcoords="offset points",
                    ha="left" if right else "right", va="top", fontsize=8.5, color="#333333",
                    bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.8))
    top = max(float(daily_frame["cumulative_p90"].max()) if len(daily_frame) else 0, goal)
    return _running_total_axes(ax, max(last, 1), top, labels)


def _running_total_axes(ax: Axes, last_day: float, top: float, labels: Labels) -> Axes:
    """The axes of a running total (``plot_fan``, ``plot_track``): days from 0 to
    ``last_day``, money from 0 to a little above ``top``, their labels, grid, legend."""
    ax.set_xlim(0, last_day)
    ax.set_ylim(0, 1.08 * top)
    ax.set_xlabel(labels["axis_day"])
    ax.set_ylabel(labels["axis_cumulative"])
    money_axis(ax.yaxis, labels)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=8.5, framealpha=0.9)
    return ax


def plot_daily(ax: Axes, daily_frame: pd.DataFrame, labels: Labels | None = None) -> Axes:
    """Mean money pledged each day, stacked by circle: the U-curve.

    Parameters
    ----------
    daily_frame : DataFrame
        ``Result.daily()``: ``day``, ``pledges_mean`` and a ``circle:NAME`` column
        per circle. What ``pledges_mean`` holds beyond the circles (pre-campaign
        commitments) is drawn as one more layer.
    """
    labels = labels or Labels()
    day = daily_frame["day"].to_numpy()
    columns = [c for c in daily_frame.columns if c.startswith("circle:")]
    bottom = np.zeros(len(day))
    for k, column in enumerate(columns):
        name = column.split(":", 1)[1]
        values = daily_frame[column].to_numpy(float)
        ax.bar(day, values, bottom=bottom, width=0.85, color=PALETTE[k % len(PALETTE)],
               label=name, linewidth=0)
        bottom += values
    rest = daily_frame["pledges_mean"].to_numpy(float) - bottom
    if np.any(rest > 1e-9 * max(1.0, float(bottom.max(initial=0)))):
        ax.bar(day, np.clip(rest, 0, None), bottom=bottom, width=0.85, color="#444444",
               label=labels["commitments"], linewidth=0)
    ax.set_xlim(-0.6, (day.max() if day.size else 0) + 0.6)
    ax.set_xlabel(labels["axis_day"])
    ax.set_ylabel(labels["axis_daily"])
    money_axis(ax.yaxis, labels)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="upper center", ncol=4, fontsize=8, framealpha=0.9)
    ax.set_ylim(0, 1.35 * float(daily_frame["pledges_mean"].max() or 1))
    return ax


def plot_probability_curves(ax: Axes, sweep_frame: pd.DataFrame, target: float,
                            recommended: float | None, labels: Labels | None = None, *,
                            planned_days: int | None = None,
                            goal: float | None = None) -> Axes:
    """P(success) against the goal, one curve per duration, with its 95 % band.

    Parameters
    ----------
    sweep_frame : DataFrame
        ``sweep``: columns ``goal``, ``duration_days``, ``probability``, ``ci_low``,
        ``ci_high``.
    target : float
        The probability to reach, drawn as a horizontal line.
    recommended : float or None
        The recommended goal (``recommend``'s ``recommended_goal`` at the planned
        duration), marked with a vertical line and its label; None (or NaN) when no
        goal reaches the target.
    planned_days, goal : optional
        The plan's duration (its curve is drawn bolder) and goal (a dotted line).
    """
    labels = labels or Labels()
    durations = sorted(sweep_frame["duration_days"].unique())
    colours = _duration_colours(durations, planned_days)
    for days in durations:
        cells = sweep_frame[sweep_frame["duration_days"] == days].sort_values("goal")
        planned = days == planned_days
        name = labels.days(days)
        ax.fill_between(cells["goal"], cells["ci_low"], cells["ci_high"],
                        color=colours[days], alpha=0.18, linewidth=0)
        # few goals: a line through one point draws nothing, so mark each goal and
        # its interval
        few = len(cells) < 3
        if few:
            ax.errorbar(cells["goal"], cells["probability"],
                        yerr=[cells["probability"] - cells["ci_low"],
                              cells["ci_high"] - cells["probability"]],
                        fmt="none", ecolor=colours[days], capsize=4, zorder=3)
        ax.plot(cells["goal"], cells["probability"], color=colours[days],
                lw=2.6 if planned else 1.4, zorder=4 if planned else 3,
                marker="o" if few else None,
                label=labels("planned", days=name) if planned else name)
    ax.axhline(target, color=GOAL, lw=1, ls="--")
    ax.text(0.995, target, labels("target_line", p=labels.percent(target, 0)),
            transform=ax.get_yaxis_transform(), ha="right", va="bottom", fontsize=9,
            color=GOAL)
    if goal is not None:
        ax.axvline(goal, color=MUTED, lw=1, ls=":")
        ax.annotate(labels("current_goal", goal=labels.money(goal)), (goal, 0.03),
                    xycoords=("data", "axes fraction"), xytext=(4, 0),
                    textcoords="offset points", rotation=90, ha="left", va="bottom",
                    fontsize=8.5, color=MUTED)
    if recommended is not None and np.isfinite(recommended):
        ax.axvline(recommended, color=MAIN, lw=1.2)
        at = sweep_frame[(sweep_frame["goal"] == recommended)
                         & (sweep_frame["duration_days"] == (planned_days or durations[0]))]
        if len(at):
            ax.plot([recommended], [float(at["probability"].iloc[0])], "o", color=MAIN,
                    ms=7, zorder=6)
        ax.annotate(labels("recommended_mark", goal=labels.money(recommended)),
                    (recommended, 0.03), xycoords=("data", "axes fraction"), xytext=(-4, 0),
                    textcoords="offset points", rotation=90, ha="right", va="bottom",
                    fontsize=8.5, color=MAIN)
    ax.set_ylim(0, 1.02)
    low, high = sweep_frame["goal"].min(), sweep_frame["goal"].max()
    if high <= low:  # one goal: a range around it, not a singular axis
        low, high = 0.9 * low, 1.1 * high
    ax.set_xlim(low, high)
    ax.set_xlabel(labels["axis_goal"])
    ax.set_ylabel(labels["axis_probability"])
    money_axis(ax.xaxis, labels)
    percent_axis(ax.yaxis, labels)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left", fontsize=9, framealpha=0.9)
    return ax


def _duration_colours(durations: Sequence[int], planned: int | None) -> dict:
    """Shorter durations light, longer dark; the planned one in the main colour."""
    from matplotlib import colormaps

    cmap = colormaps["YlOrBr"]
    n = len(durations)
    colours = {d: cmap(0.35 + 0.55 * (k / max(n - 1, 1))) for k, d in enumerate(durations)}
    if planned in colours:
        colours[planned] = MAIN
    return colours


def _regular_columns(goals: np.ndarray, keep: float | None) -> list[float]:
    """The goals whose columns are wide enough to write in: a goal closer than 0.6
    of the usual step to the last one kept (a goal added off the grid, such as the
    one that covers the need) is left to the curves page; ``keep`` always stays."""
    if goals.size < 3:
        return list(goals)
    step = float(np.median(np.diff(goals)))
    kept: list[float] = []
    for goal in goals:
        if kept and goal - kept[-1] < 0.6 * step:
            if goal == keep:
                kept[-1] = goal
            continue
        kept.append(goal)
    return kept


#: Line styles of the heatmap's contour levels, lowest level first.
_LEVEL_STYLES = (":", "--", "-")


def _cell_edges(centres: np.ndarray, half: float) -> np.ndarray:
    """Edges of cells around sorted ``centres``: midway between neighbours, and
    ``half`` beyond a lone centre (pcolormesh cannot guess a lone cell's size)."""
    if centres.size == 1:
        return np.array([centres[0] - half, centres[0] + half])
    middle = (centres[1:] + centres[:-1]) / 2
    return np.concatenate([[2 * centres[0] - middle[0]], middle,
                           [2 * centres[-1] - middle[-1]]])


def plot_heatmap(ax: Axes, sweep_frame: pd.DataFrame, labels: Labels | None = None, *,
                 levels: Sequence[float] = (0.5, 0.8, 0.95),
                 planned: tuple[float, int] | None = None, annotate: bool = True) -> Axes:
    """P(success) for every goal (across) and duration (down), with contour lines.

    Parameters
    ----------
    sweep_frame : DataFrame
        ``sweep``: columns ``goal``, ``duration_days``, ``probability``.
    levels : sequence of float
        Probabilities joined by contour lines (50, 80, 95 % by default).
    planned : (goal, duration_days), optional
        The plan's cell, framed.

    Columns are goals; a goal added off the regular step, too close to its neighbour
    to write in (the goal that covers the need, say), is not drawn here.
    annotate : bool
        Write each cell's probability (whole percent) in it.
    """
    labels = labels or Labels()
    grid = sweep_frame.pivot(index="duration_days", columns="goal", values="probability")
    grid = grid[_regular_columns(grid.columns.to_numpy(float),
                                 None if planned is None else planned[0])]
    goals = grid.columns.to_numpy(float)
    durations = grid.index.to_numpy(int)
    values = grid.to_numpy(float)
    mesh = ax.pcolormesh(_cell_edges(goals, 0.05 * goals[0]),
                         _cell_edges(durations.astype(float), 3.5), values,
                         shading="flat", cmap="RdYlGn", vmin=0, vmax=1)
    if len(goals) >= 2 and len(durations) >= 2:
        # each level its own line style, named in a legend above the cells: a label on
        # the line would cover a cell's value
        levels = sorted(levels)
        styles = [_LEVEL_STYLES[k % len(_LEVEL_STYLES)] for k in range(len(levels))]
        ax.contour(goals, durations, values, levels=levels, colors="k", linewidths=1.4,
                   linestyles=styles)
        ax.legend(handles=[Line2D([], [], color="k", lw=1.4, ls=style,
                                  label=labels("contour_level", p=labels.percent(level, 0)))
                           for level, style in zip(levels, styles)],
                  loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(levels),
                  fontsize=9, frameon=False)
    if annotate:
        size = 7 if len(goals) > 15 else 8.5
        for i, days in enumerate(durations):
            for j, goal in enumerate(goals):
                p = values[i, j]
                if np.isfinite(p):
                    ax.text(goal, days, labels.number(100 * p), ha="center", va="center",
                            fontsize=size, color="white" if p < 0.2 or p > 0.85 else "black")
    if planned is not None:
        goal, days = planned
        width = np.min(np.diff(goals)) if len(goals) > 1 else goal * 0.1
        height = np.min(np.diff(durations)) if len(durations) > 1 else 1
        ax.add_patch(Rectangle((goal - width / 2, days - height / 2), width, height,
                               fill=False, ec="black", lw=2.2, zorder=6))
    ax.set_yticks(durations)
    ax.set_yticklabels([labels.days(d) for d in durations])
    ax.set_xlabel(labels["axis_goal"])
    ax.set_ylabel(labels["axis_duration"])
    # every column's goal, upright enough to read; every other one past 30 columns
    shown = goals[::2] if len(goals) > 30 else goals
    ax.set_xticks(shown)
    ax.set_xticklabels([labels.money(g) for g in shown], rotation=90,
                       fontsize=7 if len(shown) > 15 else 9)
    bar = ax.figure.colorbar(mesh, ax=ax, fraction=0.04, pad=0.02)
    bar.set_label(labels["axis_probability"])
    percent_axis(bar.ax.yaxis, labels)
    return ax


def plot_tornado(ax: Axes, sensitivity_frame: pd.DataFrame, labels: Labels | None = None, *,
                 base: float | None = None) -> Axes:
    """What matters most: how far P(success) moves as each input goes low to high.

    Parameters
    ----------
    sensitivity_frame : DataFrame
        ``sensitivity``: columns ``input``, ``probability_low``, ``probability_high``
        (largest effect first). Optional columns ``label`` (display name),
        ``low_text`` and ``high_text`` (the input's values, written out) are used
        when present.
    base : float, optional
        The plan's probability, where the bars start; by default
        ``sensitivity_frame.attrs["probability"]``.
    """
    labels = labels or Labels()
    frame = sensitivity_frame.reset_index(drop=True)
    if base is None:
        base = float(frame.attrs.get("probability", np.nan))
    n = len(frame)
    names = frame["label"] if "label" in frame else frame["input"]
    y = np.arange(n)[::-1]
    ax.barh(y, frame["probability_low"] - base, left=base, color=LOW, height=0.6,
            label=labels["tornado_low"])
    ax.barh(y, frame["probability_high"] - base, left=base, color=HIGH, height=0.6,
            label=labels["tornado_high"])
    for k in range(n):
        ends = []
        for end, text_column in (("probability_low", "low_text"),
                                 ("probability_high", "high_text")):
            p = float(frame[end].iloc[k])
            text = (frame[text_column].iloc[k] if text_column in frame
                    else labels.number(frame[end.replace("probability_", "")].iloc[k], 2))
            ends.append((p, f"{text} → {_percent(p, labels)}"))
        # The smaller probability is written left of the bar, the larger right of it.
        (p_small, left_text), (p_large, right_text) = sorted(ends, key=lambda e: e[0])
        ax.text(min(p_small, base) - 0.006, y[k], left_text, ha="right", va="center",
                fontsize=7.5, color="#333333")
        ax.text(max(p_large, base) + 0.006, y[k], right_text, ha="left", va="center",
                fontsize=7.5, color="#333333")
    ax.axvline(base, color="black", lw=1)
    ax.text(base, n - 0.35, labels("tornado_base", p=labels.percent(base)), ha="center",
            va="bottom", fontsize=9, zorder=5,
            bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none"))
    ax.set_yticks(y)
    ax.set_yticklabels(names, fontsize=8.5)
    ax.set_ylim(-0.7, n + 0.2)
    # Room for the value labels beyond the bars.
    low_edge = min(frame["probability_low"].min(), frame["probability_high"].min())
    high_edge = max(frame["probability_low"].max(), frame["probability_high"].max())
    ax.set_xlim(min(low_edge, base) - 0.22, max(high_edge, base) + 0.22)
    ax.set_xticks([t for t in np.linspace(0, 1, 11) if min(low_edge, base) - 0.1 <= t
                   <= max(high_edge, base) + 0.1])
    ax.set_xlabel(labels["axis_probability"])
    percent_axis(ax.xaxis, labels)
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(loc="lower left", fontsize=8.5, framealpha=0.9)
    return ax


def plot_circles(ax: Axes, circle_frame: pd.DataFrame, labels: Labels | None = None) -> Axes:
    """Mean money from each circle and commitment, as horizontal bars.

    ``circle_frame`` is ``Result.by_circle()`` (``name``, ``kind``,
    ``pledgers_mean``, ``amount_mean``, ``share``); each bar is labelled with its
    amount, its share of the total and its pledgers (for a commitment, the
    probability that it comes).
    """
    labels = labels or Labels()
    frame = circle_frame.reset_index(drop=True)
    y = np.arange(len(frame))[::-1]
    colours = [("#444444" if kind == "commitment" else PALETTE[k % len(PALETTE)])
               for k, kind in enumerate(frame["kind"])]
    ax.barh(y, frame["amount_mean"], color=colours, height=0.65)
    top = float(frame["amount_mean"].max() or 1)
    for k in range(len(frame)):
        amount = labels.money(frame["amount_mean"].iloc[k])
        share = _percent(float(frame["share"].iloc[k]), labels)
        pledgers = float(frame["pledgers_mean"].iloc[k])
        if frame["kind"].iloc[k] == "completion":   # no pledgers counted
            text = labels("completion_bar", amount=amount, share=share)
        elif frame["kind"].iloc[k] == "commitment":   # one pledger, who may not come
            # the probability as given (80 %), not its simulated frequency (79 %)
            given = (frame["probability"].iloc[k] if "probability" in frame
                     else pledgers)
            text = labels("commitment_bar", amount=amount, share=share,
                          p=_percent(float(given), labels))
        else:
            text = labels("circle_bar", amount=amount, share=share,
                          pledgers=labels.number(pledgers))
        ax.text(frame["amount_mean"].iloc[k] + 0.01 * top, y[k], text, va="center",
                fontsize=8.5)
    ax.set_yticks(y)
    ax.set_yticklabels([labels["completion_name"] if kind == "completion" else name
                        for name, kind in zip(frame["name"], frame["kind"])], fontsize=9)
    ax.set_xlim(0, 1.45 * top)
    ax.set_xlabel(labels["axis_amount"])
    money_axis(ax.xaxis, labels)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
    ax.grid(True, axis="x", alpha=0.3)
    return ax


# ----------------------------------------------------------------------------- tables

def wrap_rows(rows: Sequence[Sequence[str]], widths: Sequence[float], width_pt: float,
              fontsize: float) -> list[list[list[str]]]:
    """Wrap each cell's text to its column: ``rows[r][c]`` -> list of lines.

    A column of ``widths[c]`` (fraction of the table) of a table ``width_pt`` points
    wide holds about ``widths[c] * width_pt / (0.55 * fontsize)`` characters of
    DejaVu Sans (``CHAR_EM`` em a character, on average, with room for bold).
    """
    chars = [max(4, int(w * width_pt / (CHAR_EM * fontsize)) - 1) for w in widths]
    return [[wrap_text(str(cell), chars[c]) or [""] for c, cell in enumerate(row)]
            for row in rows]


def plot_table(ax: Axes, columns: Sequence[str], rows: Sequence[Sequence[str]], *,
               widths: Sequence[float], align: Sequence[str] | None = None,
               styles: Sequence[str | None] | None = None, fontsize: float = 9,
               line_height: float = 1.35) -> Axes:
    """A table of text, drawn from the top of ``ax`` down (axis off).

    Parameters
    ----------
    columns : header of each column (bold, ruled below).
    rows : the cells, as strings; long cells wrap within their column.
    widths : fraction of the axes width of each column.
    align : "left" or "right" for each column (numbers right).
    styles : per row, None, "section" (shaded, first cell bold) or "total" (bold,
        ruled above).
    """
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    align = list(align or ["left"] * len(columns))
    styles = list(styles or [None] * len(rows))
    bbox = ax.get_position()
    width_pt = bbox.width * ax.figure.get_figwidth() * 72
    height_pt = bbox.height * ax.figure.get_figheight() * 72
    step = fontsize * line_height / height_pt
    lefts = np.concatenate([[0], np.cumsum(widths)[:-1]])
    pad = 4 / width_pt

    def x_of(c: int) -> float:
        return lefts[c] + widths[c] - pad if align[c] == "right" else lefts[c] + pad

    y = 1.0
    header = wrap_rows([columns], widths, width_pt, fontsize)[0]
    lines = max(len(cell) for cell in header)
    for c, cell in enumerate(header):
        ax.text(x_of(c), y - 0.2 * step, "\n".join(cell), ha=align[c], va="top",
                fontsize=fontsize, fontweight="bold", linespacing=line_height * 0.9)
    y -= (lines + 0.4) * step
    ax.plot([0, sum(widths)], [y, y], color="black", lw=0.8)
    wrapped = wrap_rows(rows, widths, width_pt, fontsize)
    for cells, style in zip(wrapped, styles):
        lines = max(len(cell) for cell in cells)
        height = (lines + 0.4) * step
        if style == "section":
            ax.add_patch(Rectangle((0, y - height), sum(widths), height, color="#eef2f7",
                                   lw=0, zorder=0))
        if style == "total":
            ax.plot([0, sum(widths)], [y, y], color="black", lw=0.6)
        for c, cell in enumerate(cells):
            bold = style == "total" or (style == "section" and c == 0)
            ax.text(x_of(c), y - 0.2 * step, "\n".join(cell), ha=align[c], va="top",
                    fontsize=fontsize, fontweight="bold" if bold else "normal",
                    linespacing=line_height * 0.9)
        y -= height
    return ax


def table_height(columns: Sequence[str], rows: Sequence[Sequence[str]], *,
                 widths: Sequence[float], width_pt: float, fontsize: float = 9,
                 line_height: float = 1.35) -> float:
    """The height in points ``plot_table`` needs for these rows (to paginate)."""
    header = max(len(c) for c in wrap_rows([columns], widths, width_pt, fontsize)[0])
    body = sum(max(len(c) for c in cells) + 0.4
               for cells in wrap_rows(rows, widths, width_pt, fontsize))
    return (header + 0.4 + body) * fontsize * line_height


# ----------------------------------------------------------------------------- backtest

__all__ += ["plot_reliability", "reliability_figure"]


def plot_reliability(ax: Axes, reliability_frame: pd.DataFrame,
                     title: str | None = None) -> Axes:
    """Reliability diagram: the share of campaigns that succeeded against the
    forecast probability, a line per predictor (``backtest.reliability`` of one
    checkpoint: ``predictor``, ``predicted``, ``observed``, ``campaigns``). A point's
    area grows with its bin's campaigns; a reliable forecaster lies on the diagonal.
    """
    ax.plot([0, 1], [0, 1], color=MUTED, lw=1, ls="--", label="perfectly reliable")
    largest = max(1, int(reliability_frame["campaigns"].max())) if len(
        reliability_frame) else 1
    for k, (name, rows) in enumerate(reliability_frame.groupby("predictor", sort=False)):
        rows = rows.sort_values("predicted")
        colour = PALETTE[k % len(PALETTE)]
        ax.plot(rows["predicted"], rows["observed"], color=colour, lw=1.5, label=name)
        ax.scatter(rows["predicted"], rows["observed"], color=colour, zorder=3,
                   s=10 + 90 * np.sqrt(rows["campaigns"].to_numpy(float) / largest))
    ax.set_xlim(-0.02, 1.02)  # points at 0 and 1 (the linear trend's) whole
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel("forecast probability of success")
    ax.set_ylabel("share that succeeded")
    for axis in (ax.xaxis, ax.yaxis):
        percent_axis(axis, Labels())
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, framealpha=0.9)
    return ax


def reliability_figure(reliability_frame: pd.DataFrame, note: str = ""):
    """A ``matplotlib.figure.Figure`` (no pyplot) with a reliability diagram per
    checkpoint (``backtest.reliability``), side by side; ``note`` under them (the
    seed and version). Save it with ``figure.savefig(path)``."""
    from matplotlib.figure import Figure

    checkpoints = list(dict.fromkeys(reliability_frame["at"]))
    figure = Figure(figsize=(4.2 * max(1, len(checkpoints)), 4.9))
    axes = figure.subplots(1, max(1, len(checkpoints)), squeeze=False)[0]
    for ax, at in zip(axes, checkpoints):
        plot_reliability(ax, reliability_frame[reliability_frame["at"] == at],
                         title=f"at {at:.0%} of the duration")
    if note:
        figure.text(0.5, 0.01, note, ha="center", va="bottom", fontsize=8, color=MUTED)
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    return figure


# ----------------------------------------------------------------------------- track

__all__ += ["plot_track"]


def plot_track(ax: Axes, observed: pd.DataFrame, fan: pd.DataFrame, goal: float,
               duration_days: int, labels: Labels | None = None) -> Axes:
    """A live campaign: the pledges so far, the fan of what remains, the goal and the
    pace needed.

    Parameters
    ----------
    observed : DataFrame
        ``Track.observed``: ``day`` and ``pledged`` (running total), the last row
        being today.
    fan : DataFrame
        ``Track.fan``: ``day`` (the end of each day from today to the deadline) and
        ``p10``, ``p50``, ``p90`` of the running total; drawn from today's point.
    goal, duration_days : the goal line, and the deadline the x axis ends at.
    """
    labels = labels or Labels()
    now, pledged = float(observed["day"].iloc[-1]), float(observed["pledged"].iloc[-1])
    ahead = fan[fan["day"] > now]
    day = np.concatenate([[now], ahead["day"].to_numpy(float)])
    band = {k: np.concatenate([[pledged], ahead[k].to_numpy(float)])
            for k in ("p10", "p50", "p90")}
    ax.fill_between(day, band["p10"], band["p90"], color=BAND, alpha=0.6, linewidth=0,
                    label=labels["track_band"])
    ax.plot(day, band["p50"], color=MAIN, lw=1.8, ls="--", label=labels["track_median"])
    ax.plot(observed["day"], observed["pledged"], color=MAIN, lw=2, marker="o", ms=3.5,
            label=labels["track_observed"])
    ax.axhline(goal, color=GOAL, lw=1.5, ls="--",
               label=labels("goal_line", goal=labels.money(goal)))
    if pledged < goal and now < duration_days:
        pace = (goal - pledged) / (duration_days - now)
        ax.plot([now, duration_days], [pledged, goal], color=LOW, lw=1.5, ls=":",
                label=labels("track_pace_line", money=labels.money(pace, 0)))
    ax.axvline(now, color=MUTED, lw=1, ls="-", alpha=0.7)
    top = max(float(band["p90"].max()), goal, float(observed["pledged"].max()))
    today = labels("day", n=labels.number(now, 0 if float(now).is_integer() else 1))
    ax.annotate(labels("track_today", day=today), (now, 0), xytext=(4, 4),
                textcoords="offset points", ha="left", va="bottom", fontsize=8.5,
                color="#333333")
    return _running_total_axes(ax, duration_days, top, labels)
