"""Hard limits and clean failure of the loader (issue 17): every number has an upper
bound named in the message, likely unit mistakes get their fix, malformed files and
names are refused in one sentence, the library is as strict as the files, and no
input, however damaged, gives anything but a scenario or a ScenarioError."""
from __future__ import annotations

import copy
import dataclasses
import math
import os
import pickle
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

import forecast
from forecast import scenario as sc
from forecast.engine import SEED_BLOCK
from forecast.scenario import ScenarioError

import reference as ref

ROOT = Path(__file__).resolve().parent.parent
MODELS = sorted((ROOT / "models").glob("*.toml"))

SMALL = {
    "campaign": {"name": "small", "goal": 2000, "duration_days": 30, "platform": "custom"},
    "reward": [{"name": "mug", "amount": 25, "share": 0.5},
               {"name": "poster", "amount": 60, "share": 0.5}],
    "circle": [
        {"name": "friends", "size": 200, "conversion": {"mean": 0.2, "sd": 0.05}},
        {"name": "fof", "source": "friends", "reach_per_pledger": 4, "conversion": 0.05,
         "lag_days": 2.0},
        {"name": "platform", "daily_reach": 20, "conversion": 0.02, "featured_at": 0.3,
         "featured_boost": 2.0},
        {"name": "ads", "budget": 100, "cost_per_click": 0.5, "conversion": 0.01},
    ],
    "commitment": [{"name": "partner", "amount": 300, "probability": 0.5, "day": 2}],
}


def load(tmp_path: Path, spec: dict) -> forecast.Scenario:
    path = tmp_path / "scenario.toml"
    path.write_text(ref.to_toml(spec), encoding="utf-8")
    return forecast.load_scenario(path)


def refused(tmp_path: Path, spec: dict, *fragments: str) -> str:
    """The one-sentence message of a refused spec, naming the file and ``fragments``."""
    with pytest.raises(ScenarioError) as error:
        load(tmp_path, spec)
    message = str(error.value)
    assert str(tmp_path / "scenario.toml") in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert "\n" not in message and len(message) < 400
    return message


def edited(*keys_and_value) -> dict:
    """SMALL with spec[k1][k2]… = value."""
    spec = copy.deepcopy(SMALL)
    *keys, value = keys_and_value
    target = spec
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value
    return spec


# ----------------------------------------------------------------------------- bounds

# (where the key is, the key as the message names it, the bound in force)
BOUNDS = [
    (("campaign", "goal"), "campaign.goal", sc.MAX_AMOUNT),
    (("campaign", "need"), "campaign.need", sc.MAX_AMOUNT),
    (("campaign", "duration_days"), "duration_days", sc.MAX_DAYS),
    (("reward", 0, "amount"), "reward[0].amount", sc.MAX_AMOUNT),
    (("reward", 0, "unit_cost"), "reward[0].unit_cost", sc.MAX_AMOUNT),
    (("circle", 0, "size"), "friends).size", sc.MAX_PEOPLE),
    (("circle", 1, "reach_per_pledger"), "fof).reach_per_pledger",
     sc.MAX_REACH_PER_PLEDGER),
    (("circle", 1, "lag_days"), "fof).lag_days", sc.MAX_DAYS),
    (("circle", 1, "size"), "fof).size", sc.MAX_PEOPLE),
    (("circle", 2, "daily_reach"), "platform).daily_reach", sc.MAX_DAILY_REACH),
    (("circle", 2, "featured_boost"), "platform).featured_boost", sc.MAX_FEATURED_BOOST),
    (("circle", 2, "featured_at"), "platform).featured_at", sc.MAX_FEATURED_AT),
    (("circle", 2, "end_day"), "platform).end_day", sc.MAX_DAYS),
    (("circle", 3, "budget"), "ads).budget", sc.MAX_AMOUNT),
    (("circle", 3, "cost_per_click"), "ads).cost_per_click", sc.MAX_AMOUNT),
    (("circle", 0, "launch_days"), "friends).timing.launch_days", sc.MAX_DAYS),
    (("timing", "final_days"), "timing.final_days", sc.MAX_DAYS),
    (("dynamics", "reach_days"), "dynamics.reach_days", sc.MAX_DAYS),
    (("dynamics", "fade_per_day"), "dynamics.fade_per_day", sc.MAX_FADE_PER_DAY),
    (("fees", "per_pledge"), "fees.per_pledge", sc.MAX_AMOUNT),
    (("commitment", 0, "amount"), "commitment[0].amount", sc.MAX_AMOUNT),
    (("commitment", 0, "unit_cost"), "commitment[0].unit_cost", sc.MAX_AMOUNT),
]


