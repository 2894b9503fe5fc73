"""Build the scaling dashboard: one self-contained page answering "which model, how far does it
scale, on my Python" from the committed asv results.

Reads ``results/<machine>/*.json`` through gilcompare.asv.results, keeps each Python build's
latest results file per machine, and writes ``<html>/dashboard/index.html`` with the numbers
embedded as JSON, drawn by plain JavaScript and inline SVG (no CDN: it opens offline and from
file://). Every number names the asv benchmark it came from and links to asv's graph of it.
A corrupt or unreadable results file is reported in one line and left out; the rest is built.
After ``asv publish``, a link to the dashboard is added to asv's own index page.

    python tools/dashboard.py html [--results results] [--machine M] [--build B]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import statistics
import sys
from pathlib import Path
from typing import Any

from gilcompare.asv import results as asvresults
from gilcompare.asv import rounds
from gilcompare.cli import printable
from gilcompare.errors import UsageError
from gilcompare.interpreters import BuildTag, Interpreter
from gilcompare.models import BASELINE
from gilcompare.report import validate

ROOT = Path(__file__).resolve().parent.parent
PAGE = Path("dashboard") / "index.html"
LINK_ID = "gilcompare-dashboard-link"  # marks the link in asv's index, so it is added once
NAV_ANCHOR = '<li id="nav-li-graphdisplay">'  # asv 0.6's last navigation item
SPEEDUP = ".Scaling.track_speedup"
EFFICIENCY = ".Scaling.track_efficiency"
PROBES = "probes."
WAITING_MODULES = ("io_bound.",)  # their workloads wait: ideal speedup is N, not min(N, cores)


def _build_order(label: str) -> tuple[int, int, bool, bool]:
    return BuildTag.parse(label).sort_key


def _params(name: str, benchmarks: dict[str, Any], width: int) -> list[str]:
    names = list((benchmarks.get(name) or {}).get("param_names") or [])
    return names if len(names) == width else [f"p{i}" for i in range(width)]


def _value(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 6)


def _build_entry(
    path: Path,
    data: dict[str, Any],
    benchmarks: dict[str, Any],
    kept: rounds.BuildRounds | None = None,
    host: str | None = None,
) -> dict[str, Any]:
    """One results file as the page's data: scaling cells (with their 95 % intervals where
    the run kept its rounds), capacity, the noise gauge, probes, and the host it ran on."""
    scaling: dict[tuple[str, str, str, int], dict[str, Any]] = {}
    probes: dict[str, Any] = {}
    for name in sorted(data["results"]):
        cells = asvresults.cells(data, name)
        if name.endswith(SPEEDUP) or name.endswith(EFFICIENCY):
            field = "speedup" if name.endswith(SPEEDUP) else "efficiency"
            bench = name[: -len(EFFICIENCY)] + SPEEDUP if field == "efficiency" else name
            for (workload, model, workers), value in cells.items():
                key = (bench, workload, model, int(workers))
                cell = scaling.setdefault(
                    key,
                    {
                        "bench": bench,
                        "workload": workload,
                        "model": model,
                        "workers": int(workers),
                        "waiting": name.startswith(WAITING_MODULES),
                    },
                )
                cell[field] = _value(value)
                ratio = kept.intervals.get((bench.rsplit(".", 1)[0], *key[1:])) if kept else None
                if ratio is not None and ratio.low is not None:
                    cell["low"], cell["high"] = _value(ratio.low), _value(ratio.high)
        elif name.startswith(PROBES):
            width = len(next(iter(cells), ()))
            probes[name] = {
                "unit": (benchmarks.get(name) or {}).get("unit", ""),
                "params": _params(name, benchmarks, width),
                "cells": [[*map(str, combo), _value(v)] for combo, v in cells.items()],
            }
    capacity = asvresults.cells(data, asvresults.CAPACITY).get(())
    return {
        "file": str(path),
        "commit": data["commit_hash"],
        "date": dt.datetime.fromtimestamp(data.get("date", 0) / 1000, tz=dt.timezone.utc)
        .isoformat(timespec="minutes")
        .replace("+00:00", "Z"),
        "python": data["python"],
        "env_vars": {k: v for k, v in (data.get("env_vars") or {}).items() if v},
        "cpus": int(str((data.get("params") or {}).get("num_cpu", "0")) or 0) or None,
        "capacity": _value(capacity),
        "capacity_bench": asvresults.CAPACITY,
        "gauge": _gauge(kept),
        "noisy": kept.noisy_classes if kept else [],
        "host": host,
        "scaling": [c for c in scaling.values() if c.get("speedup") is not None],
        "probes": probes,
    }


def _gauge(kept: rounds.BuildRounds | None) -> float | None:
    """The median of every reading of the build's noise gauge in its run."""
    readings = [r for g in (kept.gauges.values() if kept else []) for r in g.readings]
    return _value(statistics.median(readings)) if readings else None


