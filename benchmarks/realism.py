"""Simulated against real campaigns, side by side (docs/model.md, "Calibration").

For the real training campaigns (``../shared/data``, never copied into the project),
the shipped generic prior (simulated at each real campaign's own goal and duration,
for a sample of them) and the shipped examples, it prints:

* the mean share of the final total in each tenth of the time, for successes and
  for failures;
* final / goal: mean and median of failures, quartiles of successes; the success rate;
* the success rate by goal (the real campaigns' goal quintiles) and by duration;
* for the examples, the 80 % interval of the final total (p90 / p10) and the best of
  a few durations, also with ``reach_days`` 10 days longer and on a platform allowing
  any length.

Usage::

    python benchmarks/realism.py [--data ../shared/data/trajectories-train.csv.gz]
                                 [--campaigns 400] [--sims 100] [--seed 1]

About a minute on two cores.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import forecast  # noqa: E402
from forecast import calibration  # noqa: E402


def profile(final: np.ndarray, goal: np.ndarray, cumulative: np.ndarray,
            success: np.ndarray | None = None) -> dict[str, float]:
    m = calibration.moments(final, goal, cumulative, success)
    return dict(zip(calibration.MOMENT_NAMES, m))


def simulated_like(tenths: pd.DataFrame, count: int, sims: int, seed: int,
                   prior: Path) -> pd.DataFrame:
    """``sims`` campaigns of the generic prior at the goal and duration of each of
    ``count`` real campaigns drawn at random: their goal, duration, final and tenths."""
    rng = np.random.default_rng(seed)
    rows = tenths.iloc[rng.choice(len(tenths), size=min(count, len(tenths)), replace=False)]
    seeds = np.random.SeedSequence(seed).spawn(len(rows))
    frames, refused = [], 0
    for (_, row), child in zip(rows.iterrows(), seeds):
        D = max(1, int(round(row["duration_days"])))
        try:
            scenario = calibration.generic_prior(row["goal"], D, path=prior)
        except forecast.ScenarioError:  # the largest goals: over the memory bound
            refused += 1
            continue
        final, cumulative = calibration.simulated_tenths(scenario, sims, child)
        frame = pd.DataFrame(cumulative, columns=[f"c{k}" for k in range(1, 11)])
        frame["final"] = final
        frame["goal"] = row["goal"]
        frame["duration_days"] = row["duration_days"]
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out["success"] = out["final"] >= out["goal"]
    out.attrs["refused"] = refused
    return out


def by_bins(frame: pd.DataFrame, column: str, edges: np.ndarray) -> pd.Series:
    bins = pd.cut(frame[column], edges, include_lowest=True)
    return frame.groupby(bins, observed=False)["success"].mean()


def example(path: Path, sims: int, seed: int) -> dict[str, float]:
    scenario = forecast.load_scenario(path)
    result = forecast.simulate(scenario, sims, rng=seed)
    paths = result.outcome.paths.astype(float)
    out = profile(result.totals, scenario.goal, calibration.tenths_of_paths(paths))
    p10, p90 = np.quantile(result.totals, [0.1, 0.9])
    out["p90 / p10 of the final total"] = p90 / p10 if p10 > 0 else float("inf")
    out["best duration"], out["P(success) at the best duration"] = best_duration(
        scenario, sims // 4, seed)
    # Not pinned to a parameter: the time to reach one's people 10 days longer.
    longer = scenario.with_dynamics(reach_days=scenario.dynamics.reach_days + 10)
    out["best duration, reach_days + 10"] = best_duration(longer, sims // 4, seed)[0]
    # Where the platform's own limits bind: the same campaign on a platform without any.
    out["best duration, any length"] = best_duration(scenario.with_(platform="custom"),
                                                     sims // 4, seed)[0]
    return out


def best_duration(scenario: forecast.Scenario, sims: int, seed: int) -> tuple[int, float]:
    """The duration of the highest P(success) among a few the platform allows, and
    that probability (the same seed at each: common random numbers)."""
    rules = scenario.platform_rules
    candidates = [d for d in (15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 70, 80, 90)
                  if d >= rules.min_days and (rules.max_days is None or d <= rules.max_days)]
    odds = {d: forecast.simulate(scenario.with_(duration_days=d), sims,
                                 rng=seed).probability() for d in candidates}
    best = max(odds, key=odds.get)
    return best, odds[best]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=ROOT.parent / "shared" / "data" / "trajectories-train.csv.gz")
    parser.add_argument("--prior", type=Path, default=calibration.PRIOR_PATH)
    parser.add_argument("--campaigns", type=int, default=400)
    parser.add_argument("--sims", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    start = time.perf_counter()

    real = calibration.campaign_tenths(calibration.read_trajectories(args.data))
    simulated = simulated_like(real, args.campaigns, args.sims, args.seed, args.prior)
    cum = [f"c{k}" for k in range(1, 11)]
    table = pd.DataFrame({
        "real": profile(real["final"].to_numpy(), real["goal"].to_numpy(),
                        real[cum].to_numpy(), real["success"].to_numpy()),
        "generic prior": profile(simulated["final"].to_numpy(),
                                 simulated["goal"].to_numpy(), simulated[cum].to_numpy()),
    })
    pd.set_option("display.width", 160)
    print(f"# Simulated against real ({len(real):,} real campaigns; the generic prior at "
          f"the goal and duration of {args.campaigns} of them, {args.sims} simulations "
          f"each; seed {args.seed}; forecast {forecast.__version__}; "
          f"{simulated.attrs['refused']} of them refused by the memory bound)\n")
    print(table.round(3).to_string())

    goal_edges = np.quantile(real["goal"], np.linspace(0, 1, 6))
    goal_edges[0], goal_edges[-1] = 0, np.inf
    day_edges = np.array([0, 25, 45, 55, 59.5, np.inf])
    print("\n## Success rate by goal (real quintiles)\n")
    print(pd.DataFrame({"real": by_bins(real, "goal", goal_edges),
                        "generic prior": by_bins(simulated, "goal", goal_edges)}
                       ).round(3).to_string())
    print("\n## Success rate by duration (days)\n")
    print(pd.DataFrame({"real": by_bins(real, "duration_days", day_edges),
                        "generic prior": by_bins(simulated, "duration_days", day_edges)}
                       ).round(3).to_string())

    print("\n## The shipped examples (10,000 simulations each at their own goal)\n")
    examples = {path.stem: example(path, 10_000, args.seed)
                for path in sorted((ROOT / "models").glob("*.toml"))
                if path.stem != "generic-prior"}
    examples["generic prior (reference)"] = example(args.prior, 10_000, args.seed)
    print(pd.DataFrame(examples).round(3).to_string())
    print(f"\n({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
