"""``forecast contacts``: the course's contact spreadsheet read into a frame and grouped
into circles. Every spreadsheet is built here, clean and messy; expected counts and
rates are computed from the rows written, with the priors of forecast.contacts."""
from __future__ import annotations

import csv
import math
import tomllib
from collections import Counter
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from click.testing import CliRunner

import forecast
from forecast import contacts as C
from forecast.contacts_template import template_headers, write_template
from forecast.cli import main

import reference as ref
from test_cli import assert_clean_failure

ROOT = Path(__file__).resolve().parent.parent
LUNCH_BOX = ROOT / "models" / "la-ruche-lunch-box.toml"

FR = template_headers("fr")
EN = template_headers("en")
# A person: (name, email, relation as typed, canonical relation, audience, interest as
# typed, canonical interest, amount promised)
PEOPLE = [
    ("Ana", "ana@example.org", "famille", "family", None, "a dit oui", "yes", 80),
    ("Bo", "bo@example.org", "famille", "family", None, "aucun", "none", None),
    ("Cy", "cy@example.org", "ami", "friend", None, "curieux", "curious", None),
    ("Di", "di@example.org", "ami", "friend", None, "", "none", None),
    ("Ed", "ed@example.org", "ami", "friend", None, "a dit oui", "yes", None),
    ("Flo", "flo@example.org", "collègue", "colleague", None, "aucun", "none", None),
    ("Gus", "gus@example.org", "prospect", "prospect", None, "curieux", "curious", None),
    ("Hal", "hal@example.org", "prospect", "prospect", None, "aucun", "none", None),
    ("Ivy", "ivy@example.org", "ambassadeur", "ambassador", 900, "a dit oui", "yes", None),
    ("Jo", "jo@example.org", "ambassadeur", "ambassador", 300, "aucun", "none", None),
    ("Kim", "kim@example.org", "influenceur", "influencer", 20000, "curieux", "curious", None),
    ("Lu", "lu@example.org", "journaliste", "journalist", 30000, "curieux", "curious", None),
    ("Mo", "mo@example.org", "journaliste", "journalist", 6000, "aucun", "none", None),
    ("Nord Inc.", "nord@example.org", "entreprise", "company", None, "a dit oui", "yes", 2000),
    ("Sud SA", "sud@example.org", "entreprise", "company", None, "curieux", "curious", 700),
    ("Est", "est@example.org", "entreprise", "company", None, "aucun", "none", None),
]


def row_of(person, follow=("oui", "non", "non", "non", 0)):
    name, email, typed, _, audience, interest, _, amount = person
    return [name, email, typed, "Montréal", audience, interest, amount, *follow]


def write_xlsx(path, rows, *, header=FR, above=(), merges=(), title=None):
    """A workbook: optional title, rows above the header, the header, the rows."""
    book = openpyxl.Workbook()
    sheet = book.active
    if title:
        sheet.append([title])
    for line in above:
        sheet.append(list(line))
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    for merged in merges:
        sheet.merge_cells(merged)
    book.save(path)
    return path


def prior(person) -> C.Prior:
    """The prior of docs/contacts.md: the highest of relation, interest and promise."""
    _, _, _, relation, _, _, interest, amount = person
    candidates = [C.PRIORS[relation]]
    if interest in ("curious", "yes"):
        candidates.append(C.INTEREST_PRIORS[interest])
    if amount is not None:
        candidates.append(C.INTEREST_PRIORS["promised"])
    return max(candidates, key=lambda p: p.mean)


def circle(made, name):
    return next(c for c in made.circles if c["name"] == name)


# ----------------------------------------------------------------------------- template

def test_template_has_the_headers_the_drop_downs_and_the_explanations(tmp_path):
    runner = CliRunner()
    for lang, headers, relations in (("fr", FR, "famille,ami,collègue"),
                                     ("en", EN, "family,friend,colleague")):
        path = tmp_path / f"contacts-{lang}.xlsx"
        result = runner.invoke(main, ["contacts", "template", str(path), "--lang", lang])
        assert result.exit_code == 0, result.output
        book = openpyxl.load_workbook(path)
        sheet, notes = book.worksheets
        assert [c.value for c in sheet[1]] == headers
        lists = {str(cells).split(":")[0].rstrip("0123456789"): v.formula1
                 for v in sheet.data_validations.dataValidation if v.type == "list"
                 for cells in v.sqref.ranges}
        relation_column = openpyxl.utils.get_column_letter(headers.index("Relation") + 1)
        assert lists[relation_column].strip('"').startswith(relations)
        assert len(lists[relation_column].strip('"').split(",")) == len(C.RELATIONS)
        explained = [notes.cell(r, 1).value for r in range(2, 2 + len(headers))]
        assert explained == headers
        assert all(notes.cell(r, 2).value for r in range(2, 2 + len(headers)))


