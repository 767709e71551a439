"""The engine against exact computations (tests/reference.py), its reproducibility,
and properties of valid scenarios (Hypothesis).

Statistical tolerances are Z = 5 Monte Carlo standard errors, each derived where it
is used: sqrt(P (1 - P) / n) for a probability, the sample standard deviation over
sqrt(n) for a mean. With fixed seeds every test is deterministic; with a correct
engine a 5 σ miss has a chance of about 6e-7 per comparison.
"""
from __future__ import annotations

import bisect
import copy
import math
import pickle
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings, strategies as st
from scipy import stats

import forecast
from forecast import engine
from forecast.scenario import Scenario, Timing
from forecast.sampling import RawInverse, binomial_inverse, poisson_inverse, poisson_nonzero

import reference as ref

Z = 5.0  # standard errors allowed between a simulated figure and its exact value


def probability_se(p: float, n: int) -> float:
    """Standard error of a simulated probability; at least that of 1 / n so that an
    exact 0 or 1 still leaves room for one simulation."""
    return math.sqrt(max(p * (1 - p), 1 / n) / n)


mean_se = ref.mean_se


# ----------------------------------------------------------------------------- scenarios

TIERS = [
    {"name": "thanks", "amount": 10, "share": 0.5, "unit_cost": 1.0},
    {"name": "box", "amount": 25, "share": 0.3, "unit_cost": 9.0},
    {"name": "big box", "amount": 60, "share": 0.2, "unit_cost": 20.0},
]

# Closed-form subset: stock circles with fixed, Beta and uniform conversion, tiers,
# commitments. D = 30 on La Ruche: no fading (D <= 45).
CLOSED_FORM = ref.isolated({
    "campaign": {"name": "closed form", "goal": 800, "duration_days": 30,
                 "platform": "la-ruche"},
    "reward": TIERS,
    "circle": [
        {"name": "friends", "size": 30, "conversion": 0.3},
        {"name": "colleagues", "size": 40, "conversion": {"mean": 0.2, "sd": 0.08},
         "launch_share": 0.6, "launch_days": 1.0},
        {"name": "newsletter", "size": 25, "conversion": {"low": 0.05, "high": 0.25},
         "timing": {"final_share": 0.5, "final_days": 3.0}},
    ],
    "commitment": [
        {"name": "partner", "amount": 100, "probability": 0.7, "day": 3, "unit_cost": 30.0},
        {"name": "neighbour", "amount": 50, "probability": 0.4, "day": 10},
    ],
})

# The duration effect (60 days, past the peak at 7 ln(1 + 1/0.07) = 18.9 days), fixed
# and lognormal free amounts.
FADED = ref.isolated({
    "campaign": {"name": "faded", "goal": 900, "duration_days": 60, "platform": "custom"},
    "dynamics": {"reach_days": 7.0, "fade_per_day": 0.01},
    "circle": [
        {"name": "fixed pledge", "size": 30, "conversion": {"mean": 0.35, "sd": 0.1},
         "pledge": 40},
        {"name": "free pledge", "size": 20, "conversion": {"low": 0.2, "high": 0.5},
         "pledge": {"mean": 30, "sd": 20}},
    ],
    "commitment": [{"name": "uncle", "amount": 150, "probability": 0.5, "day": 59}],
})

# One amount per circle: the joint law of gross, backers and net is enumerable.
KICKSTARTER = ref.isolated({
    "campaign": {"name": "kickstarter", "goal": 1100, "duration_days": 30,
                 "platform": "kickstarter", "need": 700},
    "reward": [{"name": "box", "amount": 25, "share": 1.0, "unit_cost": 5.0}],
    "circle": [
        {"name": "friends", "size": 30, "conversion": {"mean": 0.4, "sd": 0.15}},
        {"name": "fans", "size": 20, "conversion": {"low": 0.1, "high": 0.6}, "pledge": 60},
    ],
    "commitment": [
        {"name": "shop", "amount": 200, "probability": 0.6, "unit_cost": 40.0},
        {"name": "cafe", "amount": 100, "probability": 0.5, "day": 5},
    ],
})

# Every kind of circle and mechanism, small: for reproducibility tests.
EVERYTHING = ref.isolated({
    "campaign": {"name": "everything", "goal": 3000, "duration_days": 20,
                 "platform": "custom", "need": 1000},
    "dynamics": {"post_goal_factor": 0.6},
    "reward": TIERS,
    "circle": [
        {"name": "friends", "size": 60, "conversion": {"mean": 0.3, "sd": 0.1}},
        {"name": "friends of friends", "source": "friends", "reach_per_pledger": 4,
         "conversion": {"low": 0.05, "high": 0.15}, "lag_days": 2.0, "size": 30},
        {"name": "platform", "daily_reach": 30, "conversion": 0.02, "featured_at": 0.3,
         "featured_boost": 2.0, "pledge": {"mean": 40, "sd": 25}},
        {"name": "ads", "budget": 200, "cost_per_click": 0.5,
         "conversion": {"mean": 0.02, "sd": 0.01}, "start_day": 2, "end_day": 9},
    ],
    "commitment": [{"name": "partner", "amount": 500, "probability": 0.5, "day": 4}],
})


def scenario(spec: dict) -> Scenario:
    """The scenario of ``spec``, the mechanisms fitted on real campaigns off unless it
    sets them (they have tests of their own: test_fitted_mechanisms.py)."""
    return Scenario.from_dict(ref.isolated(copy.deepcopy(spec)))


