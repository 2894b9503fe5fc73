"""Every size and setting: how much work a task is, how long and how often things are measured.

These values define what a result measured; every result records its profile, task size and
task count, and every probe record the values it used. Never change them in place: add a new
profile (or setting) instead, or old results stop being comparable with new ones (the numbers
in results/ and on the site were measured with these).

What one unit of each workload is (its per-unit constants) lives beside the workload, in
gilcompare.workloads, with ``UNITS_VERSION``; standard library only, like this module.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

# ---------------------------------------------------------------------- task lists: profiles


@dataclass(frozen=True)
class Profile:
    """Task size (units, ~1 ms each) and task counts for strong and weak scaling."""

    name: str
    task_units: int  # work per task: tens of milliseconds in the standard profile
    tasks: int  # strong scaling: total tasks for compute and local-I/O workloads
    wait_tasks: int  # strong scaling: total tasks for waiting workloads (sleep, http)
    weak_tasks_per_worker: int  # weak scaling: tasks each worker gets

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in [
        # must never change: the numbers in results/ and on the site were measured with it
        Profile(name="standard", task_units=50, tasks=16, wait_tasks=64, weak_tasks_per_worker=2),
        Profile(name="quick", task_units=20, tasks=8, wait_tasks=64, weak_tasks_per_worker=1),
        Profile(name="tiny", task_units=1, tasks=4, wait_tasks=8, weak_tasks_per_worker=1),
        # the asv suite's (benchmarks/): small enough for the suite to fit in 6 minutes per
        # interpreter, large enough that dispatch stays small beside the work: two fork
        # workers run count 1.8x faster than serial on 2 idle cores (1.75x with 20 units)
        Profile(name="asv", task_units=30, tasks=8, wait_tasks=8, weak_tasks_per_worker=1),
    ]
}

DEFAULT_PROFILE = "standard"
# The default worker counts and strong-scaling task counts follow the machine's usable CPUs
# (gilcompare.measure.sizing); on the reference machine's 2 CPUs they are 1, 2, 4, 8 and the
# profiles' task counts, as every committed result was measured.
DEFAULT_WORKERS = (1, 2, 4, 8)  # the reference machine's grid
CPU_WORKERS_FLOOR = 8  # CPU work on 2+ CPUs runs up to at least this many: oversubscribed
WAIT_WORKERS_FLOOR = 8  # waiting work runs up to at least this many workers
WAIT_WORKERS_PER_CPU = 2  # and up to this many per usable CPU
MIN_TASKS_PER_CPU = 4  # strong scaling: at least this many tasks per CPU in use
SCALINGS = ("strong", "weak")


def get_profile(name: str) -> Profile:
    """Look a profile up by name, or fail naming the valid choices."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}: choose from {', '.join(PROFILES)}") from None


# ------------------------------------------------------------------ measuring in a child

DEFAULT_TIMEOUT = 600.0  # seconds for one measurement; the CLI's --timeout overrides it
GRACE = 3.0  # seconds a child gets to shut its pools down after SIGTERM
OWN_DEADLINE_MARGIN = 10.0  # the child's own deadline: this long after the parent's timeout
DASK_CONNECT_TIMEOUT = 10.0  # seconds to reach an existing dask scheduler before giving up
DASK_WATCH = 2.0  # seconds between checks that an existing cluster's scheduler still answers

# Upper bounds of command-line values: past these a run would take days or exhaust the
# machine, never measure anything.
MAXIMA: dict[str, float] = {
    "--workers": 1024,
    "--repeat": 1000,
    "--size": 1_000_000,  # units of ~1 ms: about 17 minutes per task
    "--tasks": 100_000,
    "--timeout": 86_400,  # seconds: a day
    "--rounds": 1000,
    "--pings": 100_000,
    "--check-ms": 1_000_000,  # units of ~1 ms, as --size
    "--switch-interval": 1000,  # ms
    "--scale": 1000,
    "--payload": 2**32,  # bytes: 4 GiB, sent to every worker and back
    "GILCOMPARE_ROUNDS": 1000,
}
DEFAULT_MAXIMUM = 10**9

# What `gilcompare run --dry-run` and the progress line's estimate assume: the sizes aim at
# about 1 ms per unit (`gilcompare calibrate` shows the real cost here), every model reaches
# its ideal speedup, and each measurement's fresh child takes about half a second to start
# and set up its pool.
MS_PER_UNIT = 1.0
CHILD_START_S = 0.5

# The seed blog (litaro, 2019): two workers each counting to 10**8 (`gilcompare seed`).
SEED_ITERATIONS = 10**8
SEED_BLOG = {"threads": 12.77, "processes": 6.52}

# ------------------------------------------------------------------------------ the asv suite

ASV_PROFILE = "asv"  # every benchmark's task list; results record it
ASV_SCALING = "strong"  # a fixed task list whatever the workers, so serial time / model time
SPOT_WORKERS_COUNT = 2  # the reference machine's spot; elsewhere its usable CPUs (sizing)
# each cell's speedup is a median of serial/model ratios, one per round, taken in turns with
# the other cells (gilcompare.asv.grids says why); a family's Scaling may ask for more or fewer
DEFAULT_ROUNDS = 5
GRID_PRECISION = 0.05  # an asv grid plans more rounds for a cell whose interval is wider than ±5 %
CAPACITY_UNITS = 100  # count units per process when measuring the machine's parallel capacity
GAUGE_MIN_UNITS = 20  # a cell's task list must be this long (~20 ms) for `run` to read the gauge
CAPACITY_PAIRS = 9  # one-worker and two-worker runs alternated: a median of nine ratios


