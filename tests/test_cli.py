"""Tests for gilcompare.cli: success paths, bad input, faults, interrupts, no litter."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gilcompare.cli import main
from gilcompare.measure import sizing
from gilcompare.models import get_model
from gilcompare.workloads.cpu import COUNT_PER_UNIT

TINY = ["--profile", "tiny", "--repeat", "1", "--quiet"]

BAD_INPUT = [
    (["run", "--workload", "nope"], "unknown workload 'nope': choose from count"),
    (["run", "--workload", "count,nope"], "unknown workload 'nope'"),
    (["run", "--model", "fibers"], "unknown model 'fibers': choose from serial, threads"),
    (["run", "--model", "threads", "--model", "green"], "unknown model 'green'"),
    (["run", "--workers", "0"], "--workers must be an integer of at least 1, got 0"),
    (["run", "--workers", "-3"], "--workers must be an integer of at least 1"),
    (["run", "--workers", "two"], "--workers must be an integer of at least 1, got 'two'"),
    (["run", "--workers", "2,x"], "--workers must be an integer"),
    (["run", "--workers", "1.5"], "--workers must be an integer"),
    (["run", "--repeat", "0"], "--repeat must be an integer of at least 1"),
    (["run", "--repeat", "many"], "--repeat must be an integer"),
    (["run", "--size", "0"], "--size must be an integer of at least 1"),
    (["run", "--size", "big"], "--size must be an integer"),
    (["run", "--tasks", "-1"], "--tasks must be an integer of at least 1"),
    (["run", "--scaling", "medium"], "invalid choice: 'medium'"),
    (["run", "--mode", "lukewarm"], "invalid choice: 'lukewarm'"),
    (["run", "--profile", "huge"], "invalid choice: 'huge'"),
    (["run", "--timeout", "0"], "--timeout must be a number greater than 0"),
    (["run", "--timeout", "-5"], "--timeout must be a number greater than 0"),
    (["run", "--timeout", "soon"], "--timeout must be a number greater than 0"),
    (["run", "--timeout", "nan"], "--timeout must be a number greater than 0"),
    (["run", "--bogus"], "unrecognized arguments: --bogus"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["seed", "--size", "0"], "--size must be an integer of at least 1"),
    (["seed", "--repeat", "x"], "--repeat must be an integer"),
    (["seed", "--process-model", "threads"], "unknown --process-model 'threads'"),
    (["seed", "--timeout", "0"], "--timeout must be a number greater than 0"),
    (["pythons", "/bin/true"], "not a python interpreter: /bin/true"),
    (["pythons", "/no/such/python"], "not a python interpreter: /no/such/python"),
    (["calibrate", "--workload", "fault-segv"], "unknown workload 'fault-segv'"),
    (["models", "--extra"], "unrecognized arguments: --extra"),
    (["workloads", "count"], "unrecognized arguments: count"),
    (["probe", "nope"], "invalid choice: 'nope' (choose from 'latency', 'stop'"),
    (["probe", "latency", "--model", "fibers"], "unknown --model 'fibers': choose from"),
    (["probe", "latency", "--switch-interval", "0"], "--switch-interval must be a number"),
    (["probe", "latency", "--switch-interval", "-1"], "--switch-interval must be a number"),
    (["probe", "transfer", "--payload", "0"], "--payload must be a whole number of bytes"),
    (["probe", "transfer", "--payload", "abc"], "--payload must be a whole number of bytes"),
    (["probe", "transfer", "--method", "teleport"], "unknown --method 'teleport'"),
    (["probe", "stop", "--method", "kill"], "unknown --method 'kill': choose from event"),
    (["probe", "memory", "--state", "sleepy"], "unknown --state 'sleepy': choose from idle"),
    (["probe", "start", "--workers", "0"], "--workers must be an integer of at least 1"),
    (["probe", "latency", "--timeout", "0"], "--timeout must be a number greater than 0"),
    # numbers: ASCII digits only, with upper bounds stated
    (["run", "--workers", "2,,4"], "--workers must be integers of at least 1 separated by commas"),
    (["run", "--workers", ""], "--workers must be integers of at least 1 separated by commas"),
    (["run", "--workers", "\u0662"], "--workers must be an integer of at least 1"),
    (["run", "--workers", "1_0"], "--workers must be an integer of at least 1, got '1_0'"),
    (["run", "--workers", "99999"], "--workers must be an integer from 1 to 1024, got 99999"),
    (["run", "--repeat", "1e30"], "--repeat must be an integer of at least 1, got '1e30'"),
    (["run", "--repeat", "1001"], "--repeat must be an integer from 1 to 1000"),
    (["run", "--size", "10000000"], "--size must be an integer from 1 to 1000000"),
    (["run", "--tasks", "1000000"], "--tasks must be an integer from 1 to 100000"),
    (["run", "--timeout", "-inf"], "--timeout must be a number greater than 0, got '-inf'"),
    (["run", "--timeout", "inf"], "--timeout must be a number greater than 0, got 'inf'"),
    (["run", "--timeout", "1e9"], "--timeout must be a number greater than 0 and at most 86400"),
    (["run", "--timeout", "\u0665"], "--timeout must be a number greater than 0"),
    (["run", "--model", "threads,"], "--model has an empty name in 'threads,'"),
    (["seed", "--process-model", ""], "--process-model has an empty name in ''"),
    (["seed", "--process-model", "processes-fork,processes-spawn"], "takes one model"),
    # targets: checked before anything is measured
    (["run", "--output", "/dev/null"], "it is not a regular file, which is never replaced"),
    (["run", "--output", "/no/such/dir/out.json"], "folder /no/such/dir does not exist"),
    (["run", "--output", "/tmp"], "cannot write --output '/tmp': it is a directory"),
    (["run", "--plot", "/tmp"], "cannot write --plot '/tmp': it is a directory"),
    (["run", "--output", ""], "--output needs a file name"),
]


@pytest.mark.parametrize("argv,message", BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad input: exit 2, one line on stderr naming the rule, no traceback, nothing run."""
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("gilcompare: error: ") and message in err
    assert "Traceback" not in err


