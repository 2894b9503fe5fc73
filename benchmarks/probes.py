"""What throughput does not show: latency under load, stop, cold start, memory, transfer.

Thin asv classes over gilcompare.probes. Every probe measurement runs in a fresh child process
(gilcompare.measure.isolate), so asv's own process never hosts a load, a server or a worker. A class
measures all its cells once in ``setup_cache`` and its track_ methods read the medians; a cell
that cannot run here is skipped with the reason (NotImplementedError in setup). Stop and
transfer have a class per method, so that no grid cell is a combination that cannot exist.
Cold start is asv's own timeraw_: every sample is a fresh interpreter.
"""

from __future__ import annotations

from typing import Any

from gilcompare.asv import suite
from gilcompare.probes import start
from gilcompare.probes.latency import NO_LOAD, probe_latency
from gilcompare.probes.memory import STATES, probe_memory
from gilcompare.probes.stop import probe_stop
from gilcompare.probes.transfer import PAYLOAD_TYPES, probe_transfer
from gilcompare.settings import (
    SETUP_CACHE_TIMEOUT,
    SPOT_REPEAT,
    SUITE_MEMORY_REPEAT,
    SUITE_PAYLOAD_BYTES,
    SUITE_PINGS,
    SUITE_PROBE_REPEAT,
    SUITE_PROBE_WORKERS,
    SUITE_START_WORKERS,
    SUITE_SWITCH_INTERVALS_MS,
    TIME_ROUNDS,
    TIMING,
)

# asv's timing attributes (used by the timeraw_ benchmark; gilcompare.settings explains them)
repeat, number, rounds, warmup_time, min_run_count, timeout = TIMING
# explicit, as for the throughput families: results stay comparable while the code that
# measures them changes, and stop being mixed only when the work itself does
version = suite.VERSION

Cache = dict[Any, dict[str, Any]]

LATENCY_MODELS = [NO_LOAD, "threads", "processes-fork", "subinterpreters"]
START_MODELS = list(suite.COLD_MODELS)
MEMORY_MODELS = [
    "threads",
    "processes-fork",
    "processes-spawn",
    "processes-forkserver",
    "subinterpreters",
]
COPYING_MODELS = ["processes-fork", "subinterpreters"]  # transfer by pickle or shared memory


def _cell(cache: Cache, key: Any) -> dict[str, Any]:
    """A measured record: NotImplementedError (asv's skip) when skipped, RuntimeError if failed."""
    record = cache[key]
    if record["status"] == "skipped":
        raise NotImplementedError(record["reason"])
    if record["status"] != "ok":
        raise RuntimeError(f"probe {record['probe']} for {key}: {record['reason']}")
    return record


def _stop_cache(method: str, models: list[str]) -> Cache:
    return {
        model: probe_stop(model, 1, method, repeat=SUITE_PROBE_REPEAT).as_dict() for model in models
    }


def _transfer_cache(method: str, models: list[str]) -> Cache:
    return {
        (model, payload): probe_transfer(
            model, 1, method, SUITE_PAYLOAD_BYTES, payload, repeat=SUITE_PROBE_REPEAT
        ).as_dict()
        for model in models
        for payload in PAYLOAD_TYPES
    }


class Latency:
    """Echo round trip p99 (ms) served by a thread of the measuring process while one
    CPU-bound worker runs ('none': no worker), at the default switch interval and a tenth."""

    params = [LATENCY_MODELS, list(SUITE_SWITCH_INTERVALS_MS)]
    param_names = ["model", "switch_interval_ms"]
    unit = "ms"

    def setup_cache(self) -> Cache:
        return {
            (model, switch): probe_latency(
                model,
                0 if model == NO_LOAD else 1,
                switch,
                pings=SUITE_PINGS,
                repeat=SUITE_PROBE_REPEAT,
            ).as_dict()
            for model in LATENCY_MODELS
            for switch in SUITE_SWITCH_INTERVALS_MS
        }

    setup_cache.timeout = SETUP_CACHE_TIMEOUT  # type: ignore[attr-defined]

    def setup(self, cache: Cache, model: str, switch: float) -> None:
        _cell(cache, (model, switch))

    def track_p99(self, cache: Cache, model: str, switch: float) -> float:
        return _cell(cache, (model, switch))["p99_ms"]


class StopEvent:
    """Time (ms) from setting a stop flag the worker's loop checks until the worker exited."""

    params = [["threads", "processes-fork", "subinterpreters"]]
    param_names = ["model"]
    unit = "ms"

    def setup_cache(self) -> Cache:
        return _stop_cache("event", ["threads", "processes-fork", "subinterpreters"])

    setup_cache.timeout = SETUP_CACHE_TIMEOUT  # type: ignore[attr-defined]

    def setup(self, cache: Cache, model: str) -> None:
        _cell(cache, model)

    def track_stop(self, cache: Cache, model: str) -> float:
        return _cell(cache, model)["stop_ms"]


