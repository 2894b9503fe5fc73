"""Subinterpreters on 3.12 and 3.13: a pool of isolated interpreters, one per thread.

3.14 has ``concurrent.futures.InterpreterPoolExecutor``; before it, this module's executor
does the same with the low-level module (``_interpreters``, 3.12's ``_xxsubinterpreters``).
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import queue
import sys
import threading
from typing import Any, Callable

from gilcompare.models.workers import subinterpreters_module

_SCRIPT = """\
import json as _json, os as _os, sys as _sys
_sys.path[:] = {path!r}
try:
    import importlib as _il
    _obj = _il.import_module({module!r})
    for _part in {qualname!r}.split("."):
        _obj = getattr(_obj, _part)
    _out = {{"ok": _obj(*{args!r})}}
except BaseException as _exc:
    _out = {{"err": type(_exc).__name__ + ": " + str(_exc)}}
_os.write({fd}, _json.dumps(_out).encode())
"""


class SubinterpreterPoolExecutor(cf.ThreadPoolExecutor):
    """3.12/3.13: a thread pool whose every thread runs tasks in its own subinterpreter.

    The same design as 3.14's ``concurrent.futures.InterpreterPoolExecutor``: each worker
    thread owns one isolated interpreter (with its own GIL). Tasks are named by module and
    qualname and their arguments and results cross as JSON, since objects cannot be shared.
    """

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers, thread_name_prefix="gilcompare-interp")
        self._mod = subinterpreters_module()
        self._tls = threading.local()
        # Created (and later destroyed) by the owning thread: CPython 3.12 deadlocks when an
        # interpreter created in a worker thread is destroyed from another thread.
        self._interps = [self._mod.create() for _ in range(max_workers)]
        self._free: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for interp in self._interps:
            self._free.put(interp)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        if kwargs:
            raise TypeError("subinterpreter tasks take positional arguments only")
        return super().submit(self._call, fn.__module__, fn.__qualname__, args)

    def _call(self, module: str, qualname: str, args: tuple[Any, ...]) -> Any:
        interp = getattr(self._tls, "interp", None)
        if interp is None:  # a pool thread takes an interpreter of its own, once
            interp = self._tls.interp = self._free.get_nowait()
        read_fd, write_fd = os.pipe()
        try:
            script = _SCRIPT.format(
                path=list(sys.path), module=module, qualname=qualname, args=args, fd=write_fd
            )
            failure = self._mod.run_string(interp, script)
            os.close(write_fd)
            write_fd = -1
            if failure is not None:  # 3.13 returns the uncaught exception instead of raising
                raise RuntimeError(
                    f"subinterpreter failed: {getattr(failure, 'formatted', failure)}"
                )
            chunks = []
            while chunk := os.read(read_fd, 65536):
                chunks.append(chunk)
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)
        out = json.loads(b"".join(chunks))
        if "err" in out:
            raise RuntimeError(f"in subinterpreter: {out['err']}")
        return out["ok"]

    def _destroy_own(self, barrier: threading.Barrier) -> None:
        barrier.wait()  # one such task per pool thread: each destroys its own interpreter
        interp = getattr(self._tls, "interp", None)
        if interp is not None:
            self._tls.interp = None
            self._mod.destroy(interp)
            self._interps.remove(interp)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        # CPython 3.12 hangs destroying an interpreter from a thread other than the one that
        # imported threading in it, so every pool thread destroys the one it used.
        if wait and self._interps and not self._shutdown:
            barrier = threading.Barrier(self._max_workers, timeout=30)
            done = [
                super(SubinterpreterPoolExecutor, self).submit(self._destroy_own, barrier)
                for _ in range(self._max_workers)
            ]
            cf.wait(done)
        super().shutdown(wait=wait, cancel_futures=cancel_futures)
        if wait:
            interps, self._interps = self._interps, []
            for interp in interps:  # never used by any thread
                self._mod.destroy(interp)
