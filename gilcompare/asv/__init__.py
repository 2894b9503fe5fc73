"""What the asv suite in benchmarks/ builds on, and reading back what it stored.

* suite — which models and worker counts each kind of benchmark takes, and its version;
* bench — the benchmark classes every family module in benchmarks/ subclasses;
* pools — warm pools and cold runs (time_ and timeraw_ benchmarks);
* grids — scaling and GIL grids measured once per class in ``setup_cache`` (track_);
* machine — the machine's parallel capacity, against which every speedup is read;
* results — the committed results/, one run's speedups with a column per Python.

asv imports benchmarks/ through an import hook, so spawned and forkserver workers can import
``gilcompare`` but never ``benchmarks.*``: everything a benchmark runs lives here.
"""
