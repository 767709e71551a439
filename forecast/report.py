"""The advisor's report: a PDF an advisor reads in five minutes.

``build_report`` simulates the scenario (``simulate``), every candidate goal and
duration (``sweep``, ``recommend``) and what matters most (``sensitivity``), all
from one seed, then assembles the pages with matplotlib's ``PdfPages``:

(a) summary, (b) the campaign day by day, (c) probability against the goal,
(d) goals × durations, (e) where the money comes from, (f) what matters most,
(g) assumptions (every input, its uncertainty, the descriptions written for the
report in its language, and what reproduces the figures: seed, version, date,
SHA-256 of the scenario file).

Each page is a ``matplotlib.figure.Figure`` drawn without pyplot, so nothing
needs a display. The PDF is written to a temporary file beside the target and
moved into place with ``os.replace``: a failure never leaves a half-written
report. This module knows nothing of the command line.
"""
from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from . import plots
from .assumptions import assumption_rows, file_sha256
from .i18n import LANGUAGES, Labels, default_language
from .io import atomic_path
from .result import Result, normalize_seed, package_version, seed_label, simulate
from .scenario import Scenario
from .advice import FACTORS, covered_goal, net_at_goal, recommend, what_it_takes
from .sweep import goal_range, sensitivity, sweep

__all__ = ["build_report", "compute", "render", "default_durations",
           "launch_effect", "ReportData", "DEFAULT_SIMS"]

#: Simulated campaigns per cell by default: about 20 seconds for the La Ruche example
#: (125 sweep cells and 39 sensitivity runs), a 95 % interval of about ±0.8 points.
DEFAULT_SIMS = 10_000
#: A4 landscape, inches.
PAGE = (11.69, 8.27)
#: Days whose pledges make "the launch" in the weak-launch fact.
LAUNCH_DAYS = 3
#: Rows of the tornado at most.
TORNADO_ROWS = 20

Progress = Callable[[str, int, int], Any]


# ----------------------------------------------------------------------------- arguments

def default_durations(scenario: Scenario) -> list[int]:
    """The scenario's duration, one and two weeks shorter and longer, within the
    platform's rules and long enough to hold every commitment's day."""
    rules = scenario.platform_rules
    high = rules.max_days if rules.max_days is not None else 10**6
    low = max([rules.min_days] + [c.day + 1 for c in scenario.commitments])
    days = {min(max(scenario.duration_days + d, low), high)
            for d in (-14, -7, 0, 7, 14)}
    return sorted(days)


# ----------------------------------------------------------------------------- computing

@dataclass(frozen=True)
class ReportData:
    """Everything the pages show, computed once from one seed."""

    scenario: Scenario
    result: Result
    sweep: pd.DataFrame
    recommend: pd.DataFrame
    levers: pd.DataFrame
    sensitivity: pd.DataFrame
    target: float
    seed: Any
    sims: int
    #: True when the goals were given (--goals), False when ``goal_range`` chose them
    goals_given: bool
    sha256: str | None
    date: str
    version: str


