"""C code that releases the GIL while it works: hashlib sha256, zlib, a numpy matmul."""

from __future__ import annotations

import functools
import zlib
from typing import Any

# per-unit constants (calibrated: about 1 ms each on CPython 3.11, reference machine; part of
# UNITS_VERSION, gilcompare.workloads)
HASH_BLOCK = 1 << 20  # bytes hashed per update() call
HASH_BLOCKS_PER_UNIT = 2  # update() calls per unit
ZLIB_BLOCK = 1 << 16  # 64 KiB compressed per unit, level 6
NUMPY_N = 96  # 96x96 float64 matrices, BLAS capped to one thread
NUMPY_MATMULS_PER_UNIT = 32


@functools.cache
def data_block(nbytes: int) -> bytes:
    """Deterministic, moderately compressible bytes (built once per process, untimed after)."""
    seed = b"".join(i.to_bytes(4, "little") for i in range(4096))
    words = (seed * (nbytes // len(seed) + 1))[:nbytes]
    # xor with a slowly varying pattern so zlib has real work to do
    return bytes(b ^ ((i * 131) >> 7 & 0xFF) for i, b in enumerate(words[:4096])) + words[4096:]


def sha256(size: int) -> str:
    """hashlib SHA-256 over 2 MiB per unit (releases the GIL for large buffers)."""
    import hashlib  # imported lazily: see no_subinterpreters below

    block = data_block(HASH_BLOCK)
    h = hashlib.sha256()
    for _ in range(size * HASH_BLOCKS_PER_UNIT):
        h.update(block)
    return h.hexdigest()


def zlib_compress(size: int) -> int:
    """zlib.compress of 64 KiB per unit at level 6 (releases the GIL)."""
    block = data_block(ZLIB_BLOCK)
    crc = 0
    for _ in range(size):
        crc = zlib.crc32(zlib.compress(block, 6), crc)
    return crc


_blas_cap: int | None = None


def blas_cap() -> int | None:
    """Cap BLAS/OpenMP threads of this process to one (once) and return the cap in force."""
    global _blas_cap
    if _blas_cap is None:
        import numpy  # noqa: F401 - the BLAS must be loaded for the cap to reach it
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)
        _blas_cap = 1
    return _blas_cap


@functools.cache
def _matrix(n: int) -> Any:
    import numpy as np

    a = np.random.default_rng(20191103).random((n, n))
    return a / np.linalg.norm(a)


def numpy_matmul(size: int) -> str:
    """numpy float64 matmul with BLAS capped to one thread per worker (releases the GIL)."""
    blas_cap()
    a = _matrix(NUMPY_N)
    acc = 0.0
    for _ in range(size):
        for _ in range(NUMPY_MATMULS_PER_UNIT):
            acc += float((a @ a).trace())
    return f"{acc:.9e}"
