"""Tasks on an existing dask cluster that stop when the run that submitted them is gone.

A dask worker runs a task in a thread, which nothing can kill: when the run that submitted it
ends — finished, timed out, faulted, interrupted, its parent killed — the scheduler forgets the
task but the worker thread goes on running it, on somebody else's cluster, for as long as the
task takes (for ever, for a task that hangs). So on an existing cluster every task runs inside
``run_stoppable``: a watchdog thread in each worker process looks at its tasks five times a
second and, once the worker no longer holds a task as wanted (its client closed or vanished,
its future cancelled), raises an exception inside the thread still running it, which ends it
at its next Python instruction.
"""

from __future__ import annotations

import ctypes
import threading
import time
from typing import Any, Callable

# how often the watchdog looks, in seconds: a task of a finished run stops within about this
WATCH_EVERY = 0.2
# the states of a task the worker still runs for somebody
_WANTED = ("executing", "long-running", "resumed")

_LOCK = threading.Lock()
_RUNNING: dict[int, tuple[Any, str]] = {}  # thread id → (worker, key)
_STARTED: list[threading.Thread] = []


class Abandoned(Exception):
    """Raised inside a task whose run is gone."""


def run_stoppable(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` on a dask worker, stopped once no client wants its result any more."""
    from distributed import get_worker
    from distributed.worker import thread_state

    ident = threading.get_ident()
    try:
        with _LOCK:
            _RUNNING[ident] = (get_worker(), thread_state.key)
            if not _STARTED:
                watchdog = threading.Thread(target=_watch, name="gilcompare-watchdog", daemon=True)
                _STARTED.append(watchdog)
                watchdog.start()
        try:
            return fn(*args)
        finally:
            with _LOCK:
                _RUNNING.pop(ident, None)
    except Abandoned:
        raise RuntimeError("stopped: the run that submitted this task is gone") from None


def _watch() -> None:
    while True:
        time.sleep(WATCH_EVERY)
        with _LOCK:
            for ident, (worker, key) in list(_RUNNING.items()):
                task = worker.state.tasks.get(key)
                if task is None or task.state not in _WANTED:
                    _RUNNING.pop(ident)
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(
                        ctypes.c_ulong(ident), ctypes.py_object(Abandoned)
                    )
