"""Tests for gilcompare.report.validate: targets refused before measuring, writes that replace only
regular files, and `report` records that never crash the reader."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gilcompare.cli import main
from gilcompare.errors import UsageError
from gilcompare.report import validate

# ------------------------------------------------------------------------------ targets


def test_targets_that_are_not_regular_files_are_refused(tmp_path: Path) -> None:
    """A symlink, a device, a directory, a missing folder: one-line refusals."""
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "elsewhere.json")
    cases = {
        str(link): "symbolic link",
        "/dev/null": "not a regular file",
        str(tmp_path): "is a directory",
        str(tmp_path / "no" / "such.json"): "does not exist",
        "": "needs a file name",
    }
    for path, message in cases.items():
        with pytest.raises(UsageError, match=message):
            validate.check_target("--output", path)
    validate.check_target("--output", str(tmp_path / "new.json"))  # a new name is fine


# Run as root, the child becomes nobody (uid and gid in argv) once it has imported what it
# needs: root may write anywhere, and nobody may not read the interpreter under /root.
_CHECK_TARGET = """
import os, sys
from gilcompare.errors import UsageError
from gilcompare.report import validate
if len(sys.argv) > 2:
    os.setgroups([])
    os.setgid(int(sys.argv[3]))
    os.setuid(int(sys.argv[2]))
try:
    validate.check_target("--output", sys.argv[1])
except UsageError as exc:
    print(exc)
    sys.exit(2)
