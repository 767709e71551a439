"""``forecast run``: the numbers are the library's, options change the scenario, and
bad input exits non-zero with one readable message on stderr and no traceback."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import forecast
from forecast import engine
from forecast.cli import _money, main

import reference as ref

ROOT = Path(__file__).resolve().parent.parent
FRIENDS = str(ROOT / "models" / "seed-1000-friends.toml")
LUNCH_BOX = str(ROOT / "models" / "la-ruche-lunch-box.toml")


def invoke(*args: str):
    return CliRunner().invoke(main, ["run", *args])


def assert_clean_failure(result, *fragments: str) -> str:
    """Non-zero exit, one 'Error: …' message on stderr naming ``fragments``, nothing on
    stdout, no traceback."""
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])
    return errors[0]


def test_json_output_is_the_library_summary():
    result = invoke(FRIENDS, "--sims", "3000", "--seed", "17", "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    expected = forecast.simulate(forecast.load_scenario(FRIENDS), 3000, rng=17).summary()
    assert printed == json.loads(json.dumps(expected))
    assert printed["seed"] == 17 and printed["sims"] == 3000


def test_workers_give_the_same_numbers():
    """Two processes (five chunks to share) print what one prints."""
    runs = [invoke(LUNCH_BOX, "--sims", "40000", "--seed", "9", "--workers", w, "--json")
            for w in ("1", "2")]
    assert all(r.exit_code == 0 for r in runs), [r.output for r in runs]
    assert json.loads(runs[0].stdout) == json.loads(runs[1].stdout)


def test_goal_and_days_options_change_the_scenario():
    result = invoke(FRIENDS, "--sims", "2000", "--seed", "3", "--goal", "20000",
                    "--days", "40", "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["goal"] == 20000 and printed["duration_days"] == 40
    scenario = forecast.load_scenario(FRIENDS).with_(goal=20000, duration_days=40)
    assert printed["probability"] == forecast.simulate(scenario, 2000, rng=3).probability()


def test_text_output_reports_probability_seed_and_circles():
    result = invoke(LUNCH_BOX, "--sims", "2000", "--seed", "8")
    assert result.exit_code == 0, result.output
    p = forecast.simulate(forecast.load_scenario(LUNCH_BOX), 2000, rng=8).probability()
    assert f"Probability of reaching the goal: {p:.1%}" in result.stdout
    assert "seed 8" in result.stdout
    for name in ("entourage", "amis des amis", "visiteurs La Ruche"):
        assert name in result.stdout
    assert "Need covered" in result.stdout


def test_amounts_are_written_as_in_the_english_report():
    """The sign before the symbol, and the symbol first for $, £ and € alike."""
    assert _money(20_000, "$") == "$20,000"
    assert _money(-1_234.4, "$") == "-$1,234"
    assert _money(20_000, "€") == "€20,000"
    assert _money(5, "CHF") == "5 CHF"
    assert _money(None, "$") == "n/a"


def test_without_seed_a_fresh_seed_is_reported_and_reproduces_the_run():
    first = json.loads(invoke(FRIENDS, "--sims", "1500", "--json").stdout)
    again = json.loads(invoke(FRIENDS, "--sims", "1500", "--seed", str(first["seed"]),
                              "--json").stdout)
    assert again == first


def test_invalid_scenario_exits_with_one_message_naming_file_and_key(tmp_path):
    spec = {"campaign": {"goal": 100, "duration_days": 10, "platform": "custom"},
            "circle": [{"name": "friends", "size": 10, "conversion": 0.2, "pledge": 5,
                        "colour": "red"}]}
    path = tmp_path / "typo.toml"
    path.write_text(ref.to_toml(spec), encoding="utf-8")
    assert_clean_failure(invoke(str(path), "--sims", "10"), str(path), "colour")


@pytest.mark.parametrize("args, fragments", [
    (["missing.toml"], ["missing.toml"]),
    ([LUNCH_BOX, "--days", "100"], ["duration_days", "100", LUNCH_BOX]),
    ([LUNCH_BOX, "--days", "20"], ["duration_days", "20"]),
    ([LUNCH_BOX, "--sims", "0"], ["--sims"]),
    ([LUNCH_BOX, "--sims", "many"], ["--sims"]),
    ([LUNCH_BOX, "--seed", "-1"], ["--seed"]),
    ([LUNCH_BOX, "--goal", "0"], ["--goal"]),
    ([LUNCH_BOX, "--goal", "-500"], ["--goal"]),
    ([LUNCH_BOX, "--workers", "0"], ["--workers"]),
])
def test_bad_options_exit_with_one_message(args, fragments):
    assert_clean_failure(invoke(*args), *fragments)


def test_broken_toml_exits_with_one_message(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[campaign\n", encoding="utf-8")
    assert_clean_failure(invoke(str(path)), str(path), "TOML")


def test_installed_entry_point(tmp_path):
    """The console script of the installed package, in a fresh process."""
    exe = shutil.which("forecast", path=str(Path(sys.executable).parent)) or \
        shutil.which("forecast")
    assert exe is not None
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    ok = subprocess.run([exe, "run", FRIENDS, "--sims", "2000", "--seed", "4", "--json"],
                        capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env)
    assert ok.returncode == 0, ok.stderr
    printed = json.loads(ok.stdout)
    assert printed["probability"] == forecast.simulate(
        forecast.load_scenario(FRIENDS), 2000, rng=4).probability()
    bad = subprocess.run([exe, "run", LUNCH_BOX, "--days", "120"], capture_output=True,
                         text=True, timeout=60, cwd=tmp_path, env=env)
    assert bad.returncode != 0
    assert bad.stdout == ""
    assert "Traceback" not in bad.stderr
    assert bad.stderr.strip().startswith("Error:") and "duration_days" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_the_command_imports_no_numerical_library_until_a_command_needs_it():
    """`forecast --help` stays fast by importing NumPy, pandas and SciPy only inside
    the commands (benchmarks/startup.py times it)."""
    code = ("import sys, forecast.cli; from click.testing import CliRunner; "
            "CliRunner().invoke(forecast.cli.main, ['--help']); "
            "print(sorted(m for m in ('numpy', 'pandas', 'scipy', 'matplotlib') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_public_names_load_on_use_and_sweep_stays_the_function():
    code = ("import forecast, forecast.advice; print(callable(forecast.sweep), "
            "forecast.sweep.__module__, 'simulate' in dir(forecast))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["True", "forecast.sweep", "True"]


def test_simulate_reports_progress_without_changing_the_numbers():
    scenario = forecast.load_scenario(ROOT / "models" / "seed-1000-friends.toml")
    calls = []
    sims = 3 * engine.SEED_BLOCK + 5
    with_progress = forecast.simulate(scenario, sims, rng=3, chunk_size=1,
                                      progress=lambda d, t: calls.append((d, t)))
    plain = forecast.simulate(scenario, sims, rng=3)
    assert np.array_equal(with_progress.totals, plain.totals)
    assert calls[-1] == (sims, sims) and len(calls) == 4
    assert all(a[0] < b[0] for a, b in zip(calls, calls[1:]))
