"""The ways to run work: one runner interface, one registry, availability with a reason.

Every model wraps a ``concurrent.futures`` executor (or, for asyncio, an event loop); none of
them is a pool of its own. Free-threading is not a model: it is a property of the interpreter
build, and ``threads`` on a 3.13t/3.14t build *are* free-threaded threads — the GIL status
each worker reports says which one a result measured.

The kinds of worker live in their own modules: runners (threads, processes, asyncio, serial),
subinterpreters (the 3.12/3.13 pool), libraries (joblib, dask, multiprocessing.Pool, a worker
per task) and workers (what runs in every worker: its report of the GIL, its environment).
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> module: loaded on first use, so that workers (which import gilcompare.models.workers,
# and so this package) never pay for the registry's imports. On a build without PGO, a
# subinterpreter took 0.3 s to import them before its first task.
_EXPORTS = {
    "DEPLOYED_MODELS": "registry",
    "MODELS": "registry",
    "STANDARD_MODELS": "registry",
    "Model": "registry",
    "available_models": "registry",
    "get_model": "registry",
    "Runner": "runners",
    "GIL_REENABLED_NOTE": "workers",
    "IMPORT_ENV": "workers",
    "free_threaded_build": "workers",
    "gil_enabled": "workers",
    "gil_reenabled": "workers",
    "worker_info": "workers",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
