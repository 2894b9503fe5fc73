"""Tests for gilcompare.measure.matrix: a run's order, estimates and grouping (nothing measured)."""

from __future__ import annotations

import pytest

from gilcompare.measure import sizing
from gilcompare.measure.cells import Cell, Result, cell_fields
from gilcompare.measure.matrix import estimate_seconds, measuring_order, ordered
from gilcompare.settings import CHILD_START_S, MS_PER_UNIT


def test_baselines_are_measured_first() -> None:
    """Each serial baseline comes before the cells compared with it, once."""
    cells = [Cell(workload="count", model="threads", workers=n, profile="tiny") for n in (1, 2)]
    cells += [Cell(workload="count", model="serial", workers=1, profile="tiny")]
    order = measuring_order(cells)
    assert [(c.model, c.workers) for c in order] == [("serial", 1), ("threads", 1), ("threads", 2)]
    weak = measuring_order(
        [Cell(workload="count", model="threads", workers=2, scaling="weak", profile="tiny")]
    )
    assert [(c.model, c.workers) for c in weak] == [("serial", 2), ("threads", 2)]


def test_estimate_follows_the_task_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    """quick: 8 tasks of 20 units; a paired model cell times serial beside each repeat."""
    monkeypatch.setattr(sizing, "usable_cpus", lambda: 2)  # the profile's own task count
    cell = Cell(workload="count", model="threads", workers=1, profile="quick", repeat=5)
    serial = 8 * 20 * MS_PER_UNIT / 1000
    assert estimate_seconds(cell) == pytest.approx(CHILD_START_S + 5 * (serial + serial))
    alone = Cell(workload="count", model="serial", workers=1, profile="quick", repeat=5)
    assert estimate_seconds(alone) == pytest.approx(CHILD_START_S + 5 * serial)


def test_results_are_grouped_by_workload_then_model_then_workers() -> None:
    def res(workload: str, model: str, workers: int) -> Result:
        return Result(
            workload=workload,
            model=model,
            workers=workers,
            scaling="strong",
            mode="warm",
            status="ok",
        )

    got = ordered(
        [res("sleep", "threads", 2), res("count", "threads", 2), res("count", "serial", 1)]
    )
    assert [(r.workload, r.model) for r in got] == [
        ("count", "serial"),
        ("count", "threads"),
        ("sleep", "threads"),
    ]


def test_cell_fields_rebuild_the_cell() -> None:
    cell = Cell(
        workload="sleep",
        model="asyncio",
        workers=4,
        scaling="weak",
        mode="cold",
        profile="tiny",
        size=2,
        tasks=3,
        repeat=1,
        paired=False,
    )
    assert Cell(**cell_fields(cell)) == cell
