"""The same seeded chunks on a Dask cluster: a LocalCluster of two worker processes
gives, bit for bit, what one process gives (simulate, simulate_many, sweep,
sensitivity, the backtest's tracker). One cluster for the whole module: starting it
costs seconds, each run on it a fraction of one."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import forecast
from forecast import backtest as bt
from forecast import engine
from forecast.executors import Runner, dask_client

import reference as ref
from test_backtest import trajectories

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
    # Another goal is simulated again on the same cluster, with the same numbers.
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
