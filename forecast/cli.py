"""The ``forecast`` command: thin click commands over the library."""
from __future__ import annotations

import math
import os
import signal
import sys
import threading
import tomllib
from typing import TYPE_CHECKING, Any

import click

from .i18n import Labels, default_language
from .io import atomic_path
from .scenario import MAX_SIMS, PLATFORMS, Scenario, ScenarioError, load_scenario

if TYPE_CHECKING:
    from .advice import Advice
    from .result import Result

# The library's modules are imported inside the commands that use them, so that
# ``forecast --help`` does not pay for NumPy, pandas and SciPy
# (benchmarks/startup.py measures it).


def _cores() -> int:
    from .engine import cores
    return cores()


def _load(path: str, goal: float | None = None, days: int | None = None) -> Scenario:
    try:
        scenario = load_scenario(path)
    except ScenarioError as error:
        raise click.ClickException(str(error)) from None
    changes = {k: v for k, v in (("goal", goal), ("duration_days", days)) if v is not None}
    try:
        return scenario.with_(**changes) if changes else scenario
    except ScenarioError as error:
        given = " ".join(f"--{'days' if k == 'duration_days' else k} {v:g}"
                         for k, v in changes.items())
        raise click.ClickException(f"{given}: {error}") from None


def _check_durations(scenario: Scenario, days: list[int] | None) -> None:
    """Fail before any simulation when a duration breaks the platform's rules."""
    for d in days or []:
        try:
            scenario.with_(duration_days=d)
        except ScenarioError as error:
            raise click.ClickException(f"--days {d}: {error}") from None


def _check_writable(path: str) -> None:
    """Make ``path``'s folder if missing; fail before any simulation when it names
    no file or its folder cannot take a new file."""
    import tempfile

    if not os.path.basename(path):
        raise click.ClickException(f"cannot write {path!r}: not a file name (give a path "
                                   "such as reports/plan.pdf)")
    target = os.path.realpath(path)  # a symbolic link is written through
    if os.path.exists(target) and not os.path.isfile(target):
        raise click.ClickException(f"cannot write {path}: it exists and is not a regular "
                                   "file (a folder or a device); give a file name")
    folder = os.path.dirname(target)
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise click.ClickException(f"cannot write {path}: {folder} cannot take a new "
                                   f"file ({error.strerror})") from None


def _seed(seed: int | None) -> int:
    """The seed to use: the one given, or a fresh one that is then reported."""
    import secrets

    return secrets.randbelow(2**32) if seed is None else seed


def _money(value: float | None, currency: str) -> str:
    """Whole amounts the way the English report writes them (``Labels.money``)."""
    return "n/a" if value is None else Labels("en", currency).money(value, 0)


def _dump(data: Any) -> str:
    import json

    return json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False)


def _emit(text: str) -> None:
    """Print a command's result on stdout; a stdout that cannot take it (a full disk,
    /dev/full, a closed pipe) is one error message, not a traceback."""
    try:
        click.echo(text)
        sys.stdout.flush()
    except OSError as error:
        # Nothing more goes to that stdout, not even the flush at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        raise click.ClickException(f"cannot write the output ({error.strerror or error})"
                                   ) from None


