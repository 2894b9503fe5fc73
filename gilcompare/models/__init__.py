"""The ways to run work: one model object each, one runner interface, one registry.

A model (base.Model) carries everything about it: whether it can run here and why not, how it
starts its workers as a Runner, whether they share the caller's memory, how the probes stop
and cold-start them, which pip extra it needs. Nothing outside this package asks a model's
name or kind what to do. Free-threading is not a model: it is a property of the interpreter
build, and ``threads`` on a 3.13t/3.14t build *are* free-threaded threads — the GIL status
each worker reports says which one a result measured.

The standard library's models wrap an executor (or, for asyncio, an event loop); the
libraries' run joblib, dask.distributed, ``multiprocessing.Pool`` or a bare Process/Thread per
task. Modules: base (the Model), standard (serial, threads, processes, subinterpreters,
asyncio, loky), libraries (the deployed libraries), runners (the Runner interface and the
executor runners), subinterpreters (the 3.12/3.13 pool), registry (one line per model, and
``GILCOMPARE_MODELS`` for models from elsewhere) and workers (what runs in every worker: its
report of the GIL, its environment).
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> module: loaded on first use, so that workers (which import gilcompare.models.workers,
# and so this package) never pay for the registry's imports. On a build without PGO, a
# subinterpreter took 0.3 s to import them before its first task.
_EXPORTS = {
    "BASELINE": "registry",
    "DEPLOYED_MODELS": "registry",
    "MODELS": "registry",
    "MODELS_ENV": "registry",
    "STANDARD_MODELS": "registry",
    "THREAD_POOL": "registry",
    "Model": "registry",
    "ModelNames": "registry",
    "available_models": "registry",
    "get_model": "registry",
    "register": "registry",
    "unregister": "registry",
    "ExecutorRunner": "runners",
    "ProcessesModel": "standard",
    "Runner": "runners",
    "ThreadsModel": "standard",
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
