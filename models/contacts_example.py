"""Write models/contacts-example.xlsx: seed 001's exercise filled in, 20 people.

The course asks for 20 people of varied relations: "des amis, de la famille, des
prospects, des ambassadeurs, des influenceurs et peut-être 1 ou 2 journalistes"; here
they are the circle of the co-operative of models/la-ruche-lunch-box.toml, with a
partner grocery that promised an amount. The names are invented and the emails are
on example.org. The file is the template of `forecast contacts template` plus these
rows; the scenario built from it is models/contacts-example.toml:

    python models/contacts_example.py
    forecast contacts read models/contacts-example.xlsx -o models/contacts-example.toml \\
        --goal 5000 --days 45
"""
from pathlib import Path

from forecast.contacts_template import write_template

# Nom, Courriel, Relation, Ville, Audience (abonnés), Intérêt, Montant promis,
# Contacté, Infolettre 1, Infolettre 2, Infolettre 3, Rappels
PEOPLE = [
    ("Sophie Tremblay", "sophie.tremblay@example.org", "famille", "Montréal", None,
     "a dit oui", 100, "oui", "oui", "non", "non", 1),
    ("Marc Tremblay", "marc.tremblay@example.org", "famille", "Québec", None,
     "a dit oui", None, "oui", "oui", "non", "non", 0),
    ("Louise Gagnon", "louise.gagnon@example.org", "famille", "Sherbrooke", None,
     "curieux", None, "oui", "non", "non", "non", 0),
    ("Jean Gagnon", "jean.gagnon@example.org", "famille", "Sherbrooke", None,
     "aucun", None, "non", "non", "non", "non", 0),
    ("Camille Roy", "camille.roy@example.org", "ami", "Montréal", None,
     "a dit oui", 50, "oui", "oui", "non", "non", 1),
    ("Julien Côté", "julien.cote@example.org", "ami", "Montréal", None,
     "curieux", None, "oui", "oui", "non", "non", 2),
    ("Émilie Bouchard", "emilie.bouchard@example.org", "ami", "Laval", None,
     "aucun", None, "non", "non", "non", "non", 0),
    ("Thomas Gauthier", "thomas.gauthier@example.org", "ami", "Longueuil", None,
     "curieux", None, "oui", "non", "non", "non", 1),
    ("Nadia Morin", "nadia.morin@example.org", "collègue", "Montréal", None,
     "curieux", None, "oui", "oui", "non", "non", 0),
    ("Olivier Lavoie", "olivier.lavoie@example.org", "collègue", "Montréal", None,
     "aucun", None, "non", "non", "non", "non", 0),
    ("Isabelle Fortin", "isabelle.fortin@example.org", "prospect", "Gatineau", None,
     "aucun", None, "non", "non", "non", "non", 0),
    ("David Bélanger", "david.belanger@example.org", "prospect", "Trois-Rivières", None,
     "curieux", None, "oui", "oui", "non", "non", 0),
    ("Chloé Pelletier", "chloe.pelletier@example.org", "prospect", "Montréal", None,
     "aucun", None, "non", "non", "non", "non", 0),
    ("Maxime Girard", "maxime.girard@example.org", "ambassadeur", "Montréal", 850,
     "a dit oui", None, "oui", "oui", "non", "non", 1),
    ("Léa Caron", "lea.caron@example.org", "ambassadeur", "Québec", 1200,
     "curieux", None, "oui", "oui", "non", "non", 0),
    ("Zoé Lefebvre", "zoe.lefebvre@example.org", "influenceur", "Montréal", 15000,
     "curieux", None, "oui", "non", "non", "non", 1),
    ("Antoine Paquette", "antoine.paquette@example.org", "influenceur", "Laval", 4200,
     "aucun", None, "non", "non", "non", "non", 0),
    ("Marie-Ève Lévesque", "marie-eve.levesque@example.org", "journaliste", "Montréal",
     20000, "curieux", None, "oui", "non", "non", "non", 0),
    ("Patrick Ouellet", "patrick.ouellet@example.org", "journaliste", "Sherbrooke", 5000,
     "aucun", None, "non", "non", "non", "non", 0),
    ("Épicerie Vrac et Cie", "bonjour@vrac.example.org", "entreprise", "Montréal", None,
     "a dit oui", 1500, "oui", "oui", "non", "non", 2),
]

if __name__ == "__main__":
    path = Path(__file__).with_name("contacts-example.xlsx")
    write_template(path, "fr", rows=PEOPLE)
    print(f"Wrote {path}: {len(PEOPLE)} people")
