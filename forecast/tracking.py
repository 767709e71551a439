"""Track a live campaign: the odds from the pledges so far (docs/tracking.md).

A scenario (or the generic prior) says what campaigns like this one do; the pledges
observed since launch say which of them this one is. ``track`` conditions the
scenario's simulated campaigns on the observations and simulates them on to the
deadline:

- **Appeal posterior** (scenarios made of stock and flow circles with free pledge
  amounts and fixed conversions, such as the generic prior). On a grid of the
  campaign's appeal A, the exact likelihood of the money observed so far under the
  day-level Poisson–gamma form of the scenario (``DayModel``), tempered by
  ``DISPERSION``; campaigns are drawn from that posterior and simulated day by day
  from the observed state (money, featured or not, goal reached or not). When the
  final window opens, a campaign at progress x completes its goal with the
  scenario's goal completion (``Scenario.completion``; real owners close a gap in
  sight: campaigns at 40-50 % of the goal near the deadline mostly succeed). Every
  campaign counts fully: the effective sample size is the number of simulations.
- **Weighted simulations** (any other scenario: rewards, commitments, friends of
  friends). The engine's campaigns, each weighted by a kernel on how far its running
  total at the time of the last observation is from the observed one (log scale),
  the bandwidth widened until the effective sample size reaches ``MIN_ESS``; each
  keeps the money it would still raise after that time (simulated without the
  goal completion), and the goal completion is applied to its path from then on.

Both give weighted final totals, from which the probability, quantiles and fans come.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from . import engine
from .contacts import _norm, _number, _text, default_pledge
from .result import (check_whole, normalize_seed, package_version, seed_label,
                     wilson_interval)
from .scenario import Scenario, ScenarioError

__all__ = ["LEVELS", "Track", "TrackError", "track", "prior", "read_observed", "DayModel",
           "weighted_quantiles", "inverted_cdf"]

#: The quantile levels of the final total a track reports by default.
LEVELS = np.round(np.arange(1, 10) / 10, 1)
#: Simulated campaigns per track by default.
DEFAULT_SIMS = 5_000
#: Real pledges are more dispersed than the model's: the likelihood of the money
#: observed is raised to the power 1 / DISPERSION (chosen with ``forecast backtest``
#: on the training campaigns, docs/tracking.md "Tuning").
DISPERSION = 3.0
#: The appeal keeps changing: its logarithm walks at random, by a normal of sd
#: ``DRIFT * sqrt(Δt / D)`` over Δt days (so DRIFT over the whole duration).
DRIFT = 1.0
#: Weighted simulations widen their kernel until this effective sample size.
MIN_ESS = 1_000
#: A running total may dip by this share of its highest so far (refunds); more
#: is refused as not cumulative. (The training campaigns' largest dip: 1.3 %.)
MAX_REFUND = 0.05
#: The appeal grid: this many points over ±GRID_SD log-scale sds of the prior.
GRID_POINTS, GRID_SD = 401, 6.0


class TrackError(ValueError):
    """Observed pledges that cannot be tracked (empty, decreasing, past the deadline)."""


# ----------------------------------------------------------------------------- input

def read_observed(path: str | Path, *, launch: str | None = None, daily: bool = False
                  ) -> pd.DataFrame:
    """Read observed pledges from a CSV file into the frame ``track`` takes.

    Columns (case and accents ignored): ``day`` (days since launch, fractional
    allowed) or ``date`` (with ``launch``, the launch date ``YYYY-MM-DD``), and
    ``pledged`` (the cumulative amount; with ``daily`` the amount of each row
    instead, summed here), optionally ``backers`` (cumulative, or per row with
    ``daily``).
    """
    path = Path(path)
    try:
        with open(path, encoding="utf-8-sig") as handle:
            header = handle.readline()
        # The separator is the one of , ; and tab the header has most of (, if none).
        sep = max([",", ";", "\t"], key=header.count)
        raw = pd.read_csv(path, sep=sep, encoding="utf-8-sig")
    except FileNotFoundError:
        raise TrackError(f"{path}: no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise TrackError(f"{path}: not a CSV file of observed pledges "
                         f"({str(exc).strip()})") from None
    columns: dict[str, Any] = {}
    for column in raw.columns:
        field = _FIELDS.get(_norm(column))
        if field is not None:
            columns.setdefault(field, column)
    frame = pd.DataFrame()
    if "day" in columns:
        frame["day"] = _numbers(raw[columns["day"]], path, "day")
    elif "date" in columns:
        if launch is None:
            raise TrackError(f"{path}: rows are dated; give the launch date "
                             "(--launch YYYY-MM-DD) to count days since launch")
        try:
            start = pd.Timestamp(launch)
        except ValueError:
            raise TrackError(f"launch = {launch!r} is not a date; expected YYYY-MM-DD") from None
        dates = pd.to_datetime(raw[columns["date"]], errors="coerce")
        bad = dates.isna() & raw[columns["date"]].notna()
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + 2
            raise TrackError(f"{path}, row {row}, column date: "
                             f"{raw[columns['date']].iloc[row - 2]!r} is not a date")
        frame["day"] = (dates - start).dt.total_seconds() / 86_400
        if daily:  # a day's amounts are all in by the end of that day
            frame["day"] += 1.0
    else:
        raise TrackError(f"{path}: no column 'day' (days since launch, or 'jour') or "
                         f"'date'; found {', '.join(map(str, raw.columns)) or 'none'}")
    if "pledged" not in columns:
        raise TrackError(f"{path}: no column 'pledged' (the amount pledged so far, or "
                         f"'montant amassé'); found {', '.join(map(str, raw.columns))}")
    frame["pledged"] = _numbers(raw[columns["pledged"]], path, "pledged")
    if "backers" in columns:
        frame["backers"] = _numbers(raw[columns["backers"]], path, "backers")
    frame = frame.dropna(how="all")
    undated = frame.day.isna()
    if undated.any():
        row = int(frame.index[undated][0]) + 2
        raise TrackError(f"{path}, row {row}: an amount without a day (or date); "
                         "expected both on every row")
    if daily:
        frame = frame.sort_values("day", kind="stable")
        for column in ("pledged", "backers"):
            if column in frame:
                frame[column] = frame[column].fillna(0).cumsum()
    return observed_frame(frame, where=str(path))


#: The headers read, by field: English and French, as ``contacts._norm`` leaves them.
_FIELDS = {
    **dict.fromkeys(("day", "days", "jour", "jours"), "day"),
    "date": "date",
    **dict.fromkeys(("pledged", "total", "montant amasse", "montant total",
                     "total amasse"), "pledged"),
    **dict.fromkeys(("backers", "contributeurs", "contributions", "contributors"),
                    "backers"),
}


def _numbers(column: pd.Series, path: Path, name: str) -> pd.Series:
    """A column of numbers as people type them (1 234,50 $, 1,5k: ``contacts``'
    reading), NaN where empty; a TrackError names the first cell that is none."""
    values = []
    for row, cell in enumerate(column.tolist()):
        if not _text(cell):
            values.append(np.nan)
            continue
        number = _number(cell)
        if number is None:
            raise TrackError(f"{path}, row {row + 2}, column {name}: {cell!r} is not "
                             "a number")
        values.append(number)
    return pd.Series(values, index=column.index, dtype=float)


def observed_frame(observed: pd.DataFrame, duration_days: float | None = None,
                   where: str = "observed") -> pd.DataFrame:
    """``observed`` checked and tidied: columns ``day`` and ``pledged`` (cumulative),
    optionally ``backers``; sorted by day, with a first row at day 0 (nothing
    pledged) if there is none. Raises TrackError for an empty frame, a missing
    column, negative or non-finite totals, a total that falls by more than
    ``MAX_REFUND`` of its highest so far (refunds and cancelled payments make real
    totals dip a little), or days past the deadline."""
    if not isinstance(observed, pd.DataFrame):
        raise TypeError("observed must be a pandas DataFrame with columns day and pledged")
    for column in ("day", "pledged"):
        if column not in observed:
            raise TrackError(f"{where}: no column {column!r}; expected day (days since "
                             "launch) and pledged (cumulative amount)")
    keep = ["day", "pledged"] + (["backers"] if "backers" in observed else [])
    frame = observed[keep].dropna(subset=["day", "pledged"]).astype(float)
    if frame.empty:
        raise TrackError(f"{where}: no observation (give at least one row of day and "
                         "pledged)")
    frame = frame.sort_values("day", kind="stable").reset_index(drop=True)
    for column in keep:
        values = frame[column].to_numpy()
        bad = ~np.isfinite(values) | (values < 0)
        bad &= ~np.isnan(values) if column == "backers" else True
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise TrackError(f"{where}: {column} = {values[k]:g} on day {frame.day[k]:g} "
                             "is not valid; expected a number >= 0")
    pledged = frame.pledged.to_numpy()
    drop = np.flatnonzero(pledged[1:] < (1 - MAX_REFUND) * np.maximum.accumulate(pledged)[:-1])
    if drop.size:
        k = int(drop[0]) + 1
        raise TrackError(f"{where}: the amount pledged falls on day {frame.day[k]:g} "
                         f"({pledged[:k].max():,.2f} then {pledged[k]:,.2f}), by more than "
                         f"refunds would ({MAX_REFUND:.0%}); expected cumulative totals "
                         "(daily amounts: use --daily)")
    if duration_days is not None and frame.day.iloc[-1] >= duration_days:
        raise TrackError(f"{where}: day {frame.day.iloc[-1]:g} is at or past the deadline "
                         f"(the campaign lasts {duration_days:g} days): the campaign "
                         "is over, there is nothing left to forecast")
    if frame.day.iloc[0] > 0:
        first = {"day": 0.0, "pledged": 0.0}
        if "backers" in frame:
            first["backers"] = 0.0
        frame = pd.concat([pd.DataFrame([first]), frame], ignore_index=True)
    return frame


# ----------------------------------------------------------------------------- result

@dataclass(frozen=True)
class Track:
    """The odds of a live campaign given its pledges so far.

    ``final`` holds the final total of each simulated campaign and ``weights`` its
    weight (summing to 1; with the generic prior, tilted to the recalibrated odds:
    ``forecast.recalibration``); ``fan`` the quantiles of the running total on each
    day from today (rows: days, columns: LEVELS).
    """

    scenario: Scenario
    observed: pd.DataFrame
    final: np.ndarray
    weights: np.ndarray
    fan: pd.DataFrame
    circles: pd.DataFrame
    method: str
    sims: int
    seed: np.random.SeedSequence
    pledge_mean: float
    #: The tracker's own P(success) before the recalibration, None without one (or
    #: when all its simulated campaigns succeed, or none does: nothing to reweight).
    raw_probability: float | None = None
    version: str = field(default_factory=package_version)

    @property
    def now(self) -> float:
        """The day of the last observation."""
        return float(self.observed.day.iloc[-1])

    @property
    def pledged(self) -> float:
        """The total at the last observation."""
        return float(self.observed.pledged.iloc[-1])

    @property
    def goal(self) -> float:
        return self.scenario.goal

    @property
    def duration_days(self) -> int:
        return self.scenario.duration_days

    @property
    def ess(self) -> float:
        """Kish's effective sample size of the weights."""
        return float(1.0 / np.sum(self.weights ** 2))

    def probability(self, extra: float = 0.0) -> float:
        """P(final total >= goal); ``extra`` money added to every campaign (a what-if)."""
        return min(1.0, float(np.sum(self.weights[self.final + extra >= self.goal])))

    def probability_se(self) -> float:
        """The Monte Carlo standard error of ``probability()``."""
        hit = self.final >= self.goal
        p = self.probability()
        return float(math.sqrt(np.sum(self.weights ** 2 * (hit - p) ** 2)))

    def probability_interval(self, z: float = 1.959964) -> tuple[float, float]:
        """The 95 % interval of the probability (Monte Carlo error only): Wilson's,
        on the effective sample size, so that every simulated campaign succeeding
        (or none) still leaves an interval, as ``forecast run``'s does."""
        ess = self.ess
        return wilson_interval(self.probability() * ess, ess, z)

    def quantiles(self, levels: Any = LEVELS) -> np.ndarray:
        """Quantiles of the final total at ``levels`` (weighted), an array."""
        return weighted_quantiles(self.final, self.weights, np.asarray(levels, float))

    def needed_per_day(self) -> float:
        """The money a day still needed to reach the goal by the deadline."""
        left = self.duration_days - self.now
        return max(0.0, self.goal - self.pledged) / left

    def with_pledgers(self, count: int) -> float:
        """P(success) if ``count`` more people pledged today, each the mean pledge."""
        return self.probability(extra=count * self.pledge_mean)

    def summary(self) -> dict[str, Any]:
        """The track as plain values (the JSON output)."""
        q = self.quantiles()
        low, high = self.probability_interval()
        return {
            "scenario": self.scenario.name,
            "goal": self.goal,
            "duration_days": self.duration_days,
            "day": self.now,
            "pledged": self.pledged,
            "progress": self.pledged / self.goal,
            "probability": self.probability(),
            "probability_se": self.probability_se(),
            "probability_interval": [low, high],
            "probability_before_recalibration": self.raw_probability,
            "final_quantiles": {f"p{round(100 * lv)}": float(v) for lv, v in zip(LEVELS, q)},
            "needed_per_day": self.needed_per_day(),
            "effective_sample_size": self.ess,
            "method": self.method,
            "sims": self.sims,
            "seed": seed_label(self.seed),
            "version": self.version,
        }

    def __repr__(self) -> str:
        low, high = self.probability_interval()
        return (f"<Track {self.scenario.name!r}: day {self.now:g} of "
                f"{self.duration_days}, {self.pledged:,.0f} of {self.goal:,.0f} pledged, "
                f"P(success) {self.probability():.1%} ({low:.1%}–{high:.1%})>")


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, levels: np.ndarray
                       ) -> np.ndarray:
    """Quantiles of ``values`` under ``weights``: the smallest value whose weight at
    or below it reaches each level (the inverse of the weighted distribution)."""
    order = np.argsort(values, kind="stable")
    return inverted_cdf(values[order], weights[order][None, :], levels)[0]


