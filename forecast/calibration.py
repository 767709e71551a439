"""Calibration on real campaigns: the generic prior and the timing of a campaign.

``calibrate(frame)`` fits, from past campaigns' cumulative totals (the columns of
``read_trajectories``), a *generic prior*: the scenario of "a campaign with goal G
and duration D" when its circles are unknown (docs/model.md, "Calibration"). Its
structure is fixed: the owner's supporters (a stock circle with the campaign's
U-curve) and the platform's visitors (a flow featured once the campaign shows
traction), both scaled by the project's appeal; its parameters are fitted by the
simulated method of moments:

* the share of the final total in each tenth of the duration, for successes and
  for failures (20 moments);
* the success rate, the share of campaigns that raise nothing;
* final / goal: the mean and median of failures, the quartiles of successes.

The loss is the sum of squared differences between the observed moments and those
of ``sims`` campaigns simulated with common random numbers (the same seed for every
trial), minimised by Nelder-Mead from a fixed start. The audience scales with the
goal as ``goal ** goal_elasticity`` around the reference goal (the training median),
with the elasticity read off the observed success rate by goal; durations enter as
fractions of the reference duration, so ``generic_prior`` adapts the timing to any
duration.

From a single campaign (or a handful) only its timing can be told: ``calibrate``
then fits the U-curve of the supporters to its tenths and says so.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import engine
from .result import normalize_seed
from .scenario import (MAX_FADE_PER_DAY, PLATFORMS, Scenario, ScenarioError, Timing,
                       load_scenario)

__all__ = ["CalibrationError", "Calibration", "TRAJECTORY_COLUMNS", "read_trajectories",
           "campaign_tenths", "calibrate", "generic_prior", "PRIOR_PATH", "fit_completion",
           "completion_mle"]

#: The columns a trajectories file must have; ``backers``, ``final_pledged`` and
#: ``success`` are optional (final: the last observation; success: final >= goal).
TRAJECTORY_COLUMNS = ("campaign_id", "goal", "duration_days", "t_days", "pledged")
#: Below this many campaigns only the timing is fitted.
MIN_CAMPAIGNS = 30
#: The loss of a trial whose scenario validation refuses (far beyond any moment's).
_REFUSED = 1e6
#: Tenths of the duration at which cumulative totals are read.
TENTHS = np.arange(1, 11) / 10
#: The shipped generic prior (fitted on the training campaigns).
PRIOR_PATH = Path(__file__).parent / "data" / "generic-prior.toml"

# Fixed parts of the prior's structure (docs/model.md, "Calibration"): the
# supporters' conversion and the visitors' (about 1 % of people who see a campaign
# give, MODEL.md); only products with sizes matter, so these set the scale of counts.
_SUPPORTER_CONVERSION = 0.25
_VISITOR_CONVERSION = 0.01


def _minimize(*args, **kwargs):
    """scipy.optimize.minimize, imported when a fit runs (not at import)."""
    from scipy import optimize

    return optimize.minimize(*args, **kwargs)


def _sigmoid(x: float) -> float:
    """1 / (1 + e^-x), for any x (Nelder-Mead may go far: e^-x overflows below -709)."""
    return 0.0 if x < -700 else 1.0 / (1.0 + math.exp(-x))


def _exp(x: float) -> float:
    """e^x, at most e^700 (no overflow)."""
    return math.exp(min(700.0, x))


class CalibrationError(ValueError):
    """A trajectories file or frame that cannot be calibrated on, with a message
    naming the file, the column and the row."""


# ----------------------------------------------------------------------------- reading

def read_trajectories(path: str | Path) -> pd.DataFrame:
    """Read a CSV of campaign trajectories (gzip allowed) and validate it.

    One row per observation: ``campaign_id``, ``goal``, ``duration_days``,
    ``t_days`` (days since launch), ``pledged`` (cumulative); optionally
    ``final_pledged`` and ``success``. Raises ``CalibrationError`` naming the
    file, the column and the first bad row.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise CalibrationError(f"{path}: no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            OSError, EOFError, ValueError) as error:
        raise CalibrationError(f"{path}: not a readable CSV file ({error})") from None
    return validate_trajectories(frame, str(path))


def validate_trajectories(frame: pd.DataFrame, where: str = "<frame>") -> pd.DataFrame:
    """The frame checked and sorted by campaign and time (a copy)."""
    if not isinstance(frame, pd.DataFrame):
        raise CalibrationError(f"{where}: expected a pandas DataFrame, not "
                               f"{type(frame).__name__}")
    missing = [c for c in TRAJECTORY_COLUMNS if c not in frame.columns]
    if missing:
        raise CalibrationError(
            f"{where}: missing column(s) {', '.join(missing)}; a trajectories file has "
            f"the columns {', '.join(TRAJECTORY_COLUMNS)} (optional: final_pledged, "
            "success)")
    if frame.empty:
        raise CalibrationError(f"{where}: no rows")
    frame = frame.copy()
    for column in ("goal", "duration_days", "t_days", "pledged", "final_pledged"):
        if column not in frame.columns:
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = ~np.isfinite(values) | (values < 0)
        if column in ("goal", "duration_days"):
            bad |= values <= 0
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise CalibrationError(
                f"{where}: row {row + 2}, column {column}: {frame[column].iloc[row]!r} is "
                f"not valid; expected a number {'> 0' if column in ('goal', 'duration_days') else '>= 0'}")
        frame[column] = values
    frame["campaign_id"] = frame["campaign_id"].astype(str)
    frame = frame.sort_values(["campaign_id", "t_days"], kind="stable")
    for column in ("goal", "duration_days"):
        varies = frame.groupby("campaign_id")[column].nunique() > 1
        if varies.any():
            raise CalibrationError(f"{where}: campaign {varies.index[varies][0]!r} has more "
                                   f"than one {column}")
    # Totals may drop a little (cancelled pledges on real platforms): accepted.
    return frame.reset_index(drop=True)


_TRUE, _FALSE = {"1", "true", "yes", "1.0"}, {"0", "false", "no", "0.0"}


def _success_value(value: Any) -> bool:
    """A ``success`` cell as a bool: true/false, yes/no, 1/0 (any case)."""
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise CalibrationError(f"column success: {value!r} is not valid; expected 1/0, "
                           "true/false or yes/no (or no success column: final >= goal)")


def campaign_outcomes(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per campaign of a validated frame (``validate_trajectories``), sorted
    by id: ``goal``, ``duration_days``, ``final`` (the platform's final total, at
    least the last observed) and ``success`` (the platform's label, else final >=
    goal)."""
    groups = frame.groupby("campaign_id", sort=True)
    out = groups.agg(goal=("goal", "first"), duration_days=("duration_days", "first"),
                     last=("pledged", "last"))
    final = (groups["final_pledged"].first() if "final_pledged" in frame.columns
             else out["last"])
    out["final"] = np.maximum(final, out["last"])
    if "success" in frame.columns:
        out["success"] = groups["success"].first().map(_success_value)
    else:
        out["success"] = out["final"] >= out["goal"]
    return out.drop(columns="last")


def campaign_tenths(frame: pd.DataFrame) -> pd.DataFrame:
    """``campaign_outcomes`` and ``c1`` … ``c10``, the cumulative total at each tenth
    of the duration (the last observation at or before it, never interpolated;
    ``c10`` is the final total).
    """
    frame = validate_trajectories(frame)
    out = campaign_outcomes(frame)
    frac = frame["t_days"] / frame["duration_days"]
    for k, f in enumerate(TENTHS[:-1], start=1):
        seen = frame[frac <= f + 1e-12].groupby("campaign_id")["pledged"].last()
        out[f"c{k}"] = seen.reindex(out.index).fillna(0.0)
    out["c10"] = out["final"]
    return out[["goal", "duration_days", "final", *(f"c{k}" for k in range(1, 11)),
                "success"]]


# ----------------------------------------------------------------------------- moments

#: Names of the moments, in order.
#: Bins of the progress at nine tenths of the time (pledged / goal) whose success
#: rates are moments: how the end of a campaign depends on where it stands, which
#: the final surge's dependence on the progress and the goal completion shape.
PROGRESS_BINS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.7)
MOMENT_NAMES = ([f"success share t{k}" for k in range(1, 11)]
                + [f"failure share t{k}" for k in range(1, 11)]
                + ["success rate", "raised nothing", "failure final/goal mean",
                   "failure final/goal median", "success final/goal q25",
                   "success final/goal median", "success final/goal q75"]
                + [f"success at {lo:.1f}-{hi:.1f} of the goal at t9"
                   for lo, hi in zip(PROGRESS_BINS, PROGRESS_BINS[1:])])
# Weights of the moments in the loss (per unit of each): shares, rates and ratios are
# all fractions; the success quartiles are ratios near 1 whose spread matters less.
_WEIGHTS = np.array([1.0] * 20 + [2.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5]
                    + [1.0] * (len(PROGRESS_BINS) - 1))


def moments(final: np.ndarray, goal: np.ndarray | float, cumulative: np.ndarray,
            success: np.ndarray | None = None) -> np.ndarray:
    """The calibration moments (``MOMENT_NAMES``) of campaigns.

    ``cumulative`` has shape (n, 10): the totals at each tenth (the last column the
    final total); ``success`` defaults to final >= goal. Shares per tenth are the
    mean over campaigns that raised something of each one's share; the success rate
    of the campaigns in a bin of progress at nine tenths is 0.5 when none is in it.
    """
    final = np.asarray(final, float)
    ratio = final / goal
    success = ratio >= 1 if success is None else np.asarray(success, bool)
    shares = np.diff(np.column_stack([np.zeros(final.size), cumulative]), axis=1)
    some = final > 0
    shares = np.divide(shares, final[:, None], out=np.zeros_like(shares),
                       where=some[:, None])

    def mean_shares(mask):
        rows = shares[mask & some]
        return rows.mean(axis=0) if rows.size else np.full(10, 0.1)

    fail, win = ratio[~success], ratio[success]
    at_nine = np.digitize(cumulative[:, 8] / goal, PROGRESS_BINS)  # bin k: 1 .. len - 1
    by_progress = [success[at_nine == k].mean() if np.any(at_nine == k) else 0.5
                   for k in range(1, len(PROGRESS_BINS))]
    return np.concatenate([
        mean_shares(success), mean_shares(~success),
        [success.mean(), np.mean(final <= 0),
         fail.mean() if fail.size else 0.0, np.median(fail) if fail.size else 0.0],
        np.quantile(win, [0.25, 0.5, 0.75]) if win.size else [1.0, 1.0, 1.0],
        by_progress])


# ----------------------------------------------------------------------------- the prior

@dataclass(frozen=True)
class PriorParameters:
    """The generic prior's fitted numbers (docs/model.md, "Calibration").

    Durations are fractions of the campaign's duration; ``audience`` is the
    supporters' expected money at appeal 1, before the surge's thinning, as a
    fraction of the goal; ``visitors`` the platform visitors' expected money before
    featuring, as a fraction of the supporters'.
    """

    launch_share: float
    launch_time: float
    final_share: float
    final_time: float
    surge_half_progress: float
    surge_steepness: float
    appeal_sd: float
    audience: float
    visitors: float
    featured_at: float
    featured_boost: float
    post_goal_factor: float

    @classmethod
    def from_vector(cls, theta: np.ndarray) -> "PriorParameters":
        """From the unconstrained vector Nelder-Mead searches."""
        sig = _sigmoid
        a = 0.95 * sig(theta[0])
        return cls(
            launch_share=a, launch_time=0.01 + 0.5 * sig(theta[1]),
            final_share=(1 - a) * 0.95 * sig(theta[2]), final_time=0.01 + 0.3 * sig(theta[3]),
            surge_half_progress=0.02 + 1.5 * sig(theta[4]),
            surge_steepness=0.5 + 15 * sig(theta[5]),
            appeal_sd=0.05 + 2.9 * sig(theta[6]), audience=_exp(theta[7]),
            visitors=_exp(theta[8]), featured_at=0.02 + 0.9 * sig(theta[9]),
            featured_boost=1.0 + 40 * sig(theta[10]), post_goal_factor=sig(theta[11]))

    def to_vector(self) -> np.ndarray:
        logit = lambda p: math.log(p / (1 - p))  # noqa: E731
        return np.array([
            logit(self.launch_share / 0.95), logit((self.launch_time - 0.01) / 0.5),
            logit(self.final_share / (0.95 * (1 - self.launch_share))),
            logit((self.final_time - 0.01) / 0.3),
            logit((self.surge_half_progress - 0.02) / 1.5),
            logit((self.surge_steepness - 0.5) / 15), logit((self.appeal_sd - 0.05) / 2.9),
            math.log(self.audience), math.log(self.visitors),
            logit((self.featured_at - 0.02) / 0.9), logit((self.featured_boost - 1) / 40),
            logit(self.post_goal_factor)])


#: Where Nelder-Mead starts: near where the fit on the 2,552 training campaigns
#: landed (rounded). From the literature's U-curve (launch 0.3, surge 0.2, audience
#: of the goal, ...) it stopped, with the goal completion on, in a worse optimum
#: (loss 0.062 against 0.024: too few campaigns raising nothing, too much at
#: launch; docs/model.md, "Calibration").
_START = PriorParameters(launch_share=0.3, launch_time=0.1, final_share=0.65,
                         final_time=0.04, surge_half_progress=0.4, surge_steepness=8.0,
                         appeal_sd=1.6, audience=0.5, visitors=0.2, featured_at=0.06,
                         featured_boost=25.0, post_goal_factor=0.03)


def prior_spec(params: PriorParameters, goal: float, duration_days: int,
               platform: str = "custom", pledge_mean: float = 60.0,
               pledge_sd: float = 60.0, reach_days: float = 0.0,
               fade_per_day: float = 0.0) -> dict[str, Any]:
    """The generic prior as the dict of a scenario file, for a goal and duration.

    The audience was fitted without a duration effect, so the supporters are scaled
    by 1 / g(D) and the visitors' daily reach by 1 / flow_days(λ, D): at this
    duration they bring what the fit found."""
    D = duration_days
    supporters = params.audience * goal / (_SUPPORTER_CONVERSION * pledge_mean
                                           * engine.duration_factor(reach_days,
                                                                    fade_per_day, D))
    visitors = params.visitors * params.audience * goal / (
        _VISITOR_CONVERSION * pledge_mean * engine.flow_days(fade_per_day, D))
    return {
        "campaign": {"name": "generic prior", "goal": goal, "duration_days": D,
                     "platform": platform},
        "timing": {"launch_share": params.launch_share,
                   "launch_days": params.launch_time * D,
                   "final_share": params.final_share, "final_days": params.final_time * D},
        "dynamics": {"post_goal_factor": params.post_goal_factor,
                     "appeal_sd": params.appeal_sd,
                     "surge_half_progress": params.surge_half_progress,
                     "surge_steepness": params.surge_steepness,
                     "reach_days": reach_days, "fade_per_day": fade_per_day},
        "circle": [
            {"name": "supporters", "size": max(1, round(supporters)),
             "conversion": _SUPPORTER_CONVERSION,
             "pledge": {"mean": pledge_mean, "sd": pledge_sd}},
            {"name": "platform visitors", "daily_reach": visitors,
             "conversion": _VISITOR_CONVERSION, "featured_at": params.featured_at,
             "featured_boost": params.featured_boost,
             "timing": {"launch_share": 0.0, "final_share": params.final_share,
                        "final_days": params.final_time * D},
             "pledge": {"mean": pledge_mean, "sd": pledge_sd}},
        ],
    }


def simulated_tenths(scenario: Scenario, sims: int, seed: np.random.SeedSequence
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Final totals, shape (sims,), and cumulative totals at each tenth of the
    duration, shape (sims, 10), of ``sims`` simulated campaigns (sims <= PATH_SIMS)."""
    outcome = engine.run(scenario, sims, seed)
    return outcome.gross, tenths_of_paths(outcome.paths.astype(float))


def tenths_of_paths(paths: np.ndarray) -> np.ndarray:
    """The running totals of ``paths`` (shape (n, D), day by day) at each tenth of the
    duration, shape (n, 10): at the end of the last whole day at or before it (day k
    ends at time k + 1), as real totals are read, the last one the final total."""
    D = paths.shape[1]
    days = np.floor(TENTHS * D + 1e-9).astype(int) - 1
    out = np.where(days >= 0, paths[:, np.maximum(days, 0)], 0.0)
    out[:, -1] = paths[:, -1]
    return out


# ----------------------------------------------------------------------------- fitting

@dataclass
class Calibration:
    """What ``calibrate`` fitted, and how well.

    ``parameters``: the prior's numbers (None when only the timing could be
    fitted); ``timing``: the supporters' U-curve in fractions of the duration;
    ``fit``: observed against fitted moments (a frame indexed by moment);
    ``folds``: per-fold out-of-sample losses when cross-validated.
    """

    campaigns: int
    reference_goal: float
    reference_days: int
    parameters: PriorParameters | None
    timing: dict[str, float]
    fit: pd.DataFrame
    pledge_mean: float
    pledge_sd: float
    goal_elasticity: float
    reach_days: float
    fade_per_day: float
    seed: int
    sims: int
    mid_campaign_spread: float = float("nan")
    folds: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    #: The goal completion (h, k) fitted on the fitted prior (``fit_completion``),
    #: None when not fitted (the [dynamics] defaults then stand).
    completion: tuple[float, float] | None = None

    @property
    def timing_only(self) -> bool:
        return self.parameters is None

    def scenario_dict(self) -> dict[str, Any]:
        """The prior at its reference goal and duration (``generic_prior`` adapts it
        to another campaign)."""
        params = self.parameters or replace(_START, **self.timing)
        spec = prior_spec(params, self.reference_goal, self.reference_days, "custom",
                          self.pledge_mean, self.pledge_sd, self.reach_days,
                          self.fade_per_day)
        if self.completion is not None:
            spec["dynamics"].update(completion_half_progress=self.completion[0],
                                    completion_steepness=self.completion[1])
        return spec

    def to_toml(self, command: str = "forecast calibrate") -> str:
        """The generic prior as a scenario file, with the fitted numbers and how
        they were fitted in comments (loadable by ``load_scenario``)."""
        spec = self.scenario_dict()
        lines = [
            "# The generic prior: a campaign whose circles are unknown, fitted on",
            f"# {self.campaigns} past campaigns by `{command}`",
            f"# (seed {self.seed}, {self.sims} simulated campaigns per trial;",
            "# docs/model.md, \"Calibration\"). Timing in fractions of the duration:",
        ]
        lines += [f"#   {k} = {v:.6g}" for k, v in self.timing.items()]
        lines += [f"# reference_goal = {self.reference_goal:.6g}",
                  f"# reference_days = {self.reference_days}",
                  f"# goal_elasticity = {self.goal_elasticity:.6g}"]
        if self.parameters is not None:
            lines += [f"# audience = {self.parameters.audience:.6g}",
                      f"# visitors = {self.parameters.visitors:.6g}"]
        lines += [f"# {note}" for note in self.notes]
        lines.append("")
        return "\n".join(lines) + _dumps(spec)


def _dumps(spec: dict[str, Any]) -> str:
    """A scenario dict as TOML (tables, arrays of tables, inline tables; numbers,
    strings)."""
    def value(v: Any) -> str:
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        return repr(float(v))

    out = []
    for table, content in spec.items():
        if isinstance(content, list):
            for item in content:
                out.append(f"\n[[{table}]]")
                out += [f"{k} = {value(v)}" for k, v in item.items()]
        else:
            out.append(f"\n[{table}]")
            out += [f"{k} = {value(v)}" for k, v in content.items()]
    return "\n".join(out).lstrip("\n") + "\n"


def calibrate(frame: pd.DataFrame, *, sims: int = 3000, rng: Any = 0, folds: int = 0,
              max_evaluations: int = 2000, completion: bool = True,
              progress: Callable[[str], None] | None = None) -> Calibration:
    """Fit the generic prior (or, from fewer than ``MIN_CAMPAIGNS`` campaigns, the
    timing alone) to past campaigns.

    Parameters
    ----------
    frame : DataFrame
        Trajectories with the columns of ``read_trajectories``.
    sims : int
        Simulated campaigns per trial of the simulated method of moments.
    rng : seed
        The common random numbers of every trial (SPEC 7).
    folds : int
        With k >= 2, also fit on k - 1 folds of campaigns and score on the one held
        out, k times (``Calibration.folds``).
    max_evaluations : int
        Nelder-Mead's budget of loss evaluations.
    completion : bool
        Also fit the goal completion through the tracker on the fitted prior
        (``fit_completion``, about a minute on 2,500 campaigns); where it cannot be
        fitted, a note says so and the defaults stand.
    progress : callable, optional
        Called with a short line of text as the fit goes.
    """
    tenths = campaign_tenths(frame)
    if not 1 <= sims <= engine.PATH_SIMS:
        raise ValueError(f"sims = {sims!r} is not valid; expected 1 to {engine.PATH_SIMS}")
    seed = normalize_seed(rng)
    say = progress or (lambda text: None)
    reference_goal = float(np.median(tenths["goal"]))
    reference_days = max(1, int(round(float(np.median(tenths["duration_days"])))))
    pledge_mean, pledge_sd = _pledges(frame, tenths)
    if folds == 1 or folds < 0:
        raise ValueError(f"folds = {folds!r} is not valid; expected 0 (no "
                         "cross-validation) or 2 and more")
    if folds and len(tenths) < MIN_CAMPAIGNS:
        raise CalibrationError(f"cross-validation fits the whole prior, which needs at "
                               f"least {MIN_CAMPAIGNS} campaigns; there are {len(tenths)}")
    if len(tenths) < MIN_CAMPAIGNS:
        return _timing_only(tenths, reference_goal, reference_days, pledge_mean, pledge_sd,
                            seed, sims)
    observed = _observed(tenths)
    params, _ = _fit(observed, reference_goal, reference_days, pledge_mean, pledge_sd,
                     seed, sims, max_evaluations, say)
    fitted = _simulated(params, reference_goal, reference_days, pledge_mean, pledge_sd,
                        seed, sims)
    beta = _odds_per_log_audience(params, reference_goal, reference_days, pledge_mean,
                                  pledge_sd, seed, sims)
    elasticity = _goal_elasticity(tenths, beta)
    notes = []
    if beta < _MIN_BETA:
        reach_days, fade = 0.0, 0.0
        notes.append(f"The prior's odds hardly move with its audience (beta = {beta:.3g}): "
                     "the duration effect and the goal's are not estimated (set to none).")
    else:
        share = _flow_share(params, reference_goal, reference_days, pledge_mean, pledge_sd,
                            seed, sims)
        reach_days, fade = _duration_effect(tenths, beta, share, reference_days)
    table = pd.DataFrame({"observed": observed, "fitted": fitted}, index=MOMENT_NAMES)
    spread = mid_campaign_spread(tenths)
    timing = {"launch_share": params.launch_share, "launch_time": params.launch_time,
              "final_share": params.final_share, "final_time": params.final_time}
    result = Calibration(
        campaigns=len(tenths), reference_goal=reference_goal,
        reference_days=reference_days, parameters=params, timing=timing, fit=table,
        pledge_mean=pledge_mean, pledge_sd=pledge_sd, goal_elasticity=elasticity,
        reach_days=reach_days, fade_per_day=fade, seed=int(seed.entropy), sims=sims,
        mid_campaign_spread=spread, notes=notes)
    if completion:
        _fit_completion_on(result, frame, seed, say)
    if folds >= 2:
        result.folds = _cross_validate(tenths, folds, reference_goal, reference_days,
                                       pledge_mean, pledge_sd, seed, sims,
                                       max_evaluations, say)
    return result


def _fit_completion_on(result: Calibration, frame: pd.DataFrame,
                       seed: np.random.SeedSequence, say: Callable[[str], None]) -> None:
    """The goal completion fitted through the tracker on ``result``'s own prior (its
    scenario file, written to a temporary folder): ``result.completion``, or a note
    saying why it could not be fitted."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "prior.toml"
        path.write_text(result.to_toml(), encoding="utf-8")

        def tracked(done: int, total: int) -> None:
            if done % 250 == 0 or done == total:
                say(f"  goal completion: {done} of {total} campaigns tracked")

        try:
            # A copy of the seed: spawning from it must not change the caller's.
            copy = np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key)
            result.completion = fit_completion(frame, rng=copy, progress=tracked,
                                               prior=path)
        except CalibrationError as error:
            result.notes.append(f"The goal completion is not fitted ({error}); the "
                                "[dynamics] defaults stand.")


def mid_campaign_spread(tenths: pd.DataFrame) -> float:
    """What a real campaign still does not know half way through: the residual sd
    of log(final) regressed on log(total at mid-campaign) and log(goal), over the
    campaigns that had raised something by then. The default ``appeal_sd`` of a
    described scenario (docs/model.md, "Appeal"): an owner who has listed their
    circles knows, at best, what a campaign knows at mid-campaign."""
    some = (tenths["c5"] > 0) & (tenths["final"] > 0)
    if some.sum() < 4:
        return float("nan")
    rows = tenths[some]
    y = np.log(rows["final"].to_numpy(float))
    X = np.column_stack([np.ones(len(rows)), np.log(rows["c5"].to_numpy(float)),
                         np.log(rows["goal"].to_numpy(float))])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    return float(np.std(y - X @ coef, ddof=X.shape[1]))


def _pledges(frame: pd.DataFrame, tenths: pd.DataFrame) -> tuple[float, float]:
    """The mean pledge (the median over campaigns of final / backers) and its sd,
    taken equal to the mean (a coefficient of variation of 1: only totals are seen,
    never single pledges). 60 when the file has no backers."""
    if "backers" not in frame.columns:
        return 60.0, 60.0
    backers = pd.to_numeric(frame.groupby("campaign_id")["backers"].max(), errors="coerce")
    per = (tenths["final"] / backers.reindex(tenths.index))
    per = per[np.isfinite(per) & (per > 0)]
    mean = float(np.median(per)) if per.size else 60.0
    return mean, mean


def _observed(tenths: pd.DataFrame) -> np.ndarray:
    cumulative = tenths[[f"c{k}" for k in range(1, 11)]].to_numpy(float)
    return moments(tenths["final"].to_numpy(float), tenths["goal"].to_numpy(float),
                   cumulative, tenths["success"].to_numpy(bool))


def _simulated(params: PriorParameters, goal: float, days: int, pledge_mean: float,
               pledge_sd: float, seed: np.random.SeedSequence, sims: int) -> np.ndarray:
    scenario = Scenario.from_dict(prior_spec(params, goal, days, "custom", pledge_mean,
                                             pledge_sd))
    final, cumulative = simulated_tenths(scenario, sims, seed)
    return moments(final, goal, cumulative)


def _loss(observed: np.ndarray, simulated: np.ndarray) -> float:
    return float(np.sum(_WEIGHTS * (observed - simulated) ** 2))


def _fit(observed, goal, days, pledge_mean, pledge_sd, seed, sims, max_evaluations, say
         ) -> tuple[PriorParameters, float]:
    evaluations = [0]

    def loss(theta):
        evaluations[0] += 1
        params = PriorParameters.from_vector(theta)
        try:
            value = _loss(observed, _simulated(params, goal, days, pledge_mean, pledge_sd,
                                               seed, sims))
        except ScenarioError:  # a trial far out (over a bound): as bad as can be
            value = _REFUSED
        if evaluations[0] % 100 == 0:
            say(f"  {evaluations[0]} trials, loss {value:.5f}")
        return value

    start = _START.to_vector()
    # A simplex of steps of 0.7 on every unconstrained coordinate (Nelder-Mead's own
    # is 5 % of each, nothing for a coordinate at 0).
    simplex = np.vstack([start, start + 0.7 * np.eye(start.size)])
    best = _minimize(loss, start, method="Nelder-Mead",
                             options={"maxfev": max_evaluations, "xatol": 1e-3,
                                      "fatol": 1e-6, "adaptive": True,
                                      "initial_simplex": simplex})
    return PriorParameters.from_vector(best.x), float(best.fun)


def _odds_per_log_audience(params, goal, days, pledge_mean, pledge_sd, seed, sims
                           ) -> float:
    """β: how much the prior's log-odds of success move per unit of log audience
    (simulated at ±0.25 around the fit, common random numbers)."""
    logits = []
    for step in (-0.25, 0.25):
        scaled = replace(params, audience=params.audience * math.exp(step))
        p = _simulated(scaled, goal, days, pledge_mean, pledge_sd, seed, sims)[20]
        p = min(max(p, 1 / sims), 1 - 1 / sims)
        logits.append(math.log(p / (1 - p)))
    return (logits[1] - logits[0]) / 0.5


#: Below this, the prior's log-odds barely move with its audience, and the goal's and
#: the duration's effects on the real odds cannot be turned into its numbers.
_MIN_BETA = 0.1


def _goal_elasticity(tenths: pd.DataFrame, beta: float) -> float:
    """How the audience grows with the goal: ``audience ∝ goal ** e``.

    The observed log-odds of success move by ``b`` per unit of log goal (a logistic
    regression on log goal and duration); in the prior, the audience relative to
    the goal moves them by ``β`` per unit of its log. So ``e = 1 + b / β``, clipped
    to [0, 1].
    """
    y = tenths["success"].to_numpy(float)
    X = np.column_stack([np.ones(len(y)), np.log(tenths["goal"]), tenths["duration_days"]])
    b = _logistic_offset(X, y, np.zeros(len(y)))[1]
    if beta < _MIN_BETA:
        return 1.0
    return float(min(1.0, max(0.0, 1.0 + b / beta)))


#: A campaign whose duration is within this fraction of the longest in the file ran at
#: the platform's maximum (Catarse's 60-day cap shows as 59.5 to 64 days).
_AT_MAXIMUM = 0.925


def _flow_share(params, goal, days, pledge_mean, pledge_sd, seed, sims) -> float:
    """The share of the prior's circles' money that its flow (the platform's
    visitors) brings, at the reference goal and duration."""
    scenario = Scenario.from_dict(prior_spec(params, goal, days, "custom", pledge_mean,
                                             pledge_sd))
    money = engine.run(scenario, sims, seed).circle_daily_sum.sum(axis=1)
    flows = sum(money[i] for i, c in enumerate(scenario.circles) if c.kind == "flow")
    return float(flows / money.sum()) if money.sum() > 0 else 0.0


#: The fading rates λ tried by ``_duration_effect``: none, then 0.001 to 0.2 a day.
_FADES = np.concatenate([[0.0], np.geomspace(0.001, MAX_FADE_PER_DAY, 80)])


def _duration_effect(tenths: pd.DataFrame, beta: float, flow_share: float,
                     reference_days: float) -> tuple[float, float]:
    """``reach_days`` τr and ``fade_per_day`` λ: how a campaign's audience moves with
    its duration D.

    A stock circle keeps ``g(D) ∝ (1 - e^{-D/τr}) e^{-λD}`` of its conversion, a
    flow brings ``flow_days(λ, D) = (1 - e^{-λD}) / λ`` days of its daily reach. At
    the reference duration D0 the flow brings ``flow_share`` f of the prior's money,
    so the audience moves as ``A(D) = (1 - f) g(D) / g(D0) + f flow_days(D) /
    flow_days(D0)``. In the prior, multiplying the audience by A moves the log-odds
    of success by about ``β log A``. So a logistic regression of success on log
    goal with the offset ``β log A(D)``, over a grid of τr (0 to 60 days) and λ
    (0 to the scenario's bound): the pair of the largest likelihood. The campaigns
    at the platform's maximum duration are left out: choosing the longest duration
    allowed is itself the mark of a harder project (in the training set, 45 %
    chose it and 34 % of them succeeded), a selection the regression cannot undo
    (docs/model.md, "Duration").
    """
    longest = float(tenths["duration_days"].max())
    rows = tenths[tenths["duration_days"] < _AT_MAXIMUM * longest]
    if len(rows) < MIN_CAMPAIGNS:
        rows = tenths
    y = rows["success"].to_numpy(float)
    D = rows["duration_days"].to_numpy(float)
    X = np.column_stack([np.ones_like(D), np.log(rows["goal"].to_numpy(float))])
    best = (-math.inf, 0.0, 0.0)
    for tau in (0.0, 1, 2, 3, 5, 7, 10, 14, 20, 30, 45, 60):
        for lam in _FADES:
            audience = ((1 - flow_share) * engine.duration_factor(tau, lam, D)
                        / engine.duration_factor(tau, lam, reference_days)
                        + flow_share * engine.flow_days(lam, D)
                        / engine.flow_days(lam, reference_days))
            offset = beta * np.log(audience)
            coef = _logistic_offset(X, y, offset)
            z = X @ coef + offset
            likelihood = float(np.sum(y * z - np.logaddexp(0, z)))
            if likelihood > best[0]:
                best = (likelihood, float(tau), float(lam))
    return best[1], best[2]


def _logistic_offset(X: np.ndarray, y: np.ndarray, offset: np.ndarray,
                     ridge: float = 0.0) -> np.ndarray:
    """Maximum-likelihood logistic regression coefficients of y on X, with a known
    ``offset`` added to the linear predictor (zeros: a plain regression) and
    ``ridge`` times the coefficients' squared norm added to the loss."""
    def nll(beta):
        z = X @ beta + offset
        return float(np.sum(np.logaddexp(0, z) - y * z) + ridge * beta @ beta)

    from scipy.special import expit

    def grad(beta):
        return X.T @ (expit(X @ beta + offset) - y) + 2 * ridge * beta

    return _minimize(nll, np.zeros(X.shape[1]), jac=grad, method="BFGS").x


def _cross_validate(tenths, folds, goal, days, pledge_mean, pledge_sd, seed, sims,
                    max_evaluations, say) -> pd.DataFrame:
    """Fit on all folds but one, score on the one held out: the loss of the fit on
    its own campaigns and on the held-out ones, per fold."""
    order = np.random.default_rng(seed.spawn(1)[0]).permutation(len(tenths))
    rows = []
    for k in range(folds):
        held = np.zeros(len(tenths), dtype=bool)
        held[order[k::folds]] = True
        say(f"fold {k + 1} of {folds}")
        train, test = _observed(tenths[~held]), _observed(tenths[held])
        params, train_loss = _fit(train, goal, days, pledge_mean, pledge_sd, seed, sims,
                                  max_evaluations, say)
        fitted = _simulated(params, goal, days, pledge_mean, pledge_sd, seed, sims)
        rows.append({"fold": k + 1, "campaigns": int(held.sum()), "train_loss": train_loss,
                     "test_loss": _loss(test, fitted),
                     "test_first_tenth_success": test[0] - fitted[0],
                     "test_last_tenth_success": test[9] - fitted[9],
                     "test_first_tenth_failure": test[10] - fitted[10],
                     "test_last_tenth_failure": test[19] - fitted[19]})
    return pd.DataFrame(rows).set_index("fold")


def _timing_only(tenths, goal, days, pledge_mean, pledge_sd, seed, sims) -> Calibration:
    """From a few campaigns: the U-curve's four numbers, by least squares of the
    expected share per tenth (``day_weights`` on a fine grid) against the mean of
    the observed shares. Nothing else can be told from so few."""
    cumulative = tenths[[f"c{k}" for k in range(1, 11)]].to_numpy(float)
    final = tenths["final"].to_numpy(float)
    some = final > 0
    if not some.any():
        raise CalibrationError("no campaign raised anything: there is no timing to fit")
    shares = np.diff(np.column_stack([np.zeros(final.size), cumulative]), axis=1)
    observed = (shares[some] / final[some, None]).mean(axis=0)
    grid = 1000  # the duration cut in a thousand steps: tenths are sums of 100

    def expected(x):
        a, la, c, lc = _timing_from(x)
        timing = Timing(a, la * grid, c, lc * grid)
        return engine.day_weights(timing, grid).reshape(10, -1).sum(axis=1)

    x0 = np.array([0.0, -1.0, -1.0, -1.0])
    best = _minimize(lambda x: float(np.sum((expected(x) - observed) ** 2)), x0,
                             method="Nelder-Mead", options={"maxfev": 4000, "xatol": 1e-4,
                                                            "fatol": 1e-10})
    a, la, c, lc = _timing_from(best.x)
    timing = {"launch_share": a, "launch_time": la, "final_share": c, "final_time": lc}
    fit = pd.DataFrame({"observed": observed, "fitted": expected(best.x)},
                       index=[f"share t{k}" for k in range(1, 11)])
    return Calibration(
        campaigns=len(tenths), reference_goal=goal, reference_days=days, parameters=None,
        timing=timing, fit=fit, pledge_mean=pledge_mean, pledge_sd=pledge_sd,
        goal_elasticity=1.0, reach_days=0.0, fade_per_day=0.0, seed=int(seed.entropy),
        sims=sims,
        notes=[f"Fitted from {len(tenths)} campaign(s): only the timing (the U-curve) can "
               f"be told from fewer than {MIN_CAMPAIGNS}; every other number is the "
               "start value, not a fit."])


def _timing_from(x: np.ndarray) -> tuple[float, float, float, float]:
    sig = _sigmoid
    a = 0.98 * sig(x[0])
    return a, 0.005 + 0.5 * sig(x[1]), (1 - a) * 0.98 * sig(x[2]), 0.005 + 0.3 * sig(x[3])


# ----------------------------------------------------------------------------- use

def generic_prior(goal: float, duration_days: int, platform: str = "custom",
                  path: str | Path | None = None, *, memory_check: bool = True
                  ) -> Scenario:
    """The shipped generic prior (or the one at ``path``) for a campaign of this goal
    and duration on this platform: timing scaled to the duration, audience to the
    goal by the fitted elasticity, the platform's fees and rules. Without
    ``memory_check`` a goal too large for the engine is accepted (``Scenario.from_dict``)."""
    if platform not in PLATFORMS:
        raise ScenarioError(f"platform {platform!r} is not valid; expected one of "
                            f"{', '.join(PLATFORMS)}")
    source = Path(path) if path is not None else PRIOR_PATH
    base = load_scenario(source)
    meta = _prior_meta(source)
    spec = base.to_dict()
    D0, G0 = meta["reference_days"], meta["reference_goal"]
    D = int(duration_days)
    spec["campaign"].update(goal=float(goal), duration_days=D, platform=platform)
    scale = (goal / G0) ** meta["goal_elasticity"]
    for section in [spec.get("timing", {})] + [c.get("timing", {})
                                                for c in spec.get("circle", [])]:
        for key in ("launch_days", "final_days"):
            if key in section:
                section[key] = section[key] * D / D0
    for circle in spec.get("circle", []):
        if "size" in circle:
            circle["size"] = max(1, round(circle["size"] * scale))
        if "daily_reach" in circle:  # visitors per day: a longer campaign gets more
            circle["daily_reach"] = circle["daily_reach"] * scale
    return Scenario.from_dict(spec, str(source), memory_check=memory_check)


def fit_completion(frame: pd.DataFrame, *, sims: int = 2000, rng: Any = 0,
                   progress: Callable[[int, int], Any] | None = None,
                   prior: str | Path | None = None) -> tuple[float, float]:
    """The goal completion (h, k) (``completion_half_progress`` and
    ``completion_steepness`` of [dynamics]), fitted on past campaigns through the
    tracker itself.

    For each campaign, x is its progress (pledged / goal, the last observation at or
    before the day) when the generic prior's final window opens for its duration.
    For those with 0 < x < 1 then, ``forecast.track`` on the observations so far,
    without completion, gives q, the odds the circles alone would bring. Success
    then has probability ``s + (1 - s) q`` with ``s = x^k / (x^k + h^k)``; h and k
    maximise the likelihood of the successes seen (docs/tracking.md, "Goal
    completion"). ``progress(done, total)`` is called after each campaign tracked.
    ``prior``: the generic prior's file (by default the shipped one).

    Raises
    ------
    CalibrationError
        Fewer than ``MIN_CAMPAIGNS`` campaigns short of their goal with some money
        at the window, or success that does not rise with x.
    """
    from .tracking import _whole_days, track, tracked_platform
    from .tracking import prior as prior_for

    frame = validate_trajectories(frame)
    outcomes = campaign_outcomes(frame)
    days = outcomes["duration_days"].map(_whole_days)
    start = {d: engine.surge_start(generic_prior(10_000.0, d, path=prior,
                                                 memory_check=False))
             for d in days.unique()}
    seen = frame[frame["t_days"] <= frame["campaign_id"].map(days.map(start))]
    x = (seen.groupby("campaign_id")["pledged"].last().reindex(outcomes.index)
         .fillna(0.0) / outcomes["goal"])
    keep = outcomes.index[(x > 0) & (x < 1)]
    if len(keep) < MIN_CAMPAIGNS:
        raise CalibrationError(f"{len(keep)} campaigns are short of their goal with "
                               f"some money when the final window opens; the goal "
                               f"completion needs at least {MIN_CAMPAIGNS}")
    platform = (frame.groupby("campaign_id")["platform"].first()
                if "platform" in frame.columns else pd.Series("custom", outcomes.index))
    seeds = normalize_seed(rng).spawn(len(keep))
    rows = dict(tuple(seen[seen["campaign_id"].isin(keep)].groupby("campaign_id")))
    q = np.empty(len(keep))
    for i, campaign in enumerate(keep):
        observed = rows[campaign].rename(columns={"t_days": "day"})[["day", "pledged"]]
        alone = prior_for(float(outcomes.at[campaign, "goal"]), int(days[campaign]),
                          tracked_platform(platform[campaign]), prior,
                          completion_half_progress=0)
        q[i] = track(observed, scenario=alone, sims=sims, rng=seeds[i]).probability()
        if progress is not None:
            progress(i + 1, len(keep))
    return completion_mle(x[keep].to_numpy(float),
                          outcomes.loc[keep, "success"].to_numpy(bool), q)


def completion_mle(x: np.ndarray, success: np.ndarray, natural: np.ndarray
                   ) -> tuple[float, float]:
    """(h, k) maximising the likelihood of ``success`` when a campaign at progress x
    succeeds with probability ``s + (1 - s) q``, ``s = x^k / (x^k + h^k)`` and q its
    ``natural`` odds (``fit_completion``)."""
    from scipy.special import expit

    log_x = np.log(x)
    y = success.astype(float)
    q = np.clip(natural, 1e-6, 1 - 1e-6)

    def nll(theta):
        s = expit(theta[0] + theta[1] * log_x)
        p = np.clip(s + (1 - s) * q, 1e-12, 1 - 1e-12)
        return -float(np.sum(y * np.log(p) + (1 - y) * np.log1p(-p)))

    a, k = _logistic_offset(np.column_stack([np.ones_like(log_x), log_x]), y,
                            np.zeros_like(log_x))
    a, k = _minimize(nll, np.array([a, k]), method="Nelder-Mead",
                     options={"xatol": 1e-6, "fatol": 1e-9, "maxiter": 4000}).x
    if not k > 0:
        raise CalibrationError("success does not rise with the progress at the final "
                               "window in these campaigns; no goal completion to fit")
    return float(math.exp(-a / k)), float(k)


def _prior_meta(path: Path) -> dict[str, float]:
    """The reference goal, duration and goal elasticity written in a prior's comments."""
    meta = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# ") and " = " in line:
            key, _, value = line[2:].partition(" = ")
            if key in ("reference_goal", "reference_days", "goal_elasticity"):
                meta[key] = float(value)
    missing = {"reference_goal", "reference_days", "goal_elasticity"} - set(meta)
    if missing:
        raise ScenarioError(f"{path}: not a generic prior written by forecast calibrate "
                            f"(no {', '.join(sorted(missing))} in its header)")
    return meta
