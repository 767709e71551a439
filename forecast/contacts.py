"""The course's contact spreadsheet (seed 001) read into a frame and grouped into circles.

``read_contacts`` reads an ``.xlsx`` or ``.csv`` list, a row a person, with French or
English headers, and returns a DataFrame with one row per person; ``circles_from_contacts``
groups the people into circles of influence by relation, with the conversion priors of
``PRIORS`` and ``INTEREST_PRIORS`` (docs/contacts.md gives each with its source), and
``ContactCircles.toml`` writes them as scenario TOML (``forecast.contacts_template``
makes the empty spreadsheet). Every error names the file, the row and the column.
"""
from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from .engine import flow_days
from .scenario import Dynamics

__all__ = [
    "ContactsError", "Prior", "ContactCircles", "RELATIONS", "INTERESTS", "PRIORS",
    "INTEREST_PRIORS", "READER_PRIOR", "COMMITMENT_PROBABILITY", "PLATFORM_PLEDGE",
    "read_contacts", "circles_from_contacts", "merge_block", "scenario_text", "default_pledge",
    "BLOCK_BEGIN", "BLOCK_END",
]


class ContactsError(ValueError):
    """A contact list that cannot be read, with a message naming file, row and column."""


@dataclass(frozen=True)
class Prior:
    """A conversion prior: a Beta with this mean and sd, and where the figure comes from."""

    mean: float
    sd: float
    source: str


# The relations of the template's drop-down, and what "other" collects.
RELATIONS = ("family", "friend", "colleague", "prospect", "ambassador", "influencer",
             "journalist", "company")
INTERESTS = ("none", "curious", "yes")

_ENTOURAGE = "seed 001: 1000 friends converted at 25 %; the close entourage is friends, " \
             "family and colleagues"
_COLD = "MODEL.md: email lists 5-10 % at best, 1-2 % to plan on"
# The share of the people of each relation who pledge, for someone who showed no
# interest yet (docs/contacts.md: the same table, with its reasoning).
PRIORS: dict[str, Prior] = {
    "family": Prior(0.25, 0.06, _ENTOURAGE),
    "friend": Prior(0.25, 0.06, _ENTOURAGE),
    "colleague": Prior(0.25, 0.06, _ENTOURAGE),
    "ambassador": Prior(0.25, 0.06, _ENTOURAGE + "; an ambassador is one of them who "
                        "agreed to relay"),
    "prospect": Prior(0.05, 0.03, _COLD),
    "influencer": Prior(0.05, 0.03, _COLD + "; an influencer does not know you yet"),
    "journalist": Prior(0.05, 0.03, "assumption: a journalist who has not answered covers "
                        "you as often as a cold list pledges (" + _COLD + ")"),
    "company": Prior(0.05, 0.03, _COLD),
    "other": Prior(0.05, 0.03, "a relation forecast does not know: the cold list's prior"),
}
# Interest raises a person's prior to at least these (never lowers it).
INTEREST_PRIORS: dict[str, Prior] = {
    "curious": Prior(0.15, 0.05, 'MODEL.md: "Coming soon" followers pledge at 10-20 %'),
    "yes": Prior(0.50, 0.15, "Sheeran 2002, Sheeran & Webb 2016: about half of the people "
                 "who intend to act do not (47 % of intenders)"),
    "promised": Prior(0.75, 0.12, "assumption: a named amount is a firmer yes; between a "
                      "yes (0.5) and a signed letter of intent (0.8, "
                      "models/la-ruche-lunch-box.toml)"),
}
READER_PRIOR = Prior(0.01, 0.005, "MODEL.md: about 1 % of people who see a campaign give")
# A company's promised amount becomes a commitment with this probability.
COMMITMENT_PROBABILITY = {"yes": 0.8, "no": 0.5}
# Default free amount per pledger, by platform (MODEL.md, "Average pledge"; seed 001's
# $50 for custom). The sd is the spread of Ulule's 212,875 contributions (mean 49.7,
# median 25): a lognormal with sd/mean = sqrt(exp(2 ln(49.7/25)) - 1) = 1.72.
_PLEDGE_CV = math.sqrt(math.exp(2 * math.log(49.7 / 25)) - 1)
PLATFORM_PLEDGE = {name: (mean, round(mean * _PLEDGE_CV, 1)) for name, mean in
                   {"la-ruche": 76.0, "kickstarter": 75.0, "ulule": 50.0,
                    "custom": 50.0}.items()}

BLOCK_BEGIN = "# >>> forecast contacts"
BLOCK_END = "# <<< forecast contacts"

# ----------------------------------------------------------------------------- words

