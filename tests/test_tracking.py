"""The live tracker (forecast/tracking.py) against a plain day-by-day simulation.

The reference here simulates the tracker's day-level model (Poisson would-be
pledgers, gamma pledges, appeal, featured boost, progress-held surge, post-goal
factor) from launch, written again from docs/tracking.md with the shapes of
tests/reference.py. Conditioning is checked by rejection: of the reference's
campaigns, those whose running total at the observation time is within a narrow
window of the observed one are a sample of the exact posterior predictive.
Tolerances are Z = 5 standard errors, derived where used.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import forecast
from forecast import engine, tracking
from forecast.scenario import Scenario

import reference as ref

Z = 5.0

SPEC = {
    "campaign": {"name": "tracked", "goal": 3000.0, "duration_days": 20,
                 "platform": "custom"},
    "timing": {"launch_share": 0.3, "launch_days": 2.0, "final_share": 0.3,
               "final_days": 2.0},
    "dynamics": {"post_goal_factor": 0.5, "appeal_sd": 0.8, "surge_half_progress": 0.3,
                 "surge_steepness": 4.0, "reach_days": 0.0, "fade_per_day": 0.0,
                 "completion_half_progress": 0.5, "completion_steepness": 4.0},
    "circle": [
        {"name": "friends", "size": 100, "conversion": 0.2,
         "pledge": {"mean": 50.0, "sd": 40.0}},
        {"name": "visitors", "daily_reach": 30.0, "conversion": 0.02,
         "featured_at": 0.25, "featured_boost": 3.0, "pledge": {"mean": 50.0, "sd": 40.0}},
    ],
}


#: Goal completion (h, k) in the reference and the tracker alike.
COMPLETION = (SPEC["dynamics"]["completion_half_progress"],
              SPEC["dynamics"]["completion_steepness"])


def scenario(spec: dict = SPEC) -> Scenario:
    return Scenario.from_dict(spec)


def without_completion(s: Scenario) -> Scenario:
    return s.with_dynamics(completion_half_progress=0)


def plain_runs(spec: dict, sims: int, seed: int, drift: float = 0.0) -> np.ndarray:
    """Running totals at the end of each day (sims, D) of the day-level model,
    simulated from launch day by day; the log-appeal steps by drift sqrt(1/D) a day.
    With COMPLETION (h, k), a campaign short of its goal when the window opens
    closes its gap with probability x^k / (x^k + h^k): from then on its total is
    at least its total then plus the gap times the share of the window's rush so
    far, in shares proportional to exp(-(D - 1 - d) / final_days)."""
    rng = np.random.default_rng(seed)
    D, goal = spec["campaign"]["duration_days"], spec["campaign"]["goal"]
    dyn, timing = spec["dynamics"], spec["timing"]
    w = ref.day_weights(D, **timing)
    start = ref.surge_window(D, timing["final_days"])
    sigma = np.array(ref.surge_share(D, timing, start))
    stock, flow = spec["circle"]
    mean, sd = stock["pledge"]["mean"], stock["pledge"]["sd"]
    shape, scale = (mean / sd) ** 2, sd ** 2 / mean
    sd_a = dyn["appeal_sd"]
    log_a = sd_a * rng.standard_normal(sims) - sd_a ** 2 / 2
    total = np.zeros(sims)
    featured_day = np.full(sims, D)
    goal_day = np.full(sims, D)
    strength = np.ones(sims)
    running = np.empty((sims, D))
    rush = np.array(ref.closing_floor(D, timing["final_days"], start))
    closes, opened = np.zeros(sims, bool), np.zeros(sims)
    for d in range(D):
        if d == start:
            strength = ref.surge_strength(total / goal, dyn["surge_half_progress"],
                                          dyn["surge_steepness"])
            closes = ((rng.random(sims) < ref.surge_strength(total / goal, *COMPLETION))
                      & (total < goal))
            opened = total.copy()
        log_a = log_a + drift * math.sqrt(1 / D) * rng.standard_normal(sims)
        a = np.exp(log_a)
        own = stock["size"] * np.minimum(stock["conversion"] * a, 1) * w[d]
        visitors = (np.minimum(flow["conversion"] * a, 1) * flow["daily_reach"] * D * w[d]
                    * np.where(featured_day < d, flow["featured_boost"], 1.0))
        keep = np.where(goal_day < d, dyn["post_goal_factor"], 1.0)
        if d >= start:
            keep = keep * (1 - sigma[d] * (1 - strength))
        count = rng.poisson((own + visitors) * keep)
        money = np.where(count > 0, rng.gamma(np.maximum(count, 1) * shape, scale), 0.0)
        total += money
        if d >= start:
            floor = goal if d == D - 1 else opened + (goal - opened) * rush[d]
            total = np.where(closes, np.maximum(total, floor), total)
        running[:, d] = total
        featured_day = np.where((featured_day == D) & (total >= flow["featured_at"] * goal),
                                d, featured_day)
        goal_day = np.where((goal_day == D) & (total >= goal), d, goal_day)
    return running


def observed(days, pledged) -> pd.DataFrame:
    return pd.DataFrame({"day": days, "pledged": pledged})


def rejection(running: np.ndarray, column: int, seen: float, width: float = 0.02):
    """Final totals of the reference campaigns whose total at the end of day
    ``column`` is within ``width`` (relative) of ``seen``."""
    near = np.abs(running[:, column] - seen) <= width * seen
    return running[near, -1]


def assert_same_odds(t: tracking.Track, finals: np.ndarray, goal: float) -> None:
    p_ref = float(np.mean(finals >= goal))
    se = math.sqrt(p_ref * (1 - p_ref) / finals.size + t.probability_se() ** 2 + 1e-12)
    assert abs(t.probability() - p_ref) <= Z * se, (t.probability(), p_ref, se)
    mean_se = math.sqrt(ref.mean_se(finals) ** 2
                        + np.var(t.final) / t.final.size)
    assert abs(t.final.mean() - finals.mean()) <= Z * mean_se


# ----------------------------------------------------------------------------- the method

def test_nothing_observed_gives_the_model_from_launch():
    running = plain_runs(SPEC, 100_000, seed=1)
    t = tracking.track(observed([0.0], [0.0]), scenario=scenario(), sims=100_000, rng=2,
                       dispersion=1.0, drift=0.0)
    assert t.method == "appeal posterior" and t.ess == pytest.approx(100_000)
    assert_same_odds(t, running[:, -1], SPEC["campaign"]["goal"])


@pytest.mark.parametrize("quantile", [0.2, 0.5])
def test_conditioning_matches_rejection(quantile):
    """Observed at day 8, below the featured threshold (so its day is not in doubt):
    the tracker's odds are those of the reference campaigns at that total."""
    running = plain_runs(SPEC, 600_000, seed=3)
    seen = float(np.quantile(running[:, 7], quantile))
    assert seen < SPEC["circle"][1]["featured_at"] * SPEC["campaign"]["goal"]
    finals = rejection(running, 7, seen)
    assert finals.size > 2_000
    t = tracking.track(observed([0.0, 8.0], [0.0, seen]), scenario=scenario(),
                       sims=100_000, rng=4, dispersion=1.0, drift=0.0)
    assert_same_odds(t, finals, SPEC["campaign"]["goal"])


