"""The bare steps of the engine's design, timed alone, against the limit and the engine.

    python benchmarks/floor.py [--sims 100000] [--repeats 7]

For the five-circle La Ruche example over 90 days (as in run.py), chunk by chunk as
the engine goes, with the engine's own would-be pledgers (their number in each
simulation and part, and each part's table), it prints the medians of:

- counts: for each simulation and part, a conversion rate and a number of would-be
  pledgers with NumPy's own samplers (a beta, and a Poisson of the part's mean number),
  the cheapest draws that could give them;
- words: one raw 64-bit word per would-be pledger, one generator per chunk and part;
- categories: each word's category by its part's table (``RawInverse.draw``);
- cells: each pledger's (simulation, day) cell and amount (``np.repeat``, ``take``;
  the day is the one its table names: a lag, or day 0 for the boosted visitors,
  whose days the engine draws per cell, is taken as a day);
- ledger: the amounts summed into a (simulation, day) array (``np.add.at``);
- path: one running total, day by day, and the day it reaches the goal;

their sum (the floor: what an engine of this design does even with every mechanism
removed), the limit (run.py's: one uniform per simulation, day and circle) and the
engine (``forecast.simulate``), each with its ratio to the limit. What the engine
spends beyond the floor goes to the counts by inversion, the boosted visitors per
(simulation, day), the friends of friends hearing from a pledger, the size cap, the
paths after featuring and after the goal, reward costs and the sums per circle.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import forecast  # noqa: E402
from forecast import engine  # noqa: E402
from run import DAYS, limit_time, median_time, scenarios  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7, help="repetitions (median)")
    args = parser.parse_args()

    scenario = scenarios()["five circles (6 circles)"]
    plan = engine._Plan(scenario)
    seed = np.random.SeedSequence(1)
    D, goal = DAYS, scenario.goal
    # The engine's would-be pledgers, chunk by chunk: (sims, [(per_sim, choice)]).
    chunks = []
    for first in range(0, args.sims, engine.SEED_BLOCK):
        chunk = engine._Chunk(plan, seed, first, min(first + engine.SEED_BLOCK, args.sims))
        chunks.append((chunk.n, [(p.per_sim, p.choice) for p in chunk.parts]))
    pledgers = sum(int(per_sim.sum()) for _, parts in chunks for per_sim, _ in parts)

    # Each step goes chunk by chunk and part by part, as the engine does, yielding what
    # it makes: timed, each output is dropped as the next is made; its inputs, made
    # once beforehand, are the step before's outputs.
    def counts(k, n, parts):
        for j, (per_sim, _) in enumerate(parts):
            rng = np.random.default_rng([k, j])
            yield rng.beta(2.0, 50.0, n), rng.poisson(per_sim.mean(), n)

    def words(k, n, parts):
        for j, (per_sim, _) in enumerate(parts):
            yield np.random.default_rng([k, j]).bit_generator.random_raw(int(per_sim.sum()))

    def categories(k, n, parts):
        for (_, choice), word in zip(parts, made["words"][k]):
            yield choice.table.draw(word)

    def cells(k, n, parts):
        for (per_sim, choice), category in zip(parts, made["categories"][k]):
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
        yield np.count_nonzero(running < goal, axis=1)

    def every_chunk(step):
        for k, chunk in enumerate(chunks):
            for _ in step(k, *chunk):
                pass

    made: dict[str, list] = {}
    times = {}
    for step in (counts, words, categories, cells, ledger, path):
        made[step.__name__] = [list(step(k, *chunk)) for k, chunk in enumerate(chunks)]
        times[step.__name__] = median_time(lambda: every_chunk(step), args.repeats)
    limit = limit_time(args.sims, len(scenario.circles), args.repeats)
    simulate = median_time(lambda: forecast.simulate(scenario, args.sims, rng=1),
                           args.repeats)
    floor = sum(times.values())

    print(f"five circles, {D} days, {args.sims:,} simulations, one process; "
          f"{pledgers / args.sims:.0f} would-be pledgers per simulation; "
          f"medians of {args.repeats}\n")
    print(f"{'step':<12}{'s':>8}{'/ limit':>10}")
    for name, seconds in [*times.items(), ("floor", floor), ("limit", limit),
                          ("engine", simulate)]:
        print(f"{name:<12}{seconds:>8.3f}{seconds / limit:>10.2f}")
    print(f"\nthe engine beyond the floor: {simulate - floor:.3f} s "
          f"({(simulate - floor) / limit:.1f} x the limit)")


if __name__ == "__main__":
    main()
