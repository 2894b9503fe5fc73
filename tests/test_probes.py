"""Tests for gilcompare.probes (every probe, echo and the workers) and `gilcompare probe`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from typing import Any, NoReturn

import psutil
import pytest

from gilcompare.cli import probe as probe_cli
from gilcompare.cli.options import parse_bytes
from gilcompare.errors import UsageError
from gilcompare.models import get_model
from gilcompare.probes import latency, start, transfer
from gilcompare.probes.echo import EchoServer, percentile, run_client

TINY = ["--repeat", "1"]
SUBINTERPRETERS = get_model("subinterpreters").unavailable()


@pytest.fixture(autouse=True)
def no_children() -> Any:
    """No probe leaves a child process behind, not even multiprocessing's helpers (those that
    other tests' in-process pools started before are not the probe's)."""
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    yield
    new = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    _, alive = psutil.wait_procs(new, timeout=5)
    assert alive == []


class _Parser(argparse.ArgumentParser):
    """What gilcompare.cli does with argparse errors: one line, exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def run(*argv: str) -> int:
    """Parse and run ``gilcompare probe ...`` the way gilcompare.cli does."""
    parser = _Parser(prog="gilcompare")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    probe_cli.register(sub)
    try:
        args = parser.parse_args(["probe", *argv])
        return int(args.func(args))
    except UsageError as exc:
        print(f"gilcompare: error: {exc}", file=sys.stderr)
        return 2


def records(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, Any]]:
    """Run a probe with --json, check it succeeded, return its records."""
    assert run(*argv, "--json") == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_echo_server_binds_loopback_and_echoes() -> None:
    """The echo server listens on 127.0.0.1 only, and its clients connect from 127.0.0.1."""
    with EchoServer() as server:
        host, port = server.address
        assert host == "127.0.0.1" and port > 0
        times = run_client(host, port, rounds=2, pings=5, gap_ms=0.1, warmup=1)
    assert [len(r) for r in times] == [5, 5] and all(t > 0 for r in times for t in r)
    assert server.peers and all(peer[0] == "127.0.0.1" for peer in server.peers)
    assert server.echoes == 11


def test_percentile() -> None:
    """Percentiles interpolate between ranks and bracket the data."""
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert percentile([1.0, 2.0], 99) == pytest.approx(1.99)
    assert percentile([7.0], 99) == 7.0


def test_latency_restores_switch_interval() -> None:
    """The latency probe sets the switch interval for its run and restores it afterwards."""
    before = sys.getswitchinterval()
    out = latency.measure_latency("none", 0, 0.5, repeat=1, pings=5)
    assert out["switch_interval_ms"] == pytest.approx(0.5)
    assert sys.getswitchinterval() == before
    assert len(out["rounds"]) == 1 and out["rounds"][0]["p99"] >= out["rounds"][0]["p50"] > 0


@pytest.mark.parametrize("model", ["threads", "processes-fork"])
def test_latency_fields(capsys: pytest.CaptureFixture[str], model: str) -> None:
    """Latency under load: the baseline and a loaded run, with p50 <= p99 and the load running."""
    recs = records(capsys, "latency", "--model", model, "--workers", "0,1", "--pings", "20", *TINY)
    assert [(r["model"], r["workers"]) for r in recs] == [("none", 0), (model, 1)]
    for r in recs:
        assert r["probe"] == "latency" and r["status"] == "ok"
        assert 0 < r["p50_ms"] <= r["p99_ms"] <= r["max_ms"]
        assert r["switch_interval_ms"] == pytest.approx(5.0)
        assert r["python"] and r["cpu_count"] >= 1 and isinstance(r["free_threaded"], bool)
    assert recs[1]["load_tasks"] > 0 and recs[1]["workers_gil_enabled"] is not None


# Workers that look at the stop request every 5 ms end within milliseconds (a few here, a
# few tens on a loaded host); a second is "quickly" with room to spare, and far below the
# probe's own failure cap (settings.STOP_CAP_S), which only catches a worker that never stops.
QUICK_STOP_MS = 1000.0


