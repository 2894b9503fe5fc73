"""Pure-Python CPU work, which holds the GIL: the seed blog's counting loop and fib."""

from __future__ import annotations

# per-unit constants (calibrated: about 1 ms each on CPython 3.11, reference machine; part of
# UNITS_VERSION, gilcompare.workloads)
COUNT_PER_UNIT = 33_000  # loop iterations of the seed's `count += i`
FIB_N = 20  # fib(20) once per unit


def count(size: int) -> int:
    """The seed blog's loop: `count += i` over a range (holds the GIL)."""
    total = 0
    for i in range(size * COUNT_PER_UNIT):
        total += i
    return total


def _fib(n: int) -> int:
    return n if n < 2 else _fib(n - 1) + _fib(n - 2)


def fib(size: int) -> int:
    """Recursive Fibonacci, call-heavy pure Python (holds the GIL)."""
    return sum(_fib(FIB_N) for _ in range(size))
