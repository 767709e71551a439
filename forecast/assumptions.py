"""The inputs of a scenario file as the report's assumptions page lists them.

``assumption_rows`` pairs every input with its value and its uncertainty, written
for the report's reader, and each part of the scenario (the campaign, a circle, a
reward, a commitment) with its ``description`` in the report's language: a key
written for the report, never the file's comments, which are the author's notes
(in any language, with references the reader cannot follow).
"""
from __future__ import annotations

import hashlib
from dataclasses import fields
from pathlib import Path
from typing import Any, Mapping

from .i18n import Labels
from .scenario import Conversion, Dynamics, Scenario

__all__ = ["assumption_rows", "description", "file_sha256"]

def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, in hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- rows

_MONEY = {"goal", "need", "amount", "unit_cost", "budget", "cost_per_click", "per_pledge"}
_PERCENT = {"launch_share", "final_share", "share", "probability", "platform_rate",
            "payment_rate", "fade_per_day", "surge_half_progress",
            "completion_half_progress"}
_DURATION = {"duration_days", "launch_days", "final_days", "reach_days", "lag_days"}
_DAY_INDEX = {"start_day", "end_day", "day"}
#: The [dynamics] keys the assumptions list, in this order: the scenario's own.
DYNAMICS_KEYS = tuple(f.name for f in fields(Dynamics))


def _percent(fraction: float, labels: Labels) -> str:
    """A rate with as many decimals as it has, up to two: 8,05 %, 22 %, 0,5 %."""
    for digits in (0, 1):
        if abs(round(100 * fraction, digits) - 100 * fraction) < 1e-9:
            return labels.percent(fraction, digits)
    return labels.percent(fraction, 2)


def _value(key: str, value: Any, labels: Labels) -> str:
    """An input's value written for a reader: money, percent, days, factors."""
    if isinstance(value, Mapping):
        if key == "conversion" and "mean" in value:
            return _percent(value["mean"], labels)
        if key == "conversion":
            return f"{_percent(value['low'], labels)} – {_percent(value['high'], labels)}"
        if key == "pledge":
            return labels.money(value["mean"])
        return ", ".join(f"{k} = {v}" for k, v in value.items())
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if key in _MONEY or key == "pledge":
        return labels.money(value)
    if key in _PERCENT or key == "conversion":
        return _percent(value, labels)
    if key in _DURATION:
        return labels.days(value)
    if key in _DAY_INDEX:
        return labels.day(int(value))
    if key == "featured_at":
        return labels("of_goal", p=labels.percent(value, 0))
    if key in ("post_goal_factor", "featured_boost"):
        return labels("times", x=labels.number(value, 2 if value % 1 else 0))
    if key == "daily_reach":
        return labels("per_day", n=labels.number(value, 0 if value % 1 == 0 else 1))
    return labels.number(value, 0 if float(value).is_integer() else 3)


def _uncertainty(key: str, value: Any, labels: Labels) -> str:
    if key == "conversion" and isinstance(value, Mapping):
        if "mean" in value and value.get("sd", 0) > 0:
            low, high = Conversion("beta", value["mean"], sd=value["sd"]).bounds
            return labels("beta", mean=labels.percent(value["mean"]),
                          sd=labels.percent(value["sd"]), low=labels.percent(low),
                          high=labels.percent(high))
        if "low" in value:
            return labels("uniform", low=labels.percent(value["low"]),
                          high=labels.percent(value["high"]))
    if key == "pledge" and isinstance(value, Mapping) and value.get("sd", 0) > 0:
        return labels("pledge_free", mean=labels.money(value["mean"]),
                      sd=labels.money(value["sd"]))
    if key == "probability":
        return labels("chance", p=labels.percent(value, 0))
    return "—"


def description(value: Any, lang: str) -> str:
    """A ``description`` in ``lang``: a plain text as written, a table of texts by
    language its ``lang`` entry, or "" (never another language's)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return str(value.get(lang, ""))
    return ""


def assumption_rows(scenario: Scenario, labels: Labels) -> list[dict[str, str]]:
    """Every input of ``scenario`` as rows for the assumptions page.

    A row is ``{"kind": "section" | "input", "input", "value", "uncertainty",
    "note"}``, in the order of the file; a section row's note is the ``description``
    of its table in the report's language, an input's note says when its value is a
    default or a platform preset. Fees, timing and dynamics the file does not set
    are listed with their effective value.
    """
    raw = scenario.raw or {}
    rows: list[dict[str, str]] = []

    def section(title: str, table: Mapping[str, Any]) -> None:
        rows.append({"kind": "section", "input": title, "value": "", "uncertainty": "",
                     "note": description(table.get("description"), labels.lang)})

    def inputs(table: Mapping[str, Any], path: str, skip: tuple[str, ...] = ()) -> None:
        for key, value in table.items():
            if key in skip + ("description",):
                continue
            if isinstance(value, Mapping) and key not in ("conversion", "pledge"):
                inputs(value, f"{path}.{key}")
                continue
            # a commitment's unit_cost is the cost of all it is owed
            label = ("key_commitment_cost" if path.startswith("commitment") and
                     key == "unit_cost" else f"key_{key}")
            name = labels.text.get(label, key)
            shown = labels.platform(value) if key == "platform" else _value(key, value,
                                                                            labels)
            rows.append({"kind": "input", "input": name, "value": shown,
                         "uncertainty": _uncertainty(key, value, labels), "note": ""})

    def defaults(values: Mapping[str, Any], given: Mapping[str, Any], note: str) -> None:
        for key, value in values.items():
            if key not in given:
                rows.append({"kind": "input", "input": labels.text.get(f"key_{key}", key),
                             "value": _value(key, value, labels),
                             "uncertainty": "—", "note": note})

    section(labels["section_campaign"], raw.get("campaign", {}))
    inputs(raw.get("campaign", {}), "campaign")

    f = scenario.fees
    section(labels["section_fees"], {})
    inputs(raw.get("fees", {}), "fees")
    defaults({"platform_rate": f.platform_rate, "payment_rate": f.payment_rate,
              "per_pledge": f.per_pledge}, raw.get("fees", {}),
             labels("preset", platform=labels.platform(scenario.platform)))

    t, d = scenario.timing, scenario.dynamics
    section(labels["section_timing"], {})
    inputs(raw.get("timing", {}), "timing")
    defaults({"launch_share": t.launch_share, "launch_days": t.launch_days,
              "final_share": t.final_share, "final_days": t.final_days},
             raw.get("timing", {}), labels["default"])
    section(labels["section_dynamics"], {})
    inputs(raw.get("dynamics", {}), "dynamics")
    defaults({name: getattr(d, name) for name in DYNAMICS_KEYS}, raw.get("dynamics", {}),
             labels["default"])

    for array, title in (("reward", "section_reward"), ("circle", "section_circle"),
                         ("commitment", "section_commitment")):
        for i, table in enumerate(raw.get(array, [])):
            name = table.get("name", f"{i + 1}")
            section(labels(title, name=name), table)
            inputs(table, f"{array}[{i}]", skip=("name",))
    return rows