@pytest.mark.alone
@pytest.mark.parametrize(
    "model,method",
    [("threads", "event"), ("processes-fork", "event"), ("processes-fork", "terminate")]
    + [("asyncio", "cancel")]
    + ([] if SUBINTERPRETERS else [("subinterpreters", "event")]),
)
def test_stop_fields(capsys: pytest.CaptureFixture[str], model: str, method: str) -> None:
    """Stop: join(timeout) returned with every worker running; then all stopped, quickly."""
    (r,) = records(
        capsys, "stop", "--model", model, "--method", method, "--workers", "2", "--check-ms", "5"
    )
    assert (r["probe"], r["model"], r["workers"], r["method"]) == ("stop", model, 2, method)
    assert r["status"] == "ok" and r["alive_after_join"] == 2
    assert r["check_ms"] > 0 and 0 <= r["stop_ms"] < QUICK_STOP_MS


@pytest.mark.parametrize("model", ["threads", "processes-fork", "asyncio"])
def test_start_fields(capsys: pytest.CaptureFixture[str], model: str) -> None:
    """Cold start: total seconds and per-worker milliseconds agree."""
    (r,) = records(capsys, "start", "--model", model, "--workers", "2", "--repeat", "2")
    assert r["status"] == "ok" and len(r["samples"]) == 2 and r["seconds"] > 0
    assert r["per_worker_ms"] == pytest.approx(r["seconds"] / 2 * 1000)


def test_memory_fields(capsys: pytest.CaptureFixture[str]) -> None:
    """Memory: idle and busy rows; the process tree counts the workers of a process pool."""
    recs = records(capsys, "memory", "--model", "threads,processes-fork", "--workers", "2", *TINY)
    assert [(r["model"], r["state"]) for r in recs] == [
        ("threads", "idle"),
        ("threads", "busy"),
        ("processes-fork", "idle"),
        ("processes-fork", "busy"),
    ]
    for r in recs:
        assert r["status"] == "ok" and r["rss_mb"] >= r["uss_mb"] > 0
        assert r["pss_mb"] is None or r["pss_mb"] > 0
    assert recs[0]["processes"] == 1 and recs[2]["processes"] >= 3


def test_transfer_fields(capsys: pytest.CaptureFixture[str]) -> None:
    """Transfer: each model uses its own methods by default, for bytes and numpy payloads."""
    recs = records(
        capsys, "transfer", "--model", "threads,processes-fork", "--payload", "64KiB", *TINY
    )
    got = {(r["model"], r["method"], r["payload_type"]) for r in recs}
    assert got == {
        ("threads", "shared", "bytes"),
        ("threads", "shared", "numpy"),
        ("processes-fork", "pickle", "bytes"),
        ("processes-fork", "pickle", "numpy"),
        ("processes-fork", "shared_memory", "bytes"),
        ("processes-fork", "shared_memory", "numpy"),
    }
    for r in recs:
        assert r["status"] == "ok" and r["payload_bytes"] == 65536 and r["seconds"] > 0


@pytest.mark.skipif(SUBINTERPRETERS is not None, reason=str(SUBINTERPRETERS))
def test_transfer_subinterpreters(capsys: pytest.CaptureFixture[str]) -> None:
    """Subinterpreters copy through a pipe or share memory; numpy cannot go there."""
    recs = records(capsys, "transfer", "--model", "subinterpreters", "--payload", "64KiB", *TINY)
    status = {(r["method"], r["payload_type"]): r["status"] for r in recs}
    assert status == {
        ("pickle", "bytes"): "ok",
        ("pickle", "numpy"): "skipped",
        ("shared_memory", "bytes"): "ok",
        ("shared_memory", "numpy"): "skipped",
    }


