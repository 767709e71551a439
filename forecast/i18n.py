"""The words and number formats of the report, in English and in French (Québec).

One table, ``TEXT``, holds every string a report page shows; both languages have
the same keys (tests/test_report.py checks it). ``Labels`` picks a language and
formats numbers the way its readers write them:

==========  ============  =============
            en            fr (Québec)
==========  ============  =============
money       $25,000       25 000 $
percent     77.3%         77,3 %
days        45 days       45 jours
==========  ============  =============

French thousands are separated by a plain ASCII space (not a no-break space), so
that text extracted from the PDF reads "25 000 $".
"""
from __future__ import annotations

import math
from typing import Any

__all__ = ["TEXT", "LANGUAGES", "PLATFORM_NAMES", "Labels", "default_language"]

LANGUAGES = ("en", "fr")
#: Each preset platform's name as it writes it.
PLATFORM_NAMES = {"la-ruche": "La Ruche", "kickstarter": "Kickstarter", "ulule": "Ulule"}

TEXT: dict[str, dict[str, str]] = {
    "en": {
        # every page
        "report_title": "Campaign forecast: {name}",
        "report_subject": "Probability of reaching the goal, where the money comes from, "
                          "and what matters most",
        "footer": "{name} · goal {goal} in {days} · {sims} simulated campaigns · "
                  "seed {seed} · page {page} of {pages}",
        "days": "{n} days",
        "days_one": "{n} day",
        "day": "day {n}",
        # (a) summary
        "summary_title": "Summary",
        "summary_lead": "Goal {goal} in {days} on {platform}. Is the goal realistic, where "
                        "will the money come from, what happens if the launch is weak?",
        "probability_heading": "Probability of reaching the goal",
        "probability_interval": "95% interval: {low} to {high}, from {sims} simulated "
                                "campaigns",
        "recommended_heading": "Recommended goal",
        "recommended_need": "{p} of the simulated campaigns of {days} reach it. It is the "
                            "smallest round goal that covers the need of {need}: reaching "
                            "exactly {goal} leaves {net} after fees and reward costs. A "
                            "lower goal could succeed without the money to deliver the "
                            "rewards; a higher one only lowers the odds.",
        "recommended_target": "The largest goal reached in at least {target} of the simulated "
                              "campaigns of {days} ({p}). The scenario gives no need: with "
                              "one, the report gives the goal that covers it.",
        "recommended_none": "No goal from {low} up is reached in {target} of the simulated "
                            "campaigns of {days}; the plan's goal is shown.",
        "recommended_short": "Its odds are below the {target} target: the answer is to raise "
                             "them, not to lower the goal. The page “{page}” says what each "
                             "lever would need.",
        "recommended_above": "With {target} odds the campaign reaches up to {goal}.",
        "receive_heading": "What the owner receives if the goal is reached",
        "contents_heading": "In this report",
        "the_circle": "the circle “{name}”",
        "the_commitment": "the commitment “{name}”",
        "receive_column": "average of the successful campaigns",
        "gross": "Pledges collected (gross)",
        "fees": "Platform and payment fees",
        "reward_costs": "Cost of the rewards (making and shipping)",
        "net": "Net received",
        "missed_line": "If the goal is missed the owner receives nothing and owes no "
                       "reward (all-or-nothing). Expected amount over all campaigns: "
                       "{payout}.",
        "need_line": "Probability of covering the need of {need}: {p}.",
        "facts_heading": "Three facts that matter most",
        "fact_sensitivity": "{input} matters most: between its low value ({low_value}) and "
                            "its high value ({high_value}), the probability of reaching "
                            "{goal} goes from {low} to {high}.",
        "fact_launch": "The launch decides. Half of the goal is in by {day} (median). When "
                       "the first {n} days bring less than {amount} (the weakest quarter of "
                       "launches), the probability of success falls to {p}, against {all} "
                       "overall.",
        "fact_circle": "{circle} brings {share} of the money: {amount} on average, from "
                       "{pledgers} pledgers.",
        # (b) day by day
        "daily_title": "The campaign day by day",
        "daily_note": "Top: money pledged so far. The line is the median campaign; the band "
                      "holds 80% of the simulated campaigns (10% to 90%). The points are "
                      "the milestones. Bottom: money pledged each day, by circle: the launch "
                      "spike, the plateau, the final surge.",
        "axis_day": "Day of the campaign (0 = launch day)",
        "axis_cumulative": "Pledged so far",
        "axis_daily": "Pledged that day (average)",
        "median_campaign": "Median campaign",
        "band_10_90": "10% to 90% of campaigns",
        "goal_line": "Goal ({goal})",
        "milestone_label": "{pct} of goal by {day} (median of the {p} of campaigns that "
                           "get there)",
        "milestone_goal": "Goal reached by {day} (median of the {p} of campaigns that "
                          "succeed)",
        "milestone_legend": "Milestone: the median day, among the campaigns that get there",
        "commitments": "Pre-campaign commitments",
        # (c) probability against the goal
        "curves_title": "Probability against the goal",
        "curves_note": "Each curve is a campaign duration; its shaded band is the 95% "
                       "interval of the simulation. Read across from the target to find the "
                       "largest goal that is still reached often enough.",
        "axis_goal": "Goal",
        "axis_probability": "Probability of reaching the goal",
        "planned": "{days} (planned)",
        "target_line": "Target: {p} chance",
        "recommended_mark": "Recommended goal: {goal}",
        "current_goal": "Goal in the plan: {goal}",
        # (d) heatmap
        "heatmap_title": "Goals and durations",
        "heatmap_note": "Each cell is the probability of reaching a goal (across) in a "
                        "duration (down). The lines join the cells at 50%, 80% and 95%. "
                        "The framed cell is the plan.",
        "axis_duration": "Duration of the campaign",
        "contour_level": "{p} line",
        # (e) money
        "money_title": "Where the money comes from",
        "money_note": "Circles and reward tiers: averages over all simulated campaigns. "
                      "Budget: only the campaigns that reach the goal, the only ones paid "
                      "(all-or-nothing). Closing the gap: near the deadline, a campaign "
                      "within reach of its goal often completes it, as real ones do.",
        "circles_heading": "Circles of influence and commitments",
        "tiers_heading": "Reward tiers",
        "budget_heading": "Budget",
        "col_pledgers": "Pledgers",
        "col_amount": "Amount",
        "col_tier": "Reward",
        "col_price": "Pledge",
        "col_chosen": "Chosen by",
        "col_unit_cost": "Unit cost",
        "col_cost": "Reward cost",
        "tiers_total": "All tiers",
        "axis_amount": "Average amount pledged",
        "circle_bar": "{amount} · {share} · {pledgers} pledgers",
        "commitment_bar": "{amount} · {share} · happens with probability {p}",
        "completion_bar": "{amount} · {share} · the gap closed near the deadline",
        "completion_name": "Closing the gap",
        "col_mean_success": "Average success",
        "col_weak_success": "Weak success",
        "col_strong_success": "Strong success",
        "backers": "Pledgers",
        "budget_note": "A weak and a strong success are the simulated successful campaigns "
                       "at the 10th and 90th percentiles of the total; the average success "
                       "is the mean of them all.",
        "in_size": "{circle}: people reached",
        "in_daily_reach": "{circle}: people reached a day",
        "in_budget": "{circle}: advertising budget",
        "in_reach_per_pledger": "{circle}: people each pledger reaches",
        "in_conversion": "{circle}: conversion",
        "in_pledge_mean": "{circle}: average pledge",
        "in_average_pledge": "Average pledge (all reward tiers)",
        "in_launch_share": "Share of pledges in the launch spike",
        "in_final_share": "Share of pledges in the final surge",
        "in_commitment": "{name}: commits or not",
        "declines": "declines",
        "commits": "commits",
        # (f) sensitivity
        # what it would take
        "levers_title": "What would it take",
        "levers_note": "To reach {target} at {goal} in {days}, today {p}: the value each "
                       "lever would need, alone, the others as planned ({sims} simulated "
                       "campaigns per try, the same seed for every try). Plausible: at most "
                       "+25% (conversion: every uncertain rate within the owner's own 95% "
                       "range); a stretch: up to double; unlikely: more; out of reach: not "
                       "even ×{largest}.",
        "col_lever": "Lever",
        "col_now": "In the plan",
        "col_needed": "Needed",
        "col_p_needed": "Probability then",
        "col_plausibility": "Plausible?",
        "plaus_reached": "already there",
        "plaus_plausible": "plausible",
        "plaus_stretch": "a stretch",
        "plaus_unlikely": "unlikely",
        "plaus_out of reach": "out of reach",
        "lever_size": "{circle}: people reached (size)",
        "lever_reach_per_pledger": "{circle}: people each pledger reaches",
        "lever_budget": "{circle}: ad budget",
        "lever_daily_reach": "{circle}: people reached a day",
        "lever_conversion": "Conversion of every circle (factor)",
        "tornado_title": "What matters most",
        "tornado_note": "Each input is moved from its low to its high value, the others kept "
                        "as planned; the bar shows how far the probability of reaching the "
                        "goal moves, and each end is labelled with its value. Ranges: "
                        "±{relative} for what the owner sets (sizes, reaches, ad budget, "
                        "reward prices, timing shares, a sure rate); the 5% and 95% "
                        "quantiles of each uncertain conversion rate; a commitment declined "
                        "or made. Fees are left out: they never change success. "
                        "Probabilities of reaching {goal} in {days}; each bar's Monte Carlo "
                        "standard error is at most {se} points (both ends run on the same "
                        "simulated campaigns).",
        "tornado_low": "Input at its low value",
        "tornado_high": "Input at its high value",
        "tornado_base": "As planned: {p}",
        # (g) assumptions
        "assumptions_title": "Assumptions",
        "assumptions_continued": "Assumptions (continued)",
        "assumptions_note": "Every input of the scenario file, with its uncertainty, and "
                            "each part of the scenario with the description its author "
                            "wrote for this report. A dash: the value is taken as known.",
        "col_input": "Input",
        "col_value": "Value",
        "col_uncertainty": "Uncertainty",
        "col_note": "Description",
        "platform_custom": "a platform of its own",
        "beta": "mean {mean}, sd {sd}; 90% between {low} and {high}",
        "uniform": "anywhere from {low} to {high}",
        "chance": "happens with probability {p}",
        "default": "(default)",
        "preset": "(preset of {platform})",
        "reproduce_heading": "Reproduce these figures",
        "seed": "Seed",
        "sims": "Simulated campaigns",
        "version": "forecast version",
        "date": "Date",
        "file": "Scenario file",
        "sha256": "SHA-256 of the scenario file",
        "command": "Command",
        "goals_tried": "Goals tried",
        "durations_tried": "Durations tried",
        "section_campaign": "Campaign",
        "section_fees": "Fees",
        "section_timing": "Timing of pledges (U-curve)",
        "section_dynamics": "Dynamics",
        "section_reward": "Reward «{name}»",
        "section_circle": "Circle «{name}»",
        "section_commitment": "Commitment «{name}»",
        "times": "× {x}",
        "of_goal": "{p} of goal",
        "per_day": "{n} a day",
        "pledge_free": "mean {mean}, sd {sd}",
        "key_name": "Name",
        "key_goal": "Goal",
        "key_duration_days": "Duration",
        "key_platform": "Platform",
        "key_need": "Need (net amount the project must receive)",
        "key_currency": "Currency",
        "key_launch_share": "Share of pledges in the launch spike",
        "key_launch_days": "Length of the launch spike",
        "key_final_share": "Share of pledges in the final surge",
        "key_final_days": "Length of the final surge",
        "key_post_goal_factor": "Pledging once the goal is reached",
        "key_appeal_sd": "Spread of the project's appeal (log scale)",
        "key_surge_half_progress": "Progress at which the final surge is half strength",
        "key_surge_steepness": "Steepness of the final surge's rise",
        "key_completion_half_progress": "Progress at which half the campaigns close "
                                        "their gap near the deadline",
        "key_completion_steepness": "Steepness of the rise of the gap closing",
        "key_reach_days": "Time needed to reach one's own people",
        "key_fade_per_day": "Fading of intent and novelty per day",
        "key_platform_rate": "Platform commission",
        "key_payment_rate": "Payment fees",
        "key_per_pledge": "Fee per pledge",
        "key_amount": "Amount",
        "key_share": "Share of pledgers",
        "key_unit_cost": "Unit cost (making and shipping)",
        "key_size": "People in the circle",
        "key_conversion": "Conversion (share who pledge)",
        "key_pledge": "Pledge amount",
        "key_source": "Reached through",
        "key_reach_per_pledger": "People each pledger reaches",
        "key_lag_days": "Delay after the friend's pledge",
        "key_daily_reach": "People reached each day",
        "key_budget": "Advertising budget",
        "key_cost_per_click": "Cost per click",
        "key_start_day": "First day",
        "key_end_day": "Last day",
        "key_featured_at": "Featured by the platform once",
        "key_featured_boost": "Visitors once featured",
        "key_probability": "Probability it happens",
        "key_day": "Day of the pledge",
        "key_commitment_cost": "Cost of the rewards it is owed",
    },
    "fr": {
        "report_title": "Prévision de campagne : {name}",
        "report_subject": "Probabilité d'atteindre l'objectif, provenance de l'argent et "
                          "facteurs décisifs",
        "footer": "{name} · objectif {goal} en {days} · {sims} campagnes simulées · "
                  "graine {seed} · page {page} de {pages}",
        "days": "{n} jours",
        "days_one": "{n} jour",
        "day": "jour {n}",
        "summary_title": "Sommaire",
        "summary_lead": "Objectif {goal} en {days} sur {platform}. L'objectif est-il "
                        "réaliste, d'où viendra l'argent, que se passe-t-il si le lancement "
                        "est faible?",
        "probability_heading": "Probabilité d'atteindre l'objectif",
        "probability_interval": "Intervalle à 95 % : de {low} à {high}, sur {sims} campagnes "
                                "simulées",
        "recommended_heading": "Objectif recommandé",
        "recommended_need": "{p} des campagnes simulées de {days} l'atteignent. C'est le "
                            "plus petit objectif rond qui couvre le besoin de {need} : "
                            "atteindre tout juste {goal} laisse {net} après frais et coût "
                            "des contreparties. Un objectif plus bas pourrait réussir sans "
                            "l'argent pour livrer les contreparties ; un plus haut ne fait "
                            "que baisser les chances.",
        "recommended_target": "Le plus grand objectif atteint par au moins {target} des "
                              "campagnes simulées de {days} ({p}). Le scénario ne donne pas "
                              "de besoin : avec un besoin, le rapport donne l'objectif qui "
                              "le couvre.",
        "recommended_none": "Aucun objectif à partir de {low} n'est atteint par {target} des "
                            "campagnes simulées de {days} ; l'objectif du plan est montré.",
        "recommended_short": "Ses chances sont sous la cible de {target} : la réponse est de "
                             "les augmenter, pas de baisser l'objectif. La page « {page} » "
                             "dit ce qu'il faudrait à chaque levier.",
        "recommended_above": "Avec {target} de chances, la campagne atteint jusqu'à {goal}.",
        "receive_heading": "Ce que reçoit le porteur si l'objectif est atteint",
        "contents_heading": "Dans ce rapport",
        "the_circle": "le cercle « {name} »",
        "the_commitment": "l'engagement « {name} »",
        "receive_column": "moyenne des campagnes réussies",
        "gross": "Contributions recueillies (brut)",
        "fees": "Frais de plateforme et de paiement",
        "reward_costs": "Coût des contreparties (fabrication et envoi)",
        "net": "Montant net reçu",
        "missed_line": "Si l'objectif n'est pas atteint, le porteur ne reçoit rien et ne doit "
                       "aucune contrepartie (tout ou rien). Montant espéré sur l'ensemble "
                       "des campagnes : {payout}.",
        "need_line": "Probabilité de couvrir le besoin de {need} : {p}.",
        "facts_heading": "Les trois faits qui comptent le plus",
        "fact_sensitivity": "{input} compte le plus : entre sa valeur basse ({low_value}) et "
                            "sa valeur haute ({high_value}), la probabilité d'atteindre "
                            "{goal} passe de {low} à {high}.",
        "fact_launch": "Le lancement est décisif. La moitié de l'objectif est atteinte au "
                       "{day} (médiane). Quand les {n} premiers jours rapportent moins de "
                       "{amount} (le quart des lancements les plus faibles), la probabilité "
                       "de réussite tombe à {p}, contre {all} en tout.",
        "fact_circle": "{circle} apporte {share} de l'argent : {amount} en moyenne, de "
                       "{pledgers} contributeurs.",
        "daily_title": "La campagne jour après jour",
        "daily_note": "En haut : les contributions cumulées. La ligne est la campagne "
                      "médiane; la bande contient 80 % des campagnes simulées (de 10 % à "
                      "90 %). Les points sont les paliers. En bas : les contributions de "
                      "chaque jour, par cercle : le pic du lancement, le plateau, le sprint "
                      "final.",
        "axis_day": "Jour de la campagne (0 = jour du lancement)",
        "axis_cumulative": "Contributions cumulées",
        "axis_daily": "Contributions du jour (moyenne)",
        "median_campaign": "Campagne médiane",
        "band_10_90": "De 10 % à 90 % des campagnes",
        "goal_line": "Objectif ({goal})",
        "milestone_label": "{pct} de l'objectif au {day} (médiane des {p} de campagnes qui "
                           "y arrivent)",
        "milestone_goal": "Objectif atteint au {day} (médiane des {p} de campagnes qui "
                          "réussissent)",
        "milestone_legend": "Palier : le jour médian, parmi les campagnes qui y arrivent",
        "commitments": "Engagements de précampagne",
        "curves_title": "Probabilité selon l'objectif",
        "curves_note": "Chaque courbe est une durée de campagne; sa bande ombrée est "
                       "l'intervalle à 95 % de la simulation. Suivez la cible à "
                       "l'horizontale pour trouver le plus grand objectif encore atteint "
                       "assez souvent.",
        "axis_goal": "Objectif",
        "axis_probability": "Probabilité d'atteindre l'objectif",
        "planned": "{days} (prévu)",
        "target_line": "Cible : {p} de chances",
        "recommended_mark": "Objectif recommandé : {goal}",
        "current_goal": "Objectif prévu : {goal}",
        "heatmap_title": "Objectifs et durées",
        "heatmap_note": "Chaque case donne la probabilité d'atteindre un objectif (à "
                        "l'horizontale) en une durée (à la verticale). Les lignes relient les "
                        "cases à 50 %, 80 % et 95 %. La case encadrée est le plan.",
        "axis_duration": "Durée de la campagne",
        "contour_level": "ligne des {p}",
        "money_title": "D'où vient l'argent",
        "money_note": "Cercles et paliers : moyennes sur l'ensemble des campagnes simulées. "
                      "Budget : seulement les campagnes qui atteignent l'objectif, les "
                      "seules à être versées (tout ou rien). Combler l'écart : à l'approche "
                      "de la fin, une campagne proche de son objectif le complète souvent, "
                      "comme les vraies.",
        "circles_heading": "Cercles d'influence et engagements",
        "tiers_heading": "Paliers de contreparties",
        "budget_heading": "Budget",
        "col_pledgers": "Contributeurs",
        "col_amount": "Montant",
        "col_tier": "Contrepartie",
        "col_price": "Contribution",
        "col_chosen": "Choisie par",
        "col_unit_cost": "Coût unitaire",
        "col_cost": "Coût des contreparties",
        "tiers_total": "Tous les paliers",
        "axis_amount": "Montant moyen des contributions",
        "circle_bar": "{amount} · {share} · {pledgers} contributeurs",
        "commitment_bar": "{amount} · {share} · se réalise avec une probabilité de {p}",
        "completion_bar": "{amount} · {share} · l'écart comblé à l'approche de la fin",
        "completion_name": "Combler l'écart",
        "col_mean_success": "Réussite moyenne",
        "col_weak_success": "Réussite faible",
        "col_strong_success": "Réussite forte",
        "backers": "Contributeurs",
        "budget_note": "Une réussite faible et une réussite forte sont les campagnes "
                       "réussies simulées au 10e et au 90e centile du total; la réussite "
                       "moyenne est la moyenne de toutes.",
        "in_size": "{circle} : personnes rejointes",
        "in_daily_reach": "{circle} : personnes rejointes par jour",
        "in_budget": "{circle} : budget de publicité",
        "in_reach_per_pledger": "{circle} : personnes rejointes par contributeur",
        "in_conversion": "{circle} : taux de conversion",
        "in_pledge_mean": "{circle} : contribution moyenne",
        "in_average_pledge": "Contribution moyenne (tous les paliers)",
        "in_launch_share": "Part des contributions au pic du lancement",
        "in_final_share": "Part des contributions au sprint final",
        "in_commitment": "{name} : s'engage ou non",
        "declines": "refuse",
        "commits": "s'engage",
        # ce qu'il faudrait
        "levers_title": "Ce qu'il faudrait",
        "levers_note": "Pour atteindre {target} à {goal} en {days}, aujourd'hui {p} : la "
                       "valeur qu'il faudrait à chaque levier, seul, les autres comme prévu "
                       "({sims} campagnes simulées par essai, la même graine pour tous). "
                       "Plausible : au plus +25 % (conversion : chaque taux incertain dans "
                       "sa propre fourchette à 95 % du porteur) ; un effort : jusqu'au "
                       "double ; peu probable : plus ; hors d'atteinte : pas même ×{largest}.",
        "col_lever": "Levier",
        "col_now": "Dans le plan",
        "col_needed": "Il faudrait",
        "col_p_needed": "Probabilité alors",
        "col_plausibility": "Plausible ?",
        "plaus_reached": "déjà atteint",
        "plaus_plausible": "plausible",
        "plaus_stretch": "un effort",
        "plaus_unlikely": "peu probable",
        "plaus_out of reach": "hors d'atteinte",
        "lever_size": "{circle} : personnes jointes (taille)",
        "lever_reach_per_pledger": "{circle} : personnes jointes par contributeur",
        "lever_budget": "{circle} : budget publicitaire",
        "lever_daily_reach": "{circle} : personnes jointes par jour",
        "lever_conversion": "Conversion de tous les cercles (facteur)",
        "tornado_title": "Ce qui compte le plus",
        "tornado_note": "Chaque donnée passe de sa valeur basse à sa valeur haute, les autres "
                        "restant au plan ; la barre montre de combien varie la probabilité "
                        "d'atteindre l'objectif, et chaque bout porte sa valeur. Plages : "
                        "±{relative} pour ce que le porteur fixe (tailles, portées, budget "
                        "publicitaire, prix des contreparties, parts du calendrier, un taux "
                        "sûr) ; les quantiles à 5 % et 95 % de chaque taux de conversion "
                        "incertain ; un engagement refusé ou tenu. Les frais sont exclus : "
                        "ils ne changent jamais la réussite. Probabilités d'atteindre "
                        "{goal} en {days} ; l'erreur type de simulation de chaque barre "
                        "est d'au plus {se} point (les deux bouts sont simulés sur les "
                        "mêmes campagnes).",
        "tornado_low": "Donnée à sa valeur basse",
        "tornado_high": "Donnée à sa valeur haute",
        "tornado_base": "Comme prévu : {p}",
        "assumptions_title": "Hypothèses",
        "assumptions_continued": "Hypothèses (suite)",
        "assumptions_note": "Toutes les données du fichier de scénario, avec leur incertitude, "
                            "et chaque partie du scénario avec la description que son "
                            "auteur a écrite pour ce rapport. Un tiret : la valeur est "
                            "considérée comme connue.",
        "col_input": "Donnée",
        "col_value": "Valeur",
        "col_uncertainty": "Incertitude",
        "col_note": "Description",
        "platform_custom": "une plateforme à part",
        "beta": "moyenne {mean}, écart-type {sd}; 90 % entre {low} et {high}",
        "uniform": "n'importe où de {low} à {high}",
        "chance": "se réalise avec une probabilité de {p}",
        "default": "(valeur par défaut)",
        "preset": "(tarif publié de {platform})",
        "reproduce_heading": "Reproduire ces chiffres",
        "seed": "Graine aléatoire",
        "sims": "Campagnes simulées",
        "version": "Version de forecast",
        "date": "Date",
        "file": "Fichier de scénario",
        "sha256": "SHA-256 du fichier de scénario",
        "command": "Commande",
        "goals_tried": "Objectifs essayés",
        "durations_tried": "Durées essayées",
        "section_campaign": "Campagne",
        "section_fees": "Frais",
        "section_timing": "Rythme des contributions (courbe en U)",
        "section_dynamics": "Dynamique",
        "section_reward": "Contrepartie « {name} »",
        "section_circle": "Cercle « {name} »",
        "section_commitment": "Engagement « {name} »",
        "times": "× {x}",
        "of_goal": "{p} de l'objectif",
        "per_day": "{n} par jour",
        "pledge_free": "moyenne {mean}, écart-type {sd}",
        "key_name": "Nom",
        "key_goal": "Objectif",
        "key_duration_days": "Durée",
        "key_platform": "Plateforme",
        "key_need": "Besoin (montant net que le projet doit recevoir)",
        "key_currency": "Devise",
        "key_launch_share": "Part des contributions au pic du lancement",
        "key_launch_days": "Durée du pic du lancement",
        "key_final_share": "Part des contributions au sprint final",
        "key_final_days": "Durée du sprint final",
        "key_post_goal_factor": "Contributions une fois l'objectif atteint",
        "key_appeal_sd": "Dispersion de l'attrait du projet (échelle log)",
        "key_surge_half_progress": "Progression où le sprint final est à moitié",
        "key_surge_steepness": "Raideur de la montée du sprint final",
        "key_completion_half_progress": "Progression où la moitié des campagnes comblent "
                                        "l'écart avant la fin",
        "key_completion_steepness": "Raideur de la montée de l'écart comblé",
        "key_reach_days": "Temps pour joindre son propre entourage",
        "key_fade_per_day": "Essoufflement de l'intention et de la nouveauté par jour",
        "key_platform_rate": "Commission de la plateforme",
        "key_payment_rate": "Frais de paiement",
        "key_per_pledge": "Frais par contribution",
        "key_amount": "Montant",
        "key_share": "Part des contributeurs",
        "key_unit_cost": "Coût unitaire (fabrication et envoi)",
        "key_size": "Personnes dans le cercle",
        "key_conversion": "Conversion (part qui contribue)",
        "key_pledge": "Montant de la contribution",
        "key_source": "Rejoints par",
        "key_reach_per_pledger": "Personnes rejointes par contributeur",
        "key_lag_days": "Délai après la contribution de l'ami",
        "key_daily_reach": "Personnes rejointes par jour",
        "key_budget": "Budget de publicité",
        "key_cost_per_click": "Coût par clic",
        "key_start_day": "Premier jour",
        "key_end_day": "Dernier jour",
        "key_featured_at": "Mise en vedette par la plateforme dès",
        "key_featured_boost": "Visiteurs une fois en vedette",
        "key_probability": "Probabilité que cela se produise",
        "key_day": "Jour de la contribution",
        "key_commitment_cost": "Coût des contreparties qui lui sont dues",
    },
}


