"""Goal advice (issue 16): the goal that covers the need, from the scenario's own fee
and reward-cost formulas, and what each lever would need to reach a target.

Statistical tolerances are Z = 5 Monte Carlo standard errors, derived where used.
"""
from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats

import forecast
from forecast import advice
from forecast.cli import main
from forecast.scenario import Scenario

import reference as ref

Z = 5.0
ROOT = Path(__file__).resolve().parent.parent
LA_RUCHE = ROOT / "models" / "la-ruche-lunch-box.toml"

#: One reward tier, one stock circle with a fixed rate: pledgers K ~ Binomial(N, p),
#: gross = amount K, and every fee and cost is a fixed multiple of K.
ONE_TIER = {
    "campaign": {"name": "one tier", "goal": 2000, "duration_days": 30,
                 "platform": "kickstarter", "need": 1500},
    "reward": [{"amount": 40, "share": 1.0, "unit_cost": 11.0}],
    "circle": [{"name": "friends", "size": 200, "conversion": 0.3}],
    # Binomial(N, p) exactly: the mechanisms fitted on real campaigns off.
    "dynamics": dict(ref.ISOLATED),
}


def build(spec: dict, **campaign) -> Scenario:
    spec = copy.deepcopy(spec)
    spec["campaign"].update(campaign)
    return Scenario.from_dict(spec)


def fee_rate(s: Scenario) -> float:
    return s.fees.platform_rate + s.fees.payment_rate


def test_need_goal_from_the_fee_and_cost_formulas():
    """G (1 - rate) - (per_pledge + unit_cost) G / amount = need, solved by hand."""
    s = build(ONE_TIER)
    tier = s.rewards[0]
    kept = 1 - fee_rate(s) - (s.fees.per_pledge + tier.unit_cost) / tier.amount
    expected = s.need / kept
    assert advice.need_goal(s) == pytest.approx(expected, rel=1e-12)
    assert advice.net_at_goal(s, expected) == pytest.approx(s.need, rel=1e-12)
    # rounded up to a round figure, never below
    goal = advice.recommended_goal(s)
    assert expected <= goal < expected * 1.02


def test_net_at_goal_is_the_engines_net_for_one_tier():
    """With one tier, every simulated campaign's net is exactly net_at_goal(gross)."""
    s = build(ONE_TIER)
    result = forecast.simulate(s, 3000, rng=4)
    expected = np.array([advice.net_at_goal(s, g) for g in result.totals])
    np.testing.assert_allclose(result.net, expected, rtol=1e-9, atol=1e-6)


def test_net_at_goal_is_the_mean_net_per_gross_for_several_tiers():
    """With tiers picked in their shares, E[net - k gross] = 0 (k from the shares)."""
    spec = copy.deepcopy(ONE_TIER)
    spec["reward"] = [{"amount": 10, "share": 0.5, "unit_cost": 1.0},
                      {"amount": 25, "share": 0.3, "unit_cost": 9.0},
                      {"amount": 60, "share": 0.2, "unit_cost": 30.0}]
    s = Scenario.from_dict(spec)
    result = forecast.simulate(s, 4000, rng=5)
    gap = result.net - np.array([advice.net_at_goal(s, g) for g in result.totals])
    assert abs(gap.mean()) <= Z * gap.std(ddof=1) / math.sqrt(gap.size)


def test_costly_commitment_counted_in_full():
    """A commitment that keeps less per dollar than the pledges: the net of every
    campaign is at least net_at_goal(gross), equal when the commitment is kept."""
    spec = copy.deepcopy(ONE_TIER)
    spec["commitment"] = [{"name": "partner", "amount": 500, "probability": 0.5,
                           "unit_cost": 300.0}]
    s = Scenario.from_dict(spec)
    result = forecast.simulate(s, 2000, rng=6)
    floor = np.array([advice.net_at_goal(s, g) for g in result.totals])
    assert (result.net >= floor - 1e-6).all()
    equal = np.abs(result.net - floor) < 1e-6
    assert 0 < np.count_nonzero(equal) < result.sims  # kept in some campaigns only
    # and the need goal covers the need in that worst mix
    assert advice.net_at_goal(s, advice.need_goal(s)) == pytest.approx(s.need, rel=1e-12)


