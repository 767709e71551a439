"""Path-dependent dynamics: sharing (source circles), flows and ads, momentum, the
post-goal factor, the cap, and the duration mechanism.

Tolerances are Z = 5 standard errors: sample sd / sqrt(n) for a mean, sqrt(P(1-P)/n)
for a probability, and sqrt(se1² + se2²) for the difference of two independent runs
(independent seeds). To read one circle's pledgers per simulated campaign, circles
pledge fixed amounts 1, 1000 and 1000000 so that the gross total encodes the counts.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import forecast
from forecast.scenario import Scenario

import reference as ref

Z = 5.0


mean_se = ref.mean_se


def probability_se(p: float, n: int) -> float:
    return math.sqrt(max(p * (1 - p), 1 / n) / n)


def build(spec: dict) -> Scenario:
    """The scenario of ``spec``, the mechanisms fitted on real campaigns off unless it
    sets them (they have tests of their own: test_fitted_mechanisms.py)."""
    return Scenario.from_dict(ref.isolated(copy.deepcopy(spec)))


def with_defaults(spec: dict) -> Scenario:
    """The scenario of ``spec`` with every default, the fitted mechanisms included."""
    return Scenario.from_dict(copy.deepcopy(spec))


def decode(totals: np.ndarray, *bases: int) -> list[np.ndarray]:
    """Counts of circles pledging 1, 1000, 1000000 … (each count below 1000)."""
    totals = np.rint(totals).astype(np.int64)
    counts = []
    for base in bases:
        counts.append((totals // base) % 1000)
    return counts


def campaign(D: int = 20, goal: float = 1e9, **extra) -> dict:
    return {"name": "t", "goal": goal, "duration_days": D, "platform": "custom", **extra}


# ----------------------------------------------------------------------------- sharing

SHARING = ref.isolated({
    "campaign": campaign(20),
    "circle": [
        {"name": "friends", "size": 200, "conversion": 0.25, "pledge": 1,
         "launch_share": 0.5},
        {"name": "friends of friends", "source": "friends", "reach_per_pledger": 3.0,
         "conversion": {"mean": 0.1, "sd": 0.04}, "lag_days": 3.0, "pledge": 1000},
        {"name": "their friends", "source": "friends of friends", "reach_per_pledger": 2.0,
         "conversion": {"low": 0.2, "high": 0.6}, "lag_days": 1.0, "pledge": 1_000_000},
    ],
})


def expected_source_daily(source_daily: np.ndarray, reach: float, mean_p: float,
                          lag_days: float) -> np.ndarray:
    """E[pledgers landing on day t] = r E[p] sum_{s<=t} E[n_s] (1 - q) q^(t-s)."""
    q = ref.lag_q(lag_days)
    D = source_daily.size
    return np.array([reach * mean_p * sum(source_daily[s] * (1 - q) * q ** (t - s)
                                          for s in range(t + 1)) for t in range(D)])


def test_source_circle_mean_pledgers_match_the_lag_formula():
    """E[pledgers] = r E[p] sum_s E[n_s] (1 - q^(D-s)) (pledges after the deadline are
    lost), and the same one level further down the chain of sources."""
    D = 20
    sims = 20_000
    friends, fof, theirs = SHARING["circle"]
    w = ref.day_weights(D, **ref.circle_timing({}, friends))
    n_friends = friends["size"] * friends["conversion"] * w            # E[n_s], (D,)
    q = ref.lag_q(fof["lag_days"])
    expected_fof = fof["reach_per_pledger"] * 0.1 * sum(
        n_friends[s] * (1 - q ** (D - s)) for s in range(D))
    daily_fof = expected_source_daily(n_friends, fof["reach_per_pledger"], 0.1,
                                      fof["lag_days"])
    assert daily_fof.sum() == pytest.approx(expected_fof, rel=1e-12)   # the two forms agree
    q2 = ref.lag_q(theirs["lag_days"])
    expected_theirs = theirs["reach_per_pledger"] * 0.4 * sum(
        daily_fof[s] * (1 - q2 ** (D - s)) for s in range(D))

    result = forecast.simulate(build(SHARING), sims, rng=2024)
    k_friends, k_fof, k_theirs = decode(result.totals, 1, 1000, 1_000_000)
    np.testing.assert_array_equal(k_friends + k_fof + k_theirs, result.backers)
    assert abs(k_friends.mean() - n_friends.sum()) <= Z * mean_se(k_friends)
    assert abs(k_fof.mean() - expected_fof) <= Z * mean_se(k_fof)
    assert abs(k_theirs.mean() - expected_theirs) <= Z * mean_se(k_theirs)
    by_circle = result.by_circle().set_index("name")
    assert by_circle.loc["friends of friends", "pledgers_mean"] == pytest.approx(k_fof.mean())


def test_source_circle_is_capped_by_its_size():
    spec = copy.deepcopy(SHARING)
    spec["circle"] = spec["circle"][:2]
    spec["circle"][1].update(reach_per_pledger=1.0, size=4)
    uncapped = copy.deepcopy(spec)
    del uncapped["circle"][1]["size"]
    capped = forecast.simulate(build(spec), 5000, rng=8)
    free = forecast.simulate(build(uncapped), 5000, rng=9)
    k_capped = decode(capped.totals, 1000)[0]
    k_free = decode(free.totals, 1000)[0]
    assert k_capped.max() == 4                      # the cap is reached …
    assert np.all(k_capped <= 4)                    # … and never passed
    assert np.mean(k_free > 4) > 0.1                # it binds: without it, more
    # Capping is min(K, size) in law: compare the means within 5 σ.
    expected = np.minimum(k_free, 4)
    assert abs(k_capped.mean() - expected.mean()) <= Z * math.hypot(
        mean_se(k_capped), mean_se(expected.astype(float)))


def test_a_circle_hears_only_from_the_pledgers_of_a_capped_source():
    """Friends of friends capped at 4: their own friends come from those 4 at most, so
    E[their friends] <= r E[p] * 4 (every one of them landing)."""
    spec = copy.deepcopy(SHARING)
    spec["circle"][1].update(size=4)
    result = forecast.simulate(build(spec), 4000, rng=12)
    capped, theirs = decode(result.totals, 1000, 1_000_000)
    assert capped.max() <= 4
    third = spec["circle"][2]
    bound = (third["reach_per_pledger"] * ref.conversion_mean(third["conversion"])
             * spec["circle"][1]["size"])
    assert theirs.mean() <= bound + Z * mean_se(theirs.astype(float))


# ----------------------------------------------------------------------------- flows

def test_flow_circle_mean_is_its_reach_times_conversion_on_active_days():
    D = 20
    spec = {"campaign": campaign(D), "circle": [
        {"name": "web", "daily_reach": 40, "conversion": {"low": 0.02, "high": 0.06},
         "start_day": 3, "end_day": 12, "pledge": 1, "final_share": 0.4},
        {"name": "press", "daily_reach": 25, "conversion": 0.05, "start_day": 15,
         "end_day": 99, "pledge": 1000},          # end_day beyond D is clipped
    ]}
    w_web = ref.day_weights(D, **ref.circle_timing({}, spec["circle"][0]))
    w_press = ref.day_weights(D)
    expected_web = 40 * D * w_web[3:13].sum() * 0.04
    expected_press = 25 * D * w_press[15:].sum() * 0.05
    result = forecast.simulate(build(spec), 20_000, rng=31)
    web, press = decode(result.totals, 1, 1000)
    assert abs(web.mean() - expected_web) <= Z * mean_se(web)
    assert abs(press.mean() - expected_press) <= Z * mean_se(press)
    # No pledge outside the active days.
    daily = result.daily()
    assert np.all(daily["circle:web"].to_numpy()[[0, 1, 2, 13, 14, 19]] == 0)
    assert np.all(daily["circle:press"].to_numpy()[:15] == 0)


def test_ad_budget_buys_budget_over_cost_per_click_clicks():
    """E[pledgers] = budget / cost_per_click * E[p], whatever the active days."""
    spec = {"campaign": campaign(20), "circle": [
        {"name": "ads", "budget": 300, "cost_per_click": 0.6,
         "conversion": {"mean": 0.05, "sd": 0.02}, "start_day": 2, "end_day": 8,
         "pledge": 1}]}
    result = forecast.simulate(build(spec), 20_000, rng=4)
    pledgers = result.totals
    assert abs(pledgers.mean() - 300 / 0.6 * 0.05) <= Z * mean_se(pledgers)
    daily = result.daily()["circle:ads"].to_numpy()
    assert np.all(daily[:2] == 0) and np.all(daily[9:] == 0) and np.all(daily[2:9] > 0)


# ----------------------------------------------------------------------------- momentum

def featured_spec(commitment_day: int | None, boost: float = 3.0) -> dict:
    """A flow of ~100 pledgers of 1 that alone never reaches 50 % of a goal of 1000;
    a commitment of 600 on ``commitment_day`` does."""
    spec = {"campaign": campaign(20, goal=1000), "circle": [
        {"name": "platform", "daily_reach": 50, "conversion": 0.1, "pledge": 1,
         "featured_at": 0.5, "featured_boost": boost}]}
    if commitment_day is not None:
        spec["commitment"] = [{"name": "partner", "amount": 600, "day": commitment_day}]
    return spec


@pytest.mark.parametrize("commitment_day", [None, 0, 4])
def test_boost_applies_from_the_day_after_the_threshold_is_reached(commitment_day):
    D, boost = 20, 3.0
    w = ref.day_weights(D)
    multiplier = np.ones(D)
    if commitment_day is not None:
        multiplier[commitment_day + 1:] = boost
    expected = 50 * D * 0.1 * float(w @ multiplier)
    result = forecast.simulate(build(featured_spec(commitment_day, boost)), 20_000, rng=6)
    pledgers = result.totals - (600 if commitment_day is not None else 0)
    assert abs(pledgers.mean() - expected) <= Z * mean_se(pledgers)


def test_boost_raises_mean_pledges():
    plain = forecast.simulate(build(featured_spec(0, 1.5)), 10_000, rng=1)
    boosted = forecast.simulate(build(featured_spec(0, 3.0)), 10_000, rng=2)
    gain = boosted.totals.mean() - plain.totals.mean()
    assert gain > Z * math.hypot(mean_se(plain.totals), mean_se(boosted.totals))


def test_boost_never_lowers_pledges_under_the_same_seed():
    """Organic growth to the threshold (no commitment): per simulated campaign, a larger
    boost never gives a smaller total under the same seed."""
    def spec(boost):
        return {"campaign": campaign(20, goal=400), "circle": [
            {"name": "friends", "size": 60, "conversion": {"mean": 0.3, "sd": 0.1},
             "pledge": 10},
            {"name": "platform", "daily_reach": 30, "conversion": 0.05, "pledge": 10,
             "featured_at": 0.3, "featured_boost": boost}]}
    totals = [forecast.simulate(build(spec(b)), 4000, rng=77).totals
              for b in (1.0, 1.5, 2.0, 3.0)]
    for lower, higher in zip(totals, totals[1:]):
        assert np.all(higher >= lower), int(np.sum(higher < lower))


# ----------------------------------------------------------------------------- post-goal

def post_goal_spec(phi: float) -> dict:
    return {
        "campaign": campaign(25, goal=2500),
        "dynamics": {"post_goal_factor": phi},
        "reward": [{"amount": 20, "share": 0.6}, {"amount": 60, "share": 0.4}],
        "circle": [
            {"name": "friends", "size": 120, "conversion": {"mean": 0.3, "sd": 0.1}},
            {"name": "friends of friends", "source": "friends", "reach_per_pledger": 2.0,
             "conversion": 0.1, "lag_days": 2.0},
            {"name": "platform", "daily_reach": 20, "conversion": {"low": 0.0, "high": 0.1}},
        ],
        "commitment": [{"name": "partner", "amount": 300, "probability": 0.5, "day": 2}],
    }


def test_post_goal_factor_keeps_success_and_lowers_over_funding():
    sims = 20_000
    full = forecast.simulate(build(post_goal_spec(1.0)), sims, rng=100)
    half = forecast.simulate(build(post_goal_spec(0.5)), sims, rng=200)  # independent
    p1, p2 = full.probability(), half.probability()
    assert 0.2 < p1 < 0.8                            # a goal where the test has power
    assert abs(p1 - p2) <= Z * math.hypot(probability_se(p1, sims), probability_se(p2, sims))
    over1 = np.maximum(full.totals - 2500, 0.0)
    over2 = np.maximum(half.totals - 2500, 0.0)
    drop = over1.mean() - over2.mean()
    assert drop > Z * math.hypot(mean_se(over1), mean_se(over2))


def test_post_goal_factor_thins_circles_from_the_next_day_but_not_commitments():
    """A commitment reaches the goal on day 0: from day 1 every circle's pledgers are
    thinned by φ, so E = E[K] (w(0) + φ (1 - w(0))); a later commitment is whole."""
    D, phi = 10, 0.4
    spec = {
        "campaign": campaign(D, goal=500),
        "dynamics": {"post_goal_factor": phi},
        "circle": [
            {"name": "friends", "size": 300, "conversion": 0.3, "pledge": 1},
            {"name": "web", "daily_reach": 30, "conversion": 0.2, "pledge": 1000},
        ],
        "commitment": [{"name": "anchor", "amount": 500_000_000, "day": 0},
                       {"name": "late", "amount": 7_000_000_000, "day": 6,
                        "probability": 0.5}],
    }
    result = forecast.simulate(build(spec), 20_000, rng=12)
    w = ref.day_weights(D)
    kept = w[0] + phi * (1 - w[0])
    friends, web = decode(result.totals, 1, 1000)
    late = np.rint(result.totals) // 7_000_000_000
    assert abs(friends.mean() - 300 * 0.3 * kept) <= Z * mean_se(friends)
    assert abs(web.mean() - 30 * D * 0.2 * kept) <= Z * mean_se(web)
    assert abs(late.mean() - 0.5) <= Z * mean_se(late.astype(float))
    commitments = result.by_circle().set_index("name")
    assert commitments.loc["late", "pledgers_mean"] == pytest.approx(late.mean())


def test_probability_for_another_goal_resimulates_when_the_goal_changes_the_path():
    spec = post_goal_spec(0.5)
    spec["circle"][2].update(featured_at=0.4, featured_boost=2.0)
    s = build(spec)
    sims = 3000
    result = forecast.simulate(s, sims, rng=55)
    for goal in (1500.0, 3500.0):
        again = forecast.simulate(s.with_(goal=goal), sims, rng=55)
        assert result.probability(goal=goal) == again.probability()


def test_probability_for_a_lower_goal_with_post_goal_factor():
    """Below the scenario's goal the path up to the lower goal is unthinned, so the
    simulated totals answer directly; above it, the same seed is re-simulated."""
    s = build(post_goal_spec(0.5))
    sims = 20_000
    result = forecast.simulate(s, sims, rng=5)
    assert result.probability(goal=2000) == float(np.mean(result.totals >= 2000))
    lower = forecast.simulate(s.with_(goal=2000), sims, rng=6).probability()
    p = result.probability(goal=2000)
    assert abs(p - lower) <= Z * math.hypot(probability_se(p, sims),
                                            probability_se(lower, sims))
    higher = forecast.simulate(s.with_(goal=3000), sims, rng=5).probability()
    assert result.probability(goal=3000) == higher


# ----------------------------------------------------------------------------- duration

def test_success_of_ones_own_people_peaks_at_an_interior_duration():
    """A campaign of the owner's people only (a stock circle with a duration effect)
    succeeds most often near D* = τr ln(1 + 1/(λ τr)), not at the shortest or longest
    duration: P(D*) exceeds P(15) and P(90) by more than 5 standard errors of the
    difference (the same seed at every duration pairs the campaigns, so the standard
    error is that of the paired differences)."""
    d = Scenario.from_dict(copy.deepcopy(FRIENDS_ONLY)).dynamics
    best = round(d.reach_days * math.log1p(1 / (d.fade_per_day * d.reach_days)))
    base = with_defaults(FRIENDS_ONLY)
    sims = 20_000
    success = {days: forecast.simulate(base.with_(duration_days=days), sims,
                                       rng=77).success.astype(float)
               for days in (15, best, 90)}
    for other in (15, 90):
        gain = success[best] - success[other]
        assert gain.mean() > Z * gain.std() / math.sqrt(sims), (best, other, gain.mean())


def test_flows_move_the_best_duration_later_but_not_to_the_longest():
    """Flow circles bring more people the longer the campaign, ever more slowly as its
    novelty fades: adding visitors to the same people makes a campaign of 35 days beat
    the stock circle's own best duration, which it does not without them, and 90 days
    still lose to 35 (the trade-off, not a parameter, sets the optimum)."""
    d = Scenario.from_dict(copy.deepcopy(FRIENDS_ONLY)).dynamics
    best = round(d.reach_days * math.log1p(1 / (d.fade_per_day * d.reach_days)))
    assert best < 30
    with_visitors = copy.deepcopy(FRIENDS_ONLY)
    with_visitors["circle"].append({"name": "visitors", "daily_reach": 100,
                                    "conversion": 0.02, "pledge": 50})
    sims = 20_000

    def gain(spec, longer, shorter):
        """P(longer) - P(shorter) and its standard error (paired campaigns)."""
        s = with_defaults(spec)
        diff = (forecast.simulate(s.with_(duration_days=longer), sims, rng=78).success
                .astype(float)
                - forecast.simulate(s.with_(duration_days=shorter), sims, rng=78).success)
        return diff.mean(), diff.std() / math.sqrt(sims)

    mean, se = gain(FRIENDS_ONLY, 35, best)
    assert mean < -Z * se, (mean, se)
    mean, se = gain(with_visitors, 35, best)
    assert mean > Z * se, (mean, se)
    mean, se = gain(with_visitors, 90, 35)
    assert mean < -Z * se, (mean, se)


# The owner's people only, with the default appeal, surge, completion and duration
# effect.
FRIENDS_ONLY = {
    "campaign": {"name": "friends only", "goal": 5000, "duration_days": 30,
                 "platform": "custom"},
    "circle": [{"name": "friends", "size": 400, "conversion": {"mean": 0.25, "sd": 0.05},
                "pledge": 50}],
}


# ----------------------------------------------------------------------------- reference

MIXED = ref.isolated({
    "campaign": {"name": "mixed", "goal": 1200, "duration_days": 12, "platform": "custom"},
    "dynamics": {"post_goal_factor": 0.6},
    "reward": [{"amount": 15, "share": 0.5}, {"amount": 40, "share": 0.5}],
    "circle": [
        {"name": "friends", "size": 40, "conversion": {"mean": 0.35, "sd": 0.1},
         "launch_share": 0.5},
        {"name": "friends of friends", "source": "friends", "reach_per_pledger": 3.0,
         "conversion": {"low": 0.05, "high": 0.2}, "lag_days": 1.5, "size": 10},
        {"name": "platform", "daily_reach": 15, "conversion": 0.04, "featured_at": 0.3,
         "featured_boost": 2.5, "pledge": {"mean": 35, "sd": 15}},
        {"name": "ads", "budget": 60, "cost_per_click": 0.5, "conversion": 0.05,
         "start_day": 1, "end_day": 6, "pledge": 20},
    ],
    "commitment": [{"name": "partner", "amount": 200, "probability": 0.5, "day": 2}],
})


def test_engine_agrees_with_the_person_by_person_reference_simulation():
    """Everything at once (sharing with a cap, momentum, an ad, post-goal thinning,
    lognormal pledges): at two goals (the goal changes the path), P(success) and the
    mean gross of the engine against tests/reference.simulate_reference, within 5 σ of
    the difference of the two independent runs."""
    n_ref, n_eng = 1200, 20_000
    s = build(MIXED)
    for goal in (900, 1500):
        engine_totals = forecast.simulate(s.with_(goal=goal), n_eng, rng=goal).totals
        spec = copy.deepcopy(MIXED)
        spec["campaign"]["goal"] = goal
        reference_totals = ref.simulate_reference(spec, n_ref, seed=goal)
        assert abs(engine_totals.mean() - reference_totals.mean()) <= Z * math.hypot(
            mean_se(engine_totals), mean_se(reference_totals))
        engine_p = float(np.mean(engine_totals >= goal))
        reference_p = float(np.mean(reference_totals >= goal))
        assert 0.1 < reference_p < 0.9                  # a goal where the test has power
        se = math.hypot(probability_se(engine_p, n_eng), probability_se(reference_p, n_ref))
        assert abs(engine_p - reference_p) <= Z * se, (goal, engine_p, reference_p)
