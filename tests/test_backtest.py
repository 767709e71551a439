"""``forecast backtest``: the metrics against their formulas on small hand-built inputs,
the baselines against slow references written from their definitions, the
cross-validation's folds, and the command. Synthetic trajectories only."""
from __future__ import annotations

import json
import math
import statistics

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from forecast import backtest as bt
from forecast.cli import main


# ----------------------------------------------------------------------------- data

def trajectories(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """Synthetic campaigns: irregular observation times (fractional days, not every
    day), cumulative totals from random daily amounts, a fifth that never raise
    anything, goals and durations that vary; success = final >= goal."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n):
        duration = float(rng.integers(20, 61))
        goal = float(rng.integers(1000, 20000))
        times = np.r_[0.0, np.sort(rng.uniform(0, duration, rng.integers(3, 30)))]
        if c % 5 == 0:
            pledged = np.zeros(times.size)
        else:
            pledged = np.r_[0.0, np.cumsum(rng.gamma(0.7, goal / 12, times.size - 1))]
        final = pledged[-1] * (1 + rng.uniform(0, 0.2))  # late payments
        for t, p in zip(times, pledged):
            rows.append({"campaign_id": f"c{c:03d}", "goal": goal, "duration_days": duration,
                         "platform": "catarse", "t_days": t, "pledged": p,
                         "backers": p // 50, "final_pledged": final,
                         "success": int(final >= goal)})
    return pd.DataFrame(rows)


def last_at_or_before(frame: pd.DataFrame, campaign: str, time: float) -> float:
    """The slow reference of carrying forward: a loop over one campaign's rows."""
    value = 0.0
    for row in frame[frame["campaign_id"] == campaign].itertuples():
        if row.t_days <= time:
            value = row.pledged
    return value


def outcomes(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.groupby("campaign_id").agg(goal=("goal", "first"),
                                            duration=("duration_days", "first"),
                                            final=("final_pledged", "first"),
                                            success=("success", "first"))


# ----------------------------------------------------------------------------- metrics

P = np.array([0.0, 0.2, 0.5, 0.7, 1.0, 0.45])
Y = np.array([0, 1, 1, 0, 1, 0])


def test_accuracy_brier_and_log_loss_follow_their_formulas():
    n = len(P)
    assert bt.accuracy(P, Y) == sum((p >= 0.5) == bool(y) for p, y in zip(P, Y)) / n
    assert bt.brier_score(P, Y) == pytest.approx(sum((p - y) ** 2 for p, y in zip(P, Y)) / n,
                                                 rel=1e-14)
    clipped = [min(max(p, bt.EPS), 1 - bt.EPS) for p in P]
    expected = -sum(math.log(p) if y else math.log(1 - p) for p, y in zip(clipped, Y)) / n
    assert bt.log_loss(P, Y) == pytest.approx(expected, rel=1e-12)
    # p = 0 for a success costs exactly ln(1 / EPS), not infinity
    assert bt.log_loss([0.0], [1]) == pytest.approx(-math.log(bt.EPS), rel=1e-12)


def test_coverage_and_median_width_follow_their_definitions():
    low = np.array([0.0, 10, 5, 0, 20, 8])
    high = np.array([0.0, 30, 5, 40, 25, 16])
    final = np.array([0.0, 30, 6, 50, 19, 8])
    inside = [lo <= f <= hi for lo, hi, f in zip(low, high, final)]
    assert bt.coverage(low, high, final) == sum(inside) / len(final)
    widths = [1.0 if hi == 0 else math.inf if lo == 0 else hi / lo
              for lo, hi in zip(low, high)]
    assert bt.median_width(low, high) == statistics.median(widths)
    # more than half the intervals start at 0 with something above: infinitely wide
    assert bt.median_width([0, 0, 1], [1, 2, 2]) == math.inf


def test_quantile_score_is_the_mean_pinball_loss_in_goals():
    rng = np.random.default_rng(3)
    quantiles = np.sort(rng.uniform(0, 100, (5, 9)), axis=1)
    final = rng.uniform(0, 100, 5)
    final[0] = quantiles[0, 4]  # a final total exactly on a quantile
    goal = rng.uniform(50, 150, 5)
    expected = 0.0
    for q_row, y, g in zip(quantiles, final, goal):
        losses = [max(level * (y - q), (level - 1) * (y - q))
                  for level, q in zip(bt.LEVELS, q_row)]
        expected += sum(losses) / len(losses) / g
    assert bt.quantile_score(quantiles, final, goal) == pytest.approx(expected / 5, rel=1e-12)
    # quantiles that are the final total score 0
    assert bt.quantile_score(np.repeat(final[:, None], 9, axis=1), final, goal) == 0


# ----------------------------------------------------------------------------- cutting

def test_carried_forward_matches_a_loop_over_rows():
    frame = trajectories(12, seed=1)
    data = bt._Trajectories.from_frame(frame)
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 12, 200)
    ids = data.campaigns.index[codes]
    times = rng.uniform(-1, 70, 200)
    times[:12] = data.times[np.searchsorted(data.codes, np.arange(12))]  # exactly on a row
    got = bt._carried(data.codes, data.times, data.pledged, codes, times)
    expected = [last_at_or_before(frame, c, t) for c, t in zip(ids, times)]
    np.testing.assert_array_equal(got, expected)


def test_cases_see_only_the_rows_up_to_the_checkpoint():
    frame = trajectories(15, seed=4)
    # a campaign whose first observation comes after the checkpoint, and a row
    # exactly on another campaign's checkpoint
    frame = frame[~((frame["campaign_id"] == "c001") & (frame["t_days"] < 25))]
    c2 = frame["campaign_id"] == "c002"
    frame.loc[c2 & (frame["t_days"] == frame[c2]["t_days"].iloc[1]), "t_days"] = (
        0.25 * frame[c2]["duration_days"].iloc[0])
    frame = frame.sort_values(["campaign_id", "t_days"])
    cases = bt.Cases.cut(bt._Trajectories.from_frame(frame), 0.25)
    for i, (campaign, row) in enumerate(cases.campaigns.iterrows()):
        checkpoint = 0.25 * row["duration_days"]
        assert row["checkpoint"] == checkpoint
        own = frame[(frame["campaign_id"] == campaign) & (frame["t_days"] <= checkpoint)]
        seen = cases.observed(i)
        if own.empty:
            assert seen.to_dict("list") == {"day": [0.0], "pledged": [0.0], "backers": [0.0]}
        else:
            np.testing.assert_array_equal(seen["day"], own["t_days"])
            np.testing.assert_array_equal(seen["pledged"], own["pledged"])
        assert cases.pledged()[i] == last_at_or_before(frame, campaign, checkpoint)
    assert cases.observed(1)["pledged"].tolist() == [0.0]  # c001: nothing seen yet
    assert cases.observed(2)["day"].iloc[-1] == 0.25 * frame[c2]["duration_days"].iloc[0]


# ----------------------------------------------------------------------------- baselines

def test_linear_trend_projects_the_total_at_the_checkpoint():
    frame = trajectories(30, seed=5)
    p, quantiles = bt.TrendPredictor().fit(frame).predict_many(
        bt.Cases.cut(bt._Trajectories.from_frame(frame), 0.3))
    for i, (campaign, row) in enumerate(outcomes(frame).iterrows()):
        projection = last_at_or_before(frame, campaign, 0.3 * row["duration"]) * (
            row["duration"] / (0.3 * row["duration"]))
        assert quantiles[i] == pytest.approx(np.full(9, projection), rel=1e-12)
        assert p[i] == float(projection >= row["goal"])


def test_bins_of_one_give_the_success_rate_of_campaigns_alike():
    """With one bin for those that raised something, a campaign gets the success
    rate and the quantiles of final/goal of the training campaigns on its side of 0."""
    train, test = trajectories(50, seed=6), trajectories(20, seed=7)
    predictor = bt.BinsPredictor(bins=1).fit(train)
    p, quantiles = predictor.predict_many(bt.Cases.cut(bt._Trajectories.from_frame(test),
                                                       0.2))
    known = outcomes(train)
    raised = np.array([last_at_or_before(train, c, 0.2 * r["duration"]) > 0
                       for c, r in known.iterrows()])
    for i, (campaign, row) in enumerate(outcomes(test).iterrows()):
        alike = raised == (last_at_or_before(test, campaign, 0.2 * row["duration"]) > 0)
        assert p[i] == pytest.approx(known["success"][alike].mean(), rel=1e-12)
        ratio = (known["final"] / known["goal"])[alike].to_numpy()
        np.testing.assert_allclose(
            quantiles[i], np.quantile(ratio, bt.LEVELS, method="inverted_cdf") * row["goal"],
            rtol=1e-12)


def test_bins_as_fine_as_the_campaigns_give_each_its_own_outcome():
    """With as many bins as campaigns that raised something (all ratios distinct),
    a campaign seen exactly as a training one gets that one's outcome."""
    train = trajectories(40, seed=8)
    predictor = bt.BinsPredictor(bins=40).fit(train)
    p, quantiles = predictor.predict_many(bt.Cases.cut(bt._Trajectories.from_frame(train),
                                                       0.5))
    known = outcomes(train)
    ratio = np.array([last_at_or_before(train, c, 0.5 * r["duration"]) / r["goal"]
                      for c, r in known.iterrows()])
    assert np.unique(ratio[ratio > 0]).size == (ratio > 0).sum()
    mine = ratio > 0
    np.testing.assert_array_equal(p[mine], known["success"][mine].astype(float))
    np.testing.assert_allclose(quantiles[mine], np.repeat(known["final"][mine].to_numpy()[
        :, None], 9, axis=1), rtol=1e-12)


def steps(ratios, successes, at=0.5, duration=10.0, goal=100.0) -> pd.DataFrame:
    """Campaigns that each raise ratio x goal on day 1 (then final = 2 x that)."""
    rows = []
    for c, (ratio, success) in enumerate(zip(ratios, successes)):
        for t, p in ((0.0, 0.0), (1.0, ratio * goal)):
            rows.append({"campaign_id": f"s{c}", "goal": goal, "duration_days": duration,
                         "t_days": t, "pledged": p, "final_pledged": 2 * ratio * goal,
                         "success": success})
    return pd.DataFrame(rows)


def test_a_bin_holds_its_upper_edge():
    """Positive ratios 0.1 ... 0.4 in two bins: (0, 0.2] and above; a campaign at
    exactly 0.2 falls in the lower one."""
    ratios, successes = [0.1, 0.2, 0.3, 0.4], [0, 1, 1, 1]
    predictor = bt.BinsPredictor(bins=2).fit(steps(ratios, successes))
    p, _ = predictor.predict_many(bt.Cases.cut(bt._Trajectories.from_frame(
        steps([0.2, 0.25], [0, 0])), 0.5))
    lower = [s for r, s in zip(ratios, successes) if r <= 0.2]
    upper = [s for r, s in zip(ratios, successes) if r > 0.2]
    assert p.tolist() == [np.mean(lower), np.mean(upper)]


def test_an_empty_bin_borrows_from_its_neighbour():
    train = trajectories(40, seed=9)
    train = train[~train["campaign_id"].isin([f"c{c:03d}" for c in range(0, 40, 5)])]
    test = trajectories(10, seed=10)  # c000 and c005 raise nothing
    predictor = bt.BinsPredictor(bins=1).fit(train)
    p, _ = predictor.predict_many(bt.Cases.cut(bt._Trajectories.from_frame(test), 0.5))
    assert p[0] == p[1] == pytest.approx(outcomes(train)["success"].mean(), rel=1e-12)


def slow_nearest(train: pd.DataFrame, test: pd.DataFrame, at: float, k: int, grid: int):
    """k nearest by their definition: loops, np.argsort and np.quantile."""
    known = outcomes(train)

    def path(frame, campaign, duration, goal):
        return np.array([last_at_or_before(frame, campaign, duration * (at * g / grid)) / goal
                         for g in range(1, grid + 1)])

    paths = np.array([path(train, c, r["duration"], r["goal"]) for c, r in known.iterrows()])
    out_p, out_q = [], []
    for campaign, row in outcomes(test).iterrows():
        mine = path(test, campaign, row["duration"], row["goal"])
        distance = np.sqrt(((paths - mine) ** 2).sum(axis=1))
        nearest = np.argsort(distance, kind="stable")[:k]
        out_p.append(known["success"].to_numpy()[nearest].mean())
        ratio = (known["final"] / known["goal"]).to_numpy()[nearest]
        out_q.append(np.quantile(ratio, bt.LEVELS, method="inverted_cdf") * row["goal"])
    return np.array(out_p), np.array(out_q), paths


def test_nearest_trajectories_match_a_slow_reference():
    train, test = trajectories(60, seed=11), trajectories(25, seed=12)
    # no campaign that raised nothing, so that no distance ties
    keep = [f"c{c:03d}" for c in range(60) if c % 5]
    train = train[train["campaign_id"].isin(keep)]
    # k = 10: cumulative shares of exactly 0.1, 0.2, ... test the quantiles' edges
    p, quantiles = bt.NearestPredictor(k=10, grid=5, batch=4).fit(train).predict_many(
        bt.Cases.cut(bt._Trajectories.from_frame(test), 0.4))
    expected_p, expected_q, paths = slow_nearest(train, test, 0.4, 10, 5)
    assert np.unique(paths, axis=0).shape[0] == paths.shape[0]
    np.testing.assert_allclose(p, expected_p, rtol=1e-12)
    np.testing.assert_allclose(quantiles, expected_q, rtol=1e-12)


def test_nearest_trajectories_share_a_tie_equally():
    """A campaign that has raised nothing is at distance 0 from every training one
    that has raised nothing either: with more of them than k, its P(success) is
    their success rate (the mean over every way of breaking the tie)."""
    train, test = trajectories(100, seed=13), trajectories(5, seed=14)
    known = outcomes(train)
    silent = [c for c, r in known.iterrows()
              if last_at_or_before(train, c, 0.1 * r["duration"]) == 0]
    assert len(silent) > 5
    p, _ = bt.NearestPredictor(k=5).fit(train).predict_many(
        bt.Cases.cut(bt._Trajectories.from_frame(test), 0.1))
    assert p[0] == pytest.approx(known.loc[silent, "success"].mean(), rel=1e-12)
    weights = bt.NearestPredictor.weights(np.array([[0.0, 1, 0, 0, 2, 0]]), 3)
    np.testing.assert_allclose(weights, [[0.75, 0, 0.75, 0.75, 0, 0.75]])


def test_predict_of_one_campaign_is_predict_many_of_one():
    train, test = trajectories(40, seed=15), trajectories(6, seed=16)
    cases = bt.Cases.cut(bt._Trajectories.from_frame(test), 0.25)
    for make in bt.BASELINES:
        predictor = make().fit(train)
        p, quantiles = predictor.predict_many(cases)
        for i, row in enumerate(cases.campaigns.itertuples()):
            one_p, one_q = predictor.predict(cases.observed(i), row.goal, row.duration_days,
                                             row.platform, at=0.25)
            assert one_p == p[i]
            np.testing.assert_array_equal(one_q, quantiles[i])


# ----------------------------------------------------------------------------- backtest

class Oracle:
    """Knows every answer (campaigns told apart by their goal): no predict_many, so
    the backtest calls predict once per campaign."""

    name = "oracle"

    def __init__(self, frame: pd.DataFrame, refuse: float | None = None):
        known = outcomes(frame)
        self.answers = {r["goal"]: (float(r["success"]), r["final"])
                        for _, r in known.iterrows()}
        self.refuse = refuse

    def fit(self, train):
        return self

    def predict(self, observed, goal, duration_days, platform):
        if goal == self.refuse:
            raise ValueError("refused")
        success, final = self.answers[goal]
        return success, np.full(9, final)


class Spy:
    """Records what it was fitted on and asked about; forecasts a constant."""

    name = "spy"

    def __init__(self, p: float):
        self.p, self.fitted, self.asked = p, [], []

    def fit(self, train):
        self.fitted.append(set(train["campaign_id"]))
        return self

    def predict_many(self, cases):
        self.asked.append((cases.at, set(cases.campaigns.index)))
        return np.full(len(cases), self.p), np.zeros((len(cases), 9))


def distinct_goals(frame: pd.DataFrame) -> pd.DataFrame:
    goals = {c: 1000.0 + k for k, c in enumerate(sorted(frame["campaign_id"].unique()))}
    frame = frame.assign(goal=frame["campaign_id"].map(goals))
    return frame.assign(success=(frame["final_pledged"] >= frame["goal"]).astype(int))


def test_each_campaign_is_scored_once_by_predictors_fitted_without_it():
    frame = trajectories(23, seed=17)
    spy = Spy(0.3)
    result = bt.backtest(frame, [spy], at=(0.1, 0.5), folds=4, rng=5)
    everyone = set(frame["campaign_id"])
    assert len(spy.fitted) == 4
    for k, train in enumerate(spy.fitted):
        for at in (0.1, 0.5):
            asked = [ids for a, ids in spy.asked[2 * k:2 * k + 2] if a == at][0]
            assert asked.isdisjoint(train) and asked | train == everyone
    sizes = [len(ids) for a, ids in spy.asked if a == 0.1]
    assert max(sizes) - min(sizes) <= 1
    table = result.scores
    assert table.index.tolist() == [(0.1, "spy"), (0.5, "spy")]
    assert (table["campaigns"] == 23).all()
    success = outcomes(frame)["success"].to_numpy()
    assert table.loc[(0.1, "spy"), "brier"] == pytest.approx(np.mean((0.3 - success) ** 2),
                                                            rel=1e-12)
    # the same seed draws the same folds, another seed others
    again = bt.backtest(frame, [Spy(0.3)], at=(0.1,), folds=4, rng=5)
    assert again.predictions["fold"].tolist() == result.predictions.query("at == 0.1")[
        "fold"].tolist()
    other = bt.backtest(frame, [Spy(0.3)], at=(0.1,), folds=4, rng=6)
    assert other.predictions["fold"].tolist() != again.predictions["fold"].tolist()


def test_an_oracle_scores_perfectly_and_workers_change_nothing():
    frame = distinct_goals(trajectories(20, seed=18))
    calls = []
    one = bt.backtest(frame, [Oracle(frame)], at=(0.25,), folds=3, rng=1,
                      progress=lambda done, total: calls.append((done, total)))
    row = one.scores.loc[(0.25, "oracle")]
    assert row["accuracy"] == 1 and row["brier"] == 0 and row["coverage80"] == 1
    assert row["log_loss"] == pytest.approx(-math.log(1 - bt.EPS), rel=1e-12)
    assert row["quantile_score"] == 0 and row["median_width"] == 1
    assert calls[-1] == (20, 20) and [d for d, _ in calls] == sorted(d for d, _ in calls)
    two = bt.backtest(frame, [Oracle(frame)], at=(0.25,), folds=3, rng=1, workers=2)
    pd.testing.assert_frame_equal(one.predictions, two.predictions)


def test_a_refused_campaign_is_counted_and_the_others_scored():
    frame = distinct_goals(trajectories(12, seed=19))
    refused = sorted(frame["goal"].unique())[3]
    result = bt.backtest(frame, [Oracle(frame, refuse=refused), bt.TrendPredictor()],
                         at=(0.5,), folds=2, rng=0)
    row = result.scores.loc[(0.5, "oracle")]
    assert (row["campaigns"], row["not_scored"]) == (11, 1)
    assert row["brier"] == 0
    assert result.scores.loc[(0.5, "linear trend"), "campaigns"] == 12
    errors = result.predictions.query("predictor == 'oracle'")["error"]
    assert errors.notna().sum() == 1 and errors.dropna().iloc[0] == "refused"


def test_reliability_bins_the_forecasts():
    predictions = pd.DataFrame({
        "at": 0.1, "predictor": "x", "p": [0.05, 0.08, 0.5, 0.55, 0.95, 1.0, np.nan],
        "success": [False, True, True, True, False, True, True]})
    table = bt.reliability(predictions, bins=4)
    assert table["bin"].tolist() == [0, 2, 3]
    assert table["campaigns"].tolist() == [2, 2, 2]
    np.testing.assert_allclose(table["predicted"], [0.065, 0.525, 0.975])
    np.testing.assert_allclose(table["observed"], [0.5, 1.0, 0.5])


def test_the_reliability_plot_draws_the_binned_forecasts():
    from matplotlib.figure import Figure

    from forecast.plots import plot_reliability, reliability_figure

    frame = distinct_goals(trajectories(30, seed=22))
    table = bt.reliability(bt.backtest(frame, at=(0.2, 0.5), folds=3, rng=2).predictions)
    one = table[table["at"] == 0.2]
    ax = Figure().subplots()
    plot_reliability(ax, one)
    lines = {line.get_label(): line for line in ax.get_lines()}
    for name, rows in one.groupby("predictor"):
        rows = rows.sort_values("predicted")
        np.testing.assert_array_equal(lines[name].get_xdata(), rows["predicted"])
        np.testing.assert_array_equal(lines[name].get_ydata(), rows["observed"])
    assert len(reliability_figure(table).axes) == 2


@pytest.mark.parametrize("kwargs, fragment", [
    ({"at": (0.1, 1.0)}, "at = 1.0"), ({"at": ()}, "at = ()"), ({"folds": 1}, "folds = 1"),
    ({"folds": 40}, "cannot be split into 40 folds"), ({"workers": 0}, "workers = 0")])
def test_bad_arguments_are_named(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        bt.backtest(trajectories(30), **kwargs)


def test_a_frame_without_a_column_is_refused_by_name():
    with pytest.raises(bt.BacktestError, match="missing column.*pledged"):
        bt.backtest(trajectories(10).drop(columns="pledged"))


def test_the_tracker_wrapper_is_reproducible_whatever_the_order():
    frame = trajectories(4, seed=20)
    cases = bt.Cases.cut(bt._Trajectories.from_frame(frame), 0.5)
    tracker = bt.TrackerPredictor(sims=2000, rng=3)
    rows = list(cases.campaigns.itertuples())
    first = [tracker.predict(cases.observed(i), r.goal, r.duration_days, r.platform)
             for i, r in enumerate(rows)]
    again = [tracker.predict(cases.observed(i), r.goal, r.duration_days, r.platform)
             for i, r in reversed(list(enumerate(rows)))][::-1]
    for (p1, q1), (p2, q2) in zip(first, again):
        assert p1 == p2 and 0 <= p1 <= 1
        np.testing.assert_array_equal(q1, q2)
        assert q1.shape == (9,) and np.all(np.diff(q1) >= 0)


# ----------------------------------------------------------------------------- command

def test_the_command_prints_the_table_json_and_plot(tmp_path):
    path = tmp_path / "past.csv"
    trajectories(40, seed=21).to_csv(path, index=False)
    runner = CliRunner()
    text = runner.invoke(main, ["backtest", str(path), "--no-tracker", "--seed", "4",
                                "--at", "0.2,0.6", "--folds", "3",
                                "--plot", str(tmp_path / "r.pdf")])
    assert text.exit_code == 0, text.output
    assert "40 campaigns, 3 folds, seed 4" in text.stdout
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    out = runner.invoke(main, ["backtest", str(path), "--no-tracker", "--seed", "4",
                               "--at", "0.2,0.6", "--folds", "3", "--json"])
    data = json.loads(out.stdout)
    expected = bt.backtest(pd.read_csv(path), at=(0.2, 0.6), folds=3, rng=4).scores
    assert data["seed"] == 4 and data["version"]
    assert [(r["at"], r["predictor"]) for r in data["scores"]] == expected.index.tolist()
    got = pd.DataFrame(data["scores"]).set_index(["at", "predictor"])
    np.testing.assert_allclose(got["brier"], expected["brier"], rtol=1e-12)
    for (at, name), row in expected.iterrows():
        line = [ln for ln in text.stdout.splitlines()
                if ln.strip().startswith(f"{at:.0%}  {name}")]
        assert line and f"{row['brier']:.3f}" in line[0]


@pytest.mark.parametrize("args, fragment", [
    (["missing.csv"], "missing.csv: no such file"),
    (["PAST", "--plot", "r.txt"], "--plot r.txt: expected a file name ending in .pdf"),
    (["PAST", "--at", "0.5,1.5"], "1.5 is not valid"),
    (["PAST", "--at", "0.5,0.5"], "a checkpoint is repeated"),
    (["PAST", "--folds", "20"], "past.csv: 10 campaign(s) cannot be split into 20 folds"),
    (["BAD"], "missing column(s) pledged")])
def test_the_command_fails_with_one_clear_message(tmp_path, args, fragment):
    past, bad = tmp_path / "past.csv", tmp_path / "bad.csv"
    trajectories(10).to_csv(past, index=False)
    trajectories(10).drop(columns="pledged").to_csv(bad, index=False)
    args = [str(past) if a == "PAST" else str(bad) if a == "BAD" else a for a in args]
    result = CliRunner().invoke(main, ["backtest", *args, "--no-tracker"])
    assert result.exit_code != 0 and result.stdout == ""
    assert fragment in result.stderr and "Traceback" not in result.stderr
