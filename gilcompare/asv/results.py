"""Reading the asv suite's committed results: each Python's speedups from one run, side by side.

asv stores one JSON file per commit and environment under ``results/<machine>/``; the site
plots them, and this module puts one commit's ``Scaling`` speedups in a table with a column
per Python (and per ``PYTHON_GIL`` setting), beside the machine's parallel capacity measured
in the same run. Bad input (a missing folder, an unknown machine or commit, a corrupt file)
raises ``UsageError`` naming the valid choices.
"""

from __future__ import annotations

import ast
import datetime as dt
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gilcompare.errors import UsageError
from gilcompare.interpreters import BuildTag
from gilcompare.measure import speed as hostspeed
from gilcompare.report import validate

SPEEDUP_SUFFIX = ".Scaling.track_speedup"
CAPACITY = "cpu.Machine.track_parallel_capacity"


@dataclass
class Run:
    """One commit's results on one machine: a parsed file per environment."""

    machine: str
    commit: str
    date: dt.datetime  # the commit's date, which asv records and orders runs by
    environments: list[dict[str, Any]] = field(default_factory=list)


def load(path: Path) -> dict[str, Any]:
    """One asv results file, checked field by field (gilcompare.report.validate)."""
    expected = "expected a file `asv run` writes"
    data = validate.read_json(str(path), "asv results file", expected, allow_nan=True)
    return validate.asv_results(data, str(path), SPEEDUP_SUFFIX)


def machines(results_dir: Path) -> list[str]:
    """The machines with results in ``results_dir`` (folders holding a machine.json)."""
    if not results_dir.is_dir():
        raise UsageError(f"no asv results folder at {results_dir}: run `nox -s bench` first")
    return sorted(p.parent.name for p in results_dir.glob("*/machine.json"))


def runs(results_dir: Path, machine: str | None = None) -> list[Run]:
    """Every commit measured on ``machine`` (the only one when None), oldest first."""
    found = machines(results_dir)
    if not found:
        raise UsageError(f"no machine has results in {results_dir}: run `nox -s bench` first")
    if machine is None:
        if len(found) > 1:
            raise UsageError(f"results from several machines: choose --machine {'|'.join(found)}")
        machine = found[0]
    elif machine not in found:
        raise UsageError(f"unknown machine {machine!r}: choose from {', '.join(found)}")
    by_commit: dict[str, Run] = {}
    for path in sorted((results_dir / machine).glob("*.json")):
        if path.name == "machine.json":
            continue
        data = load(path)
        stamp = dt.datetime.fromtimestamp(data.get("date", 0) / 1000, tz=dt.timezone.utc)
        run = by_commit.setdefault(
            data["commit_hash"], Run(machine=machine, commit=data["commit_hash"], date=stamp)
        )
        run.date = max(run.date, stamp)
        run.environments.append(data)
    return sorted(by_commit.values(), key=lambda r: r.date)


def pick_run(results_dir: Path, machine: str | None = None, commit: str | None = None) -> Run:
    """The latest run, or the one whose commit starts with ``commit``. Without a machine,
    a commit that only one machine measured names its run among several machines."""
    if machine is None and commit is not None and len(machines(results_dir)) > 1:
        holding = [
            name
            for name in machines(results_dir)
            if any(r.commit.startswith(commit) for r in runs(results_dir, name))
        ]
        if len(holding) == 1:
            machine = holding[0]
    every = runs(results_dir, machine)
    if not every:
        raise UsageError(f"no results in {results_dir}: run `nox -s bench` first")
    if commit is None:
        return every[-1]
    match = [r for r in every if r.commit.startswith(commit)]
    if len(match) != 1:
        listed = ", ".join(f"{r.commit[:8]} ({r.date:%Y-%m-%d})" for r in every)
        raise UsageError(f"no single run for commit {commit!r}: choose from {listed}")
    return match[0]


JSON_LINES = "expected the JSON lines `nox -s bench` writes"


