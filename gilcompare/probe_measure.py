"""The measurements the probes make, each run in a fresh child process by gilcompare.isolate.

Every ``measure_<probe>`` function takes and returns plain data (JSON), so that
gilcompare.probes can call it as ``gilcompare.probe_measure:measure_<probe>`` and turn the
result into a record. Each one leaves nothing running when it returns; if it raises, crashes
or hangs, gilcompare.isolate kills the child's whole process tree anyway.

Order matters where fork is involved: a model's workers are started (and forked) before any
helper thread of the measuring process — load, echo server, samplers — starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import pickle
import select
import signal
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, Callable

import psutil

from gilcompare import engine
from gilcompare.echo import EchoServer, ping, summary
from gilcompare.isolate import one_line
from gilcompare.meta import environment
from gilcompare.models import Runner, _subinterpreters_module, get_model
from gilcompare.probe_workers import (
    NOOP_SCRIPT,
    STOP_SCRIPT,
    busy_until,
    echo_payload,
    noop,
    page_sum,
    pipe_echo,
    read_frame,
    shm_touch,
    spin_loop,
    stop_loop,
    write_frame,
)
from gilcompare.workloads import count

# How the measurements are made. Never change them in place: results would stop being comparable.
WARMUP_PINGS = 20
PING_GAP_MS = 1.0  # mean pause before each ping (uniform between 0.5x and 1.5x)
LOAD_UNITS = 20  # units of count (~1 ms each) per load task: the workers stay CPU-bound
LOAD_SETTLE_S = 0.05  # the load runs this long before the client starts
JOIN_TIMEOUT_S = 0.1  # stop: the seed's join(timeout), which returns with workers running
STOP_CAP_S = 10.0  # stop: a worker still running this long after the request failed to stop
READY_TIMEOUT_S = 60.0  # stop: how long workers may take to start their loop
BUSY_S = 0.6  # memory: how long busy workers count while the tree is sampled
BUSY_SETTLE_S = 0.15
BUSY_SAMPLES = 3
BUSY_ATTEMPTS = 3  # busy periods of BUSY_S, twice and four times as long
MB = 2**20  # memory is reported in MiB


def context() -> dict[str, Any]:
    """The conditions of this process that every record carries."""
    env = environment()
    keep = ("python", "python_tag", "implementation", "free_threaded", "cpu_count", "cpu_usable")
    out = {k: env[k] for k in keep}
    out["gil_enabled"] = env["gil_enabled_main"]
    out["platform"] = env["platform"]
    return out


def workers_gil(infos: Sequence[dict[str, Any]]) -> bool | None:
    """Whether the GIL was enabled in the workers (True if in any of them)."""
    return engine.gil_in_workers(infos)


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
            "workers_gil_enabled": workers_gil(infos),
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


def measure_stop(
    model: str, workers: int, method: str, check_ms: int, repeat: int
) -> dict[str, Any]:
    """Start workers looping, join(timeout), request a stop; time until all have exited."""
    count(check_ms)  # warm the loop body once before timing it
    check = statistics.median(_seconds(count, check_ms) for _ in range(3))
    kind = get_model(model).kind
    stopper = {
        "threads": _stop_threads,
        "processes": _stop_processes,
        "subinterpreters": _stop_interpreters,
        "asyncio": _stop_tasks,
    }[kind]
    rounds = [stopper(model, workers, method, check_ms) for _ in range(repeat)]
    return {
        "context": context(),
        "check_ms": check * 1000,
        "alive_after_join": min(alive for alive, _ in rounds),
        "samples": [seconds * 1000 for _, seconds in rounds],
    }


def _seconds(fn: Callable[..., Any], *args: Any) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def _await_ready(ready: Any, workers: int) -> None:
    """Wait until every worker has entered its loop (a semaphore released once each)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    for _ in range(workers):
        if not ready.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise RuntimeError(f"the workers did not start within {READY_TIMEOUT_S:g} s")


