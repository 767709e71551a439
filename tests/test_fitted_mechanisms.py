"""The mechanisms fitted on real campaigns: the campaign-wide appeal, the final surge
that needs the goal in sight, and the smooth duration effect.

Each is checked against a closed form (computed here from its definition, with the
reference's independent day weights and surge shares) or against the person-by-person
reference simulation. Tolerances are Z = 5 standard errors, derived where they are
used: sqrt(P (1 - P) / n) for a probability, sample sd / sqrt(n) for a mean, the sd
of the centred products / sqrt(n) for a covariance.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from scipy import integrate, stats

import forecast
from forecast import engine
from forecast.scenario import Scenario

import reference as ref
from test_dynamics import MIXED

Z = 5.0


def probability_se(p: float, n: int) -> float:
    return math.sqrt(max(p * (1 - p), 1 / n) / n)


def build(spec: dict) -> Scenario:
    return Scenario.from_dict(copy.deepcopy(spec))


# ----------------------------------------------------------------------------- appeal

APPEAL = ref.isolated({
    "campaign": {"name": "appeal", "goal": 100, "duration_days": 20, "platform": "custom"},
    "dynamics": {"appeal_sd": 0.8},
    "circle": [
        {"name": "friends", "size": 400, "conversion": 0.3, "pledge": 1},
        {"name": "newsletter", "size": 300, "conversion": 0.1, "pledge": 1000},
    ],
})


def _appeal_moment(function, sd: float) -> float:
    """E[function(A)] for A = exp(sd Z - sd²/2), Z standard normal, by quadrature."""
    value, _ = integrate.quad(
        lambda z: function(math.exp(sd * z - sd * sd / 2)) * stats.norm.pdf(z), -12, 12,
        limit=200, points=[0.0])
    return value


def test_appeal_is_lognormal_with_mean_one_and_shared_by_every_circle():
    """Counts K1, K2 of two stock circles given A are independent binomials with rates
    min(1, p A): their means, K1's variance and their covariance (which only a
    shared A gives) against the quadrature of the closed forms."""
    sims = 40_000
    totals = forecast.simulate(build(APPEAL), sims, rng=11).totals
    k2, k1 = np.divmod(np.rint(totals).astype(np.int64), 1000)
    sd = APPEAL["dynamics"]["appeal_sd"]
    (n1, p1), (n2, p2) = [(c["size"], c["conversion"]) for c in APPEAL["circle"]]
    m1 = _appeal_moment(lambda a: min(1.0, p1 * a), sd)
    m2 = _appeal_moment(lambda a: min(1.0, p2 * a), sd)
    m12 = _appeal_moment(lambda a: min(1.0, p1 * a) * min(1.0, p2 * a), sd)
    m11 = _appeal_moment(lambda a: min(1.0, p1 * a) ** 2, sd)
    mean1, mean2 = n1 * m1, n2 * m2
    var1 = n1 * (m1 - m11) + n1 * n1 * (m11 - m1 * m1)   # E[Var | A] + Var(E | A)
    cov = n1 * n2 * (m12 - m1 * m2)
    assert abs(k1.mean() - mean1) <= Z * ref.mean_se(k1)
    assert abs(k2.mean() - mean2) <= Z * ref.mean_se(k2)
    centred1 = (k1 - k1.mean()) ** 2
    assert abs(centred1.mean() - var1) <= Z * centred1.std() / math.sqrt(sims)
    products = (k1 - k1.mean()) * (k2 - k2.mean())
    assert cov > 10 * products.std() / math.sqrt(sims)   # the test has power
    assert abs(products.mean() - cov) <= Z * products.std() / math.sqrt(sims)


def test_no_appeal_leaves_circles_independent_and_the_numbers_unchanged():
    """appeal_sd = 0 draws nothing: the same numbers as before the key existed."""
    off = build({**APPEAL, "dynamics": {**APPEAL["dynamics"], "appeal_sd": 0.0}})
    sims = 20_000
    totals = forecast.simulate(off, sims, rng=12).totals
    k2, k1 = np.divmod(np.rint(totals).astype(np.int64), 1000)
    products = (k1 - k1.mean()) * (k2 - k2.mean())
    assert abs(products.mean()) <= Z * products.std() / math.sqrt(sims)
    assert abs(k1.mean() - 400 * 0.3) <= Z * ref.mean_se(k1)


def test_a_wider_appeal_keeps_the_order_of_the_campaigns():
    """The appeal comes by inversion of one uniform per campaign, so under the same
    seed a wider spread moves each campaign's appeal the same way its uniform says:
    the campaigns keep their order (up to the binomial noise of the counts), where
    another seed shows no order at all (a rank correlation within 5 of its standard
    error under independence, 1 / sqrt(n - 1))."""
    n = 3000
    narrow = forecast.simulate(build({**APPEAL, "dynamics": {**APPEAL["dynamics"],
                                                              "appeal_sd": 0.4}}),
                               n, rng=13).totals
    wide = forecast.simulate(build(APPEAL), n, rng=13).totals
    other = forecast.simulate(build(APPEAL), n, rng=14).totals
    assert stats.spearmanr(narrow, wide).statistic > 0.95
    assert abs(stats.spearmanr(narrow, other).statistic) < Z / math.sqrt(n - 1)
    # The appeals themselves, without the counts' noise: the same order exactly, and
    # log A + sd²/2 = sd Z scales with sd.
    streams = engine._Streams(np.random.SeedSequence(13), 0, n)
    low, high = (np.log(engine._appeal(streams, sd, n)) + sd * sd / 2 for sd in (0.4, 0.8))
    np.testing.assert_array_equal(np.argsort(low), np.argsort(high))
    np.testing.assert_allclose(high, 2 * low, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- surge

SURGE = ref.isolated({
    "campaign": {"name": "surge", "goal": 100, "duration_days": 20, "platform": "custom"},
    "timing": {"launch_share": 0.2, "launch_days": 2.0, "final_share": 0.4,
               "final_days": 2.0},
    "dynamics": {"surge_half_progress": 0.5, "surge_steepness": 4.0},
    "circle": [{"name": "people", "size": 200, "conversion": 0.6, "pledge": 1}],
})


def before_and_in_the_window(spec: dict):
    """For SURGE-like scenarios (one stock circle, fixed conversion p, pledges of 1):
    each k pledges before the final window, its probability and the pmf of the
    pledges in the window given k. Each of the N people pledges before the window
    with probability p W (W: the weight of the days before it); given k such
    pledges, each of the others pledges in the window with probability
    p sum_{t in window} w(t) (1 - σ(t)(1 - s(k / goal))) / (1 - p W)."""
    camp, circle = spec["campaign"], spec["circle"][0]
    D, goal, N, p = camp["duration_days"], camp["goal"], circle["size"], circle["conversion"]
    timing = ref.circle_timing(spec["timing"], circle)
    w = ref.day_weights(D, **timing)
    start = ref.surge_window(D, timing["final_days"])
    sigma = ref.surge_share(D, timing, start)
    dyn = ref.dynamics(spec)
    before = float(w[:start].sum())
    for k in range(N + 1):
        s = ref.surge_strength(k / goal, dyn["surge_half_progress"], dyn["surge_steepness"])
        late = p * sum(w[t] * (1 - sigma[t] * (1 - s)) for t in range(start, D))
        rate = late / (1 - p * before)
        yield k, stats.binom.pmf(k, N, p * before), stats.binom.pmf(
            np.arange(N - k + 1), N - k, rate)


def surge_gross_pmf(spec: dict) -> np.ndarray:
    """Exact pmf of the gross total of SURGE-like scenarios without goal completion."""
    pmf = np.zeros(spec["circle"][0]["size"] + 1)
    for k, p_k, late in before_and_in_the_window(spec):
        pmf[k:] += p_k * late
    return pmf


@pytest.mark.parametrize("goal", [95, 105, 112])
def test_surge_that_needs_the_goal_in_sight_matches_its_closed_form(goal):
    """P(success) at several goals and the mean gross against the exact law."""
    spec = copy.deepcopy(SURGE)
    spec["campaign"]["goal"] = goal
    pmf = surge_gross_pmf(spec)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    sims = 30_000
    totals = forecast.simulate(build(spec), sims, rng=goal).totals
    exact = float(pmf[goal:].sum())
    assert 0.05 < exact < 0.95                       # a goal where the test has power
    simulated = float(np.mean(totals >= goal))
    assert abs(simulated - exact) <= Z * probability_se(exact, sims), (simulated, exact)
    mean = float(pmf @ np.arange(pmf.size))
    assert abs(totals.mean() - mean) <= Z * ref.mean_se(totals)


def test_the_surge_changes_the_law_it_claims_to():
    """Against the same scenario with a surge for all (h = 0), the closed forms differ
    by far more than the test's tolerance: the previous test can fail."""
    full = copy.deepcopy(SURGE)
    full["dynamics"]["surge_half_progress"] = 0.0
    held, free = surge_gross_pmf(SURGE), surge_gross_pmf(full)
    mean_held, mean_free = (float(q @ np.arange(q.size)) for q in (held, free))
    sims = 30_000  # the previous test's: its standard error of the mean, exactly
    k = np.arange(held.size)
    se = math.sqrt(float(held @ (k - mean_held) ** 2) / sims)
    assert mean_free - mean_held > 10 * Z * se