def inverted_cdf(sorted_values: np.ndarray, weights: np.ndarray,
                  levels: np.ndarray = LEVELS) -> np.ndarray:
    """Weighted quantiles by the inverted CDF: for each row of ``weights`` (shape
    (n, len(sorted_values)), weights of the values in ascending order, each row
    summing to more than 0), the smallest value whose cumulative weight share
    reaches each level (numpy's ``method="inverted_cdf"`` with equal weights).
    Shape (n, len(levels))."""
    share = np.cumsum(weights, axis=1)
    share /= share[:, -1:]
    # a little slack so that a share of exactly a level (k of n) is not missed by rounding
    index = (share[:, :, None] < np.asarray(levels)[None, None, :] - 1e-12).sum(axis=1)
    return sorted_values[np.minimum(index, sorted_values.size - 1)]


# ----------------------------------------------------------------------------- tracking

def track(observed: pd.DataFrame, goal: float | None = None,
          duration_days: int | None = None, scenario: Scenario | None = None, *,
          platform: str = "custom", sims: int = DEFAULT_SIMS, rng: Any = None,
          dispersion: float = DISPERSION, drift: float = DRIFT,
          recalibrate: Any = True) -> Track:
    """The odds of a live campaign given the pledges observed so far.

    Parameters
    ----------
    observed : DataFrame
        ``day`` (days since launch, fractional allowed) and ``pledged`` (cumulative
        amount), optionally ``backers``; one row per observation.
    goal, duration_days : float, int, optional
        The campaign's goal and duration; by default the scenario's. Needed
        without a scenario.
    scenario : Scenario, optional
        What campaigns like this one do, goal completion included
        (``Scenario.completion``); by default the shipped generic prior for
        ``platform``, this goal and this duration (``prior``).
    sims : int
        Simulated campaigns.
    rng : None, int, SeedSequence or Generator
        The seed; the one used is in ``Track.seed``.
    dispersion, drift : float
        How much more dispersed real pledges are than the model's, and how much
        the appeal still moves (``DISPERSION``, ``DRIFT``: fitted on past
        campaigns; docs/tracking.md "Tuning").
    recalibrate : bool, path or Recalibration
        With the generic prior (no ``scenario``), map the probability through a
        recalibration fitted on past campaigns (``forecast.recalibration``;
        ``Track.raw_probability`` keeps the tracker's own): True, the shipped map; a
        path, a map written by ``forecast recalibrate -o``; False, none. A
        scenario's odds are its own.

    Examples
    --------
    >>> import pandas as pd, forecast
    >>> seen = pd.DataFrame({"day": [0, 5, 10], "pledged": [0, 1800, 2600]})
    >>> t = forecast.track(seen, goal=5000, duration_days=40, rng=1)
    >>> 0 <= t.probability() <= 1
    True
    """
    check_whole("sims", sims, 10**6)
    seed = normalize_seed(rng)
    mapping = None
    if scenario is None:
        if goal is None or duration_days is None:
            raise ValueError("without a scenario, give goal and duration_days")
        scenario = prior(goal, duration_days, platform)
        mapping = _mapping(recalibrate)
    else:
        if not isinstance(scenario, Scenario):
            raise TypeError("scenario must be a forecast.Scenario (see load_scenario)")
        changes = {}
        if goal is not None:
            changes["goal"] = float(goal)
        if duration_days is not None:
            changes["duration_days"] = _whole_days(duration_days)
        if changes:
            scenario = scenario.with_(**changes)
    if not (math.isfinite(dispersion) and dispersion > 0):
        raise ValueError(f"dispersion = {dispersion!r} is not valid; expected a number > 0")
    if not (math.isfinite(drift) and drift >= 0):
        raise ValueError(f"drift = {drift!r} is not valid; expected a number >= 0")
    frame = observed_frame(observed, scenario.duration_days)
    if DayModel.fits(scenario):
        return _track_posterior(scenario, frame, sims, seed, dispersion, drift, mapping)
    return _track_weighted(scenario, frame, sims, seed, mapping)