def test_template_is_french_on_la_ruche_and_english_elsewhere(tmp_path):
    runner = CliRunner()
    for platform, headers in (("la-ruche", FR), ("kickstarter", EN)):
        path = tmp_path / f"{platform}.xlsx"
        result = runner.invoke(main, ["contacts", "template", str(path),
                                      "--platform", platform])
        assert result.exit_code == 0, result.output
        assert [c.value for c in openpyxl.load_workbook(path).active[1]] == headers


def test_template_does_not_replace_a_filled_list(tmp_path):
    path = write_xlsx(tmp_path / "mine.xlsx", [row_of(PEOPLE[0])])
    before = path.read_bytes()
    result = CliRunner().invoke(main, ["contacts", "template", str(path)])
    assert_clean_failure(result, "mine.xlsx already exists", "--force")
    assert path.read_bytes() == before


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_template_filled_reads_back_person_for_person(tmp_path, lang):
    path = tmp_path / "filled.xlsx"
    write_template(path, lang, rows=[row_of(p) for p in PEOPLE])
    frame = forecast.read_contacts(path)
    assert list(frame["name"]) == [p[0] for p in PEOPLE]
    assert list(frame["relation"]) == [p[3] for p in PEOPLE]
    assert list(frame["interest"]) == [p[6] for p in PEOPLE]
    assert list(frame["row"]) == list(range(2, 2 + len(PEOPLE)))
    amounts = [math.nan if p[7] is None else p[7] for p in PEOPLE]
    np.testing.assert_array_equal(frame["amount"], amounts)
    assert frame.attrs["lang"] == lang and frame.attrs["warnings"] == []


# ----------------------------------------------------------------------------- circles

def test_counts_per_circle_match_the_rows(tmp_path):
    path = write_xlsx(tmp_path / "c.xlsx", [row_of(p) for p in PEOPLE])
    made = forecast.circles_from_contacts(forecast.read_contacts(path))
    expected = Counter(p[3] for p in PEOPLE
                       if not (p[3] == "company" and p[7] is not None))
    names = {r: C._NAMES[r][0] for r in expected}
    for relation, count in expected.items():
        if relation == "journalist":
            continue
        assert circle(made, names[relation])["size"] == count
    row = made.table.set_index("circle").loc[names["journalist"]]
    assert row["people"] == expected["journalist"]
    companies = [p for p in PEOPLE if p[3] == "company" and p[7] is not None]
    assert [c["name"] for c in made.commitments] == [p[0] for p in companies]
    assert [c["amount"] for c in made.commitments] == [p[7] for p in companies]
    assert [c["probability"] for c in made.commitments] == [
        C.COMMITMENT_PROBABILITY["yes" if p[6] == "yes" else "no"] for p in companies]
    kinds = made.table["kind"] != "source"  # a source circle counts its ambassadors again
    assert sum(made.table["people"][kinds]) == len(PEOPLE)


def test_a_circles_rate_and_pledge_give_each_persons_expected_money(tmp_path):
    """N × mean conversion = Σ p_i, and N × mean × pledge mean = Σ p_i a_i, with a_i the
    promised amount or the default pledge: the grouping loses no expected money."""
    path = write_xlsx(tmp_path / "c.xlsx", [row_of(p) for p in PEOPLE])
    default = (60.0, 90.0)
    made = forecast.circles_from_contacts(forecast.read_contacts(path), pledge=default)
    for relation in ("family", "friend", "prospect", "ambassador"):
        group = [p for p in PEOPLE if p[3] == relation]
        made_circle = circle(made, C._NAMES[relation][0])
        rates = [prior(p).mean for p in group]
        assert made_circle["conversion"]["mean"] == pytest.approx(np.mean(rates), abs=1e-6)
        assert made_circle["conversion"]["sd"] == pytest.approx(
            np.mean([prior(p).sd for p in group]), abs=1e-6)
        amounts = [default[0] if p[7] is None else p[7] for p in group]
        money = len(group) * made_circle["conversion"]["mean"] * made_circle["pledge"]["mean"]
        assert money == pytest.approx(np.dot(rates, amounts), rel=1e-4)


