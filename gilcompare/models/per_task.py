"""A bare ``Process`` or ``Thread`` per task, as the seed blog starts them (the models
``process-per-task`` and ``thread-per-task`` in gilcompare.models.libraries)."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Sequence
from typing import Any, Callable

from gilcompare.models.base import Model
from gilcompare.models.runners import Runner
from gilcompare.models.workers import apply_environment, harness_environment


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
