"""The empty contact spreadsheet of seed 001's exercise, ready to fill.

Its headers are read back by ``forecast.contacts.read_contacts``; a sheet explains each
column, and drop-downs keep the relation and the interest to the words it knows.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

__all__ = ["template_headers", "write_template"]

# The template's columns: (field, French header, English header, French explanation,
# English explanation). The headers are read back by _HEADERS.
_TEMPLATE = [
    ("name", "Nom", "Name", "Le nom de la personne.", "The person's name."),
    ("email", "Courriel", "Email", "Son adresse courriel : une personne n'est comptée "
     "qu'une fois par courriel.", "Their email address: a person is counted once per "
     "email."),
    ("relation", "Relation", "Relation", "Votre lien avec elle (liste) : il décide du "
     "cercle et du taux de conversion supposé.", "How you know them (drop-down): it "
     "decides the circle and the conversion assumed."),
    ("city", "Ville", "City", "Sa ville, pour filtrer plus tard.", "Their city, to "
     "filter on later."),
    ("audience", "Audience (abonnés)", "Audience (followers)", "Pour les ambassadeurs, "
     "influenceurs et journalistes : les abonnés ou lecteurs qui verront leur publication "
     "(chacun est compté comme voyant la campagne).", "For ambassadors, influencers and "
     "journalists: the followers or readers who will see their post or article (each is "
     "counted as seeing the campaign)."),
    ("interest", "Intérêt", "Interest", "Aucun, curieux ou a dit oui : ceux qui ont dit "
     "oui comptent plus.", "None, curious or said yes: those who said yes count more."),
    ("amount", "Montant promis", "Amount promised", "Le montant promis, s'il y en a un ; "
     "celui d'une entreprise devient un engagement.", "The amount promised, if any; a "
     "company's becomes a commitment."),
    ("contacted", "Contacté", "Contacted", "Suivi : l'avez-vous contactée ? (oui/non ou "
     "une date)", "Follow-up: have you contacted them? (yes/no or a date)"),
    ("newsletter_1", "Infolettre 1", "Newsletter 1", "Suivi : a-t-elle reçu l'infolettre "
     "1 ?", "Follow-up: did they get newsletter 1?"),
    ("newsletter_2", "Infolettre 2", "Newsletter 2", "Suivi : l'infolettre 2.",
     "Follow-up: newsletter 2."),
    ("newsletter_3", "Infolettre 3", "Newsletter 3", "Suivi : l'infolettre 3.",
     "Follow-up: newsletter 3."),
    ("reminders", "Rappels", "Reminders", "Suivi : combien de rappels lui avez-vous "
     "faits ?", "Follow-up: how many reminders have you sent them?"),
]
_RELATION_CHOICES = {
    "fr": ["famille", "ami", "collègue", "prospect", "ambassadeur", "influenceur",
           "journaliste", "entreprise"],
    "en": ["family", "friend", "colleague", "prospect", "ambassador", "influencer",
           "journalist", "company"],
}
_INTEREST_CHOICES = {"fr": ["aucun", "curieux", "a dit oui"],
                     "en": ["none", "curious", "said yes"]}
_YES_NO = {"fr": ["oui", "non"], "en": ["yes", "no"]}
_SHEETS = {"fr": ("Contacts", "Explications"), "en": ("Contacts", "Explanations")}
_INTRO = {
    "fr": ["Exercice (cours « Présence sociale ») : entrez 20 personnes, une rangée par "
           "personne, une colonne par information. Variez le lien : amis, famille, "
           "prospects, ambassadeurs, influenceurs et un ou deux journalistes.",
           "Ajoutez les colonnes utiles à votre projet (nombre d'enfants, marque de "
           "l'auto, âge...) : forecast les garde telles quelles.",
           "Puis : forecast contacts read contacts.xlsx -o scenario.toml --goal 15000"],
    "en": ["Exercise (the \"social presence\" course): enter 20 people, a row a person, a "
           "column a piece of information. Vary the relation: friends, family, prospects, "
           "ambassadors, influencers and a journalist or two.",
           "Add the columns your project needs (number of children, car brand, age...): "
           "forecast keeps them as they are.",
           "Then: forecast contacts read contacts.xlsx -o scenario.toml --goal 15000"],
}


def template_headers(lang: str) -> list[str]:
    """The template's column headers in ``lang``."""
    side = {"fr": 1, "en": 2}[lang]
    return [column[side] for column in _TEMPLATE]


