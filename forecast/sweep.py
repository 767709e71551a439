"""Goals x durations, and what matters most.

``sweep`` simulates a scenario for every candidate goal and duration (the goal to
pick is read off it by ``advice.recommend``), and ``sensitivity`` measures how much
each input the owner controls or is unsure of moves the probability of success.

Common random numbers. Every cell of a sweep, and both ends of every sensitivity
input, is simulated with the *same* seed, so that differences between cells come
from the inputs and not from sampling noise (the curves are smooth and the
effects precise). This is deliberate, and the one place where the project does
not give each cell its own ``SeedSequence.spawn`` child.
"""
from __future__ import annotations

import math
from contextlib import closing
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from . import engine
from .executors import Runner, check_executor
from .result import (MAX_SIMS, Result, check_whole, normalize_seed, package_version,
                     seed_label, wilson_interval)
from .scenario import Scenario, ScenarioError

__all__ = ["sweep", "sensitivity", "goal_range", "nice_step", "SWEEP_COLUMNS",
           "SENSITIVITY_COLUMNS", "SENSITIVITY_SIMS", "SWINGS"]

#: Columns of ``sweep``, in order.
SWEEP_COLUMNS = ["goal", "duration_days", "probability", "ci_low", "ci_high", "gross_p50",
                 "expected_payout", "need_probability"]
#: Columns of ``sensitivity``, in order.
SENSITIVITY_COLUMNS = ["input", "unit", "swing", "low", "high", "probability_low",
                       "probability_high", "effect_pp", "effect_se_pp"]
#: Sensitivity's default simulations per run. Both ends of an input are run with the
#: same seed, so its effect is the mean of the per-campaign differences of success,
#: each -1, 0 or 1; where a higher input never loses a campaign (monotone inputs) their
#: variance is at most 1/4, and 10,000 campaigns keep the standard error of every
#: effect at most 0.5 pp: what 20,000 independent campaigns a run gave at best.
SENSITIVITY_SIMS = 10_000

Progress = Callable[[int, int], Any]


# ----------------------------------------------------------------------------- sweep

def _sweep_arguments(scenario: Scenario, goals: Iterable[float],
                     durations: Iterable[int] | None, sims: int
                     ) -> tuple[np.ndarray, list[Scenario], int]:
    """Validate the arguments of ``sweep``: sorted unique goals, one scenario per
    duration, sims. Raises ValueError naming the argument and the value."""
    if not isinstance(scenario, Scenario):
        raise TypeError("scenario must be a forecast.Scenario (see load_scenario)")
    check_whole("sims", sims, MAX_SIMS)
    goal_list = [goals] if isinstance(goals, (int, float, np.number)) else list(goals)
    if not goal_list:
        raise ValueError("goals = [] is not valid; expected at least one goal")
    for goal in goal_list:
        if (isinstance(goal, bool) or not isinstance(goal, (int, float, np.number))
                or not math.isfinite(goal) or goal <= 0):
            raise ValueError(f"goals contains {goal!r}, which is not valid; expected "
                             "amounts > 0")
    days = [scenario.duration_days] if durations is None else (
        [durations] if isinstance(durations, (int, np.integer)) else list(durations))
    if not days:
        raise ValueError("durations = [] is not valid; expected at least one duration")
    by_duration = []
    for d in sorted(set(days)):
        if (isinstance(d, bool) or not isinstance(d, (int, float, np.number))
                or not float(d).is_integer()):
            raise ValueError(f"durations contains {d!r}, which is not valid; expected "
                             "whole numbers of days")
        try:
            by_duration.append(scenario.with_(duration_days=int(d)))
        except ScenarioError as error:
            raise ValueError(f"durations contains {d!r}, which is not valid: {error}") \
                from None
    return np.unique(np.asarray(goal_list, dtype=float)), by_duration, int(sims)


