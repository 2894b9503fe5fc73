"""Sizes: how much work a task is and how many tasks a measurement runs, per profile.

These values define what a result measured; every result records its profile, task size and
task count. Never change the ``standard`` profile in place: add a new profile instead, or old
results stop being comparable with new ones.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


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
        Profile("standard", task_units=50, tasks=16, wait_tasks=64, weak_tasks_per_worker=2),
        Profile("quick", task_units=20, tasks=8, wait_tasks=64, weak_tasks_per_worker=1),
        Profile("tiny", task_units=1, tasks=4, wait_tasks=8, weak_tasks_per_worker=1),
        # the asv suite's (benchmarks/): small enough for the suite to fit in 10 minutes per
        # interpreter, large enough that dispatch stays small beside the work: two fork
        # workers run count 1.8x faster than serial on 2 idle cores (1.75x with 20 units)
        Profile("asv", task_units=30, tasks=8, wait_tasks=8, weak_tasks_per_worker=1),
    ]
}

DEFAULT_PROFILE = "standard"
DEFAULT_WORKERS = (1, 2, 4, 8)
SCALINGS = ("strong", "weak")


def get_profile(name: str) -> Profile:
    """Look a profile up by name, or fail naming the valid choices."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}: choose from {', '.join(PROFILES)}") from None