def write_template(path: str | Path, lang: str = "fr",
                   rows: Iterable[Iterable[Any]] = (), size: int = 1000) -> None:
    """Write the contact spreadsheet of seed 001's exercise, ready to fill.

    Sheet one, a row a person under the headers of ``template_headers(lang)``, with
    drop-downs for the relation, the interest and the follow-up columns, and whole
    numbers checked in the audience and reminders columns, on ``size`` rows; sheet two
    explains each column. ``rows`` are written below the headers (the shipped example).
    Raises ValueError for another ``lang`` and OSError when the file cannot be written.
    """
    if lang not in _SHEETS:
        raise ValueError(f"lang = {lang!r} is not valid; expected 'fr' or 'en'")
    side = {"fr": 1, "en": 2}[lang]
    book = Workbook()
    sheet = book.active
    sheet.title = _SHEETS[lang][0]
    sheet.append(template_headers(lang))
    for values in rows:
        sheet.append(list(values))
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFE8B0")
    for c, column in enumerate(_TEMPLATE, start=1):
        cell = sheet.cell(1, c)
        cell.font, cell.fill = bold, fill
        sheet.column_dimensions[get_column_letter(c)].width = max(12, len(column[side]) + 4)
    sheet.freeze_panes = "A2"
    last = max(size, sheet.max_row) + 1

    def column_of(field: str) -> str:
        return get_column_letter([column[0] for column in _TEMPLATE].index(field) + 1)

    def choose(fields: list[str], choices: list[str], prompt: str) -> None:
        validation = DataValidation(type="list", formula1='"' + ",".join(choices) + '"',
                                    allow_blank=True, showDropDown=False)
        validation.promptTitle, validation.prompt = fields[0][:32], prompt[:255]
        validation.showInputMessage = True
        sheet.add_data_validation(validation)
        for field in fields:
            validation.add(f"{column_of(field)}2:{column_of(field)}{last}")

    explanations = {column[0]: column[side + 2] for column in _TEMPLATE}
    choose(["relation"], _RELATION_CHOICES[lang], explanations["relation"])
    choose(["interest"], _INTEREST_CHOICES[lang], explanations["interest"])
    choose(["contacted", "newsletter_1", "newsletter_2", "newsletter_3"], _YES_NO[lang],
           explanations["contacted"])
    for field, kind in (("audience", "whole"), ("reminders", "whole"), ("amount", "decimal")):
        validation = DataValidation(type=kind, operator="greaterThanOrEqual", formula1="0",
                                    allow_blank=True)
        validation.error = {"fr": "Un nombre positif ou nul.",
                            "en": "A number, zero or more."}[lang]
        validation.showErrorMessage = True
        sheet.add_data_validation(validation)
        validation.add(f"{column_of(field)}2:{column_of(field)}{last}")

    notes = book.create_sheet(_SHEETS[lang][1])
    notes.append({"fr": ["Colonne", "Ce qu'elle dit et ce que forecast en fait"],
                  "en": ["Column", "What it says and what forecast does with it"]}[lang])
    for column in _TEMPLATE:
        notes.append([column[side], column[side + 2]])
    notes.append([])
    notes.append([{"fr": "Relations", "en": "Relations"}[lang],
                  ", ".join(_RELATION_CHOICES[lang])])
    for line in _INTRO[lang]:
        notes.append(["", line])
    for cell in notes[1]:
        cell.font, cell.fill = bold, fill
    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["B"].width = 100
    for row in notes.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
    book.save(path)
