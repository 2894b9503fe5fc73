"""Tests for the asv suite: benchmarks/ and what it runs in gilcompare.asv."""

from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace

import psutil
import pytest

from gilcompare.asv import bench, grids, machine, pools, suite
from gilcompare.measure import sizing
from gilcompare.settings import (
    DEFAULT_ROUNDS,
    DEFAULT_WORKERS,
    PROFILES,
    SETUP_CACHE_TIMEOUT,
    SPOT_REPEAT,
    TIME_ROUNDS,
    Profile,
)
from gilcompare.workloads import DEFAULT_WORKLOADS, get_workload

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(p.stem for p in (ROOT / "benchmarks").glob("*.py") if p.stem != "__init__")
FAMILIES = ("cpu", "native", "io_bound", "locks_alloc")  # one module per workload family
BENCHMARK_PREFIXES = ("time_", "timeraw_", "track_")
# multiprocessing's helpers live as long as the process that started them (the test process)
MP_HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver", "loky.backend")


@pytest.fixture
def benchmarks(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, ModuleType]]:
    """Every benchmark module, imported as asv imports them (package ``benchmarks``)."""
    monkeypatch.syspath_prepend(str(ROOT))
    yield {name: importlib.import_module(f"benchmarks.{name}") for name in MODULES}


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    """Benchmarks run the tiny profile (1-unit tasks) instead of the asv one."""
    monkeypatch.setattr(pools, "ASV_PROFILE", "tiny")
    monkeypatch.setattr(grids, "ASV_PROFILE", "tiny")


@pytest.fixture
def naps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Grids run 8 tasks of 10 ms (sleep: 10 ms naps), not the tiny profile's 1 ms: a thread
    waking on a loaded host (the other test worker busy) waits a millisecond or two for a
    core, which 1 ms tasks cannot absorb and 10 ms ones can."""
    profile = Profile(name="naps", task_units=10, tasks=8, wait_tasks=8, weak_tasks_per_worker=1)
    monkeypatch.setitem(PROFILES, profile.name, profile)
    monkeypatch.setattr(grids, "ASV_PROFILE", profile.name)


def _classes(module: ModuleType) -> list[type]:
    return [
        obj
        for name, obj in vars(module).items()
        if inspect.isclass(obj) and any(a.startswith(BENCHMARK_PREFIXES) for a in dir(obj))
    ]


def _children() -> list[psutil.Process]:
    """This process's descendants, other than multiprocessing's long-lived helpers."""
    alive = []
    for proc in psutil.Process().children(recursive=True):
        try:
            if not any(h in " ".join(proc.cmdline()) for h in MP_HELPERS):
                alive.append(proc)
        except psutil.Error:
            continue
    return alive


def test_every_module_imports_and_declares_benchmarks(
    benchmarks: dict[str, ModuleType],
) -> None:
    """Each module imports, has benchmark classes, and every params matches its names."""
    assert set(MODULES) >= set(FAMILIES)
    for module in benchmarks.values():
        classes = _classes(module)
        assert classes, module.__name__
        for cls in classes:
            params, names = getattr(cls, "params", []), getattr(cls, "param_names", [])
            assert len(params) == len(names), cls
            assert all(len(values) > 0 for values in params), cls
    for cls in (cls for name in FAMILIES for cls in _classes(benchmarks[name])):
        spot = issubclass(cls, (bench.Warm, bench.Serial))  # cheap samples: two per pass
        assert (cls.repeat, cls.warmup_time) == (SPOT_REPEAT if spot else 1, 0), cls
        assert cls.version == suite.VERSION, cls


def _timed(cls: type) -> bool:
    return any(name.startswith(("time_", "timeraw_")) for name in dir(cls))


def test_timed_benchmarks_sample_over_passes_and_tracks_take_one(
    benchmarks: dict[str, ModuleType],
) -> None:
    """asv's time_*/timeraw_* samples come from TIME_ROUNDS passes over the environments
    (nox -s bench interleaves them), so a slow stretch of the host lands on one; a track
    takes one pass: asv runs a setup_cache once per environment and pass, so a track class
    with more passes would measure its whole grid again in each."""
    timed = set()
    for module in benchmarks.values():
        for cls in _classes(module):
            rounds = getattr(cls, "rounds", getattr(module, "rounds", 1))
            if _timed(cls):
                timed.add(f"{module.__name__.rsplit('.', 1)[-1]}.{cls.__name__}")
                assert rounds == TIME_ROUNDS > 1, cls
            else:
                assert rounds == 1, cls
    assert {"cpu.Serial", "cpu.WarmSpot", "cpu.Cold", "probes.ColdStart"} <= timed


def test_bench_interleaves_the_passes() -> None:
    """nox -s bench asks asv for one pass over every environment before the next."""
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    bench_session = next(
        n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "bench"
    )
    assert "--interleave-rounds" in ast.unparse(bench_session)


def test_bench_keeps_every_sample() -> None:
    """nox -s bench keeps the time_* samples of every pass, not only asv's median of them."""
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    bench_session = next(
        n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "bench"
    )
    assert "--record-samples" in ast.unparse(bench_session)


