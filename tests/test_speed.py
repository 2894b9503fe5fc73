"""Tests for gilcompare.measure.speed: the host's speed as a run reads it before and after
itself, and when two readings say the host changed."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import pytest

from gilcompare.measure import speed
from gilcompare.measure.builds import usable_cpus


@pytest.mark.alone  # a neighbouring test would take the CPUs the copies count
def test_host_speed_reads_the_loop_alone_and_one_copy_per_cpu_at_once() -> None:
    """The reading runs in the interpreter it names, and capacity counts copies of it: above
    zero and at most about one per CPU it ran on."""
    found = speed.host_speed(usable_cpus(), sys.executable)
    assert found["python"] == platform.python_version()
    assert found["cpus"] == usable_cpus()
    assert isinstance(found["loop_s"], float) and found["loop_s"] > 0
    assert 0 < found["capacity"] <= 1.5 * found["cpus"]


def test_a_failing_reference_loop_is_an_error_not_a_reading(tmp_path: Path) -> None:
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(ValueError, match="reference loop failed"):
        speed.host_speed(2, str(broken))


def test_times_compare_only_on_a_host_as_fast_as_before() -> None:
    before = {"python": "3.11.7", "loop_s": 0.050}
    assert speed.speed_change(before, {**before, "loop_s": 0.055}) == pytest.approx(1.1)
    assert speed.speed_change(before, {"python": "3.12.1", "loop_s": 0.05}) is None
    assert speed.speed_change({}, before) is None
    assert speed.host_changed(before, {**before, "loop_s": 0.054}) is None
    slower = speed.host_changed(before, {**before, "loop_s": 0.080})
    assert slower is not None and "(1.60×)" in slower
    assert speed.host_changed(before, {**before, "loop_s": 0.040}) is not None


def test_preflight_warns_of_a_noisy_or_changed_host() -> None:
    """Before a long run: a host lending under 80 % of its CPUs, or running the loop more
    than 10 % slower or faster than before the last run filed under the same name."""
    quiet = {"python": "3.11.7", "loop_s": 0.050, "capacity": 1.9, "cpus": 2}
    last = {"commit": "c7a488b1" + "0" * 32, "speed_before": quiet}
    assert speed.preflight(quiet, last, "box") == []
    assert speed.preflight(quiet, None, "box") == []
    busy = {**quiet, "capacity": 1.3}
    (warning,) = speed.preflight(busy, last, "box")
    assert warning.startswith("noisy host: it ran 1.30 copies")
    slow = {**quiet, "loop_s": 0.080}
    (warning,) = speed.preflight(slow, last, "box")
    assert warning.startswith("against the last run filed under box (c7a488b1): the host ran")
