"""The Monte Carlo engine: (scenario, sims, seed) -> arrays. NumPy only.

Simulations lie on axis 0 and every random variable is drawn for all of them in
one call; Python loops run over circles, thresholds and stream blocks, never over
simulations, days of a simulation or pledgers.

How a run is drawn (docs/model.md, "How the engine draws"):

1. Each circle's *would-be pledgers*, listed one by one in simulation order: who
   would pledge if the campaign were featured from day 0 and never reached its
   goal. Their number in each simulation comes by inversion of one uniform
   (``sampling``), so a higher conversion or reach never gives fewer of them under
   the same seed; then one raw 64-bit word per pledger picks, by inversion of one
   table, its day, its reward and whether it would still pledge after the goal. The
   boosted part of a featured flow is counted per (simulation, day), by inversion, so a
   larger boost never brings fewer. A source circle's would-be pledgers number
   Poisson(r p K) for K would-be pledgers of its source (within the campaign); each
   hears from one of them, chosen at random, after a geometric lag.
2. The path. Pledges are never negative, so a campaign's running total crosses
   its thresholds (each featured circle's ``featured_at`` times the goal, and the
   goal) in increasing order. Each crossing day is found on the path the crossings
   before it allow; only the would-be pledgers whose fate hangs on a crossing
   (boosted, hearing from someone, capped) are looked at again, the others are
   summed once per chunk into day-by-day ledgers (all of them, and those who
   still pledge after the goal).

Nothing drawn depends on the path, so another goal sees the same random numbers
and success is monotone in the goal, simulation by simulation (except where a
source circle's size cap binds). Where only the totals are read at several goals (a
sweep), each chunk's crossings are found on sums every goal shares instead of on
whole paths (``goal_totals``), with the same numbers.

Reproducibility: simulation ``i`` belongs to stream block ``i // SEED_BLOCK``.
Each (block, circle, purpose, part) has its own generator, the child
``SeedSequence(entropy, spawn_key=key + (block, ...))`` of the run's seed (what
``SeedSequence.spawn`` hands out, without mutating the parent). A block's
generators only see that block's simulations, so the numbers of a seed do not
depend on ``chunk_size``, which only bounds memory. With ``workers`` > 1 the
chunks go to that many processes and what each adds is added in chunk order, so
the numbers do not depend on the number of workers either.
"""
from __future__ import annotations

import math
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from scipy.special import ndtri

from .sampling import RawInverse, binomial_inverse, poisson_inverse, poisson_nonzero
from .scenario import Circle, Scenario, Timing, circle_order

__all__ = ["SEED_BLOCK", "PATH_SIMS", "MILESTONES", "Outcome", "Job", "run", "run_goals",
           "run_jobs", "day_weights", "fade_factor", "duration_factor", "flow_days",
           "flow_reach", "lag_ratio", "surge_start", "surge_shares", "surge_strength",
           "closing_shares"]

#: Simulations per random stream block: the unit of reproducibility.
SEED_BLOCK = 8_192
#: Daily cumulative paths are kept for the first PATH_SIMS simulations (percentiles).
PATH_SIMS = 100_000
#: Fractions of the goal whose first-reached day is counted.
MILESTONES = (0.25, 0.50, 0.75, 1.00)

# What a stream is for: each circle has one stream per purpose and part.
_CONVERSION, _COUNT, _CHOICE, _PARENT, _VALUE, _SURGE = range(6)
_COMMITMENT = 1_000  # + commitment index
#: The campaign-wide streams (the appeal, the goal completion's draw): a key no
#: circle index reaches.
_CAMPAIGN, _APPEAL, _CLOSING = 2**31 - 1, 0, 1
# The parts of a circle's would-be pledgers: its own (stock, flow, the base of a
# featured flow); the boosted part of a featured flow; for a source circle, those
# hearing from part k of its source (_HEARING + k).
_OWN, _BOOSTED, _HEARING = 0, 1, 2
#: The pledgers of a circle's own part that come with the final surge, split off it
#: (their fate hangs on the progress when the final window opens).
_FINAL = 2**31 - 1


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
    """How much of a stock circle's conversion a campaign of D days keeps:
    ``duration_factor`` of the scenario's ``reach_days`` and ``fade_per_day``."""
    days = scenario.duration_days if duration_days is None else duration_days
    d = scenario.dynamics
    return duration_factor(d.reach_days, d.fade_per_day, days)


def duration_factor(reach_days: float, fade_per_day: float, days: Any) -> Any:
    """``g(D) = (1 - exp(-D / τr)) exp(-λ D) / g*`` with τr = ``reach_days`` (the owner
    needs time to reach their people) and λ = ``fade_per_day`` (intent fades over a
    long plateau), scaled by its largest value g* so that the best duration for a
    stock circle keeps all of its conversion (docs/model.md, "Duration"). With
    λ > 0 and τr > 0 the peak is at ``D* = τr ln(1 + 1 / (λ τr))``; τr = 0 drops the
    first factor, λ = 0 the second. Smooth in D: no kink. Element-wise on an array
    of D.
    """
    tau, lam = reach_days, fade_per_day

    def g(x):
        reached = -np.expm1(-x / tau) if tau > 0 else 1.0
        return reached * np.exp(-lam * x)

    # The peak; without one of the factors, the supremum of g is 1 (as D grows
    # without fading, at D = 0 without reaching).
    best = g(tau * math.log1p(1.0 / (lam * tau))) if tau > 0 and lam > 0 else 1.0
    return g(days) / best


def surge_start(scenario: Scenario) -> int:
    """The first day of the final window, ``max(1, D - ceil(3 τc))`` for the
    campaign's ``final_days`` τc: the surge is held to the progress at the end of
    the day before (docs/model.md, "The final surge needs the goal in sight")."""
    return max(1, scenario.duration_days - math.ceil(3 * scenario.timing.final_days))


def surge_shares(timing: Timing, duration_days: int, start: int) -> np.ndarray:
    """σ(t): the share of a circle's would-be pledgers of day t that come with the
    final surge, ``c F(t) / w(t)`` on the days of the final window (t >= start),
    0 before it. Shape (D,)."""
    D = duration_days
    t = np.arange(D, dtype=float)
    final = np.exp(-(D - 1 - t) / timing.final_days)
    surge = timing.final_share * final / final.sum()
    weights = day_weights(timing, D)
    share = np.divide(surge, weights, out=np.zeros(D), where=weights > 0)
    share[:start] = 0.0
    return np.minimum(share, 1.0)


def closing_shares(timing: Timing, duration_days: int, start: int) -> np.ndarray:
    """The share of its gap a campaign closing it has closed by the end of each
    day: 0 before the final window, then the final surge's shape,
    ``exp(-(D - 1 - d) / final_days)`` summed from ``start``, 1 on the last day.
    Shape (D,); all 0 when the window opens after the deadline."""
    D = duration_days
    rush = np.exp(-(D - 1 - np.arange(D)) / timing.final_days)
    rush[:start] = 0.0
    if start >= D:
        return rush
    share = np.cumsum(rush) / rush.sum()
    share[-1] = 1.0
    return share