def test_bench_reads_the_hosts_speed_before_and_after_the_run() -> None:
    """nox -s bench warns before it starts on a host unlike the last run's, and records the
    host's speed before and after in the run's provenance."""
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    found = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "_provenance")
    source = ast.unparse(found)
    assert "_speed.preflight(" in source and "_last_run(" in source
    assert "'speed_before': speed" in source and "'speed_after': _host_speed(" in source


def test_bench_can_refuse_a_host_its_preflight_warns_about() -> None:
    """With GILCOMPARE_REQUIRE_STEADY_HOST set, a preflight warning (or a host whose speed
    could not be read) stops nox -s bench before asv starts, instead of a warning."""
    text = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    assert 'STEADY_ENV = "GILCOMPARE_REQUIRE_STEADY_HOST"' in text
    found = next(
        n
        for n in ast.parse(text).body
        if isinstance(n, ast.FunctionDef) and n.name == "_provenance"
    )
    source = ast.unparse(found)
    refusal = source.index("session.error(")
    assert source.index("os.environ.get(STEADY_ENV") < refusal < source.index("yield commit")
    assert "if speed is None:" in source


def _setup_caches_in_source() -> set[tuple[str, str, int]]:
    """(module, class, first line) of every setup_cache written in a class body, read from
    the source files: the caches asv will key by where they are."""
    found = set()
    for name in MODULES:
        tree = ast.parse((ROOT / "benchmarks" / f"{name}.py").read_text(encoding="utf-8"))
        for node in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "setup_cache":
                    first = min([item.lineno, *(d.lineno for d in item.decorator_list)])
                    found.add((f"benchmarks.{name}", node.name, first))
    return found


def _reads_a_cache(cls: type) -> bool:
    """asv passes a setup_cache's value before the parameters: the class's benchmarks then
    take one argument more than it has parameters."""
    width = len(getattr(cls, "param_names", []))
    methods = [getattr(cls, a) for a in dir(cls) if a.startswith(BENCHMARK_PREFIXES)]
    takes = {len(inspect.signature(m).parameters) - 1 for m in methods}
    assert takes <= {width, width + 1}, cls
    return takes == {width + 1}


def test_every_setup_cache_is_its_own(benchmarks: dict[str, ModuleType]) -> None:
    """asv keys a setup_cache by the module and line defining it: an inherited one would
    hand one family's grid to another, so each class whose benchmarks read a cache wrote
    its own in its body."""
    seen, readers = set(), set()
    for module in benchmarks.values():
        for cls in _classes(module):
            if _reads_a_cache(cls):
                readers.add((module.__name__, cls.__name__))
            cache = getattr(cls, "setup_cache", None)
            if cache is not None:
                seen.add((module.__name__, cls.__name__, cache.__code__.co_firstlineno))
                assert cache.timeout == SETUP_CACHE_TIMEOUT, cls
    written = _setup_caches_in_source()
    assert seen == written
    assert {(module, cls) for module, cls, _ in written} == readers


def test_version_names_what_is_measured() -> None:
    """The benchmarks' version changes with the units or the profile, not with the code."""
    assert suite.VERSION == "units1-asv-30x8-wait8"


def test_every_workload_has_a_serial_baseline_and_a_warm_benchmark(
    benchmarks: dict[str, ModuleType],
) -> None:
    """All default workloads appear, each with serial and parallel times: a grid's from its
    rounds (Scaling's time tracks), the spot's from Serial and WarmSpot, never both."""
    serial, warm, grid = set(), set(), set()
    for module in map(benchmarks.get, FAMILIES):
        serial.update(module.Serial.params[0])
        warm.update(module.WarmSpot.params[0])
        grid.update(getattr(module, "GRID_WORKLOADS", []))
        assert not hasattr(module, "Warm"), module
    assert serial == warm == set(DEFAULT_WORKLOADS) - grid
    assert grid == {"count", "sha256", "sleep", "http"}