def test_bad_input_through_the_real_command(cli) -> None:  # type: ignore[no-untyped-def]
    """The installed entry point behaves the same: one line, exit 2."""
    proc = cli("run", "--workers", "0")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0 and "at least 1" in proc.stderr


def test_run_json_records(cli) -> None:  # type: ignore[no-untyped-def]
    """run --json prints records with the documented fields and verified checksums."""
    proc = cli(
        "run",
        "--workload",
        "count,sleep",
        "--model",
        "threads,processes-fork",
        "--workers",
        "2",
        "--json",
        *TINY,
    )
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)
    required = {
        "workload",
        "model",
        "workers",
        "scaling",
        "seconds",
        "speedup",
        "efficiency",
        "python",
        "free_threaded",
        "gil_enabled",
        "cpu_count",
    }
    assert len(records) == 6  # 2 serial baselines + 2 workloads × 2 models
    for r in records:
        assert required <= set(r) and r["status"] == "ok"
        assert r["checksum"] == r["serial_checksum"] or r["model"] == "serial"


def test_run_table_and_skipped_model(cli) -> None:  # type: ignore[no-untyped-def]
    """The table shows time, spread, speedup, efficiency, ideal; impossible cells are skipped."""
    proc = cli("run", "--workload", "numpy", "--model", "subinterpreters", "--workers", "2", *TINY)
    assert proc.returncode == 0, proc.stderr
    header = proc.stdout.splitlines()[0]
    for column in ("median s", "±%", "speedup", "efficiency", "ideal", "GIL in workers"):
        assert column in header
    assert "skipped" in proc.stdout and "subinterpreters" in proc.stdout


def test_seed_compares_with_the_blog(cli) -> None:  # type: ignore[no-untyped-def]
    """seed runs 2 threads and 2 processes counting `--size` units each, and sets their
    threads/processes ratio beside the blog's 12.77 s / 6.52 s."""
    proc = cli("seed", "--size", "20", "--repeat", "2", "--quiet", "--json")
    assert proc.returncode == 0, proc.stderr
    (summary,) = json.loads(proc.stdout)
    by_model = {r["model"]: r for r in summary["results"]}
    threads, procs = by_model["threads"], by_model["processes-fork"]
    for r in (threads, procs):
        assert r["status"] == "ok", r["reason"]
        assert (r["workload"], r["workers"], r["scaling"]) == ("count", 2, "weak")
        assert (r["task_units"], r["tasks"]) == (20, 2)  # 20 units for each of the two
        assert r["checksum"] == r["serial_checksum"] and len(r["times"]) == 2
    assert summary["iterations_per_worker"] == 20 * COUNT_PER_UNIT
    assert (summary["threads_s"], summary["processes_s"]) == (threads["seconds"], procs["seconds"])
    # threads/processes: how many times longer threads took, the seconds it prints
    assert summary["ratio"] == pytest.approx(threads["seconds"] / procs["seconds"])
    assert (summary["blog_threads_s"], summary["blog_processes_s"]) == (12.77, 6.52)
    assert summary["blog_ratio"] == pytest.approx(1.9586, abs=1e-4)


