"""Sweeps of goals and durations, the goal to pick, and sensitivity (issue 4)."""
import importlib
import json
import math
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from click.testing import CliRunner

import forecast
from forecast.cli import main
from forecast.advice import RECOMMEND_COLUMNS, recommend
from forecast.sweep import SENSITIVITY_COLUMNS, SWEEP_COLUMNS, sensitivity, sweep

# the module (``forecast.sweep`` is also the name of the function in the package)
sweeping = importlib.import_module("forecast.sweep")
advising = importlib.import_module("forecast.advice")

ROOT = Path(__file__).resolve().parent.parent
LA_RUCHE = ROOT / "models" / "la-ruche-lunch-box.toml"
FRIENDS = ROOT / "models" / "seed-1000-friends.toml"
MODELS = [FRIENDS, LA_RUCHE]
DAYS = [30, 45, 60, 90]
GOALS = np.arange(8000, 41001, 3000)
SIMS = 2000


@pytest.fixture(scope="module")
def sweeps():
    """One small sweep of each shipped model: {name: (scenario, frame)}."""
    found = {}
    for path in MODELS:
        scenario = forecast.load_scenario(path)
        found[path.name] = scenario, sweep(scenario, GOALS, DAYS, sims=SIMS, rng=11)
    return found


def test_frame_shape_and_attrs(sweeps):
    for scenario, frame in sweeps.values():
        assert list(frame.columns) == SWEEP_COLUMNS
        assert len(frame) == len(GOALS) * len(DAYS)
        assert sorted(frame["duration_days"].unique()) == DAYS
        assert frame.attrs["seed"] == 11 and frame.attrs["sims"] == SIMS
        assert frame.attrs["version"] == forecast.__version__
        # wilson_interval's ends are exact up to rounding (1e-19 at p = 0)
        assert ((frame["ci_low"] <= frame["probability"] + 1e-12)
                & (frame["probability"] <= frame["ci_high"] + 1e-12)).all()
        assert frame["need_probability"].isna().all() == (scenario.need is None)


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_probability_non_increasing_in_goal(sweeps, path):
    scenario, frame = sweeps[path.name]
    for _, cells in frame.groupby("duration_days"):
        p = cells.sort_values("goal")["probability"].to_numpy()
        # one simulation serves every goal, or (momentum, post-goal factor) every
        # goal walks the same random numbers, which never depend on the path: a
        # campaign that reaches a goal reaches every lower one, so exactly monotone
        assert np.all(np.diff(p) <= 0)
        assert p[0] > p[-1]


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_cells_equal_separate_simulations(path):
    """Every cell is exactly simulate(scenario.with_(goal, duration)) with the seed."""
    scenario = forecast.load_scenario(path)
    goals, days = [15000.0, scenario.goal, 27000.0], [30, 60]
    frame = sweep(scenario, goals, days, sims=1500, rng=4)
    for _, row in frame.iterrows():
        one = forecast.simulate(scenario.with_(goal=row["goal"],
                                               duration_days=int(row["duration_days"])),
                                1500, rng=4)
        summary = one.summary()
        assert row["probability"] == one.probability()
        assert (row["ci_low"], row["ci_high"]) == one.ci95()
        assert row["gross_p50"] == summary["gross"]["p50"]
        assert row["expected_payout"] == summary["expected_payout"]
        if scenario.need is None:
            assert math.isnan(row["need_probability"])
        else:
            assert row["need_probability"] == summary["need_probability"]


def test_goal_independent_sweep_simulates_once_per_duration(monkeypatch):
    jobs = []
    real = sweeping.engine.run_jobs

    def recording(these, *args, **kwargs):
        jobs.extend(these)
        return real(these, *args, **kwargs)

    monkeypatch.setattr(sweeping.engine, "run_jobs", recording)
    friends = forecast.load_scenario(FRIENDS)
    sweep(friends, range(10000, 40001, 5000), [30, 45], sims=500, rng=1)
    assert [(job.scenario.duration_days, len(job.goals)) for job in jobs] == [(30, 1),
                                                                              (45, 1)]
    jobs.clear()
    ruche = forecast.load_scenario(LA_RUCHE)  # featured_at: the goal changes the path
    sweep(ruche, [15000, 20000, 25000], [45], sims=500, rng=1)
    # drawn once per duration, walked once per goal
    assert [list(job.goals) for job in jobs] == [[15000, 20000, 25000]]