# Headers, by the field they name: (French, English), written as read after _norm.
_HEADERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "name": (("nom", "nom complet", "prenom et nom", "prenom nom", "nom et prenom",
              "personne", "contact"), ("name", "full name", "person", "contact name")),
    "first_name": (("prenom",), ("first name", "firstname", "given name")),
    "last_name": (("nom de famille",), ("last name", "surname", "family name")),
    "email": (("courriel", "adresse courriel", "adresse electronique", "adresse e mail",
               "adresse email", "mel"), ("email", "e mail", "mail", "email address",
                                         "e mail address")),
    "relation": (("relation", "lien", "type de relation", "lien avec vous", "categorie", "type"),
                 ("relation", "relationship", "link", "category", "relation type")),
    "city": (("ville", "municipalite", "localite"), ("city", "town")),
    "audience": (("abonnes", "auditoire", "nombre d abonnes", "nb abonnes", "portee",
                  "lectorat", "audience abonnes", "son audience", "tirage"),
                 ("audience", "followers", "subscribers", "readers", "readership",
                  "audience followers", "reach")),
    "interest": (("interet", "niveau d interet"), ("interest", "interest level")),
    "amount": (("montant promis", "montant", "promesse", "don promis", "contribution promise"),
               ("amount promised", "promised amount", "amount", "pledge", "promised")),
    "contacted": (("contacte", "contactee", "contacte e", "deja contacte"),
                  ("contacted", "already contacted")),
    "reminders": (("rappels", "rappel", "relances", "relance", "nombre de rappels"),
                  ("reminders", "reminder", "number of reminders")),
}
_ALIASES_LONGEST_FIRST = sorted(
    ((alias, key, lang) for key, sides in _HEADERS.items()
     for lang, aliases in zip(("fr", "en"), sides) for alias in aliases),
    key=lambda item: -len(item[0]))
_NEWSLETTER = re.compile(r"^(infolettre|newsletter)(?:\s*(?:n|no|numero|number))?\s*([1-9])?"
                         r"(?:\s|$)")

# Relations as typed: a word (after _norm, a trailing plural s dropped) and its relation.
_RELATION_WORDS: dict[str, str] = {}
for _relation, _words in {
    "family": "famille family parent mere pere frere soeur cousin cousine oncle tante neveu "
              "niece fils fille conjoint conjointe epoux epouse mother father brother sister "
              "aunt uncle son daughter relative maman papa mom mum dad wife husband spouse "
              "grandmother grandfather grandma grandpa nephew grandparent",
    "friend": "ami amie friend copain copine pote chum",
    "colleague": "collegue colleague coworker collaborateur collaboratrice classmate camarade",
    "prospect": "prospect client cliente customer lead",
    "ambassador": "ambassadeur ambassadrice ambassador",
    "influencer": "influenceur influenceuse influencer blogueur blogueuse blogger youtubeur "
                  "youtubeuse youtuber createur creatrice",
    "journalist": "journaliste journalist media presse press reporter chroniqueur chroniqueuse",
    "company": "entreprise company business societe commerce partenaire partner organisme "
               "organisation organization compagnie corporation pme b2b commanditaire sponsor "
               "fournisseur supplier association obnl coop cooperative",
}.items():
    for _word in _words.split():
        _RELATION_WORDS[_word] = _relation

_INTEREST_WORDS = {
    "none": {"", "non", "no", "aucun", "aucune", "none", "pas interesse", "pas interessee",
             "not interested", "nul", "0"},
    "curious": {"curieux", "curieuse", "curious", "interesse", "interessee", "interested",
                "peut etre", "maybe", "tiede"},
    "yes": {"a dit oui", "oui", "yes", "said yes", "dit oui", "partant", "partante",
            "confirme", "confirmee", "sure"},
}
_TRUE = {"oui", "yes", "x", "o", "y", "vrai", "true", "1", "fait", "done", "envoye",
         "envoyee", "sent", "ok"}
_FALSE = {"", "non", "no", "n", "faux", "false", "0", "pas encore", "not yet", "a faire",
          "todo"}


def _norm(text: Any) -> str:
    """Lower case, no accents, letters and digits separated by single spaces."""
    text = str(text).replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^a-z0-9@.]+", " ", text).replace(".", " ").split())


def _header_key(text: str, strict: bool = False) -> tuple[str, str] | None:
    """(field, language) of a header cell, or None; newsletters give ``newsletter``.

    The whole header is matched first ("Montant promis"), then without what is in
    parentheses ("Audience (abonnés)"), then, unless ``strict``, by its first words
    ("Relation avec vous", "Abonnés Instagram", "Infolettre 1 envoyée"), the longest
    known header first.
    """
    words = _norm(text)
    candidates = [words]
    if "(" in str(text):
        candidates.append(_norm(str(text).split("(")[0]))
    for words in candidates:
        if not words:
            continue
        match = _NEWSLETTER.match(words)
        if match and (not strict or match.group(0).strip() == words):
            return "newsletter", "fr" if words.startswith("infolettre") else "en"
        for key, (french, english) in _HEADERS.items():
            if words in french:
                return key, "fr"
            if words in english:
                return key, "en"
    for alias, key, lang in [] if strict else _ALIASES_LONGEST_FIRST:
        if words.startswith(alias + " "):
            return key, lang
    return None


def relation_of(text: Any) -> str | None:
    """The relation a freely typed text names (``"Amie"`` -> friend), or None.

    The first word that names a relation decides: ``"ami de la famille"`` is a friend.
    """
    words = _norm(text).split()
    for word in ["".join(words), *words]:  # "co-worker" is a coworker
        for candidate in (word, word[:-1] if word.endswith(("s", "x")) else word):
            if candidate in _RELATION_WORDS:
                return _RELATION_WORDS[candidate]
    return None


