"""Stop for the libraries people deploy: what joblib, dask.distributed and multiprocessing.Pool
offer to end work that is already running.

None of them can cancel a task once it runs. What each can do, and what the probe times from
the request until every task has ended:

* every one: the task checks a flag between chunks of work (``event``). The flag is a file,
  which a thread, a process or a dask worker on this host all see (an existing cluster's
  workers must share this host's filesystem, as a LocalCluster's and the tests' do);
* joblib's loky backend: closing the generator of a ``Parallel(return_as=...)`` call aborts
  it, and joblib kills the workers (``terminate``);
* dask-processes: closing the LocalCluster has the nannies kill their worker processes
  (``terminate``);
* multiprocessing.Pool: ``terminate()``.

``Client.cancel`` only releases a running task's future (the task runs on), and joblib has no
per-task cancel: ``cancel`` is not applicable to them, with that reason.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
from typing import Any, Callable

from gilcompare.models import Model
from gilcompare.models.libraries import DaskModel, JoblibModel
from gilcompare.probes.workers import flag_loop, spin_forever
from gilcompare.settings import JOIN_TIMEOUT_S, READY_TIMEOUT_S, STOP_CAP_S


def _in_folder(
    stop: Callable[..., tuple[int, float]],
) -> Callable[[Model, int, str, int], tuple[int, float]]:
    """One round in the probe's child: ``workers`` looping tasks, the seed's join(timeout),
    then the stop request; (tasks still running after the join, seconds until all ended).
    The tasks see each other and the stop request through files in a fresh folder."""

    @functools.wraps(stop)
    def round_in_folder(model: Model, workers: int, method: str, units: int) -> tuple[int, float]:
        folder = tempfile.mkdtemp(prefix="gilcompare-stop-")
        try:
            return stop(model, workers, method, units, folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    return round_in_folder


def _task(method: str, folder: str, units: int) -> tuple[Any, tuple[Any, ...]]:
    if method == "event":
        return flag_loop, (os.path.join(folder, "stop"), folder, units)
    return spin_forever, (folder, units)


def _marks(folder: str, what: str) -> list[str]:
    return [name for name in os.listdir(folder) if name.startswith(what + "-")]


def _await_ready(folder: str, workers: int) -> list[int]:
    """Wait until every task runs its loop; the process ids running them."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while len(ready := _marks(folder, "ready")) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the tasks did not start within {READY_TIMEOUT_S:g} s")
        time.sleep(0.005)
    return sorted({int(name.split("-")[1]) for name in ready})


def _join_with_timeout(folder: str, workers: int) -> int:
    """The seed's join(timeout): wait, stop nothing, and count the tasks still running."""
    time.sleep(JOIN_TIMEOUT_S)
    return workers - len(_marks(folder, "done"))


def _request_stop(folder: str) -> None:
    with open(os.path.join(folder, "stop"), "w", encoding="ascii"):
        pass


def _await_gone(pids: list[int]) -> None:
    """Wait until none of ``pids`` runs (a zombie has stopped running), or fail at the cap."""
    import psutil

    deadline = time.monotonic() + STOP_CAP_S
    while True:
        running = 0
        for pid in pids:
            with contextlib.suppress(psutil.NoSuchProcess):
                running += psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        if not running:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{running} of {len(pids)} workers still ran {STOP_CAP_S:g} s after the request"
            )
        time.sleep(0.001)


def _kill(pids: list[int]) -> None:
    """Leave no worker behind, whatever happened."""
    import psutil

    for pid in pids:
        with contextlib.suppress(psutil.Error):
            if pid != os.getpid():
                psutil.Process(pid).kill()


@_in_folder
def stop_joblib(
    model: JoblibModel, workers: int, method: str, units: int, folder: str
) -> tuple[int, float]:
    """joblib.Parallel on the model's backend: a flag, or closing the call's generator."""
    import joblib

    backend = model.backend
    fn, args = _task(method, folder, units)
    parallel = joblib.Parallel(
        n_jobs=workers, backend=backend, batch_size=1, return_as="generator_unordered"
    )
    pids: list[int] = []
    try:
        results = parallel(joblib.delayed(fn)(*args) for _ in range(workers))
        pids = _await_ready(folder, workers)
        alive = _join_with_timeout(folder, workers)
        t0 = time.perf_counter()
        if method == "event":
            _request_stop(folder)
            list(results)
        else:
            results.close()  # joblib aborts the call: loky kills the workers
            _await_gone(pids)
        return alive, time.perf_counter() - t0
    finally:
        _request_stop(folder)
        if backend == "loky":
            from joblib.externals.loky import get_reusable_executor

            get_reusable_executor().shutdown(wait=True, kill_workers=True)
            _kill(pids)


@_in_folder
def stop_dask(
    model: DaskModel, workers: int, method: str, units: int, folder: str
) -> tuple[int, float]:
    """A dask Client of the model: a flag, or closing the LocalCluster (its nannies kill)."""
    runner: Any = model.start(workers)  # a DaskRunner: its client submits the tasks
    fn, args = _task(method, folder, units)
    pids: list[int] = []
    try:
        futures = [runner.client.submit(fn, *args, pure=False) for _ in range(workers)]
        pids = _await_ready(folder, workers)
        alive = _join_with_timeout(folder, workers)
        t0 = time.perf_counter()
        if method == "event":
            _request_stop(folder)
            runner.client.gather(futures)
        else:  # the nannies kill their worker processes
            runner.close()
            _await_gone(pids)
        return alive, time.perf_counter() - t0
    finally:
        _request_stop(folder)
        with contextlib.suppress(Exception):
            runner.close()
        if model.where == "processes":  # worker processes of ours: none may outlive it
            _kill(pids)


@_in_folder
def stop_pool(
    model: Model, workers: int, method: str, units: int, folder: str
) -> tuple[int, float]:
    """multiprocessing.Pool of the model's start method: a flag, or ``terminate()``.

    ``Pool.terminate()`` can hang for ever when its workers sit idle in ``get()``
    (python/cpython#78178), so every call to it here runs in a thread with a time limit:
    the stop is the time until the workers are gone, and a pool that does not close
    in time has its workers killed."""
    ctx = multiprocessing.get_context(model.start_method)
    fn, args = _task(method, folder, units)
    pool = ctx.Pool(workers)
    pids: list[int] = []
    try:
        pending = [pool.apply_async(fn, args) for _ in range(workers)]
        pids = _await_ready(folder, workers)
        alive = _join_with_timeout(folder, workers)
        t0 = time.perf_counter()
        if method == "event":
            _request_stop(folder)
            for result in pending:
                result.get(timeout=STOP_CAP_S)
        else:
            _within(pool.terminate, STOP_CAP_S)
            _await_gone(pids)
        return alive, time.perf_counter() - t0
    finally:
        _request_stop(folder)
        pool.close()  # the workers take the pool's sentinel and exit; a stopped pool stays so
        if not _within(pool.join, STOP_CAP_S):
            _kill(pids)
            _within(pool.terminate, STOP_CAP_S)


def _within(call: Callable[[], object], seconds: float) -> bool:
    """Run ``call`` in a daemon thread; whether it returned within ``seconds``."""
    thread = threading.Thread(target=call, name="gilcompare-bounded", daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive()
