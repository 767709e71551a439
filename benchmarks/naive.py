"""A straightforward pure-Python simulation of the same model, one campaign and one
day at a time, as it is usually first written in a notebook. It is the baseline of
benchmarks/run.py, not a reference for correctness (tests/reference.py is that).
"""
from __future__ import annotations

import math
import random

from forecast.engine import (day_weights, fade_factor, flow_reach, lag_ratio, surge_shares,
                             surge_start)
from forecast.scenario import Scenario, circle_order


def _poisson(mean: float, rand: random.Random) -> int:
    """Knuth's method: multiply uniforms until the product drops below exp(-mean)."""
    if mean > 30:  # the product underflows; add independent parts
        half = _poisson(mean / 2, rand)
        return half + _poisson(mean - mean / 2, rand)
    limit, k, product = math.exp(-mean), 0, rand.random()
    while product > limit:
        k += 1
        product *= rand.random()
    return k


def _rate(circle, rand: random.Random) -> float:
    conv = circle.conversion
    if conv.kind == "beta":
        a, b = conv.beta_parameters
        return rand.betavariate(a, b)
    if conv.kind == "uniform":
        return rand.uniform(conv.low, conv.high)
    return conv.mean


def simulate_naive(scenario: Scenario, sims: int, seed: int = 0) -> list[float]:
    """Gross totals of ``sims`` campaigns, simulated one campaign and one day at a time."""
    rand = random.Random(seed)
    D, goal = scenario.duration_days, scenario.goal
    circles = scenario.circles
    order = circle_order(circles)
    index = {c.name: i for i, c in enumerate(circles)}
    dyn = scenario.dynamics
    phi = dyn.post_goal_factor
    # The final surge held to the progress (docs/model.md): its window and shares.
    held = dyn.surge_half_progress > 0
    start = surge_start(scenario)
    sigma = [list(surge_shares(c.timing, D, start)) if held and c.kind != "source"
             else [0.0] * D for c in circles]
    weights = [list(day_weights(c.timing, D)) for c in circles]
    reach = [list(flow_reach(c, D, dyn.fade_per_day)) if c.kind == "flow" else None
             for c in circles]
    tiers = [r.amount for r in scenario.rewards]
    shares = [r.share for r in scenario.rewards]
    totals = []
    for _ in range(sims):
        appeal = (rand.lognormvariate(-dyn.appeal_sd ** 2 / 2, dyn.appeal_sd)
                  if dyn.appeal_sd > 0 else 1.0)
        rates = [min(1.0, _rate(c, rand) * appeal) for c in circles]
        strength = 1.0
        # Stock circles: who among the N pledges, and on which day.
        days_of = {}
        for i, c in enumerate(circles):
            if c.kind == "stock":
                p = rates[i] * fade_factor(scenario)
                pledgers = sum(1 for _ in range(c.size) if rand.random() < p)
                days_of[i] = [0] * D
                for day in rand.choices(range(D), weights=weights[i], k=pledgers):
                    days_of[i][day] += 1
        heard = {i: 0.0 for i, c in enumerate(circles) if c.kind == "source"}
        joined = {i: 0 for i in heard}
        featured = {i: False for i, c in enumerate(circles) if c.featured_at is not None}
        total, reached = 0.0, False
        for day in range(D):
            if held and day == start:
                x = max(total / goal, 0.0)
                ratio = (x / dyn.surge_half_progress) ** dyn.surge_steepness
                strength = ratio / (1.0 + ratio)
            for commitment in scenario.commitments:
                if commitment.day == day and rand.random() < commitment.probability:
                    total += commitment.amount
            today = {}
            for i in order:
                c = circles[i]
                if c.kind == "stock":
                    count = days_of[i][day]
                elif c.kind == "flow":
                    boost = c.featured_boost if featured.get(i) else 1.0
                    count = _poisson(rates[i] * reach[i][day] * boost, rand)
                else:
                    q = lag_ratio(c.lag_days)
                    heard[i] = q * heard[i] + today[index[c.source]]
                    count = _poisson(c.reach_per_pledger * rates[i] * (1 - q) * heard[i], rand)
                    if c.size is not None:
                        count = min(count, c.size - joined[i])
                        joined[i] += count
                if sigma[i][day] > 0:
                    keep = 1.0 - sigma[i][day] * (1.0 - strength)
                    count = sum(1 for _ in range(count) if rand.random() < keep)
                if reached and phi < 1.0:
                    count = sum(1 for _ in range(count) if rand.random() < phi)
                today[i] = count
                for _ in range(count):
                    if c.pledge is None:
                        total += rand.choices(tiers, weights=shares)[0]
                    elif c.pledge.sd > 0:
                        mu, sigma = c.pledge.lognormal_parameters
                        total += max(1.0, round(rand.lognormvariate(mu, sigma)))
                    else:
                        total += c.pledge.mean
            reached = reached or total >= goal
            for i in featured:
                featured[i] = featured[i] or total >= circles[i].featured_at * goal
        totals.append(total)
    return totals
