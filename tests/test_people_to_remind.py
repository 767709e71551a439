"""Who to remind next (issue 18, item 4): the contact list ranked by expected pledge,
with the live track's odds if each person pledged today."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import forecast
from forecast import contacts as C
from forecast.track_advice import who_to_remind

PEOPLE = pd.DataFrame({
    "row": [2, 3, 4, 5, 6],
    "name": ["Ana", "Béa", "Caro", "Dom", "Eli"],
    "relation": ["friend", "prospect", "family", "friend", "journalist"],
    "interest": ["none", "yes", "none", "none", "none"],
    "amount": [float("nan"), float("nan"), 200.0, float("nan"), float("nan")],
    "contacted": [True, False, True, False, False],
    "newsletters": [2, 0, 1, 0, 0],
    "reminders": [1, 0, 0, 0, 0],
})


def test_ranked_by_chance_times_amount_then_fewest_follow_ups():
    table = who_to_remind(PEOPLE, pledge=60.0)
    expected = {}
    for person in PEOPLE.itertuples():
        promised = person.amount == person.amount  # not NaN
        chance = C._person_prior(person.relation, person.interest, promised, C.PRIORS).mean
        expected[person.name] = chance * (person.amount if promised else 60.0)
    assert dict(zip(table.name, table.expected)) == pytest.approx(expected)
    assert list(table.expected) == sorted(table.expected, reverse=True)
    # Ana and Dom are both friends with no promise: Dom, never followed up, first.
    names = list(table.name)
    assert names.index("Dom") < names.index("Ana")
    assert dict(zip(table.name, table.followed_up))["Ana"] == 1 + 2 + 1
    assert len(who_to_remind(PEOPLE, pledge=60.0, top=2)) == 2


def test_with_a_track_each_row_gives_the_odds_if_that_person_pledged():
    seen = pd.DataFrame({"day": [0.0, 10.0], "pledged": [0.0, 2_000.0]})
    tracked = forecast.track(seen, goal=5_000, duration_days=40, rng=3)
    table = who_to_remind(PEOPLE, tracked)
    # The odds read off the track's own campaigns, each given the person's amount.
    now = np.sum(tracked.weights[tracked.final >= tracked.goal])
    assert table.p_success_now.to_numpy() == pytest.approx(np.full(len(table), now),
                                                           abs=1e-12)
    for row in table.itertuples():
        given = np.sum(tracked.weights[tracked.final + row.amount >= tracked.goal])
        assert row.p_success_if_pledges == pytest.approx(given, abs=1e-12)
        assert row.p_success_if_pledges >= row.p_success_now
    assert table.amount.max() == 200.0 and tracked.pledge_mean in set(table.amount)


def test_clear_errors():
    with pytest.raises(ValueError, match="no column interest"):
        who_to_remind(PEOPLE.drop(columns="interest"))
    with pytest.raises(ValueError, match="pledge = -1"):
        who_to_remind(PEOPLE, pledge=-1.0)
    with pytest.raises(ValueError, match="top = 0"):
        who_to_remind(PEOPLE, top=0)


def test_the_command_lists_the_people_to_remind(tmp_path):
    import json

    from click.testing import CliRunner

    from forecast.cli import main

    contacts = tmp_path / "contacts.csv"
    PEOPLE.drop(columns=["row"]).rename(columns={
        "name": "Name", "relation": "Relation", "interest": "Interest",
        "amount": "Amount promised", "contacted": "Contacted",
        "newsletters": "Newsletter 1", "reminders": "Reminders"}).to_csv(contacts, index=False)
    seen = tmp_path / "seen.csv"
    seen.write_text("day,pledged\n0,0\n10,2000\n")
    args = ["track", str(seen), "--goal", "5000", "--days", "40", "--seed", "3",
            "--sims", "2000", "--contacts", str(contacts)]
    out = CliRunner().invoke(main, args + ["--json"])
    assert out.exit_code == 0, out.output
    listed = json.loads(out.output)["people_to_remind"]
    frame = forecast.read_contacts(contacts)
    tracked = forecast.track(pd.DataFrame({"day": [0.0, 10.0], "pledged": [0.0, 2000.0]}),
                             goal=5000, duration_days=40, sims=2000, rng=3)
    want = who_to_remind(frame, tracked, top=10)
    assert [row["name"] for row in listed] == list(want.name)
    assert [row["p_success_if_pledges"] for row in listed] == list(want.p_success_if_pledges)
    text = CliRunner().invoke(main, args)
    assert text.exit_code == 0 and "People to remind first" in text.output
    bad = CliRunner().invoke(main, args[:-1] + [str(tmp_path / "none.xlsx")])
    assert bad.exit_code != 0 and "none.xlsx" in bad.output