def test_headline_grids_cover_every_worker_count(benchmarks: dict[str, ModuleType]) -> None:
    """count, sha256, sleep and http scale every grid model over every worker count, which
    the rounds also time."""
    grid = {w for module in benchmarks.values() for w in getattr(module, "GRID_WORKLOADS", [])}
    assert grid == {"count", "sha256", "sleep", "http"}
    for name in ("cpu", "native", "io_bound"):
        module = benchmarks[name]
        models = list(module.Scaling.params[1])
        if name == "cpu":  # the A/A control rides with count
            assert models.pop(0) == suite.CONTROL == "serial"
        assert models == list(suite.GRID_MODELS)
        waits = name == "io_bound"  # sleep and http: the waiting grid
        assert tuple(module.Scaling.params[2]) == suite.worker_parameters(waits=waits).workers
        spot = suite.worker_parameters(waits=waits).spot_workers
        assert tuple(module.WarmSpot.params[2]) == spot
        assert set(spot) <= set(module.Scaling.params[2])
    assert "serial" not in suite.GRID_MODELS and "processes-spawn" in suite.COLD_MODELS
    assert set(suite.SPOT_MODELS) | set(suite.WARM_ALIKE) == set(suite.COLD_MODELS)
    assert set(suite.COLD_RUN_MODELS) <= set(suite.COLD_MODELS)