def _cell(totals: np.ndarray, net: np.ndarray, goal: float, need: float | None,
          gross_p50: float) -> dict[str, float]:
    """The row of one (goal, duration) from the simulated totals and nets, shape (sims,)."""
    sims = totals.size
    success = totals >= goal
    reached = int(np.count_nonzero(success))
    low, high = wilson_interval(reached, sims)
    payout = np.where(success, net, 0.0)
    return {
        "goal": float(goal),
        "probability": reached / sims,
        "ci_low": low,
        "ci_high": high,
        "gross_p50": gross_p50,
        "expected_payout": float(payout.mean()),
        "need_probability": (math.nan if need is None
                             else float(np.count_nonzero(payout >= need) / sims)),
    }


def sweep(scenario: Scenario, goals: Iterable[float], durations: Iterable[int] | None = None,
          *, sims: int = 100_000, rng: Any = None, progress: Progress | None = None,
          workers: int = 1, executor: Any = None) -> pd.DataFrame:
    """The probability of success and the money, for every goal and duration.

    Each cell (goal g, duration d) holds exactly what
    ``simulate(scenario.with_(goal=g, duration_days=d), sims, rng=seed)`` gives, with
    one seed for all cells (common random numbers):

    - ``probability`` = P(gross >= g), with its Wilson 95 % interval ``ci_low``,
      ``ci_high``;
    - ``gross_p50``: the median gross total of all simulated campaigns;
    - ``expected_payout`` = mean of (net if gross >= g else 0), all-or-nothing;
    - ``need_probability`` = P(payout >= need), NaN when the scenario has no need.

    Cost. When nothing depends on the goal, one run per duration serves every goal
    (net does not depend on the goal), so a goal sweep costs about one run. When the
    goal changes the campaigns (``Scenario.goal_dependent``: a flow circle with
    ``featured_at``, whose momentum starts at a fraction of the goal, or a
    ``post_goal_factor`` below 1, which thins pledges after the goal and so changes
    gross, net and payout at every other goal, a final surge held to the progress
    towards the goal, a goal completion), the campaigns are drawn once per
    duration, and each goal's totals are found on sums that every goal of a chunk
    shares (``goal_totals``: the numbers, bit for bit, of walking each goal's
    paths), in batches of goals that bound memory (GOAL_BATCH_BYTES). All these
    runs share one set of ``workers`` (``engine.run_jobs``). The random numbers
    never depend on the path, so the probability is non-increasing in the goal,
    exactly.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    goals : iterable of float
        Candidate goals (> 0); sorted and made unique.
    durations : iterable of int, optional
        Candidate durations in days, within the platform's rules; by default the
        scenario's own.
    sims : int
        Simulated campaigns per cell.
    rng : None, int, SeedSequence or Generator
        The seed, normalised once and used for every cell.
    progress : callable, optional
        Called as ``progress(cells_done, cells_total)`` as cells are completed.
    workers : int
        Processes sharing the chunks of all the runs (``engine.run_jobs``); never
        changes the numbers.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Where the chunks run instead of ``workers`` processes (docs/batch.md); never
        changes the numbers.

    Returns
    -------
    DataFrame
        A row per (goal, duration), sorted by duration then goal, with the columns of
        ``SWEEP_COLUMNS``. ``attrs`` holds ``seed``, ``sims``, ``version``,
        ``scenario``, ``need`` and ``goal_dependent``.

    Raises
    ------
    ValueError
        A goal <= 0, a duration outside the platform's rules, or sims < 1.
    """
    goal_values, by_duration, sims = _sweep_arguments(scenario, goals, durations, sims)
    check_whole("workers", workers)
    check_executor(executor, workers)
    seed = normalize_seed(rng)
    need = scenario.need
    total = len(goal_values) * len(by_duration)
    # One job per duration, or per batch of goals where the goal changes the path;
    # all of them share one set of workers.
    # A batch's outcomes, and the chunks' pieces on their way (two per worker and one).
    # (An executor has its window under way: executors.Runner.)
    ahead = 2 * workers if executor is None else Runner(executor).window
    in_memory = sims + (ahead + 1) * min(sims, engine.SEED_BLOCK)
    jobs = []
    for at_duration in by_duration:
        if at_duration.goal_dependent:
            batch = max(1, GOAL_BATCH_BYTES // (24 * in_memory))
            jobs += [engine.Job(at_duration, list(goal_values[k:k + batch]), sims, seed,
                                keep_paths=False, totals=True)
                     for k in range(0, len(goal_values), batch)]
        else:  # one run serves every goal: net does not depend on the goal
            jobs.append(engine.Job(at_duration, [at_duration.goal], sims, seed,
                                   keep_paths=False))
    rows = []
    with closing(engine.run_jobs(jobs, workers=workers, executor=executor)) as runs:
        for job, outcomes in zip(jobs, runs):
            p50 = [float(np.percentile(outcome.gross, 50)) for outcome in outcomes]
            if job.scenario.goal_dependent:
                cells = zip(job.goals, outcomes, p50)
            else:
                cells = ((goal, outcomes[0], p50[0]) for goal in goal_values)
            for goal, outcome, gross_p50 in cells:
                rows.append({**_cell(outcome.gross, outcome.net, float(goal), need,
                                     gross_p50),
                             "duration_days": job.scenario.duration_days})
                if progress is not None:
                    progress(len(rows), total)
    frame = pd.DataFrame(rows, columns=SWEEP_COLUMNS)
    frame["duration_days"] = frame["duration_days"].astype(int)
    frame.attrs.update(seed=seed_label(seed), sims=sims, version=package_version(),
                       scenario=scenario.name, need=need,
                       goal_dependent=scenario.goal_dependent)
    return frame


#: Memory for the per-simulation arrays of goals walked together (bytes).
GOAL_BATCH_BYTES = 400 * 2**20


# ----------------------------------------------------------------------------- goals to try

def nice_step(raw: float) -> float:
    """The 1, 2, 2.5 or 5 x 10^k nearest above ``raw`` (> 0)."""
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * 0.999)


