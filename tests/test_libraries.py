"""Tests for gilcompare.models.libraries: joblib, dask.distributed, multiprocessing.Pool and a
worker per task behave like every other model, and a dask cluster we did not start stays up."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from gilcompare.measure.cells import checksum, plan
from gilcompare.models import DEPLOYED_MODELS, get_model, libraries
from gilcompare.workloads import get_workload

needs_dask = pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None, reason="dask.distributed is not installed"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def dask_cluster() -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """A real scheduler and two single-thread worker processes on 127.0.0.1, started here."""
    dask = Path(sys.executable).with_name("dask")
    if not dask.exists():
        pytest.skip("the dask command is not installed beside this Python")
    address = f"tcp://127.0.0.1:{_free_port()}"
    port = address.rsplit(":", 1)[1]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"], **quiet
    )
    workers = subprocess.Popen(
        [dask, "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"]
        + ["--host", "127.0.0.1"],
        **quiet,
    )
    procs = [scheduler, workers]
    try:
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address, procs
    finally:
        for proc in procs:
            family = psutil.Process(proc.pid).children(recursive=True)
            proc.terminate()
            proc.wait(timeout=30)
            psutil.wait_procs(family, timeout=10)


def test_every_deployed_model_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without its library a model is unavailable with the command that installs it."""
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    for name in ("joblib-loky", "joblib-threads", "dask-processes", "dask-threads"):
        assert libraries.INSTALL_HINT in (get_model(name).unavailable() or ""), name
    assert get_model("mp-pool-fork").unavailable() is None  # the standard library's


@pytest.mark.parametrize(
    "address", ["nonsense", "tcp://127.0.0.1", "tcp://:8786", "http://h:1", "tcp://h:99999"]
)
def test_malformed_scheduler_address(address: str) -> None:
    """An address that is not tcp://HOST:PORT is refused before anything starts."""
    with pytest.raises(ValueError, match="malformed dask scheduler address"):
        libraries.dask_scheduler_address(address)


def test_malformed_address_on_the_command_line(cli) -> None:  # type: ignore[no-untyped-def]
    """The command line turns it into one line and exit 2."""
    done = cli("run", "--workload", "count", "--model", "dask-cluster", "--dask-scheduler", "x")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "tcp://HOST:PORT" in done.stderr


@needs_dask
def test_unreachable_scheduler_fails_in_time(cli) -> None:  # type: ignore[no-untyped-def]
    """A scheduler nobody listens for is one failed cell naming the address, not a hang."""
    address = f"tcp://127.0.0.1:{_free_port()}"
    argv = ["run", "--workload", "count", "--model", "dask-cluster", "--workers", "2"]
    argv += ["--profile", "tiny", "--repeat", "1", "--timeout", "60", "--quiet"]
    t0 = time.monotonic()
    done = cli(*argv, "--dask-scheduler", address, timeout=90)
    assert done.returncode == 1 and address in done.stderr
    assert time.monotonic() - t0 < 60


@needs_dask
def test_existing_cluster_runs_and_is_left_running(no_orphans, dask_cluster) -> None:  # type: ignore[no-untyped-def]
    """dask-cluster gives the serial answers on a cluster it did not start, and leaves it up."""
    address, procs = dask_cluster
    w = get_workload("count")
    sizes = plan(w, "strong", 2, "tiny")
    with get_model("serial").start(1) as serial:
        expected = checksum(serial.run(w.fn, sizes))
    os.environ[libraries.DASK_SCHEDULER_ENV] = address
    try:
        with get_model("dask-cluster").start(2) as runner:
            infos = runner.warm(w)
            got = checksum(runner.run(w.fn, sizes))
    finally:
        del os.environ[libraries.DASK_SCHEDULER_ENV]
    assert got == expected
    assert len({info["pid"] for info in infos}) == 2  # both of the cluster's workers ran tasks
    assert all(proc.poll() is None for proc in procs)  # the run does not own the cluster