def test_free_pledges_and_rewards_take_the_worst():
    spec = copy.deepcopy(ONE_TIER)
    spec["circle"].append({"name": "fans", "size": 50, "conversion": 0.2, "pledge": 20})
    s = Scenario.from_dict(spec)
    tier = s.rewards[0]
    kept_rewards = 1 - fee_rate(s) - (s.fees.per_pledge + tier.unit_cost) / tier.amount
    kept_free = 1 - fee_rate(s) - s.fees.per_pledge / 20
    assert advice.need_goal(s) == pytest.approx(s.need / min(kept_rewards, kept_free))


def test_no_need_and_need_never_covered():
    s = build(ONE_TIER)
    assert advice.need_goal(s.with_(need=None)) is None
    spec = copy.deepcopy(ONE_TIER)
    spec["reward"][0]["unit_cost"] = 39.0  # fees and costs take more than the pledge
    assert advice.need_goal(Scenario.from_dict(spec)) == math.inf
    with pytest.raises(ValueError, match="need"):
        advice.advise(Scenario.from_dict(spec), sims=10, rng=0)


@pytest.mark.parametrize("amount", [17523.4, 999.0, 100.0, 2.5e6, 0.37])
def test_round_up(amount):
    rounded = advice.round_up(amount)
    assert amount <= rounded <= amount * 1.02 + 1e-12
    # a round figure: few significant digits
    assert float(f"{rounded:.3g}") == pytest.approx(rounded, rel=1e-12)


def test_recommended_goal_always_covers_the_need_on_the_examples():
    s = forecast.load_scenario(LA_RUCHE)
    for need in (3000, 9000, 11000, 14000):
        one = s.with_(need=need)
        assert advice.net_at_goal(one, advice.recommended_goal(one)) >= need


# ----------------------------------------------------------------------------- levers

def binomial_success(size: int, rate: float, goal: float, amount: float) -> float:
    """P(amount K >= goal) for K ~ Binomial(size, rate)."""
    return float(stats.binom.sf(math.ceil(goal / amount - 1e-9) - 1, size, rate))


@pytest.fixture(scope="module")
def levers():
    s = build(ONE_TIER)
    return s, advice.what_it_takes(s, goal=3000, target=0.8, sims=3000, rng=9)


def test_what_it_takes_against_the_binomial(levers):
    """The value found reaches the target, the one below it does not (exact odds)."""
    s, frame = levers
    sims, target = frame.attrs["sims"], frame.attrs["target"]
    se = math.sqrt(target * (1 - target) / sims)   # of the estimates near the target
    size, rate, amount = s.circles[0].size, s.circles[0].conversion.mean, 40.0
    exact = binomial_success(size, rate, 3000, amount)
    at_base = math.sqrt(max(exact * (1 - exact), 1 / sims) / sims)  # of the base's
    assert frame.attrs["probability"] == pytest.approx(exact, abs=Z * at_base)
    by_key = frame.set_index("key")
    row = by_key.loc["size"]
    assert binomial_success(int(row["required"]), rate, 3000, amount) >= target - Z * se
    assert binomial_success(int(row["short_of"]), rate, 3000, amount) <= target + Z * se
    row = by_key.loc["conversion"]
    assert binomial_success(size, rate * row["required"], 3000, amount) >= target - Z * se
    assert binomial_success(size, rate * row["short_of"], 3000, amount) <= target + Z * se
    assert list(frame.columns) == advice.LEVER_COLUMNS
    # the smallest factor that reaches it: one refining step above one that falls short
    grid = (1.0, *advice.FACTORS)
    for key in ("size", "conversion"):
        row = by_key.loc[key]
        high = min(f for f in grid if f >= row["factor"] - 1e-12)
        low = max(f for f in grid if f < high)
        short = row["short_of"] / row["current"]
        assert 0 < row["factor"] - short <= (high - low) / (advice.REFINE + 1) + 1e-9


