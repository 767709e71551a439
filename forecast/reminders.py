"""Who to remind next: the people of the contact spreadsheet ranked by what their
pledge may still bring (issue 18, item 4; docs/contacts.md "Who to remind next").

Seed 000's advice for a live campaign is "relancez, relancez, relancez": remind those
who hinted they would give, if it is not done yet. Each person's chance to pledge is
the prior ``circles_from_contacts`` gives them (their relation, raised by their
interest or a promised amount) and their pledge the amount they promised or the
default pledge. No published figure says how much one reminder brings back, so a
reminder is taken to bring back the same share of anyone's expected pledge: the
ranking is by expected money, ``chance × amount``, largest first, and among equals
the person followed up least (contacted, newsletters, reminders) comes first. With a
live track, each row also says what the odds would be if that person pledged today.
"""
from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .contacts import INTEREST_PRIORS, PLATFORM_PLEDGE, PRIORS, _person_prior

__all__ = ["who_to_remind"]


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
        promised = not pd.isna(record["amount"]) and record["amount"] > 0
        relation = record["relation"] if record["relation"] in PRIORS else "other"
        interest = record["interest"] if record["interest"] in INTEREST_PRIORS else "none"
        chance = _person_prior(relation, interest, promised, PRIORS).mean
        amount = float(record["amount"]) if promised else float(pledge)
        followed = sum(_count(record.get(key)) for key in
                       ("contacted", "newsletters", "reminders"))
        row = {"row": record.get("row"), "name": record.get("name"),
               "relation": relation, "interest": interest, "chance": chance,
               "amount": amount, "expected": chance * amount, "followed_up": followed}
        if tracked is not None:
            row["p_success_now"] = tracked.probability()
            row["p_success_if_pledges"] = tracked.probability(extra=amount)
        rows.append(row)
    columns = ["row", "name", "relation", "interest", "chance", "amount", "expected",
               "followed_up"] + (["p_success_now", "p_success_if_pledges"]
                                 if tracked is not None else [])
    table = pd.DataFrame(rows, columns=columns)
    table = table.sort_values(["expected", "followed_up", "row"],
                              ascending=[False, True, True], kind="stable")
    table = table.reset_index(drop=True)
    return table if top is None else table.head(top)


def _count(value: Any) -> int:
    """A follow-up cell as a count: True/False as 1/0, missing as 0."""
    return 0 if value is None or pd.isna(value) else int(value)
