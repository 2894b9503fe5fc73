"""Speedups as pictures: a panel per workload, a line per model, the ideal dashed.

``gilcompare run --plot FILE`` and ``gilcompare report RESULTS --plot FILE`` draw speedup
against workers; ``gilcompare results --plot FILE`` draws the asv suite's speedups at one
worker count against Python version. matplotlib (the ``plot`` extra) draws off screen; the
file's extension picks the format.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from typing import Any

from gilcompare.errors import UsageError
from gilcompare.measure.cells import Result
from gilcompare.models import BASELINE, MODELS
from gilcompare.report import validate

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
        if r.status != "ok" or r.speedup is None or r.model == BASELINE:
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
    names = list(series)
    plt, fig, axes = _panels(names, path)
    ideal: dict[str, dict[int, int]] = {}
    for r in results:
        if r.ideal:
            ideal.setdefault(r.workload, {})[r.workers] = r.ideal
    for ax, workload in zip(axes.flat, names):
        for model, points in sorted(series[workload].items()):
            points.sort()
            xs, ys = [n for n, _ in points], [s for _, s in points]
            ax.plot(xs, ys, label=model, **_style(model))
        if ideal.get(workload):
            xs = sorted(ideal[workload])
            ax.plot(xs, [ideal[workload][n] for n in xs], "k--", linewidth=1, label="ideal")
        ax.axhline(1.0, color="grey", linewidth=0.8)
        ax.set_xscale("log", base=2)
        workers = sorted({n for pts in series[workload].values() for n, _ in pts})
        ax.set_xticks(workers)
        ax.set_xticklabels([str(n) for n in workers])
        _label(ax, workload, "workers", "speedup over serial")
    _save(plt, fig, axes, _title(results), path)
    return f"plot: speedup against workers for {len(names)} workloads written to {path}"


def across_pythons_plot(
    pythons: Sequence[str],
    rows: Sequence[dict[str, Any]],
    workers: int,
    title: str,
    path: str,
    cpus: int | None = None,
) -> str:
    """The asv suite's speedups at ``workers`` against Python version (``gilcompare results
    --plot``): a panel per workload, a line per model, the ideal dashed and, on panels of
    work that needs a CPU, the machine's capacity measured in the same run dotted.
    ``rows`` are asvresults.speedup_table's; write to ``path`` and say what was drawn."""
    from gilcompare.measure.cells import ideal_speedup
    from gilcompare.workloads import WORKLOADS

    panels: dict[str, dict[str, list[float | None]]] = {}
    capacity: list[float | None] = [None] * len(pythons)
    for row in rows:
        values = [row.get(p) for p in pythons]
        if row["workload"] == "machine":
            capacity = values
        elif any(v is not None for v in values):
            panels.setdefault(row["workload"], {})[row["model"]] = values
    if not panels:
        raise UsageError(f"nothing to plot: no speedups at {workers} workers in this run")
    names = list(panels)
    plt, fig, axes = _panels(names, path)
    xs = list(range(len(pythons)))
    for ax, workload in zip(axes.flat, names):
        for model, values in panels[workload].items():
            style = _style(model)
            label = f"{BASELINE} (A/A)" if model == BASELINE else model
            ys = [math.nan if v is None else v for v in values]
            ax.plot(xs, ys, label=label, **style)
        w = WORKLOADS.get(workload)
        if w is not None:
            ideal = ideal_speedup(w, workers, cpus)
            ax.axhline(ideal, color="black", linestyle="--", linewidth=1, label="ideal")
            if not w.waits and any(c is not None for c in capacity):
                ax.plot(
                    xs,
                    [math.nan if c is None else c for c in capacity],
                    color="black",
                    linestyle=":",
                    linewidth=1,
                    label="capacity (same run)",
                )
        ax.set_xticks(xs)
        ax.set_xticklabels(pythons, rotation=30 if len(pythons) > 6 else 0)
        _label(ax, workload, "Python", f"speedup at {workers} workers")
    _save(plt, fig, axes, title, path)
    return f"plot: speedup at {workers} workers across {len(pythons)} Pythons written to {path}"


def _style(model: str) -> dict[str, str]:
    """The same colour, line and marker for a model in every panel and every plot: serial
    grey and dotted; past the palette's ten colours the models come round again dashed,
    with square markers, so no two models look alike."""
    if model == BASELINE:
        return {"color": "grey", "linestyle": ":", "marker": "o"}
    names = [name for name in MODELS if name != BASELINE]
    index = names.index(model) if model in names else len(names)
    turn = index // 10
    return {
        "color": f"C{index % 10}",
        "linestyle": ("-", "--", "-.")[turn % 3],
        "marker": ("o", "s", "^")[turn % 3],
    }


def _panels(names: Sequence[str], path: str) -> tuple[Any, Any, Any]:
    """(pyplot, figure, axes): a panel per name, PANEL_COLUMNS to a row, spare ones hidden;
    the target is checked first."""
    check_target(path)
    plt = _pyplot()
    columns = min(PANEL_COLUMNS, len(names))
    rows = math.ceil(len(names) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows), squeeze=False)
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    return plt, fig, axes


def _label(ax: Any, title: str, xlabel: str, ylabel: str) -> None:
    """Title and axis labels; the speedup axis starts at 0, so a 2 % gap looks like 2 % and
    not like a cliff."""
    ax.set_ylim(0, max(ax.get_ylim()[1], 1.1) * 1.06)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)


def _save(plt: Any, fig: Any, axes: Any, title: str, path: str) -> None:
    """One legend for every panel, below them; the title above; write the file, close."""
    handles: dict[str, Any] = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    rows = math.ceil(len(handles) / 4)
    fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=4)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06 + 0.03 * rows, 1, 0.96))
    # drawn in memory, then written as every target is (atomically, never through a symlink)
    drawing = io.BytesIO()
    fig.savefig(drawing, format=os.path.splitext(path)[1].lstrip(".").lower(), dpi=110)
    plt.close(fig)
    validate.write_file(path, drawing.getvalue())


def compare_plot(records: Sequence[dict[str, Any]], path: str) -> str:
    """``gilcompare compare --plot``: a panel per workload, a group of bars per model and
    workers, a bar per build; the height is the time relative to the reference build (1.0
    dashed), so lower is faster and the A/A bar shows the run's noise."""
    panels: dict[str, dict[str, dict[str, float]]] = {}
    builds: list[str] = []
    for r in records:
        if r.get("relative") is None:
            continue
        group = f"{r['model']}\n×{r['workers']}"
        panels.setdefault(r["workload"], {}).setdefault(group, {})[r["python"]] = r["relative"]
        if r["python"] not in builds:
            builds.append(r["python"])
    if not panels:
        raise UsageError("nothing to plot: no cell has a relative time in this comparison")
    names = list(panels)
    plt, fig, axes = _panels(names, path)
    width = 0.8 / len(builds)
    for ax, workload in zip(axes.flat, names):
        groups = list(panels[workload])
        for i, build in enumerate(builds):
            xs = [g + (i - (len(builds) - 1) / 2) * width for g in range(len(groups))]
            ys = [panels[workload][group].get(build, math.nan) for group in groups]
            ax.bar(xs, ys, width, label=build, color=f"C{i % 10}")
        ax.axhline(1.0, color="black", linestyle="--", linewidth=1, label="reference")
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels(groups, fontsize=8)
        _label(ax, workload, "model × workers", "time relative to reference")
    _save(plt, fig, axes, "time relative to the reference build (lower is faster)", path)
    return f"plot: {len(names)} workload(s) across {len(builds)} builds written to {path}"
