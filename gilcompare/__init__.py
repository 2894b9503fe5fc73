"""gilcompare: honest benchmarks of Python concurrency models on the interpreter that runs them."""

from __future__ import annotations

__version__ = "0.1.0"

from gilcompare.measure import Cell, Result, measure, plan
from gilcompare.models import MODELS, Model, Runner, available_models, get_model
from gilcompare.workloads import WORKLOADS, Workload, get_workload

__all__ = [
    "MODELS",
    "WORKLOADS",
    "Cell",
    "Model",
    "Result",
    "Runner",
    "Workload",
    "__version__",
    "available_models",
    "get_model",
    "get_workload",
    "measure",
    "plan",
]
