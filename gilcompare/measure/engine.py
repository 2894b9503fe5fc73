"""The one estimator behind every speedup, ratio and "GIL in workers" gilcompare reports.

`gilcompare run`, `gilcompare seed`, `gilcompare compare` and the asv scaling grids all
time a reference and a candidate in **paired rounds**: in each round both run the same task
list back to back, the order alternating from round to round so that neither always runs
first (warmer caches, a core the host has just lent). The estimate is the **median of the
per-round ratios**: a second of lost CPU spoils one round's ratio, not the whole number.
The rounds themselves are run by one loop, gilcompare.measure.paired.

**The 95 % interval** (``ratio``, ``interval``) is a Student t-interval on the logs of the
same per-round ratios, taken back with exp: an interval for their geometric mean. Why this
one: a ratio's noise is multiplicative (a host lending 10 % less CPU scales a round's time),
so logs make it additive and symmetric, the interval stays positive, and a speedup and its
inverse (``relative_time``) get mirrored intervals. A bootstrap needs many more rounds than
the 3-7 a cell gets (with 5 rounds it can draw only 126 distinct resamples), and an
order-statistic interval for the median cannot reach 95 % below 6 rounds. It assumes the
rounds are independent (one round's disturbance does not carry into the next) and the
log-ratios roughly normal. With few rounds the t quantile is large (12.7 at 2 rounds, 2.78
at 5), so the interval is honest about how little a few rounds know; one disturbed round
widens it rather than moving it; with one round there is no interval (None). The median
reported beside it is the robust centre of the same ratios; with log-ratios symmetric both
estimate the same thing, so a median outside its own interval says the rounds disagree.

**Rounds planned from a pilot** (``rounds_needed``, ``ratio(..., pilot=k)``). A cell whose
first ``k`` rounds spread too much for the interval a reader needs gets more rounds, and how
many is decided once, from those ``k`` rounds alone: n = (t(k-1) · s_k / ln(1 + target))²,
rounded up, at least k and at most a cap. Its interval is then Stein's two-stage interval:
the mean log ratio of all n rounds ± t(k-1) · s_k / √n. It is exact under the assumptions
above whatever n the pilot picked, because for normal rounds the mean of all n is
independent of the pilot's spread, which alone chose n (Stein 1945); an interval recomputed
from all n rounds' own spread after stopping on it would cover less than 95 % (about 93 %
in the worst case). Its half-width is at most ``target`` unless the cap stopped the rounds.
The median stays the estimate.

Timings that were not paired (``unpaired_ratio``: two medians from separate measurements)
get a Welch interval on the difference of the mean log times instead, with the
Welch-Satterthwaite degrees of freedom: the same assumptions per side, and wider, because
what pairing cancels (drift between the two measurements) stays in.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ESTIMATOR = "median of paired per-round ratios, order alternating"
INTERVAL = "95 % t-interval on the mean log paired ratio (geometric mean)"
UNPAIRED_ESTIMATOR = "ratio of medians, unpaired"
UNPAIRED_INTERVAL = "95 % Welch interval on the difference of mean log times"
CONFIDENCE = 0.95
PRECISION = 0.04  # the half-width a cell's rounds are planned for: 4 % on either side
PILOT = "Stein's two-stage interval: rounds planned from the pilot's spread"

# Two-sided 97.5 % quantiles of Student's t by degrees of freedom (standard tables); beyond
# the table a Cornish-Fisher expansion around the normal quantile is exact to 3 decimals.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
_Z975 = 1.959964


def t_quantile(df: float) -> float:
    """The 97.5 % quantile of Student's t with ``df`` degrees of freedom (df >= 1); a
    fractional df (Welch) takes the next smaller whole one, which errs wide."""
    if df < 1:
        raise ValueError(f"a t quantile needs at least 1 degree of freedom, not {df}")
    whole = int(math.floor(df))
    if whole <= len(_T975):
        return _T975[whole - 1]
    z = _Z975
    return z + (z**3 + z) / (4 * whole) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * whole**2)


@dataclass(frozen=True)
class Ratio:
    """A ratio estimated from rounds, with its 95 % interval (None with fewer than 2 rounds)."""

    value: float
    low: float | None
    high: float | None
    rounds: int
    pilot: int = 0  # the pilot rounds the rest were planned from (0: none, fixed rounds)

    @property
    def half_width(self) -> float | None:
        """The interval's relative half-width, sqrt(high / low) - 1 (None without one)."""
        if self.low is None or self.high is None or self.low <= 0:
            return None
        return math.sqrt(self.high / self.low) - 1

    def __str__(self) -> str:
        return format_ratio(self.value, self.low, self.high)

    def record(self) -> dict[str, Any]:
        out = {"value": self.value, "low": self.low, "high": self.high, "rounds": self.rounds}
        return {**out, "pilot": self.pilot} if self.pilot else out


def format_ratio(value: float | None, low: float | None, high: float | None) -> str:
    """A ratio and its interval as printed everywhere: ``1.93× [1.88–1.98]``."""
    if value is None:
        return ""
    shown = f"{value:.2f}×"
    return shown if low is None or high is None else f"{shown} [{low:.2f}–{high:.2f}]"


def _log_interval(logs: Sequence[float], pilot: int = 0) -> tuple[float, float] | None:
    """The t-interval of the mean log; with a ``pilot`` shorter than the logs, Stein's: the
    spread and its degrees of freedom from the first ``pilot`` logs only."""
    spread = logs[:pilot] if 2 <= pilot < len(logs) else logs
    if len(spread) < 2:
        return None
    mean = statistics.fmean(logs)
    half = t_quantile(len(spread) - 1) * statistics.stdev(spread) / math.sqrt(len(logs))
    return math.exp(mean - half), math.exp(mean + half)


