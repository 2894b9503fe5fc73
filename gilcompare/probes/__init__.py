"""What throughput does not show: latency under load, stop, cold start, memory, transfer.

One module per probe, each holding its record, what it cannot measure (and why), its
parent's side and its child's side. ``probe_<probe>`` (the parent's side) runs
``measure_<probe>`` in a fresh child process (through gilcompare.measure.isolate: its own
process group, a timeout, the whole tree killed afterwards) and returns a record carrying the
conditions it was measured under — or saying why the combination was skipped, or how it
failed. The ``gilcompare probe`` command (gilcompare.cli.probe) and the asv suite
(benchmarks/probes.py) are thin layers over ``probe_<probe>``.

* latency: p50/p99 round trip of a loopback echo (echo) served by a thread of the measuring
  process, pinged from a separate process, while N CPU-bound workers of a model run (0:
  unloaded).
* stop: the seed's pattern — a worker loop that checks a flag, a ``join(timeout)`` that returns
  with the workers still running, then a stop request: time until every worker has exited.
* start: create + start + join N no-op workers, each sample in a fresh interpreter (cold).
* memory: RSS, USS and PSS summed over the whole process tree, N workers idle and busy.
* transfer: round trip of a payload to N workers and back: shared, pickle or shared_memory.

Each child side leaves nothing running when it returns; if it raises, crashes or hangs,
gilcompare.measure.isolate kills the child's whole process tree anyway. Order matters where
fork is involved: a model's workers are started (and forked) before any helper thread of the
measuring process — load, echo server, samplers — starts.

common holds what they share; workers what runs inside the workers. Subinterpreters import
this package to reach workers, so nothing is imported here and workers imports only the
standard library.
"""

from __future__ import annotations

PROBES = ("latency", "stop", "start", "memory", "transfer")
