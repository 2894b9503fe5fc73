"""The grid a machine gets: worker counts, task counts and capacity from its usable CPUs.

Usable CPUs are the ones this process may run on (affinity, bounded by the cgroup quota:
gilcompare.measure.builds.usable_cpus), never ``os.cpu_count()``: a CI runner or a container
sees every CPU of its host but may use two. Standard library only, like the asv suite that
reads it when asv imports benchmarks/.

On two usable CPUs (the reference VM every committed result comes from) these rules give
the grid those results were measured with: 1, 2, 4, 8 workers for every workload, 8 tasks
of the asv profile, spot benchmarks at 2 and the capacity of 2 processes over one.
"""

from __future__ import annotations

import math

from gilcompare.measure.builds import usable_cpus
from gilcompare.settings import (
    CPU_WORKERS_FLOOR,
    MIN_TASKS_PER_CPU,
    WAIT_WORKERS_FLOOR,
    WAIT_WORKERS_PER_CPU,
)

__all__ = [
    "capacity_processes",
    "cpu_workers",
    "default_workers",
    "spot_workers",
    "strong_tasks",
    "usable_cpus",
    "wait_workers",
]


def _doublings(limit: int, *extra: int) -> tuple[int, ...]:
    """1, 2, 4 … up to ``limit``, the limit itself and ``extra`` counts under it included."""
    counts = {1 << i for i in range(limit.bit_length()) if 1 << i <= limit}
    counts.update(n for n in (limit, *extra) if 1 <= n <= limit)
    return tuple(sorted(counts))


def cpu_workers(cpus: int | None = None) -> tuple[int, ...]:
    """Worker counts for work that needs a CPU: 1, 2, 4 … up to the usable CPUs (the count
    that fills the machine included), and on a machine of 2 or more up to at least
    CPU_WORKERS_FLOOR, where threads and processes oversubscribe differently. One CPU gets
    1 and 2: more workers only take turns on it."""
    cpus = usable_cpus() if cpus is None else cpus
    if cpus < 2:
        return (1, 2)
    return _doublings(max(cpus, CPU_WORKERS_FLOOR), cpus)


def wait_workers(cpus: int | None = None) -> tuple[int, ...]:
    """Worker counts for waiting work (sleep, HTTP), which needs no CPU while it waits:
    beyond the usable CPUs, up to WAIT_WORKERS_PER_CPU times them and at least
    WAIT_WORKERS_FLOOR."""
    cpus = usable_cpus() if cpus is None else cpus
    return _doublings(max(WAIT_WORKERS_FLOOR, WAIT_WORKERS_PER_CPU * cpus), cpus)


def default_workers(waits: bool, cpus: int | None = None) -> tuple[int, ...]:
    """The default worker counts of a workload: waiting or needing a CPU."""
    return wait_workers(cpus) if waits else cpu_workers(cpus)


def spot_workers(cpus: int | None = None) -> int:
    """The one worker count of the spot benchmarks: the machine's size."""
    return usable_cpus() if cpus is None else cpus


def capacity_processes(cpus: int | None = None) -> int:
    """How many busy processes the capacity track and the noise gauge set against one: the
    largest worker count the CPUs can run at once, and at least two (so one CPU reads about
    1, not 1 by construction)."""
    return max(2, usable_cpus() if cpus is None else cpus)


def strong_tasks(base: int, waits: bool, cpus: int | None = None) -> int:
    """The task count of strong scaling on this machine: the profile's ``base``, raised until
    every CPU of the largest parallel worker count gets at least MIN_TASKS_PER_CPU tasks (an
    uneven share of the CPUs then evens out), and rounded up to a multiple of the largest
    default worker count, so that no worker is left without a task and every worker gets
    as many. On the reference machine the profile's count stands unchanged."""
    cpus = usable_cpus() if cpus is None else cpus
    largest = max(default_workers(waits, cpus))
    needed = max(base, MIN_TASKS_PER_CPU * min(largest, cpus))
    return largest * math.ceil(needed / largest)