class _Finite(click.FloatRange):
    """A FloatRange that also refuses nan and inf, which its comparisons let through."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def _stop_on_sigterm() -> None:
    """Make SIGTERM end a command the way Ctrl-C does: the exception unwinds, the
    worker processes are shut down, temporary files removed; exit status 143
    (128 + SIGTERM). The previous handler is put back when the command ends."""
    if threading.current_thread() is not threading.main_thread():
        return

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    click.get_current_context().call_on_close(
        lambda: signal.signal(signal.SIGTERM, previous))


sims_option = click.option("--sims", type=click.IntRange(min=1, max=MAX_SIMS),
                           default=100_000, show_default=True,
                           help="Number of simulated campaigns.")
seed_option = click.option("--seed", type=click.IntRange(min=0), default=None,
                           help="Seed; without it a fresh one is drawn and reported.")


workers_option = click.option(
    "--workers", type=click.IntRange(min=1), default=_cores, show_default="all cores",
    help="Processes sharing the simulations, at most the cores this machine has; the "
         "numbers are the same with any count.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="forecast", prog_name="forecast")
def main() -> None:
    """Monte Carlo odds for an all-or-nothing crowdfunding campaign.

    \b
    Example:
      forecast run models/la-ruche-lunch-box.toml --sims 100000 --seed 42
    """
    _stop_on_sigterm()


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@sims_option
@seed_option
@workers_option
@click.option("--goal", type=_Finite(min=0, min_open=True), default=None,
              help="Goal to use instead of the scenario's.")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Duration in days instead of the scenario's.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def run(scenario: str, sims: int, seed: int | None, workers: int, goal: float | None,
        days: int | None, as_json: bool) -> None:
    """Simulate SCENARIO (a TOML file) and print the odds of reaching the goal.

    \b
    Example:
      forecast run models/la-ruche-lunch-box.toml --sims 200000 --seed 7
      forecast run models/seed-1000-friends.toml --goal 20000 --days 30 --json
    """
    from .result import simulate

    loaded = _load(scenario, goal, days)
    with _Progress("Simulating") as progress:
        result = simulate(loaded, sims, rng=_seed(seed), workers=workers,
                          progress=progress)
    summary = result.summary()
    _emit(_dump(summary) if as_json else format_summary(result, summary))


def format_summary(result: Result, summary: dict[str, Any]) -> str:
    """The readable text of ``forecast run``."""
    s = result.scenario
    cur = s.currency
    money = lambda v: _money(v, cur)  # noqa: E731
    low, high = summary["ci95"]
    g, n = summary["gross"], summary["net_if_success"]
    lines = [
        f"{s.name} — goal {money(s.goal)} in {s.duration_days} days on "
        f"{Labels('en').platform(s.platform)}",
        f"{summary['sims']:,} simulated campaigns, seed {summary['seed']}, "
        f"forecast {summary['version']}",
        "",
        f"Probability of reaching the goal: {summary['probability']:.1%} "
        f"(95% interval {low:.1%} – {high:.1%})",
        "",
        "Gross pledges:   " + "   ".join(
            f"{k} {money(g[k])}" for k in ("p10", "p25", "p50", "p75", "p90")),
        f"Pledgers:        median {summary['backers']['p50']:,.0f} "
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
    closing = summary.get("goal_completion")
    closing_label = "closing the gap near the deadline"
    width = max(len(name) for name in [*summary["by_circle"], *summary["by_commitment"],
                                       *([closing_label] if closing else [])])
    for name, row in summary["by_circle"].items():
        lines.append(f"  {name:<{width}}  {row['pledgers_mean']:8.1f} pledgers  "
                     f"{money(row['amount_mean']):>10}  {row['share']:6.1%}")
    for name, row in summary["by_commitment"].items():
        lines.append(f"  {name:<{width}}  {row['pledgers_mean']:7.0%} likely    "
                     f"{money(row['amount_mean']):>10}  {row['share']:6.1%}")
    if closing is not None:  # no pledgers counted: docs/model.md, "Goal completion"
        lines.append(f"  {closing_label:<{width}}  {'':17}  "
                     f"{money(closing['amount_mean']):>10}  {closing['share']:6.1%}")
    lines += ["", "Milestones (share of goal: probability, median day reached, day 0 = launch):"]
    for key, row in summary["milestones"].items():
        day = "—" if row["median_day"] is None else f"day {row['median_day']}"
        lines.append(f"  {key:>3}%  {row['probability']:6.1%}  {day}")
    return "\n".join(lines)



# ----------------------------------------------------------------------------- track

@main.command(name="track")
@click.argument("observed", type=click.Path(dir_okay=False))
@click.option("--scenario", "scenario_path", type=click.Path(dir_okay=False), default=None,
              help="The campaign's scenario (TOML) [default: the generic prior fitted on "
                   "real campaigns, which needs --goal and --days].")
@click.option("--goal", type=_Finite(min=0, min_open=True), default=None,
              help="The goal (instead of the scenario's; needed without a scenario).")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="The campaign's duration in days (instead of the scenario's; needed "
                   "without a scenario).")
@click.option("--platform", type=click.Choice(list(PLATFORMS)), default=None,
              help="The platform of the generic prior, without a scenario "
                   "[default: custom].")
@click.option("--launch", default=None, metavar="YYYY-MM-DD",
              help="The launch date, when OBSERVED has a date column instead of day.")
@click.option("--daily", is_flag=True,
              help="OBSERVED gives each row's amount (and backers), not running totals.")
@click.option("--sims", type=click.IntRange(min=1, max=10**6), default=10_000,
              show_default=True, help="Simulated campaigns.")
@seed_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Also write the one-page PDF for the advisor here.")
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None,
              help="Language of the PDF [default: French on La Ruche, English elsewhere].")
@click.option("--contacts", "contacts_path", type=click.Path(dir_okay=False), default=None,
              help="The contact spreadsheet (forecast contacts template): also list the "
                   "ten people to remind first (docs/contacts.md).")
@click.option("--recalibration", default=None, metavar="FILE|none",
              help="Without --scenario: the map of the odds to use, written by forecast "
                   "recalibrate -o, or none for the prior's own odds [default: the "
                   "shipped map, fitted on real campaigns].")
def track_command(observed: str, scenario_path: str | None, goal: float | None,
                  days: int | None, platform: str | None, launch: str | None, daily: bool,
                  sims: int, seed: int | None, as_json: bool, output: str | None,
                  lang: str | None, contacts_path: str | None,
                  recalibration: str | None) -> None:
    """The odds of a live campaign from its pledges so far, and what to do now.

    OBSERVED is a CSV, a row per observation since launch: day (days since launch,
    fractional allowed) or date (with --launch), pledged (the running total, or each
    row's amount with --daily) and optionally backers. The scenario's simulated
    campaigns (or the generic prior's) are conditioned on it and run on to the
    deadline: the probability of reaching the goal with its interval, the final
    total's spread, the money a day still needed, who to remind (with a scenario)
    and what a few more pledgers would change (docs/tracking.md). Without a
    scenario, the generic prior's odds are recalibrated on the outcomes of past
    campaigns (--recalibration).

    \b
    Example:
      forecast track models/la-ruche-observed.csv --scenario models/la-ruche-lunch-box.toml \\
          --seed 2024 -o reports/la-ruche-track.fr.pdf
      forecast track pledges.csv --goal 8000 --days 40 --platform ulule --json
      forecast track pledges.csv --launch 2026-03-02 --daily --goal 5000 --days 30
      forecast track models/la-ruche-observed.csv --scenario models/la-ruche-lunch-box.toml \\
          --contacts models/contacts-example.xlsx
    """
    from .track_advice import track_details, who_to_remind
    from .tracking import observed_frame, read_observed, track

    if scenario_path is not None:
        if platform is not None:
            raise click.ClickException(f"--platform is for the generic prior; the scenario "
                                       f"{scenario_path} sets its own platform")
        loaded = _load(scenario_path, goal, days)
    elif goal is None or days is None:
        missing = " and ".join(name for name, value in (("--goal", goal), ("--days", days))
                               if value is None)
        raise click.ClickException(f"{missing} needed: without --scenario the generic prior "
                                   "is used, for the goal and duration you give")
    if recalibration is not None and scenario_path is not None:
        raise click.ClickException("--recalibration is for the generic prior; a "
                                   "scenario's odds are its own")
    mapping = (True if recalibration is None else False
               if recalibration.lower() == "none" else recalibration)
    if output is not None:
        _check_writable(output)
    people = None
    if contacts_path is not None:
        from .contacts import ContactsError, read_contacts
        try:
            people = read_contacts(contacts_path)
        except ContactsError as error:
            raise click.ClickException(str(error)) from None
    duration = loaded.duration_days if scenario_path is not None else days
    used_seed = _seed(seed)
    try:
        frame = observed_frame(read_observed(observed, launch=launch, daily=daily),
                               duration, where=observed)
        if scenario_path is not None:
            tracked = track(frame, scenario=loaded, sims=sims, rng=used_seed)
        else:
            tracked = track(frame, goal=goal, duration_days=days,
                            platform=platform or "custom", sims=sims, rng=used_seed,
                            recalibrate=mapping)
    except ValueError as error:  # TrackError, ScenarioError among them
        raise click.ClickException(str(error)) from None
    if output is not None:
        from .track_report import render_track

        try:
            render_track(tracked, output, lang=lang, source=observed,
                         has_scenario=scenario_path is not None)
        except OSError as error:
            raise click.ClickException(f"cannot write {output}: {error}") from None
    details = track_details(tracked)
    if people is not None:
        details["people_to_remind"] = _records(who_to_remind(people, tracked, top=10))
    _emit(_dump(details) if as_json else format_track(tracked, details, observed,
                                                      scenario_path is not None))
    if output is not None:
        click.echo(f"Wrote {output}.", err=as_json)


def format_track(tracked: Any, details: dict[str, Any], source: str,
                 has_scenario: bool) -> str:
    """The readable text of ``forecast track``: where the campaign stands, its odds,
    the pace needed, and (with a scenario) who to remind; what more pledgers would do."""
    s = tracked.scenario
    money = lambda v: _money(v, s.currency)  # noqa: E731
    mean = Labels("en", s.currency).money(details["pledge_mean"])  # with its cents
    low, high = details["probability_interval"]
    q = details["final_quantiles"]
    left = s.duration_days - tracked.now
    lines = [
        f"{s.name} — goal {money(s.goal)} in {s.duration_days} days on "
        f"{Labels('en').platform(s.platform)}",
        f"Observed: {source}, last on day {tracked.now:g}",
        f"{details['sims']:,} simulated campaigns ({details['method']}, effective sample "
        f"size {details['effective_sample_size']:,.0f}), seed {details['seed']}, "
        f"forecast {details['version']}",
    ]
    if not has_scenario:
        lines.append("No scenario: what campaigns like this one do (the generic prior "
                     "fitted on real campaigns); --scenario FILE says who to remind.")
    lines += [
        "",
        f"Day {tracked.now:g} of {s.duration_days}: {money(tracked.pledged)} pledged, "
        f"{details['progress']:.1%} of the goal, {left:g} day{'' if left == 1 else 's'} "
        "left",
        f"Probability of reaching the goal: {details['probability']:.1%} (95% interval "
        f"{low:.1%} – {high:.1%}; standard error {100 * details['probability_se']:.1f} "
        "points)",
        "Final total:     " + "   ".join(f"{k} {money(q[k])}" for k in ("p10", "p50", "p90")),
    ]
    raw = details.get("probability_before_recalibration")
    if raw is not None:
        lines.insert(-1, f"  (the prior's own {raw:.1%}, recalibrated on the outcomes of "
                         "past campaigns at the same progress, goal and duration)")
    gap = s.goal - tracked.pledged
    if gap > 0:
        lines.append(f"Needed from today: {money(details['needed_per_day'])} a day (about "
                     f"{details['pledgers_needed_per_day']:.1f} pledgers a day at the mean "
                     f"pledge of {mean}) for the {money(gap)} "
                     "still to raise")
    else:
        lines.append("Needed from today: nothing more, the goal is reached")
    if has_scenario and details["circles"]:
        circles = details["circles"]
        width = max(len(row["circle"]) for row in circles)
        lines += ["", "Who to remind (expected from today to the deadline, largest first):"]
        lines += [f"  {row['circle']:<{width}}  {row['pledgers_to_come']:7.1f} pledgers  "
                  f"{money(row['money_to_come']):>10}" for row in circles]
    if details.get("people_to_remind"):
        people = details["people_to_remind"]
        width = max(len(str(row["name"])) for row in people)
        lines += ["", "People to remind first (chance to pledge × amount, then the least "
                      "followed up; docs/contacts.md):"]
        lines += [f"  {str(row['name']):<{width}}  {row['relation']:<10} "
                  f"{row['chance']:4.0%} × {money(row['amount']):>8}  followed up "
                  f"{row['followed_up']}x   if they pledge today: "
                  f"{row['p_success_if_pledges']:.1%}" for row in people]
    if details["what_ifs"]:
        lines += ["", f"What if more people pledged today (each the mean pledge of "
                      f"{mean}):"]
        lines += [f"  +{row['pledgers']:<4} pledgers ({money(row['money'])}, "
                  f"{row['share_of_gap']:.0%} of the gap): {row['probability']:.1%}"
                  for row in details["what_ifs"]]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- sweep

def _number_list(text: str, integer: bool, limit: int = 1000) -> list[float]:
    """Parse ``START:STOP:STEP`` (STOP included) or ``A,B,C`` or a mix of them."""
    kind = "whole numbers" if integer else "numbers"
    values: list[float] = []
    for part in text.split(","):
        pieces = part.strip().split(":")
        try:
            numbers = [int(p) if integer else float(p) for p in pieces]
        except ValueError:
            raise click.BadParameter(f"{part.strip()!r} is not valid; expected {kind}, "
                                     "as START:STOP:STEP or A,B,C") from None
        if not all(math.isfinite(n) for n in numbers):
            raise click.BadParameter(f"{part.strip()!r} is not valid; expected finite {kind}")
        if len(numbers) == 1:
            values.append(numbers[0])
        elif len(numbers) == 3:
            start, stop, step = numbers
            if step <= 0 or stop < start:
                raise click.BadParameter(f"{part.strip()!r} is not valid; START:STOP:STEP "
                                         "needs STEP > 0 and STOP >= START")
            count = int(math.floor((stop - start) / step + 1e-9)) + 1
            if count > limit:
                raise click.BadParameter(f"{part.strip()!r} gives {count} values; at most "
                                         f"{limit}")
            values.extend(start + k * step for k in range(count))
        else:
            raise click.BadParameter(f"{part.strip()!r} is not valid; expected START:STOP:STEP "
                                     "or A,B,C")
    if len(values) > limit:
        raise click.BadParameter(f"{len(values)} values; at most {limit}")
    return values


def _goals(ctx: click.Context, param: click.Parameter, text: str | None) -> list[float] | None:
    if text is None:
        return None
    goals = _number_list(text, integer=False)
    bad = [g for g in goals if g <= 0]
    if bad:
        raise click.BadParameter(f"goal {bad[0]:g} is not valid; goals must be > 0")
    return goals


def _days(ctx: click.Context, param: click.Parameter, text: str | None) -> list[int] | None:
    return None if text is None else [int(d) for d in _number_list(text, integer=True)]


class _Progress:
    """A click progress bar on stderr, made on the first ``progress(done, total)``
    call and hidden when stderr is not a terminal."""

    def __init__(self, label: str):
        self.label, self.bar, self.shown = label, None, 0

    def __enter__(self) -> "_Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if not sys.stderr.isatty():  # silent in pipes, logs and tests
                return
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done


def _write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (``io.atomic_path``)."""
    try:
        with atomic_path(path) as temporary:
            with open(temporary, "w", encoding="utf-8", newline="") as out:
                out.write(text)
    except OSError as error:
        raise click.ClickException(f"cannot write {path}: {error}") from None


def _records(frame: Any) -> list[dict[str, Any]]:
    """Rows of a frame as JSON-ready dicts, NaN as None."""
    rows = []
    for row in frame.to_dict(orient="records"):
        rows.append({k: (None if isinstance(v, float) and math.isnan(v) else
                         v.item() if hasattr(v, "item") else v) for k, v in row.items()})
    return rows


@main.command(name="sweep")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--goals", callback=_goals, default=None, metavar="START:STOP:STEP|A,B,..",
              help="Goals to try [default: about 25 round goals from the one reached 97% "
                   "of the time to the one reached 10% of the time]. The goal that "
                   "covers the need is always added.")
@click.option("--days", callback=_days, default=None, metavar="A,B,..|START:STOP:STEP",
              help="Durations in days to try [default: the scenario's].")
@click.option("--target", type=_Finite(0, 1, min_open=True), default=0.8,
              show_default=True, help="Probability of success the goal to pick must reach.")
@sims_option
@seed_option
@workers_option
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the tidy table (a row per goal and duration) to this file.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def sweep_command(scenario: str, goals: list[float] | None, days: list[int] | None,
                  target: float, sims: int, seed: int | None, workers: int,
                  csv_path: str | None, as_json: bool) -> None:
    """Probability of success for every goal and duration, and the goal to pick.

    Every cell uses the same seed (common random numbers), so that differences between
    cells come from the goal and the duration, not from noise.

    \b
    Example:
      forecast sweep models/la-ruche-lunch-box.toml --goals 10000:40000:1000 \\
          --days 30,45,60,90 --seed 42
      forecast sweep models/seed-1000-friends.toml --goals 15000,20000,25000 --csv sweep.csv
    """
    from .advice import covered_goal, recommend
    from .sweep import goal_range, sweep as run_sweep

    loaded = _load(scenario)
    _check_durations(loaded, days)
    if csv_path is not None:
        _check_writable(csv_path)
    used_seed = _seed(seed)
    with _Progress("Simulating") as progress:
        try:
            covering = covered_goal(loaded)
            include = [] if covering is None else [covering]
            if goals is None:
                goals = goal_range(loaded, include=[loaded.goal, *include],
                                   sims=min(sims, 20_000), rng=used_seed, workers=workers)
            frame = run_sweep(loaded, [*goals, *include], days, sims=sims, rng=used_seed,
                              progress=progress, workers=workers)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
    advice = recommend(frame, loaded, target)
    if csv_path is not None:
        _write_atomic(csv_path, frame.to_csv(index=False))
        click.echo(f"Wrote {csv_path} ({len(frame)} rows).", err=True)
    if as_json:
        a = frame.attrs
        _emit(_dump({"scenario": loaded.name, "file": loaded.path, "seed": a["seed"],
                     "version": a["version"], "sims": a["sims"], "target": target,
                     "need": loaded.need,
                     "rows": _records(frame), "recommendations": _records(advice)}))
    else:
        _emit(format_sweep(frame, advice, loaded))


def format_sweep(frame: Any, advice: Any, scenario: Scenario) -> str:
    """The readable text of ``forecast sweep``: goals down, durations across."""
    cur = scenario.currency
    money = lambda v: "—" if v is None or math.isnan(v) else _money(v, cur)  # noqa: E731
    pct = lambda v: "—" if math.isnan(v) else f"{v:.1%}"  # noqa: E731
    a = frame.attrs
    table = frame.pivot(index="goal", columns="duration_days", values="probability")
    width = max(len(money(g)) for g in table.index)
    lines = [
        f"{scenario.name} on {Labels('en').platform(scenario.platform)}: probability of "
        "reaching each goal (%)",
        f"{a['sims']:,} simulated campaigns per cell, seed {a['seed']} (the same for every "
        f"cell), forecast {a['version']}",
        "",
        f"{'goal':>{width}}  " + "  ".join(f"{d:>5} d" for d in table.columns),
    ]
    for goal, row in table.iterrows():
        lines.append(f"{money(goal):>{width}}  " + "  ".join(f"{100 * p:7.1f}" for p in row))
    target = advice.attrs["target"]
    lines += ["", "The goal to pick:",
              f"  at {target:.0%}: the highest goal tried with at least {target:.0%} "
              "probability"]
    if scenario.need is not None:
        lines.append(f"  need: the smallest round goal that covers the need of "
                     f"{money(scenario.need)} when it is reached exactly, after fees and "
                     "reward costs (the recommended goal; `forecast advise` says what "
                     "would raise its odds)")
    lines.append("")
    for _, r in advice.iterrows():
        text = (f"  {int(r['duration_days']):>3} days  at {target:.0%}: "
                f"{money(r['target_goal'])} ({pct(r['target_probability'])})")
        if scenario.need is not None:
            text += (f"   need: {money(r['recommended_goal'])} "
                     f"({pct(r['recommended_probability'])})")
        lines.append(text)
    return "\n".join(lines)


# ----------------------------------------------------------------------------- advise

@main.command(name="advise")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--target", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.8, show_default=True,
              help="Probability of success to aim for.")