# ----------------------------------------------------------------------------- reading

def _column_letter(index: int) -> str:
    """The spreadsheet letter of column ``index`` (0 is A)."""
    from openpyxl.utils import get_column_letter
    return get_column_letter(index + 1)


def _grid_xlsx(path: Path) -> tuple[list[list[Any]], str]:
    """The cells of the first sheet that has a relation column (merged ranges filled
    with their top-left value), and the sheet's name."""
    import openpyxl

    try:
        with warnings.catch_warnings():  # "extension not supported" and the like
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(path, data_only=True)
    except Exception as error:  # noqa: BLE001 - a broken file may fail anywhere inside
        raise ContactsError(f"{path}: cannot be read as an .xlsx workbook ({error}); save "
                            "it from your spreadsheet as .xlsx or .csv") from None
    grids = []
    for sheet in book.worksheets:
        grid = [list(row) for row in sheet.iter_rows(values_only=True)]
        for merged in sheet.merged_cells.ranges:
            value = sheet.cell(merged.min_row, merged.min_col).value
            for r in range(merged.min_row - 1, min(merged.max_row, len(grid))):
                row = grid[r]
                for c in range(merged.min_col - 1, min(merged.max_col, len(row))):
                    row[c] = value
        grids.append((grid, sheet.title))
    for grid, title in grids:
        if _find_header(grid) is not None:
            return grid, title
    return grids[0] if grids else ([], "")


def _grid_csv(path: Path) -> list[list[Any]]:
    raw = path.read_bytes()
    if b"\0" in raw[:4096]:
        raise ContactsError(f"{path}: not a text file; expected a spreadsheet saved as "
                            ".xlsx or .csv")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ContactsError(f"{path}: not readable as UTF-8 or Windows-1252 text; save the "
                            "spreadsheet as .xlsx or as a UTF-8 .csv")
    first = text.split("\n", 1)[0]
    delimiter = max(";,\t", key=first.count)
    return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _text(value: Any) -> str:
    """A cell as one line of text: line breaks and runs of spaces become one space,
    control and direction characters are dropped (scenario names refuse them)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = " ".join(str(value).split())
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))


def _label(top: str, bottom: str) -> tuple[str, str] | None:
    """The field a column names in a one- or two-row header (``top`` may be ""): the
    bottom cell's, or the two read together exactly ("Infolettre" over "2")."""
    if bottom:
        return _header_key(bottom) or (_header_key(f"{top} {bottom}", strict=True)
                                       if top else None)
    return _header_key(top) if top else None


def _find_header(grid: list[list[Any]]) -> tuple[int, int, list] | None:
    """(first header row, rows in the header, the field of each column) of the band of
    one or two rows among the first 20 that names the most fields and a relation.
    On a tie the two-row band wins (a merged group over sub-headers), then the lower
    one (a merged title or group above the header fills the row above it too)."""
    best = None
    for first in range(min(20, len(grid))):
        for height in (1, 2):
            if first + height > len(grid):
                continue
            top = grid[first] if height == 2 else []
            bottom = grid[first + height - 1]
            width = max(len(top), len(bottom))
            labels = []
            for c in range(width):
                t = _text(top[c]) if c < len(top) else ""
                b = _text(bottom[c]) if c < len(bottom) else ""
                labels.append(_label(t, b) if height == 2 else _label("", b))
            fields = [lab[0] for lab in labels if lab]
            if "relation" not in fields:
                continue
            score = (len(set(fields)) + fields.count("newsletter"), height, first)
            if best is None or score > best[0]:
                best = (score, first, height, labels)
    return None if best is None else best[1:]


def _number(value: Any) -> float | None:
    """A count or an amount as people type them (12 000, 1,5k, 2 500 $, 50,00 €), or
    None when it is not one."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if math.isfinite(value) else None
    text = unicodedata.normalize("NFKD", str(value)).lower()
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[\s']", "", text)
    text = re.sub(r"\$ca|ca\$|cad|usd|eur(?:os?)?|dollars?|\$|€|abonnes|followers|"
                  r"subscribers|lecteurs|readers", "", text)
    match = re.fullmatch(r"(\d[\d.,]*)(k|mille|millions?|m)?", text)
    if not match:
        return None
    digits, suffix = match.groups()
    if "," in digits and "." in digits:  # the last one is the decimal mark
        decimal, thousands = (",", ".") if digits.rfind(",") > digits.rfind(".") else (".", ",")
        digits = digits.replace(thousands, "").replace(decimal, ".")
    elif "," in digits:  # 1,500 is a thousand and a half; 1,5 and 50,00 are decimals
        thousands = suffix is None and re.fullmatch(r"\d{1,3}(,\d{3})+", digits)
        digits = digits.replace(",", "" if thousands else ".")
    elif digits.count(".") > 1:
        digits = digits.replace(".", "")
    try:
        number = float(digits)
    except ValueError:
        return None
    return number * (1e3 if suffix in ("k", "mille") else 1e6 if suffix else 1.0)


def _interest(text: str) -> str | None:
    words = _norm(text)
    for level, known in _INTEREST_WORDS.items():
        if words in known:
            return level
    tokens = set(words.split())
    if tokens & {"pas", "not", "non", "no"}:
        return "none"
    if tokens & {"oui", "yes"}:
        return "yes"
    if any(t.startswith(("curieu", "interess", "curious", "interest")) for t in tokens):
        return "curious"
    return None


def _done(value: Any) -> bool | None:
    """A follow-up cell: done (yes, x, a date, a count), not done, or None if unclear."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value > 0
    if hasattr(value, "year"):  # a date: done on that day
        return True
    words = _norm(value)
    if words in _TRUE:
        return True
    if words in _FALSE:
        return False
    return None