def test_drifting_appeal_matches_rejection():
    """With a drifting appeal, one day observed: the filter steps the appeal, then
    weighs the day's money, as the reference's campaigns do."""
    running = plain_runs(SPEC, 600_000, seed=5, drift=1.5)
    seen = float(np.quantile(running[:, 0], 0.6))
    finals = rejection(running, 0, seen)
    t = tracking.track(observed([0.0, 1.0], [0.0, seen]), scenario=scenario(),
                       sims=100_000, rng=6, dispersion=1.0, drift=1.5)
    assert_same_odds(t, finals, SPEC["campaign"]["goal"])


def rush_share(spec: dict, time: float) -> float:
    """The share of the gap a closing campaign has closed by ``time`` (days): the
    window's shares exp(-(D - 1 - d) / final_days), whole days then part of one."""
    D, tau = spec["campaign"]["duration_days"], spec["timing"]["final_days"]
    closed = ref.closing_floor(D, tau, ref.surge_window(D, tau))
    return float(np.interp(time, np.arange(D + 1), [0.0, *closed]))


@pytest.mark.parametrize("today, pledged, closing", [(15.5, 0.55, True), (19.0, 0.55, False)])
def test_completion_tracked_inside_the_window(today, pledged, closing):
    """Tracked inside the final window, short of the goal: the draw was made when the
    window opened, at the observed progress x then, and a campaign still closing is
    at or above the floor it set by today. Above it, P = s(x) + (1 - s(x)) P0 for P0
    the odds without completion (the draw is independent of the pledges); below it,
    P = P0."""
    goal, D = SPEC["campaign"]["goal"], SPEC["campaign"]["duration_days"]
    start = ref.surge_window(D, SPEC["timing"]["final_days"])
    seen = observed([0.0, 10.0, start, today], [0.0, 0.4 * goal, 0.5 * goal, pledged * goal])
    floor = 0.5 + 0.5 * rush_share(SPEC, today)
    assert (pledged >= floor) == closing and start < today  # the case it means to be
    common = dict(sims=100_000, dispersion=1.0, drift=0.0)
    p0 = tracking.track(seen, scenario=without_completion(scenario()), rng=8,
                        **common).probability()
    t = tracking.track(seen, scenario=scenario(), rng=9, **common)
    s = float(ref.surge_strength(0.5, *COMPLETION)) if closing else 0.0
    expected = s + (1 - s) * p0
    se = math.sqrt(expected * (1 - expected) / 100_000
                   + (1 - s) ** 2 * p0 * (1 - p0) / 100_000 + 1e-12)
    assert abs(t.probability() - expected) <= Z * se, (t.probability(), expected, se)
    assert p0 < 0.5