def compute(scenario: Scenario, *, sims: int = DEFAULT_SIMS, rng: Any = None,
            goals: Sequence[float] | None = None, durations: Sequence[int] | None = None,
            target: float = 0.80, progress: Progress | None = None,
            workers: int = 1) -> ReportData:
    """Simulate the scenario, the sweep and the sensitivity with one seed.

    The sweep always includes the scenario's own goal and duration, so that the
    summary and the charts agree (common random numbers: the sweep's cell at the
    plan is exactly ``simulate(scenario, sims, rng=seed)``).
    """
    seed = normalize_seed(rng)
    covering = covered_goal(scenario)
    include = [scenario.goal] + ([] if covering is None else [covering])
    goals_given = goals is not None
    goals = (goal_range(scenario, include=include, sims=min(int(sims), 20_000), rng=seed,
                        workers=workers)
             if goals is None else np.union1d(np.asarray(goals, dtype=float), include))
    durations = sorted(set(default_durations(scenario) if durations is None else
                           [int(d) for d in durations]) | {scenario.duration_days})

    def step(stage: str) -> Callable[[int, int], None] | None:
        if progress is None:
            return None
        return lambda done, total: progress(stage, done, total)

    if progress:
        progress("simulate", 0, 1)
    result = simulate(scenario, sims, rng=seed, workers=workers)
    if progress:
        progress("simulate", 1, 1)
    swept = sweep(scenario, goals, durations, sims=sims, rng=seed, progress=step("sweep"),
                  workers=workers)
    recommended = recommend(swept, scenario, target=target)
    plan = recommended[recommended["duration_days"] == scenario.duration_days].iloc[0]
    at = plan["recommended_goal"] if np.isfinite(plan["recommended_goal"]) else scenario.goal
    cell = swept[(swept["duration_days"] == scenario.duration_days)
                 & np.isclose(swept["goal"], float(at), rtol=1e-12)].iloc[0]
    levers = what_it_takes(scenario, float(at), target, sims=sims, rng=seed,
                           progress=step("levers"), workers=workers,
                           probability=float(cell["probability"]))
    # what matters most where the answer is open: at the recommended goal (at a plan
    # far out of reach every input would move a probability of 0)
    effects = sensitivity(scenario.with_(goal=float(at)), sims=sims, rng=seed,
                          progress=step("sensitivity"), workers=workers,
                          probability=float(cell["probability"]))
    sha = (file_sha256(scenario.path) if scenario.path and Path(scenario.path).is_file()
           else None)
    return ReportData(scenario=scenario, result=result, sweep=swept, recommend=recommended,
                      levers=levers, sensitivity=effects, goals_given=goals_given,
                      target=target, seed=seed_label(seed), sims=int(sims), sha256=sha,
                      date=datetime.date.today().isoformat(), version=package_version())


def launch_effect(result: Result, days: int = LAUNCH_DAYS, quantile: float = 0.25
                  ) -> dict[str, float] | None:
    """P(success) for the campaigns whose first ``days`` days bring the least.

    From the daily paths kept by the engine (the first ``engine.PATH_SIMS``
    simulations): the threshold is the ``quantile`` of the money pledged by the
    end of day ``days - 1``, rounded to two significant figures, and the weak
    launches are those below it.
    """
    paths = result.outcome.paths
    if paths.shape[0] == 0 or paths.shape[1] < days:
        return None
    early = paths[:, days - 1].astype(float)
    threshold = float(np.quantile(early, quantile))
    if threshold > 0:
        threshold = float(f"{threshold:.2g}")
    weak = early < threshold
    if not weak.any():
        return None
    success = result.success[: paths.shape[0]]
    return {"threshold": threshold, "probability_weak": float(success[weak].mean()),
            "share_weak": float(weak.mean()), "probability": result.probability()}


def _input_texts(frame: pd.DataFrame, labels: Labels) -> pd.DataFrame:
    """Add ``label``, ``low_text``, ``high_text`` to a sensitivity frame, in words."""
    rows = []
    for name, low, high in zip(frame["input"], frame["low"], frame["high"]):
        owner, _, what = name.partition(": ")
        money = lambda v: labels.money(v, 0 if v >= 10 else 2)  # noqa: E731
        pct = lambda v: labels.percent(v, 1 if v < 0.1 else 0)  # noqa: E731
        count = lambda v: labels.number(v, 0 if v >= 20 else 1)  # noqa: E731
        known = {
            "size": ("in_size", count), "daily_reach": ("in_daily_reach", count),
            "budget": ("in_budget", money), "reach_per_pledger": ("in_reach_per_pledger", count),
            "conversion": ("in_conversion", pct), "pledge mean": ("in_pledge_mean", money),
        }
        if what in known:
            key, fmt = known[what]
            rows.append((labels(key, circle=owner), fmt(low), fmt(high)))
        elif owner == "rewards":
            rows.append((labels["in_average_pledge"], money(low), money(high)))
        elif owner == "timing" and what in ("launch_share", "final_share"):
            rows.append((labels[f"in_{what}"], pct(low), pct(high)))
        elif what.startswith("probability"):
            rows.append((labels("in_commitment", name=owner), labels["declines"],
                         labels["commits"]))
        else:
            rows.append((name, labels.number(low, 2), labels.number(high, 2)))
    out = frame.copy()
    out["label"], out["low_text"], out["high_text"] = zip(*rows) if rows else ((), (), ())
    return out


# ----------------------------------------------------------------------------- pages

