"""Tests for gilcompare.models: every available model gives the serial checksums."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gilcompare.interpreters import discover
from gilcompare.measure.cells import checksum, plan
from gilcompare.measure.compare import package_path
from gilcompare.measure.services import local_peers
from gilcompare.models import MODELS, available_models, get_model, worker_info
from gilcompare.workloads import DEFAULT_WORKLOADS, get_workload


def _serial(name: str) -> str:
    w = get_workload(name)
    with get_model("serial").start(1) as runner:
        return checksum(runner.run_workload(w, plan(w, "strong", 2, "tiny")))


@pytest.mark.parametrize("model", [m for m in MODELS if m != "serial"])
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