class StopTerminate:
    """Time (ms) from Process.terminate() until the worker process exited."""

    params = [["processes-fork"]]
    param_names = ["model"]
    unit = "ms"

    def setup_cache(self) -> Cache:
        return _stop_cache("terminate", ["processes-fork"])

    setup_cache.timeout = SETUP_CACHE_TIMEOUT  # type: ignore[attr-defined]

    def setup(self, cache: Cache, model: str) -> None:
        _cell(cache, model)

    def track_stop(self, cache: Cache, model: str) -> float:
        return _cell(cache, model)["stop_ms"]


class StopCancel:
    """Time (ms) from Task.cancel() until the task finished."""

    params = [["asyncio"]]
    param_names = ["model"]
    unit = "ms"

    def setup_cache(self) -> Cache:
        return _stop_cache("cancel", ["asyncio"])

    setup_cache.timeout = SETUP_CACHE_TIMEOUT  # type: ignore[attr-defined]

    def setup(self, cache: Cache, model: str) -> None:
        _cell(cache, model)

    def track_stop(self, cache: Cache, model: str) -> float:
        return _cell(cache, model)["stop_ms"]


class ColdStart:
    """Create + start + join no-op workers, timed by asv in a fresh interpreter each sample."""

    params = [START_MODELS, [SUITE_START_WORKERS]]
    param_names = ["model", "workers"]
    # a start is a fraction of the process around it: samples per pass, over TIME_ROUNDS passes
    repeat, rounds = SPOT_REPEAT, TIME_ROUNDS

    def setup(self, model: str, workers: int) -> None:
        reason = start.not_applicable(model)
        if reason is not None:
            raise NotImplementedError(reason)

    def timeraw_start(self, model: str, workers: int) -> tuple[str, str]:
        return (
            f"start_workers({model!r}, {workers})",
            "from gilcompare.probes.start import start_workers",
        )


class Memory:
    """USS (MiB) summed over the whole process tree with 8 warm workers, idle or busy."""

    params = [MEMORY_MODELS, list(STATES)]
    param_names = ["model", "state"]
    unit = "MiB"

    def setup_cache(self) -> Cache:
        cache = {}
        for model in MEMORY_MODELS:
            records = probe_memory(model, SUITE_PROBE_WORKERS, STATES, repeat=SUITE_MEMORY_REPEAT)
            cache.update({(model, r.state): r.as_dict() for r in records})
        return cache

    setup_cache.timeout = SETUP_CACHE_TIMEOUT  # type: ignore[attr-defined]

    def setup(self, cache: Cache, model: str, state: str) -> None:
        _cell(cache, (model, state))

    def track_uss(self, cache: Cache, model: str, state: str) -> float:
        return _cell(cache, (model, state))["uss_mb"]


class TransferShared:
    """Round trip (seconds) of a 64 MiB payload to a thread and back: shared, never copied."""

    params = [["threads"], list(PAYLOAD_TYPES)]
    param_names = ["model", "payload"]
    unit = "seconds"

    def setup_cache(self) -> Cache:
        return _transfer_cache("shared", ["threads"])

    setup_cache.timeout = SETUP_CACHE_TIMEOUT  # type: ignore[attr-defined]

    def setup(self, cache: Cache, model: str, payload: str) -> None:
        _cell(cache, (model, payload))

    def track_seconds(self, cache: Cache, model: str, payload: str) -> float:
        return _cell(cache, (model, payload))["seconds"]


class TransferPickle:
    """Round trip (seconds) of a 64 MiB payload, pickled to a worker and pickled back."""

    params = [COPYING_MODELS, list(PAYLOAD_TYPES)]
    param_names = ["model", "payload"]
    unit = "seconds"

    def setup_cache(self) -> Cache:
        return _transfer_cache("pickle", COPYING_MODELS)

    setup_cache.timeout = SETUP_CACHE_TIMEOUT  # type: ignore[attr-defined]

    def setup(self, cache: Cache, model: str, payload: str) -> None:
        _cell(cache, (model, payload))

    def track_seconds(self, cache: Cache, model: str, payload: str) -> float:
        return _cell(cache, (model, payload))["seconds"]


class TransferSharedMemory:
    """Round trip (seconds) of a 64 MiB payload through multiprocessing.shared_memory,
    the copy into the block included."""

    params = [COPYING_MODELS, list(PAYLOAD_TYPES)]
    param_names = ["model", "payload"]
    unit = "seconds"

    def setup_cache(self) -> Cache:
        return _transfer_cache("shared_memory", COPYING_MODELS)

    setup_cache.timeout = SETUP_CACHE_TIMEOUT  # type: ignore[attr-defined]

    def setup(self, cache: Cache, model: str, payload: str) -> None:
        _cell(cache, (model, payload))

    def track_seconds(self, cache: Cache, model: str, payload: str) -> float:
        return _cell(cache, (model, payload))["seconds"]
