"""Tests for gilcompare.models: every available model gives the serial checksums."""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gilcompare.interpreters import discover
from gilcompare.measure.cells import checksum, plan
from gilcompare.measure.compare import package_path
from gilcompare.measure.services import local_peers
from gilcompare.models import (
    MODELS,
    MODELS_ENV,
    STANDARD_MODELS,
    ExecutorRunner,
    Runner,
    ThreadsModel,
    available_models,
    free_threaded_build,
    get_model,
    register,
    unregister,
    worker_info,
)
from gilcompare.workloads import DEFAULT_WORKLOADS, get_workload

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class NamedThreadsModel(ThreadsModel):
    """A model defined outside gilcompare: a thread pool whose threads carry a name."""

    def runner(self, workers: int) -> Runner:
        pool = cf.ThreadPoolExecutor(workers, thread_name_prefix="gilcompare-named")
        return ExecutorRunner(self, workers, pool)


# the one registry line: GILCOMPARE_MODELS=test_models:NAMED (and register() in this process)
NAMED = NamedThreadsModel(name="threads-named", summary="a thread pool with named threads")


@pytest.fixture
def named_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """NAMED in the registry of this process and, through GILCOMPARE_MODELS, of its children."""
    monkeypatch.setenv(MODELS_ENV, f"{__name__}:NAMED")
    path = [str(Path(__file__).parent), str(ROOT), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, path)))
    register(NAMED)
    try:
        yield NAMED.name
    finally:
        unregister(NAMED.name)


def _serial(name: str) -> str:
    w = get_workload(name)
    with get_model("serial").start(1) as runner:
        return checksum(runner.run_workload(w, plan(w, "strong", 2, "tiny")))


# CPython 3.13's free-threaded build is experimental: under dask's in-process cluster it
# segfaulted twice in about 600 passes over every workload here, in the bytecode loop of one
# of the worker threads (no extension module on its stack), and 3.14t never in 60. On 3.13t
# that crash gets one more try (with xdist, on a new worker); a wrong checksum or a crash
# anywhere else still fails.
CRASHES_ON_313T = pytest.mark.flaky(
    reruns=1, condition=sys.version_info[:2] == (3, 13) and free_threaded_build()
)


@pytest.mark.parametrize(
    "model",
    [
        pytest.param(m, marks=CRASHES_ON_313T) if m == "dask-threads" else m
        for m in MODELS
        if m != "serial"
    ],
)
def test_model_matches_serial_on_every_workload(model: str, no_orphans: None) -> None:
    """Each available model returns the serial checksum for every workload it can run."""
    m = get_model(model)
    if m.unavailable():
        pytest.skip(m.unavailable())
    for name in DEFAULT_WORKLOADS:
        w = get_workload(name)
        if m.cannot_run(w):
            continue
        with local_peers({w.service} if w.service else set()):
            expected = _serial(name)
            with m.start(2) as runner:
                infos = runner.warm(w)
                got = checksum(runner.run_workload(w, plan(w, "strong", 2, "tiny")))
        assert got == expected, f"{model} × {name}"
        if m.parallel_workers:
            assert len(infos) == 2, f"{model}: warm-up reached {len(infos)} workers"


@pytest.mark.parametrize("model", ["serial", "asyncio"])
def test_one_at_a_time_models_run_on_a_thread_of_their_own(model: str) -> None:
    """Serial and asyncio's loop run every task on one thread, the same for every call, and
    not the caller's: a baseline on the main thread would carry that thread's own speed."""
    import threading

    def where(_: int) -> int:
        return threading.get_ident()

    with get_model(model).start(1) as runner:
        first = runner.run(where, [1, 2, 3])
        second = runner.run(where, [4])
    assert len(set(first + second)) == 1
    assert first[0] != threading.get_ident()
    assert not any(t.ident == first[0] for t in threading.enumerate())  # closed with the runner


def test_availability_reasons() -> None:
    """Unavailable models say why; subinterpreters need 3.12+."""
    reason = get_model("subinterpreters").unavailable()
    if sys.version_info < (3, 12):
        assert reason == "subinterpreters with their own GIL require Python 3.12+"
    else:
        assert reason is None
    assert get_model("threads").unavailable() is None
    assert set(available_models()) >= {"serial", "threads", "asyncio"}


def test_subinterpreters_refuse_numpy_with_reason() -> None:
    """numpy cannot be imported in subinterpreters: the combination is refused with a reason."""
    assert "subinterpreter" in (
        get_model("subinterpreters").cannot_run(get_workload("numpy")) or ""
    )


def test_unknown_model_and_bad_workers() -> None:
    """Unknown names list the choices; fewer than one worker is refused."""
    with pytest.raises(ValueError, match="choose from serial, threads"):
        get_model("fibers")
    with pytest.raises(ValueError, match="at least 1"):
        get_model("threads").start(0)


