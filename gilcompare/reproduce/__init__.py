"""The literature, reproduced: claims others published about the GIL and its alternatives,
each with the measurement that tests its shape on this machine.

A claim is data (what was said, by whom, their number, the shape that must hold here) plus a
function that measures it with the library (gilcompare.measure, gilcompare.probes) and
returns our number and whether the shape holds. Every measurement runs in a fresh child
process (gilcompare.measure.isolate), under the interpreter the claim is about; a claim needing an
interpreter this machine lacks is listed as not run, with the reason.

Modules: claim (a claim, its outcome, the context it runs in, the two-sided verdict),
measurements (one function per claim), cost (the free-threading cost between twin builds)
and here the claims themselves, with running them and the text that shows them.
"""

from __future__ import annotations

import sys
import sysconfig
from collections.abc import Callable, Sequence

from gilcompare import interpreters
from gilcompare.errors import UsageError
from gilcompare.reproduce.claim import VERDICTS, Claim, Context, Failed, NotRun, Outcome, Row
from gilcompare.reproduce.cost import cost_claim
from gilcompare.reproduce.measurements import beazley, ftscaling, seed, shaw
from gilcompare.settings import CLAIM_SCALING_WORKERS, CLAIM_SEED_BOUND


def _here() -> str:
    """The running interpreter's tag, as gilcompare.interpreters names it."""
    free = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    return f"{sys.version_info[0]}.{sys.version_info[1]}{'t' if free else ''}"


# --- the claims ------------------------------------------------------------------------------

CLAIMS: dict[str, Claim] = {
    c.name: c
    for c in [
        Claim(
            name="seed",
            claim="2 processes are about twice as fast as 2 threads on a CPU-bound counting loop",
            source="the seed blog (litaro, 2019), `gilcompare seed`",
            source_number="12.77 s (threads) vs 6.52 s (processes): 1.96×",
            shape=f"processes ≥ {CLAIM_SEED_BOUND:g}× threads",
            needs=(),
            run=seed,
        ),
        Claim(
            name="beazley",
            claim="I/O latency under a CPU-bound thread grows with the GIL switch interval",
            source="David Beazley, Understanding the Python GIL (PyCon 2010)",
            source_number="response time ≈ the switch interval (5 ms default) per request",
            shape="p99 at 5 ms ≥ 2× p99 at 0.5 ms",
            needs=(),
            run=beazley,
        ),
        Claim(
            name="ft-cost-3.13t",
            claim="the free-threaded build costs about 40% in single-threaded code",
            source="CPython docs (3.13 free threading HOWTO), pyperformance",
            source_number="~40%",
            shape="3.13t ≥ 20% slower than 3.13 in one thread",
            needs=("3.13", "3.13t"),
            run=cost_claim("3.13", "3.13t", lower=0.20),
        ),
        Claim(
            name="ft-cost-3.14t",
            claim="the free-threaded build costs 5-10% in single-threaded code",
            source="PEP 779 / CPython 3.14 docs, pyperformance",
            source_number="5-10%",
            shape="3.14t ≤ 15% slower than 3.14 in one thread",
            needs=("3.14", "3.14t"),
            run=cost_claim("3.14", "3.14t", upper=0.15),
        ),
        Claim(
            name="ft-cost-3.15t",
            claim="the free-threaded build is on par with the default build in single-threaded "
            "code",
            source="Yhg1s/thread-benchmarking, CPython 3.15.0rc1 (gcc 15, pyperformance)",
            source_number="1.013× faster (−1.3%)",
            shape="3.15t within ±5% of 3.15 in one thread",
            needs=("3.15", "3.15t"),
            run=cost_claim("3.15", "3.15t", lower=-0.05, upper=0.05),
        ),
        Claim(
            name="ftscaling",
            claim="shared-object patterns scale near N× with threads on free-threaded builds",
            source="CPython Tools/ftscalingbench",
            source_number="near N× (weak scaling t1·N/tN)",
            shape=f"every workload ≥ {0.8 * CLAIM_SCALING_WORKERS:g}× at {CLAIM_SCALING_WORKERS} "
            "threads, GIL off",
            needs=("3.14t",),
            run=ftscaling,
        ),
        Claim(
            name="shaw-start",
            claim="a thread starts ~100× faster than a subinterpreter, a subinterpreter ~10× "
            "faster than a process",
            source="Anthony Shaw, Python 3.14 subinterpreters (2025)",
            source_number="~100× and ~10×",
            shape="subinterpreter ≥ 30× a thread and process ≥ 3× a subinterpreter",
            needs=(),
            run=shaw,
        ),
    ]
}


def select(names: Sequence[str] | None) -> list[Claim]:
    """The claims asked for (all when none), or UsageError listing the valid ones."""
    if not names:
        return list(CLAIMS.values())
    unknown = [n for n in names if n not in CLAIMS]
    if unknown:
        raise UsageError(f"unknown claim {unknown[0]!r}: choose from {', '.join(CLAIMS)}")
    return [CLAIMS[n] for n in names]


def found_interpreters() -> dict[str, str]:
    """Interpreter tag -> path, the one running gilcompare included."""
    found = {i.tag: i.path for i in interpreters.discover()}
    found.setdefault(_here(), sys.executable)
    return found


def reproduce(
    claims: Sequence[Claim],
    ctx: Context,
    progress: Callable[[str], None] | None = None,
) -> list[Row]:
    """Measure each claim; one row each, in order."""
    rows = []
    for claim in claims:
        row = Row(
            name=claim.name,
            claim=claim.claim,
            source=claim.source,
            source_number=claim.source_number,
            shape=claim.shape,
            status="ok",
        )
        missing = [tag for tag in claim.needs if tag not in ctx.found]
        if missing:
            row.status = "not run"
            row.reason = f"needs Python {', '.join(missing)}, not found on this machine"
        else:
            if progress:
                progress(claim.name)
            try:
                outcome = claim.run(ctx)
            except Failed as exc:
                row.status, row.reason = "failed", str(exc)
            except NotRun as exc:
                row.status, row.reason = "not run", str(exc)
            else:
                row.ours, row.holds = outcome.ours, outcome.holds
                row.numbers, row.conditions = outcome.numbers, outcome.conditions
        rows.append(row)
    return rows


def _verdict(row: Row) -> str:
    if row.status != "ok":
        return f"{row.status}: {row.reason}"
    return VERDICTS[row.holds]


def text(rows: Sequence[Row]) -> str:
    """The reproduction for a terminal: a block per claim, source and ours side by side."""
    blocks = []
    for row in rows:
        conditions = ", ".join(f"{k}={v}" for k, v in row.conditions.items())
        lines = [
            f"{row.name}: {row.claim}",
            f"  source:     {row.source}",
            f"  theirs:     {row.source_number}",
            f"  ours:       {row.ours or '-'}",
            f"  shape:      {row.shape} -> {_verdict(row)}",
        ]
        if conditions:
            lines.append(f"  conditions: {conditions}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


__all__ = [
    "CLAIMS",
    "Claim",
    "Context",
    "Failed",
    "NotRun",
    "Outcome",
    "Row",
    "reproduce",
    "select",
]
