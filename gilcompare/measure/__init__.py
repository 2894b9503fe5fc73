"""Measuring: one estimator, a cell and its result, a child process per measurement.

* engine — the one estimator behind every speedup and ratio (paired rounds, medians) and
  its 95 % interval;
* cells — a measurement to make (``Cell``), its ``Result``, and ``measure`` itself;
* matrix — every cell of a run in its own child, serial baselines first, with estimates;
* isolate — the child process: a timeout, its own process group, nothing left behind
  (``python -m gilcompare.measure.isolate`` is its entry point);
* services — the local peers I/O workloads talk to (HTTP server, sqlite file, work folder);
* conditions — the interpreter, build, GIL and CPUs every result records;
* compare — the same cells under several Pythons, in alternating rounds;
* builds — how each build was made, and which pairs may give a free-threading cost.

Nothing is imported here: a measuring child imports only what its target needs.
"""
