"""The advisor's report: words, comments, plots (through their artists) and the PDF."""
from __future__ import annotations

import copy
import re
import string
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.figure import Figure

import forecast
from forecast import plots, report
from forecast.assumptions import assumption_rows, description
from forecast.cli import main
from forecast.i18n import LANGUAGES, TEXT, Labels, default_language

from test_cli import assert_clean_failure


def _pypdf():
    """pypdf reads the PDFs back (it is in the test extra); only those tests skip
    without it."""
    return pytest.importorskip("pypdf", reason="pypdf is in the test extra")

ROOT = Path(__file__).resolve().parent.parent
LUNCH_BOX = ROOT / "models" / "la-ruche-lunch-box.toml"


# ----------------------------------------------------------------------------- words

def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_languages_have_the_same_keys_and_fields():
    assert set(LANGUAGES) == set(TEXT) == {"en", "fr"}
    assert set(TEXT["en"]) == set(TEXT["fr"])
    for key in TEXT["en"]:
        assert _fields(TEXT["en"][key]) == _fields(TEXT["fr"][key]), key


def test_numbers_are_written_the_way_each_reader_writes_them():
    fr, en = Labels("fr"), Labels("en")
    assert fr.money(25000) == "25 000 $"
    assert en.money(25000) == "$25,000"
    assert fr.percent(0.773) == "77,3 %"
    assert en.percent(0.773) == "77.3%"
    assert fr.days(45) == "45 jours" and en.days(45) == "45 days"
    assert fr.days(1) == "1 jour" and en.days(1) == "1 day"
    assert fr.money(0.9) == "0,90 $"
    assert fr.number(1234567.891, 2) == "1 234 567,89"
    assert Labels("fr", "€").money(1500) == "1 500 €"
    assert "\u00a0" not in fr.money(25000) + fr.percent(0.5)   # plain spaces: searchable
    assert default_language("la-ruche") == "fr" and default_language("kickstarter") == "en"
    with pytest.raises(ValueError, match="lang = 'de'"):
        Labels("de")


def test_wrapping_never_splits_an_amount_from_its_unit():
    text = "le plus petit objectif qui couvre le besoin de 9 000 $ est 16 000 $ à 77,3 %"
    for width in range(12, 60):
        lines = plots.wrap_text(text, width)
        assert " ".join(lines) == text
        for line in lines:
            assert not re.match(r"^(\d{3}|\$|%)", line), (width, lines)
            assert not re.search(r"\d$", line), (width, lines)


# ----------------------------------------------------------------------------- descriptions

def test_every_input_of_the_example_is_listed_with_descriptions_in_the_language():
    """Sections carry the description written for the report, in its language, never
    the file's comments (issue 16)."""
    scenario = forecast.load_scenario(LUNCH_BOX)
    rows = assumption_rows(scenario, Labels("fr"))
    inputs = [r for r in rows if r["kind"] == "input"]
    notes = " ".join(r["note"] for r in rows)
    assert "sticker and postage" not in notes and "MODEL.md" not in notes
    entourage = next(r for r in rows if r["kind"] == "section" and "entourage" in r["input"])
    assert entourage["note"] == scenario.raw["circle"][0]["description"]["fr"]
    english = assumption_rows(scenario, Labels("en"))
    assert next(r for r in english if r["kind"] == "section" and "entourage" in r["input"]
                )["note"] == scenario.raw["circle"][0]["description"]["en"]
    assert description({"en": "x"}, "fr") == "" and description("x", "fr") == "x"
    goal = next(r for r in inputs if r["input"] == TEXT["fr"]["key_goal"])
    assert goal["value"] == "20 000 $"
    platform = next(r for r in inputs if r["input"] == TEXT["fr"]["key_platform"])
    assert platform["value"] == "La Ruche"
    assert not any(r["input"] == "description" for r in inputs)
    conversions = [r for r in inputs if r["input"] == TEXT["fr"]["key_conversion"]]
    assert len(conversions) == len(scenario.circles)
    assert conversions[1]["uncertainty"] == "n'importe où de 1,0 % à 4,0 %"
    assert conversions[0]["uncertainty"].startswith("moyenne 22,0 %, écart-type 6,0 %; 90 %")
    # the platform's fees are listed although the file does not set them
    assert any(r["value"] == "8,05 %" for r in inputs)
    sections = [r["input"] for r in rows if r["kind"] == "section"]
    assert "Cercle « entourage »" in sections
    assert len([s for s in sections if s.startswith("Engagement")]) == 2


