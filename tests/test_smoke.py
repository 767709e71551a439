"""Every shipped model loads and runs, and the same seed gives the same numbers."""
from pathlib import Path

import numpy as np
import pytest

import forecast

MODELS = sorted(Path(__file__).resolve().parent.parent.joinpath("models").glob("*.toml"))
FRIENDS_PATH = Path(__file__).resolve().parent.parent / "models" / "seed-1000-friends.toml"


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_model_runs_and_is_reproducible(path):
    scenario = forecast.load_scenario(path)
    first = forecast.simulate(scenario, 3000, rng=5)
    second = forecast.simulate(scenario, 3000, rng=5)
    assert 0.0 <= first.probability() <= 1.0
    np.testing.assert_array_equal(first.totals, second.totals)
    assert first.summary() == second.summary()


def test_result_reprs_show_the_probability():
    import re
    scenario = forecast.load_scenario(FRIENDS_PATH)
    result = forecast.simulate(scenario, 500, rng=1)
    p = f"{result.probability():.1%}"
    text = repr(result)
    assert p in text and "$25,000" in text and "seed 1" in text and "\n" not in text
    html = result._repr_html_()
    assert f"<b>{p}</b>" in html and re.search(r"<table>.*</table>", html)


def test_plots_are_public_and_draw_on_the_given_axes():
    from matplotlib.figure import Figure
    scenario = forecast.load_scenario(FRIENDS_PATH)
    result = forecast.simulate(scenario, 300, rng=1)
    ax = Figure().add_subplot()
    assert forecast.plot_fan(ax, result.daily(), scenario.goal,
                             milestones=result.milestones()) is ax
    assert len(ax.get_lines()) > 0
    ax = Figure().add_subplot()
    assert forecast.plot_circles(ax, result.by_circle()) is ax and len(ax.patches) > 0
