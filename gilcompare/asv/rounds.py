"""The rounds behind a run's speedups: intervals, the noise gauge, and which cells changed.

asv keeps one value per cell. ``nox -s bench`` also keeps every round the grids measured
(gilcompare.asv.grids.keep_rounds): ``results/<machine>/rounds/<commit>/<build>/<class>.jsonl``,
a gauge line (the two-process capacity read once per round) and a line per cell with its
paired serial and model times. From them:

* each speedup's 95 % interval, by gilcompare.measure.engine's one method (Stein's form of it
  for a cell whose pilot rounds planned more, which its line records as ``pilot``);
* the noise gauge of each grid: the median of its readings against the CPUs it ran on; a
  grid whose gauge reads below ``NOISY_SHARE`` of them ran on a noisy host, and so did every
  cell in it;
* between two runs, the cells that changed: those whose two 95 % intervals do not overlap.
  Two intervals of equal width that just miss each other differ by about 2.8 standard errors
  of the difference, so on two identical runs few cells (well under 5 % when the rounds
  behave as the interval assumes) are named by chance.

A run measured before the rounds were kept has none: its cells have no interval and no
gauge, and saying so is all that can be done.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gilcompare.asv.results import JSON_LINES, Run, read_json_lines
from gilcompare.errors import UsageError
from gilcompare.measure import engine
from gilcompare.measure.gauge import NOISY_SHARE, noisy

Key = tuple[str, str, str, int]  # (class, workload, model, workers)


@dataclass
class Gauge:
    """One grid's noise gauge: its readings, one per round, and what they mean."""

    readings: list[float]
    processes: int
    cpus: int | None = None  # the usable CPUs the run recorded (older rounds files: none)

    @property
    def median(self) -> float | None:
        return statistics.median(self.readings) if self.readings else None

    @property
    def noisy(self) -> bool:
        """Whether the host lent less than NOISY_SHARE of the CPUs the gauge could use."""
        return bool(noisy(self.readings, self.processes, self.cpus))


@dataclass
class BuildRounds:
    """Every grid of one build in one run: each cell's interval and each grid's gauge."""

    intervals: dict[Key, engine.Ratio] = field(default_factory=dict)
    gauges: dict[str, Gauge] = field(default_factory=dict)

    def gauge_of(self, benchmark_class: str) -> Gauge | None:
        return self.gauges.get(benchmark_class)

    @property
    def noisy_classes(self) -> list[str]:
        return sorted(name for name, gauge in self.gauges.items() if gauge.noisy)


def _count(entry: dict[str, Any], key: str, path: Path) -> int:
    """The gauge's ``key``, a positive whole number, or a UsageError naming the file."""
    value = entry.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise UsageError(f"{path}: the gauge's {key} is not a positive count")
    return value


def folder(results_dir: Path, run: Run) -> Path:
    return results_dir / run.machine / "rounds" / run.commit


def _read(path: Path) -> list[dict[str, Any]]:
    entries = read_json_lines(path)
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("kind") not in ("gauge", "cell"):
            raise UsageError(f"{path}: an entry that is neither a gauge nor a cell: {JSON_LINES}")
    return entries


def _times(entry: dict[str, Any], key: str, path: Path) -> list[float]:
    values = entry.get(key)
    if not isinstance(values, list) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in values
    ):
        raise UsageError(f"{path}: a cell's {key} is not a list of seconds")
    return [float(v) for v in values]


def load(results_dir: Path, run: Run) -> dict[str, BuildRounds]:
    """Every build's rounds in this run (an empty mapping for a run without them)."""
    found: dict[str, BuildRounds] = {}
    base = folder(results_dir, run)
    if not base.is_dir():
        return found
    for path in sorted(base.glob("*/*.jsonl")):
        build, benchmark_class = path.parent.name, path.stem
        rounds = found.setdefault(build, BuildRounds())
        for entry in _read(path):
            if entry["kind"] == "gauge":
                readings = _times(entry, "readings", path)
                processes = _count(entry, "processes", path)
                cpus = _count(entry, "cpu_usable", path) if "cpu_usable" in entry else None
                rounds.gauges[benchmark_class] = Gauge(readings, processes, cpus)
                continue
            try:
                key = (benchmark_class, str(entry["workload"]), str(entry["model"]))
                workers = entry["workers"]
            except KeyError as exc:
                raise UsageError(f"{path}: a cell without {exc}") from None
            if not isinstance(workers, int) or isinstance(workers, bool):
                raise UsageError(f"{path}: a cell's workers is not a count")
            if entry.get("status") != "ok":
                continue
            serial, times = _times(entry, "serial_times", path), _times(entry, "times", path)
            if len(serial) != len(times):
                continue
            pilot = entry.get("pilot", 0)  # rounds planned from a pilot: Stein's interval
            if not isinstance(pilot, int) or isinstance(pilot, bool) or pilot < 0:
                raise UsageError(f"{path}: a cell's pilot is not a count of rounds")
            ratio = engine.ratio(serial, times, pilot)
            if ratio is not None:
                rounds.intervals[(*key, workers)] = ratio
    return found


