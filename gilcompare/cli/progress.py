"""`gilcompare run`'s progress: a bar with the time left on a terminal, plain lines elsewhere."""

from __future__ import annotations

import shutil
import sys
from typing import Any

from gilcompare.cli.common import PROG, clock, show_progress
from gilcompare.measure.cells import Cell, Result


def _fail_line(res: Result) -> str:
    return f"{PROG}: {res.workload} under {res.model} ({res.workers} workers): {res.reason}"


class Progress:
    """Progress on stderr (unless quiet) and, always, a line for each failure.

    On a terminal: a tqdm bar over the measurements with the elapsed time, an estimate of what
    is left (from every remaining cell's task sizes, not from the average so far) and the cell
    being measured. Elsewhere (a log, a pipe): one plain line per finished measurement.
    """

    def __init__(self, enabled: bool, debug: bool) -> None:
        self.enabled = enabled
        self.debug = debug
        self.bar: Any = None

    def starting(self, index: int, total: int, cell: Cell, elapsed: float, left: float) -> None:
        if not (self.enabled and sys.stderr.isatty()):
            return
        if self.bar is None:
            from tqdm import tqdm

            size = shutil.get_terminal_size((100, 24))  # a new pty may still say 0 x 0
            self.bar = tqdm(
                total=total,
                file=sys.stderr,
                unit="cell",
                ncols=size.columns or 100,
                nrows=size.lines or 24,
                bar_format="{n_fmt}/{total_fmt} {bar} elapsed {elapsed}{postfix}",
            )
        self.bar.set_postfix_str(f"about {clock(left)} left · {_cell(cell)}", refresh=True)

    def finished(
        self, index: int, total: int, cell: Cell, res: Result, elapsed: float, left: float
    ) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(f"about {clock(left)} left", refresh=True)
        elif self.enabled:
            shown = f"{res.seconds:.3f} s" if res.seconds is not None else res.status
            label = _label(index, total, cell)
            show_progress(self.enabled, f"{label}: {shown}; {_eta(elapsed, left)}", done=True)
        if res.status in ("failed", "mismatch"):
            self._say(_fail_line(res))
            if self.debug and res.traceback:
                self._say(res.traceback)

    def _say(self, text: str) -> None:
        """A line above the bar, or a plain line when there is none."""
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _label(index: int, total: int, cell: Cell) -> str:
    return f"[{index}/{total}] {_cell(cell)}"


def _cell(cell: Cell) -> str:
    return f"{cell.workload} · {cell.model} · {cell.workers}"


def _eta(elapsed: float, left: float) -> str:
    return f"elapsed {clock(elapsed)}, about {clock(left)} left"