#: Where the goals tried by default start and stop: the goals reached with these
#: probabilities, read off a first run.
RANGE_PROBABILITIES = (0.97, 0.10)
#: How far the goals tried by default reach beyond those (a share of the range).
RANGE_MARGIN = 0.15


def goal_range(scenario: Scenario, *, steps: int = 24, include: Iterable[float] = (),
               sims: int = 20_000, rng: Any = None, workers: int = 1) -> np.ndarray:
    """About ``steps`` round goals spanning where the probability of success crosses
    the usual targets, whatever the scenario's own goal.

    One run of ``sims`` campaigns at the scenario's goal and duration gives the gross
    totals; the goal reached with probability p is their (1 - p) quantile. With a
    goal completion, the run is made without it, and the goal reached with
    probability p solves ``P(T >= g) + E[s(x_g); T < g] = p`` for the circles'
    totals T and x_g their progress towards g when the final window opens. The goals
    go from the one reached 97 % of the time to the one reached 10 % of the time
    (``RANGE_PROBABILITIES``), widened by ``RANGE_MARGIN`` of that span on each side
    (where the goal changes the campaigns, momentum and the post-goal factor, the
    run at the scenario's goal only approximates the others), on a round step
    (``nice_step``), and take in ``include`` (the plan's goal, the goal that covers
    the need). So the range always holds the goals where the odds cross 95 %, 80 %
    and 50 %, and a $60,000 plan far beyond the audience still gets goals it can
    reach.

    Returns
    -------
    ndarray
        Sorted goals > 0.
    """
    check_whole("sims", sims, MAX_SIMS)
    completion = scenario.completion
    plain = scenario if completion is None else scenario.with_dynamics(
        completion_half_progress=0)
    outcome = engine.run_goals(plain, [scenario.goal], int(sims), normalize_seed(rng),
                               keep_paths=completion is not None, workers=workers)[0]
    if completion is None:
        sure, hard = (float(np.quantile(outcome.gross, 1 - p)) for p in RANGE_PROBABILITIES)
    else:
        rows = outcome.paths.shape[0]
        opened = outcome.paths[:, engine.surge_start(scenario) - 1].astype(float)
        sure, hard = (_goal_reached_with(p, outcome.gross[:rows], opened, completion)
                      for p in RANGE_PROBABILITIES)
    extra = [float(g) for g in include if math.isfinite(g) and g > 0]
    low, high = min([sure, *extra]), max([hard, *extra])
    margin = RANGE_MARGIN * max(high - low, 0.05 * high, 1.0)
    low, high = max(low - margin, 0.0), high + margin
    step = nice_step((high - low) / steps)
    goals = np.arange(math.floor(low / step), math.ceil(high / step) + 1) * step
    return np.union1d(goals[goals > 0], extra)


