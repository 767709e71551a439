"""Goal advice an owner can act on: the goal that covers the need, and what it takes.

``need_goal`` is the smallest goal such that a campaign that reaches *exactly* that
goal still covers the owner's ``need`` after the platform's fees and the cost of the
rewards, computed from the scenario's own fee and reward-cost formulas
(docs/model.md, "Money"). Below it, a success means delivering rewards without the
money to do so, so no goal below it is ever recommended.

``what_it_takes`` answers "what would raise the odds?": for each lever the owner
can pull (a contact list's size, sharing, an ad budget, a daily reach, the
conversion of every circle), the value it would need, the others held, for the
campaign to reach a target probability at a given goal, and whether that value is
plausible.
"""
from __future__ import annotations

import math
from contextlib import closing
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from . import engine
from .result import check_whole, normalize_seed, package_version, seed_label
from .scenario import Scenario
from .sweep import SWEEP_COLUMNS, goal_range, nice_step, sweep

__all__ = ["advise", "Advice", "need_goal", "net_at_goal", "recommended_goal", "covered_goal",
           "round_up", "recommend",
           "what_it_takes", "RECOMMEND_COLUMNS", "LEVER_COLUMNS", "PLAUSIBLE", "STRETCH",
           "FACTORS"]

#: Columns of ``recommend``, in order.
RECOMMEND_COLUMNS = ["duration_days", "recommended_goal", "recommended_probability",
                     "basis", "target_goal", "target_probability", "need_goal"]

#: Columns of ``what_it_takes``, in order.
LEVER_COLUMNS = ["lever", "circle", "key", "unit", "current", "required", "factor",
                 "short_of", "probability", "plausibility"]
#: A lever raised by at most this factor is called plausible (a quarter more).
PLAUSIBLE = 1.25
#: A lever raised by at most this factor is called a stretch (double); beyond, unlikely.
STRETCH = 2.0
#: The factors tried on each lever, before refining between the two that bracket the
#: target; a lever that does not reach it at the last one is out of reach.
FACTORS = (1.1, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0)
#: Points tried between the two factors that bracket the target.
REFINE = 5

Progress = Callable[[int, int], Any]


# ----------------------------------------------------------------------------- the need

def _kept_per_unit(scenario: Scenario) -> float:
    """The lowest share of a pledged dollar kept after fees and reward costs, over
    the ways pledgers give: the reward tiers picked in their shares (backers per
    dollar 1 / a, costs c / a, with a = sum share * amount and c = sum share *
    unit_cost), and each circle's free pledge (mean m: 1 / m backers per dollar, no
    reward cost)."""
    f = scenario.fees
    rate = f.platform_rate + f.payment_rate
    kept = []
    if any(c.pledge is None for c in scenario.circles):
        amount = sum(r.share * r.amount for r in scenario.rewards)
        cost = sum(r.share * r.unit_cost for r in scenario.rewards)
        kept.append(1.0 - rate - (f.per_pledge + cost) / amount)
    for c in scenario.circles:
        if c.pledge is not None:
            kept.append(1.0 - rate - f.per_pledge / c.pledge.mean)
    return min(kept)


def _commitment_shortfall(scenario: Scenario, kept: float) -> float:
    """What the commitments that keep less of their amount than ``kept`` per dollar
    take from the net, summed (<= 0)."""
    f = scenario.fees
    rate = f.platform_rate + f.payment_rate
    short = 0.0
    for c in scenario.commitments:
        net = c.amount * (1.0 - rate) - f.per_pledge - c.unit_cost
        short += min(0.0, net - kept * c.amount)
    return short


def net_at_goal(scenario: Scenario, goal: float) -> float:
    """The net a campaign that collects exactly ``goal`` receives, in the worst mix.

    net(G) = k G + s, with k the lowest share of a pledged dollar kept after fees
    and reward costs over the ways pledgers give (reward tiers in their shares,
    free pledges at their mean) and s <= 0 what the commitments that keep less than
    k of their amount take away, all of them counted. Per pledger, net = amount (1 -
    platform_rate - payment_rate) - per_pledge - unit_cost (docs/model.md, "Money"),
    so a campaign whose pledges all come one way nets exactly k G on average.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (its fees, reward tiers, circles and commitments).
    goal : float
        The gross collected.

    Returns
    -------
    float
        The net, in the scenario's currency.
    """
    kept = _kept_per_unit(scenario)
    return kept * float(goal) + _commitment_shortfall(scenario, kept)


