"""What every command shares: the program's name, one-line usage errors, progress lines."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from gilcompare.cli.options import positive_int
from gilcompare.errors import UsageError
from gilcompare.measure import engine
from gilcompare.settings import DEFAULT_TIMEOUT

PROG = "gilcompare"

PLOT_HELP = (
    "also draw speedup against workers, a panel per workload, to FILE (.png, .svg, .pdf ...; "
    "needs matplotlib: pip install 'gilcompare[plot]')"
)


class Parser(argparse.ArgumentParser):
    """argparse that reports bad usage as one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def show_progress(enabled: bool, text: str, done: bool = False) -> None:
    """A progress line on stderr: rewritten in place on a terminal, one per line elsewhere."""
    if not enabled:
        return
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\033[K{text}" + ("\n" if done else ""))
    else:
        sys.stderr.write(text + "\n")
    sys.stderr.flush()


def clock(seconds: float) -> str:
    """A duration as m:ss, or h:mm:ss past an hour."""
    seconds = round(max(0.0, seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def measurement_options(p: argparse.ArgumentParser, repeat: int) -> None:
    """--repeat, --timeout, --json, --quiet and --debug, as run, seed and calibrate take them."""
    p.add_argument("--repeat", default=str(repeat), help=f"timed repeats (default {repeat})")
    p.add_argument(
        "--timeout",
        default=str(DEFAULT_TIMEOUT),
        help="seconds before one measurement is abandoned and its processes killed "
        f"(default {DEFAULT_TIMEOUT:g})",
    )
    p.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--debug", action="store_true", help="show workers' tracebacks")


def planning_options(p: argparse.ArgumentParser) -> None:
    """How `run` takes its rounds: --unpaired, and --precision and --max-repeat, which give
    more rounds to a cell whose first ones spread widely."""
    p.add_argument(
        "--unpaired",
        action="store_true",
        help="skip the serial run before every repeat (faster; speedup then compares with "
        "the separate serial measurement, which machine drift can bias)",
    )
    p.add_argument(
        "--precision",
        metavar="PCT",
        default=f"{engine.PRECISION * 100:g}",
        help="plan each speedup's rounds from its first --repeat ones so that its 95 %% "
        f"interval is within ±PCT %% (default {engine.PRECISION * 100:g}; 0: exactly --repeat "
        "rounds); the interval is then Stein's two-stage one",
    )
    p.add_argument(
        "--max-repeat",
        metavar="N",
        help="at most N rounds per measurement when planning more (default: 4 × --repeat)",
    )


def planned_rounds(args: argparse.Namespace, repeat: int) -> dict[str, float | int]:
    """The Cell fields --precision and --max-repeat give, or a usage error."""
    text = str(args.precision).strip()
    try:
        percent = float(text)
    except ValueError:
        percent = -1.0
    if not 0 <= percent < 100:  # NaN and infinities fail this too
        raise UsageError(f"--precision must be a percentage from 0 to below 100, got {text!r}")
    most = positive_int("--max-repeat", args.max_repeat) if args.max_repeat else 4 * repeat
    if most < repeat:
        raise UsageError(f"--max-repeat must be at least --repeat ({repeat}), got {most}")
    return {"precision": percent / 100, "max_repeat": most} if percent else {}