def interval(
    found: dict[str, BuildRounds], build: str, workload: str, model: str, workers: int
) -> engine.Ratio | None:
    """A Scaling cell's speedup with its interval, whichever family's grid measured it."""
    rounds = found.get(build)
    if rounds is None:
        return None
    for (_, w, m, n), ratio in rounds.intervals.items():
        if (w, m, n) == (workload, model, workers):
            return ratio
    return None


def changed(
    first: dict[str, BuildRounds], second: dict[str, BuildRounds]
) -> tuple[list[dict[str, Any]], int]:
    """The cells of two runs whose 95 % intervals do not overlap, and how many cells both
    runs gave an interval for."""
    out: list[dict[str, Any]] = []
    compared = 0
    for build in sorted(set(first) & set(second)):
        a, b = first[build].intervals, second[build].intervals
        for key in sorted(set(a) & set(b)):
            x, y = a[key], b[key]
            if None in (x.low, x.high, y.low, y.high):
                continue
            compared += 1
            if x.high < y.low or y.high < x.low:  # type: ignore[operator]
                benchmark_class, workload, model, workers = key
                out.append(
                    {
                        "build": build,
                        "benchmark": benchmark_class,
                        "workload": workload,
                        "model": model,
                        "workers": workers,
                        "first": str(x),
                        "second": str(y),
                        "change": y.value / x.value - 1,
                    }
                )
    return out, compared


def plus_minus(value: float | None, ratio: engine.Ratio | None) -> str | float | None:
    """A speedup as the results table prints it: ``1.836±2%``, the larger side of its 95 %
    interval in percent of the value (or the bare value when there is no interval)."""
    if value is None or ratio is None or ratio.low is None or ratio.high is None:
        return value
    spread = max(value / ratio.low, ratio.high / value) - 1
    return f"{value:.3f}±{spread * 100:.0f}%"


def annotate(
    rows: list[dict[str, Any]], pythons: list[str], found: dict[str, BuildRounds], workers: int
) -> tuple[list[dict[str, Any]], list[str]]:
    """The results table's rows with every speedup's interval and a gauge row per build, and
    the notes that name the builds whose gauge says the host was noisy."""
    shown = []
    for row in rows:
        if row["workload"] == "machine":
            shown.append(row)
            continue
        cells = {
            p: plus_minus(row.get(p), interval(found, p, row["workload"], row["model"], workers))
            for p in pythons
        }
        shown.append({**row, **cells})
    gauge_row: dict[str, Any] = {"workload": "machine", "model": "gauge in the rounds"}
    notes = []
    for p in pythons:
        rounds = found.get(p)
        readings = [r for g in (rounds.gauges.values() if rounds else []) for r in g.readings]
        if not readings:
            gauge_row[p] = None
            continue
        gauge_row[p] = statistics.median(readings)
        if rounds and rounds.noisy_classes:
            gauge_row[p] = f"{gauge_row[p]:.3f}!"
            listed = ", ".join(
                f"{name} {rounds.gauges[name].median:.2f}" for name in rounds.noisy_classes
            )
            notes.append(
                f"noisy host on {p}: the gauge read below {NOISY_SHARE:.0%} of its CPUs in {listed}"
            )
    if any(value is not None for key, value in gauge_row.items() if key in pythons):
        shown.append(gauge_row)
        notes.insert(
            0,
            "±: the larger side of each speedup's 95 % interval, from its rounds; gauge: two "
            "busy processes against one, read in every round (2.0 = two cores lent); "
            "! = noisy host",
        )
    return shown, notes