_COLUMNS = ["row", "name", "email", "relation", "relation_typed", "city", "audience",
            "interest", "amount", "contacted", "newsletter_1", "newsletter_2",
            "newsletter_3", "newsletters", "reminders"]


def read_contacts(path: str | Path) -> pd.DataFrame:
    """Read the contact spreadsheet of seed 001's exercise, a row a person.

    Parameters
    ----------
    path : str or Path
        An ``.xlsx`` workbook (the first sheet with a relation column is read; merged
        header cells and a header of two rows are understood) or a ``.csv`` file
        (comma, semicolon or tab; UTF-8 or Windows-1252). Headers may be French or
        English, with or without accents (docs/contacts.md lists them).

    Returns
    -------
    pandas.DataFrame
        One row per person: ``row`` (the spreadsheet's row number), ``name``,
        ``email`` (lower case), ``relation`` (one of ``RELATIONS`` or ``"other"``),
        ``relation_typed`` (as typed), ``city``, ``audience`` and ``amount`` (floats,
        NaN when empty), ``interest`` (``"none"``, ``"curious"`` or ``"yes"``), the
        follow-up columns ``contacted``, ``newsletter_1`` to ``newsletter_3`` (bool),
        ``newsletters`` (how many were sent) and ``reminders`` (a count), then any
        other column under its own header. ``attrs`` holds ``path``, ``sheet``,
        ``lang`` (of the headers), ``blank_rows`` and ``warnings``: one sentence per
        row handled by assumption (an unknown relation, a repeated email, ...).

    Raises
    ------
    ContactsError
        If the file is not a spreadsheet, has no relation column, lists nobody, or a
        cell cannot be read (the message names the row and the column).
    """
    path = Path(path)
    if not path.is_file():
        raise ContactsError(f"{path}: no such file")
    suffix = path.suffix.lower()
    sheet = ""
    if suffix in (".xlsx", ".xlsm"):
        grid, sheet = _grid_xlsx(path)
    elif suffix in (".csv", ".txt"):
        grid = _grid_csv(path)
    else:
        raise ContactsError(f"{path}: not a spreadsheet forecast reads; expected .xlsx or "
                            ".csv (save an .xls or .ods file as one of them)")
    found = _find_header(grid)
    if found is None:
        seen = ", ".join(repr(_text(v)) for v in (grid[0] if grid else []) if _text(v))
        raise ContactsError(
            f"{path}: no column looks like the relation (Relation, Lien, Relationship); "
            f"the first row has {seen or 'nothing'}. Start from `forecast contacts template`")
    first, height, labels = found
    header_row = grid[first + height - 1]
    notices: list[str] = []
    columns: dict[str, int] = {}
    extras: dict[str, int] = {}
    for c, label in enumerate(labels):
        heading = _text(header_row[c]) if c < len(header_row) else ""
        if label is None:
            if heading:
                extras[heading] = c
            continue
        key = label[0]
        if key == "newsletter":
            newsletter = _newsletter_number(grid, first, height, c) or next(
                k for k in range(1, 5) if k == 4 or f"newsletter_{k}" not in columns)
            key = f"newsletter_{newsletter}"
            if newsletter > 3:
                extras[heading] = c
                continue
        if key in columns:
            notices.append(f"{path}: column {_column_letter(c)} ({heading}) is read as "
                            f"{key} like column {_column_letter(columns[key])}; only the "
                            "first is used")
            continue
        columns[key] = c
    langs = [lab[1] for lab in labels if lab]
    lang = "fr" if langs.count("fr") >= langs.count("en") else "en"

    def where(r: int, key: str) -> str:
        c = columns[key]
        heading = _text(header_row[c]) if c < len(header_row) else key
        return f"{path}, row {r + 1}, column {_column_letter(c)} ({heading})"

    records: list[dict[str, Any]] = []
    blank = 0
    seen_emails: dict[str, int] = {}
    named = "name" in columns or "email" in columns or "first_name" in columns
    for r in range(first + height, len(grid)):
        cells = grid[r]

        def cell(key: str) -> Any:
            c = columns.get(key)
            return cells[c] if c is not None and c < len(cells) else None

        if not any(_text(v) for v in cells):
            blank += 1
            continue
        name = " ".join(_text(cell(k)) for k in ("first_name", "name", "last_name")
                        if _text(cell(k)))
        email = _text(cell("email")).lower()
        if named and not name and not email:
            notices.append(f"{path}, row {r + 1}: no name and no email; skipped")
            continue
        if email:
            if email in seen_emails:
                notices.append(f"{where(r, 'email')}: {email} is already on row "
                                f"{seen_emails[email] + 1}; counted once (row "
                                f"{seen_emails[email] + 1} kept)")
                continue
            seen_emails[email] = r
        typed = _text(cell("relation"))
        relation = relation_of(typed) if typed else None
        if relation is None:
            what = f"{typed!r} is not a relation forecast knows" if typed else "empty"
            notices.append(f"{where(r, 'relation')}: {what} (it knows "
                            f"{', '.join(RELATIONS)}); counted in 'other' with the cold "
                            "list's prior")
            relation = "other"
        record = {"row": r + 1, "name": name, "email": email, "relation": relation,
                  "relation_typed": typed, "city": _text(cell("city"))}
        for key, what in (("audience", "a number of followers or readers"),
                          ("amount", "an amount")):
            value = cell(key)
            if not _text(value):
                record[key] = math.nan
                continue
            number = _number(value)
            if number is None or number < 0:
                raise ContactsError(f"{where(r, key)}: {_text(value)!r} is not valid; "
                                    f"expected {what} >= 0, such as 1200 or 1,5k")
            record[key] = number
        interest_text = _text(cell("interest"))
        interest = _interest(interest_text)
        if interest is None:
            notices.append(f"{where(r, 'interest')}: {interest_text!r} is not an interest "
                            "forecast knows (none, curious, said yes); read as none")
            interest = "none"
        record["interest"] = interest
        for key in ("contacted", "newsletter_1", "newsletter_2", "newsletter_3"):
            value = cell(key)
            done = _done(value) if value is not None else False
            if done is None:
                notices.append(f"{where(r, key)}: {_text(value)!r} is read as done "
                                "(expected yes/no, x or a date)")
                done = True
            record[key] = done
        record["newsletters"] = sum(record[f"newsletter_{k}"] for k in (1, 2, 3))
        value = cell("reminders")
        count = _number(value) if _text(value) else 0.0
        if count is None and _done(value) is not None:  # "oui", "x", a date: one
            count = float(_done(value))
        if count is None or count < 0 or not count.is_integer():
            raise ContactsError(f"{where(r, 'reminders')}: {_text(value)!r} is not "
                                "valid; expected a number of reminders (0, 1, 2, ...)")
        record["reminders"] = int(count)
        for heading, c in extras.items():
            record[heading] = cells[c] if c < len(cells) else None
        records.append(record)
    if not records:
        raise ContactsError(f"{path}: lists nobody (no row with a name or an email below "
                            f"the header on row {first + height}); add a row a person")
    frame = pd.DataFrame.from_records(records)
    frame = frame[_COLUMNS + [c for c in frame.columns if c not in _COLUMNS]]
    frame.attrs.update(path=str(path), sheet=sheet, lang=lang, blank_rows=blank,
                       warnings=notices)
    return frame


