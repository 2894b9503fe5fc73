"""Tests for tools/merge.py: several machines' results in one results folder, one site."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
RUN = "f0586bc3"  # the committed run the machines here are made from
BUILDS = ("py3.13-PYTHON_GIL", "py3.14t-PYTHON_GIL")  # two builds keep the copies small


def _tool(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


merge = _tool("merge")
dashboard = _tool("dashboard")


def _machine(root: Path, name: str, cpus: int) -> Path:
    """A results folder of one machine made from the committed run: the machine of all the
    CPUs here, or one as `taskset -c 0` would describe it (1 usable CPU) under ``name``."""
    folder = root / "results" / name
    folder.mkdir(parents=True)
    shutil.copy(RESULTS / "benchmarks.json", root / "results")
    for build in BUILDS:
        path = RESULTS / "vm" / f"{RUN}-virtualenv-{build}.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        data["params"].update(machine=name, num_cpu=str(cpus))
        (folder / path.name).write_text(json.dumps(data), encoding="utf-8")
    described = json.loads((RESULTS / "vm" / "machine.json").read_text(encoding="utf-8"))
    described.update(machine=name, num_cpu=str(cpus))
    (folder / "machine.json").write_text(json.dumps(described), encoding="utf-8")
    shutil.copytree(RESULTS / "vm" / "rounds", folder / "rounds")
    (folder / "provenance").mkdir()
    for path in (RESULTS / "vm" / "provenance").glob("*.jsonl"):
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        for entry in lines:
            if entry.get("kind") == "run":
                entry["machine"] = name
                for key in ("host_before", "host_after"):
                    entry[key]["cpu_usable"] = cpus
        text = "".join(json.dumps(entry) + "\n" for entry in lines)
        (folder / "provenance" / path.name).write_text(text, encoding="utf-8")
    return root / "results"


def test_two_machines_merge_into_one_site(tmp_path: Path) -> None:
    """Two machines made here (all CPUs, and one CPU) land side by side, each under its name,
    and the dashboard offers both with their usable CPUs and the same cells."""
    here = _machine(tmp_path / "here", "vm", 2)
    one = _machine(tmp_path / "one", "vm", 1)
    out = tmp_path / "merged"
    assert merge.main([str(out), str(here), f"{one / 'vm'}=vm-1cpu"]) == 0
    assert sorted(p.parent.name for p in out.glob("*/machine.json")) == ["vm", "vm-1cpu"]
    renamed = json.loads((out / "vm-1cpu" / "machine.json").read_text(encoding="utf-8"))
    assert renamed["machine"] == "vm-1cpu" and renamed["num_cpu"] == "1"
    for path in (out / "vm-1cpu").glob(f"{RUN}-*.json"):
        assert json.loads(path.read_text(encoding="utf-8"))["params"]["machine"] == "vm-1cpu"
    runs = [
        json.loads(line)
        for path in (out / "vm-1cpu" / "provenance").glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
        if json.loads(line)["kind"] == "run"
    ]
    assert runs  # one per committed run that kept its provenance, each filed under the new name
    assert all(r["machine"] == "vm-1cpu" and r["host_before"]["cpu_usable"] == 1 for r in runs)
    assert (out / "benchmarks.json").is_file()

    page, problems = dashboard.build(tmp_path / "html", out)
    assert problems == []
    machines = _embedded(page)["machines"]
    assert sorted(machines) == ["vm", "vm-1cpu"]
    assert machines["vm"]["description"]["num_cpu"] == "2"
    assert machines["vm-1cpu"]["description"]["num_cpu"] == "1"
    assert machines["vm-1cpu"]["builds"]["3.13"]["cpus"] == 1
    cells = [{(c["bench"], c["model"], c["workers"]) for c in m["builds"]["3.13"]["scaling"]}
             for m in machines.values()]  # fmt: skip
    assert cells[0] == cells[1] and len(cells[0]) >= 8


def test_two_hosts_under_one_name_are_refused_saying_how_to_rename(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same machine name on a 2-CPU and a 1-CPU host: refused, nothing written, and the
    message names both hosts and the way to rename one."""
    here = _machine(tmp_path / "here", "vm", 2)
    one = _machine(tmp_path / "one", "vm", 1)
    out = tmp_path / "merged"
    assert merge.main([str(out), str(here), str(one)]) == 2
    message = capsys.readouterr().err.strip()
    assert "\n" not in message
    assert message.startswith("merge: machine 'vm' names two different hosts (num_cpu")
    assert f"{one / 'vm'}=vm-2" in message and "asv machine --machine" in message
    assert not out.exists()