def surge_strength(progress: np.ndarray, half: float, steepness: float) -> np.ndarray:
    """``s(x) = x^k / (x^k + h^k)``: how much of the final surge a campaign at
    progress x (pledged / goal when the final window opens) gets; 1 for h = 0."""
    if half <= 0:
        return np.ones_like(progress)
    with np.errstate(over="ignore", invalid="ignore"):
        ratio = np.power(np.maximum(progress, 0.0) / half, steepness)
        return np.where(np.isinf(ratio), 1.0, ratio / (1.0 + ratio))


def flow_days(fade_per_day: float, days: Any) -> Any:
    """How many days of its ``daily_reach`` a flow brings over a campaign of D days:
    ``(1 - exp(-λ D)) / λ``, the integral of e^(-λt) over [0, D], with λ =
    ``fade_per_day`` (a campaign's novelty fades), D when λ = 0. It grows with D,
    ever more slowly, towards 1 / λ; only the total fades, ``flow_reach`` spreads
    it in the circle's U-curve (docs/model.md, "Duration"). Element-wise on an
    array of D."""
    lam = fade_per_day
    return -np.expm1(-lam * days) / lam if lam > 0 else days * 1.0


def flow_reach(circle: Circle, duration_days: int, fade_per_day: float = 0.0) -> np.ndarray:
    """Expected people reached per day by a flow circle, before momentum.

    ``daily_reach * flow_days(λ, D) * w(t)`` on active days (``start_day`` …
    ``end_day``): the people of a campaign whose novelty fades at λ =
    ``fade_per_day``, spread in its U-curve. An ad ``budget`` buys ``budget /
    cost_per_click`` clicks spread over the active days in proportion to ``w(t)``
    (bought, they do not fade). Shape (D,).
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
    return np.where(active, circle.daily_reach * flow_days(fade_per_day, duration_days)
                    * weights, 0.0)


def lag_ratio(lag_days: float) -> float:
    """q of the geometric lag P(L = k) = (1 - q) q^k, k = 0, 1, …, with mean lag_days."""
    return lag_days / (1.0 + lag_days)


@dataclass
class Outcome:
    """Raw arrays of a run. Per-simulation arrays have shape (sims,).

    ``first_day`` has shape (len(MILESTONES), D): how many simulations first reach
    each fraction of the goal on each day. ``paths`` holds the cumulative pledges
    of the first ``min(sims, PATH_SIMS)`` simulations, shape (n, D). (What one
    chunk adds is an Outcome too: its simulations, its sums, its rows of paths.)
    """

    gross: np.ndarray
    net: np.ndarray
    backers: np.ndarray
    closing: np.ndarray              # the goal completion's money in each campaign
    daily_sum: np.ndarray            # (D,) circles' and commitments' money each day,
    #                                  summed over sims (``daily_money`` adds the closing)
    circle_daily_sum: np.ndarray     # (C, D)
    circle_pledgers_sum: np.ndarray  # (C,)
    closing_cents: np.ndarray        # (D,) int64 goal completion's money, in cents
    commitment_sum: np.ndarray       # (M,) money
    commitment_count: np.ndarray     # (M,)
    first_day: np.ndarray            # (4, D)
    paths: np.ndarray                # (n, D) float32

    @property
    def daily_money(self) -> np.ndarray:
        """All the money pledged each day, summed over simulations, (D,)."""
        return self.daily_sum + self.closing_cents / 100


class _Streams:
    """The random streams of a chunk: for each key (circle, purpose, …), one
    Generator per stream block, each drawing only for its own simulations."""

    def __init__(self, seed: np.random.SeedSequence, first: int, stop: int):
        self.seed = seed
        self.blocks = range(first // SEED_BLOCK, -(-stop // SEED_BLOCK))
        self.slices = [slice(max(b * SEED_BLOCK, first) - first,
                             min((b + 1) * SEED_BLOCK, stop) - first) for b in self.blocks]

    def _generators(self, key: tuple[int, ...]) -> list[np.random.Generator]:
        base = tuple(self.seed.spawn_key)
        return [np.random.default_rng(np.random.SeedSequence(
            self.seed.entropy, spawn_key=base + (block, *key))) for block in self.blocks]

    def per_sim(self, key: tuple[int, ...], method: str = "random", *args,
                days: int | None = None) -> np.ndarray:
        """One draw per simulation (``days`` draws each if given); array arguments
        are per simulation and sliced to each block."""
        n = self.slices[-1].stop
        out = np.empty((n,) if days is None else (n, days))
        for sl, gen in zip(self.slices, self._generators(key)):
            if method == "random":  # straight into place: no copy
                gen.random(out=out[sl])
                continue
            sliced = [a[sl] if isinstance(a, np.ndarray) else a for a in args]
            out[sl] = getattr(gen, method)(*sliced, size=out[sl].shape)
        return out

    def words(self, key: tuple[int, ...], per_sim: np.ndarray) -> np.ndarray:
        """``per_sim[i]`` raw 64-bit words for simulation ``i``, in simulation order."""
        return _joined([gen.bit_generator.random_raw(int(per_sim[sl].sum()))
                        for sl, gen in zip(self.slices, self._generators(key))])

    def per_item(self, key: tuple[int, ...], per_sim: np.ndarray, method: str = "random",
                 *args) -> np.ndarray:
        """``per_sim[i]`` draws for simulation ``i``, listed in simulation order."""
        return _joined([getattr(gen, method)(*args, size=int(per_sim[sl].sum()))
                        for sl, gen in zip(self.slices, self._generators(key))])


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    """The parts end to end; a single part as it is (a chunk of one block)."""
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _appeal(streams: _Streams, sd: float, n: int) -> np.ndarray:
    """The campaign's appeal A, lognormal with mean 1 and log-scale sd ``sd``, one
    per simulated campaign, shape (n,); exactly 1 when sd = 0. By inversion of one
    uniform, so that under the same seed a larger sd spreads the same campaigns."""
    if sd == 0:
        return np.ones(n)
    u = np.maximum(streams.per_sim((_CAMPAIGN, _APPEAL)), np.finfo(float).tiny)
    return np.exp(sd * ndtri(u) - sd * sd / 2)


def _conversion(streams: _Streams, i: int, circle: Circle, n: int) -> np.ndarray:
    """The conversion rate of each simulated campaign, shape (n,)."""
    conv = circle.conversion
    if conv.kind == "beta":
        return streams.per_sim((i, _CONVERSION), "beta", *conv.beta_parameters)
    if conv.kind == "uniform":
        return conv.low + (conv.high - conv.low) * streams.per_sim((i, _CONVERSION))
    return np.full(n, conv.mean)


@dataclass(frozen=True)
class _Choice:
    """One table over (when, reward tier, kept): a would-be pledger's day (or
    lag), reward and whether it still pledges after the goal, from one raw word.

    ``when``, ``amount``, ``cost`` and ``kept`` give each category's meaning
    (``amount`` is NaN for a circle with a free ``pledge``, drawn apart);
    ``thinned``: whether there is a post-goal factor at all.
    """

    table: RawInverse
    when: np.ndarray
    amount: np.ndarray
    cost: np.ndarray
    kept: np.ndarray
    thinned: bool

    @classmethod
    def build(cls, when: np.ndarray, scenario: Scenario, circle: Circle) -> "_Choice":
        phi = scenario.dynamics.post_goal_factor
        if circle.pledge is None:
            shares = np.array([r.share for r in scenario.rewards])
            amounts = np.array([r.amount for r in scenario.rewards], dtype=float)
            costs = np.array([r.unit_cost for r in scenario.rewards], dtype=float)
        else:
            shares = np.ones(1)
            amounts = np.array([np.nan if circle.pledge.sd > 0 else circle.pledge.mean], float)
            costs = np.zeros(1)
        kept = np.array([True, False]) if phi < 1.0 else np.array([True])
        keep_share = np.array([phi, 1.0 - phi]) if phi < 1.0 else np.ones(1)
        W, T, K = when.size, shares.size, kept.size
        joint = (when[:, None, None] * shares[None, :, None] * keep_share[None, None, :])
        day = np.repeat(np.arange(W), T * K)
        kept = np.tile(kept, W * T)
        return cls(table=RawInverse(joint.ravel()), when=day,
                   amount=np.tile(np.repeat(amounts, K), W),
                   cost=np.tile(np.repeat(costs, K), W), kept=kept, thinned=phi < 1.0)


class _Plan:
    """What a scenario's draws need, computed once per run: circle order, rates of
    reach and the category tables of each circle's parts."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        D = scenario.duration_days
        self.order = circle_order(scenario.circles)
        self.fade = fade_factor(scenario)
        self.reach: dict[int, np.ndarray] = {}
        self.choices: dict[tuple[int, int], _Choice] = {}
        #: The featured circles, whose thresholds the path crosses with the goal's.
        self.featured = [i for i, c in enumerate(scenario.circles)
                         if c.featured_at is not None]
        #: The final window's first day and each stock or flow circle's σ(t), when
        #: the surge's strength depends on the progress (else None and {}).
        self.surge_start: int | None = None
        self.surge: dict[int, np.ndarray] = {}
        if scenario.surge_circles:
            self.surge_start = start = surge_start(scenario)
            for i in scenario.surge_circles:
                self.surge[i] = surge_shares(scenario.circles[i].timing, D, start)
        #: The final window's first day when the surge or the goal completion looks
        #: at the progress then (else None); with a goal completion, the share of
        #: the gap a closing campaign has closed by the end of each day (else None).
        uses_window = bool(scenario.surge_circles) or scenario.completion is not None
        self.window: int | None = surge_start(scenario) if uses_window else None
        self.closing: np.ndarray | None = None
        if scenario.completion is not None:
            self.closing = closing_shares(scenario.timing, D, self.window)
        for i, circle in enumerate(scenario.circles):
            if circle.kind == "stock":
                when = day_weights(circle.timing, D)
            elif circle.kind == "flow":
                self.reach[i] = reach = flow_reach(circle, D, scenario.dynamics.fade_per_day)
                when = reach / reach.sum() if reach.sum() > 0 else np.full(D, 1.0 / D)
                if circle.featured_at is not None:
                    # The boosted part is counted per day: its pledgers only choose
                    # their reward and fate.
                    self.choices[i, _BOOSTED] = _Choice.build(np.ones(1), scenario, circle)
            else:
                # A lag of k days, k = 0 … D-1, or D or more (after any deadline).
                q = lag_ratio(circle.lag_days)
                when = np.append((1.0 - q) * q ** np.arange(D), q ** D)
            self.choices[i, _OWN] = _Choice.build(when, scenario, circle)


