"""Scenario validation: every input error names the file and the key; valid input is
read as the model says (presets, defaults, timing overrides, with_)."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

import forecast
from forecast.scenario import PLATFORMS, Conversion, Dynamics, ScenarioError, Timing

import reference as ref

MODELS = Path(__file__).resolve().parent.parent / "models"

BASE = {
    "campaign": {"name": "base", "goal": 5000, "duration_days": 40, "platform": "la-ruche",
                 "need": 2000},
    "fees": {"platform_rate": 0.07},
    "timing": {"launch_share": 0.3, "launch_days": 2.0, "final_share": 0.2, "final_days": 2.0},
    "dynamics": {"post_goal_factor": 0.8},
    "reward": [{"name": "small", "amount": 20, "share": 0.6, "unit_cost": 2.0},
               {"name": "large", "amount": 80, "share": 0.4}],
    "circle": [
        {"name": "friends", "size": 300, "conversion": {"mean": 0.2, "sd": 0.05},
         "launch_share": 0.5},
        {"name": "fof", "source": "friends", "reach_per_pledger": 5, "lag_days": 2.0,
         "conversion": 0.05, "size": 400},
        {"name": "platform", "daily_reach": 30, "conversion": {"low": 0.0, "high": 0.02},
         "featured_at": 0.3, "featured_boost": 2.0, "pledge": {"mean": 50, "sd": 30}},
        {"name": "ads", "budget": 500, "cost_per_click": 0.8, "conversion": 0.01,
         "start_day": 0, "end_day": 20, "timing": {"final_share": 0.0}},
    ],
    "commitment": [{"name": "partner", "amount": 1000, "probability": 0.5, "day": 3,
                    "unit_cost": 100.0}],
}


def write(tmp_path: Path, spec: dict) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(ref.to_toml(spec), encoding="utf-8")
    return path


def test_base_scenario_is_valid_and_read_as_written(tmp_path):
    s = forecast.load_scenario(write(tmp_path, BASE))
    assert s.goal == 5000 and s.duration_days == 40 and s.platform == "la-ruche"
    assert s.fees.platform_rate == 0.07 and s.fees.payment_rate == 0.0
    assert [c.kind for c in s.circles] == ["stock", "source", "flow", "flow"]
    assert s.circle("friends").conversion == Conversion("beta", 0.2, sd=0.05)
    assert s.circle("platform").conversion.kind == "uniform"
    assert s.circle("fof").conversion == Conversion("fixed", 0.05)
    # Circle timing: flat keys and a timing table override the campaign's.
    assert s.circle("friends").timing == Timing(0.5, 2.0, 0.2, 2.0)
    assert s.circle("ads").timing == Timing(0.3, 2.0, 0.0, 2.0)
    assert s.circle("fof").timing == Timing(0.3, 2.0, 0.2, 2.0)
    assert s.dynamics == Dynamics(post_goal_factor=0.8)
    assert s.commitments[0].day == 3 and s.need == 2000
    assert s.path == str(tmp_path / "scenario.toml")


@pytest.mark.parametrize("platform, days, rates", [
    ("la-ruche", 30, (0.0805, 0.0, 0.0)),
    ("la-ruche", 90, (0.0805, 0.0, 0.0)),
    ("kickstarter", 1, (0.05, 0.03, 0.20)),
    ("kickstarter", 60, (0.05, 0.03, 0.20)),
    ("ulule", 90, (0.08, 0.0, 0.0)),
    ("custom", 365, (0.0, 0.0, 0.0)),
])
def test_platform_presets(tmp_path, platform, days, rates):
    spec = copy.deepcopy(BASE)
    del spec["fees"]
    spec["campaign"].update(platform=platform, duration_days=days)
    spec["commitment"][0]["day"] = 0
    s = forecast.load_scenario(write(tmp_path, spec))
    fees = (s.fees.platform_rate, s.fees.payment_rate, s.fees.per_pledge)
    assert fees == pytest.approx(rates)
    assert PLATFORMS[platform].min_days <= days


def test_with_changes_goal_and_duration_and_revalidates(tmp_path):
    s = forecast.load_scenario(write(tmp_path, BASE))
    t = s.with_(goal=9000, duration_days=60)
    assert (t.goal, t.duration_days) == (9000, 60)
    assert (s.goal, s.duration_days) == (5000, 40)          # the original is unchanged
    assert t.circles == s.circles
    with pytest.raises(ScenarioError, match=r"duration_days"):
        s.with_(duration_days=91)                           # La Ruche: at most 90 days
    with pytest.raises(ScenarioError, match=r"duration_days"):
        s.with_(duration_days=3)                            # the commitment is on day 3
    with pytest.raises(ScenarioError, match=r"goal"):
        s.with_(goal=0)
    with pytest.raises(ScenarioError, match=r"colour"):
        s.with_(colour="red")


def test_zero_sd_conversion_is_fixed(tmp_path):
    spec = copy.deepcopy(BASE)
    spec["circle"][0]["conversion"] = {"mean": 0.2, "sd": 0}
    s = forecast.load_scenario(write(tmp_path, spec))
    assert s.circle("friends").conversion == Conversion("fixed", 0.2)


@pytest.mark.parametrize("mean, sd", [(0.5, 0.2), (0.02, 0.01), (0.3, 0.05), (0.9, 0.08),
                                      (0.001, 0.0005), (0.12, 0.3)])
def test_beta_bounds_are_scipy_stats_quantiles(mean, sd):
    # bounds avoids importing scipy.stats (half a second of every report); its 5 % and
    # 95 % quantiles must be scipy.stats.beta's, bit for bit, and bracket 90 % of the law
    from scipy import stats

    conv = Conversion("beta", mean, sd)
    a, b = conv.beta_parameters
    assert conv.bounds == (stats.beta.ppf(0.05, a, b), stats.beta.ppf(0.95, a, b))
    assert stats.beta.cdf(conv.bounds, a, b) == pytest.approx([0.05, 0.95], abs=1e-9)


@pytest.mark.parametrize("path", sorted(MODELS.glob("*.toml")), ids=lambda p: p.name)
def test_shipped_models_are_valid(path):
    s = forecast.load_scenario(path)
    assert s.circles and s.goal > 0


# ----------------------------------------------------------------------------- errors

def _set(*keys_and_value):
    """A mutation setting spec[k1][k2]… = value (value ... deletes the key)."""
    *keys, value = keys_and_value

    def mutate(spec):
        target = spec
        for key in keys[:-1]:
            target = target[key]
        if value is ...:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value
    return mutate


def _all(*mutations):
    def mutate(spec):
        for m in mutations:
            m(spec)
    return mutate


SOURCE_C = {"name": "c", "source": "b", "reach_per_pledger": 1, "conversion": 0.1}

ERRORS = {
    # unknown keys, at every level
    "unknown top-level table": (_set("campain", {"goal": 1}), ["campain"]),
    "unknown campaign key": (_set("campaign", "gaol", 1), ["campaign.gaol"]),
    "unknown fees key": (_set("fees", "platfrom_rate", 0.1), ["fees.platfrom_rate"]),
    "unknown timing key": (_set("timing", "launch_shares", 0.1), ["timing.launch_shares"]),
    "unknown dynamics key": (_set("dynamics", "post_goal", 0.5), ["dynamics.post_goal"]),
    "unknown reward key": (_set("reward", 1, "price", 3), ["reward[1].price"]),
    "unknown circle key": (_set("circle", 0, "sizes", 3), ["circle[0]", "sizes"]),
    "unknown circle timing key": (_set("circle", 3, "timing", {"launch_day": 2}),
                                  ["circle[3]", "launch_day"]),
    "unknown pledge key": (_set("circle", 2, "pledge", {"mean": 5, "sd": 1, "median": 4}),
                           ["circle[2]", "pledge.median"]),
    "unknown conversion key": (_set("circle", 0, "conversion",
                                    {"mean": 0.1, "sd": 0.01, "mode": 0.1}),
                               ["circle[0]", "conversion"]),
    "unknown commitment key": (_set("commitment", 0, "when", 3), ["commitment[0].when"]),
    # missing keys
    "missing campaign": (_set("campaign", ...), ["campaign"]),
    "missing goal": (_set("campaign", "goal", ...), ["campaign.goal"]),
    "missing duration": (_set("campaign", "duration_days", ...), ["campaign.duration_days"]),
    "missing platform": (_set("campaign", "platform", ...), ["campaign.platform"]),
    "missing reward amount": (_set("reward", 0, "amount", ...), ["reward[0].amount"]),
    "missing reward share": (_set("reward", 1, "share", ...), ["reward[1].share"]),
    "missing circle name": (_set("circle", 1, "name", ...), ["circle[1].name"]),
    "missing conversion": (_set("circle", 0, "conversion", ...), ["circle[0]", "conversion"]),
    "circle of no kind": (_all(_set("circle", 0, "size", ...)), ["circle[0]", "size"]),
    "missing reach_per_pledger": (_set("circle", 1, "reach_per_pledger", ...),
                                  ["circle[1]", "reach_per_pledger"]),
    "budget without cost_per_click": (_set("circle", 3, "cost_per_click", ...),
                                      ["circle[3]", "cost_per_click"]),
    "cost_per_click without budget": (_set("circle", 2, "cost_per_click", 1.0),
                                      ["circle[2]", "cost_per_click"]),
    "missing commitment amount": (_set("commitment", 0, "amount", ...),
                                  ["commitment[0].amount"]),
    "no circle": (_set("circle", ...), ["circle"]),
    "no rewards and no pledge": (_set("reward", ...), ["friends", "pledge", "reward"]),
    "partial conversion": (_set("circle", 0, "conversion", {"mean": 0.1}),
                           ["circle[0]", "conversion"]),
    "partial pledge": (_set("circle", 2, "pledge", {"mean": 30}), ["circle[2]", "pledge.sd"]),
    # out-of-range and ill-typed values
    "goal zero": (_set("campaign", "goal", 0), ["campaign.goal"]),
    "goal negative": (_set("campaign", "goal", -10), ["campaign.goal"]),
    "goal text": (_set("campaign", "goal", "5000"), ["campaign.goal"]),
    "goal boolean": (_set("campaign", "goal", True), ["campaign.goal"]),
    "need negative": (_set("campaign", "need", -1), ["campaign.need"]),
    "unknown platform": (_set("campaign", "platform", "indiegogo"), ["campaign.platform"]),
    "fractional duration": (_set("campaign", "duration_days", 40.5),
                            ["campaign.duration_days"]),
    "la-ruche too short": (_set("campaign", "duration_days", 29), ["campaign.duration_days"]),
    "la-ruche too long": (_set("campaign", "duration_days", 91), ["campaign.duration_days"]),
    "kickstarter too long": (_all(_set("campaign", "platform", "kickstarter"),
                                  _set("campaign", "duration_days", 61)),
                             ["campaign.duration_days"]),
    "ulule too long": (_all(_set("campaign", "platform", "ulule"),
                            _set("campaign", "duration_days", 91)), ["campaign.duration_days"]),
    "custom zero days": (_all(_set("campaign", "platform", "custom"),
                              _set("campaign", "duration_days", 0)),
                         ["campaign.duration_days"]),
    "platform rate above 1": (_set("fees", "platform_rate", 1.2), ["fees.platform_rate"]),
    "rates sum above 1": (_set("fees", "payment_rate", 0.95),
                          ["fees.platform_rate", "fees.payment_rate"]),
    "negative per-pledge fee": (_set("fees", "per_pledge", -0.2), ["fees.per_pledge"]),
    "launch share above 1": (_set("timing", "launch_share", 1.5), ["timing.launch_share"]),
    "launch + final above 1": (_set("timing", "final_share", 0.8),
                               ["timing.launch_share", "timing.final_share"]),
    "circle launch + final above 1": (_set("circle", 0, "final_share", 0.6),
                                      ["circle[0]", "launch_share"]),
    "launch days zero": (_set("timing", "launch_days", 0), ["timing.launch_days"]),
    "timing given twice": (_set("circle", 0, "timing", {"launch_share": 0.4}),
                           ["circle[0]", "launch_share"]),
    "post-goal factor above 1": (_set("dynamics", "post_goal_factor", 1.5),
                                 ["dynamics.post_goal_factor"]),
    "negative fade": (_set("dynamics", "fade_per_day", -0.1), ["dynamics.fade_per_day"]),
    "reward amount zero": (_set("reward", 0, "amount", 0), ["reward[0].amount"]),
    "reward share above 1": (_set("reward", 0, "share", 1.5), ["reward[0].share"]),
    "shares do not sum to 1": (_set("reward", 0, "share", 0.5), ["reward", "share"]),
    "negative unit cost": (_set("reward", 0, "unit_cost", -1), ["reward[0].unit_cost"]),
    "conversion above 1": (_set("circle", 1, "conversion", 1.5), ["circle[1]", "conversion"]),
    "conversion negative": (_set("circle", 1, "conversion", -0.1), ["circle[1]", "conversion"]),
    "conversion text": (_set("circle", 1, "conversion", "5%"), ["circle[1]", "conversion"]),
    "beta sd too large": (_set("circle", 0, "conversion", {"mean": 0.1, "sd": 0.31}),
                          ["circle[0]", "conversion"]),
    "beta mean above 1": (_set("circle", 0, "conversion", {"mean": 1.2, "sd": 0.1}),
                          ["circle[0]", "conversion"]),
    "uniform reversed": (_set("circle", 0, "conversion", {"low": 0.3, "high": 0.1}),
                         ["circle[0]", "conversion"]),
    "uniform above 1": (_set("circle", 0, "conversion", {"low": 0.3, "high": 1.1}),
                        ["circle[0]", "conversion"]),
    "negative size": (_set("circle", 0, "size", -1), ["circle[0]", "size"]),
    "fractional size": (_set("circle", 0, "size", 2.5), ["circle[0]", "size"]),
    "pledge zero": (_set("circle", 2, "pledge", 0), ["circle[2]", "pledge"]),
    "pledge text": (_set("circle", 2, "pledge", "ten"), ["circle[2]", "pledge"]),
    "negative daily reach": (_set("circle", 2, "daily_reach", -5), ["circle[2]", "daily_reach"]),
    "negative budget": (_set("circle", 3, "budget", -5), ["circle[3]", "budget"]),
    "end before start": (_set("circle", 3, "start_day", 25), ["circle[3]", "end_day"]),
    "negative start day": (_set("circle", 3, "start_day", -1), ["circle[3]", "start_day"]),
    "boost below 1": (_set("circle", 2, "featured_boost", 0.5), ["circle[2]", "featured_boost"]),
    "boost without featured_at": (_set("circle", 2, "featured_at", ...),
                                  ["circle[2]", "featured_boost", "featured_at"]),
    "negative lag": (_set("circle", 1, "lag_days", -1), ["circle[1]", "lag_days"]),
    "negative reach per pledger": (_set("circle", 1, "reach_per_pledger", -1),
                                   ["circle[1]", "reach_per_pledger"]),
    "commitment probability above 1": (_set("commitment", 0, "probability", 1.2),
                                       ["commitment[0].probability"]),
    "commitment after the deadline": (_set("commitment", 0, "day", 40),
                                      ["commitment[0].day"]),
    "commitment negative day": (_set("commitment", 0, "day", -1), ["commitment[0].day"]),
    "commitment amount zero": (_set("commitment", 0, "amount", 0), ["commitment[0].amount"]),
    # structure
    "size and daily_reach": (_set("circle", 2, "size", 100), ["circle[2]", "size", "daily_reach"]),
    "daily_reach and budget": (_set("circle", 2, "budget", 100),
                               ["circle[2]", "daily_reach", "budget"]),
    "source and daily_reach": (_set("circle", 1, "daily_reach", 10),
                               ["circle[1]", "source", "daily_reach"]),
    "flow key on a stock circle": (_set("circle", 0, "start_day", 2), ["circle[0]", "start_day"]),
    "source key on a stock circle": (_set("circle", 0, "lag_days", 2), ["circle[0]", "lag_days"]),
    "featured on a stock circle": (_set("circle", 0, "featured_at", 0.2),
                                   ["circle[0]", "featured_at"]),
    "unknown source": (_set("circle", 1, "source", "freinds"), ["fof", "source", "freinds"]),
    "self source": (_set("circle", 1, "source", "fof"), ["source", "fof"]),
    "source cycle": (_all(_set("circle", 0, "source", "fof"), _set("circle", 0, "size", ...),
                          _set("circle", 0, "reach_per_pledger", 1),
                          _set("circle", 0, "launch_share", ...)),
                     ["source", "friends", "fof"]),
    "duplicate names": (_set("circle", 3, "name", "friends"), ["friends", "name"]),
    "circle not an array": (_set("circle", {"name": "x", "size": 3, "conversion": 0.1}),
                            ["circle"]),
}


@pytest.mark.parametrize("mutate, keys", ERRORS.values(), ids=ERRORS.keys())
def test_invalid_scenario_names_the_file_and_the_key(tmp_path, mutate, keys):
    spec = copy.deepcopy(BASE)
    mutate(spec)
    path = write(tmp_path, spec)
    with pytest.raises(ScenarioError) as error:
        forecast.load_scenario(path)
    message = str(error.value)
    assert str(path) in message
    for key in keys:
        assert key in message, (key, message)
    assert "\n" not in message                     # one readable sentence


def test_scenario_error_is_a_value_error():
    assert issubclass(ScenarioError, ValueError)


def test_unreadable_files_name_the_file(tmp_path):
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ScenarioError, match="nowhere.toml"):
        forecast.load_scenario(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("[campaign\ngoal = 3\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="broken.toml.*TOML"):
        forecast.load_scenario(broken)


def test_a_three_circle_cycle_is_reported(tmp_path):
    spec = copy.deepcopy(BASE)
    spec["circle"] = [
        {"name": "a", "source": "c", "reach_per_pledger": 1, "conversion": 0.1},
        {"name": "b", "source": "a", "reach_per_pledger": 1, "conversion": 0.1},
        dict(SOURCE_C),
    ]
    path = write(tmp_path, spec)
    with pytest.raises(ScenarioError, match="cycle") as error:
        forecast.load_scenario(path)
    assert str(path) in str(error.value)


def test_descriptions_are_texts_or_texts_by_language():
    spec = copy.deepcopy(BASE)
    spec["campaign"]["description"] = {"fr": "Un café.", "en": "A café."}
    spec["circle"][0]["description"] = "Friends."
    spec["commitment"][0]["description"] = {"en": "A partner."}
    spec["reward"][0]["description"] = "A sticker."
    forecast.Scenario.from_dict(spec)
    for bad in ({"de": "Ein Café."}, "", {"fr": ""}, 3):
        spec["campaign"]["description"] = bad
        with pytest.raises(ScenarioError, match="campaign.description"):
            forecast.Scenario.from_dict(spec)
    spec["campaign"]["description"] = "A café."
    spec["circle"][1]["description"] = {"fr": 3}
    with pytest.raises(ScenarioError, match=r"circle\[1\] \(fof\).description"):
        forecast.Scenario.from_dict(spec)
