"""Process and file hygiene of the command (issue 17): SIGTERM and SIGINT stop every
worker and leave no file; options that would run away or fail late are refused up
front; output files keep their permissions, go through symbolic links, and are
never left half-written, even on a full disk or a stdout that cannot take output."""
from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from forecast import engine
from forecast.cli import main
from forecast.io import atomic_path
from forecast.result import MAX_SIMS

from test_cli import assert_clean_failure

ROOT = Path(__file__).resolve().parent.parent
FRIENDS = str(ROOT / "models" / "seed-1000-friends.toml")
EXE = shutil.which("forecast", path=str(Path(sys.executable).parent)) or "forecast"
ENV = {**os.environ, "PYTHONWARNINGS": "ignore"}


def children(pid: int) -> list[int]:
    """Child processes of ``pid`` (Linux /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def in_session(session: int) -> list[int]:
    """Processes, zombies excepted, of a session (field 6 of /proc/PID/stat)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def wait_for(condition, timeout: float = 60.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


def start_report(folder: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([EXE, "report", FRIENDS, "-o", str(folder / "out.pdf"),
                             "--seed", "1", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV,
                            start_new_session=True)


def finish(process: subprocess.Popen) -> str:
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail("the command did not stop within 60 s")
    return stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_a_signal_during_the_simulations_stops_every_worker(tmp_path, sig):
    """`forecast report --workers 2` is signalled once its workers run: it exits
    non-zero without a traceback, no process of its session is left, and the output
    folder holds nothing (no report, no temporary)."""
    process = start_report(tmp_path, "--workers", "2", "--sims", "60000")
    assert wait_for(lambda: len(children(process.pid)) >= 2), "no workers started"
    process.send_signal(sig)
    stderr = finish(process)
    assert process.returncode != 0
    assert "Traceback" not in stderr, stderr
    assert wait_for(lambda: not in_session(process.pid), 10), in_session(process.pid)
    assert list(tmp_path.iterdir()) == []


def test_sigterm_to_the_whole_group_stops_parent_and_workers(tmp_path):
    """As a service manager or a terminal sends it: to every process of the group."""
    process = start_report(tmp_path, "--workers", "2", "--sims", "60000")
    assert wait_for(lambda: len(children(process.pid)) >= 2), "no workers started"
    os.killpg(process.pid, signal.SIGTERM)
    stderr = finish(process)
    assert process.returncode != 0
    assert wait_for(lambda: not in_session(process.pid), 10), in_session(process.pid)
    assert list(tmp_path.iterdir()) == [], stderr


def test_sigterm_while_the_pdf_is_written_leaves_the_old_file_and_no_temporary(tmp_path):
    old = tmp_path / "out.pdf"
    old.write_bytes(b"the previous report")
    process = start_report(tmp_path, "--workers", "1", "--sims", "1000")
    assert wait_for(lambda: any(p.suffix == ".tmp" for p in tmp_path.iterdir())), \
        "the PDF was never being written"
    process.send_signal(signal.SIGTERM)
    finish(process)
    assert process.returncode == 128 + signal.SIGTERM
    assert [p.name for p in tmp_path.iterdir()] == ["out.pdf"]
    assert old.read_bytes() == b"the previous report"


def test_a_full_disk_during_report_is_one_message_and_no_file(tmp_path):
    """Writes past 20 KB fail (RLIMIT_FSIZE, as on a full disk): the PDF cannot be
    written, which the command says in one line, leaving nothing behind."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    done = subprocess.run([EXE, "report", FRIENDS, "-o", str(tmp_path / "out.pdf"),
                           "--sims", "500", "--seed", "1", "--workers", "1"],
                          capture_output=True, text=True, env=ENV, timeout=120,
                          preexec_fn=limit)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "cannot write" in errors[0], done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_stdout_that_cannot_take_the_output_is_one_message():
    with open("/dev/full", "w") as full:
        done = subprocess.run([EXE, "run", FRIENDS, "--sims", "1000", "--seed", "1",
                               "--json"], stdout=full, stderr=subprocess.PIPE, text=True,
                              env=ENV, timeout=60)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert done.stderr.startswith("Error: cannot write the output"), done.stderr


# ----------------------------------------------------------------------------- options

def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("args, fragments", [
    (["run", FRIENDS, "--sims", str(MAX_SIMS + 1)], ["--sims", f"{MAX_SIMS}"]),
    (["run", FRIENDS, "--sims", "1000000000000"], ["--sims"]),
    (["run", FRIENDS, "--goal", "nan"], ["--goal", "nan"]),
    (["run", FRIENDS, "--goal", "inf"], ["--goal", "inf"]),
    (["sweep", FRIENDS, "--target", "nan"], ["--target", "nan"]),
    (["sensitivity", FRIENDS, "--relative", "nan"], ["--relative", "nan"]),
    (["report", FRIENDS, "-o", ""], ["not a file name"]),
    (["report", FRIENDS, "-o", "/dev/null"], ["/dev/null", "not a regular file"]),
    (["sweep", FRIENDS, "--csv", "/dev/null"], ["/dev/null", "not a regular file"]),
])
def test_options_that_would_fail_late_are_refused_before_simulating(args, fragments):
    started = time.perf_counter()
    assert_clean_failure(invoke(*args), *fragments)
    assert time.perf_counter() - started < 5           # nothing was simulated


def test_workers_are_capped_at_the_cores(monkeypatch):
    """A thousand workers asked for: the pool gets at most the cores, and the numbers
    are those of one process."""
    asked = []
    real = engine.process_pool

    def recording(workers, *args, **kwargs):
        asked.append(workers)
        return real(workers, *args, **kwargs)

    monkeypatch.setattr(engine, "process_pool", recording)
    monkeypatch.setattr(engine, "cores", lambda: 2)
    runs = [invoke("run", FRIENDS, "--sims", "40000", "--seed", "5", "--workers", w,
                   "--json") for w in ("1000", "1")]
    assert all(r.exit_code == 0 for r in runs), [r.output for r in runs]
    assert asked == [2]
    assert json.loads(runs[0].stdout) == json.loads(runs[1].stdout)


# ----------------------------------------------------------------------------- files

def test_a_replaced_file_keeps_its_permissions(tmp_path):
    target = tmp_path / "sweep.csv"
    target.write_text("old")
    os.chmod(target, 0o600)
    with atomic_path(target) as temporary:
        Path(temporary).write_text("new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    os.chmod(target, 0o640)
    result = invoke("sweep", FRIENDS, "--goals", "20000,25000", "--sims", "500",
                    "--seed", "1", "--csv", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_text().startswith("goal")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_symbolic_link_is_written_through(tmp_path):
    real = tmp_path / "data" / "sweep.csv"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "latest.csv"
    link.symlink_to(real)
    result = invoke("sweep", FRIENDS, "--goals", "20000", "--sims", "500", "--seed", "1",
                    "--csv", str(link))
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and link.resolve() == real
    assert real.read_text().startswith("goal")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["data", "latest.csv",
                                                           "sweep.csv"]


def test_a_device_is_never_replaced(tmp_path):
    with pytest.raises(OSError, match="not a regular file"):
        with atomic_path("/dev/null") as temporary:
            Path(temporary).write_text("x")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
