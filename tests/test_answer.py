"""Tests for gilcompare.report.answer: the one line that ends a run of a user's function."""

from __future__ import annotations

import pytest

from gilcompare.measure.cells import Result
from gilcompare.report.answer import answers, cost_text, parallel_share, winners

SPEC = "mine.py:work"


def _r(model: str, workers: int, speedup: float, ideal: int = 2, **kw: object) -> Result:
    return Result(
        SPEC, model, workers, "strong", "warm", kw.pop("status", "ok"), speedup=speedup,
        speedup_low=speedup * 0.9, speedup_high=speedup * 1.1, ideal=ideal,
        efficiency=speedup / ideal, gil_enabled=True, **kw,
    )  # fmt: skip


RESULTS = [
    _r("serial", 1, 1.0, ideal=1),
    _r("threads", 1, 0.98, ideal=1),
    _r("threads", 2, 1.02),
    _r("processes-fork", 2, 1.9),
    _r("asyncio", 2, 2.5, status="failed"),
    Result("count", "processes-fork", 2, "strong", "warm", "ok", speedup=5.0),
]


@pytest.mark.parametrize(
    "speedup,cores,share", [(1.0, 2, 0.0), (2.0, 2, 1.0), (4 / 3, 2, 0.5), (1.6, 4, 0.5)]
)
def test_parallel_share_is_amdahls(speedup: float, cores: int, share: float) -> None:
    """Amdahl's law read backwards: the share that ran in parallel."""
    assert parallel_share(speedup, cores) == pytest.approx(share)
    assert parallel_share(speedup, 1) is None


def test_the_winner_at_each_worker_count() -> None:
    """The fastest ok model per worker count, of this function only (failed cells and other
    workloads do not count)."""
    best = winners(RESULTS, SPEC)
    assert {n: r.model for n, r in best.items()} == {1: "serial", 2: "processes-fork"}


def test_the_answer_line() -> None:
    """One line per user function: winners with intervals, the threads verdict with the
    share that ran without the GIL, and the winner's costs; built-in workloads get none."""
    costs = {SPEC: {"model": "processes-fork", "workers": 2, "start_ms": 41.6, "uss_mb": 30.2}}
    (line,) = answers(RESULTS, costs)
    assert line == (
        "answer for mine.py:work: best at 1 worker: serial 1.00× [0.90–1.10]; "
        "2 workers: processes-fork 1.90× [1.71–2.09]; threads 1.02× [0.92–1.12] at 2: "
        "threads do not scale, about 4% of the work ran without the GIL (GIL on); "
        "processes-fork starts 2 workers in 42 ms and holds 30 MiB idle (USS, whole tree)"
    )
    scaling = [_r("serial", 1, 1.0, ideal=1), _r("threads", 2, 1.9)]
    assert "threads scale, about 95% of the work" in answers(scaling)[0]
    assert cost_text({"model": "threads", "workers": 2}) is None
    assert answers([_r("threads", 2, 1.0, status="failed")]) == [
        f"answer for {SPEC}: nothing measured ok (see the status column)"
    ]