def test_runs_shared_out_give_the_same_frames():
    """sweep and sensitivity share the chunks of all their runs among one set of
    workers (engine.run_jobs): the frames are those of one process, bit for bit.
    (Four durations of 600 simulations: four chunks, two per worker, so the sweep
    too goes to the workers.)"""
    scenario = forecast.load_scenario(LA_RUCHE)
    alone = sweep(scenario, [15000, 25000], DAYS, sims=600, rng=3)
    shared = sweep(scenario, [15000, 25000], DAYS, sims=600, rng=3, workers=2)
    pd.testing.assert_frame_equal(alone, shared)
    alone = sensitivity(scenario, sims=600, rng=3)
    shared = sensitivity(scenario, sims=600, rng=3, workers=2)
    pd.testing.assert_frame_equal(alone, shared)
    assert shared.attrs["probability"] == forecast.simulate(scenario, 600,
                                                             rng=3).probability()


def test_same_seed_same_frame_and_durations_default():
    scenario = forecast.load_scenario(FRIENDS)
    first = sweep(scenario, [20000, 25000], sims=800, rng=np.random.SeedSequence(9))
    second = sweep(scenario, [25000, 20000, 20000], sims=800, rng=9)
    pd.testing.assert_frame_equal(first, second)
    assert (first["duration_days"] == scenario.duration_days).all()


@pytest.mark.parametrize("goals, durations, word", [
    ([0], None, "goals"), ([-5, 1000], None, "goals"), ([], None, "goals"),
    ([float("nan")], None, "goals"), ([1000], [20], "durations"),
    ([1000], [95], "durations"), ([1000], [45.5], "durations"),
])
def test_bad_arguments_name_the_argument(goals, durations, word):
    scenario = forecast.load_scenario(LA_RUCHE)
    with pytest.raises(ValueError, match=word):
        sweep(scenario, goals, durations, sims=10, rng=0)


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_recommendations_consistent_with_table(sweeps, path):
    scenario, frame = sweeps[path.name]
    target = 0.7
    advice = recommend(frame, scenario, target)
    assert list(advice.columns) == RECOMMEND_COLUMNS
    assert advice["duration_days"].tolist() == DAYS
    for _, rec in advice.iterrows():
        cells = frame[frame["duration_days"] == rec["duration_days"]].set_index("goal")
        # the largest goal at or above the target
        above = cells.index[cells["probability"] >= target]
        assert rec["target_goal"] == above.max()
        assert rec["target_probability"] == cells.loc[rec["target_goal"], "probability"]
        assert (cells.loc[cells.index > rec["target_goal"], "probability"] < target).all()
        if scenario.need is None:  # the target goal is the recommendation
            assert math.isnan(rec["need_goal"]) and rec["basis"] == "target"
            assert rec["recommended_goal"] == rec["target_goal"]
            assert rec["recommended_probability"] == rec["target_probability"]
            continue
        # the goal that covers the need, whatever its odds (not swept here: no odds)
        assert rec["basis"] == "need"
        assert rec["need_goal"] == advising.need_goal(scenario)
        assert rec["recommended_goal"] == advising.recommended_goal(scenario)
        assert (rec["recommended_goal"] in cells.index) != math.isnan(
            rec["recommended_probability"])


def test_recommend_reads_the_odds_of_the_need_goal_when_swept():
    scenario = forecast.load_scenario(LA_RUCHE)
    goal = advising.recommended_goal(scenario)
    frame = sweep(scenario, [goal - 1000, goal, goal + 1000], [45], sims=500, rng=2)
    row = recommend(frame, scenario).iloc[0]
    assert row["recommended_goal"] == goal
    assert row["recommended_probability"] == frame.loc[frame["goal"] == goal,
                                                       "probability"].item()