def _run_extras(
    results_dir: Path, machine: str, commit: str, problems: list[str]
) -> tuple[dict[str, rounds.BuildRounds], str | None, dict[str, str]]:
    """What ``nox -s bench`` kept beside one run: its rounds, the host's CPU model and each
    build's full version (3.15.0rc1)."""
    run = asvresults.Run(machine=machine, commit=commit, date=dt.datetime.now(dt.timezone.utc))
    try:
        kept = rounds.load(results_dir, run)
    except UsageError as exc:
        problems.append(str(exc))
        kept = {}
    try:
        found = asvresults.provenance(results_dir, run)
    except UsageError as exc:
        problems.append(str(exc))
        found = None
    host = found["run"]["host_before"].get("cpu_model") if found else None
    versions = {
        tag: str(entry["version"])
        for tag, entry in (found["builds"] if found else {}).items()
        if isinstance(entry.get("version"), str)
    }
    return kept, host if isinstance(host, str) else None, versions


def _mixed(machine: str, builds: dict[str, Any]) -> list[str]:
    """Warnings for a page whose builds come from different runs or different hosts."""
    out = []
    for key, what in (("commit", "commits"), ("host", "hosts")):
        seen: dict[str, list[str]] = {}
        for label, entry in builds.items():
            if entry.get(key):
                seen.setdefault(str(entry[key])[:8] if key == "commit" else entry[key], []).append(
                    label
                )
        if len(seen) > 1:
            listed = "; ".join(f"{value}: {', '.join(labels)}" for value, labels in seen.items())
            out.append(
                f"machine {machine}: this page mixes {what}, so compare builds with care ({listed})"
            )
    return out


