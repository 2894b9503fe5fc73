"""The models people deploy rather than the executors beneath them: joblib, dask.distributed,
``multiprocessing.Pool``, and a bare ``Process``/``Thread`` per task as the seed blog writes it.

Each kind is a ``Model`` subclass at the end of this module, whose runner drives the library's
own pool (not a ``concurrent.futures`` executor) behind the same ``Runner`` interface as the
standard library's models, so every measurement, probe and table treats them alike. What the
library does per task (joblib's batching, dask's scheduler round trip) is part of what is
timed: it is what a user of that library pays.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable

from gilcompare.models.base import Model, stops
from gilcompare.models.per_task import PerTaskRunner
from gilcompare.models.runners import Runner
from gilcompare.models.standard import PROCESS_STOPS, THREAD_STOPS
from gilcompare.models.workers import apply_environment, harness_environment
from gilcompare.settings import DASK_CONNECT_TIMEOUT, DASK_WATCH

DASK_SCHEDULER_ENV = "GILCOMPARE_DASK_SCHEDULER"  # tcp://HOST:PORT of an existing cluster
INSTALL_HINT = "pip install 'gilcompare[libraries]'"


# ------------------------------------------------------------------------------- joblib


class JoblibRunner(Runner):
    """``joblib.Parallel`` with ``n_jobs`` = workers, kept open so its workers stay warm."""

    def __init__(self, model: Model, workers: int, backend: str) -> None:
        super().__init__(model, workers)
        import joblib

        self._delayed = joblib.delayed
        self._backend = backend
        # batch_size=1: one task per dispatch, as every other model here is measured
        self._parallel = joblib.Parallel(n_jobs=workers, backend=backend, batch_size=1)
        self._parallel.__enter__()

    def starmap(self, fn: Callable[..., Any], arglists: Sequence[tuple[Any, ...]]) -> list[Any]:
        return list(self._parallel(self._delayed(fn)(*args) for args in arglists))

    def close(self) -> None:
        self._parallel.__exit__(None, None, None)
        if self._backend == "loky":  # joblib keeps loky's workers for reuse: none may outlive us
            from joblib.externals.loky import get_reusable_executor

            get_reusable_executor().shutdown(wait=True, kill_workers=True)


# -------------------------------------------------------------------------------- dask


def dask_scheduler_address(address: str | None = None) -> str:
    """The existing cluster's address (argument or GILCOMPARE_DASK_SCHEDULER), checked."""
    address = address or os.environ.get(DASK_SCHEDULER_ENV, "")
    if not address:
        raise ValueError(
            f"dask-cluster needs a scheduler address: --dask-scheduler tcp://HOST:PORT "
            f"or {DASK_SCHEDULER_ENV}"
        )
    scheme, sep, rest = address.partition("://")
    host, colon, port = rest.rpartition(":")
    if not (sep and scheme in ("tcp", "tls", "inproc", "ucx") and host and colon):
        raise ValueError(f"malformed dask scheduler address {address!r}: expected tcp://HOST:PORT")
    if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"malformed dask scheduler address {address!r}: bad port {port!r}")
    return address


def _connect(client: Callable[..., Any], address: str) -> Any:
    """A client of the scheduler at ``address``, or a one-line error naming it after
    DASK_CONNECT_TIMEOUT seconds: a peer that accepts and never answers (a mute or wrong
    service on that port) would otherwise hold the measurement until its own timeout."""
    made: list[Any] = []
    failed: list[BaseException] = []

    def attempt() -> None:
        try:
            made.append(client(address, timeout=DASK_CONNECT_TIMEOUT, set_as_default=False))
        except BaseException as exc:  # noqa: BLE001 - reported below in one line
            failed.append(exc)

    thread = threading.Thread(target=attempt, name="gilcompare-dask-connect", daemon=True)
    thread.start()
    thread.join(DASK_CONNECT_TIMEOUT + 1)
    if made:
        return made[0]
    why = f": {type(failed[0]).__name__}: {failed[0]}" if failed else ""
    raise RuntimeError(
        f"no dask scheduler answered at {address} within {DASK_CONNECT_TIMEOUT:g} s{why}"
        if not failed
        else f"cannot reach the dask scheduler at {address}{why}"
    )


# A scheduler serves its HTTP routes (health, metrics) even without a dashboard, on dask's
# fixed port 8787 of every interface unless told, and a worker serves its own on every
# interface (in memory, and in a process before distributed 2025): loopback, any free port;
# and their logs only on errors
LOCAL_CLUSTER: dict[str, Any] = {
    "dashboard_address": None,
    "worker_dashboard_address": "127.0.0.1:0",
    "scheduler_kwargs": {"dashboard": False, "dashboard_address": "127.0.0.1:0"},
    "silence_logs": logging.ERROR,
}