def _newsletter_number(grid: list[list[Any]], first: int, height: int, c: int) -> int | None:
    """The number of the newsletter column ``c`` names ("Infolettre 2", or "2" under a
    merged "Infolettre"), or None when it names none ("Infolettre")."""
    bottom = _text(grid[first + height - 1][c]) if c < len(grid[first + height - 1]) else ""
    top = _text(grid[first][c]) if height == 2 and c < len(grid[first]) else ""
    for words in (_norm(bottom), _norm(f"{top} {bottom}")):
        match = _NEWSLETTER.match(words)
        if match and match.group(2):
            return int(match.group(2))
    return None


# ----------------------------------------------------------------------------- circles

_NAMES = {  # relation: (French circle name, English circle name)
    "family": ("famille", "family"), "friend": ("amis", "friends"),
    "colleague": ("collègues", "colleagues"), "prospect": ("prospects", "prospects"),
    "ambassador": ("ambassadeurs", "ambassadors"), "influencer": ("influenceurs", "influencers"),
    "journalist": ("médias", "media"), "company": ("entreprises", "companies"),
    "other": ("autres", "others"),
}
_AUDIENCE = {"fr": "auditoire des {}", "en": "{}' audience"}


@dataclass(frozen=True)
class ContactCircles:
    """The circles and commitments made from a contact list.

    ``circles`` and ``commitments`` are the ``[[circle]]`` and ``[[commitment]]``
    tables of a scenario (dicts, in docs/model.md's schema); ``table`` has a row per
    circle and commitment (people, rows, conversion, pledge, expected pledgers);
    ``assumptions`` and ``warnings`` are sentences to show the owner.
    """

    circles: tuple[dict[str, Any], ...]
    commitments: tuple[dict[str, Any], ...]
    table: pd.DataFrame
    assumptions: tuple[str, ...]
    warnings: tuple[str, ...]
    notes: tuple[str, ...]  # one comment per circle and commitment, for the TOML

    def toml(self, source: str = "the contact list") -> str:
        """The circles and commitments as TOML, between the lines that
        ``merge_block`` finds again (``BLOCK_BEGIN`` ... ``BLOCK_END``)."""
        source = " ".join(str(source).split())  # comments stay on one line
        lines = [f"{BLOCK_BEGIN}: made from {source} by `forecast contacts read`, which",
                 "# replaces these lines when run again; change the spreadsheet, not them.",
                 "# Conversion priors and their sources: docs/contacts.md."]
        tables = [("circle", t) for t in self.circles] + [
            ("commitment", t) for t in self.commitments]
        for (kind, table), note in zip(tables, self.notes):
            lines += ["", f"# {' '.join(note.split())}", f"[[{kind}]]"]
            lines += [f"{key} = {_toml_value(value)}" for key, value in table.items()]
        lines.append(BLOCK_END)
        return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = f"{float(value):.10g}"
    return text if any(ch in text for ch in ".e") else text + ".0"


