"""Fault injection: workers that exit, raise, hang or crash (never in default matrices)."""

from __future__ import annotations

import os
import time


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
