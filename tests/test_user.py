"""Tests for gilcompare.workloads.user: your own function on the command line, bad input
refused before measuring (exit 2) or a failed cell with its reason (exit 1), nothing left."""

from __future__ import annotations

import json
import pickle
import textwrap
from pathlib import Path

import pytest

from gilcompare.cli import main
from gilcompare.measure.cells import checksum
from gilcompare.workloads import WORKLOADS, get_workload, user

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

MODULES = {
    "mod_ok.py": """
        VALUE = 3

        def ok(units):
            return units * 2

        def two(a, b):
            return a + b
    """,
    "mod_dep.py": "import nosuchdep_gilcompare\n\ndef f(units):\n    return units\n",
    "mod_boom.py": "raise RuntimeError('boom at import')\n",
    "notes.txt": "def f(units):\n    return units\n",
}

BAD = [
    ("nosuchmod_gilcompare:f", "no module named 'nosuchmod_gilcompare'"),
    ("mod_ok:missing", "mod_ok has no function 'missing' (it has: ok, two)"),
    ("mod_ok:VALUE", "mod_ok:VALUE is a int, not a function"),
    ("mod_ok:two", "mod_ok:two must take one integer (units of work): its signature is (a, b)"),
    ("mod_dep:f", "module 'mod_dep' imports 'nosuchdep_gilcompare', which"),
    ("mod_boom:f", "importing 'mod_boom' raised RuntimeError: boom at import"),
    ("sub/:f", "sub/ is a directory: name a Python file"),
    ("notes.txt:f", "notes.txt is not a Python file"),
    ("missing.py:f", "no file missing.py"),
    ("mod_ok.py:two", "mod_ok.py:two must take one integer"),
    ("mod_ok:", "a workload of your own is package.module:function or path/to/file.py:function"),
    ("mod ok:f", "is neither a module name nor a path to a .py file"),
]


@pytest.fixture
def own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of user modules, the current directory, forgotten by the import system after."""
    for name, text in MODULES.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    # as on a machine without PYTHONDONTWRITEBYTECODE: an import would write __pycache__
    monkeypatch.setattr("sys.dont_write_bytecode", False)
    monkeypatch.setattr(user, "_RESOLVED", {})
    monkeypatch.setattr("sys.path", list(__import__("sys").path))
    modules = dict(__import__("sys").modules)
    yield tmp_path
    for name in set(__import__("sys").modules) - set(modules):
        del __import__("sys").modules[name]


@pytest.mark.parametrize("command", ["run", "calibrate"])
@pytest.mark.parametrize("spec,message", BAD, ids=[s for s, _ in BAD])
def test_bad_function_is_one_line_and_exit_2(
    own_folder: Path, command: str, spec: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each way a function of the user's breaks the contract: exit 2 before anything is
    measured, one line naming what is wrong, and nothing written beside the user's files."""
    before = sorted(p.name for p in own_folder.rglob("*"))
    assert main([command, "--workload", spec]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"gilcompare: error: --workload {spec}") or "unknown workload" in err
    assert message in err, err
    assert sorted(p.name for p in own_folder.rglob("*")) == before  # no __pycache__


