"""``forecast track``: the numbers are the library's ``track`` with the same seed, the
what-ifs and who to remind are computed from the track's own simulations, the PDF is
written whole (in its language) or not at all, and bad input is one clear message."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.text import Text

import forecast
from forecast import track_report
from forecast.cli import main
from forecast.i18n import TEXT, Labels
from forecast.track_advice import GAP_SHARES, reminders, track_details, what_ifs
from forecast.tracking import read_observed, track

from test_cli import assert_clean_failure

ROOT = Path(__file__).resolve().parent.parent
LUNCH_BOX = str(ROOT / "models" / "la-ruche-lunch-box.toml")
OBSERVED = str(ROOT / "models" / "la-ruche-observed.csv")
SIMS = 2000


def invoke(*args: str):
    return CliRunner().invoke(main, ["track", *args])


@pytest.fixture(scope="module")
def lunch_track():
    """The shipped La Ruche example tracked with seed 5 (the library's answer)."""
    return track(read_observed(OBSERVED), scenario=forecast.load_scenario(LUNCH_BOX),
                 sims=SIMS, rng=5)


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


# ----------------------------------------------------------------------------- numbers

def test_json_is_the_library_track_with_the_same_seed(lunch_track):
    result = invoke(OBSERVED, "--scenario", LUNCH_BOX, "--sims", str(SIMS), "--seed", "5",
                    "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed == json.loads(json.dumps(track_details(lunch_track)))
    t = lunch_track
    assert printed["probability"] == t.probability()
    assert printed["probability_se"] == t.probability_se()
    assert printed["final_quantiles"]["p50"] == t.quantiles([0.5])[0]
    assert printed["day"] == 20 and printed["pledged"] == t.pledged
    assert printed["seed"] == 5 and printed["sims"] == SIMS
    assert printed["needed_per_day"] == (t.goal - t.pledged) / (t.duration_days - t.now)
    assert [row["probability"] for row in printed["what_ifs"]] == [
        t.with_pledgers(row["pledgers"]) for row in printed["what_ifs"]]


def test_what_ifs_close_their_share_of_the_gap_and_weigh_the_track(lunch_track):
    """N is the fewest mean pledges that close each share of the gap, and P(success)
    with them is the weight of the simulated campaigns that N more mean pledges carry
    over the goal (computed here from the track's final totals and weights)."""
    t = lunch_track
    frame = what_ifs(t)
    gap, mean = t.goal - t.pledged, t.pledge_mean
    assert len(frame) == len(GAP_SHARES)
    for share, row in zip(GAP_SHARES, frame.itertuples()):
        assert row.pledgers * mean >= share * gap > (row.pledgers - 1) * mean
        assert row.money == row.pledgers * mean
        assert row.share_of_gap == pytest.approx(row.pledgers * mean / gap, rel=1e-12)
        reached = t.final + row.pledgers * mean >= t.goal
        assert row.probability == pytest.approx(float(np.sum(t.weights[reached])), abs=1e-12)
    # more pledgers never lower the odds, and none lowers them below today's
    assert np.all(np.diff(frame["probability"]) >= 0)
    assert frame["probability"].iloc[0] >= t.probability()


def test_what_ifs_vanish_once_the_goal_is_reached():
    seen = pd.DataFrame({"day": [0, 3, 6], "pledged": [0, 4000, 5200]})
    t = track(seen, goal=5000, duration_days=30, platform="ulule", sims=SIMS, rng=1)
    assert what_ifs(t).empty and track_details(t)["what_ifs"] == []
    with pytest.raises(ValueError, match="shares"):
        what_ifs(t, shares=[25])


def test_reminders_are_the_circles_largest_money_first(lunch_track):
    frame = reminders(lunch_track)
    assert np.all(np.diff(frame["money_to_come"]) <= 0)
    expected = lunch_track.circles.set_index("circle")
    assert sorted(frame["circle"]) == sorted(expected.index)
    for row in frame.itertuples():
        assert row.money_to_come == expected.loc[row.circle, "money_to_come"]


def test_text_says_where_the_campaign_stands(lunch_track):
    result = invoke(OBSERVED, "--scenario", LUNCH_BOX, "--sims", str(SIMS), "--seed", "5")
    assert result.exit_code == 0, result.output
    text = result.stdout
    t = lunch_track
    low, high = t.probability_interval()
    q10, q50, q90 = t.quantiles([0.1, 0.5, 0.9])
    money = lambda v: Labels("en", "$").money(v, 0)  # noqa: E731
    assert (f"Day 20 of 45: {money(t.pledged)} pledged, {t.pledged / t.goal:.1%} of the goal"
            in text)
    assert (f"Probability of reaching the goal: {t.probability():.1%} (95% interval "
            f"{low:.1%} – {high:.1%}; standard error {100 * t.probability_se():.1f} points)"
            in text)
    assert f"p10 {money(q10)}   p50 {money(q50)}   p90 {money(q90)}" in text
    assert f"Needed from today: {money(t.needed_per_day())} a day" in text
    assert f"effective sample size {t.ess:,.0f}" in text and "seed 5" in text
    assert f"forecast {forecast.__version__}" in text
    # who to remind, largest first, and a line per what-if
    block = text.split("Who to remind")[1].split("What if")[0]
    order = [line.split()[0] for line in block.strip().splitlines()[1:]]
    assert order == [name.split()[0] for name in reminders(t)["circle"]]
    for row in what_ifs(t).itertuples():
        assert f"+{row.pledgers:<4} pledgers" in text
        assert f"{row.probability:.1%}" in text


def test_goal_and_days_override_the_scenario():
    result = invoke(OBSERVED, "--scenario", LUNCH_BOX, "--goal", "15000", "--days", "40",
                    "--sims", str(SIMS), "--seed", "3", "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    scenario = forecast.load_scenario(LUNCH_BOX).with_(goal=15000, duration_days=40)
    expected = track_details(track(read_observed(OBSERVED), scenario=scenario, sims=SIMS,
                                   rng=3))
    assert printed == json.loads(json.dumps(expected))
    assert printed["goal"] == 15000 and printed["duration_days"] == 40


def test_without_a_scenario_the_generic_prior_of_the_platform():
    result = invoke(OBSERVED, "--goal", "20000", "--days", "45", "--platform", "la-ruche",
                    "--sims", str(SIMS), "--seed", "4", "--json")
    assert result.exit_code == 0, result.output
    expected = track(read_observed(OBSERVED), goal=20000, duration_days=45,
                     platform="la-ruche", sims=SIMS, rng=4)
    assert json.loads(result.stdout) == json.loads(json.dumps(track_details(expected)))
    text = invoke(OBSERVED, "--goal", "20000", "--days", "45", "--sims", str(SIMS),
                  "--seed", "4").stdout
    assert "No scenario" in text and "Who to remind" not in text


def test_daily_amounts_and_dates_equal_the_running_totals(tmp_path):
    frame = pd.read_csv(OBSERVED)
    daily = frame.copy()
    daily["pledged"] = frame["pledged"].diff().fillna(frame["pledged"])
    daily["backers"] = frame["backers"].diff().fillna(frame["backers"])
    daily_path = str(tmp_path / "daily.csv")
    daily.to_csv(daily_path, index=False)
    dated = frame.drop(columns="day")
    dated.insert(0, "date", (pd.Timestamp("2026-03-02")
                             + pd.to_timedelta(frame["day"], unit="D")).dt.date)
    dated_path = str(tmp_path / "dated.csv")
    dated.to_csv(dated_path, index=False)
    common = ["--scenario", LUNCH_BOX, "--sims", str(SIMS), "--seed", "8", "--json"]
    runs = [invoke(OBSERVED, *common), invoke(daily_path, "--daily", *common),
            invoke(dated_path, "--launch", "2026-03-02", *common)]
    assert all(r.exit_code == 0 for r in runs), [r.output for r in runs]
    first = json.loads(runs[0].stdout)
    assert json.loads(runs[1].stdout) == first
    assert json.loads(runs[2].stdout) == first


# ----------------------------------------------------------------------------- errors

@pytest.mark.parametrize("content, options, fragments", [
    ("", [], ["empty.csv", "not a CSV file"]),
    ("day,pledged\n", [], ["empty.csv", "no observation"]),
    ("day,pledged\n1,500\n2,900\n3,400\n", [], ["empty.csv", "falls on day 3", "--daily"]),
    ("day,pledged\n1,500\n50,900\n", [], ["empty.csv", "day 50 is at or past the deadline",
                                          "45 days"]),
    ("date,pledged\n2026-03-03,500\n", [], ["empty.csv", "--launch"]),
    ("date,pledged\n2026-03-03,500\n", ["--launch", "mars"], ["'mars' is not a date"]),
    ("day,pledged\n1,lots\n", [], ["empty.csv", "row 2", "'lots' is not a number"]),
    ("day,amount\n1,500\n", [], ["empty.csv", "no column 'pledged'"]),
])
def test_bad_observations_are_one_clear_message(tmp_path, content, options, fragments):
    path = write(tmp_path / "empty.csv", content)
    output = tmp_path / "track.pdf"
    result = invoke(path, "--scenario", LUNCH_BOX, "--sims", str(SIMS), "-o", str(output),
                    *options)
    assert_clean_failure(result, *fragments)
    assert not output.exists()


def test_missing_file_and_options_are_one_clear_message(tmp_path):
    assert_clean_failure(invoke(str(tmp_path / "nowhere.csv"), "--scenario", LUNCH_BOX),
                         "nowhere.csv", "no such file")
    assert_clean_failure(invoke(OBSERVED), "--goal and --days needed", "generic prior")
    assert_clean_failure(invoke(OBSERVED, "--goal", "20000"), "--days needed")
    assert_clean_failure(invoke(OBSERVED, "--scenario", LUNCH_BOX, "--platform", "ulule"),
                         "--platform", "la-ruche-lunch-box.toml")
    assert_clean_failure(invoke(OBSERVED, "--scenario", LUNCH_BOX, "--days", "200"),
                         "--days 200")
    assert_clean_failure(invoke(OBSERVED, "--goal", "20000", "--days", "200",
                                "--platform", "la-ruche"), "200")


# ----------------------------------------------------------------------------- the page

def page_strings(t, lang: str, has_scenario: bool = True) -> str:
    figure = track_report.track_page(t, Labels(lang, t.scenario.currency), "obs.csv",
                                     has_scenario)
    # wrapped lines joined: what a reader reads, whatever the line breaks
    return " ".join(" ".join(text.get_text().split()) for text in figure.findobj(Text))


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_page_speaks_its_language(lunch_track, lang):
    t, labels = lunch_track, Labels(lang, "$")
    words = page_strings(t, lang)
    other = TEXT["en" if lang == "fr" else "fr"]
    for key in ("probability_heading", "track_remind_heading", "track_whatif_heading",
                "track_pace_heading", "track_final_heading", "col_pledgers_to_come",
                "track_observed", "track_median"):
        assert " ".join(TEXT[lang][key].split()) in words, key
        assert " ".join(other[key].split()) not in words, key
    assert labels.percent(t.probability()) in words
    assert labels.money(t.quantiles([0.5])[0]) in words
    assert f"{labels.number(t.ess)}" in words and "obs.csv" in words
    for row in what_ifs(t).itertuples():
        assert labels.percent(row.probability) in words
    for name in t.circles["circle"]:
        assert name in words
    assert TEXT[lang][f"method_{t.method}"] in words


def test_the_page_of_the_generic_prior_lists_no_circles(lunch_track):
    words = page_strings(lunch_track, "en", has_scenario=False)
    assert TEXT["en"]["track_no_scenario"] in words
    assert lunch_track.scenario.name not in words
    assert not any(name in words for name in lunch_track.circles["circle"])


def test_pdf_is_written_french_by_default_on_la_ruche(tmp_path, lunch_track):
    output = tmp_path / "out" / "track.pdf"
    result = invoke(OBSERVED, "--scenario", LUNCH_BOX, "--sims", str(SIMS), "--seed", "5",
                    "-o", str(output))
    assert result.exit_code == 0, result.output
    assert f"Wrote {output}." in result.stdout
    data = output.read_bytes()
    assert data.startswith(b"%PDF") and b"seed=5" in data
    assert [p.name for p in output.parent.iterdir()] == ["track.pdf"]
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(["pdftotext", "-layout", str(output), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert TEXT["fr"]["track_remind_heading"] in text
    assert Labels("fr").percent(lunch_track.probability()) in text
    assert text.count("\f") == 1  # one page


def test_json_with_a_pdf_keeps_stdout_json(tmp_path):
    output = tmp_path / "track.en.pdf"
    result = invoke(OBSERVED, "--scenario", LUNCH_BOX, "--sims", str(SIMS), "--seed", "5",
                    "--json", "-o", str(output), "--lang", "en")
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)
    assert f"Wrote {output}." in result.stderr and output.is_file()


def test_a_failed_write_leaves_no_file(tmp_path, lunch_track, monkeypatch):
    """A write that fails half-way (a full disk) leaves neither a PDF nor a temporary
    file, and an older PDF at that path untouched."""
    savefig = PdfPages.savefig

    def full_disk(self, *args, **kwargs):  # the page is written, then the disk is full
        savefig(self, *args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(PdfPages, "savefig", full_disk)
    output = tmp_path / "track.pdf"
    with pytest.raises(OSError, match="No space"):
        track_report.render_track(lunch_track, output)
    assert list(tmp_path.iterdir()) == []
    output.write_bytes(b"the older report")
    result = invoke(OBSERVED, "--scenario", LUNCH_BOX, "--sims", str(SIMS), "-o",
                    str(output))
    assert_clean_failure(result, f"cannot write {output}", "No space left")
    assert output.read_bytes() == b"the older report"
    assert [p.name for p in tmp_path.iterdir()] == ["track.pdf"]


def test_help_has_an_example():
    result = CliRunner().invoke(main, ["track", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and "forecast track models/la-ruche-observed.csv" \
        in result.output