def _mapping(recalibrate: Any) -> Any:
    """The recalibration ``track``'s argument names (None for False)."""
    from .recalibration import Recalibration, load, shipped

    if isinstance(recalibrate, Recalibration):
        return recalibrate
    if recalibrate is True:
        return shipped()
    if recalibrate is False:
        return None
    if isinstance(recalibrate, (str, Path)):
        return load(recalibrate)
    raise TypeError(f"recalibrate = {recalibrate!r} is not valid; expected True, False, "
                    "a path to a map or a Recalibration")


def _recalibrated(mapping: Any, scenario: Scenario, frame: pd.DataFrame,
                  final: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, float | None]:
    """The weights tilted to the recalibrated probability (``recalibration.tilt``),
    and the probability before (None without a map, or when every simulated
    campaign succeeds or none does: nothing to reweight)."""
    success = final >= scenario.goal
    if mapping is None or success.all() or not success.any():
        return weights, None
    from .recalibration import tilt

    time, now = _last(frame)
    raw = float(np.sum(weights[success]))
    D = scenario.duration_days
    target = float(mapping.probability(raw, now / scenario.goal, scenario.goal, D,
                                       time / D)[0])
    return tilt(weights, success, target), raw


def prior(goal: float, duration_days: Any, platform: str = "custom",
          path: str | Path | None = None, **dynamics: float) -> Scenario:
    """The scenario ``track`` follows without one: the shipped generic prior (or the
    one at ``path``) for ``platform``, this goal and this duration, with
    ``dynamics`` in its [dynamics] (``completion_half_progress=0``: without the goal
    completion)."""
    from .calibration import generic_prior

    scenario = generic_prior(goal, _whole_days(duration_days), platform, path,
                             memory_check=False)
    return scenario.with_dynamics(memory_check=False, **dynamics)


