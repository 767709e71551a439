"""The inputs of a scenario file as the report's assumptions page lists them.

``tomllib`` drops comments, and the comments of a scenario file are where its
author wrote the source or the reasoning of every number. ``toml_comments`` reads
them back from the file's text; ``assumption_rows`` pairs every input with its
value, its uncertainty and its comment.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Mapping

from .i18n import Labels
from .scenario import Conversion, Scenario

__all__ = ["toml_comments", "assumption_rows", "file_sha256"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _split_comment(line: str) -> tuple[str, str | None, int]:
    """Split a TOML line into (code, comment or None, bracket depth change).

    A ``#`` inside a basic ("…") or literal ('…') string does not start a comment.
    """
    depth = 0
    quote = None
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "#":
            return line[:i], line[i + 1:].strip(), depth
        i += 1
    return line, None, depth


def _key_parts(text: str) -> list[str]:
    """The parts of a dotted key: ``a."b c".d`` -> ["a", "b c", "d"]."""
    parts, i, text = [], 0, text.strip()
    while i < len(text):
        if text[i] in "\"'":
            end = text.index(text[i], i + 1)
            parts.append(text[i + 1:end])
            i = end + 1
        else:
            match = _BARE_KEY.match(text, i)
            if not match:
                i += 1
                continue
            parts.append(match.group())
            i = match.end()
        while i < len(text) and text[i] in " \t.":
            i += 1
    return parts


def toml_comments(text: str) -> dict[str, str]:
    """The comments of a TOML document, by the key or table they describe.

    A comment describes the key or table header on its line (``goal = 20000  #
    why``) or, when written on the lines just above it with no blank line between,
    the key or header below. Comments followed by a blank line describe nothing in
    particular, except those at the top of the file, before any key or table,
    which describe the file (key ``""``). Lines of a comment block are joined with
    spaces.

    Keys are dotted paths, with the index of each array-of-tables element:
    ``campaign.goal``, ``reward[1].unit_cost``, ``circle[0]`` (the header of the
    first ``[[circle]]``), ``circle[0].timing.launch_share``.

    Multi-line strings are not supported (scenario files do not use them); a
    multi-line array is skipped up to its closing bracket.
    """
    comments: dict[str, str] = {}
    counts: dict[str, int] = {}       # path of an array of tables -> elements so far
    table = ""                        # current table path
    pending: list[str] = []           # comment lines waiting for their key
    seen_content = False
    depth = 0                         # open brackets of a multi-line array

    def resolve(parts: list[str]) -> str:
        """Path of a table header, with the current index of enclosing arrays."""
        path = ""
        for part in parts:
            path = f"{path}.{part}" if path else part
            if path in counts:
                path = f"{path}[{counts[path] - 1}]"
        return path

    def attach(path: str, inline: str | None) -> None:
        words = pending + ([inline] if inline else [])
        if words:
            comments[path] = " ".join(w for w in words if w)

    for raw_line in text.splitlines():
        code, comment, change = _split_comment(raw_line)
        if depth > 0:                      # inside a multi-line array
            depth += change
            continue
        stripped = code.strip()
        if not stripped:
            if comment is not None:
                pending.append(comment)
            else:                          # a blank line ends a comment block
                if pending and not seen_content:
                    comments[""] = " ".join(
                        ([comments[""]] if "" in comments else []) + pending)
                pending = []
            continue
        seen_content = True
        if stripped.startswith("[["):
            parts = _key_parts(stripped[2:stripped.index("]]")])
            parent = resolve(parts[:-1])
            path = f"{parent}.{parts[-1]}" if parent else parts[-1]
            counts[path] = counts.get(path, 0) + 1
            table = f"{path}[{counts[path] - 1}]"
            attach(table, comment)
        elif stripped.startswith("["):
            table = resolve(_key_parts(stripped[1:stripped.index("]")]))
            attach(table, comment)
        elif "=" in stripped:
            key = _key_parts(stripped.split("=", 1)[0])
            path = ".".join([table, *key]) if table else ".".join(key)
            attach(path, comment)
            depth = max(0, change)
        pending = []
    return comments


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, in hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- rows

_MONEY = {"goal", "need", "amount", "unit_cost", "budget", "cost_per_click", "per_pledge"}
_PERCENT = {"launch_share", "final_share", "share", "probability", "platform_rate",
            "payment_rate", "fade_per_day", "surge_half_progress"}
_DURATION = {"duration_days", "launch_days", "final_days", "reach_days", "lag_days"}
_DAY_INDEX = {"start_day", "end_day", "day"}
#: The [dynamics] keys the assumptions list, in this order.
DYNAMICS_KEYS = ("post_goal_factor", "appeal_sd", "surge_half_progress", "surge_steepness",
                 "reach_days", "fade_per_day")


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


def assumption_rows(scenario: Scenario, text: str | None, labels: Labels
                    ) -> list[dict[str, str]]:
    """Every input of ``scenario`` as rows for the assumptions page.

    A row is ``{"kind": "section" | "input", "input", "value", "uncertainty",
    "comment"}``, in the order of the file; section rows carry the comment of the
    table header. Fees, timing and dynamics the file does not set are listed with
    their effective value, marked as a default or a platform preset.
    """
    raw = scenario.raw or {}
    comments = toml_comments(text) if text else {}
    rows: list[dict[str, str]] = []

    def section(title: str, path: str) -> None:
        rows.append({"kind": "section", "input": title, "value": "", "uncertainty": "",
                     "comment": comments.get(path, "")})

    def inputs(table: Mapping[str, Any], path: str, skip: tuple[str, ...] = ()) -> None:
        for key, value in table.items():
            if key in skip:
                continue
            if isinstance(value, Mapping) and key not in ("conversion", "pledge"):
                inputs(value, f"{path}.{key}")
                continue
            # a commitment's unit_cost is the cost of all it is owed
            label = ("key_commitment_cost" if path.startswith("commitment") and
                     key == "unit_cost" else f"key_{key}")
            name = labels.text.get(label, key)
            rows.append({"kind": "input", "input": name, "value": _value(key, value, labels),
                         "uncertainty": _uncertainty(key, value, labels),
                         "comment": comments.get(f"{path}.{key}", "")})

    def defaults(values: Mapping[str, Any], given: Mapping[str, Any], note: str) -> None:
        for key, value in values.items():
            if key not in given:
                rows.append({"kind": "input", "input": labels.text.get(f"key_{key}", key),
                             "value": _value(key, value, labels),
                             "uncertainty": "—", "comment": note})

    if comments.get(""):
        section(labels["section_file"], "")
    section(labels["section_campaign"], "campaign")
    inputs(raw.get("campaign", {}), "campaign")

    f = scenario.fees
    section(labels["section_fees"], "fees")
    inputs(raw.get("fees", {}), "fees")
    defaults({"platform_rate": f.platform_rate, "payment_rate": f.payment_rate,
              "per_pledge": f.per_pledge}, raw.get("fees", {}),
             labels("preset", platform=scenario.platform))

    t, d = scenario.timing, scenario.dynamics
    section(labels["section_timing"], "timing")
    inputs(raw.get("timing", {}), "timing")
    defaults({"launch_share": t.launch_share, "launch_days": t.launch_days,
              "final_share": t.final_share, "final_days": t.final_days},
             raw.get("timing", {}), labels["default"])
    section(labels["section_dynamics"], "dynamics")
    inputs(raw.get("dynamics", {}), "dynamics")
    defaults({name: getattr(d, name) for name in DYNAMICS_KEYS}, raw.get("dynamics", {}),
             labels["default"])

    for array, title in (("reward", "section_reward"), ("circle", "section_circle"),
                         ("commitment", "section_commitment")):
        for i, table in enumerate(raw.get(array, [])):
            name = table.get("name", f"{i + 1}")
            section(labels(title, name=name), f"{array}[{i}]")
            inputs(table, f"{array}[{i}]", skip=("name",))
    return rows
