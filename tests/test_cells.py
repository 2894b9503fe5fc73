"""Tests for gilcompare.measure.cells: plans, baselines, speedup and checksum verdicts."""

from __future__ import annotations

import pytest

from gilcompare.measure import sizing
from gilcompare.measure.cells import (
    Cell,
    Result,
    cell_fields,
    checksum,
    ideal_speedup,
    measure,
    plan,
)
from gilcompare.measure.sizing import strong_tasks
from gilcompare.models import gil_enabled
from gilcompare.workloads import get_workload


def test_strong_plan_is_fixed_total_and_weak_grows() -> None:
    """Strong scaling keeps the task list; weak scaling grows it with the workers."""
    w = get_workload("count")
    assert plan(w, "strong", 1, "standard") == plan(w, "strong", 8, "standard")
    assert len(plan(w, "weak", 4, "standard")) == 4 * len(plan(w, "weak", 1, "standard"))
    assert len(plan(get_workload("sleep"), "strong", 1, "standard")) == strong_tasks(64, True)
    assert len(plan(w, "strong", 2, "standard", tasks=3)) == 3  # asked for: never resized


def test_strong_plan_follows_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The profile's task count on two CPUs; on 16, a multiple of the largest worker count
    with four tasks per CPU, so no worker of the grid idles."""
    w = get_workload("count")
    monkeypatch.setattr(sizing, "usable_cpus", lambda: 2)
    assert len(plan(w, "strong", 2, "standard")) == 16 and len(plan(w, "strong", 2, "asv")) == 8
    monkeypatch.setattr(sizing, "usable_cpus", lambda: 16)
    assert len(plan(w, "strong", 2, "standard")) == len(plan(w, "strong", 16, "asv")) == 64


def test_ideal_speedup() -> None:
    """CPU work is bounded by the cores, waiting work by the workers."""
    assert ideal_speedup(get_workload("count"), 8, cpus=2) == 2
    assert ideal_speedup(get_workload("sleep"), 64, cpus=2) == 64


def test_baseline_runs_the_same_task_list() -> None:
    """A weak cell's serial baseline has the same workers (so the same tasks)."""
    cell = Cell(workload="count", model="threads", workers=4, scaling="weak")
    assert cell.baseline().model == "serial" and cell.baseline().workers == 4
    assert Cell(workload="count", model="threads", workers=4).baseline().workers == 1


def test_measure_records_conditions() -> None:
    """A measurement carries its checksum, GIL status, metadata and timings."""
    # 10 ms sleeps: 1 ms ones cannot absorb a loaded host's wake-up delays
    r = measure(
        Cell(workload="sleep", model="threads", workers=4, profile="tiny", size=10, repeat=2)
    )
    assert r.status == "ok" and len(r.times) == 2 and r.seconds > 0
    assert r.workers_seen == 4 and r.gil_enabled is gil_enabled()  # threads share this GIL
    assert {"python", "free_threaded", "cpu_count", "cpu_usable"} <= set(r.meta)
    serial = measure(
        Cell(workload="sleep", model="serial", workers=1, profile="tiny", size=10, repeat=2)
    )
    r.compare(serial)
    assert r.status == "ok" and r.speedup > 1.5  # 8 tasks of 10 ms over 4 threads


def test_compare_flags_a_wrong_answer() -> None:
    """A fast wrong answer is a mismatch, not a speedup."""
    fast = Result(
        workload="count",
        model="threads",
        workers=2,
        scaling="strong",
        mode="warm",
        status="ok",
        seconds=0.1,
        checksum="a",
    )
    slow = Result(
        workload="count",
        model="serial",
        workers=1,
        scaling="strong",
        mode="warm",
        status="ok",
        seconds=1.0,
        checksum="b",
    )
    fast.compare(slow)
    assert fast.status == "mismatch" and fast.speedup is None


def test_cold_mode_and_skips() -> None:
    """Cold mode times create+run+shutdown; an impossible combination is skipped."""
    assert (
        measure(
            Cell(
                workload="sleep", model="threads", workers=2, mode="cold", profile="tiny", repeat=1
            )
        ).status
        == "ok"
    )
    r = measure(
        Cell(workload="numpy", model="subinterpreters", workers=2, profile="tiny", repeat=1)
    )
    assert r.status == "skipped" and r.reason


@pytest.mark.parametrize("field,value", [("workers", 0), ("repeat", 0), ("size", -1)])
def test_cell_validation(field: str, value: int) -> None:
    """Counts below one are refused with the rule."""
    kwargs = {"workload": "count", "model": "serial", "workers": 1, field: value}
    with pytest.raises(ValueError, match="at least 1"):
        Cell(**kwargs).validate()