def _spec_with(keys: tuple, value) -> dict:
    spec = copy.deepcopy(SMALL)
    for table in ("timing", "dynamics", "fees"):
        spec.setdefault(table, {})
    return edited(*keys, value) if keys[0] in SMALL else {
        **spec, keys[0]: {**spec[keys[0]], keys[1]: value}}


@pytest.mark.parametrize("keys, named, bound", BOUNDS, ids=[b[1] for b in BOUNDS])
def test_every_number_has_an_upper_bound_named_in_the_message(tmp_path, keys, named, bound):
    """Above its bound (1000 times it: a huge value), a key is refused with the key and
    the bound in the message; so are NaN, inf and an integer past int64."""
    whole = float(bound).is_integer() and keys[-1] in (
        "size", "duration_days", "end_day")
    over = int(bound) * 1000 if whole else bound * 1000
    refused(tmp_path, _spec_with(keys, over), named, f"{bound:g}")
    for bad in (math.nan, math.inf, 10**20, 10**400):
        refused(tmp_path, _spec_with(keys, bad), named)


def test_integers_past_4300_digits_and_deep_nesting_are_clean_errors(tmp_path):
    path = tmp_path / "scenario.toml"
    text = ref.to_toml(SMALL)
    path.write_text(text.replace("goal = 2000", "goal = 1" + "0" * 5000), encoding="utf-8")
    with pytest.raises(ScenarioError, match="TOML"):
        forecast.load_scenario(path)
    path.write_text(text + "\n[deep]\nx = " + "[" * 5000 + "]" * 5000 + "\n",
                    encoding="utf-8")
    with pytest.raises(ScenarioError, match="nested too deeply"):
        forecast.load_scenario(path)


def test_more_tables_than_the_bound_are_refused(tmp_path):
    """3,000 circles are refused at once, naming the bound, instead of validating for
    minutes."""
    spec = copy.deepcopy(SMALL)
    spec["circle"] = [{"name": f"c{i}", "size": 2, "conversion": 0.1} for i in range(3000)]
    started = time.perf_counter()
    refused(tmp_path, spec, "[[circle]]", str(sc.MAX_CIRCLES))
    assert time.perf_counter() - started < 5


def test_validation_and_order_of_a_long_chain_of_sources(tmp_path):
    """The longest chain of source circles the bound allows validates, and
    circle_order puts each after its source without recursion (5,000 deep too)."""
    spec = copy.deepcopy(SMALL)
    chain = [{"name": "c0", "size": 200, "conversion": 0.2}]
    chain += [{"name": f"c{i}", "source": f"c{i - 1}", "reach_per_pledger": 1,
               "conversion": 0.5} for i in range(1, sc.MAX_CIRCLES)]
    spec["circle"] = chain[::-1]                       # every source after its circle
    scenario = load(tmp_path, spec)
    order = sc.circle_order(scenario.circles)
    assert sorted(order) == list(range(sc.MAX_CIRCLES))
    position = {scenario.circles[i].name: k for k, i in enumerate(order)}
    for c in scenario.circles:
        if c.kind == "source":
            assert position[c.source] < position[c.name]
    conv = scenario.circles[0].conversion
    deep = [sc.Circle("c0", "stock", conv, sc.Timing(), size=1)] + [
        sc.Circle(f"c{i}", "source", conv, sc.Timing(), source=f"c{i - 1}")
        for i in range(1, 5000)]
    assert sc.circle_order(tuple(reversed(deep))) == list(range(4999, -1, -1))
    spec["circle"][-1] = {"name": "c0", "source": f"c{sc.MAX_CIRCLES - 1}",
                          "reach_per_pledger": 1, "conversion": 0.5}
    refused(tmp_path, spec, "cycle")


# ----------------------------------------------------------------------------- mistakes

