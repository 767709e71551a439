"""Backtest: forecasters scored on past campaigns as if they were live (docs/model.md,
"Backtest").

At each checkpoint ``at`` (a fraction of the duration), every campaign is cut at
``checkpoint = at * duration_days``: a predictor sees only the observations with
``t_days <= checkpoint`` (never interpolated, which would leak the future) and gives
P(final >= goal) and the final total's quantiles at ``LEVELS``. Predictors are
fitted on K - 1 folds of campaigns and scored on the one held out, so that every
campaign is scored once per checkpoint by a predictor that never saw it.

A *predictor* is any object with

* ``fit(train) -> predictor``: ``train`` a validated trajectories frame
  (``calibration.validate_trajectories``) of whole campaigns;
* ``predict(observed, goal, duration_days, platform) -> (p, quantiles)``:
  ``observed`` has columns ``day``, ``pledged`` (cumulative) and ``backers``
  (cumulative, may be NaN); ``quantiles`` the final total's (money) at ``LEVELS``;
* optionally ``predict_many(cases) -> (p, quantiles)``, arrays of shapes (n,) and
  (n, 9), for a whole ``Cases`` batch at once. A predictor that needs to know the
  checkpoint (the baselines do) reads it from the batch (``Cases.at``,
  ``Cases.campaigns["checkpoint"]``): it is not a column of ``observed``, whose
  last row may be days before it.

The three baselines (``BinsPredictor``, ``TrendPredictor``, ``NearestPredictor``)
and the tracker's wrapper (``TrackerPredictor``) are predictors. The metrics are
plain functions of arrays, each with its formula.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .calibration import CalibrationError, campaign_outcomes, validate_trajectories
from .executors import Runner, check_executor
from .result import check_whole, normalize_seed, package_version, seed_label
from .tracking import LEVELS, inverted_cdf  # the levels every predictor gives

__all__ = ["LEVELS", "EPS", "Cases", "Backtest", "BacktestError", "backtest", "score",
           "reliability", "accuracy", "brier_score", "log_loss", "coverage",
           "median_width", "quantile_score", "BinsPredictor", "TrendPredictor",
           "NearestPredictor", "TrackerPredictor", "DEFAULT_AT", "BASELINES"]

#: Probabilities are clipped to [EPS, 1 - EPS] in the log loss, for every predictor:
#: a certain forecast proved wrong costs ln(1 / EPS) = 6.9 nats, not infinity.
EPS = 1e-3
#: The checkpoints of the issue: 10 %, 25 % and 50 % of the duration.
DEFAULT_AT = (0.1, 0.25, 0.5)
#: Scores kept per (checkpoint, predictor), in the table's order.
METRICS = ("accuracy", "brier", "log_loss", "coverage80", "median_width",
           "quantile_score")


class BacktestError(ValueError):
    """A backtest that cannot run, with a message naming the argument or the file."""


# ----------------------------------------------------------------------------- metrics

def accuracy(p: np.ndarray, success: np.ndarray) -> float:
    """Share of campaigns whose forecast ``p >= 0.5`` agrees with ``success``."""
    p, success = np.asarray(p, float), np.asarray(success, bool)
    return float(np.mean((p >= 0.5) == success))


def brier_score(p: np.ndarray, success: np.ndarray) -> float:
    """Brier score: mean of (p - y)^2, y = 1 for a success (Brier 1950)."""
    p, y = np.asarray(p, float), np.asarray(success, float)
    return float(np.mean((p - y) ** 2))


def log_loss(p: np.ndarray, success: np.ndarray, eps: float = EPS) -> float:
    """Mean negative log-likelihood, -mean(y ln p + (1 - y) ln(1 - p)), natural log,
    with p clipped to [eps, 1 - eps] (``EPS``)."""
    p = np.clip(np.asarray(p, float), eps, 1 - eps)
    y = np.asarray(success, float)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def coverage(low: np.ndarray, high: np.ndarray, final: np.ndarray) -> float:
    """Share of final totals inside [low, high], both ends included."""
    low, high, final = (np.asarray(a, float) for a in (low, high, final))
    return float(np.mean((low <= final) & (final <= high)))


def median_width(low: np.ndarray, high: np.ndarray) -> float:
    """Median of high / low over campaigns. An interval with ``low = 0`` counts as
    infinitely wide when ``high > 0`` and as width 1 (a single point) when
    ``high = 0`` too, so that the median is defined whatever the intervals."""
    low, high = np.asarray(low, float), np.asarray(high, float)
    ratio = np.divide(high, low, out=np.where(high > 0, np.inf, 1.0), where=low > 0)
    return float(np.median(ratio))


def pinball(quantiles: np.ndarray, final: np.ndarray,
            levels: np.ndarray = LEVELS) -> np.ndarray:
    """Pinball (quantile) loss of each quantile: (1{y < q} - level) (q - y).

    ``quantiles`` has shape (n, len(levels)), ``final`` (n,); the result (n, len(levels)).
    """
    q = np.asarray(quantiles, float)
    y = np.asarray(final, float)[:, None]
    return ((y < q) - np.asarray(levels, float)) * (q - y)


def quantile_score(quantiles: np.ndarray, final: np.ndarray, goal: np.ndarray,
                   levels: np.ndarray = LEVELS) -> float:
    """Mean over campaigns of the mean pinball loss over ``levels``, divided by
    each campaign's goal (Gneiting and Raftery 2007): 0 for quantiles all equal to
    the final total; in goals."""
    losses = pinball(quantiles, final, levels).mean(axis=1)
    return float(np.mean(losses / np.asarray(goal, float)))


# ----------------------------------------------------------------------------- data

def _carried(codes: np.ndarray, times: np.ndarray, pledged: np.ndarray,
             query_codes: np.ndarray, query_times: np.ndarray) -> np.ndarray:
    """The last ``pledged`` of campaign ``query_codes[i]`` observed at or before
    ``query_times[i]`` (carried forward, never interpolated); 0 before its first
    observation. The rows must be sorted by (code, time)."""
    rows = codes.size
    order = np.lexsort((np.r_[np.zeros(rows), np.ones(query_codes.size)],
                        np.r_[times, query_times], np.r_[codes, query_codes]))
    is_row = order < rows
    last = np.maximum.accumulate(np.where(is_row, order, -1))
    asked = order[~is_row] - rows
    found = last[~is_row]
    valid = found >= 0
    valid[valid] = codes[found[valid]] == query_codes[asked[valid]]
    out = np.zeros(query_codes.size)
    out[asked[valid]] = pledged[found[valid]]
    return out


@dataclass(frozen=True)
class _Trajectories:
    """Campaigns as arrays: ``campaigns`` one row per campaign (sorted by id: goal,
    duration_days, platform, final, success), ``codes``/``times``/``pledged``/
    ``backers`` one entry per observation, sorted by (campaign, time)."""

    campaigns: pd.DataFrame
    codes: np.ndarray
    times: np.ndarray
    pledged: np.ndarray
    backers: np.ndarray

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> "_Trajectories":
        frame = validate_trajectories(frame)
        campaigns = campaign_outcomes(frame)
        platform = (frame.groupby("campaign_id", sort=True)["platform"].first().astype(str)
                    if "platform" in frame.columns else "custom")
        campaigns = campaigns.assign(platform=platform, success=campaigns["success"]
                                     .astype(bool))
        codes = pd.Index(campaigns.index).get_indexer(frame["campaign_id"])
        backers = (pd.to_numeric(frame["backers"], errors="coerce").to_numpy(float)
                   if "backers" in frame.columns else np.full(len(frame), np.nan))
        return cls(campaigns, codes, frame["t_days"].to_numpy(float),
                   frame["pledged"].to_numpy(float), backers)

    def subset(self, keep: np.ndarray) -> "_Trajectories":
        """The campaigns where ``keep`` (a boolean per campaign) is true."""
        rows = keep[self.codes]
        recode = np.cumsum(keep) - 1
        return _Trajectories(self.campaigns[keep], recode[self.codes[rows]],
                             self.times[rows], self.pledged[rows], self.backers[rows])

    def pledged_at(self, fraction: np.ndarray) -> np.ndarray:
        """The total pledged carried forward to ``fraction`` x duration_days.
        ``fraction`` has shape (m,); the result (campaigns, m)."""
        n, m = len(self.campaigns), fraction.size
        when = self.campaigns["duration_days"].to_numpy(float)[:, None] * fraction
        values = _carried(self.codes, self.times, self.pledged,
                          np.repeat(np.arange(n), m), when.ravel())
        return values.reshape(n, m)

    def ratio_at(self, fraction: np.ndarray) -> np.ndarray:
        """``pledged_at`` / goal."""
        return self.pledged_at(fraction) / self.campaigns["goal"].to_numpy(float)[:, None]


@dataclass(frozen=True)
class Cases:
    """Campaigns as if live at ``at`` x their duration, the batch a predictor's
    ``predict_many`` receives.

    ``campaigns``: one row per campaign, indexed by ``campaign_id``: ``goal``,
    ``duration_days``, ``platform``, ``checkpoint`` (days: ``at * duration_days``).
    ``observed(i)``: the observations of the i-th at or before its checkpoint.
    """

    at: float
    campaigns: pd.DataFrame
    _seen: _Trajectories

    @classmethod
    def cut(cls, trajectories: _Trajectories, at: float) -> "Cases":
        """The campaigns of ``trajectories`` as seen at ``at`` of their duration."""
        campaigns = trajectories.campaigns
        checkpoint = at * campaigns["duration_days"].to_numpy(float)
        rows = trajectories.times <= checkpoint[trajectories.codes]
        seen = _Trajectories(campaigns, trajectories.codes[rows],
                             trajectories.times[rows], trajectories.pledged[rows],
                             trajectories.backers[rows])
        table = campaigns[["goal", "duration_days", "platform"]].assign(
            checkpoint=checkpoint)
        return cls(at, table, seen)

    def __len__(self) -> int:
        return len(self.campaigns)

    def last_day(self) -> np.ndarray:
        """The day of each campaign's last observation by its checkpoint (0 if none
        was made): the day ``observed(i)`` ends on, which a tracker reads as now."""
        last = np.zeros(len(self))
        np.maximum.at(last, self._seen.codes, self._seen.times)
        return last

    def pledged(self) -> np.ndarray:
        """The total pledged at each campaign's checkpoint (0 if nothing was seen)."""
        return self._seen.pledged_at(np.array([self.at]))[:, 0]

    def ratio_at(self, fraction: np.ndarray) -> np.ndarray:
        """pledged / goal carried forward to ``fraction`` x the checkpoint, for
        fractions in (0, 1]; shape (campaigns, len(fraction))."""
        return self._seen.ratio_at(self.at * np.asarray(fraction, float))

    def observed(self, i: int) -> pd.DataFrame:
        """The i-th campaign's observations (``day``, ``pledged``, ``backers``); a
        single row (0, 0, 0) when none was made by the checkpoint."""
        start, stop = np.searchsorted(self._seen.codes, [i, i + 1])
        if start == stop:
            return pd.DataFrame({"day": [0.0], "pledged": [0.0], "backers": [0.0]})
        return pd.DataFrame({"day": self._seen.times[start:stop],
                             "pledged": self._seen.pledged[start:stop],
                             "backers": self._seen.backers[start:stop]})


