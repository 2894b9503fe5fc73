"""asv benchmarks for gilcompare: one module per workload family, all logic in gilcompare.

cpu (count, fib), native (sha256, zlib, numpy), io_bound (sleep, http, sqlite, file) and
locks_alloc (contention, alloc) each hold, for their workloads:

    Serial.time_tasks         the task list run serially: the baseline of every speedup
    Warm.time_tasks           headline workloads on warm workers: threads, fork processes,
                              subinterpreters and asyncio at every worker count
    WarmSpot.time_tasks       the other workloads on warm workers: every model but spawn at 2
    Scaling.track_speedup     headline grid: serial time / model time, timed alternately,
    Scaling.track_efficiency  and speedup / ideal
    Gil.track_gil_enabled     1 or 0: the GIL inside a thread, a process, a subinterpreter
    Cold.timeraw_start_run_stop  (cpu) start, run and stop every model in a new interpreter
    Machine.track_parallel_capacity  (cpu) two fork workers' throughput over one: 2.0 on two
                              idle cores; a run's speedups cannot beat it

Each module only declares its workloads (GRID_WORKLOADS: every worker count; SPOT_WORKLOADS:
one) as params; the classes' bodies are written once in gilcompare.asv.bench,
gilcompare.asv.suite says which models and worker counts and why, and gilcompare.settings
what the sizes and asv attributes are. Every module reads the worker counts when asv imports
it (gilcompare.asv.suite.worker_parameters).
``nox -s bench`` runs everything on every interpreter found; ``nox -s bench_quick -- --bench
count`` checks a part once; ``GILCOMPARE_WORKERS=1,2`` narrows the worker counts.
"""
