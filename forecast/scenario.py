"""The scenario schema: frozen dataclasses, validation and platform presets.

A scenario is read from a TOML file (``load_scenario``) or built in code
(``Scenario.from_dict``). Validation happens here, once; the engine trusts what
it lets through. Every error names the file, the key, the value and what would
be valid, and unknown keys are errors so that a typo never becomes a default.
See docs/model.md for the meaning of every key.
"""
from __future__ import annotations

import contextvars
import dataclasses
import math
import numbers
import os
import re
import stat
import tomllib
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

__all__ = [
    "ScenarioError", "Scenario", "Circle", "Conversion", "Pledge", "Reward",
    "Commitment", "Fees", "Timing", "Dynamics", "PLATFORMS", "load_scenario",
]


#: Above this log-scale spread the appeal's mean (1) is dominated by rare huge draws.
MAX_APPEAL_SD = 3.0


class ScenarioError(ValueError):
    """A scenario that cannot be simulated, with a message naming file, key and value."""


# ----------------------------------------------------------------------------- limits
# Upper bounds on every number, each far above any real campaign, so that a typo or
# an abusive file fails at once with a message instead of asking the engine for
# exabytes, walking the samplers towards 1e15 or overflowing int64. Memory is bounded
# again, by the work, in ``check_memory``.

