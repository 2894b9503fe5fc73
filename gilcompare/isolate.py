"""Run one measurement in a child process of its own, with a timeout, and leave nothing behind.

A worker that segfaults, calls ``os._exit`` or hangs takes down (or freezes) the process it
runs in; for threads and asyncio that is the measuring process itself. So, like pyperf and
asv, the command line runs every measurement in a fresh child: it starts a new session (its
own process group), gets a private temporary directory as ``TMPDIR`` and reports through a
JSON file. Whatever happens — success, exception, crash, timeout, Ctrl-C — the whole process
group and every descendant is killed and the directory removed before this module returns.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback
from typing import Any

from gilcompare.errors import Interrupted

DEFAULT_TIMEOUT = 600.0  # seconds for one measurement; the CLI's --timeout overrides it
GRACE = 3.0  # seconds a child gets to shut its pools down after SIGTERM


class IsolatedFailure(RuntimeError):
    """The isolated call did not return a value: ``reason`` says why in one line."""

    def __init__(self, reason: str, traceback: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.traceback = traceback


def call(
    target: str,
    kwargs: dict[str, Any],
    timeout: float = DEFAULT_TIMEOUT,
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
    tmp = tempfile.mkdtemp(prefix="gilcompare-run-", dir=_short_tempdir())
    try:
        spec_path = os.path.join(tmp, "call.json")
        result_path = os.path.join(tmp, "result.json")
        log_path = os.path.join(tmp, "stderr.log")
        with open(spec_path, "w", encoding="utf-8") as f:
            json.dump({"target": target, "kwargs": kwargs}, f)
        env = dict(os.environ, **(env or {}), TMPDIR=tmp, PYTHONUNBUFFERED="1")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [python or sys.executable, "-m", "gilcompare.isolate", spec_path, result_path],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                start_new_session=True,
            )
        try:
            returncode = proc.wait(timeout=timeout)
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
        return _outcome(returncode, result_path, log_path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _short_tempdir() -> str | None:
    """The temp root, unless it is too deep for the forkserver's Unix socket path.

    AF_UNIX paths are limited to about 100 bytes and multiprocessing nests two more
    directories and a socket name inside TMPDIR; fall back to /tmp then.
    """
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


def _child(spec_path: str, result_path: str) -> None:
    signal.signal(signal.SIGTERM, _raise_interrupted)
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
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
