"""The one-page PDF of ``forecast track``, for the advisor of a live campaign.

One A4 landscape page, in French or English (``forecast.i18n``): where the campaign
stands and its odds, the final total's spread, the pace needed, a chart of the path
so far with the fan of what remains to the deadline (``plots.plot_track``), who to
remind and what a few more pledgers would change (``forecast.track_advice``), and a
footer with the seed, the version, the simulations, the effective sample size and
the method. It reuses the report's page, tables and style (``forecast.report``) and
is written the same way: to a temporary file moved into place, so that a failure
never leaves a half-written PDF. This module knows nothing of the command line.
"""
from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Iterator

from matplotlib.figure import Figure

from . import plots
from .i18n import LANGUAGES, Labels, default_language
from .report import _heading, _Page, _table, _wrapped, write_pdf
from .result import seed_label
from .track_advice import reminders, what_ifs
from .tracking import Track

__all__ = ["render_track", "track_page"]


def _method(track: Track, labels: Labels) -> str:
    """The tracking method in the page's language (as named, if it has no translation)."""
    return labels.text.get(f"method_{track.method}", track.method)


def _name(track: Track, labels: Labels, has_scenario: bool) -> str:
    """The scenario's name, or for the generic prior "a campaign of G in D days"."""
    s = track.scenario
    return s.name if has_scenario else labels("track_prior_name", goal=labels.money(s.goal),
                                              days=labels.days(s.duration_days))


def track_page(track: Track, labels: Labels, source: str | None = None,
               has_scenario: bool = True, date: str | None = None) -> Figure:
    """The page of ``track`` as a Figure (drawn without pyplot).

    ``source`` names the observed file in the footer, ``date`` (ISO, today by
    default) the day it was made; without ``has_scenario`` (the generic prior) the
    page says who to remind needs the campaign's scenario instead of listing the
    prior's circles.
    """
    s = track.scenario
    summary = track.summary()
    left = s.duration_days - track.now
    source_text = (labels("track_source_scenario", name=s.name) if has_scenario
                   else labels["track_source_prior"])
    day = labels.number(track.now, 0 if float(track.now).is_integer() else 1)
    lead = labels("track_lead", day=day, days=labels.number(s.duration_days),
                  platform=labels.platform(s.platform), pledged=labels.money(track.pledged),
                  progress=labels.percent(summary["progress"]), goal=labels.money(s.goal),
                  left=labels.days(left), source=source_text)
    footer = labels("track_footer", source=source or "—",
                    sims=labels.number(track.sims), ess=labels.number(track.ess),
                    method=_method(track, labels), seed=summary["seed"],
                    version=track.version,
                    date=date or datetime.date.today().isoformat())
    page = _Page(labels("track_title", name=_name(track, labels, has_scenario)), lead,
                 footer)
    fig = page.figure

    # The key numbers, on the left.
    x, width, y = 0.04, 0.30, page.top - 0.015
    y = _heading(fig, x, y, labels["probability_heading"], width)
    fig.text(x, y + 0.01, labels.percent(track.probability()), fontsize=36,
             fontweight="bold", va="top", color=plots.MAIN)
    low, high = track.probability_interval()
    y = _wrapped(fig, x, y - 0.075, labels(
        "track_interval", low=labels.percent(low), high=labels.percent(high),
        se=labels.number(100 * track.probability_se(), 1),
        sims=labels.number(track.sims), ess=labels.number(track.ess)), width, fontsize=9.5)
    p10, p50, p90 = track.quantiles([0.1, 0.5, 0.9])
    y = _heading(fig, x, y - 0.03, labels["track_final_heading"], width, fontsize=12)
    y = _wrapped(fig, x, y, labels("track_final", p10=labels.money(p10),
                                   p50=labels.money(p50), p90=labels.money(p90)),
                 width, fontsize=10)
    y = _heading(fig, x, y - 0.03, labels["track_pace_heading"], width, fontsize=12)
    gap = s.goal - track.pledged
    pace = (labels("track_pace", money=labels.money(track.needed_per_day(), 0),
                   pledgers=labels.number(track.needed_per_day() / track.pledge_mean, 1),
                   mean=labels.money(track.pledge_mean), gap=labels.money(gap, 0))
            if gap > 0 else labels["track_pace_reached"])
    y = _wrapped(fig, x, y, pace, width, fontsize=10)

    # What more pledgers would change, below the key numbers.
    y = _heading(fig, x, y - 0.03, labels["track_whatif_heading"], width, fontsize=12)
    ifs = what_ifs(track)
    if len(ifs):
        y = _wrapped(fig, x, y, labels("track_whatif_note", mean=labels.money(track.pledge_mean),
                                       gap=labels.money(gap, 0)), width, fontsize=9,
                     color="#333333") - 0.01
        rows = [[f"+{labels.number(r.pledgers)}", labels.money(r.money, 0),
                 labels.percent(r.share_of_gap, 0), labels.percent(r.probability)]
                for r in ifs.itertuples()]
        _table(page, x, y, width, [labels["col_more_pledgers"], labels["col_amount"],
                                   labels["col_share_gap"], labels["col_p_needed"]], rows,
               widths=[0.34, 0.22, 0.22, 0.22], align=["left"] + ["right"] * 3, fontsize=8.5)
    else:
        _wrapped(fig, x, y, labels["track_whatif_none"], width, fontsize=10)

    # The chart on the right, who to remind below it.
    cx, cwidth = 0.42, 0.54
    chart_bottom = 0.40
    ax = page.axes(cx + 0.05, chart_bottom, cwidth - 0.05, page.top - 0.02 - chart_bottom)
    plots.plot_track(ax, track.observed, track.fan, s.goal, s.duration_days, labels)
    ry = _heading(fig, cx, chart_bottom - 0.07, labels["track_remind_heading"], cwidth,
                  fontsize=12)
    if has_scenario:
        ry = _wrapped(fig, cx, ry, labels["track_remind_note"], cwidth, fontsize=9,
                      color="#333333") - 0.01
        circles = reminders(track)
        rows = [[str(r.circle), labels.number(r.pledgers_to_come, 1),
                 labels.money(r.money_to_come, 0)] for r in circles.itertuples()]
        _table(page, cx, ry, cwidth, [labels["col_circle"], labels["col_pledgers_to_come"],
                                      labels["col_money_to_come"]], rows,
               widths=[0.5, 0.25, 0.25], align=["left", "right", "right"], fontsize=8.5)
    else:
        _wrapped(fig, cx, ry, labels["track_no_scenario"], cwidth, fontsize=10)
    return fig