def need_goal(scenario: Scenario) -> float | None:
    """The smallest goal that covers ``scenario.need`` when it is reached exactly.

    The G with ``net_at_goal(scenario, G) = need``: G = (need - s) / k (see
    ``net_at_goal``). A goal below it can succeed and still leave the owner short of
    the need, with the rewards to deliver.

    Returns
    -------
    float or None
        None when the scenario has no ``need``; ``inf`` when no goal covers it
        (fees and reward costs take every pledged dollar, k <= 0).
    """
    if scenario.need is None:
        return None
    kept = _kept_per_unit(scenario)
    if kept <= 0:
        return math.inf
    return (scenario.need - _commitment_shortfall(scenario, kept)) / kept


def round_up(amount: float) -> float:
    """``amount`` rounded up to a round figure: to the 1, 2, 2.5 or 5 x 10^k step
    nearest above 1 % of it (17,523 -> 17,600)."""
    if not math.isfinite(amount) or amount <= 0:
        return amount
    step = nice_step(amount / 100)
    return math.ceil(amount / step - 1e-9) * step


def recommended_goal(scenario: Scenario) -> float | None:
    """The goal to recommend when the scenario has a need: ``need_goal`` rounded up
    to a round figure (``round_up``); None without a need, ``inf`` when no goal
    covers it."""
    goal = need_goal(scenario)
    return None if goal is None else round_up(goal)


def _check_target(target: Any, one: bool = False) -> None:
    """A probability in (0, 1), or (0, 1] when ``one``; ValueError naming it."""
    if (isinstance(target, bool) or not isinstance(target, (int, float, np.number))
            or not (0 < target <= 1 if one else 0 < target < 1)):
        raise ValueError(f"target = {target!r} is not valid; expected a probability "
                         f"in (0, 1{']' if one else ')'}")


def covered_goal(scenario: Scenario) -> float | None:
    """``recommended_goal``, or None without a need; ValueError when no goal can
    cover the need (fees and reward costs take every pledged dollar)."""
    goal = recommended_goal(scenario)
    if goal is not None and not math.isfinite(goal):
        raise ValueError(f"need = {scenario.need:g} cannot be covered: fees and reward "
                         "costs take every pledged dollar, whatever the goal")
    return goal


# ----------------------------------------------------------------------------- the goal to pick