# ----------------------------------------------------------------------------- completion

COMPLETING = copy.deepcopy(SURGE)
COMPLETING["dynamics"].update(completion_half_progress=0.6, completion_steepness=3.0)


def completion_success(spec: dict) -> float:
    """Exact P(success) of SURGE-like scenarios with goal completion (h, k): a campaign
    at k < goal pledges when the window opens closes its gap with probability
    c = (k/goal)^k' / ((k/goal)^k' + h^k'), and then succeeds for sure; otherwise it
    succeeds if its circle's pledges reach the goal."""
    goal, dyn = spec["campaign"]["goal"], spec["dynamics"]
    total = 0.0
    for k, p_k, late in before_and_in_the_window(spec):
        c = (float(ref.surge_strength(k / goal, dyn["completion_half_progress"],
                                      dyn["completion_steepness"])) if k < goal else 0.0)
        reach = float(late[max(goal - k, 0):].sum())
        total += p_k * (c + (1 - c) * reach)
    return total


@pytest.mark.parametrize("goal", [105, 125, 150])
def test_goal_completion_matches_its_closed_form(goal):
    """P(success) at several goals against the exact law; every closing campaign
    ends at or above its goal, and without completion the odds are the surge's
    alone, far lower (the test can fail)."""
    spec = copy.deepcopy(COMPLETING)
    spec["campaign"]["goal"] = goal
    exact = completion_success(spec)
    sims = 30_000
    result = forecast.simulate(build(spec), sims, rng=goal)
    simulated = float(result.success.mean())
    assert 0.05 < exact < 0.95
    assert abs(simulated - exact) <= Z * probability_se(exact, sims), (simulated, exact)
    alone = float(surge_gross_pmf(spec)[goal:].sum())
    assert exact - alone > 10 * Z * probability_se(exact, sims)
    # the closing money: on the days of the window only, and what lifts the totals
    # above the circles' own (the same seed without completion: the same pledgers,
    # no post-goal factor here), counted in whole cents
    cents = result.outcome.closing_cents
    start = engine.surge_start(build(spec))
    assert cents[:start].sum() == 0 and cents[start:].sum() > 0
    own = forecast.simulate(build(spec).with_dynamics(completion_half_progress=0), sims,
                            rng=goal).totals
    lifted = result.totals > own
    assert np.all(result.totals >= own) and np.all(result.totals[lifted] >= goal)
    days = spec["campaign"]["duration_days"] - start
    assert cents.sum() / 100 == pytest.approx((result.totals - own).sum(),
                                              abs=0.005 * sims * days)
    # by_circle has a row for it, and its amounts add up to the mean total
    rows = result.by_circle()
    assert list(rows["kind"]) == ["stock", "completion"]
    assert rows["amount_mean"].sum() == pytest.approx(result.totals.mean(), rel=1e-12)
    assert result.summary()["goal_completion"]["share"] == rows["share"].iloc[-1] > 0
    np.testing.assert_allclose(result.outcome.closing, result.totals - own, atol=1e-9)


