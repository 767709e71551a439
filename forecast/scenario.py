"""The scenario schema: frozen dataclasses, validation and platform presets.

A scenario is read from a TOML file (``load_scenario``) or built in code
(``Scenario.from_dict``). Validation happens here, once; the engine trusts what
it lets through. Every error names the file, the key, the value and what would
be valid, and unknown keys are errors so that a typo never becomes a default.
See docs/model.md for the meaning of every key.
"""
from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

__all__ = [
    "ScenarioError", "Scenario", "Circle", "Conversion", "Pledge", "Reward",
    "Commitment", "Fees", "Timing", "Dynamics", "PLATFORMS", "load_scenario",
]


class ScenarioError(ValueError):
    """A scenario that cannot be simulated, with a message naming file, key and value."""


@dataclass(frozen=True)
class Platform:
    """Rules and published fees of a crowdfunding platform."""

    name: str
    min_days: int
    max_days: int | None
    platform_rate: float
    payment_rate: float
    per_pledge: float
    currency: str


# Fees as published (MODEL.md, "Money"); check current terms.
# La Ruche: 7 % commission plus GST (5 %) and QST (9.975 %), payment included:
# 0.07 * 1.14975 = 0.0805, inside the "7 to 8 % including payment" of the press.
# Kickstarter: 5 % + payment about 3 % + 0.20 per pledge.
# Ulule: 6.67 % excluding tax, 8 % including tax, payment included.
PLATFORMS: dict[str, Platform] = {
    "la-ruche": Platform("la-ruche", 30, 90, 0.0805, 0.0, 0.0, "$"),
    "kickstarter": Platform("kickstarter", 1, 60, 0.05, 0.03, 0.20, "$"),
    "ulule": Platform("ulule", 1, 90, 0.08, 0.0, 0.0, "€"),
    "custom": Platform("custom", 1, None, 0.0, 0.0, 0.0, "$"),
}


@dataclass(frozen=True)
class Timing:
    """The U-curve of MODEL.md: launch spike, plateau, final surge.

    ``w(t) = a L(t) + c F(t) + (1 - a - c) / D`` with ``L(t) ∝ exp(-t / τa)``
    and ``F(t) ∝ exp(-(D - 1 - t) / τc)``, each summing to 1 over t = 0 … D-1.
    """

    launch_share: float = 0.30
    launch_days: float = 2.0
    final_share: float = 0.20
    final_days: float = 2.0


@dataclass(frozen=True)
class Fees:
    """Fees taken from the gross total: rates of it, plus a fee per pledge."""

    platform_rate: float
    payment_rate: float
    per_pledge: float


@dataclass(frozen=True)
class Dynamics:
    """Campaign-wide, path- and duration-dependent mechanisms (docs/model.md).

    ``post_goal_factor`` multiplies every circle's daily intensity from the day
    after the goal is reached. Stock-circle conversion fades by ``exp(-fade_per_day * (D -
    fade_after_days))`` for a campaign of D > ``fade_after_days`` days.
    """

    post_goal_factor: float = 1.0
    fade_after_days: float = 45.0
    fade_per_day: float = 0.01


@dataclass(frozen=True)
class Conversion:
    """An uncertain conversion rate, drawn once per simulated campaign.

    ``kind`` is ``"fixed"`` (``value``), ``"beta"`` (``mean``, ``sd``) or
    ``"uniform"`` (``low``, ``high``).
    """

    kind: str
    mean: float
    sd: float = 0.0
    low: float = 0.0
    high: float = 0.0

    @property
    def beta_parameters(self) -> tuple[float, float]:
        """Beta(α, β) with the given mean and sd (method of moments)."""
        m, s = self.mean, self.sd
        common = m * (1 - m) / s**2 - 1
        return m * common, (1 - m) * common

    @property
    def bounds(self) -> tuple[float, float]:
        """A low and a high value: the 5 % and 95 % quantiles, or the value itself."""
        if self.kind == "uniform":
            return self.low, self.high
        if self.kind == "beta":
            from scipy import stats

            a, b = self.beta_parameters
            return float(stats.beta.ppf(0.05, a, b)), float(stats.beta.ppf(0.95, a, b))
        return self.mean, self.mean