@needs_dask
@pytest.mark.parametrize("model", ["dask-processes", "dask-threads"])
def test_a_local_cluster_listens_on_loopback_only(model: str, no_orphans: None) -> None:
    """The scheduler's own HTTP routes too: loopback and an ephemeral port, not *:8787."""

    def listening() -> set[tuple[str, int]]:
        me = psutil.Process()
        found = set()
        for p in [me, *me.children(recursive=True)]:
            try:
                conns = p.net_connections(kind="inet")
            except psutil.Error:  # a process that ended while listed
                continue
            found |= {(c.laddr.ip, c.laddr.port) for c in conns if c.status == psutil.CONN_LISTEN}
        return found

    before = listening()
    with get_model(model).start(2) as runner:
        runner.warm(get_workload("count"))
        opened = listening() - before
    assert opened or model == "dask-threads"  # the threads' cluster talks in memory
    assert all(ip == "127.0.0.1" and port != 8787 for ip, port in opened), opened


@pytest.mark.parametrize("model", ["process-per-task", "thread-per-task", "mp-pool-fork"])
def test_a_failing_task_is_one_error_and_nothing_is_left(model: str, no_orphans: None) -> None:
    """A task that raises or a worker that exits ends the call with an error, no leftovers."""
    w = get_workload("fault-raise")
    with get_model(model).start(2) as runner, pytest.raises(Exception, match="injected"):
        runner.run(w.fn, [1, 1, 1])
    if model == "process-per-task":
        with get_model(model).start(2) as runner, pytest.raises(RuntimeError, match="exited"):
            runner.run(get_workload("fault-exit").fn, [1, 1])


def test_deployed_models_are_measured_only_when_named() -> None:
    """The default grid of `gilcompare run` and the probes stays the executors' one."""
    from gilcompare.cli import probe
    from gilcompare.models import STANDARD_MODELS

    assert not set(DEPLOYED_MODELS) & set(STANDARD_MODELS)
    assert not set(DEPLOYED_MODELS) & set(probe.DEFAULT_MODELS)