#: The page of ``forecast track`` (forecast/track_report.py), in both languages; merged
#: into TEXT below.
_TRACK_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "track_title": "Campaign tracking: {name}",
        "track_subject": "The odds of a live campaign from its pledges so far, and what "
                         "to do now",
        "track_lead": "Day {day} of {days} on {platform}: {pledged} pledged, {progress} of "
                      "the goal of {goal}, {left} left. The simulated campaigns of {source} "
                      "are conditioned on the pledges received so far, then run on to the "
                      "deadline; near it, those within reach of their goal often close the "
                      "gap, as real campaigns do.",
        "track_source_scenario": "the scenario “{name}”",
        "track_source_prior": "the generic prior, fitted on real campaigns (no scenario "
                              "was given)",
        "track_interval": "95% interval: {low} to {high} (standard error {se} points), "
                          "from {sims} simulated campaigns, effective sample size {ess}.",
        "track_final_heading": "The final total",
        "track_final": "Median {p50}; 8 simulated campaigns in 10 end between {p10} and "
                       "{p90}.",
        "track_pace_heading": "The pace needed",
        "track_pace": "{money} a day until the deadline, about {pledgers} pledgers a day at "
                      "the mean pledge of {mean}, for the {gap} still to raise.",
        "track_pace_reached": "The goal is reached: whatever comes now is over-funding.",
        "track_remind_heading": "Who to remind",
        "track_remind_note": "The pledgers and the money each circle is still expected to "
                             "bring by the deadline, largest first.",
        "track_no_scenario": "Who to remind needs the campaign's own circles: give its "
                             "scenario (--scenario).",
        "col_circle": "Circle",
        "col_pledgers_to_come": "Pledgers to come",
        "col_money_to_come": "Money to come",
        "track_whatif_heading": "What if more people pledged today",
        "track_whatif_note": "Each pledging the mean of {mean}; the gap to the goal is {gap}.",
        "col_more_pledgers": "More pledgers today",
        "col_share_gap": "Share of the gap",
        "track_whatif_none": "The goal is reached: no gap left to close.",
        "track_observed": "Pledged so far (observed)",
        "track_median": "Median from today",
        "track_band": "10% to 90% of the simulated campaigns",
        "track_pace_line": "Pace needed: {money} a day",
        "track_today": "Today ({day})",
        "track_prior_name": "a campaign of {goal} in {days}",
        "track_footer": "Observed: {source} · {sims} simulated campaigns, effective "
                        "sample size {ess} · method: {method} · seed {seed} · forecast "
                        "{version} · {date}",
        "method_weighted simulations": "weighted simulations",
        "method_appeal posterior": "appeal posterior",
    },
    "fr": {
        "track_title": "Suivi de campagne : {name}",
        "track_subject": "Les chances d'une campagne en cours d'après les contributions "
                         "reçues, et quoi faire maintenant",
        "track_lead": "Jour {day} sur {days} sur {platform} : {pledged} promis, {progress} "
                      "de l'objectif de {goal}, {left} restants. Les campagnes simulées "
                      "selon {source} sont conditionnées par les contributions reçues "
                      "jusqu'ici, puis prolongées jusqu'à l'échéance ; près de celle-ci, "
                      "celles qui approchent de leur objectif le complètent souvent, comme "
                      "les vraies campagnes.",
        "track_source_scenario": "le scénario « {name} »",
        "track_source_prior": "le modèle générique, ajusté sur de vraies campagnes (aucun "
                              "scénario n'a été donné)",
        "track_interval": "Intervalle à 95 % : de {low} à {high} (erreur type {se} point), "
                          "sur {sims} campagnes simulées, taille d'échantillon effective "
                          "{ess}.",
        "track_final_heading": "Le total final",
        "track_final": "Médiane {p50} ; 8 campagnes simulées sur 10 finissent entre {p10} "
                       "et {p90}.",
        "track_pace_heading": "Le rythme nécessaire",
        "track_pace": "{money} par jour jusqu'à l'échéance, soit environ {pledgers} "
                      "contributeurs par jour à la contribution moyenne de {mean}, pour "
                      "les {gap} qui manquent.",
        "track_pace_reached": "L'objectif est atteint : tout ce qui vient maintenant "
                              "dépasse l'objectif.",
        "track_remind_heading": "Qui relancer",
        "track_remind_note": "Les contributeurs et le montant que chaque cercle devrait "
                             "encore apporter d'ici l'échéance, du plus grand au plus petit.",
        "track_no_scenario": "Pour savoir qui relancer, il faut les cercles de la "
                             "campagne : donnez son scénario (--scenario).",
        "col_circle": "Cercle",
        "col_pledgers_to_come": "Contributeurs à venir",
        "col_money_to_come": "Montant à venir",
        "track_whatif_heading": "Et si d'autres contribuaient aujourd'hui",
        "track_whatif_note": "Chacun à la contribution moyenne de {mean} ; il manque {gap} "
                             "pour atteindre l'objectif.",
        "col_more_pledgers": "Contributeurs de plus aujourd'hui",
        "col_share_gap": "Part de ce qui manque",
        "track_whatif_none": "L'objectif est atteint : il ne manque plus rien.",
        "track_observed": "Promis jusqu'ici (observé)",
        "track_median": "Médiane d'ici l'échéance",
        "track_band": "De 10 % à 90 % des campagnes simulées",
        "track_pace_line": "Rythme nécessaire : {money} par jour",
        "track_today": "Aujourd'hui ({day})",
        "track_prior_name": "une campagne de {goal} en {days}",
        "track_footer": "Observé : {source} · {sims} campagnes simulées, taille "
                        "d'échantillon effective {ess} · méthode : {method} · graine {seed} "
                        "· forecast {version} · {date}",
        "method_weighted simulations": "simulations pondérées",
        "method_appeal posterior": "loi a posteriori de l'attrait",
    },
}
for _lang, _words in _TRACK_TEXT.items():
    TEXT[_lang].update(_words)