class _Page:
    """A titled A4 landscape page with its footer; ``area`` is the room left."""

    def __init__(self, title: str, note: str | None, footer: str):
        self.figure = Figure(figsize=PAGE)
        fig = self.figure
        fig.text(0.04, 0.955, title, fontsize=20, fontweight="bold", va="top",
                 color=plots.MAIN)
        if note:
            fig.text(0.04, 0.905, "\n".join(self._note_lines(note)), fontsize=10,
                     va="top", color="#333333", linespacing=1.3)
        fig.text(0.04, 0.025, footer, fontsize=7.5, color=plots.MUTED)
        self.top = self.top_below(note)

    @staticmethod
    def _note_lines(note: str) -> list[str]:
        return plots.wrap_text(note, _chars(0.92, 10))

    @classmethod
    def top_below(cls, note: str | None) -> float:
        """Where the room of a page with ``note`` starts (page fraction, from the bottom)."""
        return 0.895 - 0.022 * len(cls._note_lines(note)) if note else 0.895

    def axes(self, left: float, bottom: float, width: float, height: float):
        return self.figure.add_axes((left, bottom, width, height))


def _chars(width: float, fontsize: float) -> int:
    """Characters of text that fit in ``width`` (fraction of the page width)."""
    return int(width * PAGE[0] * 72 / (plots.CHAR_EM * fontsize))


def _table(page: "_Page", left: float, top: float, width: float, columns: Sequence[str],
           rows: Sequence[Sequence[str]], **options: Any) -> float:
    """Draw a table whose top is at ``top`` (page fraction); return its bottom."""
    fontsize = options.get("fontsize", 9)
    height = plots.table_height(columns, rows, widths=options["widths"],
                                width_pt=width * PAGE[0] * 72, fontsize=fontsize)
    height /= PAGE[1] * 72
    plots.plot_table(page.axes(left, top - height, width, height), columns, rows, **options)
    return top - height


def _footer(data: ReportData, labels: Labels, page: int, pages: int) -> str:
    s = data.scenario
    return labels("footer", name=s.name, goal=labels.money(s.goal),
                  days=labels.days(s.duration_days), sims=labels.number(data.sims),
                  seed=data.seed, page=page, pages=pages)


def _wrapped(fig: Figure, x: float, y: float, text: str, width: float, **kw) -> float:
    """Write text wrapped to ``width`` (page fraction) from (x, y) down; return the
    y below it."""
    size = kw.pop("fontsize", 10)
    spacing = kw.pop("linespacing", 1.3)
    lines = plots.wrap_text(text, _chars(width, size))
    fig.text(x, y, "\n".join(lines), va="top", fontsize=size, linespacing=spacing, **kw)
    return y - len(lines) * size * spacing / (72 * PAGE[1])


#: The lines of what the owner receives, from gross to net.
MONEY_KEYS = ("gross", "fees", "reward_costs", "net")


def _success_breakdown(result: Result) -> dict[str, dict[str, float]] | None:
    """Gross, fees, reward costs, net, pledgers of the successful campaigns: the
    mean, and the campaigns at the 10th and 90th percentiles of gross."""
    success = result.success
    if not success.any():
        return None
    parts = {"gross": result.totals, "fees": result.fees,
             "reward_costs": result.reward_costs, "net": result.net,
             "backers": result.backers.astype(float)}
    parts = {key: values[success] for key, values in parts.items()}
    order = np.argsort(parts["gross"], kind="stable")
    out = {"mean": {key: float(values.mean()) for key, values in parts.items()}}
    for name, q in (("weak", 0.10), ("strong", 0.90)):
        k = order[min(len(order) - 1, int(round(q * (len(order) - 1))))]
        out[name] = {key: values[k] for key, values in parts.items()}
    return out


def _plan_row(data: ReportData) -> pd.Series:
    rec = data.recommend
    return rec[rec["duration_days"] == data.scenario.duration_days].iloc[0]


def _heading(fig: Figure, x: float, y: float, text: str, width: float,
             fontsize: float = 13) -> float:
    """A bold heading wrapped to ``width``; return the y below it."""
    return _wrapped(fig, x, y, text, width, fontsize=fontsize, fontweight="bold",
                    linespacing=1.2) - 0.012


