"""forecast calibrate and the generic prior, on synthetic trajectories made here (the
real training data is never needed by the tests)."""
from __future__ import annotations

import gzip
from dataclasses import replace
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import forecast
from forecast import calibration, engine
from forecast.cli import main
from forecast.scenario import Timing

import reference as ref


def trajectories(timing: Timing, campaigns: int = 3, duration: float = 40.0,
                 goal: float = 1000.0, final: float = 1200.0, step: float = 0.25
                 ) -> pd.DataFrame:
    """Campaigns whose cumulative totals follow the U-curve of ``timing`` exactly,
    observed every ``step`` days: the expected shares, without noise."""
    grid = 4000  # the duration cut in 4,000 steps, as the fit's own grid would not be
    weights = ref.day_weights(grid, timing.launch_share, timing.launch_days / duration * grid,
                              timing.final_share, timing.final_days / duration * grid)
    cumulative = np.concatenate([[0.0], np.cumsum(weights)])
    rows = []
    for c in range(campaigns):
        for t in np.arange(0.0, duration + 1e-9, step):
            rows.append({"campaign_id": f"c{c}", "goal": goal, "duration_days": duration,
                         "t_days": t, "pledged": final * cumulative[int(round(t / duration * grid))],
                         "backers": 0})
    return pd.DataFrame(rows)


def test_tenths_are_the_last_observation_at_or_before_each_tenth():
    frame = pd.DataFrame({
        "campaign_id": ["a"] * 4 + ["b"] * 2, "goal": [100] * 4 + [50] * 2,
        "duration_days": [10] * 4 + [20] * 2,
        "t_days": [0, 0.9, 3.5, 9.99, 0, 30], "pledged": [0, 10, 40, 90, 5, 60]})
    tenths = calibration.campaign_tenths(frame)
    a, b = tenths.loc["a"], tenths.loc["b"]
    # Tenth k of campaign a ends at day k: observations 0.9 -> 10, 3.5 -> 40, 9.99 -> 90.
    assert [a[f"c{k}"] for k in range(1, 10)] == [10, 10, 10, 40, 40, 40, 40, 40, 40]
    assert a["c10"] == a["final"] == 90 and not a["success"]
    # A late payment after the deadline counts in the final total, not in any tenth.
    assert [b[f"c{k}"] for k in range(1, 10)] == [5] * 9
    assert b["final"] == 60 and b["success"]


def test_moments_of_two_campaigns_computed_by_hand():
    cumulative = np.array([[10.0] * 9 + [100.0], [0.0] * 9 + [0.0]])
    m = dict(zip(calibration.MOMENT_NAMES,
                 calibration.moments(np.array([100.0, 0.0]), 50.0, cumulative)))
    assert m["success share t1"] == pytest.approx(0.1)
    assert m["success share t10"] == pytest.approx(0.9)
    assert m["success rate"] == 0.5 and m["raised nothing"] == 0.5
    assert m["failure final/goal mean"] == 0.0
    assert m["success final/goal median"] == pytest.approx(2.0)


def test_timing_alone_is_recovered_from_a_few_campaigns():
    """From fewer than MIN_CAMPAIGNS campaigns only the U-curve is fitted; on
    noise-free trajectories it recovers the shares per tenth, and says what it did
    not fit."""
    truth = Timing(0.45, 3.0, 0.25, 2.0)
    fit = forecast.calibrate(trajectories(truth))
    assert fit.timing_only and fit.parameters is None
    assert "only the timing" in fit.notes[0]
    np.testing.assert_allclose(fit.fit["fitted"], fit.fit["observed"], atol=2e-3)
    # The recovered U-curve puts the same shares in each tenth as the truth.
    got = engine.day_weights(Timing(fit.timing["launch_share"],
                                    fit.timing["launch_time"] * 4000,
                                    fit.timing["final_share"],
                                    fit.timing["final_time"] * 4000), 4000)
    want = ref.day_weights(4000, 0.45, 3.0 / 40 * 4000, 0.25, 2.0 / 40 * 4000)
    np.testing.assert_allclose(got.reshape(10, -1).sum(1), want.reshape(10, -1).sum(1),
                               atol=3e-3)


def test_a_timing_only_prior_loads_and_runs(tmp_path):
    fit = forecast.calibrate(trajectories(Timing(0.4, 2.0, 0.2, 2.0)))
    path = tmp_path / "prior.toml"
    path.write_text(fit.to_toml())
    scenario = forecast.load_scenario(path)
    assert scenario.timing.launch_share == pytest.approx(fit.timing["launch_share"])
    totals = forecast.simulate(scenario, 500, rng=1).totals
    assert totals.shape == (500,) and np.all(np.isfinite(totals) & (totals >= 0))
    assert totals.max() > 0  # its campaigns raise money


