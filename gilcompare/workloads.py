"""The work itself: top-level functions of one size argument, each returning a checksum.

A *unit* of work costs about one millisecond on CPython 3.11 on the reference machine (a
2-core x86_64 VM), whatever the workload; the per-unit constants below were calibrated there
with ``gilcompare calibrate``. They are part of what a result means: never change them
without changing ``UNITS_VERSION`` (results with different unit versions are not comparable).

Every function is top level in this installed module so that spawned and forkserver workers,
and subinterpreters, can import it. Checksums are deterministic: the same size gives the same
value whichever model ran the task, so a parallel run can be verified against the serial one.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
import sys
import threading
import time
import zlib
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Callable

UNITS_VERSION = 1  # bump when any constant below changes

# --- per-unit constants (calibrated: about 1 ms each on CPython 3.11, reference machine) ---
COUNT_PER_UNIT = 33_000  # loop iterations of the seed's `count += i`
FIB_N = 20  # fib(20) once per unit
HASH_BLOCK = 1 << 20  # bytes hashed per update() call
HASH_BLOCKS_PER_UNIT = 2  # update() calls per unit
ZLIB_BLOCK = 1 << 16  # 64 KiB compressed per unit, level 6
NUMPY_N = 96  # 96x96 float64 matrices, BLAS capped to one thread
NUMPY_MATMULS_PER_UNIT = 32
SLEEP_MS_PER_UNIT = 1.0
HTTP_LATENCY_MS = 1.0  # the local server answers each GET after this simulated backend delay
HTTP_BODY_BYTES = 16 * 1024
SQLITE_ROWS = 13_000  # rows in the table; one full-scan aggregate query per unit
FILE_BYTES_PER_UNIT = 512 * 1024  # written, read back and checksummed per unit
CONTENTION_PER_UNIT = 4_000  # lock-protected increments per unit
ALLOC_PER_UNIT = 1_500  # small containers built and dropped per unit
# the shared-object family (free-threading's own bottlenecks): loop iterations per unit
SHARED_METHOD_PER_UNIT = 12_000  # method calls on the one shared instance
SHARED_FUNCTION_PER_UNIT = 14_000  # calls of one module-level function
SHARED_DICT_READ_PER_UNIT = 18_000  # lookups in one module-level dict
SHARED_LIST_READ_PER_UNIT = 24_000  # indexed reads of one module-level list
NEW_OBJECTS_PER_UNIT = 5_000  # instances of one module-level class created and dropped
NEW_CLOSURES_PER_UNIT = 6_000  # closures created and called once
SHARED_ATTR_WRITE_PER_UNIT = 27_000  # attribute writes on the one shared instance
THREAD_LOCAL_READ_PER_UNIT = 18_000  # attribute reads of one module-level threading.local
SHARED_TABLE_SIZE = 256  # keys of the shared dict, items of the shared list

# Where the harness publishes the local peers (see gilcompare.services). Child processes and
# subinterpreters inherit the environment, so workers find the services without arguments.
HTTP_URL_ENV = "GILCOMPARE_HTTP_URL"
SQLITE_PATH_ENV = "GILCOMPARE_SQLITE_PATH"
WORKDIR_ENV = "GILCOMPARE_WORKDIR"

HOLDS, RELEASES, WAITS = "holds", "releases", "waits"


@dataclass(frozen=True)
class Workload:
    """A named piece of work, what it does to the GIL, and how to run it."""

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


# ------------------------------------------------------------------------------ pure Python


def count(size: int) -> int:
    """The seed blog's loop: `count += i` over a range (holds the GIL)."""
    total = 0
    for i in range(size * COUNT_PER_UNIT):
        total += i
    return total


def _fib(n: int) -> int:
    return n if n < 2 else _fib(n - 1) + _fib(n - 2)


def fib(size: int) -> int:
    """Recursive Fibonacci, call-heavy pure Python (holds the GIL)."""
    return sum(_fib(FIB_N) for _ in range(size))


# ----------------------------------------------------------------------- C that drops the GIL