"""


def _unprivileged() -> list[str]:
    """The uid and gid of nobody when the tests run as root, who may write anywhere."""
    if os.geteuid() != 0:
        return []
    import pwd

    nobody = pwd.getpwnam("nobody")
    return [str(nobody.pw_uid), str(nobody.pw_gid)]


def test_unwritable_folder_is_refused() -> None:
    """A folder without write permission is refused before measuring; one with it is not
    (checked in a child that runs as nobody when the tests run as root)."""
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o755)  # the child must reach the folders to judge them
        locked, open_ = Path(folder, "locked"), Path(folder, "open")
        locked.mkdir(mode=0o555)
        open_.mkdir()
        os.chmod(open_, 0o777)
        check = [sys.executable, "-c", _CHECK_TARGET]
        try:
            runs = [
                subprocess.run(
                    [*check, str(target / "out.json"), *_unprivileged()],
                    capture_output=True,
                    text=True,
                    timeout=60,
                    cwd=folder,
                )
                for target in (locked, open_)
            ]
        finally:
            os.chmod(locked, 0o755)
    refused, accepted = runs
    assert refused.returncode == 2 and "is not writable" in refused.stdout, refused.stderr
    assert accepted.returncode == 0 and accepted.stdout == "", accepted.stderr


def test_write_never_replaces_a_symlink_made_after_the_check(tmp_path: Path) -> None:
    """A target that became a symlink between check and write is left alone."""
    target = tmp_path / "out.json"
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    target.symlink_to(victim)
    with pytest.raises(OSError):
        validate.write_file(str(target), "[]")
    assert target.is_symlink() and victim.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "victim"]


def test_concurrent_writes_never_mix(tmp_path: Path) -> None:
    """Many writers to one file: it always holds one writer's whole text, no temp file stays."""
    target = tmp_path / "out.json"
    texts = [json.dumps([{"writer": i, "pad": "x" * 50_000}]) for i in range(8)]

    def write(text: str) -> None:
        for _ in range(20):
            validate.write_file(str(target), text)

    threads = [threading.Thread(target=write, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert target.read_text() in texts
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_output_and_plot_targets_are_checked_before_measuring(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`run --output DIR` / `--plot DIR` exit 2 at once with one line; nothing is measured."""
    for option in ("--output", "--plot"):
        assert main(["run", "--workload", "count", option, str(tmp_path)]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and "is a directory" in err
    assert main(["run", "--output", "/dev/null"]) == 2
    assert "not a regular file" in capsys.readouterr().err


# ---------------------------------------------------------------------------- records

GOOD_RECORD: dict[str, Any] = {
    "workload": "count",
    "model": "threads",
    "workers": 2,
    "scaling": "strong",
    "mode": "warm",
    "status": "ok",
    "reason": "",
    "profile": "tiny",
    "task_units": 1,
    "tasks": 4,
    "repeat": 1,
    "times": [0.01],
    "serial_times": [0.012],
    "seconds": 0.01,
    "spread": 0.0,
    "speedup": 1.2,
    "efficiency": 0.6,
    "ideal": 2,
    "gil_enabled": True,
    "python": "3.11.7",
    "meta": {"python": "3.11.7"},
}


def _report(tmp_path: Path, payload: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "records.json"
    path.write_text(payload, encoding="utf-8")
    status = main(["report", str(path)])
    return status, capsys.readouterr().err


@pytest.mark.parametrize(
    "mutate,message",
    [
        (lambda r: r.pop("scaling"), "lacks 'scaling'"),
        (lambda r: r.update(workers="2"), 'workers is "2", expected an integer'),
        (lambda r: r.update(seconds=[1]), "seconds is [1], expected a finite number or null"),
        (lambda r: r.update(times=[1, "x"]), "expected a list of finite numbers"),
        (lambda r: r.update(workload="nope"), 'unknown workload "nope"'),
        (lambda r: r.update(status="great"), 'status is "great"'),
        (lambda r: r.update(meta=[]), "meta is [], expected a mapping"),
        (lambda r: r.update(gil_enabled="yes"), "expected true or false or null"),
    ],
)
def test_wrong_fields_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate: Any, message: str
) -> None:
    """A record with a missing field or a wrong type: exit 2, one line naming file and field."""
    record = dict(GOOD_RECORD)
    mutate(record)
    status, err = _report(tmp_path, json.dumps([record]), capsys)
    assert status == 2
    assert err.count("\n") == 1 and "records.json: record 1" in err and message in err, err


@pytest.mark.parametrize(
    "payload,message",
    [
        (json.dumps([GOOD_RECORD]).replace("0.01,", "NaN,", 1), "NaN is not a number JSON allows"),
        (json.dumps([GOOD_RECORD]).replace("1.2", "Infinity"), "Infinity is not a number"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (
            json.dumps([dict(GOOD_RECORD, meta={"a": "[" * 900 + "]" * 900})])
            .replace('"[', "[")
            .replace(']"', "]"),
            "record 1 nests deeper than 32 levels",
        ),
        (json.dumps([dict(GOOD_RECORD, workers=10**30)]), "workers is 1000"),
        (json.dumps([dict(GOOD_RECORD, speedup=-1.0)]), "speedup is -1.0, expected 0 to 1e+09"),
        ("", "is not JSON"),
        ("\udcff".encode("utf-8", "surrogatepass").decode("latin-1"), "is not JSON"),
    ],
)
def test_nan_infinity_and_deep_nesting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], payload: str, message: str
) -> None:
    """NaN, infinity and JSON nested far too deep are refused with one line."""
    status, err = _report(tmp_path, payload, capsys)
    assert status == 2 and err.count("\n") == 1 and message in err, err


def test_a_good_record_reads_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The reference record passes (so the mutations below start from something valid)."""
    status, err = _report(tmp_path, json.dumps([GOOD_RECORD]), capsys)
    assert status == 0, err


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELD_VALUES = JSON | st.sampled_from(
    ["count", "threads", "serial", "ok", "failed", "", 0, -1, 10**30, 1e308, -1e308, True, [], {}]
)


@st.composite
def mutated_records(draw: st.DrawFn) -> Any:
    """A valid records list, then a few random edits: a field replaced, dropped or added,
    a record swapped for any JSON value, the list wrapped or emptied."""
    records = [dict(GOOD_RECORD) for _ in range(draw(st.integers(1, 3)))]
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(records) - 1))
        action = draw(st.sampled_from(["replace", "drop", "add", "record", "nan", "wrap"]))
        record = records[i]
        if action == "replace" and isinstance(record, dict):
            record[draw(st.sampled_from(sorted(GOOD_RECORD)))] = draw(FIELD_VALUES)
        elif action == "drop" and isinstance(record, dict) and record:
            record.pop(draw(st.sampled_from(sorted(record))))
        elif action == "add" and isinstance(record, dict):
            record[draw(st.text(max_size=8))] = draw(JSON)
        elif action == "record":
            records[i] = draw(JSON)
        elif action == "nan" and isinstance(record, dict):
            record[draw(st.sampled_from(sorted(GOOD_RECORD)))] = draw(
                st.sampled_from([math.nan, math.inf, -math.inf])
            )
        elif action == "wrap":
            return draw(st.sampled_from([{"results": records}, records[0], [records]]))
    return records


def _as_text(data: Any) -> str:
    return json.dumps(data)  # writes NaN/Infinity as JSON's own extension does


@pytest.mark.once
@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=mutated_records() | JSON)
def test_report_never_crashes_on_any_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: Any
) -> None:
    """Mutated and random records: `report` prints a table (0) or one line (2), no traceback."""
    status, err = _report(tmp_path, _as_text(data), capsys)
    assert status in (0, 2), err
    if status == 2:
        assert err.count("\n") == 1 and err.startswith("gilcompare: error: ")


