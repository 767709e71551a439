"""The tracker's recalibration: its probability of success read against real outcomes
(docs/tracking.md, "Recalibration").

Tracked with the generic prior, a live campaign's odds come from a model that knows
its goal and duration only through the prior. Past campaigns say more: at the same
progress, a longer campaign succeeds less often than the prior thinks, and the goal
weighs otherwise than in the prior. A logistic regression of the real outcome on
the tracker's own log-odds, the progress, the goal and the duration, each also times
the fraction of the duration elapsed, fitted on the tracker's forecasts for past
campaigns at 10, 25 and 50 % of their duration, maps the tracker's probability to
one that matches them.
``forecast.track`` applies the shipped map when it tracks with the generic prior,
by reweighting its simulated campaigns (``tilt``): the successes' weights scaled to
the mapped probability, the failures' to the rest, so that the final total's
quantiles and the fan agree with it.
"""
from __future__ import annotations

import functools
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FEATURES", "Recalibration", "features", "tilt", "fit", "fit_backtest",
           "load", "shipped", "RECALIBRATION_PATH"]

#: The map shipped with the package, fitted by ``forecast recalibrate``.
RECALIBRATION_PATH = Path(__file__).resolve().parent / "data" / "tracker-recalibration.toml"

#: The map's inputs, in the order of its coefficients: the tracker's log-odds L
#: (its probability held within [1e-4, 1 - 1e-4]), the log progress lx = log(pledged /
#: goal + 0.01), the log goal lg = log(goal / 10,000), the duration in 60-day units,
#: and the fraction a of the duration elapsed, alone and times each of the others.
FEATURES = ("1", "L", "lx", "lg", "D/60", "a", "a L", "a lx", "a lg", "a D/60")

_EDGE = 1e-4


def features(p: Any, progress: Any, goal: Any, duration_days: Any, fraction: Any
             ) -> np.ndarray:
    """The rows of the map's inputs (``FEATURES``), shape (n, 10), for arrays (or
    numbers) of the tracker's probability, the progress (pledged / goal), the goal,
    the duration in days and the fraction of the duration elapsed."""
    p, x, g, d, a = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, float))
                                          for v in (p, progress, goal, duration_days,
                                                    fraction)))
    q = np.clip(p, _EDGE, 1 - _EDGE)
    log_odds = np.log(q / (1 - q))
    lx = np.log(np.maximum(x, 0.0) + 0.01)
    lg = np.log(g / 10_000)
    dd = d / 60
    return np.column_stack([np.ones_like(q), log_odds, lx, lg, dd,
                            a, a * log_odds, a * lx, a * lg, a * dd])


@dataclass(frozen=True)
class Recalibration:
    """A fitted map: ``coefficients`` of ``FEATURES``; ``campaigns`` and
    ``checkpoints`` it was fitted on; ``command`` that fitted it."""

    coefficients: tuple[float, ...]
    campaigns: int = 0
    checkpoints: tuple[float, ...] = ()
    command: str = ""

    def __post_init__(self):
        if len(self.coefficients) != len(FEATURES) or not all(
                math.isfinite(c) for c in self.coefficients):
            raise ValueError(f"a recalibration needs {len(FEATURES)} finite coefficients "
                             f"({', '.join(FEATURES)}); got {self.coefficients!r}")

    def probability(self, p: Any, progress: Any, goal: Any, duration_days: Any,
                    fraction: Any) -> np.ndarray:
        """The mapped probability of success, an array (``features``' inputs)."""
        z = features(p, progress, goal, duration_days, fraction) @ np.asarray(
            self.coefficients)
        return 1.0 / (1.0 + np.exp(-z))

    def to_toml(self) -> str:
        """The map as the TOML ``load`` reads."""
        lines = ["# The tracker's recalibration (docs/tracking.md, \"Recalibration\"),",
                 f"# fitted on {self.campaigns} past campaigns by", f"#   {self.command}",
                 f"campaigns = {self.campaigns}",
                 "checkpoints = [" + ", ".join(repr(float(a)) for a in self.checkpoints)
                 + "]",
                 "features = [" + ", ".join(f'"{f}"' for f in FEATURES) + "]",
                 "coefficients = [" + ", ".join(repr(float(c)) for c in self.coefficients)
                 + "]"]
        return "\n".join(lines) + "\n"


def load(path: str | Path | None = None) -> Recalibration:
    """The map of a file ``Recalibration.to_toml`` wrote (by default the shipped one).
    Raises ValueError naming the file when it cannot be read."""
    source = Path(path) if path is not None else RECALIBRATION_PATH
    try:
        table = tomllib.loads(source.read_text(encoding="utf-8"))
        if tuple(table.get("features", ())) != FEATURES:
            raise ValueError(f"its features are not {list(FEATURES)}")
        return Recalibration(tuple(float(c) for c in table["coefficients"]),
                             int(table.get("campaigns", 0)),
                             tuple(float(a) for a in table.get("checkpoints", ())))
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{source}: not a tracker recalibration ({error})") from None


