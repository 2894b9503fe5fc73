"""Tests for gilcompare.asv.results and `gilcompare results`: asv's files read back, bad
input as one line."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gilcompare.asv import results as asvresults
from gilcompare.cli import main

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ["result", "params", "version", "started_at", "duration"]
SCALING_PARAMS = [["'count'"], ["'threads'", "'processes-fork'"], ["1", "2"]]


def _write(
    folder: Path,
    commit: str,
    python: str,
    date: int,
    speedups: list[Any],
    params: list[list[str]] = SCALING_PARAMS,
) -> None:
    """An asv results file: count on threads and fork at 1 and 2 workers (unless ``params``
    says otherwise), and the capacity."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "machine.json").write_text(json.dumps({"machine": folder.name}))
    data = {
        "commit_hash": commit,
        "env_name": f"virtualenv-py{python}",
        "date": date,
        "python": python,
        "env_vars": {},
        "result_columns": COLUMNS,
        "results": {
            "cpu.Scaling.track_speedup": [speedups, params, "v", 0, 1.0],
            "cpu.Machine.track_parallel_capacity": [[1.9], [], "v", 0, 1.0],
        },
    }
    (folder / f"{commit[:8]}-virtualenv-py{python}.json").write_text(json.dumps(data))


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """Two runs on machine 'box': an old one on 3.12, the latest on 3.9 and 3.12."""
    box = tmp_path / "box"
    _write(box, "a" * 40, "3.12", 1_000, [1.0, 0.5, 1.0, 1.5])
    _write(box, "b" * 40, "3.12", 2_000, [1.0, 0.98, 1.0, 1.9])
    _write(box, "b" * 40, "3.9", 2_000, [1.0, 1.01, 1.0, None])
    return tmp_path


def test_latest_run_by_python(results: Path) -> None:
    """Columns are Pythons in version order; a skipped cell is None; capacity comes last."""
    run = asvresults.pick_run(results)
    assert (run.machine, run.commit) == ("box", "b" * 40)
    pythons, rows = asvresults.speedup_table(run, workers=2)
    assert pythons == ["3.9", "3.12"]
    by_model = {row["model"]: row for row in rows}
    assert by_model["threads"] == {
        "workload": "count",
        "model": "threads",
        "3.9": 1.01,
        "3.12": 0.98,
    }
    assert by_model["processes-fork"]["3.12"] == 1.9
    assert by_model["processes-fork"]["3.9"] is None
    assert rows[-1]["workload"] == "machine" and rows[-1]["3.9"] == 1.9


def test_older_run_by_commit_prefix(results: Path) -> None:
    pythons, rows = asvresults.speedup_table(asvresults.pick_run(results, commit="aaa"), 2)
    assert pythons == ["3.12"] and rows[0]["3.12"] == 0.5