def test_a_parallel_cell_reads_the_noise_gauge_every_round() -> None:
    """A paired cell with two workers carries one gauge reading per round and a noisy-host
    verdict; a one-worker cell needs one core, and a task list too short to time says
    nothing: neither reads it."""
    two = measure(
        Cell(
            workload="count", model="threads", workers=2, profile="tiny", size=10, tasks=4, repeat=3
        )
    )
    assert two.status == "ok" and len(two.gauge) == 3
    assert all(reading > 0 for reading in two.gauge)
    assert two.noisy_host is (sorted(two.gauge)[1] < 1.6)
    one = measure(
        Cell(
            workload="count", model="threads", workers=1, profile="tiny", size=10, tasks=4, repeat=3
        )
    )
    assert one.gauge == [] and one.noisy_host is None
    short = Cell(workload="count", model="threads", workers=2, profile="tiny", tasks=4, repeat=3)
    short = measure(short)
    assert short.gauge == [] and short.noisy_host is None


@pytest.mark.parametrize(
    ("readings", "processes", "verdict"),
    [
        ([1.9, 1.95, 1.2], 2, False),
        ([1.5, 1.2, 1.9], 2, True),
        ([3.3, 3.1, 3.0], 4, True),
        ([], 2, None),
    ],
)
def test_noisy_means_below_80_percent_of_the_cores(
    readings: list[float], processes: int, verdict: bool | None
) -> None:
    """The median reading against 80 % of the gauge's processes decides; none, no verdict."""
    from gilcompare.measure.gauge import noisy

    assert noisy(readings, processes) is verdict


def test_on_one_cpu_a_gauge_of_about_one_is_a_quiet_host() -> None:
    """Two busy processes on one usable CPU read about 1 on a quiet host: 80 % of the CPUs
    they can use, not of the processes, decides (taskset -c 0 measured 0.99)."""
    from gilcompare.measure.gauge import noisy

    assert noisy([0.99, 1.0, 0.98], 2, cpus=1) is False
    assert noisy([0.7, 0.75, 0.72], 2, cpus=1) is True
    assert noisy([0.99, 1.0, 0.98], 2, cpus=2) is True
    assert noisy([1.9, 1.7, 1.8], 2, cpus=8) is False


def test_run_names_the_cells_a_noisy_host_spoiled() -> None:
    """`run` ends with a note naming each cell whose gauge read low, with its median."""
    from gilcompare.cli.run import noisy_host

    cell = {"workload": "count", "workers": 2, "scaling": "strong", "mode": "warm", "status": "ok"}
    quiet = Result(model="threads", gauge=[1.9], noisy_host=False, **cell)
    busy = Result(model="processes-fork", gauge=[1.1, 1.3, 1.2], noisy_host=True, **cell)
    assert noisy_host([quiet]) is None
    note = noisy_host([quiet, busy])
    assert note is not None and note.endswith(": count/processes-fork/2 (1.20)")


def test_baseline_keeps_every_field_but_the_model_and_mode() -> None:
    """The baseline runs the same task list (size, tasks, profile, repeat), warm, serial."""
    cell = Cell("count", "threads", 4, "weak", "cold", "tiny", 3, 2, 7, paired=False)
    assert cell.baseline() == Cell("count", "serial", 4, "weak", "warm", "tiny", 3, 2, 7)
    strong = Cell("sleep", "threads", 4, "strong", "warm", "tiny", 5, 6, 2)
    assert strong.baseline() == Cell("sleep", "serial", 1, "strong", "warm", "tiny", 5, 6, 2)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"scaling": "wide"}, "unknown scaling 'wide': choose from strong, weak"),
        ({"mode": "hot"}, "unknown mode 'hot': choose from warm, cold"),
        ({"control": True}, "a control cell times serial against serial: its model is serial"),
        ({"tasks": 0}, "tasks must be an integer of at least 1, got 0"),
        ({"workers": "2"}, "workers must be an integer of at least 1, got '2'"),
    ],
)
def test_cell_validation_states_the_rule(changes: dict[str, object], message: str) -> None:
    """Each field out of range is refused with the rule and the valid choices, in full."""
    cell = Cell(**{"workload": "count", "model": "threads", "workers": 1, **changes})
    with pytest.raises(ValueError) as info:
        cell.validate()
    assert str(info.value) == message


def test_valid_cells_pass_and_control_is_serial() -> None:
    """Fields at their least, unset sizes and a serial control are all valid."""
    Cell("count", "serial", 1, size=None, tasks=None, repeat=1, control=True).validate()
    Cell("count", "threads", 1, "weak", "cold", "tiny", 1, 1, 1).validate()


def test_checksum_is_a_short_digest_of_the_results_in_order() -> None:
    """Sixteen hex digits of the results' JSON; key order inside a result does not count."""
    assert checksum([1, 2]) == "3a316d6d3226f84c"
    assert checksum([2, 1]) != checksum([1, 2])
    assert checksum([{"a": 2, "b": 1}]) == checksum([{"b": 1, "a": 2}]) == "cd12743c81e70e9b"


def test_cell_fields_rebuild_the_cell() -> None:
    """A measuring child rebuilds exactly the cell from its plain fields."""
    cell = Cell("count", "threads", 3, "weak", "cold", "tiny", 2, 4, 6, False, False, 0.04, 9)
    fields = cell_fields(cell)
    assert fields["workers"] == 3 and fields["paired"] is False and len(fields) == 13
    assert fields["precision"] == 0.04 and fields["max_repeat"] == 9
    assert Cell(**fields) == cell