@settings(max_examples=1000, deadline=None)
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(lambda t: t.encode("utf-8")))
def test_records_reader_never_crashes_on_any_bytes(raw: bytes) -> None:
    """Random bytes: read_json returns a value or raises UsageError, nothing else."""
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        f.write(raw)
        f.flush()
        try:
            data = validate.read_json(f.name, "results file", "expected records")
            validate.results_records(data, f.name, "expected records")
        except UsageError as exc:
            assert "\n" not in str(exc)


def test_devices_and_fifos_are_not_read(tmp_path: Path) -> None:
    """/dev/zero would never end and a FIFO would block: both are refused before reading."""
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    for path in ("/dev/zero", str(fifo)):
        with pytest.raises(UsageError, match="not a regular file"):
            validate.read_json(path, "results file", "expected records")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=mutated_records())
def test_report_plot_never_crashes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: Any
) -> None:
    """Whatever `report` accepts, `--plot` draws or declines in one line: never a traceback."""
    pytest.importorskip("matplotlib")
    path = tmp_path / "records.json"
    path.write_text(_as_text(data), encoding="utf-8")
    status = main(["report", str(path), "--plot", str(tmp_path / "p.png")])
    err = capsys.readouterr().err
    assert status in (0, 1, 2), err
    assert "Traceback" not in err


def _refusal(call: Any) -> str:
    with pytest.raises(UsageError) as info:
        call()
    return str(info.value)


def test_check_target_says_why_in_full(tmp_path: Path) -> None:
    """Each refused target gets its whole one-line reason: empty, folder, link, device,
    missing folder."""
    (tmp_path / "d").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    check = validate.check_target
    assert _refusal(lambda: check("--output", "")) == "--output needs a file name, got ''"
    where = f"cannot write --output {str(tmp_path / 'd')!r}"
    assert _refusal(lambda: check("--output", str(tmp_path / "d"))) == (
        f"{where}: it is a directory; give a file name"
    )
    link = str(tmp_path / "link")
    assert _refusal(lambda: check("--output", link)) == (
        f"cannot write --output {link!r}: it is a symbolic link, which is never replaced; "
        "give a new name"
    )
    assert _refusal(lambda: check("--output", "/dev/null")) == (
        "cannot write --output '/dev/null': it is not a regular file, which is never "
        "replaced; give a new name"
    )
    gone = str(tmp_path / "no" / "r.json")
    assert _refusal(lambda: check("--plot", gone)) == (
        f"cannot write --plot {gone!r}: folder {tmp_path / 'no'} does not exist"
    )
    check("--output", str(tmp_path / "new.json"))  # a new name in a writable folder


def test_write_file_replaces_in_one_step_and_leaves_no_temporary(tmp_path: Path) -> None:
    """The text lands whole, in UTF-8, and no temporary file is left beside it."""
    target = tmp_path / "r.json"
    target.write_text("old", encoding="utf-8")
    validate.write_file(str(target), "speedup 1.9× — ok\n")
    assert target.read_bytes() == "speedup 1.9× — ok\n".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_write_file_refuses_what_became_a_link(tmp_path: Path) -> None:
    """A target turned into a symbolic link since the check is not written through."""
    (tmp_path / "real").write_text("keep", encoding="utf-8")
    (tmp_path / "r.json").symlink_to(tmp_path / "real")
    with pytest.raises(OSError, match=r"r\.json is no longer a regular file$"):
        validate.write_file(str(tmp_path / "r.json"), "new")
    assert (tmp_path / "real").read_text(encoding="utf-8") == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "real"]