def _toml_string(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)  # JSON's escapes are TOML's


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def _person_prior(relation: str, interest: str, promised: bool,
                  priors: dict[str, Prior]) -> Prior:
    """The highest of the relation's prior and what the interest or a promise gives."""
    candidates = [priors[relation]]
    if interest in ("curious", "yes"):
        candidates.append(INTEREST_PRIORS[interest])
    if promised:
        candidates.append(INTEREST_PRIORS["promised"])
    return max(candidates, key=lambda prior: prior.mean)


def _rows(rows: Iterable[int]) -> str:
    rows = list(rows)
    return ", ".join(str(r) for r in rows[:12]) + (f" and {len(rows) - 12} more"
                                                    if len(rows) > 12 else "")


def _pledge(weights: list[float], amounts: list[float], default: tuple[float, float]
            ) -> dict[str, float]:
    """Mean and sd of one pledger's amount: person i pledges with weight ``weights[i]``
    its promised amount (NaN: the default lognormal's mean and sd)."""
    mean_default, sd_default = default
    total = sum(weights)
    first = sum(w * (mean_default if math.isnan(a) else a)
                for w, a in zip(weights, amounts)) / total
    second = sum(w * (mean_default**2 + sd_default**2 if math.isnan(a) else a**2)
                 for w, a in zip(weights, amounts)) / total
    return {"mean": first, "sd": math.sqrt(max(second - first**2, 0.0))}


