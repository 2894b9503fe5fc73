"""What a measurement may leave outside its process tree and temporary folder, and its removal.

Named resources outside the process tree — POSIX semaphores and ``SharedMemory`` blocks in
/dev/shm, which hold RAM until reboot — would survive the kill: multiprocessing's resource
tracker, which unlinks what a dead process leaked, is started inside the child's process
group and dies with it. So every call gets a tracker of its own, started by the parent in a
session of its own with the child's interpreter; the child and every worker it starts write
to it, and when the last of them is gone (however it ended, the parent included) the tracker
unlinks what is still registered and exits. joblib's memmapping folders go to the private
``TMPDIR``, and loky's semaphores, which loky's own tracker (dead with the group) would have
removed, are named after the child's process id and removed by name; so are the
``SharedMemory`` blocks a probe makes (:func:`shared_memory_name`), since a kill landing
between a block's creation and its registration with the tracker would leave it unknown.
"""

from __future__ import annotations

import contextlib
import os
import subprocess

# where POSIX named semaphores and shared memory live on Linux (absent elsewhere: no sweep)
SHM_DIR = "/dev/shm"
# loky names its semaphores /loky-<pid of the creating process>-<random>
_LOKY_SEMAPHORES = "sem.loky-{pid}-"
# our SharedMemory blocks: /gc-<pid of the creating process>-<random> (short: macOS allows 31)
_SHARED_MEMORY = "gc-{pid}-"
# seconds the tracker may take, once the child's tree is gone, to unlink what it leaked
TRACKER_GRACE = 5.0


def start_tracker(python: str) -> tuple[subprocess.Popen[bytes] | None, int]:
    """A resource tracker for one call, outside the child's process group: (process, the
    write end of its pipe for the child), or (None, -1) when it cannot start.

    ``-I`` keeps the user's current folder and ``PYTHON*`` variables out of it; its own
    session keeps Ctrl-C, a hang-up and the child's group kill away from it (it ignores
    SIGINT and SIGTERM itself); its warnings about what it cleans up are not the user's."""
    read, write = os.pipe()
    read, write = above_standard(read), above_standard(write)
    code = f"from multiprocessing.resource_tracker import main; main({read})"
    try:
        tracker = subprocess.Popen(
            [python, "-I", "-c", code],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(read,),
            start_new_session=True,
        )
    except OSError:
        os.close(write)
        return None, -1
    finally:
        os.close(read)
    return tracker, write


def shared_memory_name() -> str:
    """A fresh name for a ``SharedMemory`` block made by this process, which
    :func:`sweep_named` finds by this process's id once it is gone."""
    import secrets

    return _SHARED_MEMORY.format(pid=os.getpid()) + secrets.token_hex(4)


def sweep_named(pid: int, root: str = SHM_DIR) -> None:
    """Unlink loky's semaphores and our shared-memory blocks made by process ``pid`` (gone
    now) from ``root``."""
    prefixes = (_LOKY_SEMAPHORES.format(pid=pid), _SHARED_MEMORY.format(pid=pid))
    with contextlib.suppress(OSError):
        for name in os.listdir(root):
            if name.startswith(prefixes):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(root, name))


def attach_tracker(fd: int) -> None:
    """In the child: use the parent's tracker, as a spawned worker is handed its parent's, so
    every process of this tree registers there and it outlives the tree to unlink leaks."""
    from multiprocessing import resource_tracker

    resource_tracker._resource_tracker._fd = fd  # type: ignore[attr-defined]


def wait_for_tracker(tracker: subprocess.Popen[bytes]) -> BaseException | None:
    """Give the tracker a few seconds to unlink what the dead tree registered; an interrupt
    landing meanwhile is returned, to be raised once this is done."""
    import time

    pending: BaseException | None = None
    end = time.monotonic() + TRACKER_GRACE
    while time.monotonic() < end:
        try:
            tracker.wait(timeout=max(0.0, end - time.monotonic()))
            break
        except subprocess.TimeoutExpired:
            break  # a descendant that escaped holds it: it cleans up when that one ends
        except BaseException as exc:  # noqa: BLE001 - returned, raised by the caller
            pending = pending or exc
    return pending


# Run in a new session by an abandoned child: waits (briefly) for the child's process group
# to die, then removes its temporary directory. Standard library only, no site packages.
REAPER = """
import os, shutil, sys, time
group, tmp = int(sys.argv[1]), sys.argv[2]
end = time.monotonic() + 3
while time.monotonic() < end:
    try:
        os.killpg(group, 0)
    except OSError:
        break
    time.sleep(0.05)
shutil.rmtree(tmp, ignore_errors=True)
try:
    for name in os.listdir("/dev/shm"):
        if name.startswith(("sem.loky-%d-" % group, "gc-%d-" % group)):
            os.unlink(os.path.join("/dev/shm", name))
except OSError:
    pass
"""


def above_standard(fd: int) -> int:
    """``fd`` moved above 0, 1 and 2: started with a standard stream closed (``<&-``), a pipe
    can land on fd 0, which the child's own stdin (/dev/null) would then replace."""
    if fd > 2:
        return fd
    import fcntl

    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    os.close(fd)
    return moved
