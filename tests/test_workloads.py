"""Tests for gilcompare.workloads: checksums, registry, GIL declarations."""

from __future__ import annotations

import pytest

from gilcompare import workloads
from gilcompare.measure.services import local_peers
from gilcompare.workloads import DEFAULT_WORKLOADS, WORKLOADS, get_workload, shared
from gilcompare.workloads.cpu import COUNT_PER_UNIT
from gilcompare.workloads.io_bound import HTTP_URL_ENV


def test_count_is_the_seed_loop() -> None:
    """count(size) sums range(size * COUNT_PER_UNIT), like the blog's loop."""
    n = 2 * COUNT_PER_UNIT
    assert workloads.count(2) == n * (n - 1) // 2


def test_fib_checksum() -> None:
    """fib returns size copies of fib(FIB_N) summed."""
    assert workloads.fib(3) == 3 * 6765  # fib(20)


@pytest.mark.parametrize("name", DEFAULT_WORKLOADS)
def test_every_workload_is_deterministic(name: str) -> None:
    """The same size gives the same checksum twice; different sizes differ where they should."""
    w = get_workload(name)
    with local_peers({w.service} if w.service else set()):
        assert w.fn(1) == w.fn(1)
        assert w.gil in ("holds", "releases", "waits")
        assert w.fn.__module__.startswith("gilcompare.workloads.")  # importable by spawned workers


@pytest.mark.parametrize("name", ["sleep", "http"])
def test_async_variant_matches_sync(name: str) -> None:
    """A native asyncio variant returns the same checksum as the blocking one."""
    import asyncio

    w = get_workload(name)
    with local_peers({w.service} if w.service else set()):
        assert asyncio.run(w.afn(2)) == w.fn(2)


def test_faults_are_kept_out_of_defaults() -> None:
    """Fault injections exist but are never part of a default matrix."""
    faults = {n for n, w in WORKLOADS.items() if w.fault}
    assert faults == {"fault-exit", "fault-raise", "fault-hang", "fault-segv"}
    assert not faults & set(DEFAULT_WORKLOADS)


def test_unknown_workload_names_choices() -> None:
    """An unknown name fails with the valid choices listed."""
    with pytest.raises(ValueError, match="unknown workload 'nope': choose from count, fib"):
        get_workload("nope")


def test_service_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Running an I/O workload without its peer says what is missing."""
    monkeypatch.delenv(HTTP_URL_ENV, raising=False)
    with pytest.raises(RuntimeError, match="needs its local peer"):
        workloads.http_get(1)


def test_numpy_caps_blas_threads() -> None:
    """The numpy workload caps BLAS to one thread in the process that runs it."""
    from threadpoolctl import threadpool_info

    workloads.numpy_matmul(1)
    blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    assert blas and max(blas) == 1


SHARED_MODELS = ("threads", "processes-fork", "subinterpreters", "asyncio")


@pytest.mark.parametrize("name", workloads.SHARED_WORKLOADS)
def test_shared_workload_checksum_is_the_same_under_every_model(name: str) -> None:
    """Each shared-object workload gives the serial checksum on 2 threads, processes,
    subinterpreters and asyncio, whatever state the other workers left behind."""
    from gilcompare.measure.cells import checksum
    from gilcompare.models import get_model

    w = get_workload(name)
    sizes = [1, 2, 1, 2]
    expected = checksum([w.fn(s) for s in sizes])
    assert w.fn(2) != w.fn(1)  # the checksum depends on the size
    for model in SHARED_MODELS:
        m = get_model(model)
        if m.cannot_run(w):
            assert model == "subinterpreters", m.cannot_run(w)
            continue
        with m.start(2) as runner:
            runner.warm(w)
            assert checksum(runner.run_workload(w, sizes)) == expected, model


def test_shared_workloads_are_registered_apart_from_the_defaults() -> None:
    """The shared-object family is eight workloads that hold the GIL, kept out of default runs."""
    assert workloads.SHARED_WORKLOADS == [
        "shared_method",
        "shared_function",
        "shared_dict_read",
        "shared_list_read",
        "new_objects",
        "new_closures",
        "shared_attr_write",
        "thread_local_read",
    ]
    for name in workloads.SHARED_WORKLOADS:
        w = WORKLOADS[name]
        assert (w.gil, w.kind, w.fn.__module__) == (
            "holds",
            "shared",
            "gilcompare.workloads.shared",
        )
        assert name not in DEFAULT_WORKLOADS


def test_shared_attr_write_leaves_the_instance_written() -> None:
    """shared_attr_write really writes the shared instance (its last value is the loop's)."""
    workloads.shared_attr_write(1)
    assert shared._SHARED.last == shared.SHARED_ATTR_WRITE_PER_UNIT - 1