def test_audiences_become_source_and_media_circles(tmp_path):
    path = write_xlsx(tmp_path / "c.xlsx", [row_of(p) for p in PEOPLE])
    made = forecast.circles_from_contacts(forecast.read_contacts(path), duration_days=40)
    ambassadors = [p for p in PEOPLE if p[3] == "ambassador"]
    rates = [prior(p).mean for p in ambassadors]
    audience = circle(made, "auditoire des ambassadeurs")
    assert audience["source"] == "ambassadeurs"
    assert audience["reach_per_pledger"] == pytest.approx(
        np.dot(rates, [p[4] for p in ambassadors]) / sum(rates), abs=0.01)
    assert audience["conversion"] == {"mean": C.READER_PRIOR.mean, "sd": C.READER_PRIOR.sd}
    journalists = [p for p in PEOPLE if p[3] == "journalist"]
    readers = sum(p[4] for p in journalists)
    media = circle(made, "médias")
    # All the readers reached over the 40 days, the campaign's novelty fading at the
    # default rate.
    days = ref.flow_days(40, ref.DYNAMICS_DEFAULTS["fade_per_day"])
    assert media["daily_reach"] * days == pytest.approx(readers, rel=1e-6)
    article = sum(prior(p).mean * p[4] for p in journalists) / readers
    assert media["conversion"]["mean"] == pytest.approx(article * C.READER_PRIOR.mean,
                                                        rel=1e-4)


def test_a_frame_made_by_hand_is_grouped_too():
    """A frame with only relations, None for a missing amount, and its own priors."""
    import pandas as pd

    frame = pd.DataFrame({"relation": ["friend", "friend", "company", "family"],
                          "amount": [None, 30, 500, None]})
    mine = C.Prior(0.4, 0.1, "our last campaign")
    made = forecast.circles_from_contacts(frame, lang="en", priors={"friend": mine})
    friends = circle(made, "friends")
    rates = [mine.mean, C.INTEREST_PRIORS["promised"].mean]
    assert friends["size"] == 2 and friends["conversion"]["mean"] == pytest.approx(
        np.mean(rates))
    assert [c["amount"] for c in made.commitments] == [500]
    with pytest.raises(ValueError, match="relation 'cousin' is not valid"):
        forecast.circles_from_contacts(pd.DataFrame({"relation": ["cousin"]}))
    with pytest.raises(ValueError, match="duration_days = 0"):
        forecast.circles_from_contacts(frame, duration_days=0)


def test_interest_raises_a_prior_and_never_lowers_it():
    for relation in C.PRIORS:
        base = C.PRIORS[relation].mean
        for interest in ("none", "curious", "yes"):
            for promised in (False, True):
                got = C._person_prior(relation, interest, promised, C.PRIORS).mean
                assert got >= base
                if interest == "yes":
                    assert got >= C.INTEREST_PRIORS["yes"].mean
                if promised:
                    assert got >= C.INTEREST_PRIORS["promised"].mean


def test_the_written_scenario_simulates_to_the_expected_money(tmp_path):
    """Stock circles and commitments only, exact amounts (sd 0), the mechanisms fitted
    on real campaigns off (an appeal capped at 1 for a circle of 75 %, the surge and
    the duration effect each move the mean): the mean gross is
    Σ p_i a_i + Σ probability × amount, within 5 standard errors."""
    people = [p for p in PEOPLE if p[3] not in ("ambassador", "influencer", "journalist")]
    path = write_xlsx(tmp_path / "c.xlsx", [row_of(p) for p in people])
    made = forecast.circles_from_contacts(forecast.read_contacts(path), pledge=(60.0, 0.0))
    text = C.scenario_text(made, goal=1000, duration_days=45)
    scenario = forecast.Scenario.from_dict(ref.isolated(tomllib.loads(text)))
    result = forecast.simulate(scenario, 40_000, rng=5)
    expected = sum(prior(p).mean * (60.0 if p[7] is None else p[7]) for p in people
                   if not (p[3] == "company" and p[7] is not None))
    expected += sum(C.COMMITMENT_PROBABILITY["yes" if p[6] == "yes" else "no"] * p[7]
                    for p in people if p[3] == "company" and p[7] is not None)
    standard_error = result.totals.std() / math.sqrt(result.sims)
    assert abs(result.totals.mean() - expected) < 5 * standard_error