@functools.cache
def _block(nbytes: int) -> bytes:
    """Deterministic, moderately compressible bytes (built once per process, untimed after)."""
    seed = b"".join(i.to_bytes(4, "little") for i in range(4096))
    words = (seed * (nbytes // len(seed) + 1))[:nbytes]
    # xor with a slowly varying pattern so zlib has real work to do
    return bytes(b ^ ((i * 131) >> 7 & 0xFF) for i, b in enumerate(words[:4096])) + words[4096:]


def sha256(size: int) -> str:
    """hashlib SHA-256 over 2 MiB per unit (releases the GIL for large buffers)."""
    import hashlib  # imported lazily: see no_subinterpreters below

    block = _block(HASH_BLOCK)
    h = hashlib.sha256()
    for _ in range(size * HASH_BLOCKS_PER_UNIT):
        h.update(block)
    return h.hexdigest()


def zlib_compress(size: int) -> int:
    """zlib.compress of 64 KiB per unit at level 6 (releases the GIL)."""
    block = _block(ZLIB_BLOCK)
    crc = 0
    for _ in range(size):
        crc = zlib.crc32(zlib.compress(block, 6), crc)
    return crc


_blas_cap: int | None = None


def blas_cap() -> int | None:
    """Cap BLAS/OpenMP threads of this process to one (once) and return the cap in force."""
    global _blas_cap
    if _blas_cap is None:
        import numpy  # noqa: F401 - the BLAS must be loaded for the cap to reach it
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)
        _blas_cap = 1
    return _blas_cap


@functools.cache
def _matrix(n: int) -> Any:
    import numpy as np

    a = np.random.default_rng(20191103).random((n, n))
    return a / np.linalg.norm(a)


def numpy_matmul(size: int) -> str:
    """numpy float64 matmul with BLAS capped to one thread per worker (releases the GIL)."""
    blas_cap()
    a = _matrix(NUMPY_N)
    acc = 0.0
    for _ in range(size):
        for _ in range(NUMPY_MATMULS_PER_UNIT):
            acc += float((a @ a).trace())
    return f"{acc:.9e}"


# ------------------------------------------------------------------------- waiting and I/O


def sleep(size: int) -> int:
    """time.sleep of 1 ms per unit, the stand-in for I/O (waits, GIL released)."""
    time.sleep(size * SLEEP_MS_PER_UNIT / 1000)
    return size


async def sleep_async(size: int) -> int:
    """asyncio.sleep of 1 ms per unit (waits on the event loop)."""
    await asyncio.sleep(size * SLEEP_MS_PER_UNIT / 1000)
    return size


def _service(env: str, what: str) -> str:
    try:
        return os.environ[env]
    except KeyError:
        raise RuntimeError(
            f"the {what} workload needs its local peer: run it through gilcompare.measure "
            f"or gilcompare.services (environment variable {env} is not set)"
        ) from None


_local = threading.local()


def _http_connection(url: str) -> Any:
    """One keep-alive connection per thread and server, like a real client session."""
    import http.client
    from urllib.parse import urlsplit

    key = (os.getpid(), url)  # a forked child must not reuse its parent's socket
    cached = getattr(_local, "http", None)
    if cached is None or cached[0] != key:
        if cached is not None and cached[0][0] == os.getpid():
            cached[1].close()  # the server of an earlier measurement
        parts = urlsplit(url)
        cached = _local.http = (
            key,
            http.client.HTTPConnection(parts.hostname, parts.port, timeout=30),
        )
    return cached[1]


def http_get(size: int) -> int:
    """GET a page from the local HTTP server once per unit (waits on the socket)."""
    url = _service(HTTP_URL_ENV, "http")
    conn = _http_connection(url)
    crc = 0
    for i in range(size):
        conn.request("GET", f"/page?n={i % 16}")
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"http server answered {resp.status}")
        crc = zlib.crc32(body, crc)
    return crc


async def http_get_async(size: int) -> int:
    """GET a page once per unit with asyncio streams on one keep-alive connection (waits)."""
    from urllib.parse import urlsplit

    parts = urlsplit(_service(HTTP_URL_ENV, "http"))
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    crc = 0
    try:
        for i in range(size):
            writer.write(
                f"GET /page?n={i % 16} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode("ascii")
            )
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await reader.readexactly(length)
            if status != 200:
                raise RuntimeError(f"http server answered {status}")
            crc = zlib.crc32(body, crc)
    finally:
        writer.close()
    return crc


SQLITE_QUERY = "SELECT count(*), total(v) FROM samples WHERE (k * ?) % 97 < 48"


def sqlite_query(size: int) -> int:
    """A full-scan aggregate query per unit on the local sqlite3 file (releases the GIL)."""
    conn = _sqlite_connection(_service(SQLITE_PATH_ENV, "sqlite"))
    acc = 0
    for i in range(size):
        n, total = conn.execute(SQLITE_QUERY, (i % 7 + 1,)).fetchone()
        acc = (acc * 31 + n + int(total)) % (1 << 61)
    return acc


def _sqlite_connection(path: str) -> sqlite3.Connection:
    """One connection per thread and database, kept open like an application's pool."""
    key = (os.getpid(), path)  # never reuse a connection across fork
    cached = getattr(_local, "sqlite", None)
    if cached is None or cached[0] != key:
        if cached is not None and cached[0][0] == os.getpid():
            cached[1].close()  # the database of an earlier measurement
        cached = _local.sqlite = (key, sqlite3.connect(path, timeout=30))
    return cached[1]


