"""The answer a user came for, in one line per function: which model, how fast, and why.

For each worker count, the model with the best speedup (with its interval); whether threads
scale, read from the threads cell as the share of the work that ran without the GIL (Amdahl:
a speedup S on n usable cores means a share p = (1 - 1/S) / (1 - 1/n) ran in parallel); and,
where the probes measured it, what the winner costs to start and in memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gilcompare.measure.engine import format_ratio
from gilcompare.models.registry import BASELINE, THREAD_POOL

SCALES = 0.8  # efficiency from which threads "scale"


def parallel_share(speedup: float, cores: int) -> float | None:
    """Amdahl's parallel share from a speedup on ``cores`` cores (None with one core)."""
    if cores < 2 or speedup <= 0:
        return None
    return max(0.0, min(1.0, (1 - 1 / speedup) / (1 - 1 / cores)))


def _measured(results: Sequence[Any], workload: str) -> list[Any]:
    return [
        r
        for r in results
        if r.workload == workload and r.status == "ok" and not r.control and r.speedup is not None
    ]


def winners(results: Sequence[Any], workload: str) -> dict[int, Any]:
    """The fastest model at each worker count (serial counts at 1 worker)."""
    best: dict[int, Any] = {}
    for r in _measured(results, workload):
        if r.workers not in best or r.speedup > best[r.workers].speedup:
            best[r.workers] = r
    return best


def threads_verdict(results: Sequence[Any], workload: str) -> str | None:
    """Whether threads scale for this function, from its threads cell at most workers."""
    threads = [r for r in _measured(results, workload) if r.model == THREAD_POOL and r.workers > 1]
    if not threads:
        return None
    r = max(threads, key=lambda r: r.workers)
    cores = r.ideal or r.workers
    share = parallel_share(r.speedup, cores)
    shown = format_ratio(r.speedup, r.speedup_low, r.speedup_high)
    head = f"threads {shown} at {r.workers}"
    if share is None:
        return f"{head} (one usable core: threads cannot show whether they scale)"
    gil = {True: "GIL on", False: "GIL off"}.get(r.gil_enabled, "GIL not reported")
    verdict = "threads scale" if (r.efficiency or 0) >= SCALES else "threads do not scale"
    return f"{head}: {verdict}, about {share:.0%} of the work ran without the GIL ({gil})"


def cost_text(costs: Mapping[str, Any] | None) -> str | None:
    """The winner's start and memory cost, as the probes measured them."""
    if not costs:
        return None
    parts = []
    if costs.get("start_ms") is not None:
        parts.append(f"starts {costs['workers']} workers in {costs['start_ms']:.0f} ms")
    if costs.get("uss_mb") is not None:
        parts.append(f"holds {costs['uss_mb']:.0f} MiB idle (USS, whole tree)")
    if not parts:
        return None
    return f"{costs['model']} {' and '.join(parts)}"


def answers(
    results: Sequence[Any], costs: Mapping[str, Mapping[str, Any]] | None = None
) -> list[str]:
    """One line per user function in ``results``: ``answer for SPEC: ...``."""
    from gilcompare.workloads import user

    lines = []
    seen = dict.fromkeys(r.workload for r in results if user.is_user_spec(r.workload))
    for workload in seen:
        best = winners(results, workload)
        if not best:
            lines.append(f"answer for {workload}: nothing measured ok (see the status column)")
            continue
        parts = [
            f"{n} worker{'s' if n > 1 else ''}: {r.model} "
            f"{format_ratio(r.speedup, r.speedup_low, r.speedup_high)}"
            for n, r in sorted(best.items())
        ]
        text = f"answer for {workload}: best at " + "; ".join(parts)
        if verdict := threads_verdict(results, workload):
            text += f"; {verdict}"
        if cost := cost_text((costs or {}).get(workload)):
            text += f"; {cost}"
        lines.append(text)
    return lines


def winner_costs(results: Sequence[Any], timeout: float) -> dict[str, dict[str, Any]]:
    """Start and idle memory of each function's winner at its most workers, from the probes
    (gilcompare.probes.start and .memory, three cold samples each); a probe that does not
    apply or fails leaves its number out."""
    from gilcompare.probes.memory import probe_memory
    from gilcompare.probes.start import probe_start
    from gilcompare.workloads import user

    out: dict[str, dict[str, Any]] = {}
    for workload in dict.fromkeys(r.workload for r in results if user.is_user_spec(r.workload)):
        best = winners(results, workload)
        if not best:
            continue
        top = best[max(best)]
        if top.model == BASELINE:
            continue
        cost: dict[str, Any] = {"model": top.model, "workers": top.workers}
        start = probe_start(top.model, top.workers, repeat=3, timeout=timeout)
        if start.status == "ok" and start.seconds is not None:
            cost["start_ms"] = start.seconds * 1000
        memory = probe_memory(top.model, top.workers, ("idle",), repeat=3, timeout=timeout)
        if memory and memory[0].status == "ok":
            cost["uss_mb"] = memory[0].uss_mb
        out[workload] = cost
    return out
