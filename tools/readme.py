"""Regenerate the README's tables from the committed results, or check that they are current.

A generated block sits between two HTML comments, the first saying what makes it::

    <!-- generated: results --workers 2 --commit 9190efe6 -->
    ...
    <!-- end generated -->

and is rewritten from ``results/`` by one of these:

* ``results ARGS``: what ``gilcompare results ARGS`` prints, as a shell session;
* ``builds COMMIT WORKLOAD... -- BUILD:MODEL...``: a Markdown table of speedups at 2 workers,
  a row per workload and a column per build and model, and the capacity of each column's run;
* ``models COMMIT WORKLOAD -- MODEL=WHAT...``: a Markdown table of one workload's speedups at
  2 workers, a row per model (with what it is) and a column per Python build, then capacity.

A number quoted in the prose is tied to the results by a comment right after it::

    count 1.98×<!-- = 3.15t count threads -->, against 0.98–1.00×<!-- = 3.14,3.15 count threads -->

(not inside code: an example in backticks is not checked), which names the builds, workloads
and models (comma-separated) whose speedups at 2 workers it
quotes, from the run named once in the README by ``<!-- numbers: COMMIT -->``. One number is
that speedup; a range ``low–high`` is the smallest and largest of them; ``±N%`` after a number
is the larger side of its 95 % interval. These are checked, never rewritten: the sentence around
a number may say why it matters, and only a person can say whether it still does.

``--check`` rewrites nothing and exits 1 naming each block that differs from what the results
give and each quoted number they contradict, so a README not brought up to date after new
results fails the tests.

    python tools/readme.py [README.md] [--results results] [--check]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gilcompare.asv import results as asvresults
from gilcompare.asv import rounds
from gilcompare.cli import main as cli_main
from gilcompare.errors import UsageError
from gilcompare.report import validate

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(
    r"(?P<head><!-- generated: (?P<spec>[^\n]*?) -->\n)(?P<body>.*?)"
    r"(?P<tail><!-- end generated -->)",
    re.DOTALL,
)
WORKERS = 2
QUOTE = re.compile(
    r"(?<![`\d.])(?P<low>\d+\.\d+)(?:–(?P<high>\d+\.\d+))?(?: ±(?P<spread>\d+)%)?×?"
    r"<!-- = (?P<spec>[^>]*?) -->"
)
QUOTED_RUN = re.compile(r"<!-- numbers: (?P<commit>[0-9a-f]{7,40}) -->")


def _cli(results: Path, args: list[str]) -> str:
    """What ``gilcompare results ARGS`` prints for these results, as a shell session."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli_main(["results", str(results), *args])
    if status != 0:
        said = err.getvalue().strip().removeprefix("gilcompare: error: ")
        raise UsageError(f"gilcompare results {shlex.join(args)}: {said}")
    return f"```\n$ gilcompare results {shlex.join(args)}\n{out.getvalue().rstrip()}\n```\n"


def _number(value: Any, ratio: Any = None) -> str:
    """A speedup to two places, with the larger side of its 95 % interval when it has one."""
    if value is None:
        return "-"
    if ratio is None or ratio.low is None or ratio.high is None:
        return f"{value:.2f}"
    spread = max(value / ratio.low, ratio.high / value) - 1
    return f"{value:.2f} ±{spread * 100:.0f}%"


def _markdown(header: Sequence[str], rows: Sequence[Sequence[str]], left: int) -> str:
    """A Markdown table whose first ``left`` columns are text and the rest numbers."""
    align = ["---"] * left + ["---:"] * (len(header) - left)
    lines = [header, align, *rows]
    return "".join(f"| {' | '.join(line)} |\n" for line in lines)


def _split(words: list[str]) -> tuple[list[str], list[str]]:
    if "--" not in words:
        raise UsageError("expected `--` between the rows and the columns")
    at = words.index("--")
    return words[:at], words[at + 1 :]


def _table(results: Path, commit: str) -> tuple[list[str], dict[tuple[str, str], dict], Any]:
    """The run's Python columns, its rows by (workload, model), and a lookup of intervals."""
    run = asvresults.pick_run(results, None, commit)
    pythons, rows = asvresults.speedup_table(run, WORKERS)
    kept = rounds.load(results, run)

    def interval(build: str, workload: str, model: str) -> Any:
        return rounds.interval(kept, build, workload, model, WORKERS)

    return pythons, {(row["workload"], row["model"]): row for row in rows}, interval