def read_json_lines(path: Path) -> list[Any]:
    """The entries of a JSON-lines file ``nox -s bench`` keeps beside asv's results; one that
    cannot be read is a UsageError naming it."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{path}: cannot read it ({type(exc).__name__}): {JSON_LINES}") from None


def provenance(results_dir: Path, run: Run) -> dict[str, Any] | None:
    """What ``nox -s bench`` recorded beside the run (results/<machine>/provenance/<commit>.jsonl):
    ``{"run": {...}, "builds": {tag: {...}}}``, or None for a run without it. A file that is
    not what the session writes is a UsageError naming it."""
    path = results_dir / run.machine / "provenance" / f"{run.commit}.jsonl"
    if not path.is_file():
        return None
    found: dict[str, Any] = {"run": None, "builds": {}}
    expected = JSON_LINES
    for entry in read_json_lines(path):
        kind = entry.get("kind") if isinstance(entry, dict) else None
        if kind == "run" and isinstance(entry.get("host_before"), dict):
            found["run"] = entry
        elif kind == "build" and isinstance(entry.get("python"), str):
            found["builds"][entry["python"]] = entry
        else:
            raise UsageError(f"{path}: an entry that is neither a run nor a build: {expected}")
    if found["run"] is None:
        raise UsageError(f"{path}: no run entry: {expected}")
    return found


def describe_provenance(found: dict[str, Any]) -> list[str]:
    """Lines that say what a run measured on: the host and load, and each build's version,
    options and bytecode state; a build whose start-up numbers cannot be trusted is named."""
    run, builds = found["run"], found["builds"]
    host, after = run["host_before"], run.get("host_after") or {}

    def load(entry: dict[str, Any]) -> str:
        values = entry.get("load") or []
        return f"{values[0]:.2f}" if values and isinstance(values[0], (int, float)) else "?"

    lines = [
        f"host {host.get('host', '?')}: {host.get('cpu_model', '?')}, "
        f"{host.get('cpu_usable', '?')} usable CPUs, load {load(host)} before the run "
        f"and {load(after)} after"
    ]
    lines += describe_speed(run)
    shown = []
    for tag in sorted(builds, key=version_key):
        build = builds[tag]
        flags = [name for name in ("pgo", "lto", "shared") if build.get(name)]
        shown.append(
            f"{tag} {build.get('version', '?')}" + (f" ({'+'.join(flags)})" if flags else "")
        )
    if shown:
        lines.append("builds: " + ", ".join(shown))
    slow = [
        tag
        for tag, build in builds.items()
        if build.get("stdlib_bytecode") is False and build.get("write_bytecode") is False
    ]
    if slow:
        lines.append(
            f"warning: {', '.join(sorted(slow, key=version_key))}: standard library not "
            "byte-compiled and bytecode writing off, so every start recompiled it (start-up "
            "times inflated)"
        )
    return lines


def _speed(reading: Any) -> dict[str, Any] | None:
    """A host-speed reading as ``nox -s bench`` records it, or None."""
    if isinstance(reading, dict) and isinstance(reading.get("loop_s"), (int, float)):
        return reading
    return None


def describe_speed(run: dict[str, Any]) -> list[str]:
    """The host's speed before and after a run (gilcompare.measure.speed.host_speed), and a
    warning when it changed while the run measured; nothing for a run that did not read it."""
    before, after = _speed(run.get("speed_before")), _speed(run.get("speed_after"))
    if before is None:
        return []

    def reading(speed: dict[str, Any]) -> str:
        capacity = speed.get("capacity")
        at_once = f"{capacity:.2f}" if isinstance(capacity, (int, float)) else "?"
        return f"{speed['loop_s']:.3f} s alone, {at_once} at once"

    line = f"host speed (the reference loop on Python {before.get('python', '?')}): "
    line += f"{reading(before)} before the run"
    lines = [line + (f"; {reading(after)} after" if after else "")]
    changed = hostspeed.host_changed(before, after) if after else None
    if changed:
        lines.append(f"warning: the host changed during the run: {changed}")
    return lines


def host_between(first: dict[str, Any] | None, second: dict[str, Any] | None) -> str | None:
    """Whether the host ran as fast before two runs (their provenance): a line, or None when
    either run did not read its speed."""
    a = _speed(((first or {}).get("run") or {}).get("speed_before"))
    b = _speed(((second or {}).get("run") or {}).get("speed_before"))
    if a is None or b is None:
        return None
    changed = hostspeed.host_changed(a, b)
    if changed:
        return f"warning: the host changed between the runs: {changed}"
    ratio = hostspeed.speed_change(a, b)
    if ratio is None:
        return "host speed: the runs read it on different Pythons, so it does not compare"
    return (
        f"host speed: the reference loop took {a['loop_s']:.3f} s before the first run and "
        f"{b['loop_s']:.3f} s before the second ({ratio:.2f}×, within "
        f"{hostspeed.HOST_SPEED_TOLERANCE:.0%}): their times compare"
    )


def cpus(run: Run) -> int | None:
    """The CPUs asv recorded for the run's machine (None when it did not say)."""
    for data in run.environments:
        text = str((data.get("params") or {}).get("num_cpu", ""))
        if text.isdigit() and int(text) > 0:
            return int(text)
    return None


