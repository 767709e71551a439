"""``simulate`` and its result: probabilities, the summary, frames for analyses."""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from . import engine
from .executors import check_executor
from .i18n import Labels
from .scenario import MAX_SIMS, Scenario

__all__ = ["simulate", "simulate_many", "Result", "normalize_seed", "wilson_interval",
           "package_version", "MAX_SIMS", "GOAL_COMPLETION"]

#: The name of ``Result.by_circle``'s row for the goal completion's money.
GOAL_COMPLETION = "goal completion"


def package_version() -> str:
    """The installed version of the forecast package."""
    try:
        return metadata.version("forecast")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def normalize_seed(rng: Any = None) -> np.random.SeedSequence:
    """SPEC 7: ``None | int | SeedSequence | Generator`` -> one SeedSequence.

    A Generator is consumed once to seed the run, so that the run is still
    described by a reported integer.
    """
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(int(rng.integers(2**63)))
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)
                       and rng >= 0):
        return np.random.SeedSequence(None if rng is None else int(rng))
    raise ValueError(f"rng = {rng!r} is not valid; expected None, an integer >= 0, "
                     "a numpy SeedSequence or a numpy Generator")


def seed_label(seed: np.random.SeedSequence) -> int | list[int]:
    """What to report so that the run can be repeated: the entropy (and spawn key)."""
    if seed.spawn_key:
        return [int(seed.entropy), *map(int, seed.spawn_key)]
    return int(seed.entropy)


