"""Parsing command-line values: lists, counts, names, numbers and byte sizes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from gilcompare.errors import UsageError
from gilcompare.settings import DEFAULT_MAXIMUM, MAXIMA

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def split_list(values: Iterable[str] | None, option: str | None = None) -> list[str]:
    """Flatten repeated and comma-separated option values, keeping order, dropping repeats.

    With ``option``, an empty item (``''``, ``'2,,4'``, a trailing comma) is a usage error.
    """
    out: list[str] = []
    for value in values or []:
        for item in value.split(","):
            item = item.strip()
            if not item and option is not None:
                raise UsageError(f"{option} has an empty name in {value!r}")
            if item and item not in out:
                out.append(item)
    return out


def choices(
    option: str, values: Iterable[str] | None, valid: Sequence[str], default: Sequence[str]
) -> list[str]:
    """Names from an option, each checked against ``valid``; ``default`` when absent."""
    names = split_list(values, "--" + option.lstrip("-"))
    for name in names:
        if name not in valid:
            raise UsageError(f"unknown {option} {name!r}: choose from {', '.join(valid)}")
    return names or list(default)


def workloads(
    values: Iterable[str] | None, valid: Sequence[str], default: Sequence[str]
) -> list[str]:
    """Workload names from ``--workload``: built-in ones checked against ``valid``, and the
    user's own (``module:function``, ``file.py:function``) imported and checked now, before
    anything is measured."""
    from gilcompare.workloads import user

    names = split_list(values, "--workload")
    for name in names:
        if user.is_user_spec(name):
            try:
                user.check(name)
            except user.UserWorkloadError as exc:
                raise UsageError(f"--workload {name}: {exc}") from None
        elif name not in valid:
            raise UsageError(
                f"unknown workload {name!r}: choose from {', '.join(valid)}, or name a function "
                "of your own (package.module:function or path/to/file.py:function)"
            )
    return names or list(default)


def positive_int(option: str, value: str | int, maximum: float | None = None) -> int:
    """An integer from 1 to the option's maximum in ASCII digits, or a usage error."""
    top = int(maximum if maximum is not None else MAXIMA.get(option, DEFAULT_MAXIMUM))
    text = str(value).strip()
    if not _INTEGER.fullmatch(text):
        raise UsageError(f"{option} must be an integer of at least 1, got {value!r}")
    number = int(text)
    if number < 1:
        raise UsageError(f"{option} must be an integer of at least 1, got {number}")
    if number > top:
        raise UsageError(f"{option} must be an integer from 1 to {top}, got {text}")
    return number


def positive_ints(option: str, values: Iterable[str] | None, default: Sequence[int]) -> list[int]:
    """A list of integers of at least 1 from repeated/comma-separated values."""
    values = list(values or [])
    for value in values:
        if any(not item.strip() for item in value.split(",")):
            raise UsageError(
                f"{option} must be integers of at least 1 separated by commas, got {value!r}"
            )
    items = split_list(values)
    return [positive_int(option, v) for v in items] if items else list(default)


def positive_float(option: str, value: str | float, maximum: float | None = None) -> float:
    """A number greater than 0 and at most the option's maximum, or a usage error."""
    top = maximum if maximum is not None else MAXIMA.get(option, DEFAULT_MAXIMUM)
    text = str(value).strip()
    if not _NUMBER.fullmatch(text) or not float(text) > 0:
        raise UsageError(f"{option} must be a number greater than 0, got {value!r}")
    number = float(text)
    if number > top:
        raise UsageError(
            f"{option} must be a number greater than 0 and at most {top:g}, got {text}"
        )
    return number


def count(option: str, value: str) -> int:
    """An integer of at least 0 in ASCII digits, up to the option's maximum (the latency
    probe's 0 workers is the unloaded baseline)."""
    top = int(MAXIMA.get(option, DEFAULT_MAXIMUM))
    text = value.strip()
    if not re.fullmatch(r"[0-9]+", text):
        raise UsageError(
            f"{option} must be an integer of at least 0 (0: no load, the baseline), got {value!r}"
        )
    if int(text) > top:
        raise UsageError(f"{option} must be an integer from 0 to {top}, got {text}")
    return int(text)


_BYTE_UNITS = {
    "": 1,
    "b": 1,
    "k": 2**10,
    "kib": 2**10,
    "m": 2**20,
    "mib": 2**20,
    "g": 2**30,
    "gib": 2**30,
}


def parse_bytes(option: str, value: str) -> int:
    """A byte count greater than 0, plain or with a K/KiB, M/MiB or G/GiB suffix."""
    top = int(MAXIMA.get(option, DEFAULT_MAXIMUM))
    text = value.strip().lower().replace(" ", "")
    digits = text.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = text[len(digits) :]
    number = 0
    if re.fullmatch(r"[0-9]{1,20}", digits) and unit in _BYTE_UNITS:
        number = int(digits) * _BYTE_UNITS[unit]
    if number < 1:
        raise UsageError(
            f"{option} must be a whole number of bytes greater than 0 (like 65536, 64KiB or "
            f"64MiB), got {value!r}"
        )
    if number > top:
        raise UsageError(f"{option} must be at most {top:,} bytes (4GiB), got {value!r}")
    return number