# ----------------------------------------------------------------------------- reference

def test_reference_quadrature_is_exact_for_beta_and_uniform():
    """The reference's own check: Gauss–Jacobi quadrature gives the beta-binomial pmf,
    and a uniform p on [0, 1] gives P(K = k) = 1 / (N + 1)."""
    a, b = ref.beta_parameters(0.2, 0.08)
    np.testing.assert_allclose(ref.pledger_count_pmf(40, {"mean": 0.2, "sd": 0.08}),
                               stats.betabinom.pmf(np.arange(41), 40, a, b), atol=1e-12)
    np.testing.assert_allclose(ref.pledger_count_pmf(25, {"low": 0.0, "high": 1.0}),
                               np.full(26, 1 / 26), atol=1e-12)


def test_day_weights_match_the_u_curve():
    for D, timing in [(1, Timing()), (2, Timing(0.5, 1.0, 0.5, 1.0)), (30, Timing()),
                      (45, Timing(0.45, 2.0, 0.2, 2.0)), (90, Timing(0.0, 3.0, 1.0, 0.5)),
                      (7, Timing(0.0, 1.0, 0.0, 1.0))]:
        expected = ref.day_weights(D, timing.launch_share, timing.launch_days,
                                   timing.final_share, timing.final_days)
        got = engine.day_weights(timing, D)
        assert got.shape == (D,)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
        assert got.sum() == pytest.approx(1.0, abs=1e-12)


# ----------------------------------------------------------------------------- P(success)

@pytest.mark.parametrize("spec, sims", [(CLOSED_FORM, 40_000), (FADED, 30_000)],
                         ids=["tiers-commitments", "fade-fixed-lognormal"])
def test_probability_of_success_matches_exact_distribution(spec, sims):
    """P(gross >= g) at several goals against the exact pmf of the gross total
    (convolution of compound binomial-mixture laws), within 5 σ = 5 sqrt(P(1-P)/n)."""
    pmf = ref.gross_pmf(spec)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    tail = np.cumsum(pmf[::-1])[::-1]                  # tail[g] = P(gross >= g)
    goals = [float(np.argmax(tail <= level)) for level in (0.9, 0.7, 0.5, 0.3, 0.1)]
    goals.append(spec["campaign"]["goal"])
    result = forecast.simulate(scenario(spec), sims, rng=20240611)
    for goal in goals:
        exact = ref.probability_at_least(pmf, goal)
        simulated = result.probability(goal=goal)
        assert abs(simulated - exact) <= Z * probability_se(exact, sims), (goal, exact)
    # The whole law, not only a few goals: the mean of the gross total.
    mean = float(pmf @ np.arange(pmf.size))
    assert abs(result.totals.mean() - mean) <= Z * mean_se(result.totals)


def test_duration_effect_matches_the_reference_and_peaks_at_its_closed_form():
    """g(D) against the reference's (its peak found numerically), 1 at the closed-form
    peak D* = τr ln(1 + 1/(λ τr)), below 1 either side, and each factor alone."""
    for reach, lam in [(7.0, 0.01), (3.0, 0.03), (0.0, 0.01), (5.0, 0.0), (0.0, 0.0)]:
        s = scenario({**FADED, "dynamics": {"reach_days": reach, "fade_per_day": lam}})
        for D in (1, 10, 30, 45, 60, 90):
            assert engine.fade_factor(s, D) == pytest.approx(ref.fade(D, reach, lam),
                                                             rel=1e-9)
        if reach > 0 and lam > 0:
            best = reach * math.log1p(1 / (lam * reach))
            assert engine.fade_factor(s, best) == pytest.approx(1.0, abs=1e-12)
            for other in (0.5 * best, 1.5 * best):
                assert engine.fade_factor(s, other) < 1.0


def test_flow_days_match_the_reference_integral():
    """flow_days(λ, D) = ∫0^D e^(-λt) dt, against the reference's numerical integral;
    D without fading; it grows with D towards 1 / λ, ever more slowly."""
    for lam in (0.0, 0.005, 0.03, 0.2):
        days = np.array([1, 10, 30, 45, 60, 90])
        got = engine.flow_days(lam, days)
        for D, value in zip(days, got):
            assert value == pytest.approx(ref.flow_days(int(D), lam), rel=1e-9)
            assert engine.flow_days(lam, int(D)) == pytest.approx(value, rel=1e-15)
        assert np.all(np.diff(got) > 0)
        if lam > 0:
            assert np.all(got < 1 / lam) and np.all(np.diff(got / days) < 0)


def test_flow_pledgers_follow_the_fading_novelty():
    """E[K] = daily_reach flow_days(λ, D) p for a flow circle whose novelty fades (no
    boost, all days active), at a short and a long duration; and an ad budget's
    clicks, bought, do not fade: E[K] = budget / cost_per_click p."""
    for D in (5, 60):
        spec = ref.isolated({
            "campaign": {"name": "fading flow", "goal": 10**6, "duration_days": D,
                         "platform": "custom"},
            "dynamics": {"fade_per_day": 0.03},
            "circle": [{"name": "visitors", "daily_reach": 40, "conversion": 0.05,
                        "pledge": 1},
                       {"name": "ads", "budget": 300, "cost_per_click": 1.5,
                        "conversion": 0.1, "pledge": 1000}]})
        result = forecast.simulate(scenario(spec), 20_000, rng=D)
        pledgers = result.outcome.circle_pledgers_sum / result.sims
        visitors = 40 * ref.flow_days(D, 0.03) * 0.05
        # Poisson counts: the standard error of a mean count is sqrt(mean / n).
        assert abs(pledgers[0] - visitors) <= Z * math.sqrt(visitors / result.sims), D
        assert abs(pledgers[1] - 20.0) <= Z * math.sqrt(20.0 / result.sims), D
    assert visitors < 0.6 * 40 * D * 0.05        # a fading the test would see missing


