"""Tests for tools/dashboard.py: the page built from the committed results, and the page in a
real browser (headless Chromium, skipped with the reason where none can be had)."""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import math
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
LOAD_LIMIT_S = 2.0


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dashboard", ROOT / "tools" / "dashboard.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["dashboard"] = module
    spec.loader.exec_module(module)
    return module


dashboard = _load_tool()


def _embedded(page: Path) -> dict[str, Any]:
    text = page.read_text(encoding="utf-8")
    start = text.index('<script id="data" type="application/json">') + len(
        '<script id="data" type="application/json">'
    )
    return json.loads(text[start : text.index("</script>", start)])


def _committed_cells() -> set[tuple[str, str, str, str, str, int, float]]:
    """Every (machine, build, benchmark, workload, model, workers, speedup) with a value in
    each build's latest committed file, read straight from the JSON (asv's own format)."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for path in RESULTS.glob("*/*.json"):
        if path.name == "machine.json":
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        gil = (data.get("env_vars") or {}).get("PYTHON_GIL") == "1"
        key = (path.parent.name, data["python"] + ("+gil" if gil else ""))
        if key not in latest or data["date"] >= latest[key]["date"]:
            latest[key] = data
    cells = set()
    for (machine, label), data in latest.items():
        columns = data["result_columns"]
        for name, entry in data["results"].items():
            if not name.endswith(".Scaling.track_speedup"):
                continue
            values, params = entry[columns.index("result")], entry[columns.index("params")]
            combos = [(w, m, n) for w in params[0] for m in params[1] for n in params[2]]
            for (w, m, n), v in zip(combos, values):
                if isinstance(v, (int, float)) and not math.isnan(v):
                    cell = (machine, label, name, w.strip("'"), m.strip("'"), int(n), round(v, 6))
                    cells.add(cell)
    return cells


def test_page_embeds_every_committed_speedup(tmp_path: Path) -> None:
    """Each build's speedup cells with a value are in the page, with that value, and nothing
    else is."""
    page, problems = dashboard.build(tmp_path, RESULTS)
    assert problems == []
    data = _embedded(page)
    shown = {
        (machine, label, c["bench"], c["workload"], c["model"], c["workers"], c["speedup"])
        for machine, builds in data["machines"].items()
        for label, b in builds["builds"].items()
        for c in b["scaling"]
    }
    assert shown == _committed_cells()
    text = page.read_text(encoding="utf-8")
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in text and "<script src" not in text  # opens offline


def test_corrupt_file_is_one_line_and_the_rest_is_built(tmp_path: Path) -> None:
    """A broken results file is named with why; the other builds still make the page."""
    results = tmp_path / "results"
    shutil.copytree(RESULTS, results)
    broken = sorted((results / "vm").glob("*py3.12*.json"))[-1]
    broken.write_text("{not json", encoding="utf-8")
    page, problems = dashboard.build(tmp_path / "html", results)
    assert len(problems) == 1 and str(broken) in problems[0] and "\n" not in problems[0]
    builds = _embedded(page)["machines"]["vm"]["builds"]
    assert "3.12" in builds and "3.13" in builds  # 3.12 from its older, readable file
    assert builds["3.12"]["file"] != str(broken.relative_to(tmp_path))


def test_no_results_still_writes_a_page_saying_so(tmp_path: Path) -> None:
    """An empty results folder gives one line and a page that says there is nothing."""
    (tmp_path / "results").mkdir()
    page, problems = dashboard.build(tmp_path / "html", tmp_path / "results")
    assert page.is_file() and len(problems) == 1 and "no machine has results" in problems[0]


def test_unknown_build_exits_2_naming_those_that_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Asking for a build with no results names the builds that have them."""
    assert dashboard.main([str(tmp_path), "--results", str(RESULTS), "--build", "3.99t"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "choose from 3.9, 3.10" in err
    assert dashboard.main([str(tmp_path), "--results", str(RESULTS), "--machine", "x"]) == 2
    assert "choose from box, vm" in capsys.readouterr().err


def test_index_gets_one_link(tmp_path: Path) -> None:
    """asv's index links to the dashboard once, however often the site is rebuilt."""
    (tmp_path / "index.html").write_text("<html><body class='a'>asv</body></html>", "utf-8")
    assert dashboard.link_from_index(tmp_path) and dashboard.link_from_index(tmp_path)
    text = (tmp_path / "index.html").read_text("utf-8")
    assert text.count('href="dashboard/index.html"') == 1
    assert text.index("dashboard/index.html") > text.index("<body class='a'>")


def test_index_link_joins_asvs_navigation_bar(tmp_path: Path) -> None:
    """In asv's own page the link is an item of its fixed navigation bar, not hidden under it."""
    nav = '<nav><ul><li id="nav-li-regressions">R</li>\n<li id="nav-li-graphdisplay">x</li></ul>'
    (tmp_path / "index.html").write_text(f"<html><body>{nav}</nav></body></html>", "utf-8")
    assert dashboard.link_from_index(tmp_path)
    text = (tmp_path / "index.html").read_text("utf-8")
    link = f'<li id="{dashboard.LINK_ID}"><a href="dashboard/index.html">'
    assert text.index("nav-li-regressions") < text.index(link) < text.index("nav-li-graphdisplay")


# --- in a browser ------------------------------------------------------------------------


def _reproduction(path: Path) -> Path:
    """A `gilcompare reproduce --json` file: one claim measured, one not run."""
    from gilcompare import reproduce

    rows = [
        reproduce.Row(
            name="seed",
            claim="2 processes ~2x 2 threads",
            source="blog",
            source_number="1.96x",
            shape="ratio >= 1.6",
            status="ok",
            ours="1.80x",
            holds=True,
            conditions={"python": "3.13.0"},
        ),
        reproduce.Row(
            name="ft-cost-3.13t",
            claim="~40%",
            source="docs",
            source_number="~40%",
            shape="cost >= 20%",
            status="not run",
            reason="needs Python 3.13t",
        ),
    ]
    path.write_text(json.dumps([r.as_dict() for r in rows]), encoding="utf-8")
    return path


def test_reproduction_is_embedded_and_a_corrupt_one_named(tmp_path: Path) -> None:
    """The committed reproduction goes into the page; an unreadable one is a problem line."""
    page, problems = dashboard.build(tmp_path, RESULTS, reproduction=_reproduction(tmp_path / "r"))
    assert problems == [] and [r["name"] for r in _embedded(page)["reproduction"]] == [
        "seed",
        "ft-cost-3.13t",
    ]
    (tmp_path / "r").write_text("[", encoding="utf-8")
    page, problems = dashboard.build(tmp_path, RESULTS, reproduction=tmp_path / "r")
    assert len(problems) == 1 and str(tmp_path / "r") in problems[0]
    assert _embedded(page)["reproduction"] is None


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """The dashboard built from the committed results, served on 127.0.0.1 (any free port)."""
    dashboard.build(tmp_path, RESULTS, reproduction=_reproduction(tmp_path / "reproduce.json"))
    yield from _serve(tmp_path)


@pytest.fixture
def served_two_machines(tmp_path: Path) -> Iterator[str]:
    """The dashboard of the committed results merged with a copy of them filed as a second
    machine of one usable CPU (tools/merge.py), served on 127.0.0.1."""
    other = tmp_path / "other" / "results"
    shutil.copytree(RESULTS, other)
    described = json.loads((other / "vm" / "machine.json").read_text(encoding="utf-8"))
    described["num_cpu"] = "1"
    (other / "vm" / "machine.json").write_text(json.dumps(described), encoding="utf-8")
    for path in (other / "vm").glob("*-virtualenv-*.json"):  # as asv records the machine
        data = json.loads(path.read_text(encoding="utf-8"))
        data["params"]["num_cpu"] = "1"
        path.write_text(json.dumps(data), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("merge", ROOT / "tools" / "merge.py")
    assert spec is not None and spec.loader is not None
    merge = importlib.util.module_from_spec(spec)
    sys.modules["merge"] = merge
    spec.loader.exec_module(merge)
    merged = tmp_path / "merged"
    merge.merge(merged, [str(RESULTS), f"{other / 'vm'}=vm-1cpu"])
    dashboard.build(tmp_path / "site", merged)
    yield from _serve(tmp_path / "site")


def _serve(folder: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep pytest's output to the test's own
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/dashboard/index.html"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _no_browser(reason: str) -> None:
    """Skip, saying why; where a browser must be there (GILCOMPARE_REQUIRE_BROWSER=1, as the
    GitHub workflow sets after installing one), fail instead, so the test cannot go quiet."""
    if os.environ.get("GILCOMPARE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"the browser test must run here (GILCOMPARE_REQUIRE_BROWSER=1): {reason}")
    pytest.skip(reason)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium through its chromedriver, or a skip saying what is missing."""
    try:
        from selenium import webdriver
    except ImportError:
        _no_browser("selenium is not installed")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        _no_browser("no chromium/chromedriver here: run .ci/browser to install them")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",  # root in a container has no user namespace sandbox
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,2400",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        from selenium.webdriver.chrome.service import Service

        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    except Exception as exc:  # a browser that will not start is an environment without one
        _no_browser(f"chromium did not start: {str(exc).splitlines()[0]}")
    try:
        yield driver
    finally:
        driver.quit()


def _numbers(driver: Any) -> str:
    return driver.execute_script(
        "return [...document.querySelectorAll('#matrix td.cell, #probes text')]"
        ".map(e => e.textContent).join('|')"
    )


def test_dashboard_in_chromium(served: str, browser: Any) -> None:
    """Panels render within 2 s, switching the build changes the numbers, no console errors."""
    from selenium.webdriver.support.ui import Select

    started = time.perf_counter()
    browser.get(served)
    rendered = browser.execute_script("return document.body.dataset.rendered")
    elapsed = time.perf_counter() - started
    assert rendered == "yes"
    assert elapsed <= LOAD_LIMIT_S, f"loaded in {elapsed:.2f} s"

    count = browser.execute_script
    assert count("return document.querySelectorAll('#matrix td.cell a').length") >= 8
    assert count("return document.querySelectorAll('#curves .panel svg .model-line').length") >= 8
    # a workload measured at one worker count is bars, never a line of one point
    assert count("return document.querySelectorAll('#curves .panel.spot .model-bar').length") >= 8
    points = count(
        "return [...document.querySelectorAll('#curves .model-line')]"
        ".map(l => l.getAttribute('points').trim().split(' ').length)"
    )
    assert points and min(points) >= 2
    # it opens on the build the page was told to (the newest released CPython with a GIL)
    machines = count("return JSON.parse(document.getElementById('data').textContent).machines")
    opened = browser.find_element("id", "build").get_attribute("value")
    assert opened == dashboard.opening_build(machines) and opened
    assert count("return document.querySelectorAll('#curves .ideal').length") >= 3
    assert count("return document.querySelectorAll('#curves .capacity').length") >= 3
    # the committed run kept its rounds: intervals on the curves and in the matrix, the gauge
    assert count("return document.querySelectorAll('#curves .interval').length") >= 8
    assert count("return document.querySelectorAll('#matrix .interval').length") >= 8
    assert count("return document.querySelectorAll('#gauge-row').length") == 1
    assert count("return document.querySelectorAll('#versions-chart rect').length") >= 5
    assert count("return document.querySelectorAll('#probes .panel').length") >= 5
    assert count("return document.querySelectorAll('#controls-table a').length") >= 2
    assert count("return document.querySelectorAll('#repro tr').length") == 3
    benches = count("return [...document.querySelectorAll('#matrix a')].map(a => a.dataset.bench)")
    assert all(b.endswith(".Scaling.track_speedup") for b in benches)

    select = Select(browser.find_element("id", "build"))
    builds = [o.get_attribute("value") for o in select.options]
    assert builds[0] == "3.9" and len(builds) >= 2
    # it opens on the build chosen above, not on the last in the list (a PYTHON_GIL=1 twin)
    opened = browser.execute_script("return document.body.dataset.build")
    assert opened == dashboard.opening_build(machines) != builds[-1]
    select.select_by_value(builds[-1])
    last = _numbers(browser)
    select.select_by_value(builds[0])
    first = _numbers(browser)
    assert browser.execute_script("return document.body.dataset.build") == builds[0]
    assert first and last and first != last

    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


def test_one_cell_across_machines_in_chromium(served_two_machines: str, browser: Any) -> None:
    """Two machines: the selector offers both, the chosen cell has a row per machine, and
    switching the machine keeps the build and the cell."""
    from selenium.webdriver.support.ui import Select

    browser.get(served_two_machines)
    assert browser.execute_script("return document.body.dataset.rendered") == "yes"
    machine = Select(browser.find_element("id", "machine"))
    names = ["box", "vm", "vm-1cpu"]  # the committed results' two hosts, and vm's copy
    assert [o.get_attribute("value") for o in machine.options] == names
    rows = "return [...document.querySelectorAll('#machines-table tr[data-machine]')]"
    assert browser.execute_script(rows + ".map(r => r.dataset.machine)") == names
    usable = browser.execute_script(rows + ".map(r => r.children[2].textContent)")
    assert usable == ["2", "2", "1"]
    speedups = dict(
        zip(names, browser.execute_script(rows + ".map(r => r.children[3].textContent)"))
    )
    assert speedups["vm"] == speedups["vm-1cpu"] != "–"  # the same results filed twice
    build = browser.execute_script("return document.body.dataset.build")
    title = browser.execute_script("return document.getElementById('mtitle').textContent")
    machine.select_by_value("vm-1cpu")
    assert browser.execute_script("return document.body.dataset.build") == build
    assert browser.execute_script("return document.getElementById('mtitle').textContent") == title
    capacity = browser.execute_script(
        "return [...document.querySelectorAll('#controls-table td.name')].map(t => t.textContent)"
    )
    assert "machine capacity (2 busy processes)" in capacity
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def test_free_threaded_build_and_its_gil_twin_are_builds(tmp_path: Path) -> None:
    """Results from a free-threaded build and from it under PYTHON_GIL=1 become two builds, in
    order (a build newer than any installed, so it sorts last)."""
    results = tmp_path / "results"
    shutil.copytree(RESULTS, results)
    newest = max(
        (results / "vm").glob("*-py3.13-*.json"), key=lambda p: json.loads(p.read_text())["date"]
    )
    source = newest
    for gil in ("", "1"):
        data = json.loads(source.read_text(encoding="utf-8"))
        data["python"], data["env_vars"] = "3.99t", {"PYTHON_GIL": gil}
        (results / "vm" / f"ft{gil}-virtualenv-py3.99t-PYTHON_GIL{gil}.json").write_text(
            json.dumps(data), encoding="utf-8"
        )
    page, problems = dashboard.build(tmp_path / "html", results, build="3.99t+gil")
    builds = _embedded(page)["machines"]["vm"]["builds"]
    assert problems == [] and list(builds)[-2:] == ["3.99t", "3.99t+gil"]
    assert builds["3.99t+gil"]["env_vars"] == {"PYTHON_GIL": "1"}
    assert builds["3.99t"]["env_vars"] == {}


def test_the_page_opens_on_the_newest_released_build_with_a_gil() -> None:
    """Not a free-threaded build or its twin, not a release candidate (known by its full
    version); without full versions, the newest with a GIL; else the newest."""

    def data(**versions: str | None) -> dict[str, Any]:
        builds = {tag.replace("_", "."): {"version": v} for tag, v in versions.items()}
        return {"vm": {"builds": builds}}

    found = data(**{"3_14": "3.14.7", "3_15": "3.15.0rc1", "3_14t": "3.14.7", "3_15t": "3.15.0rc1"})
    assert dashboard.opening_build(found) == "3.14"
    assert dashboard.opening_build(data(**{"3_13": None, "3_14": None, "3_14t": None})) == "3.14"
    assert dashboard.opening_build(data(**{"3_13t": "3.13.15", "3_14t": "3.14.7"})) == "3.14t"
    assert dashboard.opening_build({}) is None


def test_intervals_gauge_and_a_mixed_page(tmp_path: Path) -> None:
    """Cells get the 95 % interval of their kept rounds and a build its gauge (flagged when
    noisy); a page whose builds come from different commits or hosts says so."""
    results = tmp_path / "results"
    shutil.copytree(RESULTS, results)
    files = (results / "vm").glob("*py3.12-*.json")
    source = max(files, key=lambda p: json.loads(p.read_text(encoding="utf-8"))["date"])
    data = json.loads(source.read_text(encoding="utf-8"))
    folder = results / "vm" / "rounds" / data["commit_hash"] / "3.12"
    shutil.rmtree(folder, ignore_errors=True)  # this build's rounds are the ones written here
    folder.mkdir(parents=True)
    cell = {"kind": "cell", "workload": "count", "model": "processes-fork", "workers": 2}
    cell.update(status="ok", serial_times=[0.2] * 3, times=[0.1, 0.11, 0.105])
    gauge = {"kind": "gauge", "processes": 2, "readings": [1.2, 1.3, 1.25]}
    (folder / "cpu.Scaling.jsonl").write_text(f"{json.dumps(gauge)}\n{json.dumps(cell)}\n")
    machines, problems = dashboard.collect(results)
    build = machines["vm"]["builds"]["3.12"]
    (shown,) = [
        c
        for c in build["scaling"]
        if (c["bench"], c["workload"], c["model"], c["workers"])
        == ("cpu.Scaling.track_speedup", "count", "processes-fork", 2)
    ]
    from gilcompare.measure import engine

    expected = engine.ratio(cell["serial_times"], cell["times"])
    assert (shown["low"], shown["high"]) == (
        pytest.approx(expected.low, abs=1e-6),
        pytest.approx(expected.high, abs=1e-6),
    )
    assert build["gauge"] == 1.25 and build["noisy"] == ["cpu.Scaling"]
    assert not any("mixes" in p for p in problems)
    # one build from another run: the page says which builds came from which commit
    data["commit_hash"] = "f" * 40
    source.write_text(json.dumps(data), encoding="utf-8")
    _, problems = dashboard.collect(results)
    assert any("this page mixes commits" in p and "ffffffff: 3.12" in p for p in problems)


def test_the_page_is_never_written_through_a_symlink(tmp_path: Path) -> None:
    """The dashboard is written like --output: a symlink at its name is refused, the file it
    points to is left alone, and a page written fresh follows the umask."""
    (tmp_path / "results").mkdir()
    victim = tmp_path / "victim"
    victim.write_text("precious")
    page = tmp_path / "html" / dashboard.PAGE
    page.parent.mkdir(parents=True)
    page.symlink_to(victim)
    with pytest.raises(OSError, match="no longer a regular file"):
        dashboard.build(tmp_path / "html", tmp_path / "results")
    assert victim.read_text() == "precious"
    page.unlink()
    old = os.umask(0o022)
    try:
        dashboard.build(tmp_path / "html", tmp_path / "results")
    finally:
        os.umask(old)
    assert page.stat().st_mode & 0o777 == 0o644


def test_a_page_that_cannot_be_written_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The builder's command line: a symlink where the page goes is exit 1 and one line."""
    (tmp_path / "results").mkdir()
    page = tmp_path / "html" / dashboard.PAGE
    page.parent.mkdir(parents=True)
    page.symlink_to(tmp_path / "victim")
    assert dashboard.main([str(tmp_path / "html"), "--results", str(tmp_path / "results")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("dashboard: cannot write the page") and err.count("\n") == 1