def tracked_platform(platform: str) -> str:
    """``platform`` if the project knows it, else ``custom`` (past campaigns from
    other platforms, such as Catarse, are tracked with the custom platform's prior)."""
    from .scenario import PLATFORMS

    return platform if platform in PLATFORMS else "custom"


def _whole_days(days: Any) -> int:
    value = float(days)
    if not math.isfinite(value) or value < 1:
        raise ValueError(f"duration_days = {days!r} is not valid; expected a number of "
                         "days >= 1")
    return round(value)


def _last(frame: pd.DataFrame) -> tuple[float, float]:
    return float(frame.day.iloc[-1]), float(frame.pledged.iloc[-1])


def _crossing_day(frame: pd.DataFrame, level: float) -> int | None:
    """The simulation day on which the observed total first reached ``level``
    (the day holding the first observation at or above it), None if not yet."""
    hit = np.flatnonzero(frame.pledged.to_numpy() >= level)
    if hit.size == 0:
        return None
    return max(0, math.ceil(frame.day.iloc[hit[0]]) - 1)


def _pledged_between(frame: pd.DataFrame, time: float) -> float:
    """The observed total at ``time``, read off the line between the observations
    around it (the surge's progress when the window opens: the last observation
    before it may be far back)."""
    return float(np.interp(time, frame.day.to_numpy(), frame.pledged.to_numpy()))