@pytest.mark.parametrize("keys, value, fix", [
    (("circle", 2, "featured_at"), 30, "0.3"),
    (("dynamics", "fade_per_day"), 1, "0.01"),
    (("circle", 3, "conversion"), 25, "0.25"),
    (("circle", 0, "conversion"), {"mean": 20, "sd": 0.05}, "0.2"),
    (("circle", 0, "conversion"), {"low": 5, "high": 0.5}, "0.05"),
    (("commitment", 0, "probability"), 80, "0.8"),
    (("reward", 0, "share"), 50, "0.5"),
    (("dynamics", "post_goal_factor"), 70, "0.7"),
])
def test_percentages_given_for_fractions_get_the_fix(tmp_path, keys, value, fix):
    message = refused(tmp_path, _spec_with(keys, value), keys[-1])
    assert f"write {fix}" in message and "percentage" in message


def test_a_beta_sd_whose_square_underflows_is_refused(tmp_path):
    refused(tmp_path, edited("circle", 0, "conversion", {"mean": 0.2, "sd": 1e-200}),
            "friends).conversion.sd", f"{sc.MIN_BETA_SD:g}")
    assert load(tmp_path, edited("circle", 0, "conversion",
                                 {"mean": 0.2, "sd": sc.MIN_BETA_SD})).circles[0]


def test_a_pledge_spread_beyond_the_bound_is_refused(tmp_path):
    refused(tmp_path, edited("circle", 2, "pledge", {"mean": 10, "sd": 1e6}),
            "platform).pledge.sd", f"{sc.MAX_PLEDGE_SPREAD:g} times the mean")


def test_featured_after_the_goal_stays_valid(tmp_path):
    """featured_at above 1 (after the goal) is a mechanism, not a mistake."""
    assert load(tmp_path, edited("circle", 2, "featured_at", 1.5)).circles[2].featured_at \
        == 1.5


# ----------------------------------------------------------------------------- files

