"""Tests for gilcompare.measure.builds: what a build and a host are, and a free-threading
cost only between twin builds."""

from __future__ import annotations

import platform
import sys
import sysconfig
from pathlib import Path

import pytest

from gilcompare.measure import builds
from gilcompare.measure.builds import BuildInfo

PLAIN = "'--prefix={p}' '--with-ensurepip=install'"


def build(version: str, free: bool, args: str = PLAIN, shared: bool = False) -> BuildInfo:
    prefix = f"/opt/{version}{'t' if free else ''}"
    config = args.format(p=prefix) + (" '--disable-gil'" if free else "")
    return BuildInfo(
        path=f"{prefix}/bin/python3",
        version=version,
        free_threaded=free,
        config_args=config,
        shared=shared,
        prefix=prefix,
    )


@pytest.mark.parametrize("version", ["3.13.15", "3.14.7", "3.15.0rc1"])
def test_twins_match(version: str) -> None:
    """The same full version and flags, --disable-gil and the prefix set aside: a pair."""
    assert builds.mismatch(build(version, False), build(version, True)) is None


@pytest.mark.parametrize(
    ("gil", "free", "message"),
    [
        (build("3.13.0", False), build("3.13.15", True), "same version: 3.13.15 free"),
        (build("3.15.0", False), build("3.15.0rc1", True), "same version"),
        (build("3.15.0rc1", False), build("3.15.0rc2", True), "same version"),
        (build("3.14.7", True), build("3.14.7", True), "GIL build against a free-threaded"),
        (build("3.14.7", False), build("3.14.7", False), "GIL build against a free-threaded"),
        (
            build("3.13.15", False, PLAIN + " '--enable-shared'"),
            build("3.13.15", True),
            "only /opt/3.13.15/bin/python3 has ['--enable-shared']",
        ),
        (
            build("3.14.7", False),
            build("3.14.7", True, PLAIN + " '--enable-optimizations' '--with-lto'"),
            "has ['--enable-optimizations', '--with-lto']",
        ),
        (build("3.14.7", False, shared=True), build("3.14.7", True), "shared-library"),
    ],
)
def test_anything_else_is_refused_with_its_reason(
    gil: BuildInfo, free: BuildInfo, message: str
) -> None:
    """Another version (pre-release tags count), another kind or other flags: refused."""
    reason = builds.mismatch(gil, free)
    assert reason is not None and message in reason


def test_flags_name_pgo_lto_and_record_the_build() -> None:
    """What a record says about a build: full version, path, PGO, LTO, shared."""
    b = build("3.15.0rc1", True, PLAIN + " '--enable-optimizations' '--with-lto=full'", True)
    assert b.pgo and b.lto and "--disable-gil" not in b.flags and "--prefix=<prefix>" in b.flags
    record = b.record()
    assert record["version"] == "3.15.0rc1" and record["path"] == b.path and record["shared"]


def test_probe_reads_the_running_interpreter() -> None:
    """The probe asks the build itself: full version, free-threading, configure flags."""
    import platform
    import sysconfig

    b = builds.probe(sys.executable)
    assert b.version == platform.python_version()
    assert b.free_threaded == bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    assert b.config_args == (sysconfig.get_config_var("CONFIG_ARGS") or "")
    with pytest.raises(ValueError, match="cannot ask"):
        builds.probe("/nonexistent/python")


def test_build_says_whether_the_stdlib_is_byte_compiled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """stdlib_bytecode is True only when every module a run imports has its bytecode."""
    import py_compile

    monkeypatch.setattr(sysconfig, "get_paths", lambda: {"stdlib": str(tmp_path)})
    sources = [tmp_path / name for name in builds._BYTECODE_WITNESSES]
    for source in sources:
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text("x = 1\n")
    assert builds.describe_build()["stdlib_bytecode"] is False
    for source in sources[:-1]:
        py_compile.compile(str(source), doraise=True)
    assert builds.describe_build()["stdlib_bytecode"] is False  # one still missing
    py_compile.compile(str(sources[-1]), doraise=True)
    assert builds.describe_build()["stdlib_bytecode"] is True


@pytest.mark.parametrize(
    ("config_args", "options", "pgo", "lto"),
    [
        ("'--prefix=/x' '--enable-shared' '--libdir=/x/lib'", ["--enable-shared"], False, False),
        ("'--prefix=/x' '--disable-gil' '--with-ensurepip=install'", [], False, False),
        (
            "'--enable-optimizations' '--with-lto=full'",
            ["--enable-optimizations", "--with-lto=full"],
            True,
            True,
        ),
    ],
)
def test_build_options_are_the_ones_that_change_speed(
    monkeypatch: pytest.MonkeyPatch, config_args: str, options: list[str], pgo: bool, lto: bool
) -> None:
    """Paths, --disable-gil and ensurepip are left out, so a matched pair has equal options."""
    real = sysconfig.get_config_var
    monkeypatch.setattr(
        sysconfig,
        "get_config_var",
        lambda name: config_args if name == "CONFIG_ARGS" else real(name),
    )
    build = builds.describe_build()
    assert (build["options"], build["pgo"], build["lto"]) == (options, pgo, lto)


@pytest.mark.parametrize(
    ("text", "cpus"),
    [("200000 100000\n", 2.0), ("50000 100000", 0.5), ("max 100000", None), ("junk", None)],
)
def test_cgroup_quota(tmp_path: Path, text: str, cpus: float | None) -> None:
    """A cgroup v2 cpu.max quota reads as CPUs; no limit or an unreadable file is None."""
    path = tmp_path / "cpu.max"
    path.write_text(text)
    assert builds._cgroup_cpus(str(path)) == cpus


def test_build_of_another_interpreter_is_its_own_answer() -> None:
    """Asking an interpreter by path gives what it says of itself in-process."""
    here = builds.describe_build()
    there = builds.build_of(sys.executable)
    assert there == {**here, "executable": there["executable"]}
    assert there["version"] == platform.python_version()


def test_loads_by_path_with_the_standard_library_alone(tmp_path: Path) -> None:
    """noxfile.py loads this module by path, where gilcompare may not be installed."""
    import subprocess

    code = (
        "import importlib.util, sys; "
        "spec = importlib.util.spec_from_file_location('b', sys.argv[1]); "
        "m = importlib.util.module_from_spec(spec); sys.modules['b'] = m; "
        "spec.loader.exec_module(m); print(m.describe_host()['cpu_count'])"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, builds.__file__],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) >= 1
