"""The bare steps of the engine's design, timed alone, against the limit and the engine.

    python benchmarks/floor.py [--sims 100000] [--rounds 7]

For the five-circle La Ruche example over 90 days (as in run.py), chunk by chunk and
part by part as the engine goes, with the engine's own would-be pledgers (their
number in each simulation and part, and each part's table), it times the steps that
an engine drawing its pledgers one by one, with counts monotone in their means,
cannot skip:

- counts: for each simulation and part, a conversion rate (a beta draw) and a count
  by the engine's inversion samplers, the part's own numbers standing in for the
  means (the boosted visitors counted per simulation, not per (simulation, day));
- words: one raw 64-bit word per would-be pledger, one generator per chunk and part;
- categories: each word's category by its part's table (``RawInverse.draw``);
- cells: each pledger's (simulation, day) cell and amount (``np.repeat``, ``take``;
  the day is the one its table names: a lag, or day 0 for the boosted visitors,
  is taken as a day);
- ledger: the amounts summed into a (simulation, day) array (``np.add.at``);
- path: one running total, day by day, and the day it reaches the goal;

and their sum, the floor. For comparison only, not in the floor: the same counts by
NumPy's own samplers (``Generator.binomial``, ``Generator.poisson``), which are not
monotone in their means and so are not open to the engine. Each round times every
step once, the limit (run.py's: one uniform per simulation, day and circle) once and
the engine (``forecast.simulate``) once; the script prints each time's median over
the rounds, and the median over the rounds of its ratio to that round's limit.

Beyond the floor, the engine looks again at the would-be pledgers whose fate depends
on the path (the boosted visitors and the friends of friends, about a quarter of
them), finds the paths after featuring and after the goal, and keeps what the results
need: post-goal losses, reward costs, backers, sums per circle and day, milestones.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from collections import deque
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import forecast  # noqa: E402
from forecast import engine  # noqa: E402
from forecast.sampling import binomial_inverse, poisson_inverse  # noqa: E402
from run import DAYS, limit_time, median_time, scenarios  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7, help="rounds (medians)")
    args = parser.parse_args()

    scenario = scenarios()["five circles (6 circles)"]
    plan = engine._Plan(scenario)
    seed = np.random.SeedSequence(1)
    D, goal = DAYS, scenario.goal
    # The engine's would-be pledgers, chunk by chunk: (sims, [(per_sim, choice, size)]),
    # size being a stock circle's (its count is binomial), None for the others.
    stock = {i for i, c in enumerate(scenario.circles) if c.kind == "stock"}
    chunks = []
    for first in range(0, args.sims, engine.SEED_BLOCK):
        chunk = engine._Chunk(plan, seed, first, min(first + engine.SEED_BLOCK, args.sims))
        chunks.append((chunk.n, [(p.per_sim, p.choice,
                                  scenario.circles[p.circle].size if p.circle in stock
                                  else None) for p in chunk.parts]))
    pledgers = sum(int(per_sim.sum()) for _, parts in chunks for per_sim, *_ in parts)

    # Each step goes chunk by chunk and part by part, yielding what it makes: timed,
    # each output is dropped as soon as it is made; its inputs, made once beforehand,
    # are the outputs of the step before.
    def counts(k, n, parts, sampler="inversion"):
        for j, (per_sim, _, size) in enumerate(parts):
            rng = np.random.default_rng([k, j])
            rng.beta(2.0, 50.0, n)  # the conversion rate of each simulation
            if sampler == "numpy":
                yield (rng.poisson(per_sim) if size is None
                       else rng.binomial(size, per_sim / size))
            elif size is None:
                yield poisson_inverse(rng.random(n), per_sim)
            else:
                yield binomial_inverse(rng.random(n), size, per_sim / size)

    def numpy_counts(k, n, parts):
        return counts(k, n, parts, sampler="numpy")

    def words(k, n, parts):
        for j, (per_sim, *_) in enumerate(parts):
            yield np.random.default_rng([k, j]).bit_generator.random_raw(int(per_sim.sum()))

    def categories(k, n, parts):
        for (_, choice, _), word in zip(parts, made["words"][k]):
            yield choice.table.draw(word)

    def cells(k, n, parts):
        for (per_sim, choice, _), category in zip(parts, made["categories"][k]):
            yield (np.repeat(np.arange(0, n * D, D), per_sim)
                   + np.minimum(choice.when, D - 1).take(category),
                   choice.amount.take(category))

    def ledger(k, n, parts):
        money = np.zeros(n * D)
        for where, amount in made["cells"][k]:
            np.add.at(money, where, amount)
        yield money.reshape(n, D)

    def path(k, n, parts):
        running = made["ledger"][k][0].copy()
        for day in range(1, D):
            np.add(running[:, day], running[:, day - 1], out=running[:, day])
        yield engine._first_day(running, goal)

    def every_chunk(step):
        for k, chunk in enumerate(chunks):
            deque(step(k, *chunk), maxlen=0)  # each output dropped as it is made

    floor_steps = (counts, words, categories, cells, ledger, path)
    made: dict[str, list] = {}
    for step in (words, categories, cells, ledger):
        made[step.__name__] = [list(step(k, *chunk)) for k, chunk in enumerate(chunks)]
    times: dict[str, list[float]] = {step.__name__: []
                                     for step in (*floor_steps, numpy_counts)}
    times.update(limit=[], engine=[])
    for _ in range(args.rounds):
        for step in (*floor_steps, numpy_counts):
            times[step.__name__].append(median_time(lambda: every_chunk(step), 1))
        times["limit"].append(limit_time(args.sims, len(scenario.circles), 1))
        times["engine"].append(median_time(
            lambda: forecast.simulate(scenario, args.sims, rng=1), 1))
    floor = [sum(round_) for round_ in zip(*(times[s.__name__] for s in floor_steps))]

    def ratio(seconds: list[float]) -> float:
        """The median over the rounds of a time over that round's limit."""
        return statistics.median(s / limit for s, limit in zip(seconds, times["limit"]))

    print(f"five circles, {D} days, {args.sims:,} simulations, one process; "
          f"{pledgers / args.sims:.0f} would-be pledgers per simulation; medians of "
          f"{args.rounds} rounds\n")
    print(f"{'':<44}{'s':>8}{'/ limit':>10}")
    rows = [(s.__name__, times[s.__name__]) for s in floor_steps]
    rows += [("floor (their sum)", floor), ("limit", times["limit"]),
             ("engine", times["engine"]),
             ("counts by NumPy's samplers (not monotone)", times["numpy_counts"])]
    for name, seconds in rows:
        print(f"{name:<44}{statistics.median(seconds):>8.3f}{ratio(seconds):>10.2f}")
    beyond = [e - f for e, f in zip(times["engine"], floor)]
    print(f"\nthe engine beyond the floor: {statistics.median(beyond):.3f} s "
          f"({ratio(beyond):.1f} x the limit)")


if __name__ == "__main__":
    main()