def test_dispersion_flattens_the_posterior():
    """Raising the likelihood to 1/dispersion leaves the odds between the prior's
    and the undispersed posterior's."""
    seen = observed([0.0, 8.0], [0.0, 200.0])
    prior = tracking.track(observed([0.0], [0.0]), scenario=scenario(), sims=40_000, rng=1,
                           drift=0.0).probability()
    sharp = tracking.track(seen, scenario=scenario(), sims=40_000, rng=1, dispersion=1.0,
                           drift=0.0).probability()
    flat = tracking.track(seen, scenario=scenario(), sims=40_000, rng=1, dispersion=4.0,
                          drift=0.0).probability()
    assert sharp < flat < prior


def test_more_pledged_never_lowers_the_odds():
    s = scenario()
    odds = [tracking.track(observed([0.0, 6.0], [0.0, m]), scenario=s, sims=20_000,
                           rng=7).probability() for m in (0.0, 100.0, 300.0, 600.0, 1200.0)]
    assert odds == sorted(odds)


def test_goal_reached_is_certain():
    t = tracking.track(observed([0.0, 5.0], [0.0, 3100.0]), scenario=scenario(), rng=1)
    assert t.probability() == 1.0 and t.probability_se() == 0.0
    assert t.quantiles()[0] >= 3100.0


def test_same_seed_same_numbers_and_quantiles_ordered():
    seen = observed([0.0, 3.0, 6.0], [0.0, 150.0, 420.0])
    a = tracking.track(seen, scenario=scenario(), rng=11)
    b = tracking.track(seen, scenario=scenario(), rng=11)
    np.testing.assert_array_equal(a.final, b.final)
    q = a.quantiles()
    assert np.all(np.diff(q) >= 0) and q[0] >= 420.0
    assert a.with_pledgers(0) == a.probability() <= a.with_pledgers(10)
    assert a.fan.day.iloc[0] == 7.0 and a.fan.day.iloc[-1] == 20.0
    assert np.all(np.diff(a.fan.p50.to_numpy()) >= 0)