def test_goal_completion_money_is_pledged_like_the_rest():
    """The closing money pays the platform's share and rewards at the cost per dollar
    of the campaign's circles' pledges (a commitment's counterpart is its own), and
    brings no pledger: under the same seed (the same pledgers) each campaign's net
    falls short of the one without it by exactly that."""
    spec = copy.deepcopy(COMPLETING)
    spec["circle"][0].pop("pledge")
    spec["reward"] = [{"amount": 1, "share": 0.5, "unit_cost": 0.2},
                      {"amount": 1, "share": 0.5, "unit_cost": 0.5}]
    spec["commitment"] = [{"name": "sponsor", "amount": 20, "unit_cost": 18,
                           "probability": 1.0}]
    s = build(spec)
    on = forecast.simulate(s, 4000, rng=4)
    off = forecast.simulate(s.with_dynamics(completion_half_progress=0), 4000, rng=4)
    closed = on.outcome.closing
    assert closed.sum() > 0
    np.testing.assert_array_equal(on.backers, off.backers)
    np.testing.assert_allclose(on.totals - off.totals, closed, atol=1e-9)
    circles = off.totals - 20                  # the sponsor always comes
    per_dollar = (off.reward_costs - 18) / np.where(circles > 0, circles, 1.0)
    rates = s.fees.platform_rate + s.fees.payment_rate
    np.testing.assert_allclose(on.net - off.net, closed * (1 - rates - per_dollar),
                               atol=1e-9)