def rounds_needed(
    numerators: Sequence[float],
    denominators: Sequence[float],
    target: float = PRECISION,
    most: int | None = None,
) -> int:
    """How many rounds in all make the interval's half-width at most ``target``, planned
    from the pilot rounds given (see the module's docstring): at least as many as given, at
    most ``most``. A pilot of fewer than two rounds, or no target, plans no more."""
    logs = [math.log(r) for r in paired_ratios(numerators, denominators) if r > 0]
    given = len(numerators)
    if len(logs) < 2 or target <= 0:
        return given
    spread = t_quantile(len(logs) - 1) * statistics.stdev(logs)
    needed = max(given, math.ceil((spread / math.log1p(target)) ** 2 - 1e-9))
    return needed if most is None else max(given, min(most, needed))


def candidate_first(round_: int) -> bool:
    """Whether the candidate runs before the reference in this round (even rounds)."""
    return round_ % 2 == 0


def paired_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Each round's numerator / denominator; the sequences pair up round by round."""
    if len(numerators) != len(denominators):
        raise ValueError(
            f"paired rounds must pair up: {len(numerators)} against {len(denominators)} timings"
        )
    return [n / d for n, d in zip(numerators, denominators) if d > 0]


def interval(
    numerators: Sequence[float], denominators: Sequence[float], pilot: int = 0
) -> tuple[float, float] | None:
    """The 95 % interval of numerator / denominator from paired rounds (see the module's
    docstring), Stein's when the rounds after the first ``pilot`` were planned from them;
    None with fewer than two usable rounds."""
    logs = [math.log(r) for r in paired_ratios(numerators, denominators) if r > 0]
    return _log_interval(logs, pilot)


def ratio(
    numerators: Sequence[float], denominators: Sequence[float], pilot: int = 0
) -> Ratio | None:
    """numerator / denominator from paired rounds: the median ratio and its 95 % interval
    (Stein's when ``pilot`` rounds planned the rest)."""
    ratios = paired_ratios(numerators, denominators)
    if not ratios:
        return None
    pilot = pilot if 2 <= pilot < len(ratios) else 0
    bounds = interval(numerators, denominators, pilot)
    low, high = bounds if bounds else (None, None)
    return Ratio(
        value=statistics.median(ratios), low=low, high=high, rounds=len(ratios), pilot=pilot
    )


def unpaired_ratio(numerators: Sequence[float], denominators: Sequence[float]) -> Ratio | None:
    """median(numerators) / median(denominators) for timings not measured in pairs, with a
    Welch interval on the log times (None unless both sides have two timings); rounds is 0."""
    num = [t for t in numerators if t > 0]
    den = [t for t in denominators if t > 0]
    if not num or not den:
        return None
    value = statistics.median(num) / statistics.median(den)
    if len(num) < 2 or len(den) < 2:
        return Ratio(value=value, low=None, high=None, rounds=0)
    ln, ld = [math.log(t) for t in num], [math.log(t) for t in den]
    vn, vd = statistics.variance(ln) / len(ln), statistics.variance(ld) / len(ld)
    centre = statistics.fmean(ln) - statistics.fmean(ld)
    if vn + vd == 0:
        return Ratio(value=value, low=math.exp(centre), high=math.exp(centre), rounds=0)
    df = (vn + vd) ** 2 / (vn**2 / (len(ln) - 1) + vd**2 / (len(ld) - 1))
    half = t_quantile(max(1.0, df)) * math.sqrt(vn + vd)
    return Ratio(value=value, low=math.exp(centre - half), high=math.exp(centre + half), rounds=0)


def speedup(reference_times: Sequence[float], times: Sequence[float]) -> float | None:
    """Reference time / candidate time: the median over rounds (None without a round)."""
    ratios = paired_ratios(reference_times, times)
    return statistics.median(ratios) if ratios else None


def relative_time(times: Sequence[float], reference_times: Sequence[float]) -> float | None:
    """Candidate time / reference time, the median over rounds (1 / speedup, round-wise)."""
    ratios = paired_ratios(times, reference_times)
    return statistics.median(ratios) if ratios else None


def efficiency(speedup_: float | None, ideal: int | None) -> float | None:
    """Speedup as a fraction of the ideal one."""
    return speedup_ / ideal if speedup_ is not None and ideal else None


def ideal_speedup(waits: bool, workers: int, cpus: int, tasks: int | None = None) -> float:
    """The best speedup physics allows for ``tasks`` equal tasks on ``workers`` workers and
    ``cpus`` usable CPUs: the busiest worker runs ceil(tasks / workers) of them, so at most
    tasks / that many for waiting work; work that needs a CPU is also bound by the CPUs.
    Without a task count: workers for waiting work, else min(workers, CPUs). A whole number
    comes back as an int (8 tasks on 2 workers and 2 CPUs: 2)."""
    ideal: float = workers if not tasks else tasks / math.ceil(tasks / workers)
    if not waits:
        ideal = min(ideal, cpus)
    return int(ideal) if float(ideal).is_integer() else round(ideal, 4)


def gil_verdict(seen: Iterable[bool | None]) -> bool | None:
    """True when any report says the GIL was enabled, False when every one says it was not;
    None when none reported (a None among them is no report)."""
    reports = [bool(gil) for gil in seen if gil is not None]
    return any(reports) if reports else None


def gil_in_workers(infos: Iterable[Mapping[str, Any]]) -> bool | None:
    """True when any worker ran with the GIL enabled; None when no worker reported."""
    return gil_verdict(info["gil_enabled"] for info in infos)