def test_worker_info_reports_gil(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers report the GIL the interpreter says is on, and on where it cannot say (< 3.13)."""
    for said in (False, True):
        monkeypatch.setattr(sys, "_is_gil_enabled", lambda said=said: said, raising=False)
        assert worker_info()["gil_enabled"] is said
    monkeypatch.delattr(sys, "_is_gil_enabled", raising=False)
    assert worker_info()["gil_enabled"] is True


def test_worker_info_reports_gil_in_a_free_threaded_build() -> None:
    """A free-threaded build's workers run without the GIL, and with it under PYTHON_GIL=1."""
    free = [i for i in discover() if i.free_threaded]
    if not free:
        pytest.skip("no free-threaded Python on this machine")
    code = "from gilcompare.models.workers import worker_info; print(worker_info()['gil_enabled'])"
    with package_path() as path:
        for python_gil, expected in (("0", "False"), ("1", "True")):
            env = {**os.environ, "PYTHONPATH": path, "PYTHON_GIL": python_gil}
            run = subprocess.run(
                [free[-1].path, "-c", code], capture_output=True, text=True, env=env, timeout=60
            )
            assert run.stdout.strip() == expected, run.stderr


def test_workers_import_the_modules_gilcompare_import_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GILCOMPARE_IMPORT names modules each worker imports before reporting; a bad name fails."""
    from gilcompare.models import IMPORT_ENV

    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    monkeypatch.setenv(IMPORT_ENV, "colorsys, ")
    worker_info()
    assert "colorsys" in sys.modules
    monkeypatch.setenv(IMPORT_ENV, "gilcompare_no_such_module")
    with pytest.raises(ModuleNotFoundError):
        worker_info()


def test_gil_reenabled_note_only_for_a_free_threaded_build_with_the_gil_on() -> None:
    """The note appears when a free-threaded build's workers saw the GIL, and only then."""
    from types import SimpleNamespace as R

    from gilcompare.models import GIL_REENABLED_NOTE, gil_reenabled

    assert gil_reenabled([R(free_threaded=True, gil_enabled=True)]) == GIL_REENABLED_NOTE
    assert gil_reenabled([R(free_threaded=True, gil_enabled=False)]) is None
    assert gil_reenabled([R(free_threaded=False, gil_enabled=True)]) is None
    assert gil_reenabled([R(free_threaded=True, gil_enabled=None)]) is None


def test_a_model_from_outside_needs_no_other_edit(
    named_model: str, cli: object, tmp_path: Path, no_orphans: None
) -> None:
    """A model defined here and named in GILCOMPARE_MODELS is run, probed, in the asv grids'
    parameters and on the dashboard, with no edit to gilcompare."""
    from test_dashboard import _embedded, dashboard

    from gilcompare.cli import probe
    from gilcompare.probes import start, stop, transfer

    assert named_model in STANDARD_MODELS and named_model in available_models()
    assert named_model in probe.DEFAULT_MODELS  # the probes' default models, as `run`'s
    # `gilcompare run` (its cells run in isolated children, which load the model by name)
    out = cli(  # type: ignore[operator]
        "run",
        "--model",
        named_model,
        "--workload",
        "count",
        "--workers",
        "2",
        "--profile",
        "tiny",
        "--repeat",
        "1",
        "--json",
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    rows = [r for r in json.loads(out.stdout) if r["model"] == named_model]
    assert rows and all(r["status"] == "ok" and r["speedup"] > 0 for r in rows), rows
    assert all(r["meta"]["env"][MODELS_ENV] == f"{__name__}:NAMED" for r in rows)  # recorded
    listed = json.loads(cli("models", "--json").stdout)  # type: ignore[operator]
    assert {"model": named_model, "kind": "threads"}.items() <= listed[-1].items()
    # the probes: its threads share the payload, stop at an event, start cold
    assert transfer.methods_for(named_model) == ["shared"]
    assert stop.methods_for(named_model) == ["event"]
    records = [
        start.probe_start(named_model, 2, repeat=1),
        stop.probe_stop(named_model, 2, "event", repeat=1),
        transfer.probe_transfer(named_model, 2, "shared", 1000, repeat=1),
    ]
    assert [(r.status, r.reason) for r in records] == [("ok", "")] * 3
    assert transfer.not_applicable(named_model, "pickle") is not None
    # asv imports benchmarks/ in a process of its own
    code = (
        "import json; from benchmarks import cpu, probes\n"
        "print(json.dumps([list(cpu.WarmSpot.params[1]), probes.START_MODELS]))"
    )
    asv = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert asv.returncode == 0, asv.stderr
    assert all(named_model in params for params in json.loads(asv.stdout)), asv.stdout
    # the dashboard: its results become a column beside the others, serial the A/A row
    results = tmp_path / "results"
    shutil.copytree(ROOT / "results", results)
    for path in results.glob("*/*.json"):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("'threads'", f"'{named_model}'"), encoding="utf-8")
    page, _ = dashboard.build(tmp_path / "html", results)
    data = _embedded(page)
    builds = [b for m in data["machines"].values() for b in m["builds"].values()]
    models = {c["model"] for b in builds for c in b["scaling"]}
    assert named_model in models and "threads" not in models and data["baseline"] == "serial"


@pytest.mark.parametrize(
    "value, says",
    [
        ("nonsense", "expected module:object"),
        ("gilcompare_no_such_module:M", "No module named 'gilcompare_no_such_module'"),
        ("os:path", "a model must be a gilcompare.models.Model, got module"),
        ("test_models:NOPE", "has no attribute 'NOPE'"),
    ],
)
def test_a_bad_model_reference_is_one_line(
    value: str, says: str, cli: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A GILCOMPARE_MODELS entry that names no model stops the command with one line, exit 2."""
    monkeypatch.setenv(MODELS_ENV, value)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(Path(__file__).parent), str(ROOT)]))
    out = cli("models")  # type: ignore[operator]
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert "GILCOMPARE_MODELS names models as module:object" in out.stderr and says in out.stderr


def test_register_refuses_a_taken_name_and_what_is_not_a_model() -> None:
    """A second model under a name in use, or an object that is not a Model, is refused."""
    with pytest.raises(ValueError, match="'threads' is already registered"):
        register(ThreadsModel(name="threads", summary="another"))
    with pytest.raises(TypeError, match="must be a gilcompare.models.Model"):
        register(object())  # type: ignore[arg-type]
    assert get_model("threads").summary == "concurrent.futures.ThreadPoolExecutor"