def recommend(frame: pd.DataFrame, scenario: Scenario, target: float = 0.80
              ) -> pd.DataFrame:
    """The goal to pick, for each duration of a sweep.

    For each duration d of ``frame`` (the output of ``sweep``):

    - ``need_goal``: the smallest goal that covers the owner's ``need`` when it is
      reached exactly, after fees and reward costs (``need_goal``, from the
      scenario's fee and reward-cost formulas; NaN without a need, inf when no goal
      covers it);
    - ``target_goal``: the largest swept goal whose probability of success is at
      least ``target``, and ``target_probability``, its probability;
    - ``recommended_goal``: with a need, ``need_goal`` rounded up to a round figure
      (``recommended_goal``), whatever its odds: a lower goal can succeed
      without the money to deliver the rewards, and a higher one only lowers the
      odds of getting the money (success at any admissible goal covers the need, and
      the probability of success falls as the goal rises). When its odds are below
      ``target``, what would raise them is ``what_it_takes``, not a lower
      goal. Without a need, ``target_goal``. ``basis`` says which ("need" or
      "target"), and ``recommended_probability`` is its probability of success, read
      off the frame (NaN when that goal was not swept: add it to the goals).

    Parameters
    ----------
    frame : DataFrame
        The output of ``sweep`` for this scenario.
    scenario : Scenario
        The scenario swept (its ``need``, fees and rewards are used).
    target : float
        The probability of success to reach, in (0, 1].

    Returns
    -------
    DataFrame
        A row per duration with the columns of ``RECOMMEND_COLUMNS``; ``attrs`` holds
        ``target`` and ``need`` (and the sweep's ``seed``, ``sims``, ``version``).
    """
    missing = [c for c in SWEEP_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks the column {missing[0]!r}; expected the output "
                         "of forecast.sweep")
    _check_target(target, one=True)
    nan = math.nan
    covering = need_goal(scenario)
    rounded = recommended_goal(scenario)
    rows = []
    for days, cells in frame.groupby("duration_days", sort=True):
        cells = cells.sort_values("goal", kind="stable")
        goal = cells["goal"].to_numpy(float)
        probability = cells["probability"].to_numpy(float)
        row: dict[str, Any] = {"duration_days": int(days)}

        reachable = np.flatnonzero(probability >= target)
        k = reachable[-1] if reachable.size else None
        row["target_goal"] = goal[k] if k is not None else nan
        row["target_probability"] = probability[k] if k is not None else nan
        row["need_goal"] = nan if covering is None else covering
        if covering is None:
            row.update(basis="target", recommended_goal=row["target_goal"])
        else:
            row.update(basis="need",
                       recommended_goal=rounded if math.isfinite(rounded) else nan)
        at = np.flatnonzero(np.isclose(goal, row["recommended_goal"], rtol=1e-12))
        row["recommended_probability"] = probability[at[0]] if at.size else nan
        rows.append(row)
    out = pd.DataFrame(rows, columns=RECOMMEND_COLUMNS)
    out["duration_days"] = out["duration_days"].astype(int)
    out.attrs.update({k: v for k, v in frame.attrs.items()
                      if k in ("seed", "sims", "version", "scenario")})
    out.attrs.update(target=float(target), need=scenario.need)
    return out


# ----------------------------------------------------------------------------- levers

@dataclass(frozen=True)
class _Lever:
    """One lever: its name, where it lives, its unit, its value and how to scale it."""

    lever: str
    circle: str | None
    key: str
    unit: str
    current: float
    scale: Callable[[dict, float], None]
    #: the largest factor that keeps the scenario valid
    limit: float = math.inf
    #: the factor up to which it is plausible (the owner's own uncertainty for conversion)
    plausible: float = PLAUSIBLE

    def value(self, factor: float) -> float:
        if self.key == "conversion":
            return factor
        value = self.current * factor
        return float(math.ceil(value - 1e-9)) if self.unit == "people" else value


def _conversion_table(conversion: Any, factor: float) -> Any:
    """A circle's conversion with its rate multiplied by ``factor`` (the same spread
    relative to the mean)."""
    if conversion.kind == "fixed":
        return min(1.0, conversion.mean * factor)
    if conversion.kind == "uniform":
        return {"low": min(1.0, conversion.low * factor),
                "high": min(1.0, conversion.high * factor)}
    mean = conversion.mean * factor
    sd = min(conversion.sd * factor, 0.95 * math.sqrt(mean * (1 - mean)))
    return {"mean": mean, "sd": sd}


def _levers(scenario: Scenario) -> list[_Lever]:
    levers = []
    for i, c in enumerate(scenario.circles):
        def setter(key: str, index: int = i, integer: bool = False):
            def scale(raw: dict, factor: float) -> None:
                table = raw["circle"][index]
                value = table[key] * factor
                table[key] = int(math.ceil(value - 1e-9)) if integer else value
            return scale
        if c.kind == "stock" and c.size:
            levers.append(_Lever(f"{c.name}: size", c.name, "size", "people", c.size,
                                 setter("size", integer=True)))
        if c.kind == "source" and c.reach_per_pledger > 0:
            levers.append(_Lever(f"{c.name}: reach_per_pledger", c.name,
                                 "reach_per_pledger", "people per pledger",
                                 c.reach_per_pledger, setter("reach_per_pledger")))
        if c.budget:
            levers.append(_Lever(f"{c.name}: budget", c.name, "budget", scenario.currency,
                                 c.budget, setter("budget")))
        if c.daily_reach:
            levers.append(_Lever(f"{c.name}: daily_reach", c.name, "daily_reach",
                                 "people per day", c.daily_reach, setter("daily_reach")))

    convs = [c.conversion for c in scenario.circles if c.conversion.mean > 0]
    if convs:
        def scale(raw: dict, factor: float) -> None:
            for table, c in zip(raw["circle"], scenario.circles):
                table["conversion"] = _conversion_table(c.conversion, factor)
        # a Beta's mean stays below 1, a uniform's high at most 1
        limit = min((0.99 / c.mean) if c.kind == "beta" else
                    (1.0 / c.high) if c.kind == "uniform" else 1.0 / c.mean for c in convs)
        # plausible: every uncertain rate within the owner's own 95 % bound
        uncertain = [c.bounds[1] / c.mean for c in convs if c.kind != "fixed"]
        levers.append(_Lever("conversion (every circle)", None, "conversion", "factor",
                             1.0, scale, limit=limit,
                             plausible=min(uncertain) if uncertain else PLAUSIBLE))
    return levers


