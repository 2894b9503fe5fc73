"""Comparing interpreter builds in one run: the same task lists under several Pythons.

The questions free-threading raises are relative ones — *what does the free-threaded build
cost single-threaded?*, *what does it buy at N threads, against the GIL build's threads and
against processes?* — and a host that lends its second core unevenly makes absolute seconds
from separate runs worthless for them. So every build is timed in the same invocation, in
rounds: each round visits every cell under every build (the order of the builds reversed
on odd rounds), each measurement in its own isolated child under that build's interpreter.
A cell's ``relative`` is gilcompare.measure.engine's estimate of its time over the reference
build's time for the same cell, round by round; the reference timed against itself is the
A/A control.

A build is named by its tag (``3.14``, ``3.14t``) or, for a free-threaded build run with the
GIL switched back on (``PYTHON_GIL=1``), by its twin's tag (``3.14t+gil``). Children import
gilcompare from this installation, through a folder on their ``PYTHONPATH`` that holds only
the package: the measurement needs the standard library alone, so any interpreter will do.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gilcompare.errors import UsageError
from gilcompare.interpreters import BuildTag, Interpreter
from gilcompare.measure import engine, paired
from gilcompare.measure.cells import Cell, Result
from gilcompare.measure.matrix import measure_isolated
from gilcompare.models import BASELINE


@dataclass(frozen=True)
class Build:
    """An interpreter as asked for on the command line, with the environment it runs in."""

    label: str  # as asked, e.g. "3.14t+gil"
    interpreter: Interpreter
    python_gil: str | None = None  # "1" for a twin

    @property
    def env(self) -> dict[str, str]:
        return {"PYTHON_GIL": self.python_gil} if self.python_gil else {}


def resolve_builds(names: Sequence[str], found: Sequence[Interpreter]) -> list[Build]:
    """The builds named, looked up among the interpreters found; one-line errors otherwise."""
    by_tag: dict[str, Interpreter] = {}
    for interp in found:  # the first found of a tag wins, as on PATH
        by_tag.setdefault(interp.tag, interp)
    twins = [str(BuildTag.parse(tag).twin) for tag, i in by_tag.items() if i.free_threaded]
    valid = [*by_tag, *twins]
    builds: list[Build] = []
    for name in names:
        try:
            tag = BuildTag.parse(name)
        except ValueError as exc:
            raise UsageError(f"{exc}; found here: {', '.join(valid) or 'none'}") from None
        interp = by_tag.get(str(tag.interpreter))
        if interp is None:
            shown = ", ".join(valid) or "none"
            raise UsageError(f"no Python {name!r} found here: choose from {shown}")
        builds.append(Build(name, interp, "1" if tag.gil_forced else None))
    if len(builds) < 2:
        raise UsageError("--python needs at least two builds to compare, e.g. 3.14,3.14t")
    return builds


@dataclass
class Comparison:
    """One cell under one build, over all rounds, relative to the reference build."""

    python: str  # the build as asked, e.g. "3.14t+gil"
    workload: str
    model: str
    workers: int
    control: bool = False  # the reference build timed against itself (A/A)
    status: str = "ok"  # ok | skipped | failed | mismatch
    reason: str = ""
    version: str = ""
    free_threaded: bool = False
    python_gil_env: str | None = None
    gil_enabled: bool | None = None  # as seen inside the workers
    times: list[float] = field(default_factory=list)  # one per round
    seconds: float | None = None  # median over rounds
    relative: float | None = None  # time / the reference build's time, median over rounds
    relative_low: float | None = None  # its 95 % interval (gilcompare.measure.engine)
    relative_high: float | None = None
    speedup: float | None = None  # over this build's own serial run (paired, in the child)
    speedup_low: float | None = None
    speedup_high: float | None = None
    checksum: str = ""
    estimator: str = engine.ESTIMATOR
    interval: str = engine.INTERVAL
    rounds: int = 0
    scaling: str = "strong"
    profile: str = ""
    results: list[Result] = field(default_factory=list, repr=False)

    def record(self) -> dict[str, Any]:
        out = asdict(self)
        del out["results"]
        return out


@contextlib.contextmanager
def package_path() -> Iterator[str]:
    """A folder holding only this gilcompare package, for the children's PYTHONPATH."""
    package = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="gilcompare-path-") as folder:
        os.symlink(package, os.path.join(folder, "gilcompare"))
        yield folder


