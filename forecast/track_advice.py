"""What the owner of a live campaign can do now: who to remind and what a few more
pledgers would change (the content of ``forecast track``, text, JSON and page).

From a ``Track`` (``forecast.tracking.track``), with no simulation of its own:

- ``reminders``: the circles by the money still expected from them, largest first
  (the people worth reminding);
- ``what_ifs``: P(success) if N more people pledged today, each the mean pledge, for
  the N that would close a quarter, half and all of the gap to the goal;
- ``track_details``: ``Track.summary()`` with the two above, as plain values;
- ``who_to_remind``: the people of the contact spreadsheet, by the money their pledge
  may still bring (issue 18), with the odds if each pledged today.

This module knows nothing of the command line and draws nothing.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import pandas as pd

from .contacts import INTEREST_PRIORS, PLATFORM_PLEDGE, PRIORS, _missing, _person_prior
from .tracking import Track

__all__ = ["GAP_SHARES", "reminders", "what_ifs", "track_details", "who_to_remind"]

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


# ------------------------------------------------------------ people to remind
# Seed 000's advice for a live campaign is "relancez, relancez, relancez": remind those
# who hinted they would give, if it is not done yet. No published figure says how
# much one reminder brings back, so a reminder is taken to bring back the same share
# of anyone's expected pledge (docs/contacts.md, "Who to remind next").

def who_to_remind(contacts: pd.DataFrame, tracked: Any = None, *,
                  pledge: float | None = None, top: int | None = None) -> pd.DataFrame:
    """The people of ``contacts`` (``read_contacts``), who to remind first at the top.

    Parameters
    ----------
    contacts : DataFrame
        As ``forecast.read_contacts`` gives it.
    tracked : Track, optional
        A live campaign's ``forecast.track``: adds ``p_success_if_pledges`` (the odds
        if the person pledged today) beside ``p_success_now``; its mean pledge is the
        default amount.
    pledge : float, optional
        The amount of someone who promised nothing (default: the track's mean pledge,
        else La Ruche's average pledge).
    top : int, optional
        Keep only this many rows.

    Returns
    -------
    DataFrame
        ``row``, ``name``, ``relation``, ``interest``, ``chance`` (of pledging),
        ``amount``, ``expected`` (chance × amount), ``followed_up`` (contacted +
        newsletters + reminders), and with a track ``p_success_now`` and
        ``p_success_if_pledges``; sorted by ``expected`` (largest first), then
        ``followed_up`` (fewest first), then spreadsheet row.
    """
    if not isinstance(contacts, pd.DataFrame):
        raise TypeError("contacts must be the DataFrame of forecast.read_contacts")
    missing = {"relation", "interest", "amount"} - set(contacts.columns)
    if missing:
        raise ValueError(f"contacts has no column {', '.join(sorted(missing))}; expected "
                         "the DataFrame of forecast.read_contacts")
    if pledge is None:
        pledge = (tracked.pledge_mean if tracked is not None
                  else PLATFORM_PLEDGE["la-ruche"][0])
    if not (math.isfinite(pledge) and pledge > 0):
        raise ValueError(f"pledge = {pledge!r} is not valid; expected an amount > 0")
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise ValueError(f"top = {top!r} is not valid; expected a whole number >= 1")
    rows = []
    for record in contacts.to_dict("records"):
        promised = not _missing(record["amount"])  # as circles_from_contacts reads it
        relation = record["relation"] if record["relation"] in PRIORS else "other"
        interest = record["interest"] if record["interest"] in INTEREST_PRIORS else "none"
        chance = _person_prior(relation, interest, promised, PRIORS).mean
        amount = float(record["amount"]) if promised else float(pledge)
        followed = sum(_count(record.get(key)) for key in
                       ("contacted", "newsletters", "reminders"))
        rows.append({"row": record.get("row"), "name": record.get("name"),
                     "relation": relation, "interest": interest, "chance": chance,
                     "amount": amount, "expected": chance * amount,
                     "followed_up": followed})
    columns = ["row", "name", "relation", "interest", "chance", "amount", "expected",
               "followed_up"]
    table = pd.DataFrame(rows, columns=columns)
    table = table.sort_values(["expected", "followed_up", "row"],
                              ascending=[False, True, True], kind="stable")
    table = table.reset_index(drop=True)
    if top is not None:
        table = table.head(top)
    if tracked is not None:  # the odds only for the rows kept: a pass over sims each
        table["p_success_now"] = tracked.probability()
        table["p_success_if_pledges"] = [tracked.probability(extra=a) for a in table.amount]
    return table


def _count(value: Any) -> int:
    """A follow-up cell as a count: True/False as 1/0, missing as 0."""
    return 0 if value is None or pd.isna(value) else int(value)