@click.option("--sims", type=click.IntRange(min=1, max=MAX_SIMS), default=10_000,
              show_default=True, help="Simulated campaigns per run.")
@seed_option
@workers_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def advise_command(scenario: str, target: float, sims: int, seed: int | None,
                   workers: int, as_json: bool) -> None:
    """The goal to pick, its odds, and what it would take to raise them.

    With a need in the scenario, the recommended goal is the smallest round goal that
    still covers the need when it is reached exactly, after fees and reward costs:
    a lower goal could succeed without the money to deliver the rewards. Without a
    need, it is the largest goal reached with the target probability. Then, for
    each lever (a list's size, sharing, an ad budget, a daily reach, conversion),
    the value it would need, the others as planned, to reach the target at that
    goal, and whether that is plausible.

    \b
    Example:
      forecast advise models/la-ruche-lunch-box.toml --seed 42
      forecast advise models/seed-1000-friends.toml --target 0.9 --json
    """
    from .advice import advise

    loaded = _load(scenario)
    progress = _StageProgress()
    try:
        found = advise(loaded, target, sims=sims, rng=_seed(seed), progress=progress,
                       workers=workers)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    finally:
        progress.close()
    if as_json:
        _emit(_dump({"scenario": loaded.name, "file": loaded.path, "seed": found.seed,
                     "version": found.version, "sims": found.sims,
                     "duration_days": loaded.duration_days, "need": loaded.need,
                     "target": found.target, "goal": found.goal, "basis": found.basis,
                     "probability": found.probability, "ci95": list(found.ci95),
                     "net_at_goal": found.net_at_goal,
                     "need_goal": None if math.isnan(found.need_goal)
                     else found.need_goal,
                     "target_goal": None if math.isnan(found.target_goal)
                     else found.target_goal,
                     "levers": _records(found.levers)}))
    else:
        _emit(format_advice(found))