def test_recommend_none_reach_target_and_bad_target(sweeps):
    scenario, frame = sweeps[FRIENDS.name]
    high = frame[frame["goal"] >= 36000]
    advice = recommend(high, scenario, target=0.8)
    assert advice["target_goal"].isna().all()
    assert advice["target_probability"].isna().all()
    with pytest.raises(ValueError, match="target"):
        recommend(frame, scenario, target=1.5)
    with pytest.raises(ValueError, match="probability"):
        recommend(frame.drop(columns="probability"), scenario)


@pytest.fixture(scope="module")
def sensitivities():
    return {path.name: sensitivity(forecast.load_scenario(path), sims=SIMS, rng=3)
            for path in MODELS}


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_sensitivity_known_signs(sensitivities, path):
    frame = sensitivities[path.name].set_index("input")
    assert list(sensitivities[path.name].columns) == SENSITIVITY_COLUMNS
    effects = sensitivities[path.name]["effect_pp"].abs().to_numpy()
    assert np.all(np.diff(effects) <= 0)  # sorted by |effect|
    # a larger entourage, or more of it pledging, never lowers the odds (the paired
    # campaigns' standard error: test_sensitivity_standard_error_is_that_of_the_paired_campaigns)
    for name in ("entourage: size", "entourage: conversion"):
        assert frame.loc[name, "effect_pp"] > 5 * frame.loc[name, "effect_se_pp"] > 0
    # fees never change success: no row that is zero by construction
    assert not any(name.startswith("fees") for name in frame.index)
    # every row states its unit and how its ends were set
    assert set(frame["swing"]) <= set(sweeping.SWINGS)
    assert frame.loc["entourage: size", "unit"] == "people"
    row = frame.loc["entourage: size"]
    assert row["effect_pp"] == pytest.approx(
        100 * (row["probability_high"] - row["probability_low"]))


def test_sensitivity_standard_error_is_that_of_the_paired_campaigns():
    """effect_se_pp: the standard error of the mean of the per-campaign differences of
    success between the two ends, recomputed from two separate simulations with the
    same seed; for an input that adds pledgers it is below that of two independent
    runs, and the default sims keep it at most 0.5 pp."""
    scenario = forecast.load_scenario(LA_RUCHE)
    sims = 3000
    frame = sensitivity(scenario, sims=sims, rng=5).set_index("input")
    row = frame.loc["entourage: size"]
    ends = []
    for size in (row["low"], row["high"]):
        raw = scenario.to_dict()
        raw["circle"][0]["size"] = int(size)  # the entourage
        ends.append(forecast.Scenario.from_dict(raw, scenario.path))
    low, high = (forecast.simulate(end, sims, rng=5).success for end in ends)
    assert row["probability_low"] == low.mean() and row["probability_high"] == high.mean()
    diff = high.astype(int) - low.astype(int)
    assert row["effect_se_pp"] == pytest.approx(
        100 * diff.std(ddof=1) / math.sqrt(sims), rel=1e-12)
    p_low, p_high = low.mean(), high.mean()
    independent = 100 * math.sqrt((p_low * (1 - p_low) + p_high * (1 - p_high)) / sims)
    assert row["effect_se_pp"] < independent
    # the default sims keep the standard error at most 0.5 pp
    assert row["effect_se_pp"] * math.sqrt(sims / sweeping.SENSITIVITY_SIMS) <= 0.5


