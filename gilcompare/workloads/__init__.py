"""The work itself: top-level functions of one size argument, each returning a checksum.

A *unit* of work costs about one millisecond on CPython 3.11 on the reference machine (a
2-core x86_64 VM), whatever the workload; the per-unit constants beside each function were
calibrated there with ``gilcompare calibrate``. They are part of what a result means: never
change them without changing ``UNITS_VERSION`` (results with different unit versions are not
comparable).

One module per family — cpu (pure Python), native (C that releases the GIL), io_bound
(waiting and local I/O), shared (contention, allocation, shared objects) and faults — and the
registry here. Every function is top level in an installed module so that spawned and
forkserver workers, and subinterpreters, can import it by name: standard library only.
Checksums are deterministic: the same size gives the same value whichever model ran the task,
so a parallel run can be verified against the serial one.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable
from typing import Any, Callable, NamedTuple

from gilcompare.workloads.cpu import count, fib
from gilcompare.workloads.faults import fault_exit, fault_hang, fault_raise, fault_segv
from gilcompare.workloads.io_bound import (
    file_io,
    http_get,
    http_get_async,
    sleep,
    sleep_async,
    sqlite_query,
)
from gilcompare.workloads.native import numpy_matmul, sha256, zlib_compress
from gilcompare.workloads.shared import (
    alloc,
    contention,
    new_closures,
    new_objects,
    shared_attr_write,
    shared_dict_read,
    shared_function,
    shared_list_read,
    shared_method,
    thread_local_read,
)

UNITS_VERSION = 1  # bump when any per-unit constant of any family changes

HOLDS, RELEASES, WAITS = "holds", "releases", "waits"


class Workload(NamedTuple):
    """A named piece of work, what it does to the GIL, and how to run it.

    A NamedTuple rather than a dataclass: every worker imports this module (a subinterpreter
    and a spawned process among them), and dataclasses pulls in inspect, which costs a
    free-threaded build about 60 ms per worker started."""

    name: str
    fn: Callable[[int], Any]
    gil: str  # holds | releases | waits
    kind: str  # cpu | native | io | wait | sync | alloc | shared | fault
    summary: str
    afn: Callable[[int], Awaitable[Any]] | None = None  # native asyncio variant
    service: str | None = None  # "http" | "sqlite" | "files": a local peer the harness starts
    fault: bool = False  # fault injection: never part of default matrices
    no_subinterpreters: str | None = None  # why subinterpreters cannot run it, if they cannot

    @property
    def waits(self) -> bool:
        """True when the ideal speedup is the worker count rather than the core count."""
        return self.gil == WAITS


# -------------------------------------------------------------------------- the registry

_NUMPY_SUBINTERP = "numpy does not support being imported in subinterpreters"


def _aborts_312(module: str) -> str | None:
    """CPython 3.12 aborts at exit (free(): invalid pointer) after some extension modules
    were imported in a subinterpreter; 3.13 fixed it."""
    if sys.version_info[:2] != (3, 12):
        return None
    return f"{module} in a subinterpreter makes CPython 3.12 abort at exit (fixed in 3.13)"


class _Registry(dict):  # type: ignore[type-arg]
    """The built-in workloads by name; a name with a colon is a function of the user's
    (gilcompare.workloads.user), found on lookup but never listed."""

    def __missing__(self, name: str) -> Workload:
        if isinstance(name, str) and ":" in name:
            from gilcompare.workloads import user

            return user.workload(name)  # type: ignore[no-any-return]
        raise KeyError(name)


WORKLOADS: dict[str, Workload] = _Registry(
    (w.name, w)
    for w in [
        Workload(
            name="count",
            fn=count,
            gil=HOLDS,
            kind="cpu",
            summary="seed loop: count += i (pure Python)",
        ),
        Workload(
            name="fib",
            fn=fib,
            gil=HOLDS,
            kind="cpu",
            summary="recursive Fibonacci (pure Python, call-heavy)",
        ),
        Workload(
            name="sha256",
            fn=sha256,
            gil=RELEASES,
            kind="native",
            summary="hashlib sha256 over 2 MiB per unit",
            no_subinterpreters=_aborts_312("hashlib"),
        ),
        Workload(
            name="zlib",
            fn=zlib_compress,
            gil=RELEASES,
            kind="native",
            summary="zlib.compress 64 KiB per unit",
        ),
        Workload(
            name="numpy",
            fn=numpy_matmul,
            gil=RELEASES,
            kind="native",
            summary="float64 matmul, BLAS capped to 1 thread",
            no_subinterpreters=_NUMPY_SUBINTERP,
        ),
        Workload(
            name="sleep",
            fn=sleep,
            gil=WAITS,
            kind="wait",
            summary="time.sleep 1 ms per unit",
            afn=sleep_async,
        ),
        Workload(
            name="http",
            fn=http_get,
            gil=WAITS,
            kind="io",
            summary="GET from a local HTTP server (1 ms backend latency)",
            afn=http_get_async,
            service="http",
        ),
        Workload(
            name="sqlite",
            fn=sqlite_query,
            gil=RELEASES,
            kind="io",
            summary="aggregate query on a local sqlite3 file",
            service="sqlite",
            no_subinterpreters=_aborts_312("sqlite3"),
        ),
        Workload(
            name="file",
            fn=file_io,
            gil=RELEASES,
            kind="io",
            summary="write + read 512 KiB temp file per unit",
            service="files",
        ),
        Workload(
            name="contention",
            fn=contention,
            gil=HOLDS,
            kind="sync",
            summary="lock-protected shared counter",
        ),
        Workload(
            name="alloc",
            fn=alloc,
            gil=HOLDS,
            kind="alloc",
            summary="build and drop small containers (GC)",
        ),
        *(
            Workload(name=name, fn=fn, gil=HOLDS, kind="shared", summary=summary)
            for name, fn, summary in [
                ("shared_method", shared_method, "method calls on one shared instance"),
                ("shared_function", shared_function, "calls of one module-level function"),
                ("shared_dict_read", shared_dict_read, "lookups in one shared dict"),
                ("shared_list_read", shared_list_read, "indexed reads of one shared list"),
                ("new_objects", new_objects, "create and drop instances of one class"),
                ("new_closures", new_closures, "create a closure, call it once"),
                ("shared_attr_write", shared_attr_write, "attribute writes on one instance"),
                ("thread_local_read", thread_local_read, "reads of one threading.local"),
            ]
        ),
        Workload(
            name="fault-exit",
            fn=fault_exit,
            gil=HOLDS,
            kind="fault",
            summary="worker calls os._exit(3)",
            fault=True,
        ),
        Workload(
            name="fault-raise",
            fn=fault_raise,
            gil=HOLDS,
            kind="fault",
            summary="worker raises",
            fault=True,
        ),
        Workload(
            name="fault-hang",
            fn=fault_hang,
            gil=WAITS,
            kind="fault",
            summary="worker never returns",
            fault=True,
        ),
        Workload(
            name="fault-segv",
            fn=fault_segv,
            gil=HOLDS,
            kind="fault",
            summary="worker segfaults",
            fault=True,
        ),
    ]
)

# the shared-object family runs when asked for (gilcompare run --workload shared_method ...)
# and in benchmarks/shared_objects.py: eight more workloads would double the default run
SHARED_WORKLOADS = [name for name, w in WORKLOADS.items() if w.kind == "shared"]
DEFAULT_WORKLOADS = [
    name for name, w in WORKLOADS.items() if not w.fault and name not in SHARED_WORKLOADS
]


def get_workload(name: str) -> Workload:
    """Look a workload up by name, or fail naming the valid choices."""
    try:
        return WORKLOADS[name]
    except KeyError:
        raise ValueError(
            f"unknown workload {name!r}: choose from {', '.join(WORKLOADS)}, or name a function "
            "of your own (package.module:function or path/to/file.py:function)"
        ) from None