BAD_INPUT = [
    (["nosuch"], "invalid choice: 'nosuch'", "transfer"),  # argparse's quoting varies
    ([], "probe needs the name of a probe", "latency, stop, start, memory, transfer"),
    (["latency", "--model", "fibers"], "unknown --model 'fibers'", "threads, processes-fork"),
    (["stop", "--method", "kill"], "unknown --method 'kill'", "event, terminate, cancel"),
    (["transfer", "--method", "mmap"], "unknown --method 'mmap'", "shared, pickle, shared_memory"),
    (["transfer", "--payload", "0"], "--payload must be a whole number of bytes", "64MiB"),
    (["transfer", "--payload", "-3"], "--payload must be a whole number of bytes", "64MiB"),
    (["transfer", "--payload-type", "str"], "unknown --payload-type 'str'", "bytes, numpy"),
    (["latency", "--switch-interval", "0"], "--switch-interval must be a number greater", ""),
    (["latency", "--switch-interval", "-1"], "--switch-interval must be a number greater", ""),
    (["latency", "--workers", "-1"], "--workers must be an integer of at least 0", ""),
    (["memory", "--state", "hot"], "unknown --state 'hot'", "idle, busy"),
    (["start", "--workers", "0"], "--workers must be an integer of at least 1", ""),
    (["start", "--repeat", "0"], "--repeat must be an integer of at least 1", ""),
    (["start", "--timeout", "0"], "--timeout must be a number greater than 0", ""),
]


@pytest.mark.parametrize("argv,message,valid", BAD_INPUT, ids=[" ".join(a) for a, *_ in BAD_INPUT])
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str, valid: str
) -> None:
    """Bad input: exit 2, one line naming the rule and the valid choices, nothing measured."""
    assert run(*argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1, err
    assert message in err and valid in err and "Traceback" not in err


def test_payload_sizes() -> None:
    """Payload sizes take plain bytes or binary K/M/G suffixes."""
    assert parse_bytes("--payload", "65536") == 65536
    assert parse_bytes("--payload", "64KiB") == 65536
    assert parse_bytes("--payload", "64M") == 64 * 2**20
    assert parse_bytes("--payload", "1 GiB") == 2**30
    with pytest.raises(UsageError, match="greater than 0"):
        parse_bytes("--payload", "1.5MiB")


def test_not_applicable_is_reported_not_raised(capsys: pytest.CaptureFixture[str]) -> None:
    """Combinations a model cannot do are skipped rows with the reason, and the exit status is 0."""
    assert run("stop", "--model", "threads,serial", "--method", "terminate,cancel") == 0
    out = capsys.readouterr().out
    assert "threads cannot be killed" in out and "only asyncio tasks can be cancelled" in out
    assert "serial runs every task in turn on one thread" in out and "Traceback" not in out
    rec = transfer.probe_transfer("processes-fork", 1, "shared", 1024, repeat=1)
    assert rec.status == "skipped" and "share no objects" in rec.reason
    assert start.probe_start("serial", 1, repeat=1).status == "skipped"
    if SUBINTERPRETERS is not None:
        rec = latency.probe_latency("subinterpreters", 1, repeat=1)
        assert rec.status == "skipped" and rec.reason == SUBINTERPRETERS


def test_failure_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    """A measurement that times out fails alone: one stderr line, the rest still printed."""
    assert run("start", "--model", "threads", "--workers", "1", "--timeout", "0.001") == 1
    out, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("gilcompare probe start: threads, 1 workers: timed out after 0.001 s")
    assert "failed" in out.splitlines()[-1]


def test_the_real_command(cli) -> None:  # type: ignore[no-untyped-def]
    """`gilcompare probe` is wired into the command: bad input is exit 2, output is JSON."""
    proc = cli("probe", "stop", "--method", "kill")
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0
    proc = cli("probe", "start", "--model", "threads", "--workers", "1", "--json", *TINY)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["model"] == "threads"


def test_interrupt_leaves_nothing_behind(cli) -> None:  # type: ignore[no-untyped-def]
    """Ctrl-C during a probe under process load: exit 130 and every process is gone."""
    proc = cli.popen("probe", "latency", "--model", "processes-fork", "--workers", "1,2")
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
