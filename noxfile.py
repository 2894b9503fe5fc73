"""Automation for gilcompare: tests, lint, benchmarks and their pages."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import nox

nox.needs_version = ">=2025.5.1"  # the first release with download_python
# Only interpreters already on this machine count; CI sets CI=true, which would otherwise
# turn every missing version into a failure.
nox.options.download_python = "never"
nox.options.error_on_missing_interpreters = False

ROOT = Path(__file__).resolve().parent
LINKS = ROOT / ".nox" / ".pythons"
ASV_CONF = ROOT / "asv.conf.json"
RESULTS = ROOT / json.loads(ASV_CONF.read_text(encoding="utf-8"))["results_dir"]
BENCHMARKS = ROOT / "benchmarks"


def _load(relative: str) -> ModuleType:
    """Import a standard-library-only module of gilcompare by path, so nox runs without
    gilcompare installed."""
    name = "_gilcompare_" + Path(relative).stem
    spec = importlib.util.spec_from_file_location(name, ROOT / "gilcompare" / relative)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(module)
    return module


_interpreters = _load("interpreters.py")
_builds = _load("measure/builds.py")
_speed = _load("measure/speed.py")
FOUND = _interpreters.discover()
# nox and asv look interpreters up by name (python3.12, python3.13t) on PATH; pyenv's shims
# fail for every version but the global one, so put real links in front of them.
_interpreters.link_dir(FOUND, LINKS)
os.environ["PATH"] = f"{LINKS}{os.pathsep}{os.environ.get('PATH', '')}"

# The newest numpy and matplotlib may have no wheel yet for the newest builds (3.13t): an older
# release's wheel beats compiling numpy for minutes or failing offline on matplotlib's sdist.
PREFER_BINARY = "--prefer-binary"

PYTHONS = [i.tag for i in FOUND] or [f"{sys.version_info[0]}.{sys.version_info[1]}"]
GIL_PYTHONS = [i.tag for i in FOUND if not i.free_threaded]
# asv check runs once, on the newest interpreter with a GIL, rather than once per version.
ASV_CHECK_PYTHON = GIL_PYTHONS[-1] if GIL_PYTHONS else None


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite on every CPython 3.9+ found on this machine."""
    session.install(PREFER_BINARY, "-e", ".[test]")
    if session.python == ASV_CHECK_PYTHON:
        # before pytest: tests/test_asv_own.py runs asv on a user's suite where asv is
        # installed (not in the test extra: asv's compiled part has no free-threaded wheel)
        session.install("asv")
    # tests marked "once" do the same on every interpreter: they run on one
    once = "" if session.python == ASV_CHECK_PYTHON else " and not once"
    # two tests at a time (pytest-xdist), never more than the usable CPUs: each test's
    # processes are its own (private TMPDIR, tags, /dev/shm prefixes), and its time bounds
    # allow for one neighbour (those that cannot are marked "alone");
    # GILCOMPARE_TEST_WORKERS=1 runs them one by one
    workers = os.environ.get("GILCOMPARE_TEST_WORKERS", str(min(2, _builds.usable_cpus())))
    if not workers.isdigit() or not 1 <= int(workers) <= 64:
        session.error(
            f"GILCOMPARE_TEST_WORKERS must be a whole number from 1 to 64, not {workers!r}"
        )
    # tests marked "alone" time a library's own speed: after the others, one at a time
    session.run("pytest", "-n", workers, "-m", "not alone" + once, *session.posargs)
    # (status 5: the arguments chose none of them)
    session.run("pytest", "-m", "alone" + once, *session.posargs, success_codes=[0, 5])


def _asv_check(session: nox.Session) -> None:
    """Import every benchmark in the session's own environment and report errors."""
    # asv check passes on an empty suite, so a suite that went missing must fail here.
    if not [p for p in BENCHMARKS.glob("*.py") if p.name != "__init__.py"]:
        session.error("benchmarks/ has no benchmark modules: asv check would pass on nothing")
    session.install("asv")
    session.run("asv", "check", "--python=same")


