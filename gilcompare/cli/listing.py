"""`gilcompare models`, `workloads` and `pythons`: what this machine can run."""

from __future__ import annotations

import argparse
from typing import Any

from gilcompare.errors import UsageError
from gilcompare.models import MODELS
from gilcompare.report.tables import table, to_json
from gilcompare.workloads import WORKLOADS


def cmd_models(args: argparse.Namespace) -> int:
    rows = []
    for m in MODELS.values():
        reason = m.unavailable()
        rows.append(
            {
                "model": m.name,
                "kind": m.kind,
                "start_method": m.start_method,
                "available": reason is None,
                "reason": reason or "",
                "summary": m.summary,
            }
        )
    if args.json:
        print(to_json(rows))
    else:
        print(
            table(
                rows,
                [
                    ("model", "model"),
                    ("kind", "kind"),
                    ("available", "available"),
                    ("summary", "what"),
                    ("reason", "why not"),
                ],
            )
        )
    return 0


def cmd_workloads(args: argparse.Namespace) -> int:
    rows = []
    for w in WORKLOADS.values():
        if w.fault and not args.all:
            continue
        skipped = {
            m.name: reason for m in MODELS.values() if (reason := m.cannot_run(w)) is not None
        }
        rows.append(
            {
                "workload": w.name,
                "kind": w.kind,
                "gil": w.gil,
                "summary": w.summary,
                "service": w.service,
                "async": w.afn is not None,
                "fault": w.fault,
                "cannot_run": skipped,
            }
        )
    if args.json:
        print(to_json(rows))
    else:
        for row in rows:
            row["skipped"] = ", ".join(sorted(row["cannot_run"])) or "-"
        print(
            table(
                rows,
                [
                    ("workload", "workload"),
                    ("kind", "kind"),
                    ("gil", "GIL"),
                    ("summary", "what"),
                    ("skipped", "models that cannot run it"),
                ],
            )
        )
        print(
            "and your own function: --workload package.module:function or "
            "path/to/file.py:function (examples/ has three; README: Your own code)"
        )
    return 0


def cmd_pythons(args: argparse.Namespace) -> int:
    from gilcompare import interpreters

    if args.path:
        try:
            found = [interpreters.probe_interpreter(p) for p in args.path]
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    else:
        found = interpreters.discover()
    print(interpreters.to_json(found) if args.json else interpreters.format_table(found))
    return 0


def add_models(sub: Any) -> None:
    """The `models` command's options."""
    models = sub.add_parser("models", help="list models and whether they run here")
    models.add_argument("--json", action="store_true")
    models.set_defaults(func=cmd_models)


def add_workloads(sub: Any) -> None:
    """The `workloads` command's options."""
    workloads = sub.add_parser("workloads", help="list workloads, kinds and GIL behaviour")
    workloads.add_argument("--json", action="store_true")
    workloads.add_argument("--all", action="store_true", help="include fault injections")
    workloads.set_defaults(func=cmd_workloads)


def add_pythons(sub: Any) -> None:
    """The `pythons` command's options."""
    pythons = sub.add_parser("pythons", help="list the real Python interpreters here")
    pythons.add_argument("--json", action="store_true")
    pythons.add_argument("path", nargs="*", help="check these interpreters instead")
    pythons.set_defaults(func=cmd_pythons)