def test_a_byte_order_mark_is_read_as_text(tmp_path):
    plain = load(tmp_path, SMALL)
    path = Path(plain.path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert forecast.load_scenario(path) == plain


def test_a_decimal_comma_is_named_with_its_fix(tmp_path):
    path = tmp_path / "comma.toml"
    text = ref.to_toml(SMALL).replace("conversion = 0.02", "conversion = 0,02")
    path.write_text(text, encoding="utf-8")
    line = text[:text.index("0,02")].count("\n") + 1
    with pytest.raises(ScenarioError) as error:
        forecast.load_scenario(path)
    message = str(error.value)
    for fragment in (str(path), f"line {line}", "decimal comma", "conversion = 0.02"):
        assert fragment in message, message


def test_devices_fifos_folders_and_huge_files_are_refused_without_waiting(tmp_path):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    outcome = {}

    def read_fifo():
        try:
            forecast.load_scenario(fifo)
        except ScenarioError as error:
            outcome["message"] = str(error)

    reader = threading.Thread(target=read_fifo, daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert "not a regular file" in outcome["message"]
    for path in ("/dev/zero", str(tmp_path)):
        with pytest.raises(ScenarioError, match="not a regular file|cannot be read"):
            forecast.load_scenario(path)
    big = tmp_path / "big.toml"
    big.write_text(ref.to_toml(SMALL) + "#" * sc.MAX_FILE_BYTES, encoding="utf-8")
    with pytest.raises(ScenarioError, match="larger than"):
        forecast.load_scenario(big)
    latin = tmp_path / "latin.toml"
    latin.write_bytes(ref.to_toml(edited("campaign", "name", "été")).encode("latin-1"))
    with pytest.raises(ScenarioError, match="not UTF-8"):
        forecast.load_scenario(latin)


# ----------------------------------------------------------------------------- names

@pytest.mark.parametrize("name", [
    "bad\x1b[31mred", "nul\x00byte", "two\nlines", "tab\there", "\u202eevil",
    "iso\u2066late", "\u200b\u200c\u200d", "   ", "x" * (sc.MAX_NAME_LENGTH + 1),
])
def test_names_that_are_not_plain_text_are_refused(tmp_path, name):
    for keys in (("circle", 0, "name"), ("reward", 0, "name"), ("commitment", 0, "name"),
                 ("campaign", "name")):
        spec = edited(*keys, name)
        if keys[0] == "circle":
            spec["circle"][1]["source"] = name
        refused(tmp_path, spec, "name")


def test_names_in_any_script_are_accepted(tmp_path):
    for name in ("amis des amis — été", "家族", "famille 👨\u200d👩\u200d👧",
                 "x" * sc.MAX_NAME_LENGTH):
        assert load(tmp_path, edited("circle", 3, "name", name)).circles[3].name == name


def test_a_currency_longer_than_the_bound_is_refused(tmp_path):
    refused(tmp_path, edited("campaign", "currency", "€" * (sc.MAX_CURRENCY_LENGTH + 1)),
            "campaign.currency")


@pytest.mark.parametrize("kind, index", [("circle", 3), ("reward", 1), ("commitment", 1)])
def test_duplicate_names_are_errors(tmp_path, kind, index):
    spec = copy.deepcopy(SMALL)
    spec["commitment"].append({"name": "late", "amount": 100, "day": 5})
    spec[kind][index] = {**spec[kind][index], "name": spec[kind][0]["name"]}
    refused(tmp_path, spec, f"[[{kind}]]", repr(spec[kind][0]["name"]))


# ----------------------------------------------------------------------------- library

def test_raw_cannot_be_changed_under_a_scenario(tmp_path):
    scenario = load(tmp_path, SMALL)
    with pytest.raises(TypeError, match="cannot be changed"):
        scenario.raw["campaign"]["goal"] = 1
    with pytest.raises(TypeError):
        scenario.raw["circle"][0]["size"] = 1
    assert scenario.with_(need=100).goal == SMALL["campaign"]["goal"]
    copy_ = scenario.to_dict()
    copy_["campaign"]["goal"] = 1                   # a copy: edits stay there
    assert forecast.Scenario.from_dict(copy_).goal == 1
    assert scenario.raw["campaign"]["goal"] == SMALL["campaign"]["goal"]
    # Workers started by spawn (not Linux) get scenarios pickled: they still read.
    again = pickle.loads(pickle.dumps(scenario))
    assert again == scenario and again.raw == scenario.raw
    with pytest.raises(TypeError):
        again.raw["campaign"]["goal"] = 1


def test_dataclasses_replace_cannot_bypass_validation(tmp_path):
    scenario = load(tmp_path, SMALL)
    with pytest.raises(ScenarioError, match="with_"):
        dataclasses.replace(scenario, goal=-5)
    with pytest.raises(ScenarioError, match="with_"):
        dataclasses.replace(scenario, circles=())


def test_with_takes_numpy_scalars(tmp_path):
    scenario = load(tmp_path, SMALL)
    changed = scenario.with_(goal=np.float32(1500), duration_days=np.int64(40),
                             need=np.int32(700))
    assert (changed.goal, changed.duration_days, changed.need) == (1500.0, 40, 700.0)
    assert type(changed.duration_days) is int
    assert changed == scenario.with_(goal=1500, duration_days=40, need=700)


# ----------------------------------------------------------------------------- memory

def test_expected_pledgers_follow_the_inputs(tmp_path):
    """Stock size p + flow reach p boost + clicks p + source r p K_source, the flow's
    reach over flow_days(λ, D) (the stock's duration effect, at most 1, left out: an
    upper estimate)."""
    spec = edited("campaign", "duration_days", 60)
    spec["dynamics"] = {"reach_days": 20.0, "fade_per_day": 0.01}
    scenario = load(tmp_path, spec)
    c = {circle["name"]: circle for circle in spec["circle"]}
    friends = c["friends"]["size"] * c["friends"]["conversion"]["mean"]
    expected = (friends
                + c["fof"]["reach_per_pledger"] * c["fof"]["conversion"] * friends
                + c["platform"]["daily_reach"] * ref.flow_days(60, 0.01)
                * c["platform"]["conversion"]
                * c["platform"]["featured_boost"]
                + c["ads"]["budget"] / c["ads"]["cost_per_click"] * c["ads"]["conversion"])
    assert sc.expected_pledgers(scenario) == pytest.approx(expected, rel=1e-12)


def test_a_block_larger_than_the_memory_bound_is_refused_up_front(tmp_path):
    """10**7 contacts at 1 %: 10**5 would-be pledgers a simulation, which a block of
    SEED_BLOCK simulations cannot hold within MAX_BLOCK_BYTES; refused at load,
    naming the size of the work and the most allowed."""
    spec = edited("circle", 0, {"name": "list", "size": 10**7, "conversion": 0.01})
    spec["circle"][1]["source"] = "list"
    most = sc.MAX_BLOCK_BYTES / (sc.BYTES_PER_PLEDGER * SEED_BLOCK)
    refused(tmp_path, spec, "would-be pledgers", "GiB", f"{most:,.0f}")
    # Just under the bound loads; the shipped models are far below it.
    spec["circle"] = [{"name": "list", "size": int(most / 0.01) - 1, "conversion": 0.01}]
    assert load(tmp_path, spec).circles[0].size == int(most / 0.01) - 1
    for path in MODELS:
        assert sc.expected_pledgers(forecast.load_scenario(path)) < most / 3


# ----------------------------------------------------------------------------- fuzz

FUZZ = settings(max_examples=150, deadline=2_000, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck), phases=[Phase.generate])

MODEL_TEXTS = [path.read_bytes() for path in MODELS] + [ref.to_toml(SMALL).encode()]

# Values that break loaders: wrong types, edges, huge and damaged numbers, text.
WEIRD = st.one_of(
    st.sampled_from([0, -1, 1, 2, 10**20, 10**400, -(10**30), 1e308, -1e-320, 0.5,
                     math.nan, math.inf, -math.inf, True, "", "x", "\x00", "\u202e",
                     [], {}, [1, 2], {"mean": 0.5}, {"sd": 0.1}, {"low": 0.9, "high": 0.1},
                     {"mean": 0.2, "sd": 1e-200}, {"mean": 0.5, "sd": 0.5}]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**25), max_value=10**25),
    st.text(max_size=12),
)


