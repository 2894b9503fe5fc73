"""What every probe shares: the record's common fields, the conditions, the isolated call.

The parent side of a probe calls ``isolated("<probe module>:measure_<probe>", ...)``: the
measurement runs in a fresh child process (gilcompare.measure.isolate: its own process group,
a timeout, the whole tree killed afterwards) and returns plain data, which the parent turns
into a record carrying the conditions it was measured under.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, Callable

# Every probe's measuring child imports the same modules, whichever probe it runs: the memory
# probe counts the measuring process itself, so what that process has imported is part of the
# numbers results/ holds (psutil, the echo peer and its local services, the workers' code).
import psutil  # noqa: F401

import gilcompare.measure.engine  # noqa: F401
import gilcompare.probes.echo  # noqa: F401
import gilcompare.probes.workers  # noqa: F401
from gilcompare.errors import UsageError
from gilcompare.measure.conditions import environment
from gilcompare.measure.isolate import IsolatedFailure, call, one_line
from gilcompare.models import MODELS, get_model
from gilcompare.models.subinterpreters import subinterpreters_module

NO_WORKERS = "serial runs every task in turn on one thread: it has no worker to start or stop"


@dataclass
class ProbeRecord:
    """One probe measurement — or why it was not made — with the conditions it was made under."""

    probe: str
    model: str
    workers: int
    status: str = "ok"  # ok | skipped | failed
    reason: str = ""
    repeat: int = 0
    start_method: str | None = None
    python: str = ""
    python_tag: str = ""
    implementation: str = ""
    free_threaded: bool = False
    gil_enabled: bool | None = None  # in the measuring process
    workers_gil_enabled: bool | None = None  # inside the workers, where the probe asks them
    cpu_count: int = 0
    cpu_usable: int = 0
    platform: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The JSON record: probe, model, workers, the probe's own fields, then the context."""
        data = asdict(self)
        head = ["probe", "model", "workers"]
        base = {f.name for f in fields(ProbeRecord)}
        own = [f.name for f in fields(self) if f.name not in base]
        rest = [k for k in data if k not in head and k not in own]
        return {k: data[k] for k in head + own + rest}

    def with_context(self, context: dict[str, Any]) -> None:
        """Fill the conditions from a measuring process's context."""
        for key, value in context.items():
            if hasattr(self, key):
                setattr(self, key, value)

    def skip(self, reason: str) -> None:
        """Mark the record as a combination this probe cannot measure, and say why."""
        self.status, self.reason = "skipped", reason

    def failed(self, reason: str) -> None:
        """Mark the record as a measurement that did not return a value."""
        self.status, self.reason = "failed", reason


def context() -> dict[str, Any]:
    """The conditions of this process that every record carries."""
    env = environment()
    keep = ("python", "python_tag", "implementation", "free_threaded", "cpu_count", "cpu_usable")
    out = {k: env[k] for k in keep}
    out["gil_enabled"] = env["gil_enabled_main"]
    out["platform"] = env["platform"]
    out.update(commit=env["commit"], build=env["build"], host=env["host"])
    return out


def model_unavailable(model: str) -> str | None:
    """Why ``model`` cannot run on this interpreter (any probe), or None."""
    return get_model(model).unavailable()


# ------------------------------------------------------------ the parent's side


def isolated(target: str, kwargs: dict[str, Any], timeout: float) -> Any:
    """Run ``module:function(**kwargs)`` (a probe's child side) in a fresh child process."""
    return call(target, kwargs, timeout)


def check_workers(workers: int, least: int = 1) -> None:
    if not isinstance(workers, int) or workers < least:
        raise UsageError(f"workers must be an integer of at least {least}, got {workers!r}")


def fill(record: ProbeRecord, reason: str | None, run: Callable[[], None]) -> ProbeRecord:
    """Fill ``record`` by ``run()``; skipped and failed runs become its status."""
    record.with_context(context())
    record.start_method = get_model(record.model).start_method if record.model in MODELS else None
    if reason is not None:
        record.skip(reason)
        return record
    try:
        run()
    except IsolatedFailure as exc:
        record.failed(exc.reason)
    return record


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


# --------------------------------------------------------------- the child's side


def time_call(fn: Callable[..., Any], *args: Any) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def interpreter_threads(script: str, workers: int, errors: list[str]) -> list[threading.Thread]:
    """One thread per worker, each running ``script`` in its own subinterpreter.

    The interpreters are created here, in the calling (main) thread, and each is destroyed by
    the thread that ran it: CPython 3.12 deadlocks otherwise.
    """
    mod = subinterpreters_module()

    def run(interp: Any) -> None:
        try:
            failure = mod.run_string(interp, script)
            if failure is not None:  # 3.13 returns the uncaught exception instead of raising
                errors.append(str(getattr(failure, "formatted", failure)).strip())
        except Exception as exc:  # noqa: BLE001 - reported by the measuring thread
            errors.append(one_line(exc))
        finally:
            mod.destroy(interp)

    return [threading.Thread(target=run, args=(mod.create(),), daemon=True) for _ in range(workers)]