def _measure(build: Build, cell: Cell, path: str, timeout: float) -> Result:
    env = {**build.env, "PYTHONPATH": path}
    if not build.python_gil:
        env["PYTHON_GIL"] = os.environ.get("PYTHON_GIL", "")
    return measure_isolated(cell, timeout, build.interpreter.path, env)


def compare(
    builds: Sequence[Build],
    cells: Sequence[Cell],
    rounds: int,
    timeout: float,
    progress: Callable[[str], None] | None = None,
) -> list[Comparison]:
    """Every cell under every build (the first is the reference, and its A/A control), in
    ``rounds`` alternating rounds; one isolated child per measurement."""
    reference = builds[0]
    series = [(reference, False), *((b, False) for b in builds[1:]), (reference, True)]
    table: dict[tuple[int, int], Comparison] = {}
    for c, cell in enumerate(cells):
        for s, (build, control) in enumerate(series):
            label = f"{build.label} (A/A)" if control else build.label
            table[c, s] = Comparison(
                python=label, workload=cell.workload, model=cell.model, workers=cell.workers,
                control=control,
                free_threaded=build.interpreter.free_threaded, python_gil_env=build.python_gil,
                version=build.interpreter.version, scaling=cell.scaling, profile=cell.profile,
            )  # fmt: skip
    total, done = rounds * len(cells) * len(series), 0
    with package_path() as path:
        for round_ in range(rounds):
            order = paired.in_order(round_, enumerate(series))
            for c, cell in enumerate(cells):
                for s, (build, _control) in order:
                    res = _measure(build, cell, path, timeout)
                    table[c, s].results.append(res)
                    done += 1
                    if progress is not None:
                        shown = f"{res.seconds:.3f} s" if res.seconds else res.status
                        progress(
                            f"[{done}/{total}] round {round_ + 1} · {cell.workload} · "
                            f"{cell.model} · {cell.workers} · {table[c, s].python}: {shown}"
                        )
    out = []
    for c in range(len(cells)):
        ref = table[c, 0]
        _summarise(ref, None)
        for s in range(len(series)):
            if s:
                _summarise(table[c, s], ref)
            out.append(table[c, s])
    ref_of = {(r.workload, r.model, r.workers): r for r in out if r.python == reference.label}
    for r in out:  # the same cell's answers must agree across builds
        ref = ref_of[r.workload, r.model, r.workers]
        if r.status == "ok" and ref.status == "ok" and r.checksum != ref.checksum:
            r.status = "mismatch"
            r.reason = f"checksum {r.checksum} differs from {reference.label}'s {ref.checksum}"
            r.relative = r.relative_low = r.relative_high = None
    return out


def _summarise(row: Comparison, reference: Comparison | None) -> None:
    """Fold a row's rounds into its numbers; relative to the reference row, round by round."""
    bad = [r for r in row.results if r.status != "ok"]
    if bad:
        row.status, row.reason = bad[0].status, bad[0].reason
    else:
        row.times = [r.seconds for r in row.results if r.seconds is not None]
        row.rounds = len(row.times)
        row.seconds = statistics.median(row.times) if row.times else None
        row.checksum = ",".join(sorted({r.checksum for r in row.results}))
        serial = [t for r in row.results for t in r.serial_times]
        timed = [t for r in row.results for t in r.times]
        est = engine.ratio(serial, timed) if len(serial) == len(timed) else None
        # serial against itself is the run command's A/A, not this
        if est is not None and row.model != BASELINE:
            row.speedup, row.speedup_low, row.speedup_high = est.value, est.low, est.high
    row.gil_enabled = engine.gil_verdict(r.gil_enabled for r in row.results)
    if reference is None:
        row.relative = 1.0 if row.status == "ok" else None
    elif row.status == "ok" and reference.status == "ok":
        est = engine.ratio(row.times, reference.times)
        if est is not None:
            row.relative, row.relative_low, row.relative_high = est.value, est.low, est.high
