"""The models people deploy rather than the executors beneath them: joblib, dask.distributed,
``multiprocessing.Pool``, and a bare ``Process``/``Thread`` per task as the seed blog writes it.

Each is a ``Runner`` like the standard-library models, so every measurement, probe and table
treats them alike. What the library does per task (joblib's batching, dask's scheduler
round trip) is part of what is timed: it is what a user of that library pays.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from gilcompare.models import Model

from gilcompare.models.runners import Runner
from gilcompare.models.workers import apply_environment, harness_environment
from gilcompare.settings import DASK_CONNECT_TIMEOUT

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


class DaskRunner(Runner):
    """A ``dask.distributed.Client``: over a ``LocalCluster`` it starts and closes (process
    workers with one thread each, or one process with ``workers`` threads), or over an
    existing cluster it only connects to and never stops."""

    def __init__(self, model: Model, workers: int, where: str) -> None:
        super().__init__(model, workers)
        from distributed import Client, LocalCluster

        self.cluster: Any = None
        quiet = logging.ERROR
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
                    dashboard_address=None,
                    silence_logs=quiet,
                    env=harness_environment(),
                )
            else:  # scheduler and worker threads in this process, talking in memory
                self.cluster = LocalCluster(
                    n_workers=1,
                    threads_per_worker=workers,
                    processes=False,
                    dashboard_address=None,
                    silence_logs=quiet,
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
            return list(self.client.gather(futures))
        except BaseException:
            with contextlib.suppress(Exception):
                self.client.cancel(futures, force=True)
            raise

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


# ----------------------------------------------------------------- a worker per task


def _in_process(
    conn: Any, env: dict[str, str], fn: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    """Run one task in a fresh process and send back ("ok", value) or ("error", text)."""
    apply_environment(env)
    try:
        conn.send(("ok", fn(*args)))
    except BaseException as exc:  # noqa: BLE001 - delivered to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


class PerTaskRunner(Runner):
    """A new ``Process`` or ``Thread`` for every task, at most ``workers`` alive at once, as
    the seed blog starts them: what creating a worker costs is paid on every task."""

    def __init__(self, model: Model, workers: int) -> None:
        super().__init__(model, workers)
        self.processes = model.start_method is not None
        self.ctx = multiprocessing.get_context(model.start_method) if self.processes else None

    def starmap(self, fn: Callable[..., Any], arglists: Sequence[tuple[Any, ...]]) -> list[Any]:
        results: list[Any] = [None] * len(arglists)
        active: list[tuple[int, Any, Any]] = []  # (index, worker, pipe end or result box)
        env = harness_environment()

        def finish(index: int, worker: Any, end: Any) -> None:
            if self.processes:
                try:
                    status, value = end.recv()
                except EOFError:
                    worker.join()
                    raise RuntimeError(
                        f"worker process exited with status {worker.exitcode} before reporting"
                    ) from None
                finally:
                    end.close()
                worker.join()
            else:
                worker.join()
                status, value = end[0]
            if status != "ok":
                raise RuntimeError(f"in worker: {value}")
            results[index] = value

        try:
            for index, args in enumerate(arglists):
                if len(active) == self.workers:
                    finish(*active.pop(0))
                if self.processes:
                    assert self.ctx is not None
                    receive, send = self.ctx.Pipe(duplex=False)
                    worker = self.ctx.Process(target=_in_process, args=(send, env, fn, args))
                    worker.start()
                    send.close()
                    active.append((index, worker, receive))
                else:
                    box: list[tuple[str, Any]] = []
                    worker = threading.Thread(target=_in_thread, args=(box, fn, args))
                    worker.start()
                    active.append((index, worker, box))
            while active:
                finish(*active.pop(0))
        finally:
            for _, worker, _ in active:  # after a failure: none of ours outlives the call
                if self.processes and worker.is_alive():
                    worker.kill()
                worker.join()
        return results


def _in_thread(box: list[tuple[str, Any]], fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        box.append(("ok", fn(*args)))
    except BaseException as exc:  # noqa: BLE001 - delivered to the caller
        box.append(("error", f"{type(exc).__name__}: {exc}"))


# ---------------------------------------------------------------------------- registry

REQUIRES = {  # model → the modules it imports
    "joblib-loky": ("joblib",),
    "joblib-threads": ("joblib",),
    "dask-processes": ("distributed",),
    "dask-threads": ("distributed",),
    "dask-cluster": ("distributed",),
}


def start(model: Model, workers: int) -> Runner:
    """Start one of this module's models."""
    if model.name == "joblib-loky":
        return JoblibRunner(model, workers, "loky")
    if model.name == "joblib-threads":
        return JoblibRunner(model, workers, "threading")
    if model.name.startswith("dask-"):
        return DaskRunner(model, workers, model.name.removeprefix("dask-"))
    if model.name.startswith("mp-pool"):
        return PoolRunner(model, workers)
    if model.name in ("process-per-task", "thread-per-task"):
        return PerTaskRunner(model, workers)
    raise AssertionError(f"no runner for model {model.name!r}")
