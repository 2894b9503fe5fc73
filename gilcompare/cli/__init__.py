"""The command line: parses, calls the library, prints. Bad input is one line and exit 2.

The only place that parses arguments or prints tables: one module per family of commands —
run (run, report, calibrate), seed, compare (compare, results, reproduce), listing (models,
workloads, pythons) and probe — each adding its parsers; options parses values; common holds
what they share. Here: the parser they make up, and ``main``, which owns exit statuses,
signals and the streams.
"""

from __future__ import annotations

import argparse
import codecs
import os
import re
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any

from gilcompare.cli import compare, listing, probe, run, seed
from gilcompare.cli.common import PROG, Parser
from gilcompare.cli.options import positive_float
from gilcompare.errors import (
    EXIT_FAILED,
    EXIT_SIGINT,
    EXIT_SIGPIPE,
    EXIT_USAGE,
    Interrupted,
    UsageError,
)
from gilcompare.measure import isolate

EXIT_STATUSES = """\
exit status:
  0    done
  1    a measurement failed, or stdout/stderr could not be written (a full disk)
  2    bad input: one line on stderr names the rule and the valid choices
  129  SIGHUP (terminal or ssh session closed; ignored under nohup)
  130  Ctrl-C (SIGINT)
  141  stdout's or stderr's reader went away (a broken pipe, as `yes | head` does)
  143  SIGTERM
Every measurement written with --output is kept, whichever of these ends the command."""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description=(
            "Measure how work scales under Python's concurrency models on this interpreter."
        ),
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__import__('gilcompare').__version__}"
    )
    sub = parser.add_subparsers(dest="command", parser_class=Parser, metavar="COMMAND")
    run.add_run(sub)
    run.add_report(sub)
    compare.add_compare(sub)
    compare.add_results(sub)
    seed.add_seed(sub)
    compare.add_reproduce(sub)
    listing.add_models(sub)
    listing.add_workloads(sub)
    listing.add_pythons(sub)
    run.add_calibrate(sub)
    probe.register(sub)
    return parser


def _on_sigterm(signum: int, frame: object) -> None:
    raise Interrupted(128 + signum)


# What the tables draw with, for a terminal whose encoding lacks it (LC_ALL=C, latin-1 ...).
ASCII_FALLBACK = {"█": "#", "·": ".", "±": "+-", "×": "x", "…": "...", "→": "->", "—": "-"}


def _ascii_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object[exc.start : exc.end]
    return "".join(ASCII_FALLBACK.get(ch, "?") for ch in text), exc.end


codecs.register_error("gilcompare-ascii", _ascii_fallback)


def _open_standard_fds() -> None:
    """Started with fd 0, 1 or 2 closed (``<&-``, some supervisors): /dev/null takes its place,
    so no pipe or file opened later lands there and every child starts with all three."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            devnull = os.open(os.devnull, os.O_RDWR)
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
            os.set_inheritable(fd, True)


# what a terminal would act on rather than show: C0 controls but tab and newline, DEL, C1
# controls (ESC [ and CSI start escape sequences), and lone surrogates no encoding can write
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on written as an escape (``\x1b``),
    so a name read from a file can neither move the cursor nor retitle the window."""
    return _UNPRINTABLE.sub(lambda m: ascii(m.group())[1:-1], text)


