"""``forecast batch``: many scenarios and live campaigns in one run, each row what
``simulate`` or ``track`` gives alone with the batch's seed; a failing one reported
by name while the others run; the manifest's mistakes named; dask absent.
(On a Dask cluster: test_dask.py.)"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import forecast
from forecast.batch import BATCH_COLUMNS, read_batch, run_batch
from forecast.cli import main
from forecast.executors import DASK_MISSING, dask_client
from forecast.result import seed_label

MODELS = Path(__file__).resolve().parent.parent / "models"
SIMS = 3000


def write_batch(folder: Path) -> Path:
    """A folder as a platform would keep it: two scenarios, one broken, and a
    campaigns.toml of three live campaigns (one on its scenario, one on the generic
    prior, one observed past its deadline, which only the tracker can see)."""
    folder.mkdir(exist_ok=True)
    for name in ("la-ruche-lunch-box.toml", "seed-1000-friends.toml"):
        shutil.copy(MODELS / name, folder / name)
    friends = (MODELS / "seed-1000-friends.toml").read_text()
    assert "\ngoal = 25000" in friends
    (folder / "broken.toml").write_text(friends.replace("\ngoal = 25000", "\ngoal = -5"))
    live = folder / "live"
    live.mkdir(exist_ok=True)
    shutil.copy(MODELS / "la-ruche-observed.csv", live / "lunch.csv")
    (folder / "campaigns.toml").write_text(
        '[[campaign]]\nobserved = "live/lunch.csv"\nscenario = "la-ruche-lunch-box.toml"\n'
        '\n[[campaign]]\nname = "on the prior"\nobserved = "live/lunch.csv"\n'
        'goal = 30000\ndays = 45\nplatform = "la-ruche"\n'
        '\n[[campaign]]\nname = "too late"\nobserved = "live/lunch.csv"\ngoal = 5000\n'
        'days = 10\n')
    return folder


def expected_rows(folder: Path, seed: int) -> dict[str, dict]:
    """Each good item's numbers, from simulate and track run alone."""
    rows = {}
    for name in ("la-ruche-lunch-box", "seed-1000-friends"):
        s = forecast.load_scenario(folder / f"{name}.toml")
        summary = forecast.simulate(s, SIMS, rng=seed).summary()
        rows[name] = {"probability": summary["probability"], "ci_low": summary["ci95"][0],
                      "ci_high": summary["ci95"][1],
                      **{f"final_{k}": summary["gross"][k] for k in ("p10", "p50", "p90")},
                      "expected_payout": summary["expected_payout"]}
    observed = forecast.read_observed(folder / "live" / "lunch.csv")
    for name, kwargs in (
            ("lunch", {"scenario": forecast.load_scenario(folder / "la-ruche-lunch-box.toml")}),
            ("on the prior", {"goal": 30000, "duration_days": 45, "platform": "la-ruche"})):
        summary = forecast.track(observed, sims=SIMS, rng=seed, **kwargs).summary()
        rows[name] = {"probability": summary["probability"],
                      "ci_low": summary["probability_interval"][0],
                      "ci_high": summary["probability_interval"][1],
                      **{f"final_{k}": summary["final_quantiles"][k]
                         for k in ("p10", "p50", "p90")},
                      "day": summary["day"], "pledged": summary["pledged"]}
    return rows