def test_weighted_simulations_for_other_scenarios():
    """A scenario with rewards goes to the engine's weighted campaigns; nothing
    observed gives equal weights and exactly the engine's odds."""
    spec = ref.isolated({
        "campaign": {"name": "rewards", "goal": 1500.0, "duration_days": 15,
                     "platform": "custom"},
        "reward": [{"amount": 19.99, "share": 0.6}, {"amount": 49.9, "share": 0.4}],
        "circle": [{"name": "friends", "size": 120, "conversion": 0.3}],
    })
    s = Scenario.from_dict(spec)
    t = tracking.track(observed([0.0], [0.0]), scenario=s, sims=8_192, rng=5)
    r = forecast.simulate(s, 8_192, rng=5)
    assert t.method == "weighted simulations"
    assert t.probability() == pytest.approx(r.success.mean(), abs=1e-12)
    np.testing.assert_array_equal(t.final, r.totals)  # the totals, not float32 paths
    # With completion, each engine campaign short of the goal when the window opens
    # (x there) also succeeds with probability s(x): the odds' expectation given the
    # engine's paths, and the spread of the completion draws.
    h, k = COMPLETION
    closing = s.with_dynamics(completion_half_progress=h, completion_steepness=k)
    done = tracking.track(observed([0.0], [0.0]), scenario=closing, sims=8_192, rng=5)
    x = r.outcome.paths[:, engine.surge_start(s) - 1] / s.goal
    closes = np.where(x < 1, ref.surge_strength(x, h, k), 0.0) * ~r.success
    expected = np.mean(r.success + closes)
    se = math.sqrt(np.sum(closes * (1 - closes))) / closes.size
    assert abs(done.probability() - expected) <= Z * se + 1e-12, (done.probability(), expected, se)
    assert done.probability() > r.success.mean() + Z * se
    # The engine's own completion (an independent implementation) gives the same odds.
    own = forecast.simulate(closing, 8_192, rng=6).success.mean()
    assert abs(own - expected) <= Z * math.sqrt(2 * expected * (1 - expected) / 8_192)
    later = tracking.track(observed([0.0, 5.0], [0.0, 900.0]), scenario=s, sims=8_192, rng=5)
    assert later.ess >= min(tracking.MIN_ESS, 8_192) * (1 - 1e-9)
    assert later.quantiles()[0] >= 900.0


def test_the_generic_prior_without_a_scenario_any_goal():
    """Goals far beyond the engine's memory bound are tracked (no engine run)."""
    t = tracking.track(observed([0.0, 10.0], [0.0, 150_000.0]), goal=1_000_000,
                       duration_days=60, platform="custom", rng=1)
    assert 0.0 <= t.probability() <= 1.0 and t.goal == 1_000_000
    assert t.quantiles()[0] >= 150_000.0


# ----------------------------------------------------------------------------- input

@pytest.mark.parametrize("frame, message", [
    (observed([], []), "no observation"),
    (pd.DataFrame({"day": [1.0]}), "no column 'pledged'"),
    (observed([0.0, 2.0, 3.0], [0.0, 500.0, 400.0]), "falls on day 3"),
    (observed([0.0, 25.0], [0.0, 100.0]), "past the deadline"),
    (observed([0.0, 2.0], [0.0, -5.0]), "pledged = -5 on day 2"),
])
def test_clear_errors(frame, message):
    with pytest.raises(tracking.TrackError, match=message):
        tracking.track(frame, scenario=scenario())


def test_small_refunds_pass_and_a_first_row_at_zero_is_added():
    frame = tracking.observed_frame(observed([4.0, 2.0, 5.0], [1000.0, 400.0, 990.0]), 20)
    assert frame.day.tolist() == [0.0, 2.0, 4.0, 5.0]
    assert frame.pledged.tolist() == [0.0, 400.0, 1000.0, 990.0]


def test_read_observed_forms_agree(tmp_path):
    cumulative = tmp_path / "c.csv"
    cumulative.write_text("Day,Pledged,Backers\n0,0,0\n1,120,3\n2,300,7\n")
    daily = tmp_path / "d.csv"
    daily.write_text("day;pledged;backers\n1;120;3\n2;180;4\n")
    dated = tmp_path / "t.csv"
    dated.write_text("date,pledged\n2026-05-02,120\n2026-05-03,300\n")
    a = tracking.read_observed(cumulative)
    b = tracking.read_observed(daily, daily=True)
    c = tracking.read_observed(dated, launch="2026-05-01")
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a[["day", "pledged"]], c)
    with pytest.raises(tracking.TrackError, match="launch date"):
        tracking.read_observed(dated)
    bad = tmp_path / "b.csv"
    bad.write_text("day,pledged\n1,abc\n")
    with pytest.raises(tracking.TrackError, match="row 2, column pledged"):
        tracking.read_observed(bad)