# ----------------------------------------------------------------------------- plots

def _daily(days: int = 10) -> pd.DataFrame:
    day = np.arange(days)
    spend = np.where(day == 0, 500.0, 100.0)
    frame = pd.DataFrame({"day": day, "pledges_mean": spend + 50 * (day == 3),
                          "cumulative_p10": np.cumsum(spend) * 0.8,
                          "cumulative_p50": np.cumsum(spend),
                          "cumulative_p90": np.cumsum(spend) * 1.2})
    frame["circle:amis"] = spend * 0.75
    frame["circle:public"] = spend * 0.25
    return frame


def _sweep() -> pd.DataFrame:
    rows = []
    for days in (30, 45):
        for goal in (500.0, 1000.0, 1500.0, 2000.0):
            p = max(0.0, min(1.0, 1.3 - goal / 1500 + (days - 30) / 300))
            rows.append({"goal": goal, "duration_days": days, "probability": p,
                         "ci_low": max(0, p - 0.02), "ci_high": min(1, p + 0.02),
                         "gross_p50": 1200.0, "expected_payout": p * goal * 0.8,
                         "need_probability": np.nan})
    return pd.DataFrame(rows)


def _axes() -> matplotlib.axes.Axes:
    return Figure(figsize=(8, 5)).add_subplot()


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_plot_fan_draws_median_band_goal_and_milestones():
    daily = _daily()
    milestones = {"50": {"probability": 0.9, "median_day": 3},
                  "100": {"probability": 0.4, "median_day": None}}
    ax = plots.plot_fan(_axes(), daily, 1000.0, Labels("fr"), milestones)
    median = ax.lines[0]
    np.testing.assert_array_equal(median.get_ydata(), daily["cumulative_p50"])
    goal_line = ax.lines[1]
    assert list(goal_line.get_ydata()) == [1000.0, 1000.0]
    assert [line.get_xydata().tolist() for line in ax.lines[2:]] == [[[3.0, 500.0]]]
    assert _texts(ax) == ["50 % de l'objectif au jour 3 (médiane des 90 % de campagnes "
                          "qui y arrivent)"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Objectif (1 000 $)" in legend and "Campagne médiane" in legend
    assert ax.get_ylim()[1] >= daily["cumulative_p90"].max()
    assert ax.get_xlim() == (0, len(daily) - 1)
    assert ax.get_ylabel() == "Contributions cumulées"


def test_plot_daily_stacks_circles_and_commitments():
    daily = _daily()
    ax = plots.plot_daily(_axes(), daily, Labels("en"))
    assert len(ax.containers) == 3                 # two circles, then commitments
    commitments = [bar.get_height() for bar in ax.containers[2]]
    np.testing.assert_allclose(commitments, 50.0 * (daily["day"] == 3))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["amis", "public", "Pre-campaign commitments"]
    assert ax.get_xlabel() == "Day of the campaign (0 = launch day)"


def test_plot_probability_curves_one_curve_per_duration_with_target_and_advice():
    frame = _sweep()
    ax = plots.plot_probability_curves(_axes(), frame, 0.8, 1000.0, Labels("en"),
                                       planned_days=45, goal=1500.0)
    curves = [line for line in ax.lines if len(line.get_xdata()) == 4]
    assert [c.get_label() for c in curves] == ["30 days", "45 days (planned)"]
    assert curves[1].get_linewidth() > curves[0].get_linewidth()
    np.testing.assert_allclose(curves[1].get_ydata(),
                               frame[frame.duration_days == 45]["probability"])
    assert len(ax.collections) == 2                # the 95 % bands
    texts = _texts(ax)
    assert "Target: 80% chance" in texts
    assert "Recommended goal: $1,000" in texts
    assert "Goal in the plan: $1,500" in texts
    assert ax.get_ylim() == (0, 1.02)
    assert ax.get_xlim() == (500.0, 2000.0)


def test_plot_probability_curves_without_a_recommended_goal():
    ax = plots.plot_probability_curves(_axes(), _sweep(), 0.99, np.nan, Labels("fr"))
    assert not any(t.startswith("Objectif recommandé") for t in _texts(ax))
    assert "Cible : 99 % de chances" in _texts(ax)


def test_plot_heatmap_cells_contours_and_the_plan():
    frame = _sweep()
    ax = plots.plot_heatmap(_axes(), frame, Labels("fr"), planned=(1500.0, 45))
    mesh = ax.collections[0]
    np.testing.assert_allclose(np.sort(mesh.get_array().ravel()),
                               np.sort(frame["probability"]))
    contour = next(c for c in ax.collections[1:] if hasattr(c, "levels"))
    assert list(contour.levels) == [0.5, 0.8, 0.95]
    # the levels are named in a legend, never on the lines over the cells' values
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "ligne des 50 %", "ligne des 80 %", "ligne des 95 %"]
    assert not any(t.endswith("%") for t in _texts(ax))
    # every column's goal is written under it
    np.testing.assert_array_equal(ax.get_xticks(), np.sort(frame["goal"].unique()))
    cell_texts = [t for t in _texts(ax) if t.isdigit()]
    assert len(cell_texts) == len(frame)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["30 jours", "45 jours"]
    frame_patch = [p for p in ax.patches if not p.get_fill()]
    step = np.diff(np.sort(frame["goal"].unique()))[0]  # the plan's cell starts half a step
    assert frame_patch and frame_patch[0].get_xy()[0] == pytest.approx(1500.0 - step / 2)
    assert ax.get_ylabel() == "Durée de la campagne"


