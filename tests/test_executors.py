"""``executor=``: the chunks mapped over a ``concurrent.futures.Executor`` give one
process's numbers, results come back in the order of the calls, and what is not an
executor is refused by name. (A Dask cluster: test_dask.py.)"""
from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

import forecast
from forecast import engine
from forecast.executors import Runner, check_executor, is_dask_client

import reference as ref

LUNCH_BOX = "models/la-ruche-lunch-box.toml"


def test_a_thread_pool_gives_the_numbers_of_one_process():
    s = forecast.load_scenario(LUNCH_BOX)
    sims = 3 * engine.SEED_BLOCK + 100
    alone = forecast.simulate(s, sims, rng=7)
    with ThreadPoolExecutor(3) as pool:
        there = forecast.simulate(s, sims, rng=7, executor=pool)
    ref.assert_same_outcome(there.outcome, alone.outcome)


def test_a_process_pool_gets_each_chunk_with_its_plan():
    """A user's process pool has no initializer holding the plans: each task carries
    its own, pickled, and each job's chunks take the right one."""
    base = forecast.load_scenario(LUNCH_BOX)
    scenarios = [base, base.with_(goal=30_000, duration_days=30)]
    sims = engine.SEED_BLOCK + 300
    with ProcessPoolExecutor(2) as pool:
        many = list(forecast.simulate_many(scenarios, sims, rng=3, executor=pool))
    for scenario, result in zip(scenarios, many):
        ref.assert_same_outcome(result.outcome,
                                forecast.simulate(scenario, sims, rng=3).outcome)


def _slow_identity(value: int, delay: float) -> int:
    time.sleep(delay)
    return value


def test_results_come_in_the_order_of_the_calls_not_of_their_end():
    calls = [(k, 0.05 * (5 - k)) for k in range(6)]  # the first ones end last
    with ThreadPoolExecutor(6) as pool:
        runner = Runner(pool)
        assert list(runner.in_order(_slow_identity, calls)) == list(range(6))
        assert list(runner.in_order(_slow_identity, calls, ahead=1)) == list(range(6))


def test_a_call_that_fails_raises_at_its_place():
    here = Runner(None)
    assert here.parallelism == 1
    results = here.in_order(lambda k: 10 // k, [(5,), (0,), (2,)])
    assert next(results) == 2
    with pytest.raises(ZeroDivisionError):
        next(results)


@pytest.mark.parametrize("executor", [object(), "tcp://localhost:8786", 2])
def test_what_is_not_an_executor_is_refused_by_name(executor):
    s = forecast.load_scenario(LUNCH_BOX)
    with pytest.raises(ValueError, match="executor = .* is not valid; expected a "
                                         "concurrent.futures.Executor or a dask"):
        forecast.simulate(s, 10, rng=1, executor=executor)
    with pytest.raises(ValueError, match="executor"):
        forecast.sweep(s, [s.goal], sims=10, rng=1, executor=executor)
    with pytest.raises(ValueError, match="executor"):
        forecast.sensitivity(s, sims=10, rng=1, executor=executor)
    assert not is_dask_client(executor)


def test_workers_and_an_executor_are_not_given_together():
    with ThreadPoolExecutor(1) as pool:
        check_executor(pool)
        with pytest.raises(ValueError, match="workers = 2 is not valid with an executor"):
            forecast.simulate(forecast.load_scenario(LUNCH_BOX), 10, rng=1, workers=2,
                              executor=pool)


def test_as_they_end_gives_each_call_once_with_its_index_as_it_ends():
    calls = [(k, 0.3 if k == 0 else 0.0) for k in range(4)]
    with ThreadPoolExecutor(4) as pool:
        ended = list(Runner(pool).as_they_end(_slow_identity, calls))
    assert sorted(ended) == [(k, k, None) for k in range(4)]
    assert ended[-1] == (0, 0, None)  # the slow first call ends last
    here = list(Runner(None).as_they_end(lambda k: 6 // k, [(3,), (0,), (2,)]))
    assert [(index, value) for index, value, _ in here] == [(0, 2), (1, None), (2, 3)]
    assert isinstance(here[1][2], ZeroDivisionError) and here[0][2] is None


def test_in_order_keeps_at_most_ahead_calls_submitted_and_not_taken():
    """A slow first call holds the others back: no more than ``ahead`` calls are
    submitted before its result is taken, so memory stays bounded."""
    started = []

    def call(k):
        started.append(k)
        if k == 0:
            time.sleep(0.3)
        return k

    with ThreadPoolExecutor(2) as pool:
        runner = Runner(pool)
        results = runner.in_order(call, ((k,) for k in range(50)), ahead=4)
        assert next(results) == 0
        # the four submitted; the fifth waits until 0 is taken (the old runner had 5)
        assert len(started) <= 4
        assert list(results) == list(range(1, 50))
