"""A claim and what measuring it gives: the data the reproduction is made of."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from gilcompare.settings import REPRODUCE_TIMEOUT


@dataclass
class Outcome:
    """What a measurement found: our number in words, whether the shape holds, the raw values."""

    ours: str
    holds: bool | None
    numbers: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Claim:
    """A published claim and the measurement that tests its shape here."""

    name: str
    claim: str
    source: str
    source_number: str
    shape: str  # what must hold on this machine for the claim to stand
    needs: tuple[str, ...]  # interpreter tags ("3.13t"); empty: the one running gilcompare
    run: Callable[[Context], Outcome]


VERDICTS = {True: "holds", False: "contradicted", None: "inconclusive"}


def verdict(
    low: float | None, high: float | None, lower: float | None = None, upper: float | None = None
) -> bool | None:
    """Two-sided: True (holds) when the whole 95 % interval lies in the claim's range
    [lower, upper] (None: unbounded), False (contradicted) when it lies wholly outside, None
    (inconclusive) when it straddles a bound or there is no interval."""
    if low is None or high is None:
        return None
    if (lower is None or low >= lower) and (upper is None or high <= upper):
        return True
    if (lower is not None and high < lower) or (upper is not None and low > upper):
        return False
    return None


@dataclass
class Row:
    """One claim's line in the reproduction: the claim beside our measurement of it."""

    name: str
    claim: str
    source: str
    source_number: str
    shape: str
    status: str  # ok | not run | failed
    ours: str = ""
    holds: bool | None = None
    reason: str = ""
    numbers: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": VERDICTS[self.holds] if self.status == "ok" else ""}


@dataclass
class Context:
    """Where claims run: the interpreters found, a timeout, and a size scale (tests shrink it)."""

    found: dict[str, str]  # tag -> path
    timeout: float = REPRODUCE_TIMEOUT
    scale: float = 1.0  # multiplies every work size; 1.0 is what the rows report

    def python(self, tag: str) -> str:
        return self.found[tag]


class Failed(RuntimeError):
    """A measurement did not give a usable number (one line, the reason)."""


class NotRun(RuntimeError):
    """The claim cannot be measured on this machine (one line, the reason)."""