#: People in a stock circle or a source's cap, and clicks a budget buys: a billion, above
#: any contact list or audience, and far below 2**53, where counts in doubles stop
#: being exact.
MAX_PEOPLE = 10**9
#: People reached per day by a flow circle (``daily_reach``): the same bound, per day.
MAX_DAILY_REACH = 10**9
#: Any amount of money (goal, need, reward, pledge, commitment, cost, fee, budget): a
#: trillion, a thousand times the largest campaign ever funded. Totals stay finite,
#: print, and a single amount is exact to the unit in doubles (below 2**53).
MAX_AMOUNT = 1e12
#: Days of a campaign on the ``custom`` platform, and of every other duration (lags,
#: launch and final spans, reach_days): a year, longer than any platform allows; the
#: engine holds (simulations x days) arrays.
MAX_DAYS = 366
#: Simulated campaigns in one run: ten million. A run keeps about 50 bytes per
#: simulation (totals, net, backers and their copies in frames), 500 MB here, and its
#: standard error on a probability is then below 0.02 percentage points. (Here, not in
#: result.py, so that the command line reads it without importing NumPy.)
MAX_SIMS = 10_000_000
#: People each pledger of a source circle tells (``reach_per_pledger``): an
#: influencer's audience can be millions (the contact spreadsheet makes such circles);
#: the memory check bounds what it costs.
MAX_REACH_PER_PLEDGER = 10_000_000.0
#: How many times more people a featured flow reaches once featured.
MAX_FEATURED_BOOST = 100.0
#: ``featured_at`` is a fraction of the goal; above 1 the feature comes after the goal.
#: Ten times the goal is far beyond any featuring rule, and ``30`` (meant as 30 %)
#: gets a hint.
MAX_FEATURED_AT = 10.0
#: ``fade_per_day`` is a fraction lost per day: 0.2 already leaves 0.25 % of the intent
#: after a month; ``1`` (meant as 1 %) gets a hint.
MAX_FADE_PER_DAY = 0.2
#: A free pledge's sd at most this many times its mean: wider, the lognormal's tail
#: gives single pledges of 10**7 times the mean.
MAX_PLEDGE_SPREAD = 10.0
#: The smallest sd of an uncertain (Beta) conversion: below it, sd**2 underflows the
#: method of moments; give a plain number for a sure rate.
MIN_BETA_SD = 1e-6
#: Tables of each kind: the engine loops over circles, and every reward tier multiplies
#: a circle's categories by the days of the campaign.
MAX_CIRCLES = 200
MAX_REWARDS = 100
MAX_COMMITMENTS = 1_000
#: Characters of a name (circle, reward, commitment, campaign) and of a currency sign.
MAX_NAME_LENGTH = 100
MAX_CURRENCY_LENGTH = 8
#: Bytes of a scenario file: the shipped models take about 5 KB.
MAX_FILE_BYTES = 1 << 20
#: Peak memory of the engine per would-be pledger of a block of simulations, measured
#: by benchmarks/memory.py for a simulate and a sweep (about 40 to 150 bytes; the
#: largest, rounded up).
BYTES_PER_PLEDGER = 150
#: The memory one block of simulations may take (``check_memory``): 2 GiB, what a
#: laptop spares. Per worker: each holds one block at a time.
MAX_BLOCK_BYTES = 2 << 30


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
    after the goal is reached. ``appeal_sd`` is the log-scale spread of the appeal
    A, a lognormal of mean 1 drawn once per simulated campaign that multiplies
    every circle's conversion. The final surge's strength is
    ``s(x) = x^k / (x^k + h^k)`` of the progress x when the final window opens
    (``h = surge_half_progress``, ``k = surge_steepness``; h = 0: always full).
    When the window opens, a campaign short of its goal at progress x closes the
    gap with probability ``x^k / (x^k + h^k)`` (``h = completion_half_progress``,
    ``k = completion_steepness``; h = 0: never): its total is then held at least
    to a floor rising to the goal by the deadline (docs/model.md, "Goal completion").
    A stock circle's conversion is multiplied by
    ``g(D) ∝ (1 - exp(-D / reach_days)) exp(-fade_per_day D)``, scaled to peak at 1;
    a flow circle brings ``daily_reach (1 - exp(-fade_per_day D)) / fade_per_day``
    people over D days (its novelty fades; ``engine.flow_days``).
    The defaults of the surge's, the completion's and the duration's keys come from
    ``forecast calibrate`` on the training campaigns (docs/model.md, "Calibration");
    ``appeal_sd``'s is the spread real campaigns still have at mid-campaign.
    """

    post_goal_factor: float = 1.0
    appeal_sd: float = 0.63
    surge_half_progress: float = 0.41
    surge_steepness: float = 7.5
    completion_half_progress: float = 0.313
    completion_steepness: float = 3.56
    reach_days: float = 45.0
    fade_per_day: float = 0.033

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
            # scipy.special's inverse of the regularised incomplete beta function is
            # what scipy.stats.beta.ppf computes (both Boost's ibeta_inv), without
            # importing scipy.stats (about half a second)
            from scipy import special

            a, b = self.beta_parameters
            return (float(special.betaincinv(a, b, 0.05)),
                    float(special.betaincinv(a, b, 0.95)))
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
    #: The table the scenario was validated from, read only (tables cannot change,
    #: arrays are tuples): ``to_dict`` gives a copy to edit.
    raw: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Only validation builds a Scenario: dataclasses.replace (or a direct call)
        # would otherwise skip it, and `raw` would describe another scenario.
        if not _VALIDATING.get():
            raise ScenarioError(
                "a Scenario is built by load_scenario, Scenario.from_dict or with_(), "
                "which validate it; dataclasses.replace and direct construction would "
                "not (use with_() or from_dict(scenario.to_dict()))")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str | None = None, *,
                  memory_check: bool = True) -> "Scenario":
        """Validate a scenario given as the dict a TOML file parses to. Without
        ``memory_check``, a scenario too large for the engine (``check_memory``) is
        still built, for a use that does not run it through the engine (tracking)."""
        return _parse(data, path or "<scenario>", memory_check)

    def to_dict(self) -> dict[str, Any]:
        """A copy of the scenario's table (``raw``) to edit and give to ``from_dict``."""
        return _thaw(self.raw or {})

    def with_(self, **changes: Any) -> "Scenario":
        """A validated copy with campaign keys changed (goal, duration_days, need, …).
        NumPy scalars are taken as the Python numbers they hold."""
        data = self.to_dict()
        campaign = data.setdefault("campaign", {})
        for key, value in changes.items():
            if key not in _CAMPAIGN_KEYS:
                raise ScenarioError(
                    f"{self.path or '<scenario>'}: with_() takes campaign keys "
                    f"({', '.join(sorted(_CAMPAIGN_KEYS))}), not {key!r}")
            if value is None:
                campaign.pop(key, None)
            else:
                campaign[key] = _plain(value)
        return _parse(data, self.path or "<scenario>")

    def with_dynamics(self, memory_check: bool = True, **changes: float) -> "Scenario":
        """A validated copy with keys of [dynamics] changed (``completion_half_progress
        =0``: without the goal completion)."""
        if not changes:
            return self
        data = self.to_dict()
        data.setdefault("dynamics", {}).update(changes)
        return _parse(data, self.path or "<scenario>", memory_check)

    @property
    def platform_rules(self) -> Platform:
        return PLATFORMS[self.platform]

    @property
    def goal_dependent(self) -> bool:
        """True when the path depends on the goal: the post-goal factor, or
        ``goal_read_early``."""
        return self.dynamics.post_goal_factor != 1.0 or self.goal_read_early

    @property
    def goal_read_early(self) -> bool:
        """True when the path depends on the goal before the goal is reached:
        momentum (featured at a share of the goal), a final surge whose strength
        depends on the progress towards the goal, or the goal completion."""
        return (bool(self.surge_circles) or self.completion is not None
                or any(c.featured_at is not None for c in self.circles))

    @property
    def completion(self) -> tuple[float, float] | None:
        """(h, k) of the goal completion, None when owners never close the gap
        (``completion_half_progress = 0``, or a one-day campaign, whose final window
        never opens)."""
        dyn = self.dynamics
        if dyn.completion_half_progress <= 0 or self.duration_days <= 1:
            return None
        return dyn.completion_half_progress, dyn.completion_steepness

    @property
    def surge_circles(self) -> list[int]:
        """The circles (by index) whose final surge is held to the progress: stock
        and flow circles with a final share, when ``surge_half_progress`` > 0."""
        if self.dynamics.surge_half_progress <= 0:
            return []
        return [i for i, c in enumerate(self.circles)
                if c.kind != "source" and c.timing.final_share > 0]

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
    text = read_scenario_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        comma = _DECIMAL_COMMA.search(text)
        if comma:
            line = text.count("\n", 0, comma.start()) + 1
            raise ScenarioError(
                f"{path}: line {line}: {comma.group(1)} = {comma.group(2)} has a decimal "
                f"comma; TOML needs a point: {comma.group(1)} = "
                f"{comma.group(2).replace(',', '.')}") from None
        raise ScenarioError(f"{path}: not valid TOML ({error})") from None
    except ValueError as error:  # an integer of more than 4,300 digits
        raise ScenarioError(f"{path}: not valid TOML ({_shorten(str(error), 120)})") from None
    except RecursionError:
        raise ScenarioError(f"{path}: not valid TOML (arrays or tables nested too "
                            "deeply)") from None
    return _parse(data, str(path))