def test_plot_tornado_bars_from_the_plan_with_values():
    frame = pd.DataFrame({
        "input": ["a: conversion", "b: size"], "low": [0.1, 80.0], "high": [0.3, 120.0],
        "probability_low": [0.4, 0.7], "probability_high": [0.9, 0.75],
        "effect_pp": [50.0, 5.0]})
    frame.attrs["probability"] = 0.72
    ax = plots.plot_tornado(_axes(), frame, Labels("en"))
    assert len(ax.patches) == 4
    widths = sorted(round(p.get_width(), 6) for p in ax.patches)
    ends = np.r_[frame["probability_low"], frame["probability_high"]]
    assert widths == sorted(np.round(ends - frame.attrs["probability"], 6).tolist())
    assert all(p.get_x() == pytest.approx(0.72) for p in ax.patches)
    top_down = sorted(ax.get_yticklabels(), key=lambda t: -t.get_position()[1])
    assert [t.get_text() for t in top_down] == ["a: conversion", "b: size"]  # largest on top
    texts = _texts(ax)
    assert "As planned: 72.0%" in texts
    assert "0.10 → 40%" in texts and "0.30 → 90%" in texts
    assert all(0 <= tick <= 1 for tick in ax.get_xticks())


def test_plot_table_writes_every_cell_and_wraps_long_ones():
    ax = Figure(figsize=(6, 3)).add_axes((0, 0, 1, 1))
    long = "word " * 40
    plots.plot_table(ax, ["Input", "Value"], [["goal", "20 000 $"], ["note", long]],
                     widths=[0.3, 0.7], styles=[None, "total"])
    texts = _texts(ax)
    assert texts[:2] == ["Input", "Value"]
    assert "20 000 $" in texts
    assert any("\n" in t for t in texts)           # the long cell wrapped
    assert min(t.get_position()[1] for t in ax.texts) > 0