@dataclass(frozen=True)
class Pledge:
    """A free amount per pledger: lognormal with this mean and sd, whole units."""

    mean: float
    sd: float

    @property
    def lognormal_parameters(self) -> tuple[float, float]:
        """(μ, σ) of the underlying normal: σ² = ln(1 + sd²/mean²), μ = ln mean − σ²/2."""
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        return math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2)


@dataclass(frozen=True)
class Reward:
    """A reward tier: what a pledger gives, how often it is picked, what it costs."""

    amount: float
    share: float
    unit_cost: float = 0.0
    name: str = ""


@dataclass(frozen=True)
class Commitment:
    """A pre-campaign commitment: ``amount`` on ``day``, with ``probability``."""

    name: str
    amount: float
    probability: float = 1.0
    day: int = 0
    unit_cost: float = 0.0


@dataclass(frozen=True)
class Circle:
    """A circle of influence: ``kind`` is ``"stock"``, ``"source"`` or ``"flow"``."""

    name: str
    kind: str
    conversion: Conversion
    timing: Timing
    size: int | None = None
    pledge: Pledge | None = None
    source: str | None = None
    reach_per_pledger: float = 0.0
    lag_days: float = 2.0
    daily_reach: float | None = None
    budget: float | None = None
    cost_per_click: float | None = None
    start_day: int = 0
    end_day: int | None = None
    featured_at: float | None = None
    featured_boost: float = 1.0


@dataclass(frozen=True)
class Scenario:
    """A validated campaign scenario. Build with ``load_scenario`` or ``from_dict``."""

    name: str
    goal: float
    duration_days: int
    platform: str
    fees: Fees
    timing: Timing
    rewards: tuple[Reward, ...]
    circles: tuple[Circle, ...]
    commitments: tuple[Commitment, ...] = ()
    dynamics: Dynamics = field(default_factory=Dynamics)
    need: float | None = None
    currency: str = "$"
    path: str | None = None
    raw: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str | None = None) -> "Scenario":
        """Validate a scenario given as the dict a TOML file parses to."""
        return _parse(data, path or "<scenario>")

    def with_(self, **changes: Any) -> "Scenario":
        """A validated copy with campaign keys changed (goal, duration_days, need, …)."""
        data = _thaw(self.raw)
        campaign = data.setdefault("campaign", {})
        for key, value in changes.items():
            if key not in _CAMPAIGN_KEYS:
                raise ScenarioError(
                    f"{self.path or '<scenario>'}: with_() takes campaign keys "
                    f"({', '.join(sorted(_CAMPAIGN_KEYS))}), not {key!r}")
            if value is None:
                campaign.pop(key, None)
            else:
                campaign[key] = value
        return _parse(data, self.path or "<scenario>")

    @property
    def platform_rules(self) -> Platform:
        return PLATFORMS[self.platform]

    @property
    def goal_dependent(self) -> bool:
        """True when the path depends on the goal (momentum or post-goal factor)."""
        return self.dynamics.post_goal_factor != 1.0 or any(
            c.featured_at is not None for c in self.circles)

    def circle(self, name: str) -> Circle:
        for circle in self.circles:
            if circle.name == name:
                return circle
        raise KeyError(name)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file.

    Raises
    ------
    ScenarioError
        If the file cannot be read or parsed, or any key is missing, unknown or
        out of range; the message names the file, the key and the value.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: cannot be read ({error})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path}: not valid TOML ({error})") from None
    return _parse(data, str(path))


# ----------------------------------------------------------------------------- parsing

_TOP_KEYS = {"campaign", "fees", "timing", "dynamics", "reward", "circle", "commitment"}
_CAMPAIGN_KEYS = {"name", "goal", "duration_days", "platform", "need", "currency",
                  "description"}
_TIMING_KEYS = {f.name for f in dataclasses.fields(Timing)}
_CIRCLE_KEYS = {
    "name", "size", "conversion", "pledge", "source", "reach_per_pledger", "lag_days",
    "daily_reach", "budget", "cost_per_click", "start_day", "end_day", "featured_at",
    "featured_boost", "timing", "description",
} | _TIMING_KEYS
#: Languages a ``description`` may be written in (the report's languages).
DESCRIPTION_LANGUAGES = ("en", "fr")


