"""What a model is: one object carrying everything the rest of gilcompare asks of it.

A model says whether it can run here (and why not), starts its workers as a ``Runner``, and
answers the probes: whether its workers share the caller's memory (transfer), how a stop
reaches them (stop) and how its cold start is timed (start). The probes' own code for those
rounds lives beside each probe; a model names the round it uses by ``module:function``, as
the isolated child calls are named, so that models/ never imports the probes.

A kind of model is a subclass (gilcompare.models.standard, gilcompare.models.libraries) that
fills in these fields and ``runner``; a model is one instance of it in the registry.
"""

from __future__ import annotations

import importlib
import importlib.util
import multiprocessing
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from gilcompare.models.runners import Runner
    from gilcompare.workloads import Workload

NO_STOP: Mapping[str, str | None] = {}  # a model that keeps its workers: no stop of its own


def stops(methods: Mapping[str, str | None]) -> Any:
    """A kind's ``stop_methods`` default: each model gets its own copy of ``methods``."""
    return field(default_factory=lambda: dict(methods), compare=False)


def start_method_unavailable(method: str) -> str | None:
    """Why a multiprocessing start method cannot be used here, or None: missing on this
    platform (no fork on Windows), or unsafe (fork on macOS, whose system libraries start
    threads a forked child cannot use; CPython's default there is spawn)."""
    if method not in multiprocessing.get_all_start_methods():
        return f"start method {method!r} is not available on {sys.platform}"
    if method == "fork" and sys.platform == "darwin":
        return "start method 'fork' is unsafe on macOS (system libraries start threads): use spawn"
    return None


@dataclass(frozen=True)
class Model:
    """A concurrency model: how it starts, runs, stops and shares data, and why it may not run."""

    name: str
    summary: str
    kind: str = "threads"  # what `gilcompare models` lists: a label, never a switch
    start_method: str | None = None  # multiprocessing's, for models that start processes
    parallel_workers: bool = True  # False when one worker does everything (serial, asyncio)
    starts_workers: bool = True  # False for serial: one thread runs every task in turn
    deployed: bool = False  # measured only when named: the default grid stays the executors'
    extra: str | None = None  # the pip extra that installs ``requires``
    requires: tuple[str, ...] = ()  # modules it imports
    # transfer: workers that share the caller's objects are handed the payload itself; the
    # others get a copy, which their runner pickles, or (``copies_by_pipe``) the probe sends
    # pickled through a pipe because the runner cannot carry it
    shares_memory: bool = True
    copies_by_pipe: bool = False
    copied_because: str | None = None  # why a payload is copied, when not "workers_are" share none
    workers_are: str = "threads"  # what the workers are, as the probes' reasons name them
    # stop: each method (event, terminate, cancel) -> None when it applies, else why not
    stop_methods: Mapping[str, str | None] = stops(NO_STOP)
    stop_round: str | None = None  # "module:function(model, workers, method, units)"
    cold_start: str | None = None  # "module:function(model, workers)": one timed cold start

    def unavailable(self) -> str | None:
        """Why this model cannot run on this interpreter, or None when it can."""
        if self.start_method is not None:
            reason = start_method_unavailable(self.start_method)
            if reason is not None:
                return reason
        for module in self.requires:
            if importlib.util.find_spec(module) is None:
                return f"{module} is not installed (pip install 'gilcompare[{self.extra}]')"
        return None

    @property
    def on_a_cluster(self) -> bool:
        """Whether it runs on somebody else's cluster, named by the user (not one it starts)."""
        return False

    def cannot_run(self, workload: Workload) -> str | None:
        """Why this model cannot run this workload here, or None when it can."""
        return self.unavailable()

    def start(self, workers: int) -> Runner:
        """Create the workers (not yet warm); raises ValueError when unavailable."""
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        reason = self.unavailable()
        if reason is not None:
            raise ValueError(f"model {self.name!r} is not available: {reason}")
        return self.runner(workers)

    def runner(self, workers: int) -> Runner:
        """The started model (called by ``start`` once the model is known to be available)."""
        raise NotImplementedError(f"model {self.name!r} has no runner")

    def stop_methods_usable(self) -> list[str]:
        """The stop methods this model can use."""
        return [m for m, why in self.stop_methods.items() if why is None]

    def transfer_methods(self) -> dict[str, str | None]:
        """Each transfer method (shared, pickle, shared_memory): None, or why it cannot apply."""
        if self.shares_memory:
            return {
                "shared": None,
                "pickle": "workers in one interpreter share the payload: nothing is pickled",
                "shared_memory": "workers in one interpreter share the payload: no shared memory "
                "is needed",
            }
        because = self.copied_because or f"{self.workers_are} share no objects"
        return {
            "shared": f"{because}: the payload is pickled or put in shared memory",
            "pickle": None,
            "shared_memory": None,
        }


def resolve(reference: str) -> Callable[..., Any]:
    """The function a ``module:function`` reference names."""
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]
