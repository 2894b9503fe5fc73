"""Tests for gilcompare.measure.compare: builds named as asked, rounds alternating, an A/A row."""

from __future__ import annotations

import platform
import re
import sys

import pytest

from gilcompare.cli import main
from gilcompare.errors import UsageError
from gilcompare.interpreters import Interpreter, discover
from gilcompare.measure import compare
from gilcompare.measure.cells import Cell

HERE = Interpreter(version=platform.python_version(), free_threaded=False, path=sys.executable)
FREE = Interpreter(version="3.14.7", free_threaded=True, path="/opt/python3.14t")


def test_builds_resolve_by_tag_and_twin() -> None:
    """A tag picks the interpreter; +gil picks a free-threaded build with PYTHON_GIL=1."""
    builds = compare.resolve_builds(["3.14t", "3.14t+gil"], [FREE])
    assert [b.label for b in builds] == ["3.14t", "3.14t+gil"]
    assert builds[0].env == {} and builds[1].env == {"PYTHON_GIL": "1"}


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (
            ["3.14t", "9.99"],
            f"no Python '9.99' found here: choose from 3.14t, {HERE.tag}, 3.14t+gil",
        ),
        ([HERE.tag, f"{HERE.tag}+gil"], "has the GIL already"),
        (["3.14t"], "at least two builds"),
    ],
)
def test_bad_builds_are_one_line(names: list[str], message: str) -> None:
    """Unknown builds, a twin of a GIL build and a lone build are usage errors."""
    with pytest.raises(UsageError, match=re.escape(message)):
        compare.resolve_builds(names, [FREE, HERE])


def test_cli_names_the_builds_found(capsys: pytest.CaptureFixture[str]) -> None:
    """The command line turns an unknown build into one line and exit 2."""
    assert main(["compare", "--python", "9.98,9.99"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "choose from" in err and "Traceback" not in err


def test_interpreter_against_itself() -> None:
    """The same interpreter under two names: relative near 1, the A/A row, equal checksums."""
    builds = [compare.Build("a", HERE), compare.Build("b", HERE)]
    cells = [
        Cell(workload="count", model="serial", workers=1, profile="tiny"),
        Cell(workload="count", model="threads", workers=2, profile="tiny"),
    ]
    rows = compare.compare(builds, cells, rounds=2, timeout=120)
    assert [(r.model, r.python) for r in rows] == [
        ("serial", "a"), ("serial", "b"), ("serial", "a (A/A)"),
        ("threads", "a"), ("threads", "b"), ("threads", "a (A/A)"),
    ]  # fmt: skip
    assert all(r.status == "ok" and r.rounds == 2 for r in rows), [r.reason for r in rows]
    assert [r.control for r in rows] == [False, False, True] * 2
    assert rows[0].relative == 1.0 and all(0.3 < r.relative < 3 for r in rows)
    assert len({r.checksum for r in rows if r.model == "threads"}) == 1
    record = rows[4].record()
    assert {"python", "workload", "model", "workers", "seconds", "relative", "control"} <= set(
        record
    )
    assert record["estimator"] == compare.engine.ESTIMATOR
    # every ratio carries the engine's interval from its paired rounds
    b_threads = rows[4]
    assert (b_threads.relative_low, b_threads.relative_high) == compare.engine.interval(
        b_threads.times, rows[3].times
    )
    assert (b_threads.speedup_low, b_threads.speedup_high) == compare.engine.interval(
        [t for r in b_threads.results for t in r.serial_times],
        [t for r in b_threads.results for t in r.times],
    )


FREE_HERE = [i for i in discover() if i.free_threaded]


@pytest.mark.skipif(not FREE_HERE, reason="no free-threaded interpreter on this machine")
def test_twin_runs_with_the_gil() -> None:
    """A free-threaded build's workers run without the GIL, its +gil twin's with it."""
    tag = FREE_HERE[0].tag
    builds = compare.resolve_builds([tag, f"{tag}+gil"], FREE_HERE)
    rows = compare.compare(
        builds, [Cell(workload="count", model="threads", workers=2, profile="tiny")], 1, 120
    )
    gil = {r.python: r.gil_enabled for r in rows}
    assert gil == {tag: False, f"{tag}+gil": True, f"{tag} (A/A)": False}


def test_unmatched_builds_are_named_before_measuring(monkeypatch: pytest.MonkeyPatch) -> None:
    """A GIL build against a free-threaded one of another version is noted as no
    free-threading cost; twins and PYTHON_GIL=1 twins are not."""
    from gilcompare.cli import compare as cli_compare
    from gilcompare.measure import builds
    from gilcompare.measure.builds import BuildInfo

    def probe(path: str) -> BuildInfo:
        version = {"/g13": "3.13.0", "/g14": "3.14.7", "/f14": "3.14.7"}[path]
        free = path.startswith("/f")
        return BuildInfo(
            path=path,
            version=version,
            free_threaded=free,
            config_args="--disable-gil" if free else "",
            shared=False,
            prefix=path,
        )

    monkeypatch.setattr(builds, "probe", probe)
    g13 = compare.Build("3.13", Interpreter(version="3.13.0", free_threaded=False, path="/g13"))
    g14 = compare.Build("3.14", Interpreter(version="3.14.7", free_threaded=False, path="/g14"))
    f14 = compare.Build("3.14t", Interpreter(version="3.14.7", free_threaded=True, path="/f14"))
    twin = compare.Build("3.14t+gil", f14.interpreter, "1")
    [note] = cli_compare._unmatched([g13, f14, g14, twin])
    assert note.startswith("3.14t against 3.13 is no free-threading cost") and "3.13.0" in note
    assert cli_compare._unmatched([f14, g14, twin]) == []
