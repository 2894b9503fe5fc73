"""The grid a machine gets from its usable CPUs (gilcompare.measure.sizing)."""

from __future__ import annotations

import pytest

from gilcompare.measure import builds, engine, sizing
from gilcompare.settings import DEFAULT_WORKERS, get_profile


def test_the_reference_machine_keeps_its_grid() -> None:
    """Two usable CPUs give the grid every committed result was measured with."""
    assert sizing.cpu_workers(2) == sizing.wait_workers(2) == DEFAULT_WORKERS == (1, 2, 4, 8)
    assert sizing.spot_workers(2) == sizing.capacity_processes(2) == 2
    for name in ("standard", "quick", "asv"):
        p = get_profile(name)
        assert sizing.strong_tasks(p.tasks, False, 2) == p.tasks
        assert sizing.strong_tasks(p.wait_tasks, True, 2) == p.wait_tasks


def test_one_cpu_gets_one_and_two_workers_for_cpu_work() -> None:
    """One CPU: CPU work at 1 and 2 workers only, waiting work still beyond, spot at 1,
    capacity still two processes against one (so it reads about 1)."""
    assert sizing.cpu_workers(1) == (1, 2)
    assert sizing.wait_workers(1) == (1, 2, 4, 8)
    assert sizing.spot_workers(1) == 1
    assert sizing.capacity_processes(1) == 2


@pytest.mark.parametrize("cpus", [3, 4, 6, 8, 12, 16, 64, 128])
def test_grids_reach_the_cpus_and_waiting_goes_beyond(cpus: int) -> None:
    """CPU work doubles up to the usable CPUs (which are in the grid), waiting work beyond."""
    cpu, wait = sizing.cpu_workers(cpus), sizing.wait_workers(cpus)
    assert cpus in cpu and max(cpu) == max(cpus, 8) and {1, 2, 4} <= set(cpu)
    assert cpus in wait and max(wait) == max(8, 2 * cpus) > cpus
    assert sizing.spot_workers(cpus) == sizing.capacity_processes(cpus) == cpus


@pytest.mark.parametrize("cpus", [1, 2, 3, 4, 6, 8, 16, 64])
@pytest.mark.parametrize("waits", [False, True])
@pytest.mark.parametrize("base", [4, 8, 16, 64])
def test_strong_tasks_leave_no_worker_idle_and_give_each_cpu_four(
    cpus: int, waits: bool, base: int
) -> None:
    """Tasks: at least the profile's, a multiple of every default worker count's largest,
    and at least four per CPU that the largest count can use."""
    tasks = sizing.strong_tasks(base, waits, cpus)
    largest = max(sizing.default_workers(waits, cpus))
    assert tasks >= base and tasks % largest == 0
    assert tasks >= 4 * min(largest, cpus)
    assert tasks < base + largest or tasks < 4 * min(largest, cpus) + largest  # no more


def test_ideal_speedup_counts_workers_tasks_and_cpus() -> None:
    """The busiest worker's share bounds the ideal; CPU work is also bound by the CPUs."""
    assert engine.ideal_speedup(False, 2, 2, 8) == 2
    assert engine.ideal_speedup(False, 8, 32, 8) == 8
    assert engine.ideal_speedup(False, 16, 32, 8) == 8  # eight workers idle
    assert engine.ideal_speedup(False, 3, 32, 8) == round(8 / 3, 4)  # 3, 3, 2 tasks
    assert engine.ideal_speedup(False, 3, 2, 8) == 2  # the CPUs bind first
    assert engine.ideal_speedup(True, 16, 2, 8) == 8  # waiting: the tasks bind, not CPUs
    assert engine.ideal_speedup(True, 64, 2) == 64  # no task count: workers
    assert isinstance(engine.ideal_speedup(False, 4, 2, 8), int)


def test_usable_cpus_follow_affinity(monkeypatch: pytest.MonkeyPatch) -> None:
    """The grid reads usable CPUs, not os.cpu_count(): a 64-CPU host limited to 1 is 1."""
    monkeypatch.setattr("os.cpu_count", lambda: 64)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {5}, raising=False)
    monkeypatch.setattr(builds, "_cgroup_cpus", lambda: None)
    assert builds.usable_cpus() == 1
    assert sizing.cpu_workers() == (1, 2) and sizing.spot_workers() == 1
