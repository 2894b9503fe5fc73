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
import signal
import sys
from collections.abc import Sequence

from gilcompare.cli import compare, listing, probe, run, seed
from gilcompare.cli.common import PROG, Parser
from gilcompare.cli.options import positive_float
from gilcompare.errors import EXIT_SIGINT, EXIT_SIGPIPE, EXIT_USAGE, Interrupted, UsageError


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description=(
            "Measure how work scales under Python's concurrency models on this interpreter."
        ),
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


def _prepare_streams() -> None:
    """A closed stream writes nowhere; one whose encoding lacks the tables' signs gets ASCII."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:  # the file descriptor was closed when Python started
            # kept open for the rest of the process, as the stream it stands in for would be
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
            continue
        try:
            "".join(ASCII_FALLBACK).encode(stream.encoding or "ascii")
        except (UnicodeEncodeError, LookupError, AttributeError, TypeError):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(errors="gilcompare-ascii")


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's last flush is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


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

    Statuses: 0 done, 1 a measurement failed, 2 bad input (one line on stderr), 128 + the
    signal when interrupted (130 Ctrl-C, 129 SIGHUP, 143 SIGTERM) and 141 when stdout's
    reader went away (a broken pipe, as `yes | head` does).
    """
    _prepare_streams()
    previous = {
        sig: signal.signal(sig, _on_sigterm)
        for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None))
        if sig is not None
    }
    try:
        parser = build_parser()
        argv = _glue_negative_values(parser, sys.argv[1:] if argv is None else argv)
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return EXIT_USAGE
        if hasattr(args, "timeout") and args.timeout is not None:
            args.timeout = positive_float("--timeout", args.timeout)
        status = int(args.func(args))
        sys.stdout.flush()
        return status
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_SIGINT
    except Interrupted as exc:
        print(f"{PROG}: terminated", file=sys.stderr)
        return exc.status
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_SIGPIPE
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
