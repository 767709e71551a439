"""The whole engine against the day-by-day reference (tests/reference.py,
``simulate_many_reference``), on scenarios that together use every mechanism: the
probability of success, the gross's distribution (its CDF at the reference's
quantiles), the daily curve and each circle's pledgers, each within Z standard errors
of the difference of two independent runs (engine, and at least 20,000 reference
runs). And the Wilson interval against known values.

Planted defects these tests were checked against (issue 17): the post-goal factor
skipped for source circles, the duration fade applied to source circles, and a 68 %
interval labelled 95 %.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import forecast
from forecast.engine import SEED_BLOCK
from forecast.result import wilson_interval

import reference as ref

Z = 5.0                    # standard errors: a false alarm about once in 1.7 million
N_ENGINE = 40_000
N_REFERENCE = 20_000
QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90)

# Sharing: a stock circle fading over a long campaign (its best duration is 24 days), a
# source of it, a lag-0 source
# of that source; a post-goal factor with a goal crossed in mid-campaign; a commitment.
SHARING = {
    "campaign": {"name": "sharing", "goal": 2600, "duration_days": 60,
                 "platform": "custom"},
    "dynamics": {"post_goal_factor": 0.5, "reach_days": 10.0, "fade_per_day": 0.01},
    "reward": [{"amount": 20, "share": 0.6}, {"amount": 50, "share": 0.4}],
    "circle": [
        {"name": "friends", "size": 150, "conversion": {"mean": 0.3, "sd": 0.08},
         "launch_share": 0.5},
        {"name": "friends of friends", "source": "friends", "reach_per_pledger": 6.0,
         "conversion": {"low": 0.05, "high": 0.15}, "lag_days": 4.0},
        {"name": "same day", "source": "friends of friends", "reach_per_pledger": 2.0,
         "conversion": 0.2, "lag_days": 0.0},
    ],
    "commitment": [{"name": "partner", "amount": 300, "probability": 0.6, "day": 5}],
}

# Platforms: two featured flows whose novelty fades, one featured after the goal
# (featured_at above 1); a source hearing from a boosted flow; an ad budget on some
# days; lognormal pledges.
FEATURED = {
    "campaign": {"name": "featured", "goal": 2900, "duration_days": 30,
                 "platform": "custom"},
    "dynamics": {"post_goal_factor": 0.7, "fade_per_day": 0.03},
    "reward": [{"amount": 25, "share": 1.0}],
    "circle": [
        {"name": "friends", "size": 60, "conversion": 0.3},
        {"name": "platform", "daily_reach": 40, "conversion": 0.02, "featured_at": 0.2,
         "featured_boost": 3.0},
        {"name": "newsletter", "daily_reach": 30, "conversion": 0.02, "featured_at": 1.05,
         "featured_boost": 4.0, "pledge": {"mean": 40, "sd": 25}},
        {"name": "word of mouth", "source": "platform", "reach_per_pledger": 3.0,
         "conversion": 0.1, "lag_days": 1.0},
        {"name": "ads", "budget": 400, "cost_per_click": 0.5, "conversion": 0.02,
         "start_day": 3, "end_day": 12},
    ],
}

# The cap with a post-goal factor, amounts that are not whole units.
CAPPED = {
    "campaign": {"name": "capped", "goal": 1500, "duration_days": 20,
                 "platform": "custom"},
    "dynamics": {"post_goal_factor": 0.4},
    "reward": [{"amount": 12.5, "share": 0.5}, {"amount": 33.3, "share": 0.5}],
    "circle": [
        {"name": "friends", "size": 120, "conversion": {"mean": 0.35, "sd": 0.1}},
        {"name": "shares", "source": "friends", "reach_per_pledger": 8.0,
         "conversion": 0.1, "lag_days": 1.5, "size": 40},
    ],
    "commitment": [{"name": "anchor", "amount": 400.75, "day": 0}],
}

SCENARIOS = {"sharing": SHARING, "featured": FEATURED, "capped": CAPPED}


def proportion_se(p: float, n: int) -> float:
    """Standard error of a simulated probability, never below that of 1 in n (a
    probability of 0 or 1 in the sample is not known to be exactly that)."""
    p = min(max(p, 1.0 / n), 1.0 - 1.0 / n)
    return math.sqrt(p * (1 - p) / n)


@pytest.fixture(scope="module", params=list(SCENARIOS))
def runs(request):
    """(spec, engine Result, reference Runs) of a scenario, independent seeds."""
    spec = SCENARIOS[request.param]
    engine = forecast.simulate(forecast.Scenario.from_dict(spec), N_ENGINE, rng=2026)
    reference = ref.simulate_many_reference(spec, N_REFERENCE, seed=17)
    return spec, engine, reference


def test_probability_of_success_matches(runs):
    spec, engine, reference = runs
    goal = spec["campaign"]["goal"]
    p_ref = float(np.mean(reference.gross >= goal))
    assert 0.05 < p_ref < 0.95                         # where the comparison has power
    p_eng = engine.probability()
    se = math.hypot(proportion_se(p_eng, N_ENGINE), proportion_se(p_ref, N_REFERENCE))
    assert abs(p_eng - p_ref) <= Z * se, (p_eng, p_ref, se)


def test_gross_distribution_matches_at_the_reference_quantiles(runs):
    """At each of the reference's quantiles of the gross, the share of engine runs at
    or below it matches the reference's share (the CDF, binomial SEs)."""
    _, engine, reference = runs
    for q in QUANTILES:
        x = float(np.quantile(reference.gross, q))
        p_ref = float(np.mean(reference.gross <= x))
        p_eng = float(np.mean(engine.totals <= x))
        se = math.hypot(proportion_se(p_eng, N_ENGINE), proportion_se(p_ref, N_REFERENCE))
        assert abs(p_eng - p_ref) <= Z * se, (q, x, p_eng, p_ref)