# ----------------------------------------------------------------------------- messy files

@pytest.mark.parametrize("follow_up, merged", [
    (("Suivi", "Suivi"), []),  # a group over Contacte and Relances
    (("Contacte", "Relances"), ["H2:H3", "L2:L3"]),  # merged down: the top row ties
])
def test_messy_french_list(tmp_path, follow_up, merged):
    """A title row, a two-row header with merged groups, headers without accents, blank
    rows, free-typed relations, a repeated email, an unknown relation."""
    header_top = ["NOM", "Courriel", "Lien", "Ville", "Abonnés", "Interet", "Montant",
                  follow_up[0], "Infolettre", None, None, follow_up[1]]
    header = ["NOM", "Courriel", "Lien", "Ville", "Abonnés", "Interet", "Montant",
              "Contacte", "1", "2", "3", "Relances"]
    typed = [("Amie", "friend"), ("ami", "friend"), ("famille proche", "family"),
             ("Collègue de travail", "colleague"), ("AMIS", "friend"), ("Soeur", "family"),
             ("collegue", "colleague"), ("Influenceuse", "influencer"),
             ("voisin", "other"), ("journaliste radio", "journalist")]
    rows, expected = [], Counter()
    for i, (text, relation) in enumerate(typed):
        rows.append([f"Personne {i}", f"p{i}@example.org", text, "Québec", 500 * i,
                     "oui", None, "x", "oui", None, None, i % 3])
        expected[relation] += 1
        if i in (2, 5):
            rows.append([None] * 12)  # blank rows
    rows.append(["Personne 0 bis", "P0@Example.org ", "famille", "", None, "", None,
                 "", "", "", "", ""])  # the same email as row 0
    path = write_xlsx(tmp_path / "messy.xlsx", rows, header=header, above=[header_top],
                      title="Ma liste de contacts",
                      merges=["A1:L1", "I2:K2", "A2:A3", *merged])
    frame = forecast.read_contacts(path)
    assert Counter(frame["relation"]) == expected
    assert frame.attrs["blank_rows"] == 2
    assert list(frame["newsletter_1"]) == [True] * len(typed)
    assert list(frame["reminders"]) == [i % 3 for i in range(len(typed))]
    warnings = frame.attrs["warnings"]
    duplicate = [w for w in warnings if "p0@example.org" in w]
    assert len(duplicate) == 1 and "column B (Courriel)" in duplicate[0]
    other = [w for w in warnings if "'voisin'" in w]
    voisin_row = 4 + typed.index(("voisin", "other")) + 2  # title, 2 header rows, blanks
    assert len(other) == 1 and f"row {voisin_row}, column C (Lien)" in other[0]
    made = forecast.circles_from_contacts(frame)
    assert circle(made, "autres")["size"] == expected["other"]
    assert circle(made, "amis")["size"] == expected["friend"]


def test_english_csv_with_semicolons_and_windows_encoding(tmp_path):
    path = tmp_path / "list.csv"
    with open(path, "w", encoding="cp1252", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["First name", "Last name", "E-mail", "Relationship", "Followers",
                         "Interest level", "Promised amount", "Contacted", "Newsletter #1",
                         "Reminders", "Children"])
        writer.writerow(["Zoé", "Lévesque", "z@example.org", "Friend", "", "said yes",
                         "1,5k", "2024-05-01", "yes", "2", "3"])
        writer.writerow(["", "", "", "", "", "", "", "", "", "", ""])
        writer.writerow(["Léo", "Roy", "l@example.org", "co-worker", "", "maybe", "",
                         "no", "", "", "0"])
        writer.writerow(["Ève", "Côté", "e@example.org", "blogger", "12 000", "", "",
                         "", "", "", ""])
    frame = forecast.read_contacts(path)
    assert list(frame["name"]) == ["Zoé Lévesque", "Léo Roy", "Ève Côté"]
    assert list(frame["relation"]) == ["friend", "colleague", "influencer"]
    assert list(frame["interest"]) == ["yes", "curious", "none"]
    assert frame["amount"].iloc[0] == 1500 and frame["audience"].iloc[2] == 12000
    assert list(frame["contacted"]) == [True, False, False]
    assert list(frame["Children"]) == ["3", "0", ""]
    assert frame.attrs["lang"] == "en" and frame.attrs["blank_rows"] == 1
    made = forecast.circles_from_contacts(frame)
    assert [c["name"] for c in made.circles] == ["friends", "colleagues", "influencers",
                                                  "influencers' audience"]


