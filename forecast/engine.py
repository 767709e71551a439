"""The Monte Carlo engine: (scenario, sims, seed) -> arrays. NumPy only.

Simulations lie on axis 0 and every random variable is drawn for all of them in
one call; the only Python loops run over days, circles and stream blocks.

How a run is drawn (docs/model.md, "How the engine draws"):

1. For each circle, its *would-be pledgers* per (simulation, day): who would
   pledge if the campaign were featured from day 0 and never reached its goal.
   Counts come by inversion of one uniform each (``sampling``), so a higher
   conversion, reach or boost never gives fewer of them under the same seed.
2. The day loop walks the campaign: the running total decides momentum and the
   post-goal factor, which only thin the would-be pledgers, with uniforms drawn
   for every one of them. Nothing drawn depends on the path, so another goal
   sees the same random numbers and success is monotone in the goal,
   simulation by simulation (except where a source circle's size cap binds).

Reproducibility: simulation ``i`` belongs to stream block ``i // SEED_BLOCK``.
Each (block, circle, purpose) has its own generator, the child
``SeedSequence(entropy, spawn_key=key + (block, circle, purpose))`` of the run's
seed (what ``SeedSequence.spawn`` hands out, without mutating the parent). A
block's generators only see that block's simulations, so the numbers of a seed
do not depend on ``chunk_size``, which only bounds memory.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .sampling import alias_draw, alias_table, binomial_inverse, poisson_inverse
from .scenario import Circle, Scenario, Timing, circle_order

__all__ = ["SEED_BLOCK", "PATH_SIMS", "MILESTONES", "Outcome", "run", "run_goals",
           "day_weights", "fade_factor", "flow_reach", "lag_ratio", "lagged"]

#: Simulations per random stream block: the unit of reproducibility.
SEED_BLOCK = 8_192
#: Daily cumulative paths are kept for the first PATH_SIMS simulations (percentiles).
PATH_SIMS = 100_000
#: Fractions of the goal whose first-reached day is counted.
MILESTONES = (0.25, 0.50, 0.75, 1.00)

# What a stream is for: each circle has one stream per purpose.
_CONVERSION, _COUNT, _EXTRA, _DAY, _MARK, _VALUE = range(6)
_EXTRA_PART = 10  # added to a purpose for the boosted part of a featured flow
_COMMITMENT = 1_000  # + commitment index


def day_weights(timing: Timing, duration_days: int) -> np.ndarray:
    """The U-curve: the share of a circle's pledges falling on each day.

    ``w(t) = a L(t) + c F(t) + (1 - a - c) / D`` for t = 0 … D-1, with
    ``L(t) ∝ exp(-t / τa)`` and ``F(t) = L`` mirrored from the deadline with τc,
    each normalised to sum to 1 (MODEL.md, "When pledges come").

    Returns
    -------
    ndarray, shape (D,), summing to 1.
    """
    t = np.arange(duration_days, dtype=float)
    launch = np.exp(-t / timing.launch_days)
    final = np.exp(-(duration_days - 1 - t) / timing.final_days)
    a, c = timing.launch_share, timing.final_share
    return (a * launch / launch.sum() + c * final / final.sum()
            + (1 - a - c) / duration_days)


def fade_factor(scenario: Scenario, duration_days: int | None = None) -> float:
    """How much of a stock circle's conversion survives a long campaign.

    ``exp(-fade_per_day * max(0, D - fade_after_days))``: intent fades over a long
    plateau (docs/model.md, "Duration"). Exactly 1 for D <= fade_after_days.
    """
    days = scenario.duration_days if duration_days is None else duration_days
    d = scenario.dynamics
    return math.exp(-d.fade_per_day * max(0.0, days - d.fade_after_days))


def flow_reach(circle: Circle, duration_days: int) -> np.ndarray:
    """Expected people reached per day by a flow circle, before momentum.

    ``daily_reach * D * w(t)`` on active days (``start_day`` … ``end_day``); an ad
    ``budget`` buys ``budget / cost_per_click`` clicks spread over the active days
    in proportion to ``w(t)``. Shape (D,).
    """
    weights = day_weights(circle.timing, duration_days)
    active = np.zeros(duration_days, dtype=bool)
    end = duration_days - 1 if circle.end_day is None else min(circle.end_day,
                                                                  duration_days - 1)
    active[circle.start_day:end + 1] = True
    if circle.budget is not None:
        clicks = circle.budget / circle.cost_per_click
        total = weights[active].sum()
        return np.where(active, clicks * weights / total, 0.0) if total > 0 else weights * 0
    return np.where(active, circle.daily_reach * duration_days * weights, 0.0)


def lag_ratio(lag_days: float) -> float:
    """q of the geometric lag P(L = k) = (1 - q) q^k, k = 0, 1, …, with mean lag_days."""
    return lag_days / (1.0 + lag_days)


def lagged(pledgers: np.ndarray, q: float) -> np.ndarray:
    """``H_t = q H_{t-1} + pledgers_t`` along the last axis: the source's pledgers
    still passing the word on, weighted by the geometric lag. A source circle's
    pledgers landing on day t are Poisson(r p (1 - q) H_t)."""
    history = np.empty(pledgers.shape)
    current = np.zeros(pledgers.shape[:-1])
    for day in range(pledgers.shape[-1]):
        current = q * current + pledgers[..., day]
        history[..., day] = current
    return history


@dataclass
class Outcome:
    """Raw arrays of a run. Per-simulation arrays have shape (sims,).

    ``first_day`` has shape (len(MILESTONES), D): how many simulations first reach
    each fraction of the goal on each day. ``paths`` holds the cumulative pledges
    of the first ``min(sims, PATH_SIMS)`` simulations, shape (n, D).
    """

    gross: np.ndarray
    net: np.ndarray
    backers: np.ndarray
    daily_sum: np.ndarray            # (D,) money pledged each day, summed over sims
    circle_daily_sum: np.ndarray     # (C, D)
    circle_pledgers_sum: np.ndarray  # (C,)
    commitment_sum: np.ndarray       # (M,) money
    commitment_count: np.ndarray     # (M,)
    first_day: np.ndarray            # (4, D)
    paths: np.ndarray                # (n, D) float32


class _Streams:
    """The random streams of a chunk: for each key (circle, purpose), one
    Generator per stream block, each drawing only for its own simulations."""

    def __init__(self, seed: np.random.SeedSequence, first: int, stop: int):
        self.seed = seed
        self.blocks = range(first // SEED_BLOCK, -(-stop // SEED_BLOCK))
        self.slices = [slice(max(b * SEED_BLOCK, first) - first,
                             min((b + 1) * SEED_BLOCK, stop) - first) for b in self.blocks]
        self._generators: dict[tuple[int, ...], list[np.random.Generator]] = {}

    def _get(self, key: tuple[int, ...]) -> list[np.random.Generator]:
        if key not in self._generators:
            base = tuple(self.seed.spawn_key)
            self._generators[key] = [
                np.random.default_rng(np.random.SeedSequence(
                    self.seed.entropy, spawn_key=base + (block, *key)))
                for block in self.blocks]
        return self._generators[key]

    def per_sim(self, key: tuple[int, ...], method: str = "random", *args,
                days: int | None = None) -> np.ndarray:
        """One draw per simulation (``days`` draws each if given); array arguments
        are per simulation and sliced to each block."""
        parts = []
        for sl, gen in zip(self.slices, self._get(key)):
            sliced = [a[sl] if isinstance(a, np.ndarray) else a for a in args]
            size = (sl.stop - sl.start,) if days is None else (sl.stop - sl.start, days)
            parts.append(getattr(gen, method)(*sliced, size=size))
        return np.concatenate(parts)

    def per_item(self, key: tuple[int, ...], counts: np.ndarray, method: str = "random",
                 *args) -> np.ndarray:
        """``counts[i]`` draws for simulation ``i``, listed in simulation order."""
        parts = []
        for sl, gen in zip(self.slices, self._get(key)):
            parts.append(getattr(gen, method)(*args, size=int(counts[sl].sum())))
        return np.concatenate(parts)


def _conversion(streams: _Streams, i: int, circle: Circle, n: int) -> np.ndarray:
    """The conversion rate of each simulated campaign, shape (n,)."""
    conv = circle.conversion
    if conv.kind == "beta":
        return streams.per_sim((i, _CONVERSION), "beta", *conv.beta_parameters)
    if conv.kind == "uniform":
        return conv.low + (conv.high - conv.low) * streams.per_sim((i, _CONVERSION))
    return np.full(n, conv.mean)


def _spread(streams: _Streams, key: tuple[int, ...], per_sim: np.ndarray,
            shape: np.ndarray, expected: float) -> np.ndarray:
    """Spread ``per_sim[s]`` pledgers over days with probabilities ``shape``: a
    multinomial per simulation, as counts of shape (n, D).

    Few pledgers per simulation: each draws its day with one uniform from an alias
    table. Many (``expected`` per simulation, from the scenario alone, so that
    the choice never depends on the chunk): one conditional binomial per day.
    Both are exact.
    """
    n, D = per_sim.size, shape.size
    if expected < D:
        day = alias_draw(alias_table(shape), streams.per_item(key, per_sim))
        cell = np.repeat(np.arange(n) * D, per_sim) + day
        return np.bincount(cell, minlength=n * D).reshape(n, D)
    counts = np.empty((n, D), dtype=np.int64)
    remaining = per_sim
    tail = np.cumsum(shape[::-1])[::-1]
    for day in range(D):
        share = min(1.0, shape[day] / tail[day]) if tail[day] > 0 else 1.0
        counts[:, day] = streams.per_sim(key, "binomial", remaining, share)
        remaining = remaining - counts[:, day]
    return counts


def _would_be(scenario: Scenario, i: int, streams: _Streams, rate: np.ndarray,
              heard: np.ndarray | None) -> dict[str, np.ndarray]:
    """A circle's would-be pledgers per (simulation, day), shape (n, D):
    ``{"base": ..., "extra": ...}``, ``extra`` being the part of a featured flow
    that comes only once featured.

    Stock: K ~ Binomial(N, p fade) spread over the U-curve. Flow: Poisson(p Σ reach)
    spread in proportion to the reach, or, with momentum, Poisson(p reach_t) and
    Poisson(p reach_t (boost - 1)) each day. Source: Poisson(r p (1 - q) H_t) each
    day, ``heard`` = H of the source's would-be pledgers (``lagged``). Every count
    is drawn by inversion.
    """
    circle = scenario.circles[i]
    D = scenario.duration_days
    if circle.kind == "stock":
        fade = fade_factor(scenario)
        per_sim = binomial_inverse(streams.per_sim((i, _COUNT)), circle.size, rate * fade)
        expected = circle.size * circle.conversion.mean * fade
        return {"base": _spread(streams, (i, _DAY), per_sim, day_weights(circle.timing, D),
                                expected)}
    if circle.kind == "flow":
        reach = flow_reach(circle, D)
        if circle.featured_at is None:
            if reach.sum() == 0:
                return {"base": np.zeros((rate.size, D), dtype=np.int64)}
            per_sim = poisson_inverse(streams.per_sim((i, _COUNT)), rate * reach.sum())
            return {"base": _spread(streams, (i, _DAY), per_sim, reach / reach.sum(),
                                    circle.conversion.mean * reach.sum())}
        mean = rate[:, None] * reach
        extra = mean * (circle.featured_boost - 1.0)
        return {"base": poisson_inverse(streams.per_sim((i, _COUNT), days=D), mean),
                "extra": poisson_inverse(streams.per_sim((i, _EXTRA), days=D), extra)}
    q = lag_ratio(circle.lag_days)
    mean = circle.reach_per_pledger * (1 - q) * rate[:, None] * heard
    return {"base": poisson_inverse(streams.per_sim((i, _COUNT), days=D), mean)}


class _Pledges:
    """The pledges of one circle in a chunk, ready for the day loop.

    For most circles every random choice is made here, once: each would-be
    pledger's day, amount and whether it survives the post-goal factor. Money is
    summed into day-major (D, n) ledgers for each way a day can go (``base`` or
    ``extra`` part of a featured flow, ``all`` or ``kept`` pledgers after the
    goal); the day loop only picks, per simulation, the ledger its path calls for.
    Backers and reward costs only matter as totals: ``totals`` settles them once
    the path is known (the day each simulation reached its goal and was
    featured). A source circle thinned by its source, or capped by its size,
    keeps its would-be ``counts`` and is settled pledger by pledger in the loop.
    """

    def __init__(self, scenario: Scenario, i: int, streams: _Streams, rate: np.ndarray,
                 would: dict[str, np.ndarray], loop: bool, daily_counts: bool):
        self.circle = scenario.circles[i]
        self.i, self.scenario, self.streams = i, scenario, streams
        n, D = rate.size, scenario.duration_days
        # A source circle: H of its source's would-be pledgers, shape (n, D).
        self.history = (lagged(would[self.circle.source], lag_ratio(self.circle.lag_days))
                        if self.circle.kind == "source" else None)
        drawn = _would_be(scenario, i, streams, rate, self.history)
        self.counts = sum(drawn.values()).astype(np.int32)
        self.loop, self.daily_counts = loop, daily_counts
        self.ledgers: dict[str, np.ndarray] = {}
        self.pledgers: dict[str, tuple] = {}
        if not loop:
            for part, counts in drawn.items():
                self._settle(counts, part, n, D, 0 if part == "base" else _EXTRA_PART)

    def amounts(self, key: tuple[int, ...], per_sim: np.ndarray,
                streams: _Streams | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Amount and reward cost of each pledger (``per_sim[s]`` of simulation s)."""
        streams = streams or self.streams
        rewards = self.scenario.rewards
        pledge = self.circle.pledge
        size = int(per_sim.sum())
        if pledge is None:
            tier = (alias_draw(alias_table([r.share for r in rewards]),
                               streams.per_item(key, per_sim))
                    if len(rewards) > 1 else np.zeros(size, dtype=np.intp))
            return (np.array([r.amount for r in rewards])[tier],
                    np.array([r.unit_cost for r in rewards])[tier])
        if pledge.sd > 0:
            value = streams.per_item(key, per_sim, "lognormal", *pledge.lognormal_parameters)
            return np.maximum(np.rint(value), 1.0), np.zeros(size)
        return np.full(size, pledge.mean), np.zeros(size)

    def _settle(self, counts: np.ndarray, part: str, n: int, D: int, offset: int) -> None:
        """Sum would-be pledgers (counts (n, D)) into day-major money ledgers (D, n),
        for all of them and for those who survive the post-goal factor, and keep
        what ``totals`` needs."""
        phi = self.scenario.dynamics.post_goal_factor
        pledge, rewards = self.circle.pledge, self.scenario.rewards
        if phi == 1.0 and (pledge.sd == 0 if pledge is not None else len(rewards) == 1):
            # One amount per pledger and nobody thinned after the goal: counts suffice.
            amount = pledge.mean if pledge is not None else rewards[0].amount
            count = np.ascontiguousarray(counts.T, dtype=np.int32)
            self.ledgers[f"{part}:all:count"] = count
            self.ledgers[f"{part}:all:money"] = count * amount
            return
        per_sim = counts.sum(axis=1)
        sim = np.repeat(np.arange(n), per_sim)               # in simulation order
        day = np.repeat(np.tile(np.arange(D), n), counts.ravel())
        slot = day * n + sim                                 # day-major
        amount, cost = self.amounts((self.i, _VALUE + offset), per_sim)
        kept = None
        if phi < 1.0:
            kept = self.streams.per_item((self.i, _MARK + offset), per_sim) < phi
        self.pledgers[part] = (sim, day.astype(np.int16), cost, kept)
        for name, keep in (("all", slice(None)), ("kept", kept)):
            if keep is None:
                continue
            self.ledgers[f"{part}:{name}:money"] = np.bincount(
                slot[keep], weights=amount[keep], minlength=n * D).reshape(D, n)
            if self.daily_counts:
                self.ledgers[f"{part}:{name}:count"] = np.bincount(
                    slot[keep], minlength=n * D).reshape(D, n).astype(np.int32)

    def today(self, day: int, what: str, after_goal: np.ndarray,
              featured: np.ndarray | None) -> np.ndarray:
        """Money (or count) of the day, per simulation, along each one's path."""
        value = self._pick("base", day, what, after_goal)
        if featured is not None:
            value = value + np.where(featured, self._pick("extra", day, what, after_goal), 0)
        return value

    def _pick(self, part: str, day: int, what: str, after_goal: np.ndarray) -> np.ndarray:
        everyone = self.ledgers[f"{part}:all:{what}"][day]
        kept = self.ledgers.get(f"{part}:kept:{what}")
        return everyone if kept is None else np.where(after_goal, kept[day], everyone)

    def totals(self, goal_day: np.ndarray, featured_day: np.ndarray | None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Backers and reward cost of each simulation, once its path is known: a
        pledger pledged if it came by the goal day or survived the post-goal factor,
        and, for the boosted part, after the day the campaign was featured."""
        n = goal_day.size
        count, cost = np.zeros(n, dtype=np.int64), np.zeros(n)
        unit_cost = 0.0 if self.circle.pledge is not None else self.scenario.rewards[0].unit_cost
        for part in ("base", "extra"):
            if part in self.pledgers:
                sim, day, each, kept = self.pledgers[part]
                alive = np.ones(sim.size, dtype=bool) if kept is None else (
                    kept | (day <= goal_day[sim]))
                if part == "extra":
                    alive &= day > featured_day[sim]
                count += np.bincount(sim[alive], minlength=n)
                cost += np.bincount(sim[alive], weights=each[alive], minlength=n)
            elif f"{part}:all:count" in self.ledgers:
                ledger = self.ledgers[f"{part}:all:count"]
                if part == "extra":
                    days = np.arange(ledger.shape[0])[:, None]
                    ledger = np.where(days > featured_day[None, :], ledger, 0)
                found = ledger.sum(axis=0)
                count += found
                cost += found * unit_cost
        return count, cost


def run(scenario: Scenario, sims: int, seed: np.random.SeedSequence,
        chunk_size: int = SEED_BLOCK) -> Outcome:
    """Simulate ``sims`` campaigns of ``scenario`` with the streams of ``seed``.

    ``chunk_size`` (rounded up to whole stream blocks) bounds memory and never
    changes the numbers.
    """
    return run_goals(scenario, [scenario.goal], sims, seed, chunk_size)[0]


def run_goals(scenario: Scenario, goals: list[float], sims: int,
              seed: np.random.SeedSequence, chunk_size: int = SEED_BLOCK,
              keep_paths: bool = True) -> list[Outcome]:
    """The campaigns of ``scenario`` run once for each goal, with the same random
    numbers: ``run(scenario.with_(goal=g), ...)`` for each g, drawing only once.

    Only the day loop depends on the goal (momentum, post-goal factor), so the
    would-be pledgers of each chunk are drawn once and the loop walked per goal.
    Without ``keep_paths`` no daily path is kept (``paths`` has no row).
    """
    D = scenario.duration_days
    C, M = len(scenario.circles), len(scenario.commitments)
    chunk = max(1, -(-chunk_size // SEED_BLOCK)) * SEED_BLOCK
    n_paths = min(sims, PATH_SIMS) if keep_paths else 0
    outs = [Outcome(
        gross=np.empty(sims), net=np.empty(sims), backers=np.empty(sims, dtype=np.int64),
        daily_sum=np.zeros(D), circle_daily_sum=np.zeros((C, D)),
        circle_pledgers_sum=np.zeros(C), commitment_sum=np.zeros(M),
        commitment_count=np.zeros(M),
        first_day=np.zeros((len(MILESTONES), D), dtype=np.int64),
        paths=np.empty((D, n_paths), dtype=np.float32).T,  # a day's column is contiguous
    ) for _ in goals]
    for first in range(0, sims, chunk):
        stop = min(first + chunk, sims)
        prepared = _Prepared(scenario, seed, first, stop)
        for goal, out in zip(goals, outs):
            _walk(prepared, float(goal), out)
        del prepared  # before the next chunk's is built: one chunk in memory at a time
    return outs


class _Prepared:
    """Everything of a chunk that does not depend on the path: conversion rates,
    would-be pledgers and their ledgers, commitments kept."""

    def __init__(self, scenario: Scenario, seed: np.random.SeedSequence, first: int,
                 stop: int):
        self.scenario, self.seed, self.first, self.stop = scenario, seed, first, stop
        n, circles = stop - first, scenario.circles
        self.order = order = circle_order(circles)
        streams = _Streams(seed, first, stop)
        phi = scenario.dynamics.post_goal_factor
        # Whether a circle's would-be pledgers may fail to pledge is decided by the
        # scenario alone, so the draws made never depend on the path.
        # A capped source circle counts as thinned: its would-be pledgers beyond the
        # cap do not pledge, so circles that hear from it must follow the real ones.
        thinned: dict[str, bool] = {}
        for i in order:
            c = circles[i]
            thinned[c.name] = (phi < 1.0 or c.featured_at is not None or (
                c.kind == "source" and (c.size is not None or thinned[c.source])))
        # A source circle fed by a thinned circle pledges in proportion H(pledged) /
        # H(would-be) of its source, both with the circle's own lag: settled pledger
        # by pledger in the loop, like a capped one.
        self.heard = {i for i, c in enumerate(circles)
                      if c.kind == "source" and thinned[c.source]}
        self.capped = {i for i, c in enumerate(circles)
                       if c.kind == "source" and c.size is not None}
        # Circles whose pledgers of each day a loop-settled circle hears from.
        self.told = {circles[i].source for i in self.heard}
        rate = [_conversion(streams, i, c, n) for i, c in enumerate(circles)]
        self.would: dict[str, np.ndarray] = {}
        self.plans: dict[int, _Pledges] = {}
        for i in order:
            self.plans[i] = _Pledges(scenario, i, streams, rate[i], self.would,
                                     loop=i in self.heard or i in self.capped,
                                     daily_counts=circles[i].name in self.told)
            self.would[circles[i].name] = self.plans[i].counts
        self.day_totals = {i: plan.counts.sum(axis=0) for i, plan in self.plans.items()}
        self.commitments = [streams.per_sim((_COMMITMENT + m,)) < c.probability
                            for m, c in enumerate(scenario.commitments)]


def _walk(prepared: _Prepared, goal: float, out: Outcome) -> None:
    """Walk the chunk's campaigns day by day towards ``goal`` and add them to ``out``."""
    scenario, first, stop = prepared.scenario, prepared.first, prepared.stop
    D, n = scenario.duration_days, stop - first
    circles, plans = scenario.circles, prepared.plans
    phi = scenario.dynamics.post_goal_factor
    # Circles settled in the loop draw from fresh streams, the same for every goal.
    streams = _Streams(prepared.seed, first, stop)
    heard = {i: np.zeros(n) for i in prepared.heard}  # H of the source's real pledgers
    capped = {i: np.zeros(n, dtype=np.int64) for i in prepared.capped}

    running = np.zeros(n)
    backers = np.zeros(n, dtype=np.int64)
    reward_cost = np.zeros(n)
    featured = {i: np.zeros(n, dtype=bool) for i, c in enumerate(circles)
                if c.featured_at is not None}
    after_goal = np.zeros(n, dtype=bool)
    reached = np.zeros((len(MILESTONES), n), dtype=bool)
    goal_day = np.full(n, D)  # the day each simulation reached its goal (D: never)
    featured_day = {i: np.full(n, D) for i in featured}
    keep_paths = max(0, min(stop, out.paths.shape[0]) - first)

    for day in range(D):
        today = np.zeros(n)
        for m, commitment in enumerate(scenario.commitments):
            if commitment.day == day:
                kept = prepared.commitments[m]
                today += commitment.amount * kept
                backers += kept
                reward_cost += commitment.unit_cost * kept
                out.commitment_sum[m] += commitment.amount * np.count_nonzero(kept)
                out.commitment_count[m] += np.count_nonzero(kept)
        pledged: dict[str, np.ndarray] = {}
        for i in prepared.order:
            c, plan = circles[i], plans[i]
            if i in heard:
                heard[i] = lag_ratio(c.lag_days) * heard[i] + pledged[c.source]
            if prepared.day_totals[i][day] == 0:
                pledged[c.name] = np.zeros(n, dtype=np.int64)
                continue
            if plan.loop:
                count, money, cost = _settle_today(plan, streams, day, heard.get(i),
                                                   capped.get(i), phi, after_goal)
                pledged[c.name] = count
                backers += count
                reward_cost += cost
                out.circle_pledgers_sum[i] += count.sum()
            else:
                money = plan.today(day, "money", after_goal, featured.get(i))
                if c.name in prepared.told:
                    pledged[c.name] = plan.today(day, "count", after_goal, featured.get(i))
            today += money
            out.circle_daily_sum[i, day] += money.sum()

        running += today
        out.daily_sum[day] += today.sum()
        for k, fraction in enumerate(MILESTONES):
            now = running >= fraction * goal
            out.first_day[k, day] += np.count_nonzero(now & ~reached[k])
            reached[k] = now
        after_goal = reached[-1]  # MILESTONES ends with the goal itself
        goal_day[after_goal & (goal_day == D)] = day
        for i in featured:
            featured[i] |= running >= circles[i].featured_at * goal
            featured_day[i][featured[i] & (featured_day[i] == D)] = day
        if keep_paths:
            out.paths[first:first + keep_paths, day] = running[:keep_paths]

    for i, plan in plans.items():
        if not plan.loop:
            count, cost = plan.totals(goal_day, featured_day.get(i))
            backers += count
            reward_cost += cost
            out.circle_pledgers_sum[i] += count.sum()

    fees = scenario.fees
    out.gross[first:stop] = running
    out.backers[first:stop] = backers
    out.net[first:stop] = (running * (1 - fees.platform_rate - fees.payment_rate)
                           - fees.per_pledge * backers - reward_cost)


def _settle_today(plan: _Pledges, streams: _Streams, day: int,
                  heard: np.ndarray | None, capped: np.ndarray | None,
                  phi: float, after_goal: np.ndarray):
    """Count, money and reward cost of a source circle's day, pledger by pledger:
    each would-be pledger pledges with probability H(pledged) / H(would-be) of the
    source, times the post-goal factor after the goal, and within the cap.
    Uniforms and amounts are drawn for every would-be pledger, so the number of
    draws never depends on the path."""
    n = after_goal.size
    candidates = plan.counts[:, day]
    sim = np.repeat(np.arange(n), candidates)
    alive = np.ones(sim.size, dtype=bool)
    if heard is not None or phi < 1.0:
        accept = np.where(after_goal, phi, 1.0)
        if heard is not None:  # H of the source's real / would-be pledgers, today
            would_h = plan.history[:, day]
            accept = accept * np.divide(heard, would_h, out=np.ones_like(heard),
                                        where=would_h > 0)
        alive &= streams.per_item((plan.i, _MARK), candidates) < accept[sim]
    amount, cost = plan.amounts((plan.i, _VALUE), candidates, streams)
    if capped is not None and np.any(candidates > plan.circle.size - capped):
        alive &= _within_cap(candidates, alive, plan.circle.size - capped)
    sim = sim[alive]
    count = np.bincount(sim, minlength=n)
    if capped is not None:
        capped += count
    return (count, np.bincount(sim, weights=amount[alive], minlength=n),
            np.bincount(sim, weights=cost[alive], minlength=n))


def _within_cap(per_sim: np.ndarray, alive: np.ndarray, room: np.ndarray) -> np.ndarray:
    """For items listed by simulation (``per_sim[s]`` each): whether each is among the
    first ``room[s]`` alive items of its simulation (a circle's cap by size)."""
    starts = np.cumsum(per_sim) - per_sim
    seen = np.cumsum(alive)
    before = np.where(starts > 0, seen[np.maximum(starts - 1, 0)], 0)
    return seen - np.repeat(before, per_sim) <= np.repeat(room, per_sim)