def wilson_interval(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (95 % by default)."""
    if trials == 0:
        return (0.0, 1.0)
    p = successes / trials
    denom = 1 + z**2 / trials
    centre = (p + z**2 / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z**2 / (4 * trials**2)) / denom
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return (low, high)


def simulate(scenario: Scenario, sims: int = 100_000, *, rng: Any = None,
             chunk_size: int = engine.SEED_BLOCK, workers: int = 1,
             progress: Callable[[int, int], Any] | None = None,
             executor: Any = None) -> "Result":
    """Simulate ``sims`` campaigns of ``scenario``.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (``load_scenario``).
    sims : int
        Number of simulated campaigns.
    rng : None, int, SeedSequence or Generator
        The seed; the one used is in ``Result.seed`` and in the summary.
    chunk_size : int
        Simulations held in memory at once (by each worker); never changes the
        numbers.
    workers : int
        Processes sharing the chunks (1: this one only); never changes the numbers.
    progress : callable, optional
        Called as ``progress(simulations_done, sims)`` after each chunk.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Where the chunks run instead of ``workers`` processes (docs/batch.md); never
        changes the numbers.
    """
    with closing(simulate_many([scenario], sims, rng=rng, chunk_size=chunk_size,
                               workers=workers, progress=progress,
                               executor=executor)) as results:
        return next(results)


def simulate_many(scenarios: Iterable[Scenario], sims: int = 100_000, *, rng: Any = None,
                  chunk_size: int = engine.SEED_BLOCK, workers: int = 1,
                  progress: Callable[[int, int], Any] | None = None,
                  executor: Any = None) -> Iterator["Result"]:
    """``simulate`` of each scenario with the same seed, yielded in order.

    With ``workers`` > 1 the chunks of all the runs are shared out among one set of
    processes, so that many small runs (a sensitivity analysis) gain as much as one
    large run. Each result is exactly ``simulate(scenario, sims, rng=rng)``.
    The worker processes live until the last result is taken or the iterator is
    closed: to stop early, wrap it in ``contextlib.closing``. ``progress`` is called
    as ``progress(simulations_done, simulations_total)`` over all the scenarios.
    With ``executor`` (a ``concurrent.futures.Executor`` or a
    ``dask.distributed.Client``) the chunks go to it instead of ``workers``
    processes, with the same numbers.
    """
    scenarios = list(scenarios)
    if not all(isinstance(s, Scenario) for s in scenarios):
        raise TypeError("scenario must be a forecast.Scenario (see load_scenario)")
    check_whole("sims", sims, MAX_SIMS)
    for name, value in (("chunk_size", chunk_size), ("workers", workers)):
        check_whole(name, value)
    check_executor(executor, workers)
    return _results(scenarios, int(sims), normalize_seed(rng), int(chunk_size),
                    int(workers), progress, executor)


def _results(scenarios: list[Scenario], sims: int, seed: np.random.SeedSequence,
             chunk_size: int, workers: int,
             progress: Callable[[int, int], Any] | None = None,
             executor: Any = None) -> Iterator["Result"]:
    jobs = [engine.Job(s, [s.goal], sims, seed) for s in scenarios]
    with closing(engine.run_jobs(jobs, chunk_size, workers, progress,
                                 executor)) as runs:
        for scenario, outcomes in zip(scenarios, runs):
            yield Result(scenario=scenario, sims=sims, seed=seed, outcome=outcomes[0],
                         workers=workers)



def check_whole(name: str, value: Any, most: int | None = None) -> None:
    """Raise ValueError, naming the argument, unless ``value`` is a whole number >= 1
    (and <= ``most`` if given)."""
    if (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1
            or (most is not None and value > most)):
        bound = f" and <= {most:,}" if most is not None else ""
        raise ValueError(f"{name} = {value!r} is not valid; expected a whole number "
                         f">= 1{bound}")


def _quantiles(values: np.ndarray, percents: tuple[int, ...]) -> dict[str, float | None]:
    if values.size == 0:
        return {f"p{p}": None for p in percents}
    found = np.percentile(values, percents)
    return {f"p{p}": float(v) for p, v in zip(percents, found)}


def _stats(values: np.ndarray, percents: tuple[int, ...]) -> dict[str, float | None]:
    return {"mean": float(values.mean()) if values.size else None,
            **_quantiles(values, percents)}


@dataclass(frozen=True)
class Result:
    """The simulated campaigns of one scenario.

    ``totals`` (gross pledges), ``net`` and ``backers`` have shape (sims,).
    """

    scenario: Scenario
    sims: int
    seed: np.random.SeedSequence
    outcome: engine.Outcome = field(repr=False)
    workers: int = field(default=1, repr=False, compare=False)  # for other goals
    _other_goals: dict = field(default_factory=dict, repr=False, compare=False)

    def __repr__(self) -> str:
        """One line: the scenario, the goal, the probability and its interval."""
        s = self.scenario
        low, high = self.ci95()
        return (f"<Result {s.name!r}: P(reaching {Labels('en', s.currency).money(s.goal)} in "
                f"{s.duration_days} days) = {self.probability():.1%} "
                f"[95% {low:.1%}–{high:.1%}], {self.sims:,} sims, "
                f"seed {seed_label(self.seed)}>")

    def _repr_html_(self) -> str:
        """A small table for notebooks: probability, gross and net if success."""
        from html import escape

        s, summary = self.scenario, self.summary()
        low, high = summary["ci95"]
        labels = Labels("en", s.currency)
        money = lambda v: "—" if v is None else escape(labels.money(v, 0))  # noqa: E731
        gross, net = summary["gross"], summary["net_if_success"]
        rows = [
            ("Probability of reaching the goal",
             f"<b>{summary['probability']:.1%}</b> (95% interval {low:.1%} – {high:.1%})"),
            ("Gross pledges, median (10%–90%)",
             f"{money(gross['p50'])} ({money(gross['p10'])} – {money(gross['p90'])})"),
            ("Net if success, median", money(net["p50"])),
            ("Expected payout", money(summary["expected_payout"])),
        ]
        if s.need is not None:
            rows.append((f"Need of {money(s.need)} covered",
                         f"{summary['need_probability']:.1%}"))
        body = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{v}</td></tr>"
                       for k, v in rows)
        return (f"<p><b>{escape(s.name)}</b>: goal {money(s.goal)} in {s.duration_days} "
                f"days on {escape(s.platform)}; {self.sims:,} simulated campaigns, seed "
                f"{seed_label(self.seed)}, forecast {self.version}</p><table>{body}</table>")

    @property
    def totals(self) -> np.ndarray:
        """Gross pledges of each simulated campaign, shape (sims,)."""
        return self.outcome.gross

    @property
    def net(self) -> np.ndarray:
        """Gross minus fees and reward costs, shape (sims,): what success would pay."""
        return self.outcome.net

    @property
    def backers(self) -> np.ndarray:
        return self.outcome.backers

    @property
    def success(self) -> np.ndarray:
        """Whether each campaign reached the scenario's goal, shape (sims,)."""
        return self.outcome.gross >= self.scenario.goal

    @property
    def payout(self) -> np.ndarray:
        """What the owner receives: net on success, 0 otherwise (all-or-nothing)."""
        return np.where(self.success, self.outcome.net, 0.0)

    def need_probability(self) -> float | None:
        """P(payout >= need): the chance that what the owner receives covers the
        scenario's ``need``; None without one."""
        need = self.scenario.need
        return None if need is None else float(np.mean(self.payout >= need))

    @property
    def fees(self) -> np.ndarray:
        f = self.scenario.fees
        return (f.platform_rate + f.payment_rate) * self.totals + f.per_pledge * self.backers

    @property
    def reward_costs(self) -> np.ndarray:
        return self.totals - self.fees - self.net

    @property
    def version(self) -> str:
        return package_version()

    # ----------------------------------------------------------------- probability
    def goal_changes_path(self, goal: float) -> bool:
        """Whether a campaign with ``goal`` would unfold differently from this one.

        What reads the goal before it is reached (``Scenario.goal_read_early``:
        momentum, a final surge held to the progress, the goal completion) changes
        the path everywhere. The post-goal factor only acts once the goal is
        reached, so for a lower goal the path up to that goal, and hence success, is
        the simulated one.
        """
        s = self.scenario
        if goal == s.goal:
            return False
        if s.goal_read_early:
            return True
        return s.dynamics.post_goal_factor < 1.0 and goal > s.goal

    def for_goal(self, goal: float) -> "Result":
        """The campaigns of this scenario run with ``goal``: this result when the goal
        changes nothing (``Scenario.goal_dependent``), else the same seed
        re-simulated with that goal (the same random numbers: ``engine.run_goals``).
        The last few are kept."""
        if goal == self.scenario.goal or not self.scenario.goal_dependent:
            return self
        if goal not in self._other_goals:
            if len(self._other_goals) >= 4:
                self._other_goals.pop(next(iter(self._other_goals)))
            self._other_goals[goal] = simulate(self.scenario.with_(goal=goal), self.sims,
                                               rng=self.seed, workers=self.workers)
        return self._other_goals[goal]

    def probability(self, goal: float | None = None) -> float:
        """P(gross >= goal): the probability of success, for this or another goal.

        Where the goal changes how the campaign unfolds up to it (see
        ``goal_changes_path``) the same seed is re-simulated with that goal, so the
        figure is exact.
        """
        goal = self.scenario.goal if goal is None else float(goal)
        if not goal > 0:
            raise ValueError(f"goal = {goal!r} is not valid; expected an amount > 0")
        result = self.for_goal(goal) if self.goal_changes_path(goal) else self
        return float(np.count_nonzero(result.totals >= goal) / self.sims)

    def std_error(self, goal: float | None = None) -> float:
        p = self.probability(goal)
        return math.sqrt(p * (1 - p) / self.sims)

    def ci95(self, goal: float | None = None) -> tuple[float, float]:
        """Wilson 95 % interval of the probability of success."""
        p = self.probability(goal)
        return wilson_interval(round(p * self.sims), self.sims)

    # ----------------------------------------------------------------- frames
    def daily(self) -> pd.DataFrame:
        """A row per day (day 0 is launch day): mean money pledged, the cumulative
        mean and 10/50/90 % percentiles, the probability the goal is reached by then,
        and the mean money from each circle (columns ``circle:NAME``).

        Percentiles come from the first ``engine.PATH_SIMS`` simulations.
        """
        o, n = self.outcome, self.sims
        p10, p50, p90 = np.percentile(o.paths, [10, 50, 90], axis=0)
        frame = pd.DataFrame({
            "day": np.arange(self.scenario.duration_days),
            "pledges_mean": o.daily_money / n,
            "cumulative_mean": np.cumsum(o.daily_money) / n,
            "cumulative_p10": p10.astype(float),
            "cumulative_p50": p50.astype(float),
            "cumulative_p90": p90.astype(float),
            "reached_goal_probability": np.cumsum(o.first_day[-1]) / n,
        })
        for i, circle in enumerate(self.scenario.circles):
            frame[f"circle:{circle.name}"] = o.circle_daily_sum[i] / n
        return frame

    def by_circle(self) -> pd.DataFrame:
        """A row per circle, then per commitment, then with a goal completion a row
        ``GOAL_COMPLETION`` (kind ``completion``: the money owners add to close their
        gap near the deadline; no pledgers counted): mean pledgers, mean amount, share
        of the mean gross total, and a commitment's ``probability`` as given in the
        scenario (NaN for a circle; its simulated frequency is ``pledgers_mean``)."""
        o, n = self.outcome, self.sims
        mean_gross = float(self.totals.mean())
        rows = []
        for i, c in enumerate(self.scenario.circles):
            amount = o.circle_daily_sum[i].sum() / n
            rows.append({"name": c.name, "kind": c.kind,
                         "pledgers_mean": o.circle_pledgers_sum[i] / n, "amount_mean": amount,
                         "probability": math.nan})
        for m, c in enumerate(self.scenario.commitments):
            rows.append({"name": c.name, "kind": "commitment",
                         "pledgers_mean": o.commitment_count[m] / n,
                         "amount_mean": o.commitment_sum[m] / n,
                         "probability": c.probability})
        if self.scenario.completion is not None:
            rows.append({"name": GOAL_COMPLETION, "kind": "completion",
                         "pledgers_mean": math.nan,
                         "amount_mean": float(o.closing.mean()),
                         "probability": math.nan})
        frame = pd.DataFrame(rows, columns=["name", "kind", "pledgers_mean", "amount_mean",
                                            "probability"])
        frame["share"] = frame["amount_mean"] / mean_gross if mean_gross > 0 else 0.0
        return frame

    def by_tier(self) -> pd.DataFrame:
        """A row per reward tier: mean pledgers, amount and reward cost.

        A pledger's tier is drawn independently of everything else, so a tier's
        mean pledgers is its share of the mean pledgers of the circles that pick
        tiers (an exact expectation, estimated from those circles' pledgers).
        """
        tiered = sum(self.outcome.circle_pledgers_sum[i]
                     for i, c in enumerate(self.scenario.circles) if c.pledge is None)
        rows = []
        for r in self.scenario.rewards:
            pledgers = r.share * tiered / self.sims
            rows.append({"amount": r.amount, "name": r.name, "share": r.share,
                         "unit_cost": r.unit_cost, "pledgers_mean": pledgers,
                         "amount_mean": pledgers * r.amount,
                         "cost_mean": pledgers * r.unit_cost})
        return pd.DataFrame(rows, columns=["amount", "name", "share", "unit_cost",
                                           "pledgers_mean", "amount_mean", "cost_mean"])

    def frame(self) -> pd.DataFrame:
        """A row per simulated campaign: gross, backers, fees, reward costs, net,
        success and payout."""
        return pd.DataFrame({"gross": self.totals, "backers": self.backers,
                             "fees": self.fees, "reward_costs": self.reward_costs,
                             "net": self.net, "success": self.success,
                             "payout": self.payout})

    def milestones(self) -> dict[str, dict[str, float | None]]:
        """For 25/50/75/100 % of the goal: P(reached by the deadline) and the median
        day (0 = launch) on which campaigns that reach it do."""
        found = {}
        for k, fraction in enumerate(engine.MILESTONES):
            counts = self.outcome.first_day[k]
            reached = int(counts.sum())
            median = None
            if reached:
                median = int(np.searchsorted(np.cumsum(counts), reached / 2))
            found[str(round(fraction * 100))] = {"probability": reached / self.sims,
                                                 "median_day": median}
        return found

    def summary(self) -> dict[str, Any]:
        """Everything ``forecast run --json`` prints, as a dict."""
        s = self.scenario
        p = self.probability()
        low, high = self.ci95()
        success = self.success
        payout = self.payout
        daily = self.daily()
        by_circle = self.by_circle()
        circles = by_circle[~by_circle["kind"].isin(["commitment", "completion"])]
        commitments = by_circle[by_circle["kind"] == "commitment"]
        completion = by_circle[by_circle["kind"] == "completion"]
        rows = lambda f: {r["name"]: {"pledgers_mean": float(r["pledgers_mean"]),  # noqa: E731
                                      "amount_mean": float(r["amount_mean"]),
                                      "share": float(r["share"])} for _, r in f.iterrows()}
        return {
            "scenario": s.name,
            "file": s.path,
            "platform": s.platform,
            "currency": s.currency,
            "goal": s.goal,
            "duration_days": s.duration_days,
            "sims": self.sims,
            "seed": seed_label(self.seed),
            "version": self.version,
            "probability": p,
            "ci95": [low, high],
            "std_error": self.std_error(),
            "gross": _stats(self.totals, (5, 10, 25, 50, 75, 90, 95)),
            "backers": _stats(self.backers.astype(float), (10, 50, 90)),
            "net_if_success": _stats(self.net[success], (10, 50, 90)),
            "expected_payout": float(payout.mean()),
            "need": s.need,
            "need_probability": self.need_probability(),
            "fees_mean": float(self.fees.mean()),
            "reward_costs_mean": float(self.reward_costs.mean()),
            "by_circle": rows(circles),
            "by_commitment": rows(commitments),
            "goal_completion": ({"amount_mean": float(completion["amount_mean"].iloc[0]),
                                 "share": float(completion["share"].iloc[0])}
                                if len(completion) else None),
            "daily": {
                "day": daily["day"].tolist(),
                "pledges_mean": daily["pledges_mean"].tolist(),
                "cumulative_mean": daily["cumulative_mean"].tolist(),
                "cumulative_p10": daily["cumulative_p10"].tolist(),
                "cumulative_p50": daily["cumulative_p50"].tolist(),
                "cumulative_p90": daily["cumulative_p90"].tolist(),
                "reached_goal_probability": daily["reached_goal_probability"].tolist(),
                "paths_from_sims": int(self.outcome.paths.shape[0]),
            },
            "milestones": self.milestones(),
        }