def test_what_is_handled_by_assumption_is_reported_with_its_row(tmp_path):
    rows = [row_of(p) for p in PEOPLE]
    rows[2][2] = ""  # no relation
    rows[3][4] = 5000  # the audience of a friend
    rows[13][5] = "enthousiaste"  # an interest forecast does not know
    rows[13][0] = rows[14][0] = 'Nord "Inc."\nsur deux lignes'  # quotes, a line break
    path = write_xlsx(tmp_path / "c.xlsx", rows)
    frame = forecast.read_contacts(path)
    made = forecast.circles_from_contacts(frame)
    warnings = [*frame.attrs["warnings"], *made.warnings]
    assert any("row 4, column C (Relation): empty" in w for w in warnings), warnings
    assert any("row 5 (Di): the audience of a friend is not counted" in w for w in warnings)
    assert any("row 15, column F (Intérêt): 'enthousiaste'" in w for w in warnings)
    assert frame["relation"].iloc[2] == "other" and frame["interest"].iloc[13] == "none"
    names = [c["name"] for c in made.commitments]
    one_line = 'Nord "Inc." sur deux lignes'  # names are one line of text
    assert names == [one_line, f"{one_line} (row 16)"]  # two of the same name
    scenario = forecast.Scenario.from_dict(tomllib.loads(C.scenario_text(made, goal=1000)))
    assert len(scenario.commitments) == 2


@pytest.mark.parametrize("text, value", [
    ("12 000", 12000), ("1,5k", 1500), ("2 500 $", 2500), ("50,00 €", 50),
    ("1,500", 1500), ("1.5k", 1500), ("3 millions", 3e6), ("800 abonnés", 800), (7, 7)])
def test_numbers_as_people_type_them(text, value):
    assert C._number(text) == value


@pytest.mark.parametrize("header, field", [
    ("Relation avec vous", "relation"), ("Abonnés Instagram", "audience"),
    ("Contacté le", "contacted"), ("Nom de famille", "last_name"), ("Courriel", "email"),
    ("Montant promis ($)", "amount"), ("INTÉRÊT", "interest"), ("Infolettre n°2", "newsletter"),
    ("Nombre d'enfants", None), ("Relationship to me", "relation")])
def test_headers_as_people_write_them(header, field):
    assert (C._header_key(header) or (None,))[0] == field


@pytest.mark.parametrize("typed, relation", [
    ("ami", "friend"), ("Amie", "friend"), ("famille proche", "family"),
    ("collègue", "colleague"), ("Grand-mère", "family"), ("ami de la famille", "friend"),
    ("Journaliste (Le Devoir)", "journalist"), ("PME partenaire", "company"),
    ("Mom", "family"), ("Best friend", "friend"), ("Potential customer", "prospect"),
    ("co-worker", "colleague"), ("voisin", None), ("", None)])
def test_relations_typed_freely(typed, relation):
    assert C.relation_of(typed) == relation


def test_newsletters_numbered_in_their_headers_or_in_order(tmp_path):
    header = ["Nom", "Relation", "Infolettre 2 envoyée", "Infolettre 1 (envoyée)",
              "Newsletter", "Rappels"]
    path = write_xlsx(tmp_path / "n.xlsx", [["A", "ami", "oui", "non", "x", 2]],
                      header=header)
    frame = forecast.read_contacts(path)
    assert [frame[f"newsletter_{k}"].iloc[0] for k in (1, 2, 3)] == [False, True, True]
    assert frame["newsletters"].iloc[0] == 2 and frame["reminders"].iloc[0] == 2
    path = write_xlsx(tmp_path / "m.xlsx", [["A", "ami", "oui", "non", "x", -1]],
                      header=header)
    with pytest.raises(C.ContactsError, match=r"row 2, column F \(Rappels\): '-1'"):
        forecast.read_contacts(path)


