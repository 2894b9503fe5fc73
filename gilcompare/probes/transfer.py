"""Transfer: round trip of a payload to N workers and back — shared, pickled or through
``multiprocessing.shared_memory``.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from gilcompare.errors import UsageError
from gilcompare.measure.engine import gil_in_workers
from gilcompare.measure.leftovers import shared_memory_name
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
from gilcompare.probes.workers import (
    echo_payload,
    page_sum,
    pipe_echo,
    read_frame,
    shm_touch,
    write_frame,
)
from gilcompare.settings import DEFAULT_TIMEOUT, PAYLOAD_BYTES, PROBE_REPEAT
from gilcompare.workloads import WORKLOADS

TRANSFER_METHODS = ("shared", "pickle", "shared_memory")
PAYLOAD_TYPES = ("bytes", "numpy")


@dataclass
class TransferRecord(ProbeRecord):
    """Round trip of a payload to every worker and back (median over rounds)."""

    method: str = ""
    payload_type: str = ""
    payload_bytes: int | None = None
    seconds: float | None = None
    samples: list[float] = field(default_factory=list)


# ------------------------------------------------------------------------ applicability


def methods_for(model: str) -> list[str]:
    """The transfer methods ``model`` can use."""
    return [m for m, why in get_model(model).transfer_methods().items() if why is None]


def not_applicable(
    model: str, method: str | None = None, payload_type: str | None = None
) -> str | None:
    """Why transfer cannot be measured for this combination on this interpreter, or None."""
    reason = model_unavailable(model)
    if reason is not None:
        return reason
    m = get_model(model)
    why = m.transfer_methods().get(method) if method is not None else None
    if why is not None:
        return f"{why} (use {', '.join(methods_for(model))})"
    if payload_type == "numpy":
        reason = m.cannot_run(WORKLOADS["numpy"])
        if reason is not None:
            return reason
    if method == "shared_memory":
        try:
            import multiprocessing.shared_memory  # noqa: F401
        except ImportError as exc:
            return f"multiprocessing.shared_memory is not available here: {exc}"
    return None


# ------------------------------------------------------------------- the parent's side


def probe_transfer(
    model: str,
    workers: int,
    method: str,
    payload_bytes: int = PAYLOAD_BYTES,
    payload_type: str = "bytes",
    *,
    repeat: int = PROBE_REPEAT,
    timeout: float = DEFAULT_TIMEOUT,
) -> TransferRecord:
    """Seconds to send a payload to ``workers`` workers of ``model`` and get it back."""
    check_workers(workers)
    get_model(model)
    if not isinstance(payload_bytes, int) or payload_bytes < 1:
        raise UsageError(f"the payload must be at least 1 byte, got {payload_bytes!r}")
    if method not in TRANSFER_METHODS:
        raise UsageError(
            f"unknown transfer method {method!r}: choose from {', '.join(TRANSFER_METHODS)}"
        )
    if payload_type not in PAYLOAD_TYPES:
        raise UsageError(
            f"unknown payload type {payload_type!r}: choose from {', '.join(PAYLOAD_TYPES)}"
        )
    rec = TransferRecord(
        probe="transfer",
        model=model,
        workers=workers,
        method=method,
        payload_type=payload_type,
        payload_bytes=payload_bytes,
        repeat=repeat,
    )

    def run() -> None:
        kwargs = {
            "model": model,
            "workers": workers,
            "method": method,
            "payload_bytes": payload_bytes,
            "payload_type": payload_type,
            "repeat": repeat,
        }
        out = isolated("gilcompare.probes.transfer:measure_transfer", kwargs, timeout)
        rec.with_context(out["context"])
        rec.samples = out["samples"]
        rec.seconds = median(rec.samples)
        rec.workers_gil_enabled = out["workers_gil_enabled"]

    fill(rec, not_applicable(model, method, payload_type), run)
    return rec


# -------------------------------------------------------------------- the child's side


def make_payload(payload_type: str, nbytes: int) -> Any:
    """``nbytes`` of deterministic, non-zero data as bytes or a uint8 numpy array."""
    data = (bytes(range(1, 256)) * (nbytes // 255 + 1))[:nbytes]
    if payload_type == "bytes":
        return data
    import numpy as np

    return np.frombuffer(data, dtype=np.uint8).copy()


def measure_transfer(
    model: str, workers: int, method: str, payload_bytes: int, payload_type: str, repeat: int
) -> dict[str, Any]:
    """Round-trip seconds of a payload to every worker and back, after one untimed round."""
    m = get_model(model)
    with m.start(workers) as runner:
        infos = runner.warm()
        payload = make_payload(payload_type, payload_bytes)  # after forking: not inherited
        with memoryview(payload) as view:
            expected = page_sum(view)
        rounds: dict[str, Callable[[Runner, Any, int], float]] = {
            "shared": _round_shared,
            "pickle": _round_pipe if m.copies_by_pipe else _round_pickle,
            "shared_memory": _round_shared_memory,
        }
        one_round = rounds[method]
        one_round(runner, payload, expected)  # warm-up: imports, resource tracker, caches
        samples = [one_round(runner, payload, expected) for _ in range(repeat)]
    return {"context": context(), "samples": samples, "workers_gil_enabled": gil_in_workers(infos)}


def _same(a: Any, b: Any) -> bool:
    """Whether payload ``a`` came back equal to ``b`` (content, and dtype for arrays)."""
    if hasattr(b, "dtype"):
        import numpy as np

        return isinstance(a, np.ndarray) and a.dtype == b.dtype and bool(np.array_equal(a, b))
    return (a if isinstance(a, bytes) else bytes(a)) == b


def _round_shared(runner: Runner, payload: Any, expected: int) -> float:
    t0 = time.perf_counter()
    back = runner.starmap(echo_payload, [(payload,)] * runner.workers)
    seconds = time.perf_counter() - t0
    if any(b is not payload for b in back):
        raise RuntimeError("a worker got a copy of the payload, not the payload itself")
    return seconds


def _round_pickle(runner: Runner, payload: Any, expected: int) -> float:
    t0 = time.perf_counter()
    back = runner.starmap(echo_payload, [(payload,)] * runner.workers)
    seconds = time.perf_counter() - t0
    if not all(_same(b, payload) for b in back):
        raise RuntimeError("a payload came back different from what was sent")
    return seconds


def _round_shared_memory(runner: Runner, payload: Any, expected: int) -> float:
    from multiprocessing.shared_memory import SharedMemory

    is_array = hasattr(payload, "dtype")
    nbytes = payload.nbytes if is_array else len(payload)
    t0 = time.perf_counter()
    while True:  # named after this process, so a kill before the tracker hears of it leaks nothing
        try:
            shm = SharedMemory(shared_memory_name(), create=True, size=nbytes)
            break
        except FileExistsError:
            continue
    try:
        if is_array:
            import numpy as np

            np.ndarray(payload.shape, payload.dtype, buffer=shm.buf)[...] = payload
        else:
            shm.buf[:nbytes] = payload
        sums = runner.starmap(shm_touch, [(shm.name, nbytes)] * runner.workers)
        if is_array:  # the payload comes back as a view of the block: no copy
            back: Any = np.ndarray(payload.shape, payload.dtype, buffer=shm.buf)
        else:
            back = shm.buf[:nbytes]
        seconds = time.perf_counter() - t0
        same = _same(back, payload)
        if isinstance(back, memoryview):
            back.release()
        del back
        if any(s != expected for s in sums) or not same:
            raise RuntimeError("a worker read different data from shared memory than was put in")
        return seconds
    finally:
        shm.close()
        shm.unlink()


def _round_pipe(runner: Runner, payload: Any, expected: int) -> float:
    """Subinterpreters share no objects: pickle, copy through a pipe, unpickle, and back."""
    n = runner.workers
    pipes = [(os.pipe(), os.pipe()) for _ in range(n)]
    results: list[Any] = [None] * n
    t0 = time.perf_counter()
    blob = pickle.dumps(payload)

    def feed(i: int) -> None:
        (_, to_w), (back_r, _) = pipes[i]
        with contextlib.suppress(OSError, EOFError):  # the worker failed; reported below
            write_frame(to_w, blob)
            results[i] = read_frame(back_r)

    helpers = [threading.Thread(target=feed, args=(i,), daemon=True) for i in range(n)]
    try:
        for h in helpers:
            h.start()
        runner.starmap(pipe_echo, [(to_r, back_w) for (to_r, _), (_, back_w) in pipes])
        for h in helpers:
            h.join()
        back = [pickle.loads(r) for r in results]
        seconds = time.perf_counter() - t0
    finally:
        for pair in pipes:
            for r, w in pair:
                os.close(r)
                os.close(w)
        for h in helpers:
            h.join(timeout=5)
    if not all(_same(b, payload) for b in back):
        raise RuntimeError("a payload came back different from what was sent")
    return seconds
