"""One runner interface for every model: warm it, run task lists on it, close it.

``Runner`` is the interface; here are the runners of the standard library's models, over a
``concurrent.futures`` executor (``ExecutorRunner``) or an event loop (``AsyncioRunner``).
The libraries' runners (joblib, dask, ``multiprocessing.Pool``, a worker per task) are in
gilcompare.models.libraries and drive those libraries' own pools.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable

from gilcompare.models.workers import warm_task, worker_info
from gilcompare.workloads import Workload

if TYPE_CHECKING:
    from gilcompare.models import Model


class Runner:
    """A started model with ``workers`` workers: warm it, run tasks on it, close it."""

    def __init__(self, model: Model, workers: int) -> None:
        self.model = model
        self.workers = workers
        self.worker_infos: list[dict[str, Any]] = []

    def starmap(self, fn: Callable[..., Any], arglists: Sequence[tuple[Any, ...]]) -> list[Any]:
        """Run ``fn(*args)`` for every args tuple, at most ``workers`` at once; in order."""
        raise NotImplementedError

    def run(self, fn: Callable[[int], Any], sizes: Sequence[int]) -> list[Any]:
        """Run ``fn(size)`` for every size; results in order."""
        return self.starmap(fn, [(size,) for size in sizes])

    def run_workload(self, workload: Workload, sizes: Sequence[int]) -> list[Any]:
        """Run a workload's tasks; models with a native async variant use it."""
        return self.run(workload.fn, sizes)

    def warm(self, workload: Workload | None = None) -> list[dict[str, Any]]:
        """Make every worker exist and run a task of the workload: a steady state to time.

        Each warm-up task sleeps after its work so that the next one lands on another worker;
        the rounds grow longer until every worker has answered. A model whose one worker does
        everything (serial, asyncio) runs one warm-up task, without the pause.
        """
        seen: dict[tuple[Any, ...], dict[str, Any]] = {}
        parallel = self.model.parallel_workers
        tasks = self.workers if parallel else 1
        for delay in (0.05, 0.1, 0.2, 0.4, 0.8) if parallel else (0.0,):
            if workload is None:
                infos = self.starmap(worker_info, [(delay,)] * tasks)
            else:
                infos = self.starmap(warm_task, [(workload.name, delay)] * tasks)
            for info in infos:
                seen[(info["pid"], info["thread"], info["interpreter"])] = info
            if len(seen) >= self.workers or not self.model.parallel_workers:
                break
        if workload is not None and workload.afn is not None:
            self.run_workload(workload, [1] * self.workers)
        self.worker_infos = list(seen.values())
        return self.worker_infos

    def close(self) -> None:
        """Shut the workers down and wait for them."""

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ExecutorRunner(Runner):
    """A model backed by a ``concurrent.futures.Executor``."""

    def __init__(self, model: Model, workers: int, executor: cf.Executor) -> None:
        super().__init__(model, workers)
        self.executor = executor

    def starmap(self, fn: Callable[..., Any], arglists: Sequence[tuple[Any, ...]]) -> list[Any]:
        futures = [self.executor.submit(fn, *args) for args in arglists]
        return [f.result() for f in futures]

    def close(self) -> None:
        try:
            self.executor.shutdown(wait=True, cancel_futures=True)
        except TypeError:  # loky's executor predates cancel_futures
            self.executor.shutdown(wait=True)


class InterpreterPoolRunner(ExecutorRunner):
    """3.14's ``InterpreterPoolExecutor``: every task is handed over by reference.

    ``Interpreter.call`` shares a plain function by its code object when it can, so a function
    whose generator expression or nested code reaches a module global (``fib`` calls ``_fib``)
    fails in the worker with NameError. A ``functools.partial`` cannot be shared that way: it
    is pickled, the function by module and name, and the worker imports the module.
    """

    def starmap(self, fn: Callable[..., Any], arglists: Sequence[tuple[Any, ...]]) -> list[Any]:
        return super().starmap(functools.partial(fn), arglists)


def own_thread(role: str) -> cf.ThreadPoolExecutor:
    """One thread of the runner's own, on which a model that does one thing at a time runs
    every task: serial, and asyncio's event loop.

    Not the caller's thread. Measured on 3.12, the main thread ran ``count`` 3-6 % slower
    than a worker thread of the same process, by an amount that differed from one process to
    the next (two worker threads: 0-3 %), which fits the main thread's stack being placed at
    random in each process. A baseline timed there moved every speedup of a grid together, and
    one thread came out faster than serial. Timed on a thread like the pools' workers, that
    offset cancels in each ratio.
    """
    return cf.ThreadPoolExecutor(1, thread_name_prefix=f"gilcompare-{role}")


class AsyncioRunner(Runner):
    """Tasks as coroutines on one event loop, at most ``workers`` in flight.

    Workloads with a native async variant (sleep, http) await it; the others are called on
    the loop and block it, so CPU work shows no parallelism at all — which is the truth. The
    loop runs on a thread of its own (``own_thread``), as serial does.
    """

    def __init__(self, model: Model, workers: int) -> None:
        super().__init__(model, workers)
        self.loop = asyncio.new_event_loop()
        self.thread = own_thread("asyncio")  # the loop runs here, never in the caller

    def _gather(
        self, call: Callable[..., Any], arglists: Sequence[tuple[Any, ...]], is_async: bool
    ) -> list[Any]:
        async def main() -> list[Any]:
            gate = asyncio.Semaphore(self.workers)

            async def one(args: tuple[Any, ...]) -> Any:
                async with gate:
                    return await call(*args) if is_async else call(*args)

            return list(await asyncio.gather(*(one(a) for a in arglists)))

        return self.thread.submit(self.loop.run_until_complete, main()).result()

    def starmap(self, fn: Callable[..., Any], arglists: Sequence[tuple[Any, ...]]) -> list[Any]:
        return self._gather(fn, arglists, is_async=False)

    def run_workload(self, workload: Workload, sizes: Sequence[int]) -> list[Any]:
        if workload.afn is not None:
            return self._gather(workload.afn, [(s,) for s in sizes], is_async=True)
        return self.run(workload.fn, sizes)

    def close(self) -> None:
        if not self.loop.is_closed():
            self.thread.submit(self.loop.run_until_complete, self.loop.shutdown_asyncgens())
            self.thread.submit(self.loop.close)
        self.thread.shutdown(wait=True)