def _description(path: str, key: str, value: Any) -> None:
    """Check a ``description``: a text, or a table of texts by language
    ({ en = "…", fr = "…" }), shown by the report in its own language."""
    if isinstance(value, str) and value.strip():
        return
    if (isinstance(value, Mapping) and value
            and set(value) <= set(DESCRIPTION_LANGUAGES)
            and all(isinstance(v, str) and v.strip() for v in value.values())):
        return
    raise ScenarioError(f"{path}: {key} = {value!r} is not valid; expected a text, or a "
                        "table of texts by language such as { en = \"…\", fr = \"…\" }")


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_thaw(v) for v in value]
    return value


class _Checker:
    """Reads values from a table, raising ScenarioError with file and key."""

    def __init__(self, path: str, table: Mapping[str, Any], where: str, allowed: set[str]):
        self.path, self.table, self.where = path, table, where
        if not isinstance(table, Mapping):
            self.fail(where, table, "a table")
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise ScenarioError(
                f"{path}: unknown key {self.key(unknown[0])!r}; valid keys here are "
                f"{', '.join(sorted(allowed))}")

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def fail(self, key: str, value: Any, valid: str) -> None:
        raise ScenarioError(f"{self.path}: {key} = {value!r} is not valid; expected {valid}")

    def number(self, name: str, default: Any = ..., *, low: float | None = None,
               high: float | None = None, low_open: bool = False, integer: bool = False,
               valid: str | None = None) -> Any:
        if name not in self.table:
            if default is ...:
                raise ScenarioError(f"{self.path}: missing key {self.key(name)!r}"
                                    f" ({valid or 'a number'})")
            return default
        value = self.table[name]
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and integer:
            ok = float(value).is_integer()
        if ok:
            ok = math.isfinite(value)
        if ok and low is not None:
            ok = value > low if low_open else value >= low
        if ok and high is not None:
            ok = value <= high
        if not ok:
            if valid is None:
                kind = "a whole number" if integer else "a number"
                parts = []
                if low is not None:
                    parts.append(f"{'>' if low_open else '>='} {low:g}")
                if high is not None:
                    parts.append(f"<= {high:g}")
                valid = kind + (" " + " and ".join(parts) if parts else "")
            self.fail(self.key(name), value, valid)
        return int(value) if integer else float(value)

    def string(self, name: str, default: Any = ..., choices: list[str] | None = None) -> Any:
        if name not in self.table:
            if default is ...:
                raise ScenarioError(f"{self.path}: missing key {self.key(name)!r} (a string)")
            return default
        value = self.table[name]
        if not isinstance(value, str) or not value.strip():
            self.fail(self.key(name), value, "a non-empty string")
        if choices is not None and value not in choices:
            self.fail(self.key(name), value, "one of " + ", ".join(choices))
        return value