def check_batch(frame: pd.DataFrame, folder: Path, seed: int) -> None:
    """The batch of ``write_batch``: rows in the order of the files, the good ones
    exactly what each gives alone, the two bad ones failed with their reason."""
    assert list(frame.columns) == BATCH_COLUMNS
    assert frame["name"].tolist() == ["broken", "lunch", "on the prior", "too late",
                                      "la-ruche-lunch-box", "seed-1000-friends"]
    assert frame["kind"].tolist() == ["scenario", "campaign", "campaign", "campaign",
                                      "scenario", "scenario"]
    failed = frame.set_index("name")["error"]
    assert "broken.toml" in failed["broken"] and "goal" in failed["broken"]
    assert "10" in failed["too late"]  # observed on day 20 of a 10-day campaign
    assert frame.attrs["failed"] == 2
    assert (frame["status"] == "failed").sum() == 2
    assert (frame["seed"] == seed_label(np.random.SeedSequence(seed))).all()
    assert (frame["version"] == forecast.__version__).all()
    assert (frame["sims"] == SIMS).all()
    for name, expected in expected_rows(folder, seed).items():
        row = frame.set_index("name").loc[name]
        assert row["status"] == "ok" and pd.isna(row["error"])
        for key, value in expected.items():
            assert row[key] == value, (name, key)


def test_a_batch_gives_each_item_what_it_gives_alone(tmp_path):
    folder = write_batch(tmp_path / "batch")
    seen = []
    frame = run_batch(read_batch([folder]), sims=SIMS, rng=12,
                      progress=lambda done, total, row: seen.append((done, total,
                                                                     row["name"])))
    check_batch(frame, folder, 12)
    assert [d for d, _, _ in seen] == list(range(1, 7)) and {t for _, t, _ in seen} == {6}
    assert sorted(n for *_, n in seen) == sorted(frame["name"])
    # Two processes of this machine: the same frame.
    pd.testing.assert_frame_equal(run_batch(read_batch([folder]), sims=SIMS, rng=12,
                                            workers=2), frame)


@pytest.mark.parametrize("entry, fragment", [
    ('observed = "a.csv"\ngoal = 100\ndays = 10\ncolour = "red"', "unknown key 'colour'"),
    ('goal = 100\ndays = 10', "observed (the CSV of pledges so far) is missing"),
    ('observed = "a.csv"\ngoal = 100', "give scenario, or goal and days"),
    ('observed = "a.csv"\ngoal = -1\ndays = 10', "goal = -1 is not valid"),
    ('observed = "a.csv"\ngoal = 100\ndays = 1.5', "days = 1.5 is not valid"),
    ('observed = "a.csv"\ngoal = 100\ndays = 10\nplatform = "etsy"', "platform = 'etsy'"),
    ('observed = "a.csv"\nscenario = "s.toml"\nplatform = "ulule"', "platform is for the"),
    ('observed = "a.csv"\nscenario = "nowhere.toml"', "nowhere.toml"),
    ('observed = "none.csv"\ngoal = 100\ndays = 10', "none.csv: no such file"),
    ('observed = "a.csv"\ngoal = 100\ndays = 10\ndaily = "false"', "daily = 'false' is not"),
    ('observed = "."\ngoal = 100\ndays = 10', "directory"),
])
def test_a_manifest_mistake_fails_that_campaign_by_name(tmp_path, entry, fragment):
    shutil.copy(MODELS / "la-ruche-observed.csv", tmp_path / "a.csv")
    shutil.copy(MODELS / "seed-1000-friends.toml", tmp_path / "s.toml")
    (tmp_path / "campaigns.toml").write_text(
        f'[[campaign]]\nname = "good"\nobserved = "a.csv"\ngoal = 30000\ndays = 45\n\n'
        f'[[campaign]]\nname = "bad"\n{entry}\n')
    good, bad = read_batch([tmp_path / "campaigns.toml"])
    assert good.error is None and good.observed is not None
    assert bad.name == "bad" and bad.error.startswith(
        f"{tmp_path / 'campaigns.toml'} [[campaign]] 2: ")
    assert fragment in bad.error


@pytest.mark.parametrize("text, fragment", [
    ("[[campaign]\n", "not a readable TOML file"),
    ("title = 'live'\n", "expected [[campaign]] tables"),
])
def test_a_manifest_that_cannot_be_read_is_one_failed_row(tmp_path, text, fragment):
    (tmp_path / "campaigns.toml").write_text(text)
    (item,) = read_batch([tmp_path])
    assert fragment in item.error
    frame = run_batch([item], sims=10, rng=1)
    assert frame["status"].tolist() == ["failed"] and fragment in frame["error"][0]


