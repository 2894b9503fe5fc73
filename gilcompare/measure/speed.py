"""The host's speed, read before and after a long run: how fast it runs pure Python now, and
how many copies at once, so two runs can say whether the host ran alike for both.

A shared host slows down for an hour and lends its second core unevenly. A run's own gauge
(gilcompare.measure.gauge) sees the lent cores while the grids run; what it cannot see is a
host running every core slower than during the last run, which moves every time of the run
by as much while leaving its speedups alone. The reading here is small and stdlib only:
noxfile.py loads this file by path (before gilcompare is installed), and ``python speed.py
loop`` times the reference loop in whichever interpreter runs it.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

READING_TIMEOUT = 30.0
# The host's speed as a run records it before and after itself: the seed's `count += i` loop
# (about 0.1 s on a current core), timed REFERENCE_READINGS times in a fresh interpreter alone,
# then in one interpreter per CPU at once.
REFERENCE_LOOP = 2_000_000
REFERENCE_READINGS = 9
# two runs' times compare only when the host ran the loop this close to as fast before each
HOST_SPEED_TOLERANCE = 0.10
# a host lending less than this share of the CPUs a measurement can use is a noisy host
# (the gauge in gilcompare.measure.gauge, and host_speed's capacity)
NOISY_SHARE = 0.8


def loop_seconds(readings: int = REFERENCE_READINGS, size: int = REFERENCE_LOOP) -> float:
    """The median time of ``readings`` runs of the reference loop in this process."""
    times = []
    for _ in range(readings):
        start = time.perf_counter()
        count = 0
        for i in range(size):
            count += i
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _loops(processes: int, python: str) -> list[dict[str, Any]]:
    """loop_seconds() in ``processes`` interpreters started together, each with its version."""
    argv = [python, "-s", os.path.abspath(__file__), "loop"]
    children = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        for _ in range(processes)
    ]
    try:
        outs = [child.communicate(timeout=READING_TIMEOUT)[0] for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    if any(child.returncode for child in children):
        raise ValueError(f"the reference loop failed in {python}")
    return [json.loads(out) for out in outs]


def host_speed(cpus: int, python: str | None = None) -> dict[str, object]:
    """How fast this host runs pure Python now: ``loop_s``, the reference loop's median time
    in one fresh interpreter alone (the faster of a reading before the copies and one after),
    and ``capacity``, how many of those the usable CPUs ran at once (one interpreter per
    usable CPU, ``cpus`` of them: CPUs × alone / the median of their times; the CPU count
    when the host lends every core). Both depend on the interpreter, whose version is
    recorded with them."""
    python = python or sys.executable
    first = _loops(1, python)[0]
    together = statistics.median(reading["loop_s"] for reading in _loops(cpus, python))
    # alone again after the copies, and the faster of the two: a host that slowed for the
    # first reading would otherwise read as running more copies at once than it has CPUs
    alone = min(first["loop_s"], _loops(1, python)[0]["loop_s"])
    return {
        "python": first["python"],
        "loop_s": round(alone, 5),
        "capacity": round(cpus * alone / together, 3),
        "cpus": cpus,
    }


def speed_change(before: Mapping[str, Any], now: Mapping[str, Any]) -> float | None:
    """How many times as long ``now``'s reference loop took as ``before``'s, when both were
    timed by the same Python (None otherwise, or without a reading)."""
    same = before.get("python") == now.get("python")
    a, b = before.get("loop_s"), now.get("loop_s")
    if not same or not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or a <= 0:
        return None
    return b / a


def host_changed(before: Mapping[str, Any], now: Mapping[str, Any]) -> str | None:
    """Why times measured on the host as ``now`` found it will not compare with times measured
    as ``before`` did, or None: the reference loop ran more than HOST_SPEED_TOLERANCE slower or
    faster."""
    ratio = speed_change(before, now)
    if ratio is None or abs(ratio - 1) <= HOST_SPEED_TOLERANCE:
        return None
    return (
        f"the host ran the reference loop in {now['loop_s']:.3f} s against {before['loop_s']:.3f} "
        f"s ({ratio:.2f}×), so times will not compare; speedups, ratios within one run, better"
    )


def preflight(now: Mapping[str, Any], last: Mapping[str, Any] | None, name: str) -> list[str]:
    """What a long run should know before it starts, from the host's speed ``now`` and as it
    was before the last run filed under machine ``name`` (``last``: that run's commit and
    ``speed_before``): a host lending too few CPUs, a host slower or faster than then."""
    warnings = []
    capacity, cpus = now.get("capacity"), now.get("cpus")
    measured = isinstance(capacity, (int, float)) and isinstance(cpus, int)
    if measured and capacity < NOISY_SHARE * cpus:
        warnings.append(
            f"noisy host: it ran {capacity:.2f} copies of the reference loop at once on "
            f"{cpus} usable CPUs (below {NOISY_SHARE:.0%}), so parallel speedups will read low"
        )
    if last:
        changed = host_changed(last.get("speed_before") or {}, now)
        if changed:
            warnings.append(
                f"against the last run filed under {name} ({str(last.get('commit'))[:8]}): "
                f"{changed}"
            )
    return warnings


if __name__ == "__main__":  # `python speed.py loop`: time the reference loop here
    if sys.argv[1:] == ["loop"]:
        print(json.dumps({"python": platform.python_version(), "loop_s": loop_seconds()}))