def test_results_command_table_and_json(results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["results", str(results), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "at 1 workers: machine box, commit bbbbbbbb" in out
    assert out.splitlines()[1].split() == ["workload", "model", "3.9", "3.12"]
    assert main(["results", str(results), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["workers"] == 2 and data["pythons"] == ["3.9", "3.12"]
    assert "A/A" not in out  # no control row, no note about it


def test_results_command_explains_the_control_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run with the serial A/A cells prints them as a row and says what they are."""
    params = [["'count'"], ["'serial'", "'threads'"], ["2"]]
    _write(tmp_path / "box", "c" * 40, "3.13", 3_000, [0.97, 1.02], params)
    assert main(["results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert [line.split()[:3] for line in out.splitlines()[3:5]] == [
        ["count", "serial", "0.970"],
        ["count", "threads", "1.020"],
    ]
    assert out.splitlines()[-1].startswith("serial: serial timed against serial in the same")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--workers", "3"], "no speedups at 3 workers in this run: choose from 1, 2"),
        (["--workers", "0"], "--workers must be an integer of at least 1, got 0"),
        (["--machine", "nope"], "unknown machine 'nope': choose from box"),
        (["--commit", "c"], "no single run for commit 'c': choose from aaaaaaaa"),
    ],
)
def test_bad_input_is_one_line(
    results: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["results", str(results), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


@pytest.mark.parametrize(
    ("text", "message"),
    [("{oops", "is not JSON"), ('{"commit_hash": "x"}', "lacks commit_hash, python")],
)
def test_corrupt_or_missing_results(
    results: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    (results / "box" / "broken.json").write_text(text)
    assert main(["results", str(results)]) == 2
    assert message in capsys.readouterr().err
    assert main(["results", str(results / "absent")]) == 2
    assert "no asv results folder at" in capsys.readouterr().err


def test_several_machines_need_a_choice(results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(results / "other", "c" * 40, "3.11", 3_000, [1.0, 1.0, 1.0, 1.8])
    assert main(["results", str(results)]) == 2
    assert "choose --machine box|other" in capsys.readouterr().err
    assert main(["results", str(results), "--machine", "other"]) == 0


def test_committed_results_cover_five_pythons() -> None:
    """Each machine's latest committed run: at least five Pythons, each with a count speedup
    for threads and fork processes at 2 workers and the machine's capacity beside them."""
    for machine in asvresults.machines(ROOT / "results"):
        run = asvresults.pick_run(ROOT / "results", machine)
        pythons, rows = asvresults.speedup_table(run, workers=2)
        assert len(pythons) >= 5
        count = {row["model"]: row for row in rows if row["workload"] == "count"}
        for python in pythons:
            for model in ("threads", "processes-fork"):
                value = count[model][python]
                assert value is not None and math.isfinite(value) and value > 0
            assert 0 < rows[-1][python] <= 2.2


# ------------------------------------------------------------------- every file validated

ASV_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
PARAM_TEXT = st.sampled_from(["'count'", "'threads'", "2", "1", "[1]", "{}", "x(", "2.5", "True"])


def _good_asv() -> dict[str, Any]:
    return {
        "commit_hash": "b" * 40,
        "env_name": "virtualenv-py3.12",
        "date": 2_000,
        "python": "3.12",
        "env_vars": {"PYTHON_GIL": ""},
        "params": {"num_cpu": "2"},
        "result_columns": list(COLUMNS),
        "results": {
            "cpu.Scaling.track_speedup": [
                [1.0, 0.98, 1.0, math.nan],
                [list(p) for p in SCALING_PARAMS],
                "v",
                0,
                1.0,
            ],
            "cpu.Machine.track_parallel_capacity": [[1.9], [], "v", 0, 1.0],
        },
    }


@st.composite
def mutated_asv(draw: st.DrawFn) -> Any:
    """A valid asv results file, then random edits anywhere: a value replaced (by any JSON,
    a wrong shape, a bad param literal), a key dropped, the whole file swapped."""
    data: Any = json.loads(json.dumps(_good_asv()).replace("NaN", "null"))
    for _ in range(draw(st.integers(1, 4))):
        # walk down to a random container, then edit one of its slots
        node, depth = data, draw(st.integers(0, 4))
        for _ in range(depth):
            children = (
                list(node.values())
                if isinstance(node, dict)
                else node
                if isinstance(node, list)
                else []
            )
            containers = [c for c in children if isinstance(c, (dict, list)) and c]
            if not containers:
                break
            node = draw(st.sampled_from(containers))
        action = draw(st.sampled_from(["replace", "param", "drop", "whole"]))
        if action == "whole":
            return draw(ASV_JSON)
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node)))
            if action == "drop":
                node.pop(key)
            else:
                node[key] = draw(ASV_JSON if action == "replace" else PARAM_TEXT)
        elif isinstance(node, list) and node:
            i = draw(st.integers(0, len(node) - 1))
            if action == "drop":
                node.pop(i)
            else:
                node[i] = draw(ASV_JSON if action == "replace" else PARAM_TEXT)
    return data


def test_the_reference_asv_file_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The mutations below start from a file `results` reads (NaN is asv's 'no value')."""
    box = tmp_path / "box"
    box.mkdir()
    (box / "machine.json").write_text("{}")
    (box / "run.json").write_text(json.dumps(_good_asv()))
    assert main(["results", str(tmp_path)]) == 0, capsys.readouterr().err


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda d: d.update(results=[]), "results is [], expected a mapping"),
        (lambda d: d.update(date="2024-01-01"), 'date is "2024-01-01", expected milliseconds'),
        (lambda d: d.update(commit_hash=12345), "commit_hash is 12345"),
        (lambda d: d["results"].update({"cpu.Scaling.track_speedup": [[1.0]]}), "expected one of"),
        (lambda d: d.update(python=""), 'python is ""'),
        (lambda d: d["results"]["cpu.Scaling.track_speedup"][1].pop(), "expected workloads"),
        (lambda d: d.update(env_vars=[]), "env_vars is []"),
        (lambda d: d["results"]["cpu.Scaling.track_speedup"].__setitem__(0, "1.0"), "result"),
    ],
)
def test_wrong_shapes_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Any, message: str
) -> None:
    """An asv file with a wrong shape: exit 2, one line naming the file and the field."""
    data = _good_asv()
    edit(data)
    box = tmp_path / "box"
    box.mkdir()
    (box / "machine.json").write_text("{}")
    (box / "run.json").write_text(json.dumps(data))
    assert main(["results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run.json" in err and message in err, err


@pytest.mark.once
@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=mutated_asv())
def test_results_never_crashes_on_any_asv_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: Any
) -> None:
    """Mutated asv files: `results` prints a table (0) or one line (2), never a traceback."""
    box = tmp_path / "box"
    box.mkdir(exist_ok=True)
    (box / "machine.json").write_text("{}")
    (box / "run.json").write_text(json.dumps(data))
    status = main(["results", str(tmp_path)])
    err = capsys.readouterr().err
    assert status in (0, 2), err
    if status == 2:
        assert err.count("\n") == 1 and err.startswith("gilcompare: error: "), err