class _Part:
    """Would-be pledgers of one part of a circle in a chunk, listed in simulation
    order, all within the campaign (day < D): the category each drew
    (``_Choice``), and, built when first needed, their simulation, day, amount,
    reward cost and post-goal mark. ``parent`` indexes the pledgers of ``source``
    (a part of the source circle) each one heard from. ``mark``: see below."""

    def __init__(self, circle: int, kind: int, choice: _Choice, per_sim: np.ndarray,
                 category: np.ndarray, sim: np.ndarray | None = None,
                 day: np.ndarray | None = None, amount: np.ndarray | None = None,
                 source: "_Part | None" = None, parent: np.ndarray | None = None,
                 mark: np.ndarray | None = None):
        self.circle, self.kind, self.choice = circle, kind, choice
        #: For pledgers of the final surge: each pledges iff its mark < s(x) of its
        #: campaign (others in the part: mark -inf). None: no surge pledger.
        self.mark = mark
        self.per_sim, self.category = per_sim, category
        self.free_amount = amount is not None
        self.source, self.parent = source, parent
        self.settled = False  # summed into the chunk's ledgers
        for name, value in (("sim", sim), ("day", day), ("amount", amount)):
            if value is not None:
                self.__dict__[name] = value

    @cached_property
    def sim(self) -> np.ndarray:
        return np.repeat(np.arange(self.per_sim.size), self.per_sim)

    @cached_property
    def day(self) -> np.ndarray:
        return self.choice.when.take(self.category)

    @cached_property
    def amount(self) -> np.ndarray:
        return self.choice.amount.take(self.category)

    @cached_property
    def cost(self) -> np.ndarray:
        return self.choice.cost.take(self.category)

    @cached_property
    def kept(self) -> np.ndarray | None:
        """Whether each would still pledge after the goal; None: no post-goal factor."""
        return self.choice.kept.take(self.category) if self.choice.thinned else None

    @cached_property
    def start(self) -> np.ndarray:
        """Index of each simulation's first pledger, shape (n,)."""
        return np.cumsum(self.per_sim) - self.per_sim


def _sum_by_sim(values: np.ndarray, per_sim: np.ndarray) -> np.ndarray:
    """Sum of consecutive ``values``, ``per_sim[s]`` of them for simulation s."""
    total = np.zeros(per_sim.size)
    some = per_sim > 0
    if values.size:
        total[some] = np.add.reduceat(values, (np.cumsum(per_sim) - per_sim)[some])
    return total