# ----------------------------------------------------------------------------- daily money

def test_mean_daily_money_follows_the_u_curve_of_each_circle():
    """E[money on day t] = sum over circles of E[K] w_c(t) E[amount] + commitments on
    day t; per-day standard error from the simulated daily amounts themselves."""
    spec = CLOSED_FORM
    sims = 20_000                                     # <= PATH_SIMS: every path is kept
    result = forecast.simulate(scenario(spec), sims, rng=7)
    D = spec["campaign"]["duration_days"]
    mean_amount = sum(t["amount"] * t["share"] for t in TIERS)
    expected = np.zeros(D)
    for circle in spec["circle"]:
        timing = ref.circle_timing(spec.get("timing", {}), circle)
        pledgers = circle["size"] * ref.conversion_mean(circle["conversion"])
        expected += pledgers * ref.day_weights(D, **timing) * mean_amount
    for m in spec["commitment"]:
        expected[m["day"]] += m["amount"] * m["probability"]

    paths = result.outcome.paths.astype(float)        # cumulative money, (sims, D)
    assert paths.shape == (sims, D)
    per_day = np.diff(paths, axis=1, prepend=0.0)     # money pledged each day, per sim
    se = per_day.std(axis=0, ddof=1) / math.sqrt(sims)
    daily = result.daily()
    assert list(daily["day"]) == list(range(D))
    np.testing.assert_allclose(daily["pledges_mean"], per_day.mean(axis=0), rtol=1e-9)
    assert np.all(np.abs(daily["pledges_mean"].to_numpy() - expected) <= Z * se), \
        np.abs(daily["pledges_mean"].to_numpy() - expected) / se
    np.testing.assert_allclose(daily["cumulative_mean"], np.cumsum(daily["pledges_mean"]))

    # Each circle's column: its own U-curve (launch-heavy, final-heavy, default).
    colleagues = daily["circle:colleagues"].to_numpy()
    newsletter = daily["circle:newsletter"].to_numpy()
    assert colleagues[0] > 3 * colleagues[D // 2]
    assert newsletter[-1] > 3 * newsletter[D // 2]


# ----------------------------------------------------------------------------- money

def test_net_payout_and_need_match_exact_enumeration():
    """Kickstarter preset (5 % + 3 % + 0.20 per pledge), a tier with a unit cost, a
    fixed pledge and commitments: P(success), E[net], E[payout] and P(payout >= need)
    against the exact joint law of (gross, backers, costs)."""
    spec = KICKSTARTER
    sims = 40_000
    outcomes = ref.enumerate_outcomes(spec, (0.05, 0.03, 0.20))
    probs = np.array([o.probability for o in outcomes])
    assert probs.sum() == pytest.approx(1.0, abs=1e-9)
    gross = np.array([o.gross for o in outcomes])
    net = np.array([o.net for o in outcomes])
    goal, need = spec["campaign"]["goal"], spec["campaign"]["need"]
    payout = np.where(gross >= goal, net, 0.0)

    result = forecast.simulate(scenario(spec), sims, rng=99)
    p_success = float(probs @ (gross >= goal))
    assert abs(result.probability() - p_success) <= Z * probability_se(p_success, sims)
    assert abs(result.net.mean() - probs @ net) <= Z * mean_se(result.net)
    assert abs(result.payout.mean() - probs @ payout) <= Z * mean_se(result.payout)
    p_need = float(probs @ (payout >= need))
    summary = result.summary()
    assert abs(summary["need_probability"] - p_need) <= Z * probability_se(p_need, sims)
    assert result.need_probability() == summary["need_probability"]
    assert summary["expected_payout"] == pytest.approx(float(result.payout.mean()))
    # Accounting identities, simulation by simulation.
    np.testing.assert_allclose(result.fees, 0.08 * result.totals + 0.20 * result.backers)
    np.testing.assert_array_equal(result.payout[~result.success], 0.0)


def test_expected_net_matches_linearity_on_la_ruche():
    """E[net] = (1 - 0.0805) E[G] - E[unit costs] (La Ruche: 7 % plus Québec taxes,
    payment included, no fee per pledge), by linearity of expectation."""
    spec = CLOSED_FORM
    sims = 30_000
    mean_amount = sum(t["amount"] * t["share"] for t in TIERS)
    mean_cost = sum(t["unit_cost"] * t["share"] for t in TIERS)
    pledgers = sum(c["size"] * ref.conversion_mean(c["conversion"]) for c in spec["circle"])
    gross = pledgers * mean_amount + sum(m["amount"] * m["probability"]
                                         for m in spec["commitment"])
    costs = pledgers * mean_cost + sum(m.get("unit_cost", 0.0) * m["probability"]
                                       for m in spec["commitment"])
    result = forecast.simulate(scenario(spec), sims, rng=3)
    assert abs(result.net.mean() - ((1 - 0.0805) * gross - costs)) <= Z * mean_se(result.net)
    assert abs(result.backers.mean() - (pledgers + 0.7 + 0.4)) <= Z * mean_se(
        result.backers.astype(float))
    np.testing.assert_allclose(result.fees, 0.0805 * result.totals)
    # The tier breakdown: each tier gets its share of the circle pledgers.
    tiers = result.by_tier()
    assert abs(tiers["pledgers_mean"].sum() - pledgers) <= Z * mean_se(
        result.backers.astype(float))


# ----------------------------------------------------------------------------- reproducibility

def test_same_seed_gives_identical_arrays_and_summary():
    s = scenario(EVERYTHING)
    first = forecast.simulate(s, 3000, rng=11)
    second = forecast.simulate(s, 3000, rng=np.random.SeedSequence(11))
    other = forecast.simulate(s, 3000, rng=12)
    for name in ("totals", "net", "backers"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    np.testing.assert_array_equal(first.outcome.paths, second.outcome.paths)
    assert first.summary() == second.summary()
    assert first.summary()["seed"] == 11
    assert not np.array_equal(first.totals, other.totals)


def test_chunk_size_never_changes_the_numbers():
    """More than two stream blocks (engine.SEED_BLOCK simulations each), cut in chunks
    of one block, two blocks and everything at once."""
    s = scenario(EVERYTHING).with_(duration_days=8)
    sims = 2 * engine.SEED_BLOCK + 1000
    runs = [forecast.simulate(s, sims, rng=5, chunk_size=size)
            for size in (engine.SEED_BLOCK, 2 * engine.SEED_BLOCK, 10**6)]
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0].totals, other.totals)
        np.testing.assert_array_equal(runs[0].net, other.net)
        np.testing.assert_array_equal(runs[0].backers, other.backers)
        np.testing.assert_array_equal(runs[0].outcome.daily_sum, other.outcome.daily_sum)
        assert runs[0].summary() == other.summary()


def test_goals_walked_together_are_each_walked_alone():
    """run_goals draws once and walks each goal from the same chunk (the path before
    any threshold is found once and shared): each goal's outcome is, bit for bit,
    that of a run with that goal alone, whatever the order of the goals."""
    s = scenario(EVERYTHING).with_(duration_days=8)
    assert s.goal_dependent
    sims, seed = engine.SEED_BLOCK + 500, np.random.SeedSequence(12)
    goals = [s.goal * k for k in (2.0, 0.5, 1.0, 0.5)]
    together = engine.run_goals(s, goals, sims, seed)
    for goal, outcome in zip(goals, together):
        alone = engine.run(s.with_(goal=goal), sims, seed)
        ref.assert_same_outcome(outcome, alone)
    assert not np.array_equal(together[0].first_day, together[1].first_day)


def test_success_is_the_path_reaching_the_goal_at_a_tie():
    """Gross is the path's last day, so success is exactly the path reaching the goal
    (the 100 % milestone), even at a goal a campaign's total sums to in another
    order (266.6, with amounts that are not whole dollars); backers are the pledgers
    of every circle and the commitments kept."""
    spec = copy.deepcopy(EVERYTHING)
    spec["reward"] = [{"amount": 12.3, "share": 0.6, "unit_cost": 1.7},
                      {"amount": 47.9, "share": 0.4, "unit_cost": 20.05}]
    s = scenario(spec).with_(duration_days=8)
    goals = [266.6, s.goal * 0.5, s.goal, s.goal * 2.0]
    outcomes = engine.run_goals(s, goals, engine.SEED_BLOCK + 500,
                                np.random.SeedSequence(3))
    for goal, one in zip(goals, outcomes):
        assert np.count_nonzero(one.gross >= goal) == one.first_day[-1].sum()
        np.testing.assert_allclose(one.paths[:, -1], one.gross, rtol=1e-6)  # float32
        assert one.backers.sum() == (one.circle_pledgers_sum.sum()
                                     + one.commitment_count.sum())
    tie = np.abs(outcomes[0].gross - goals[0]) < 1e-9
    assert np.any(tie & (outcomes[0].gross != goals[0]))  # a total that only rounding splits
    assert not np.array_equal(outcomes[1].gross, outcomes[3].gross)


def test_workers_never_change_the_numbers():
    """Chunks shared out between processes give what one process gives, bit for bit,
    for every goal of a walk (momentum and post-goal factor make the path depend on
    the goal)."""
    s = scenario(EVERYTHING).with_(duration_days=8)
    assert s.goal_dependent
    sims = 3 * engine.SEED_BLOCK + 1000
    seed = np.random.SeedSequence(8)
    goals = [s.goal * k for k in (0.5, 1.0, 2.0)]
    alone = engine.run_goals(s, goals, sims, seed)
    shared = engine.run_goals(s, goals, sims, seed, workers=2)
    for one, two in zip(alone, shared):
        ref.assert_same_outcome(one, two)
    result = forecast.simulate(s, sims, rng=8, workers=2)
    assert result.summary() == forecast.simulate(s, sims, rng=8).summary()
    np.testing.assert_array_equal(result.for_goal(goals[0]).totals, alone[0].gross)


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="forked workers see the patched function")
def test_a_failing_worker_fails_the_run(monkeypatch):
    """An error in a worker's chunk reaches the caller; nothing is returned."""
    real = engine._chunk_pieces

    def failing(plan, seed, first, *rest):
        if first == engine.SEED_BLOCK:
            raise MemoryError("chunk 2 failed")
        return real(plan, seed, first, *rest)

    monkeypatch.setattr(engine, "_chunk_pieces", failing)
    s = scenario(EVERYTHING).with_(duration_days=8)
    assert engine.shared_out(4, 2)  # four chunks: they do go to the two workers
    with pytest.raises(MemoryError, match="chunk 2 failed"):
        engine.run(s, 4 * engine.SEED_BLOCK, np.random.SeedSequence(1), workers=2)