# ----------------------------------------------------------------------------- the PDF

KEY_LABELS = {   # the page's title key -> keys of TEXT whose text the page must show
    "summary_title": ["summary_title", "probability_heading", "recommended_heading", "facts_heading",
        "receive_heading", "gross", "fees", "net"],
    "daily_title": ["daily_title", "axis_day", "axis_cumulative", "axis_daily", "median_campaign",
        "milestone_legend", "commitments"],
    "curves_title": ["curves_title", "axis_goal", "axis_probability"],
    "heatmap_title": ["heatmap_title", "axis_duration", "axis_probability"],
    "money_title": ["money_title", "circles_heading", "tiers_heading", "budget_heading", "col_tier",
        "col_mean_success", "tiers_total"],
    "tornado_title": ["tornado_title", "tornado_low", "tornado_high", "axis_probability"],
    "assumptions_title": ["assumptions_title", "reproduce_heading", "seed", "sha256", "col_input",
        "col_uncertainty", "col_note", "section_campaign"],
}


@pytest.fixture(scope="module")
def data():
    scenario = forecast.load_scenario(LUNCH_BOX)
    return report.compute(scenario, sims=2000, rng=7, goals=[15000, 20000, 25000],
                          durations=[38, 45])


@pytest.fixture(scope="module")
def pdfs(data, tmp_path_factory):
    pypdf = _pypdf()
    folder = tmp_path_factory.mktemp("reports")
    out = {}
    for lang in ("fr", "en"):
        path = folder / f"lunch.{lang}.pdf"
        titles = report.render(data, path, lang=lang)
        reader = pypdf.PdfReader(path)
        texts = [" ".join(page.extract_text().split()) for page in reader.pages]
        out[lang] = {"path": path, "titles": titles, "reader": reader, "texts": texts}
    return out


def test_the_sweep_agrees_with_the_plan(data):
    cell = data.sweep[(data.sweep.goal == 20000) & (data.sweep.duration_days == 45)]
    assert float(cell["probability"].iloc[0]) == data.result.probability()
    # what matters most is measured at the recommended goal, the sweep's cell there
    plan = data.recommend[data.recommend.duration_days == 45].iloc[0]
    assert data.sensitivity.attrs["goal"] == plan["recommended_goal"]
    assert data.sensitivity.attrs["probability"] == plan["recommended_probability"]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_page_count_and_titles(data, pdfs, lang):
    got = pdfs[lang]
    words = TEXT[lang]
    # "What would it take" only when the odds at the recommended goal miss the target
    levers = (["levers_title"] if data.levers.attrs["probability"] < data.target else [])
    keys = ["summary_title", "daily_title", "curves_title", "heatmap_title",
            "money_title", *levers, "tornado_title"]
    assert len(got["reader"].pages) == len(got["titles"]) >= len(keys) + 1
    assert got["titles"][:len(keys)] == [words[k] for k in keys]
    assert set(got["titles"][len(keys):]) == {words["assumptions_title"]}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_tornado_page_gives_the_largest_standard_error_of_its_bars(data, pdfs, lang):
    """The note states the largest ``effect_se_pp`` of the bars shown, as the
    sensitivity computed it (paired campaigns)."""
    texts, titles = pdfs[lang]["texts"], pdfs[lang]["titles"]
    page = texts[titles.index(TEXT[lang]["tornado_title"])]
    shown = data.sensitivity.head(report.TORNADO_ROWS)
    se = Labels(lang).number(float(shown["effect_se_pp"].max()), 1)
    assert float(shown["effect_se_pp"].max()) > 0
    said = ("standard error is at most {} points" if lang == "en"
            else "est d'au plus {} point")
    assert said.format(se) in page, (se, page)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_page_holds_its_key_labels(pdfs, lang):
    texts, titles = pdfs[lang]["texts"], pdfs[lang]["titles"]
    for title, keys in KEY_LABELS.items():
        page = titles.index(TEXT[lang][title])
        for key in keys:
            label = " ".join(TEXT[lang][key].split())
            assert label in texts[page], (page, key, label)
    n = len(texts)
    for k, text in enumerate(texts, start=1):
        page_of = "page {} de {}" if lang == "fr" else "page {} of {}"
        assert page_of.format(k, n) in text
        assert "graine 7" in text if lang == "fr" else "seed 7" in text