def _lever_value(value: float, unit: str, currency: str) -> str:
    if math.isnan(value):
        return "—"
    if unit == "factor":
        return f"×{value:.2f}"
    if unit == "people":
        return f"{value:,.0f}"
    if unit in ("people per pledger", "people per day"):
        return f"{value:,.1f}"
    return _money(value, currency)


def format_advice(found: Advice) -> str:
    """The readable text of ``forecast advise``."""
    from .advice import FACTORS, PLAUSIBLE

    s = found.scenario
    money = lambda v: _money(v, s.currency)  # noqa: E731
    low, high = found.ci95
    target = f"{found.target:.0%}"
    lines = [
        f"{s.name}: {s.duration_days} days on {Labels('en').platform(s.platform)}"
        + ("" if s.need is None else f", need {money(s.need)}"),
        f"{found.sims:,} simulated campaigns per run, seed {found.seed} (the same for every "
        f"run), forecast {found.version}",
        "",
        f"Recommended goal: {money(found.goal)}, reached in {found.probability:.1%} of the "
        f"simulated campaigns (95% interval {low:.1%} – {high:.1%}).",
    ]
    if found.basis == "need":
        lines.append(
            f"It is the smallest round goal that covers the need: a campaign that collects "
            f"exactly {money(found.goal)} keeps {money(found.net_at_goal)} after fees and "
            f"reward costs (the exact minimum is {money(math.ceil(found.need_goal))}). A "
            "lower goal could succeed without the money to deliver the rewards; a higher "
            "one only lowers the odds"
            + ("." if math.isnan(found.target_goal) or found.target_goal < found.goal else
               f" (the largest goal reached {target} of the time is "
               f"{money(found.target_goal)})."))
        if not found.reaches_target:
            lines.append(
                f"Its odds are below the {target} target"
                + ("" if math.isnan(found.target_goal) else
                   f" (with {target} odds the campaign reaches at most {money(found.target_goal)}, "
                   "which does not cover the need)")
                + ": the answer is to raise the odds, not to lower the goal.")
    elif math.isnan(found.target_goal):
        lines.append(f"No goal tried is reached {target} of the time; this is the plan's "
                     "own goal. Give the scenario a need to have the goal that covers it.")
    else:
        lines.append(f"It is the largest goal reached {target} of the time. The scenario "
                     "gives no need: add `need` (what you must receive, net) to have the "
                     "goal that covers it.")
    lines.append("")
    if found.reaches_target:
        lines.append(f"Its odds already reach the {target} target: no lever needs to move.")
        return "\n".join(lines)
    levers = found.levers
    lines += [f"What it would take to reach {target} at {money(found.goal)}, each lever "
              "alone, the others as planned:", ""]
    rows = [(r["lever"], _lever_value(r["current"], r["unit"], s.currency),
             _lever_value(r["required"], r["unit"], s.currency),
             "" if math.isnan(r["probability"]) else f"{r['probability']:.1%}",
             r["plausibility"]) for _, r in levers.iterrows()]
    head = ("lever", "now", "needed", "P", "plausibility")
    widths = [max(len(row[k]) for row in [head, *rows]) for k in range(5)]
    for row in [head, *rows]:
        lines.append("  " + "  ".join([row[0].ljust(widths[0]), *(
            row[k].rjust(widths[k]) for k in (1, 2, 3)), row[4]]))
    lines += ["", f"plausible: at most +{PLAUSIBLE - 1:.0%} (conversion: every uncertain "
              "rate within its own 95% bound); stretch: up to double; unlikely: more; out "
              f"of reach: not even ×{FACTORS[-1]:g}. Conversion multiplies every circle's "
              "rate. Sizes are people, reaches people a day or per pledger."]
    return "\n".join(lines)


@main.command(name="sensitivity")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--sims", type=click.IntRange(min=1, max=MAX_SIMS), default=10_000,
              show_default=True,
              help="Simulated campaigns for each end of each input (two runs per input, "
                   "the same campaigns: each effect's standard error is shown).")
@seed_option
@workers_option
@click.option("--relative", type=_Finite(0, 1, min_open=True, max_open=True),
              default=0.25, show_default=True,
              help="Relative change of inputs without bounds of their own.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def sensitivity_command(scenario: str, sims: int, seed: int | None, workers: int,
                        relative: float, as_json: bool) -> None:
    """What matters most: how far each input moves the probability of success.

    Each input the owner controls or is unsure of goes from low to high (its
    5% and 95% quantiles, or -/+ 25%) with the same seed at both ends; the effect is the
    change in probability, in percentage points, largest first.

    \b
    Example:
      forecast sensitivity models/la-ruche-lunch-box.toml --seed 42
      forecast sensitivity models/seed-1000-friends.toml --sims 50000 --json
    """
    from .sweep import sensitivity

    loaded = _load(scenario)
    try:
        with _Progress("Simulating") as progress:
            frame = sensitivity(loaded, sims=sims, rng=_seed(seed), relative=relative,
                                progress=progress, workers=workers)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    a = frame.attrs
    if as_json:
        _emit(_dump({"scenario": loaded.name, "file": loaded.path, "seed": a["seed"],
                     "version": a["version"], "sims": a["sims"], "goal": loaded.goal,
                     "duration_days": loaded.duration_days,
                     "probability": a["probability"], "relative": relative,
                     "rows": _records(frame)}))
        return
    _emit(format_sensitivity(frame, loaded))


def _sensitivity_value(value: float, unit: str, currency: str) -> str:
    if unit in ("rate", "share of pledges", "probability"):
        return f"{value:.1%}" if value < 0.1 else f"{value:.0%}"
    if unit == "people":
        return f"{value:,.0f}"
    if unit == currency:
        return Labels("en", currency).money(value)
    return f"{value:,.1f}"


