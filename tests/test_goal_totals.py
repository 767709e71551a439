"""The totals of many goals from shared sums (goal_totals) against the per-goal walk
they stand for (engine._walk): the same gross, net, backers and closing money, bit
for bit, at goals across the range and at goals a campaign's running total ties
exactly, for every mechanism the shared sums take; None where they do not apply."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import forecast
from forecast import engine
from forecast.goal_totals import GoalTotals, money_unit

ROOT = Path(__file__).resolve().parent.parent
LA_RUCHE = forecast.load_scenario(ROOT / "models" / "la-ruche-lunch-box.toml")
FIELDS = ("gross", "net", "backers", "closing")


def _changed(scenario: forecast.Scenario, *edits) -> forecast.Scenario:
    raw = scenario.to_dict()
    for edit in edits:
        edit(raw)
    return forecast.Scenario.from_dict(raw, scenario.path)


def _amounts_x(factor):
    def edit(raw):
        for tier in raw["reward"]:
            tier["amount"] *= factor
    return edit


def _dynamics(**keys):
    def edit(raw):
        raw.setdefault("dynamics", {}).update(keys)
    return edit


def _free_pledge(raw):
    raw["circle"][5]["pledge"] = {"mean": 40.0, "sd": 25.0}


def _tight_cap(raw):  # the friends of friends' cap binds in about a fifth
    raw["circle"][2]["size"] = 40


def _long_window(raw):  # a final window of 18 days
    raw["timing"]["final_days"] = 6.0


def _not_featured(raw):
    for key in ("featured_at", "featured_boost"):
        raw["circle"][4].pop(key)


def _second_featured(raw):
    raw["circle"][5].update(featured_at=0.6, featured_boost=3.0)


SCENARIOS = {
    "la-ruche": LA_RUCHE,
    "30 days": LA_RUCHE.with_(duration_days=30),
    "90 days": LA_RUCHE.with_(duration_days=90),
    "amounts x 0.75 (quarters)": _changed(LA_RUCHE, _amounts_x(0.75)),
    "no surge": _changed(LA_RUCHE, _dynamics(surge_half_progress=0.0)),
    "no completion": _changed(LA_RUCHE, _dynamics(completion_half_progress=0.0)),
    "no final window": _changed(LA_RUCHE, _dynamics(surge_half_progress=0.0,
                                                    completion_half_progress=0.0)),
    "no post-goal factor": _changed(LA_RUCHE, _dynamics(post_goal_factor=1.0)),
    "a free pledge": _changed(LA_RUCHE, _free_pledge),
    "a binding cap": _changed(LA_RUCHE, _tight_cap),
    "a long final window": _changed(LA_RUCHE, _long_window),
    "nobody featured": _changed(LA_RUCHE, _not_featured),
    "seed-1000-friends": forecast.load_scenario(ROOT / "models" / "seed-1000-friends.toml"),
    "contacts-example": forecast.load_scenario(ROOT / "models" / "contacts-example.toml"),
}


def _chunk(scenario, seed=11, first=8192, n=2500):
    return engine._Chunk(engine._Plan(scenario), np.random.SeedSequence(seed), first,
                         first + n)


def _assert_same(chunk, totals, goals, label):
    for goal in goals:
        old = engine._walk(chunk, float(goal), 0)
        new = totals.walk(float(goal))
        for field in FIELDS:
            np.testing.assert_array_equal(getattr(new, field), getattr(old, field),
                                          err_msg=f"{label}, goal {goal}, {field}")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_shared_sums_give_the_per_goal_walk_bit_for_bit(name):
    scenario = SCENARIOS[name]
    chunk = _chunk(scenario)
    totals = GoalTotals.prepare(chunk)
    assert totals is not None  # every mechanism here is one the shared sums take
    assert (totals.capped.size > 0) == (name == "a binding cap")
    gross = engine._walk(chunk, scenario.goal, 0).gross
    # Goals across the range, and goals that some campaign's total equals.
    goals = list(np.linspace(0.1, 3.0, 12) * scenario.goal)
    goals += list(np.quantile(gross, [0.1, 0.5, 0.9], method="nearest"))
    _assert_same(chunk, totals, goals, name)


def test_ties_at_a_threshold_are_judged_as_the_walk_judges_them():
    """Goals whose featured threshold (30 %) or goal is exactly some campaign's
    running total on some day, before the final window or in it."""
    chunk = _chunk(LA_RUCHE, seed=3, first=0, n=1500)
    totals = GoalTotals.prepare(chunk)
    running, *_ = engine._cross(chunk, LA_RUCHE.goal, None, shared=True)
    ties = np.unique(running[::37, ::4])
    ties = ties[ties > 1000][::4][:25]
    _assert_same(chunk, totals, list(ties) + list(ties / 0.3), "ties")


def test_mechanisms_outside_the_shared_sums_are_left_to_the_per_goal_walk():
    assert money_unit(LA_RUCHE) == 1.0
    assert money_unit(SCENARIOS["amounts x 0.75 (quarters)"]) == 0.25
    cents = _changed(LA_RUCHE, lambda raw: raw["reward"][0].update(amount=12.99))
    assert money_unit(cents) is None
    assert GoalTotals.prepare(_chunk(cents, n=300)) is None
    assert GoalTotals.prepare(_chunk(_changed(LA_RUCHE, _second_featured), n=300)) is None


def test_a_totals_job_gives_the_totals_of_full_runs():
    """engine.run_jobs with ``totals``: the totals of run_goals under the same seed,
    over chunks that cross stream blocks, with the sums left empty; also where the
    shared sums do not apply (two featured circles)."""
    seed = np.random.SeedSequence(5)
    goals = [12_000.0, 16_000.0, 20_000.0, 26_000.0, 31_000.0]
    assert len(goals) >= engine.TOTALS_GOALS  # the shared sums serve them
    for scenario in (LA_RUCHE, _changed(LA_RUCHE, _second_featured)):
        full = engine.run_goals(scenario, goals, 9000, seed, keep_paths=False)
        job = engine.Job(scenario, goals, 9000, seed, keep_paths=False, totals=True)
        (fast,) = list(engine.run_jobs([job], chunk_size=4096))
        for one, two in zip(full, fast):
            for field in FIELDS:
                np.testing.assert_array_equal(getattr(two, field), getattr(one, field))
            assert two.daily_sum.size == 0 and two.paths.size == 0