@pytest.mark.once
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=mutated_asv(), plot=st.booleans())
def test_against_and_plot_never_crash_on_any_asv_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: Any, plot: bool
) -> None:
    """A mutated run beside a good one: `results --against` the good run, or `--plot`,
    prints (0) or says in one line what is wrong (2), never a traceback."""
    box = tmp_path / "box"
    box.mkdir(exist_ok=True)
    (box / "machine.json").write_text("{}")
    good = {**_good_asv(), "commit_hash": "a" * 40, "date": 1_000}
    (box / "good.json").write_text(json.dumps(good))
    (box / "run.json").write_text(json.dumps(data))
    extra = ["--plot", str(tmp_path / "out.png")] if plot else ["--against", "a" * 8]
    status = main(["results", str(tmp_path), *extra])
    err = capsys.readouterr().err
    assert status in (0, 2), err
    if status == 2:
        assert err.count("\n") == 1 and err.startswith("gilcompare: error: "), err


def _provenance(results: Path, commit: str, builds: list[dict[str, Any]]) -> Path:
    """What `nox -s bench` writes beside a run."""
    host = {"host": "box", "cpu_model": "Test CPU", "cpu_usable": 2, "load": [0.25, 0, 0]}
    run = {"kind": "run", "commit": commit, "host_before": host, "host_after": {"load": [1.5]}}
    path = results / "box" / "provenance" / f"{commit}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [run, *({"kind": "build", **build} for build in builds)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_results_say_what_the_run_measured_on(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The host, its load and each build's version and options come with the table, and a
    build whose stdlib was recompiled at every start is named in a warning."""
    compiled = {"stdlib_bytecode": True, "write_bytecode": False}
    _provenance(
        results,
        "b" * 40,
        [
            {"python": "3.12", "version": "3.12.1", "shared": True, **compiled},
            {
                "python": "3.9",
                "version": "3.9.18",
                "stdlib_bytecode": False,
                "write_bytecode": False,
            },
        ],
    )
    assert main(["results", str(results)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "host box: Test CPU, 2 usable CPUs, load 0.25 before the run and 1.50 after"
    assert lines[2] == "builds: 3.9 3.9.18, 3.12 3.12.1 (shared)"
    assert lines[3].startswith("warning: 3.9: standard library not byte-compiled")
    assert main(["results", str(results), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["provenance"]["builds"]["3.12"]["version"] == "3.12.1"
    assert main(["results", str(results), "--commit", "aaa"]) == 0  # a run without it
    assert "host " not in capsys.readouterr().out


@pytest.mark.parametrize(
    "text", ["{not json\n", '{"kind": "other"}\n', '{"kind": "build", "python": "3.9"}\n']
)
def test_a_corrupt_provenance_file_is_one_line(
    results: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    """A provenance file that is not what the session writes: exit 2, one line naming it."""
    path = _provenance(results, "b" * 40, [])
    path.write_text(text)
    assert main(["results", str(results)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(path) in err


def test_build_tag_of_an_environment() -> None:
    """PYTHON_GIL=1 makes a free-threaded environment its twin; other variables do not count."""
    twin = {"python": "3.14t", "env_vars": {"PYTHON_GIL": "1", "X": "y"}}
    assert str(asvresults.build_tag(twin)) == "3.14t+gil"
    assert str(asvresults.build_tag({"python": "3.14t", "env_vars": {"PYTHON_GIL": ""}})) == "3.14t"
    assert asvresults.environment_label(twin) == "3.14t+gil X=y"
    with pytest.raises(ValueError, match="not a build tag: 'pypy3.10'"):
        asvresults.build_tag({"python": "pypy3.10"})


def test_a_parameter_product_of_10_8_cells_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Params whose product is 10^8 cells (a small edit): one line, at once, no 10^8 of work."""
    data = _good_asv()
    entry = data["results"]["cpu.Scaling.track_speedup"]
    entry[1] = [[repr(f"w{i}") for i in range(464)]] * 2 + [[str(i) for i in range(465)]]
    box = tmp_path / "box"
    box.mkdir()
    (box / "machine.json").write_text("{}")
    (box / "run.json").write_text(json.dumps(data))
    started = time.monotonic()
    assert main(["results", str(tmp_path)]) == 2
    assert "cells, more than the" in capsys.readouterr().err
    assert time.monotonic() - started < 5