def test_each_family_grid_runs_its_rounds_unless_told(
    benchmarks: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pure-Python cells get the most rounds, C and waiting ones three; GILCOMPARE_ROUNDS
    overrides them all (nox -s bench_quick's single round). Only waiting work shares one
    serial run per round among its cells."""
    rounds_run, pairing = {}, {}

    def fake_visit(cell: grids.GridResult, round_: int, paired: bool = True) -> None:
        rounds_run[cell.workload], pairing[cell.workload] = round_ + 1, paired
        cell.times.append(1.0)
        if paired:
            cell.serial_times.append(1.0)

    monkeypatch.setattr(grids, "visit", fake_visit)
    monkeypatch.setattr(grids, "reference_round", lambda workload, round_: 1.0)
    monkeypatch.setattr(grids, "local_peers", lambda services: contextlib.nullcontext())
    monkeypatch.delenv("GILCOMPARE_ROUNDS", raising=False)
    measured = {
        name: benchmarks[name].Scaling().setup_cache() for name in ("cpu", "native", "io_bound")
    }
    assert rounds_run == {"count": 5, "sha256": 3, "sleep": 3, "http": 3}
    assert pairing == {"count": True, "sha256": True, "sleep": False, "http": False}
    assert measured["cpu"].cell("count", "threads", 2).speedup == 1.0
    assert measured["io_bound"].cell("http", "threads", 2).speedup == 1.0
    monkeypatch.setenv("GILCOMPARE_ROUNDS", "1")
    benchmarks["cpu"].Scaling().setup_cache()
    assert rounds_run["count"] == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1,2", (1, 2)), ("8", (8,)), (" 4, 1 ,4 ", (1, 4)), ("1,2,4,8", (1, 2, 4, 8))],
)
def test_parse_workers_accepts_lists(text: str, expected: tuple[int, ...]) -> None:
    """Comma-separated positive counts are sorted and deduplicated."""
    assert suite.parse_workers(text) == expected


@pytest.mark.parametrize("text", ["x", "0", "1,,2", "-1", "1.5", "2 4", "1;2", ","])
def test_parse_workers_rejects_other_values(text: str) -> None:
    """Anything else fails with one line naming the variable and the expected form."""
    with pytest.raises(ValueError) as excinfo:
        suite.parse_workers(text)
    message = str(excinfo.value)
    assert "\n" not in message
    assert message.startswith("GILCOMPARE_WORKERS must be a comma-separated list")
    assert "'1,2,4,8'" in message and repr(text) in message


def test_worker_counts_default_and_bad_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset or blank means the machine's grid (1, 2, 4, 8 on two CPUs, 1 and 2 for CPU work
    on one); a bad value exits with the one-line message."""
    monkeypatch.setattr(sizing, "usable_cpus", lambda: 2)
    assert suite.worker_counts({}) == tuple(DEFAULT_WORKERS) == (1, 2, 4, 8)
    assert suite.worker_counts({"GILCOMPARE_WORKERS": " "}) == (1, 2, 4, 8)
    monkeypatch.setattr(sizing, "usable_cpus", lambda: 1)
    assert suite.worker_counts({}) == (1, 2)
    assert suite.worker_counts({}, waits=True) == (1, 2, 4, 8)
    assert suite.worker_parameters({}) == ((1, 2), (1,))
    assert suite.worker_counts({"GILCOMPARE_WORKERS": "2,1"}) == (1, 2)
    with pytest.raises(SystemExit, match="^GILCOMPARE_WORKERS must be .*got 'two'$"):
        suite.worker_counts({"GILCOMPARE_WORKERS": "two"})


def test_scaling_rounds_default_and_bad_value() -> None:
    """Unset means the grid's default (5 unless it says); a positive whole number overrides
    it; anything else is one line."""
    assert suite.scaling_rounds({}) == DEFAULT_ROUNDS == 5
    assert suite.scaling_rounds({}, default=9) == 9
    assert suite.scaling_rounds({"GILCOMPARE_ROUNDS": " 1 "}, default=9) == 1
    for bad in ("0", "-1", "two", "1.5", "1,2"):
        with pytest.raises(SystemExit, match=r"^GILCOMPARE_ROUNDS must be .*got '.+'$"):
            suite.scaling_rounds({"GILCOMPARE_ROUNDS": bad})


def _import_cpu(workers: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import benchmarks.cpu as m; print(list(m.Scaling.params[2]), list(m.WarmSpot.params[2]))"
    )
    # the child sees the CPUs this process does (affinity and cgroup are inherited)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "GILCOMPARE_WORKERS": workers},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(("workers", "grid"), [("4,1", [1, 4]), ("8,2", [2, 8]), ("3", [3])])
def test_workers_env_sets_the_grids_when_asv_imports_the_suite(
    workers: str, grid: list[int]
) -> None:
    """GILCOMPARE_WORKERS sets the grid; the spot count is the usable CPUs when the grid has
    them, else its smallest count."""
    result = _import_cpu(workers)
    assert result.returncode == 0, result.stderr
    cpus = sizing.spot_workers()
    spot = [cpus] if cpus in grid else grid[:1]
    assert result.stdout.strip().splitlines() == [f"{grid} {spot}"]


def test_bad_workers_env_stops_the_import_in_one_line() -> None:
    """A bad GILCOMPARE_WORKERS ends asv's import of the suite with the rule, not a traceback."""
    bad = _import_cpu("1,2,many")
    assert bad.returncode != 0
    assert bad.stderr.strip().splitlines() == [
        "GILCOMPARE_WORKERS must be a comma-separated list of worker counts from 1 to 1024, "
        "such as '1,2,4,8'; got '1,2,many'"
    ]


def test_warm_benchmark_leaves_no_child_process(
    benchmarks: dict[str, ModuleType], tiny: None
) -> None:
    """setup starts the HTTP server and two fork workers; teardown leaves no child behind
    (the class every WarmSpot is, on a workload with a server of its own)."""
    warm = bench.Warm()
    params = ("http", "processes-fork", 2)
    before = {p.pid for p in _children()}
    warm.setup(*params)
    try:
        assert len({p.pid for p in _children()} - before) >= 3  # server + 2 workers
        warm.time_tasks(*params)
        warm.time_tasks(*params)
    finally:
        warm.teardown(*params)
    gone, alive = psutil.wait_procs(_children(), timeout=5)
    assert alive == []


def test_setup_skips_a_model_that_cannot_run(benchmarks: dict[str, ModuleType], tiny: None) -> None:
    """numpy cannot run in subinterpreters: setup raises NotImplementedError, asv's skip,
    and the teardown asv still calls afterwards is harmless."""
    bench = benchmarks["native"].WarmSpot()
    params = ("numpy", "subinterpreters", suite.worker_parameters().spot_workers[0])
    with pytest.raises(NotImplementedError):
        bench.setup(*params)
    bench.teardown(*params)
    grid = grids.gil_grid(["numpy"], ["subinterpreters"], [2])
    with pytest.raises(NotImplementedError):
        grid.cell("numpy", "subinterpreters", 2)


def test_scaling_grid_reports_speedup_efficiency_and_gil(
    naps: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Waiting work on 4 threads beats 1; each speedup is the median of its rounds' ratios;
    the GIL verdict is what the workers' interpreter says (threads share this one)."""
    monkeypatch.delenv("GILCOMPARE_ROUNDS", raising=False)
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: False, raising=False)
    grid = grids.scaling_grid(["sleep"], ["threads"], [1, 4], rounds=3)
    one, four = grid.cell("sleep", "threads", 1), grid.cell("sleep", "threads", 4)
    for cell in (one, four):
        assert len(cell.times) == len(cell.serial_times) == 3
        assert cell.efficiency == pytest.approx(cell.speedup / cell.workers, abs=1e-3)
        assert cell.gil_enabled is False
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: True, raising=False)
    on = grids.scaling_grid(["sleep"], ["threads"], [2], rounds=1).cell("sleep", "threads", 2)
    assert on.gil_enabled is True
    ratios = [s / m for s, m in zip(four.serial_times, four.times)]
    assert four.speedup == pytest.approx(statistics.median(ratios), abs=1e-3)
    assert four.speedup > 1.5 * one.speedup


def test_scaling_grid_times_serial_against_itself_as_a_control(
    naps: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The A/A cell pairs serial with serial: ideal 1 at any worker count, efficiency equal
    to its speedup, and a speedup near 1 for waiting work, whose times barely move."""
    monkeypatch.delenv("GILCOMPARE_ROUNDS", raising=False)
    grid = grids.scaling_grid(["sleep"], [suite.CONTROL, "threads"], [4], rounds=3)
    control, threads = grid.cell("sleep", "serial", 4), grid.cell("sleep", "threads", 4)
    assert control.ideal == 1 and threads.ideal == 4
    assert len(control.times) == len(control.serial_times) == 3
    assert control.efficiency == control.speedup
    # the bounds say "a ratio near 1, below what four threads reach", not how quiet the
    # host was
    assert 0.5 < control.speedup < 2.0 and threads.speedup > control.speedup


def test_waiting_grid_shares_one_serial_run_per_workload_and_round(
    naps: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a shared reference each round times serial once per workload, on the other side
    of the cells on odd rounds, and every cell of that workload divides by it; when that
    serial run fails, the workload's cells fail with its reason and the others go on."""
    monkeypatch.delenv("GILCOMPARE_ROUNDS", raising=False)
    order: list[tuple[str, int]] = []
    real_reference, real_visit = grids.reference_round, grids.visit

    def reference(workload: str, round_: int) -> float:
        order.append(("serial", round_))
        return real_reference(workload, round_)

    def visit(cell: grids.GridResult, round_: int, paired: bool = True) -> None:
        assert not paired
        order.append((cell.model, round_))
        real_visit(cell, round_, paired)

    monkeypatch.setattr(grids, "reference_round", reference)
    monkeypatch.setattr(grids, "visit", visit)
    grid = grids.scaling_grid(["sleep"], ["threads"], [1, 4], rounds=2, shared_reference=True)
    assert order == [("threads", 0), ("threads", 0), ("serial", 0)] + [
        ("serial", 1),
        ("threads", 1),
        ("threads", 1),
    ]
    one, four = grid.cell("sleep", "threads", 1), grid.cell("sleep", "threads", 4)
    assert one.serial_times == four.serial_times and len(four.times) == 2
    assert four.speedup == pytest.approx(
        statistics.median(s / m for s, m in zip(four.serial_times, four.times)), abs=1e-3
    )
    assert four.speedup > 2 * one.speedup

    def broken(workload: str, round_: int) -> float:
        if workload == "sleep":
            raise OSError("the serial run broke")
        return real_reference(workload, round_)

    monkeypatch.setattr(grids, "reference_round", broken)
    grid = grids.scaling_grid(["sleep", "count"], ["threads"], [2], rounds=1, shared_reference=True)
    with pytest.raises(RuntimeError, match="OSError: the serial run broke"):
        grid.cell("sleep", "threads", 2)
    assert grid.cell("count", "threads", 2).speedup > 0


def test_scaling_grid_marks_skipped_and_failed_cells(
    tiny: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model that cannot run is skipped with its reason; a failing cell fails with its
    reason while the others are still measured; a wrong answer fails its cell."""
    numpy = grids.scaling_grid(["numpy"], ["subinterpreters"], [2])
    with pytest.raises(NotImplementedError, match="subinterpreters|numpy"):
        numpy.cell("numpy", "subinterpreters", 2)

    real_visit = grids.visit

    def broken_at_two(cell: grids.GridResult, round_: int, paired: bool = True) -> None:
        if cell.workers == 2:
            raise OSError("no more processes")
        real_visit(cell, round_, paired)

    monkeypatch.setattr(grids, "visit", broken_at_two)
    grid = grids.scaling_grid(["count"], ["threads"], [1, 2])
    with pytest.raises(RuntimeError, match="OSError: no more processes"):
        grid.cell("count", "threads", 2)
    assert grid.cell("count", "threads", 1).speedup > 0

    monkeypatch.setattr(grids, "visit", real_visit)
    monkeypatch.setattr(grids, "serial_results", lambda workload, sizes: [0] * len(sizes))
    wrong = grids.scaling_grid(["count"], ["threads"], [2])
    with pytest.raises(RuntimeError, match="a fast wrong answer is not a result"):
        wrong.cell("count", "threads", 2)


def test_cold_run_times_a_fresh_pool_and_checks_results(tiny: None) -> None:
    """The cold statement starts, runs and stops a pool, and rejects a wrong answer."""
    cold = pools.ColdRun("count", "threads", 2)
    cold.start()
    try:
        stmt, setup = cold.code()
        namespace: dict[str, object] = {}
        exec(setup, namespace)
        assert stmt == "run()"
        assert namespace["run"]() == cold.expected
    finally:
        cold.close()
    wrong = json.dumps([0] * len(cold.expected))
    with pytest.raises(RuntimeError, match="a fast wrong answer is not a result"):
        pools.cold_run("count", "threads", 2, "tiny", wrong)()


def test_warm_pool_rejects_results_that_differ_from_serial(tiny: None) -> None:
    """A run whose results differ from the serial ones fails instead of being timed."""
    pool = pools.WarmPool("count", "threads", 2)
    pool.start()
    try:
        pool.expected = [get_workload("count").fn(2)] * len(pool.sizes)
        with pytest.raises(RuntimeError, match="differ from serial"):
            pool.run()
    finally:
        pool.close()


def test_parallel_capacity_is_a_speedup_of_two_processes_over_one() -> None:
    """Two fork workers against one: about 2 on two idle cores; 5 ms tasks on a loaded host
    stray far, but a ratio of two timings is positive and finite, never 0 or wild."""
    assert 0.25 < machine.parallel_capacity(units=5, pairs=3, processes=2) < 4.0


@pytest.mark.parametrize(("cores", "usable", "processes"), [(1, 1, 2), (2, 2, 2), (4, 4, 4)])
def test_parallel_capacity_is_measured_at_the_machines_size(
    monkeypatch: pytest.MonkeyPatch, cores: int, usable: int, processes: int
) -> None:
    """On a clock where a task takes 1 s and `cores` tasks run at once, as many workers as
    the usable CPUs (at least two) finish `cores` times the work of one: capacity 2.0 on two
    cores, 1.0 on one, 4.0 on four."""
    now = [0.0]

    class Pool:
        def __enter__(self) -> Pool:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def warm(self, workload: object) -> None:
            now[0] += 100.0  # start-up is not timed

        def run(self, fn: object, sizes: list[int]) -> None:
            now[0] += -(-len(sizes) // cores)  # rounds of `cores` tasks at a time

    class Model:
        def cannot_run(self, workload: object) -> None:
            return None

        def start(self, workers: int) -> Pool:
            assert workers == processes
            return Pool()

    from gilcompare.measure import gauge, paired

    monkeypatch.setattr(machine, "capacity_processes", lambda: max(2, usable))
    monkeypatch.setattr(gauge, "get_model", lambda name: Model())
    monkeypatch.setattr(paired, "time", SimpleNamespace(perf_counter=lambda: now[0]))
    assert machine.parallel_capacity(units=5, pairs=3) == pytest.approx(float(cores))


def test_a_timed_grid_gives_each_cells_median_times() -> None:
    """A grid's absolute times are its rounds: the median of the model's runs and of the
    serial runs it was divided by; a skipped cell is asv's skip."""
    grid = grids.Grid()
    grid.add(
        grids.GridResult(
            "shared_method", "threads", 2, serial_times=[0.4, 0.5, 0.9], times=[1.0, 0.8, 3.0]
        )
    )
    grid.add(grids.GridResult("shared_method", "subinterpreters", 2, status="skipped"))
    timed = bench.Scaling()
    timed.setup(grid, "shared_method", "threads", 2)
    assert timed.track_model_time(grid, "shared_method", "threads", 2) == 1.0
    assert timed.track_serial_time(grid, "shared_method", "threads", 2) == 0.5
    with pytest.raises(NotImplementedError):
        timed.setup(grid, "shared_method", "subinterpreters", 2)
