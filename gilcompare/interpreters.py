"""Finding the CPython interpreters installed on this machine, naming their builds, and how asv
describes the machine.

A build is named by its tag: major.minor, a "t" for a free-threaded build, and "+gil" for a
free-threaded build run with the GIL switched back on (``PYTHON_GIL=1``): ``3.14``, ``3.14t``,
``3.14t+gil``. ``BuildTag`` is the one place tags are made and parsed. This module needs the
standard library only: noxfile.py imports it by path, before gilcompare is installed.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import signal
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

MIN_VERSION = (3, 9)
PROBE_TIMEOUT = 10.0

# Runs inside the candidate, so it must stay valid in any Python that might answer.
# Dropping sys.path[0] (the current directory) keeps a stray json.py from answering.
_PROBE_SCRIPT = (
    "import sys; sys.path[:] = [p for p in sys.path if p]; "
    "import json, platform, sysconfig; "
    "print(json.dumps({"
    "'version': platform.python_version(), "
    "'implementation': platform.python_implementation(), "
    "'free_threaded': bool(sysconfig.get_config_var('Py_GIL_DISABLED')), "
    "'executable': sys.executable}))"
)
TWIN = "+gil"  # the suffix of a free-threaded build run with PYTHON_GIL=1
_TAG = re.compile(rf"(\d+)\.(\d+)(t?)({re.escape(TWIN)})?")
_RELEASE = re.compile(r"(\d+)\.(\d+)")  # the head of any version: 3.15.0rc1, 3.14t
_NAME = re.compile(r"^python(3(\.\d+t?)?)?$")
# A release (3.14.7) or a pre-release (3.15.0a3, 3.15.0b1, 3.15.0rc1), as python_version() says.
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:(a|b|rc)(\d+))?$")
_LEVELS = {"a": "alpha", "b": "beta", "rc": "release candidate"}


@dataclass(frozen=True)
class BuildTag:
    """A Python build: its major.minor version, free-threaded or not, and, for a free-threaded
    build, whether PYTHON_GIL=1 switches the GIL back on (its twin)."""

    major: int
    minor: int
    free_threaded: bool = False
    gil_forced: bool = False

    def __post_init__(self) -> None:
        if self.gil_forced and not self.free_threaded:
            raise ValueError(
                f"{self.major}.{self.minor}{TWIN} names the PYTHON_GIL=1 twin of a build that "
                f"has the GIL already: only a free-threaded build has one, "
                f"e.g. {self.major}.{self.minor}t{TWIN}"
            )

    @classmethod
    def parse(cls, text: str) -> BuildTag:
        """The build a tag names; ValueError when ``text`` is not one."""
        found = _TAG.fullmatch(text)
        if found is None:
            raise ValueError(
                f"not a build tag: {text!r}: expected major.minor, then 't' for a "
                f"free-threaded build and '{TWIN}' for its PYTHON_GIL=1 twin, "
                f"e.g. 3.14, 3.14t or 3.14t{TWIN}"
            )
        major, minor, free, twin = found.groups()
        return cls(int(major), int(minor), bool(free), bool(twin))

    @classmethod
    def of(cls, version: str, free_threaded: bool, python_gil: str | None = None) -> BuildTag:
        """The build of an interpreter whose version starts with major.minor (3.15.0rc1,
        3.14t), run with ``PYTHON_GIL`` set to ``python_gil``: "1" on a free-threaded build
        names its twin, and is ignored on a build that has the GIL anyway."""
        found = _RELEASE.match(version)
        if found is None:
            raise ValueError(f"not a python version: {version!r}: expected e.g. 3.14.0")
        major, minor = map(int, found.groups())
        return cls(major, minor, free_threaded, free_threaded and python_gil == "1")

    @property
    def interpreter(self) -> BuildTag:
        """The build of the interpreter itself, without PYTHON_GIL=1: 3.14t for 3.14t+gil."""
        return BuildTag(major=self.major, minor=self.minor, free_threaded=self.free_threaded)

    @property
    def twin(self) -> BuildTag:
        """The PYTHON_GIL=1 twin of this free-threaded build: 3.14t+gil for 3.14t."""
        return BuildTag(
            major=self.major, minor=self.minor, free_threaded=self.free_threaded, gil_forced=True
        )

    @property
    def sort_key(self) -> tuple[int, int, bool, bool]:
        """By version; a GIL build before its free-threaded build, and that before its twin."""
        return (self.major, self.minor, self.free_threaded, self.gil_forced)

    def __str__(self) -> str:
        free = "t" if self.free_threaded else ""
        return f"{self.major}.{self.minor}{free}{TWIN if self.gil_forced else ''}"


@dataclass(frozen=True)
class Interpreter:
    """One Python interpreter found on the machine."""

    version: str
    free_threaded: bool
    path: str
    implementation: str = "CPython"

    @property
    def version_tuple(self) -> tuple[int, ...]:
        """The version as integers, e.g. (3, 13, 0); a pre-release has the same three."""
        return version_key(self.version)[:3]

    @property
    def prerelease(self) -> str | None:
        """What kind of pre-release this is ("release candidate", "beta", "alpha"), or None."""
        match = _VERSION.match(self.version)
        return _LEVELS[match.group(4)] if match and match.group(4) else None

    @property
    def label(self) -> str:
        """The version as people read it: "3.14.7", "3.15.0rc1 (release candidate)"."""
        kind = self.prerelease
        return f"{self.version} ({kind})" if kind else self.version

    @property
    def tag(self) -> str:
        """The major.minor version with a "t" for free-threaded builds, e.g. "3.13t"."""
        return str(BuildTag.of(self.version, self.free_threaded))


def version_key(version: str) -> tuple[int, ...]:
    """A sort key for a version string in which a release comes after its pre-releases:
    3.15.0a3 < 3.15.0b1 < 3.15.0rc1 < 3.15.0 < 3.15.1."""
    match = _VERSION.match(version)
    if match is None:
        raise ValueError(f"not a python version: {version!r} (expected e.g. 3.14.7 or 3.15.0rc1)")
    major, minor, micro, level, serial = match.groups()
    rank = {"a": 0, "b": 1, "rc": 2}.get(level, 3) if level else 3
    return (int(major), int(minor), int(micro), rank, int(serial or 0))


def _is_shim(path: str) -> bool:
    """Say whether a path lies under a version manager's "shims" directory."""
    return "shims" in Path(path).parts