def format_sensitivity(frame: Any, scenario: Scenario) -> str:
    """The readable text of ``forecast sensitivity``, every range stated."""
    a = frame.attrs
    swing = {"relative": f"±{a['relative']:.0%}", "quantiles": "5%–95% quantiles",
             "decision": "declines / commits"}
    rows = [(r["input"], r["unit"], swing[r["swing"]],
             _sensitivity_value(r["low"], r["unit"], scenario.currency),
             _sensitivity_value(r["high"], r["unit"], scenario.currency),
             f"{r['probability_low']:.1%}", f"{r['probability_high']:.1%}",
             f"{r['effect_pp']:+.1f} pp", f"±{r['effect_se_pp']:.1f}")
            for _, r in frame.iterrows()]
    head = ("input", "unit", "range", "low", "high", "P low", "P high", "effect", "s.e.")
    widths = [max(len(row[k]) for row in [head, *rows]) for k in range(len(head))]
    lines = [
        f"{scenario.name}: what moves P(reaching {_money(scenario.goal, scenario.currency)} "
        f"in {scenario.duration_days} days) = {a['probability']:.1%}",
        f"{a['sims']:,} simulated campaigns per run, seed {a['seed']} (the same for every "
        f"run), forecast {a['version']}",
        f"Each input from its low to its high value, the others as planned: ±"
        f"{a['relative']:.0%} for what the owner sets (sizes, reaches, budget, reward "
        "prices, timing shares, a sure rate); the 5% and 95% quantiles of an uncertain "
        "rate, Beta or uniform alike; a commitment declined or made. Fees are left out: "
        "they never change success.",
        "",
    ]
    for row in [head, *rows]:
        lines.append("  ".join([row[0].ljust(widths[0]), row[1].ljust(widths[1]),
                                row[2].ljust(widths[2]),
                                *(row[k].rjust(widths[k]) for k in range(3, 9))]))
    lines.append("s.e.: the standard error of each effect, in pp (both ends run on the "
                 "same campaigns).")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- report

class _StageProgress:
    """``progress(stage, done, total)`` of ``build_report``: a bar per stage."""

    NAMES = {"simulate": "Simulating the plan", "sweep": "Goals x durations",
             "sensitivity": "What matters most", "pages": "Drawing the pages",
             "levers": "What it would take"}

    def __init__(self) -> None:
        self.stage, self.bar = None, None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage, self.bar = stage, _Progress(self.NAMES.get(stage, stage))
        self.bar(done, total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@main.command(name="report")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="The PDF to write [default: reports/NAME.LANG.pdf].")
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None,
              help="Language [default: French on La Ruche, English elsewhere].")
@click.option("--sims", type=click.IntRange(min=1, max=MAX_SIMS), default=10_000,
              show_default=True,
              help="Simulated campaigns for the plan, each goal x duration and each "
                   "sensitivity run.")
@seed_option
@workers_option
@click.option("--goals", callback=_goals, default=None, metavar="START:STOP:STEP|A,B,..",
              help="Goals to try [default: about 25 round goals from the one reached 97% "
                   "of the time to the one reached 10% of the time]. The plan's goal and "
                   "the goal that covers the need are always added.")
@click.option("--days", callback=_days, default=None, metavar="A,B,..|START:STOP:STEP",
              help="Durations to try [default: the scenario's, and one and two weeks "
                   "shorter and longer, within the platform's rules].")
def report_command(scenario: str, output: str | None, lang: str | None, sims: int,
                   seed: int | None, workers: int, goals: list[float] | None,
                   days: list[int] | None) -> None:
    """Write the advisor's report of SCENARIO: a PDF to read in five minutes.

    Summary, the campaign day by day, probability against the goal, goals x
    durations, where the money comes from, what matters most, and every assumption
    with the seed and the SHA-256 of the scenario file.

    \b
    Example:
      forecast report models/la-ruche-lunch-box.toml -o reports/la-ruche-lunch-box.fr.pdf \\
          --lang fr --seed 2024
      forecast report models/seed-1000-friends.toml --lang en --goals 15000:35000:1000
    """
    from .report import build_report

    loaded = _load(scenario)
    lang = lang or default_language(loaded.platform)
    if output is None:
        output = os.path.join("reports", f"{os.path.splitext(os.path.basename(scenario))[0]}"
                                         f".{lang}.pdf")
    _check_durations(loaded, days)
    _check_writable(output)
    used_seed = _seed(seed)
    progress = _StageProgress()
    try:
        pages = build_report(loaded, output, lang=lang, sims=sims, rng=used_seed,
                             goals=goals, durations=days, progress=progress,
                             workers=workers)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"cannot write {output}: {error}") from None
    finally:
        progress.close()
    _emit(f"Wrote {output}: {len(pages)} pages, {sims:,} simulated campaigns per "
          f"cell, seed {used_seed}.")


@main.command(name="calibrate")
@click.argument("trajectories", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the fitted prior (a scenario file) here.")
@click.option("--sims", type=click.IntRange(min=100, max=100_000), default=3000,
              show_default=True, help="Simulated campaigns per trial of the fit.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the common random numbers of every trial of the fit.")
@click.option("--folds", type=click.IntRange(min=0, max=20), default=0, show_default=True,
              help="Also cross-validate on this many folds of campaigns: 0 (no) or 2 "
                   "to 20; needs 30 campaigns or more.")
@click.option("--evaluations", type=click.IntRange(min=10), default=2000,
              show_default=True, help="Trials the fit may make.")
@click.option("--completion/--no-completion", default=True, show_default=True,
              help="Also fit the goal completion through the tracker on the fitted "
                   "prior (about a minute on 2,500 campaigns).")
def calibrate_command(trajectories: str, output: str | None, sims: int, seed: int,
                      folds: int, evaluations: int, completion: bool) -> None:
    """Fit the model to past campaigns in TRAJECTORIES (a CSV, gzip allowed).

    TRAJECTORIES has one row per observation of a campaign's cumulative total:
    campaign_id, goal, duration_days, t_days (days since launch), pledged; optional
    backers, final_pledged and success. From 30 campaigns or more it fits the
    generic prior (timing, final surge, appeal, audience, platform momentum; the
    duration effect and how the audience grows with the goal; the goal completion);
    from fewer, only the timing, and says so. It prints the fitted against the
    observed share of money in each tenth of the time, for successes and failures.

    \b
    Example (the command that refits the shipped prior):
      forecast calibrate ../shared/data/trajectories-train.csv.gz --seed 0 \\
          -o models/generic-prior.toml
    """
    from .calibration import CalibrationError, calibrate, read_trajectories

    if output is not None:
        _check_writable(output)
    try:
        frame = read_trajectories(trajectories)
        click.echo(f"Fitting on {frame['campaign_id'].nunique():,} campaigns "
                   f"({sims:,} simulated per trial, seed {seed})...", err=True)
        result = calibrate(frame, sims=sims, rng=seed, folds=folds,
                           max_evaluations=evaluations, completion=completion,
                           progress=lambda line: click.echo(line, err=True))
    except (CalibrationError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    _emit(format_calibration(result))
    if output is not None:
        command = " ".join(["forecast calibrate", os.path.basename(trajectories),
                            f"--sims {sims}", f"--seed {seed}",
                            f"--evaluations {evaluations}"])
        _write_atomic(output, result.to_toml(command))
        _emit(f"Wrote {output}.")


def format_calibration(result: Any) -> str:
    """The fit's quality, as text: fitted against observed moments."""
    lines = [f"{result.campaigns:,} campaigns."]
    lines += result.notes
    lines.append("Timing (fractions of the duration): " + ", ".join(
        f"{k} {v:.3f}" for k, v in result.timing.items()))
    if result.parameters is not None:
        p = result.parameters
        lines.append(f"Final surge at half strength at {p.surge_half_progress:.0%} of the "
                     f"goal (steepness {p.surge_steepness:.2f}); appeal spread "
                     f"{p.appeal_sd:.2f}; featured at {p.featured_at:.0%} of the goal, "
                     f"boost x{p.featured_boost:.1f}.")
        if result.completion is not None:
            h, k = result.completion
            lines.append(f"Goal completion: half the campaigns close their gap from "
                         f"{h:.0%} of the goal when the final window opens "
                         f"(steepness {k:.2f}).")
        lines.append(f"Audience grows as goal^{result.goal_elasticity:.2f}; duration: "
                     f"reach_days {result.reach_days:g}, fade_per_day "
                     f"{result.fade_per_day:.4f}; spread left at mid-campaign (the "
                     f"default appeal_sd of a described scenario) "
                     f"{result.mid_campaign_spread:.3f}.")
    lines.append("")
    lines.append(f"{'':32s}{'observed':>10s}{'fitted':>10s}")
    for name, row in result.fit.iterrows():
        lines.append(f"{name:32s}{row['observed']:10.3f}{row['fitted']:10.3f}")
    if result.folds is not None:
        lines.append("")
        lines.append("Cross-validation (held-out fold against the fit on the others):")
        lines.append(result.folds.round(4).to_string())
    return "\n".join(lines)


# ----------------------------------------------------------------------------- contacts

@main.group(name="contacts")
def contacts_group() -> None:
    """The contact spreadsheet of the course, a row a person: a template to fill, and
    the circles of influence it makes.

    \b
    Example:
      forecast contacts template contacts.xlsx --lang fr
      forecast contacts read contacts.xlsx -o scenario.toml --goal 8000
    """


@contacts_group.command(name="template")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None,
              help="Language of the headers [default: French on La Ruche, English "
                   "elsewhere].")
@click.option("--platform", type=click.Choice(list(PLATFORMS)), default="la-ruche",
              show_default=True, help="The platform, which sets the default language.")
@click.option("--force", is_flag=True, help="Replace PATH if it already exists.")
def contacts_template(path: str, lang: str | None, platform: str, force: bool) -> None:
    """Write PATH (.xlsx): the contact list to fill, a row a person, with drop-downs
    for the relation and the interest, follow-up columns and a sheet that explains
    each column.

    \b
    Example:
      forecast contacts template contacts.xlsx
      forecast contacts template contacts-en.xlsx --lang en
    """
    from .contacts_template import write_template  # openpyxl, only when asked for

    if not path.lower().endswith(".xlsx"):
        raise click.ClickException(f"{path}: the template is an .xlsx workbook; give a "
                                   "name ending in .xlsx")
    if os.path.exists(path) and not force:
        raise click.ClickException(f"{path} already exists; choose another name or pass "
                                   "--force to replace it")
    _check_writable(path)
    lang = lang or default_language(platform)
    try:
        with atomic_path(path) as temporary:
            write_template(temporary, lang)
    except OSError as error:
        raise click.ClickException(f"cannot write {path}: {error}") from None
    _emit(f"Wrote {path} ({'French' if lang == 'fr' else 'English'} headers): fill "
          "a row a person, then `forecast contacts read " + path + "`.")


@contacts_group.command(name="read")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write a scenario (TOML) with these circles; needs --goal unless "
                   "--into is given.")
