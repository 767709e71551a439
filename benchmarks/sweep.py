"""Time a goal x duration sweep against one ``simulate`` call of the same scenario.

The sweep is 31 goals (10000:40000:1000) x 4 durations (30, 45, 60, 90 days) at
100,000 simulations of models/la-ruche-lunch-box.toml; the baseline is one
``simulate`` of the scenario as written (45 days). Each time is the median of
``--repeat`` runs, and the script prints the ratio sweep / simulate.

Two variants, because they cost very differently:

- "as written": La Ruche's visitors have ``featured_at`` (momentum that starts at a
  fraction of the goal), the scenario has ``post_goal_factor = 0.7``, a final surge
  held to the progress and a goal completion, so the goal changes the campaigns: each
  duration draws its campaigns once, and each goal's totals are found on sums every
  goal shares (``forecast.goal_totals``);
- "goal-independent": the same scenario with momentum removed (no ``featured_at`` /
  ``featured_boost``), ``post_goal_factor = 1``, and neither a final surge that
  depends on the progress nor a goal completion; one ``simulate`` per duration
  serves every goal, and the ratio should be close to the number of durations (4),
  again scaled by their lengths.

Run from the repository root:  python benchmarks/sweep.py [--sims 100000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import forecast
from forecast.sweep import sweep

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "la-ruche-lunch-box.toml"
GOALS = list(range(10_000, 40_001, 1_000))
DAYS = [30, 45, 60, 90]


def goal_independent(scenario: forecast.Scenario) -> forecast.Scenario:
    """The scenario without momentum, the post-goal factor, the final surge's
    dependence on the progress and the goal completion."""
    raw = {k: v for k, v in scenario.raw.items()}
    raw["circle"] = [{k: v for k, v in c.items() if k not in ("featured_at", "featured_boost")}
                     for c in raw["circle"]]
    raw["dynamics"] = {**raw.get("dynamics", {}), "post_goal_factor": 1.0,
                       "surge_half_progress": 0.0, "completion_half_progress": 0.0}
    changed = forecast.Scenario.from_dict(raw, scenario.path)
    assert not changed.goal_dependent
    return changed


def median_time(label: str, work, repeat: int) -> float:
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
        print(f"  {label}: run {i + 1}/{repeat} {times[-1]:.2f} s", file=sys.stderr, flush=True)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per median")
    parser.add_argument("--repeat-dependent", type=int, default=None,
                        help="runs of the goal-dependent sweep; default --repeat")
    parser.add_argument("--seed", type=int, default=20241122)
    args = parser.parse_args()
    slow_repeat = args.repeat if args.repeat_dependent is None else args.repeat_dependent

    written = forecast.load_scenario(MODEL)
    variants = [
        ("goal-independent (momentum and post-goal factor removed): one simulate per "
         "duration", goal_independent(written), args.repeat),
        ("as written (featured_at, post_goal_factor 0.7, surge, completion): drawn once "
         "per duration, each goal found on shared sums", written, slow_repeat),
    ]
    print(f"{MODEL.name}: sweep of {len(GOALS)} goals x {len(DAYS)} durations "
          f"({GOALS[0]}:{GOALS[-1]}:1000, days {','.join(map(str, DAYS))}) against one "
          f"simulate ({written.duration_days} days), {args.sims:,} simulations, "
          f"medians of {args.repeat} runs (goal-dependent sweep: {slow_repeat}), "
          f"forecast {forecast.__version__}", flush=True)
    for label, scenario, repeat in variants:
        one = median_time("simulate", lambda: forecast.simulate(
            scenario, args.sims, rng=args.seed), args.repeat)
        many = median_time("sweep", lambda: sweep(
            scenario, GOALS, DAYS, sims=args.sims, rng=args.seed), repeat)
        print(f"{label}\n  simulate {one:.2f} s, sweep {many:.2f} s, ratio sweep / "
              f"simulate = {many / one:.1f}", flush=True)


if __name__ == "__main__":
    main()