def test_errors_name_the_row_and_the_column(tmp_path):
    rows = [row_of(p) for p in PEOPLE[:3]]
    rows[1][4] = "beaucoup"
    path = write_xlsx(tmp_path / "bad.xlsx", rows)
    with pytest.raises(C.ContactsError, match=r"row 3, column E \(Audience \(abonnés\)\): "
                                              r"'beaucoup' is not valid"):
        forecast.read_contacts(path)
    result = CliRunner().invoke(main, ["contacts", "read", str(path)])
    assert_clean_failure(result, "bad.xlsx, row 3, column E", "beaucoup")


@pytest.mark.parametrize("name, content, fragment", [
    ("notes.txt", "just some words\nno columns here\n", "no column looks like the relation"),
    ("image.png", "\x89PNG\r\n", "not a spreadsheet forecast reads"),
    ("fake.xlsx", "name,relation\nA,ami\n", "cannot be read as an .xlsx workbook"),
    ("binary.csv", "\0\1\2\3", "not a text file"),
])
def test_a_file_that_is_not_a_contact_list_is_refused(tmp_path, name, content, fragment):
    path = tmp_path / name
    path.write_text(content, encoding="latin-1")
    result = CliRunner().invoke(main, ["contacts", "read", str(path)])
    assert_clean_failure(result, name, fragment)


def test_an_empty_list_is_refused(tmp_path):
    path = tmp_path / "empty.xlsx"
    write_template(path, "fr")
    result = CliRunner().invoke(main, ["contacts", "read", str(path)])
    assert_clean_failure(result, "empty.xlsx: lists nobody")
    result = CliRunner().invoke(main, ["contacts", "read", str(tmp_path / "none.xlsx")])
    assert_clean_failure(result, "none.xlsx: no such file")


# ----------------------------------------------------------------------------- the command

def test_read_prints_counts_and_assumptions_and_writes_a_scenario_that_runs(tmp_path):
    path = write_xlsx(tmp_path / "c.xlsx", [row_of(p) for p in PEOPLE])
    out = tmp_path / "scenario.toml"
    runner = CliRunner()
    result = runner.invoke(main, ["contacts", "read", str(path), "-o", str(out),
                                  "--goal", "6000"])
    assert result.exit_code == 0, result.output
    assert f"Read {len(PEOPLE)} people" in result.stdout
    assert "Assumed:" in result.stdout and C.PRIORS["family"].source in result.stdout
    scenario = forecast.load_scenario(out)
    assert scenario.goal == 6000 and scenario.duration_days == 45
    assert {c.name for c in scenario.circles} == {c["name"] for c in
                                                  forecast.circles_from_contacts(
                                                      forecast.read_contacts(path)).circles}
    ran = runner.invoke(main, ["run", str(out), "--sims", "2000", "--seed", "1"])
    assert ran.exit_code == 0, ran.output
    assert "Probability of reaching the goal" in ran.stdout


def test_a_new_scenario_needs_a_goal_and_nothing_is_written_without_it(tmp_path):
    path = write_xlsx(tmp_path / "c.xlsx", [row_of(p) for p in PEOPLE])
    out = tmp_path / "scenario.toml"
    result = CliRunner().invoke(main, ["contacts", "read", str(path), "-o", str(out)])
    assert_clean_failure(result, "--goal is needed")
    assert not out.exists()
    result = CliRunner().invoke(main, ["contacts", "read", str(path), "-o", str(out),
                                       "--goal", "5000", "--days", "100"])
    assert_clean_failure(result, "duration_days = 100")
    assert not out.exists()


def test_into_merges_the_circles_and_replaces_those_written_before(tmp_path):
    target = tmp_path / "lunch.toml"
    target.write_text(LUNCH_BOX.read_text(encoding="utf-8"), encoding="utf-8")
    original = forecast.load_scenario(LUNCH_BOX)
    first = write_xlsx(tmp_path / "a.xlsx", [row_of(p) for p in PEOPLE])
    second = write_xlsx(tmp_path / "b.xlsx", [row_of(p) for p in PEOPLE[:5]])
    runner = CliRunner()
    for path in (first, second):
        result = runner.invoke(main, ["contacts", "read", str(path), "--into", str(target)])
        assert result.exit_code == 0, result.output
    merged = forecast.load_scenario(target)
    made = forecast.circles_from_contacts(forecast.read_contacts(second), tiers=True,
                                          duration_days=original.duration_days)
    assert [c.name for c in merged.circles] == [c.name for c in original.circles] + [
        c["name"] for c in made.circles]
    assert merged.goal == original.goal and merged.rewards == original.rewards
    text = target.read_text(encoding="utf-8")
    assert text.count(C.BLOCK_BEGIN) == 1 and text.startswith(
        LUNCH_BOX.read_text(encoding="utf-8"))
    # circles where nobody promised take the reward tiers; in the family Ana promised,
    # and the others give the tiers' average pledge
    assert "pledge" not in circle(made, "amis")
    tiers = sum(r.share * r.amount for r in original.rewards)
    family = [p for p in PEOPLE[:5] if p[3] == "family"]
    rates = [prior(p).mean for p in family]
    amounts = [tiers if p[7] is None else p[7] for p in family]
    assert merged.circle("famille").pledge.mean == pytest.approx(
        np.dot(rates, amounts) / sum(rates), rel=1e-8)


