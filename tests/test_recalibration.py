"""The tracker's recalibration (forecast/recalibration.py): the tilt against its
definition, the fit against the coefficients that made the outcomes, the map as
``forecast.track`` applies it, and ``forecast recalibrate``. Synthetic data only."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import forecast
from forecast import recalibration as rc
from forecast.cli import main

from test_backtest import trajectories


def test_tilt_gives_the_successes_the_target_and_keeps_proportions_within_each_side():
    rng = np.random.default_rng(1)
    weights = rng.random(200)
    weights /= weights.sum()
    success = rng.random(200) < 0.3
    tilted = rc.tilt(weights, success, 0.8)
    assert tilted[success].sum() == pytest.approx(0.8, rel=1e-12)
    assert tilted.sum() == pytest.approx(1.0, rel=1e-12)
    for side in (success, ~success):
        ratio = tilted[side] / weights[side]
        assert np.ptp(ratio) <= 1e-12 * ratio.max()
    # No campaign, or no weight, on one side: nothing to give the weight to.
    for all_alike in (np.zeros(200, bool), np.ones(200, bool)):
        np.testing.assert_array_equal(rc.tilt(weights, all_alike, 0.5), weights)
    some = np.array([0.0, 0.5, 0.5])
    for side in ([True, False, False], [False, True, True]):
        np.testing.assert_array_equal(rc.tilt(some, np.array(side), 0.3), some)


def test_the_fit_reads_each_campaign_as_track_would_then(monkeypatch):
    """The progress and the day fit_backtest gives the map are those of the last
    observation a tracker is shown at the checkpoint (Cases.observed)."""
    from forecast import backtest as bt

    frame = trajectories(25, seed=8)
    cases = bt.Cases.cut(bt._Trajectories.from_frame(frame), 0.3)
    for i in range(len(cases)):
        seen = cases.observed(i)
        assert cases.last_day()[i] == seen.day.iloc[-1]
        assert cases.pledged()[i] == seen.pledged.iloc[-1]
    calls = []
    real_fit = rc.fit

    def recording(*args):
        calls.append(args)
        return real_fit(*args)

    monkeypatch.setattr(rc, "fit", recording)
    rc.fit_backtest(frame, at=(0.3,), folds=2, sims=200, rng=1)
    p, progress, goal, days, fraction, _ = calls[-1]       # the fit on all campaigns
    order = cases.campaigns.index                         # fit_backtest's rows: by id
    np.testing.assert_array_equal(days, cases.campaigns["duration_days"].loc[order])
    np.testing.assert_allclose(fraction, cases.last_day() / days, rtol=1e-15)
    np.testing.assert_allclose(progress, cases.pledged() / goal, rtol=1e-15)
    assert np.any(fraction < 0.3 - 0.01)                  # the checkpoint would differ


def test_features_follow_their_definitions():
    row = rc.features(0.2, 0.5, 20_000, 30, 0.25)[0]
    L, lx, lg, dd, a = math.log(0.25), math.log(0.51), math.log(2.0), 0.5, 0.25
    np.testing.assert_allclose(row, [1, L, lx, lg, dd, a, a * L, a * lx, a * lg, a * dd],
                               rtol=1e-12)
    assert len(row) == len(rc.FEATURES)
    # Probabilities of 0 and 1 are held at 1e-4 from the edge: finite log-odds.
    edges = rc.features(np.array([0.0, 1.0]), 0.0, 1000, 10, 0.5)[:, 1]
    np.testing.assert_allclose(edges, [math.log(1e-4 / (1 - 1e-4)),
                                       math.log((1 - 1e-4) / 1e-4)], rtol=1e-12)


def test_fit_finds_the_coefficients_that_made_the_outcomes():
    """Outcomes given as their exact probabilities under known coefficients: the
    likelihood's maximum is at them, up to the ridge's pull (1e-3 against a
    curvature of thousands: well below 1e-3)."""
    rng = np.random.default_rng(2)
    n = 6000
    inputs = (rng.uniform(0.01, 0.99, n), rng.uniform(0, 1.5, n),
              rng.uniform(500, 50_000, n), rng.uniform(10, 60, n),
              rng.choice([0.1, 0.25, 0.5], n))
    truth = np.array([0.5, 0.8, 0.4, -0.3, -1.0, 0.6, 0.5, 0.9, 0.2, 0.7])
    chance = 1 / (1 + np.exp(-(rc.features(*inputs) @ truth)))
    np.testing.assert_allclose(rc.fit(*inputs, chance), truth, atol=1e-3)


def test_the_map_round_trips_through_its_file(tmp_path):
    made = rc.Recalibration(tuple(np.linspace(-1, 1, 10)), 120, (0.1, 0.5), "forecast x")
    path = tmp_path / "map.toml"
    path.write_text(made.to_toml(), encoding="utf-8")
    back = rc.load(path)
    assert back.coefficients == made.coefficients
    assert (back.campaigns, back.checkpoints) == (120, (0.1, 0.5))
    p = back.probability([0.3, 0.6], [0.2, 0.9], 5000, 40, 0.25)
    z = rc.features([0.3, 0.6], [0.2, 0.9], 5000, 40, 0.25) @ np.linspace(-1, 1, 10)
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-z)), rtol=1e-12)


@pytest.mark.parametrize("text, fragment", [
    ("coefficients = [1, 2]\nfeatures = []", "features"),
    ("not toml [", "not a tracker recalibration"),
])
def test_a_bad_map_file_is_refused_by_name(tmp_path, text, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=fragment) as error:
        rc.load(path)
    assert str(path) in str(error.value)
    with pytest.raises(ValueError, match="10 finite coefficients"):
        rc.Recalibration((1.0, 2.0))


def test_the_shipped_map_loads_and_says_how_it_was_fitted():
    shipped = rc.load()
    assert shipped.campaigns > 1000 and shipped.checkpoints == (0.1, 0.25, 0.5)
    assert "forecast recalibrate" in rc.RECALIBRATION_PATH.read_text(encoding="utf-8")


def test_track_maps_the_generic_priors_odds_and_its_sample_agrees():
    """With the generic prior: P is the shipped map of the tracker's own P (the same
    seed without the map), the final total's quantiles are those of the tilted
    weights; with a scenario, no map."""
    seen = pd.DataFrame({"day": [0, 3, 6], "pledged": [0, 900, 1400]})
    raw = forecast.track(seen, goal=5000, duration_days=30, rng=4, recalibrate=False)
    mapped = forecast.track(seen, goal=5000, duration_days=30, rng=4)
    p = raw.probability()
    assert 0 < p < 1 and raw.raw_probability is None
    assert mapped.raw_probability == pytest.approx(p, rel=1e-12)
    want = rc.load().probability(p, 1400 / 5000, 5000, 30, 6 / 30)[0]
    assert mapped.probability() == pytest.approx(want, rel=1e-9)
    assert abs(want - p) > 0.01          # a map the test would see missing
    np.testing.assert_array_equal(mapped.final, raw.final)
    q = forecast.tracking.weighted_quantiles(mapped.final, mapped.weights,
                                             np.array([0.1, 0.5, 0.9]))
    np.testing.assert_array_equal(mapped.quantiles([0.1, 0.5, 0.9]), q)
    assert mapped.summary()["probability_before_recalibration"] == pytest.approx(p)
    scenario = forecast.tracking.prior(5000, 30)
    own = forecast.track(seen, scenario=scenario, rng=4)
    assert own.raw_probability is None and own.probability() == pytest.approx(p)
    # Past the goal already: every simulated campaign succeeds, nothing to reweight.
    done = forecast.track(pd.DataFrame({"day": [0, 5], "pledged": [0, 6000]}), goal=5000,
                          duration_days=30, rng=1)
    assert done.probability() == 1.0 and done.raw_probability is None


def test_the_command_fits_scores_and_writes_a_map_that_loads(tmp_path):
    path = tmp_path / "past.csv"
    trajectories(30, seed=5).to_csv(path, index=False)
    out = tmp_path / "map.toml"
    result = CliRunner().invoke(main, ["recalibrate", str(path), "--seed", "2", "--folds",
                                       "3", "--at", "0.25,0.5", "--sims", "300",
                                       "--workers", "1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "30 campaigns, 3 folds, seed 2" in result.stdout
    assert "25%" in result.stdout and "50%" in result.stdout
    written = rc.load(out)
    assert written.campaigns == 30 and written.checkpoints == (0.25, 0.5)
    assert "forecast recalibrate past.csv --at 0.25,0.5 --folds 3 --seed 2 --sims 300" \
        in out.read_text(encoding="utf-8")
    assert "Only 30 campaigns" in result.stdout           # a small sample is flagged
    # A campaign whose totals fall is refused by the tracker: counted, with the reason.
    frame = trajectories(30, seed=5)
    rows = frame.index[frame["campaign_id"] == "c001"]
    frame.loc[rows[-1], "pledged"] = 0.0
    frame.loc[rows[-2:], "t_days"] = [0.2 * frame.loc[rows[0], "duration_days"], 0.24
                                      * frame.loc[rows[0], "duration_days"]]
    frame = frame.sort_values(["campaign_id", "t_days"], kind="stable")
    bad = tmp_path / "falls.csv"
    frame.to_csv(bad, index=False)
    refused = CliRunner().invoke(main, ["recalibrate", str(bad), "--seed", "2", "--folds",
                                        "3", "--at", "0.25", "--sims", "300"])
    assert refused.exit_code == 0, refused.output
    assert "Left out at 25%: 1 campaign(s) the tracker refused" in refused.stdout
    assert "the amount pledged falls" in refused.stdout
    missing = CliRunner().invoke(main, ["recalibrate", str(tmp_path / "none.csv")])
    assert missing.exit_code != 0 and "none.csv" in missing.output
    assert "Traceback" not in missing.output


def test_forecast_track_shows_the_priors_own_odds_beside_the_mapped_ones(tmp_path):
    path = tmp_path / "seen.csv"
    pd.DataFrame({"day": [0, 3, 6], "pledged": [0, 900, 1400]}).to_csv(path, index=False)
    args = ["track", str(path), "--goal", "5000", "--days", "30", "--seed", "4",
            "--sims", "5000"]
    text = CliRunner().invoke(main, args)
    assert text.exit_code == 0, text.output
    raw = forecast.track(pd.read_csv(path), goal=5000, duration_days=30, rng=4,
                         recalibrate=False).probability()
    assert f"(the prior's own {raw:.1%}, recalibrated" in text.stdout
    data = json.loads(CliRunner().invoke(main, args + ["--json"]).stdout)
    assert data["probability_before_recalibration"] == pytest.approx(raw, rel=1e-12)


def test_track_takes_a_map_file_or_none(tmp_path):
    """A map written by forecast recalibrate -o, by path (library and --recalibration),
    or none; --recalibration with a scenario is refused."""
    seen = pd.DataFrame({"day": [0, 3, 6], "pledged": [0, 900, 1400]})
    made = rc.Recalibration((0.5, 0.9) + (0.0,) * 8)
    path = tmp_path / "map.toml"
    path.write_text(made.to_toml(), encoding="utf-8")
    raw = forecast.track(seen, goal=5000, duration_days=30, rng=4, recalibrate=False)
    own = forecast.track(seen, goal=5000, duration_days=30, rng=4, recalibrate=str(path))
    p = raw.probability()
    assert own.probability() == pytest.approx(
        made.probability(p, 0.28, 5000, 30, 0.2)[0], rel=1e-9)
    csv = tmp_path / "seen.csv"
    seen.to_csv(csv, index=False)
    base = ["track", str(csv), "--goal", "5000", "--days", "30", "--seed", "4",
            "--sims", "5000", "--json"]
    for option, want in ((str(path), own.probability()), ("none", p)):
        out = CliRunner().invoke(main, base + ["--recalibration", option])
        assert out.exit_code == 0, out.output
        assert json.loads(out.stdout)["probability"] == pytest.approx(want, rel=1e-12)
    root = Path(__file__).resolve().parent.parent
    both = CliRunner().invoke(main, ["track", str(root / "models" / "la-ruche-observed.csv"),
                                     "--scenario",
                                     str(root / "models" / "la-ruche-lunch-box.toml"),
                                     "--recalibration", "none"])
    assert both.exit_code != 0 and "--recalibration is for the generic prior" in both.output
    with pytest.raises(TypeError, match="recalibrate"):
        forecast.track(seen, goal=5000, duration_days=30, recalibrate=3)
