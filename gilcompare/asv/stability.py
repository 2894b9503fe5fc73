"""Two runs of the asv suite side by side: how far the same benchmark moved, and what each cost.

Run the suite twice in a row on the same code and compare: every value both runs measured (same
environment, benchmark and parameters) gives a relative change |b - a| / a. Speedups (the
``Scaling`` tracks, A/A control included) and times (``time_*``, ``timeraw_*`` and a grid's
times) are summarised apart, per environment and over all of them, by the median and the
90th percentile of those changes. The times also get their drift, the median of the signed
changes (b - a) / a: a host running slower or faster for the whole second run moves every
time one way, which the unsigned changes cannot tell from noise. A run's cost is what asv
recorded: each benchmark's duration plus its ``setup_cache`` and build, per environment.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from typing import Any

from gilcompare.asv.results import SPEEDUP_SUFFIX, Run, cells, environment_label, version_key

ALL = "all"


# a grid's own times (gilcompare.asv.bench.Scaling): times as much as asv's time_*
GRID_TIMES = ("track_model_time", "track_serial_time")


def is_time(name: str) -> bool:
    """A benchmark whose value is the time of a task list: asv's ``time_*`` and
    ``timeraw_*``, and a grid's ``track_model_time`` and ``track_serial_time``."""
    method = name.rsplit(".", 1)[-1]
    return method.startswith(("time_", "timeraw_")) or method in GRID_TIMES


def is_speedup(name: str) -> bool:
    return name.endswith(SPEEDUP_SUFFIX)


def p90(values: list[float]) -> float:
    """The 90th percentile (linear between the closest ranks, as numpy's default)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def changes(a: dict[str, Any], b: dict[str, Any], kind: str) -> list[float]:
    """(b - a) / a for every value of the kind ("speedup" or "time") both files hold."""
    keep = is_speedup if kind == "speedup" else is_time
    out = []
    for name in sorted(set(a["results"]) & set(b["results"])):
        if not keep(name):
            continue
        before, after = cells(a, name), cells(b, name)
        for combo, x in before.items():
            y = after.get(combo)
            if x is not None and y is not None and x > 0 and math.isfinite(y):
                out.append((y - x) / x)
    return out


def minutes(data: dict[str, Any]) -> float:
    """What one environment of a run cost, in minutes: benchmarks, setup_cache and build."""
    columns = data["result_columns"]
    at = columns.index("duration") if "duration" in columns else None
    seconds = sum(v for v in (data.get("durations") or {}).values() if isinstance(v, (int, float)))
    if at is not None:
        for entry in data["results"].values():
            value = entry[at] if len(entry) > at else None
            if isinstance(value, (int, float)):
                seconds += value
    return seconds / 60


def _summary(signed: list[float]) -> dict[str, Any]:
    """n, the median and p90 of |change|, and the drift: the median of the signed changes."""
    if not signed:
        return {"n": 0, "median": None, "p90": None, "drift": None}
    values = [abs(v) for v in signed]
    return {
        "n": len(values),
        "median": statistics.median(values),
        "p90": p90(values),
        "drift": statistics.median(signed),
    }


def compare_runs(a: Run, b: Run) -> list[dict[str, Any]]:
    """A row per environment both runs hold, then the row for all of them together: the
    speedups' and the times' relative changes (n, median, p90) and each run's minutes."""
    first = {environment_label(d): d for d in a.environments}
    second = {environment_label(d): d for d in b.environments}
    rows = []
    pooled: dict[str, list[float]] = {"speedup": [], "time": []}
    total = [0.0, 0.0]
    for env in sorted(set(first) & set(second), key=version_key):
        row: dict[str, Any] = {"environment": env}
        for kind in pooled:
            found = changes(first[env], second[env], kind)
            pooled[kind] += found
            row[kind] = _summary(found)
        row["minutes"] = [minutes(first[env]), minutes(second[env])]
        total[0] += row["minutes"][0]
        total[1] += row["minutes"][1]
        rows.append(row)
    rows.append(
        {
            "environment": ALL,
            "speedup": _summary(pooled["speedup"]),
            "time": _summary(pooled["time"]),
            "minutes": total,
        }
    )
    return rows


def flat(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with one column per number, for a table."""
    out = []
    for row in rows:
        cells: dict[str, Any] = {"environment": row["environment"]}
        for kind in ("speedup", "time"):
            summary = row[kind]
            cells[f"{kind}_n"] = summary["n"]
            for stat in ("median", "p90"):
                value = summary[stat]
                cells[f"{kind}_{stat}"] = None if value is None else f"{value:.1%}"
        drift = row["time"]["drift"]
        cells["time_drift"] = None if drift is None else f"{drift:+.1%}"
        cells["minutes_a"] = f"{row['minutes'][0]:.1f}"
        cells["minutes_b"] = f"{row['minutes'][1]:.1f}"
        out.append(cells)
    return out
