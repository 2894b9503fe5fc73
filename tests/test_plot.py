"""Tests for `--plot`: speedup against workers drawn to a file, bad targets as one line."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from gilcompare.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# A new build (3.13t, 3.14t) may have no matplotlib wheel yet; the drawing tests skip there.
needs_matplotlib = pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is None, reason="matplotlib is not installed here"
)


def _record(
    workload: str, model: str, workers: int, speedup: float | None, **extra: object
) -> dict[str, object]:
    status = extra.pop("status", "ok")
    return {
        "workload": workload,
        "model": model,
        "workers": workers,
        "status": status,
        "scaling": "strong",
        "mode": "warm",
        "speedup": speedup,
        "ideal": min(workers, 2) if workload == "count" else workers,
        "python": "3.13.0",
        "cpu_usable": 2,
        **extra,
    }


@pytest.fixture
def results_file(tmp_path: Path) -> Path:
    """A run of count and sleep on serial, threads and fork at 1, 2 and 4 workers."""
    records = [_record("count", "serial", 1, 1.0), _record("sleep", "serial", 1, 1.0)]
    for n in (1, 2, 4):
        records += [
            _record("count", "threads", n, 1.0),
            _record("count", "processes-fork", n, min(n, 2) * 0.93),
            _record("sleep", "threads", n, n * 0.99),
        ]
    records.append(_record("sleep", "processes-fork", 2, None, status="failed"))
    path = tmp_path / "run.json"
    path.write_text(json.dumps(records))
    return path


@needs_matplotlib
def test_report_draws_a_png(
    results_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table still prints, the picture is a real PNG, and stderr says what it shows."""
    out = tmp_path / "speedup.png"
    assert main(["report", str(results_file), "--plot", str(out)]) == 0
    captured = capsys.readouterr()
    assert "processes-fork" in captured.out
    assert "speedup against workers for 2 workloads written to" in captured.err
    data = out.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000


@needs_matplotlib
def test_svg_by_extension(results_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "speedup.svg"
    assert main(["report", str(results_file), "--plot", str(out)]) == 0
    text = out.read_text()
    assert "<svg" in text and "processes-fork" in text and "ideal" in text


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("speedup.docx", "give a file ending in one of"),
        ("no/such/folder/speedup.png", "does not exist"),
    ],
)
@needs_matplotlib
def test_bad_target_is_one_line(
    results_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    message: str,
) -> None:
    out = tmp_path / name
    assert main(["report", str(results_file), "--plot", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not out.exists()


@needs_matplotlib
def test_run_checks_the_target_before_measuring(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plot that cannot be written stops the run at once: nothing measured, nothing lost."""
    output = tmp_path / "run.json"
    argv = ["run", "--workload", "count", "--model", "threads", "--workers", "2"]
    argv += ["--profile", "tiny", "--output", str(output), "--plot", str(tmp_path / "x.docx")]
    assert main(argv) == 2
    assert "give a file ending in one of" in capsys.readouterr().err
    assert not output.exists()


def test_nothing_to_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "failed.json"
    path.write_text(json.dumps([_record("count", "threads", 2, None, status="failed")]))
    assert main(["report", str(path), "--plot", str(tmp_path / "p.png")]) == 2
    assert "nothing to plot" in capsys.readouterr().err


def test_without_matplotlib_says_how_to_get_it(
    results_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    assert main(["report", str(results_file), "--plot", str(tmp_path / "p.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'gilcompare[plot]'" in err


@needs_matplotlib
def test_results_draws_speedups_across_pythons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`gilcompare results --plot` draws the asv suite's speedups against Python version;
    a worker count the run lacks is still one line, and nothing is written."""
    box = tmp_path / "results" / "box"
    box.mkdir(parents=True)
    (box / "machine.json").write_text(json.dumps({"machine": "box"}))
    params = [["'count'"], ["'serial'", "'threads'", "'processes-fork'"], ["1", "2"]]
    for python, fork in (("3.12", 1.9), ("3.13", 1.8)):
        data = {
            "commit_hash": "c" * 40,
            "date": 1_000,
            "python": python,
            "params": {"num_cpu": "2"},
            "result_columns": ["result", "params"],
            "results": {
                "cpu.Scaling.track_speedup": [[1.0, 1.0, 1.0, 1.0, 1.0, fork], params],
                "cpu.Machine.track_parallel_capacity": [[1.95], []],
            },
        }
        (box / f"cccccccc-py{python}.json").write_text(json.dumps(data))
    out = tmp_path / "pythons.svg"
    assert main(["results", str(tmp_path / "results"), "--plot", str(out)]) == 0
    assert "across 2 Pythons written to" in capsys.readouterr().err
    text = out.read_text()
    assert "<svg" in text and "capacity (same run)" in text and "serial (A/A)" in text
    missing = tmp_path / "none.png"
    argv = ["results", str(tmp_path / "results"), "--workers", "8", "--plot", str(missing)]
    assert main(argv) == 2
    assert "no speedups at 8 workers in this run: choose from 1, 2" in capsys.readouterr().err
    assert not missing.exists()


@needs_matplotlib
def test_a_symlink_made_while_drawing_is_not_written_through(
    results_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plot is written like --output: a symlink put at its name after the check is
    refused (exit 1), and the file it points to is left as it was."""
    from gilcompare.report import plot

    out, victim = tmp_path / "speedup.png", tmp_path / "victim"
    victim.write_text("precious")
    panels = plot._panels

    def panels_then_link(names, path):  # type: ignore[no-untyped-def]
        drawn = panels(names, path)
        out.symlink_to(victim)  # appears between the check and the write
        return drawn

    monkeypatch.setattr(plot, "_panels", panels_then_link)
    assert main(["report", str(results_file), "--plot", str(out)]) == 1
    assert victim.read_text() == "precious" and out.is_symlink()