def test_daily_curve_matches_day_by_day(runs):
    """Mean money pledged each day, from the engine's kept daily paths."""
    _, engine, reference = runs
    paths = engine.outcome.paths.astype(float)
    engine_daily = np.diff(paths, axis=1, prepend=0.0)
    assert engine_daily.shape[0] == N_ENGINE
    # float32 paths: each day's money is exact to well below a unit at these totals
    assert np.allclose(paths[:, -1], engine.totals, rtol=0, atol=0.01)
    for day in range(engine_daily.shape[1]):
        e, r = engine_daily[:, day], reference.daily[:, day]
        se = math.hypot(ref.mean_se(e), ref.mean_se(r))
        assert abs(e.mean() - r.mean()) <= Z * se + 1e-9, (day, e.mean(), r.mean())
    # the daily sums, the goal completion's counted in whole cents
    assert np.allclose(engine_daily.mean(axis=0) * N_ENGINE, engine.outcome.daily_money,
                       rtol=1e-7, atol=0.005 * N_ENGINE)


def test_pledgers_of_each_circle_match(runs):
    """Mean pledgers of each circle; the engine keeps only their sum, so the standard
    error of each mean uses the reference's variance (the same law if they agree)."""
    spec, engine, reference = runs
    engine_mean = engine.outcome.circle_pledgers_sum / N_ENGINE
    for i, circle in enumerate(spec["circle"]):
        r = reference.pledgers[:, i].astype(float)
        se = r.std(ddof=1) * math.sqrt(1 / N_ENGINE + 1 / N_REFERENCE)
        assert abs(engine_mean[i] - r.mean()) <= Z * max(se, 1e-9), (
            circle["name"], engine_mean[i], r.mean(), se)


def test_the_references_agree_with_each_other():
    """The vectorised reference against the person-by-person one (tests/reference.py),
    on the sharing scenario cut to 20 days: mean gross and P(success)."""
    spec = {**SHARING, "campaign": {**SHARING["campaign"], "duration_days": 20,
                                    "goal": 1500}}
    slow = ref.simulate_reference(spec, 1500, seed=3)
    fast = ref.simulate_many_reference(spec, N_REFERENCE, seed=4).gross
    assert abs(slow.mean() - fast.mean()) <= Z * math.hypot(ref.mean_se(slow),
                                                            ref.mean_se(fast))
    p_slow, p_fast = float(np.mean(slow >= 1500)), float(np.mean(fast >= 1500))
    assert 0.05 < p_fast < 0.95
    se = math.hypot(proportion_se(p_slow, slow.size), proportion_se(p_fast, fast.size))
    assert abs(p_slow - p_fast) <= Z * se


def test_non_integer_amounts_are_the_same_across_chunk_sizes():
    """Amounts that are not whole units, a cap and a post-goal factor: the same seed
    gives the same numbers bit for bit with one, two or three blocks per chunk."""
    scenario = forecast.Scenario.from_dict(CAPPED)
    sims = 3 * SEED_BLOCK + 123
    results = [forecast.simulate(scenario, sims, rng=5, chunk_size=k * SEED_BLOCK)
               for k in (1, 2, 3)]
    for other in results[1:]:
        assert np.array_equal(other.totals, results[0].totals)
        assert np.array_equal(other.net, results[0].net)
        assert np.array_equal(other.outcome.circle_pledgers_sum,
                              results[0].outcome.circle_pledgers_sum)
    assert not np.all(np.mod(results[0].totals, 1.0) == 0)   # the amounts do have cents


# ----------------------------------------------------------------------------- Wilson

@pytest.mark.parametrize("successes, trials, low, high", [
    # Newcombe (1998), Statistics in Medicine 17, 857-872, table I, method 3 (Wilson).
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_interval_matches_published_values(successes, trials, low, high):
    found = wilson_interval(successes, trials)
    assert found == pytest.approx((low, high), abs=5e-5)        # 4 decimals published


@pytest.mark.parametrize("successes, trials", [(0, 10), (3, 10), (500, 1000),
                                                (9_990, 10_000), (10_000, 10_000)])
def test_wilson_interval_matches_scipy(successes, trials):
    ci = stats.binomtest(successes, trials).proportion_ci(0.95, method="wilson")
    assert wilson_interval(successes, trials) == pytest.approx((ci.low, ci.high),
                                                               abs=1e-6)


def test_result_ci95_is_the_95_percent_wilson_interval():
    result = forecast.simulate(forecast.Scenario.from_dict(CAPPED), 4000, rng=8)
    k = int(np.count_nonzero(result.totals >= CAPPED["campaign"]["goal"]))
    ci = stats.binomtest(k, 4000).proportion_ci(0.95, method="wilson")
    assert result.ci95() == pytest.approx((ci.low, ci.high), abs=1e-6)
    assert result.summary()["ci95"] == pytest.approx([ci.low, ci.high], abs=1e-6)