def _goal_reached_with(p: float, total: np.ndarray, opened: np.ndarray,
                       completion: tuple[float, float]) -> float:
    """The goal g at which campaigns ending at ``total`` by their circles alone, at
    ``opened`` when the final window opens, succeed with probability ``p`` once the
    goal completion (h, k) is added (bisection: the odds fall as the goal rises)."""
    def odds(goal: float) -> float:
        short = total < goal
        return float(np.mean(~short) + np.mean(
            short * (opened < goal) * engine.surge_strength(opened / goal, *completion)))

    low, high = 0.0, max(float(total.max()), 1.0)
    while odds(high) > p:
        high *= 2
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if odds(middle) > p else (low, middle)
    return high


# ----------------------------------------------------------------------------- sensitivity

def _scaled(value: float, factor: float, high: float | None = None) -> float:
    scaled = value * factor
    return scaled if high is None else min(scaled, high)


#: Sensitivity's ``swing`` of each input: how its low and high ends are set.
SWINGS = {
    "relative": "x (1 -/+ relative): an input the owner sets",
    "quantiles": "the 5 % and 95 % quantiles of an uncertain rate (Beta or uniform)",
    "decision": "0 and 1: the partner declines or commits",
}


def _paired_se(low: np.ndarray, high: np.ndarray) -> float:
    """Standard error of mean(high - low) over paired 0/1 outcomes, shape (sims,):
    the sample standard deviation of the differences over sqrt(sims); NaN for one."""
    n = low.size
    if n < 2:
        return math.nan
    diff = high.astype(np.int8) - low.astype(np.int8)
    return float(np.std(diff, ddof=1) / math.sqrt(n))


def _sensitivity_inputs(scenario: Scenario, relative: float
                        ) -> list[tuple[str, str, str, float, float,
                                        Callable[[dict, str], None]]]:
    """Each input as (name, unit, swing, low value, high value, edit(raw, "low" |
    "high"))."""
    down, up = 1.0 - relative, 1.0 + relative
    inputs: list[tuple[str, str, str, float, float, Callable[[dict, str], None]]] = []

    def setter(path: tuple, low: Any, high: Any) -> Callable[[dict, str], None]:
        def edit(raw: dict, end: str) -> None:
            table = raw
            for key in path[:-1]:
                table = table.setdefault(key, {}) if isinstance(key, str) else table[key]
            table[path[-1]] = low if end == "low" else high
        return edit

    units = {"daily_reach": "people per day", "budget": scenario.currency,
             "reach_per_pledger": "people per pledger"}
    for i, c in enumerate(scenario.circles):
        where = ("circle", i)
        if c.size is not None:
            low, high = int(round(c.size * down)), int(round(c.size * up))
            inputs.append((f"{c.name}: size", "people", "relative", low, high,
                           setter(where + ("size",), low, high)))
        for key in ("daily_reach", "budget", "reach_per_pledger"):
            value = getattr(c, key)
            if value is not None and (key != "reach_per_pledger" or c.kind == "source"):
                low, high = value * down, value * up
                inputs.append((f"{c.name}: {key}", units[key], "relative", low, high,
                               setter(where + (key,), low, high)))
        conv = c.conversion
        if conv.kind == "fixed":
            low, high, swing = conv.mean * down, _scaled(conv.mean, up, 1.0), "relative"
        elif conv.kind == "uniform":  # its 5 % and 95 % quantiles, as for a Beta
            width = conv.high - conv.low
            low, high, swing = conv.low + 0.05 * width, conv.low + 0.95 * width, "quantiles"
        else:
            (low, high), swing = conv.bounds, "quantiles"
        inputs.append((f"{c.name}: conversion", "rate", swing, low, high,
                       setter(where + ("conversion",), float(low), float(high))))
        if c.pledge is not None:
            p = c.pledge
            ends = {"low": {"mean": p.mean * down, "sd": p.sd * down},
                    "high": {"mean": p.mean * up, "sd": p.sd * up}}
            inputs.append((f"{c.name}: pledge mean", scenario.currency, "relative",
                           p.mean * down, p.mean * up,
                           setter(where + ("pledge",), ends["low"], ends["high"])))

    if scenario.rewards:
        average = sum(r.share * r.amount for r in scenario.rewards)

        def rewards(raw: dict, end: str) -> None:
            factor = down if end == "low" else up
            for tier in raw["reward"]:
                tier["amount"] = tier["amount"] * factor
        inputs.append(("rewards: average pledge (all amounts)", scenario.currency,
                       "relative", average * down, average * up, rewards))

    t = scenario.timing
    raw_circles = scenario.raw.get("circle", [])  # sensitivity refused a scenario without raw
    for key, other in (("launch_share", "final_share"), ("final_share", "launch_share")):
        value = getattr(t, key)
        # the circles that take the campaign's share add it to their own other share:
        # the sum stays at most 1 for each of them
        inherit = [c for c, table in zip(scenario.circles, raw_circles)
                   if key not in table and key not in table.get("timing", {})]
        room = min([1.0 - getattr(t, other)] +
                   [1.0 - getattr(c.timing, other) for c in inherit])
        low, high = value * down, _scaled(value, up, room)
        inputs.append((f"timing: {key}", "share of pledges", "relative", low, high,
                       setter(("timing", key), low, high)))

    for m, commitment in enumerate(scenario.commitments):
        inputs.append((f"{commitment.name}: probability", "probability", "decision",
                       0.0, 1.0, setter(("commitment", m, "probability"), 0.0, 1.0)))
    return inputs


