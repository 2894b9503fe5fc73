"""Shared state and allocation, all holding the GIL: a lock-protected counter, small
containers built and dropped, and the shared-object family (free-threading's own bottlenecks).
"""

from __future__ import annotations

import threading

# per-unit constants (calibrated: about 1 ms each on CPython 3.11, reference machine; part of
# UNITS_VERSION, gilcompare.workloads)
CONTENTION_PER_UNIT = 4_000  # lock-protected increments per unit
ALLOC_PER_UNIT = 1_500  # small containers built and dropped per unit
# the shared-object family: loop iterations per unit
SHARED_METHOD_PER_UNIT = 12_000  # method calls on the one shared instance
SHARED_FUNCTION_PER_UNIT = 14_000  # calls of one module-level function
SHARED_DICT_READ_PER_UNIT = 18_000  # lookups in one module-level dict
SHARED_LIST_READ_PER_UNIT = 24_000  # indexed reads of one module-level list
NEW_OBJECTS_PER_UNIT = 5_000  # instances of one module-level class created and dropped
NEW_CLOSURES_PER_UNIT = 6_000  # closures created and called once
SHARED_ATTR_WRITE_PER_UNIT = 27_000  # attribute writes on the one shared instance
THREAD_LOCAL_READ_PER_UNIT = 18_000  # attribute reads of one module-level threading.local
SHARED_TABLE_SIZE = 256  # keys of the shared dict, items of the shared list


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