def _builds(results: Path, words: list[str]) -> str:
    """Speedups at 2 workers: a row per workload, a column per build:model."""
    (commit, *workloads), columns = _split(words)
    _, rows, interval = _table(results, commit)
    pairs = [column.split(":", 1) for column in columns]
    header = ["workload", *(f"{build} {model}" for build, model in pairs)]
    body = [
        [
            f"`{workload}`",
            *(
                _number(rows.get((workload, m), {}).get(b), interval(b, workload, m))
                for b, m in pairs
            ),
        ]
        for workload in workloads
    ]
    capacity = rows[("machine", "capacity (2.0 = two cores)")]
    body.append(["capacity", *(_number(capacity.get(build)) for build, _ in pairs)])
    return _markdown(header, body, 1)


def _models(results: Path, words: list[str]) -> str:
    """One workload's speedups at 2 workers: a row per model, a column per Python build."""
    (commit, workload), models = _split(words)
    pythons, rows, interval = _table(results, commit)
    header = ["model", "what", *pythons]
    body = []
    for entry in models:
        model, _, what = entry.partition("=")
        row = rows.get((workload, model), {})
        shown = [_number(row.get(p), interval(p, workload, model)) for p in pythons]
        body.append([f"`{model}`", what.replace("_", " "), *shown])
    capacity = rows[("machine", "capacity (2.0 = two cores)")]
    body.append(["capacity", "", *(_number(capacity.get(p)) for p in pythons)])
    return _markdown(header, body, 2)


KINDS: dict[str, Callable[[Path, list[str]], str]] = {
    "results": _cli,
    "builds": _builds,
    "models": _models,
}


def render(spec: str, results: Path) -> str:
    """The body of the block ``spec`` describes."""
    kind, *words = shlex.split(spec)
    if kind not in KINDS:
        raise UsageError(f"unknown generated block {kind!r}: choose from {', '.join(KINDS)}")
    return KINDS[kind](results, words)


def regenerate(text: str, results: Path) -> tuple[str, list[str]]:
    """The README with every generated block rewritten, and the specs of those that changed."""
    changed: list[str] = []

    def replace(match: re.Match[str]) -> str:
        body = render(match["spec"], results)
        if body != match["body"]:
            changed.append(match["spec"])
        return f"{match['head']}{body}{match['tail']}"

    return BLOCK.sub(replace, text), changed


def _spread(value: float, ratio: Any) -> int | None:
    """The larger side of a speedup's 95 % interval, in whole percent, as ``_number`` prints it."""
    if ratio is None or ratio.low is None or ratio.high is None:
        return None
    return round((max(value / ratio.low, ratio.high / value) - 1) * 100)


def check_quotes(text: str, results: Path) -> list[str]:
    """Each number the prose quotes that the results do not give, as 'quoted: found' lines."""
    quotes = list(QUOTE.finditer(text))
    if not quotes:
        return []
    run = QUOTED_RUN.search(text)
    if run is None:
        return ["numbers are quoted but no `<!-- numbers: COMMIT -->` names their run"]
    _, rows, interval = _table(results, run["commit"])
    wrong = []
    for quote in quotes:
        words = quote["spec"].split()
        if len(words) != 3:
            wrong.append(f"{quote[0]}: expected BUILDS WORKLOADS MODELS")
            continue
        builds, workloads, models = (word.split(",") for word in words)
        cells = [(b, w, m) for b in builds for w in workloads for m in models]
        values = [rows.get((w, m), {}).get(b) for b, w, m in cells]
        if any(v is None for v in values):
            missing = [" ".join(c) for c, v in zip(cells, values) if v is None]
            wrong.append(f"{quote[0]}: no speedup for {', '.join(missing)}")
            continue
        low, high = f"{min(values):.2f}", f"{max(values):.2f}"
        found = low if low == high else f"{low}–{high}"
        shown = quote["low"] if quote["high"] is None else f"{quote['low']}–{quote['high']}"
        if quote["spread"] is not None:
            if len(cells) != 1:
                wrong.append(f"{quote[0]}: ±N% needs one cell")
                continue
            spread = _spread(values[0], interval(*cells[0]))
            found, shown = f"{found} ±{spread}%", f"{shown} ±{quote['spread']}%"
        if found != shown:
            wrong.append(f"{quote['spec']}: the README says {shown}, the results {found}")
    return wrong


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("readme", nargs="?", default=str(ROOT / "README.md"))
    parser.add_argument("--results", default=str(ROOT / "results"))
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    path = Path(args.readme)
    try:
        text = path.read_text(encoding="utf-8")
        new, changed = regenerate(text, Path(args.results))
        wrong = check_quotes(new, Path(args.results))
    except (UsageError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in wrong:
        print(f"{path}: quoted number: {line}", file=sys.stderr)
    if args.check:
        for spec in changed:
            print(f"{path}: stale generated block: {spec}", file=sys.stderr)
        return 1 if changed or wrong else 0
    if changed:
        validate.write_file(str(path), new)
    for spec in changed:
        print(f"regenerated: {spec}")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
