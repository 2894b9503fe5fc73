"""Tests for gilcompare.api: bench_func measures a function of the user's with the CLI's
engine and isolation and returns its records."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import gilcompare
from gilcompare.api import bench_func, spec_of
from gilcompare.workloads import user
from gilcompare.workloads.cpu import count

ROOT = Path(__file__).resolve().parent.parent


def test_spec_of_names_a_function_as_workers_find_it() -> None:
    """A function by module and qualname, a name as given; a lambda or a nested function
    is refused with the rule."""
    assert spec_of(count) == "gilcompare.workloads.cpu:count"
    assert spec_of("examples/hashing.py:digest") == "examples/hashing.py:digest"
    with pytest.raises(user.UserWorkloadError, match="not a top-level function"):
        spec_of(lambda units: units)

    def nested(units: int) -> int:
        return units

    with pytest.raises(user.UserWorkloadError, match="not a top-level function"):
        spec_of(nested)


def test_bench_func_returns_the_cli_records(no_orphans: None) -> None:
    """A function object, two models, tiny sizes: serial and each model's record, ok, with
    the serial checksum and a speedup; the package exports the call."""
    assert gilcompare.bench_func is bench_func
    results = bench_func(
        count, ["threads", "processes-fork"], [2], units=1, tasks=2, repeat=2, timeout=120
    )
    assert [(r.model, r.workers) for r in results] == [
        ("serial", 1), ("threads", 2), ("processes-fork", 2)
    ]  # fmt: skip
    assert all(r.status == "ok" and r.speedup for r in results), [r.reason for r in results]
    assert len({r.checksum for r in results}) == 1
    assert {(r.tasks, r.task_units) for r in results} == {(2, 1)}
    assert "answer for gilcompare.workloads.cpu:count: best at" in gilcompare.answer(results)


def test_bench_func_refuses_a_bad_function_before_measuring() -> None:
    """The contract is checked in the caller: one line, nothing measured."""
    with pytest.raises(ValueError, match="must take one integer"):
        bench_func("gilcompare.measure.engine:paired_ratios")


def test_a_script_measures_its_own_function(tmp_path: Path) -> None:
    """The module docstring's pattern: a script passes its own function; workers load the
    script by path, its __main__ block does not run again in them."""
    script = tmp_path / "mine.py"
    script.write_text(
        textwrap.dedent(
            """
            import gilcompare

            def work(units):
                return sum(range(units * 1000))

            if __name__ == "__main__":
                results = gilcompare.bench_func(
                    work, ["processes-spawn"], [2], units=1, tasks=2, repeat=1
                )
                print([r.status for r in results])
                print(gilcompare.answer(results))
            """
        )
    )
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "['ok', 'ok']"
    assert "answer for mine.py:work" in proc.stdout