class _Chunk:
    """Everything of a chunk that does not depend on the path: the would-be
    pledgers of every circle, the ledgers of those whose fate depends only on the
    goal day, and the commitments kept."""

    def __init__(self, plan: _Plan, seed: np.random.SeedSequence, first: int, stop: int):
        scenario = plan.scenario
        self.plan, self.scenario, self.first, self.stop = plan, scenario, first, stop
        n, D = stop - first, scenario.duration_days
        self.n, self.D = n, D
        self.phi = scenario.dynamics.post_goal_factor
        streams = _Streams(seed, first, stop)
        circles = scenario.circles
        appeal = _appeal(streams, scenario.dynamics.appeal_sd, n)
        rate = [np.minimum(_conversion(streams, i, c, n) * appeal, 1.0)
                for i, c in enumerate(circles)]
        self.parts: list[_Part] = []
        for i in plan.order:
            self.parts.extend(self._draw(streams, i, rate[i]))
        self._settle()
        self.commitments = [streams.per_sim((_COMMITMENT + m,)) < c.probability
                            for m, c in enumerate(scenario.commitments)]
        #: Each campaign's mark for the goal completion: it closes its gap if the
        #: mark is below s(x) (the same marks for every goal).
        self.closing_mark = (streams.per_sim((_CAMPAIGN, _CLOSING))
                             if plan.closing is not None else None)
        for m, c in enumerate(scenario.commitments):
            kept = self.commitments[m]
            self.ledger[0, :, c.day] += c.amount * kept
            self.settled_count += kept
            self.settled_cost += c.unit_cost * kept
        # Each half contiguous: the path reads the kept money whole.
        self.all_money = self.ledger[0] + self.ledger[1]
        self.kept_money = self.ledger[0]
        self.open = [part for part in self.parts if not part.settled]
        # Parts whose fate is looked at per path: the open ones and their sources.
        self.needed = set()
        for part in self.open:
            while part is not None:
                self.needed.add(id(part))
                part = part.source
        for part in self.parts:
            if id(part) not in self.needed:  # settled for good: only counts are kept
                for name in ("category", "sim", "day", "amount", "cost", "kept", "start"):
                    part.__dict__.pop(name, None)

    # ---------------------------------------------------------------- drawing

    def _draw(self, streams: _Streams, i: int, rate: np.ndarray) -> list[_Part]:
        """The parts of circle ``i``: its own would-be pledgers, the boosted part of
        a featured flow, or those hearing from each part of its source."""
        circle, plan, n = self.scenario.circles[i], self.plan, self.n
        if circle.kind == "stock":
            count = binomial_inverse(streams.per_sim((i, _COUNT)), circle.size,
                                     rate * plan.fade)
            return self._final(streams, i, [self._pledgers(streams, i, _OWN, count)])
        if circle.kind == "flow":
            reach = plan.reach[i]
            count = poisson_inverse(streams.per_sim((i, _COUNT)), rate * reach.sum())
            parts = [self._pledgers(streams, i, _OWN, count)]
            if circle.featured_at is not None:
                # Per (simulation, day), by inversion: monotone in the boost.
                cell, cells = poisson_nonzero(
                    streams.per_sim((i, _COUNT, _BOOSTED), days=self.D),
                    rate[:, None] * (reach * (circle.featured_boost - 1.0)))
                day = np.repeat(cell % self.D, cells)
                count = np.bincount(cell // self.D, weights=cells, minlength=n)
                parts.append(self._pledgers(streams, i, _BOOSTED, count, day))
            return self._final(streams, i, parts)
        parts = []
        heard = self.scenario.circles.index(self.scenario.circle(circle.source))
        for k, source in enumerate(p for p in self.parts if p.circle == heard):
            mean = circle.reach_per_pledger * rate * source.per_sim
            count = poisson_inverse(streams.per_sim((i, _COUNT, _HEARING + k)), mean)
            parts.append(self._pledgers(streams, i, _HEARING + k, count, source=source))
        return parts

    def _final(self, streams: _Streams, i: int, parts: list[_Part]) -> list[_Part]:
        """Mark the would-be pledgers of circle ``i`` who come with the final surge.

        A would-be pledger on day t of the final window is one of the surge's with
        probability σ(t) (``surge_shares``), by a uniform u of its own; it then
        pledges only if ``u / σ(t) < s(x)``, the surge's strength for its campaign.
        So it pledges with probability ``1 - σ(t) (1 - s(x))``, and a stronger
        surge never means fewer pledgers. The surge pledgers of the circle's own
        part are split off into a part of their own (kind ``_FINAL``); the
        boosted part, looked at per path anyway, keeps them, marked."""
        sigma = self.plan.surge.get(i)
        if sigma is None:
            return parts
        out = []
        for part in parts:
            if part.kind == _BOOSTED:
                share = sigma.take(part.day)
            else:  # by category: the days of a part split here are never needed whole
                share = sigma.take(part.choice.when).take(part.category)
            window = np.flatnonzero(share > 0)
            u = streams.per_item((i, _SURGE, part.kind),
                                 np.bincount(part.sim[window], minlength=self.n))
            surging = u < share[window]
            pick = window[surging]
            mark = u[surging] / share[pick]
            if part.kind == _BOOSTED:
                part.mark = np.full(part.sim.size, -np.inf)
                part.mark[pick] = mark
                out.append(part)
                continue
            rest = np.ones(part.sim.size, dtype=bool)
            rest[pick] = False
            free = part.amount if part.free_amount else None
            sim, category = part.sim[pick], part.category[pick]
            picked = np.bincount(sim, minlength=self.n)
            out.append(_Part(i, part.kind, part.choice, part.per_sim - picked,
                             part.category[rest],
                             amount=None if free is None else free[rest]))
            out.append(_Part(i, _FINAL, part.choice, picked, category, sim=sim,
                             day=part.choice.when.take(category),
                             amount=None if free is None else free[pick], mark=mark))
        return out

    def _pledgers(self, streams: _Streams, i: int, kind: int, count: np.ndarray,
                  day: np.ndarray | None = None, source: _Part | None = None) -> _Part:
        """``count[s]`` would-be pledgers of simulation s, each drawing its category
        (day or lag, reward, kept) with one raw word; those hearing from someone
        after the deadline are dropped."""
        circle = self.scenario.circles[i]
        choice = self.plan.choices[i, _BOOSTED if kind == _BOOSTED else _OWN]
        count = count.astype(np.int64)
        category = choice.table.draw(streams.words((i, _CHOICE, kind), count))
        amount = None
        if circle.pledge is not None and circle.pledge.sd > 0:
            value = streams.per_item((i, _VALUE, kind), count, "lognormal",
                                     *circle.pledge.lognormal_parameters)
            amount = np.maximum(np.rint(value), 1.0)
        if source is None:
            return _Part(i, kind, choice, count, category, day=day, amount=amount)
        # Each hears from one of the source's would-be pledgers, chosen uniformly.
        sim = np.repeat(np.arange(self.n), count)
        heard = source.per_sim[sim]
        pick = streams.per_item((i, _PARENT, kind), count) * heard
        parent = source.start[sim] + np.minimum(pick.astype(np.int64), heard - 1)
        day = source.day[parent] + choice.when.take(category)
        within = day < self.D
        if not within.all():
            category, sim, day, parent = (a[within] for a in (category, sim, day, parent))
            amount = None if amount is None else amount[within]
            count = np.bincount(sim, minlength=self.n)
        return _Part(i, kind, choice, count, category, sim=sim, day=day,
                     amount=amount, source=source, parent=parent)

    # ---------------------------------------------------------------- ledgers

    def _settle(self) -> None:
        """Sum into day-by-day ledgers the would-be pledgers whose fate depends only
        on the goal day: a circle's own pledgers (not boosted, not capped), and,
        without a post-goal factor, those hearing from settled pledgers. The
        ledger has shape (2, n, D): money of those still pledging after the goal,
        and of those who would not."""
        n, D, circles = self.n, self.D, self.scenario.circles
        C = len(circles)
        for part in self.parts:
            part.settled = part.kind == _OWN or (
                part.source is not None and part.source.settled and self.phi == 1.0
                and circles[part.circle].size is None)
        settled = [p for p in self.parts if p.settled]
        self.settled_count = np.zeros(n, dtype=np.int64)
        self.settled_cost = np.zeros(n)
        self.circle_money = np.zeros((C, D))
        self.circle_count = np.zeros(C)
        lost = []
        # Summed in place, part after part (np.add.at: no joined copies).
        ledger = np.zeros(2 * n * D)
        for p in settled:
            choice = p.choice
            if p.kind == _OWN:
                slot = np.repeat(np.arange(0, n * D, D), p.per_sim)
                slot += (choice.when + np.where(choice.kept, 0, n * D)).take(p.category)
            else:
                slot = p.sim * D + p.day
            np.add.at(ledger, slot, p.amount)
            self.settled_count += p.per_sim
            if choice.cost.any():
                self.settled_cost += _sum_by_sim(p.cost, p.per_sim)
            if p.kind == _OWN and not p.free_amount:
                drawn = np.bincount(p.category, minlength=choice.when.size)
                self.circle_money[p.circle] += np.bincount(
                    choice.when, weights=drawn * choice.amount, minlength=D)
            else:
                self.circle_money[p.circle] += np.bincount(p.day, weights=p.amount,
                                                           minlength=D)
            self.circle_count[p.circle] += p.category.size
            if choice.thinned:  # then p is a circle's own part: its slot gives its sim
                gone = np.flatnonzero(slot >= n * D)  # in the half of those not kept
                lost.append((p.circle, slot[gone] // D - n,
                             choice.when.take(p.category[gone]), p.amount[gone],
                             p.cost[gone]))
        self.ledger = ledger.reshape(2, n, D)
        #: Settled pledgers who would not pledge after the goal, part by part (not
        #: joined: a copy of them all costs more than a loop over a few parts):
        #: their circle, and their simulation, day, amount and reward cost.
        self.lost = lost

    # ---------------------------------------------------------------- the path

    @cached_property
    def open_cells(self) -> tuple[np.ndarray, np.ndarray]:
        """The open pledgers of every open part, end to end: the cell of each one's
        (simulation, day) in a flat (n, D) array, and its amount."""
        return (np.concatenate([p.sim * self.D + p.day for p in self.open]),
                np.concatenate([p.amount for p in self.open]))

    def path(self, featured: dict[int, np.ndarray], goal_day: np.ndarray | None,
             strength: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray, dict[int, np.ndarray]]:
        """The running total of each simulation, shape (n, D), given the day each
        featured circle was featured, the goal day (None: not known yet, nobody
        thinned) and the final surge's strength s(x) of each simulation (None: no
        surge pledger pledges; exact before the final window); the money pledged
        each day, summed over simulations, shape (D,); and whether each open
        pledger pledges (by part)."""
        D = self.D
        if goal_day is None or self.phi == 1.0:
            money = self.all_money.copy()
        else:
            money = np.where(np.arange(D) > goal_day[:, None], self.kept_money,
                             self.all_money)
        pledges = self.pledges(featured, goal_day, strength)
        if self.open:
            cell, amount = self.open_cells
            pledging = np.concatenate([pledges[id(p)] for p in self.open])
            # In place (np.add.at): a bincount would fill and add a second (n, D).
            np.add.at(money.reshape(-1), cell, np.where(pledging, amount, 0.0))
        daily = money.sum(axis=0)
        # What np.cumsum(money, axis=1) gives, in place and faster: day by day.
        for day in range(1, D):
            np.add(money[:, day], money[:, day - 1], out=money[:, day])
        return money, daily, pledges

    def unfeatured(self) -> dict[int, np.ndarray]:
        """The day each featured circle is featured, before any threshold: never (D)."""
        return {i: np.full(self.n, self.D) for i in self.plan.featured}

    @cached_property
    def unthresholded(self) -> tuple[np.ndarray, np.ndarray, dict[int, np.ndarray]]:
        """``path`` before any threshold is crossed (nothing featured, no goal day),
        the same for every goal: found once per chunk."""
        running, daily, fate = self.path(self.unfeatured(), None)
        for shared in (running, daily, *fate.values()):
            shared.flags.writeable = False
        return running, daily, fate

    def pledges(self, featured: dict[int, np.ndarray], goal_day: np.ndarray | None,
                strength: np.ndarray | None = None) -> dict[int, np.ndarray]:
        """Whether each would-be pledger not settled (or heard from) pledges, by
        ``id`` of its part: boosted ones only after the day their circle was
        featured, those hearing from someone only if that one pledged, those of
        the final surge only if their mark is below their campaign's strength,
        and, after the goal, only those kept by the post-goal factor; a source
        circle's ``size`` caps the rest, in day order. (``goal_totals`` applies these
        rules to its sums: a change here changes it too; tests/test_goal_totals.py
        compares both.)"""
        circles = self.scenario.circles
        fate: dict[int, np.ndarray] = {}
        for i in self.plan.order:
            parts = [p for p in self.parts if p.circle == i and id(p) in self.needed]
            for part in parts:
                ok = np.ones(part.sim.size, dtype=bool)
                if part.kind == _BOOSTED:
                    ok &= part.day > featured[i][part.sim]
                if part.source is not None:
                    ok &= fate[id(part.source)][part.parent]
                if part.mark is not None:
                    ok &= (part.mark < strength[part.sim] if strength is not None
                           else part.mark < 0)
                if part.kept is not None and goal_day is not None:
                    ok &= part.kept | (part.day <= goal_day[part.sim])
                fate[id(part)] = ok
            if parts and circles[i].kind == "source" and circles[i].size is not None:
                self._cap(parts, fate, circles[i].size)
        return fate

    def _cap(self, parts: list[_Part], fate: dict[int, np.ndarray], size: int) -> None:
        """Keep, in each simulation, the first ``size`` pledgers of a circle, by day
        (then part, then order of drawing)."""
        n = self.n
        pledging = sum(np.bincount(p.sim[fate[id(p)]], minlength=n) for p in parts)
        over = pledging > size
        if not over.any():
            return
        where = [np.flatnonzero(fate[id(p)] & over[p.sim]) for p in parts]
        sim = np.concatenate([p.sim[w] for p, w in zip(parts, where)])
        day = np.concatenate([p.day[w] for p, w in zip(parts, where)])
        part_no = np.concatenate([np.full(w.size, k) for k, w in enumerate(where)])
        index = np.concatenate(where)
        order = np.lexsort((index, part_no, day, sim))
        sim = sim[order]
        first = np.searchsorted(sim, sim)  # position of each simulation's first
        refused = np.empty(sim.size, dtype=bool)
        refused[order] = np.arange(sim.size) - first >= size
        for k, (p, w) in enumerate(zip(parts, where)):
            fate[id(p)][w[refused[part_no == k]]] = False


def _first_day(cumulative: np.ndarray, threshold: float) -> np.ndarray:
    """The first day each running total reaches ``threshold`` (D if never), shape (n,)."""
    return np.count_nonzero(cumulative < threshold, axis=1)


def run(scenario: Scenario, sims: int, seed: np.random.SeedSequence,
        chunk_size: int = SEED_BLOCK, workers: int = 1) -> Outcome:
    """Simulate ``sims`` campaigns of ``scenario`` with the streams of ``seed``.

    ``chunk_size`` (rounded up to whole stream blocks) bounds memory and
    ``workers`` (processes) only shares the chunks out: neither changes the numbers.
    """
    return run_goals(scenario, [scenario.goal], sims, seed, chunk_size, workers=workers)[0]


def run_goals(scenario: Scenario, goals: list[float], sims: int,
              seed: np.random.SeedSequence, chunk_size: int = SEED_BLOCK,
              keep_paths: bool = True, workers: int = 1) -> list[Outcome]:
    """The campaigns of ``scenario`` run once for each goal, with the same random
    numbers: ``run(scenario.with_(goal=g), ...)`` for each g, drawing only once.

    Only the path depends on the goal (momentum, post-goal factor), so the would-be
    pledgers of each chunk are drawn once and the path found per goal.
    Without ``keep_paths`` no daily path is kept (``paths`` has no row). With
    ``workers`` > 1, that many processes take the chunks in turn; what each chunk
    adds is added in chunk order, so the numbers are those of one process.
    """
    with closing(run_jobs([Job(scenario, goals, sims, seed, keep_paths)], chunk_size,
                          workers)) as outcomes:
        return next(outcomes)


@dataclass(frozen=True)
class Job:
    """One ``run_goals`` among several that ``run_jobs`` shares out together."""

    scenario: Scenario
    goals: list[float]
    sims: int
    seed: np.random.SeedSequence
    keep_paths: bool = True
    #: Only each campaign's gross, net, backers and closing are read (a sweep): the
    #: outcomes' sums and paths are left empty, and a chunk walked at several goals
    #: takes the sums every goal shares (``goal_totals``) where they apply.
    totals: bool = False


def run_jobs(jobs: list[Job], chunk_size: int = SEED_BLOCK,
             workers: int = 1, progress: Callable[[int, int], Any] | None = None,
             executor: Any = None) -> Iterator[list[Outcome]]:
    """``run_goals`` of each job, yielded in order as each is complete, the chunks of
    all of them going to one set of ``workers`` processes: many small runs (a
    sensitivity analysis, the durations of a sweep) gain from sharing as much as one
    large run. Each job's numbers are those of ``run_goals`` alone. ``progress``, if
    given, is called as ``progress(simulations_done, simulations_total)`` after each
    chunk, summed over the jobs. With ``executor`` (a ``concurrent.futures.Executor``
    or a ``dask.distributed.Client``, ``executors.Runner``) the chunks go to it
    instead, with the same numbers."""
    jobs = list(jobs)
    if any(job.sims < 1 for job in jobs):
        raise ValueError("every job needs sims >= 1")
    chunk = max(1, -(-chunk_size // SEED_BLOCK)) * SEED_BLOCK
    tasks = []
    for k, job in enumerate(jobs):
        n_paths = _path_rows(job)
        goals = [float(g) for g in job.goals]
        tasks += [(k, first, min(first + chunk, job.sims), goals,
                   max(0, min(first + chunk, n_paths) - first), job.totals)
                  for first in range(0, job.sims, chunk)]
    plans = [(_Plan(job.scenario), job.seed) for job in jobs]
    outs: list[Outcome] = []
    done, total = 0, sum(job.sims for job in jobs)
    with closing(_map_chunks(plans, tasks, workers, executor)) as pieces_of_chunks:
        for (k, first, stop, *_), pieces in zip(tasks, pieces_of_chunks):
            if first == 0:
                outs = [_empty(jobs[k]) for _ in jobs[k].goals]
            for out, piece in zip(outs, pieces):
                _add(out, piece, first)
            if progress is not None:
                done += stop - first
                progress(done, total)
            if stop == jobs[k].sims:
                yield outs


def _path_rows(job: Job) -> int:
    """How many simulations of a job keep their daily path."""
    return min(job.sims, PATH_SIMS) if job.keep_paths and not job.totals else 0


def _empty(job: Job) -> Outcome:
    """The outcome of a job's run, to be filled chunk by chunk."""
    sims, D = job.sims, job.scenario.duration_days
    C, M = len(job.scenario.circles), len(job.scenario.commitments)
    if job.totals:
        return _totals_only(np.empty(sims), np.empty(sims),
                            np.empty(sims, dtype=np.int64), np.empty(sims))
    return Outcome(
        gross=np.empty(sims), net=np.empty(sims), backers=np.empty(sims, dtype=np.int64),
        closing=np.empty(sims),
        daily_sum=np.zeros(D), circle_daily_sum=np.zeros((C, D)),
        circle_pledgers_sum=np.zeros(C), closing_cents=np.zeros(D, dtype=np.int64),
        commitment_sum=np.zeros(M),
        commitment_count=np.zeros(M),
        first_day=np.zeros((len(MILESTONES), D), dtype=np.int64),
        paths=np.empty((_path_rows(job), D), dtype=np.float32))


def _chunk_pieces(plan: _Plan, seed: np.random.SeedSequence, first: int, stop: int,
                  goals: list[float], path_rows: int, totals: bool = False
                  ) -> list[Outcome]:
    """What simulations ``first`` … ``stop`` - 1 add to the outcome of each goal
    (with ``totals``, only their gross, net, backers and closing)."""
    prepared = _Chunk(plan, seed, first, stop)
    if not totals:
        return [_walk(prepared, goal, path_rows) for goal in goals]
    from .goal_totals import GoalTotals

    shared = GoalTotals.prepare(prepared) if len(goals) >= TOTALS_GOALS else None
    if shared is not None:
        return [shared.walk(goal) for goal in goals]
    return [_totals_only(o.gross, o.net, o.backers, o.closing)
            for o in (_walk(prepared, goal, 0) for goal in goals)]


#: Goals of a chunk from which a totals job shares its sums (``goal_totals``):
#: building them costs about two walks of a goal, and each goal on them a third of
#: one (La Ruche example, 45 days: 95 ms, 42 ms and 13 ms for 8,192 campaigns).
TOTALS_GOALS = 4


def _totals_only(gross: np.ndarray, net: np.ndarray, backers: np.ndarray,
                 closing: np.ndarray) -> Outcome:
    """An outcome of totals only: its sums and paths are empty."""
    empty = np.zeros(0)
    return Outcome(gross=gross, net=net, backers=backers, closing=closing,
                   daily_sum=empty, circle_daily_sum=empty.reshape(0, 0),
                   circle_pledgers_sum=empty, closing_cents=np.zeros(0, dtype=np.int64),
                   commitment_sum=empty, commitment_count=empty,
                   first_day=np.zeros((0, 0), dtype=np.int64),
                   paths=np.zeros((0, 0), dtype=np.float32))


def _map_chunks(plans: list[tuple[_Plan, np.random.SeedSequence]], tasks: list[tuple],
                workers: int, executor: Any = None) -> Iterator[list[Outcome]]:
    """``_chunk_pieces`` of each task ``(job, first, stop, goals, path_rows)``, in
    order: here, or in ``workers`` processes with at most ``workers + 1`` chunks
    under way or waiting (memory stays bounded). Fewer than two chunks per worker
    stay here: starting the processes would cost more than sharing saves. No more
    processes than this one may use cores: more would only take memory.

    With ``executor``, every chunk goes to it (``executors.Runner.in_order``): each
    plan is scattered once to a Dask cluster, or sent with each of its chunks to a
    ``concurrent.futures.Executor``; what comes back is each chunk's piece (its
    simulations' totals, sums and at most its rows of paths)."""
    if executor is not None:
        from .executors import Runner

        runner = Runner(executor)
        shared = runner.share([plan for plan, _ in plans])
        yield from runner.in_order(_chunk_pieces, ((shared[job], plans[job][1], *task)
                                                   for job, *task in tasks))
        return
    workers = min(workers, cores())
    if not shared_out(len(tasks), workers):
        for job, *task in tasks:
            yield _chunk_pieces(*plans[job], *task)
        return
    pool = process_pool(workers, _start_worker, (plans,))
    try:
        ahead: deque = deque()
        for task in tasks:
            ahead.append(_submit(pool, _worker_pieces, *task))
            if len(ahead) > workers:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def shared_out(chunks: int, workers: int) -> bool:
    """Whether a run of ``chunks`` chunks goes to ``workers`` processes: only with at
    least two chunks per worker, below which starting them costs more than it saves."""
    return workers > 1 and chunks >= 2 * workers


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def process_pool(workers: int, initializer=None, initargs=()) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes: forked on Linux (nothing to import again),
    spawned elsewhere (scripts then need ``if __name__ == "__main__":``). Workers
    ignore Ctrl-C, which the parent handles by cancelling what is left."""
    if sys.platform == "win32":
        workers = min(workers, 61)  # the most ProcessPoolExecutor takes on Windows
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method),
                               initializer=_ignore_interrupt,
                               initargs=(initializer, initargs))


#: Signals held while a pool takes work (``_submit``).
_HELD = {signal.SIGINT, signal.SIGTERM}


def _submit(pool: ProcessPoolExecutor, *call):
    """``pool.submit(*call)`` with SIGINT and SIGTERM held until it returns. The pool
    starts its processes in ``submit``: interrupted there, it would not know them
    all, and they would wait for work forever (and the exit wait for them)."""
    if not hasattr(signal, "pthread_sigmask"):
        return pool.submit(*call)
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        return pool.submit(*call)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _ignore_interrupt(initializer, initargs) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A handler the parent set for SIGTERM (the CLI's) is the parent's: a worker
    # told to end ends. Forked inside _submit, the worker starts with both held.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)
    if initializer is not None:
        initializer(*initargs)


_WORKER: dict = {}


def _start_worker(plans: list[tuple[_Plan, np.random.SeedSequence]]) -> None:
    _WORKER.update(plans=plans)


def _worker_pieces(job: int, *task) -> list[Outcome]:
    return _chunk_pieces(*_WORKER["plans"][job], *task)


def _add(out: Outcome, piece: Outcome, first: int) -> None:
    """Add a chunk's piece, whose simulations start at ``first``, to ``out``."""
    stop = first + piece.gross.size
    for name in ("gross", "net", "backers", "closing"):
        getattr(out, name)[first:stop] = getattr(piece, name)
    for name in ("daily_sum", "circle_daily_sum", "circle_pledgers_sum",
                 "closing_cents", "commitment_sum", "commitment_count", "first_day"):
        getattr(out, name)[...] += getattr(piece, name)
    out.paths[first:first + piece.paths.shape[0]] = piece.paths


class _Closing:
    """The goal completion of a chunk towards one goal (docs/model.md, "Goal
    completion"): the campaigns drawn to close their gap when the final window
    opens (``rows``), at their totals then (``opened``). ``lift`` raises their
    running totals to ``T_d = max(T_(d-1) + m_d, L_d)``, the circles' money m_d on
    top of a floor L_d rising from ``opened`` to the goal on the last day:
    ``T = O + E`` for their own running totals O, with ``E_d`` the running maximum
    of ``L_d - O_d`` (0 before the window). ``mark``: each campaign's closing mark
    (``_Chunk.closing_mark``)."""

    def __init__(self, plan: _Plan, mark: np.ndarray, goal: float, opened: np.ndarray):
        h, k = plan.scenario.completion
        close = mark < surge_strength(opened / goal, h, k)
        self.rows = np.flatnonzero(close & (opened < goal))
        self.start, self.goal = plan.window, goal
        base = opened[self.rows, None]
        self.floor = base + (goal - base) * plan.closing[None, self.start:]
        self.floor[:, -1] = goal
        #: The money the closing adds each day, summed over simulations, in whole
        #: cents (D,): integers add up the same whatever the chunks.
        self.cents = np.zeros(plan.scenario.duration_days, dtype=np.int64)
        #: The money the closing adds to each campaign, (n,).
        self.amount = np.zeros(opened.size)

    def raised(self, own: np.ndarray) -> np.ndarray:
        """The running totals of ``rows`` over the final window, given their own
        ``own`` (rows, days of the window)."""
        extra = np.maximum.accumulate(np.maximum(self.floor - own, 0.0), axis=1)
        # At least the floor exactly (own + (floor - own) can be an ulp under it).
        return np.maximum(own + extra, self.floor)

    def lift(self, running: np.ndarray) -> None:
        """Raise ``running`` (n, D) in place."""
        self.cents[:] = 0
        if self.rows.size == 0:
            return
        start, rows = self.start, self.rows
        own = running[rows, start:]
        running[rows, start:] = self.raised(own)
        added = running[rows, start:] - own
        self.amount[rows] = added[:, -1]
        daily = np.diff(added, axis=1, prepend=0.0)
        self.cents[start:] = np.rint(daily * 100).astype(np.int64).sum(axis=0)


def _cross(chunk: _Chunk, goal: float, strength: np.ndarray | None, shared: bool,
           closing: _Closing | None = None):
    """Cross the thresholds towards ``goal`` (each featured circle's, the goal) in
    increasing order, since pledges are never negative: each crossing day is found
    on the path that the crossings before it allow, raised by the goal completion's
    ``closing`` if given (which acts only from the final window, on days after the
    ones it is read on). With ``shared``, the chunk's path before any threshold (the
    same for every goal) is the first one.

    Returns the running totals, the daily sums (of the circles' money: the
    completion's is ``closing.cents``), the fates of the open pledgers, the day each
    featured circle was featured and the goal day."""
    circles = chunk.scenario.circles
    featured = chunk.unfeatured()
    goal_day = None
    thresholds = sorted([(1.0, -1)] + [(circles[i].featured_at, i)
                                       for i in chunk.plan.featured])
    running, daily, fate = chunk.unthresholded if shared else (None, None, None)

    def path():
        running, daily, fate = chunk.path(featured, goal_day, strength)
        if closing is not None:
            closing.lift(running)
        return running, daily, fate

    for fraction, i in thresholds:
        if running is None:
            running, daily, fate = path()
        day = _first_day(running, fraction * goal)
        if i < 0:
            goal_day = day
            stale = chunk.phi < 1.0
        else:
            featured[i] = day
            stale = True
        if stale:
            running = None
    if running is None:
        running, daily, fate = path()
    return running, daily, fate, featured, goal_day


def _walk(chunk: _Chunk, goal: float, path_rows: int) -> Outcome:
    """Find the chunk's paths towards ``goal``: what the chunk adds to its
    outcome, with the first ``path_rows`` running totals.

    With a final surge that depends on the progress, or a goal completion, the path
    is found twice: first without the surge's pledgers or the completion, which is
    exact up to the end of the day before the final window (they all come later, and
    every threshold acts only on the days after its crossing), giving each
    campaign's progress x then and so the surge's strength s(x) and who closes the
    gap; then with them."""
    scenario, n, D = chunk.scenario, chunk.n, chunk.D
    start = chunk.plan.window
    running, daily, fate, featured, goal_day = _cross(chunk, goal, None, shared=True)
    closing = None
    if start is not None:
        opened = running[:, start - 1]
        dyn = scenario.dynamics
        strength = (surge_strength(opened / goal, dyn.surge_half_progress,
                                   dyn.surge_steepness)
                    if chunk.plan.surge_start is not None else None)
        if chunk.plan.closing is not None:
            closing = _Closing(chunk.plan, chunk.closing_mark, goal, opened)
        running, daily, fate, featured, goal_day = _cross(chunk, goal, strength,
                                                          shared=False, closing=closing)
    gross = running[:, -1].copy()  # not a view that would keep `running` alive

    backers = chunk.settled_count.copy()
    reward_cost = chunk.settled_cost.copy()
    circle_money = chunk.circle_money.copy()
    circle_count = chunk.circle_count.copy()
    for circle, sim, day, amount, cost in chunk.lost:
        gone = np.flatnonzero(day > goal_day[sim])
        sim = sim[gone]
        backers -= np.bincount(sim, minlength=n)
        np.subtract.at(reward_cost, sim, cost[gone])
        np.subtract.at(circle_money[circle], day[gone], amount[gone])
        circle_count[circle] -= gone.size
    for part in chunk.open:
        ok = np.flatnonzero(fate[id(part)])
        sim = part.sim[ok]
        backers += np.bincount(sim, minlength=n)
        reward_cost += np.bincount(sim, weights=part.cost[ok], minlength=n)
        circle_money[part.circle] += np.bincount(part.day[ok], weights=part.amount[ok],
                                                 minlength=D)
        circle_count[part.circle] += sim.size
    kept = np.array([np.count_nonzero(k) for k in chunk.commitments], dtype=float)
    first_day = np.array([np.bincount(goal_day if fraction == 1.0
                                      else _first_day(running, fraction * goal),
                                      minlength=D + 1)[:D] for fraction in MILESTONES])
    closed = closing.amount if closing is not None else None
    return Outcome(
        gross=gross, backers=backers, closing=np.zeros(n) if closed is None else closed,
        net=_net(scenario, chunk.commitments, gross, backers, reward_cost, closed),
        daily_sum=daily, circle_daily_sum=circle_money,
        circle_pledgers_sum=circle_count,
        closing_cents=(closing.cents if closing is not None
                       else np.zeros(D, dtype=np.int64)),
        commitment_sum=np.array([c.amount for c in scenario.commitments]) * kept,
        commitment_count=kept, first_day=first_day,
        paths=running[:path_rows].astype(np.float32))


def _net(scenario: Scenario, commitments: list[np.ndarray], gross: np.ndarray,
         backers: np.ndarray, reward_cost: np.ndarray, closed: np.ndarray | None
         ) -> np.ndarray:
    """What each campaign's owner would receive: ``gross`` less the platform's and
    the payments' share, the fee per pledge of its ``backers`` and its rewards'
    cost (``reward_cost``, its pledgers' and its kept ``commitments``'), and, with
    a goal completion, the rewards of the money ``closed`` adds (None: none)."""
    fees = scenario.fees
    if closed is not None:
        # The money that closes the gap comes as pledges like the campaign's
        # circles': the platform's share, and rewards costing what its circles'
        # pledges cost per dollar (a commitment's counterpart is its own; no pledger
        # counted, so no fee per pledge).
        own = gross - closed
        own_cost = reward_cost.copy()
        for c, made in zip(scenario.commitments, commitments):
            own -= c.amount * made
            own_cost -= c.unit_cost * made
        reward_cost = reward_cost + closed * np.divide(own_cost, own,
                                                       out=np.zeros(gross.size),
                                                       where=own > 0)
    return (gross * (1 - fees.platform_rate - fees.payment_rate)
            - fees.per_pledge * backers - reward_cost)
