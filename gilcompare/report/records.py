"""The records `gilcompare run --json/--output` writes, and reading them back for `report`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gilcompare.measure.cells import Result
from gilcompare.report import validate
from gilcompare.report.tables import to_json


def records(results: Sequence[Result]) -> list[dict[str, Any]]:
    """The JSON records of results, without the workers' tracebacks."""
    return [{k: v for k, v in r.as_dict().items() if k != "traceback"} for r in results]


def save_results(path: str, results: Sequence[Result]) -> None:
    """Write the records so far in one step: an interrupt or crash never loses them."""
    validate.write_file(path, to_json(records(results)))


def load_results(path: str) -> list[Result]:
    """Read a file written by `run --json`/`--output`, or fail with one line."""
    expected = "expected the JSON list that `gilcompare run --json` writes"
    data = validate.read_json(path, "results file", expected)
    return [Result.from_dict(r) for r in validate.results_records(data, path, expected)]