def test_sensitivity_given_the_plans_probability_skips_its_run(monkeypatch):
    """probability= (a sweep's cell, as the report passes it): the plan is not
    simulated again and every row is that of the sensitivity that simulates it."""
    scenario = forecast.load_scenario(LA_RUCHE)
    full = sensitivity(scenario, sims=SIMS, rng=7)
    cell = sweep(scenario, [scenario.goal], sims=SIMS, rng=7).iloc[0]
    assert cell["probability"] == forecast.simulate(scenario, SIMS, rng=7).probability()
    jobs = []
    run_jobs = sweeping.engine.run_jobs
    monkeypatch.setattr(sweeping.engine, "run_jobs",
                        lambda js, **kw: jobs.extend(js) or run_jobs(js, **kw))
    given = sensitivity(scenario, sims=SIMS, rng=7, probability=cell["probability"])
    pd.testing.assert_frame_equal(given, full)
    assert given.attrs == full.attrs
    assert len(jobs) == 2 * len(full) and scenario not in [job.scenario for job in jobs]
    for bad in (1.5, -0.1, "0.5", True):
        with pytest.raises(ValueError, match="probability"):
            sensitivity(scenario, sims=SIMS, rng=7, probability=bad)


def test_sensitivity_ends_are_validated_scenarios():
    scenario = forecast.load_scenario(LA_RUCHE)
    entourage = scenario.circle("entourage")
    names = [name for name, *_ in sweeping._sensitivity_inputs(scenario, 0.25)]
    assert "entourage: conversion" in names and "publicité Facebook: budget" in names
    frame = sensitivity(scenario.with_(duration_days=30), sims=300, rng=1)
    row = frame.set_index("input").loc["entourage: conversion"]
    assert (row["low"], row["high"]) == pytest.approx(entourage.conversion.bounds)
    assert row["swing"] == "quantiles"
    # a uniform rate is swung like a Beta: its 5 % and 95 % quantiles
    news = scenario.circle("infolettre").conversion
    row = frame.set_index("input").loc["infolettre: conversion"]
    expected = stats.uniform(news.low, news.high - news.low).ppf([0.05, 0.95])
    assert (row["low"], row["high"]) == pytest.approx(tuple(expected))
    assert row["swing"] == "quantiles"
    commitment = frame.set_index("input").loc[
        "Épicerie zéro déchet (partenaire B2B): probability"]
    assert (commitment["low"], commitment["high"]) == (0.0, 1.0)
    assert commitment["swing"] == "decision"
    with pytest.raises(ValueError, match="relative"):
        sensitivity(scenario, sims=10, relative=1.5)


# ----------------------------------------------------------------------------- CLI