def test_goal_completion_keeps_the_need_covered_at_the_need_goal():
    """docs/model.md's promise: at the goal that covers the need when reached exactly,
    every success covers it, the campaigns that close their gap too (their closing
    money pays no share of a costly commitment's counterpart)."""
    from forecast import advice
    s = build({"campaign": {"name": "sponsored", "goal": 5000, "duration_days": 30,
                            "platform": "la-ruche", "need": 3000},
               "dynamics": {"completion_half_progress": 0.3, "completion_steepness": 3.0},
               "circle": [{"name": "people", "size": 200, "conversion": 0.3, "pledge": 50}],
               "commitment": [{"name": "sponsor", "amount": 2000, "unit_cost": 1800,
                               "probability": 1.0}]})
    s = s.with_(goal=advice.recommended_goal(s))
    result = forecast.simulate(s, 20_000, rng=1)
    assert (result.outcome.closing[result.success] > 0).sum() > 1000
    assert result.net[result.success].min() >= s.need - 1e-6


def test_goal_completion_floor_on_the_paths():
    """On each day of the window a closing campaign's running total is its circles'
    own plus the running maximum of what they leave under the floor, the floor
    rising from where it was to the goal in the reference's shape (the same seed
    without completion gives the same pledgers here: no post-goal factor, no
    featuring)."""
    spec = copy.deepcopy(COMPLETING)
    goal, D = spec["campaign"]["goal"], spec["campaign"]["duration_days"]
    s = build(spec)
    lifted = forecast.simulate(s, 5000, rng=3).outcome.paths.astype(float)
    own = forecast.simulate(s.with_dynamics(completion_half_progress=0), 5000,
                            rng=3).outcome.paths.astype(float)
    start = ref.surge_window(D, spec["timing"]["final_days"])
    shares = np.array(ref.closing_floor(D, spec["timing"]["final_days"], start))
    opened = own[:, start - 1]
    floor = opened[:, None] + (goal - opened[:, None]) * shares[None, :]
    floor[:, -1] = goal
    expected = own + np.maximum.accumulate(np.maximum(floor - own, 0.0) * (
        np.arange(D) >= start), axis=1)
    closing = np.any(lifted > own, axis=1)
    assert 0 < closing.sum() < (opened < goal).sum()   # some close, not all
    np.testing.assert_allclose(lifted[closing], expected[closing], rtol=0, atol=0.01)
    np.testing.assert_array_equal(lifted[~closing], own[~closing])


def test_probability_at_another_goal_is_the_campaigns_run_with_it():
    """Who closes the gap depends on the goal: probability(goal) re-simulates."""
    s = build(COMPLETING)
    result = forecast.simulate(s, 4000, rng=8)
    for goal in (90, 140):
        assert result.probability(goal) == forecast.simulate(
            s.with_(goal=goal), 4000, rng=8).probability()


def test_goal_completion_floor_rises_in_the_surge_shape():
    """closing_shares: 0 before the window, then the running sum of
    exp(-(D - 1 - d) / final_days) over its sum, 1 on the last day (the reference's
    own computation)."""
    timing = build(COMPLETING).timing
    D = COMPLETING["campaign"]["duration_days"]
    start = engine.surge_start(build(COMPLETING))
    np.testing.assert_allclose(engine.closing_shares(timing, D, start),
                               ref.closing_floor(D, timing.final_days, start), rtol=1e-12)
    assert engine.closing_shares(timing, D, start)[-1] == 1.0


