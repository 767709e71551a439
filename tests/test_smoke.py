"""Every shipped model loads and runs, and the same seed gives the same numbers."""
from pathlib import Path

import numpy as np
import pytest

import forecast

MODELS = sorted(Path(__file__).resolve().parent.parent.joinpath("models").glob("*.toml"))


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_model_runs_and_is_reproducible(path):
    scenario = forecast.load_scenario(path)
    first = forecast.simulate(scenario, 3000, rng=5)
    second = forecast.simulate(scenario, 3000, rng=5)
    assert 0.0 <= first.probability() <= 1.0
    np.testing.assert_array_equal(first.totals, second.totals)
    assert first.summary() == second.summary()