def test_observations_on_the_same_day_are_taken_together():
    """Two rows at one time (a zero-length interval) must not break the drift's step:
    the last row of a day is the one that counts."""
    once = tracking.track(observed([0.0, 3.0], [0.0, 300.0]), scenario=scenario(), rng=2)
    twice = tracking.track(observed([0.0, 0.0, 3.0, 3.0], [0.0, 0.0, 120.0, 300.0]),
                           scenario=scenario(), rng=2)
    assert np.isfinite(twice.final).all()
    np.testing.assert_array_equal(once.final, twice.final)


def test_the_surge_reads_the_progress_between_sparse_observations():
    """Rows at launch and after the final window opened: the progress when it opened
    is read on the line between them, as if a row had been there."""
    spec = {**SPEC, "circle": [SPEC["circle"][0],
                               {k: v for k, v in SPEC["circle"][1].items()
                                if k not in ("featured_at", "featured_boost")}]}
    model = tracking.DayModel(scenario(spec))
    start = model.start
    assert 0 < start < 16
    sparse = tracking.observed_frame(observed([0.0, 16.0], [0.0, 1600.0]), 20)
    between = 1600.0 * start / 16.0
    dense = tracking.observed_frame(observed([0.0, float(start), 16.0],
                                             [0.0, between, 1600.0]), 20)
    np.testing.assert_allclose(model.exposure(sparse), model.exposure(dense), rtol=1e-12)


def test_weighted_simulations_keep_conditioning_with_few_simulations():
    spec = ref.isolated({
        "campaign": {"name": "rewards", "goal": 1500.0, "duration_days": 15,
                     "platform": "custom"},
        "reward": [{"amount": 25.0, "share": 0.6}, {"amount": 60.0, "share": 0.4}],
        "circle": [{"name": "friends", "size": 120, "conversion": 0.3}],
    })
    t = tracking.track(observed([0.0, 5.0], [0.0, 900.0]), scenario=Scenario.from_dict(spec),
                       sims=500, rng=5)
    assert t.ess < 0.5 * 500  # weighted, not every campaign alike


def test_french_numbers_and_headers_dated_daily_rows_and_rows_without_a_day(tmp_path):
    french = tmp_path / "f.csv"
    french.write_text("Jour;Montant amassé;Contributeurs\n1;1 234,50;12\n2;2 000,00 $;20\n",
                      encoding="utf-8")
    frame = tracking.read_observed(french)
    assert frame.pledged.tolist() == [0.0, 1234.5, 2000.0]
    assert frame.backers.tolist() == [0.0, 12.0, 20.0]
    dated = tmp_path / "d.csv"
    dated.write_text("date,pledged\n2026-03-01,100\n2026-03-02,50\n")
    daily = tracking.read_observed(dated, launch="2026-03-01", daily=True)
    assert daily.day.tolist() == [0.0, 1.0, 2.0]  # launch day's money is in by day 1
    assert daily.pledged.tolist() == [0.0, 100.0, 150.0]
    undated = tmp_path / "u.csv"
    undated.write_text("day,pledged\n1,100\n,500\n3,300\n")
    with pytest.raises(tracking.TrackError, match="row 3: an amount without a day"):
        tracking.read_observed(undated, daily=True)


def test_the_interval_is_wilson_on_the_effective_sample_size():
    """Every simulated campaign succeeding still leaves an interval below 100 %:
    Wilson's for the effective sample size (for equal weights, the number of runs)."""
    goal = SPEC["campaign"]["goal"]
    t = tracking.track(observed([0.0, 10.0], [0.0, 1.2 * goal]), scenario=scenario(),
                       sims=2_000, rng=3)
    assert t.probability() == 1.0
    z = 1.959964  # Wilson's lower bound at p = 1 is n / (n + z^2)
    low, high = t.probability_interval()
    assert high == 1.0 and low == pytest.approx(2_000 / (2_000 + z ** 2), rel=1e-12)