# ------------------------------------------------------------ the appeal posterior

class DayModel:
    """A scenario of stock and flow circles as day-by-day pledge counts.

    Given the appeal A, a circle's would-be pledgers on day d are Poisson with mean
    ``N min(1, pA) g(D) w(d)`` (stock: size N, conversion p, duration factor g,
    U-curve w) or ``min(1, pA) r(d)`` (flow: reach r(d), times the boost from the
    day after it is featured); on day d each pledges with probability
    ``1 - σ(d) (1 - s(x))`` (the final surge held to progress x) times the post-goal
    factor after the goal day; pledges are gamma with the circles' mean and sd, so
    that a day's money is gamma given its count. With the scenario's goal completion
    (h, k), a campaign at progress x < 1 when the final window opens completes its
    goal with probability s(x) for that h and k: its total then never falls below a
    floor that rises from where it was to the goal over the window's days, in shares
    proportional to ``exp(-(D - 1 - d) / final_days)`` (``_Completion``): the owner
    closes what the circles leave of the gap, no more. This is the engine's law with a
    stock circle's binomial count taken as Poisson (same mean, variance N q instead
    of N q (1 - q)) and lognormal pledges as gamma (same mean and sd).
    """

    def __init__(self, scenario: Scenario):
        if not self.fits(scenario):
            raise ValueError("DayModel needs stock and flow circles with a free pledge "
                             "and a fixed conversion, and no commitment")
        plan = engine._Plan(scenario)
        s, D = scenario, scenario.duration_days
        self.scenario, self.D, self.goal = s, D, s.goal
        dyn = s.dynamics
        self.phi, self.appeal_sd = dyn.post_goal_factor, dyn.appeal_sd
        self.half, self.steep = dyn.surge_half_progress, dyn.surge_steepness
        self.start = plan.surge_start if plan.surge else D
        C = len(s.circles)
        #: Expected would-be pledgers per day at A = 1, before caps: (C, D).
        self.base = np.zeros((C, D))
        self.conversion = np.array([c.conversion.mean for c in s.circles])
        self.scale = np.ones(C)  # what multiplies min(1, pA)
        self.boost = np.ones(C)
        self.featured_at = np.full(C, np.inf)
        self.sigma = np.zeros((C, D))
        for i, c in enumerate(s.circles):
            if c.kind == "stock":
                self.base[i] = engine.day_weights(c.timing, D)
                self.scale[i] = c.size * plan.fade
            else:
                self.base[i] = plan.reach[i]
                if c.featured_at is not None:
                    self.featured_at[i] = c.featured_at
                    self.boost[i] = c.featured_boost
            if i in plan.surge:
                self.sigma[i] = plan.surge[i]
        self.mean, self.sd = s.circles[0].pledge.mean, s.circles[0].pledge.sd  # one law
        #: Gamma pledges: shape k and scale θ with kθ = mean, kθ² = sd².
        self.shape = (self.mean / self.sd) ** 2 if self.sd > 0 else np.inf
        self.theta = self.sd ** 2 / self.mean if self.sd > 0 else 0.0

    @staticmethod
    def fits(scenario: Scenario) -> bool:
        """Whether the scenario is one a DayModel describes exactly (up to the
        Poisson and gamma forms): stock and flow circles only, each with a free
        pledge (the same for all) and a fixed conversion, and no commitment."""
        circles = scenario.circles
        return (not scenario.commitments
                and all(c.kind in ("stock", "flow") and c.pledge is not None
                        and c.pledge.sd > 0 and c.conversion.kind == "fixed"
                        for c in circles)
                and len({(c.pledge.mean, c.pledge.sd) for c in circles}) == 1)

    def _held_strength(self, frame: pd.DataFrame) -> float:
        """The surge's strength s(x) for the progress observed when the window opened."""
        x = _pledged_between(frame, self.start) / self.goal
        return float(engine.surge_strength(x, self.half, self.steep))

    def rates(self, appeal: np.ndarray) -> np.ndarray:
        """``scale × min(1, p A)`` per circle for each appeal, shape (n, C)."""
        return self.scale * np.minimum(self.conversion * appeal[:, None], 1.0)

    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """The appeal grid and its prior weights (lognormal of mean 1)."""
        sd = self.appeal_sd
        z = np.linspace(-GRID_SD, GRID_SD, GRID_POINTS) if sd > 0 else np.zeros(1)
        appeal = np.exp(sd * z - sd ** 2 / 2)
        prior = np.exp(-z ** 2 / 2)
        return appeal, prior / prior.sum()

    def exposure(self, frame: pd.DataFrame) -> np.ndarray:
        """Expected would-be pledgers per unit of ``scale × min(1, pA)`` from launch to
        the end of each day, given the observed path: shape (C, D + 1), column t the
        total over days before t. The boost counts from the day after each circle
        was featured, the surge and the post-goal factor as observed."""
        D = self.D
        weights = self.base.copy()
        for i in np.flatnonzero(np.isfinite(self.featured_at)):
            day = _crossing_day(frame, self.featured_at[i] * self.goal)
            if day is not None:
                weights[i, day + 1:] *= self.boost[i]
        time = float(frame.day.iloc[-1])
        if self.start < D and time > self.start:
            s = self._held_strength(frame)
            weights *= 1.0 - self.sigma * (1.0 - s)
        goal_day = _crossing_day(frame, self.goal)
        if goal_day is not None:
            weights[:, goal_day + 1:] *= self.phi
        return np.concatenate([np.zeros((len(weights), 1)), np.cumsum(weights, axis=1)],
                              axis=1)

    @staticmethod
    def exposure_at(exposure: np.ndarray, time: float) -> np.ndarray:
        """``exposure`` at a fractional time (the day holding it counted in part), (C,)."""
        D = exposure.shape[1] - 1
        k = min(int(math.floor(time)), D - 1)
        part = min(time - k, 1.0)
        return exposure[:, k] * (1 - part) + exposure[:, k + 1] * part

    def log_likelihood(self, money: float, counts: np.ndarray) -> np.ndarray:
        """log P(money observed | expected pledgers ``counts``), for each count mean:
        a Poisson number of gamma pledges (exact), summed over numbers of pledgers
        around money / mean."""
        counts = np.maximum(counts, 1e-300)
        if money <= 0:
            return -counts
        centre = money / self.mean
        width = 10.0 * math.sqrt(centre) + 20.0
        k = np.arange(max(1, int(centre - width)), int(centre + width) + 1, dtype=float)
        if not np.isfinite(self.shape):  # every pledge the mean: the count is known
            k = np.array([max(1.0, round(centre))])
            log_gamma = np.zeros(1)
        else:
            a = k * self.shape
            log_gamma = ((a - 1) * math.log(money) - money / self.theta - special.gammaln(a)
                         - a * math.log(self.theta))
        log_poisson = (k[None, :] * np.log(counts)[:, None] - counts[:, None]
                       - special.gammaln(k + 1)[None, :])
        return special.logsumexp(log_poisson + log_gamma[None, :], axis=1)

    def forward(self, appeal: np.ndarray, frame: pd.DataFrame, time: float,
                rng: np.random.Generator, drift: float = 0.0
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Simulate each campaign (one per appeal) from ``time`` to the deadline,
        starting from the observed state, the log-appeal walking at random by
        ``drift sqrt(Δt / D)`` a day (``appeal_filter``). Returns the final totals (n,), the
        running totals at the end of each day from the day holding ``time`` (n, days)
        and the expected pledgers still to come per circle, averaged (C,)."""
        n, D = appeal.size, self.D
        now = float(frame.pledged.iloc[-1])  # time is the last observation's
        first = min(int(math.floor(time)), D - 1)
        total = np.full(n, now)
        rate = self.rates(appeal)                                   # (n, C)
        featured = {}
        for i in np.flatnonzero(np.isfinite(self.featured_at)):
            day = _crossing_day(frame, self.featured_at[i] * self.goal)
            featured[i] = np.full(n, day is not None and day < first)
        goal_day = _crossing_day(frame, self.goal)
        reached = np.full(n, goal_day is not None and goal_day < first)
        strength = None
        if self.start < D and first >= self.start:
            strength = np.full(n, self._held_strength(frame))
        running = np.empty((n, D - first))
        expected = np.zeros(len(self.base))
        log_a = np.log(appeal)
        closing = _Completion(self.scenario)
        closing.opened_before(frame, time, reached, rng)
        for d in range(first, D):
            part = 1.0 - (time - d) if d == first else 1.0
            if d == self.start and strength is None:
                strength = engine.surge_strength(total / self.goal, self.half, self.steep)
            if d == closing.start and closing.closing is None:
                closing.open(total, reached, rng)
            if drift > 0:
                log_a = log_a + drift * math.sqrt(part / D) * rng.standard_normal(n)
                rate = self.rates(np.exp(log_a))
            mean = rate * self.base[:, d] * part                      # (n, C)
            for i, on in featured.items():
                mean[:, i] *= np.where(on, self.boost[i], 1.0)
            if strength is not None:
                mean *= 1.0 - self.sigma[:, d] * (1.0 - strength[:, None])
            mean *= np.where(reached, self.phi, 1.0)[:, None]
            expected += mean.mean(axis=0)
            count = rng.poisson(mean.sum(axis=1))
            total = closing.floor(d, total + self._money(count, rng))
            running[:, d - first] = total
            for i in featured:
                featured[i] |= total >= self.featured_at[i] * self.goal
            reached |= total >= self.goal
        return total, running, expected

    def _money(self, count: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if not np.isfinite(self.shape):
            return count * self.mean
        out = np.zeros(count.size)
        some = count > 0
        out[some] = rng.gamma(count[some] * self.shape, self.theta)
        return out


class _Completion:
    """Goal completion in a scenario's final window (docs/tracking.md, "Goal
    completion"). When the window opens (the start of day ``start``), ``open`` draws
    which campaigns close their gap: probability s(x) for (h, k) =
    ``scenario.completion`` at the progress x then, the goal not reached yet; from
    then on ``floor`` keeps their totals at least where they were plus the gap times
    the share of the window's rush so far (``engine.closing_shares``), the goal on
    the last day. Without a goal completion the window never opens."""

    def __init__(self, scenario: Scenario):
        D = scenario.duration_days
        self.completion, self.goal, self.D = scenario.completion, scenario.goal, D
        self.start = engine.surge_start(scenario) if self.completion is not None else D
        #: The share of the gap closed by the end of each day.
        self.share = engine.closing_shares(scenario.timing, D, self.start)
        self.closing: np.ndarray | None = None

    def open(self, total: np.ndarray, reached: np.ndarray, rng: np.random.Generator
             ) -> None:
        """Draw the closing campaigns from their totals when the window opens."""
        p = engine.surge_strength(total / self.goal, *self.completion)
        self.closing = (rng.random(total.size) < p) & ~reached
        self.opened = total

    def opened_before(self, frame: pd.DataFrame, time: float, reached: np.ndarray,
                      rng: np.random.Generator) -> None:
        """Tracked after the window opened: the draw at the observed progress then,
        kept only if today's total is at or above the floor it would have set (a
        campaign below it is not closing its gap)."""
        if not self.start < time:
            return
        n = reached.size
        self.open(np.full(n, _pledged_between(frame, self.start)), reached, rng)
        k = min(int(math.floor(time)), self.D - 1)
        before = self.share[k - 1] if k > self.start else 0.0
        level = self._level(before + (time - k) * (self.share[k] - before))
        self.closing &= float(frame.pledged.iloc[-1]) >= level

    def _level(self, share: float) -> np.ndarray:
        return self.opened + (self.goal - self.opened) * share

    def floor(self, day: int, total: np.ndarray) -> np.ndarray:
        """``total`` at the end of ``day``, raised to the floor where closing."""
        if self.closing is None or not self.closing.any():
            return total
        floor = self.goal if day == self.D - 1 else self._level(self.share[day])
        return np.where(self.closing, np.maximum(total, floor), total)


def _track_posterior(scenario: Scenario, frame: pd.DataFrame, sims: int,
                     seed: np.random.SeedSequence, dispersion: float, drift: float,
                     mapping: Any = None) -> Track:
    model = DayModel(scenario)
    time, _ = _last(frame)
    posterior = appeal_filter(model, frame, dispersion, drift)
    appeal = model.grid()[0]
    rng = np.random.default_rng(seed)
    cell = rng.choice(appeal.size, size=sims, p=posterior)
    step = (2 * GRID_SD / (GRID_POINTS - 1)) * model.appeal_sd
    log_a = np.log(appeal[cell]) + step * (rng.random(sims) - 0.5)
    final, running, expected = model.forward(np.exp(log_a), frame, time, rng, drift)
    weights, raw = _recalibrated(mapping, scenario, frame, final,
                                 np.full(sims, 1.0 / sims))
    fan = _fan(running, weights, int(math.floor(time)), scenario.duration_days)
    circles = pd.DataFrame({"circle": [c.name for c in scenario.circles],
                            "pledgers_to_come": expected,
                            "money_to_come": expected * model.mean})
    return Track(scenario=scenario, observed=frame, final=final,
                 weights=weights, fan=fan, circles=circles, method="appeal posterior",
                 sims=sims, seed=seed, pledge_mean=model.mean, raw_probability=raw)


def appeal_filter(model: DayModel, frame: pd.DataFrame, dispersion: float = DISPERSION,
                  drift: float = DRIFT) -> np.ndarray:
    """The distribution of the appeal now, on ``model.grid()``, given the money
    observed in each interval between observations.

    The log-appeal walks at random (sd ``drift`` over the whole duration, so
    ``drift sqrt(Δt / D)`` over Δt days), starting from the prior; each interval's
    money has the likelihood ``DayModel.log_likelihood`` of its expected pledgers,
    raised to 1 / ``dispersion``. A forward filter on the grid: recent money
    counts more than old money when the appeal drifts. Observations less than a
    day apart are taken together (the last of each day, and the last of all).
    """
    appeal, prior = model.grid()
    days = frame.day.to_numpy()
    keep = np.append(np.diff(np.ceil(days)) > 0, True)
    keep[0] = True
    times, money = days[keep], frame.pledged.to_numpy()[keep]
    exposure = model.exposure(frame)
    rates = model.rates(appeal)                                        # (G, C)
    log_a = np.log(appeal)
    log_f = np.log(prior)
    before = DayModel.exposure_at(exposure, times[0])
    kernels: dict[float, np.ndarray] = {}
    for j in range(1, times.size):
        if drift > 0 and times[j] > times[j - 1]:
            spread = drift * math.sqrt((times[j] - times[j - 1]) / model.D)
            if spread not in kernels:
                kernels[spread] = _step_kernel(log_a, spread)
            log_f = _walk(log_f, kernels[spread])
        after = DayModel.exposure_at(exposure, times[j])
        counts = rates @ (after - before)
        gained = max(0.0, money[j] - money[j - 1])
        log_f = log_f + model.log_likelihood(gained, counts) / dispersion
        log_f -= log_f.max()
        before = after
    post = np.exp(log_f)
    return post / post.sum()


def _walk(log_f: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """A log-density on the grid (its largest value 0) after a step whose
    transition matrix (to, from) is ``kernel``."""
    with np.errstate(divide="ignore"):
        return np.log(kernel @ np.exp(log_f))


def _step_kernel(log_a: np.ndarray, spread: float) -> np.ndarray:
    """The transition matrix of a normal step of sd ``spread`` in log a, (to, from)."""
    return np.exp(-0.5 * ((log_a[:, None] - log_a[None, :]) / spread) ** 2)


def _fan(running: np.ndarray, weights: np.ndarray, first: int, D: int) -> pd.DataFrame:
    """Weighted quantiles of the running total at the end of each day from ``first``."""
    first = min(first, D - 1)
    if np.ptp(weights) == 0:  # equal weights: the plain quantiles, all days at once
        rows = np.quantile(running, LEVELS, axis=0, method="inverted_cdf").T
    else:
        rows = [weighted_quantiles(running[:, k], weights, LEVELS)
                for k in range(running.shape[1])]
    fan = pd.DataFrame(rows, columns=[f"p{round(100 * lv)}" for lv in LEVELS])
    fan.insert(0, "day", np.arange(first, D) + 1.0)
    return fan


# ------------------------------------------------------------ weighted simulations

def _track_weighted(scenario: Scenario, frame: pd.DataFrame, sims: int,
                    seed: np.random.SeedSequence, mapping: Any = None) -> Track:
    from .result import simulate
    if sims > engine.PATH_SIMS:
        raise ValueError(f"sims = {sims!r} is too many for this scenario's tracking; "
                         f"expected at most {engine.PATH_SIMS}")
    # The engine's campaigns without the completion: _close draws it as tracked.
    result = simulate(scenario.with_dynamics(memory_check=False, completion_half_progress=0),
                      sims, rng=seed)
    D = scenario.duration_days
    time, now = _last(frame)
    paths = np.concatenate([np.zeros((sims, 1)), result.outcome.paths.astype(float)], axis=1)
    k = min(int(math.floor(time)), D - 1)
    part = time - k
    at_now = paths[:, k] * (1 - part) + paths[:, k + 1] * part
    distance = np.log1p(now) - np.log1p(at_now)
    weights = _kernel_weights(distance)
    running = now + (paths[:, k + 1:] - at_now[:, None])
    running[:, -1] = now + (result.totals - at_now)  # the totals, not their float32 paths
    _close(scenario, running, frame, seed)
    final = running[:, -1]
    weights, raw = _recalibrated(mapping, scenario, frame, final, weights)
    fan = _fan(running, weights, k, D)
    per_sim = result.outcome.circle_daily_sum / sims                 # (C, D)
    share = np.sum(weights * (result.totals - at_now)) / max(
        np.mean(result.totals - at_now), 1e-12)
    to_come = per_sim[:, k:].sum(axis=1) * share
    mean_pledge = _mean_pledge(scenario)
    circles = pd.DataFrame({"circle": [c.name for c in scenario.circles],
                            "pledgers_to_come": to_come / mean_pledge,
                            "money_to_come": to_come})
    return Track(scenario=scenario, observed=frame, final=final,
                 weights=weights, fan=fan, circles=circles, method="weighted simulations",
                 sims=sims, seed=seed, pledge_mean=mean_pledge, raw_probability=raw)


def _close(scenario: Scenario, running: np.ndarray, frame: pd.DataFrame,
           seed: np.random.SeedSequence) -> None:
    """Goal completion applied to the engine's campaigns from the last observation:
    their running totals at the end of each day from the day holding it (sims,
    days), raised in place where they close their gap, as ``DayModel.forward`` does
    day by day. The draws come from the seed's own state, apart from the engine's
    streams (its children)."""
    time, now = _last(frame)
    D = scenario.duration_days
    first = min(int(math.floor(time)), D - 1)
    closing = _Completion(scenario)
    if closing.start >= D:
        return
    rng = np.random.default_rng(seed.generate_state(4))
    n = running.shape[0]
    reached = np.full(n, now >= scenario.goal)
    closing.opened_before(frame, time, reached, rng)
    last = np.full(n, now)
    total = last.copy()
    for d in range(first, D):
        if d == closing.start and closing.closing is None:
            opened = total.copy()
            closing.open(opened, reached | (opened >= scenario.goal), rng)
        total = closing.floor(d, total + running[:, d - first] - last)
        last = running[:, d - first].copy()
        running[:, d - first] = total


def _kernel_weights(distance: np.ndarray) -> np.ndarray:
    """Gaussian kernel weights on ``distance``, the bandwidth widened from 0.05 by
    ×1.5 until Kish's effective sample size reaches MIN_ESS, or a fifth of the
    sample if that is less (all of it would take every campaign alike)."""
    target = min(MIN_ESS, distance.size / 5)
    h = 0.05
    while True:
        log_w = -0.5 * (distance / h) ** 2
        w = np.exp(log_w - log_w.max())
        w /= w.sum()
        if 1.0 / np.sum(w ** 2) >= target or h > 1e3:
            return w
        h *= 1.5


def _mean_pledge(scenario: Scenario) -> float:
    """The mean pledge of a would-be pledger: the mean of the circles' free amounts
    and of the reward tiers' average (every circle gives one way or the other)."""
    amounts = [c.pledge.mean for c in scenario.circles if c.pledge is not None]
    if scenario.rewards:
        amounts.append(default_pledge(scenario.platform, rewards=scenario.rewards)[0])
    return float(np.mean(amounts))
