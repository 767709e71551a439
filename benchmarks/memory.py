"""Peak memory of the engine per would-be pledger, for ``scenario.BYTES_PER_PLEDGER``.

The engine draws one stream block of ``SEED_BLOCK`` simulations at a time and holds
every would-be pledger of the block (docs/model.md, "How the engine draws"), so its
peak memory grows with the expected would-be pledgers per simulation. Each case runs
one block (``SEED_BLOCK`` simulations, one process) in a fresh Python process, at a
small and a large number of would-be pledgers, and reads the peak resident set size
(``ru_maxrss``); the difference over the difference in would-be pledgers is what one
costs. Each case is run twice: a ``simulate``, and a sweep of five goals, which also
holds the sums its goals share (``forecast.goal_totals``). Cases: a stock circle
alone; stock, a source circle and a featured flow with a post-goal factor; a chain of
source circles, the last one capped (the parts looked at per path, the most held).
The scenarios have the final surge and the goal completion of the defaults.

Run: ``python benchmarks/memory.py`` (about a minute). The bound in
forecast/scenario.py takes the largest figure printed, rounded up.
"""
from __future__ import annotations

import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys
import forecast
from forecast.engine import SEED_BLOCK
from forecast.scenario import expected_pledgers
from forecast.sweep import sweep
spec = json.loads(sys.argv[1])
scenario = forecast.Scenario.from_dict(spec)
if sys.argv[2] == "simulate":
    forecast.simulate(scenario, SEED_BLOCK, rng=1, workers=1)
else:
    sweep(scenario, [scenario.goal * f for f in (0.5, 0.8, 1.0, 1.2, 1.5)],
          sims=SEED_BLOCK, rng=1, workers=1)
print(json.dumps({"rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "pledgers": expected_pledgers(scenario)}))
"""


def stock(scale: float) -> dict:
    return {"campaign": {"goal": 1e9, "duration_days": 30, "platform": "custom"},
            "reward": [{"amount": 25, "share": 0.5}, {"amount": 60, "share": 0.5}],
            "circle": [{"name": "list", "size": int(100_000 * scale), "conversion": 0.01}]}


def mixed(scale: float) -> dict:
    return {"campaign": {"goal": 20 * 1_000 * scale, "duration_days": 30,
                         "platform": "custom"},
            "dynamics": {"post_goal_factor": 0.7},
            "reward": [{"amount": 25, "share": 0.5}, {"amount": 60, "share": 0.5}],
            "circle": [
                {"name": "list", "size": int(40_000 * scale), "conversion": 0.01},
                {"name": "shares", "source": "list", "reach_per_pledger": 20,
                 "conversion": 0.02},
                {"name": "platform", "daily_reach": 10 * scale, "conversion": 0.1,
                 "featured_at": 0.3, "featured_boost": 2.0}]}


def capped(scale: float) -> dict:
    """A chain of source circles, the last one capped: every part is open."""
    return {"campaign": {"goal": 25 * 1_500 * scale, "duration_days": 30,
                         "platform": "custom"},
            "dynamics": {"post_goal_factor": 0.5},
            "reward": [{"amount": 25, "share": 1.0}],
            "circle": [
                {"name": "list", "size": int(50_000 * scale), "conversion": 0.01},
                {"name": "shares", "source": "list", "reach_per_pledger": 10,
                 "conversion": 0.1},
                {"name": "shares of shares", "source": "shares", "reach_per_pledger": 10,
                 "conversion": 0.1, "size": int(300 * scale) + 1}]}


def measure(spec: dict, work: str = "simulate") -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec), work],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> None:
    from forecast.engine import SEED_BLOCK

    print(f"one block of {SEED_BLOCK:,} simulations, peak RSS of a fresh process")
    print(f"{'case':<8} {'work':<9} {'pledgers/sim (small, large)':>28} "
          f"{'RSS MB (small, large)':>24} {'bytes per would-be pledger':>28}")
    for name, build in (("stock", stock), ("mixed", mixed), ("capped", capped)):
        for work in ("simulate", "sweep"):
            small, large = measure(build(0.01), work), measure(build(1.0), work)
            slope = (large["rss"] - small["rss"]) / (
                SEED_BLOCK * (large["pledgers"] - small["pledgers"]))
            print(f"{name:<8} {work:<9} {small['pledgers']:>13,.0f} "
                  f"{large['pledgers']:>14,.0f} {small['rss'] / 2**20:>11,.0f} "
                  f"{large['rss'] / 2**20:>12,.0f} {slope:>28.1f}")


if __name__ == "__main__":
    main()