# mutmut 3 runs on 3.10+: the newest released build with a GIL (a release candidate may
# lack wheels for mutmut's parser)
MUTATE_PYTHON = next(
    (i.tag for i in reversed(FOUND) if not i.free_threaded and not i.prerelease and i.tag != "3.9"),
    None,
)
MUTATION_SCORE = 0.85  # the share of mutants the tests must kill (README, "Testing")


@nox.session(python=MUTATE_PYTHON, default=False)
def mutate(session: nox.Session) -> None:
    """Grade the tests by mutation (mutmut): engine, cells, build tags and the readers' checks."""
    session.install(PREFER_BINARY, "-e", ".[test]", "mutmut>=3.3")
    # a fresh mutants/ each time: its cache would keep verdicts of tests changed since
    session.run("python", "-c", "import shutil; shutil.rmtree('mutants', ignore_errors=True)")
    session.run("mutmut", "run", "--max-children", str(os.cpu_count() or 2))
    session.run("mutmut", "export-cicd-stats", silent=True)
    stats = json.loads((ROOT / "mutants" / "mutmut-cicd-stats.json").read_text("utf-8"))
    killed = stats["killed"] + stats.get("timeout", 0)
    total = stats["total"]
    score = killed / total if total else 0.0
    session.log(f"mutation score: {killed} of {total} mutants killed ({score:.1%})")
    session.run("mutmut", "results")
    if score < MUTATION_SCORE:
        session.error(f"mutation score {score:.1%} is below {MUTATION_SCORE:.0%}")


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff, and the workflows against GitHub's schema."""
    session.install("ruff", "check-jsonschema")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.y*ml"))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)


def _asv_pythons() -> list[str]:
    """Return the python versions asv.conf.json asks for."""
    return list(json.loads(ASV_CONF.read_text(encoding="utf-8"))["pythons"])


def _report_pythons(session: nox.Session) -> None:
    """Say which of asv.conf.json's pythons were found here and which are missing."""
    found = {i.tag: i.path for i in FOUND}
    wanted = _asv_pythons()
    for tag in wanted:
        if tag in found:
            session.log(f"asv python {tag}: {found[tag]}")
    missing = [tag for tag in wanted if tag not in found]
    if missing:
        session.warn(f"asv pythons not found, asv will skip them: {', '.join(missing)}")


def _machine_entry(session: nox.Session) -> bool:
    """Whether asv's machine file already describes this machine; a machine file asv could
    not read or write stops the session with one line instead of asv's traceback."""
    # asv 0.6 keeps its machine file at this fixed path; only HOME moves it.
    path = Path(os.path.expanduser("~/.asv-machine.json"))
    where = f"asv keeps its machine file at ~/.asv-machine.json ({path})"
    if not path.exists():
        try:  # os.access says yes to root even on a read-only file system: try a write
            with tempfile.TemporaryFile(dir=path.parent):
                pass
        except OSError:
            session.error(f"{where}, and {path.parent} is not a writable folder: set HOME to one")
        return False
    try:
        with path.open("a", encoding="utf-8"):
            pass
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        session.error(
            f"{where}, which cannot be written ({exc.strerror}): set HOME to a writable folder"
        )
    except (ValueError, UnicodeDecodeError):
        session.error(f"{path} is not valid JSON: fix it, or move it away and asv writes a new one")
    if not isinstance(data, dict) or data.get("version") != 1:
        session.error(
            f'{path} is not an asv machine file (a JSON object with "version": 1): fix or move it'
        )
    machines = {name: entry for name, entry in data.items() if name != "version"}
    if not all(isinstance(entry, dict) and "machine" in entry for entry in machines.values()):
        session.error(f'{path} has an entry without a "machine" name: fix it, or move it away')
    # asv's lookup: the entry named after the host, or the only entry there is.
    return platform.node() in machines or len(machines) == 1


# The machine name results are filed under, when the host name will not do: a hosted CI
# runner gets a new host name every run (.github/workflows/bench.yml sets one per runner).
MACHINE_ENV = "GILCOMPARE_MACHINE"
# Set (to anything but empty or 0), `nox -s bench` refuses to start on a host its preflight
# warns about, instead of warning: for runs left unattended, such as a pair meant to be
# compared, where a slow or crowded hour would cost hours and give times that do not compare.
STEADY_ENV = "GILCOMPARE_REQUIRE_STEADY_HOST"