def _parse(data: Mapping[str, Any], path: str) -> Scenario:
    _Checker(path, data, "", _TOP_KEYS)  # rejects unknown top-level tables
    if "campaign" not in data:
        raise ScenarioError(f"{path}: missing table [campaign]")
    campaign = _Checker(path, data["campaign"], "campaign", _CAMPAIGN_KEYS)
    platform_name = campaign.string("platform", choices=list(PLATFORMS))
    platform = PLATFORMS[platform_name]
    goal = campaign.number("goal", low=0, low_open=True)
    span = (f"a whole number of days from {platform.min_days} to {platform.max_days} "
            f"(the {platform_name} rules)" if platform.max_days else
            "a whole number of days >= 1")
    duration = campaign.number("duration_days", low=platform.min_days,
                               high=platform.max_days, integer=True, valid=span)
    need = campaign.number("need", None, low=0, low_open=True)
    name = campaign.string("name", Path(path).stem if path != "<scenario>" else "scenario")
    currency = campaign.string("currency", platform.currency)
    if "description" in campaign.table:
        _description(path, "campaign.description", campaign.table["description"])

    fees_table = _Checker(path, data.get("fees", {}), "fees",
                          {"platform_rate", "payment_rate", "per_pledge"})
    fees = Fees(
        platform_rate=fees_table.number("platform_rate", platform.platform_rate, low=0, high=1),
        payment_rate=fees_table.number("payment_rate", platform.payment_rate, low=0, high=1),
        per_pledge=fees_table.number("per_pledge", platform.per_pledge, low=0),
    )
    if fees.platform_rate + fees.payment_rate > 1:
        raise ScenarioError(f"{path}: fees.platform_rate + fees.payment_rate = "
                            f"{fees.platform_rate + fees.payment_rate:g} is not valid; "
                            "expected at most 1")

    timing = _timing(path, data.get("timing", {}), "timing", Timing())

    dyn = _Checker(path, data.get("dynamics", {}), "dynamics",
                   {f.name for f in dataclasses.fields(Dynamics)})
    dynamics = Dynamics(
        post_goal_factor=dyn.number("post_goal_factor", 1.0, low=0, high=1),
        fade_after_days=dyn.number("fade_after_days", Dynamics.fade_after_days, low=0),
        fade_per_day=dyn.number("fade_per_day", Dynamics.fade_per_day, low=0),
    )

    rewards = tuple(_reward(path, t, i) for i, t in enumerate(_array(path, data, "reward")))
    if rewards:
        total = sum(r.share for r in rewards)
        if abs(total - 1) > 1e-6:
            raise ScenarioError(f"{path}: reward shares sum to {total:g}; they must sum to 1")

    circles_data = _array(path, data, "circle")
    if not circles_data:
        raise ScenarioError(f"{path}: no [[circle]]; a scenario needs at least one circle "
                            "of pledgers")
    circles = tuple(_circle(path, t, i, timing) for i, t in enumerate(circles_data))
    _check_circles(path, circles, rewards)

    commitments = tuple(_commitment(path, t, i, duration)
                        for i, t in enumerate(_array(path, data, "commitment")))
    return Scenario(
        name=name, goal=goal, duration_days=duration, platform=platform_name, fees=fees,
        timing=timing, rewards=rewards, circles=circles, commitments=commitments,
        dynamics=dynamics, need=need, currency=currency,
        path=None if path == "<scenario>" else path, raw=_thaw(data),
    )


def _array(path: str, data: Mapping[str, Any], name: str) -> list:
    value = data.get(name, [])
    if not isinstance(value, list):
        raise ScenarioError(f"{path}: {name} must be an array of tables, written [[{name}]]")
    return value


def _timing(path: str, table: Any, where: str, base: Timing) -> Timing:
    check = _Checker(path, table, where, _TIMING_KEYS)
    timing = Timing(
        launch_share=check.number("launch_share", base.launch_share, low=0, high=1),
        launch_days=check.number("launch_days", base.launch_days, low=0, low_open=True),
        final_share=check.number("final_share", base.final_share, low=0, high=1),
        final_days=check.number("final_days", base.final_days, low=0, low_open=True),
    )
    if timing.launch_share + timing.final_share > 1 + 1e-12:
        raise ScenarioError(
            f"{path}: {where}.launch_share + {where}.final_share = "
            f"{timing.launch_share + timing.final_share:g} is not valid; expected at most 1")
    return timing


def _reward(path: str, table: Any, index: int) -> Reward:
    check = _Checker(path, table, f"reward[{index}]",
                     {"amount", "share", "unit_cost", "name", "description"})
    if "description" in table:
        _description(path, f"reward[{index}].description", table["description"])
    return Reward(
        amount=check.number("amount", low=0, low_open=True),
        share=check.number("share", low=0, high=1),
        unit_cost=check.number("unit_cost", 0.0, low=0),
        name=check.string("name", ""),
    )


