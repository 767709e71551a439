"""The Monte Carlo engine: (scenario, sims, seed) -> arrays. NumPy only.

Simulations lie on axis 0 and every random variable is drawn for all of them in
one call; the only Python loops run over days, circles and stream blocks.

Reproducibility: simulation ``i`` belongs to stream block ``i // SEED_BLOCK``,
whose generator is the child ``SeedSequence(entropy, spawn_key=key + (block,))``
of the run's seed (what ``SeedSequence.spawn`` would hand out, without mutating
the parent). Every draw is made block by block, so the numbers of a seed do not
depend on ``chunk_size``, which only bounds how many simulations are in memory.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .scenario import Circle, Scenario, Timing, circle_order

__all__ = ["SEED_BLOCK", "PATH_SIMS", "MILESTONES", "Outcome", "run", "day_weights",
           "fade_factor", "flow_reach", "lag_ratio"]

#: Simulations per random stream: the unit of reproducibility.
SEED_BLOCK = 16_384
#: Daily cumulative paths are kept for the first PATH_SIMS simulations (percentiles).
PATH_SIMS = 100_000
#: Fractions of the goal whose first-reached day is counted.
MILESTONES = (0.25, 0.50, 0.75, 1.00)


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
    tier_pledgers_sum: np.ndarray    # (T,)
    first_day: np.ndarray            # (4, D)
    paths: np.ndarray                # (n, D) float32


class _Streams:
    """One Generator per stream block of a chunk; draws split along axis 0."""

    def __init__(self, seed: np.random.SeedSequence, first: int, stop: int):
        self.slices: list[slice] = []
        self.generators: list[np.random.Generator] = []
        for block in range(first // SEED_BLOCK, -(-stop // SEED_BLOCK)):
            lo, hi = block * SEED_BLOCK, min((block + 1) * SEED_BLOCK, stop)
            child = np.random.SeedSequence(seed.entropy,
                                           spawn_key=tuple(seed.spawn_key) + (block,))
            self.slices.append(slice(lo - first, hi - first))
            self.generators.append(np.random.default_rng(child))

    def _each(self, method: str, *args, **kwargs) -> np.ndarray:
        parts = []
        for sl, gen in zip(self.slices, self.generators):
            sliced = [a[sl] if isinstance(a, np.ndarray) and a.ndim else a for a in args]
            if "size" in kwargs:
                kwargs["size"] = (sl.stop - sl.start,) + tuple(kwargs["size"][1:])
            parts.append(getattr(gen, method)(*sliced, **kwargs))
        return np.concatenate(parts)

    def binomial(self, n, p):
        return self._each("binomial", n, p)

    def poisson(self, lam):
        return self._each("poisson", lam)

    def random(self, n: int):
        return self._each("random", size=(n,))

    def beta(self, a: float, b: float, n: int):
        return self._each("beta", a, b, size=(n,))

    def uniform(self, low: float, high: float, n: int):
        return self._each("uniform", low, high, size=(n,))

    def multinomial(self, n, pvals):
        """Counts per category, shape (sims, len(pvals)); ``pvals`` is shared."""
        if len(pvals) == 1:
            return n[:, None]
        return self._each("multinomial", n, list(pvals))

    def lognormal_sums(self, counts: np.ndarray, mu: float, sigma: float) -> np.ndarray:
        """Sum of ``counts[i]`` lognormal amounts rounded to whole units (at least 1)."""
        parts = []
        for sl, gen in zip(self.slices, self.generators):
            c = counts[sl]
            amounts = np.maximum(np.rint(gen.lognormal(mu, sigma, size=int(c.sum()))), 1.0)
            owner = np.repeat(np.arange(c.size), c)
            parts.append(np.bincount(owner, weights=amounts, minlength=c.size))
        return np.concatenate(parts)


def _conversion(streams: _Streams, circle: Circle, n: int) -> np.ndarray:
    conv = circle.conversion
    if conv.kind == "beta":
        return streams.beta(*conv.beta_parameters, n)
    if conv.kind == "uniform":
        return streams.uniform(conv.low, conv.high, n)
    return np.full(n, conv.mean)


def run(scenario: Scenario, sims: int, seed: np.random.SeedSequence,
        chunk_size: int = 4 * SEED_BLOCK) -> Outcome:
    """Simulate ``sims`` campaigns of ``scenario`` with the streams of ``seed``.

    ``chunk_size`` (rounded up to whole stream blocks) bounds memory and never
    changes the numbers.
    """
    D = scenario.duration_days
    C, M, T = len(scenario.circles), len(scenario.commitments), len(scenario.rewards)
    chunk = max(1, -(-chunk_size // SEED_BLOCK)) * SEED_BLOCK
    n_paths = min(sims, PATH_SIMS)
    out = Outcome(
        gross=np.empty(sims), net=np.empty(sims), backers=np.empty(sims, dtype=np.int64),
        daily_sum=np.zeros(D), circle_daily_sum=np.zeros((C, D)),
        circle_pledgers_sum=np.zeros(C), commitment_sum=np.zeros(M),
        commitment_count=np.zeros(M), tier_pledgers_sum=np.zeros(T),
        first_day=np.zeros((len(MILESTONES), D), dtype=np.int64),
        paths=np.empty((n_paths, D), dtype=np.float32),
    )
    for first in range(0, sims, chunk):
        _run_chunk(scenario, seed, first, min(first + chunk, sims), out)
    return out


def _run_chunk(scenario: Scenario, seed: np.random.SeedSequence, first: int, stop: int,
               out: Outcome) -> None:
    D, n, goal = scenario.duration_days, stop - first, scenario.goal
    circles = scenario.circles
    order = circle_order(circles)
    streams = _Streams(seed, first, stop)
    dyn = scenario.dynamics
    fade = fade_factor(scenario)
    shares = np.array([r.share for r in scenario.rewards])
    amounts = np.array([r.amount for r in scenario.rewards])
    unit_costs = np.array([r.unit_cost for r in scenario.rewards])
    index = {c.name: i for i, c in enumerate(circles)}

    # Per-circle state, drawn once per simulated campaign.
    rate = [_conversion(streams, c, n) for c in circles]
    remaining, tail_weights, weights, reach, featured = {}, {}, {}, {}, {}
    history, cumulative = {}, {}
    for i, c in enumerate(circles):
        weights[i] = day_weights(c.timing, D)
        if c.kind == "stock":
            remaining[i] = streams.binomial(c.size, rate[i] * fade)
            tail_weights[i] = np.cumsum(weights[i][::-1])[::-1]
        elif c.kind == "flow":
            reach[i] = flow_reach(c, D)
            featured[i] = np.zeros(n, dtype=bool)
        else:
            history[i] = np.zeros(n)
            cumulative[i] = np.zeros(n, dtype=np.int64)

    running = np.zeros(n)
    backers = np.zeros(n, dtype=np.int64)
    reward_cost = np.zeros(n)
    reached = np.zeros((len(MILESTONES), n), dtype=bool)
    after_goal = np.zeros(n, dtype=bool)
    thin = dyn.post_goal_factor < 1.0
    keep_paths = max(0, min(stop, out.paths.shape[0]) - first)

    for day in range(D):
        today = np.zeros(n)
        for m, commitment in enumerate(scenario.commitments):
            if commitment.day != day:
                continue
            kept = streams.random(n) < commitment.probability
            today += commitment.amount * kept
            backers += kept
            reward_cost += commitment.unit_cost * kept
            out.commitment_sum[m] += commitment.amount * kept.sum()
            out.commitment_count[m] += kept.sum()

        pledgers_today = {}
        for i in order:
            c = circles[i]
            if c.kind == "stock":
                tail = tail_weights[i][day]
                share = min(1.0, weights[i][day] / tail) if tail > 0 else 1.0
                count = streams.binomial(remaining[i], share)
                remaining[i] = remaining[i] - count
            elif c.kind == "flow":
                mean = reach[i][day] * rate[i]
                count = streams.poisson(mean)
                if c.featured_at is not None:
                    extra = streams.poisson(mean * (c.featured_boost - 1.0))
                    count = count + np.where(featured[i], extra, 0)
            else:
                q = lag_ratio(c.lag_days)
                history[i] = q * history[i] + pledgers_today[index[c.source]]
                count = streams.poisson(c.reach_per_pledger * rate[i] * (1 - q) * history[i])
            if thin:
                count = np.where(after_goal, streams.binomial(count, dyn.post_goal_factor),
                                 count)
            if c.kind == "source" and c.size is not None:
                count = np.minimum(count, c.size - cumulative[i])
                cumulative[i] += count
            pledgers_today[i] = count

            if c.pledge is not None:
                if c.pledge.sd > 0:
                    money = streams.lognormal_sums(count, *c.pledge.lognormal_parameters)
                else:
                    money = count * c.pledge.mean
            else:
                by_tier = streams.multinomial(count, shares)
                money = by_tier @ amounts
                reward_cost += by_tier @ unit_costs
                out.tier_pledgers_sum += by_tier.sum(axis=0)
            today += money
            backers += count
            out.circle_daily_sum[i, day] += money.sum()
            out.circle_pledgers_sum[i] += count.sum()

        running += today
        out.daily_sum[day] += today.sum()
        for k, fraction in enumerate(MILESTONES):
            now = running >= fraction * goal
            out.first_day[k, day] += np.count_nonzero(now & ~reached[k])
            reached[k] = now
        after_goal = reached[-1]  # MILESTONES ends with the goal itself
        for i, c in enumerate(circles):
            if c.kind == "flow" and c.featured_at is not None:
                featured[i] |= running >= c.featured_at * goal
        if keep_paths:
            out.paths[first:first + keep_paths, day] = running[:keep_paths]

    fees = scenario.fees
    out.gross[first:stop] = running
    out.backers[first:stop] = backers
    out.net[first:stop] = (running * (1 - fees.platform_rate - fees.payment_rate)
                           - fees.per_pledge * backers - reward_cost)