@click.option("--into", type=click.Path(dir_okay=False), default=None,
              help="A scenario to put the circles in, replacing those written there "
                   "before (in place, or to -o).")
@click.option("--goal", type=_Finite(min=0, min_open=True), default=None,
              help="The new scenario's goal.")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="The new scenario's duration [default: 45, La Ruche's advice].")
@click.option("--platform", type=click.Choice(list(PLATFORMS)), default=None,
              help="The new scenario's platform [default: la-ruche].")
@click.option("--pledge", type=_Finite(min=0, min_open=True), default=None,
              help="Mean amount of a pledger who promised nothing [default: the "
                   "platform's average pledge, or the scenario's reward tiers].")
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None,
              help="Language of the circles' names [default: the headers'].")
def contacts_read(path: str, output: str | None, into: str | None, goal: float | None,
                  days: int | None, platform: str | None, pledge: float | None,
                  lang: str | None) -> None:
    """Read the contact list PATH (.xlsx or .csv) and group its people into circles:
    what it counted and what it assumed, and with -o or --into the scenario.

    \b
    Example:
      forecast contacts read contacts.xlsx
      forecast contacts read contacts.xlsx -o scenario.toml --goal 8000 --days 45
      forecast contacts read contacts.csv --into models/la-ruche-lunch-box.toml -o mine.toml
    """
    from .contacts import (circles_from_contacts, default_pledge, merge_block,
                           read_contacts, scenario_text)

    target = None
    if into is not None:
        given = [f"--{k}" for k, v in (("goal", goal), ("days", days),
                                        ("platform", platform)) if v is not None]
        if given:
            raise click.ClickException(f"{given[0]} is for a new scenario; with --into the "
                                       f"campaign of {into} is kept")
        target = _load(into)
        days, platform = target.duration_days, target.platform
    elif output is not None and goal is None:
        raise click.ClickException(f"--goal is needed to write the new scenario {output} "
                                   "(or give --into SCENARIO to add the circles to one)")
    days, platform = days or 45, platform or "la-ruche"
    tiers = target is not None and bool(target.rewards)
    if tiers and pledge is not None:
        raise click.ClickException(f"--pledge: the reward tiers of {into} set what its "
                                   "pledgers give; --pledge is for a scenario without tiers")
    amounts = default_pledge(platform, pledge, target.rewards if tiers else ())
    try:
        frame = read_contacts(path)
        made = circles_from_contacts(frame, duration_days=days, pledge=amounts,
                                     tiers=tiers, lang=lang)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    source = os.path.basename(path)
    destination = output or into
    text = None
    if destination is not None:
        try:
            if target is None:
                text = scenario_text(made, goal=goal, duration_days=days,
                                     platform=platform, source=source,
                                     name=os.path.splitext(source)[0])
            else:
                with open(into, encoding="utf-8") as handle:
                    text = merge_block(handle.read(), made.toml(source), into)
            Scenario.from_dict(tomllib.loads(text), destination)
        except (ValueError, tomllib.TOMLDecodeError) as error:
            raise click.ClickException(str(error)) from None
        _check_writable(destination)
    _emit(format_contacts(frame, made))
    if text is None:
        _emit("\nTo write them: -o scenario.toml --goal AMOUNT (a new scenario) or "
              "--into SCENARIO (add them to one).")
    else:
        _write_atomic(destination, text)
        _emit(f"\nWrote {destination}: {_count(len(made.circles), 'circle')}, "
              f"{_count(len(made.commitments), 'commitment')}. Next: forecast run "
              f"{destination}")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def format_contacts(frame: Any, made: Any) -> str:
    """The readable text of ``forecast contacts read``: what was counted and assumed."""
    a = frame.attrs
    blank = a.get("blank_rows", 0)
    lines = [f"Read {len(frame)} people from {a.get('path')}"
             + (f" (sheet {a['sheet']})" if a.get("sheet") else "")
             + f", {'French' if a.get('lang') == 'fr' else 'English'} headers"
             + (f"; {blank} blank rows skipped" if blank else "") + ".", ""]
    table = made.table
    width = max([len("circle")] + [len(str(n)) for n in table["circle"]])
    lines.append(f"{'circle':<{width}}  {'kind':<10}  {'people':>6}  {'conversion':>15}  "
                 f"{'reach':>9}  {'pledge':>6}  {'expected pledgers':>17}")
    for row in table.to_dict(orient="records"):
        conversion = ("" if row["kind"] == "commitment" else
                      f"{row['conversion_mean']:.1%} ± {row['conversion_sd']:.1%}")
        reach = row.get("reach")
        reach = "" if reach is None or reach != reach else f"{reach:,.0f}"
        amount = row.get("pledge_mean")
        amount = "" if amount is None or amount != amount else f"{amount:,.0f}"
        lines.append(f"{row['circle']:<{width}}  {row['kind']:<10}  {row['people']:>6}  "
                     f"{conversion:>15}  {reach:>9}  {amount:>6}  "
                     f"{row['expected_pledgers']:>17.1f}")
    lines += ["", "reach: followers per pledging ambassador or influencer (source), readers "
              "over the campaign (flow). Expected pledgers before any deadline losses.",
              "", "Assumed:"]
    lines += [f"  - {text}" for text in made.assumptions]
    checks = [*a.get("warnings", []), *made.warnings]
    if checks:
        lines += ["", "To check:"] + [f"  - {text}" for text in checks]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- backtest

