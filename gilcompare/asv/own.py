"""gilcompare's model × workers grid in your own asv suite, for your own functions.

In your project's ``benchmarks/`` (any module name)::

    from gilcompare.asv import own

    FUNCTIONS = ["mypkg.work:crunch"]  # importable by the workers: never benchmarks.*

    class Scaling(own.FunctionScaling):
        functions = FUNCTIONS

    class Time(own.FunctionTime):
        functions = FUNCTIONS

``Scaling`` gives ``track_speedup`` and ``track_efficiency`` per function × model × workers,
and the times they come from (``track_model_time``, ``track_serial_time``: medians over the
rounds), measured once per class in ``setup_cache`` (serial and model timed in alternating
paired rounds, gilcompare.asv.grids, the serial control among them); ``Time`` gives
``time_tasks``, the task list on warm workers (started and warmed in setup, untimed).
Optional class attributes: ``models`` (default: one of each kind,
gilcompare.asv.suite.GRID_MODELS) and ``workers`` (default: 1 and the usable CPUs). Each task
is the asv profile's size (8 tasks of 30 units), results are verified against serial, a model
that cannot run here is skipped.

asv imports ``benchmarks/`` through an import hook, so a spawned or forkserver worker cannot
import ``benchmarks.*``: the functions live in your package (asv installs it into its
environments; ``--python=same`` uses the one asv runs in). asv keys a ``setup_cache`` by the
module and line that define it; every subclass here gets one defined for its own module, so
define at most one ``FunctionScaling`` per benchmarks module (or give each its own
``setup_cache`` that returns ``self.measure()``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from gilcompare.asv import bench, grids, pools
from gilcompare.asv.suite import CONTROL, GRID_MODELS
from gilcompare.settings import SETUP_CACHE_TIMEOUT

PARAM_NAMES = ["function", "model", "workers"]


def _params(cls: Any, models: tuple[str, ...]) -> list[list[Any]]:
    from gilcompare.api import own_workers
    from gilcompare.workloads import user

    functions = list(getattr(cls, "functions", ()) or ())
    for spec in functions:
        user.split(spec)  # a misspelt name stops asv's discovery with one line
    workers = list(getattr(cls, "workers", None) or own_workers())
    return [functions, list(getattr(cls, "models", None) or models), workers]


def _not_the_base(args: tuple[Any, ...]) -> None:
    """asv also finds the base classes themselves where a module imported them by name:
    they have no parameters, and skip."""
    if not args:
        raise NotImplementedError("a base class for your own suite: subclass it")


class FunctionScaling(bench.Scaling):
    """Speedup over serial and efficiency of your functions under each model and worker
    count (``functions`` = ["package.module:function", ...]), the serial control included."""

    param_names = PARAM_NAMES
    functions: ClassVar[list[str]] = []
    models: ClassVar[list[str] | None] = None
    workers: ClassVar[list[int] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.params = _params(cls, (CONTROL, *GRID_MODELS))
        if "setup_cache" not in vars(cls):

            def setup_cache(self: FunctionScaling) -> grids.Grid:
                return self.measure()

            # asv keys the cache by module and line: the subclass's module keeps it its own
            setup_cache.__module__ = cls.__module__
            setup_cache.timeout = SETUP_CACHE_TIMEOUT  # type: ignore[attr-defined]
            cls.setup_cache = setup_cache  # type: ignore[attr-defined]

    def setup(self, *args: Any) -> None:
        _not_the_base(args)
        super().setup(*args)


class FunctionTime(bench.Benchmark):
    """Your functions' task list on warm workers of each model: ``time_tasks``."""

    param_names = PARAM_NAMES
    functions: ClassVar[list[str]] = []
    models: ClassVar[list[str] | None] = None
    workers: ClassVar[list[int] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.params = _params(cls, ("serial", *GRID_MODELS))

    def setup(self, *args: Any) -> None:
        _not_the_base(args)
        function, model, workers = args
        self.pool = pools.WarmPool(function, model, workers)
        self.pool.start()

    def time_tasks(self, function: str, model: str, workers: int) -> None:
        self.pool.run()

    def teardown(self, *args: Any) -> None:
        pool = getattr(self, "pool", None)
        if pool is not None:
            pool.close()


__all__ = ["FunctionScaling", "FunctionTime"]