def _summary_page(data: ReportData, labels: Labels, footer: str,
                  contents: Sequence[str] = ()) -> Figure:
    s, result = data.scenario, data.result
    days = labels.days(s.duration_days)
    platform = labels.platform(s.platform)
    page = _Page(labels["summary_title"], labels("summary_lead", goal=labels.money(s.goal),
                                                 days=days, platform=platform), footer)
    fig = page.figure
    p = result.probability()
    low, high = result.ci95()
    x, width, y = 0.04, 0.44, page.top - 0.015
    y = _heading(fig, x, y, labels["probability_heading"], width)
    fig.text(x, y + 0.01, labels.percent(p), fontsize=40, fontweight="bold", va="top",
             color=plots.MAIN)
    y = _wrapped(fig, x, y - 0.085, labels("probability_interval", low=labels.percent(low),
                                             high=labels.percent(high),
                                             sims=labels.number(data.sims)), width)

    plan = _plan_row(data)
    y = _heading(fig, x, y - 0.035, labels["recommended_heading"], width)
    target = labels.percent(data.target, 0)
    goal = plan["recommended_goal"]
    if np.isfinite(goal):
        fig.text(x, y + 0.005, labels.money(goal), fontsize=24, fontweight="bold", va="top",
                 color=plots.MAIN)
        p_goal = labels.percent(plan["recommended_probability"])
        text = (labels("recommended_need", goal=labels.money(goal), p=p_goal, days=days,
                       need=labels.money(s.need), net=labels.money(net_at_goal(s, goal)))
                if plan["basis"] == "need" else
                labels("recommended_target", target=target, days=days, p=p_goal))
        y = _wrapped(fig, x, y - 0.055, text, width)
        if plan["basis"] == "need" and plan["recommended_probability"] < data.target:
            y = _wrapped(fig, x, y - 0.008, labels("recommended_short", target=target,
                                                    page=labels["levers_title"]), width)
        elif (plan["basis"] == "need" and np.isfinite(plan["target_goal"])
              and plan["target_goal"] > goal):
            y = _wrapped(fig, x, y - 0.008, labels("recommended_above", target=target,
                                                    goal=labels.money(plan["target_goal"])),
                         width)
    else:
        y = _wrapped(fig, x, y, labels("recommended_none", low=labels.money(
            data.sweep["goal"].min()), target=target, days=days), width)

    if contents:
        y = _heading(fig, x, y - 0.035, labels["contents_heading"], width, fontsize=12)
        fig.text(x, y, "\n".join(_contents_lines(contents)), fontsize=9.5, va="top",
                 linespacing=1.5, color="#333333")

    # The three facts, on the right.
    fx, fwidth, fy = 0.54, 0.42, page.top - 0.015
    fy = _heading(fig, fx, fy, labels["facts_heading"], fwidth) - 0.01
    for k, fact in enumerate(_facts(data, labels), start=1):
        fig.text(fx, fy + 0.004, f"{k}", fontsize=22, fontweight="bold", va="top",
                 color=plots.MAIN)
        fy = _wrapped(fig, fx + 0.035, fy, fact, fwidth - 0.035, fontsize=11) - 0.025

    # What the owner receives, below the facts.
    fy = _heading(fig, fx, fy - 0.02, labels["receive_heading"], fwidth, fontsize=12)
    breakdown = _success_breakdown(result)
    mean = breakdown["mean"] if breakdown else {}
    rows = [[labels[k], labels.money(mean[k]) if mean else "—"] for k in MONEY_KEYS]
    fy = _table(page, fx, fy, fwidth, ["", labels["receive_column"]], rows,
                widths=[0.66, 0.34], align=["left", "right"],
                styles=[None] * (len(rows) - 1) + ["total"], fontsize=9.5)
    fy = _wrapped(fig, fx, fy - 0.012, labels("missed_line", payout=labels.money(
        float(result.payout.mean()))), fwidth, fontsize=9, color="#333333")
    if s.need is not None:
        need_p = result.need_probability()
        _wrapped(fig, fx, fy - 0.006, labels("need_line", need=labels.money(s.need),
                                             p=labels.percent(need_p)), fwidth, fontsize=9,
                 color="#333333")
    return fig


def _contents_lines(titles: Sequence[str]) -> list[str]:
    """ "2   Title" for each page after the first; repeated titles as one range."""
    lines, number = [], 2
    while number <= len(titles):
        title, last = titles[number - 1], number
        while last < len(titles) and titles[last] == title:
            last += 1
        lines.append(f"{number}{'–' + str(last) if last > number else ''}   {title}")
        number = last + 1
    return lines