def test_a_stronger_surge_never_brings_fewer_pledgers():
    """Under the same seed, a lower half-strength progress (a stronger surge at every
    progress) never gives a campaign fewer pledgers."""
    weak, strong = copy.deepcopy(SURGE), copy.deepcopy(SURGE)
    strong["dynamics"]["surge_half_progress"] = 0.3
    a = forecast.simulate(build(weak), 5000, rng=21).totals
    b = forecast.simulate(build(strong), 5000, rng=21).totals
    assert np.all(b >= a) and np.any(b > a)


def test_failures_get_a_smaller_final_surge_than_successes():
    """With the surge held to the progress, the share of money in the last tenth is
    much smaller for failures than for successes; with a surge for all it is not."""
    def last_tenth_shares(spec):
        result = forecast.simulate(build(spec), 20_000, rng=5)
        paths = result.outcome.paths.astype(float)
        D = paths.shape[1]
        final = paths[:, -1]
        late = (final - paths[:, int(np.ceil(0.9 * D)) - 1]) / np.maximum(final, 1e-9)
        won = final >= spec["campaign"]["goal"]
        some = final > 0
        return late[won & some].mean(), late[~won & some].mean()

    spec = copy.deepcopy(SURGE)
    spec["dynamics"]["appeal_sd"] = 1.0   # failures far from the goal, as real ones
    won, lost = last_tenth_shares(spec)
    assert lost < 0.5 * won
    spec["dynamics"]["surge_half_progress"] = 0.0
    won_all, lost_all = last_tenth_shares(spec)
    assert lost_all > 0.5 * won_all     # the same check fails without the mechanism


# ----------------------------------------------------------------------------- together
# The engine against the references with every mechanism on: test_against_reference.py
# (the day-by-day reference, whose three scenarios keep these defaults on).

# test_dynamics' scenario of every path mechanism, with every fitted one on too.
EVERYTHING_FITTED = {
    **MIXED,
    "timing": {"final_share": 0.35, "final_days": 1.0},
    "dynamics": {"post_goal_factor": 0.6, "appeal_sd": 0.7, "surge_half_progress": 0.6,
                 "surge_steepness": 3.0, "reach_days": 3.0, "fade_per_day": 0.02},
}


def test_chunks_and_workers_never_change_the_numbers_with_every_mechanism():
    s = build(EVERYTHING_FITTED).with_(duration_days=8)
    assert s.goal_dependent
    sims = 3 * engine.SEED_BLOCK + 500
    seed = np.random.SeedSequence(31)
    goals = [s.goal * k for k in (0.5, 1.0, 2.0)]
    alone = engine.run_goals(s, goals, sims, seed)
    for other in (engine.run_goals(s, goals, sims, seed, chunk_size=10**6),
                  engine.run_goals(s, goals, sims, seed, workers=2)):
        for one, two in zip(alone, other):
            ref.assert_same_outcome(one, two)
    # Each goal walked together is the goal walked alone.
    for goal, outcome in zip(goals, alone):
        np.testing.assert_array_equal(engine.run(s.with_(goal=goal), sims, seed).gross,
                                      outcome.gross)


# ----------------------------------------------------------------------------- duration

def test_stock_pledgers_follow_the_duration_effect():
    """E[K] = N p g(D) for a stock circle, at a short, the best and a long duration."""
    spec = ref.isolated({
        "campaign": {"name": "duration", "goal": 1, "duration_days": 10,
                     "platform": "custom"},
        "dynamics": {"reach_days": 7.0, "fade_per_day": 0.015},
        "circle": [{"name": "people", "size": 500, "conversion": 0.4, "pledge": 1}]})
    best = round(7.0 * math.log1p(1 / (0.015 * 7.0)))
    for D in (3, best, 90):
        spec["campaign"]["duration_days"] = D
        totals = forecast.simulate(build(spec), 20_000, rng=D).totals
        expected = 500 * 0.4 * ref.fade(D, 7.0, 0.015)
        assert abs(totals.mean() - expected) <= Z * ref.mean_se(totals), D


def test_the_package_defaults_are_the_documented_ones():
    """The reference's table of defaults (docs/model.md) is the package's."""
    d = forecast.Scenario.from_dict({
        "campaign": {"goal": 1, "duration_days": 10, "platform": "custom"},
        "circle": [{"name": "x", "size": 1, "conversion": 0.5, "pledge": 1}]}).dynamics
    assert {k: getattr(d, k) for k in ref.DYNAMICS_DEFAULTS} == ref.DYNAMICS_DEFAULTS