def test_listings(cli) -> None:  # type: ignore[no-untyped-def]
    """models and workloads list names, kinds and availability with reasons."""
    models = json.loads(cli("models", "--json").stdout)
    assert {m["model"] for m in models} >= {"serial", "threads", "processes-spawn", "asyncio"}
    assert all(m["available"] or m["reason"] for m in models)
    names = {w["workload"] for w in json.loads(cli("workloads", "--json").stdout)}
    assert "count" in names and "fault-segv" not in names
    assert "fault-segv" in cli("workloads", "--all").stdout


def _fault_models() -> list[str]:
    names = [
        "threads",
        "processes-fork",
        "processes-spawn",
        "processes-forkserver",
        "subinterpreters",
        "asyncio",
    ]
    return [m for m in names if get_model(m).unavailable() is None]


@pytest.mark.parametrize("fault", ["fault-exit", "fault-raise", "fault-hang", "fault-segv"])
def test_faults_end_cleanly(cli, fault: str) -> None:  # type: ignore[no-untyped-def]
    """Every fault under every model: non-zero (not 2) exit, one line each, no traceback."""
    started = time.monotonic()
    proc = cli(
        "run",
        "--workload",
        fault,
        "--model",
        ",".join(_fault_models()),
        "--workers",
        "2",
        "--timeout",
        "1" if fault == "fault-hang" else "3",  # a hang is only ever ended by the timeout
        *TINY,
        timeout=240,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [x for x in proc.stderr.splitlines() if x.startswith("gilcompare: ")]
    assert len(lines) == 1 + len(_fault_models())  # serial baseline + each model
    assert all(fault in x for x in lines)
    assert time.monotonic() - started < (3 + 10) * (1 + len(_fault_models()))


def test_failures_do_not_hide_successes(cli) -> None:  # type: ignore[no-untyped-def]
    """Measurements that succeeded are still printed beside one that crashed."""
    proc = cli(
        "run",
        "--workload",
        "sleep,fault-segv",
        "--model",
        "threads",
        "--workers",
        "2",
        "--json",
        *TINY,
    )
    assert proc.returncode == 1
    records = json.loads(proc.stdout)
    assert {r["status"] for r in records if r["workload"] == "sleep"} == {"ok"}
    assert any("SIGSEGV" in r["reason"] for r in records if r["workload"] == "fault-segv")


@pytest.mark.parametrize(
    "model,sig,status",
    [
        ("processes-spawn", signal.SIGINT, 130),
        ("threads", signal.SIGINT, 130),
        ("processes-forkserver", signal.SIGTERM, 143),
    ],
)
def test_interrupt_cleans_up(cli, tmp_path: Path, model: str, sig: int, status: int) -> None:  # type: ignore[no-untyped-def]
    """SIGINT/SIGTERM mid-run: exit 130/143 quickly, keep results, leave nothing behind."""
    output = tmp_path / "kept.json"
    proc = cli.popen(
        "run",
        "--workload",
        "count,sleep",
        "--model",
        model,
        "--workers",
        "2",
        "--repeat",
        "20",
        "--profile",
        "quick",
        "--quiet",
        "--output",
        str(output),
    )
    time.sleep(2.5)
    _wait_for(output.exists)  # the first measurement is kept; the next ones take a minute
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == status, err
    assert "interrupted" in err and "Traceback" not in err
    kept = json.loads(output.read_text(encoding="utf-8"))
    assert f"interrupted; {len(kept)} measurements kept" in err
    assert [(r["workload"], r["model"], r["status"]) for r in kept][:1] == [
        ("count", "serial", "ok")
    ]
    assert all(r["status"] == "ok" and r["checksum"] for r in kept)


def _wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "the run kept nothing in time"
        time.sleep(0.05)


def test_results_keep_their_conditions(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A JSON record carries the conditions it was measured under."""
    record = json.loads(
        cli(
            "run", "--workload", "sleep", "--model", "threads", "--workers", "2", "--json", *TINY
        ).stdout
    )[-1]
    meta = record["meta"]
    for key in (
        "python",
        "implementation",
        "free_threaded",
        "cpu_count",
        "cpu_usable",
        "platform",
        "switch_interval_ms",
        "units_version",
    ):
        assert key in meta
    assert record["start_method"] is None and record["profile"] == "tiny"


@pytest.mark.parametrize(
    "content,message",
    [
        ('{"truncated": ', "is not JSON"),
        ("[1, 2]", "not a results file"),
        ('{"workload": "count"}', "not a results file"),
        (None, "cannot read results file"),
    ],
)
def test_corrupt_results_file(
    tmp_path: Path, content: str | None, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """report refuses a corrupt or missing results file with one line and exit 2."""
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    assert main(["report", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err


def test_output_file_survives_an_interrupt(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """--output is rewritten after every measurement, so an interrupt loses nothing measured:
    SIGINT once the first measurement is in the file exits 130 with that file intact."""
    out = tmp_path / "out.json"
    proc = cli.popen(
        "run",
        "--workload",
        "sleep,count",
        "--model",
        "threads",
        "--workers",
        "2",
        "--profile",
        "tiny",
        "--repeat",
        "200",
        "--quiet",
        "--output",
        str(out),
    )
    deadline = time.monotonic() + 60
    while not out.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert out.exists() and proc.poll() is None, "no measurement was written while running"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    records = json.loads(out.read_text())
    assert records and {r["status"] for r in records} == {"ok"}
    assert ("sleep", "serial") in {(r["workload"], r["model"]) for r in records}
    assert all(r["seconds"] > 0 and len(r["times"]) == 200 for r in records)
    assert main(["report", str(out)]) == 0


EVERY_COMMAND = [
    ["models"],
    ["workloads", "--all"],
    ["pythons", "--json"],
    ["calibrate", "--workload", "count,http", "--repeat", "1", "--quiet"],
    ["probe", "latency", "--model", "threads", "--workers", "1", "--repeat", "1", "--pings", "50"],
    ["probe", "stop", "--model", "threads,processes-spawn,asyncio", "--repeat", "1"],
    [
        "probe",
        "start",
        "--model",
        "threads,processes-forkserver",
        "--workers",
        "2",
        "--repeat",
        "1",
    ],
    ["probe", "memory", "--model", "processes-fork", "--workers", "2", "--repeat", "1"],
    ["probe", "transfer", "--model", "processes-fork", "--payload", "64KiB", "--repeat", "1"],
]


@pytest.mark.parametrize("argv", EVERY_COMMAND, ids=[" ".join(a[:2]) for a in EVERY_COMMAND])
def test_every_command_leaves_nothing_behind(cli, argv: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Each command succeeds; the cli fixture then checks no process or temp file is left."""
    proc = cli(*argv, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------ streams and targets

RECORD = {
    "workload": "count",
    "model": "threads",
    "workers": 2,
    "scaling": "strong",
    "mode": "warm",
    "status": "ok",
    "seconds": 0.01,
    "spread": 0.05,
    "speedup": 1.5,
    "efficiency": 0.75,
    "ideal": 2,
}


@pytest.mark.parametrize(
    "env",
    [
        {"PYTHONIOENCODING": "latin-1"},
        {"PYTHONIOENCODING": "ascii"},
        {"LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": ""},
    ],
)
def test_tables_survive_any_encoding(cli, tmp_path: Path, env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """A terminal that cannot show █, · or ± gets ASCII, not a UnicodeEncodeError."""
    path = tmp_path / "r.json"
    path.write_text(json.dumps([RECORD]))
    proc = subprocess.run(
        [sys.executable, "-m", "gilcompare", "report", str(path)],
        env={**cli.env(), **env},
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode("latin-1")
    assert "Traceback" not in proc.stderr.decode("latin-1")
    assert "count" in out and ("±%" in out or "+-%" in out)
    if env.get("PYTHONIOENCODING") == "ascii":
        assert "+-%" in out and "########.." in out


def test_broken_pipe_exits_quietly_with_141(cli) -> None:  # type: ignore[no-untyped-def]
    """Reader gone (`gilcompare ... | head -0`): exit 141 (128 + SIGPIPE), no traceback."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gilcompare", "workloads", "--all"],
        env=cli.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 141, err
    assert err == b""


@pytest.mark.parametrize("argv,status", [(["run", "--workers", "0"], 2), (["models"], 0)])
def test_closed_stderr_keeps_the_exit_status(cli, argv: list[str], status: int) -> None:  # type: ignore[no-untyped-def]
    """With stderr closed (2>&-), bad input still exits 2 and success 0."""
    command = " ".join([sys.executable, "-m", "gilcompare", *argv])
    proc = subprocess.run(f"{command} >/dev/null 2>&-", shell=True, env=cli.env(), timeout=60)
    assert proc.returncode == status


# two cells (serial and threads at 1 and 2 workers: three records), a second or two in all
SMALL_RUN = ["run", "--workload", "count", "--model", "threads", "--workers", "1,2"]


def _shell(cli, argv: list[str], redirections: str, timeout: float = 120):  # type: ignore[no-untyped-def]
    """The real command under ``sh -c`` with ``redirections`` applied; its CompletedProcess."""
    command = " ".join([sys.executable, "-m", "gilcompare", *argv])
    return subprocess.run(
        f"{command} {redirections}",
        shell=True,
        env=cli.env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_closed_stdin_measures_normally(cli) -> None:  # type: ignore[no-untyped-def]
    """Started with stdin closed (`<&-`, as some supervisors do): every measurement is made."""
    proc = _shell(cli, [*SMALL_RUN, *TINY, "--json"], "<&-")
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)
    assert len(records) == 3 and {r["status"] for r in records} == {"ok"}


def test_stdout_on_a_full_disk_exits_1_and_keeps_the_output(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """stdout on /dev/full: exit 1, one line on stderr saying so, --output keeps every record."""
    out = tmp_path / "out.json"
    proc = _shell(cli, [*SMALL_RUN, *TINY, "--output", str(out)], ">/dev/full")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [
        "gilcompare: error: cannot write to stdout: No space left on device"
    ]
    records = json.loads(out.read_text())
    assert len(records) == 3 and {r["status"] for r in records} == {"ok"}


def test_both_streams_to_a_closed_pipe_exit_141_and_keep_the_output(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`gilcompare run ... 2>&1 | head -c0`: the progress lines fail first, yet every cell is
    measured and written with --output; exit 141, as a shell reports SIGPIPE."""
    out = tmp_path / "out.json"
    argv = [*SMALL_RUN, "--profile", "tiny", "--repeat", "1", "--output", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "gilcompare", *argv],
        env=cli.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    proc.stdout.close()
    assert proc.wait(timeout=120) == 141
    records = json.loads(out.read_text())
    assert len(records) == 3 and {r["status"] for r in records} == {"ok"}


def test_stderr_reader_gone_keeps_the_table(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Only stderr's reader went away: the table still reaches stdout in full, exit 141."""
    table_file = tmp_path / "table.txt"
    argv = [*SMALL_RUN, "--profile", "tiny", "--repeat", "1"]
    with table_file.open("w") as stdout:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gilcompare", *argv],
            env=cli.env(),
            stdout=stdout,
            stderr=subprocess.PIPE,
        )
    assert proc.stderr is not None
    proc.stderr.close()
    assert proc.wait(timeout=120) == 141
    rows = [line.split() for line in table_file.read_text().splitlines()[2:]]
    assert [(r[1], r[2], r[-1]) for r in rows] == [
        ("serial", "1", "ok"),
        ("threads", "1", "ok"),
        ("threads", "2", "ok"),
    ]


def test_help_lists_the_exit_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    """`gilcompare --help` ends with the table of exit statuses every command follows."""
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "exit status:" in out
    for status in (0, 1, 2, 129, 130, 141, 143):
        assert f"\n  {status} " in out


def test_output_write_error_warns_once_and_keeps_measuring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A full disk after the first record: one warning, every cell measured, the table printed,
    the file keeps the first record, exit 1."""
    from gilcompare.report import validate

    real = validate.write_file
    calls = []

    def full_disk(path: str, text: str) -> None:
        calls.append(path)
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        real(path, text)

    monkeypatch.setattr(validate, "write_file", full_disk)
    out = tmp_path / "out.json"
    argv = ["run", "--workload", "count", "--model", "threads", "--workers", "1,2", *TINY]
    assert main([*argv, "--output", str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.err.count("No space left on device") == 1
    assert len(calls) == 3 and captured.out.count("threads") == 2
    assert len(json.loads(out.read_text())) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_plot_after_an_all_failed_run_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing to plot because every cell failed: a failed run (1), not bad input (2)."""
    pytest.importorskip("matplotlib")
    plot = tmp_path / "p.png"
    argv = ["run", "--workload", "fault-raise", "--model", "threads", "--workers", "2", *TINY]
    assert main([*argv, "--plot", str(plot)]) == 1
    assert "nothing to plot" in capsys.readouterr().err
    assert not plot.exists()


def test_probe_timeout_kills_the_programs_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`pythons PATH` on a program that forks and hangs: refused, and nothing it started lives."""
    from conftest import TAG_VAR, tagged

    from gilcompare import interpreters

    tag = f"probe-{time.monotonic_ns()}"
    monkeypatch.setenv(TAG_VAR, tag)
    monkeypatch.setattr(interpreters, "PROBE_TIMEOUT", 1.0)
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\nsleep 300 &\nsleep 300\n")
    fake.chmod(0o755)
    assert main(["pythons", str(fake)]) == 2
    assert "not a python interpreter" in capsys.readouterr().err
    time.sleep(0.5)
    assert tagged(tag) == []


def test_dry_run_lists_cells_and_an_estimate(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--dry-run prints every measurement (baselines first) and an estimate; measures nothing."""
    monkeypatch.setattr(sizing, "usable_cpus", lambda: 2)  # the profiles' own task counts
    started = time.monotonic()
    argv = ["run", "--dry-run", "--workload", "count", "--model", "threads", "--workers", "1,2"]
    assert main([*argv, "--profile", "quick", "--repeat", "3"]) == 0
    out = capsys.readouterr().out
    assert time.monotonic() - started < 5
    lines = out.splitlines()
    assert [line.split()[:3] for line in lines[2:5]] == [
        ["count", "serial", "1"],
        ["count", "threads", "1"],
        ["count", "threads", "2"],
    ]
    assert "3 measurements, about 0:0" in out and "an estimate" in out
    assert main([*argv, "--profile", "quick", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    # quick: 8 tasks of 20 units, 5 repeats; threads at 1 worker time serial beside each one
    assert records[1]["estimate_s"] == pytest.approx(0.5 + 5 * (0.16 + 0.16))


def test_progress_says_elapsed_and_left(cli) -> None:  # type: ignore[no-untyped-def]
    """Progress lines (stderr not a terminal) carry elapsed time and an estimate of the rest;
    --quiet prints none."""
    argv = ["run", "--workload", "count", "--model", "threads", "--workers", "2"]
    proc = cli(*argv, "--profile", "tiny", "--repeat", "1")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 2 and all("elapsed 0:0" in x and "left" in x for x in lines)
    assert lines[-1].endswith("about 0:00 left")
    assert cli(*argv, *TINY).stderr == ""


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_progress_on_a_terminal_is_a_bar(tmp_path: Path) -> None:
    """On a terminal the progress is tqdm's bar: measurements done of all, elapsed time, the
    estimate of what is left and the cell being measured, redrawn in place."""
    import pty

    command = [sys.executable, "-m", "gilcompare", "run", "--workload", "count"]
    command += ["--model", "threads", "--workers", "1", "--profile", "tiny", "--repeat", "1"]
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=secondary, cwd=tmp_path)
    os.close(secondary)
    out = b""
    with contextlib.suppress(OSError):  # EIO once the child has closed the terminal
        while chunk := os.read(primary, 4096):
            out += chunk
    os.close(primary)
    assert proc.wait(timeout=60) == 0
    text = out.decode("utf-8", "replace")
    assert "2/2" in text and "elapsed 00:0" in text and "left" in text, text
    assert "count · threads · 1" in text and "\r" in text


def test_run_and_compare_tables_print_the_interval() -> None:
    """Both tables print a speedup with its 95 % interval, as `1.93× [1.88–1.98]`."""
    from gilcompare.cli.compare import COMPARE_COLUMNS, _shown
    from gilcompare.cli.run import RUN_COLUMNS, result_rows
    from gilcompare.measure.cells import Result
    from gilcompare.report.tables import table

    r = Result(
        workload="count",
        model="threads",
        workers=2,
        scaling="strong",
        mode="warm",
        status="ok",
        seconds=1.0,
        speedup=1.934,
    )
    r.speedup_low, r.speedup_high = 1.881, 1.979
    assert "1.93× [1.88–1.98]" in table(result_rows([r]), RUN_COLUMNS)
    record = {
        "workload": "count", "model": "threads", "workers": 2, "python": "3.14t",
        "relative": 1.1, "relative_low": 1.05, "relative_high": 1.16,
        "speedup": 1.5, "speedup_low": None, "speedup_high": None,
    }  # fmt: skip
    shown = table([_shown(record)], COMPARE_COLUMNS)
    assert "1.10× [1.05–1.16]" in shown and "1.50×" in shown


def test_seed_ratio_agrees_with_its_seconds(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """seed's ratio is the engine's unpaired ratio of the two time series: the printed
    medians give it, whatever the two speedups against serial say."""
    from gilcompare.cli import seed
    from gilcompare.measure import engine
    from gilcompare.measure.cells import Result

    def fake_run(cells, args, emit):  # type: ignore[no-untyped-def]
        threads = Result(
            workload="count",
            model="threads",
            workers=2,
            scaling="weak",
            mode="warm",
            status="ok",
            times=[0.56, 0.55, 0.57],
        )
        procs = Result(
            workload="count",
            model="processes-fork",
            workers=2,
            scaling="weak",
            mode="warm",
            status="ok",
            times=[0.31] * 3,
        )
        threads.seconds, procs.seconds = 0.56, 0.31
        threads.speedup, procs.speedup = 1.0, 1.96  # their quotient is not the seconds' ratio
        emit([threads, procs], args.json)
        return 0

    calls = []
    real = engine.unpaired_ratio

    def spy(num, den):  # type: ignore[no-untyped-def]
        calls.append((list(num), list(den)))
        return real(num, den)

    monkeypatch.setattr(seed, "run_and_emit", fake_run)
    monkeypatch.setattr(engine, "unpaired_ratio", spy)
    assert main(["seed", "--json"]) == 0
    [summary] = json.loads(capsys.readouterr().out)
    assert calls == [([0.56, 0.55, 0.57], [0.31] * 3)]
    assert summary["ratio"] == pytest.approx(0.56 / 0.31)
    assert summary["ratio_low"] < summary["ratio"] < summary["ratio_high"]
    assert main(["seed"]) == 0
    assert "1.81× [" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["probe", "latency", "--workers", "\u0662"], "--workers must be an integer of at least 0"),
        (["probe", "latency", "--workers", "1_0"], "--workers must be an integer of at least 0"),
        (["probe", "latency", "--workers", "100000000"], "from 0 to 1024"),
        (["probe", "latency", "--pings", "1000000000"], "--pings must be an integer from 1"),
        (["probe", "transfer", "--payload", "99999GiB"], "--payload must be at most"),
        (["probe", "transfer", "--payload", "\u0661MiB"], "--payload must be a whole number"),
        (["probe", "stop", "--check-ms", "999999999"], "--check-ms must be an integer from 1"),
        (["probe", "latency", "--switch-interval", "1e9"], "--switch-interval must be a number"),
    ],
)
def test_every_numeric_option_is_bounded_before_measuring(
    cli, argv: list[str], message: str
) -> None:  # type: ignore[no-untyped-def]
    """Non-ASCII digits, underscores and values past an option's maximum: exit 2 and one
    line, before anything is measured."""
    done = cli(*argv, timeout=30)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


@pytest.mark.parametrize(
    "name,value",
    [
        ("GILCOMPARE_WORKERS", "100000000"),
        ("GILCOMPARE_WORKERS", "1,99999999999999999999"),
        ("GILCOMPARE_ROUNDS", "1000000000"),
    ],
)
def test_environment_variables_are_bounded(name: str, value: str) -> None:
    """The suite's variables get the same maxima as the options: a one-line stop."""
    from gilcompare.asv import suite

    with pytest.raises(SystemExit, match=f"{name} must be"):
        suite.worker_parameters({name: value})


def test_a_malformed_scheduler_in_the_environment_exits_2(cli) -> None:  # type: ignore[no-untyped-def]
    """GILCOMPARE_DASK_SCHEDULER gets --dask-scheduler's check: exit 2, nothing measured."""
    cli_env = cli.env()
    done = subprocess.run(
        [sys.executable, "-m", "gilcompare", "run", "--model", "dask-cluster"]
        + ["--workload", "count", "--profile", "tiny", "--repeat", "1"],
        env={**cli_env, "GILCOMPARE_DASK_SCHEDULER": "tcp://h:99999"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "bad port '99999'" in done.stderr
