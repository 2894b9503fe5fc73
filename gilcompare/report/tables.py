"""Turning results into aligned tables and JSON."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any


def table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    right: Collection[str] = (),
) -> str:
    """An aligned text table: ``columns`` are (key, header); numbers, and the columns named in
    ``right`` (numbers written with their interval), right-aligned."""
    cells = [[_fmt(row.get(key)) for key, _ in columns] for row in rows]
    headers = [header for _, header in columns]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(headers)]
    numeric = [
        key in right
        or all(isinstance(row.get(key), (int, float)) or row.get(key) is None for row in rows)
        for key, _ in columns
    ]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)]
        return "  ".join(parts).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(c) for c in cells)
    return "\n".join(out)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)


def to_json(records: Sequence[dict[str, Any]]) -> str:
    """A JSON list of records, one per line-friendly indent."""
    return json.dumps(list(records), indent=2, sort_keys=False, default=str)