def _timeouts() -> tuple[type[BaseException], ...]:
    """What a timed-out wait raises: asyncio's TimeoutError is the builtin one from 3.11."""
    import asyncio

    return (TimeoutError, asyncio.TimeoutError)


class DaskRunner(Runner):
    """A ``dask.distributed.Client``: over a ``LocalCluster`` it starts and closes (process
    workers with one thread each, or one process with ``workers`` threads), or over an
    existing cluster it only connects to and never stops."""

    def __init__(self, model: Model, workers: int, where: str) -> None:
        super().__init__(model, workers)
        from distributed import Client, LocalCluster

        self.cluster: Any = None
        self._stoppable = where == "cluster"
        if where == "cluster":
            self.client = _connect(Client, dask_scheduler_address())
        else:
            if where == "processes":  # on loopback, a nanny and a worker process each
                self.cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    env=harness_environment(),
                    **LOCAL_CLUSTER,
                )
            else:  # scheduler and worker threads in this process, talking in memory
                self.cluster = LocalCluster(
                    n_workers=1,
                    threads_per_worker=workers,
                    processes=False,
                    **LOCAL_CLUSTER,
                )
            self.client = Client(self.cluster, set_as_default=False)

    def starmap(self, fn: Callable[..., Any], arglists: Sequence[tuple[Any, ...]]) -> list[Any]:
        if not arglists:
            return []
        # pure=False: equal arguments are separate tasks, not one cached result
        if self._stoppable:  # somebody else's cluster: a task must not outlive this run
            from gilcompare.models.stoppable import run_stoppable

            arglists = [(fn, *args) for args in arglists]
            fn = run_stoppable
        if arglists[0]:
            futures = self.client.map(fn, *zip(*arglists), pure=False)
        else:  # map needs an iterable of arguments: tasks without any are submitted one by one
            futures = [self.client.submit(fn, pure=False) for _ in arglists]
        try:
            if self._stoppable:
                return self._gather_watching(futures)
            return list(self.client.gather(futures))
        except BaseException:
            with contextlib.suppress(Exception):
                self.client.cancel(futures, force=True)
            raise

    def _gather_watching(self, futures: list[Any]) -> list[Any]:
        """The results from somebody else's cluster, while checking every DASK_WATCH seconds
        that its scheduler still answers: one that goes silent mid-run (stopped, partitioned
        away) fails the call within DASK_CONNECT_TIMEOUT of that check, in a line naming its
        address, instead of holding the cell until the cell's own timeout."""
        results = []
        for future in futures:
            while True:
                try:
                    results.append(future.result(timeout=DASK_WATCH))
                    break
                except _timeouts():
                    self._check_scheduler()
        return results

    def _check_scheduler(self) -> None:
        """Ask the scheduler who it is; RuntimeError naming it when no answer comes in time."""
        address = self.client.scheduler.address
        try:
            self.client.sync(self.client.scheduler.identity, callback_timeout=DASK_CONNECT_TIMEOUT)
        except _timeouts():
            raise RuntimeError(
                f"the dask scheduler at {address} stopped answering: no reply within "
                f"{DASK_CONNECT_TIMEOUT:g} s while its tasks ran"
            ) from None
        except OSError as exc:
            raise RuntimeError(
                f"lost the dask scheduler at {address} while its tasks ran: "
                f"{type(exc).__name__}: {exc}"
            ) from None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


# ------------------------------------------------------------------- multiprocessing.Pool


class PoolRunner(Runner):
    """``multiprocessing.Pool`` with an explicit start method: the pre-futures API."""

    def __init__(self, model: Model, workers: int) -> None:
        super().__init__(model, workers)
        ctx = multiprocessing.get_context(model.start_method)
        self.pool = ctx.Pool(
            workers, initializer=apply_environment, initargs=(harness_environment(),)
        )

    def starmap(self, fn: Callable[..., Any], arglists: Sequence[tuple[Any, ...]]) -> list[Any]:
        return self.pool.starmap(fn, arglists, chunksize=1)

    def close(self) -> None:
        self.pool.close()
        self.pool.join()


# ------------------------------------------------------------------------------ models

