"""Tests for gilcompare.interpreters."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from gilcompare import interpreters
from gilcompare.interpreters import (
    BuildTag,
    Interpreter,
    discover,
    format_table,
    link_dir,
    probe_interpreter,
    to_json,
)

RUNNING_TAG = "{}.{}{}".format(
    *sys.version_info[:2], "t" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""
)


def test_discover_finds_running_interpreter() -> None:
    """The interpreter running the tests is found, at its patch level or newer."""
    found = {i.tag: i for i in discover()}
    assert RUNNING_TAG in found
    assert found[RUNNING_TAG].version_tuple >= tuple(sys.version_info[:3])


def test_discover_is_one_per_tag_and_sorted() -> None:
    """Each tag appears once, all are 3.9+, and the list is sorted by version."""
    found = discover()
    tags = [i.tag for i in found]
    assert len(tags) == len(set(tags))
    assert all(i.version_tuple[:2] >= (3, 9) for i in found)
    keys = [(i.version_tuple[:2], i.free_threaded) for i in found]
    assert keys == sorted(keys)


def test_discover_skips_shims(tmp_path: Path) -> None:
    """A working python under a shims directory is never returned."""
    shims = tmp_path / "shims"
    shims.mkdir()
    shim = shims / "python3.99"
    # answers the probe as a Python no real interpreter here is, so only the shim can be it
    answer = {"version": "3.99.0", "implementation": "CPython", "free_threaded": False}
    shim.write_text(f"#!/bin/sh\necho '{json.dumps(answer)}'\n")
    shim.chmod(0o755)
    assert probe_interpreter(shim).version == "3.99.0"  # a working "python", were it probed
    environ = {**os.environ, "PATH": f"{shims}{os.pathsep}{os.environ.get('PATH', '')}"}
    assert str(shim) not in interpreters.candidate_paths(environ)
    found = discover(environ)
    assert found and "3.99.0" not in {i.version for i in found}


@pytest.mark.parametrize("kind", ["true", "text", "missing"])
def test_probe_rejects_non_python(tmp_path: Path, kind: str) -> None:
    """Probing something that is not python raises a one-line ValueError naming it."""
    if kind == "true":
        path = "/bin/true"
    elif kind == "text":
        text = tmp_path / "notes.txt"
        text.write_text("hello\n")
        path = str(text)
    else:
        path = str(tmp_path / "absent")
    with pytest.raises(ValueError, match="^not a python interpreter: ") as excinfo:
        probe_interpreter(path)
    message = str(excinfo.value)
    assert "\n" not in message
    assert message.endswith(path)


def test_probe_describes_running_interpreter() -> None:
    """Probing sys.executable reports its version and build."""
    found = probe_interpreter(sys.executable)
    assert found.version_tuple == tuple(sys.version_info[:3])
    assert found.tag == RUNNING_TAG
    assert found.implementation == "CPython"


def test_link_dir_creates_working_links(tmp_path: Path) -> None:
    """Links named python3.X[t] run the interpreter, and stale links are removed."""
    found = probe_interpreter(sys.executable)
    dest = link_dir([found], tmp_path / "bin")
    link = dest / f"python{RUNNING_TAG}"
    out = subprocess.run(
        [str(link), "-c", "import sys; print(sys.version_info[:3])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == str(tuple(sys.version_info[:3]))
    link_dir([found], dest)
    assert link.resolve() == Path(found.path).resolve()
    link_dir([], dest)
    assert not link.exists()


def test_format_table_and_json() -> None:
    """The table aligns its columns and the JSON carries each tag."""
    items = [
        Interpreter(version="3.9.18", free_threaded=False, path="/a/python3.9"),
        Interpreter(version="3.13.0", free_threaded=True, path="/b/python3.13t"),
    ]
    lines = format_table(items).splitlines()
    assert lines[0].split() == ["python", "free-threaded", "path"]
    assert {line.index("/") for line in lines[1:]} == {lines[0].index("path")}
    assert [entry["tag"] for entry in json.loads(to_json(items))] == ["3.9", "3.13t"]


@pytest.mark.parametrize(
    ("release", "ram", "expected"),
    [
        ("6.18.44-fc-v657", 25_276_510_208, {"ram": "24 GiB"}),
        ("6.18.44-fc-v669", 25_276_502_016, {"ram": "24 GiB"}),
        ("6.19.1", 8 * 2**30, {"ram": "8 GiB"}),
    ],
)
def test_asv_machine_survives_kernel_builds(
    release: str, ram: int, expected: dict[str, str]
) -> None:
    """Two kernel builds of one series and a few KiB of RAM apart describe the same machine
    (one line of history on the site); a new series does not."""
    described = interpreters.asv_machine(release, ram)
    major_minor = ".".join(release.split(".")[:2])
    assert described == {"os": f"{platform.system()} {major_minor}", **expected}


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("3.15.0a3", "3.15.0b1"),
        ("3.15.0b1", "3.15.0rc1"),
        ("3.15.0rc1", "3.15.0rc2"),
        ("3.15.0rc2", "3.15.0"),
        ("3.13.0", "3.13.15"),
        ("3.13.9", "3.13.10"),
    ],
)
def test_version_key_puts_releases_after_their_pre_releases(older: str, newer: str) -> None:
    """A release sorts after its release candidates, and patch numbers compare as numbers."""
    assert interpreters.version_key(older) < interpreters.version_key(newer)


@pytest.mark.parametrize("bad", ["3.15", "3.15.0rc", "3.15.0c1", "3.15.0+", ""])
def test_version_key_refuses_what_is_no_version(bad: str) -> None:
    """A malformed version is a one-line error naming the expected shapes."""
    with pytest.raises(ValueError, match="expected e.g. 3.14.7 or 3.15.0rc1"):
        interpreters.version_key(bad)


def test_pre_release_is_labelled() -> None:
    """A release candidate keeps its full version and says what it is; a release says nothing."""
    rc = Interpreter(version="3.15.0rc1", free_threaded=True, path="/x/python3.15t")
    assert (rc.tag, rc.version_tuple, rc.label) == (
        "3.15t",
        (3, 15, 0),
        "3.15.0rc1 (release candidate)",
    )
    assert Interpreter(version="3.15.0b2", free_threaded=False, path="/x").prerelease == "beta"
    assert Interpreter(version="3.14.7", free_threaded=False, path="/x").label == "3.14.7"
    assert "3.15.0rc1 (release candidate)" in format_table([rc])


def _fake_pythons(root: Path, versions: list[str]) -> dict[str, str]:
    """pyenv-like folders whose python3.97 answers the probe with each version."""
    for version in versions:
        folder = root / "versions" / version / "bin"
        folder.mkdir(parents=True)
        script = folder / "python3.97"
        answer = {"version": version, "implementation": "CPython", "free_threaded": False}
        script.write_text(f"#!/bin/sh\necho '{json.dumps(answer)}'\n")
        script.chmod(0o755)
    return {"PATH": "", "PYENV_ROOT": str(root), "UV_PYTHON_INSTALL_DIR": str(root / "uv")}


@pytest.mark.parametrize(
    ("installed", "chosen"),
    [
        (["3.97.0", "3.97.15"], "3.97.15"),  # the newest patch wins (3.13.15 over 3.13.0)
        (["3.97.0rc1", "3.97.0"], "3.97.0"),  # the release over its candidate
        (["3.97.0rc1", "3.97.0b4"], "3.97.0rc1"),
    ],
)
def test_discover_takes_the_newest_release(
    tmp_path: Path, installed: list[str], chosen: str
) -> None:
    """Of several builds of one tag, discovery keeps the newest, pre-releases counted right."""
    found = [i for i in discover(_fake_pythons(tmp_path, installed)) if i.tag == "3.97"]
    assert [i.version for i in found] == [chosen]


def test_probe_keeps_the_pre_release_of_the_running_interpreter() -> None:
    """The probe reports the version as Python writes it, pre-release included."""
    assert probe_interpreter(sys.executable).version == platform.python_version()


# --- build tags ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("3.9", (3, 9, False, False)),
        ("3.14", (3, 14, False, False)),
        ("3.14t", (3, 14, True, False)),
        ("3.14t+gil", (3, 14, True, True)),
        ("3.15t+gil", (3, 15, True, True)),
        ("4.0", (4, 0, False, False)),
    ],
)
def test_build_tag_round_trip(text: str, fields: tuple[int, int, bool, bool]) -> None:
    """A tag parses to its version, build and twin, and prints back as the same text."""
    tag = BuildTag.parse(text)
    assert (tag.major, tag.minor, tag.free_threaded, tag.gil_forced) == fields
    assert str(tag) == text
    assert BuildTag.parse(str(BuildTag(*fields))) == tag


@pytest.mark.parametrize(
    "text",
    ["", "3", "3.", "3.14.1", "3.14T", "3.14+gil+gil", "3.14tt", "py3.14", "3.14t+GIL",
     "3.14t +gil", " 3.14", "3.14t+gil ", "3.x", "3.14-gil", "3.14gil"],
)  # fmt: skip
def test_malformed_build_tags_are_refused(text: str) -> None:
    """Anything but major.minor[t][+gil] is refused, and the error shows the valid forms."""
    with pytest.raises(ValueError, match=r"not a build tag: .*e\.g\. 3\.14, 3\.14t or 3\.14t\+gil"):
        BuildTag.parse(text)


def test_only_a_free_threaded_build_has_a_twin() -> None:
    """3.14+gil is refused: PYTHON_GIL=1 names a twin only of a free-threaded build."""
    with pytest.raises(ValueError, match=r"3\.14\+gil .* has the GIL already.* e\.g\. 3\.14t\+gil"):
        BuildTag.parse("3.14+gil")
    with pytest.raises(ValueError, match="has the GIL already"):
        BuildTag(major=3, minor=14, free_threaded=False, gil_forced=True)


@pytest.mark.parametrize(
    ("version", "free", "python_gil", "text"),
    [
        ("3.14.0", False, None, "3.14"),
        ("3.15.0rc1", True, None, "3.15t"),
        ("3.15.0a2", True, "1", "3.15t+gil"),
        ("3.14.2", False, "1", "3.14"),  # a GIL build has the GIL anyway
        ("3.14.2", True, "0", "3.14t"),
        ("3.14t", True, "", "3.14t"),
        ("3.13.1+", False, None, "3.13"),
    ],
)
def test_build_tag_of_a_version(
    version: str, free: bool, python_gil: str | None, text: str
) -> None:
    """Pre-releases and local versions still tag as major.minor, +gil only under PYTHON_GIL=1."""
    assert str(BuildTag.of(version, free, python_gil)) == text


def test_build_tag_of_no_version_is_refused() -> None:
    """A version without major.minor is refused with the expected form."""
    with pytest.raises(ValueError, match="not a python version: 'three'"):
        BuildTag.of("three", False)


def test_build_tags_order_by_version_then_build_then_twin() -> None:
    """Versions compare as numbers (3.9 < 3.10); a GIL build, its free-threaded build, its twin."""
    labels = ["3.14t+gil", "3.10", "3.14t", "3.9", "3.14", "3.13t", "3.13"]
    ordered = sorted(labels, key=lambda t: BuildTag.parse(t).sort_key)
    assert ordered == ["3.9", "3.10", "3.13", "3.13t", "3.14", "3.14t", "3.14t+gil"]


def test_build_tag_interpreter_and_twin() -> None:
    """The twin of 3.14t is 3.14t+gil, and the interpreter either one runs is 3.14t."""
    free = BuildTag.parse("3.14t")
    assert str(free.twin) == "3.14t+gil"
    assert free.twin.interpreter == free and free.interpreter == free


def test_interpreter_tag_ignores_the_patch_level() -> None:
    """An interpreter's tag is its build's: 3.15t for a free-threaded 3.15.0."""
    assert Interpreter(version="3.15.0", free_threaded=True, path="/x").tag == "3.15t"
    assert Interpreter(version="3.9.18", free_threaded=False, path="/x").tag == "3.9"


def test_interpreters_module_imports_by_path_with_the_standard_library() -> None:
    """noxfile.py loads interpreters.py by path: no gilcompare on sys.path, -I -S."""
    path = Path(interpreters.__file__)
    code = (
        "import importlib.util, sys; "
        f"spec = importlib.util.spec_from_file_location('m', {str(path)!r}); "
        "m = importlib.util.module_from_spec(spec); sys.modules['m'] = m; "
        "spec.loader.exec_module(m); print(m.BuildTag.parse('3.14t+gil'))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, cwd="/"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "3.14t+gil"


def test_version_key_orders_pre_releases_before_the_release() -> None:
    """alpha < beta < release candidate < release, each by its serial; a release ranks 3."""
    from gilcompare.interpreters import version_key

    assert version_key("3.15.0") == (3, 15, 0, 3, 0)
    assert version_key("3.15.0a3") == (3, 15, 0, 0, 3)
    assert version_key("3.15.0b1") == (3, 15, 0, 1, 1)
    assert version_key("3.15.0rc2") == (3, 15, 0, 2, 2)
    versions = ["3.15.1", "3.15.0", "3.15.0rc1", "3.15.0b1", "3.15.0a3", "3.15.0a10"]
    assert sorted(versions, key=version_key) == [
        "3.15.0a3", "3.15.0a10", "3.15.0b1", "3.15.0rc1", "3.15.0", "3.15.1",
    ]  # fmt: skip


def test_table_and_json_of_interpreters() -> None:
    """The table aligns label, free-threaded and path; the JSON adds tag and pre-release."""
    from gilcompare.interpreters import Interpreter, format_table, to_json

    rc = Interpreter("3.15.0rc1", False, "/x/python3.15")
    ft = Interpreter("3.14.2", True, "/y")
    assert format_table([rc, ft]).splitlines() == [
        "python                         free-threaded  path",
        "3.15.0rc1 (release candidate)  no             /x/python3.15",
        "3.14.2                         yes            /y",
    ]
    assert json.loads(to_json([rc, ft])) == [
        {
            "version": "3.15.0rc1",
            "free_threaded": False,
            "path": "/x/python3.15",
            "implementation": "CPython",
            "tag": "3.15",
            "prerelease": "release candidate",
        },
        {
            "version": "3.14.2",
            "free_threaded": True,
            "path": "/y",
            "implementation": "CPython",
            "tag": "3.14t",
            "prerelease": None,
        },
    ]


def test_asv_machine_names_the_kernel_series_and_whole_gib() -> None:
    """Kernel builds of one series and a few kilobytes of RAM do not start a new history."""

    from gilcompare.interpreters import asv_machine

    system = platform.system()
    assert asv_machine("6.18.44-fc-v657", 8 * 2**30 + 5000) == {
        "os": f"{system} 6.18",
        "ram": "8 GiB",
    }
    assert asv_machine("6.18.50-fc-v669", 8 * 2**30 - 5000)["os"] == f"{system} 6.18"
    assert asv_machine("weird", 3 * 2**30)["os"] == f"{system} weird"
    assert asv_machine("", 0) == {"os": system}


def test_json_of_interpreters_is_indented_by_two() -> None:
    """`gilcompare pythons --json` is meant to be read: two spaces a level."""
    from gilcompare.interpreters import Interpreter, to_json

    assert to_json([Interpreter("3.14.2", True, "/y")]).startswith(
        '[\n  {\n    "version": "3.14.2",\n'
    )


@pytest.mark.skipif(not hasattr(os, "sysconf"), reason="no sysconf here")
def test_asv_machine_reads_this_machine() -> None:
    """Without arguments: this kernel's series, and this machine's RAM in whole GiB."""
    from gilcompare.interpreters import asv_machine

    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    described = asv_machine()
    assert described["ram"] == f"{round(ram / 2**30)} GiB"
    series = ".".join(platform.release().split(".")[:2])
    assert described["os"].startswith(f"{platform.system()} ")
    assert described["os"].split(" ", 1)[1].split("-")[0] in (series, platform.release())