def test_read_json_refusals_in_full(tmp_path: Path) -> None:
    """Not a file, not JSON, NaN where none is allowed, too big: each one whole line."""
    read = validate.read_json
    assert _refusal(lambda: read("/dev/null", "results file", "a list")) == (
        "cannot read results file /dev/null: it is not a regular file"
    )
    bad = tmp_path / "bad.json"
    bad.write_text("[1, NaN]", encoding="utf-8")
    assert _refusal(lambda: read(str(bad), "results file", "a list")) == (
        f"not a results file: {bad} is not JSON (NaN is not a number JSON allows; a list)"
    )
    nan = read(str(bad), "results file", "a list", allow_nan=True)
    assert nan[0] == 1 and math.isnan(nan[1])
    inf = tmp_path / "inf.json"
    inf.write_text("[Infinity]", encoding="utf-8")
    assert _refusal(lambda: read(str(inf), "asv file", "x", allow_nan=True)) == (
        f"not an asv file: {inf} is not JSON (Infinity is not a number JSON allows; x)"
    )
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'["\xe9"]')
    assert _refusal(lambda: read(str(latin), "results file", "a list")).startswith(
        f"not a results file: {latin} is not JSON ('utf-8' codec can't decode"
    )
    good = tmp_path / "good.json"
    good.write_text('{"é": [1.5]}', encoding="utf-8")
    assert read(str(good), "results file", "a list") == {"é": [1.5]}
    assert _refusal(lambda: read(str(tmp_path / "none.json"), "results file", "x")) == (
        f"cannot read results file {tmp_path / 'none.json'}: No such file or directory"
    )


def test_read_json_refuses_a_file_larger_than_any_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above MAX_BYTES the file is refused by its size, before it is read; at it, read."""
    monkeypatch.setattr(validate, "MAX_BYTES", 4)
    big = tmp_path / "big.json"
    big.write_text("[1,2]", encoding="utf-8")
    assert _refusal(lambda: validate.read_json(str(big), "results file", "x")) == (
        f"not a results file: {big} has 5 bytes, more than the 4 any such file needs"
    )
    big.write_text("[12]", encoding="utf-8")
    assert validate.read_json(str(big), "results file", "x") == [12]


def test_describe_and_depth() -> None:
    """Values in messages are cut at 30 characters; depth counts containers, not values."""
    assert validate._describe(1.5) == "1.5"
    assert validate._describe("x" * 40) == '"' + "x" * 26 + "..."
    assert validate._describe("x" * 28) == '"' + "x" * 28 + '"'
    assert validate._describe({1, 2}) in ('"{1, 2}"', '"{2, 1}"')
    assert validate._too_deep([[1]], 2) is False and validate._too_deep([[[1]]], 2) is True
    assert validate._too_deep({"a": {"b": 1}}, 1) is True and validate._too_deep(1, 0) is False
    assert validate._a("asv file") == "an asv file" and validate._a("file") == "a file"


def test_describe_edges() -> None:
    """NaN reads as Python writes it; what JSON cannot write is named by type; 31 is cut."""
    loop: list[Any] = []
    loop.append(loop)
    assert validate._describe(math.nan) == "nan"
    assert validate._describe(loop) == "list"
    assert validate._describe("x" * 29) == '"' + "x" * 26 + "..."


def test_written_files_follow_the_umask(tmp_path: Path) -> None:
    """A written file has the permissions the umask gives a new file (0644 under 022), not
    the temporary file's 0600."""
    old = os.umask(0o022)
    try:
        validate.write_file(str(tmp_path / "out.json"), "[]")
        validate.write_file(str(tmp_path / "out.png"), b"\x89PNG")
    finally:
        os.umask(old)
    assert (tmp_path / "out.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "out.png").read_bytes() == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "out.png"]


def test_two_options_naming_one_file_are_refused_before_measuring(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--output and --plot on the same file (also through a symlinked folder): exit 2."""
    (tmp_path / "alias").symlink_to(tmp_path)
    argv = ["--output", f"{tmp_path}/same.svg", "--plot", f"{tmp_path}/alias/same.svg"]
    assert main(["run", "--workload", "count", "--model", "serial", *argv, "--dry-run"]) == 2
    assert "name the same file" in capsys.readouterr().err


def test_a_name_the_folder_accepts_is_written(tmp_path: Path) -> None:
    """Any name that passes the check can be written: the temporary name beside it is short,
    so a 250-byte name (which the check accepts) does not fail after measuring."""
    path = tmp_path / ("y" * 250)
    validate.check_target("--output", str(path))
    validate.write_file(str(path), "[]")
    assert path.read_text() == "[]"


def test_a_plot_over_the_file_read_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """report FILE --plot FILE would replace the results with a picture: exit 2, kept."""
    results = tmp_path / "run.svg"
    results.write_text("[]")
    assert main(["report", str(results), "--plot", str(results)]) == 2
    assert "name the same file" in capsys.readouterr().err
    assert results.read_text() == "[]"
