"""Time work on a two-worker Dask LocalCluster against one process (issue 20).

In one run, on models/la-ruche-lunch-box.toml:

- **10^7 simulations** (``--sims``): ``simulate`` in one process, with two local
  worker processes (``workers=2``) and on the cluster (``executor=client``); the
  three must give identical totals, and the script says whether they did;
- **a 1,000-scenario batch** (``--scenarios``): the example at as many goals
  (10,000 to 40,000) and durations (30 to 60 days), ``--batch-sims`` simulations
  each, run by ``run_batch`` in one process and on the cluster (identical frames);
- **the overhead per task**: the same batch with one simulation per scenario (the
  items' fixed costs: the plan, the tables, sending the scenario and the row), and
  1,000 calls of a function that does nothing, on the cluster; each divided by the
  number of tasks.

The cluster's start-up is timed apart and left out of the rest. The items are built
in memory (``BatchItem``), so reading files is not timed. Run from the repository
root:  python benchmarks/batch.py [--quick]
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

import forecast
from forecast.batch import BatchItem, run_batch
from forecast.executors import Runner, dask_client

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "la-ruche-lunch-box.toml"


def _nothing(k: int) -> int:
    return k


def items(scenario: forecast.Scenario, count: int) -> list[BatchItem]:
    """``count`` variants of ``scenario``: goals and durations spread over a grid."""
    goals = np.linspace(10_000, 40_000, count)
    days = 30 + np.arange(count) % 31
    out = []
    for k, (goal, duration) in enumerate(zip(goals, days)):
        changed = scenario.with_(goal=float(round(goal)), duration_days=int(duration))
        out.append(BatchItem(f"variant-{k:04d}", "scenario", str(MODEL), scenario=changed,
                             goal=changed.goal, duration_days=changed.duration_days,
                             platform=changed.platform))
    return out


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return time.perf_counter() - start, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=10_000_000)
    parser.add_argument("--scenarios", type=int, default=1_000)
    parser.add_argument("--batch-sims", type=int, default=2_000)
    parser.add_argument("--quick", action="store_true",
                        help="10^6 simulations and 200 scenarios")
    args = parser.parse_args()
    if args.quick:
        args.sims, args.scenarios = 1_000_000, 200
    import distributed

    scenario = forecast.load_scenario(MODEL)
    print(f"forecast {forecast.__version__}, dask {distributed.__version__}, Python "
          f"{platform.python_version()}, NumPy {np.__version__}, "
          f"{forecast.engine.cores()} cores; {MODEL.name}")
    rows = []

    def show(name, one_s, pool_s, dask_s, tasks, same):
        """A row of the table, printed as soon as it is measured."""
        rows.append((name, one_s, pool_s, dask_s, tasks, same))
        pool = "" if pool_s is None else f"{pool_s:.2f}"
        print(f"| {name} | {one_s:.2f} | {pool} | {dask_s:.2f} | {one_s / dask_s:.2f} | "
              f"{tasks:,} | {1000 * dask_s / tasks:.2f} | {same} |", flush=True)

    start = time.perf_counter()
    with dask_client(local_workers=2) as client:
        client.wait_for_workers(2)
        print(f"LocalCluster of 2 workers (1 thread each) started in "
              f"{time.perf_counter() - start:.1f} s")
        print()
        print("| work | one process s | 2 local processes s | 2-worker LocalCluster s | "
              "one / cluster | tasks | cluster ms per task | identical |")
        print("|---|---:|---:|---:|---:|---:|---:|---|", flush=True)

        # Simulations of one scenario: chunks of 8,192.
        chunks = -(-args.sims // forecast.engine.SEED_BLOCK)
        one_s, one = timed(forecast.simulate, scenario, args.sims, rng=1)
        pool_s, pool = timed(forecast.simulate, scenario, args.sims, rng=1, workers=2)
        dask_s, there = timed(forecast.simulate, scenario, args.sims, rng=1,
                              executor=client)
        same = (np.array_equal(one.totals, pool.totals)
                and np.array_equal(one.totals, there.totals))
        del one, pool, there
        show(f"simulate, {args.sims:,} sims ({chunks:,} chunks)", one_s, pool_s, dask_s,
             chunks, same)

        # A batch of scenarios: one task per scenario.
        batch = items(scenario, args.scenarios)
        for sims in (args.batch_sims, 1):
            here_s, here = timed(run_batch, batch, sims=sims, rng=1)
            far_s, far = timed(run_batch, batch, sims=sims, rng=1, executor=client)
            show(f"batch of {args.scenarios:,} scenarios, {sims:,} sims each", here_s,
                 None, far_s, args.scenarios, here.equals(far))

        calls = [(k,) for k in range(1_000)]
        runner = Runner(client)
        noop_s, _ = timed(lambda: list(runner.as_they_end(_nothing, calls)))
    print(f"| 1,000 calls that do nothing | | | {noop_s:.2f} | | 1,000 | "
          f"{noop_s:.2f} | |")
    small = rows[-1]
    print()
    print(f"Overhead per batch item on the cluster (1 simulation each): "
          f"{1000 * small[3] / small[4]:.2f} ms against {1000 * small[1] / small[4]:.2f} ms "
          f"in one process; per task that does nothing: {noop_s:.2f} ms.")
    return 0 if all(row[-1] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
