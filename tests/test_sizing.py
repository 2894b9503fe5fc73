"""The grid a machine gets from its usable CPUs (gilcompare.measure.sizing)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gilcompare.measure import builds, engine, sizing
from gilcompare.settings import DEFAULT_WORKERS, get_profile

ROOT = Path(__file__).resolve().parent.parent


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


def _one_cpu(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run ``python argv`` on CPU 0 alone: a one-CPU machine, as `taskset -c 0` makes it."""
    return subprocess.run(
        ["taskset", "-c", "0", sys.executable, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k != "GILCOMPARE_WORKERS"},
    )


needs_taskset = pytest.mark.skipif(
    shutil.which("taskset") is None or 0 not in getattr(os, "sched_getaffinity", lambda p: ())(0),
    reason="needs taskset (util-linux) and CPU 0",
)


@needs_taskset
def test_gilcompare_run_chooses_the_one_cpu_grid_under_taskset() -> None:
    """On one CPU `gilcompare run` measures CPU work at 1 and 2 workers, waiting work beyond,
    and every record says 1 usable CPU, with an ideal of 1 for CPU work."""
    done = _one_cpu(
        "-m", "gilcompare", "run", "--workload", "count,sleep", "--model", "threads,processes-fork",
        "--profile", "quick", "--size", "2", "--repeat", "1", "--json", "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    grid = {(r["workload"], r["model"]): set() for r in records}
    for r in records:
        grid[r["workload"], r["model"]].add(r["workers"])
        assert r["status"] == "ok", r
        assert r["cpu_usable"] == r["meta"]["cpu_usable"] == r["meta"]["host"]["cpu_usable"] == 1
        assert r["ideal"] == (r["workers"] if r["workload"] == "sleep" else 1)
    for model in ("threads", "processes-fork"):
        assert grid["count", model] == {1, 2}
        assert grid["sleep", model] == {1, 2, 4, 8}


@needs_taskset
def test_the_asv_suite_chooses_the_one_cpu_grid_under_taskset() -> None:
    """asv's import of the suite on one CPU: CPU families at 1 and 2 workers, waiting ones
    beyond, spot benchmarks at 1, capacity of 2 processes over one, and the host record nox
    writes into the provenance (and asv's num_cpu) says 1 usable CPU."""
    code = (
        "import json\n"
        "import benchmarks.cpu as c, benchmarks.io_bound as i, benchmarks.native as n\n"
        "from gilcompare.asv import machine\n"
        "from gilcompare.measure import builds\n"
        "print(json.dumps({\n"
        "  'cpu': list(c.Scaling.params[2]), 'native': list(n.Scaling.params[2]),\n"
        "  'wait': list(i.Scaling.params[2]), 'spot': list(c.WarmSpot.params[2]),\n"
        "  'capacity': machine.capacity_processes(),\n"
        "  'host': builds.describe_host()['cpu_usable'], 'num_cpu': builds.usable_cpus()}))\n"
    )
    done = _one_cpu("-c", code)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "cpu": [1, 2],
        "native": [1, 2],
        "wait": [1, 2, 4, 8],
        "spot": [1],
        "capacity": 2,
        "host": 1,
        "num_cpu": 1,
    }