def test_the_generic_prior_scales_timing_with_duration_and_audience_with_goal(tmp_path):
    base = calibration.generic_prior(10_000, 40)
    longer = calibration.generic_prior(10_000, 80)
    assert longer.timing.launch_days == pytest.approx(2 * base.timing.launch_days)
    assert longer.timing.final_days == pytest.approx(2 * base.timing.final_days)
    meta = calibration._prior_meta(calibration.PRIOR_PATH)
    bigger = calibration.generic_prior(40_000, 40)
    ratio = bigger.circle("supporters").size / base.circle("supporters").size
    assert ratio == pytest.approx(4 ** meta["goal_elasticity"], rel=1e-3)
    kick = calibration.generic_prior(5000, 30, "kickstarter")
    assert kick.platform == "kickstarter" and kick.fees.per_pledge == 0.20
    with pytest.raises(forecast.ScenarioError, match="platform"):
        calibration.generic_prior(5000, 30, "indiegogo")


def test_the_shipped_prior_is_the_one_in_models():
    """models/generic-prior.toml (what users read) and the copy the package installs
    are the same file."""
    shipped = calibration.PRIOR_PATH.read_text(encoding="utf-8")
    models = (calibration.PRIOR_PATH.parents[2] / "models" / "generic-prior.toml")
    assert models.read_text(encoding="utf-8") == shipped


