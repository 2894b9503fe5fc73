"""Merge the asv results of several machines into one results folder, for one site.

Each source is a results folder as ``nox -s bench`` leaves it (``results/<machine>/…`` with
``benchmarks.json``), or one machine's folder (``results/<machine>``, holding machine.json);
``SOURCE=NAME`` files a machine folder's results under another machine name. The pattern of
asv's big users: one job per machine, then one ``asv publish`` over every machine's results.

A machine name must name one kind of host: asv draws one line per machine, so two hosts under
one name (runners with different CPUs, or a run under ``taskset``) would report one change
twice, or a slower CPU as a regression. A host is what its results record: the architecture,
the CPU model and the usable CPUs (machine.json, and the host lines of the provenance). The
host name is not compared: a hosted CI runner gets a new one every run. Two different hosts
under one name are refused, saying how to rename one.

The suites' ``benchmarks.json`` are merged too: the parameters of each benchmark become the
union of every machine's (a 64-CPU machine measures at 64 workers, a laptop at 8), since asv
publish shows only the parameters its ``benchmarks.json`` lists.

Build tooling, outside the package: ``nox -s merge`` installs gilcompare and runs this file
by path; every file it writes goes through gilcompare's checked, atomic writer.

    python tools/merge.py OUT SOURCE[=NAME] [SOURCE[=NAME] …]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gilcompare.report import validate

MARKER = ".merged"  # marks a folder this tool wrote, which it may empty and write again
IDENTITY = ("arch", "cpu", "num_cpu")  # of asv's machine description: what makes a host
PROVENANCE_IDENTITY = ("cpu_model", "cpu_usable")  # of the provenance's host lines


class MergeError(Exception):
    """A merge that would mislead: the message says what and how to fix it."""


@dataclass
class Machine:
    """One machine folder to merge, and the name its results are filed under."""

    folder: Path
    name: str
    description: dict[str, Any] = field(default_factory=dict)
    hosts: set[tuple[Any, ...]] = field(default_factory=set)  # from provenance

    @property
    def identity(self) -> dict[str, Any]:
        found = {key: self.description.get(key) for key in IDENTITY}
        found["provenance"] = sorted(self.hosts, key=repr)
        return found

    def summary(self) -> str:
        d = self.description
        cpus = f"{d.get('num_cpu', '?')} CPUs"
        return f"{self.folder} ({d.get('cpu', '?')}, {d.get('arch', '?')}, {cpus})"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MergeError(f"{path}: cannot read it as JSON ({exc})") from None


def _hosts(folder: Path) -> set[tuple[Any, ...]]:
    """The hosts the provenance of ``folder``'s runs describe (nox -s bench writes it)."""
    found = set()
    for path in sorted((folder / "provenance").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line) if line.strip() else {}
            if entry.get("kind") == "run":
                host = entry.get("host_before") or {}
                found.add(tuple(host.get(key) for key in PROVENANCE_IDENTITY))
    return found


def machines_in(source: str) -> list[Machine]:
    """The machine folders a source names (``PATH`` or ``PATH=NAME``)."""
    path_text, _, rename = source.partition("=")
    path = Path(path_text)
    if (path / "machine.json").is_file():
        folders = [path]
    elif path.is_dir():
        folders = sorted(p.parent for p in path.glob("*/machine.json"))
    else:
        raise MergeError(f"{path}: no such folder (give results folders or machine folders)")
    if not folders:
        raise MergeError(f"{path}: no machine results in it (no machine.json, no */machine.json)")
    if rename and len(folders) > 1:
        names = ", ".join(f"{f}={rename}-{f.name}" for f in folders)
        raise MergeError(
            f"{source}: {path} holds several machines; rename one machine folder at a time, "
            f"e.g. {names}"
        )
    found = []
    for folder in folders:
        description = _read_json(folder / "machine.json")
        if not isinstance(description, dict):
            raise MergeError(f"{folder / 'machine.json'}: not an asv machine description")
        name = rename or str(description.get("machine") or folder.name)
        found.append(Machine(folder, name, description, _hosts(folder)))
    return found


def check_hosts(machines: list[Machine]) -> None:
    """Refuse two different hosts under one machine name, naming both and the fix."""
    first: dict[str, Machine] = {}
    for m in machines:
        seen = first.setdefault(m.name, m)
        if seen is m or seen.identity == m.identity:
            continue
        differ = [k for k in (*IDENTITY, "provenance") if seen.identity[k] != m.identity[k]]
        raise MergeError(
            f"machine {m.name!r} names two different hosts ({', '.join(differ)} differ): "
            f"{seen.summary()} and {m.summary()}. One machine name must mean one kind of "
            f"host, or asv reports one change twice. Rename one of them: give it as "
            f"{m.folder}={m.name}-2 (any new name), or run it with `asv machine --machine "
            f"NEW-NAME` before `nox -s bench`"
        )


def _rename_entry(data: dict[str, Any], name: str) -> dict[str, Any]:
    if isinstance(data.get("params"), dict):
        data["params"]["machine"] = name
    return data