def test_plausibility_follows_the_factor(levers):
    _, frame = levers
    for _, r in frame.iterrows():
        factor = r["factor"]
        expected = ("out of reach" if math.isnan(factor) else "reached" if factor <= 1
                    else "plausible" if factor <= advice.PLAUSIBLE
                    else "stretch" if factor <= advice.STRETCH else "unlikely")
        assert r["plausibility"] == expected, r


def test_what_it_takes_reached_and_out_of_reach():
    s = build(ONE_TIER)
    easy = advice.what_it_takes(s, goal=100, target=0.8, sims=500, rng=1)
    assert (easy["plausibility"] == "reached").all()
    assert (easy["factor"] == 1).all()
    # 200 people at 30 % cannot give 10 ** 6 even ten times over
    far = advice.what_it_takes(s, goal=10**6, target=0.8, sims=500, rng=1)
    assert (far["plausibility"] == "out of reach").all() and far["required"].isna().all()
    with pytest.raises(ValueError, match="target"):
        advice.what_it_takes(s, target=1.0, sims=10)
    with pytest.raises(ValueError, match="goal"):
        advice.what_it_takes(s, goal=-1, sims=10)


def test_what_it_takes_is_reproducible():
    s = build(ONE_TIER)
    one = advice.what_it_takes(s, goal=3000, sims=400, rng=3)
    two = advice.what_it_takes(s, goal=3000, sims=400, rng=3, workers=2)
    assert one.equals(two)


# ----------------------------------------------------------------------------- advise, CLI

def test_advise_recommends_the_need_goal_with_its_odds():
    s = forecast.load_scenario(LA_RUCHE).with_(need=17000)
    found = advice.advise(s, sims=600, rng=2)
    assert found.basis == "need" and found.goal == advice.recommended_goal(s)
    assert found.net_at_goal >= s.need
    exact = forecast.simulate(s.with_(goal=found.goal), 600, rng=2).probability()
    assert found.probability == exact  # the same seed: the very same campaigns
    assert not found.reaches_target and (found.levers["plausibility"] != "reached").all()
    goals = found.sweep["goal"]
    assert goals.min() < found.goal < goals.max()


def test_cli_advise_text_and_json():
    s = forecast.load_scenario(LA_RUCHE)
    runner = CliRunner()
    text = runner.invoke(main, ["advise", str(LA_RUCHE), "--sims", "400", "--seed", "1"])
    assert text.exit_code == 0, text.output
    goal = advice.recommended_goal(s)
    assert f"Recommended goal: ${goal:,.0f}" in text.output
    data = json.loads(runner.invoke(main, ["advise", str(LA_RUCHE), "--sims", "400",
                                           "--seed", "1", "--json"]).stdout)
    assert data["goal"] == goal and data["basis"] == "need" and data["seed"] == 1
    assert data["net_at_goal"] >= s.need
    assert {r["key"] for r in data["levers"]} == {"size", "reach_per_pledger", "budget",
                                                   "daily_reach", "conversion"}


def test_cli_advise_lists_every_lever_when_short(tmp_path):
    path = tmp_path / "short.toml"
    path.write_text(LA_RUCHE.read_text(encoding="utf-8").replace(
        "need = 9000 ", "need = 14000 "), encoding="utf-8")
    result = CliRunner().invoke(main, ["advise", str(path), "--sims", "300", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "What it would take to reach 80%" in result.output
    for name in ("entourage: size", "infolettre: size", "publicité Facebook: budget",
                 "conversion (every circle)"):
        assert name in result.output


def test_advise_hands_its_sweep_cell_to_the_levers_and_changes_nothing():
    """advise gives what_it_takes the sweep's probability at the goal instead of
    simulating it again: the levers are exactly those of what_it_takes alone."""
    s = forecast.load_scenario(LA_RUCHE)
    told = forecast.advise(s, sims=2_000, rng=6)
    alone = advice.what_it_takes(s, told.goal, sims=2_000, rng=6)
    assert told.levers.attrs["probability"] == alone.attrs["probability"]
    assert told.levers.equals(alone)
