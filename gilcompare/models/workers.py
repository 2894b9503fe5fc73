"""What every worker runs and reports, whatever the model: its view of the GIL, its environment.

Each function here runs inside workers (threads, processes, subinterpreters), so this module
imports only the standard library: subinterpreters refuse extension modules not ready for them.
"""

from __future__ import annotations

import importlib
import os
import sys
import sysconfig
import threading
import time
from collections.abc import Sequence
from typing import Any


def subinterpreters_module() -> Any:
    """The interpreter's low-level subinterpreter module (3.12: _xxsubinterpreters)."""
    for name in ("_interpreters", "_xxsubinterpreters"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def free_threaded_build() -> bool:
    """True when this interpreter was built with the GIL disabled (3.13t, 3.14t …)."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def gil_enabled() -> bool:
    """Whether the GIL is enabled right now in this interpreter (always True before 3.13)."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


# Modules every worker imports before it reports or runs a task, comma-separated: the way to
# measure a program whose workers import an extension (one that does not declare
# free-threading support turns the GIL back on in a free-threaded build)
IMPORT_ENV = "GILCOMPARE_IMPORT"
GIL_REENABLED_NOTE = (
    "the GIL is on in the workers of a free-threaded build: an extension module that does not "
    "declare free-threading support re-enabled it (or PYTHON_GIL=1)"
)


def import_requested() -> None:
    """Import the modules ``GILCOMPARE_IMPORT`` names, once per interpreter (run in workers)."""
    for name in os.environ.get(IMPORT_ENV, "").split(","):
        if name.strip():
            importlib.import_module(name.strip())


def gil_reenabled(results: Sequence[Any]) -> str | None:
    """The one-line note when a free-threaded build saw the GIL on in its workers, else None."""
    if any(r.free_threaded and r.gil_enabled for r in results):
        return GIL_REENABLED_NOTE
    return None


def worker_info(delay: float = 0.0) -> dict[str, Any]:
    """Identify the worker that runs this task and what it sees of the GIL (run in workers)."""
    import_requested()
    if delay:
        time.sleep(delay)  # keeps this worker busy so the next warm-up task lands elsewhere
    return {
        "pid": os.getpid(),
        "thread": threading.get_ident(),
        "interpreter": _interpreter_id(),
        "gil_enabled": gil_enabled(),
        "python_gil_env": os.environ.get("PYTHON_GIL"),
        "blas_threads": _blas_threads(),
    }


def warm_task(workload: str, delay: float) -> dict[str, Any]:
    """Run one unit of a workload in this worker, then report the worker (run in workers)."""
    from gilcompare.workloads import WORKLOADS

    import_requested()
    WORKLOADS[workload].fn(1)
    return worker_info(delay)


def apply_environment(env: dict[str, str]) -> None:
    """Pool initializer: give a worker the harness's current variables (run in workers).

    A forkserver forks workers from a server started earlier, with that moment's environment,
    so the addresses of local peers are handed to every worker explicitly.
    """
    os.environ.update(env)


def harness_environment() -> dict[str, str]:
    """The variables workers must see: local peers' addresses and the GIL switch."""
    keep = ("GILCOMPARE_", "PYTHON_GIL")
    return {k: v for k, v in os.environ.items() if k.startswith(keep)}


def _blas_threads() -> int | None:
    """Threads the BLAS loaded in this worker may use (None when numpy is not loaded)."""
    if "numpy" not in sys.modules:
        return None
    from threadpoolctl import threadpool_info

    counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return max(counts) if counts else None


def _interpreter_id() -> int:
    mod = subinterpreters_module()
    try:
        return int(mod.get_current()) if mod is not None else 0
    except Exception:  # pragma: no cover - a private API that may change: 0, the main one
        return 0