def _named() -> list[str]:
    """asv's --machine option when GILCOMPARE_MACHINE names the machine, else nothing."""
    name = os.environ.get(MACHINE_ENV, "").strip()
    return [f"--machine={name}"] if name else []


def _setup_asv(session: nox.Session, saving: bool = True) -> None:
    """Install asv and record this machine's description for its results."""
    session.install(PREFER_BINARY, "asv", "virtualenv")
    _report_pythons(session)
    # asv 0.6 cannot apply --os/--ram to a machine it has no entry for (KeyError 'machine'):
    # the first run records asv's defaults, the second the description below. An existing
    # entry is only updated, so whatever else the user recorded there stays.
    known = _machine_entry(session)
    # results of fewer (or more) usable CPUs than the machine's entry says go under another
    # name: `taskset -c 0 nox -s bench` must not file a one-CPU run as this machine's. A run
    # that saves nothing (bench_quick) leaves the entry as it is.
    name = _machine_name()
    entry = _machine_file().get(name)
    reason = _builds.other_host(
        entry if isinstance(entry, dict) else {}, _builds.usable_cpus(), name
    )
    if reason is not None:
        if saving:
            session.error(reason)
        session.log(f"{reason}; this run saves nothing, so the entry stays as it is")
        return
    # nor may a new machine named like an old one (asv names it after the host) join the old
    # host's line: the results filed under a name say what kind of host it is
    filed = {p.parent.name: _json_file(p) for p in RESULTS.glob("*/machine.json")}
    clash = _builds.filed_host(filed.get(name, {}), name, _builds.host_identity(), filed)
    if clash is not None and saving:
        session.error(clash)
    if not known or _named():
        session.run("asv", "machine", "--yes", *_named(), silent=True)
    # num_cpu: the CPUs this run may use (affinity, cgroup quota), which size its grid
    # (gilcompare.measure.sizing), not asv's os.cpu_count()
    machine = {**_interpreters.asv_machine(), "num_cpu": str(_builds.usable_cpus())}
    described = [f"--{key}={value}" for key, value in machine.items()]
    session.run("asv", "machine", "--yes", *_named(), *described)
    _complete_machine_entry(session, name)


def _complete_machine_entry(session: nox.Session, name: str) -> None:
    """Add what the machine's entry lacks of the host's identity (arch, CPU model, usable
    CPUs) straight to asv's machine file: asv leaves out any value equal to its default."""
    path = Path(os.path.expanduser("~/.asv-machine.json"))
    data = _machine_file()
    entry = data.get(name)
    if not isinstance(entry, dict):
        return
    missing = _builds.missing_identity(entry)
    if missing:
        entry.update(missing)
        path.write_text(json.dumps(data, indent=4) + "\n", encoding="utf-8")
        session.log(f"asv machine {name!r}: recorded its {', '.join(sorted(missing))}")


def _json_file(path: Path) -> dict:
    """A JSON object from a file, or nothing where it cannot be read."""
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(path.read_text("utf-8"))
        return data if isinstance(data, dict) else {}
    return {}


def _machine_file() -> dict:
    """asv's machine file (~/.asv-machine.json), or nothing where it cannot be read."""
    return _json_file(Path(os.path.expanduser("~/.asv-machine.json")))


def _machine_name() -> str:
    """The machine asv files this run's results under: GILCOMPARE_MACHINE, else the entry
    named after the host, or the only one (asv's own lookup), else the host name."""
    if _named():
        return os.environ[MACHINE_ENV].strip()
    data = _machine_file()
    names = [name for name in data if name != "version"]
    if platform.node() in names:
        return platform.node()
    if len(names) == 1 and isinstance(data[names[0]], dict):
        return str(data[names[0]].get("machine", names[0]))
    return platform.node()


