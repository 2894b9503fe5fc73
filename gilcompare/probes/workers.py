"""What runs inside the probes' workers: stop loops, no-ops, payload echoes, shared-memory reads.

Everything here is top level (spawned and forkserver children import it by name) and imports
only the standard library and gilcompare.workloads, because subinterpreters load this module
(and gilcompare.probes, its package) too and refuse extension modules that are not ready for
them (psutil, numpy).
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
import time
from typing import Any

from gilcompare.workloads import count

PAGE = 4096  # a shared-memory reader touches one byte per page, so every page gets mapped
_FRAME = struct.Struct("<Q")  # length prefix of a pickle sent through a pipe


def noop() -> None:
    """Do nothing: the body of a worker whose start-up and exit are being timed."""


def stop_loop(stop: Any, ready: Any, units: int) -> None:
    """The seed's loop: work ``units`` of count, then check the stop event (holds the GIL)."""
    ready.release()
    while not stop.is_set():
        count(units)


def spin_loop(ready: Any, units: int) -> None:
    """Work ``units`` of count forever; only terminate() or a signal ends it (holds the GIL)."""
    # A forked worker inherits its parent's SIGTERM handler; terminate() means "die now".
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    ready.release()
    while True:
        count(units)


def _mark(folder: str, what: str) -> None:
    """Leave an empty file named after this worker (process and thread) in ``folder``."""
    import threading

    name = f"{what}-{os.getpid()}-{threading.get_ident()}"
    with open(os.path.join(folder, name), "w", encoding="ascii"):
        pass


def flag_loop(flag: str, folder: str, units: int) -> int:
    """The seed's loop for a library's task: announce itself, work ``units`` of count until the
    file ``flag`` exists (a flag any thread or process can see), then say it stopped."""
    _mark(folder, "ready")
    while not os.path.exists(flag):
        count(units)
    _mark(folder, "done")
    return os.getpid()


def spin_forever(folder: str, units: int) -> None:
    """A library's task that never checks anything: only killing its worker ends it."""
    import threading

    if threading.current_thread() is threading.main_thread():  # a pool's forked worker
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # inherited handler: terminate means die
    _mark(folder, "ready")
    while True:
        count(units)


# Run with run_string in a subinterpreter: interpreters share no Python objects, so the stop
# "event" is an OS pipe that the loop polls between chunks of work.
STOP_SCRIPT = """\
import os, select, sys
sys.path[:] = {path!r}
from gilcompare.workloads import count
os.write({ready}, b"r")
while not select.select([{stop}], [], [], 0)[0]:
    count({units})
"""

NOOP_SCRIPT = "pass"


def echo_payload(payload: Any) -> Any:
    """Return the payload: shared by threads, pickled both ways by process pools."""
    return payload


def busy_until(deadline: float) -> int:
    """Count until the wall clock passes ``deadline`` (time.time()); units done (holds the GIL)."""
    done = 0
    while time.time() < deadline:
        count(1)
        done += 1
    return done


def page_sum(view: memoryview) -> int:
    """Sum one byte per page: reads every page of a buffer without copying it."""
    sample = view.cast("B")[::PAGE]
    try:
        return sum(sample)
    finally:
        sample.release()


def shm_touch(name: str, nbytes: int) -> int:
    """Map a shared-memory block by name, read one byte per page, unmap it (run in workers).

    The worker never registers the block with multiprocessing's resource tracker: the parent
    owns and unlinks it (bpo-39959: an attaching process would otherwise 'clean it up' too).
    """
    if sys.version_info >= (3, 13):
        from multiprocessing.shared_memory import SharedMemory

        shm = SharedMemory(name=name, track=False)
        try:
            view = shm.buf[:nbytes]
            try:
                return page_sum(view)
            finally:
                view.release()
        finally:
            shm.close()
    import _posixshmem  # what SharedMemory(name) runs before 3.13, minus the tracker
    import mmap

    fd = _posixshmem.shm_open("/" + name.lstrip("/"), os.O_RDWR, mode=0o600)
    try:
        block = mmap.mmap(fd, nbytes)
    finally:
        os.close(fd)
    try:
        view = memoryview(block)
        try:
            return page_sum(view)
        finally:
            view.release()
    finally:
        block.close()


def write_frame(fd: int, data: bytes) -> None:
    """Write a length-prefixed blob to a file descriptor."""
    _write_all(fd, memoryview(_FRAME.pack(len(data))))
    _write_all(fd, memoryview(data))


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        view = view[os.write(fd, view) :]


def read_frame(fd: int) -> bytearray:
    """Read a length-prefixed blob from a file descriptor."""
    (size,) = _FRAME.unpack(_read_exactly(fd, _FRAME.size))
    return _read_exactly(fd, size)


def _read_exactly(fd: int, size: int) -> bytearray:
    buf = bytearray(size)
    with memoryview(buf) as view:
        got = 0
        while got < size:
            n = os.readv(fd, [view[got:]])
            if n == 0:
                raise EOFError(f"pipe closed after {got} of {size} bytes")
            got += n
    return buf


def pipe_echo(read_fd: int, write_fd: int) -> int:
    """Read a pickled payload from a pipe, unpickle it, pickle it back (run in workers)."""
    payload = pickle.loads(read_frame(read_fd))
    data = pickle.dumps(payload)
    write_frame(write_fd, data)
    return len(data)