def circles_from_contacts(frame: pd.DataFrame, *, duration_days: int = 45,
                          pledge: tuple[float, float] = PLATFORM_PLEDGE["la-ruche"],
                          tiers: bool = False, lang: str | None = None,
                          priors: dict[str, Prior] | None = None) -> ContactCircles:
    """Group the people of ``read_contacts`` into circles of influence by relation.

    - family, friends, colleagues, prospects, companies without a promised amount and
      other relations: a stock circle each, ``size`` the number of people and
      ``conversion = {mean, sd}`` the mean of the people's priors (their sd averaged
      too: the people of a circle are keen or not together). A person's prior is the
      relation's (``PRIORS``), raised to ``INTEREST_PRIORS`` for the curious, those
      who said yes and those who promised an amount;
    - ambassadors and influencers: a stock circle of them, and a source circle of
      their audience reached through those who pledge, ``reach_per_pledger`` the
      audience of a pledger (Σ p_i A_i / Σ p_i) and ``READER_PRIOR`` its conversion;
    - journalists: a flow circle ``médias``/``media``, ``daily_reach`` their readers
      (Σ A_j) over ``engine.flow_days`` of the campaign's days (all of them reached
      with the default fading), converting with P(article) × ``READER_PRIOR``
      (the product's mean and sd, P(article) the journalists' prior weighted by
      readers);
    - companies with a promised amount: a ``[[commitment]]`` each on launch day, with
      ``COMMITMENT_PROBABILITY`` (0.8 if they said yes, else 0.5).

    Parameters
    ----------
    frame : pandas.DataFrame
        From ``read_contacts`` (at least ``relation``; ``interest``, ``amount``,
        ``audience``, ``name`` and ``row`` are used when present).
    duration_days : int
        The campaign's length, over which a journalist's readers are spread.
    pledge : (mean, sd)
        The free amount of a pledger who promised nothing (``PLATFORM_PLEDGE``); a
        promised amount is that person's amount. Circles get ``pledge = {mean, sd}``,
        the moments of a pledger's amount weighted by each person's prior.
    tiers : bool
        The scenario has reward tiers: a circle where nobody promised an amount gets
        no ``pledge`` and takes the tiers (``pledge`` is then the tiers' mean and sd).
    lang : {"fr", "en"}, optional
        Language of the circles' names [default: the headers' language].
    priors : dict, optional
        Priors by relation instead of ``PRIORS`` (the missing ones from ``PRIORS``).
    """
    if "relation" not in frame.columns:
        raise ValueError("frame: no 'relation' column; read it with read_contacts")
    if not (isinstance(duration_days, int) and duration_days >= 1):
        raise ValueError(f"duration_days = {duration_days!r} is not valid; expected a "
                         "whole number of days >= 1")
    if not (len(pledge) == 2 and pledge[0] > 0 and pledge[1] >= 0):
        raise ValueError(f"pledge = {pledge!r} is not valid; expected (mean > 0, sd >= 0)")
    lang = lang or frame.attrs.get("lang", "en")
    if lang not in ("fr", "en"):
        raise ValueError(f"lang = {lang!r} is not valid; expected 'fr' or 'en'")
    priors = {**PRIORS, **(priors or {})}
    unknown = sorted(set(frame["relation"]) - set(priors))
    if unknown:
        raise ValueError(f"frame: relation {unknown[0]!r} is not valid; expected one of "
                         f"{', '.join(priors)}")
    people = frame.assign(
        interest=frame["interest"] if "interest" in frame else "none",
        amount=frame["amount"] if "amount" in frame else math.nan,
        audience=frame["audience"] if "audience" in frame else math.nan,
        row=frame["row"] if "row" in frame else range(1, len(frame) + 1),
        name=frame["name"] if "name" in frame else "")
    side = 0 if lang == "fr" else 1
    circles, commitments, notes, table, notices = [], [], [], [], []
    used: dict[str, tuple[Prior, set[str]]] = {}  # source: (prior, who gets it)

    def prior_of(person: Any) -> Prior:
        promised = not _missing(person.amount)
        prior = _person_prior(person.relation, person.interest, promised, priors)
        label = (person.relation if prior is priors[person.relation] else
                 "promised an amount" if prior is INTEREST_PRIORS["promised"] else
                 {"yes": "said yes", "curious": "curious"}[person.interest])
        used.setdefault(prior.source, (prior, set()))[1].add(label)
        return prior

    def who(person: Any) -> str:
        return f"row {person.row}" + (f" ({person.name})" if person.name else "")

    def add(table_row: dict[str, Any], circle: dict[str, Any], note: str) -> None:
        circles.append(circle)
        notes.append(note)
        table.append(table_row)

    for relation in [*RELATIONS, "other"]:
        group = [p for p in people.itertuples(index=False) if p.relation == relation]
        if relation == "company":
            for person in [p for p in group if not _missing(p.amount)]:
                probability = COMMITMENT_PROBABILITY["yes" if person.interest == "yes"
                                                     else "no"]
                name = person.name or f"row {person.row}"
                if any(c["name"] == name for c in commitments):
                    name = f"{name} (row {person.row})"
                commitments.append({"name": name, "amount": float(person.amount),
                                    "probability": probability, "day": 0})
                notes.append(f"{who(person)}: a company's promised amount, on launch day, "
                             f"with probability {probability:g} ("
                             f"{'said yes' if person.interest == 'yes' else 'no yes yet'})")
                table.append({"circle": name, "kind": "commitment", "relation": relation,
                              "people": 1, "rows": str(person.row),
                              "expected_pledgers": probability,
                              "expected_amount": probability * person.amount})
            group = [p for p in group if _missing(p.amount)]
        if not group:
            continue
        name = _NAMES[relation][side]
        rows = _rows(p.row for p in group)
        if relation == "journalist":
            read = [p for p in group if not _missing(p.audience) and p.audience > 0]
            for person in group:
                if not any(person.row == p.row for p in read):
                    notices.append(f"{who(person)}: a journalist with no audience; their "
                                    "readers are not counted (fill the audience column)")
            if not read:
                continue
            readers = sum(p.audience for p in read)
            chances = [prior_of(p) for p in read]
            c = sum(q.mean * p.audience for q, p in zip(chances, read)) / readers
            cs = sum(q.sd * p.audience for q, p in zip(chances, read)) / readers
            r, rs = READER_PRIOR.mean, READER_PRIOR.sd
            mean = c * r
            sd = math.sqrt((cs**2 + c**2) * (rs**2 + r**2) - mean**2)
            # Spread so that the campaign reaches all of them, its novelty fading at
            # the default rate (docs/model.md, "Duration").
            days = flow_days(Dynamics.fade_per_day, duration_days)
            circle = {"name": name, "daily_reach": readers / days,
                      "conversion": {"mean": mean, "sd": sd}}
            if not tiers:
                circle["pledge"] = {"mean": pledge[0], "sd": pledge[1]}
            add({"circle": name, "kind": "flow", "relation": relation, "people": len(group),
                 "rows": rows, "reach": readers, "conversion_mean": mean,
                 "conversion_sd": sd, "expected_pledgers": readers * mean,
                 "expected_amount": readers * mean * pledge[0]}, circle,
                f"{len(group)} journalists (rows {rows}): {readers:,.0f} readers over "
                f"{duration_days} days; P(article) {c:.0%} x {r:.0%} of readers give")
            continue
        chances = [prior_of(p) for p in group]
        mean = sum(q.mean for q in chances) / len(group)
        sd = sum(q.sd for q in chances) / len(group)
        amounts = [math.nan if _missing(p.amount) else float(p.amount)
                   for p in group]
        circle = {"name": name, "size": len(group),
                  "conversion": {"mean": mean, "sd": sd}}
        money = _pledge([q.mean for q in chances], amounts, pledge)
        if not tiers or not all(math.isnan(a) for a in amounts):
            circle["pledge"] = money
        promised = sum(not math.isnan(a) for a in amounts)
        add({"circle": name, "kind": "stock", "relation": relation, "people": len(group),
             "rows": rows, "size": len(group), "conversion_mean": mean,
             "conversion_sd": sd, "pledge_mean": money["mean"], "pledge_sd": money["sd"],
             "expected_pledgers": mean * len(group),
             "expected_amount": mean * len(group) * money["mean"]}, circle,
            f"{len(group)} people of relation {relation} (rows {rows}): conversion the mean "
            "of their priors"
            + (f"; {promised} promised an amount" if promised else ""))
        if relation not in ("ambassador", "influencer"):
            for person in group:
                if not _missing(person.audience):
                    notices.append(f"{who(person)}: the audience of a {relation} is not "
                                    "counted (only ambassadors', influencers' and "
                                    "journalists' are)")
        else:
            for person in group:
                if _missing(person.audience):
                    notices.append(f"{who(person)}: a{'n' if relation[0] == 'a' else ''} "
                                    f"{relation} with no audience; their followers are not "
                                    "counted (fill the audience column)")
            weights = [q.mean for q in chances]
            reach = sum(w * (0.0 if _missing(p.audience) else p.audience)
                        for w, p in zip(weights, group)) / sum(weights)
            if reach <= 0:
                continue
            audience = _AUDIENCE[lang].format(name)
            source = {"name": audience, "source": name, "reach_per_pledger": reach,
                      "conversion": {"mean": READER_PRIOR.mean, "sd": READER_PRIOR.sd}}
            if not tiers:
                source["pledge"] = {"mean": pledge[0], "sd": pledge[1]}
            expected = mean * len(group) * reach * READER_PRIOR.mean
            add({"circle": audience, "kind": "source", "relation": relation,
                 "people": len(group), "rows": rows, "reach": reach,
                 "conversion_mean": READER_PRIOR.mean, "conversion_sd": READER_PRIOR.sd,
                 "expected_pledgers": expected, "expected_amount": expected * pledge[0]},
                source, f"the followers of the {relation}s who pledge: {reach:,.0f} per "
                        f"pledger (their audiences weighted by their priors)")
    order = [*priors, "curious", "said yes", "promised an amount"]
    assumptions = [f"{', '.join(sorted(labels, key=order.index))}: {q.mean:.0%} ± "
                   f"{q.sd:.0%} ({q.source})"
                   for q, labels in sorted(used.values(), key=lambda u: -u[0].mean)]
    if any(row["kind"] in ("source", "flow") for row in table):
        assumptions.append(f"followers and readers: {READER_PRIOR.mean:.0%} ± "
                           f"{READER_PRIOR.sd:.1%} give ({READER_PRIOR.source}); every one "
                           "of them is counted as seeing the post or the article")
    if tiers:
        assumptions.append("circles where nobody promised an amount take the scenario's "
                           "reward tiers; promised amounts count as given")
    else:
        assumptions.append(f"a pledger who promised nothing gives {pledge[0]:g} on average "
                           f"(sd {pledge[1]:g}); promised amounts count as given")
    if commitments:
        assumptions.append("a company's promised amount is a commitment on launch day, "
                           f"with probability {COMMITMENT_PROBABILITY['yes']:g} if it said "
                           f"yes, else {COMMITMENT_PROBABILITY['no']:g}")
    return ContactCircles(tuple(circles), tuple(commitments), pd.DataFrame(table),
                          tuple(assumptions), tuple(notices), tuple(notes))