def build_tag(data: dict[str, Any]) -> BuildTag:
    """The Python build an environment ran: 3.14t, and its twin 3.14t+gil under PYTHON_GIL=1;
    ValueError when asv's python is no build tag."""
    env = data.get("env_vars") or {}
    tag = BuildTag.parse(str(data["python"]))
    return tag.twin if tag.free_threaded and str(env.get("PYTHON_GIL", "")) == "1" else tag


def environment_label(data: dict[str, Any]) -> str:
    """A column name: the Python build (3.14t, or 3.14t+gil under PYTHON_GIL=1) and any other
    environment variables of the matrix."""
    env = {k: v for k, v in (data.get("env_vars") or {}).items() if k != "PYTHON_GIL"}
    try:
        python = str(build_tag(data))
    except ValueError:  # an environment this suite did not define: shown as asv names it
        python = str(data["python"])
    extra = " ".join(f"{k}={v}" for k, v in sorted(env.items()) if v)
    return f"{python} {extra}".strip()


def cells(data: dict[str, Any], name: str) -> dict[tuple[Any, ...], float | None]:
    """A benchmark's value for every parameter combination (None: skipped or failed)."""
    entry = data["results"].get(name)
    if entry is None:
        return {}
    columns = data["result_columns"]
    values = entry[columns.index("result")] or []
    params = entry[columns.index("params")] if "params" in columns else []
    combos = list(itertools.product(*[[ast.literal_eval(v) for v in p] for p in params]))
    out = {}
    for combo, value in zip(combos or [()], values):
        ok = isinstance(value, (int, float)) and not math.isnan(value)
        out[combo] = float(value) if ok else None
    return out


def version_key(label: str) -> tuple[Any, ...]:
    """Order columns by version, each GIL build before its free-threaded build and twin."""
    head = label.split()[0]
    try:
        return (*BuildTag.parse(head).sort_key, label)
    except ValueError:
        return (math.inf, label)


def speedup_table(run: Run, workers: int) -> tuple[list[str], list[dict[str, Any]]]:
    """(Python columns, rows): each Scaling cell's speedup at ``workers`` for every Python,
    then the machine's parallel capacity measured in the same run."""
    columns: list[str] = []
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    capacity: dict[str, Any] = {"workload": "machine", "model": "capacity (2.0 = two cores)"}
    seen_workers: set[int] = set()
    for data in run.environments:
        column = environment_label(data)
        columns.append(column)
        for name in sorted(n for n in data["results"] if n.endswith(SPEEDUP_SUFFIX)):
            for (workload, model, n), value in cells(data, name).items():
                seen_workers.add(n)
                if n == workers:
                    row = rows.setdefault((workload, model), {"workload": workload, "model": model})
                    row[column] = value
        capacity[column] = cells(data, CAPACITY).get(())
    if seen_workers and workers not in seen_workers:
        counts = ", ".join(map(str, sorted(seen_workers)))
        raise UsageError(f"no speedups at {workers} workers in this run: choose from {counts}")
    columns.sort(key=version_key)
    return columns, [*rows.values(), capacity]
