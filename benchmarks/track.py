"""How long one `forecast.track` call takes at default settings, against the 200 ms
target (issue 15): a backtest makes thousands of them.

Synthetic campaigns (no data read): the generic prior at goals of 2,000 to 200,000
and durations of 30 and 60 days, observed daily up to 10 %, 25 % and 50 % of the
duration along a path at half the goal's pace. The calls are made ROUNDS times,
alternating with one `simulate` of the generic prior at 2,000 simulations (the
engine, as a yardstick measured in the same run); medians are printed with their
ratio to the target.

Usage: python benchmarks/track.py [ROUNDS]
"""
from __future__ import annotations

import statistics
import sys
import time

import numpy as np
import pandas as pd

import forecast

TARGET = 0.200  # seconds, issue 15


def cases() -> list[tuple[pd.DataFrame, float, int]]:
    out = []
    for goal in (2_000.0, 20_000.0, 200_000.0):
        for days in (30, 60):
            for at in (0.1, 0.25, 0.5):
                seen = np.arange(0, int(at * days) + 1, dtype=float)
                pledged = 0.5 * goal * (seen / days) ** 0.7
                out.append((pd.DataFrame({"day": seen, "pledged": pledged}), goal, days))
    return out


def main(rounds: int = 5) -> None:
    calls = cases()
    yardstick = forecast.generic_prior(5_000, 30)
    track_times: list[float] = []
    engine_times: list[float] = []
    for r in range(rounds):
        for k, (seen, goal, days) in enumerate(calls):
            start = time.perf_counter()
            forecast.track(seen, goal=goal, duration_days=days, rng=r * 100 + k)
            track_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        forecast.simulate(yardstick, 2_000, rng=r)
        engine_times.append(time.perf_counter() - start)
    med = statistics.median(track_times)
    print(f"# forecast.track at default settings: {len(calls)} campaigns x {rounds} rounds;"
          f" forecast {forecast.__version__}")
    print(f"track call, median          {1000 * med:8.1f} ms   ({med / TARGET:.2f} x the "
          f"{1000 * TARGET:.0f} ms target)")
    print(f"track call, 90th percentile {1000 * np.quantile(track_times, 0.9):8.1f} ms")
    eng = statistics.median(engine_times)
    print(f"simulate, generic prior, 2,000 campaigns {1000 * eng:8.1f} ms "
          f"(a track call is {med / eng:.2f} x that)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