def test_compare_fills_speedup_only_for_two_ok_results_that_agree() -> None:
    """A failed side, or one without time, gives no speedup; agreeing checksums give one
    from the medians (unpaired), with efficiency against the ideal."""
    head = ("count", "threads", 2, "strong", "warm")
    serial = Result("count", "serial", 1, "strong", "warm", "ok", times=[2.0, 2.2], seconds=2.1)
    serial.checksum = "c"
    for status, seconds in [("failed", 1.0), ("ok", None)]:
        r = Result(*head, status, times=[1.0], seconds=seconds, checksum="c")
        r.compare(serial)
        assert r.speedup is None and r.serial_checksum == "" and r.status == status
    bad_serial = Result("count", "serial", 1, "strong", "warm", "failed", seconds=2.0)
    r = Result(*head, "ok", times=[1.0], seconds=1.0, checksum="d")
    r.compare(bad_serial)
    assert r.status == "ok" and r.speedup is None
    r.compare(serial)
    assert r.status == "mismatch" and r.reason == "checksum d differs from serial c"
    good = Result(*head, "ok", times=[1.0, 1.1], seconds=1.05, checksum="c", ideal=2)
    good.compare(serial)
    assert good.status == "ok" and good.serial_checksum == "c"
    assert good.speedup == pytest.approx(2.0) and good.efficiency == pytest.approx(1.0)
    assert good.interval and good.speedup_low is not None


def test_a_skipped_cell_still_says_what_it_would_have_run() -> None:
    """A model that cannot run gives 'skipped' with the cell, its plan and the conditions."""
    r = measure(Cell("numpy", "subinterpreters", 2, "weak", "warm", "tiny", 3, 2, 4))
    if r.status != "skipped":
        pytest.skip("subinterpreters run here")
    assert (r.workload, r.model, r.workers, r.scaling, r.mode) == (
        "numpy", "subinterpreters", 2, "weak", "warm",
    )  # fmt: skip
    assert (r.profile, r.task_units, r.tasks, r.repeat) == ("tiny", 3, 4, 4)
    assert r.gil == "releases" and r.control is False
    assert r.ideal == ideal_speedup(get_workload("numpy"), 2)
    assert r.python and r.cpu_count >= 1 and r.cpu_usable >= 1 and r.meta["python"] == r.python
    assert r.free_threaded is r.meta["free_threaded"] and r.times == [] and r.reason


def test_measure_summarises_its_rounds() -> None:
    """Seconds is the median, spread (max - min) / median, the checksums agree with serial,
    the ideal is that of the workload; serial is 1; an unpaired cell times no serial."""
    r = measure(Cell("count", "threads", 2, profile="tiny", repeat=3))
    assert r.status == "ok" and len(r.times) == len(r.serial_times) == 3
    assert r.seconds == sorted(r.times)[1]
    assert r.spread == pytest.approx((max(r.times) - min(r.times)) / r.seconds)
    assert r.checksum == r.serial_checksum and len(r.checksum) == 16
    assert r.ideal == ideal_speedup(get_workload("count"), 2) and r.workers_seen == 2
    assert r.start_method is None and r.rounds == 3
    serial = measure(Cell("count", "serial", 1, profile="tiny", repeat=2))
    assert serial.ideal == 1 and serial.serial_times == [] and serial.speedup is None
    unpaired = measure(Cell("count", "threads", 2, profile="tiny", repeat=2, paired=False))
    assert unpaired.serial_times == [] and unpaired.speedup is None and unpaired.rounds == 0
    cold = measure(Cell("count", "threads", 2, mode="cold", profile="tiny", repeat=2))
    assert cold.status == "ok" and len(cold.serial_times) == 2 and cold.workers_seen == 2


def test_strong_plan_counts_tasks_by_what_the_work_does() -> None:
    """CPU work starts from the profile's tasks, waiting work from its wait_tasks (both
    sized to the machine), unless told."""
    from gilcompare.settings import get_profile

    p = get_profile("standard")
    count, sleep = get_workload("count"), get_workload("sleep")
    assert len(plan(count, "strong", 1, "standard")) == strong_tasks(p.tasks, False)
    assert len(plan(sleep, "strong", 1, "standard")) == strong_tasks(p.wait_tasks, True)
    assert plan(get_workload("sleep"), "strong", 4, "standard", size=3, tasks=5) == [3] * 5


def test_a_result_ideal_counts_its_tasks() -> None:
    """Three waiting tasks on two workers: the busier worker waits twice, so the ideal is 1.5."""
    shape = {"profile": "tiny", "size": 1, "tasks": 3, "repeat": 1}
    r = measure(Cell(workload="sleep", model="threads", workers=2, **shape))
    assert r.status == "ok" and r.tasks == 3 and r.ideal == 1.5
