"""Tests for gilcompare.measure.builds: a free-threading cost only between twin builds."""

from __future__ import annotations

import sys

import pytest

from gilcompare.measure import builds
from gilcompare.measure.builds import BuildInfo

PLAIN = "'--prefix={p}' '--with-ensurepip=install'"


def build(version: str, free: bool, args: str = PLAIN, shared: bool = False) -> BuildInfo:
    prefix = f"/opt/{version}{'t' if free else ''}"
    config = args.format(p=prefix) + (" '--disable-gil'" if free else "")
    return BuildInfo(f"{prefix}/bin/python3", version, free, config, shared, prefix)


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
