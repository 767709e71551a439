"""Many scenarios and live campaigns in one run: a tidy row each (docs/batch.md).

What a batch reads (``read_batch``), from files or folders:

- a scenario TOML file: its forecast before launch, ``simulate``;
- ``campaigns.toml``: the live campaigns it lists, each a table ``[[campaign]]`` with
  ``observed`` (the CSV of pledges so far, as ``forecast track`` reads it; its path
  relative to the manifest), and either ``scenario`` (a scenario file, with optional
  ``goal`` and ``days`` in place of its own) or ``goal`` and ``days`` (and
  ``platform``) for the generic prior; optionally ``name`` (by default the observed
  file's name), ``launch`` (YYYY-MM-DD, for dated rows) and ``daily`` (true when each
  row gives that row's amount): ``track``;
- a folder: its ``*.toml`` files, in name order, ``campaigns.toml`` as above and the
  others as scenarios (not its subfolders).

Files are read here; what travels to the workers is each item's scenario and
observed pledges, the number of simulations and the seed; what comes back is its row.
Every item has the batch's seed, so that a row is what ``forecast run`` or
``forecast track`` gives with that seed and as many simulations. An item that cannot
be read or run is a row with ``status`` "failed" and its ``error``; the others go on.
"""
from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import engine
from .executors import Runner, check_executor
from .result import (MAX_SIMS, Result, _quantiles, check_whole, normalize_seed,
                     package_version, seed_label)
from .scenario import PLATFORMS, Scenario, ScenarioError, load_scenario

__all__ = ["BatchItem", "BATCH_COLUMNS", "MANIFEST", "read_batch", "run_batch",
           "processes"]

#: The name of a folder's list of live campaigns.
MANIFEST = "campaigns.toml"
#: The keys of a ``[[campaign]]`` table.
CAMPAIGN_KEYS = ("name", "observed", "scenario", "goal", "days", "platform", "launch",
                 "daily")
#: The percentiles of the final total each row gives.
FINAL_PERCENTS = (10, 50, 90)
#: A batch's columns, one row per scenario or live campaign.
BATCH_COLUMNS = ["name", "kind", "file", "status", "error", "platform", "goal",
                 "duration_days", "day", "pledged", "probability", "ci_low", "ci_high",
                 "final_p10", "final_p50", "final_p90", "expected_payout",
                 "need_probability", "method", "sims", "seed", "version"]


@dataclass(frozen=True)
class BatchItem:
    """One scenario (``kind`` "scenario") or live campaign ("campaign") of a batch.

    ``scenario`` is None for a campaign on the generic prior (then ``goal``,
    ``duration_days`` and ``platform`` say which); ``observed`` is a campaign's
    pledges so far (``tracking.read_observed``); ``error`` says why an item that could
    not be read fails (then nothing else is set).
    """

    name: str
    kind: str
    file: str
    scenario: Scenario | None = None
    observed: pd.DataFrame | None = field(default=None, repr=False)
    goal: float | None = None
    duration_days: int | None = None
    platform: str | None = None
    error: str | None = None


def read_batch(sources: Iterable[str | os.PathLike]) -> list[BatchItem]:
    """The items of scenario files, ``campaigns.toml`` files and folders of them, in
    the order given (a folder's files in name order).

    A file or manifest entry that cannot be read is an item with its ``error``, so
    that the others still run. Raises ValueError for a source that does not exist
    or a folder with no TOML file.
    """
    items: list[BatchItem] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            files = sorted(path.glob("*.toml"))
            if not files:
                raise ValueError(f"{path}: no scenario (*.toml) or {MANIFEST} in this "
                                 "folder")
        elif path.is_file():
            files = [path]
        else:
            raise ValueError(f"{path}: no such file or folder; give scenario TOML files, "
                             f"{MANIFEST} files or folders of them")
        for file in files:
            items += _campaigns(file) if file.name == MANIFEST else [_scenario_item(file)]
    return items


def _scenario_item(file: Path) -> BatchItem:
    try:
        scenario = load_scenario(file)
    except ScenarioError as error:
        return BatchItem(file.stem, "scenario", str(file), error=str(error))
    return BatchItem(file.stem, "scenario", str(file), scenario=scenario,
                     goal=scenario.goal, duration_days=scenario.duration_days,
                     platform=scenario.platform)