def _plausibility(lever: _Lever, factor: float | None) -> str:
    if factor is None:
        return "out of reach"
    if factor <= 1.0:
        return "reached"
    if factor <= lever.plausible + 1e-12:
        return "plausible"
    return "stretch" if factor <= max(STRETCH, lever.plausible) + 1e-12 else "unlikely"


def _scenario_at(base: Scenario, lever: _Lever, factor: float) -> Scenario:
    raw = base.to_dict()
    lever.scale(raw, factor)
    return Scenario.from_dict(raw, base.path)


def _probabilities(runs: list[tuple[Scenario, float]], sims: int,
                   seed: np.random.SeedSequence, workers: int,
                   progress: Callable[[], None]) -> list[float]:
    """P(gross >= goal) of each (scenario, goal), one seed for all."""
    jobs = [engine.Job(s, [goal], sims, seed, keep_paths=False) for s, goal in runs]
    out = []
    with closing(engine.run_jobs(jobs, workers=workers)) as done:
        for (_, goal), (outcome,) in zip(runs, done):
            out.append(float(np.count_nonzero(outcome.gross >= goal)) / sims)
            progress()
    return out


def what_it_takes(scenario: Scenario, goal: float | None = None, target: float = 0.80, *,
                  sims: int = 10_000, rng: Any = None, progress: Progress | None = None,
                  workers: int = 1, probability: float | None = None) -> pd.DataFrame:
    """What each lever would need, the others held, to reach ``target`` at ``goal``.

    Levers: each stock circle's ``size`` (the contact lists, the entourage), each
    source circle's ``reach_per_pledger`` (sharing), each flow circle's ``budget``
    or ``daily_reach``, and the conversion of every circle at once (each rate's
    mean, or a uniform's ends, times a factor, its spread relative to the mean
    kept). Each lever is multiplied by the factors of ``FACTORS`` (up to 2 first,
    the larger ones only where those fall short); between the last factor that
    falls short and the first that reaches the target, ``REFINE`` more factors are
    tried, evenly spaced, and the first that reaches it is ``factor``. Every run uses the same seed (common random numbers), so the
    probability moves with the lever, not with sampling noise; it is still an
    estimate from ``sims`` campaigns (standard error sqrt(p (1 - p) / sims)).

    Plausibility, by the factor needed: ``reached`` (the plan already reaches the
    target), ``plausible`` (at most ``PLAUSIBLE``, a quarter more; for conversion,
    up to every uncertain rate's own 95 % bound, what the owner already thinks
    possible), ``stretch`` (at most ``STRETCH``, double), ``unlikely`` (more), and
    ``out of reach`` (not reached at the largest factor tried, or a conversion that
    would pass 100 %).

    Parameters
    ----------
    scenario : Scenario
        A validated scenario with ``raw`` (``load_scenario`` or ``from_dict``).
    goal : float, optional
        The goal; by default ``recommended_goal(scenario)`` when the scenario has a
        need, else its own goal.
    target : float
        The probability of success to reach, in (0, 1).
    sims : int
        Simulated campaigns per run.
    rng : None, int, SeedSequence or Generator
        The seed, normalised once and used for every run.
    progress : callable, optional
        Called as ``progress(runs_done, runs_total)``; the total grows as the runs
        of each round are known.
    workers : int
        Processes sharing the chunks of all the runs; never changes the numbers.
    probability : float, optional
        The plan's probability at ``goal`` from a run with this seed and ``sims``
        (a sweep's cell there, with common random numbers the same number), so that
        it is not simulated again.

    Returns
    -------
    DataFrame
        A row per lever with the columns of ``LEVER_COLUMNS``: ``current`` and
        ``required`` values (for conversion, the factor: 1 and the factor needed),
        ``short_of`` the largest value tried that falls short (NaN when the plan
        reaches the target), ``probability`` the probability at ``required``,
        ``plausibility``. ``required`` is NaN when out of reach. ``attrs`` holds
        ``goal``, ``target``, ``probability`` (the plan's at that goal), ``seed``,
        ``sims``, ``version``, ``duration_days``.

    Raises
    ------
    ValueError
        A goal <= 0, a target outside (0, 1), sims < 1, or a scenario without raw.
    """
    if not isinstance(scenario, Scenario):
        raise TypeError("scenario must be a forecast.Scenario (see load_scenario)")
    if scenario.raw is None:
        raise ValueError("scenario has no raw table; build it with load_scenario or "
                         "Scenario.from_dict")
    if goal is None:
        goal = recommended_goal(scenario) if scenario.need is not None else scenario.goal
    if (isinstance(goal, bool) or not isinstance(goal, (int, float, np.number))
            or not math.isfinite(goal) or goal <= 0):
        raise ValueError(f"goal = {goal!r} is not valid; expected a finite amount > 0")
    _check_target(target)
    check_whole("sims", sims)
    check_whole("workers", workers)
    sims, goal, seed = int(sims), float(goal), normalize_seed(rng)
    at_goal = scenario.with_(goal=goal)
    levers = _levers(at_goal)
    done, total = [0], [1 if probability is None else 0]

    def tick() -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], total[0])

    def run(factors: list[tuple[int, float]]) -> None:
        """Simulate each (lever, factor) and add it to that lever's points."""
        total[0] += len(factors)
        found = _probabilities([(_scenario_at(at_goal, levers[i], f), goal)
                                for i, f in factors], sims, seed, workers, tick)
        for (i, f), p in zip(factors, found):
            tried[i].append((f, p))

    base = (_probabilities([(at_goal, goal)], sims, seed, workers, tick)[0]
            if probability is None else float(probability))
    tried: list[list[tuple[float, float]]] = [[(1.0, base)] for _ in levers]
    short = [] if base >= target else list(range(len(levers)))
    # The factors in two rounds, so that the large (and slow: many more pledgers)
    # ones are only tried on the levers the small ones do not settle.
    for stage in (FACTORS[:4], FACTORS[4:]):
        run([(i, f) for i in short for f in stage if f <= levers[i].limit])
        short = [i for i in short if max(p for _, p in tried[i]) < target]
    # Refine between the factors that bracket the target.
    refine = []
    for i, points in enumerate(tried):
        points.sort()
        above = [j for j, (_, p) in enumerate(points) if p >= target]
        if base < target and above:
            low, high = points[above[0] - 1][0], points[above[0]][0]
            refine += [(i, low + (high - low) * j / (REFINE + 1))
                       for j in range(1, REFINE + 1)]
    run(refine)

    rows = []
    for lever, points in zip(levers, tried):
        points.sort()
        reach = [(f, p) for f, p in points if p >= target]
        factor, p_at = reach[0] if reach else (None, math.nan)
        below = [f for f, p in points if p < target and (factor is None or f < factor)]
        rows.append({
            "lever": lever.lever, "circle": lever.circle, "key": lever.key,
            "unit": lever.unit, "current": float(lever.current),
            "required": math.nan if factor is None else lever.value(factor),
            "factor": math.nan if factor is None else factor,
            "short_of": lever.value(below[-1]) if below else math.nan,
            "probability": p_at, "plausibility": _plausibility(lever, factor),
        })
    frame = pd.DataFrame(rows, columns=LEVER_COLUMNS)
    frame.attrs.update(goal=goal, target=float(target), probability=base,
                       seed=seed_label(seed), sims=sims, version=package_version(),
                       scenario=scenario.name, duration_days=scenario.duration_days)
    return frame


