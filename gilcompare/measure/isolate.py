"""Run one measurement in a child process of its own, with a timeout, and leave nothing behind.

A worker that segfaults, calls ``os._exit`` or hangs takes down (or freezes) the process it
runs in; for threads and asyncio that is the measuring process itself. So, like pyperf and
asv, the command line runs every measurement in a fresh child: it starts a new session (its
own process group), gets a private temporary directory as ``TMPDIR`` and reports through a
JSON file. Whatever happens — success, exception, crash, timeout, Ctrl-C — the whole process
group and every descendant is killed and the directory removed before this module returns.

When the parent itself dies without running any code (SIGKILL, a crash), the child notices:
it holds the read end of a pipe whose only writer is the parent, and a thread of its own
wakes when the pipe reaches end-of-file, kills its process group (itself and every worker)
and leaves a short-lived reaper to remove the temporary directory. The same thread enforces
the child's own deadline (a little after the parent's timeout), so a child never runs on
forever. SIGHUP is handled like SIGTERM, in parent and child: exit status 128 + the signal,
129 for SIGHUP — unless it was ignored when the command started (``nohup``): then it stays
ignored in the child and its workers too.

The child's own session keeps the terminal's signals away from it, so job control is passed
on by hand: ``stop_children`` and ``continue_children`` stop and resume every live child's
process group when the parent is stopped (Ctrl-Z) and continued, and the time spent stopped
counts towards neither the parent's timeout nor the child's own deadline. What is left in
/dev/shm is ``gilcompare.measure.leftovers``' business.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from typing import Any

from gilcompare.errors import Interrupted
from gilcompare.measure import leftovers

TMP_PREFIX = "gilcompare-run-"
# process groups of the measuring children alive now (each child leads its own group)
_LIVE: set[int] = set()
# seconds this process has spent stopped (Ctrl-Z) so far; timeouts leave them out
_STOPPED = [0.0]
# the child's lifeline wakes this often to tell time spent stopped from time spent running
_WATCH_SLICE = 10.0


class IsolatedFailure(RuntimeError):
    """The isolated call did not return a value: ``reason`` says why in one line."""

    def __init__(self, reason: str, traceback: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.traceback = traceback


def call(
    target: str,
    kwargs: dict[str, Any],
    timeout: float | None = None,
    python: str | None = None,
    env: dict[str, str] | None = None,
) -> Any:
    """Call ``module:function(**kwargs)`` in a fresh child process; return its JSON result.

    ``python`` runs the child under another interpreter (this one by default) and ``env``
    adds variables to its environment; the child needs only the standard library and
    gilcompare itself (psutil is the parent's).

    Raises IsolatedFailure when the call raised, crashed, exited or ran past ``timeout``.
    Interrupted/KeyboardInterrupt propagate after the child's whole tree is gone.
    """
    # imported here, not at the top: a spawned worker re-imports this module (the child's
    # __main__) before it starts, and what it imports is part of a timed cold start
    from gilcompare.settings import DEFAULT_TIMEOUT, GRACE, OWN_DEADLINE_MARGIN

    if timeout is None:
        timeout = DEFAULT_TIMEOUT
    tmp = ""
    watch = lifeline = tracked = -1
    tracker: subprocess.Popen[bytes] | None = None
    proc: subprocess.Popen[bytes] | None = None
    try:
        try:
            # named before it is made, so an interrupt between the two still finds it to remove
            where = _short_tempdir() or tempfile.gettempdir()
            tmp = os.path.join(where, TMP_PREFIX + secrets.token_hex(6))
            os.mkdir(tmp, 0o700)
            # the child watches the read end; only the parent holds the write end
            watch, lifeline = (leftovers.above_standard(fd) for fd in os.pipe())
            spec_path = os.path.join(tmp, "call.json")
            result_path = os.path.join(tmp, "result.json")
            log_path = os.path.join(tmp, "stderr.log")
            tracker, tracked = leftovers.start_tracker(python or sys.executable)
            spec = {
                "target": target,
                "kwargs": kwargs,
                "watch_fd": watch,
                "tracker_fd": tracked if tracker is not None else None,
                "deadline": timeout + OWN_DEADLINE_MARGIN,
                "cwd": _current_folder(),
            }
            with open(spec_path, "w", encoding="utf-8") as f:
                json.dump(spec, f)
            env = _child_environment(env, tmp, python, spec["cwd"])
            with open(log_path, "wb") as log:
                # started in its private folder: a module in the user's current folder
                # (json.py, random.py) cannot shadow the standard library there, and a
                # current folder deleted meanwhile does not matter
                proc = subprocess.Popen(
                    [
                        python or sys.executable,
                        "-m",
                        "gilcompare.measure.isolate",
                        spec_path,
                        result_path,
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    env=env,
                    cwd=tmp,
                    start_new_session=True,
                    pass_fds=(watch,) if tracker is None else (watch, tracked),
                )
        except (OSError, subprocess.SubprocessError) as exc:
            # a full or unwritable temporary folder, a process limit: this measurement fails
            why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise IsolatedFailure(f"could not start the measuring process: {why}") from None
        _LIVE.add(proc.pid)
        os.close(watch)
        watch = -1
        if tracker is not None:  # from now on the child's tree holds the only write ends
            os.close(tracked)
            tracked = -1
        try:
            returncode = _wait(proc, timeout)
        except subprocess.TimeoutExpired:
            stop_tree(proc, grace=0.5)
            raise IsolatedFailure(
                f"timed out after {timeout:g} s; its whole process tree was killed",
                _tail(log_path),
            ) from None
        except BaseException:
            stop_tree(proc, grace=GRACE)
            raise
        finally:
            stop_tree(proc, grace=0)
            _LIVE.discard(proc.pid)
        return _outcome(returncode, result_path, log_path)
    finally:
        _clean_up(tmp, (watch, lifeline, tracked), tracker, proc.pid if proc else None)


def _current_folder() -> str | None:
    """The current folder, or None when it was deleted (or cannot be read)."""
    try:
        return os.getcwd()
    except OSError:
        return None


def _child_environment(
    extra: dict[str, str] | None, tmp: str, python: str | None, cwd: str | None
) -> dict[str, str]:
    """The child's variables: ours, the caller's, the private TMPDIR (joblib's too), and
    PYTHONSAFEPATH (3.11+): a Python it starts (a spawned worker's ``-c``) puts no current
    folder, the user's again, first on sys.path, where a json.py would shadow the stdlib.
    When gilcompare was found in the current folder (a source checkout run with ``python
    -m``), that folder goes on PYTHONPATH, which the child's own folder would lose."""
    env = dict(os.environ, **(extra or {}), TMPDIR=tmp, JOBLIB_TEMP_FOLDER=tmp)
    env.update(PYTHONUNBUFFERED="1", PYTHONSAFEPATH="1")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if python is None and cwd is not None and root == cwd:
        path = env.get("PYTHONPATH")
        env["PYTHONPATH"] = root + (os.pathsep + path if path else "")
    return env


def _wait(proc: subprocess.Popen[Any], timeout: float) -> int:
    """``proc.wait(timeout)``, leaving out any time this process spent stopped meanwhile."""
    end = time.monotonic() + timeout
    stopped = _STOPPED[0]
    while True:
        left = end + (_STOPPED[0] - stopped) - time.monotonic()
        if left <= 0:
            raise subprocess.TimeoutExpired(proc.args, timeout)
        with contextlib.suppress(subprocess.TimeoutExpired):
            return proc.wait(timeout=left)


def stop_children() -> None:
    """Stop every live measuring child with its workers (their group): the parent is stopping."""
    for group in list(_LIVE):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGSTOP)


def continue_children(stopped_for: float) -> None:
    """Resume what ``stop_children`` stopped; ``stopped_for`` seconds leave the timeouts."""
    _STOPPED[0] += max(0.0, stopped_for)
    for group in list(_LIVE):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGCONT)


def _clean_up(
    tmp: str,
    fds: tuple[int, ...],
    tracker: subprocess.Popen[bytes] | None = None,
    group: int | None = None,
) -> None:
    """Close the pipes, remove the temporary directory and what the child left in /dev/shm,
    even when Ctrl-C lands meanwhile.

    An interrupt raised halfway through ``rmtree`` would leave the directory behind, so the
    removal finishes first and the interrupt is raised again afterwards. The tracker is given
    a few seconds to unlink what the dead tree had registered with it.
    """
    pending: BaseException | None = None
    for fd in fds:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
    for _ in range(150):  # up to 3 s: a loaded host is slow to reap a killed tree
        try:
            if not tmp or not os.path.lexists(tmp):
                break
            shutil.rmtree(tmp, ignore_errors=True)
            if os.path.lexists(tmp):
                time.sleep(0.02)  # a dying descendant was still writing there
        except BaseException as exc:  # noqa: BLE001 - re-raised once the folder is gone
            pending = pending or exc
    if group is not None:
        leftovers.sweep_named(group)
    if tracker is not None:
        late = leftovers.wait_for_tracker(tracker)
        pending = pending or late
    if pending is not None:
        raise pending


def _short_tempdir() -> str | None:
    """The temp root, or /tmp where it is too deep for the forkserver's AF_UNIX socket path
    (about 100 bytes; multiprocessing nests two folders and a socket name in TMPDIR)."""
    root = tempfile.gettempdir()
    return "/tmp" if len(root) > 40 and os.path.isdir("/tmp") else None


def _outcome(returncode: int, result_path: str, log_path: str) -> Any:
    try:
        with open(result_path, encoding="utf-8") as f:
            out = json.load(f)
    except (OSError, ValueError):
        if returncode < 0:
            try:
                name = signal.Signals(-returncode).name
            except ValueError:
                name = f"signal {-returncode}"
            raise IsolatedFailure(f"crashed with {name}", _tail(log_path)) from None
        raise IsolatedFailure(
            f"exited with status {returncode} before reporting", _tail(log_path)
        ) from None
    if "error" in out:
        raise IsolatedFailure(out["error"], out.get("traceback", ""))
    return out["ok"]


def _tail(path: str, limit: int = 20_000) -> str:
    with contextlib.suppress(OSError), open(path, "rb") as f:
        data = f.read()
        return data[-limit:].decode("utf-8", "replace")
    return ""


def stop_tree(proc: subprocess.Popen[Any], grace: float) -> None:
    """Ask the child to stop (SIGTERM), then kill its process group and every descendant."""
    import psutil  # the parent's alone: a child under another interpreter may lack it

    try:
        family = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        family = []
    if proc.poll() is None and grace > 0:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the child leads its own group (new session)
    for p in family:
        with contextlib.suppress(psutil.Error):
            p.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    psutil.wait_procs(family, timeout=5)


def one_line(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def resolve(target: str) -> Any:
    """'package.module:function' → the function."""
    module, _, name = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _raise_interrupted(signum: int, frame: object) -> None:
    raise Interrupted(128 + signum)


def _abandon() -> None:
    """Parent gone or own deadline passed: remove the temp folder, kill the whole group.

    The reaper is started with ``posix_spawn``, not ``subprocess``: Popen waits on a pipe
    until the new program runs, and a pool worker forked by the main thread at that moment
    would inherit the pipe's write end and keep that wait, and this child, alive for ever."""
    group = os.getpgid(0)
    tmp = os.environ.get("TMPDIR", "")
    try:
        if os.path.basename(tmp).startswith(TMP_PREFIX):
            argv = [sys.executable, "-I", "-S", "-c", leftovers.REAPER, str(group), tmp]
            try:
                os.posix_spawn(sys.executable, argv, os.environ, setsid=True)
            except NotImplementedError:  # no POSIX_SPAWN_SETSID here
                with contextlib.suppress(OSError):
                    subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
            except OSError:
                pass
    finally:
        os.killpg(group, signal.SIGKILL)  # every worker, and this child too


def _watch_parent(fd: int, deadline: float) -> None:
    """Abandon the call when the parent's end of the pipe closes or the deadline passes.

    The wait is cut in slices: one that took much longer than asked was spent stopped (Ctrl-Z)
    and counts only for its own length, so a stopped run is not abandoned when continued."""
    left = max(0.0, deadline)
    while left > 0:
        step = min(left, _WATCH_SLICE)
        started = time.monotonic()
        readable, _, _ = select.select([fd], [], [], step)
        if readable:
            break
        left -= min(time.monotonic() - started, step)
    _abandon()  # readable means end-of-file: the parent never writes


def _child(spec_path: str, result_path: str) -> None:
    signal.signal(signal.SIGTERM, _raise_interrupted)
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:  # nohup: keep ignoring it
        signal.signal(signal.SIGHUP, _raise_interrupted)
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    if spec.get("cwd"):  # back in the user's folder, for relative paths; sys.path stays ours
        with contextlib.suppress(OSError):
            os.chdir(spec["cwd"])
    if spec.get("tracker_fd") is not None:
        leftovers.attach_tracker(spec["tracker_fd"])
    if spec.get("watch_fd") is not None:
        threading.Thread(
            target=_watch_parent,
            args=(spec["watch_fd"], spec["deadline"]),
            name="gilcompare-lifeline",
            daemon=True,
        ).start()
    try:
        out: dict[str, Any] = {"ok": resolve(spec["target"])(**spec["kwargs"])}
    except Interrupted:
        out = {"error": "interrupted"}
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as one line
        out = {"error": one_line(exc), "traceback": traceback.format_exc()}
    partial = result_path + ".part"
    with open(partial, "w", encoding="utf-8") as f:
        json.dump(out, f, default=str)
    os.replace(partial, result_path)
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter finalization: the result is safe, pools are closed, and some CPython
    # releases abort while finalizing after subinterpreters were used.
    os._exit(0)


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