def _facts(data: ReportData, labels: Labels) -> list[str]:
    """The three facts that matter most, generated from the numbers."""
    facts = []
    effects = _input_texts(data.sensitivity, labels)
    if len(effects):
        top = effects.iloc[0]
        facts.append(labels("fact_sensitivity", input=top["label"], low_value=top["low_text"],
                            goal=labels.money(data.sensitivity.attrs["goal"]),
                            high_value=top["high_text"],
                            low=labels.percent(top["probability_low"], 0),
                            high=labels.percent(top["probability_high"], 0)))
    half = data.result.milestones().get("50", {})
    launch = launch_effect(data.result)
    if launch and half.get("median_day") is not None:
        facts.append(labels("fact_launch", day=labels.day(half["median_day"]), n=LAUNCH_DAYS,
                            amount=labels.money(launch["threshold"]),
                            p=labels.percent(launch["probability_weak"], 0),
                            all=labels.percent(launch["probability"], 0)))
    circles = data.result.by_circle()
    circles = circles[circles["kind"] != "completion"].sort_values("share", ascending=False)
    if len(circles):
        top = circles.iloc[0]
        name = labels("the_commitment" if top["kind"] == "commitment" else "the_circle",
                      name=top["name"])
        facts.append(labels("fact_circle", circle=name[:1].upper() + name[1:],
                            share=labels.percent(top["share"], 0),
                            amount=labels.money(top["amount_mean"]),
                            pledgers=labels.number(top["pledgers_mean"])))
    return facts


def _daily_page(data: ReportData, labels: Labels, footer: str) -> Figure:
    page = _Page(labels["daily_title"], labels["daily_note"], footer)
    daily = data.result.daily()
    bottom_h = 0.25
    top_ax = page.axes(0.09, 0.11 + bottom_h + 0.09, 0.87, page.top - 0.12 - bottom_h - 0.1)
    plots.plot_fan(top_ax, daily, data.scenario.goal, labels, data.result.milestones())
    plots.plot_daily(page.axes(0.09, 0.11, 0.87, bottom_h), daily, labels)
    return page.figure


def _curves_page(data: ReportData, labels: Labels, footer: str) -> Figure:
    page = _Page(labels["curves_title"], labels["curves_note"], footer)
    plan = _plan_row(data)
    ax = page.axes(0.09, 0.1, 0.87, page.top - 0.14)
    plots.plot_probability_curves(ax, data.sweep, data.target, plan["recommended_goal"], labels,
                                  planned_days=data.scenario.duration_days,
                                  goal=data.scenario.goal)
    return page.figure


def _heatmap_page(data: ReportData, labels: Labels, footer: str) -> Figure:
    page = _Page(labels["heatmap_title"], labels["heatmap_note"], footer)
    ax = page.axes(0.1, 0.1, 0.8, page.top - 0.14)
    plots.plot_heatmap(ax, data.sweep, labels,
                       planned=(data.scenario.goal, data.scenario.duration_days))
    return page.figure