def _campaigns(manifest: Path) -> list[BatchItem]:
    """The live campaigns a ``campaigns.toml`` lists; one failed item for a manifest
    that cannot be read at all."""
    try:
        with open(manifest, "rb") as handle:
            tables = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        return [BatchItem(manifest.stem, "campaign", str(manifest),
                          error=f"{manifest}: not a readable TOML file ({error})")]
    entries = tables.get("campaign")
    other = sorted(set(tables) - {"campaign"})
    if other or not isinstance(entries, list) or not entries:
        found = f"; found {', '.join(other)}" if other else ""
        return [BatchItem(manifest.stem, "campaign", str(manifest),
                          error=f"{manifest}: expected [[campaign]] tables, one per live "
                                f"campaign, each with observed and scenario or goal and "
                                f"days{found}")]
    return [_campaign_item(manifest, k, entry) for k, entry in enumerate(entries, 1)]


def _campaign_item(manifest: Path, k: int, entry: Any) -> BatchItem:
    where = f"{manifest} [[campaign]] {k}"
    name = str(entry.get("name") or Path(str(entry.get("observed", f"campaign-{k}"))).stem
               ) if isinstance(entry, dict) else f"campaign-{k}"
    observed = entry.get("observed") if isinstance(entry, dict) else None

    def failed(message: str) -> BatchItem:
        return BatchItem(name, "campaign", str(manifest.parent / str(observed or "")),
                         error=f"{where}: {message}")

    if not isinstance(entry, dict):
        return failed("expected a table of keys")
    unknown = sorted(set(entry) - set(CAMPAIGN_KEYS))
    if unknown:
        return failed(f"unknown key {unknown[0]!r}; expected {', '.join(CAMPAIGN_KEYS)}")
    if not isinstance(observed, str):
        return failed("observed (the CSV of pledges so far) is missing")
    goal, days, platform = entry.get("goal"), entry.get("days"), entry.get("platform")
    if goal is not None and (isinstance(goal, bool) or not isinstance(goal, (int, float))
                             or not math.isfinite(goal) or goal <= 0):
        return failed(f"goal = {goal!r} is not valid; expected an amount > 0")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int)
                             or days < 1):
        return failed(f"days = {days!r} is not valid; expected a whole number of days >= 1")
    if platform is not None and platform not in PLATFORMS:
        return failed(f"platform = {platform!r} is not valid; expected one of "
                      f"{', '.join(PLATFORMS)}")
    scenario = None
    if "scenario" in entry:
        if platform is not None:
            return failed("platform is for the generic prior; the scenario sets its own")
        try:
            scenario = load_scenario(manifest.parent / str(entry["scenario"]))
            changes = {k: v for k, v in (("goal", goal), ("duration_days", days))
                       if v is not None}
            scenario = scenario.with_(**changes) if changes else scenario
        except ScenarioError as error:
            return failed(str(error))
        goal, days, platform = scenario.goal, scenario.duration_days, scenario.platform
    elif goal is None or days is None:
        return failed("give scenario, or goal and days (and platform) for the generic "
                      "prior")
    from .tracking import read_observed

    daily = entry.get("daily", False)
    if not isinstance(daily, bool):
        return failed(f"daily = {daily!r} is not valid; expected true or false")
    try:
        frame = read_observed(manifest.parent / observed, launch=entry.get("launch"),
                              daily=daily)
    except (ValueError, OSError) as error:
        return failed(str(error))
    return BatchItem(name, "campaign", str(manifest.parent / observed), scenario=scenario,
                     observed=frame, goal=float(goal), duration_days=int(days),
                     platform=platform or "custom")


def processes(workers: int, ready: int) -> int:
    """How many local processes ``run_batch`` shares ``ready`` items among: at most
    ``workers`` and this machine's cores, one when there is a single item."""
    return min(workers, engine.cores(), ready) if workers > 1 and ready > 1 else 1


