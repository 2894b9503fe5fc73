"""Memory: RSS, USS and PSS summed over the whole process tree, N workers idle and busy."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psutil

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
from gilcompare.probes.workers import busy_until
from gilcompare.settings import (
    BUSY_ATTEMPTS,
    BUSY_S,
    BUSY_SAMPLES,
    BUSY_SETTLE_S,
    DEFAULT_TIMEOUT,
    PROBE_REPEAT,
)

STATES = ("idle", "busy")
MB = 2**20  # memory is reported in MiB


@dataclass
class MemoryRecord(ProbeRecord):
    """RSS, USS and PSS (MiB) summed over the process tree (median over samples)."""

    state: str = ""
    rss_mb: float | None = None
    uss_mb: float | None = None
    pss_mb: float | None = None
    processes: int | None = None  # processes in the tree, the measuring one included
    uss_samples: list[float] = field(default_factory=list)


def not_applicable(model: str) -> str | None:
    """Why the memory of ``model``'s workers cannot be measured here, or None."""
    return model_unavailable(model)


# ------------------------------------------------------------------- the parent's side


def probe_memory(
    model: str,
    workers: int,
    states: Sequence[str] = STATES,
    *,
    repeat: int = PROBE_REPEAT,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[MemoryRecord]:
    """Process-tree RSS/USS/PSS with ``workers`` workers of ``model``, one record per state."""
    check_workers(workers)
    get_model(model)
    if not states:
        raise UsageError(f"memory needs at least one state: choose from {', '.join(STATES)}")
    for state in states:
        if state not in STATES:
            raise UsageError(f"unknown state {state!r}: choose from {', '.join(STATES)}")
    recs = [
        MemoryRecord(probe="memory", model=model, workers=workers, state=s, repeat=repeat)
        for s in states
    ]
    outs: list[dict[str, Any]] = []

    def run() -> None:
        for _ in range(repeat):  # a fresh interpreter for every sample
            kwargs = {"model": model, "workers": workers, "states": list(states)}
            outs.append(isolated("gilcompare.probes.memory:measure_memory", kwargs, timeout))

    first = fill(recs[0], not_applicable(model), run)
    for rec in recs:
        rec.start_method = first.start_method
        rec.status, rec.reason = first.status, first.reason
        if first.status != "ok":
            rec.with_context(context())
            continue
        got = [o["states"][rec.state] for o in outs]
        rec.with_context(outs[-1]["context"])
        rec.workers_gil_enabled = outs[-1]["workers_gil_enabled"]
        rec.uss_samples = [g["uss_mb"] for g in got]
        rec.rss_mb = median([g["rss_mb"] for g in got])
        rec.uss_mb = median(rec.uss_samples)
        pss = [g["pss_mb"] for g in got]
        rec.pss_mb = None if None in pss else median(pss)
        rec.processes = max(g["processes"] for g in got)
    return recs


# -------------------------------------------------------------------- the child's side


def tree_memory() -> dict[str, Any]:
    """RSS, USS and PSS (MiB) summed over this process and all its descendants."""
    me = psutil.Process()
    totals = {"rss": 0, "uss": 0, "pss": 0}
    has_pss = True
    processes = 0
    for proc in [me, *me.children(recursive=True)]:
        try:
            info = proc.memory_full_info()
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue  # exited between listing and reading: no longer part of the tree
        processes += 1
        totals["rss"] += info.rss
        totals["uss"] += info.uss
        pss = getattr(info, "pss", None)  # Linux only
        has_pss = has_pss and pss is not None
        totals["pss"] += pss or 0
    return {
        "rss_mb": totals["rss"] / MB,
        "uss_mb": totals["uss"] / MB,
        "pss_mb": totals["pss"] / MB if has_pss else None,
        "processes": processes,
    }


def measure_memory(model: str, workers: int, states: Sequence[str]) -> dict[str, Any]:
    """The process tree's memory with ``workers`` warm workers of ``model``, idle and busy."""
    out: dict[str, Any] = {"states": {}}
    with get_model(model).start(workers) as runner:
        infos = runner.warm()
        if "idle" in states:
            out["states"]["idle"] = tree_memory()
        if "busy" in states:
            out["states"]["busy"] = _busy_memory(runner, workers)
    out["context"] = context()
    out["workers_gil_enabled"] = gil_in_workers(infos)
    return out


def _busy_memory(runner: Runner, workers: int) -> dict[str, Any]:
    """The tree's largest memory while every worker counts, sampled a few times; on a
    machine so loaded that the sampler got no turn before the workers' deadline, again with
    a longer one."""
    for attempt in range(BUSY_ATTEMPTS):
        try:
            return _busy_memory_once(runner, workers, BUSY_S * 2**attempt)
        except _NoSample:
            continue
    raise RuntimeError("the busy workers finished before the tree could be sampled")


class _NoSample(Exception):
    """The sampler got no turn while the workers were busy."""


def _busy_memory_once(runner: Runner, workers: int, busy_s: float) -> dict[str, Any]:
    done = threading.Event()
    errors: list[BaseException] = []
    deadline = time.time() + busy_s

    def work() -> None:
        try:
            runner.starmap(busy_until, [(deadline,)] * workers)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=work, name="gilcompare-busy", daemon=True)
    thread.start()
    time.sleep(BUSY_SETTLE_S)
    samples = []
    gap = (busy_s - BUSY_SETTLE_S) / (BUSY_SAMPLES + 1)
    while len(samples) < BUSY_SAMPLES and time.time() < deadline and not done.is_set():
        samples.append(tree_memory())
        done.wait(gap)
    thread.join(timeout=120)
    if errors:
        raise RuntimeError(f"the busy workers failed: {one_line(errors[0])}")
    if not samples:
        raise _NoSample
    peak = {k: max(s[k] for s in samples) for k in ("rss_mb", "uss_mb", "processes")}
    pss = [s["pss_mb"] for s in samples]
    peak["pss_mb"] = None if None in pss else max(pss)
    return peak