def _check_loads_or_refuses(path: Path) -> None:
    try:
        forecast.load_scenario(path)
    except ScenarioError as error:
        assert str(error) and "\n" not in str(error)


@FUZZ
@given(base=st.sampled_from(MODEL_TEXTS), cuts=st.lists(
    st.tuples(st.integers(0, 10**6), st.integers(0, 40), st.binary(max_size=8)),
    max_size=4))
def test_fuzz_damaged_bytes_load_or_give_a_scenario_error(tmp_path_factory, base, cuts):
    """Bytes deleted, replaced and inserted anywhere in a real scenario file."""
    data = bytearray(base)
    for at, length, insert in cuts:
        at %= len(data) + 1
        data[at:at + length] = insert
    path = tmp_path_factory.mktemp("fuzz") / "damaged.toml"
    path.write_bytes(bytes(data))
    _check_loads_or_refuses(path)


@FUZZ
@given(data=st.binary(max_size=200))
def test_fuzz_any_bytes_load_or_give_a_scenario_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "bytes.toml"
    path.write_bytes(data)
    _check_loads_or_refuses(path)


def _paths(spec, prefix=()):
    """Every (path, value) of the nested spec."""
    if isinstance(spec, dict):
        for key, value in spec.items():
            yield prefix + (key,), value
            yield from _paths(value, prefix + (key,))
    elif isinstance(spec, list):
        for i, value in enumerate(spec):
            yield prefix + (i,), value
            yield from _paths(value, prefix + (i,))


SPEC_PATHS = [p for p, _ in _paths(copy.deepcopy(SMALL))]


@FUZZ
@given(changes=st.lists(st.tuples(st.sampled_from(SPEC_PATHS), WEIRD), min_size=1,
                        max_size=4),
       renamed=st.sampled_from([None, "campain", "conversoin", "size", "source", "budget"]))
def test_fuzz_mutated_scenarios_load_or_give_a_scenario_error(changes, renamed):
    """Values of every key replaced by odd ones (and a key renamed), through
    from_dict: a Scenario, whose block fits the memory bound, or a ScenarioError."""
    spec = copy.deepcopy(SMALL)
    for path, value in changes:
        target = spec
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue                                 # an earlier change removed it
    if renamed is not None and isinstance(spec.get("circle"), list) and spec["circle"] \
            and isinstance(spec["circle"][0], dict):
        spec["circle"][0][renamed] = spec["circle"][0].pop("name", "x")
    try:
        scenario = forecast.Scenario.from_dict(spec)
    except ScenarioError as error:
        assert str(error) and "\n" not in str(error)
        return
    assert sc.expected_pledgers(scenario) * sc.BYTES_PER_PLEDGER * SEED_BLOCK \
        <= sc.MAX_BLOCK_BYTES