def _conversion(path: str, where: str, value: Any) -> Conversion:
    key = f"{where}.conversion"
    valid = "a rate from 0 to 1, {mean, sd} or {low, high}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not (0 <= value <= 1):
            raise ScenarioError(f"{path}: {key} = {value!r} is not valid; expected {valid}")
        return Conversion("fixed", float(value))
    if isinstance(value, Mapping) and ({"mean", "sd"} & set(value)):
        check = _Checker(path, value, key, {"mean", "sd"})
        mean = check.number("mean", low=0, high=1)
        sd = check.number("sd", low=0)
        if sd == 0:
            return Conversion("fixed", mean)
        if not 0 < mean < 1:
            raise ScenarioError(
                f"{path}: {key} = {{mean = {mean:g}, sd = {sd:g}}} is not valid; an "
                "uncertain rate needs 0 < mean < 1 (give a plain number for a sure one)")
        if sd**2 >= mean * (1 - mean):
            limit = math.sqrt(mean * (1 - mean))
            raise ScenarioError(
                f"{path}: {key} = {{mean = {mean:g}, sd = {sd:g}}} is not valid; a Beta "
                f"with mean {mean:g} needs sd < {limit:.4g} (sqrt(mean * (1 - mean)))")
        return Conversion("beta", mean, sd=sd)
    if isinstance(value, Mapping) and ({"low", "high"} & set(value)):
        check = _Checker(path, value, key, {"low", "high"})
        low = check.number("low", low=0, high=1)
        high = check.number("high", low=0, high=1)
        if high < low:
            raise ScenarioError(f"{path}: {key} = {{low = {low:g}, high = {high:g}}} is not "
                                "valid; expected low <= high")
        return Conversion("uniform", (low + high) / 2, low=low, high=high)
    raise ScenarioError(f"{path}: {key} = {value!r} is not valid; expected {valid}")


def _circle(path: str, table: Any, index: int, campaign_timing: Timing) -> Circle:
    where = f"circle[{index}]"
    check = _Checker(path, table, where, _CIRCLE_KEYS)
    name = check.string("name")
    where = f"circle[{index}] ({name})"
    check.where = where
    if "conversion" not in table:
        raise ScenarioError(f"{path}: missing key '{where}.conversion' "
                            "(a rate from 0 to 1, {mean, sd} or {low, high})")
    conversion = _conversion(path, where, table["conversion"])
    if "description" in table:
        _description(path, f"{where}.description", table["description"])

    flat = {k: table[k] for k in _TIMING_KEYS if k in table}
    nested = table.get("timing", {})
    if not isinstance(nested, Mapping):
        check.fail(check.key("timing"), nested, "a table of timing keys")
    both = sorted(set(flat) & set(nested))
    if both:
        raise ScenarioError(f"{path}: {where}: {both[0]} is given twice (in the circle and "
                            "in its timing table); give it once")
    timing = _timing(path, {**nested, **flat}, f"{where}.timing", campaign_timing)

    pledge = None
    if "pledge" in table:
        value = table["pledge"]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not (value > 0 and math.isfinite(value)):
                check.fail(check.key("pledge"), value, "an amount > 0 or {mean, sd}")
            pledge = Pledge(float(value), 0.0)
        elif not isinstance(value, Mapping):
            check.fail(check.key("pledge"), value, "an amount > 0 or {mean, sd}")
        else:
            sub = _Checker(path, value, f"{where}.pledge", {"mean", "sd"})
            pledge = Pledge(sub.number("mean", low=0, low_open=True), sub.number("sd", low=0))

    has = {k for k in ("size", "source", "daily_reach", "budget") if k in table}
    if "source" in has:
        kind = "source"
        if has & {"daily_reach", "budget"}:
            raise ScenarioError(f"{path}: {where} has both source and "
                                f"{sorted(has & {'daily_reach', 'budget'})[0]}; a circle is "
                                "either reached through another circle or reached daily")
    elif has & {"daily_reach", "budget"}:
        kind = "flow"
        if "size" in has:
            raise ScenarioError(f"{path}: {where} has both size and a daily reach; give size "
                                "for a contact list (stock) or daily_reach/budget for a flow")
        if {"daily_reach", "budget"} <= has:
            raise ScenarioError(f"{path}: {where} has both daily_reach and budget; give one")
    elif "size" in has:
        kind = "stock"
    else:
        raise ScenarioError(
            f"{path}: {where} needs size (people reached directly), source (another circle) "
            "or daily_reach / budget (people reached each day)")

    only = {
        "source": {"reach_per_pledger", "lag_days"},
        "flow": {"cost_per_click", "start_day", "end_day", "featured_at", "featured_boost"},
    }
    for other_kind, keys in only.items():
        if kind != other_kind:
            wrong = sorted(keys & set(table))
            if wrong:
                raise ScenarioError(f"{path}: {where}.{wrong[0]} applies only to a "
                                    f"{other_kind} circle, and this one is a {kind} circle")

    fields: dict[str, Any] = {}
    if kind == "stock":
        fields["size"] = check.number("size", low=0, integer=True)
    elif kind == "source":
        fields["source"] = check.string("source")
        fields["reach_per_pledger"] = check.number("reach_per_pledger", low=0)
        fields["lag_days"] = check.number("lag_days", 2.0, low=0)
        fields["size"] = check.number("size", None, low=0, integer=True)
    else:
        if "budget" in table:
            fields["budget"] = check.number("budget", low=0)
            fields["cost_per_click"] = check.number("cost_per_click", low=0, low_open=True)
        else:
            fields["daily_reach"] = check.number("daily_reach", low=0)
            if "cost_per_click" in table:
                raise ScenarioError(f"{path}: {where}.cost_per_click goes with budget")
        fields["start_day"] = check.number("start_day", 0, low=0, integer=True)
        fields["end_day"] = check.number("end_day", None, low=0, integer=True)
        if fields["end_day"] is not None and fields["end_day"] < fields["start_day"]:
            raise ScenarioError(f"{path}: {where}.end_day = {fields['end_day']} is before "
                                f"start_day = {fields['start_day']}")
        fields["featured_at"] = check.number("featured_at", None, low=0)
        fields["featured_boost"] = check.number("featured_boost", 1.0, low=1)
        if "featured_boost" in table and fields["featured_at"] is None:
            raise ScenarioError(f"{path}: {where}.featured_boost needs featured_at (the "
                                "fraction of the goal at which the platform features it)")
    return Circle(name=name, kind=kind, conversion=conversion, timing=timing,
                  pledge=pledge, **fields)