def test_a_plan_sent_to_another_process_draws_the_same():
    """Spawned workers (macOS, Windows) receive the plan pickled."""
    plan = engine._Plan(scenario(EVERYTHING).with_(duration_days=8))
    seed = np.random.SeedSequence(3)
    here = engine._chunk_pieces(plan, seed, 0, 500, [3000.0], 500)[0]
    there = engine._chunk_pieces(pickle.loads(pickle.dumps(plan)), seed, 0, 500,
                                 [3000.0], 500)[0]
    ref.assert_same_outcome(here, there)


def test_simulate_rejects_bad_arguments():
    s = scenario(CLOSED_FORM)
    for sims in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="sims"):
            forecast.simulate(s, sims, rng=1)
    with pytest.raises(ValueError, match="chunk_size"):
        forecast.simulate(s, 10, rng=1, chunk_size=0)
    for workers in (0, 1.5, True):
        with pytest.raises(ValueError, match="workers"):
            forecast.simulate(s, 10, rng=1, workers=workers)
    with pytest.raises(ValueError, match="rng"):
        forecast.simulate(s, 10, rng=-3)
    with pytest.raises(TypeError):
        forecast.simulate(CLOSED_FORM, 10, rng=1)


def test_simulate_many_is_simulate_of_each():
    """Several scenarios with one seed, their chunks shared among one set of workers:
    each result is that scenario's simulate, bit for bit; bad arguments fail at once."""
    s = scenario(EVERYTHING).with_(duration_days=8)
    scenarios = [s, s.with_(goal=2 * s.goal), s.with_(duration_days=12)]
    sims = engine.SEED_BLOCK + 700
    many = list(forecast.simulate_many(scenarios, sims, rng=4, workers=2))
    assert [r.scenario for r in many] == scenarios
    for changed, result in zip(scenarios, many):
        alone = forecast.simulate(changed, sims, rng=4)
        assert result.summary() == alone.summary()
        ref.assert_same_outcome(result.outcome, alone.outcome)
    with pytest.raises(ValueError, match="sims"):
        forecast.simulate_many(scenarios, 0, rng=1)
    with pytest.raises(TypeError):
        forecast.simulate_many([s, CLOSED_FORM], 10, rng=1)
    with pytest.raises(ValueError, match="sims"):  # a job without simulations
        next(engine.run_jobs([engine.Job(s, [s.goal], 0, np.random.SeedSequence(1))]))