def test_french_numbers_and_words(pdfs):
    summary = pdfs["fr"]["texts"][0]
    assert "Objectif 20 000 $ en 45 jours sur La Ruche" in summary
    assert re.search(r"\b\d{1,2},\d %", summary)              # decimal comma: 77,3 %
    assert "Probabilité d'atteindre l'objectif" in summary
    assert re.search(r"\d{1,3} \d{3} \$", pdfs["fr"]["texts"][4])
    english = pdfs["en"]["texts"][0]
    assert "Goal $20,000 in 45 days on La Ruche" in english
    assert re.search(r"\b\d{1,2}\.\d%", english)


def test_no_english_label_on_the_french_pages(pdfs):
    """No fragment of an English string of the table, nor of the scenario's English
    descriptions, appears anywhere in the French report (issue 16: the file's
    comments are no longer quoted)."""
    french = " ".join(pdfs["fr"]["texts"])
    scenario = forecast.load_scenario(LUNCH_BOX)
    english_descriptions = [t["description"]["en"] for t in
                            [scenario.raw["campaign"], *scenario.raw["circle"]]]
    checked = 0
    for key, english in TEXT["en"].items():
        if english == TEXT["fr"][key]:
            continue
        for fragment in re.split(r"\{[^}]*\}", english):
            fragment = " ".join(fragment.split()).strip(" :·,.()")
            if len(fragment) < 8 or fragment in TEXT["fr"][key]:
                continue
            checked += 1
            assert fragment not in french, (key, fragment)
    assert checked > 100
    for text in english_descriptions:
        assert text[:40] not in " ".join(french.split()), text
    assert "sticker and postage" not in french


def test_metadata_names_the_seed(pdfs):
    meta = pdfs["fr"]["reader"].metadata
    assert meta["/Author"] == "forecast"
    assert "seed=7" in meta["/Keywords"]
    assert meta["/Title"] == "Prévision de campagne : Boîte à lunch réutilisable"
    assert meta["/Subject"]


def test_assumptions_show_what_reproduces_the_figures(pdfs, data):
    first = pdfs["fr"]["titles"].index(TEXT["fr"]["assumptions_title"])
    text = " ".join(pdfs["fr"]["texts"][first:])
    assert data.sha256 in text and len(data.sha256) == 64
    assert forecast.__version__ in text
    assert "--seed 7" in text and "--sims 2000" in text
    assert "Abonnés de l'infolettre" in " ".join(text.split())  # a description, in French