def _copy(src: Path, dst: Path, name: str, rewrite: bool) -> None:
    """Copy one file; a results file or machine.json of a renamed machine gets the new name.
    The same file from two sources must be the same file."""
    if rewrite and src.suffix == ".json":
        data = _read_json(src)
        if src.name == "machine.json":
            data["machine"] = name
        else:
            _rename_entry(data, name)
        content = (json.dumps(data, indent=4, sort_keys=True) + "\n").encode()
    elif rewrite and src.suffix == ".jsonl" and src.parent.name == "provenance":
        lines = []
        for line in src.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            if entry.get("kind") == "run":
                entry["machine"] = name
            lines.append(json.dumps(entry, sort_keys=True))
        content = ("\n".join(lines) + "\n").encode()
    else:
        content = src.read_bytes()
    if dst.exists():
        if dst.read_bytes() != content and dst.name != "machine.json":
            raise MergeError(
                f"{dst.relative_to(dst.parents[1])} comes from two sources with different "
                f"contents (the second is {src}): the same commit and environment was measured "
                f"twice under one machine name; keep one, or rename one machine"
            )
        if dst.name != "machine.json":
            return
    dst.parent.mkdir(parents=True, exist_ok=True)
    validate.write_file(str(dst), content)


def _union(values: list[list[str]], more: list[list[str]]) -> list[list[str]]:
    """Parameter lists joined position by position; counts sorted as numbers."""
    out = []
    for mine, theirs in zip(values, more):
        joined = list(mine) + [v for v in theirs if v not in mine]
        if all(isinstance(v, str) and v.isdigit() for v in joined):
            joined.sort(key=int)
        out.append(joined)
    return out


def merge_benchmarks(indexes: list[dict[str, Any]], problems: list[str]) -> dict[str, Any]:
    """One benchmarks.json: the last index's descriptions, every index's parameters."""
    merged: dict[str, Any] = {}
    for index in indexes:
        for name, bench in index.items():
            if not isinstance(bench, dict):
                merged[name] = bench
                continue
            old = merged.get(name)
            bench = json.loads(json.dumps(bench))
            if old is not None:
                if old.get("version") != bench.get("version"):
                    problems.append(
                        f"{name}: versions {old.get('version')} and {bench.get('version')} "
                        f"differ; asv publish shows only the results of {bench.get('version')}"
                    )
                old_params, new_params = old.get("params") or [], bench.get("params") or []
                if len(old_params) == len(new_params):
                    bench["params"] = _union(old_params, new_params)
            merged[name] = bench
    return merged


def merge(out: Path, sources: list[str]) -> tuple[list[str], list[str]]:
    """Merge ``sources`` into ``out``; return the machine names and one line per problem.

    Raises MergeError, with nothing written, when two hosts share a machine name.
    """
    machines = [m for source in sources for m in machines_in(source)]
    check_hosts(machines)
    problems: list[str] = []
    indexes = []  # the suite's description asv wrote beside each machine's folder
    for m in machines:
        path = m.folder.parent / "benchmarks.json"
        index = _read_json(path) if path.is_file() else None
        if index is not None and index not in indexes:
            indexes.append(index)
    if not indexes:
        raise MergeError("no benchmarks.json beside any source's machine folders")
    for m in machines:
        rewrite = m.name != m.description.get("machine")
        for src in sorted(p for p in m.folder.rglob("*") if p.is_file()):
            _copy(src, out / m.name / src.relative_to(m.folder), m.name, rewrite)
    out.mkdir(parents=True, exist_ok=True)
    merged = merge_benchmarks(indexes, problems)
    validate.write_file(str(out / "benchmarks.json"), json.dumps(merged, indent=4) + "\n")
    return sorted({m.name for m in machines}), problems


def prepare(out: Path, sources: list[str]) -> None:
    """Empty ``out`` for a new merge: only a folder this tool wrote, never a source."""
    for source in sources:
        path = Path(source.partition("=")[0]).resolve()
        target = out.resolve()
        if target == path or target in path.parents or path in target.parents:
            raise MergeError(f"{out} and the source {path} overlap: merge into another folder")
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise MergeError(f"{out} is not empty and not a merge this tool wrote: choose another")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    validate.write_file(str(out / MARKER), "written by tools/merge.py; emptied by the next merge\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "out", type=Path, help="the merged results folder (a new one, or an earlier merge)"
    )
    parser.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE[=NAME]",
        help="a results folder, or a machine folder, optionally filed under NAME",
    )
    args = parser.parse_args(argv)
    try:
        prepare(args.out, args.sources)
        names, problems = merge(args.out, args.sources)
    except MergeError as exc:
        if (args.out / MARKER).is_file():
            shutil.rmtree(args.out, ignore_errors=True)
        print(f"merge: {exc}", file=sys.stderr)
        return 2
    for line in problems:
        print(f"merge: {line}", file=sys.stderr)
    print(f"merge: {len(names)} machines into {args.out}: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