def sensitivity(scenario: Scenario, *, sims: int = SENSITIVITY_SIMS, rng: Any = None,
                relative: float = 0.25, progress: Progress | None = None,
                workers: int = 1, executor: Any = None,
                probability: float | None = None) -> pd.DataFrame:
    """What matters most: the change in P(success) as each input goes from low to high.

    For each input the owner controls or is unsure of, two copies of the scenario are
    built by editing ``scenario.raw`` and validated again with ``Scenario.from_dict``;
    both are simulated with the same seed (common random numbers), at the scenario's
    goal and duration, and ``effect_pp`` = 100 (P(high) - P(low)), percentage points.
    Its standard error ``effect_se_pp`` is that of the mean of the paired differences
    (common random numbers: campaign i of both ends shares its random numbers), far
    below that of two independent runs; see ``SENSITIVITY_SIMS``.

    Inputs and their low / high ends:

    - each circle's ``size`` (stock circles, and the cap of a source circle),
      ``daily_reach`` or ``budget`` (flow) and ``reach_per_pledger`` (source):
      x (1 -/+ relative), sizes rounded to whole people;
    - each circle's conversion: the 5 % and 95 % quantiles of its uncertainty, a
      Beta's and a uniform's alike, x (1 -/+ relative) of a fixed rate (at most 1).
      The uncertain rate is replaced by a *fixed* rate at that end: "what if I knew
      the rate is this low / this high";
    - the average pledge: every reward tier's amount x (1 -/+ relative), unit costs
      unchanged (``low``/``high`` report the average pledge); for a circle with its own
      ``pledge``, its mean and sd x (1 -/+ relative) (same shape, scaled);
    - the campaign's timing shares ``launch_share`` and ``final_share`` x (1 -/+
      relative), the high end capped so that they sum to at most 1, for the campaign
      and for every circle that takes the campaign's share (circles that set their own
      share keep it);
    - each commitment's probability: 0 (the partner declines) and 1 (commits).

    Fees are not an input: they never change success (gross >= goal), so their row
    would be zero by construction. Each row says its ``unit`` ("people", "people per
    day", "people per pledger", the currency, "rate", "share of pledges",
    "probability") and its ``swing`` (a key of ``SWINGS``: "relative", "quantiles",
    "decision"), so that every range is stated wherever it is shown.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario, with ``raw`` (from ``load_scenario`` or ``from_dict``).
    sims : int
        Simulated campaigns for each end of each input.
    rng : None, int, SeedSequence or Generator
        The seed, normalised once and used for every run.
    relative : float
        The relative change for inputs without their own bounds, in (0, 1).
    progress : callable, optional
        Called as ``progress(runs_done, runs_total)``.
    workers : int
        Processes sharing the chunks of all the runs (``engine.run_jobs``); never
        changes the numbers.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Where the chunks run instead of ``workers`` processes (docs/batch.md); never
        changes the numbers.
    probability : float, optional
        The scenario's own probability of success from a run with this seed and
        ``sims`` (a sweep's cell at its goal and duration: with common random numbers
        the same number), so that it is not simulated again; it is only reported in
        ``attrs``.

    Returns
    -------
    DataFrame
        A row per input, sorted by |effect_pp| (largest first), with the columns of
        ``SENSITIVITY_COLUMNS``; ``attrs`` holds ``seed``, ``sims``, ``version``,
        ``relative`` and ``probability`` (the scenario's own, same seed).
    """
    if not isinstance(scenario, Scenario):
        raise TypeError("scenario must be a forecast.Scenario (see load_scenario)")
    if scenario.raw is None:
        raise ValueError("scenario has no raw table; build it with load_scenario or "
                         "Scenario.from_dict")
    check_whole("sims", sims, MAX_SIMS)
    if (isinstance(relative, bool) or not isinstance(relative, (int, float, np.number))
            or not 0 < relative < 1):
        raise ValueError(f"relative = {relative!r} is not valid; expected a number "
                         "in (0, 1)")
    check_whole("workers", workers)
    check_executor(executor, workers)
    if probability is not None and (
            isinstance(probability, bool)
            or not isinstance(probability, (int, float, np.number))
            or not 0 <= probability <= 1):
        raise ValueError(f"probability = {probability!r} is not valid; expected a "
                         "number in [0, 1]")
    seed = normalize_seed(rng)
    inputs = _sensitivity_inputs(scenario, float(relative))
    changed = [] if probability is not None else [scenario]
    for *_, edit in inputs:
        for end in ("low", "high"):
            raw = scenario.to_dict()
            edit(raw, end)
            changed.append(Scenario.from_dict(raw, scenario.path))
    # All the runs share one set of workers: each is small, together they are not.
    # Only their totals are read: no daily paths kept.
    jobs = [engine.Job(s, [s.goal], int(sims), seed, keep_paths=False) for s in changed]
    probabilities, successes = [], []
    with closing(engine.run_jobs(jobs, workers=workers, executor=executor)) as runs:
        for job, (outcome,) in zip(jobs, runs):
            result = Result(scenario=job.scenario, sims=int(sims), seed=seed, outcome=outcome)
            probabilities.append(result.probability())
            successes.append(result.success)
            if progress is not None:
                progress(len(probabilities), len(changed))
    if probability is None:  # the plan's own run came first
        base = probabilities.pop(0)
        successes.pop(0)
    else:
        base = float(probability)
    rows = []
    for k, (name, unit, swing, low, high, _) in enumerate(inputs):
        at_low, at_high = 2 * k, 2 * k + 1
        p_low, p_high = probabilities[at_low], probabilities[at_high]
        rows.append({"input": name, "unit": unit, "swing": swing,
                     "low": float(low), "high": float(high),
                     "probability_low": p_low, "probability_high": p_high,
                     "effect_pp": 100.0 * (p_high - p_low),
                     "effect_se_pp": 100.0 * _paired_se(successes[at_low],
                                                        successes[at_high])})
    frame = pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)
    order = np.argsort(-frame["effect_pp"].abs().to_numpy(), kind="stable")
    frame = frame.iloc[order].reset_index(drop=True)
    frame.attrs.update(seed=seed_label(seed), sims=int(sims), version=package_version(),
                       scenario=scenario.name, relative=float(relative), probability=base,
                       goal=scenario.goal, duration_days=scenario.duration_days)
    return frame