def _money_page(data: ReportData, labels: Labels, footer: str) -> Figure:
    page = _Page(labels["money_title"], labels["money_note"], footer)
    fig, result = page.figure, data.result
    heading = dict(fontsize=12, fontweight="bold", va="top")
    circles = result.by_circle()
    top = page.top - 0.02
    fig.text(0.04, top, labels["circles_heading"], **heading)
    height = min(0.3, 0.035 * len(circles) + 0.06)
    ax = page.axes(0.3, top - 0.04 - height, 0.66, height)
    plots.plot_circles(ax, circles, labels)

    y = top - 0.04 - height - 0.08
    fig.text(0.04, y, labels["tiers_heading"], **heading)
    tiers = result.by_tier()
    rows = [[r["name"] or labels.money(r["amount"]), labels.money(r["amount"]),
             labels.percent(r["share"], 0), labels.number(r["pledgers_mean"]),
             labels.money(r["amount_mean"]), labels.money(r["unit_cost"]),
             labels.money(r["cost_mean"])] for _, r in tiers.iterrows()]
    if len(tiers):
        rows.append([labels["tiers_total"], "", "",
                     labels.number(tiers["pledgers_mean"].sum()),
                     labels.money(tiers["amount_mean"].sum()), "",
                     labels.money(tiers["cost_mean"].sum())])
    _table(page, 0.04, y - 0.035, 0.56,
           [labels["col_tier"], labels["col_price"], labels["col_chosen"],
            labels["col_pledgers"], labels["col_amount"], labels["col_unit_cost"],
            labels["col_cost"]], rows,
           widths=[0.21, 0.13, 0.11, 0.15, 0.12, 0.13, 0.15],
           align=["left"] + ["right"] * 6,
           styles=([None] * (len(rows) - 1) + ["total"]) if len(tiers) else None,
           fontsize=8)

    fig.text(0.64, y, labels["budget_heading"], **heading)
    breakdown = _success_breakdown(result)
    columns = ["", labels["col_weak_success"], labels["col_mean_success"],
               labels["col_strong_success"]]
    rows = []
    for key in ("backers", *MONEY_KEYS):
        fmt = labels.number if key == "backers" else labels.money
        rows.append([labels[key]] + [fmt(breakdown[c][key]) if breakdown else "—"
                                     for c in ("weak", "mean", "strong")])
    bottom = _table(page, 0.64, y - 0.035, 0.32, columns, rows,
                    widths=[0.37, 0.21, 0.21, 0.21], align=["left"] + ["right"] * 3,
                    styles=[None] * (len(rows) - 1) + ["total"], fontsize=8)
    _wrapped(fig, 0.64, bottom - 0.015, labels["budget_note"], 0.32, fontsize=8,
             color="#333333")
    return fig


def _lever_value(value: float, unit: str, labels: Labels) -> str:
    if not np.isfinite(value):
        return "—"
    if unit == "factor":
        return f"×{labels.number(value, 2)}"
    if unit == "people":
        return labels.number(value)
    if unit in ("people per day", "people per pledger"):
        return labels.number(value, 1)
    return labels.money(value)


def _levers_page(data: ReportData, labels: Labels, footer: str) -> Figure:
    levers, s = data.levers, data.scenario
    a = levers.attrs
    page = _Page(labels["levers_title"], labels(
        "levers_note", target=labels.percent(a["target"], 0), goal=labels.money(a["goal"]),
        days=labels.days(s.duration_days), p=labels.percent(a["probability"]),
        sims=labels.number(a["sims"]), largest=labels.number(FACTORS[-1])), footer)
    rows = []
    for _, r in levers.iterrows():
        name = (labels["lever_conversion"] if r["key"] == "conversion" else
                labels(f"lever_{r['key']}", circle=r["circle"]))
        rows.append([name, _lever_value(r["current"], r["unit"], labels),
                     _lever_value(r["required"], r["unit"], labels),
                     labels.percent(r["probability"]) if np.isfinite(r["probability"])
                     else "—", labels[f"plaus_{r['plausibility']}"]])
    _table(page, 0.04, page.top - 0.02, 0.92,
           [labels["col_lever"], labels["col_now"], labels["col_needed"],
            labels["col_p_needed"], labels["col_plausibility"]], rows,
           widths=[0.40, 0.14, 0.14, 0.14, 0.18], align=["left"] + ["right"] * 3 + ["left"],
           fontsize=9.5)
    return page.figure


def _tornado_page(data: ReportData, labels: Labels, footer: str) -> Figure:
    a = data.sensitivity.attrs
    shown = data.sensitivity.head(TORNADO_ROWS)
    page = _Page(labels["tornado_title"], labels(
        "tornado_note", relative=labels.percent(a["relative"], 0),
        goal=labels.money(a["goal"]), days=labels.days(a["duration_days"]),
        se=labels.number(float(shown["effect_se_pp"].max()), 1)), footer)
    frame = _input_texts(shown, labels)
    frame.attrs = dict(data.sensitivity.attrs)
    ax = page.axes(0.33, 0.1, 0.63, page.top - 0.15)
    plots.plot_tornado(ax, frame, labels)
    return page.figure


_ASSUMPTION_WIDTHS = [0.24, 0.13, 0.21, 0.42]


