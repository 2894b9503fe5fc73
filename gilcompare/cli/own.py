"""Your own function on the command line: the contract in the help, the cost of one of its
tasks for ``run --dry-run``, and the answer that ends ``run``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from gilcompare.measure.cells import Cell, Result, plan
from gilcompare.settings import CHILD_START_S, MS_PER_UNIT
from gilcompare.workloads import WORKLOADS, user

HELP = (
    "package.module:function or path/to/file.py:function, a top-level function that takes "
    "one integer (units of work) and returns the same value under every model, or an async "
    "def for the asyncio model; alone, it is measured under every model here at 1 worker and "
    "at the usable CPUs, and the run ends with the answer in one line"
)

NO_COSTS_HELP = (
    "for your own function, skip probing the winner's start and memory cost after the run "
    "(three cold starts and three memory samples)"
)


def defaults(workloads: Sequence[str]) -> tuple[list[str] | None, list[int] | None]:
    """The models and workers a run takes when not told: for functions of the user's alone,
    the grid that answers "which model for it here" (gilcompare.api: every model this
    interpreter has, at 1 worker and at the usable CPUs); None, None otherwise."""
    from gilcompare.api import own_models, own_workers

    if not all(user.is_user_spec(w) for w in workloads):
        return None, None
    return own_models(), own_workers()


def estimate(cell: Cell, assumed: float, scale: dict[str, float]) -> float:
    """A cell's estimated seconds with its function's measured cost per unit, when known."""
    if cell.workload not in scale:
        return assumed
    return CHILD_START_S + (assumed - CHILD_START_S) * scale[cell.workload]


def dry_run_notes(scale: dict[str, float]) -> tuple[str, str]:
    """What --dry-run adds for functions of the user's: the timed cost of a unit, and what
    comes after the measurements."""
    if not scale:
        return "", ""
    timed = "".join(
        f"; for {name}, {ms * MS_PER_UNIT:.3g} ms per unit, from one task timed here"
        for name, ms in scale.items()
    )
    then = (
        "then the answer in one line, after three cold starts and three memory samples of the "
        "winner (a few seconds; --no-costs skips them)"
    )
    return timed, then


def unit_cost(order: Sequence[Cell], timeout: float | None) -> dict[str, float]:
    """For each function of the user's, its cost per unit over the assumed MS_PER_UNIT, from
    one task timed in an isolated child; a task that fails is one line and exit 1."""
    from gilcompare.measure import isolate

    scale: dict[str, float] = {}
    for cell in order:
        if not user.is_user_spec(cell.workload) or cell.workload in scale:
            continue
        units = plan(WORKLOADS[cell.workload], "strong", 1, cell.profile, cell.size)[0]
        try:
            out = isolate.call(
                "gilcompare.workloads.user:time_task",
                {"spec": cell.workload, "units": units},
                timeout,
            )
        except isolate.IsolatedFailure as failure:
            raise TaskFailed(f"{cell.workload}({units}) failed: {failure.reason}") from None
        scale[cell.workload] = out["seconds"] * 1000 / units / MS_PER_UNIT
    return scale


class TaskFailed(RuntimeError):
    """One task of the user's function failed before the run (--dry-run's timing)."""


def answer(results: Sequence[Result], args: argparse.Namespace) -> None:
    """After the table, the one-line answer for each function of the user's."""
    from gilcompare.report.answer import answers, winner_costs

    if args.json or not any(user.is_user_spec(r.workload) for r in results):
        return
    costs = None if args.no_costs else winner_costs(results, args.timeout)
    for line in answers(results, costs):
        print(line)
