"""The conditions a result was measured under: interpreter, build, GIL, CPUs, BLAS cap."""

from __future__ import annotations

import functools
import os
import platform
import sys
from pathlib import Path
from typing import Any

from gilcompare.interpreters import BuildTag
from gilcompare.measure.builds import describe_build, describe_host, usable_cpus
from gilcompare.models import free_threaded_build, gil_enabled
from gilcompare.workloads import UNITS_VERSION

# environment variables that change what a measurement means; recorded when set
RELEVANT_ENV = (
    "PYTHON_GIL",
    "PYTHONHASHSEED",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "GILCOMPARE_WORKERS",
    "GILCOMPARE_ROUNDS",
    "GILCOMPARE_DASK_SCHEDULER",
    "GILCOMPARE_IMPORT",
    "GILCOMPARE_MODELS",  # models from outside gilcompare: a result names where its model came from
)


def python_tag() -> str:
    """'3.13' or '3.13t' for a free-threaded build."""
    return str(BuildTag.of(platform.python_version(), free_threaded_build()))


@functools.cache
def source_commit() -> str | None:
    """The git commit this gilcompare was run from, when it runs from a checkout (read from
    .git without running git, so a measuring child pays nothing for it); None otherwise."""
    git = Path(__file__).resolve().parents[2] / ".git"
    try:
        head = (git / "HEAD").read_text(encoding="ascii").strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        if (git / ref).is_file():
            return (git / ref).read_text(encoding="ascii").strip()
        for line in (git / "packed-refs").read_text(encoding="ascii").splitlines():
            if line.endswith(f" {ref}"):
                return line.split()[0]
    except (OSError, UnicodeDecodeError):
        pass
    return None


def environment() -> dict[str, Any]:
    """Everything about this interpreter and machine that a result must carry: the build
    (version, PGO/LTO/shared, stdlib bytecode) and host (CPU model, usable CPUs, load)
    besides the fields every record repeats."""
    from gilcompare import __version__

    return {
        "python": platform.python_version(),
        "python_tag": python_tag(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "free_threaded": free_threaded_build(),
        "gil_enabled_main": gil_enabled(),
        "switch_interval_ms": sys.getswitchinterval() * 1000,
        "cpu_count": os.cpu_count() or 1,
        "cpu_usable": usable_cpus(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "env": {k: os.environ[k] for k in RELEVANT_ENV if k in os.environ},
        "gilcompare": __version__,
        "commit": source_commit(),
        "units_version": UNITS_VERSION,
        "build": describe_build(),
        "host": describe_host(),
    }