def _checkpoints(ctx: click.Context, param: click.Parameter, text: str) -> list[float]:
    from .backtest import _check_at  # the library's own rule, its own words

    try:
        return list(_check_at(_number_list(text, integer=False, limit=20)))
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


_PLOT_FORMATS = (".pdf", ".png", ".svg")


#: Below this many campaigns `forecast recalibrate` warns that its map is weak: its
#: 10 coefficients would rest on fewer than about 40 successes each (3 checkpoints).
SMALL_RECALIBRATION = 300

#: --at of the commands that cut past campaigns at checkpoints.
checkpoints_option = click.option(
    "--at", "at", callback=_checkpoints, default="0.1,0.25,0.5", show_default=True,
    metavar="A,B,..", help="Checkpoints, as fractions of each campaign's duration.")
#: --sims of the commands that call the tracker on past campaigns.
tracker_sims_option = click.option(
    "--sims", type=click.IntRange(min=1, max=10**6), default=None,
    help="Simulated campaigns per tracker call [default: the tracker's].")


def folds_option(help: str) -> Any:
    """--folds of the commands that score on folds of past campaigns."""
    return click.option("--folds", type=click.IntRange(min=2, max=100), default=5,
                        show_default=True, help=help)


def _past_campaigns(trajectories: str, at: list[float], folds: int, seed: int,
                    doing: str) -> Any:
    """The past campaigns in ``trajectories`` (``calibration.read_trajectories``),
    said on stderr with what is ``doing`` to them; a clear error if unreadable."""
    from .calibration import CalibrationError, read_trajectories

    try:
        frame = read_trajectories(trajectories)
    except CalibrationError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{doing} {frame['campaign_id'].nunique():,} campaigns at "
               f"{', '.join(f'{a:.0%}' for a in at)} of their duration, {folds} folds, "
               f"seed {seed}...", err=True)
    return frame


@main.command(name="backtest")
@click.argument("trajectories", type=click.Path(dir_okay=False))
@checkpoints_option
@folds_option("Folds of campaigns: the baselines are fitted on all but one and scored "
              "on the one held out.")
@seed_option
@workers_option
@click.option("--tracker/--no-tracker", default=True, show_default=True,
              help="Score forecast.track beside the three baselines.")
@tracker_sims_option
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="Write the reliability plot here (.pdf, .png or .svg).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def backtest_command(trajectories: str, at: list[float], folds: int, seed: int | None,
                     workers: int, tracker: bool, sims: int | None, plot: str | None,
                     as_json: bool) -> None:
    """Score the forecasts on past campaigns in TRAJECTORIES as if they were live.

    At each checkpoint (a fraction of each campaign's duration) every campaign is
    cut to the observations made by then; the tracker and three baselines (success
    rate by bins of pledged/goal, the linear trend, the 25 most similar
    trajectories) forecast P(success) and the final total's quantiles, and are
    scored: accuracy, Brier score, log loss, coverage and median width (q90/q10) of
    the 80 % interval, quantile score (pinball loss / goal). The baselines are
    cross-validated by folds of campaigns. TRAJECTORIES is a CSV as for `forecast
    calibrate` (final_pledged and success, if present, are the outcome).

    \b
    Example:
      forecast backtest ../shared/data/trajectories-train.csv.gz --no-tracker --seed 0
      forecast backtest past.csv --at 0.1,0.5 --seed 1 --plot reliability.pdf --json
    """
    from .backtest import (BASELINES, BacktestError, TrackerPredictor, backtest,
                           reliability)

    if plot is not None:
        if not plot.lower().endswith(_PLOT_FORMATS):
            raise click.ClickException(f"--plot {plot}: expected a file name ending in "
                                       f"{', '.join(_PLOT_FORMATS)}")
        _check_writable(plot)
    used_seed = _seed(seed)
    frame = _past_campaigns(trajectories, at, folds, used_seed, "Scoring")
    predictors = [make() for make in BASELINES]
    if tracker:
        predictors.insert(0, TrackerPredictor(sims=sims, rng=used_seed))
    try:
        with _Progress("Tracking") as progress:
            result = backtest(frame, predictors, at=at, folds=folds, rng=used_seed,
                              workers=workers, progress=progress)
    except BacktestError as error:
        raise click.ClickException(f"{trajectories}: {error}") from None
    if plot is not None:
        from .io import atomic_path
        from .plots import reliability_figure

        figure = reliability_figure(reliability(result.predictions),
                                    note=_backtest_note(result, trajectories))
        try:
            with atomic_path(plot) as temporary:
                figure.savefig(temporary, format=os.path.splitext(plot)[1][1:].lower())
        except OSError as error:
            raise click.ClickException(f"cannot write {plot}: {error}") from None
    if as_json:
        _emit(_dump({"file": os.path.basename(trajectories), **result.summary()}))
    else:
        _emit(format_backtest(result, trajectories))
        if plot is not None:
            _emit(f"Wrote {plot}.")


@main.command(name="recalibrate")
@click.argument("trajectories", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the fitted map here (forecast/data/tracker-recalibration.toml "
                   "is the shipped one).")
@checkpoints_option
@folds_option("Folds of campaigns for the map's scores on campaigns it was not fitted "
              "on.")
@seed_option
@workers_option
@tracker_sims_option
def recalibrate_command(trajectories: str, output: str | None, at: list[float],
                        folds: int, seed: int | None, workers: int,
                        sims: int | None) -> None:
    """Fit the tracker's recalibration on past campaigns in TRAJECTORIES.

    The tracker, with the generic prior and no map, forecasts every campaign at each
    checkpoint; a logistic regression of the outcomes on its log-odds, the progress,
    the goal and the duration (each also times the fraction of the duration
    elapsed) maps its probability to one that matches them (docs/tracking.md,
    "Recalibration"). It prints the Brier score of the tracker and of the map on
    campaigns the map was not fitted on (by folds), and writes the map fitted on all
    of them. TRAJECTORIES is a CSV as for `forecast calibrate`.

    \b
    Example (the command that refits the shipped map, about 4 minutes here):
      forecast recalibrate ../shared/data/trajectories-train.csv.gz --seed 0 \\
          --workers 2 -o forecast/data/tracker-recalibration.toml
    """
    from .backtest import BacktestError
    from .recalibration import fit_backtest

    if output is not None:
        _check_writable(output)
    used_seed = _seed(seed)
    frame = _past_campaigns(trajectories, at, folds, used_seed, "Tracking")
    command = " ".join(["forecast recalibrate", os.path.basename(trajectories),
                        "--at", ",".join(f"{a:g}" for a in at), f"--folds {folds}",
                        f"--seed {used_seed}"] + ([f"--sims {sims}"] if sims else []))
    try:
        with _Progress("Tracking") as progress:
            found, table = fit_backtest(frame, at=at, folds=folds, sims=sims,
                                        rng=used_seed, workers=workers,
                                        progress=progress, command=command)
    except (BacktestError, ValueError) as error:
        raise click.ClickException(f"{trajectories}: {error}") from None
    _emit(format_recalibration(found, table, folds, used_seed))
    if output is not None:
        _write_atomic(output, found.to_toml())
        _emit(f"Wrote {output}.")


def format_recalibration(found: Any, table: Any, folds: int, seed: int) -> str:
    """The table of ``forecast recalibrate``: a row per checkpoint, the tracker's and
    the map's out-of-fold Brier scores, the campaigns left out, a warning when few."""
    from .result import package_version

    lines = [f"{found.campaigns:,} campaigns, {folds} folds, seed {seed}, forecast "
             f"{package_version()}", "",
             f"{'at':>4}{'campaigns':>11}{'Brier, tracker':>16}{'recalibrated':>14}"]
    for row in table.itertuples():
        lines.append(f"{row.at:>4.0%}{row.campaigns:>11,}{row.brier_tracker:>16.4f}"
                     f"{row.brier_recalibrated:>14.4f}")
    lines += ["", "Brier scores on campaigns the map was not fitted on (the map fitted "
              f"on the other {folds - 1} folds)."]
    for row in table.itertuples():
        if row.refused:
            lines.append(f"Left out at {row.at:.0%}: {row.refused:,} campaign(s) the "
                         f"tracker refused (the first: {row.first_refusal}).")
    if found.campaigns < SMALL_RECALIBRATION:
        lines.append(f"Only {found.campaigns} campaigns: the map's 10 coefficients are "
                     "weakly determined; prefer the shipped map unless these are many "
                     "more.")
    return "\n".join(lines)


def _backtest_note(result: Any, trajectories: str) -> str:
    campaigns = result.predictions["campaign_id"].nunique()
    return (f"{os.path.basename(trajectories)}: {campaigns:,} campaigns, {result.folds} "
            f"folds, seed {result.seed}, forecast {result.version}")


def format_backtest(result: Any, trajectories: str) -> str:
    """The table of ``forecast backtest``: a row per checkpoint and predictor."""
    from .backtest import EPS

    lines = [_backtest_note(result, trajectories), ""]
    head = (f"{'at':>4}  {'predictor':<13}{'campaigns':>10}{'accuracy':>10}{'Brier':>8}"
            f"{'log loss':>10}{'80% cover':>11}{'q90/q10':>9}{'q-score':>9}")
    lines.append(head)
    for (at, name), row in result.scores.iterrows():
        def number(value: float, form: str) -> str:
            return "n/a" if value != value else "inf" if value == math.inf else \
                format(value, form)
        lines.append(f"{at:>4.0%}  {name:<13}{int(row['campaigns']):>10,}"
                     f"{number(row['accuracy'], '.1%'):>10}{number(row['brier'], '.3f'):>8}"
                     f"{number(row['log_loss'], '.3f'):>10}"
                     f"{number(row['coverage80'], '.1%'):>11}"
                     f"{number(row['median_width'], '.2f'):>9}"
                     f"{number(row['quantile_score'], '.3f'):>9}")
    refused = result.scores["not_scored"]
    if refused.any():
        lines += ["", "Not scored (the predictor refused the campaign; see "
                  "Backtest.predictions['error']): " + ", ".join(
                      f"{name} at {at:.0%}: {count}" for (at, name), count in refused.items()
                      if count)]
    lines += ["", "accuracy: p >= 50 % agrees with the outcome. Brier: mean (p - outcome)^2.",
              f"log loss: natural log, p clipped to [{EPS:g}, {1 - EPS:g}]. 80% cover: "
              "share of final totals in [q10, q90].",
              "q90/q10: median width (q10 = 0 counts as infinitely wide). q-score: mean "
              "pinball loss over q10 ... q90, in goals."]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- batch

@main.command(name="batch")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True),
                metavar="SCENARIOS_OR_FOLDER...")