def test_summary_is_consistent_with_the_arrays():
    result = forecast.simulate(scenario(EVERYTHING), 4000, rng=21)
    summary = result.summary()
    p = float(np.mean(result.totals >= EVERYTHING["campaign"]["goal"]))
    assert summary["probability"] == p == result.probability()
    assert summary["std_error"] == pytest.approx(math.sqrt(p * (1 - p) / 4000))
    low, high = summary["ci95"]
    assert low <= p <= high
    assert summary["milestones"]["100"]["probability"] == p
    assert result.daily()["reached_goal_probability"].iloc[-1] == pytest.approx(p)
    assert summary["gross"]["mean"] == pytest.approx(float(result.totals.mean()))
    assert summary["sims"] == 4000 and summary["goal"] == 3000
    by_circle = result.by_circle()
    assert by_circle["amount_mean"].sum() == pytest.approx(result.totals.mean())
    for key in ("scenario", "platform", "currency", "duration_days", "version",
                "net_if_success", "backers", "fees_mean", "reward_costs_mean",
                "by_circle", "by_commitment", "daily", "need", "need_probability"):
        assert key in summary


def test_shares_accepted_by_validation_can_be_simulated():
    """Validation accepts shares summing to 1 within 1e-6; the engine must then run
    them (numpy's multinomial rejects unnormalised sum(pvals[:-1]) > 1 + 1e-12)."""
    spec = copy.deepcopy(CLOSED_FORM)
    spec["reward"] = [{"amount": 10, "share": 0.5}, {"amount": 20, "share": 0.5000009},
                      {"amount": 30, "share": 0.0}]
    s = scenario(spec)                                  # validation accepts it ...
    result = forecast.simulate(s, 200, rng=1)           # ... so the engine must run it
    assert 0 <= result.probability() <= 1


# ----------------------------------------------------------------------------- properties

conversions = st.one_of(
    st.floats(0.0, 0.6),
    st.tuples(st.floats(0.02, 0.5), st.floats(0.1, 0.9)).map(
        lambda t: {"mean": t[0], "sd": round(t[1] * math.sqrt(t[0] * (1 - t[0])), 6)
                   or 0.0}),
    st.tuples(st.floats(0.0, 0.5), st.floats(0.0, 0.3)).map(
        lambda t: {"low": t[0], "high": t[0] + t[1]}),
)
timings = st.fixed_dictionaries({}, optional={
    "launch_share": st.floats(0.0, 0.5), "launch_days": st.floats(0.2, 5.0),
    "final_share": st.floats(0.0, 0.5), "final_days": st.floats(0.2, 5.0)})