def test_names_read_from_files_print_as_escapes(tmp_path: Path) -> None:
    """A machine folder named with terminal control sequences and a stray byte is shown with
    escapes, never as the sequences themselves."""
    for name in ("box", "evil\x1b]0;pwned\x07\x1b[2J\x9b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "machine.json").write_text("{}")
    done = subprocess.run(
        [sys.executable, "-m", "gilcompare", "results", str(tmp_path)],
        capture_output=True,
        check=False,
    )
    assert done.returncode == 2
    assert b"evil" in done.stderr and b"\\x1b]0;pwned\\x07" in done.stderr
    assert not any(c in done.stderr for c in (b"\x1b", b"\x07", b"\xc2\x9b"))


def test_results_give_the_hosts_speed_before_and_after_the_run(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reference loop read before and after the run comes with the table, and a warning
    when the host ran it more than 10% slower or faster by the end."""
    path = _provenance(results, "b" * 40, [])
    run = json.loads(path.read_text())
    for after, warned in ((0.051, False), (0.075, True)):
        run["speed_before"] = {"python": "3.11.7", "loop_s": 0.05, "capacity": 1.9, "cpus": 2}
        run["speed_after"] = {**run["speed_before"], "loop_s": after, "capacity": 1.2}
        path.write_text(json.dumps(run) + "\n")
        assert main(["results", str(results)]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[2] == (
            "host speed (the reference loop on Python 3.11.7): 0.050 s alone, 1.90 at once "
            f"before the run; {after:.3f} s alone, 1.20 at once after"
        )
        assert lines[3].startswith("warning: the host changed during the run") is warned