def test_the_same_host_twice_merges_and_a_differing_file_is_refused(tmp_path: Path) -> None:
    """One host's results from two folders join under its name; the same run's file with two
    contents is refused rather than one silently winning."""
    first = _machine(tmp_path / "a", "vm", 2)
    second = _machine(tmp_path / "b", "vm", 2)
    out = tmp_path / "merged"
    names, problems = merge.merge(out, [str(first), str(second)])
    assert (names, problems) == (["vm"], [])
    changed = next((second / "vm").glob(f"{RUN}-*.json"))
    data = json.loads(changed.read_text(encoding="utf-8"))
    data["date"] += 1
    changed.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(merge.MergeError, match="measured twice under one machine name"):
        merge.merge(tmp_path / "again", [str(first), str(second)])


def test_benchmark_parameters_are_joined_across_machines() -> None:
    """A 16-CPU machine's grid and a 2-CPU one's: the site lists every worker count, in order;
    a version that differs is reported (asv would hide the other machine's results)."""
    small = {"cpu.Scaling.track_speedup": {"params": [["'count'"], ["1", "2", "4", "8"]]}}
    big = {"cpu.Scaling.track_speedup": {"params": [["'count'"], ["1", "2", "4", "8", "16"]]}}
    problems: list[str] = []
    merged = merge.merge_benchmarks([small, big, small], problems)
    assert merged["cpu.Scaling.track_speedup"]["params"][1] == ["1", "2", "4", "8", "16"]
    assert problems == []
    other = {"cpu.Scaling.track_speedup": {**small["cpu.Scaling.track_speedup"], "version": "x"}}
    merge.merge_benchmarks([small, other], problems)
    assert problems and "versions" in problems[0]


def test_a_merge_never_empties_a_source_or_a_foreign_folder(tmp_path: Path) -> None:
    """The output may not overlap a source, nor be a non-empty folder the tool did not write."""
    here = _machine(tmp_path / "here", "vm", 2)
    with pytest.raises(merge.MergeError, match="overlap"):
        merge.prepare(here, [str(here)])
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(merge.MergeError, match="not a merge this tool wrote"):
        merge.prepare(tmp_path / "mine", [str(here)])
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_asv_publishes_one_site_of_both_machines(tmp_path: Path) -> None:
    """asv publish over the merged folder knows both machines (skipped without asv)."""
    asv = shutil.which("asv")
    if asv is None:
        pytest.skip("asv is not installed here (nox -s merge installs it)")
    out = tmp_path / "merged"
    here, one = _machine(tmp_path / "here", "vm", 2), _machine(tmp_path / "one", "vm", 1)
    merge.merge(out, [str(here), f"{one / 'vm'}=vm-1cpu"])
    config = json.loads((ROOT / "asv.conf.json").read_text(encoding="utf-8"))
    html = tmp_path / "html"
    config.update(repo=str(ROOT), results_dir=str(out), html_dir=str(html))
    (tmp_path / "asv.conf.json").write_text(json.dumps(config), encoding="utf-8")
    done = subprocess.run(
        [asv, "publish", "--config", str(tmp_path / "asv.conf.json")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    index = json.loads((html / "index.json").read_text(encoding="utf-8"))
    assert sorted(index["params"]["machine"]) == ["vm", "vm-1cpu"]
    assert sorted(index["params"]["num_cpu"]) == ["1", "2"]


def _embedded(page: Path) -> dict[str, Any]:
    text = page.read_text(encoding="utf-8")
    tag = '<script id="data" type="application/json">'
    start = text.index(tag) + len(tag)
    return json.loads(text[start : text.index("</script>", start)])
