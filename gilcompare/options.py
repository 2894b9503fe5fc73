"""Parsing command-line values shared by `run` and the probes: lists, counts, names."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gilcompare.errors import UsageError


def split_list(values: Iterable[str] | None) -> list[str]:
    """Flatten repeated and comma-separated option values, keeping order, dropping repeats."""
    out: list[str] = []
    for value in values or []:
        for item in value.split(","):
            item = item.strip()
            if item and item not in out:
                out.append(item)
    return out


def choices(
    option: str, values: Iterable[str] | None, valid: Sequence[str], default: Sequence[str]
) -> list[str]:
    """Names from an option, each checked against ``valid``; ``default`` when absent."""
    names = split_list(values)
    for name in names:
        if name not in valid:
            raise UsageError(f"unknown {option} {name!r}: choose from {', '.join(valid)}")
    return names or list(default)


def positive_int(option: str, value: str | int) -> int:
    """An integer of at least 1, or a usage error naming the option."""
    try:
        number = int(str(value).strip())
    except ValueError:
        raise UsageError(f"{option} must be an integer of at least 1, got {value!r}") from None
    if number < 1:
        raise UsageError(f"{option} must be an integer of at least 1, got {number}")
    return number


def positive_ints(option: str, values: Iterable[str] | None, default: Sequence[int]) -> list[int]:
    """A list of integers of at least 1 from repeated/comma-separated values."""
    items = split_list(values)
    return [positive_int(option, v) for v in items] if items else list(default)


def positive_float(option: str, value: str | float) -> float:
    """A number greater than 0, or a usage error naming the option."""
    try:
        number = float(value)
    except ValueError:
        raise UsageError(f"{option} must be a number greater than 0, got {value!r}") from None
    if not number > 0 or number != number or number == float("inf"):
        raise UsageError(f"{option} must be a number greater than 0, got {value!r}")
    return number