def _description(results_dir: Path, machine: str) -> dict[str, str]:
    """asv's description of a machine (CPU, architecture, usable CPUs, OS), for comparing
    one cell across machines; empty when machine.json cannot be read."""
    try:
        found = json.loads((results_dir / machine / "machine.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    keys = ("cpu", "arch", "num_cpu", "os", "ram")
    return {k: str(found[k]) for k in keys if isinstance(found, dict) and found.get(k)}


def collect(results_dir: Path) -> tuple[dict[str, Any], list[str]]:
    """Every machine's builds (each from its latest results file) and one line per problem."""
    try:
        machines = asvresults.machines(results_dir)
    except UsageError as exc:
        return {}, [str(exc)]
    if not machines:
        return {}, [f"{results_dir}: no machine has results (no */machine.json)"]
    problems: list[str] = []
    benchmarks: dict[str, Any] = {}
    index = results_dir / "benchmarks.json"
    try:
        benchmarks = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(f"{index}: cannot read benchmark descriptions ({exc}); units left out")
    data: dict[str, Any] = {}
    for machine in machines:
        latest: dict[str, tuple[int, Path, dict[str, Any]]] = {}
        for path in sorted((results_dir / machine).glob("*.json")):
            if path.name == "machine.json":
                continue
            try:
                parsed = asvresults.load(path)
                label = str(asvresults.build_tag(parsed))
            except UsageError as exc:
                problems.append(str(exc))
                continue
            except ValueError as exc:
                problems.append(f"{path}: {exc}")
                continue
            stamp = int(parsed.get("date", 0))
            if label not in latest or stamp >= latest[label][0]:
                latest[label] = (stamp, path, parsed)
        builds = {}
        extras: dict[str, tuple[dict[str, rounds.BuildRounds], str | None, dict[str, str]]] = {}
        for label in sorted(latest, key=_build_order):
            _, path, parsed = latest[label]
            commit = str(parsed["commit_hash"])
            if commit not in extras:
                extras[commit] = _run_extras(results_dir, machine, commit, problems)
            kept, host, versions = extras[commit]
            try:
                builds[label] = _build_entry(
                    path.relative_to(results_dir.parent), parsed, benchmarks, kept.get(label), host
                )
                # the full version of the interpreter: 3.15.0rc1, not asv's "3.15"
                builds[label]["version"] = versions.get(str(BuildTag.parse(label).interpreter))
            except (KeyError, TypeError, ValueError, SyntaxError) as exc:
                problems.append(f"{path}: not an asv results file this page can read ({exc})")
        if builds:
            data[machine] = {"builds": builds, "description": _description(results_dir, machine)}
            problems.extend(_mixed(machine, builds))
        else:
            problems.append(f"{results_dir / machine}: no readable results files")
    return data, problems


def opening_build(data: dict[str, Any], machine: str | None = None) -> str | None:
    """The build the page opens on: the newest released CPython with a GIL (the one most
    readers run), else the newest with a GIL, else the newest; a pre-release (3.15.0rc1) is
    known by its full version. None when nothing was measured."""
    entries: dict[str, Any] = {}
    for name, found in data.items():
        if machine in (None, name):
            entries.update(found["builds"])
    labels = sorted(entries, key=_build_order)
    plain = [label for label in labels if not BuildTag.parse(label).free_threaded]

    def released(label: str) -> bool:
        version = entries[label].get("version")
        build = Interpreter(version=version, free_threaded=False, path="") if version else None
        return build is not None and build.prerelease is None

    for choice in ([x for x in plain if released(x)], plain, labels):
        if choice:
            return str(choice[-1])
    return None


def _reproduction(path: Path | None, problems: list[str]) -> Any:
    if path is None or not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(f"{path}: cannot read the reproduction ({exc}); its table is left out")
        return None


def render(payload: dict[str, Any]) -> str:
    """The page: the template with the data embedded as JSON."""
    text = json.dumps(payload, separators=(",", ":"))  # key order is display order
    text = text.replace("<", "\\u003c")  # no "</script>" can end the data early
    template = (Path(__file__).resolve().parent / "dashboard.html").read_text(encoding="utf-8")
    return template.replace("__DATA__", text)


def link_from_index(html: Path) -> bool:
    """Link the dashboard from asv's index page, once: an item of asv's navigation bar, or a
    line at the top of a page without one. False when there is no index page."""
    index = html / "index.html"
    if not index.is_file():
        return False
    text = index.read_text(encoding="utf-8")
    if LINK_ID in text:
        return True
    target = '<a href="dashboard/index.html">Scaling dashboard</a>'
    if NAV_ANCHOR in text:  # beside "Benchmark grid", "Benchmark list", "Regressions"
        item = f'<li id="{LINK_ID}">{target}</li>\n        '
        text = text.replace(NAV_ANCHOR, item + NAV_ANCHOR, 1)
    else:
        head, sep, rest = text.partition("<body")
        if not sep:
            return False
        end = rest.index(">") + 1
        line = f'<div id="{LINK_ID}" style="padding:6px 12px;font:14px sans-serif">{target}</div>'
        text = head + sep + rest[:end] + line + rest[end:]
    validate.write_file(str(index), text)
    return True


def build(
    html: Path,
    results_dir: Path,
    machine: str | None = None,
    build: str | None = None,
    reproduction: Path | None = None,
) -> tuple[Path, list[str]]:
    """Write the dashboard into ``html``; return its path and the problems found on the way.

    Raises UsageError when a machine or build is asked for that has no results.
    """
    data, problems = collect(results_dir)
    if machine is not None and machine not in data:
        raise UsageError(
            f"no results for machine {machine!r}: choose from {', '.join(data) or '(none)'}"
        )
    if build is not None:
        have = sorted(
            {b for m, d in data.items() if machine in (None, m) for b in d["builds"]},
            key=_build_order,
        )
        if build not in have:
            raise UsageError(f"no results for build {build!r}: choose from {', '.join(have)}")
    payload = {
        "machines": data,
        "problems": problems,
        "default": {"machine": machine, "build": build or opening_build(data, machine)},
        "baseline": BASELINE,  # the model every speedup is over: the A/A row, not a column
        "reproduction": _reproduction(reproduction, problems),
    }
    page = html / PAGE
    page.parent.mkdir(parents=True, exist_ok=True)
    validate.write_file(str(page), render(payload))
    return page, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path, help="the site folder (asv publish's html)")
    parser.add_argument("--results", type=Path, default=ROOT / "results", help="asv results")
    parser.add_argument("--machine", help="the machine shown first")
    parser.add_argument("--build", help="the Python build shown first, e.g. 3.13 or 3.14t+gil")
    parser.add_argument(
        "--reproduction",
        type=Path,
        default=ROOT / "results" / "reproduce.json",
        help="`gilcompare reproduce --json` output shown as a table, when the file exists",
    )
    args = parser.parse_args(argv)
    try:
        page, problems = build(args.html, args.results, args.machine, args.build, args.reproduction)
        linked = "linked from index.html" if link_from_index(args.html) else "no index.html to link"
    except UsageError as exc:
        print(printable(f"dashboard: {exc}"), file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a symlink put where the page goes
        print(printable(f"dashboard: cannot write the page: {exc}"), file=sys.stderr)
        return 1
    for line in problems:  # names read from files: printed as escapes, never as sequences
        print(printable(f"dashboard: {line}"), file=sys.stderr)
    print(printable(f"dashboard: wrote {page} ({linked})"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