def _assumption_pages(data: ReportData, labels: Labels, output: str
                      ) -> list[tuple[str, Callable]]:
    """The assumption pages, paginated: (title, draw(footer) -> Figure) each."""
    rows = assumption_rows(data.scenario, labels)
    cells = [[r["input"], r["value"], r["uncertainty"], r["note"]] for r in rows]
    styles = ["section" if r["kind"] == "section" else None for r in rows]
    columns = [labels["col_input"], labels["col_value"], labels["col_uncertainty"],
               labels["col_note"]]
    width_pt = 0.92 * PAGE[0] * 72
    fontsize = 7.5
    s = data.scenario
    command = (f"forecast report {s.path} -o {output} --lang {labels.lang} "
               f"--sims {data.sims} --seed {data.seed}")
    goals = np.sort(data.sweep["goal"].unique())
    if data.goals_given:
        steps = np.diff(goals)
        command += " --goals " + (f"{goals[0]:g}:{goals[-1]:g}:{steps[0]:g}"
                                  if len(goals) > 2 and np.allclose(steps, steps[0])
                                  else ",".join(f"{g:g}" for g in goals))
    durations = sorted(data.sweep["duration_days"].unique())
    if durations != sorted(set(default_durations(s)) | {s.duration_days}):
        command += " --days " + ",".join(str(d) for d in durations)
    repro = [
        [labels["seed"], str(data.seed)], [labels["sims"], labels.number(data.sims)],
        [labels["version"], data.version], [labels["date"], data.date],
        [labels["file"], str(s.path or "—")], [labels["sha256"], data.sha256 or "—"],
        [labels["goals_tried"], f"{labels.money(goals[0])} – {labels.money(goals[-1])} "
                                f"({len(goals)})"],
        [labels["durations_tried"], ", ".join(labels.days(d) for d in durations)],
        [labels["command"], command],
    ]
    repro_h = plots.table_height(["", ""], repro, widths=[0.25, 0.75],
                                 width_pt=0.6 * width_pt, fontsize=fontsize) / (72 * PAGE[1])

    # Paginate: the first page holds the reproduction block above the inputs.
    room = (_Page.top_below(labels["assumptions_note"]) - 0.02 - 0.08) * PAGE[1] * 72
    pages: list[list[int]] = [[]]
    used = repro_h * PAGE[1] * 72 + 0.05 * PAGE[1] * 72
    header = plots.table_height(columns, [], widths=_ASSUMPTION_WIDTHS, width_pt=width_pt,
                                fontsize=fontsize)
    used += header
    for i, cell in enumerate(cells):
        h = plots.table_height(columns, [cell], widths=_ASSUMPTION_WIDTHS, width_pt=width_pt,
                               fontsize=fontsize) - header
        if used + h > room and pages[-1]:
            pages.append([])
            used = header
        pages[-1].append(i)
        used += h
    # A section title never ends a page.
    for k in range(len(pages) - 1):
        while pages[k] and styles[pages[k][-1]] == "section":
            pages[k + 1].insert(0, pages[k].pop())

    def draw(k: int, index: list[int]) -> Callable[[str], Figure]:
        def make(footer: str) -> Figure:
            title = labels["assumptions_title"] if k == 0 else labels["assumptions_continued"]
            page = _Page(title, labels["assumptions_note"], footer)
            top = page.top - 0.01
            if k == 0:
                plots.plot_table(page.axes(0.04, top - repro_h, 0.6 * 0.92, repro_h),
                                 [labels["reproduce_heading"], ""], repro,
                                 widths=[0.25, 0.75], fontsize=fontsize)
                top -= repro_h + 0.04
            plots.plot_table(page.axes(0.04, 0.06, 0.92, top - 0.06), columns,
                             [cells[i] for i in index], widths=_ASSUMPTION_WIDTHS,
                             styles=[styles[i] for i in index], fontsize=fontsize)
            return page.figure
        return make

    return [(labels["assumptions_title"], draw(k, index)) for k, index in enumerate(pages)]


# ----------------------------------------------------------------------------- writing

