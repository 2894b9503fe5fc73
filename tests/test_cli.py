"""Tests for gilcompare.cli: success paths, bad input, faults, interrupts, no litter."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from gilcompare.cli import main
from gilcompare.models import get_model

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
    """seed prints the blog's 12.77 s / 6.52 s beside our times and ratio."""
    proc = cli("seed", "--size", "20", "--repeat", "1", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "12.770" in proc.stdout and "6.520" in proc.stdout and "threads/processes" in proc.stdout


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
        "3",
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
def test_interrupt_cleans_up(cli, model: str, sig: int, status: int) -> None:  # type: ignore[no-untyped-def]
    """SIGINT/SIGTERM mid-run: exit 130/143 quickly, keep results, leave nothing behind."""
    proc = cli.popen(
        "run",
        "--workload",
        "sleep,count",
        "--model",
        model,
        "--workers",
        "2",
        "--repeat",
        "200",
        "--profile",
        "quick",
        "--quiet",
    )
    time.sleep(2.5)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == status, err
    assert "interrupted" in err and "Traceback" not in err


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
    """--output is rewritten after every measurement, so an interrupt loses nothing measured."""
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
        "1",
        "--quiet",
        "--output",
        str(out),
    )
    assert proc.wait(timeout=120) == 0
    assert main(["report", str(out)]) == 0
    records = json.loads(out.read_text())
    assert {(r["workload"], r["model"]) for r in records} == {
        ("sleep", "serial"),
        ("sleep", "threads"),
        ("count", "serial"),
        ("count", "threads"),
    }


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