class Timing(NamedTuple):
    """asv's timing attributes, the same for every benchmark in the suite (the time_* and
    timeraw_* ones take their samples in TIME_ROUNDS passes, below)."""

    repeat: int = 1  # samples per parameter set and pass: a cold run, one per pass
    number: int = 1  # calls per sample: one task list
    rounds: int = 1  # passes; one for a track (its grid times in rounds of its own)
    warmup_time: float = 0.0  # setup already warmed every worker
    min_run_count: int = 1
    timeout: float = 180.0  # seconds for one parameter set's process


TIMING = Timing()
# asv's time_* and timeraw_* benchmarks take their samples in TIME_ROUNDS passes, which
# `nox -s bench` interleaves over every environment (asv run --interleave-rounds): one pass
# of each environment, then the next. Samples taken in one burst share whatever the host did
# in that minute, and a slow stretch of a minute moved whole blocks of them 20-90 % between
# two identical runs; spread over three passes, a stretch shorter than the time between two
# passes reaches a third of a time's samples, not all. Cost: a process and setup per pass.
TIME_ROUNDS = 3
# samples per pass of a warm task list and of a cold start (six in all): a sample costs a
# fraction of the process around it
SPOT_REPEAT = 2
SETUP_CACHE_TIMEOUT = 900.0  # seconds for one grid (all its cells, one process)

# ---------------------------------------------------------------------------------- probes

PROBE_REPEAT = 5
PINGS = 200  # latency: timed pings per round
CHECK_MS = 10  # stop: units of count (~1 ms each) between two checks of the stop flag
PAYLOAD_BYTES = 64 * 2**20  # transfer

# the `gilcompare probe` command's defaults
PROBE_WORKERS = {
    "latency": (0, 1),
    "stop": (1,),
    "start": (1, 8),
    "memory": (1, 8),
    "transfer": (1,),
}
PROBE_PAYLOADS = (2**20, PAYLOAD_BYTES)

# The asv suite's probe sizes (benchmarks/probes.py): small enough for its 6-minute budget
SUITE_PROBE_REPEAT = 3
SUITE_MEMORY_REPEAT = 1  # a fresh tree's memory varies by well under 1% between samples
SUITE_PINGS = 100
SUITE_SWITCH_INTERVALS_MS = (5.0, 0.5)  # CPython's default, and a tenth of it
SUITE_PROBE_WORKERS = 8  # memory: enough workers for per-worker costs to show
SUITE_START_WORKERS = 4  # cold start: per-worker costs show, and 4 starts (not 8) per sample
SUITE_PAYLOAD_BYTES = PAYLOAD_BYTES

# How the probes measure inside their child
WARMUP_PINGS = 20  # latency
PING_GAP_MS = 1.0  # latency: mean pause before each ping (uniform between 0.5x and 1.5x)
PING_MESSAGE_BYTES = 64  # latency: the size of one ping
PING_SEED = 20191103  # latency: the pauses are pseudo-random but the same in every run
LOAD_UNITS = 20  # latency: units of count per load task: the workers stay CPU-bound
LOAD_SETTLE_S = 0.05  # latency: the load runs this long before the client starts
JOIN_TIMEOUT_S = 0.1  # stop: the seed's join(timeout), which returns with workers running
STOP_CAP_S = 10.0  # stop: a worker still running this long after the request failed to stop
READY_TIMEOUT_S = 60.0  # stop: how long workers may take to start their loop
BUSY_S = 0.6  # memory: how long busy workers count while the tree is sampled
BUSY_SETTLE_S = 0.15
BUSY_SAMPLES = 3
BUSY_ATTEMPTS = 3  # busy periods of BUSY_S, twice and four times as long

# ------------------------------------------------------------ the literature, reproduced

# Recorded in every row's conditions: sized so all claims run in a few minutes.
REPRODUCE_TIMEOUT = 300.0  # seconds per isolated measurement
CLAIM_SEED_ITERATIONS = 10**7  # per worker: a tenth of the blog's, the ratio is what counts
CLAIM_SEED_REPEAT = 3
CLAIM_SEED_BOUND = 1.6  # processes/threads: the blog's 1.96, less what two shared cores lose
CLAIM_LATENCY_SWITCH_MS = (5.0, 0.5)  # CPython's default switch interval, and a tenth of it
CLAIM_LATENCY_PINGS = 100
CLAIM_LATENCY_REPEAT = 3
CLAIM_COST_WORKLOADS = ("count", "fib")  # pure Python, one thread: the free-threaded cost
CLAIM_COST_REPEAT = 5
CLAIM_SCALING_WORKLOADS = ("fib", "alloc")  # calls on shared functions, allocation
CLAIM_SCALING_WORKERS = 2
CLAIM_SCALING_REPEAT = 5
CLAIM_START_WORKERS = 8
CLAIM_START_REPEAT = 3
CLAIM_START_MODELS = ("threads", "subinterpreters", "processes-spawn")
CLAIM_PROFILE = "standard"
