"""gilcompare: honest benchmarks of Python concurrency models on the interpreter that runs them."""

from __future__ import annotations

__version__ = "0.1.0"

# Imported on first use (PEP 562): `import gilcompare` stays instant, so the command line
# owns even its first tenth of a second (Ctrl-C there exits 130, not with a traceback).
_EXPORTS = {
    "Cell": "gilcompare.measure.cells",
    "Result": "gilcompare.measure.cells",
    "measure": "gilcompare.measure.cells",
    "plan": "gilcompare.measure.cells",
    "MODELS": "gilcompare.models",
    "Model": "gilcompare.models",
    "Runner": "gilcompare.models",
    "available_models": "gilcompare.models",
    "get_model": "gilcompare.models",
    "WORKLOADS": "gilcompare.workloads",
    "Workload": "gilcompare.workloads",
    "get_workload": "gilcompare.workloads",
    "bench_func": "gilcompare.api",
    "answer": "gilcompare.api",
}


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'gilcompare' has no attribute {name!r}")


__all__ = [
    "MODELS",
    "WORKLOADS",
    "Cell",
    "Model",
    "Result",
    "Runner",
    "Workload",
    "__version__",
    "answer",
    "available_models",
    "bench_func",
    "get_model",
    "get_workload",
    "measure",
    "plan",
]