def file_io(size: int) -> int:
    """Write 512 KiB per unit to a private temp file, read it back, crc32 it (releases the GIL)."""
    workdir = _service(WORKDIR_ENV, "file")
    block = _block(FILE_BYTES_PER_UNIT)
    path = os.path.join(workdir, f"io-{os.getpid()}-{threading.get_ident()}.bin")
    crc = 0
    try:
        for _ in range(size):
            with open(path, "wb") as f:
                f.write(block)
            with open(path, "rb") as f:
                crc = zlib.crc32(f.read(), crc)
    finally:
        if os.path.exists(path):
            os.unlink(path)
    return crc


# -------------------------------------------------------------- contention and allocation

# Shared state of this process. Threads (and asyncio) of one process contend on this lock;
# processes and subinterpreters each have their own copy, so they share nothing and see no
# contention — which is what sharing costs them: nothing unless they pay for IPC.
_LOCK = threading.Lock()
_STATE = {"n": 0}


def contention(size: int) -> int:
    """Read-modify-write of a counter shared by all threads of a process, under one lock."""
    done = 0
    for _ in range(size * CONTENTION_PER_UNIT):
        with _LOCK:
            n = _STATE["n"]
            _STATE["n"] = n + 1
        done += 1
    return done


def alloc(size: int) -> int:
    """Build and drop many small dicts, lists and tuples (allocator and GC pressure)."""
    built = 0
    for _ in range(size):
        batch = [{"i": i, "t": (i, str(i)), "l": [i, i + 1]} for i in range(ALLOC_PER_UNIT)]
        built += len(batch)
        del batch
    return built


# ------------------------------------------------------ shared objects (free-threading's own)

# One instance, one function, one dict, one list and one thread-local per interpreter, created
# at import: threads of a process share them (which is the point: under free-threading they
# contend on these objects' reference counts and locks), while processes and subinterpreters
# each import a copy of their own. Every checksum depends only on the size, never on the
# state another worker left behind.


class _Shared:
    """The instance every thread of a process calls and writes to."""

    def __init__(self) -> None:
        self.scale = 3
        self.last = 0

    def step(self, i: int) -> int:
        return i * self.scale + 1


class _Point:
    """A small plain class, instantiated afresh in new_objects."""

    def __init__(self, x: int, y: int) -> None:
        self.x = x
        self.y = y


def _shared_step(i: int) -> int:
    return i * 3 + 1


_SHARED = _Shared()
_SHARED_DICT = {f"k{i}": (i, i * 7) for i in range(SHARED_TABLE_SIZE)}
_SHARED_KEYS = tuple(_SHARED_DICT)
_SHARED_LIST = [(i, i * 7) for i in range(SHARED_TABLE_SIZE)]
_SHARED_LOCAL = threading.local()


def shared_method(size: int) -> int:
    """Call a method of one module-level instance (holds the GIL; free-threaded: refcounts of
    the shared instance and its bound method's parts contend)."""
    obj = _SHARED
    total = 0
    for i in range(size * SHARED_METHOD_PER_UNIT):
        total += obj.step(i)
    return total


def shared_function(size: int) -> int:
    """Call one module-level function through its global name (holds the GIL; free-threaded:
    the function object and module dict are shared, refcounting deferred since 3.13t)."""
    total = 0
    for i in range(size * SHARED_FUNCTION_PER_UNIT):
        total += _shared_step(i)
    return total


def shared_dict_read(size: int) -> int:
    """Look keys up in one module-level dict (holds the GIL; free-threaded: lock-free reads,
    but the shared values' reference counts contend)."""
    table, keys, n = _SHARED_DICT, _SHARED_KEYS, SHARED_TABLE_SIZE
    total = 0
    for i in range(size * SHARED_DICT_READ_PER_UNIT):
        total += table[keys[i % n]][1]
    return total


def shared_list_read(size: int) -> int:
    """Index one module-level list (holds the GIL; free-threaded: lock-free reads, but the
    shared items' reference counts contend)."""
    items, n = _SHARED_LIST, SHARED_TABLE_SIZE
    total = 0
    for i in range(size * SHARED_LIST_READ_PER_UNIT):
        total += items[i % n][1]
    return total


def new_objects(size: int) -> int:
    """Create and drop instances of one module-level class (holds the GIL; free-threaded:
    the class's reference count and the allocator, per-thread since 3.14t)."""
    total = 0
    for i in range(size * NEW_OBJECTS_PER_UNIT):
        p = _Point(i, i + 1)
        total += p.y - p.x
    return total