def _executables_in(directory: Path) -> Iterator[Path]:
    """Yield the python, python3 and python3.X[t] files of one directory."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return
    for name in names:
        if _NAME.match(name):
            yield directory / name


def _search_dirs(environ: Mapping[str, str]) -> Iterator[Path]:
    """Yield the directories that may hold interpreters, PATH first."""
    for entry in environ.get("PATH", "").split(os.pathsep):
        if entry and not _is_shim(entry):
            yield Path(entry)
    pyenv_root = Path(environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    yield from sorted(pyenv_root.glob("versions/*/bin"))
    uv_root = Path(environ.get("UV_PYTHON_INSTALL_DIR") or Path.home() / ".local/share/uv/python")
    yield from sorted(uv_root.glob("*/bin"))


def candidate_paths(environ: Mapping[str, str] | None = None) -> list[str]:
    """List candidate executables, resolved and deduplicated, in search order."""
    environ = os.environ if environ is None else environ
    seen: set[str] = set()
    found: list[str] = []
    candidates = [Path(sys.executable)]
    for directory in _search_dirs(environ):
        candidates.extend(_executables_in(directory))
    for candidate in candidates:
        real = os.path.realpath(candidate)
        if real in seen or _is_shim(real) or not os.path.isfile(real):
            continue
        if not os.access(real, os.X_OK):
            continue
        seen.add(real)
        found.append(real)
    return found


def probe_interpreter(path: str | os.PathLike[str]) -> Interpreter:
    """Run an executable and describe the Python it is; raise ValueError if it is none."""
    real = os.path.realpath(path)
    env = {key: value for key, value in os.environ.items() if key != "PYTHON_GIL"}
    try:
        # -E -s (not -I, which Python 2 lacks) keep PYTHON* variables and user site out.
        stdout = _run_probe([real, "-E", "-s", "-c", _PROBE_SCRIPT], env)
        info = json.loads(stdout.strip().splitlines()[-1])
        version = str(info["version"])
        if not _VERSION.match(version):
            raise ValueError(version)
        return Interpreter(
            version=version,
            free_threaded=bool(info["free_threaded"]),
            path=real,
            implementation=str(info["implementation"]),
        )
    except (OSError, subprocess.SubprocessError, ValueError, IndexError, KeyError, TypeError):
        raise ValueError(f"not a python interpreter: {path}") from None


def _run_probe(argv: list[str], env: dict[str, str]) -> str:
    """The program's stdout; its whole process group is killed afterwards, so nothing it
    started outlives the probe (a program that is no Python may fork and hang)."""
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        stdout, _ = proc.communicate(timeout=PROBE_TIMEOUT)
        return stdout
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # the program leads its own group
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _try_probe(path: str) -> Interpreter | None:
    """Probe one candidate, returning None instead of raising."""
    try:
        return probe_interpreter(path)
    except ValueError:
        return None


def discover(environ: Mapping[str, str] | None = None) -> list[Interpreter]:
    """Find CPython 3.9+ interpreters: one per tag, the newest patch (a release beats its
    release candidates), sorted by version."""
    paths = candidate_paths(environ)
    with ThreadPoolExecutor(max_workers=4) as pool:
        probed = [found for found in pool.map(_try_probe, paths) if found is not None]
    best: dict[str, Interpreter] = {}
    for interpreter in probed:
        if interpreter.implementation != "CPython":
            continue
        if interpreter.version_tuple[:2] < MIN_VERSION:
            continue
        current = best.get(interpreter.tag)
        # Strictly newer wins, so the earlier place in the search order breaks ties.
        if current is None or version_key(interpreter.version) > version_key(current.version):
            best[interpreter.tag] = interpreter
    return sorted(best.values(), key=lambda i: (i.version_tuple[:2], i.free_threaded))


def format_table(interpreters: Iterable[Interpreter]) -> str:
    """Render interpreters as an aligned text table: python, free-threaded, path."""
    header = ("python", "free-threaded", "path")
    rows = [header] + [(i.label, "yes" if i.free_threaded else "no", i.path) for i in interpreters]
    widths = [max(len(row[column]) for row in rows) for column in range(2)]
    return "\n".join(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}" for row in rows)


def to_json(interpreters: Iterable[Interpreter]) -> str:
    """Render interpreters as a JSON list of objects, each with its tag."""
    return json.dumps(
        [{**asdict(i), "tag": i.tag, "prerelease": i.prerelease} for i in interpreters], indent=2
    )


def link_dir(interpreters: Iterable[Interpreter], dest: Path) -> Path:
    """Fill dest with python3.X / python3.Xt symlinks to the interpreters and return it."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    wanted = {f"python{i.tag}": i.path for i in interpreters}
    for entry in dest.iterdir():
        if entry.is_symlink() and entry.name.startswith("python") and entry.name not in wanted:
            entry.unlink()
    for name, target in wanted.items():
        link = dest / name
        if link.is_symlink() and os.readlink(link) == target:
            continue
        # Build the link aside and rename it in place, so a reader never sees it missing.
        staging = dest / f".{name}.{os.getpid()}"
        if staging.is_symlink():
            staging.unlink()
        staging.symlink_to(target)
        os.replace(staging, link)
    return dest


def asv_machine(release: str | None = None, ram_bytes: int | None = None) -> dict[str, str]:
    """The OS and RAM that ``asv machine`` records for this machine's results.

    asv draws one line of history per distinct machine description, so a VM whose kernel
    build moved from 6.18.44-fc-v657 to -v669, or whose firmware kept back a few kilobytes
    more, would start a new line and leave its history behind. The OS is named down to the
    kernel's minor version and the RAM in whole GiB: a new kernel series or a resized
    machine still starts a new line.
    """
    release = platform.release() if release is None else release
    version = ".".join(re.findall(r"\d+", release)[:2]) or release
    described = {"os": f"{platform.system()} {version}".strip()}
    if ram_bytes is None and hasattr(os, "sysconf"):
        with contextlib.suppress(ValueError, OSError):
            ram_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if ram_bytes:
        described["ram"] = f"{round(ram_bytes / 2**30)} GiB"
    return described