class GuardedStream:
    """stdout or stderr whose first failed write is remembered instead of raised.

    A full disk or a reader gone away must not cost the results: the command goes on (its
    --output and --plot are still written), the stream writes to /dev/null from then on, and
    ``main`` turns the failure into the exit status (141 for a broken pipe, 1 otherwise).
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.error: OSError | None = None

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(printable(text)))
        except OSError as exc:
            self._failed(exc)
            return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            self._failed(exc)

    def _failed(self, exc: OSError) -> None:
        if self.error is None:
            self.error = exc
        # the stream's file descriptor too: what it still holds, and the interpreter's last
        # flush, then go nowhere instead of raising again
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass
        self._stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _prepare_streams() -> tuple[GuardedStream, GuardedStream]:
    """A closed stream writes nowhere; one whose encoding lacks the tables' signs gets ASCII;
    both are guarded against failing writes."""
    guarded = []
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:  # the file descriptor was closed when Python started
            # kept open for the rest of the process, as the stream it stands in for would be
            stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
        else:
            try:
                "".join(ASCII_FALLBACK).encode(stream.encoding or "ascii")
            except (UnicodeEncodeError, LookupError, AttributeError, TypeError):
                reconfigure = getattr(stream, "reconfigure", None)
                if reconfigure is not None:
                    reconfigure(errors="gilcompare-ascii")
        guard = GuardedStream(stream)
        setattr(sys, name, guard)
        guarded.append(guard)
    return guarded[0], guarded[1]


def _stream_status(stdout: GuardedStream, stderr: GuardedStream) -> int | None:
    """The exit status a failed stream calls for (141 broken pipe, 1 other), or None.

    A write error on stdout (a full disk) is said in one line on stderr, if stderr works."""
    stdout.flush()
    stderr.flush()
    if stdout.error is not None and not isinstance(stdout.error, BrokenPipeError):
        reason = stdout.error.strerror or stdout.error
        print(f"{PROG}: error: cannot write to stdout: {reason}", file=stderr)
        stderr.flush()
    failed = [e for e in (stdout.error, stderr.error) if e is not None]
    if not failed:
        return None
    return EXIT_SIGPIPE if any(isinstance(e, BrokenPipeError) for e in failed) else EXIT_FAILED


def _on_stop(signum: int, frame: object) -> None:
    """Ctrl-Z: the measuring children, in sessions of their own, never see the terminal's
    SIGTSTP, so they are stopped here with this process, and continued with it."""
    isolate.stop_children()
    stopped = time.monotonic()
    signal.signal(signal.SIGTSTP, signal.SIG_DFL)
    try:
        os.kill(os.getpid(), signal.SIGTSTP)  # stopped here until SIGCONT (fg, bg)
    finally:
        signal.signal(signal.SIGTSTP, _on_stop)
        isolate.continue_children(time.monotonic() - stopped)


def _value_options(parser: argparse.ArgumentParser) -> set[str]:
    """Every option string, in every subcommand, that takes a value."""
    found: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _value_options(sub)
        elif action.option_strings and action.nargs != 0:
            found.update(action.option_strings)
    return found


def _glue_negative_values(parser: argparse.ArgumentParser, argv: Sequence[str]) -> list[str]:
    """``--timeout -inf`` → ``--timeout=-inf``: argparse would take ``-inf`` for an option and
    say only "expected one argument"; glued, the value reaches our own one-line check."""
    takes_value = _value_options(parser)
    out: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        item = items[i]
        following = items[i + 1] if i + 1 < len(items) else None
        if (
            item in takes_value
            and following is not None
            and following.startswith("-")
            and not following.startswith("--")
            and following not in ("-h",)
        ):
            out.append(f"{item}={following}")
            i += 2
            continue
        out.append(item)
        i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `gilcompare` command; returns the exit status.

    Statuses (``EXIT_STATUSES``, the --help epilog): 0 done, 1 a measurement failed or a
    stream could not be written, 2 bad input (one line on stderr), 128 + the signal when
    interrupted (130 Ctrl-C, 129 SIGHUP, 143 SIGTERM) and 141 when the reader of stdout or
    stderr went away (a broken pipe, as `yes | head` does). An interrupt or bad input wins
    over a failed stream, which wins over the command's own status.
    """
    _open_standard_fds()
    streams = (sys.stdout, sys.stderr)
    guards = _prepare_streams()
    previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, _on_sigterm)}
    # ignored when the command started (nohup, a shell's `trap '' HUP`): a hang-up must not
    # end the run, and the measuring children inherit the ignoring
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, _on_sigterm)
    if signal.getsignal(signal.SIGTSTP) is not signal.SIG_IGN:
        previous[signal.SIGTSTP] = signal.signal(signal.SIGTSTP, _on_stop)
    try:
        try:
            status = _run(argv)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        failed = _stream_status(*guards)
    finally:
        sys.stdout, sys.stderr = streams
    if failed is None or status == EXIT_USAGE or (status > 128 and status != EXIT_SIGPIPE):
        return status
    return failed


def _run(argv: Sequence[str] | None) -> int:
    """Parse, run the command, and turn its ending into an exit status."""
    try:
        parser = build_parser()
        argv = _glue_negative_values(parser, sys.argv[1:] if argv is None else argv)
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return EXIT_USAGE
        if hasattr(args, "timeout") and args.timeout is not None:
            args.timeout = positive_float("--timeout", args.timeout)
        try:  # relative names, temporary folders and children all start from it
            os.getcwd()
        except OSError:
            raise UsageError(
                "the current folder no longer exists (deleted?): cd to a folder that does"
            ) from None
        return int(args.func(args))
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_SIGINT
    except Interrupted as exc:
        print(f"{PROG}: terminated", file=sys.stderr)
        return exc.status
    except BrokenPipeError:  # a stream written around the guards (sys.__stdout__)
        return EXIT_SIGPIPE