@contextlib.contextmanager
def _provenance(session: nox.Session) -> Iterator[str]:
    """Write what asv's results leave out beside them: the commit measured, each build's full
    version, configure options (PGO, LTO, shared) and stdlib bytecode state, and the host (CPU
    model, usable CPUs, load before and after), as results/<machine>/provenance/<commit>.jsonl
    (not .json: asv reads every .json under results/ as a results file)."""
    commit = session.run("git", "rev-parse", "main", silent=True, external=True).strip()
    wanted = set(_asv_pythons())
    builds = [
        {"kind": "build", "python": i.tag, **_builds.build_of(i.path)}
        for i in FOUND
        if i.tag in wanted
    ]
    before = _builds.describe_host()
    machine = _machine_name()
    speed = _host_speed(session)
    warnings = _speed.preflight(speed or {}, _last_run(machine), machine)
    if os.environ.get(STEADY_ENV, "").strip() not in ("", "0"):
        # _host_speed has already warned about a reading that failed: here it only refuses
        reasons = list(warnings)
        if speed is None:
            reasons.insert(0, "the host's speed could not be read")
        if reasons:
            session.error(f"not starting, as {STEADY_ENV} asks: {'; '.join(reasons)}")
    for warning in warnings:
        session.warn(warning)
    yield commit
    run = {
        "kind": "run",
        "commit": commit,
        "machine": machine,
        "asv_args": list(session.posargs),
        "host_before": before,
        "host_after": _builds.describe_host(),
        "speed_before": speed,
        "speed_after": _host_speed(session),
    }
    path = RESULTS / machine / "provenance" / f"{commit}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(entry, sort_keys=True) for entry in [run, *builds]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    session.log(f"provenance of the run: {path.relative_to(ROOT)}")


def _host_speed(session: nox.Session) -> dict | None:
    """The host's speed now (gilcompare.measure.speed.host_speed), or None where the
    reference loop could not run."""
    try:
        speed = _speed.host_speed(_builds.usable_cpus())
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        session.warn(f"the host's speed could not be read: {exc}")
        return None
    session.log(
        f"host: the reference loop took {speed['loop_s']:.3f} s alone, {speed['capacity']:.2f} "
        f"copies at once on {speed['cpus']} usable CPUs (Python {speed['python']})"
    )
    return speed


def _last_run(machine: str) -> dict | None:
    """The run entry of the latest provenance filed under ``machine`` that read the host's
    speed, or None."""
    runs = []
    for path in (RESULTS / machine / "provenance").glob("*.jsonl"):
        with contextlib.suppress(OSError, ValueError):
            for line in path.read_text("utf-8").splitlines():
                entry = json.loads(line) if line.strip() else None
                if isinstance(entry, dict) and isinstance(entry.get("speed_before"), dict):
                    runs.append(entry)
    dated = [(str((r.get("host_before") or {}).get("date", "")), r) for r in runs]
    return max(dated, key=lambda pair: pair[0])[1] if dated else None


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Run the asv suite on every configured python found, then build the html pages."""
    _setup_asv(session)
    with _provenance(session) as commit:
        # The grids keep every cell's rounds and the noise gauge beside asv's one value per
        # cell, for the commit measured: main's tip, unless a range of commits was asked for.
        ranged = any(".." in arg or "^" in arg for arg in session.posargs)
        folder = RESULTS / _machine_name() / "rounds" / commit
        env = {} if ranged else {"GILCOMPARE_ROUNDS_DIR": str(folder)}
        # the time_* benchmarks' passes, one over every environment before the next
        # (gilcompare.settings.TIME_ROUNDS): a slow stretch of the host lands on one pass
        interleave = ["--interleave-rounds"]
        # and every sample kept, pass after pass, not only their median: a time that moved
        # between two runs then shows whether one pass or all of them moved
        samples = ["--record-samples"]
        session.run("asv", "run", *interleave, *samples, *_named(), *session.posargs, env=env)
    _publish(session)


def _publish(
    session: nox.Session, *args: str, results: Path = RESULTS, config: Path = ASV_CONF
) -> None:
    """asv publish, then copy the files the pages load from CDNs into the site, so it opens
    offline (tools/pages.py), and add the scaling dashboard (tools/dashboard.py, which reads
    the results); both write through gilcompare's checked writer, so it is installed first."""
    session.install(PREFER_BINARY, ".")
    session.run("asv", "publish", "--config", str(config), *args)
    html = json.loads(ASV_CONF.read_text(encoding="utf-8"))["html_dir"]
    session.run("python", str(ROOT / "tools" / "pages.py"), html)
    session.run("python", str(ROOT / "tools" / "dashboard.py"), html, "--results", str(results))