@st.composite
def scenarios(draw, goal_dependent: bool = True):
    """Valid small scenarios of every kind (as dicts)."""
    D = draw(st.integers(1, 12))
    n_tiers = draw(st.integers(1, 3))
    weights = draw(st.lists(st.integers(1, 5), min_size=n_tiers, max_size=n_tiers))
    rewards = [{"amount": draw(st.integers(1, 100)), "share": w / sum(weights),
                "unit_cost": draw(st.sampled_from([0.0, 2.5]))} for w in weights]
    circles = []
    for i in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["stock", "source", "flow", "budget"] if circles
                                    else ["stock", "flow", "budget"]))
        circle = {"name": f"c{i}", "conversion": draw(conversions), **draw(timings)}
        if kind == "stock":
            circle["size"] = draw(st.integers(0, 40))
        elif kind == "source":
            circle["source"] = draw(st.sampled_from([c["name"] for c in circles]))
            circle["reach_per_pledger"] = draw(st.floats(0.0, 6.0))
            circle["lag_days"] = draw(st.floats(0.0, 4.0))
            if draw(st.booleans()):
                circle["size"] = draw(st.integers(0, 30))
        else:
            if kind == "flow":
                circle["daily_reach"] = draw(st.floats(0.0, 50.0))
            else:
                circle["budget"] = draw(st.floats(0.0, 100.0))
                circle["cost_per_click"] = draw(st.floats(0.1, 2.0))
            circle["start_day"] = draw(st.integers(0, D - 1))
            if draw(st.booleans()):
                circle["end_day"] = draw(st.integers(circle["start_day"], D + 2))
            if goal_dependent and draw(st.booleans()):
                circle["featured_at"] = draw(st.floats(0.0, 1.0))
                circle["featured_boost"] = draw(st.floats(1.0, 4.0))
        if draw(st.booleans()):
            circle["pledge"] = draw(st.one_of(
                st.integers(1, 80),
                st.tuples(st.floats(5, 80), st.floats(0, 40)).map(
                    lambda t: {"mean": t[0], "sd": t[1]})))
        circles.append(circle)
    spec = {
        "campaign": {"goal": draw(st.floats(1.0, 2000.0)), "duration_days": D,
                     "platform": "custom"},
        "reward": rewards,
        "circle": circles,
        "commitment": [{"amount": draw(st.integers(1, 300)),
                        "probability": draw(st.floats(0.0, 1.0)),
                        "day": draw(st.integers(0, D - 1))}
                       for _ in range(draw(st.integers(0, 2)))],
        "fees": {"platform_rate": draw(st.floats(0.0, 0.1)),
                 "per_pledge": draw(st.sampled_from([0.0, 0.3]))},
    }
    # The appeal and the duration effect never depend on the goal; the surge and the
    # goal completion do.
    spec["dynamics"] = {"appeal_sd": draw(st.sampled_from([0.0, 0.5, 1.5])),
                        "reach_days": draw(st.sampled_from([0.0, 3.0])),
                        "fade_per_day": draw(st.sampled_from([0.0, 0.02])),
                        "surge_half_progress": 0.0, "completion_half_progress": 0.0}
    if goal_dependent:
        spec["dynamics"].update(post_goal_factor=draw(st.floats(0.0, 1.0)),
                                surge_half_progress=draw(st.sampled_from([0.0, 0.5])),
                                surge_steepness=draw(st.sampled_from([1.0, 4.0])),
                                completion_half_progress=draw(st.sampled_from([0.0, 0.3])),
                                completion_steepness=draw(st.sampled_from([1.0, 3.0])))
    return spec