# ----------------------------------------------------------------------------- all of it

@dataclass(frozen=True)
class Advice:
    """The goal to recommend, its odds, and what would raise them (``advise``).

    ``goal`` is the recommended goal and ``basis`` why: ``"need"`` (the smallest
    round goal that covers the need when reached exactly) or ``"target"`` (no need
    given: the largest goal reached with probability ``target``). ``probability`` and
    ``ci95`` are its odds at the scenario's duration; ``target_goal`` the largest
    goal tried that reaches ``target`` (NaN if none does); ``levers`` the output of
    ``what_it_takes`` at ``goal`` (all "reached" when the odds already make the
    target); ``sweep`` the goals tried.
    """

    scenario: Scenario
    goal: float
    basis: str
    probability: float
    ci95: tuple[float, float]
    target: float
    target_goal: float
    need_goal: float
    net_at_goal: float
    levers: pd.DataFrame
    sweep: pd.DataFrame
    seed: Any
    sims: int
    version: str

    @property
    def reaches_target(self) -> bool:
        return self.probability >= self.target

    def __repr__(self) -> str:
        low, high = self.ci95
        return (f"<Advice {self.scenario.name!r}: goal {self.goal:,.0f} ({self.basis}), "
                f"P = {self.probability:.1%} [95% {low:.1%}–{high:.1%}], target "
                f"{self.target:.0%}{'' if self.reaches_target else ' not reached'}; "
                f"{len(self.levers)} levers, {self.sims:,} sims, seed {self.seed}>")


