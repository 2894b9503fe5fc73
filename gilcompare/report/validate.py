"""Checking every file the tool touches: targets before measuring, files it reads after reading.

Targets (``--output``, ``--plot``) are checked before anything is measured, so a run is never
lost to a file that cannot be written: a name the folder cannot hold (a NUL byte, too long, not
encodable) and two options naming one file are refused too. Writes go to a unique temporary
name in the target's folder and are renamed over it: concurrent runs never mix their bytes, a
target that is not a regular file (a symlink, a device such as ``/dev/null``, also one made
while the run went on) is refused, never replaced, and the file gets the permissions the umask
gives a new file, as ``open`` would. Files
read back (``report``'s records, ``results``' asv files) are checked field by field; every
failure is a ``UsageError`` of one line naming the file and what is wrong.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
import tempfile
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gilcompare.errors import UsageError

# ------------------------------------------------------------------------------ targets


def check_targets(*targets: tuple[str, str | None], reads: Sequence[str] = ()) -> None:
    """``check_target`` for each (option, path) given a path; and no two the same file, nor
    one of the files the command ``reads``."""
    seen: dict[str, str] = {os.path.realpath(path): f"the file read, {path!r}," for path in reads}
    for option, path in targets:
        if path is None:
            continue
        check_target(option, path)
        real = os.path.realpath(path)
        if real in seen:
            raise UsageError(
                f"{seen[real]} and {option} name the same file {path!r}: give each its own"
            )
        seen[real] = option


def check_target(option: str, path: str) -> None:
    """Refuse a target that could not be written as a regular file, before measuring."""
    if not path:
        raise UsageError(f"{option} needs a file name, got ''")
    where = f"cannot write {option} {path!r}"
    try:
        name = os.fsencode(os.path.basename(path))
        folder = os.path.dirname(os.path.abspath(path))
    except (UnicodeError, ValueError):  # a lone surrogate, a NUL byte: no file has that name
        raise UsageError(f"{where}: no file can have that name") from None
    except OSError as exc:  # the current folder was deleted
        raise UsageError(f"{where}: {exc.strerror}") from None
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    except (UnicodeError, ValueError):  # a lone surrogate, a NUL byte: no file has that name
        raise UsageError(f"{where}: no file can have that name") from None
    except OSError as exc:
        raise UsageError(f"{where}: {exc.strerror}") from None
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise UsageError(f"{where}: it is a directory; give a file name")
        if not stat.S_ISREG(info.st_mode):
            kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
            raise UsageError(f"{where}: it is {kind}, which is never replaced; give a new name")
    if not os.path.isdir(folder):
        raise UsageError(f"{where}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{where}: folder {folder} is not writable")
    try:
        longest = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        longest = 255
    if not name or len(name) > longest:
        raise UsageError(f"{where}: a file name there has at most {longest} bytes")


def _umask() -> int:
    """The process's umask (reading it means setting it: put straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_file(path: str, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` (text as UTF-8) in one step, through a unique temporary
    file beside it, with the permissions the umask gives a new file.

    Every file any command writes goes through here. Raises OSError (and leaves no temporary
    file) when the write fails or ``path`` has become something other than a regular file
    since it was checked.
    """
    folder = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~_umask())  # mkstemp's own is 0600
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        with contextlib.suppress(FileNotFoundError):
            if not stat.S_ISREG(os.lstat(path).st_mode):
                raise OSError(f"{path} is no longer a regular file")
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


# ---------------------------------------------------------------------------- reading

MAX_BYTES = 256 * 2**20  # far above any results file; refuses /dev/zero-like inputs
MAX_DEPTH = 32  # nesting a record may have: run writes at most a few levels (meta)
# cells one asv benchmark's params may span (their product): the widest grid is ~2,000; a small
# edit to a file must not make a reader build 10^8 of anything
MAX_CELLS = 100_000
# ranges of the numbers tables and plots use: wider than any run makes, narrow enough to draw
RANGES: dict[str, tuple[float, float]] = {
    "workers": (1, 10**6),
    "ideal": (1, 10**6),
    "seconds": (0, 1e9),
    "spread": (0, 1e9),
    "speedup": (0, 1e9),
    "efficiency": (0, 1e9),
}


def read_json(path: str, what: str, expected: str, allow_nan: bool = False) -> Any:
    """A file's JSON, or a one-line UsageError: unreadable, not JSON, NaN/infinity, too deep."""

    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not a number JSON allows")

    def constant(name: str) -> Any:
        if name == "NaN":
            return math.nan
        return no_constant(name)

    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) and not stat.S_ISDIR(info.st_mode):
            raise UsageError(f"cannot read {what} {path}: it is not a regular file")
        if info.st_size > MAX_BYTES:
            raise UsageError(
                f"not {_a(what)}: {path} has {info.st_size:,} bytes, more than the "
                f"{MAX_BYTES:,} any such file needs"
            )
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        return json.loads(
            raw.decode("utf-8"), parse_constant=constant if allow_nan else no_constant
        )
    except RecursionError:
        raise UsageError(f"not {_a(what)}: {path} is nested too deeply ({expected})") from None
    except (UnicodeDecodeError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"not {_a(what)}: {path} is not JSON ({reason}; {expected})") from None


