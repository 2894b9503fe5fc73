"""Your own function as a workload: ``package.module:function`` or ``path/to/file.py:function``.

The contract (the README's "Your own code" and ``gilcompare run --help`` say it too): a
top-level function that takes one integer — units of work, so strong and weak scaling split
and repeat it as they do the built-in workloads — and returns a value that is the same
whichever model ran it (its checksum catches a fast wrong answer). An ``async def`` function
is awaited on the loop by the asyncio model and run with ``asyncio.run`` by every other one.
A function may say what it does to the GIL with an attribute, ``func.gil = "waits"`` (or
``"holds"``, ``"releases"``): a waiting one's ideal speedup is the worker count; an
``async def`` one waits unless it says otherwise.

Every process and interpreter that runs a task finds the function again by its name: a
``UserFunction`` pickles as its spec, and the worker imports the module (from the current
directory, ``PYTHONPATH`` or the environment) or loads the file. Standard library only, and
no ``inspect`` outside ``check``: subinterpreters import this module.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
import types
from typing import Any, Callable

CONTRACT = (
    "a workload of your own is package.module:function or path/to/file.py:function, naming a "
    "top-level function that takes one integer (units of work) and returns the same value "
    "under every model"
)
GIL_VALUES = ("holds", "releases", "waits")
_HEX = "_spec_"  # a UserFunction's qualname: how 3.12/3.13 subinterpreters find it by name

_RESOLVED: dict[str, Callable[..., Any]] = {}
_LOCK = threading.RLock()


class UserWorkloadError(ValueError):
    """A workload of your own cannot be used: one line saying why and what to do."""


def is_user_spec(name: str) -> bool:
    """True when ``name`` names a function of the user's (it has a colon) and no built-in."""
    return ":" in name


def split(spec: str) -> tuple[str, str, bool]:
    """(module or path, function, is a path) of a spec, or UserWorkloadError."""
    target, _, attr = spec.rpartition(":")
    if not target or not attr or not all(part.isidentifier() for part in attr.split(".")):
        raise UserWorkloadError(f"{CONTRACT}, got {spec!r}")
    # a path: a .py name, a slash, or a file that exists (notes.txt:f is a file, not Python)
    is_path = target.endswith(".py") or "/" in target or os.sep in target
    is_path = is_path or os.path.isfile(target)
    if not is_path and not all(part.isidentifier() for part in target.split(".")):
        raise UserWorkloadError(
            f"{target!r} is neither a module name nor a path to a .py file: {CONTRACT}"
        )
    return target, attr, is_path


def _here() -> str:
    return sys.executable or "this Python"


def _import_module(name: str) -> types.ModuleType:
    # like `python -m` and uvicorn: the current directory is searched first, so
    # `--workload mymod:f` finds ./mymod.py from the `gilcompare` script too, and every
    # worker (same directory) finds it the same way
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    writes = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # nothing left behind beside the user's files
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing == name or name.startswith(missing + "."):
            raise UserWorkloadError(
                f"no module named {missing!r} for {_here()}: run from the folder that holds it, "
                "add that folder to PYTHONPATH, or install it into this Python"
            ) from None
        raise UserWorkloadError(
            f"module {name!r} imports {missing!r}, which {_here()} does not have: install it there"
        ) from None
    except Exception as exc:
        raise UserWorkloadError(
            f"importing {name!r} raised {type(exc).__name__}: {exc}".rstrip(": ")
        ) from None
    finally:
        sys.dont_write_bytecode = writes