def advise(scenario: Scenario, target: float = 0.80, *, sims: int = 10_000,
           rng: Any = None, progress: Callable[[str, int, int], Any] | None = None,
           workers: int = 1) -> Advice:
    """The recommended goal with its probability, and what would raise it.

    At the scenario's duration: the goals of ``sweep.goal_range`` (with the goal
    that covers the need and the plan's goal) are swept, ``recommend`` picks the
    goal, and ``what_it_takes`` finds what each lever would need for ``target`` at
    that goal. One seed for all (common random numbers).

    Parameters
    ----------
    scenario : Scenario
        A validated scenario with ``raw``.
    target : float
        The probability of success to aim for, in (0, 1).
    sims : int
        Simulated campaigns per run.
    rng : None, int, SeedSequence or Generator
        The seed, normalised once.
    progress : callable, optional
        Called as ``progress(stage, done, total)``, stage "sweep" then "levers".
    workers : int
        Processes sharing the chunks; never changes the numbers.

    Returns
    -------
    Advice
    """
    _check_target(target)
    check_whole("sims", sims)
    seed = normalize_seed(rng)
    covering = covered_goal(scenario)
    include = [scenario.goal] + ([] if covering is None else [covering])
    goals = goal_range(scenario, include=include, sims=min(int(sims), 20_000), rng=seed,
                       workers=workers)

    def stage(name: str) -> Progress | None:
        return None if progress is None else (lambda d, t: progress(name, d, t))

    swept = sweep(scenario, goals, sims=sims, rng=seed, progress=stage("sweep"),
                  workers=workers)
    row = recommend(swept, scenario, target).iloc[0]
    goal = float(row["recommended_goal"])
    if not math.isfinite(goal):  # no need, and no goal tried reaches the target
        goal = scenario.goal
    cell = swept[np.isclose(swept["goal"], goal, rtol=1e-12)].iloc[0]
    levers = what_it_takes(scenario, goal, target, sims=sims, rng=seed,
                           progress=stage("levers"), workers=workers,
                           probability=float(cell["probability"]))
    return Advice(scenario=scenario, goal=goal, basis=str(row["basis"]),
                  probability=float(cell["probability"]),
                  ci95=(float(cell["ci_low"]), float(cell["ci_high"])), target=float(target),
                  target_goal=float(row["target_goal"]),
                  need_goal=float(row["need_goal"]),
                  net_at_goal=net_at_goal(scenario, goal), levers=levers, sweep=swept,
                  seed=seed_label(seed), sims=int(sims), version=package_version())
