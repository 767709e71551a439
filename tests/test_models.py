"""The shipped examples say what their comments claim."""
from pathlib import Path

import numpy as np

import forecast

import reference as ref

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"


def test_seed_example_expected_total_is_the_seeds_arithmetic():
    """1000 friends × 25 % = 250, as many again from friends of friends, × $50 = $25,000."""
    scenario = forecast.load_scenario(MODELS / "seed-1000-friends.toml")
    entourage, friends = scenario.circles
    days = scenario.duration_days
    pledgers = entourage.size * entourage.conversion.mean
    q = ref.lag_q(friends.lag_days)
    t = entourage.timing
    weights = ref.day_weights(days, t.launch_share, t.launch_days, t.final_share,
                              t.final_days)
    landing = sum(pledgers * w * (1 - q ** (days - s)) for s, w in enumerate(weights))
    offspring = friends.reach_per_pledger * friends.conversion.mean * landing
    amount = scenario.rewards[0].amount
    expected = amount * (pledgers + offspring)
    assert pledgers == 250 and amount == 50
    assert abs(offspring - 250) < 0.05          # "as many again"
    assert abs(expected - 25_000) < 5           # the seed's $25,000
    result = forecast.simulate(scenario, 100_000, rng=11)
    assert abs(result.totals.mean() - expected) < 5 * ref.mean_se(result.totals)


def test_la_ruche_example_is_a_plausible_la_ruche_campaign():
    """Goal between $15k and $30k, five circles, tiers with costs, a B2B commitment,
    an average pledge within La Ruche's $76 to $113 per contributor."""
    scenario = forecast.load_scenario(MODELS / "la-ruche-lunch-box.toml")
    assert scenario.platform == "la-ruche" and 15_000 <= scenario.goal <= 30_000
    assert {c.kind for c in scenario.circles} == {"stock", "source", "flow"}
    assert len(scenario.circles) >= 5 and scenario.commitments
    assert all(r.unit_cost > 0 for r in scenario.rewards)
    average = sum(r.amount * r.share for r in scenario.rewards)
    assert 76 <= average <= 113
    result = forecast.simulate(scenario, 20_000, rng=3)
    assert 0.05 < result.probability() < 0.95   # a real question, not a foregone answer
    assert np.isfinite(result.summary()["need_probability"])


def test_the_docs_open_with_a_scenario_that_runs():
    """docs/model.md's first TOML block is a complete scenario: it loads and runs."""
    import re
    import tomllib
    text = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", text, re.S).group(1)
    scenario = forecast.Scenario.from_dict(tomllib.loads(block))
    assert scenario.need is not None and len(scenario.circles) == 2
    assert 0.0 <= forecast.simulate(scenario, 500, rng=1).probability() <= 1.0