def render(data: ReportData, path: str | os.PathLike, *, lang: str | None = None,
           progress: Callable[[int, int], Any] | None = None) -> list[str]:
    """Draw the pages of ``data`` into the PDF ``path``, atomically.

    ``progress``, if given, is called as ``progress(pages_drawn, pages)`` after each
    page. Returns the title of each page, in order.
    """
    s = data.scenario
    labels = Labels(lang or default_language(s.platform), s.currency)
    builders: list[tuple[str, Callable[[str], Figure]]] = [
        (labels["summary_title"],
         lambda f: _summary_page(data, labels, f, [title for title, _ in builders])),
        (labels["daily_title"], lambda f: _daily_page(data, labels, f)),
        (labels["curves_title"], lambda f: _curves_page(data, labels, f)),
        (labels["heatmap_title"], lambda f: _heatmap_page(data, labels, f)),
        (labels["money_title"], lambda f: _money_page(data, labels, f)),
        *([(labels["levers_title"], lambda f: _levers_page(data, labels, f))]
          if data.levers.attrs["probability"] < data.target else []),
        (labels["tornado_title"], lambda f: _tornado_page(data, labels, f)),
        *_assumption_pages(data, labels, str(path)),
    ]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {
        "Title": labels("report_title", name=s.name),
        "Subject": labels["report_subject"],
        "Author": "forecast",
        "Keywords": f"seed={data.seed}; sims={data.sims}; scenario={s.path or s.name}; "
                    f"forecast={data.version}; lang={labels.lang}",
        "Creator": f"forecast {data.version}",
    }

    def pages() -> Iterator[Figure]:
        for number, (_, build) in enumerate(builders, start=1):
            yield build(_footer(data, labels, number, len(builders)))
            if progress is not None:
                progress(number, len(builders))

    write_pdf(path, metadata, pages())
    return [title for title, _ in builders]


def write_pdf(path: str | os.PathLike, metadata: dict[str, str],
              pages: Iterable[Figure]) -> None:
    """Save each figure ``pages`` yields to the PDF ``path``, atomically.

    The figures are drawn as ``pages`` is iterated, in the report's style
    (``_STYLE``); the PDF is written to a temporary file beside ``path`` and moved
    into place, so that a failure (a full disk, an error while drawing) leaves no
    file and an older one untouched.
    """
    with atomic_path(path) as temporary, matplotlib.rc_context(_STYLE):
        pdf = PdfPages(temporary, metadata=metadata)
        try:
            for figure in pages:
                pdf.savefig(figure)
        except BaseException:
            # After a failed write (a full disk) closing fails too, with a zlib error
            # that would hide the first one; the temporary is removed either way.
            try:
                pdf.close()
            except Exception:
                pass
            raise
        pdf.close()


_STYLE = {
    "font.family": "DejaVu Sans",
    "pdf.fonttype": 42,          # TrueType, subset: text stays extractable, files small
    "text.parse_math": False,    # "$" is a currency here, never mathtext
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
}


def build_report(scenario: Scenario, path: str | os.PathLike, *, lang: str | None = None,
                 sims: int = DEFAULT_SIMS, rng: Any = None,
                 goals: Sequence[float] | None = None,
                 durations: Sequence[int] | None = None, target: float = 0.80,
                 progress: Progress | None = None, workers: int = 1) -> list[str]:
    """Simulate ``scenario`` and write the advisor's report to ``path`` (a PDF).

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (``load_scenario``); its file, when it has one, is read
        for the SHA-256 of the assumptions page.
    path : path-like
        The PDF to write; its folder is created if needed. Written atomically.
    lang : "fr" or "en", optional
        By default French on La Ruche, English elsewhere.
    sims : int
        Simulated campaigns for the plan, each sweep cell and each sensitivity end.
    rng : None, int, SeedSequence or Generator
        The seed, normalised once; it is printed on every page.
    goals, durations : optional
        Candidate goals and durations (by default ``sweep.goal_range``, where the
        odds cross 97 % to 10 %, and ``default_durations``);
        the plan's goal and duration are always added.
    target : float
        The probability of success the recommended goal must reach.
    progress : callable, optional
        Called as ``progress(stage, done, total)`` while simulating.
    workers : int
        Processes sharing each run's chunks; never changes the numbers.

    Returns
    -------
    list of str
        The title of each page.
    """
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"lang = {lang!r} is not valid; expected 'fr' or 'en'")
    data = compute(scenario, sims=sims, rng=rng, goals=goals, durations=durations,
                   target=target, progress=progress, workers=workers)
    return render(data, path, lang=lang, progress=None if progress is None else
                  (lambda done, pages: progress("pages", done, pages)))
