"""A pure-Python function of your own: Collatz steps, which holds the GIL the whole time.

gilcompare run --workload examples/pure_python.py:collatz
"""

from __future__ import annotations

START = 1_000_000  # each unit walks the sequences of these numbers onwards
PER_UNIT = 130  # numbers per unit: about a millisecond on CPython 3.11 here


def collatz(units: int) -> int:
    """Total Collatz steps of PER_UNIT * units numbers (pure Python: holds the GIL)."""
    steps = 0
    for n in range(START, START + PER_UNIT * units):
        while n != 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            steps += 1
    return steps