def default_language(platform: str) -> str:
    """French for La Ruche (Québec), English for every other platform."""
    return "fr" if platform == "la-ruche" else "en"


class Labels:
    """The strings and number formats of one language.

    ``labels["key"]`` is the raw string, ``labels("key", name=...)`` the string
    with its fields filled in; ``money``, ``percent``, ``number`` and ``days``
    format numbers as that language's readers write them.
    """

    def __init__(self, lang: str = "en", currency: str = "$"):
        if lang not in TEXT:
            raise ValueError(f"lang = {lang!r} is not valid; expected one of "
                             f"{', '.join(LANGUAGES)}")
        self.lang = lang
        self.currency = currency
        self.text = TEXT[lang]

    def __getitem__(self, key: str) -> str:
        return self.text[key]

    def __call__(self, key: str, **fields: Any) -> str:
        return self.text[key].format(**fields)

    def number(self, value: float, digits: int = 0) -> str:
        """``12,345.6`` in English, ``12 345,6`` in French (ASCII space)."""
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "—"
        text = f"{value:,.{digits}f}"
        if text.startswith("-") and float(text.replace(",", "")) == 0:
            text = text[1:]
        if self.lang == "fr":
            text = text.replace(",", " ").replace(".", ",")
        return text

    def money(self, value: float, digits: int | None = None) -> str:
        """``$25,000`` in English, ``25 000 $`` in French; cents only when needed."""
        if digits is None:
            digits = 0 if float(value).is_integer() or abs(value) >= 100 else 2
        amount = self.number(abs(value), digits)
        sign = "-" if value < 0 and amount.strip("0,. ") else ""
        if self.lang == "fr":
            return f"{sign}{amount} {self.currency}"
        if self.currency in ("$", "£", "€"):
            return f"{sign}{self.currency}{amount}"
        return f"{sign}{amount} {self.currency}"

    def percent(self, fraction: float, digits: int = 1) -> str:
        """``77.3 %`` … of a fraction (0.773): ``77.3%`` in English, ``77,3 %`` in French."""
        text = self.number(100 * fraction, digits)
        return f"{text} %" if self.lang == "fr" else f"{text}%"

    def days(self, n: float) -> str:
        """``45 days`` / ``45 jours``."""
        digits = 0 if float(n).is_integer() else 1
        key = "days" if abs(n) >= 2 or (self.lang == "en" and n != 1) else "days_one"
        return self(key, n=self.number(n, digits))

    def platform(self, key: str) -> str:
        """A platform's display name: ``La Ruche`` for ``la-ruche``."""
        return PLATFORM_NAMES.get(key) or self["platform_custom"]

    def day(self, n: int) -> str:
        """``day 5`` / ``jour 5`` (day 0 is launch day)."""
        return self("day", n=self.number(n))