@pytest.mark.parametrize(
    "model", ["thread-per-task", "mp-pool-fork", "joblib-threads", "dask-threads"]
)
def test_cold_start_starts_the_library_itself(
    model: str, no_orphans: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The start probe times the model's own start and close, not a stand-in pool: a no-op per
    worker runs through the model's runner (dask's map needs arguments; the probe's have none)."""
    if get_model(model).unavailable():
        pytest.skip(get_model(model).unavailable())
    from gilcompare.probes import start

    calls: list[str] = []
    real = get_model(model).start

    class Spy:
        def __getattr__(self, name: str) -> object:
            return getattr(get_model(model), name)

        def start(self, workers: int) -> object:
            calls.append(model)
            return real(workers)

    monkeypatch.setattr(start, "get_model", lambda name: Spy())
    start.start_workers(model, 2)
    assert calls == [model]


LIBRARY_STOPS = [
    ("joblib-loky", "event"),
    ("joblib-loky", "terminate"),
    ("joblib-threads", "event"),
    ("dask-processes", "event"),
    ("dask-processes", "terminate"),
    ("dask-threads", "event"),
    ("mp-pool-fork", "event"),
    ("mp-pool-fork", "terminate"),
    ("process-per-task", "terminate"),
    ("thread-per-task", "event"),
]


# "Quickly", independent of the probe's failure cap (settings.STOP_CAP_S): a library's stop
# ends two tasks that check every 5 ms within tens of milliseconds (joblib-threads ~0.1 s),
# except closing a dask LocalCluster, whose nannies take about 4 s to kill their workers.
QUICK_STOP_MS: dict[tuple[str, str] | None, float] = {
    None: 2000.0,
    ("dask-processes", "terminate"): 8000.0,
    # joblib's abort of a loky call: 0.09-4.6 s over 15 rounds on 3.13t (median 0.27 s); with
    # another test beside it once 8.8 s, which is why these tests run alone
    ("joblib-loky", "terminate"): 8000.0,
}


# CPython calls 3.13's free-threaded build experimental: a library's threads can crash it
EXPERIMENTAL_FREE_THREADING = sys.version_info[:2] == (3, 13) and bool(
    sysconfig.get_config_var("Py_GIL_DISABLED")
)


@pytest.mark.alone
@pytest.mark.parametrize("model,method", LIBRARY_STOPS)
def test_stop_probe_stops_each_library(
    model: str, method: str, no_orphans: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stop probe runs the library's own tasks: the seed's join(timeout) returns with every
    task running, the library's stop ends them all within the cap, nothing is left behind."""
    if get_model(model).unavailable():
        pytest.skip(get_model(model).unavailable())
    from gilcompare.probes.stop import probe_stop

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    rec = probe_stop(model, 2, method, check_ms=5, repeat=1, timeout=120)
    if rec.reason.startswith("crashed with SIG") and EXPERIMENTAL_FREE_THREADING:
        # the probe reported the crash as it should; the crash is the interpreter's (seen once
        # in eight rounds of dask-processes' close on 3.13t), so the stop gets one more round
        rec = probe_stop(model, 2, method, check_ms=5, repeat=1, timeout=120)
    assert rec.status == "ok", rec.reason
    assert rec.alive_after_join == 2
    quick = QUICK_STOP_MS.get((model, method), QUICK_STOP_MS[None])
    assert rec.stop_ms is not None and 0 <= rec.stop_ms < quick
    assert not list(tmp_path.glob("gilcompare-stop-*"))


def test_a_pool_whose_terminate_hangs_is_killed_in_bounded_time(
    no_orphans: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pool.terminate() can hang for ever (python/cpython#78178): the probe's round gives up
    on it at the cap, kills the workers itself, and says the stop failed."""
    import multiprocessing.pool
    import threading

    from gilcompare.probes import stop_libraries

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(stop_libraries, "STOP_CAP_S", 1.0)
    # where the reported hangs stop: after the pool stopped replacing workers, before killing
    hang = staticmethod(lambda *args: threading.Event().wait())
    monkeypatch.setattr(multiprocessing.pool.Pool, "_help_stuff_finish", hang)
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="2 of 2 workers still ran 1 s after the request"):
        stop_libraries.stop_pool(get_model("mp-pool-fork"), 2, "terminate", 1000)
    assert time.monotonic() - started < 20


@pytest.mark.parametrize(
    "model,method,why",
    [
        ("dask-processes", "cancel", "the task runs on"),
        ("dask-threads", "terminate", "cannot stop one that is running"),
        ("dask-cluster", "terminate", "not the run's to stop"),
        ("joblib-loky", "cancel", "no per-task cancel"),
        ("joblib-threads", "terminate", "cannot interrupt a running task"),
        ("loky", "event", "keeps its workers for reuse"),
    ],
)
def test_stop_says_what_a_library_cannot_do(
    model: str, method: str, why: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a library cannot stop is a skipped record with the reason, never a measurement."""
    from gilcompare.probes.stop import not_applicable

    monkeypatch.setenv(libraries.DASK_SCHEDULER_ENV, "tcp://127.0.0.1:8786")
    reason = get_model(model).unavailable()
    if reason is not None and "scheduler" not in reason:
        pytest.skip(reason)
    assert why in (not_applicable(model, method) or "")


@pytest.mark.parametrize("model", ["joblib-threads", "thread-per-task", "dask-threads"])
def test_transfer_knows_which_libraries_share_the_payload(model: str, no_orphans: None) -> None:
    """joblib's threads and a thread per task are handed the payload itself (no pickle round is
    timed for them); dask pickles arguments into its graph even for threads, and says so."""
    if get_model(model).unavailable():
        pytest.skip(get_model(model).unavailable())
    from gilcompare.probes import transfer

    copies = model == "dask-threads"
    assert transfer.methods_for(model) == (["pickle", "shared_memory"] if copies else ["shared"])
    reason = transfer.not_applicable(model, "shared" if copies else "pickle") or ""
    assert ("dask pickles" if copies else "nothing is pickled") in reason
    rec = transfer.probe_transfer(model, 2, "pickle" if copies else "shared", 1000, repeat=1)
    assert (rec.status, rec.reason) == ("ok", "")  # "shared" checks each worker got the object


@needs_dask
def test_a_mute_peer_fails_in_time_naming_its_address(monkeypatch: pytest.MonkeyPatch) -> None:
    """A peer that accepts and never answers is given up on after the connect timeout (not
    the cell's), in one line that names its address."""
    from distributed import Client

    with socket.socket() as mute:
        mute.bind(("127.0.0.1", 0))
        mute.listen(8)
        address = f"tcp://127.0.0.1:{mute.getsockname()[1]}"
        monkeypatch.setattr(libraries, "DASK_CONNECT_TIMEOUT", 1.0)
        t0 = time.monotonic()
        with pytest.raises(RuntimeError, match=f"at {address} within 1 s"):
            libraries._connect(Client, address)
        assert time.monotonic() - t0 < 4


@needs_dask
def test_a_scheduler_that_goes_silent_mid_run_fails_in_time_naming_its_address(
    no_orphans: None,
    dask_cluster: tuple[str, list[subprocess.Popen[bytes]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The scheduler of an existing cluster stops answering (SIGSTOP) while its tasks run:
    the call fails within the watch and connect timeouts, not the cell's, naming the address;
    a slow task on a scheduler that answers is waited for."""
    address, (scheduler, _) = dask_cluster
    monkeypatch.setattr(libraries, "DASK_WATCH", 0.5)
    monkeypatch.setattr(libraries, "DASK_CONNECT_TIMEOUT", 2.0)
    monkeypatch.setenv(libraries.DASK_SCHEDULER_ENV, address)
    with get_model("dask-cluster").start(2) as runner:
        assert runner.run(time.sleep, [1.5, 1.5]) == [None, None]  # three watches answered
        threading.Timer(1.0, os.kill, (scheduler.pid, signal.SIGSTOP)).start()
        outcome: list[BaseException | list[object]] = []

        def call() -> None:
            try:
                outcome.append(runner.run(time.sleep, [6, 6]))
            except BaseException as exc:  # noqa: BLE001 - checked below
                outcome.append(exc)

        waiting = threading.Thread(target=call, daemon=True)
        try:
            waiting.start()
            waiting.join(8)  # the stop at 1 s, a watch of 0.5 s and a 2 s check
            assert outcome, "still waiting on a silent scheduler after 8 s"
        finally:
            os.kill(scheduler.pid, signal.SIGCONT)
            waiting.join(30)
        assert isinstance(outcome[0], RuntimeError), outcome
        assert f"scheduler at {address} stopped answering" in str(outcome[0])


@needs_dask
def test_no_task_runs_on_an_existing_cluster_after_the_run(cli, dask_cluster) -> None:  # type: ignore[no-untyped-def]
    """A run that timed out with hung tasks on somebody else's cluster: 5 s after it ended,
    none of its tasks is running there any more."""
    from distributed import Client

    address, _ = dask_cluster
    argv = ["run", "--workload", "fault-hang", "--model", "dask-cluster", "--workers", "2"]
    argv += ["--size", "1", "--tasks", "2", "--repeat", "1", "--timeout", "3", "--quiet"]
    done = cli(*argv, "--dask-scheduler", address, timeout=60)
    assert done.returncode == 1 and "timed out" in done.stderr
    time.sleep(5)
    with Client(address, timeout=30, set_as_default=False) as client:
        executing = client.run(lambda dask_worker: len(dask_worker.state.executing))
    assert sum(executing.values()) == 0, executing
