"""asv benchmarks for gilcompare: seven modules, all logic in gilcompare.

Five workload families, each holding some of these classes for its workloads:

    Serial.time_tasks         the spot workloads' task list run serially
    WarmSpot.time_tasks       the spot workloads on warm workers: every model but spawn and
                              forkserver at the spot
    Scaling.track_speedup     the grid: serial time / model time, timed alternately,
    Scaling.track_efficiency  and speedup / ideal,
    Scaling.track_model_time  and the grid workloads' absolute times: the medians over rounds
    Scaling.track_serial_time of each cell's model run and of the serial run it divides
    Gil.track_gil_enabled     1 or 0: the GIL inside a thread, a process, a subinterpreter
    Cold.timeraw_start_run_stop  start, run and stop a model in a new interpreter
    Machine.track_parallel_capacity  N fork workers' throughput over one (N: the usable CPUs,
                              at least 2): N on N idle cores; a run's speedups cannot beat it

* cpu (count, fib): all of them;
* native (sha256, zlib, numpy) and io_bound (sleep, http, sqlite, file): all but Cold and
  Machine;
* locks_alloc (contention, alloc): Serial, WarmSpot and Gil;
* shared_objects (free-threading's shared-object patterns): one Scaling grid (threads, fork
  processes and subinterpreters), nothing else.

And two more: libraries (the deployed libraries' models: a Scaling grid on the seed's loop at
the spot) and probes (latency, stop, cold start, memory and transfer, over gilcompare.probes).

Each module only declares its workloads (GRID_WORKLOADS: every worker count; SPOT_WORKLOADS:
one) as params; the classes' bodies are written once in gilcompare.asv.bench,
gilcompare.asv.suite says which models and worker counts and why, and gilcompare.settings
what the sizes and asv attributes are. Every module reads the worker counts when asv imports
it (gilcompare.asv.suite.worker_parameters): they follow the usable CPUs
(gilcompare.measure.sizing), 1, 2, 4, 8 and a spot of 2 on the reference machine's two.
``nox -s bench`` runs everything on every interpreter found; ``nox -s bench_quick -- --bench
count`` checks a part once; ``GILCOMPARE_WORKERS=1,2`` narrows the worker counts.
"""
