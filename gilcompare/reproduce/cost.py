"""The free-threading cost claims: a free-threaded build's single-thread time against its GIL
twin's, measured only between twin builds (gilcompare.measure.builds) and the way
`gilcompare compare` measures (gilcompare.measure.compare: paired rounds, the order of the
builds alternating, an A/A row), its ratio and 95 % interval from gilcompare.measure.engine.
"""

from __future__ import annotations

import math
import statistics
from typing import Any, Callable

from gilcompare.interpreters import Interpreter
from gilcompare.measure import builds, engine
from gilcompare.measure.builds import BuildInfo
from gilcompare.measure.cells import Cell
from gilcompare.measure.compare import Build, compare
from gilcompare.models import BASELINE
from gilcompare.reproduce.claim import Context, Failed, NotRun, Outcome, verdict
from gilcompare.reproduce.measurements import scaled_units
from gilcompare.settings import CLAIM_COST_REPEAT, CLAIM_COST_WORKLOADS, CLAIM_PROFILE


def matched_builds(ctx: Context, gil_tag: str, free_tag: str) -> tuple[BuildInfo, BuildInfo]:
    """The GIL and free-threaded builds found for these tags, if they are twins (the same
    full version and configure flags, gilcompare.measure.builds); NotRun with the reason
    otherwise."""
    try:
        gil, free = builds.probe(ctx.python(gil_tag)), builds.probe(ctx.python(free_tag))
    except ValueError as exc:
        raise NotRun(str(exc)) from None
    reason = builds.mismatch(gil, free)
    if reason is not None:
        raise NotRun(f"refused: {reason}")
    return gil, free


def _cost(ctx: Context, gil: BuildInfo, free: BuildInfo) -> tuple[engine.Ratio, dict[str, Any]]:
    """Free-threaded / GIL serial time over CLAIM_COST_WORKLOADS, as `gilcompare compare`
    measures it: paired rounds, the order of the builds alternating, an A/A row; each round's
    geometric mean over the workloads is one paired ratio for the engine."""
    gil_tag, free_tag = gil.version, f"{free.version}t"
    ref = Build(gil_tag, Interpreter(version=gil.version, free_threaded=False, path=gil.path))
    cand = Build(free_tag, Interpreter(version=free.version, free_threaded=True, path=free.path))
    units = scaled_units(ctx, 50)
    cells = [
        Cell(
            workload=w,
            model=BASELINE,
            workers=1,
            scaling="strong",
            mode="warm",
            profile=CLAIM_PROFILE,
            size=units,
            tasks=4,
            repeat=1,
        )
        for w in CLAIM_COST_WORKLOADS
    ]
    rows = compare(builds=[ref, cand], cells=cells, rounds=CLAIM_COST_REPEAT, timeout=ctx.timeout)
    for row in rows:
        if row.status != "ok":
            raise Failed(f"{row.workload} on {row.python}: {row.status} {row.reason}")
    by = {(r.workload, r.python): r for r in rows}
    gm_gil = _geometric_means([by[w, gil_tag].times for w in CLAIM_COST_WORKLOADS])
    gm_free = _geometric_means([by[w, free_tag].times for w in CLAIM_COST_WORKLOADS])
    gm_aa = _geometric_means([by[w, f"{gil_tag} (A/A)"].times for w in CLAIM_COST_WORKLOADS])
    cost = engine.ratio(gm_free, gm_gil)
    control = engine.ratio(gm_aa, gm_gil)
    if cost is None or control is None:
        raise Failed("no paired rounds were measured")
    numbers = {
        "relative": cost.record(),
        "control_aa": control.record(),
        "overhead": cost.value - 1,
        "per_workload": {
            w: {
                "seconds": {gil_tag: by[w, gil_tag].seconds, free_tag: by[w, free_tag].seconds},
                "relative": by[w, free_tag].relative,
                "relative_low": by[w, free_tag].relative_low,
                "relative_high": by[w, free_tag].relative_high,
            }
            for w in CLAIM_COST_WORKLOADS
        },
    }
    return cost, numbers


def _geometric_means(series: list[list[float]]) -> list[float]:
    """Round by round, the geometric mean of several workloads' times."""
    return [math.exp(statistics.fmean(math.log(t) for t in ts)) for ts in zip(*series)]


def _pct(r: float | None) -> str:
    return "-" if r is None else f"{r - 1:+.1%}"


def cost_claim(
    gil_tag: str, free_tag: str, lower: float | None = None, upper: float | None = None
) -> Callable[[Context], Outcome]:
    """The single-thread cost of ``free_tag`` against its GIL twin, judged two-sided: the
    claim holds when the whole 95 % interval of the overhead lies in [lower, upper]."""

    def run(ctx: Context) -> Outcome:
        gil, free = matched_builds(ctx, gil_tag, free_tag)
        cost, numbers = _cost(ctx, gil, free)
        low = None if cost.low is None else cost.low - 1
        high = None if cost.high is None else cost.high - 1
        return Outcome(
            ours=f"{free.version}t {_pct(cost.value)} [{_pct(cost.low)}, {_pct(cost.high)}] "
            f"against {gil.version} in one thread ({', '.join(CLAIM_COST_WORKLOADS)}, "
            f"geometric mean; A/A {_pct(numbers['control_aa']['value'])})",
            holds=verdict(low, high, lower, upper),
            numbers={**numbers, "claim_range": [lower, upper]},
            conditions={
                "compared": {gil_tag: gil.record(), free_tag: free.record()},
                "pythons": {gil_tag: gil.path, free_tag: free.path},
                "workloads": list(CLAIM_COST_WORKLOADS),
                "task_units": scaled_units(ctx, 50),
                "tasks": 4,
                "rounds": CLAIM_COST_REPEAT,
                "estimator": engine.ESTIMATOR,
                "interval": engine.INTERVAL,
            },
        )

    return run
