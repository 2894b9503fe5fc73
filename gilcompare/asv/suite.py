"""The asv suite's composition: which models and worker counts each kind of benchmark takes.

asv imports benchmarks/ through an import hook, so a spawned or forkserver worker can import
``gilcompare`` but never ``benchmarks.*``: everything a benchmark runs lives in this package
(pools: warm pools and cold runs; grids: the scaling and GIL grids; machine: the parallel
capacity; bench: the classes), and the files in benchmarks/ only declare parameters.
Nothing here does any work when imported: benchmarks/ asks ``worker_parameters()`` for the
worker counts when asv imports it.

The budget: ``nox -s bench`` should take at most 5 minutes per environment and 65 minutes for
the thirteen (3.9-3.15, 3.13t, 3.14t and 3.15t with their ``PYTHON_GIL=1`` twins);
``gilcompare results --against COMMIT`` prints what each environment of two runs cost. asv
runs every parameter set in a fresh process (about 0.25 s before any work) and re-runs
``setup`` before every sample, so each sample pays for a new pool. What keeps the suite
inside the budget, and so what its results mean:

* the ``asv`` profile (gilcompare.settings): 8 tasks of 30 units (about 30 ms each), so
  dispatch stays small beside the work;
* one round of three samples and no warm-up runs (setup has warmed every worker);
* the worker counts follow the machine (gilcompare.measure.sizing): 1, 2, 4 … up to the
  usable CPUs (and at least 8 on two or more) for work that needs a CPU, beyond them for
  waiting work; on the reference machine's 2 CPUs both are 1, 2, 4, 8;
* the headline workloads run one model of each kind (threads, fork processes,
  subinterpreters, asyncio) at every worker count; the other workloads run every model at one
  worker count (the usable CPUs: 2 on the reference machine), except ``processes-spawn`` and
  ``-forkserver``: warm, their workers run tasks as fork's do, and what sets them apart,
  starting them, is what the cold-start probe times (every model); the cold runs (start, run,
  stop) take one model of each kind and spawn;
* the speedup and efficiency tracks read one ``setup_cache`` per class that times each cell
  once for both; the GIL tracks one that only starts pools, of the three kinds of worker;
* the waiting grid shares one serial run per workload and round among its cells (waiting
  hardly moves with the host's share of a core; gilcompare.asv.grids.scaling_grid).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import NamedTuple

from gilcompare.measure.sizing import default_workers, spot_workers
from gilcompare.models import BASELINE, MODELS, STANDARD_MODELS
from gilcompare.models.base import start_method_unavailable
from gilcompare.settings import ASV_PROFILE, DEFAULT_ROUNDS, MAXIMA, get_profile
from gilcompare.workloads import UNITS_VERSION

WORKERS_ENV = "GILCOMPARE_WORKERS"  # recorded with every result (conditions.RELEVANT_ENV)
ROUNDS_ENV = "GILCOMPARE_ROUNDS"  # rounds of every scaling grid; nox -s bench_quick sets 1


def _version() -> str:
    """asv's benchmark version: what a result measured, not the code that measured it.

    It names the profile, not the task count a machine gives it (gilcompare.measure.sizing):
    asv publish drops every result whose version differs from the suite's, so a version per
    machine would hide all machines but one in a merged site. A machine's task count follows
    its usable CPUs, which its asv machine entry (num_cpu) and provenance record."""
    p = get_profile(ASV_PROFILE)
    return f"units{UNITS_VERSION}-{p.name}-{p.task_units}x{p.tasks}-wait{p.wait_tasks}"


VERSION = _version()  # results with another version are not compared with these

# warm fork, spawn and forkserver workers run a task alike; fork stands for the three, and
# spawn where fork is missing (Windows) or unsafe (macOS): fork is then skipped at the spot
# with its reason, and a merged site shows fork's column from one machine, spawn's from another
PROCESS_MODELS = ("processes-fork", "processes-spawn", "processes-forkserver")
FORK_RUNS = start_method_unavailable("fork") is None
PROCESSES = PROCESS_MODELS[0] if FORK_RUNS else PROCESS_MODELS[1]
WARM_ALIKE = PROCESS_MODELS[1:] if FORK_RUNS else PROCESS_MODELS[2:]

# the models each kind of benchmark compares (the module docstring says why these)
GRID_MODELS = ("threads", PROCESSES, "subinterpreters", "asyncio")  # one of each kind
# the A/A control: serial timed against serial in the same rounds as the other cells. Its
# speedup should be 1.0; how far it strays is the noise floor of that run on that host
CONTROL = BASELINE
CONTROLLED_MODELS = (CONTROL, *GRID_MODELS)
# every standard model that starts workers (serial starts nothing), a model registered too
SPOT_MODELS = tuple(n for n in STANDARD_MODELS if MODELS[n].starts_workers and n not in WARM_ALIKE)
COLD_MODELS = tuple(n for n in STANDARD_MODELS if MODELS[n].starts_workers)
# what a cold run of the task list adds to a cold start: one pool of each kind, and spawn, the
# start method that costs most (the cold-start probe times every model's start)
COLD_RUN_MODELS = tuple(dict.fromkeys((*GRID_MODELS, "processes-spawn")))
GIL_MODELS = ("threads", PROCESSES, "subinterpreters")  # one of each kind of worker
# the deployed libraries' models, on the seed's loop at the spot (dask-cluster needs a cluster)
LIBRARY_MODELS = (
    "joblib-loky",
    "joblib-threads",
    "dask-processes",
    "dask-threads",
    "mp-pool-fork",
    "process-per-task",
)


# ------------------------------------------------------------------------- worker counts


def parse_workers(text: str) -> tuple[int, ...]:
    """Worker counts from a comma-separated list such as ``1,2,4,8`` (sorted, unique)."""
    top = int(MAXIMA["--workers"])
    parts = [part.strip() for part in text.split(",")]
    if not all(re.fullmatch(r"[0-9]{1,9}", part) and 1 <= int(part) <= top for part in parts):
        raise ValueError(
            f"{WORKERS_ENV} must be a comma-separated list of worker counts from 1 to {top}, "
            f"such as '1,2,4,8'; got {text!r}"
        )
    return tuple(sorted({int(part) for part in parts}))


def worker_counts(environ: Mapping[str, str] | None = None, waits: bool = False) -> tuple[int, ...]:
    """The suite's worker counts: ``GILCOMPARE_WORKERS`` when set, else the machine's for
    waiting work or work that needs a CPU (gilcompare.measure.sizing; 1, 2, 4, 8 on 2 CPUs).

    asv imports the suite to discover it, so a bad value ends that import with a one-line
    message (SystemExit) rather than a traceback.
    """
    text = (os.environ if environ is None else environ).get(WORKERS_ENV, "")
    if not text.strip():
        return default_workers(waits)
    try:
        return parse_workers(text)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


def scaling_rounds(environ: Mapping[str, str] | None = None, default: int = DEFAULT_ROUNDS) -> int:
    """Rounds of a scaling grid: ``GILCOMPARE_ROUNDS`` when set, else the grid's default (a
    bad value ends asv's import of the suite with a one-line message, as for the workers)."""
    text = (os.environ if environ is None else environ).get(ROUNDS_ENV, "").strip()
    if not text:
        return default
    top = int(MAXIMA[ROUNDS_ENV])
    if not re.fullmatch(r"[0-9]{1,9}", text) or not 1 <= int(text) <= top:
        raise SystemExit(
            f"{ROUNDS_ENV} must be a whole number of rounds from 1 to {top}, such as '7'; "
            f"got {text!r}"
        )
    return int(text)


class WorkerParameters(NamedTuple):
    """The worker counts the benchmarks take: every one for the grids, one at the spot."""

    workers: tuple[int, ...]  # the scaling grids'
    spot_workers: tuple[int, ...]  # the other benchmarks': the usable CPUs when it is run


def worker_parameters(
    environ: Mapping[str, str] | None = None, waits: bool = False
) -> WorkerParameters:
    """What benchmarks/ declares as parameters, read from the environment when asv imports it:
    a family of waiting workloads (``waits``) gets the waiting grid.

    A bad ``GILCOMPARE_WORKERS`` or ``GILCOMPARE_ROUNDS`` stops that import with a one-line
    message (SystemExit), before any grid runs.
    """
    workers = worker_counts(environ, waits)
    scaling_rounds(environ)
    size = spot_workers()
    spot = (size,) if size in workers else workers[:1]
    return WorkerParameters(workers, spot)
