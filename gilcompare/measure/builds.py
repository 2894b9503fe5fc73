"""What a build and a host are, as every result records them, and which builds may be
compared for the free-threading cost: each build's full version, configure flags and stdlib
bytecode state, the host's CPU, usable CPUs and load, and the rule that pairs a
free-threaded build with its GIL twin.

Standard library only, and no import of gilcompare: noxfile.py loads this file by path, and
``python builds.py build`` runs it inside any interpreter to describe that interpreter.

A free-threaded build's single-thread cost is its time over a GIL build's time, and that
ratio means something only when nothing else differs: the same version in full (3.13.15 is
not 3.13.0; 3.15.0rc1 is not 3.15.0) and the same configure flags apart from
``--disable-gil`` (PGO, LTO, ``--enable-shared`` and the rest each move single-thread speed
by more than the cost being measured). Paths to the install prefix are set aside, since two
builds never share one.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PROBE_TIMEOUT = 30.0
FREE_THREADING_FLAG = "--disable-gil"

# Modules every measurement imports: when their bytecode is missing and cannot be written
# (PYTHONDONTWRITEBYTECODE=1), each new interpreter compiles them again and start-up is slow.
_BYTECODE_WITNESSES = (
    "os.py",
    "concurrent/futures/thread.py",
    "multiprocessing/context.py",
    "asyncio/base_events.py",
    "json/decoder.py",
)
# configure options that do not change how fast the build runs (or that name the build)
_NEUTRAL_OPTIONS = ("--prefix", "--libdir", "--disable-gil", "--with-ensurepip")


def describe_build() -> dict[str, object]:
    """How the running interpreter was built, and whether its start-up numbers can be trusted.

    ``options``: the configure options that change speed (``--enable-optimizations`` is PGO,
    ``--with-lto`` LTO, ``--enable-shared`` a shared libpython), so two builds with equal
    options and versions are a matched pair. ``stdlib_bytecode``: the standard library's
    bytecode is there; without it, and with bytecode writing off, every start recompiles it.
    Runs inside the interpreter it describes (``python interpreters.py build``).
    """
    import importlib.util

    args = shlex.split(sysconfig.get_config_var("CONFIG_ARGS") or "")
    options = sorted(
        arg
        for arg in args
        if arg.startswith("--") and not arg.split("=", 1)[0].startswith(_NEUTRAL_OPTIONS)
    )
    stdlib = sysconfig.get_paths()["stdlib"]
    compiled = all(
        os.path.exists(importlib.util.cache_from_source(os.path.join(stdlib, name)))
        for name in _BYTECODE_WITNESSES
    )
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "config_args": sysconfig.get_config_var("CONFIG_ARGS") or "",
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "options": options,
        "pgo": "--enable-optimizations" in options,
        "lto": any(option.startswith("--with-lto") for option in options),
        "shared": bool(sysconfig.get_config_var("Py_ENABLE_SHARED")),
        "compiler": platform.python_compiler(),
        "stdlib_bytecode": compiled,
        "write_bytecode": not sys.dont_write_bytecode,
    }


def _cgroup_cpus(root: str = "/sys/fs/cgroup", own: str = "/proc/self/cgroup") -> float | None:
    """The CPUs the tightest cgroup quota on this process allows ("200000 100000" in a v2
    cpu.max is 2.0; v1's cpu.cfs_quota_us over cpu.cfs_period_us likewise), None when no
    quota applies. Every ancestor of the process's own cgroup is read: a container's limit
    is often set one level above the process."""
    paths: list[tuple[str, str, str]] = []  # (folder, quota file, period file or "")
    try:
        with open(own, encoding="ascii") as file:
            entries = [line.rstrip("\n").split(":", 2) for line in file]
    except OSError:
        entries = []
    for entry in entries:
        if len(entry) != 3:
            continue
        _, controllers, path = entry
        if controllers == "":  # v2
            base, quota, period = root, "cpu.max", ""
        elif "cpu" in controllers.split(","):  # v1
            base = os.path.join(root, controllers)
            if not os.path.isdir(base):
                base = os.path.join(root, "cpu")
            quota, period = "cpu.cfs_quota_us", "cpu.cfs_period_us"
        else:
            continue
        parts = [part for part in path.split("/") if part and part != ".."]
        for depth in range(len(parts), -1, -1):
            paths.append((os.path.join(base, *parts[:depth]), quota, period))
    found: list[float] = []
    for folder, quota_name, period_name in paths:
        try:
            with open(os.path.join(folder, quota_name), encoding="ascii") as file:
                fields = file.read().split()
            if period_name:
                with open(os.path.join(folder, period_name), encoding="ascii") as file:
                    fields = [fields[0], file.read().strip()]
            quota, period = fields[0], fields[1]
            if quota not in ("max", "-1") and int(period) > 0:
                found.append(round(int(quota) / int(period), 2))
        except (OSError, ValueError, IndexError):
            continue
    return min(found) if found else None


def usable_cpus() -> int:
    """CPUs this process may use: its affinity, bounded by the cgroup quota (a quota of 1.5
    CPUs gives 2: a fraction still runs a second worker part of the time), at least 1."""
    affinity = getattr(os, "sched_getaffinity", None)
    usable = len(affinity(0)) if affinity else (os.cpu_count() or 1)
    quota = _cgroup_cpus()
    if quota:
        usable = min(usable, max(1, math.ceil(quota)))
    return max(1, usable)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def other_host(entry: Mapping[str, Any], usable: int, name: str) -> str | None:
    """Why results of a run that may use ``usable`` CPUs must not be filed under the asv
    machine ``entry`` describes (its num_cpu differs: another host, or this one under
    ``taskset`` or a cgroup quota), or None. Under one machine name asv would draw both
    hosts as one line, and a smaller host's numbers as a regression."""
    recorded = str(entry.get("num_cpu") or "").strip()
    if not recorded or recorded == str(usable):
        return None
    return (
        f"asv machine {name!r} has {recorded} usable CPUs, and this run may use {usable} "
        f"(taskset, a cgroup quota or another host): one machine name must mean one kind of "
        f"host, so name this one, e.g. GILCOMPARE_MACHINE={name}-{usable}cpu"
    )


IDENTITY = ("arch", "cpu", "num_cpu")  # what tells one kind of host from another


def filed_host(
    recorded: Mapping[str, Any], name: str, here: Mapping[str, str], known: Mapping[str, Any]
) -> str | None:
    """Why this run, on a host described by ``here`` (arch, CPU model, usable CPUs), must not
    be filed under machine ``name`` whose results already describe ``recorded``
    (results/<name>/machine.json), or None. A machine entry is made from the host name, so a
    new machine called like an old one (``vm``) would add its numbers to the old host's line.
    Names the machine in ``known`` (name: its recorded description) that is this kind of
    host, if one is."""
    differ = [
        k for k in IDENTITY if here.get(k) and str(recorded.get(k) or "") not in ("", here[k])
    ]
    if not differ:
        return None
    theirs = ", ".join(f"{k} {recorded[k]!s}" for k in differ)
    ours = ", ".join(f"{k} {here[k]}" for k in differ)
    same = sorted(
        other
        for other, entry in known.items()
        if other != name
        and isinstance(entry, Mapping)
        and all(str(entry.get(k)) == here[k] for k in IDENTITY if here.get(k))
    )
    hint = (
        f"GILCOMPARE_MACHINE={same[0]}, whose results are this kind of host"
        if same
        else f"a new one, e.g. GILCOMPARE_MACHINE={name}-{_slug(here.get('cpu', ''))}"
    )
    return (
        f"results/{name} holds another kind of host ({theirs}; this one has {ours}): one "
        f"machine name must mean one kind of host, so file this run under {hint}"
    )


def _slug(text: str) -> str:
    """'AMD EPYC 7B13' -> 'amd-epyc': the first two words, for a machine name."""
    words = ["".join(c for c in w.lower() if c.isalnum()) for w in text.split()[:2]]
    return "-".join(w for w in words if w) or "host"


def host_identity() -> dict[str, str]:
    """This host as an asv machine entry names it: arch, CPU model, usable CPUs."""
    return {"arch": platform.machine(), "cpu": _cpu_model(), "num_cpu": str(usable_cpus())}


def missing_identity(entry: Mapping[str, Any]) -> dict[str, str]:
    """What an asv machine ``entry`` lacks of this host's identity (arch, CPU model, usable
    CPUs), to be added to it. ``asv machine`` drops an option equal to its own default (num_cpu
    2 on a 2-CPU host), so an entry asv did not generate itself, one holding only a name, the
    OS and the RAM, would never get them, and its results could not tell one host from
    another (gilcompare's merge and dashboard compare exactly these)."""
    identity = host_identity()
    return {key: value for key, value in identity.items() if value and not entry.get(key)}


def describe_host() -> dict[str, object]:
    """The machine as a result must name it: CPU model, CPUs (all, usable through affinity,
    the cgroup quota), load averages, kernel and the time (UTC)."""
    quota = _cgroup_cpus()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "host": platform.node(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count() or 1,
        "cpu_usable": usable_cpus(),
        "cgroup_cpus": quota,
        "load": [round(value, 2) for value in load] if load else None,
        "kernel": f"{platform.system()} {platform.release()}",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def build_of(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> dict:
    """``describe_build()`` as the interpreter at ``path`` answers it, in ``environ`` (so its
    bytecode setting is the one a run would see); ValueError when it cannot answer."""
    env = dict(os.environ if environ is None else environ)
    env.pop("PYTHON_GIL", None)
    try:
        out = subprocess.run(
            [os.fspath(path), "-s", os.path.abspath(__file__), "build"],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            check=True,
            env=env,
            stdin=subprocess.DEVNULL,
        ).stdout
        found = json.loads(out.strip().splitlines()[-1])
        if not isinstance(found, dict):
            raise ValueError(found)
        return found
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as exc:
        raise ValueError(f"cannot ask {path} how it was built: {exc}") from None


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
    info = build_of(path)
    try:
        return BuildInfo(
            path=path,
            version=str(info["version"]),
            free_threaded=bool(info["free_threaded"]),
            config_args=str(info["config_args"]),
            shared=bool(info["shared"]),
            prefix=str(info["prefix"]),
        )
    except KeyError as exc:
        raise ValueError(f"cannot ask {path} how it was built: no {exc}") from None


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


if __name__ == "__main__":  # `python builds.py build`: describe this interpreter
    if sys.argv[1:] == ["build"]:
        print(json.dumps(describe_build()))