def _join_with_timeout(workers: Sequence[Any]) -> int:
    """The seed's join(timeout): it returns after the timeout, stopping nothing; how many run."""
    deadline = time.monotonic() + JOIN_TIMEOUT_S
    for w in workers:
        w.join(timeout=max(0.0, deadline - time.monotonic()))
    return sum(1 for w in workers if w.is_alive())


def _join_all(workers: Sequence[Any]) -> None:
    """Join every worker, or fail naming how many still run after STOP_CAP_S."""
    deadline = time.monotonic() + STOP_CAP_S
    for w in workers:
        w.join(timeout=max(0.0, deadline - time.monotonic()))
    running = sum(1 for w in workers if w.is_alive())
    if running:
        raise RuntimeError(
            f"{running} of {len(workers)} workers still ran {STOP_CAP_S:g} s after the stop request"
        )


def _stop_threads(model: str, workers: int, method: str, units: int) -> tuple[int, float]:
    stop = threading.Event()
    ready = threading.Semaphore(0)
    threads = [
        threading.Thread(target=stop_loop, args=(stop, ready, units), daemon=True)
        for _ in range(workers)
    ]
    try:
        for t in threads:
            t.start()
        _await_ready(ready, workers)
        alive = _join_with_timeout(threads)
        t0 = time.perf_counter()
        stop.set()
        _join_all(threads)
        return alive, time.perf_counter() - t0
    finally:
        stop.set()


def _stop_processes(model: str, workers: int, method: str, units: int) -> tuple[int, float]:
    ctx = multiprocessing.get_context(get_model(model).start_method)
    stop = ctx.Event()
    ready = ctx.Semaphore(0)
    if method == "terminate":
        target: Callable[..., None] = spin_loop
        args: tuple[Any, ...] = (ready, units)
    else:
        target, args = stop_loop, (stop, ready, units)
    procs = [ctx.Process(target=target, args=args, daemon=True) for _ in range(workers)]
    try:
        for p in procs:
            p.start()
        _await_ready(ready, workers)
        alive = _join_with_timeout(procs)
        t0 = time.perf_counter()
        if method == "terminate":
            for p in procs:
                p.terminate()
        else:
            stop.set()
        _join_all(procs)
        seconds = time.perf_counter() - t0
        expected = -signal.SIGTERM if method == "terminate" else 0  # terminate() sends SIGTERM
        codes = sorted({p.exitcode for p in procs} - {expected}, key=str)
        if codes:
            raise RuntimeError(f"a worker exited with status {codes[0]}, expected {expected}")
        return alive, seconds
    finally:
        for p in procs:
            if p.pid is not None and p.is_alive():
                p.kill()
                p.join(timeout=5)


def _interpreter_threads(script: str, workers: int, errors: list[str]) -> list[threading.Thread]:
    """One thread per worker, each running ``script`` in its own subinterpreter.

    The interpreters are created here, in the calling (main) thread, and each is destroyed by
    the thread that ran it: CPython 3.12 deadlocks otherwise.
    """
    mod = _subinterpreters_module()

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


def _stop_interpreters(model: str, workers: int, method: str, units: int) -> tuple[int, float]:
    ready_r, ready_w = os.pipe()
    stop_r, stop_w = os.pipe()
    script = STOP_SCRIPT.format(path=list(sys.path), ready=ready_w, stop=stop_r, units=units)
    errors: list[str] = []
    threads = _interpreter_threads(script, workers, errors)
    stopped = False
    try:
        for t in threads:
            t.start()
        _await_bytes(ready_r, workers, errors)
        alive = _join_with_timeout(threads)
        t0 = time.perf_counter()
        os.write(stop_w, b"s")
        stopped = True
        _join_all(threads)
        seconds = time.perf_counter() - t0
        if errors:
            raise RuntimeError(f"a subinterpreter failed: {errors[0]}")
        return alive, seconds
    finally:
        if not stopped:
            os.write(stop_w, b"s")
            for t in threads:
                t.join(timeout=STOP_CAP_S)
        if not any(t.is_alive() for t in threads):
            for fd in (ready_r, ready_w, stop_r, stop_w):
                os.close(fd)