def test_sources_that_hold_nothing_are_refused(tmp_path):
    with pytest.raises(ValueError, match="no such file or folder"):
        read_batch([tmp_path / "nowhere"])
    with pytest.raises(ValueError, match=r"no scenario \(\*.toml\)"):
        read_batch([tmp_path])


def test_the_command_reports_each_row_as_it_comes_and_fails_at_the_end(tmp_path):
    folder = write_batch(tmp_path / "batch")
    out = tmp_path / "rows.csv"
    result = CliRunner().invoke(main, ["batch", str(folder), "--sims", str(SIMS),
                                       "--seed", "12", "--workers", "1", "--csv", str(out)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "2 of 6 failed: broken, too late" in result.stderr
    for k in range(1, 7):
        assert f"[{k}/6] " in result.stderr
    assert "too late: FAILED:" in result.stderr
    assert "seed 12" in result.stdout and forecast.__version__ in result.stdout
    written = pd.read_csv(out)
    assert written["name"].tolist() == ["broken", "lunch", "on the prior", "too late",
                                        "la-ruche-lunch-box", "seed-1000-friends"]
    frame = run_batch(read_batch([folder]), sims=SIMS, rng=12)
    np.testing.assert_array_equal(written["probability"], frame["probability"].astype(float))
    assert (written["seed"] == 12).all() and (written["version"] == forecast.__version__).all()
    lunch = next(line for line in result.stdout.splitlines() if line.startswith("lunch "))
    assert f"{frame.loc[1, 'probability']:.1%}" in lunch


def test_the_shipped_examples_run_and_help_has_an_example():
    """models/ and models/live/campaigns.toml: every example succeeds, exit 0."""
    runner = CliRunner()
    result = runner.invoke(main, ["batch", str(MODELS), str(MODELS / "live"), "--sims",
                                  "200", "--seed", "1", "--workers", "1", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    assert {row["status"] for row in rows} == {"ok"}
    assert [row["kind"] for row in rows].count("campaign") == 2
    assert len(rows) == len(list(MODELS.glob("*.toml"))) + 2
    help_text = runner.invoke(main, ["batch", "--help"]).output
    assert "Example:" in help_text and "--local-cluster" in help_text


@pytest.mark.parametrize("args, fragment", [
    (["--scheduler", "tcp://127.0.0.1:8786", "--local-cluster", "2"], "not both"),
    (["--local-cluster", "2", "--workers", "2"], "--workers is for processes"),
])
def test_cluster_options_that_contradict_each_other_are_refused(args, fragment):
    result = CliRunner().invoke(main, ["batch", str(MODELS / "seed-1000-friends.toml"),
                                       *args])
    assert result.exit_code == 1 and fragment in result.output


def test_without_dask_the_cluster_options_say_how_to_get_it(monkeypatch):
    """The optional extra absent: importing it fails (None in sys.modules)."""
    monkeypatch.setitem(sys.modules, "distributed", None)
    for option in (["--local-cluster", "2"], ["--scheduler", "tcp://127.0.0.1:8786"]):
        result = CliRunner().invoke(main, ["batch", str(MODELS / "seed-1000-friends.toml"),
                                           "--sims", "100", *option])
        assert result.exit_code == 1
        assert "pip install 'forecast[dask]'" in result.output
        assert "Traceback" not in result.output
    with pytest.raises(ImportError, match=DASK_MISSING.replace("[", r"\[").replace("]", r"\]")):
        with dask_client(local_workers=1):
            pass
    # Everything else still runs without it.
    s = forecast.load_scenario(MODELS / "seed-1000-friends.toml")
    assert 0 <= forecast.simulate(s, 100, rng=1).probability() <= 1