def test_cli_sweep_table():
    result = CliRunner().invoke(main, ["sweep", str(FRIENDS), "--goals", "20000:30000:5000",
                                       "--days", "30,45", "--sims", "500", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "30 d" in result.output and "45 d" in result.output
    for goal in ("$20,000", "$25,000", "$30,000"):
        assert goal in result.output
    assert "seed 1" in result.output and "The goal to pick" in result.output


def test_cli_sweep_csv_and_json(tmp_path):
    target = tmp_path / "sweep.csv"
    result = CliRunner().invoke(main, ["sweep", str(LA_RUCHE), "--goals", "15000,20000",
                                       "--days", "30", "--sims", "300", "--seed", "2",
                                       "--csv", str(target), "--json"])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(target)
    # the two goals asked for, and the goal that covers the need, always added
    covering = advising.recommended_goal(forecast.load_scenario(LA_RUCHE))
    assert list(frame.columns) == SWEEP_COLUMNS
    assert frame["goal"].tolist() == sorted([15000.0, 20000.0, covering])
    assert [p.name for p in tmp_path.iterdir()] == ["sweep.csv"]  # no temporary left
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600
    data = json.loads(result.stdout)
    assert {"seed", "version", "sims", "rows", "recommendations"} <= set(data)
    assert data["seed"] == 2 and data["sims"] == 300
    assert set(data["rows"][0]) == set(SWEEP_COLUMNS)
    assert set(data["recommendations"][0]) == set(RECOMMEND_COLUMNS)
    assert data["rows"][0]["probability"] == frame.loc[0, "probability"]


@pytest.mark.parametrize("args", [
    ["--goals", "10:abc"], ["--goals", "10000:5000:1000"], ["--goals", "-5"],
    ["--goals", "10000", "--days", "20,45"], ["--goals", "10000", "--days", "x"],
])
def test_cli_sweep_bad_input(args):
    result = CliRunner().invoke(main, ["sweep", str(LA_RUCHE), "--sims", "10", *args])
    assert result.exit_code != 0
    assert "Error" in result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, (ValueError, TypeError))


def test_cli_sweep_unwritable_csv_leaves_nothing(tmp_path):
    blocker = tmp_path / "blocker"  # a file where the CSV's folder should be
    blocker.write_text("")
    result = CliRunner().invoke(main, ["sweep", str(FRIENDS), "--goals", "20000",
                                       "--sims", "50", "--csv", str(blocker / "out.csv")])
    assert result.exit_code != 0 and "cannot write" in result.output
    assert list(tmp_path.iterdir()) == [blocker]


def test_cli_sweep_csv_makes_its_folder(tmp_path):
    target = tmp_path / "new" / "out.csv"
    result = CliRunner().invoke(main, ["sweep", str(FRIENDS), "--goals", "20000,25000",
                                       "--sims", "50", "--seed", "1", "--csv", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text().splitlines()[0].split(",")[:3] == ["goal", "duration_days",
                                                                 "probability"]


def test_cli_sensitivity():
    runner = CliRunner()
    text = runner.invoke(main, ["sensitivity", str(FRIENDS), "--sims", "300", "--seed", "5"])
    assert text.exit_code == 0, text.output
    assert "entourage: conversion" in text.output and " pp" in text.output
    assert "s.e." in text.output
    # the ranges are stated: the relative swing, and the quantiles of uncertain rates
    assert "±25%" in text.output and "5%–95% quantiles" in text.output
    assert "people" in text.output and "fees" not in text.output.split("\n", 4)[-1]
    result = runner.invoke(main, ["sensitivity", str(FRIENDS), "--sims", "300", "--seed", "5",
                                  "--json"])
    data = json.loads(result.stdout)
    assert {"seed", "version", "sims", "probability", "rows"} <= set(data)
    assert set(data["rows"][0]) == set(SENSITIVITY_COLUMNS)


@pytest.mark.parametrize("command", ["sweep", "sensitivity"])
def test_cli_help_has_an_example(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0 and "Example:" in result.output
    assert f"forecast {command} models/" in result.output


def test_goal_range_spans_the_targets_whatever_the_goal():
    """A plan far beyond the audience still gets goals reached 97 % of the time, and
    a plan far below it goals reached at most 10 % (one run, the same seed: exact)."""
    scenario = forecast.load_scenario(FRIENDS)  # the goal does not change the path
    for goal in (2000, 25000, 60000):
        at = scenario.with_(goal=goal)
        goals = sweeping.goal_range(at, include=[goal], sims=SIMS, rng=4)
        assert goal in goals and 10 <= len(goals) <= 60 and (goals > 0).all()
        p = sweep(at, goals, sims=SIMS, rng=4)["probability"]
        assert p.max() >= 0.97 and p.min() <= 0.10


def test_sensitivity_keeps_every_circles_shares_valid():
    """A circle with launch_share = 0.8 that takes the campaign's final_share: the
    high end of final_share stops at 0.2 instead of breaking that circle (issue 16)."""
    spec = {"campaign": {"name": "café", "goal": 3000, "duration_days": 40,
                         "platform": "la-ruche"},
            "reward": [{"amount": 30, "share": 1.0}],
            "circle": [{"name": "friends", "size": 300, "conversion": 0.2,
                        "launch_share": 0.8}]}
    scenario = forecast.Scenario.from_dict(spec)
    frame = sensitivity(scenario, sims=200, rng=1).set_index("input")
    assert frame.loc["timing: final_share", "high"] == pytest.approx(0.2)
    assert frame.loc["timing: launch_share", "high"] == pytest.approx(0.3 * 1.25)
