"""Speedup against workers as a picture: a panel per workload, a line per model, the ideal.

``gilcompare run --plot FILE`` and ``gilcompare report RESULTS --plot FILE`` draw it with
matplotlib (the ``plot`` extra), off screen; the file's extension picks the format.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

from gilcompare.errors import UsageError
from gilcompare.measure import Result

INSTALL_HINT = "pip install 'gilcompare[plot]'"
PANEL_COLUMNS = 3  # panels per row


def _pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (no display), or a one-line UsageError."""
    try:
        import matplotlib
    except ImportError:
        raise UsageError(f"--plot needs matplotlib: {INSTALL_HINT}") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def check_target(path: str) -> None:
    """Fail before any measuring when the plot could not be written: no matplotlib, an
    extension matplotlib cannot write, or a folder that does not exist."""
    plt = _pyplot()
    formats = sorted(plt.figure().canvas.get_supported_filetypes())
    plt.close("all")
    extension = os.path.splitext(path)[1].lstrip(".").lower()
    if extension not in formats:
        raise UsageError(
            f"cannot plot to {path!r}: give a file ending in one of {', '.join(formats)}"
        )
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"cannot plot to {path!r}: folder {folder} does not exist")


def _series(results: Sequence[Result]) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """workload -> model -> [(workers, speedup)], the measured cells only, serial left out
    (it is the 1.0 every other line is measured against)."""
    series: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for r in results:
        if r.status != "ok" or r.speedup is None or r.model == "serial":
            continue
        series.setdefault(r.workload, {}).setdefault(r.model, []).append((r.workers, r.speedup))
    return series


def _title(results: Sequence[Result]) -> str:
    first = results[0]
    build = " free-threaded" if first.free_threaded else ""
    cpus = f"{first.cpu_usable} usable CPUs" if first.cpu_usable else ""
    parts = [f"Python {first.python}{build}".strip(), f"{first.scaling} scaling, {first.mode}"]
    return " · ".join(p for p in [*parts, cpus] if p)


def speedup_plot(results: Sequence[Result], path: str) -> str:
    """Write the plot to ``path``; return a one-line description of what it shows."""
    series = _series(results)
    if not series:
        raise UsageError("nothing to plot: no measured speedups (every cell failed or skipped)")
    check_target(path)
    plt = _pyplot()
    names = list(series)
    columns = min(PANEL_COLUMNS, len(names))
    rows = math.ceil(len(names) / columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(4.2 * columns, 3.4 * rows), squeeze=False, sharex=True
    )
    ideal: dict[str, dict[int, int]] = {}
    for r in results:
        if r.ideal:
            ideal.setdefault(r.workload, {})[r.workers] = r.ideal
    for ax, workload in zip(axes.flat, names):
        for model, points in sorted(series[workload].items()):
            points.sort()
            ax.plot([n for n, _ in points], [s for _, s in points], marker="o", label=model)
        if ideal.get(workload):
            xs = sorted(ideal[workload])
            ax.plot(xs, [ideal[workload][n] for n in xs], "k--", linewidth=1, label="ideal")
        ax.axhline(1.0, color="grey", linewidth=0.8)
        ax.set_xscale("log", base=2)
        workers = sorted({n for pts in series[workload].values() for n, _ in pts})
        ax.set_xticks(workers)
        ax.set_xticklabels([str(n) for n in workers])
        ax.set_title(workload)
        ax.set_xlabel("workers")
        ax.set_ylabel("speedup over serial")
        ax.grid(True, alpha=0.3)
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    handles, labels = {}, []
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in handles:
                handles[label] = handle
                labels.append(label)
    fig.legend([handles[label] for label in labels], labels, loc="lower center", ncol=4)
    fig.suptitle(_title(results))
    fig.tight_layout(rect=(0, 0.06 + 0.02 * math.ceil(len(labels) / 4), 1, 0.96))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return f"plot: speedup against workers for {len(names)} workloads written to {path}"
