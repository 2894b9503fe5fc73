"""Tests for gilcompare.measure.builds: what a build and a host are, and a free-threading
cost only between twin builds."""

from __future__ import annotations

import platform
import sys
import sysconfig
from pathlib import Path
from types import ModuleType

import pytest

from gilcompare.measure import builds, speed
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
    (tmp_path / "cpu.max").write_text(text)
    own = tmp_path / "own"
    own.write_text("0::/\n")
    assert builds._cgroup_cpus(str(tmp_path), str(own)) == cpus


def test_cgroup_quota_is_the_tightest_of_the_process_cgroup_and_its_parents(
    tmp_path: Path,
) -> None:
    """A limit set on a parent of the process's own cgroup (v2) or in v1's cfs files counts."""
    (tmp_path / "box" / "job").mkdir(parents=True)
    (tmp_path / "box" / "cpu.max").write_text("300000 100000\n")
    (tmp_path / "box" / "job" / "cpu.max").write_text("max 100000\n")
    own = tmp_path / "own"
    own.write_text("0::/box/job\n")
    assert builds._cgroup_cpus(str(tmp_path), str(own)) == 3.0
    v1 = tmp_path / "v1" / "cpu,cpuacct" / "ci"
    v1.mkdir(parents=True)
    (v1 / "cpu.cfs_quota_us").write_text("150000\n")
    (v1 / "cpu.cfs_period_us").write_text("100000\n")
    own.write_text("4:memory:/x\n2:cpu,cpuacct:/ci\n")
    assert builds._cgroup_cpus(str(tmp_path / "v1"), str(own)) == 1.5


def test_usable_cpus_rounds_a_quota_up_and_never_exceeds_affinity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Usable CPUs: affinity bounded by the quota, a fraction rounded up, at least one."""
    monkeypatch.setattr(builds.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    for quota, usable in [(None, 4), (1.5, 2), (0.5, 1), (16.0, 4)]:
        monkeypatch.setattr(builds, "_cgroup_cpus", lambda q=quota: q)
        assert builds.usable_cpus() == usable


def test_build_of_another_interpreter_is_its_own_answer() -> None:
    """Asking an interpreter by path gives what it says of itself in-process."""
    here = builds.describe_build()
    there = builds.build_of(sys.executable)
    assert there == {**here, "executable": there["executable"]}
    assert there["version"] == platform.python_version()


@pytest.mark.parametrize(
    "module,check",
    [(builds, "m.describe_host()['cpu_count'] >= 1"), (speed, "m.host_speed(1)['loop_s'] > 0")],
)
def test_loads_by_path_with_the_standard_library_alone(
    tmp_path: Path, module: ModuleType, check: str
) -> None:
    """noxfile.py loads these modules by path, where gilcompare may not be installed."""
    import subprocess

    code = (
        "import importlib.util, sys; "
        "spec = importlib.util.spec_from_file_location('b', sys.argv[1]); "
        "m = importlib.util.module_from_spec(spec); sys.modules['b'] = m; "
        f"spec.loader.exec_module(m); print({check})"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, module.__file__],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True"


def test_a_run_on_fewer_cpus_is_another_host() -> None:
    """An asv machine entry of 2 usable CPUs and a run that may use 1 (taskset -c 0): refused,
    with a name to file it under; the same count, or an entry without one, is this host."""
    reason = builds.other_host({"machine": "vm", "num_cpu": "2"}, 1, "vm")
    assert reason is not None and "GILCOMPARE_MACHINE=vm-1cpu" in reason
    assert reason.startswith("asv machine 'vm' has 2 usable CPUs, and this run may use 1")
    assert builds.other_host({"machine": "vm", "num_cpu": "2"}, 2, "vm") is None
    assert builds.other_host({"machine": "vm"}, 1, "vm") is None


def test_a_machine_entry_without_the_hosts_identity_gets_it() -> None:
    """An entry asv did not generate (a name, the OS and the RAM) lacks what tells hosts
    apart; one that has them, even with other values, is left alone."""
    missing = builds.missing_identity({"machine": "box", "os": "Linux 6.18", "ram": "24 GiB"})
    assert set(missing) == {"arch", "cpu", "num_cpu"}
    assert missing["num_cpu"] == str(builds.usable_cpus()) and missing["arch"]
    full = {"arch": "x86_64", "cpu": "Some CPU", "num_cpu": "64"}
    assert builds.missing_identity(full) == {}
    assert set(builds.missing_identity({"arch": "x86_64", "cpu": ""})) == {"cpu", "num_cpu"}


def test_a_host_is_not_filed_under_a_machine_that_holds_another_kind() -> None:
    """A fresh AMD host named vm, where results/vm holds an Intel host: refused, pointing to
    the machine whose results are this kind of host, or to a new name; the same kind, or a
    machine with no results yet, is accepted."""
    intel = {"arch": "x86_64", "cpu": "Intel(R) Xeon(R) Processor", "num_cpu": "2"}
    amd = {"arch": "x86_64", "cpu": "AMD EPYC", "num_cpu": "2"}
    filed = {"vm": {**intel, "machine": "vm"}, "box": {**amd, "machine": "box"}}
    reason = builds.filed_host(filed["vm"], "vm", amd, filed)
    assert reason is not None and reason.startswith("results/vm holds another kind of host")
    assert "cpu Intel(R) Xeon(R) Processor; this one has cpu AMD EPYC" in reason
    assert reason.endswith("GILCOMPARE_MACHINE=box, whose results are this kind of host")
    alone = builds.filed_host(filed["vm"], "vm", amd, {"vm": filed["vm"]})
    assert alone is not None and alone.endswith("e.g. GILCOMPARE_MACHINE=vm-amd-epyc")
    assert builds.filed_host(filed["box"], "box", amd, filed) is None
    assert builds.filed_host({}, "new", amd, filed) is None
    assert builds.filed_host(filed["vm"], "vm", {**intel, "num_cpu": "2"}, filed) is None


def test_the_host_identity_is_what_a_machine_entry_records() -> None:
    here = builds.host_identity()
    assert set(here) == set(builds.IDENTITY) and here["num_cpu"] == str(builds.usable_cpus())