def default_pledge(platform: str, mean: float | None = None,
                   rewards: Iterable[Any] = ()) -> tuple[float, float]:
    """(mean, sd) of the amount of a pledger who promised nothing: the reward tiers'
    (Σ share × amount and its sd) when ``rewards`` are given, else a pledge of ``mean``
    or of ``PLATFORM_PLEDGE[platform]``'s mean, with sd = 1.72 × mean (Ulule's spread)."""
    rewards = list(rewards)
    if rewards:
        average = sum(r.share * r.amount for r in rewards)
        spread = sum(r.share * r.amount**2 for r in rewards) - average**2
        return average, math.sqrt(max(spread, 0.0))
    if mean is None:
        return PLATFORM_PLEDGE[platform]
    return float(mean), round(mean * _PLEDGE_CV, 1)


def scenario_text(made: ContactCircles, *, goal: float, duration_days: int = 45,
                  platform: str = "la-ruche", name: str = "contacts",
                  source: str = "the contact list") -> str:
    """A whole scenario (TOML) of the circles ``made`` and a ``[campaign]`` table."""
    lines = [f"# The circles of {source}, made by `forecast contacts read`; every key is "
             "explained in docs/model.md.", "",
             "[campaign]", f"name = {_toml_string(name)}", f"goal = {_toml_value(goal)}",
             f"duration_days = {duration_days}", f"platform = {_toml_string(platform)}", "",
             ""]
    return "\n".join(lines) + made.toml(source)


def merge_block(text: str, block: str, where: str = "<scenario>") -> str:
    """``text`` with the block written before (``BLOCK_BEGIN`` to ``BLOCK_END``)
    replaced by ``block``, or ``block`` appended when there is none."""
    lines = text.splitlines(keepends=True)
    begins = [i for i, line in enumerate(lines) if line.startswith(BLOCK_BEGIN)]
    ends = [i for i, line in enumerate(lines) if line.startswith(BLOCK_END)]
    if not begins and not ends:
        return text + ("" if text.endswith("\n") or not text else "\n") + "\n" + block
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise ContactsError(
            f"{where}: the lines {BLOCK_BEGIN!r} and {BLOCK_END!r} that mark the circles "
            "written from contacts should appear once each, in that order; restore them "
            "or delete the block")
    return "".join(lines[:begins[0]]) + block + "".join(lines[ends[0] + 1:])