@functools.lru_cache(maxsize=1)
def shipped() -> Recalibration:
    """The shipped map, read once."""
    return load()


def tilt(weights: np.ndarray, success: np.ndarray, target: float) -> np.ndarray:
    """``weights`` (summing to 1) rescaled so that those of ``success`` sum to
    ``target``: the successes' by target / p, the others' by (1 - target) / (1 - p),
    p their current sum. Unchanged when p is 0 or 1 (no campaign to give the
    weight to)."""
    p = float(np.sum(weights[success]))
    if success.all() or not success.any() or not 0 < p < 1:
        return weights
    return np.where(success, weights * (target / p), weights * ((1 - target) / (1 - p)))


def fit(p: Any, progress: Any, goal: Any, duration_days: Any, fraction: Any,
        success: Any) -> np.ndarray:
    """The coefficients of ``FEATURES`` of largest likelihood for the outcomes
    ``success`` (a logistic regression, with a ridge of 1e-3 so that a small sample
    still gives finite numbers)."""
    from .calibration import _logistic_offset

    y = np.asarray(success, float)
    return _logistic_offset(features(p, progress, goal, duration_days, fraction), y,
                            np.zeros(y.size), ridge=1e-3)


def fit_backtest(frame: pd.DataFrame, *, at: Any = (0.1, 0.25, 0.5), folds: int = 5,
                 sims: int | None = None, rng: Any = 0, workers: int = 1,
                 progress: Callable[[int, int], None] | None = None,
                 command: str = "") -> tuple[Recalibration, pd.DataFrame]:
    """Fit the map on past campaigns (``calibration.read_trajectories``' columns).

    The tracker, without a map, forecasts every campaign at each checkpoint ``at``
    (``backtest.backtest``'s cuts and per-call seeds); the map is fitted on all of
    these forecasts. It is also fitted ``folds`` times on all campaigns but one fold
    and applied to that fold, which gives the second value returned, a table of one
    row per checkpoint: the Brier score of the tracker and of the map on campaigns
    it was not fitted on, and the forecasts the tracker refused (their count and the
    first one's reason), which the map leaves out.
    """
    from .backtest import Cases, TrackerPredictor, _Trajectories, backtest, brier_score

    tracker = TrackerPredictor(sims=sims, rng=rng, recalibrate=False)
    found = backtest(frame, [tracker], at=at, folds=folds, rng=rng, workers=workers,
                     progress=progress)
    rows = found.predictions
    refused = rows[rows["p"].isna()]
    rows = rows[rows["p"].notna()].copy()
    if rows.empty:
        raise ValueError("the tracker could forecast none of the campaigns" + (
            f" (the first: {refused['error'].iloc[0]})" if len(refused) else ""))
    whole = _Trajectories.from_frame(frame)
    for a in rows["at"].unique():
        # What track reads: the progress and the day of the last observation.
        cases = Cases.cut(whole, float(a))
        seen = pd.DataFrame({"pledged": cases.pledged(), "day": cases.last_day(),
                             "duration_days": cases.campaigns["duration_days"]},
                            index=cases.campaigns.index)
        here = rows["at"] == a
        seen = seen.loc[rows.loc[here, "campaign_id"]]
        rows.loc[here, "progress"] = (seen["pledged"].to_numpy()
                                      / rows.loc[here, "goal"].to_numpy())
        rows.loc[here, "duration_days"] = seen["duration_days"].to_numpy(float)
        rows.loc[here, "fraction"] = (seen["day"] / seen["duration_days"]).to_numpy(float)
    inputs = [rows[c].to_numpy(float) for c in ("p", "progress", "goal", "duration_days",
                                               "fraction")]
    success = rows["success"].to_numpy(bool)
    mapped = np.empty(len(rows))
    for k in rows["fold"].unique():
        held = (rows["fold"] == k).to_numpy()
        b = fit(*(v[~held] for v in inputs), success[~held])
        mapped[held] = Recalibration(tuple(b)).probability(*(v[held] for v in inputs))
    # As track applies it: where no simulated campaign succeeds (or fails), unchanged
    # (a tracker's p is then exactly 0, or 1 up to rounding).
    p = inputs[0]
    rows["mapped"] = np.where((p > 0) & (p < 1 - 1e-9), mapped, p)
    table = pd.DataFrame([
        {"at": a, "campaigns": len(g), "refused": int((refused["at"] == a).sum()),
         "first_refusal": next(iter(refused.loc[refused["at"] == a, "error"]), None),
         "brier_tracker": brier_score(g["p"].to_numpy(), g["success"].to_numpy()),
         "brier_recalibrated": brier_score(g["mapped"].to_numpy(),
                                           g["success"].to_numpy())}
        for a, g in rows.groupby("at")])
    result = Recalibration(tuple(float(c) for c in fit(*inputs, success)),
                           rows["campaign_id"].nunique(),
                           tuple(float(a) for a in sorted(rows["at"].unique())), command)
    return result, table