def test_into_refuses_campaign_options_and_a_broken_block(tmp_path):
    target = tmp_path / "lunch.toml"
    target.write_text(LUNCH_BOX.read_text(encoding="utf-8") + f"\n{C.BLOCK_BEGIN}\n",
                      encoding="utf-8")
    path = write_xlsx(tmp_path / "c.xlsx", [row_of(p) for p in PEOPLE])
    runner = CliRunner()
    result = runner.invoke(main, ["contacts", "read", str(path), "--into", str(target),
                                  "--goal", "100"])
    assert_clean_failure(result, "--goal is for a new scenario")
    result = runner.invoke(main, ["contacts", "read", str(path), "--into", str(target),
                                  "--pledge", "40"])
    assert_clean_failure(result, "--pledge: the reward tiers of")
    before = target.read_text(encoding="utf-8")
    result = runner.invoke(main, ["contacts", "read", str(path), "--into", str(target)])
    assert_clean_failure(result, "lunch.toml", "should appear once each")
    assert target.read_text(encoding="utf-8") == before


# ----------------------------------------------------------------------------- shipped example

def test_the_shipped_scenario_is_what_read_makes_of_the_shipped_spreadsheet(tmp_path):
    out = tmp_path / "contacts-example.toml"
    result = CliRunner().invoke(main, [
        "contacts", "read", str(ROOT / "models" / "contacts-example.xlsx"), "-o", str(out),
        "--goal", "5000", "--days", "45"])
    assert result.exit_code == 0, result.output
    shipped = ROOT / "models" / "contacts-example.toml"
    assert out.read_text(encoding="utf-8") == shipped.read_text(encoding="utf-8")


def test_the_shipped_spreadsheet_is_the_courses_twenty_people():
    import importlib.util

    spec = importlib.util.spec_from_file_location("example", ROOT / "models" /
                                                  "contacts_example.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    frame = forecast.read_contacts(ROOT / "models" / "contacts-example.xlsx")
    assert len(frame) == len(example.PEOPLE) == 20
    assert list(frame["name"]) == [p[0] for p in example.PEOPLE]
    assert list(frame["relation"]) == [C.relation_of(p[2]) for p in example.PEOPLE]
    # the course's mix: friends, family, prospects, ambassadors, influencers, journalists
    assert {"friend", "family", "prospect", "ambassador", "influencer",
            "journalist"} <= set(frame["relation"])
    assert frame.attrs["warnings"] == []


def test_the_documented_priors_are_the_ones_used():
    """docs/contacts.md's tables give the figures the code uses, row for row."""
    text = (ROOT / "docs" / "contacts.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[1].replace(".", "").isdigit():
            rows[cells[0]] = (float(cells[1]), float(cells[2]))
    expected = {relation: (p.mean, p.sd) for relation, p in C.PRIORS.items()}
    interest = {k: (p.mean, p.sd) for k, p in C.INTEREST_PRIORS.items()}
    expected.update({"curious": interest["curious"], "said yes": interest["yes"],
                     "promised an amount": interest["promised"],
                     "reader (followers, readers)": (C.READER_PRIOR.mean,
                                                     C.READER_PRIOR.sd)})
    expected.update(C.PLATFORM_PLEDGE)
    assert rows == expected


def test_a_csv_in_no_known_encoding_is_refused_with_a_message(tmp_path):
    """0x81 is neither UTF-8 nor Windows-1252: a clear error, not an UnboundLocalError."""
    path = tmp_path / "c.csv"
    path.write_bytes(b"Nom,Relation\nAnne\x81,ami\n")
    with pytest.raises(C.ContactsError, match="UTF-8 or Windows-1252"):
        forecast.read_contacts(path)