def _a(what: str) -> str:
    return f"an {what}" if what[0] in "aeiou" else f"a {what}"


class Bad(Exception):
    """What is wrong with one value, before the file's name is put in front."""


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _too_deep(value: Any, limit: int) -> bool:
    """Whether ``value`` nests containers more than ``limit`` levels (checked without
    recursion, so any depth the JSON parser accepted is safe here)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            if depth >= limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def _describe(value: Any) -> str:
    try:
        text = json.dumps(value, default=str) if not isinstance(value, float) else repr(value)
    except (ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= 30 else text[:27] + "..."


# The Result fields' annotations, as written in gilcompare.measure.cells, and how each is checked.
_CHECKS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "str": ("a string", lambda v: isinstance(v, str)),
    "int": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "float": ("a finite number", _finite),
    "bool": ("true or false", lambda v: isinstance(v, bool)),
    "list[float]": (
        "a list of finite numbers",
        lambda v: isinstance(v, list) and all(_finite(x) for x in v),
    ),
    "dict[str, Any]": ("a mapping", lambda v: isinstance(v, dict)),
}


def _field_check(annotation: str) -> tuple[str, Callable[[Any], bool]]:
    base = annotation.replace(" | None", "")
    label, check = _CHECKS.get(base, ("any JSON value", lambda v: True))
    if base != annotation:
        return f"{label} or null", lambda v: v is None or check(v)
    return label, check


def results_records(data: Any, path: str, expected: str) -> list[dict[str, Any]]:
    """Check ``run --json``/``--output`` records against the Result fields they fill."""
    from dataclasses import MISSING, fields

    from gilcompare.measure.cells import Result
    from gilcompare.models import MODELS
    from gilcompare.workloads import WORKLOADS

    if not isinstance(data, list):
        raise UsageError(f"not a results file: {path} ({expected})")
    known = {"workload": list(WORKLOADS), "model": list(MODELS)}
    statuses = ("ok", "skipped", "failed", "mismatch")
    for i, record in enumerate(data):
        where = f"not a results file: {path}: record {i + 1}"
        if not isinstance(record, dict):
            raise UsageError(f"{where} is {_describe(record)}, not a mapping ({expected})")
        if _too_deep(record, MAX_DEPTH):
            raise UsageError(f"{where} nests deeper than {MAX_DEPTH} levels")
        for f in fields(Result):
            if f.name not in record:
                if f.default is MISSING and f.default_factory is MISSING:  # type: ignore[misc]
                    raise UsageError(f"{where} lacks {f.name!r} ({expected})")
                continue
            label, check = _field_check(str(f.type))
            value = record[f.name]
            if not check(value):
                raise UsageError(f"{where}: {f.name} is {_describe(value)}, expected {label}")
        for name, (low, high) in RANGES.items():
            value = record.get(name)
            if value is not None and not low <= value <= high:
                raise UsageError(
                    f"{where}: {name} is {_describe(value)}, expected {low:g} to {high:g}"
                )
        for name, valid in known.items():
            mine = name == "workload" and ":" in str(record[name])  # a function of the user's
            if record[name] not in valid and not mine:
                raise UsageError(f"{where}: unknown {name} {_describe(record[name])}")
        if record["status"] not in statuses:
            raise UsageError(
                f"{where}: status is {_describe(record['status'])}, "
                f"expected one of {', '.join(statuses)}"
            )
    return data


def asv_results(data: Any, path: str, speedup_suffix: str) -> dict[str, Any]:
    """Check the parts of an asv results file that ``gilcompare results`` reads."""
    import ast

    try:
        _asv(data, speedup_suffix, ast.literal_eval)
    except Bad as exc:
        raise UsageError(f"not an asv results file: {path}: {exc}") from None
    return data  # type: ignore[no-any-return]


def _asv(data: Any, speedup_suffix: str, literal: Callable[[str], Any]) -> None:
    keys = ("commit_hash", "python", "result_columns", "results")
    if not isinstance(data, dict) or not all(k in data for k in keys):
        raise Bad(f"lacks {', '.join(keys)}")
    _need(data, "commit_hash", "a non-empty string", lambda v: isinstance(v, str) and v != "")
    _need(
        data,
        "python",
        "a version without spaces",
        lambda v: isinstance(v, str) and len(v.split()) == 1,
    )
    if "date" in data:
        _need(data, "date", "milliseconds since 1970", lambda v: _finite(v) and 0 <= v < 2**45)
    if data.get("env_vars") is not None:
        _need(
            data,
            "env_vars",
            "a mapping of strings",
            lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
        )
    if data.get("params") is not None:
        _need(data, "params", "a mapping", lambda v: isinstance(v, dict))
    columns = data["result_columns"]
    if not isinstance(columns, list) or "result" not in columns:
        raise Bad(f"result_columns is {_describe(columns)}, expected a list naming 'result'")
    _need(data, "results", "a mapping", lambda v: isinstance(v, dict))
    at_result = columns.index("result")
    at_params = columns.index("params") if "params" in columns else None
    for name, entry in data["results"].items():
        if not isinstance(entry, list) or len(entry) <= max(at_result, at_params or 0):
            raise Bad(f"results[{name!r}] is {_describe(entry)}, expected one of asv's entries")
        values = entry[at_result]
        if values is not None and not (
            isinstance(values, list)
            and all(
                v is None or _finite(v) or (isinstance(v, float) and math.isnan(v)) for v in values
            )
        ):
            raise Bad(f"results[{name!r}] has result {_describe(values)}, expected numbers")
        params = entry[at_params] if at_params is not None else []
        if not isinstance(params, list) or not all(
            isinstance(p, list) and all(isinstance(x, str) for x in p) for p in params
        ):
            raise Bad(f"results[{name!r}] has params {_describe(params)}, expected lists of text")
        cells = math.prod(len(p) for p in params)
        if cells > MAX_CELLS:
            raise Bad(
                f"results[{name!r}] has params for {cells:,} cells, more than the "
                f"{MAX_CELLS:,} any benchmark here measures"
            )
        parsed = []
        for p in params:
            for text in p:
                try:
                    value = literal(text)
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    raise Bad(
                        f"results[{name!r}] has a param {_describe(text)} that is no Python literal"
                    ) from None
                if not isinstance(value, (str, int, float, bool, type(None))):
                    raise Bad(f"results[{name!r}] has a param {_describe(text)}, not a scalar")
                parsed.append(value)
        if name.endswith(speedup_suffix):
            shape_ok = (
                len(params) == 3
                and all(params)
                and all(
                    isinstance(literal(x), int) and not isinstance(literal(x), bool)
                    for x in params[2]
                )
                and all(isinstance(literal(x), str) for p in params[:2] for x in p)
            )
            if not shape_ok:
                raise Bad(
                    f"results[{name!r}] has params {_describe(params)}, expected "
                    "workloads, models and worker counts"
                )


def _need(data: Mapping[str, Any], key: str, label: str, check: Callable[[Any], bool]) -> None:
    if not check(data[key]):
        raise Bad(f"{key} is {_describe(data[key])}, expected {label}")
