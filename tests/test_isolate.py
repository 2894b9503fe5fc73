"""Tests for gilcompare.measure.isolate: a measuring child never outlives its parent or its
deadline."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest


def _cmdline(proc: psutil.Process) -> str:
    """The process's command line; empty for one that has exited (a zombie included)."""
    try:
        return " ".join(proc.cmdline())
    except psutil.Error:
        return ""


def _wait_for_workers(cli, count: int, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    """Until the run's isolated child is up with its workers (``count`` processes in all)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        procs = cli.survivors()
        if len(procs) >= count and any("gilcompare.measure.isolate" in _cmdline(p) for p in procs):
            return
        time.sleep(0.05)
    raise AssertionError("the measurement never started")


def _wait_for_records(output: Path, count: int, timeout: float = 60) -> None:
    """Until the run's --output file holds ``count`` measurements."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(OSError, ValueError):
            if len(json.loads(output.read_text(encoding="utf-8"))) >= count:
                return
        time.sleep(0.05)
    raise AssertionError(f"{output} never held {count} measurements")


def _gone_within(cli, seconds: float) -> list[psutil.Process]:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        left = cli.survivors()
        if not left and not list(cli.tmp.iterdir()):
            return []
        time.sleep(0.1)
    return cli.survivors()


# a measurement long enough to be caught in the middle, with the pool's workers running
LONG_RUN = [
    "--workload",
    "sleep",
    "--workers",
    "2",
    "--repeat",
    "4",
    "--profile",
    "quick",
    "--quiet",
    "--timeout",
    "120",
]


@pytest.mark.parametrize(
    "model,processes",
    [("processes-forkserver", 4), ("processes-fork", 4), ("threads", 2)],
)
def test_sigkill_of_the_parent_leaves_nothing(cli, model: str, processes: int) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL the parent mid-measurement: within 5 s no process of the run, no temp folder."""
    proc = cli.popen("run", "--model", model, *LONG_RUN)
    try:
        _wait_for_workers(cli, processes)  # parent, child and the pool's workers
    finally:
        proc.kill()
    proc.wait(timeout=10)
    assert _gone_within(cli, 5) == []
    assert list(cli.tmp.iterdir()) == []


def test_sighup_is_handled_like_sigterm(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """SIGHUP (terminal closed): exit 129, results so far kept, nothing left after 5 s."""
    output = tmp_path / "kept.json"
    proc = cli.popen("run", "--model", "processes-fork", *LONG_RUN, "--output", str(output))
    try:
        _wait_for_records(output, 1)  # the serial baseline, saved before the pool starts
        _wait_for_workers(cli, 4)
    finally:
        proc.send_signal(signal.SIGHUP)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 129, err
    assert "Traceback" not in err
    assert _gone_within(cli, 5) == []
    # the pool's workers run only after the serial baseline was measured: that one is kept
    kept = json.loads(output.read_text(encoding="utf-8"))
    assert f"interrupted; {len(kept)} measurements kept" in err
    assert [(r["workload"], r["model"], r["status"]) for r in kept] == [("sleep", "serial", "ok")]


def test_child_keeps_its_own_deadline(tmp_path: Path) -> None:
    """A child whose parent stays alive but never stops it ends itself at its deadline."""
    run = tmp_path / "gilcompare-run-deadline"
    run.mkdir()
    watch, lifeline = os.pipe()
    spec = {
        "target": "gilcompare.workloads.faults:fault_hang",
        "kwargs": {"size": 1},
        "watch_fd": watch,
        "deadline": 1.0,
    }
    (run / "call.json").write_text(json.dumps(spec))
    started = time.monotonic()
    try:
        child = _start_child(run, watch)
        os.close(watch)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        os.close(lifeline)
    assert time.monotonic() - started < 20
    end = time.monotonic() + 5
    while run.exists() and time.monotonic() < end:
        time.sleep(0.1)
    assert not run.exists()  # the reaper removed the child's temp folder


def _start_child(run: Path, watch: int) -> subprocess.Popen[bytes]:
    """The measuring child on run/call.json, watching the pipe end ``watch``."""
    argv = [sys.executable, "-m", "gilcompare.measure.isolate", str(run / "call.json")]
    return subprocess.Popen(
        [*argv, str(run / "result.json")],
        env=dict(os.environ, TMPDIR=str(run)),
        pass_fds=(watch,),
        start_new_session=True,
    )


def test_child_ends_when_its_parent_closes_the_pipe(tmp_path: Path) -> None:
    """The pipe's end-of-file alone (no signal) ends the child and its folder."""
    run = tmp_path / "gilcompare-run-pipe"
    run.mkdir()
    watch, lifeline = os.pipe()
    spec = {
        "target": "gilcompare.workloads.faults:fault_hang",
        "kwargs": {"size": 1},
        "watch_fd": watch,
        "deadline": 600.0,
    }
    (run / "call.json").write_text(json.dumps(spec))
    child = _start_child(run, watch)
    os.close(watch)
    time.sleep(1.0)
    assert child.poll() is None  # alive while the pipe is open
    os.close(lifeline)
    assert child.wait(timeout=10) == -signal.SIGKILL
    end = time.monotonic() + 5
    while run.exists() and time.monotonic() < end:
        time.sleep(0.1)
    assert not run.exists()


# The main thread forks without pause (as a pool starting its workers does) while the
# lifeline abandons the call: every fork copies whatever pipe the lifeline holds open then.
_FORKING_CHILD = """
import os, sys, threading, time
from gilcompare.measure import isolate
os.environ["TMPDIR"] = sys.argv[1]
threading.Thread(target=lambda: (time.sleep(0.3), isolate._abandon()), daemon=True).start()
while True:
    if os.fork() == 0:
        time.sleep(60)
        os._exit(0)
    time.sleep(0.0005)
"""


def test_abandon_is_not_held_up_by_a_fork_in_another_thread(tmp_path: Path) -> None:
    """The lifeline kills the group and the folder goes while the main thread keeps forking
    (a reaper started by subprocess would wait for ever on a pipe the forks inherited)."""
    run = tmp_path / "gilcompare-run-forking"
    run.mkdir()
    child = subprocess.Popen(
        [sys.executable, "-c", _FORKING_CHILD, str(run)],
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        status = child.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        pytest.fail("the abandoned child was still alive after 5 s")
    assert status == -signal.SIGKILL
    end = time.monotonic() + 5
    while (run.exists() or _group_alive(child.pid)) and time.monotonic() < end:
        time.sleep(0.1)
    assert not run.exists()
    assert not _group_alive(child.pid), "a forked process of the abandoned group lives on"


def _group_alive(group: int) -> bool:
    """Whether any process of ``group`` is alive (zombies waiting for init do not count)."""
    return any(
        p.info["status"] != psutil.STATUS_ZOMBIE
        for p in psutil.process_iter(["status"])
        if _pgid(p.pid) == group
    )


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def test_nohup_survives_a_hang_up(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Started with SIGHUP ignored (nohup): a hang-up sent to the run, its measuring child and
    the pool's workers mid-measurement ends nothing; every measurement is kept, exit 0."""
    out = tmp_path / "out.json"
    proc = cli.popen(
        "run",
        "--workload",
        "sleep",
        "--model",
        "processes-fork",
        "--workers",
        "2",
        "--profile",
        "tiny",
        "--repeat",
        "40",
        "--quiet",
        "--json",
        "--output",
        str(out),
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )
    try:
        _wait_for_workers(cli, 4)  # parent, child and the pool's two workers
        family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        for p in family:
            with contextlib.suppress(psutil.NoSuchProcess):  # a worker ending meanwhile
                p.send_signal(signal.SIGHUP)
    except BaseException:
        proc.kill()
        raise
    stdout, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    records = json.loads(stdout)
    assert [(r["model"], r["status"]) for r in records] == [
        ("serial", "ok"),
        ("processes-fork", "ok"),
    ]
    assert json.loads(out.read_text()) == records


def _states(procs: list[psutil.Process]) -> list[tuple[int, str]]:
    """Each process's pid and status; "gone" for one that has exited (a zombie included)."""
    states = []
    for p in procs:
        try:
            status = p.status()
        except psutil.NoSuchProcess:
            status = "gone"
        states.append((p.pid, "gone" if status == psutil.STATUS_ZOMBIE else status))
    return states


def _family(parent: psutil.Process) -> list[psutil.Process]:
    """The run and its live descendants, the run's resource tracker left out: idle in a
    session of its own, it must outlive everything else to unlink what they leak. A child
    that exits while it is listed (a zombie included) is left out."""
    return [parent] + [
        p
        for p in parent.children(recursive=True)
        if (cmdline := _cmdline(p)) and "multiprocessing.resource_tracker" not in cmdline
    ]


def _all_stopped(procs: list[psutil.Process], stopped: bool, timeout: float = 10) -> bool:
    """Whether every process in ``procs`` is (or, with stopped=False, is no longer) stopped.

    A process that exits meanwhile is left out: a worker of a pool that closes as its cell
    ends (the noise gauge's, say) may end between the snapshot and the signal. The first
    process (the run itself) must still be there."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        states = _states(procs)
        if states[0][1] == "gone":
            return False
        if all((s == psutil.STATUS_STOPPED) == stopped for _, s in states if s != "gone"):
            return True
        time.sleep(0.05)
    return False


def test_ctrl_z_stops_and_continues_the_measuring_child(cli) -> None:  # type: ignore[no-untyped-def]
    """SIGTSTP (Ctrl-Z) stops the run and the measuring child with its workers; SIGCONT (fg)
    resumes them all, and the run ends normally with every measurement made."""
    proc = cli.popen(
        "run",
        "--model",
        "processes-fork",
        *LONG_RUN,
        "--json",
        # its own process group, as a shell's job: a stop is discarded in an orphaned group
        preexec_fn=os.setpgrp,
    )
    family: list[psutil.Process] = []
    try:
        _wait_for_workers(cli, 4)
        family = _family(psutil.Process(proc.pid))
        proc.send_signal(signal.SIGTSTP)
        assert _all_stopped(family, True), _states(family)
        time.sleep(0.5)
        assert _all_stopped(family, True)
        proc.send_signal(signal.SIGCONT)
        assert _all_stopped(family, False), _states(family)
    except BaseException:
        for p in family:  # a stopped process would outlive the test
            with contextlib.suppress(psutil.Error):
                p.send_signal(signal.SIGCONT)
        proc.kill()
        raise
    stdout, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert {r["status"] for r in json.loads(stdout)} == {"ok"}


def test_call_with_stdin_closed() -> None:
    """In a process whose fd 0 is closed, the child's lifeline pipe cannot land on fd 0 (and be
    replaced by the child's /dev/null stdin): the call returns its value."""
    script = (
        "import os, sys\n"
        "os.close(0)\n"
        "from gilcompare.measure import isolate\n"
        "print(isolate.call('gilcompare.workloads.cpu:count', {'size': 1}, timeout=60))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().isdigit()


def _in_private_shm(script: str, env: dict[str, str], timeout: float = 120) -> str:
    """Run ``script`` (sh) in a mount namespace with a fresh tmpfs on /dev/shm; return what
    /dev/shm holds afterwards, so nothing else on the machine can be mistaken for a leak."""
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs none /dev/shm"],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip("a private /dev/shm needs root and unshare -m")
    wrapped = f"mount -t tmpfs none /dev/shm || exit 9\n{script}\nsleep 1\nls -A /dev/shm"
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", wrapped],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_sweep_removes_what_a_dead_process_named_and_nothing_else(tmp_path: Path) -> None:
    """A shared-memory block the kill caught before the tracker heard of it, and loky's
    semaphores, are found by their creator's process id; another process's names stay."""
    from gilcompare.measure import leftovers

    mine = leftovers.shared_memory_name()
    pid = os.getpid()
    assert mine.startswith(f"gc-{pid}-") and len(mine) < 31  # macOS allows 31 with the slash
    other = mine.replace(f"gc-{pid}-", f"gc-{pid}0-")
    names = [mine, f"sem.loky-{pid}-abc", other, f"sem.loky-{pid}0-abc", "psm_1234"]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    leftovers.sweep_named(pid, root=str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[2:])


def test_dev_shm_is_left_empty_after_timeouts_and_a_killed_parent(cli) -> None:  # type: ignore[no-untyped-def]
    """Named semaphores (multiprocessing, loky), a SharedMemory block and joblib's memmap folder:
    none left in a private /dev/shm after timed-out runs and a parent killed mid-run."""
    gc = f"{sys.executable} -m gilcompare"
    hang = "--workload fault-hang --workers 2 --size 1 --tasks 2 --repeat 1 --quiet --timeout 2"
    # side by side, to keep the test short: the timeouts, the transfer, the killed parent
    script = f"""
{gc} run --model mp-pool-spawn,loky,joblib-loky {hang} >/dev/null 2>&1 &
{gc} probe transfer --model processes-spawn --method shared_memory --payload 64MiB \\
    --payload-type bytes --repeat 200 --timeout 2 >/dev/null 2>&1 &
{gc} run --model dask-processes --workload sleep --workers 2 --size 50 --tasks 400 \\
    --repeat 3 --quiet >/dev/null 2>&1 &
killed=$!
sleep 6; kill -9 $killed; wait; sleep 3
"""
    left = _in_private_shm(script, cli.env())
    assert left.split() == []
    assert _gone_within(cli, 5) == []


# the command line as its console script starts it: the current folder is not on sys.path
_ENTRY = "import sys; del sys.path[0]; from gilcompare.cli import main; sys.exit(main())"


def test_a_module_in_the_current_folder_does_not_shadow_the_stdlib_in_the_child(
    cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """json.py and random.py in the user's folder: every measuring child still uses the
    standard library's, so each measurement is made."""
    for name in ("json", "random", "tempfile"):
        (tmp_path / f"{name}.py").write_text(f"raise SystemExit('shadowed {name}')\n")
    argv = ["run", "--workload", "count", "--model", "serial,threads,processes-spawn"]
    argv += ["--workers", "2", "--profile", "tiny", "--repeat", "1", "--quiet", "--json"]
    done = subprocess.run(
        [sys.executable, "-c", _ENTRY, *argv],
        cwd=tmp_path,
        env=cli.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert {r["status"] for r in json.loads(done.stdout)} == {"ok"}


@pytest.mark.parametrize(
    "where,error",
    [
        ("tempfile.gettempdir", FileNotFoundError(2, "No usable temporary directory found")),
        ("os.mkdir", OSError(28, "No space left on device")),
        ("subprocess.Popen", BlockingIOError(11, "Resource temporarily unavailable")),
    ],
)
def test_no_temporary_folder_or_process_is_a_failed_measurement(
    monkeypatch: pytest.MonkeyPatch, where: str, error: OSError
) -> None:
    """A full or missing TMPDIR, or a process limit reached: one failed measurement with the
    reason, not a traceback, and no temporary folder left."""
    from gilcompare.measure import isolate

    module, name = where.split(".")

    def fail(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise error

    monkeypatch.setattr(getattr(isolate, module), name, fail)
    with pytest.raises(isolate.IsolatedFailure, match="could not start the measuring process"):
        isolate.call("gilcompare.workloads:get_workload", {"name": "count"}, timeout=30)


@pytest.mark.parametrize(
    "argv",
    [["report", "x.json"], ["run", "--workload", "count", "--model", "serial", "--dry-run"]],
)
def test_a_deleted_current_folder_is_one_line(cli, tmp_path: Path, argv: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Started from a folder deleted meanwhile: one line and exit 2, no traceback."""
    gone = tmp_path / "gone"
    gone.mkdir()
    script = (
        f"import os, sys; del sys.path[0]; os.chdir({str(gone)!r}); os.rmdir({str(gone)!r})\n"
        "from gilcompare.cli import main; sys.exit(main())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *argv],
        env=cli.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "current folder no longer exists" in done.stderr
