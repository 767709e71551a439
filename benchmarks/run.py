"""Speed and memory of the engine against the machine's limit, in one run.

    python benchmarks/run.py              # the full table (about 8 minutes on 2 cores)
    python benchmarks/run.py --quick      # 10^4 and 10^5 only, no 10^7 memory run

For each standard scenario (stock-only, and the five-circle La Ruche example), both at
90 days, and each size (10^4, 10^5, 10^6 simulations), it prints medians of several
repetitions of:

- engine: ``forecast.simulate``;
- limit: the time NumPy takes to draw one uniform number per (simulation, day, circle)
  for the same size, into a preallocated buffer chunk by chunk (the cheapest way to draw
  them): no engine that steps each circle each day can draw less; and engine / limit;
- naive: a pure-Python simulation of the same model, one campaign and one day at a time
  (benchmarks/naive.py), timed on a subset and scaled per simulation; and naive / engine;

once in one process, and once with ``--workers`` processes (default: all cores) for
both the engine (``simulate(..., workers=N)``) and the limit (the same chunks shared
out the same way), so that each ratio compares like with like. The naive baseline
stays one process, as written in a notebook.

Then the peak memory (max RSS) of a separate process simulating 10^7 campaigns of the
five-circle example in one process, in chunks of 32,768, and a check that its first
blocks equal a 10^5 run made with chunks of 8,192. Targets (issue 6): engine <= 3x the
limit at 10^5 for the five-circle example, >= 300x faster than naive, 10^7 within
1.5 GiB.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import forecast  # noqa: E402
from forecast import engine  # noqa: E402
from naive import simulate_naive  # noqa: E402

EXAMPLE = HERE.parent / "models" / "la-ruche-lunch-box.toml"
DAYS = 90


def scenarios() -> dict[str, forecast.Scenario]:
    full = forecast.load_scenario(EXAMPLE).with_(duration_days=DAYS)
    raw = dict(full.raw)
    raw["circle"] = [c for c in raw["circle"] if "size" in c and "source" not in c]
    raw["dynamics"] = {k: v for k, v in raw.get("dynamics", {}).items()
                       if k != "post_goal_factor"}
    stock = forecast.Scenario.from_dict(raw, str(EXAMPLE))
    return {"stock-only (2 circles)": stock, "five circles (6 circles)": full}


def median_time(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


_BUFFER: dict = {}


def draw_uniforms(first: int, count: int) -> None:
    """One chunk of the limit: ``count`` uniforms into this process's buffer."""
    if _BUFFER.get("size", 0) < count:
        _BUFFER.update(size=count, array=np.empty(count))
    np.random.default_rng(first).random(out=_BUFFER["array"][:count])


def limit_time(sims: int, circles: int, repeats: int, workers: int = 1) -> float:
    """Uniforms for every (simulation, day, circle), drawn chunk by chunk (the engine's
    chunks) into a buffer; with ``workers`` > 1, the chunks are shared out between
    that many processes the way the engine shares them (a process pool, chunks in
    turn), pool start-up included as in the engine's time."""
    chunk = engine.SEED_BLOCK
    tasks = [(first, min(chunk, sims - first) * DAYS * circles)
             for first in range(0, sims, chunk)]
    if not engine.shared_out(len(tasks), workers):  # as the engine decides
        return median_time(lambda: [draw_uniforms(*task) for task in tasks], repeats)
    def draw():
        with engine.process_pool(workers) as pool:
            list(pool.map(draw_uniforms, *zip(*tasks)))

    return median_time(draw, repeats)


MEMORY_SCRIPT = """
import resource, sys, numpy as np, forecast
scenario = forecast.load_scenario(sys.argv[1]).with_(duration_days=int(sys.argv[2]))
result = forecast.simulate(scenario, int(sys.argv[3]), rng=2026, chunk_size=32_768)
small = forecast.simulate(scenario, 100_000, rng=2026, chunk_size=8_192)
same = int(np.array_equal(result.totals[:98_304], small.totals[:98_304]))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, same, result.probability())
"""


def memory_run(sims: int) -> tuple[float, bool, float, float]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(EXAMPLE), str(DAYS),
                           str(sims)], capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    rss_kib, same, probability = done.stdout.split()
    return int(rss_kib) / 1024**2, same == "1", float(probability), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^4 and 10^5 only, no 10^7")
    parser.add_argument("--repeats", type=int, default=5, help="repetitions (median)")
    parser.add_argument("--naive-sims", type=int, default=100)
    parser.add_argument("--memory-sims", type=int, default=10_000_000)
    parser.add_argument("--workers", type=int, default=engine.cores(),
                        help="also time the engine and the limit with this many "
                             "processes (default: all cores)")
    args = parser.parse_args()

    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    print(f"forecast {forecast.__version__}, numpy {np.__version__}, Python "
          f"{platform.python_version()}, {os.cpu_count()} cores, {cpu}")
    print(f"{DAYS} days; medians of {args.repeats} repetitions "
          f"(1 at 10^6); naive timed on {args.naive_sims} campaigns\n")
    workers = args.workers
    header = (f"{'scenario':<26}{'sims':>10}{'workers':>8}{'engine s':>10}{'limit s':>9}"
              f"{'engine/limit':>14}{'naive s':>9}{'naive/engine':>14}")
    print(header)
    print("-" * len(header))
    for name, scenario in scenarios().items():
        circles = len(scenario.circles)
        per_naive = median_time(lambda: simulate_naive(scenario, args.naive_sims, seed=1),
                                max(1, args.repeats // 2)) / args.naive_sims
        for sims in sizes:
            repeats = 1 if sims >= 1_000_000 else args.repeats
            naive = per_naive * sims
            for w in sorted({1, workers}):
                run = median_time(lambda: forecast.simulate(scenario, sims, rng=1, workers=w),
                                  repeats)
                limit = limit_time(sims, circles, repeats, w)
                print(f"{name:<26}{sims:>10,}{w:>8}{run:>10.3f}{limit:>9.3f}"
                      f"{run / limit:>14.1f}{naive:>9.0f}{naive / run:>14.0f}", flush=True)
    if not args.quick:
        print(f"\npeak memory of {args.memory_sims:,} simulations (five circles, "
              f"{DAYS} days), in a separate process:", flush=True)
        gib, same, probability, elapsed = memory_run(args.memory_sims)
        print(f"  max RSS {gib:.2f} GiB; {elapsed:.0f} s; P(success) {probability:.4f}; "
              f"first 98,304 totals identical to a 10^5 run with chunk_size=8192: {same}")


if __name__ == "__main__":
    main()
