"""`gilcompare seed`: the seed blog's experiment, 2 threads against 2 processes, here."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from gilcompare.cli.common import measurement_options
from gilcompare.cli.options import choices, positive_int
from gilcompare.cli.run import RUN_COLUMNS, result_rows, run_and_emit
from gilcompare.errors import UsageError
from gilcompare.measure import engine
from gilcompare.measure.cells import Cell, Result
from gilcompare.models import MODELS
from gilcompare.report.records import records
from gilcompare.report.tables import table, to_json
from gilcompare.settings import DEFAULT_PROFILE, SEED_BLOG, SEED_ITERATIONS
from gilcompare.workloads.cpu import COUNT_PER_UNIT


def cmd_seed(args: argparse.Namespace) -> int:
    size = (
        positive_int("--size", args.size)
        if args.size is not None
        else round(SEED_ITERATIONS / COUNT_PER_UNIT)
    )
    repeat = positive_int("--repeat", args.repeat)
    # the executors' process pools, one per start method
    process_models = [n for n, m in MODELS.items() if m.start_method and not m.deployed]
    picked = choices("--process-model", [args.process_model], process_models, [])
    if len(picked) != 1:
        raise UsageError(
            f"--process-model takes one model: choose from {', '.join(process_models)}"
        )
    process_model = picked[0]
    cells = [
        Cell(
            workload="count",
            model="threads",
            workers=2,
            scaling="weak",
            mode="warm",
            profile=DEFAULT_PROFILE,
            size=size,
            tasks=1,
            repeat=repeat,
        ),
        Cell(
            workload="count",
            model=process_model,
            workers=2,
            scaling="weak",
            mode="warm",
            profile=DEFAULT_PROFILE,
            size=size,
            tasks=1,
            repeat=repeat,
        ),
    ]

    def emit(results: Sequence[Result], as_json: bool) -> None:
        by_model = {r.model: r for r in results}
        threads, procs = by_model.get("threads"), by_model.get(process_model)
        # threads and processes ran in separate children, so their times do not pair: the
        # engine's unpaired ratio is the ratio of the two medians printed beside it
        est = (
            engine.unpaired_ratio(threads.times, procs.times)
            if threads and procs and threads.status == procs.status == "ok"
            else None
        )
        ratio = est.value if est else None
        summary = {
            "experiment": "seed: 2 threads vs 2 processes, each counting (weak scaling)",
            "iterations_per_worker": size * COUNT_PER_UNIT,
            "blog_threads_s": SEED_BLOG["threads"],
            "blog_processes_s": SEED_BLOG["processes"],
            "blog_ratio": SEED_BLOG["threads"] / SEED_BLOG["processes"],
            "threads_s": threads.seconds if threads else None,
            "processes_s": procs.seconds if procs else None,
            "process_model": process_model,
            "ratio": ratio,
            "ratio_low": est.low if est else None,
            "ratio_high": est.high if est else None,
            "estimator": engine.UNPAIRED_ESTIMATOR,
            "interval": engine.UNPAIRED_INTERVAL,
            "results": records(results),
        }
        if as_json:
            print(to_json([summary]))
            return
        rows = [
            {
                "who": "blog (2019)",
                "threads": SEED_BLOG["threads"],
                "processes": SEED_BLOG["processes"],
                "ratio": engine.format_ratio(summary["blog_ratio"], None, None),
            },
            {
                "who": f"here (Python {results[0].python})" if results else "here",
                "threads": summary["threads_s"],
                "processes": summary["processes_s"],
                "ratio": engine.format_ratio(
                    ratio, *((est.low, est.high) if est else (None, None))
                ),
            },
        ]
        print(
            f"2 workers each counting to {size * COUNT_PER_UNIT:,} "
            f"(weak scaling; processes: {process_model})"
        )
        print(
            table(
                rows,
                [
                    ("who", ""),
                    ("threads", "threads s"),
                    ("processes", "processes s"),
                    ("ratio", "threads/processes [95 %]"),
                ],
            )
        )
        print()
        print(table(result_rows(results), RUN_COLUMNS))

    return run_and_emit(cells, args, emit)


def add_seed(sub: Any) -> None:
    """The `seed` command's options."""
    seed = sub.add_parser("seed", help="reproduce the seed blog: 2 threads vs 2 processes")
    seed.add_argument(
        "--size",
        metavar="UNITS",
        help=f"units per worker (default: {SEED_ITERATIONS:,} iterations)",
    )
    seed.add_argument(
        "--process-model",
        default="processes-fork",
        help="the process model to compare (default: processes-fork)",
    )
    measurement_options(seed, repeat=3)
    seed.set_defaults(func=cmd_seed)