@click.option("--sims", type=click.IntRange(min=1, max=MAX_SIMS), default=20_000,
              show_default=True, help="Simulated campaigns per scenario or campaign.")
@seed_option
@workers_option
@click.option("--scheduler", default=None, metavar="tcp://HOST:8786",
              help="Run on the Dask cluster of this scheduler (pip install "
                   "'forecast[dask]'; docs/batch.md).")
@click.option("--local-cluster", "local_cluster", type=click.IntRange(min=1), default=None,
              metavar="N", help="Run on a Dask LocalCluster of N worker processes.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the tidy table (a row per scenario or campaign) here.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def batch_command(sources: tuple[str, ...], sims: int, seed: int | None, workers: int,
                  scheduler: str | None, local_cluster: int | None, csv_path: str | None,
                  as_json: bool) -> None:
    """Forecast many scenarios and track many live campaigns in one run.

    Each SCENARIOS_OR_FOLDER is a scenario TOML file, a campaigns.toml listing live
    campaigns (a [[campaign]] table each: observed = its CSV of pledges so far, and
    scenario = its scenario file, or goal and days, and platform, for the generic
    prior), or a folder of them. Every one gets the same seed and a row: its odds
    with their 95 % interval and the final total's spread. Each result is printed on
    stderr as it comes back; one that fails is reported by name with its error, the
    others go on, and the exit status is 1. Runs on this machine's cores, or on a
    Dask cluster with the same numbers (docs/batch.md).

    \b
    Example:
      forecast batch models/ models/live/ --seed 1
      forecast batch scenarios/ live/campaigns.toml --local-cluster 2 --csv batch.csv
      forecast batch scenarios/ --scheduler tcp://10.0.0.5:8786 --sims 100000 --seed 7
    """
    from contextlib import nullcontext

    from .batch import processes, read_batch, run_batch
    from .executors import dask_client

    source = click.get_current_context().get_parameter_source("workers")
    if scheduler is not None and local_cluster is not None:
        raise click.ClickException("give --scheduler or --local-cluster, not both")
    cluster = scheduler is not None or local_cluster is not None
    if cluster and source is not click.core.ParameterSource.DEFAULT:
        raise click.ClickException("--workers is for processes of this machine; on a "
                                   "Dask cluster its workers share the work")
    if csv_path is not None:
        _check_writable(csv_path)
    try:
        items = read_batch(sources)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    used_seed = _seed(seed)
    kinds = [item.kind for item in items]
    ready = sum(item.error is None for item in items)  # run_batch shares out these
    where = (f"the Dask scheduler at {scheduler}" if scheduler is not None else
             f"a Dask LocalCluster of {local_cluster} workers" if cluster else
             f"{processes(workers, ready)} process(es)")
    click.echo(f"Batch of {kinds.count('scenario')} scenario(s) and "
               f"{kinds.count('campaign')} live campaign(s), {sims:,} simulations each, "
               f"seed {used_seed}, on {where}...", err=True)

    def report(done: int, total: int, row: dict) -> None:
        if row["status"] == "ok":
            low, high = row["ci_low"], row["ci_high"]
            said = f"{row['probability']:.1%} ({low:.1%} to {high:.1%})"
        else:
            said = f"FAILED: {row['error']}"
        click.echo(f"[{done}/{total}] {row['name']}: {said}", err=True)

    try:
        with (dask_client(scheduler, local_cluster) if cluster else nullcontext()) as client:
            frame = run_batch(items, sims=sims, rng=used_seed,
                              workers=1 if cluster else workers, executor=client,
                              progress=report)
    except (ImportError, OSError) as error:
        raise click.ClickException(str(error)) from None
    if csv_path is not None:
        _write_atomic(csv_path, frame.to_csv(index=False))
        click.echo(f"Wrote {csv_path} ({len(frame)} rows).", err=True)
    if as_json:
        a = frame.attrs
        _emit(_dump({"seed": a["seed"], "version": a["version"], "sims": a["sims"],
                     "rows": _records(frame)}))
    else:
        _emit(format_batch(frame))
    failed = frame.loc[frame["status"] == "failed", "name"].tolist()
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(frame)} failed: "
                                   f"{', '.join(failed)} (their errors are above)")


def format_batch(frame: Any) -> str:
    """The readable table of ``forecast batch``: a line per scenario or campaign."""
    a = frame.attrs
    number = lambda v: "-" if v is None or v != v else f"{v:,.0f}"  # noqa: E731
    width = max([len("name"), *map(len, frame["name"])])
    lines = [f"seed {a['seed']}, {a['sims']:,} simulations each, forecast {a['version']}",
             "",
             f"{'name':<{width}}  {'kind':<8}  {'goal':>10}  {'days':>4}  {'day':>5}  "
             f"{'pledged':>10}  {'P(goal)':>7}  {'95% interval':>14}  {'final p50':>10}"]
    for row in frame.to_dict(orient="records"):
        head = f"{row['name']:<{width}}  {row['kind']:<8}  "
        if row["status"] != "ok":
            lines.append(f"{head}FAILED: {row['error']}")
            continue
        interval = f"{row['ci_low']:.1%}-{row['ci_high']:.1%}"
        lines.append(f"{head}{number(row['goal']):>10}  {row['duration_days']:>4.0f}  "
                     f"{row['day']:>5g}  {number(row['pledged']):>10}  "
                     f"{row['probability']:>7.1%}  {interval:>14}  "
                     f"{number(row['final_p50']):>10}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    main()
