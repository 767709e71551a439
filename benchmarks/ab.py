"""Old code against new, alternating in fresh processes, on the La Ruche example.

Each round starts one process per source tree and workload, old and new in turn, so
that both see the same minutes of a shared machine; the script prints each one's
median and new / old. The old tree is any checkout or export of the package, e.g.

    git archive <commit> | tar -x -C /tmp/old
    python benchmarks/ab.py /tmp/old --rounds 5 simulate sweep sensitivity report

Workloads (times inside the process, imports excluded, except ``cli-*``, which time the
whole command from the shell's side):

- ``simulate``: ``simulate`` of 10^5 campaigns, one process;
- ``engine``: the same over 90 days (``run.py``'s engine / limit case), the best of
  three in one process after a warm-up;
- ``sweep``: benchmarks/sweep.py's goal-dependent sweep (31 goals x 30, 45, 60, 90
  days) at 10^5 simulations, one process, and its ratio to one ``simulate``;
- ``sensitivity``: ``sensitivity`` at its default settings, one process;
- ``report``: ``build_report`` at its default settings, one process;
- ``cli-run``, ``cli-sensitivity``, ``cli-report``: ``forecast run --sims 100000``,
  ``forecast sensitivity`` and ``forecast report`` at their defaults (all cores),
  end to end: wall time, and the CPU time (user + system) of the command and its
  worker processes, which other work on a shared machine moves much less.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "la-ruche-lunch-box.toml"

SETUP = f"""
import time, forecast, os, sys
assert os.path.samefile(os.path.dirname(os.path.dirname(forecast.__file__)),
                        os.environ["PYTHONPATH"]), forecast.__file__
from forecast.sweep import sweep, sensitivity
from forecast.report import build_report
s = forecast.load_scenario({str(MODEL)!r})
"""
CODE = {
    "simulate": "t = time.perf_counter(); forecast.simulate(s, 100_000, rng=1); "
                "print(time.perf_counter() - t)",
    "engine": "s = s.with_(duration_days=90); forecast.simulate(s, 8_192, rng=1); "
              "print(min(-time.perf_counter() + (forecast.simulate(s, 100_000, rng=1), "
              "time.perf_counter())[1] for _ in range(3)))",
    "sweep": "t = time.perf_counter(); forecast.simulate(s, 100_000, rng=1); "
             "one = time.perf_counter() - t; t = time.perf_counter(); "
             "sweep(s, list(range(10_000, 40_001, 1_000)), [30, 45, 60, 90], "
             "sims=100_000, rng=1); many = time.perf_counter() - t; "
             "print(many, many / one)",
    "sensitivity": "t = time.perf_counter(); sensitivity(s, rng=1); "
                   "print(time.perf_counter() - t)",
    "report": "import tempfile, os; d = tempfile.mkdtemp(); t = time.perf_counter(); "
              "build_report(s, os.path.join(d, 'r.pdf'), rng=2024); "
              "print(time.perf_counter() - t)",
}
COMMANDS = {
    "cli-run": ["run", str(MODEL), "--sims", "100000", "--seed", "1"],
    "cli-sensitivity": ["sensitivity", str(MODEL), "--seed", "1"],
    "cli-report": ["report", str(MODEL), "--seed", "2024"],
}


def once(tree: Path, workload: str) -> list[float]:
    """One timing (and ratio) of ``workload`` with the package of ``tree``."""
    # Run in ``tree``: ``python -c`` puts the working directory first on sys.path, so
    # started from this checkout both "old" and "new" would import this one's package.
    env, where = {**os.environ, "PYTHONPATH": str(tree)}, str(tree)
    if workload in COMMANDS:
        with tempfile.TemporaryDirectory() as folder:
            args = COMMANDS[workload] + (["-o", str(Path(folder) / "r.pdf")]
                                         if workload == "cli-report" else [])
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", "from forecast.cli import main; main()",
                            *args], env=env, cwd=where, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wall = time.perf_counter() - start
            # the command and its workers (which it waits for): user + system
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            return [wall, (after.ru_utime - before.ru_utime)
                    + (after.ru_stime - before.ru_stime)]
    out = subprocess.run([sys.executable, "-c", SETUP + CODE[workload]], env=env,
                         cwd=where, check=True, capture_output=True, text=True).stdout
    return [float(x) for x in out.split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="the old source tree (holds forecast/)")
    parser.add_argument("workloads", nargs="+", choices=[*CODE, *COMMANDS])
    parser.add_argument("--new", type=Path, default=ROOT, help="the new source tree")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for workload in args.workloads:
        times: dict[str, list[list[float]]] = {"old": [], "new": []}
        for k in range(args.rounds):
            for label, tree in (("old", args.old), ("new", args.new)):
                times[label].append(once(tree, workload))
                print(f"  {workload} round {k + 1} {label}: "
                      f"{' '.join(f'{x:.2f}' for x in times[label][-1])}",
                      file=sys.stderr, flush=True)
        old = statistics.median(t[0] for t in times["old"])
        new = statistics.median(t[0] for t in times["new"])
        extra = ""
        if workload == "sweep":
            extra = (f"; sweep / simulate: old {statistics.median(t[1] for t in times['old']):.1f}, "
                     f"new {statistics.median(t[1] for t in times['new']):.1f}")
        elif workload in COMMANDS:
            cpu_old = statistics.median(t[1] for t in times["old"])
            cpu_new = statistics.median(t[1] for t in times["new"])
            extra = (f"; CPU old {cpu_old:.2f} s, new {cpu_new:.2f} s, "
                     f"new / old {cpu_new / cpu_old:.2f}")
        print(f"{workload}: old {old:.2f} s, new {new:.2f} s (medians of {args.rounds}), "
              f"new / old {new / old:.2f}{extra}", flush=True)


if __name__ == "__main__":
    main()