def test_calibrate_command_prints_the_fit_and_writes_a_loadable_prior(tmp_path):
    data = tmp_path / "past.csv.gz"
    with gzip.open(data, "wt") as handle:
        trajectories(Timing(0.5, 2.0, 0.2, 1.0)).to_csv(handle, index=False)
    out = tmp_path / "mine.toml"
    result = CliRunner().invoke(main, ["calibrate", str(data), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "only the timing" in result.output and "share t10" in result.output
    assert forecast.load_scenario(out).duration_days == 40


@pytest.mark.parametrize("content, message", [
    ("campaign_id,goal,duration_days,t_days\nA,1,1,0\n", "missing column"),
    ("campaign_id,goal,duration_days,t_days,pledged\n", "no rows"),
    ("campaign_id,goal,duration_days,t_days,pledged\nA,-5,10,0,0\n", "row 2, column goal"),
    ("campaign_id,goal,duration_days,t_days,pledged\nA,5,10,0,abc\n", "column pledged"),
    ("campaign_id,goal,duration_days,t_days,pledged\nA,5,10,0,1\nA,6,10,1,2\n",
     "more than one goal"),
    ("\x00\x01\x02binary", "missing column"),
])
def test_bad_trajectory_files_fail_with_a_clear_message(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content.encode("latin-1"))
    result = CliRunner().invoke(main, ["calibrate", str(path)])
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_missing_file_fails_cleanly(tmp_path):
    result = CliRunner().invoke(main, ["calibrate", str(tmp_path / "none.csv")])
    assert result.exit_code != 0 and "no such file" in result.output


def test_a_fit_on_many_campaigns_runs_and_reports_each_moment(tmp_path):
    """The simulated method of moments on campaigns simulated from a known prior (few
    trials: this checks the machinery and its output, not the optimum)."""
    truth = calibration._START
    spec = calibration.prior_spec(truth, 1000.0, 30)
    result = forecast.simulate(forecast.Scenario.from_dict(spec), 150, rng=3)
    paths = result.outcome.paths.astype(float)
    rows = []
    for i, path in enumerate(paths):
        for day in range(30):
            rows.append({"campaign_id": i, "goal": 1000.0, "duration_days": 30,
                         "t_days": day + 1.0, "pledged": path[day]})
        rows.append({"campaign_id": i, "goal": 1000.0, "duration_days": 30,
                     "t_days": 0.0, "pledged": 0.0})
    fit = forecast.calibrate(pd.DataFrame(rows), sims=300, max_evaluations=20, rng=1)
    assert not fit.timing_only
    assert list(fit.fit.index) == calibration.MOMENT_NAMES
    observed = fit.fit["observed"]
    assert observed["success rate"] == pytest.approx(np.mean(paths[:, -1] >= 1000.0))
    scenario = forecast.load_scenario(_write(tmp_path / "p.toml", fit.to_toml()))
    assert scenario.dynamics.appeal_sd == pytest.approx(fit.parameters.appeal_sd)
    assert math.isfinite(fit.mid_campaign_spread)
    # the goal completion is fitted through the tracker on this very prior, and the
    # scenario file carries it
    prior = _write(tmp_path / "without.toml", replace(fit, completion=None).to_toml())
    assert fit.completion == calibration.fit_completion(pd.DataFrame(rows), rng=1,
                                                        prior=prior)
    assert scenario.completion == pytest.approx(fit.completion)
    # from too few campaigns short of their goal at the window, a note says so
    few = pd.DataFrame(rows)
    few = few[few["campaign_id"] < 40]
    fit = forecast.calibrate(few, sims=300, max_evaluations=20, rng=1)
    assert fit.completion is None
    assert any("goal completion is not fitted" in note for note in fit.notes)


def _write(path, text):
    path.write_text(text)
    return path


def test_a_success_column_is_read_as_words_or_numbers_and_refused_otherwise():
    frame = trajectories(Timing(0.4, 2.0, 0.2, 2.0), campaigns=2)
    frame["success"] = np.where(frame["campaign_id"] == "c0", "Yes", "no")
    tenths = calibration.campaign_tenths(frame)
    assert tenths["success"].tolist() == [True, False]
    frame["success"] = "maybe"
    with pytest.raises(calibration.CalibrationError, match="column success: 'maybe'"):
        calibration.campaign_tenths(frame)


def test_cross_validation_needs_folds_and_campaigns():
    few = trajectories(Timing(0.4, 2.0, 0.2, 2.0), campaigns=3)
    with pytest.raises(ValueError, match="folds = 1"):
        forecast.calibrate(few, folds=1)
    with pytest.raises(calibration.CalibrationError, match="at least 30 campaigns"):
        forecast.calibrate(few, folds=5)


def test_a_campaign_all_in_one_tenth_fits_without_overflow():
    """All the money in the last tenth drives the timing's numbers to their ends."""
    frame = pd.DataFrame({"campaign_id": ["a", "a"], "goal": [100, 100],
                          "duration_days": [1, 1], "t_days": [0, 1], "pledged": [0, 150]})
    fit = forecast.calibrate(frame)
    assert fit.timing_only and fit.fit["observed"].iloc[-1] == pytest.approx(1.0)


def test_the_written_prior_brings_at_its_duration_what_the_fit_found():
    """The audience is fitted without a duration effect; the prior written with one
    scales its supporters by 1 / g(D), so that they bring the same at D."""
    params = calibration._START
    plain = calibration.prior_spec(params, 10_000.0, 30)
    faded = calibration.prior_spec(params, 10_000.0, 30, reach_days=10.0, fade_per_day=0.05)
    g = ref.fade(30, 10.0, 0.05)
    assert g < 0.6                  # a factor the test would see missing
    size = {name: spec["circle"][0]["size"] for name, spec in (("plain", plain),
                                                               ("faded", faded))}
    assert size["faded"] * g == pytest.approx(size["plain"], abs=1.0)
    # The visitors' daily reach by 1 / flow_days(λ, D): the same people at D.
    days = ref.flow_days(30, 0.05)
    assert days < 0.6 * 30
    reach = {name: spec["circle"][1]["daily_reach"] for name, spec in (("plain", plain),
                                                                       ("faded", faded))}
    assert reach["faded"] * days == pytest.approx(reach["plain"] * 30, rel=1e-9)


def test_duration_effect_finds_the_audience_curve_the_successes_follow():
    """Success rates made exactly by the logistic model _duration_effect assumes, for
    (τr, λ) on its grid: the largest likelihood is at that pair. Campaigns at the
    longest duration, all failed here, are left out (a selection, not the effect);
    kept, they would pull the fit elsewhere."""
    tau, lam, share, beta, D0 = 10.0, float(calibration._FADES[60]), 0.6, 1.2, 40.0
    days = np.repeat(np.arange(5.0, 56.0), 40)
    goal = np.tile(np.geomspace(500, 50_000, 40), 51)

    def audience(D):
        return ((1 - share) * ref.fade(D, tau, lam) / ref.fade(D0, tau, lam)
                + share * ref.flow_days(D, lam) / ref.flow_days(D0, lam))

    offset = beta * np.log([audience(d) for d in days])
    success = 1 / (1 + np.exp(-(2.0 - 0.3 * np.log(goal) + offset)))
    frame = pd.DataFrame({"duration_days": np.r_[days, np.full(400, 60.0)],
                          "goal": np.r_[goal, np.full(400, 5000.0)],
                          "success": np.r_[success, np.zeros(400)]})
    assert calibration._duration_effect(frame, beta, share, D0) == (tau, lam)


def test_simulated_tenths_are_read_like_real_ones():
    """At the end of the last whole day at or before each tenth (day k ends at k + 1),
    as campaign_tenths reads real totals: for 15 days, tenth 1 (day 1.5) is the end of
    day 0, tenth 2 (day 3) the end of day 2; tenth 10 is the final total."""
    paths = np.cumsum(np.ones((2, 15)), axis=1)           # running total = days elapsed
    got = calibration.tenths_of_paths(paths)
    want = np.floor(np.arange(1, 11) * 1.5 + 1e-9)
    np.testing.assert_array_equal(got, np.vstack([want, want]))
    assert calibration.tenths_of_paths(np.ones((1, 5)))[0, 0] == 0.0  # before day 0 ends


def test_goal_completion_is_recovered_by_its_likelihood():
    """Campaigns at progress x with natural odds q succeed with probability
    s + (1 - s) q, s = x^k / (x^k + h^k): completion_mle finds (-k log h, k) within 5
    standard errors (from the information matrix at the truth)."""
    h, k, n = 0.35, 6.0, 6000
    rng = np.random.default_rng(11)
    x = np.exp(rng.uniform(np.log(0.05), np.log(0.95), n))
    q = rng.uniform(0.0, 0.4, n) * x
    s = x ** k / (x ** k + h ** k)
    p = s + (1 - s) * q
    success = rng.random(n) < p
    fitted_h, fitted_k = calibration.completion_mle(x, success, q)
    grad = ((1 - q) * s * (1 - s))[:, None] * np.column_stack([np.ones(n), np.log(x)])
    cov = np.linalg.inv(grad.T @ (grad / (p * (1 - p))[:, None]))
    se_a, se_k = np.sqrt(np.diag(cov))
    assert abs(fitted_k - k) <= 5 * se_k, (fitted_k, k, se_k)
    assert abs(fitted_k * math.log(fitted_h) - k * math.log(h)) <= 5 * se_a
    with pytest.raises(calibration.CalibrationError, match="does not rise"):
        calibration.completion_mle(x, ~success, q)


def test_fit_completion_reads_progress_at_the_window_and_tracks_each_campaign(monkeypatch):
    """fit_completion hands completion_mle each campaign's progress at the prior's
    window (its last observation before it), its success, and its odds without
    completion from the tracker; campaigns at 0 or past the goal are left out; too
    few campaigns short of their goal: a clear error."""
    n, D, goal = 40, 40, 1000.0
    rng = np.random.default_rng(12)
    x = rng.uniform(0.05, 0.95, n)
    x[:3] = [0.0, 1.0, 1.2]
    success = rng.random(n) < x
    assert D / 2 < engine.surge_start(calibration.generic_prior(goal, D))
    frame = pd.DataFrame({
        "campaign_id": np.repeat([f"c{i:02d}" for i in range(n)], 3), "goal": goal,
        "duration_days": D, "t_days": np.tile([0.0, D / 2, D], n),
        "pledged": np.column_stack([np.zeros(n), x * goal,
                                    np.where(success, np.maximum(x, 1) * goal, x * goal)]
                                   ).ravel(),
        "success": np.repeat(success, 3)})
    seen = {}

    def capture(progress, won, natural):
        seen.update(x=progress, success=won, q=natural)
        return 0.4, 3.0

    monkeypatch.setattr(calibration, "completion_mle", capture)
    calls = []
    assert calibration.fit_completion(frame, sims=300,
                                      progress=lambda d, t: calls.append(t)) == (0.4, 3.0)
    np.testing.assert_allclose(seen["x"], x[3:])
    np.testing.assert_array_equal(seen["success"], success[3:])
    assert calls == [n - 3] * (n - 3)
    assert np.all((seen["q"] >= 0) & (seen["q"] <= 1))
    # the odds are the tracker's, without completion, for each campaign as seen
    q5 = forecast.track(pd.DataFrame({"day": [0.0, D / 2], "pledged": [0.0, x[5] * goal]}),
                        scenario=forecast.tracking.prior(goal, D,
                                                         completion_half_progress=0),
                        sims=300,
                        rng=forecast.result.normalize_seed(0).spawn(n - 3)[2]).probability()
    assert seen["q"][2] == q5
    with pytest.raises(calibration.CalibrationError, match="at least 30"):
        calibration.fit_completion(frame[frame["campaign_id"].isin(["c03", "c04"])])