#: ``key = 0,80``: a number written with a decimal comma (French habit).
_DECIMAL_COMMA = re.compile(r"^[ \t]*([A-Za-z0-9_.\"'-]+)[ \t]*=[ \t]*(-?\d+,\d+)[ \t]*(?:#.*)?$",
                            re.MULTILINE)


def read_scenario_text(path: str | Path) -> str:
    """The text of a scenario file (a byte-order mark dropped), refused with a
    ScenarioError when it is not a regular file (a device, a FIFO, a folder), is
    larger than ``MAX_FILE_BYTES`` or is not UTF-8."""
    path = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO without a writer must not wait; the stat below
        # then refuses it.
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except OSError as error:
        raise ScenarioError(f"{path}: cannot be read ({error.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            raise ScenarioError(f"{path}: not a regular file; a scenario is a TOML "
                                "text file")
        with os.fdopen(handle, "rb", closefd=False) as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ScenarioError(f"{path}: cannot be read ({error.strerror})") from None
    finally:
        os.close(handle)
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(f"{path}: larger than {MAX_FILE_BYTES // 1024} KiB; a scenario "
                            "file takes a few KB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ScenarioError(f"{path}: not UTF-8 text (byte {error.start})") from None


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


#: True while ``_parse`` builds a Scenario (``Scenario.__post_init__``).
_VALIDATING = contextvars.ContextVar("validating", default=False)


def _thaw(value: Any) -> Any:
    """A plain copy: dicts and lists all the way down."""
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_thaw(v) for v in value]
    return value


