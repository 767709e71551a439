"""The ``forecast`` command: thin click commands over the library."""
from __future__ import annotations

import json
import secrets
from typing import Any

import click

from .result import Result, package_version, simulate
from .scenario import Scenario, ScenarioError, load_scenario


def _load(path: str, goal: float | None = None, days: int | None = None) -> Scenario:
    try:
        scenario = load_scenario(path)
        changes = {k: v for k, v in (("goal", goal), ("duration_days", days)) if v is not None}
        return scenario.with_(**changes) if changes else scenario
    except ScenarioError as error:
        raise click.ClickException(str(error)) from None


def _seed(seed: int | None) -> int:
    """The seed to use: the one given, or a fresh one that is then reported."""
    return secrets.randbelow(2**32) if seed is None else seed


def _money(value: float | None, currency: str) -> str:
    if value is None:
        return "n/a"
    return f"{currency}{value:,.0f}" if currency in ("$", "£") else f"{value:,.0f} {currency}"


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False)


sims_option = click.option("--sims", type=click.IntRange(min=1), default=100_000,
                           show_default=True, help="Number of simulated campaigns.")
seed_option = click.option("--seed", type=click.IntRange(min=0), default=None,
                           help="Seed; without it a fresh one is drawn and reported.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_version(), prog_name="forecast")
def main() -> None:
    """Monte Carlo odds for an all-or-nothing crowdfunding campaign.

    \b
    Example:
      forecast run models/la-ruche-lunch-box.toml --sims 100000 --seed 42
    """


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@sims_option
@seed_option
@click.option("--goal", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Goal to use instead of the scenario's.")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Duration in days instead of the scenario's.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def run(scenario: str, sims: int, seed: int | None, goal: float | None, days: int | None,
        as_json: bool) -> None:
    """Simulate SCENARIO (a TOML file) and print the odds of reaching the goal.

    \b
    Example:
      forecast run models/la-ruche-lunch-box.toml --sims 200000 --seed 7
      forecast run models/seed-1000-friends.toml --goal 20000 --days 30 --json
    """
    loaded = _load(scenario, goal, days)
    result = simulate(loaded, sims, rng=_seed(seed))
    summary = result.summary()
    click.echo(_dump(summary) if as_json else format_summary(result, summary))


def format_summary(result: Result, summary: dict[str, Any]) -> str:
    """The readable text of ``forecast run``."""
    s = result.scenario
    cur = s.currency
    money = lambda v: _money(v, cur)  # noqa: E731
    low, high = summary["ci95"]
    g, n = summary["gross"], summary["net_if_success"]
    lines = [
        f"{s.name} — goal {money(s.goal)} in {s.duration_days} days on {s.platform}",
        f"{summary['sims']:,} simulated campaigns, seed {summary['seed']}, "
        f"forecast {summary['version']}",
        "",
        f"Probability of reaching the goal: {summary['probability']:.1%} "
        f"(95 % interval {low:.1%} – {high:.1%})",
        "",
        "Gross pledges:   " + "   ".join(
            f"{k} {money(g[k])}" for k in ("p10", "p25", "p50", "p75", "p90")),
        f"Backers:         median {summary['backers']['p50']:,.0f} "
        f"(p10 {summary['backers']['p10']:,.0f}, p90 {summary['backers']['p90']:,.0f})",
        "Net if success:  " + ("no simulated campaign reached the goal"
                               if n["mean"] is None else "   ".join(
                                   f"{k} {money(n[k])}" for k in ("p10", "p50", "p90"))),
        f"Expected payout: {money(summary['expected_payout'])} "
        "(net after fees and reward costs, 0 when the goal is missed)",
    ]
    if s.need is not None:
        lines.append(f"Need covered ({money(s.need)}): {summary['need_probability']:.1%}")
    lines += ["", "Where the money comes from (means):"]
    width = max(len(name) for name in [*summary["by_circle"], *summary["by_commitment"]])
    for name, row in [*summary["by_circle"].items(), *summary["by_commitment"].items()]:
        lines.append(f"  {name:<{width}}  {row['pledgers_mean']:8.1f} pledgers  "
                     f"{money(row['amount_mean']):>10}  {row['share']:6.1%}")
    lines += ["", "Milestones (share of goal: probability, median day reached, day 0 = launch):"]
    for key, row in summary["milestones"].items():
        day = "—" if row["median_day"] is None else f"day {row['median_day']}"
        lines.append(f"  {key:>3} %  {row['probability']:6.1%}  {day}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    main()
