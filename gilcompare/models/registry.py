"""The registry of models: one line per model, and the hook that adds models from elsewhere.

A model defined outside gilcompare joins the registry by ``register(model)`` in-process, or,
for every process a run starts (the isolated children of the probes and the scaling cells,
asv's benchmark discovery), by naming it in ``GILCOMPARE_MODELS``: comma-separated
``module:object`` references to ``Model`` instances, loaded on the registry's first lookup.

Imported lazily by the package (gilcompare.models), so that a worker importing
``gilcompare.models.workers`` loads no executor, event loop or multiprocessing machinery.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any, Callable

from gilcompare.errors import UsageError
from gilcompare.models.base import Model, resolve
from gilcompare.models.libraries import (
    DASK_CLUSTER_STOPS,
    DASK_PROCESS_STOPS,
    DASK_THREAD_STOPS,
    JOBLIB_LOKY_STOPS,
    JOBLIB_THREAD_STOPS,
    DaskModel,
    JoblibModel,
    PoolModel,
    ProcessPerTaskModel,
    ThreadPerTaskModel,
)
from gilcompare.models.standard import (
    AsyncioModel,
    LokyModel,
    ProcessesModel,
    SerialModel,
    SubinterpretersModel,
    ThreadsModel,
)

MODELS_ENV = "GILCOMPARE_MODELS"  # module:object[,module:object...]: models added to these
BASELINE = "serial"  # what every speedup is relative to
# the plain thread pool: its speedup says how much of a function runs without the GIL
THREAD_POOL = "threads"

_PROCESSES = {"shares_memory": False, "workers_are": "processes"}


class _Registry(dict[str, Model]):
    """The models by name; those named in ``GILCOMPARE_MODELS`` join on the first lookup, so
    that their modules may import any part of gilcompare (which imports this one)."""

    _loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True  # before the imports, which may look models up themselves
        for reference in (r.strip() for r in os.environ.get(MODELS_ENV, "").split(",")):
            if not reference:
                continue
            try:
                if ":" not in reference:
                    raise ValueError("expected module:object")
                register(resolve(reference))  # type: ignore[arg-type]
            except (ImportError, AttributeError, TypeError, ValueError) as exc:
                self._loaded = False
                raise UsageError(
                    f"{MODELS_ENV} names models as module:object, comma-separated; "
                    f"{reference!r} is not one: {exc}"
                ) from None

    def __getitem__(self, name: str) -> Model:
        self._load()
        return super().__getitem__(name)

    def __contains__(self, name: object) -> bool:
        self._load()
        return super().__contains__(name)

    def __iter__(self) -> Iterator[str]:
        self._load()
        return super().__iter__()

    def __len__(self) -> int:
        self._load()
        return super().__len__()

    def get(self, name: str, default: Any = None) -> Any:
        self._load()
        return super().get(name, default)

    def keys(self) -> Any:
        self._load()
        return super().keys()

    def values(self) -> Any:
        self._load()
        return super().values()

    def items(self) -> Any:
        self._load()
        return super().items()


MODELS: dict[str, Model] = _Registry(
    (m.name, m)
    for m in [
        SerialModel(name=BASELINE, summary="one task after another on one thread"),
        ThreadsModel(name="threads", summary="concurrent.futures.ThreadPoolExecutor"),
        ProcessesModel(
            name="processes-fork", summary="ProcessPoolExecutor, fork context", start_method="fork"
        ),
        ProcessesModel(
            name="processes-spawn",
            summary="ProcessPoolExecutor, spawn context",
            start_method="spawn",
        ),
        ProcessesModel(
            name="processes-forkserver",
            summary="ProcessPoolExecutor, forkserver context",
            start_method="forkserver",
        ),
        SubinterpretersModel(
            name="subinterpreters", summary="one isolated interpreter (own GIL) per thread"
        ),
        AsyncioModel(name="asyncio", summary="coroutines on one event loop"),
        LokyModel(name="loky", summary="loky's robust process pool (library pool)"),
        # the models people deploy (gilcompare.models.libraries); measured when asked for by name
        JoblibModel(
            name="joblib-loky",
            summary="joblib.Parallel, loky backend (processes)",
            backend="loky",
            stop_methods=JOBLIB_LOKY_STOPS,
            **_PROCESSES,
        ),
        JoblibModel(
            name="joblib-threads",
            summary="joblib.Parallel, threading backend",
            backend="threading",
            stop_methods=JOBLIB_THREAD_STOPS,
        ),
        DaskModel(
            name="dask-processes",
            summary="dask.distributed LocalCluster, a process per worker",
            where="processes",
            stop_methods=DASK_PROCESS_STOPS,
            **_PROCESSES,
        ),
        DaskModel(
            name="dask-threads",
            summary="dask.distributed LocalCluster, threads in one process",
            where="threads",
            stop_methods=DASK_THREAD_STOPS,
            shares_memory=False,  # its threads share memory, but its graph pickles arguments
            copied_because="dask pickles a task's arguments into its graph, even for threads",
        ),
        DaskModel(
            name="dask-cluster",
            summary="dask.distributed Client of an existing scheduler",
            where="cluster",
            stop_methods=DASK_CLUSTER_STOPS,
            **_PROCESSES,
        ),
        PoolModel(
            name="mp-pool-fork", summary="multiprocessing.Pool, fork context", start_method="fork"
        ),
        PoolModel(
            name="mp-pool-spawn",
            summary="multiprocessing.Pool, spawn context",
            start_method="spawn",
        ),
        ProcessPerTaskModel(
            name="process-per-task",
            summary="a new Process per task (fork), as the seed",
            start_method="fork",
        ),
        ThreadPerTaskModel(name="thread-per-task", summary="a new Thread per task, as the seed"),
    ]
)


class ModelNames(Sequence[str]):
    """The names of the registered models that pass ``keep``, read when asked: a model
    registered later is in it."""

    def __init__(self, keep: Callable[[Model], bool]) -> None:
        self._keep = keep

    def _names(self) -> tuple[str, ...]:
        return tuple(name for name, m in MODELS.items() if self._keep(m))

    def __getitem__(self, index: int) -> str:  # type: ignore[override]
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __repr__(self) -> str:
        return repr(self._names())


# Measured by `gilcompare run` only when named: the default grid stays the executors' one.
DEPLOYED_MODELS: Sequence[str] = ModelNames(lambda m: m.deployed)
STANDARD_MODELS: Sequence[str] = ModelNames(lambda m: not m.deployed)


def register(model: Model) -> None:
    """Add a model to the registry (in this process; ``GILCOMPARE_MODELS`` reaches children)."""
    if not isinstance(model, Model):
        raise TypeError(f"a model must be a gilcompare.models.Model, got {type(model).__name__}")
    if model.name in MODELS and MODELS[model.name] is not model:
        raise ValueError(f"model {model.name!r} is already registered: choose another name")
    MODELS[model.name] = model


def unregister(name: str) -> None:
    """Remove a model that ``register`` added."""
    MODELS.pop(name, None)


def get_model(name: str) -> Model:
    """Look a model up by name, or fail naming the valid choices."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}: choose from {', '.join(MODELS)}") from None


def available_models() -> list[str]:
    """Names of the models this interpreter can run."""
    return [name for name, m in MODELS.items() if m.unavailable() is None]


__all__ = [
    "BASELINE",
    "DEPLOYED_MODELS",
    "MODELS",
    "MODELS_ENV",
    "ModelNames",
    "STANDARD_MODELS",
    "THREAD_POOL",
    "Model",
    "available_models",
    "get_model",
    "register",
    "unregister",
]