class _Frozen(dict):
    """A table that cannot change (``Scenario.raw``)."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("Scenario.raw cannot be changed; use Scenario.with_(), or edit "
                        "Scenario.to_dict() and give it to Scenario.from_dict()")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple:
        return (_Frozen, (dict(self),))


def _freeze(value: Any) -> Any:
    """A read-only copy: tables frozen, arrays as tuples, all the way down."""
    if isinstance(value, Mapping):
        return _Frozen({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python number it holds; anything else as it is."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, (int, float)):
        return float(value)
    return value


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _shown(value: Any) -> str:
    """How a value is written in a message: its repr, cut to a readable length (a
    4,000-digit integer or a long string would drown the message)."""
    try:
        text = repr(value)
    except ValueError:  # an int too long to convert to a string
        text = "an integer of more than 4,300 digits"
    return _shorten(text)


#: Characters a name may not hold: BiDi embedding, override and isolate controls and
#: marks, which reorder what a terminal or a PDF shows (control characters, NUL and
#: ANSI escapes are found by their Unicode category, Cc).
_BIDI_CONTROLS = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                     "\u2066\u2067\u2068\u2069")


def text_problem(value: str, limit: int = MAX_NAME_LENGTH) -> str | None:
    """What makes ``value`` unfit as a name (None if nothing): more than ``limit``
    characters, a control character (NUL, escape, line break), a BiDi control, or
    nothing visible (only spaces and zero-width characters)."""
    if len(value) > limit:
        return f"at most {limit} characters (this one has {len(value)})"
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") or char in _BIDI_CONTROLS:
            return (f"text without control or direction characters (it holds "
                    f"U+{ord(char):04X})")
    if all(char.isspace() or unicodedata.category(char) == "Cf" for char in value):
        return "a name with at least one visible character"
    return None


class _Checker:
    """Reads values from a table, raising ScenarioError with file and key."""

    def __init__(self, path: str, table: Mapping[str, Any], where: str, allowed: set[str]):
        self.path, self.table, self.where = path, table, where
        if not isinstance(table, Mapping):
            self.fail(where, table, "a table")
        unknown = sorted(set(table) - allowed, key=str)
        if unknown:
            raise ScenarioError(
                f"{path}: unknown key {_shown(self.key(str(unknown[0])))}; valid keys "
                f"here are {', '.join(sorted(allowed))}")

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def fail(self, key: str, value: Any, valid: str) -> None:
        raise ScenarioError(f"{self.path}: {key} = {_shown(value)} is not valid; "
                            f"expected {valid}")

    def number(self, name: str, default: Any = ..., *, low: float | None = None,
               high: float | None = None, low_open: bool = False, integer: bool = False,
               valid: str | None = None, percent: bool = False) -> Any:
        """The number at ``name`` within [low, high]; ``percent``: it is a fraction,
        and a value that reads as a percentage (30 for 30 %) gets the fix in the
        message."""
        if name not in self.table:
            if default is ...:
                raise ScenarioError(f"{self.path}: missing key {self.key(name)!r}"
                                    f" ({valid or 'a number'})")
            return default
        value = _plain(self.table[name])
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        try:
            if ok:
                ok = math.isfinite(value)  # an int above 1e308 raises OverflowError
            if ok and integer:
                ok = float(value).is_integer()
        except OverflowError:
            ok = False
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
            if percent and isinstance(value, (int, float)) and high is not None:
                valid += _percent_hint(value, high)
            self.fail(self.key(name), value, valid)
        return int(value) if integer else float(value)

    def string(self, name: str, default: Any = ..., choices: list[str] | None = None,
               limit: int = MAX_NAME_LENGTH) -> Any:
        if name not in self.table:
            if default is ...:
                raise ScenarioError(f"{self.path}: missing key {self.key(name)!r} (a string)")
            return default
        value = self.table[name]
        if not isinstance(value, str) or not value.strip():
            self.fail(self.key(name), value, "a non-empty string")
        if choices is not None and value not in choices:
            self.fail(self.key(name), value, "one of " + ", ".join(choices))
        problem = text_problem(value, limit)
        if problem:
            self.fail(self.key(name), value, problem)
        return value


def _percent_hint(value: float, high: float) -> str:
    """For a value above a fraction's bound ``high`` but within 100 times it, the
    hint that it reads as a percentage; else nothing."""
    if high < value <= 100 * high:
        return f" (a fraction, not a percentage: for {value:g} %, write {value / 100:g})"
    return ""


def _parse(data: Mapping[str, Any], path: str, memory_check: bool = True) -> Scenario:
    _Checker(path, data, "", _TOP_KEYS)  # rejects unknown top-level tables
    if "campaign" not in data:
        raise ScenarioError(f"{path}: missing table [campaign]")
    campaign = _Checker(path, data["campaign"], "campaign", _CAMPAIGN_KEYS)
    platform_name = campaign.string("platform", choices=list(PLATFORMS))
    platform = PLATFORMS[platform_name]
    goal = campaign.number("goal", low=0, low_open=True, high=MAX_AMOUNT)
    longest = platform.max_days or MAX_DAYS
    rules = f"the {platform_name} rules" if platform.max_days else "at most a year"
    span = f"a whole number of days from {platform.min_days} to {longest} ({rules})"
    duration = campaign.number("duration_days", low=platform.min_days,
                               high=longest, integer=True, valid=span)
    need = campaign.number("need", None, low=0, low_open=True, high=MAX_AMOUNT)
    default_name = Path(path).stem if path != "<scenario>" else "scenario"
    name = campaign.string("name", _shorten(default_name, MAX_NAME_LENGTH))
    currency = campaign.string("currency", platform.currency, limit=MAX_CURRENCY_LENGTH)
    if "description" in campaign.table:
        _description(path, "campaign.description", campaign.table["description"])

    fees_table = _Checker(path, data.get("fees", {}), "fees",
                          {"platform_rate", "payment_rate", "per_pledge"})
    fees = Fees(
        platform_rate=fees_table.number("platform_rate", platform.platform_rate, low=0,
                                        high=1, percent=True),
        payment_rate=fees_table.number("payment_rate", platform.payment_rate, low=0, high=1,
                                       percent=True),
        per_pledge=fees_table.number("per_pledge", platform.per_pledge, low=0,
                                     high=MAX_AMOUNT),
    )
    if fees.platform_rate + fees.payment_rate > 1:
        raise ScenarioError(f"{path}: fees.platform_rate + fees.payment_rate = "
                            f"{fees.platform_rate + fees.payment_rate:g} is not valid; "
                            "expected at most 1")

    timing = _timing(path, data.get("timing", {}), "timing", Timing())

    dyn_table = data.get("dynamics", {})
    if isinstance(dyn_table, Mapping) and "fade_after_days" in dyn_table:
        raise ScenarioError(
            f"{path}: dynamics.fade_after_days is no longer a key: the duration effect is "
            "now smooth, set by dynamics.reach_days and dynamics.fade_per_day "
            "(docs/model.md, \"Duration\"); remove fade_after_days")
    dyn = _Checker(path, dyn_table, "dynamics", {f.name for f in dataclasses.fields(Dynamics)})
    dynamics = Dynamics(
        post_goal_factor=dyn.number("post_goal_factor", 1.0, low=0, high=1, percent=True),
        appeal_sd=dyn.number("appeal_sd", Dynamics.appeal_sd, low=0, high=MAX_APPEAL_SD),
        surge_half_progress=dyn.number("surge_half_progress", Dynamics.surge_half_progress,
                                       low=0, high=10),
        surge_steepness=dyn.number("surge_steepness", Dynamics.surge_steepness,
                                   low=0, low_open=True, high=50),
        completion_half_progress=dyn.number(
            "completion_half_progress", Dynamics.completion_half_progress, low=0, high=10),
        completion_steepness=dyn.number("completion_steepness", Dynamics.completion_steepness,
                                        low=0, low_open=True, high=50),
        reach_days=dyn.number("reach_days", Dynamics.reach_days, low=0, high=MAX_DAYS),
        fade_per_day=dyn.number("fade_per_day", Dynamics.fade_per_day, low=0,
                                high=MAX_FADE_PER_DAY, percent=True),
    )

    rewards = tuple(_reward(path, t, i)
                    for i, t in enumerate(_array(path, data, "reward", MAX_REWARDS)))
    if rewards:
        total = sum(r.share for r in rewards)
        if abs(total - 1) > 1e-6:
            raise ScenarioError(f"{path}: reward shares sum to {total:g}; they must sum to 1")

    circles_data = _array(path, data, "circle", MAX_CIRCLES)
    if not circles_data:
        raise ScenarioError(f"{path}: no [[circle]]; a scenario needs at least one circle "
                            "of pledgers")
    circles = tuple(_circle(path, t, i, timing) for i, t in enumerate(circles_data))
    _check_circles(path, circles, rewards)

    commitments = tuple(_commitment(path, t, i, duration) for i, t in
                        enumerate(_array(path, data, "commitment", MAX_COMMITMENTS)))
    _unique(path, "reward", [r.name for r in rewards if r.name])
    _unique(path, "commitment", [c.name for c in commitments])
    token = _VALIDATING.set(True)
    try:
        scenario = Scenario(
            name=name, goal=goal, duration_days=duration, platform=platform_name,
            fees=fees, timing=timing, rewards=rewards, circles=circles,
            commitments=commitments, dynamics=dynamics, need=need, currency=currency,
            path=None if path == "<scenario>" else path, raw=_freeze(data),
        )
    finally:
        _VALIDATING.reset(token)
    if memory_check:
        check_memory(scenario, path)
    return scenario


def _array(path: str, data: Mapping[str, Any], name: str, limit: int) -> list:
    value = data.get(name, [])
    if not isinstance(value, (list, tuple)):
        raise ScenarioError(f"{path}: {name} must be an array of tables, written [[{name}]]")
    if len(value) > limit:
        raise ScenarioError(f"{path}: {len(value)} [[{name}]] tables is not valid; "
                            f"expected at most {limit}")
    return list(value)


def _unique(path: str, kind: str, names: list[str]) -> None:
    """Refuse two tables of a kind with one name: their lines would merge in every
    breakdown."""
    twice = [name for name, count in Counter(names).items() if count > 1]
    if twice:
        raise ScenarioError(f"{path}: two [[{kind}]] tables are named {twice[0]!r}; names "
                            "must be unique")


def _timing(path: str, table: Any, where: str, base: Timing) -> Timing:
    check = _Checker(path, table, where, _TIMING_KEYS)
    timing = Timing(
        launch_share=check.number("launch_share", base.launch_share, low=0, high=1,
                                  percent=True),
        launch_days=check.number("launch_days", base.launch_days, low=0, low_open=True,
                                 high=MAX_DAYS),
        final_share=check.number("final_share", base.final_share, low=0, high=1,
                                 percent=True),
        final_days=check.number("final_days", base.final_days, low=0, low_open=True,
                                high=MAX_DAYS),
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
        amount=check.number("amount", low=0, low_open=True, high=MAX_AMOUNT),
        share=check.number("share", low=0, high=1, percent=True),
        unit_cost=check.number("unit_cost", 0.0, low=0, high=MAX_AMOUNT),
        name=check.string("name", ""),
    )


def _conversion(path: str, where: str, value: Any) -> Conversion:
    key = f"{where}.conversion"
    valid = "a rate from 0 to 1, {mean, sd} or {low, high}"
    value = _plain(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not (0 <= value <= 1):  # NaN too
            raise ScenarioError(f"{path}: {key} = {_shown(value)} is not valid; expected "
                                f"{valid}{_percent_hint(value, 1.0)}")
        return Conversion("fixed", float(value))
    if isinstance(value, Mapping) and ({"mean", "sd"} & set(value)):
        check = _Checker(path, value, key, {"mean", "sd"})
        mean = check.number("mean", low=0, high=1, percent=True)
        sd = check.number("sd", low=0, high=1, percent=True)
        if sd == 0:
            return Conversion("fixed", mean)
        if sd < MIN_BETA_SD:
            raise ScenarioError(
                f"{path}: {key}.sd = {sd:g} is not valid; expected 0 (a sure rate) or at "
                f"least {MIN_BETA_SD:g}")
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
        low = check.number("low", low=0, high=1, percent=True)
        high = check.number("high", low=0, high=1, percent=True)
        if high < low:
            raise ScenarioError(f"{path}: {key} = {{low = {low:g}, high = {high:g}}} is not "
                                "valid; expected low <= high")
        return Conversion("uniform", (low + high) / 2, low=low, high=high)
    raise ScenarioError(f"{path}: {key} = {_shown(value)} is not valid; expected {valid}")


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
        value = _plain(table["pledge"])
        valid = f"an amount > 0 and <= {MAX_AMOUNT:g}, or {{mean, sd}}"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not (0 < value <= MAX_AMOUNT):  # NaN too
                check.fail(check.key("pledge"), value, valid)
            pledge = Pledge(float(value), 0.0)
        elif not isinstance(value, Mapping):
            check.fail(check.key("pledge"), value, valid)
        else:
            sub = _Checker(path, value, f"{where}.pledge", {"mean", "sd"})
            mean = sub.number("mean", low=0, low_open=True, high=MAX_AMOUNT)
            pledge = Pledge(mean, sub.number(
                "sd", low=0, high=MAX_PLEDGE_SPREAD * mean,
                valid=f"a number from 0 to {MAX_PLEDGE_SPREAD:g} times the mean "
                      f"({MAX_PLEDGE_SPREAD * mean:g})"))

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
        fields["size"] = check.number("size", low=0, high=MAX_PEOPLE, integer=True)
    elif kind == "source":
        fields["source"] = check.string("source")
        fields["reach_per_pledger"] = check.number("reach_per_pledger", low=0,
                                                   high=MAX_REACH_PER_PLEDGER)
        fields["lag_days"] = check.number("lag_days", 2.0, low=0, high=MAX_DAYS)
        fields["size"] = check.number("size", None, low=0, high=MAX_PEOPLE, integer=True)
    else:
        if "budget" in table:
            fields["budget"] = check.number("budget", low=0, high=MAX_AMOUNT)
            fields["cost_per_click"] = check.number("cost_per_click", low=0, low_open=True,
                                                    high=MAX_AMOUNT)
            clicks = fields["budget"] / fields["cost_per_click"]
            if clicks > MAX_PEOPLE:
                raise ScenarioError(
                    f"{path}: {where}.budget / cost_per_click = {clicks:.4g} clicks is not "
                    f"valid; expected at most {MAX_PEOPLE:g}")
        else:
            fields["daily_reach"] = check.number("daily_reach", low=0, high=MAX_DAILY_REACH)
            if "cost_per_click" in table:
                raise ScenarioError(f"{path}: {where}.cost_per_click goes with budget")
        fields["start_day"] = check.number("start_day", 0, low=0, high=MAX_DAYS, integer=True)
        fields["end_day"] = check.number("end_day", None, low=0, high=MAX_DAYS, integer=True)
        if fields["end_day"] is not None and fields["end_day"] < fields["start_day"]:
            raise ScenarioError(f"{path}: {where}.end_day = {fields['end_day']} is before "
                                f"start_day = {fields['start_day']}")
        fields["featured_at"] = check.number("featured_at", None, low=0, high=MAX_FEATURED_AT,
                                             percent=True)
        fields["featured_boost"] = check.number("featured_boost", 1.0, low=1,
                                                high=MAX_FEATURED_BOOST)
        if "featured_boost" in table and fields["featured_at"] is None:
            raise ScenarioError(f"{path}: {where}.featured_boost needs featured_at (the "
                                "fraction of the goal at which the platform features it)")
    return Circle(name=name, kind=kind, conversion=conversion, timing=timing,
                  pledge=pledge, **fields)


def _check_circles(path: str, circles: tuple[Circle, ...], rewards: tuple[Reward, ...]) -> None:
    names = [c.name for c in circles]
    _unique(path, "circle", names)
    for circle in circles:
        if circle.pledge is None and not rewards:
            raise ScenarioError(
                f"{path}: circle {circle.name!r} has no pledge = {{mean, sd}} and the "
                "scenario has no [[reward]] tiers; give one or the other")
        if circle.kind == "source" and circle.source not in names:
            raise ScenarioError(
                f"{path}: circle {circle.name!r} has source = {circle.source!r}, which is "
                f"not a circle; circles are {_shorten(', '.join(names), 200)}")
    # Each circle's chain of sources is followed until a circle already known to
    # lead to a stock or flow circle: every circle is walked once (linear time).
    by_name = {c.name: c for c in circles}
    grounded: set[str] = set()
    for circle in circles:
        chain: list[str] = []
        on_chain: set[str] = set()
        current = circle
        while current.name not in grounded and current.kind == "source":
            if current.name in on_chain:
                start = chain.index(current.name)
                cycle = " -> ".join(chain[start:] + [current.name])
                raise ScenarioError(f"{path}: circles source each other in a cycle "
                                    f"({_shorten(cycle, 200)})")
            chain.append(current.name)
            on_chain.add(current.name)
            current = by_name[current.source]
        grounded.update(chain)
        grounded.add(current.name)


def expected_pledgers(scenario: Scenario) -> float:
    """Expected would-be pledgers of one simulated campaign, all circles together:
    what the engine holds in memory for each simulation of a block.

    Stock: ``size * mean conversion``; flow: people reached over the whole
    campaign (``daily_reach * engine.flow_days(λ, D)`` or ``budget /
    cost_per_click``) times the mean
    conversion, times ``featured_boost`` (the engine draws the boosted ones as if
    featured from day 0); source: ``reach_per_pledger * mean conversion`` per would-be
    pledger of its source. An upper estimate: the duration effect (at most 1),
    flows' active days and pledgers hearing after the deadline are not taken off;
    the appeal has mean 1.
    """
    from .engine import flow_days  # the engine imports this module

    days = flow_days(scenario.dynamics.fade_per_day, scenario.duration_days)
    found: dict[str, float] = {}
    for index in circle_order(scenario.circles):
        c = scenario.circles[index]
        p = c.conversion.mean
        if c.kind == "stock":
            found[c.name] = c.size * p
        elif c.kind == "flow":
            reach = (c.budget / c.cost_per_click if c.budget is not None
                     else c.daily_reach * days)
            found[c.name] = reach * p * c.featured_boost
        else:
            found[c.name] = c.reach_per_pledger * p * found[c.source]
    return float(sum(found.values()))


def check_memory(scenario: Scenario, path: str | None = None) -> None:
    """Refuse a scenario whose block of simulations would take more than
    ``MAX_BLOCK_BYTES``: ``BYTES_PER_PLEDGER`` times its expected would-be pledgers
    (``expected_pledgers``) times the simulations of a block (``engine.SEED_BLOCK``,
    which the numbers of a seed depend on, so it cannot shrink)."""
    from .engine import SEED_BLOCK  # the engine imports this module

    per_sim = expected_pledgers(scenario)
    need = BYTES_PER_PLEDGER * per_sim * SEED_BLOCK
    if need > MAX_BLOCK_BYTES:
        most = MAX_BLOCK_BYTES / (BYTES_PER_PLEDGER * SEED_BLOCK)
        raise ScenarioError(
            f"{path or scenario.path or '<scenario>'}: the circles bring about "
            f"{per_sim:,.0f} would-be pledgers per simulated campaign, which would take "
            f"about {need / 2**30:,.1f} GiB of memory; expected at most {most:,.0f} "
            f"(sizes, reaches, budgets and conversions of the circles)")


def _commitment(path: str, table: Any, index: int, duration: int) -> Commitment:
    check = _Checker(path, table, f"commitment[{index}]",
                     {"name", "amount", "probability", "day", "unit_cost", "description"})
    if "description" in table:
        _description(path, f"commitment[{index}].description", table["description"])
    name = check.string("name", f"commitment {index + 1}")
    return Commitment(
        name=name,
        amount=check.number("amount", low=0, low_open=True, high=MAX_AMOUNT),
        probability=check.number("probability", 1.0, low=0, high=1, percent=True),
        day=check.number("day", 0, low=0, high=duration - 1, integer=True,
                         valid=f"a whole day from 0 to {duration - 1} (the campaign's last day)"),
        unit_cost=check.number("unit_cost", 0.0, low=0, high=MAX_AMOUNT),
    )


def circle_order(circles: tuple[Circle, ...]) -> list[int]:
    """Indices of circles so that each source circle comes after its source: in file
    order, each preceded by its sources not yet placed (deepest first). A loop, not
    recursion: a chain of a thousand circles does not reach Python's recursion limit."""
    by_name = {c.name: i for i, c in enumerate(circles)}
    order: list[int] = []
    placed: set[int] = set()
    for i in range(len(circles)):
        chain = []
        while i not in placed:
            chain.append(i)
            placed.add(i)
            if circles[i].kind != "source":
                break
            i = by_name[circles[i].source]
        order.extend(reversed(chain))
    return order