LIBRARY_STOP = "gilcompare.probes.stop_libraries"
START_RUNNER = "gilcompare.probes.start:start_runner"  # the library's own start and close
JOBLIB_CANCEL = "joblib has no per-task cancel: closing the call's generator aborts it"
DASK_CANCEL = (
    "dask's Client.cancel releases a running task's future, but the task runs on: it is not a stop"
)
POOL_CANCEL = (
    "multiprocessing.Pool cannot cancel a task: its workers check a flag or the pool is terminated"
)

# each library model's stop methods: None when it applies, else why not
JOBLIB_LOKY_STOPS = {"event": None, "terminate": None, "cancel": JOBLIB_CANCEL}
JOBLIB_THREAD_STOPS = {
    "event": None,
    "terminate": "joblib's threading backend cannot interrupt a running task; it must check a flag",
    "cancel": JOBLIB_CANCEL,
}
POOL_STOPS = {"event": None, "terminate": None, "cancel": POOL_CANCEL}
DASK_PROCESS_STOPS = {"event": None, "terminate": None, "cancel": DASK_CANCEL}
DASK_THREAD_STOPS = {
    "event": None,
    "terminate": "dask-threads runs its tasks on threads of this process: closing the cluster "
    "cannot stop one that is running",
    "cancel": DASK_CANCEL,
}
DASK_CLUSTER_STOPS = {
    "event": None,
    "terminate": "an existing cluster is not the run's to stop: its workers are left alone",
    "cancel": DASK_CANCEL,
}


@dataclass(frozen=True)
class JoblibModel(Model):
    """``joblib.Parallel`` on one of its backends (loky: processes; threading: threads)."""

    backend: str = "loky"
    kind: str = "library"
    deployed: bool = True
    extra: str | None = "libraries"
    requires: tuple[str, ...] = ("joblib",)
    stop_round: str | None = f"{LIBRARY_STOP}:stop_joblib"
    cold_start: str | None = START_RUNNER

    def runner(self, workers: int) -> Runner:
        return JoblibRunner(self, workers, self.backend)


@dataclass(frozen=True)
class DaskModel(Model):
    """A ``dask.distributed`` Client: over a LocalCluster of processes or of threads, or over
    an existing cluster (``where="cluster"``), which needs its scheduler's address."""

    where: str = "processes"
    kind: str = "library"
    deployed: bool = True
    extra: str | None = "libraries"
    requires: tuple[str, ...] = ("distributed",)
    stop_round: str | None = f"{LIBRARY_STOP}:stop_dask"
    cold_start: str | None = START_RUNNER

    def unavailable(self) -> str | None:
        reason = super().unavailable()
        if reason is None and self.where == "cluster" and not os.environ.get(DASK_SCHEDULER_ENV):
            return (
                "needs an existing scheduler: --dask-scheduler tcp://HOST:PORT "
                f"(or {DASK_SCHEDULER_ENV})"
            )
        return reason

    @property
    def on_a_cluster(self) -> bool:
        return self.where == "cluster"

    def runner(self, workers: int) -> Runner:
        return DaskRunner(self, workers, self.where)


@dataclass(frozen=True)
class PoolModel(Model):
    """``multiprocessing.Pool`` with a start method."""

    kind: str = "library"
    deployed: bool = True
    shares_memory: bool = False
    workers_are: str = "processes"
    stop_methods: Mapping[str, str | None] = stops(POOL_STOPS)
    stop_round: str | None = f"{LIBRARY_STOP}:stop_pool"
    cold_start: str | None = START_RUNNER

    def runner(self, workers: int) -> Runner:
        return PoolRunner(self, workers)


@dataclass(frozen=True)
class ProcessPerTaskModel(Model):
    """A new ``Process`` per task; the stop probe stops raw processes, as for the executors."""

    kind: str = "library"
    deployed: bool = True
    shares_memory: bool = False
    workers_are: str = "processes"
    stop_methods: Mapping[str, str | None] = stops(PROCESS_STOPS)
    stop_round: str | None = "gilcompare.probes.stop:stop_processes"
    cold_start: str | None = START_RUNNER

    def runner(self, workers: int) -> Runner:
        return PerTaskRunner(self, workers)


@dataclass(frozen=True)
class ThreadPerTaskModel(Model):
    """A new ``Thread`` per task: the workers share the caller's memory; stopped as threads."""

    kind: str = "library"
    deployed: bool = True
    stop_methods: Mapping[str, str | None] = stops(THREAD_STOPS)
    stop_round: str | None = "gilcompare.probes.stop:stop_threads"
    cold_start: str | None = START_RUNNER

    def runner(self, workers: int) -> Runner:
        return PerTaskRunner(self, workers)