def _check_circles(path: str, circles: tuple[Circle, ...], rewards: tuple[Reward, ...]) -> None:
    names = [c.name for c in circles]
    for name in names:
        if names.count(name) > 1:
            raise ScenarioError(f"{path}: two circles are named {name!r}; names must be unique")
    for circle in circles:
        if circle.pledge is None and not rewards:
            raise ScenarioError(
                f"{path}: circle {circle.name!r} has no pledge = {{mean, sd}} and the "
                "scenario has no [[reward]] tiers; give one or the other")
        if circle.kind == "source" and circle.source not in names:
            raise ScenarioError(
                f"{path}: circle {circle.name!r} has source = {circle.source!r}, which is "
                f"not a circle; circles are {', '.join(names)}")
    by_name = {c.name: c for c in circles}
    for circle in circles:
        seen = [circle.name]
        current = circle
        while current.kind == "source":
            current = by_name[current.source]
            if current.name in seen:
                cycle = " -> ".join(seen + [current.name])
                raise ScenarioError(f"{path}: circles source each other in a cycle ({cycle})")
            seen.append(current.name)


def _commitment(path: str, table: Any, index: int, duration: int) -> Commitment:
    check = _Checker(path, table, f"commitment[{index}]",
                     {"name", "amount", "probability", "day", "unit_cost", "description"})
    if "description" in table:
        _description(path, f"commitment[{index}].description", table["description"])
    name = check.string("name", f"commitment {index + 1}")
    return Commitment(
        name=name,
        amount=check.number("amount", low=0, low_open=True),
        probability=check.number("probability", 1.0, low=0, high=1),
        day=check.number("day", 0, low=0, high=duration - 1, integer=True,
                         valid=f"a whole day from 0 to {duration - 1} (the campaign's last day)"),
        unit_cost=check.number("unit_cost", 0.0, low=0),
    )


def circle_order(circles: tuple[Circle, ...]) -> list[int]:
    """Indices of circles so that each source circle comes after its source."""
    by_name = {c.name: i for i, c in enumerate(circles)}
    order: list[int] = []
    placed: set[int] = set()

    def place(i: int) -> None:
        if i in placed:
            return
        if circles[i].kind == "source":
            place(by_name[circles[i].source])
        placed.add(i)
        order.append(i)

    for i in range(len(circles)):
        place(i)
    return order