@contextlib.contextmanager
def _results_untouched() -> Iterator[None]:
    """Put results/ back as it was: even a dry run rewrites results/benchmarks.json with the
    run's parameters (2 workers only in bench_quick), which publish would then plot."""
    before = {p: p.read_bytes() for p in RESULTS.rglob("*") if p.is_file()}
    dirs = {p for p in RESULTS.rglob("*") if p.is_dir()}
    try:
        yield
    finally:
        for path in sorted(RESULTS.rglob("*"), reverse=True):  # files before their folders
            if path.is_file() and path not in before:
                path.unlink()
            elif path.is_dir() and path not in dirs and not any(path.iterdir()):
                path.rmdir()
        for path, data in before.items():
            if not path.is_file() or path.read_bytes() != data:
                path.write_bytes(data)


@nox.session(default=False)
def bench_quick(session: nox.Session) -> None:
    """Run each benchmark once at 2 workers (1 and 2 on one CPU) to find errors; saves nothing."""
    _setup_asv(session, saving=False)
    # asv 0.6 saves --quick results; one-sample numbers must not reach results/.
    # --quick does not reach setup_cache, so the scaling grids are told to run one round;
    # and every grid runs at 2 workers only (where one CPU is usable, at 1 and 2: the 1-CPU
    # grid, its spot at 1), unless GILCOMPARE_WORKERS says otherwise.
    # asv's forkserver imports the suite once and forks a process per benchmark (as
    # asv.conf.json asks of bench too).
    env = {
        "GILCOMPARE_ROUNDS": os.environ.get("GILCOMPARE_ROUNDS", "1"),
        "GILCOMPARE_WORKERS": os.environ.get(
            "GILCOMPARE_WORKERS", "2" if _builds.usable_cpus() > 1 else "1,2"
        ),
    }
    quick = ["--quick", "--show-stderr", "--dry-run", "--launch-method", "forkserver"]
    with _results_untouched():
        session.run("asv", "run", *quick, *_named(), *session.posargs, env=env)


@nox.session(default=False)
def publish(session: nox.Session) -> None:
    """Build the html pages from results/."""
    session.install(PREFER_BINARY, "asv", "virtualenv")
    _publish(session, *session.posargs)


MERGED = ROOT / ".merged"  # nox -s merge: the merged results and the asv config over them


@nox.session(default=False)
def merge(session: nox.Session) -> None:
    """Build one site from several machines' results: nox -s merge -- DIR[=NAME] …"""
    if not session.posargs:
        session.error(
            "give the results folders to merge, one per machine or run: "
            "nox -s merge -- results ../arm/results ../laptop/results/mac=mac-m3"
        )
    results = MERGED / "results"
    session.install(PREFER_BINARY, ".")  # tools/merge.py writes through gilcompare's writer
    session.run("python", str(ROOT / "tools" / "merge.py"), str(results), *session.posargs)
    # asv publish over the merged folder: the project's config, its results_dir moved there
    config = json.loads(ASV_CONF.read_text(encoding="utf-8"))
    config.update(repo=str(ROOT), results_dir=str(results), html_dir=str(ROOT / config["html_dir"]))
    conf = MERGED / "asv.conf.json"
    conf.write_text(json.dumps(config, indent=4) + "\n", encoding="utf-8")
    session.install(PREFER_BINARY, "asv", "virtualenv")
    _publish(session, results=results, config=conf)


@nox.session(default=False)
def preview(session: nox.Session) -> None:
    """Serve the built html pages locally."""
    session.install(PREFER_BINARY, "asv", "virtualenv")
    session.run("asv", "preview", *session.posargs)
