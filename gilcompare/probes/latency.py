"""Latency under load: p50/p99 round trip of a loopback echo served by a thread of the measuring
process, pinged from a separate process, while N CPU-bound workers of a model run.

0 workers is the unloaded baseline; its records name the model ``none`` (NO_LOAD), the value
the asv suite's results carry.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from gilcompare.errors import UsageError
from gilcompare.measure.engine import gil_in_workers
from gilcompare.measure.isolate import one_line
from gilcompare.models import Runner, get_model
from gilcompare.probes.common import (
    ProbeRecord,
    check_workers,
    context,
    fill,
    isolated,
    median,
    model_unavailable,
)
from gilcompare.probes.echo import EchoServer, ping, summary
from gilcompare.settings import (
    DEFAULT_TIMEOUT,
    LOAD_SETTLE_S,
    LOAD_UNITS,
    PING_GAP_MS,
    PINGS,
    PROBE_REPEAT,
    WARMUP_PINGS,
)
from gilcompare.workloads import count

NO_LOAD = "none"  # the model of the unloaded baseline: no workers run


@dataclass
class LatencyRecord(ProbeRecord):
    """Echo round trips under CPU load: medians over rounds of each round's p50 and p99."""

    switch_interval_ms: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    pings: int = 0
    load_tasks: int = 0  # CPU-bound tasks the workers finished while the client pinged
    p50_samples: list[float] = field(default_factory=list)
    p99_samples: list[float] = field(default_factory=list)


def not_applicable(model: str) -> str | None:
    """Why latency cannot be measured under ``model`` here, or None."""
    return None if model == NO_LOAD else model_unavailable(model)


# ------------------------------------------------------------------- the parent's side


def probe_latency(
    model: str,
    workers: int,
    switch_interval_ms: float | None = None,
    *,
    pings: int = PINGS,
    repeat: int = PROBE_REPEAT,
    timeout: float = DEFAULT_TIMEOUT,
) -> LatencyRecord:
    """Echo p50/p99 under ``workers`` CPU-bound workers of ``model`` (0 workers: baseline)."""
    check_workers(workers, least=0)
    if workers == 0:
        model = NO_LOAD
    else:
        get_model(model)
    if switch_interval_ms is not None and not switch_interval_ms > 0:
        raise UsageError(f"the switch interval must be greater than 0 ms, got {switch_interval_ms}")
    rec = LatencyRecord(
        probe="latency",
        model=model,
        workers=workers,
        repeat=repeat,
        switch_interval_ms=switch_interval_ms,
        pings=pings,
    )

    def run() -> None:
        kwargs = {
            "model": model,
            "workers": workers,
            "switch_interval_ms": switch_interval_ms,
            "repeat": repeat,
            "pings": pings,
        }
        out = isolated("gilcompare.probes.latency:measure_latency", kwargs, timeout)
        rec.with_context(out["context"])
        rec.switch_interval_ms = out["switch_interval_ms"]
        rec.p50_samples = [r["p50"] for r in out["rounds"]]
        rec.p99_samples = [r["p99"] for r in out["rounds"]]
        rec.p50_ms = median(rec.p50_samples)
        rec.p99_ms = median(rec.p99_samples)
        rec.max_ms = max(r["max"] for r in out["rounds"])
        rec.load_tasks = out["load_tasks"]
        rec.workers_gil_enabled = out["workers_gil_enabled"]

    fill(rec, not_applicable(model), run)
    return rec


# -------------------------------------------------------------------- the child's side


def measure_latency(
    model: str, workers: int, switch_interval_ms: float | None, repeat: int, pings: int
) -> dict[str, Any]:
    """Echo round trips per round while ``workers`` CPU-bound workers of ``model`` run."""
    previous = sys.getswitchinterval()
    if switch_interval_ms is not None:
        sys.setswitchinterval(switch_interval_ms / 1000)
    try:
        infos: list[dict[str, Any]] = []
        with contextlib.ExitStack() as stack:
            load = None
            if workers:
                # The workers exist before any helper thread starts: forking is safe.
                runner = stack.enter_context(get_model(model).start(workers))
                infos = runner.warm()
                load = stack.enter_context(_CpuLoad(runner, workers))
            server = stack.enter_context(EchoServer())
            budget = 60 + repeat * pings * 0.2  # seconds, far above any plausible round trip
            rounds = ping(server.address, repeat, pings, PING_GAP_MS, WARMUP_PINGS, budget)
            load_tasks = load.tasks if load is not None else 0
        return {
            "context": context(),
            "switch_interval_ms": sys.getswitchinterval() * 1000,
            "rounds": [summary(r) for r in rounds],
            "load_tasks": load_tasks,
            "workers_gil_enabled": gil_in_workers(infos),
        }
    finally:
        sys.setswitchinterval(previous)


class _CpuLoad:
    """Keep ``workers`` CPU-bound count tasks running on a runner until the block ends."""

    def __init__(self, runner: Runner, workers: int) -> None:
        self._runner = runner
        self._sizes = [LOAD_UNITS] * workers
        self._stop = threading.Event()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="gilcompare-load", daemon=True)
        self.tasks = 0
        self.error: BaseException | None = None

    def _loop(self) -> None:
        self._started.set()
        try:
            while not self._stop.is_set():
                self._runner.run(count, self._sizes)
                self.tasks += len(self._sizes)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the measuring thread
            self.error = exc

    def __enter__(self) -> _CpuLoad:
        self._thread.start()
        self._started.wait()
        time.sleep(LOAD_SETTLE_S)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=120)
        if self.error is not None:
            raise RuntimeError(f"the cpu load failed: {one_line(self.error)}")
        if self._thread.is_alive():
            raise RuntimeError("the cpu load did not stop within 120 s")
