"""`python -m gilcompare` is the `gilcompare` command."""

from __future__ import annotations


def entry() -> int:
    """Import the command line and run it; Ctrl-C while it is still importing exits 130
    quietly, as it does once the command runs."""
    try:
        from gilcompare.cli import main
    except KeyboardInterrupt:
        return 130
    return main()


if __name__ == "__main__":
    raise SystemExit(entry())
