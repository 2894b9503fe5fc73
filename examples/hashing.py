"""A function of your own that releases the GIL in C: hashlib's sha256 over a buffer.

hashlib lets go of the GIL while it hashes more than 2 KiB, so threads run it in parallel
even on a build with the GIL.

    gilcompare run --workload examples/hashing.py:digest
"""

from __future__ import annotations

import hashlib

BLOCK = bytes(range(256)) * 4096  # 1 MiB, built once per process or interpreter


def digest(units: int) -> str:
    """sha256 over one MiB per unit, about 0.6 ms (C code that releases the GIL)."""
    h = hashlib.sha256()
    for _ in range(units):
        h.update(BLOCK)
    return h.hexdigest()


digest.gil = "releases"  # type: ignore[attr-defined]
