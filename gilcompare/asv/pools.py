"""Warm pools and cold runs: what the asv suite's time_ and timeraw_ benchmarks run.

Every task list is checked against the serial results: a fast wrong answer is not a result.
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Iterable, Iterator
from typing import Any, Callable

from gilcompare.measure.cells import checksum, plan
from gilcompare.measure.engine import gil_in_workers
from gilcompare.measure.services import local_peers
from gilcompare.models import Runner, get_model
from gilcompare.settings import ASV_PROFILE, ASV_SCALING
from gilcompare.workloads import Workload, get_workload

# ------------------------------------------------------------------------------ helpers


def services_of(workload: Workload) -> set[str]:
    return {workload.service} if workload.service else set()


def check_runs(workload: Workload, model: str) -> None:
    """Raise NotImplementedError (asv's skip) when the model cannot run the workload here."""
    reason = get_model(model).cannot_run(workload)
    if reason is not None:
        raise NotImplementedError(reason)


_RESULTS: dict[tuple[str, int], Any] = {}  # (workload, size) -> result: checksums never vary


def serial_results(workload: Workload, sizes: Iterable[int]) -> list[Any]:
    """What running the task list serially returns: every model must return the same.

    Each (workload, size) runs once per process: asv re-runs setup before every sample.
    """
    sizes = list(sizes)
    for size in set(sizes):
        if (workload.name, size) not in _RESULTS:
            _RESULTS[workload.name, size] = workload.fn(size)
    return [_RESULTS[workload.name, size] for size in sizes]


def verify(out: list[Any], expected: list[Any], workload: Workload, model: str) -> None:
    if out != expected:
        raise RuntimeError(
            f"{model} returned {workload.name} results (checksum {checksum(out)}) that differ "
            f"from serial ({checksum(expected)}): a fast wrong answer is not a result"
        )


@contextlib.contextmanager
def gc_on() -> Iterator[None]:
    """Collect garbage as a program would: asv's timer switches the collector off, which
    would spare in-process models (serial, threads, asyncio) the work that processes do."""
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        if not was_enabled:
            gc.disable()


# ---------------------------------------------------------------------------- warm pools


class WarmPool:
    """A model's workers, started and warmed on a workload, that run its task list.

    ``start`` in a benchmark's setup (untimed), ``run`` in its time_ method, ``close`` in its
    teardown; ``close`` is safe whether or not ``start`` got anywhere.
    """

    def __init__(self, workload: str, model: str, workers: int) -> None:
        self.workload = get_workload(workload)
        self.model = model
        self.workers = workers
        self.profile = ASV_PROFILE
        self.sizes = plan(self.workload, ASV_SCALING, workers, self.profile)
        self.runner: Runner | None = None
        self.expected: list[Any] = []
        self.worker_infos: list[dict[str, Any]] = []
        self._stack = contextlib.ExitStack()

    def start(self) -> None:
        """Start the local peers and the workers, and warm every worker (NotImplementedError
        when the model cannot run the workload here)."""
        check_runs(self.workload, self.model)
        try:
            self._stack.enter_context(local_peers(services_of(self.workload)))
            self.runner = self._stack.enter_context(get_model(self.model).start(self.workers))
            self.worker_infos = self.runner.warm(self.workload)
            # after the warm-up, so fork workers never inherit this process's connections
            self.expected = serial_results(self.workload, self.sizes)
        except BaseException:
            self.close()
            raise

    def run(self) -> list[Any]:
        """Run the task list once on the warm workers; fail if results differ from serial."""
        if self.runner is None:
            raise RuntimeError("start the pool before running it")
        with gc_on():
            out = self.runner.run_workload(self.workload, self.sizes)
        verify(out, self.expected, self.workload, self.model)
        return out

    @property
    def gil_enabled(self) -> bool:
        """Whether the GIL was enabled in the workers (in any of them, if they disagree)."""
        return gil_in_workers(self.worker_infos)

    def close(self) -> None:
        """Shut the workers down and stop the local peers."""
        self.runner = None
        self._stack.close()


# --------------------------------------------------------------------------- cold starts


def cold_run(
    workload: str, model: str, workers: int, profile: str, expected_json: str
) -> Callable[[], list[Any]]:
    """The timed statement of a cold benchmark: create the workers, run, shut them down.

    Runs in the fresh interpreter asv starts for each timeraw_ sample; the expected results
    come from the benchmark process, so nothing here runs a task before the clock starts.
    """
    w = get_workload(workload)
    m = get_model(model)
    sizes = plan(w, ASV_SCALING, workers, profile)
    expected = json.loads(expected_json)

    def run() -> list[Any]:
        with gc_on(), m.start(workers) as runner:
            out = runner.run_workload(w, sizes)
        verify(json.loads(json.dumps(out)), expected, w, model)
        return out

    return run


class ColdRun:
    """Local peers for a cold benchmark, and the code asv times in a fresh interpreter.

    The timed interpreter inherits this process's environment, and so the peers' addresses.
    """

    def __init__(self, workload: str, model: str, workers: int) -> None:
        self.workload = get_workload(workload)
        self.model = model
        self.workers = workers
        self.profile = ASV_PROFILE
        self.expected: list[Any] = []
        self._stack = contextlib.ExitStack()

    def start(self) -> None:
        """Start the local peers and compute the serial results (NotImplementedError when
        the model cannot run the workload here)."""
        check_runs(self.workload, self.model)
        try:
            self._stack.enter_context(local_peers(services_of(self.workload)))
            sizes = plan(self.workload, ASV_SCALING, self.workers, self.profile)
            self.expected = serial_results(self.workload, sizes)
        except BaseException:
            self.close()
            raise

    def code(self) -> tuple[str, str]:
        """(statement, setup) for asv's timeraw_: only the statement is timed."""
        args = (self.workload.name, self.model, self.workers, self.profile)
        setup = (
            "from gilcompare.asv.pools import cold_run\n"
            f"run = cold_run({', '.join(map(repr, args))}, {json.dumps(self.expected)!r})"
        )
        return "run()", setup

    def close(self) -> None:
        """Stop the local peers."""
        self._stack.close()
