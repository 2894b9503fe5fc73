"""Errors the command line turns into one line and an exit status."""

from __future__ import annotations

from typing import Any

EXIT_FAILED = 1  # a measurement failed, crashed, timed out or mismatched its checksum
EXIT_USAGE = 2  # bad input: the message names the rule and the valid choices
EXIT_SIGINT = 130  # 128 + SIGINT (Ctrl-C); SIGTERM and SIGHUP give 128 + their number too
EXIT_SIGPIPE = 141  # 128 + SIGPIPE: stdout's reader went away (`gilcompare ... | head`)


class UsageError(ValueError):
    """Bad input from the user: printed as one line, exit status 2."""


class Interrupted(BaseException):
    """SIGINT, SIGTERM or SIGHUP arrived: clean up, then exit with ``status``."""

    def __init__(self, status: int, partial: list[Any] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.partial = partial or []  # results measured before the interrupt
