"""Tests for asv.conf.json: what asv is told about the suite."""

from __future__ import annotations

import json
import re
from pathlib import Path

CONF = json.loads((Path(__file__).resolve().parent.parent / "asv.conf.json").read_text())


def _regression_search(entry: str) -> bool:
    """Whether asv publish looks for regressions in a benchmark entry (asv's rule: the first
    regex of regressions_first_commits that matches, with null, turns the search off)."""
    for regex, first in CONF.get("regressions_first_commits", {}).items():
        if re.match(regex, entry):
            return first is not None
    return True


def test_a_speedup_gain_is_never_a_regression() -> None:
    """asv calls a higher value a regression; for the tracks (speedup, efficiency, capacity,
    GIL status) higher is not worse, so the site searches only the times, a grid's included."""
    for entry in (
        "cpu.Scaling.track_speedup('count', 'threads', 2)",
        "native.Scaling.track_efficiency('sha256', 'processes-fork', 2)",
        "cpu.Machine.track_parallel_capacity",
        "cpu.Gil.track_gil_enabled('count', 'threads', 2)",
    ):
        assert not _regression_search(entry), entry
    for entry in (
        "cpu.WarmSpot.time_tasks('fib', 'threads', 2)",
        "cpu.Cold.timeraw_start_run_stop",
        "cpu.Scaling.track_model_time('count', 'threads', 2)",
        "shared_objects.Scaling.track_serial_time('new_objects', 'threads', 2)",
    ):
        assert _regression_search(entry), entry


def test_every_build_of_the_thirteen_environments_is_asked_for() -> None:
    """3.9-3.15 and the three free-threaded builds; their PYTHON_GIL=1 twins come from the
    matrix, which excludes the builds that have the GIL anyway."""
    assert CONF["pythons"] == [
        "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15", "3.13t", "3.14t", "3.15t"
    ]  # fmt: skip
    assert CONF["matrix"]["env_nobuild"]["PYTHON_GIL"] == ["", "1"]
    gil_builds = [p for p in CONF["pythons"] if not p.endswith("t")]
    (rule,) = CONF["exclude"]
    assert all(re.match(rule["python"], p) for p in gil_builds)
    assert not any(re.match(rule["python"], p) for p in CONF["pythons"] if p.endswith("t"))