def run_batch(items: Iterable[BatchItem], *, sims: int = 20_000, rng: Any = None,
              workers: int = 1, executor: Any = None,
              progress: Callable[[int, int, dict], Any] | None = None) -> pd.DataFrame:
    """Forecast each scenario and track each live campaign, every one with the same
    seed; a row each, in the order of ``items``.

    Parameters
    ----------
    items : iterable of BatchItem
        From ``read_batch``.
    sims : int
        Simulated campaigns per item (a campaign's tracker takes at most its own
        bound, else that row fails saying so).
    rng : None, int, SeedSequence or Generator
        The seed of every item; in each row.
    workers : int
        Processes of this machine sharing the items (1: this one).
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Where the items run instead (docs/batch.md); never changes the numbers.
    progress : callable, optional
        Called as ``progress(done, total, row)`` as each item comes back.

    Returns
    -------
    DataFrame
        The columns of ``BATCH_COLUMNS``; ``status`` is "ok" or "failed" (then
        ``error`` says why and the numbers are NaN). ``attrs`` holds ``seed``,
        ``sims``, ``version`` and ``failed`` (how many).
    """
    items = list(items)
    check_whole("sims", sims, MAX_SIMS)
    check_whole("workers", workers)
    check_executor(executor, workers)
    seed = normalize_seed(rng)
    label, version = seed_label(seed), package_version()
    rows: list[dict | None] = [None] * len(items)
    ready = [k for k, item in enumerate(items) if item.error is None]
    done = 0

    def finish(k: int, row: dict) -> None:
        nonlocal done
        rows[k] = {**_base(items[k]), "sims": int(sims), "seed": label,
                   "version": version, **row}
        done += 1
        if progress is not None:
            progress(done, len(items), rows[k])

    for k, item in enumerate(items):
        if item.error is not None:
            finish(k, {"status": "failed", "error": item.error})
    pool = None
    if executor is None and processes(workers, len(ready)) > 1:
        pool = executor = engine.process_pool(processes(workers, len(ready)))
    try:
        runner = Runner(executor)
        calls = ((items[k], int(sims), seed) for k in ready)
        for index, value, error in runner.as_they_end(_run_item, calls):
            # A failure is reported on its row; the others go on.
            row = ({"status": "ok", "error": None, **value} if error is None
                   else {"status": "failed", "error": _message(error)})
            finish(ready[index], row)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    frame = pd.DataFrame(rows, columns=BATCH_COLUMNS)
    # Whole days, or None for a failed item (not NaN: the column stays whole numbers).
    frame["duration_days"] = pd.Series([None if pd.isna(d) else int(d)
                                        for d in frame["duration_days"]], dtype=object)
    frame.attrs.update(seed=label, sims=int(sims), version=version,
                       failed=int((frame["status"] == "failed").sum()))
    return frame


def _base(item: BatchItem) -> dict:
    return {"name": item.name, "kind": item.kind, "file": item.file,
            "platform": item.platform, "goal": item.goal,
            "duration_days": item.duration_days}


def _message(error: BaseException) -> str:
    """What a failed item's row says: a ValueError's message (the data's fault) as it
    is, anything else with its kind."""
    text = str(error).strip()
    if isinstance(error, ValueError) and text:
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _run_item(item: BatchItem, sims: int, seed: np.random.SeedSequence) -> dict:
    """An item's numbers (run where the executor puts it)."""
    if item.kind == "scenario":
        return _scenario_row(item.scenario, sims, seed)
    return _campaign_row(item, sims, seed)


def _scenario_row(scenario: Scenario, sims: int, seed: np.random.SeedSequence) -> dict:
    """``simulate(scenario, sims, rng=seed)``'s odds and money; no daily path kept."""
    outcome = engine.run_goals(scenario, [scenario.goal], sims, seed, keep_paths=False)[0]
    result = Result(scenario=scenario, sims=sims, seed=seed, outcome=outcome)
    low, high = result.ci95()
    final = _quantiles(result.totals, FINAL_PERCENTS)
    need = result.need_probability()
    return {"day": 0.0, "pledged": 0.0, "probability": result.probability(),
            "ci_low": low, "ci_high": high, **{f"final_{k}": v for k, v in final.items()},
            "expected_payout": float(result.payout.mean()),
            "need_probability": math.nan if need is None else need,
            "method": "simulation"}


def _campaign_row(item: BatchItem, sims: int, seed: np.random.SeedSequence) -> dict:
    """``track``'s odds of a live campaign."""
    from .tracking import track

    if item.scenario is not None:
        found = track(item.observed, scenario=item.scenario, sims=sims, rng=seed)
    else:
        found = track(item.observed, goal=item.goal, duration_days=item.duration_days,
                      platform=item.platform, sims=sims, rng=seed)
    low, high = found.probability_interval()
    final = found.quantiles(np.array(FINAL_PERCENTS) / 100)
    return {"day": found.now, "pledged": found.pledged,
            "probability": found.probability(), "ci_low": low, "ci_high": high,
            **{f"final_p{p}": float(v) for p, v in zip(FINAL_PERCENTS, final)},
            "expected_payout": math.nan, "need_probability": math.nan,
            "method": found.method}
