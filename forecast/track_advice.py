"""What the owner of a live campaign can do now: who to remind and what a few more
pledgers would change (the content of ``forecast track``, text, JSON and page).

From a ``Track`` (``forecast.tracking.track``), with no simulation of its own:

- ``reminders``: the circles by the money still expected from them, largest first
  (the people worth reminding);
- ``what_ifs``: P(success) if N more people pledged today, each the mean pledge, for
  the N that would close a quarter, half and all of the gap to the goal;
- ``track_details``: ``Track.summary()`` with the two above, as plain values.

This module knows nothing of the command line and draws nothing.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import pandas as pd

from .tracking import Track

__all__ = ["GAP_SHARES", "reminders", "what_ifs", "track_details"]

#: The shares of the gap to the goal the what-ifs close, each with mean pledges.
GAP_SHARES = (0.25, 0.5, 1.0)


def reminders(track: Track) -> pd.DataFrame:
    """The circles by the money still expected from them, largest first.

    Returns
    -------
    DataFrame
        ``circle``, ``pledgers_to_come`` (expected would-be pledgers from today to
        the deadline) and ``money_to_come``, one row per circle, sorted by
        ``money_to_come`` descending (ties in the scenario's order).
    """
    return (track.circles.sort_values("money_to_come", ascending=False, kind="stable")
            .reset_index(drop=True))


def what_ifs(track: Track, shares: Sequence[float] = GAP_SHARES) -> pd.DataFrame:
    """P(success) if N more people pledged today, each the mean pledge.

    For each share s of the gap G = goal - pledged, N = ceil(s G / m) with m the
    scenario's mean pledge (``Track.pledge_mean``): the fewest mean pledges that
    close that share. The probability is ``Track.with_pledgers(N)``: every simulated
    campaign gets N m more, so the what-ifs share the track's seed and its Monte
    Carlo error.

    Parameters
    ----------
    track : Track
    shares : sequence of float
        Shares of the gap, each in (0, 1]; repeated N are kept once.

    Returns
    -------
    DataFrame
        ``pledgers`` (N), ``money`` (N m), ``share_of_gap`` (N m / G) and
        ``probability``; no row once the goal is reached (no gap).
    """
    for share in shares:
        if not (0 < share <= 1):
            raise ValueError(f"shares: {share!r} is not valid; expected shares of the gap "
                             "in (0, 1]")
    gap = track.goal - track.pledged
    columns = ["pledgers", "money", "share_of_gap", "probability"]
    if gap <= 0:
        return pd.DataFrame(columns=columns)
    mean = track.pledge_mean
    counts = sorted({max(1, math.ceil(share * gap / mean - 1e-9)) for share in shares})
    return pd.DataFrame([[n, n * mean, n * mean / gap, track.with_pledgers(n)]
                         for n in counts], columns=columns)


def track_details(track: Track) -> dict[str, Any]:
    """``Track.summary()`` with what the owner can do: the JSON of ``forecast track``.

    Adds ``pledge_mean`` (the mean pledge the what-ifs and the pledgers needed a day
    use), ``pledgers_needed_per_day``, ``what_ifs`` and ``circles`` (``reminders``),
    the last two as lists of records.
    """
    details = track.summary()
    details["pledge_mean"] = float(track.pledge_mean)
    details["pledgers_needed_per_day"] = track.needed_per_day() / track.pledge_mean
    details["what_ifs"] = [
        {"pledgers": int(row.pledgers), "money": float(row.money),
         "share_of_gap": float(row.share_of_gap), "probability": float(row.probability)}
        for row in what_ifs(track).itertuples()]
    details["circles"] = [
        {"circle": str(row.circle), "pledgers_to_come": float(row.pledgers_to_come),
         "money_to_come": float(row.money_to_come)}
        for row in reminders(track).itertuples()]
    return details