PROPERTY = settings(max_examples=40, deadline=10_000, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(spec=scenarios(goal_dependent=False), seed=st.integers(0, 2**32 - 1))
def test_probability_is_a_non_increasing_function_of_the_goal(spec, seed):
    result = forecast.simulate(Scenario.from_dict(spec), 200, rng=seed)
    goals = sorted({1.0, 50.0, 300.0, spec["campaign"]["goal"], 1000.0, 5000.0})
    probs = [result.probability(goal=g) for g in goals]
    assert all(0.0 <= p <= 1.0 for p in probs)
    assert all(a >= b for a, b in zip(probs, probs[1:])), probs
    assert np.all(result.totals >= 0) and np.all(result.backers >= 0)
    assert np.all(result.net <= result.totals + 1e-9)


@PROPERTY
@given(spec=scenarios(goal_dependent=True), seed=st.integers(0, 2**32 - 1))
def test_any_valid_scenario_runs_reproducibly(spec, seed):
    s = Scenario.from_dict(spec)
    first = forecast.simulate(s, 150, rng=seed)
    second = forecast.simulate(s, 150, rng=seed)
    np.testing.assert_array_equal(first.totals, second.totals)
    p = first.probability()
    assert 0.0 <= p <= 1.0
    assert p == float(np.mean(first.totals >= s.goal))
    np.testing.assert_array_equal(first.payout[~first.success], 0.0)
    daily = first.daily()
    # the goal completion's money is summed in whole cents: half a cent a day at most
    assert daily["pledges_mean"].sum() == pytest.approx(
        first.totals.mean(), rel=1e-9, abs=0.005 * s.duration_days + 1e-9)


def _fixed_conversion_scenarios():
    """A valid scenario with fixed conversions, and the same with the conversion
    of one stock or flow circle that no circle hears from raised.

    That is what the draws guarantee (docs/model.md, "How the engine draws"): its
    count is drawn by inversion, and nothing else changes. The pledgers of a
    circle heard from are listed one by one, so raising its conversion draws its
    listeners anew."""
    @st.composite
    def pair(draw):
        spec = draw(scenarios(goal_dependent=False))
        for circle in spec["circle"]:
            circle["conversion"] = draw(st.floats(0.0, 0.5))
        higher = copy.deepcopy(spec)
        heard = {c.get("source") for c in higher["circle"]}
        raisable = [c for c in higher["circle"]
                    if "source" not in c and c["name"] not in heard]
        assume(raisable)
        circle = draw(st.sampled_from(raisable))
        circle["conversion"] = min(1.0, circle["conversion"] + draw(st.floats(0.001, 0.5)))
        return spec, higher
    return pair()


@settings(PROPERTY, phases=[Phase.explicit, Phase.generate])  # no shrinking: keep it quick
@given(pair=_fixed_conversion_scenarios(), seed=st.integers(0, 2**32 - 1))
def test_more_conversion_never_means_fewer_pledgers_under_the_same_seed(pair, seed):
    lower, higher = (Scenario.from_dict(s) for s in pair)
    low = forecast.simulate(lower, 200, rng=seed)
    high = forecast.simulate(higher, 200, rng=seed)
    assert np.all(high.backers >= low.backers)


@pytest.mark.parametrize("reached", [{"size": 1000}, {"daily_reach": 100}],
                         ids=["stock", "flow"])
def test_more_conversion_never_fewer_pledgers_in_one_circle(reached):
    def one_circle(p):
        return Scenario.from_dict(ref.isolated({
            "campaign": {"goal": 1000, "duration_days": 10, "platform": "custom"},
            "circle": [{"name": "people", **reached, "conversion": p, "pledge": 10}]}))
    low = forecast.simulate(one_circle(0.10), 2000, rng=3)
    high = forecast.simulate(one_circle(0.11), 2000, rng=3)
    assert np.all(high.backers >= low.backers)


def test_probability_non_increasing_in_goal_with_momentum_and_post_goal_factor():
    result = forecast.simulate(scenario(EVERYTHING), 3000, rng=4)
    goals = np.arange(2000.0, 4001.0, 50.0)
    probs = [result.probability(goal=g) for g in goals]
    assert all(a >= b for a, b in zip(probs, probs[1:]))


# ----------------------------------------------------------------------------- samplers

@pytest.mark.parametrize("size", [1, 2, 3, 7, 90, 910, 1024])
def test_raw_inverse_probabilities_are_the_shares_to_double_precision(size):
    """Exact: each category's probability, counted over all 2**64 words from the
    table itself, equals its share to 1e-15; zero shares are never drawn; a word
    gets the category whose interval of words holds it, with or without the guide."""
    rng = np.random.default_rng(size)
    shares = rng.random(size)
    shares[rng.random(size) < 0.2] = 0.0
    shares[0] += 0.1
    table = RawInverse(shares)
    np.testing.assert_allclose(table.probabilities(), shares / shares.sum(), rtol=0,
                               atol=1e-15)
    words = rng.bit_generator.random_raw(200_000)
    category = table.draw(words)
    # The interval each word falls in, counted with Python integers (no guide).
    cuts = [int(c) for c in table.cuts]
    searched = [int(table.drawn[bisect.bisect_right(cuts, int(w))]) for w in words]
    assert category.tolist() == searched
    drawn = np.bincount(category, minlength=size)
    assert drawn.size == size and np.all(drawn[shares == 0] == 0)
    # Statistically too: every count within 5 SE of its expectation.
    p = shares / shares.sum()
    se = np.sqrt(words.size * p * (1 - p))
    assert np.all(np.abs(drawn - words.size * p) <= Z * se + 1e-9)


@pytest.mark.parametrize("shares", [[0.25, 0.25, 0.5], [1.0, 1e-20], [1.0, 0.0, 2.0, 0.0],
                                    np.linspace(1.0, 2.0, 20_000),
                                    np.linspace(1.0, 2.0, 40_000)],
                         ids=["halves", "tiny", "zeros", "20000", "40000"])
def test_raw_inverse_at_the_cuts_and_bucket_edges(shares):
    """Words either side of every cut, the first and last words of buckets, 0 and
    2**64 - 1 get the category whose interval holds them, counted with Python
    integers; tables of 20,000 and more categories (int32, 20-bit guide) too."""
    table = RawInverse(shares)
    p = np.asarray(shares, dtype=float)
    np.testing.assert_allclose(table.probabilities(), p / p.sum(), rtol=0, atol=1e-15)
    cuts = [int(c) for c in table.cuts]
    if list(shares) == [0.25, 0.25, 0.5]:
        assert cuts == [2**62, 2**63]
    top = 2**64 - 1
    words = {0, top} | {w for c in cuts for w in (c - 1, c, c + 1) if 0 <= w <= top}
    width = 2 ** (64 - table.bits)
    buckets = np.random.default_rng(0).choice(2**table.bits, min(2_000, 2**table.bits),
                                              replace=False)
    words |= {int(b) * width for b in buckets} | {int(b) * width + width - 1
                                                  for b in buckets}
    words = sorted(words)
    drawn = table.draw(np.array(words, dtype=np.uint64))
    expected = [int(table.drawn[bisect.bisect_right(cuts, w)]) for w in words]
    assert drawn.tolist() == expected
    assert np.all(p[drawn] > 0)


def quantile(law, u, *parameters):
    """scipy's ppf, except at u = 0, where it answers -1 by convention: the smallest
    k with F(k) >= 0 is 0."""
    return np.where(u > 0, law.ppf(u, *parameters), 0.0)


def test_poisson_counts_at_the_edge_of_zero():
    """A Poisson count is 1 or more exactly when u > F(0) = exp(-mean), for u at F(0)
    and at the doubles either side of it, over means from 1e-300 to 29 (the walk from
    0): the shortcut that takes the exponential only where u + mean is near 1 never
    drops nor adds a count."""
    mean = np.append(np.geomspace(1e-300, 29.0, 20_000),
                     np.random.default_rng(5).random(20_000) * 1e-3)
    edge = np.exp(-mean)
    for u in (np.nextafter(edge, 0), edge, np.nextafter(edge, 2)):
        u = np.minimum(u, np.nextafter(1.0, 0))  # u in [0, 1)
        counts = poisson_inverse(u, mean)
        np.testing.assert_array_equal(counts > 0, u > edge)
        index, _ = poisson_nonzero(u, mean)
        np.testing.assert_array_equal(index, np.flatnonzero(u > edge))


def running_sums(first: float, factor, steps: int) -> list[float]:
    """F(0) = pmf(0) = ``first``, then pmf(k+1) = ``factor(k, pmf(k))`` and F(k+1) =
    F(k) + pmf(k+1), one item and one step at a time in Python floats (IEEE doubles,
    as NumPy's element-wise arithmetic)."""
    pmf, sums = first, [first]
    for k in range(steps):
        pmf = factor(k, pmf)
        sums.append(sums[-1] + pmf)
    return sums


def test_counts_walking_up_from_zero_add_the_pmf_in_order():
    """Bit for bit: a count walking up from 0 stops where the running sum of its pmf,
    added one term at a time in order, first reaches u. Checked at u equal to such a
    sum (the count is its k) and at the next double up (k + 1), where a sum rounded
    otherwise would answer one count away; near the mean, over 400 binomial and 400
    Poisson items of small means."""
    rng = np.random.default_rng(3)
    trials, p = 420.0, 0.002 + rng.random(400) * 0.06  # n p < 30: from 0
    ratio = p / (1 - p)
    lam = 0.5 + rng.random(400) * 29.0
    # The first terms as the engine takes them (NumPy's exp and log1p).
    binomial_first = np.exp(trials * np.log1p(-p))
    poisson_first = np.exp(-lam)
    for law, first, factor, at in (
            ("binomial", binomial_first,
             lambda j: lambda k, pmf: pmf * (trials - k) / (k + 1) * ratio[j],
             lambda u: binomial_inverse(u, trials, p)),
            ("poisson", poisson_first,
             lambda j: lambda k, pmf: pmf * lam[j] if k == 0 else pmf * (lam[j] / (k + 1)),
             lambda u: poisson_inverse(u, lam))):
        mean = trials * p if law == "binomial" else lam
        k = np.floor(mean).astype(int)
        sums = [running_sums(float(first[j]), factor(j), int(k[j]) + 2)
                for j in range(first.size)]
        u = np.array([s[kj] for s, kj in zip(sums, k)])
        np.testing.assert_array_equal(at(u), k, err_msg=law)
        np.testing.assert_array_equal(at(np.nextafter(u, 2)), k + 1, err_msg=law)


def test_count_inversions_equal_scipy_quantiles():
    """Exact: the engine's counts are the quantile functions of scipy at its
    uniforms, for small means (the compact walk) and large ones (from a normal guess);
    u = 0 included."""
    rng = np.random.default_rng(11)
    u = rng.random(200_000)
    u[:3] = 0.0
    for mean in (rng.random(u.size) * 2.0, rng.random(u.size) * 29.0,
                 30.0 + rng.random(u.size) * 400.0):
        np.testing.assert_array_equal(poisson_inverse(u, mean), quantile(stats.poisson, u, mean))
    # An item's count never depends on the other items of the call (chunk size).
    small = rng.random(1000) * 5.0
    alone = poisson_inverse(u[:1000], small)
    mixed = poisson_inverse(u[:2000], np.append(small, 30.0 + rng.random(1000) * 100))
    np.testing.assert_array_equal(mixed[:1000], alone)
    assert poisson_inverse([0.9610501226434418], [1.834448160535117])[0] == \
        poisson_inverse([0.9610501226434418, 0.5], [1.834448160535117, 40.0])[0]
    # The sparse form lists exactly the items counting 1 or more, in order.
    mean = np.append(rng.random(20_000) * 3.0, 30.0 + rng.random(500) * 100)
    rng.shuffle(mean)
    dense = poisson_inverse(u[:mean.size], mean)
    index, count = poisson_nonzero(u[:mean.size], mean)
    np.testing.assert_array_equal(index, np.flatnonzero(dense))
    np.testing.assert_array_equal(count, dense[index])
    p = rng.random(u.size)
    for trials in (1, 40, 420, 2600):
        np.testing.assert_array_equal(binomial_inverse(u, trials, p),
                                      quantile(stats.binom, u, trials, p))