# ----------------------------------------------------------------------------- baselines

class BinsPredictor:
    """Success rate by bins of pledged / goal at the checkpoint.

    Fitted per checkpoint fraction on the training campaigns: one bin for those with
    nothing pledged at the checkpoint, and up to ``bins`` bins of those with
    something, as many campaigns in each (their pledged / goal sorted and split in
    ``bins`` equal parts, a bin's upper edge its largest value; parts whose edges
    tie merge).
    A campaign gets its bin's success rate and its bin's quantiles of final / goal
    (inverted CDF) times its goal. Bins are built on the first ``predict_many`` of
    each checkpoint fraction.
    """

    name = "bins"

    def __init__(self, bins: int = 10):
        check_whole("bins", bins)
        self.bins = bins
        self._train: _Trajectories | None = None
        self._tables: dict[float, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def fit(self, train: pd.DataFrame) -> "BinsPredictor":
        self._train, self._tables = _Trajectories.from_frame(train), {}
        return self

    def _table(self, at: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Edges, success rate per bin, quantiles of final / goal per bin."""
        if at not in self._tables:
            train = _fitted(self._train, self)
            ratio = train.ratio_at(np.array([at]))[:, 0]
            groups = np.array_split(np.sort(ratio[ratio > 0]), self.bins)
            edges = np.unique(np.r_[0.0, [g[-1] for g in groups[:-1] if g.size]])
            where = self._bin(ratio, edges)
            final = (train.campaigns["final"] / train.campaigns["goal"]).to_numpy(float)
            success = train.campaigns["success"].to_numpy(bool)
            filled = np.unique(where)
            # An empty bin (say, no training campaign with nothing pledged) takes the
            # nearest filled bin's numbers (the lower one on a tie).
            nearest = filled[np.argmin(np.abs(np.arange(edges.size + 1)[:, None]
                                              - filled[None, :]), axis=1)]
            rate = np.array([success[where == b].mean() for b in nearest])
            quantiles = np.array([np.quantile(final[where == b], LEVELS,
                                              method="inverted_cdf") for b in nearest])
            self._tables[at] = (edges, rate, quantiles)
        return self._tables[at]

    @staticmethod
    def _bin(ratio: np.ndarray, edges: np.ndarray) -> np.ndarray:
        """0 for nothing pledged, then k for edges[k-1] < ratio <= edges[k], the last
        bin open above."""
        return np.where(ratio <= 0, 0, np.searchsorted(edges, ratio, side="left"))

    def predict_many(self, cases: Cases) -> tuple[np.ndarray, np.ndarray]:
        edges, rate, quantiles = self._table(cases.at)
        where = self._bin(cases.ratio_at(np.ones(1))[:, 0], edges)
        goal = cases.campaigns["goal"].to_numpy(float)
        return rate[where], quantiles[where] * goal[:, None]

    def predict(self, observed: pd.DataFrame, goal: float, duration_days: float,
                platform: str, *, at: float) -> tuple[float, np.ndarray]:
        """One campaign at ``at`` of its duration (``predict_many`` of one)."""
        return _predict_one(self, observed, goal, duration_days, platform, at)


class TrendPredictor:
    """Kicktraq's linear trend: final = pledged x duration / elapsed, with elapsed
    the checkpoint (the campaign is seen at the checkpoint, whatever the day of its
    last observation). P(success) is 1 when the projection reaches the goal, 0
    otherwise; every quantile is the projection. Nothing to fit."""

    name = "linear trend"

    def fit(self, train: pd.DataFrame) -> "TrendPredictor":
        return self

    def predict_many(self, cases: Cases) -> tuple[np.ndarray, np.ndarray]:
        projection = cases.pledged() / cases.at
        p = (projection >= cases.campaigns["goal"].to_numpy(float)).astype(float)
        return p, np.repeat(projection[:, None], LEVELS.size, axis=1)

    def predict(self, observed: pd.DataFrame, goal: float, duration_days: float,
                platform: str, *, at: float) -> tuple[float, np.ndarray]:
        """One campaign at ``at`` of its duration (``predict_many`` of one)."""
        return _predict_one(self, observed, goal, duration_days, platform, at)


class NearestPredictor:
    """The k most similar past trajectories (Sidekick; Etter, Grossglauser and Thiran
    2013).

    Each campaign's pledged / goal is read at ``grid`` relative times, ``at`` x
    (1/grid, 2/grid, ..., 1) of its duration (the last observation at or before each,
    carried forward); the distance between two campaigns is the Euclidean distance
    between these vectors. P(success) is the share of successes among the ``k``
    nearest training campaigns, the quantiles their final / goal's (inverted CDF)
    times the goal. Ties at the k-th distance (many campaigns have raised nothing
    early) share the remaining weight equally, which is the average over every way
    of breaking the tie.
    """

    name = "k nearest"

    def __init__(self, k: int = 25, grid: int = 10, batch: int = 256):
        for name, value in (("k", k), ("grid", grid), ("batch", batch)):
            check_whole(name, value)
        self.k, self.grid, self.batch = k, grid, batch
        self._train: _Trajectories | None = None
        self._paths: dict[float, np.ndarray] = {}

    def fit(self, train: pd.DataFrame) -> "NearestPredictor":
        self._train, self._paths = _Trajectories.from_frame(train), {}
        campaigns = self._train.campaigns
        order = np.argsort((campaigns["final"] / campaigns["goal"]).to_numpy(float),
                           kind="stable")
        self._order = order
        self._final = (campaigns["final"] / campaigns["goal"]).to_numpy(float)[order]
        self._success = campaigns["success"].to_numpy(float)[order]
        return self

    def _fractions(self) -> np.ndarray:
        return np.arange(1, self.grid + 1) / self.grid

    def predict_many(self, cases: Cases) -> tuple[np.ndarray, np.ndarray]:
        train = _fitted(self._train, self)
        if cases.at not in self._paths:
            # training paths in the order of final / goal, as the weights will be
            self._paths[cases.at] = train.ratio_at(cases.at * self._fractions())[self._order]
        paths = self._paths[cases.at]
        seen = cases.ratio_at(self._fractions())
        k = min(self.k, paths.shape[0])
        p = np.empty(len(cases))
        quantiles = np.empty((len(cases), LEVELS.size))
        for start in range(0, len(cases), self.batch):
            part = seen[start:start + self.batch]
            distance = ((part[:, None, :] - paths[None, :, :]) ** 2).sum(axis=2)
            weights = self.weights(distance, k)
            p[start:start + part.shape[0]] = weights @ self._success / k
            quantiles[start:start + part.shape[0]] = inverted_cdf(self._final, weights)
        return p, quantiles * cases.campaigns["goal"].to_numpy(float)[:, None]

    @staticmethod
    def weights(distance: np.ndarray, k: int) -> np.ndarray:
        """Weight of each training campaign (columns) for each case (rows): 1 for
        those nearer than the k-th nearest, the rest of k shared equally among those
        at exactly its distance, 0 beyond. Each row sums to k."""
        kth = np.partition(distance, k - 1, axis=1)[:, k - 1:k]
        nearer = distance < kth
        tied = distance == kth
        left = k - nearer.sum(axis=1, keepdims=True)
        return nearer + tied * (left / tied.sum(axis=1, keepdims=True))

    def predict(self, observed: pd.DataFrame, goal: float, duration_days: float,
                platform: str, *, at: float) -> tuple[float, np.ndarray]:
        """One campaign at ``at`` of its duration (``predict_many`` of one)."""
        return _predict_one(self, observed, goal, duration_days, platform, at)


def _fitted(train: _Trajectories | None, predictor: Any) -> _Trajectories:
    if train is None:
        raise BacktestError(f"{type(predictor).__name__} must be fitted (fit(train)) "
                            "before it predicts")
    return train


def _predict_one(predictor: Any, observed: pd.DataFrame, goal: float,
                 duration_days: float, platform: str, at: float) -> tuple[float, np.ndarray]:
    """``predict_many`` of a batch of one campaign seen at ``at`` of its duration."""
    if not 0 < at < 1:
        raise ValueError(f"at = {at!r} is not valid; expected a fraction of the "
                         "duration between 0 and 1")
    frame = pd.DataFrame({"campaign_id": "observed", "goal": goal,
                          "duration_days": duration_days, "platform": platform,
                          "t_days": observed["day"], "pledged": observed["pledged"]})
    cases = Cases.cut(_Trajectories.from_frame(frame), at)
    p, quantiles = predictor.predict_many(cases)
    return float(p[0]), quantiles[0]


#: The three baselines, in the table's order.
BASELINES: tuple[Callable[[], Any], ...] = (BinsPredictor, TrendPredictor, NearestPredictor)


# ----------------------------------------------------------------------------- tracker

class TrackerPredictor:
    """``forecast.track`` as a predictor.

    ``fit`` does nothing: the tracker's prior is the generic prior, fitted by
    ``forecast calibrate``, its goal completion (the [dynamics] defaults), fitted by
    ``calibration.fit_completion``, and its recalibration (``recalibrate=False``: none),
    fitted by ``forecast recalibrate``, all on the whole training set, not by the
    backtest. Each call's seed is drawn from
    ``rng`` and the call's own inputs (the observations, goal, duration, platform),
    so that a campaign's forecast is the same whatever the order of the calls and the
    number of processes sharing them. A platform the project does not know (such as
    Catarse) is tracked as ``custom``.
    """

    name = "tracker"

    def __init__(self, sims: int | None = None, rng: Any = None, recalibrate: bool = True):
        if sims is not None:
            check_whole("sims", sims)
        self.sims = sims
        self.seed = normalize_seed(rng)
        self.recalibrate = recalibrate

    def fit(self, train: pd.DataFrame) -> "TrackerPredictor":
        return self

    def _seed_for(self, observed: pd.DataFrame, goal: float, duration_days: float,
                  platform: str) -> np.random.SeedSequence:
        digest = hashlib.blake2b(digest_size=8)
        for column in ("day", "pledged"):
            digest.update(np.ascontiguousarray(observed[column], dtype=float).tobytes())
        digest.update(repr((float(goal), float(duration_days), platform)).encode())
        key = (*self.seed.spawn_key, int.from_bytes(digest.digest(), "little"))
        return np.random.SeedSequence(self.seed.entropy, spawn_key=key)

    def predict(self, observed: pd.DataFrame, goal: float, duration_days: float,
                platform: str) -> tuple[float, np.ndarray]:
        from .tracking import track, tracked_platform

        kwargs = {} if self.sims is None else {"sims": self.sims}
        found = track(observed, goal=goal, duration_days=duration_days,
                      platform=tracked_platform(platform),
                      rng=self._seed_for(observed, goal, duration_days, platform),
                      recalibrate=self.recalibrate, **kwargs)
        return float(found.probability()), np.asarray(found.quantiles(LEVELS), float)


# ----------------------------------------------------------------------------- backtest

@dataclass(frozen=True)
class Backtest:
    """The outcome of ``backtest``.

    ``scores``: one row per (checkpoint, predictor): ``campaigns`` scored,
    ``not_scored`` (the predictor refused them: ValueError), then ``METRICS``.
    ``predictions``: one row per (checkpoint, predictor, campaign): ``fold``,
    ``goal``, ``final``, ``success``, ``p``, ``q10`` ... ``q90``, ``error``.
    """

    scores: pd.DataFrame
    predictions: pd.DataFrame
    seed: int | list[int]
    folds: int
    version: str

    def summary(self) -> dict[str, Any]:
        """What ``forecast backtest --json`` prints."""
        rows = []
        for row in self.scores.reset_index().to_dict(orient="records"):
            rows.append({k: (None if isinstance(v, float) and not math.isfinite(v)
                             else v.item() if hasattr(v, "item") else v)
                         for k, v in row.items()})
        return {"seed": self.seed, "folds": self.folds, "version": self.version,
                "levels": LEVELS.tolist(), "eps": EPS, "scores": rows}


_QUANTILE_COLUMNS = [f"q{round(100 * level)}" for level in LEVELS]


def _check_at(at: Sequence[float]) -> tuple[float, ...]:
    values = tuple(float(a) for a in at)
    if not values:
        raise ValueError("at = () is not valid; expected at least one checkpoint")
    for a in values:
        if not 0 < a < 1:
            raise ValueError(f"at = {a!r} is not valid; expected fractions of the "
                             "duration between 0 and 1 (0.1 is 10 %)")
    if len(set(values)) < len(values):
        raise ValueError(f"at = {list(values)} is not valid: a checkpoint is repeated")
    return values


def backtest(frame: pd.DataFrame, predictors: Sequence[Any] | None = None, *,
             at: Sequence[float] = DEFAULT_AT, folds: int = 5, rng: Any = None,
             workers: int = 1,
             progress: Callable[[int, int], None] | None = None,
             executor: Any = None) -> Backtest:
    """Score predictors on past campaigns as if live at each checkpoint.

    Parameters
    ----------
    frame : DataFrame
        Trajectories (``calibration.read_trajectories``): whole campaigns, with
        ``final_pledged`` and ``success`` if known (else the last total and
        final >= goal).
    predictors : sequence of predictors, optional
        Default: the three baselines (``BASELINES``). Each is fitted on K - 1 folds
        and scored on the held-out fold; names come from ``.name``.
    at : sequence of float
        Checkpoints, fractions of each campaign's duration in (0, 1).
    folds : int
        K >= 2 folds of campaigns, assigned at random from ``rng``.
    rng : None, int, SeedSequence or Generator
        Draws the folds (SPEC 7); reported in ``Backtest.seed``.
    workers : int
        Processes sharing the calls of predictors without ``predict_many`` (the
        tracker); the numbers do not depend on it.
    progress : callable, optional
        ``progress(done, total)`` as those calls go.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Where those calls run instead of ``workers`` processes (docs/batch.md); the
        numbers do not depend on it.
    """
    at = _check_at(at)
    check_whole("folds", folds, 100)
    check_whole("workers", workers)
    check_executor(executor, workers)
    if folds < 2:
        raise ValueError(f"folds = {folds!r} is not valid; expected 2 or more")
    seed = normalize_seed(rng)
    predictors = [make() for make in BASELINES] if predictors is None else list(predictors)
    if not predictors:
        raise ValueError("predictors = [] is not valid; expected at least one predictor")
    names = [getattr(p, "name", type(p).__name__) for p in predictors]
    if len(set(names)) < len(names):
        raise ValueError(f"predictors named {names} are not valid: names must differ")
    try:
        frame = validate_trajectories(frame)
        everything = _Trajectories.from_frame(frame)
    except CalibrationError as error:
        raise BacktestError(str(error)) from None
    n = len(everything.campaigns)
    if n < folds:
        raise BacktestError(f"{n} campaign(s) cannot be split into {folds} folds; give "
                            "at least as many campaigns as folds")
    fold = np.empty(n, dtype=int)
    fold[np.random.default_rng(seed).permutation(n)] = np.arange(n) % folds
    slow = [p for p in predictors if not hasattr(p, "predict_many")]
    counter = _Counter(len(slow) * n * len(at), progress)
    own = None  # the processes of this machine, when they share the calls
    if slow and executor is None and workers > 1:
        from .engine import cores, process_pool
        own = process_pool(min(workers, cores()))  # more would only take memory
    pool = Runner(executor if executor is not None else own) if slow else None
    parts = []
    try:
        for k in range(folds):
            held = fold == k
            train = frame[~frame["campaign_id"].isin(everything.campaigns.index[held])]
            test = everything.subset(held)
            fitted = [p.fit(train) for p in predictors]
            for a in at:
                cases = Cases.cut(test, a)
                for name, predictor in zip(names, fitted):
                    p, quantiles, errors = _predict(predictor, cases, pool, counter)
                    parts.append(_rows(cases, test, name, k + 1, p, quantiles, errors))
    finally:
        if own is not None:
            own.shutdown(wait=True, cancel_futures=True)
    predictions = pd.concat(parts, ignore_index=True)
    order = {name: i for i, name in enumerate(names)}
    predictions = predictions.sort_values(
        ["at", "predictor", "campaign_id"], key=lambda c: c.map(order)
        if c.name == "predictor" else c, kind="stable").reset_index(drop=True)
    return Backtest(score(predictions, names), predictions, seed_label(seed), folds,
                    package_version())


class _Counter:
    """Progress of the slow predictors' calls."""

    def __init__(self, total: int, progress: Callable[[int, int], None] | None):
        self.total, self.done, self.progress = total, 0, progress

    def add(self, count: int) -> None:
        self.done += count
        if self.progress is not None and self.total:
            self.progress(self.done, self.total)


def _predict(predictor: Any, cases: Cases, pool: Runner | None,
             counter: _Counter) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """(p, quantiles, errors) of every case: ``predict_many`` at once when the
    predictor has it, else one ``predict`` call per case, by ``pool`` (here when it
    runs them one at a time) in order-preserving chunks."""
    if hasattr(predictor, "predict_many"):
        p, quantiles = predictor.predict_many(cases)
        return (np.asarray(p, float), np.asarray(quantiles, float).reshape(len(cases), -1),
                [None] * len(cases))
    items = [(cases.observed(i), *row)
             for i, row in enumerate(cases.campaigns[["goal", "duration_days", "platform"]]
                                     .itertuples(index=False, name=None))]
    size = (1 if pool.executor is None
            else max(1, min(16, math.ceil(len(items) / (4 * pool.parallelism)))))
    calls = [(predictor, items[i:i + size]) for i in range(0, len(items), size)]
    results = []
    ahead = None if pool.executor is None else len(calls)  # here: each as it comes
    for chunk in pool.in_order(_predict_chunk, calls, ahead=ahead):
        results.extend(chunk)  # in the order of the cases
        counter.add(len(chunk))
    p = np.array([r[0] for r in results], float)
    quantiles = np.array([r[1] for r in results], float).reshape(len(cases), LEVELS.size)
    return p, quantiles, [r[2] for r in results]


def _predict_chunk(predictor: Any, items: list[tuple]) -> list[tuple]:
    """``predict`` on each item; a ValueError (a campaign the predictor refuses)
    becomes NaN and its message, not the end of the backtest."""
    out = []
    for observed, goal, duration_days, platform in items:
        try:
            p, quantiles = predictor.predict(observed, goal, duration_days, platform)
            out.append((float(p), np.asarray(quantiles, float), None))
        except ValueError as error:
            out.append((math.nan, np.full(LEVELS.size, math.nan), str(error)))
    return out


def _rows(cases: Cases, test: _Trajectories, name: str, fold: int, p: np.ndarray,
          quantiles: np.ndarray, errors: list[str | None]) -> pd.DataFrame:
    campaigns = test.campaigns
    rows = pd.DataFrame({"at": cases.at, "predictor": name,
                         "campaign_id": campaigns.index.to_numpy(), "fold": fold,
                         "goal": campaigns["goal"].to_numpy(float),
                         "final": campaigns["final"].to_numpy(float),
                         "success": campaigns["success"].to_numpy(bool), "p": p})
    rows[_QUANTILE_COLUMNS] = quantiles
    rows["error"] = errors
    return rows


def score(predictions: pd.DataFrame, order: Sequence[str] | None = None) -> pd.DataFrame:
    """The metrics of ``Backtest.predictions``, one row per (checkpoint, predictor):
    ``campaigns`` scored, ``not_scored``, accuracy, brier, log_loss, coverage80 (of
    [q10, q90]), median_width (q90 / q10), quantile_score (in goals)."""
    rows = []
    for (a, name), group in predictions.groupby(["at", "predictor"], sort=False):
        ok = group["p"].notna().to_numpy()
        g = group[ok]
        p, success, final = g["p"].to_numpy(), g["success"].to_numpy(bool), g["final"]
        quantiles = g[_QUANTILE_COLUMNS].to_numpy(float)
        row = {"at": a, "predictor": name, "campaigns": int(ok.sum()),
               "not_scored": int((~ok).sum())}
        if ok.any():
            row.update(accuracy=accuracy(p, success), brier=brier_score(p, success),
                       log_loss=log_loss(p, success),
                       coverage80=coverage(g["q10"], g["q90"], final),
                       median_width=median_width(g["q10"], g["q90"]),
                       quantile_score=quantile_score(quantiles, final, g["goal"]))
        else:
            row.update({m: math.nan for m in METRICS})
        rows.append(row)
    table = pd.DataFrame(rows)
    if order is not None:
        rank = {name: i for i, name in enumerate(order)}
        table = table.sort_values(["at", "predictor"], key=lambda c: c.map(rank)
                                  if c.name == "predictor" else c, kind="stable")
    return table.set_index(["at", "predictor"])


def reliability(predictions: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """The data of a reliability diagram: forecasts cut into ``bins`` equal bins of
    p ([0, 1/bins), ..., [1 - 1/bins, 1]); per (checkpoint, predictor, bin) with
    campaigns, the mean forecast ``predicted``, the share of successes ``observed``
    and the count ``campaigns``."""
    check_whole("bins", bins)
    scored = predictions[predictions["p"].notna()]
    which = np.minimum((scored["p"].to_numpy(float) * bins).astype(int), bins - 1)
    table = (scored.assign(bin=which, success=scored["success"].astype(float))
             .groupby(["at", "predictor", "bin"], sort=False)
             .agg(predicted=("p", "mean"), observed=("success", "mean"),
                  campaigns=("p", "size")))
    return table.reset_index().sort_values(["at", "bin"], kind="stable",
                                           ).reset_index(drop=True)
