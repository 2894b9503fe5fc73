"""Measure your own function from Python, in the spirit of pyperf's ``Runner.bench_func``.

    import gilcompare

    def work(units: int) -> int:          # top level, one integer, the same value everywhere
        return sum(i * i for i in range(units * 20_000))

    if __name__ == "__main__":            # workers import this file, as multiprocessing does
        results = gilcompare.bench_func(work, workers=[1, 2])
        print(gilcompare.answer(results))

One engine with the command line: the same cells, each measured in an isolated child
(gilcompare.measure.matrix), the same paired rounds and intervals, the same records
(``Result``, what ``gilcompare run --json`` prints).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any, Callable, Union

from gilcompare.measure.cells import Cell, Result
from gilcompare.models.registry import BASELINE
from gilcompare.settings import DEFAULT_PROFILE, DEFAULT_TIMEOUT
from gilcompare.workloads import user

Function = Union[str, Callable[[int], Any]]


def spec_of(func: Function) -> str:
    """The ``module:function`` or ``file.py:function`` name workers find ``func`` by."""
    if isinstance(func, str):
        user.split(func)
        return func
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        raise user.UserWorkloadError(
            f"{func!r} is not a top-level function: workers find a function by its module and "
            "name, so define it at the top of a module (no lambda, no nested function)"
        )
    if module == "__main__":
        path = getattr(sys.modules.get("__main__"), "__file__", None)
        if not path:
            raise user.UserWorkloadError(
                f"{qualname} lives in an interactive session: workers can import it only from "
                "a file; put it in a module and pass it (or 'module:function')"
            )
        return f"{os.path.relpath(path)}:{qualname}"
    return f"{module}:{qualname}"


def own_models() -> list[str]:
    """What a first run of your own function measures: every standard model available here."""
    from gilcompare.models import MODELS, STANDARD_MODELS

    return [m for m in STANDARD_MODELS if MODELS[m].unavailable() is None]


def own_workers() -> list[int]:
    """... at 1 worker and at as many workers as this machine has usable CPUs."""
    from gilcompare.measure.conditions import usable_cpus

    return sorted({1, usable_cpus()})


def cells(
    spec: str,
    models: Sequence[str],
    workers: Sequence[int],
    *,
    units: int | None = None,
    tasks: int | None = None,
    scaling: str = "strong",
    mode: str = "warm",
    profile: str = DEFAULT_PROFILE,
    repeat: int = 5,
    paired: bool = True,
) -> list[Cell]:
    """The grid: serial once (strong scaling), every other model at every worker count."""
    out = [
        Cell(
            workload=spec,
            model=m,
            workers=n,
            scaling=scaling,
            mode=mode,
            profile=profile,
            size=units,
            tasks=tasks,
            repeat=repeat,
            paired=paired,
        )
        for m in models
        for n in ([1] if m == BASELINE and scaling == "strong" else workers)
    ]
    for cell in out:
        cell.validate()
    return out


def bench_func(
    func: Function,
    models: Sequence[str] | None = None,
    workers: Sequence[int] | None = None,
    *,
    units: int | None = None,
    tasks: int | None = None,
    scaling: str = "strong",
    mode: str = "warm",
    profile: str = DEFAULT_PROFILE,
    repeat: int = 5,
    timeout: float = DEFAULT_TIMEOUT,
    paired: bool = True,
) -> list[Result]:
    """Measure ``func`` (or its ``module:function`` name) under ``models`` × ``workers``.

    ``units`` is what each task passes to the function (the profile's task size by default),
    ``tasks`` how many tasks (strong: in all; weak: per worker). Defaults: every model this
    interpreter has, at 1 worker and at the usable CPUs. Raises ValueError (one line) when the
    function breaks the contract; a function that raises, disagrees with itself across
    models or cannot send its result back gives a result whose status is failed or mismatch,
    with its reason.
    """
    from gilcompare.measure.matrix import run_cells

    spec = spec_of(func)
    user.check(spec)
    chosen = list(models) if models is not None else own_models()
    if BASELINE not in chosen:  # every speedup is relative to it
        chosen.insert(0, BASELINE)
    grid = cells(
        spec,
        chosen,
        list(workers) if workers is not None else own_workers(),
        units=units,
        tasks=tasks,
        scaling=scaling,
        mode=mode,
        profile=profile,
        repeat=repeat,
        paired=paired,
    )
    return run_cells(grid, timeout)


def answer(results: Sequence[Result]) -> str:
    """The one-line answer for each of your functions in ``results`` (gilcompare.report.answer)."""
    from gilcompare.report.answer import answers

    return "\n".join(answers(results))


__all__ = ["answer", "bench_func", "own_models", "own_workers", "spec_of"]