def _load_file(path: str) -> types.ModuleType:
    full = os.path.abspath(path)
    if os.path.isdir(full):
        raise UserWorkloadError(f"{path} is a directory: name a Python file (dir/file.py:function)")
    if not os.path.exists(full):
        raise UserWorkloadError(f"no file {path} (from {os.getcwd()})")
    if not full.endswith(".py"):
        raise UserWorkloadError(f"{path} is not a Python file: name a .py file (file.py:function)")
    # one module name per file, the same in every worker, never a name someone imports
    name = "gilcompare_user_" + full.encode().hex()
    if name in sys.modules:
        return sys.modules[name]
    folder = os.path.dirname(full)
    if folder not in sys.path:  # its sibling modules import as they do when it runs
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, full)
    if spec is None or spec.loader is None:
        raise UserWorkloadError(f"{path} is not a Python file: name a .py file (file.py:function)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    writes = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # nothing left behind beside the user's file
    try:
        spec.loader.exec_module(module)
    except ModuleNotFoundError as exc:
        del sys.modules[name]
        raise UserWorkloadError(
            f"{path} imports {exc.name!r}, which {_here()} does not have: install it there"
        ) from None
    except BaseException as exc:
        del sys.modules[name]
        if not isinstance(exc, Exception):
            raise
        raise UserWorkloadError(
            f"loading {path} raised {type(exc).__name__}: {exc}".rstrip(": ")
        ) from None
    finally:
        sys.dont_write_bytecode = writes
    return module


def resolve(spec: str) -> Callable[..., Any]:
    """The function a spec names, imported once per interpreter; UserWorkloadError if none."""
    fn = _RESOLVED.get(spec)
    if fn is not None:
        return fn
    with _LOCK:  # threads warming up together load a file once
        return _resolve(spec)


def _resolve(spec: str) -> Callable[..., Any]:
    fn = _RESOLVED.get(spec)
    if fn is not None:
        return fn
    target, attr, is_path = split(spec)
    module = _load_file(target) if is_path else _import_module(target)
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            names = sorted(
                n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
            )
            has = f" (it has: {', '.join(names)})" if names else ""
            raise UserWorkloadError(f"{target} has no function {attr!r}{has}") from None
    if not callable(obj):
        raise UserWorkloadError(
            f"{spec} is a {type(obj).__name__}, not a function: name a function of one integer"
        )
    _RESOLVED[spec] = obj
    return obj


class UserFunction:
    """The user's function as a task: called with units, it finds the function by its spec
    in whichever process or interpreter runs it, and runs an ``async def`` to completion."""

    __module__ = __name__

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.__qualname__ = _HEX + spec.encode().hex()

    def __call__(self, units: int) -> Any:
        out = resolve(self.spec)(units)
        if isinstance(out, types.CoroutineType):
            import asyncio

            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return asyncio.run(out)
            # called on a running loop (the asyncio model's warm-up): a loop of its own on a
            # thread of its own, since asyncio.run cannot nest
            box: list[Any] = []
            thread = threading.Thread(target=lambda: box.append(_outcome(asyncio.run, out)))
            thread.start()
            thread.join()
            ok, value = box[0]
            if not ok:
                raise value
            return value
        return out

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return UserFunction, (self.spec,)

    def __repr__(self) -> str:
        return f"UserFunction({self.spec!r})"


def _outcome(fn: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
    try:
        return True, fn(*args)
    except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
        return False, exc


def __getattr__(name: str) -> Any:
    """``gilcompare.workloads.user._spec_<hex>``: a UserFunction found by name (3.12/3.13
    subinterpreters import a task's function by module and qualname)."""
    if name.startswith(_HEX):
        return UserFunction(bytes.fromhex(name[len(_HEX) :]).decode())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check(spec: str) -> Callable[..., Any]:
    """Resolve a spec and check the contract in this process: one line and UserWorkloadError
    when the module, the function or its signature will not do."""
    fn = resolve(spec)
    import inspect

    try:
        inspect.signature(fn).bind(1)
    except TypeError:
        raise UserWorkloadError(
            f"{spec} must take one integer (units of work): its signature is "
            f"{inspect.signature(fn)}"
        ) from None
    except ValueError:  # a builtin without a signature: calling it will tell
        pass
    gil = getattr(fn, "gil", None)
    if gil is not None and gil not in GIL_VALUES:
        raise UserWorkloadError(f"{spec}.gil must be one of {', '.join(GIL_VALUES)}, got {gil!r}")
    return fn


def workload(spec: str) -> Any:
    """The Workload record of a user's function (gilcompare.workloads.Workload)."""
    from gilcompare.workloads import HOLDS, WAITS, Workload

    fn = resolve(spec)
    is_async = _is_coroutine_function(fn)
    gil = getattr(fn, "gil", None)
    if gil not in GIL_VALUES:
        gil = WAITS if is_async else HOLDS
    doc = (getattr(fn, "__doc__", None) or "").strip().splitlines()
    return Workload(
        spec,
        UserFunction(spec),
        gil,
        "user",
        doc[0] if doc else "your function",
        afn=fn if is_async else None,
    )


def _is_coroutine_function(fn: Any) -> bool:
    code = getattr(fn, "__code__", None)
    return code is not None and bool(code.co_flags & 0x80)  # CO_COROUTINE, without inspect


def time_task(spec: str, units: int) -> dict[str, float]:
    """Seconds one call of the function with ``units`` takes, after its import (run in an
    isolated child by ``run --dry-run``: the estimate of a first run)."""
    import time

    fn = UserFunction(spec)
    resolve(spec)
    t0 = time.perf_counter()
    fn(units)
    return {"seconds": time.perf_counter() - t0}


def found(spec: str) -> dict[str, str]:
    """Whether this interpreter finds the function: {} or {"error": why} (run by
    ``compare`` in each interpreter before it measures anything)."""
    try:
        resolve(spec)
    except UserWorkloadError as exc:
        return {"error": str(exc)}
    return {}