def render_track(track: Track, path: str | os.PathLike, *, lang: str | None = None,
                 source: str | None = None, has_scenario: bool = True) -> Path:
    """Write the one-page PDF of ``track`` to ``path``, atomically.

    Parameters
    ----------
    track : Track
        ``forecast.tracking.track``'s result.
    path : path-like
        The PDF; its folder is created if needed. A failure leaves no file (and an
        existing one untouched).
    lang : "fr" or "en", optional
        By default French on La Ruche, English elsewhere.
    source : str, optional
        The observed file, named in the footer.
    has_scenario : bool
        Whether the track is of the campaign's own scenario, which lists who to
        remind; False for the generic prior, whose circles are not the owner's.

    Returns
    -------
    Path
        The PDF written.
    """
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"lang = {lang!r} is not valid; expected 'fr' or 'en'")
    s = track.scenario
    labels = Labels(lang or default_language(s.platform), s.currency)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {
        "Title": labels("track_title", name=_name(track, labels, has_scenario)),
        "Subject": labels["track_subject"],
        "Author": "forecast",
        "Keywords": f"seed={seed_label(track.seed)}; sims={track.sims}; "
                    f"ess={track.ess:.0f}; method={track.method}; observed={source or '-'}; "
                    f"forecast={track.version}; lang={labels.lang}",
        "Creator": f"forecast {track.version}",
    }

    def page() -> Iterator[Figure]:  # drawn inside write_pdf, in the report's style
        yield track_page(track, labels, source, has_scenario)

    write_pdf(path, metadata, page())
    return path