def test_an_interrupted_write_leaves_no_file_and_keeps_the_old_one(data, tmp_path,
                                                                    monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(plots, "plot_heatmap", broken)
    path = tmp_path / "new.pdf"
    with pytest.raises(RuntimeError, match="drawing failed"):
        report.render(data, path, lang="fr")
    assert list(tmp_path.iterdir()) == []                     # no report, no temp file
    old = tmp_path / "old.pdf"
    old.write_bytes(b"previous report")
    with pytest.raises(RuntimeError):
        report.render(data, old, lang="en")
    assert old.read_bytes() == b"previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["old.pdf"]


def test_default_durations():
    scenario = forecast.load_scenario(LUNCH_BOX)
    assert report.default_durations(scenario) == [31, 38, 45, 52, 59]
    short = scenario.with_(duration_days=30)
    assert report.default_durations(short) == [30, 37, 44]     # La Ruche: 30 days at least
    # a commitment on day 40: no duration too short to hold it
    raw = scenario.to_dict()
    raw["commitment"][1]["day"] = 40
    late = forecast.Scenario.from_dict(raw)
    assert report.default_durations(late) == [41, 45, 52, 59]


def test_cli_report_writes_the_pdf(tmp_path):
    out = tmp_path / "sub" / "r.pdf"
    result = CliRunner().invoke(main, [
        "report", str(LUNCH_BOX), "-o", str(out), "--sims", "500", "--seed", "3",
        "--goals", "18000:22000:2000", "--days", "45"])
    assert result.exit_code == 0, result.output
    assert "seed 3" in result.output and out.is_file()
    first_page = _pypdf().PdfReader(out).pages[0].extract_text()
    assert "Sommaire" in first_page                            # French on La Ruche


def test_cli_report_errors_are_one_sentence(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(main, ["report", str(tmp_path / "nope.toml")])
    assert_clean_failure(missing, "no such file")
    bad = runner.invoke(main, ["report", str(LUNCH_BOX), "--days", "200", "--sims", "10",
                               "-o", str(tmp_path / "x.pdf")])
    assert_clean_failure(bad, "--days 200", "duration_days")
    assert not (tmp_path / "x.pdf").exists()


def test_one_goal_one_duration_report_draws_without_warnings(tmp_path):
    """One goal: the curve is a marked point with its interval, the heatmap one cell,
    and matplotlib says nothing (issue 16)."""
    import warnings
    scenario = forecast.load_scenario(LUNCH_BOX).with_(need=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = report.compute(scenario, sims=300, rng=1, goals=[20000], durations=[45])
        report.render(data, tmp_path / "one.pdf", lang="en")
    assert data.sweep["goal"].tolist() == [20000.0]
    fig = Figure()
    ax = plots.plot_probability_curves(fig.add_subplot(), data.sweep, 0.8, np.nan,
                                       Labels("en"), planned_days=45)
    assert ax.get_xlim()[0] < 20000 < ax.get_xlim()[1]
    assert any(len(line.get_xdata()) == 1 and line.get_marker() == "o"
               for line in ax.get_lines())


def test_pages_report_progress_as_they_are_drawn(data, tmp_path):
    calls = []
    titles = report.render(data, tmp_path / "p.pdf", lang="en",
                           progress=lambda done, pages: calls.append((done, pages)))
    assert calls == [(k, len(titles)) for k in range(1, len(titles) + 1)]


def test_a_commitment_shows_its_given_probability(data):
    """80 % as written in the scenario, not the simulated 79.x % (issue 16)."""
    circles = data.result.by_circle()
    partner = circles[circles["kind"] == "commitment"].iloc[0]
    assert partner["probability"] == 0.8 and partner["pledgers_mean"] != 0.8
    ax = plots.plot_circles(_axes(), circles, Labels("en"))
    texts = [t.get_text() for t in ax.texts]
    assert any("probability 80%" in t for t in texts), texts


def test_heatmap_leaves_out_a_column_too_narrow_to_read():
    frame = _sweep()
    goals = np.sort(frame["goal"].unique())
    step = goals[1] - goals[0]
    extra = frame[frame["goal"] == goals[1]].assign(goal=goals[1] + 0.2 * step)
    ax = plots.plot_heatmap(_axes(), pd.concat([frame, extra]), Labels("en"),
                            planned=(goals[1] + 0.2 * step, 45))
    # the plan's goal replaces its narrow neighbour; every other column stays
    expected = np.sort(np.r_[np.delete(goals, 1), goals[1] + 0.2 * step])
    np.testing.assert_allclose(ax.get_xticks(), expected)
