"""How long `forecast --help` takes, against the 0.3 s target (issue 16).

Each command below is started ROUNDS times as a fresh process, alternating, and the
median wall time of each is printed with its ratio to the bare interpreter and to
the target, measured in the same run:

- `python -c pass`: the interpreter alone, the floor;
- `forecast --help`: what a user waits for (the console script, all its imports);
- `python -c "import forecast.cli"`: the command's imports alone;
- `python -c "import forecast.result, forecast.sweep, forecast.advice"`: the
  library (NumPy, pandas, SciPy), what every `forecast` call paid before the
  commands imported it only when needed.

Usage: python benchmarks/startup.py [ROUNDS]
"""
from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

TARGET = 0.3  # seconds, issue 16

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "forecast --help": [shutil.which("forecast") or "forecast", "--help"],
    "import forecast.cli": [sys.executable, "-c", "import forecast.cli"],
    "import the library": [sys.executable, "-c",
                           "import forecast.result, forecast.sweep, forecast.advice"],
}


def main(rounds: int = 15) -> None:
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(rounds):
        for name, command in COMMANDS.items():
            start = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - start)
    floor = statistics.median(times["python -c pass"])
    print(f"{rounds} rounds, median wall time of a fresh process")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<22} {median:6.3f} s   {median / floor:5.1f}x the interpreter   "
              f"{median / TARGET:5.2f}x the {TARGET} s target   "
              f"(min {min(values):.3f}, max {max(values):.3f})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
