"""Which builds may be compared for the free-threading cost: each build's full version and
configure flags, and the rule that pairs a free-threaded build with its GIL twin.

A free-threaded build's single-thread cost is its time over a GIL build's time, and that
ratio means something only when nothing else differs: the same version in full (3.13.15 is
not 3.13.0; 3.15.0rc1 is not 3.15.0) and the same configure flags apart from
``--disable-gil`` (PGO, LTO, ``--enable-shared`` and the rest each move single-thread speed
by more than the cost being measured). Paths to the install prefix are set aside, since two
builds never share one.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from dataclasses import dataclass
from typing import Any

PROBE_TIMEOUT = 30.0
FREE_THREADING_FLAG = "--disable-gil"

# Runs inside the build; platform.python_version() keeps the pre-release tag (3.15.0rc1).
_SCRIPT = (
    "import json, platform, sys, sysconfig; print(json.dumps({"
    "'version': platform.python_version(), "
    "'free_threaded': bool(sysconfig.get_config_var('Py_GIL_DISABLED')), "
    "'config_args': sysconfig.get_config_var('CONFIG_ARGS') or '', "
    "'shared': bool(sysconfig.get_config_var('Py_ENABLE_SHARED')), "
    "'prefix': sys.prefix, 'executable': sys.executable}))"
)


@dataclass(frozen=True)
class BuildInfo:
    """One interpreter build: its full version, whether it is free-threaded, how it was made."""

    path: str
    version: str  # in full, with any pre-release tag: 3.15.0rc1
    free_threaded: bool
    config_args: str  # sysconfig CONFIG_ARGS, as configure was called
    shared: bool  # Py_ENABLE_SHARED
    prefix: str = ""

    @property
    def flags(self) -> tuple[str, ...]:
        """The configure flags that must match a twin's: --disable-gil left out, the install
        prefix written as <prefix>, sorted."""
        args = shlex.split(self.config_args)
        if self.prefix:
            args = [a.replace(self.prefix, "<prefix>") for a in args]
        return tuple(sorted(a for a in args if a != FREE_THREADING_FLAG))

    @property
    def pgo(self) -> bool:
        return "--enable-optimizations" in self.flags

    @property
    def lto(self) -> bool:
        return any(a.startswith("--with-lto") for a in self.flags)

    def record(self) -> dict[str, Any]:
        """What a result says about the build it compared."""
        return {
            "path": self.path,
            "version": self.version,
            "free_threaded": self.free_threaded,
            "pgo": self.pgo,
            "lto": self.lto,
            "shared": self.shared,
            "config_args": self.config_args,
        }


def probe(path: str) -> BuildInfo:
    """Ask the interpreter at ``path`` how it was built; ValueError when it cannot answer."""
    try:
        out = subprocess.run(
            [path, "-E", "-s", "-c", _SCRIPT],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            check=True,
        ).stdout
        info = json.loads(out.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as exc:
        raise ValueError(f"cannot ask {path} how it was built: {exc}") from None
    return BuildInfo(
        path=path,
        version=str(info["version"]),
        free_threaded=bool(info["free_threaded"]),
        config_args=str(info["config_args"]),
        shared=bool(info["shared"]),
        prefix=str(info["prefix"]),
    )


def mismatch(gil: BuildInfo, free: BuildInfo) -> str | None:
    """Why these two builds cannot give a free-threading cost, or None when they are twins:
    one GIL build and one free-threaded build of the same full version and flags."""
    if gil.free_threaded or not free.free_threaded:
        return (
            f"a free-threading cost needs a GIL build against a free-threaded one: {gil.path} "
            f"is {_kind(gil)} and {free.path} is {_kind(free)}"
        )
    if gil.version != free.version:
        return (
            f"a free-threading cost needs a GIL build of the same version: {free.version} "
            f"free-threaded ({free.path}) against {gil.version} ({gil.path}); install the "
            f"GIL build of {free.version} built the same way"
        )
    if gil.flags != free.flags:
        only_gil = sorted(set(gil.flags) - set(free.flags))
        only_free = sorted(set(free.flags) - set(gil.flags))
        return (
            f"a free-threading cost needs builds with the same configure flags apart from "
            f"{FREE_THREADING_FLAG}: only {gil.path} has {only_gil or 'nothing more'}, only "
            f"{free.path} has {only_free or 'nothing more'}"
        )
    if gil.shared != free.shared:
        return f"one of {gil.path} and {free.path} is a shared-library build, the other not"
    return None


def _kind(build: BuildInfo) -> str:
    return "free-threaded" if build.free_threaded else "a GIL build"