def test_compare_refuses_a_bad_function_before_measuring(
    own_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """compare checks the function as run does (here, before any interpreter is started)."""
    assert main(["compare", "--python", "3.11,3.12", "--workload", "mod_ok:two"]) == 2
    assert "must take one integer" in capsys.readouterr().err


def test_a_name_without_colon_is_a_builtin(capsys: pytest.CaptureFixture[str]) -> None:
    """A name without a colon is looked up among the built-ins, and the error says how to
    name one's own."""
    assert main(["run", "--workload", "mod_ok"]) == 2
    err = capsys.readouterr().err
    assert "unknown workload 'mod_ok'" in err and "package.module:function" in err
    with pytest.raises(ValueError, match="path/to/file.py:function"):
        get_workload("nope")


def test_both_forms_name_the_same_function(own_folder: Path) -> None:
    """module:function and file.py:function find the function; its task pickles as its name
    and finds it again; the registry lists no user function."""
    for spec in ("mod_ok:ok", "mod_ok.py:ok", str(own_folder / "mod_ok.py") + ":ok"):
        w = get_workload(spec)
        assert w.name == spec and w.kind == "user" and w.fn(21) == 42
        again = pickle.loads(pickle.dumps(w.fn))
        assert again(5) == 10 and again.spec == spec
    assert "mod_ok:ok" not in list(WORKLOADS)
    # 3.12/3.13 subinterpreters find a task by module and qualname
    fn = get_workload("mod_ok:ok").fn
    assert getattr(user, fn.__qualname__)(4) == 8 and fn.__module__ == user.__name__


def test_async_function_waits_and_runs_anywhere(own_folder: Path) -> None:
    """An async def waits (ideal speedup = workers), is awaited by asyncio, and runs to
    completion when called as a task elsewhere — on a running loop too (asyncio's warm-up)."""
    import asyncio

    (own_folder / "mod_async.py").write_text(
        "import asyncio\n\nasync def f(units):\n    await asyncio.sleep(0)\n    return units + 1\n"
    )
    w = get_workload("mod_async:f")
    assert w.waits and w.afn is not None and w.fn(1) == 2

    async def on_loop() -> int:
        return w.fn(2)

    assert asyncio.run(on_loop()) == 3


def test_checksum_takes_values_json_cannot_hold() -> None:
    """bytes, tuples and sets of a user's function get a checksum, equal for equal values."""
    assert checksum([b"ab", (1, 2)]) == checksum([b"ab", (1, 2)])
    assert checksum([b"ab"]) != checksum([b"ac"])


FAULTY = """
import threading


class Handle:
    def __repr__(self):
        return "Handle()"

    def __reduce__(self):
        raise TypeError("a Handle cannot be pickled")


def raises(units):
    raise ValueError("the function itself failed")


def differs(units):
    return threading.current_thread() is threading.main_thread()


def handle(units):
    return Handle()
"""


def test_failing_functions_are_failed_cells_with_reasons(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A function that raises, one whose value differs between models and one whose result
    cannot come back from a process: failed or mismatched cells saying why, exit 1, and no
    process or temp file left (the cli fixture checks)."""
    faulty = tmp_path / "faulty.py"
    faulty.write_text(FAULTY)
    specs = [f"{faulty}:raises", f"{faulty}:differs", f"{faulty}:handle"]
    proc = cli(
        "run", "--workload", ",".join(specs), "--model", "threads,processes-fork",
        "--workers", "2", "--profile", "tiny", "--repeat", "1", "--json", "--quiet",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    rows = {(r["workload"].rsplit(":", 1)[1], r["model"]): r for r in json.loads(proc.stdout)}
    assert rows["raises", "serial"]["status"] == "failed"
    assert "ValueError: the function itself failed" in rows["raises", "serial"]["reason"]
    assert rows["differs", "threads"]["status"] == "ok"  # serial's thread is not the main one
    assert rows["differs", "processes-fork"]["status"] == "mismatch"  # a worker's main thread
    assert "differs from serial" in rows["differs", "processes-fork"]["reason"]
    assert rows["handle", "threads"]["status"] == "ok"
    assert rows["handle", "processes-fork"]["status"] == "failed"
    assert "cannot be pickled" in rows["handle", "processes-fork"]["reason"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faulty.py"]


def test_examples_run_under_every_kind_of_model(cli) -> None:  # type: ignore[no-untyped-def]
    """The three examples, by path and by module name, under threads, a spawned process and
    asyncio: every cell ok with the serial checksum, and one answer line per function."""
    specs = [
        "examples/pure_python.py:collatz",
        "examples.hashing:digest",
        "examples/local_io.py:echo",
    ]
    proc = cli.popen(
        "run", "--workload", ",".join(specs), "--model", "threads,processes-spawn,asyncio",
        "--workers", "2", "--profile", "tiny", "--repeat", "1", "--no-costs", "--quiet",
        cwd=ROOT,
    )  # fmt: skip
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    answers = [line for line in out.splitlines() if line.startswith("answer for ")]
    assert [a.split(":", 1)[0] for a in answers] == [f"answer for {s.split(':')[0]}" for s in specs]
    assert all("best at 1 worker" in a and "2 workers:" in a for a in answers), answers
    assert "ok" in out and "failed" not in out and "mismatch" not in out


def test_a_builtin_through_its_module_name_is_the_same_work(cli) -> None:  # type: ignore[no-untyped-def]
    """The plug changes nothing measured: count by its module:function name runs the same
    task list to the same checksum as --workload count, in the same run."""
    proc = cli(
        "run", "--workload", "count,gilcompare.workloads.cpu:count", "--model", "threads",
        "--workers", "2", "--profile", "tiny", "--repeat", "1", "--json", "--quiet",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = [r for r in json.loads(proc.stdout) if r["model"] == "threads"]
    assert len(rows) == 2 and rows[0]["checksum"] == rows[1]["checksum"]
    assert {(r["tasks"], r["task_units"]) for r in rows} == {(rows[0]["tasks"], 1)}


def test_dry_run_says_what_a_first_run_measures(cli) -> None:  # type: ignore[no-untyped-def]
    """With only the workload, --dry-run lists every model available here at 1 worker and
    at the usable CPUs, times one task, and gives the total; exit 0."""
    from gilcompare.api import own_models, own_workers

    proc = cli.popen("run", "--workload", "examples/pure_python.py:collatz", "--dry-run", cwd=ROOT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    rows = [line.split() for line in out.splitlines() if line.startswith("examples/")]
    assert {r[1] for r in rows} == set(own_models())
    assert {int(r[2]) for r in rows} == set(own_workers())
    assert "ms per unit, from one task timed here" in out and "in all" in out


def test_a_module_no_subinterpreter_can_import_fails_that_cell(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A function whose module imports an extension without subinterpreter support (readline):
    under compare on 3.12+, its subinterpreter cells fail saying so, serial is ok, exit 1."""
    from gilcompare.interpreters import discover

    found = {
        ".".join(map(str, i.version_tuple[:2]))
        for i in discover()
        if i.version_tuple >= (3, 12) and not i.free_threaded and i.prerelease is None
    }
    if len(found) < 2:
        pytest.skip("needs two CPython builds of 3.12 or later (subinterpreters)")
    module = tmp_path / "uses_readline.py"
    module.write_text("import readline  # noqa: F401\n\n\ndef f(units):\n    return units\n")
    proc = cli(
        "compare", "--python", ",".join(sorted(found)[:2]), "--workload", f"{module}:f",
        "--model", "serial,subinterpreters", "--profile", "tiny", "--rounds", "1", "--json",
        "--quiet",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    rows = json.loads(proc.stdout)
    assert {r["status"] for r in rows if r["model"] == "serial"} == {"ok"}
    sub = [r for r in rows if r["model"] == "subinterpreters"]
    assert sub and all(r["status"] == "failed" for r in sub)
    assert all("readline does not support loading in subinterpreters" in r["reason"] for r in sub)


def test_report_reads_a_run_of_ones_own_function(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """run --output keeps a user function's records under its name; report reads them back
    (a name with a colon is a function of the user's, not an unknown workload)."""
    from gilcompare.measure.cells import Result
    from gilcompare.report.records import save_results

    path = tmp_path / "run.json"
    save_results(str(path), [Result("mine.py:work", "threads", 2, "strong", "warm", "ok")])
    assert main(["report", str(path)]) == 0
    assert "mine.py:work" in capsys.readouterr().out
    path.write_text(path.read_text().replace("mine.py:work", "mine"))
    assert main(["report", str(path)]) == 2
    assert 'unknown workload "mine"' in capsys.readouterr().err


def test_dry_run_of_a_function_that_raises_is_one_line_and_exit_1(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """--dry-run times one task; a function that raises there is one line and exit 1."""
    faulty = tmp_path / "faulty.py"
    faulty.write_text(FAULTY)
    proc = cli("run", "--workload", f"{faulty}:raises", "--dry-run")
    assert proc.returncode == 1 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "raises(50) failed" in proc.stderr and "the function itself failed" in proc.stderr