def new_closures(size: int) -> int:
    """Create a closure and call it once, per iteration (holds the GIL; free-threaded: the
    shared code object's reference count and function allocation)."""
    total = 0
    for i in range(size * NEW_CLOSURES_PER_UNIT):

        def add(j: int, i: int = i) -> int:
            return i + j

        total += add(1)
    return total


def shared_attr_write(size: int) -> int:
    """Write an attribute of one module-level instance (holds the GIL; free-threaded: the
    instance's per-object lock and its cache line bounce between cores)."""
    obj = _SHARED
    total = 0
    for i in range(size * SHARED_ATTR_WRITE_PER_UNIT):
        obj.last = i
        total += i & 7
    return total


def thread_local_read(size: int) -> int:
    """Read an attribute of one module-level threading.local (holds the GIL; free-threaded:
    each thread its own dict, so only the shared local object's reference count)."""
    local = _SHARED_LOCAL
    if not hasattr(local, "scale"):
        local.scale = 3  # each thread's own copy, set by its first task
    total = 0
    for _ in range(size * THREAD_LOCAL_READ_PER_UNIT):
        total += local.scale
    return total


# ---------------------------------------------------------------------------------- faults


def fault_exit(size: int) -> int:
    """Kill the worker with os._exit(3), as a crashing extension would."""
    os._exit(3)


def fault_raise(size: int) -> int:
    """Raise RuntimeError from the worker."""
    raise RuntimeError("fault-raise: injected failure")


def fault_hang(size: int) -> int:
    """Never return (sleeps in a loop; a thread doing this cannot be killed)."""
    while True:
        time.sleep(0.1)


def fault_segv(size: int) -> int:
    """Crash the interpreter with a segmentation fault through ctypes."""
    import ctypes

    ctypes.string_at(0)
    return 0


# -------------------------------------------------------------------------- the registry

_NUMPY_SUBINTERP = "numpy does not support being imported in subinterpreters"


def _aborts_312(module: str) -> str | None:
    """CPython 3.12 aborts at exit (free(): invalid pointer) after some extension modules
    were imported in a subinterpreter; 3.13 fixed it."""
    if sys.version_info[:2] != (3, 12):
        return None
    return f"{module} in a subinterpreter makes CPython 3.12 abort at exit (fixed in 3.13)"


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in [
        Workload("count", count, HOLDS, "cpu", "seed loop: count += i (pure Python)"),
        Workload("fib", fib, HOLDS, "cpu", "recursive Fibonacci (pure Python, call-heavy)"),
        Workload(
            "sha256",
            sha256,
            RELEASES,
            "native",
            "hashlib sha256 over 2 MiB per unit",
            no_subinterpreters=_aborts_312("hashlib"),
        ),
        Workload("zlib", zlib_compress, RELEASES, "native", "zlib.compress 64 KiB per unit"),
        Workload(
            "numpy",
            numpy_matmul,
            RELEASES,
            "native",
            "float64 matmul, BLAS capped to 1 thread",
            no_subinterpreters=_NUMPY_SUBINTERP,
        ),
        Workload("sleep", sleep, WAITS, "wait", "time.sleep 1 ms per unit", afn=sleep_async),
        Workload(
            "http",
            http_get,
            WAITS,
            "io",
            "GET from a local HTTP server (1 ms backend latency)",
            afn=http_get_async,
            service="http",
        ),
        Workload(
            "sqlite",
            sqlite_query,
            RELEASES,
            "io",
            "aggregate query on a local sqlite3 file",
            service="sqlite",
            no_subinterpreters=_aborts_312("sqlite3"),
        ),
        Workload(
            "file",
            file_io,
            RELEASES,
            "io",
            "write + read 512 KiB temp file per unit",
            service="files",
        ),
        Workload("contention", contention, HOLDS, "sync", "lock-protected shared counter"),
        Workload("alloc", alloc, HOLDS, "alloc", "build and drop small containers (GC)"),
        *(
            Workload(name, fn, HOLDS, "shared", summary)
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
        Workload("fault-exit", fault_exit, HOLDS, "fault", "worker calls os._exit(3)", fault=True),
        Workload("fault-raise", fault_raise, HOLDS, "fault", "worker raises", fault=True),
        Workload("fault-hang", fault_hang, WAITS, "fault", "worker never returns", fault=True),
        Workload("fault-segv", fault_segv, HOLDS, "fault", "worker segfaults", fault=True),
    ]
}

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
        raise ValueError(f"unknown workload {name!r}: choose from {', '.join(WORKLOADS)}") from None