def _await_bytes(fd: int, n: int, errors: list[str]) -> None:
    """Read ``n`` ready bytes from a pipe, or fail if the workers do not send them in time."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    got = 0
    while got < n:
        if errors:
            raise RuntimeError(f"a subinterpreter failed: {errors[0]}")
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"the workers did not start within {READY_TIMEOUT_S:g} s")
        if select.select([fd], [], [], min(left, 0.1))[0]:
            got += len(os.read(fd, n - got))


def _stop_tasks(model: str, workers: int, method: str, units: int) -> tuple[int, float]:
    return asyncio.run(_cancel_round(workers, units))


async def _cancel_round(workers: int, units: int) -> tuple[int, float]:
    async def loop() -> None:
        while True:
            count(units)
            await asyncio.sleep(0)  # the only place a cancellation can land

    tasks = [asyncio.ensure_future(loop()) for _ in range(workers)]
    _, pending = await asyncio.wait(tasks, timeout=JOIN_TIMEOUT_S)
    t0 = time.perf_counter()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return len(pending), time.perf_counter() - t0


def start_workers(model: str, workers: int) -> None:
    """Create, start and join ``workers`` no-op workers of ``model``: one cold start."""
    m = get_model(model)
    if m.kind == "threads":
        threads = [threading.Thread(target=noop) for _ in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    elif m.kind == "processes":
        ctx = multiprocessing.get_context(m.start_method)
        procs = [ctx.Process(target=noop) for _ in range(workers)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        codes = {p.exitcode for p in procs} - {0}
        if codes:
            raise RuntimeError(f"a no-op worker exited with status {codes.pop()}")
    elif m.kind == "subinterpreters":
        errors: list[str] = []
        threads = _interpreter_threads(NOOP_SCRIPT, workers, errors)
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise RuntimeError(f"a subinterpreter failed: {errors[0]}")
    elif m.kind == "asyncio":
        asyncio.run(_noop_tasks(workers))
    elif m.kind == "library":  # loky: a pool of its own, started by work and shut down
        import loky

        pool = loky.ProcessPoolExecutor(workers)
        try:
            for future in [pool.submit(noop) for _ in range(workers)]:
                future.result()
        finally:
            pool.shutdown(wait=True)
    else:
        raise ValueError(f"model {model!r} has no workers to start: it runs tasks in the caller")


async def _noop_tasks(workers: int) -> None:
    async def nothing() -> None:
        noop()

    await asyncio.gather(*(asyncio.ensure_future(nothing()) for _ in range(workers)))


def measure_start(model: str, workers: int) -> dict[str, Any]:
    """Time one cold start of ``workers`` no-op workers (call it in a fresh interpreter)."""
    seconds = _seconds(start_workers, model, workers)
    return {"context": context(), "seconds": seconds}


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
    out["workers_gil_enabled"] = workers_gil(infos)
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
    kind = get_model(model).kind
    with get_model(model).start(workers) as runner:
        infos = runner.warm()
        payload = make_payload(payload_type, payload_bytes)  # after forking: not inherited
        with memoryview(payload) as view:
            expected = page_sum(view)
        rounds: dict[str, Callable[[Runner, Any, int], float]] = {
            "shared": _round_shared,
            "pickle": _round_pipe if kind == "subinterpreters" else _round_pickle,
            "shared_memory": _round_shared_memory,
        }
        one_round = rounds[method]
        one_round(runner, payload, expected)  # warm-up: imports, resource tracker, caches
        samples = [one_round(runner, payload, expected) for _ in range(repeat)]
    return {"context": context(), "samples": samples, "workers_gil_enabled": workers_gil(infos)}


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
    shm = SharedMemory(create=True, size=nbytes)
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
