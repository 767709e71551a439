"""The same seeded chunks on a Dask cluster: a LocalCluster of two worker processes
gives, bit for bit, what one process gives (simulate, simulate_many, sweep,
sensitivity, the backtest's tracker, a batch of scenarios and live campaigns). One
cluster for the whole module: starting it costs seconds, each run on it a fraction
of one."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import forecast
from forecast import backtest as bt
from forecast import engine
from forecast.batch import read_batch, run_batch
from forecast.cli import main
from forecast.executors import Runner, dask_client

import reference as ref
from test_backtest import trajectories
from test_batch import SIMS as SIMS_BATCH, check_batch, write_batch

LUNCH_BOX = "models/la-ruche-lunch-box.toml"
FRIENDS = "models/seed-1000-friends.toml"
#: Three chunks: two whole stream blocks and a part of one.
SIMS = 2 * engine.SEED_BLOCK + 500


@pytest.fixture(scope="module")
def client():
    with dask_client(local_workers=2, memory_limit="1GiB") as client:
        client.wait_for_workers(2)
        yield client


def test_the_cluster_has_two_single_threaded_workers(client):
    assert Runner(client).parallelism == 2
    assert sorted(client.nthreads().values()) == [1, 1]


def test_simulate_on_the_cluster_is_one_process_bit_for_bit(client):
    s = forecast.load_scenario(LUNCH_BOX)
    assert s.goal_dependent  # the path depends on the goal: the hardest case
    alone = forecast.simulate(s, SIMS, rng=11)
    there = forecast.simulate(s, SIMS, rng=11, executor=client)
    ref.assert_same_outcome(alone.outcome, there.outcome)
    assert there.summary() == alone.summary()
    # Another goal is simulated again (here: the executor is not kept), with the same numbers.
    np.testing.assert_array_equal(there.for_goal(15_000).totals,
                                  alone.for_goal(15_000).totals)


def test_simulate_many_on_the_cluster_is_simulate_of_each(client):
    """Each scenario's plan is scattered once; every chunk takes its own."""
    base = forecast.load_scenario(LUNCH_BOX)
    scenarios = [base, forecast.load_scenario(FRIENDS), base.with_(duration_days=30)]
    many = list(forecast.simulate_many(scenarios, SIMS, rng=5, executor=client))
    for scenario, result in zip(scenarios, many):
        ref.assert_same_outcome(result.outcome,
                                forecast.simulate(scenario, SIMS, rng=5).outcome)


def test_sweep_and_sensitivity_on_the_cluster_are_one_process(client):
    s = forecast.load_scenario(LUNCH_BOX)
    args = dict(goals=[12_000, 20_000, 28_000], durations=[30, 45], sims=3000, rng=2)
    pd.testing.assert_frame_equal(forecast.sweep(s, **args, executor=client),
                                  forecast.sweep(s, **args))
    alone = forecast.sensitivity(s, sims=1000, rng=4)
    there = forecast.sensitivity(s, sims=1000, rng=4, executor=client)
    pd.testing.assert_frame_equal(there, alone)
    assert there.attrs == alone.attrs


def test_the_backtest_tracker_on_the_cluster_is_one_process(client):
    frame = trajectories(6, seed=3)
    args = dict(at=(0.5,), folds=2, rng=1)
    alone = bt.backtest(frame, [bt.TrackerPredictor(sims=400, rng=2)], **args)
    there = bt.backtest(frame, [bt.TrackerPredictor(sims=400, rng=2)], **args,
                        executor=client)
    assert alone.predictions["p"].notna().all()
    pd.testing.assert_frame_equal(there.predictions, alone.predictions)


def test_a_batch_of_scenarios_and_live_campaigns_on_the_cluster(client, tmp_path):
    """Scenarios and live campaigns, a broken scenario and a campaign the tracker
    refuses among them: on the cluster, the same frame as in one process, the good
    rows what each gives alone, the bad ones failed by name."""
    folder = write_batch(tmp_path / "batch")
    there = run_batch(read_batch([folder]), sims=SIMS_BATCH, rng=21, executor=client)
    check_batch(there, folder, 21)
    pd.testing.assert_frame_equal(there, run_batch(read_batch([folder]), sims=SIMS_BATCH,
                                                   rng=21))


def test_the_command_on_a_local_cluster_writes_the_rows_of_one_process(tmp_path):
    """`--local-cluster 2` starts (and ends) its own cluster."""
    folder = write_batch(tmp_path / "batch")
    out = {}
    for name, args in (("cluster", ["--local-cluster", "2"]), ("here", ["--workers", "1"])):
        out[name] = tmp_path / f"{name}.csv"
        result = CliRunner().invoke(main, ["batch", str(folder), "--sims", str(SIMS_BATCH),
                                           "--seed", "3", "--csv", str(out[name]), *args])
        assert result.exit_code == 1 and "2 of 6 failed" in result.stderr, result.output
    assert out["cluster"].read_text() == out["here"].read_text()
