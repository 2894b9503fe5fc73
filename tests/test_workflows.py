"""The GitHub workflows: valid against GitHub's schema, and the bench workflow runs the
suite on each hosted machine and publishes one merged site."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"


def test_workflows_follow_githubs_schema() -> None:
    """check-jsonschema's vendored GitHub workflow schema accepts every workflow (the lint
    session runs the same check; skipped where check-jsonschema is not installed)."""
    tool = shutil.which("check-jsonschema")
    if tool is None:
        pytest.skip("check-jsonschema is not installed (nox -s lint installs it)")
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    done = subprocess.run(
        [tool, "--builtin-schema", "vendor.github-workflows", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_bench_runs_each_machine_and_merges_them_into_one_site() -> None:
    """One bench job per hosted machine (Linux x86-64 and arm64, macOS arm64), each under its
    own machine name with its results kept as an artifact; then one merge and one deploy."""
    text = (WORKFLOWS / "bench.yml").read_text(encoding="utf-8")
    for runner in ("ubuntu-latest", "ubuntu-24.04-arm", "macos-14"):
        assert f"runner: {runner}\n" in text
    assert "GILCOMPARE_MACHINE: ${{ matrix.machine }}" in text
    assert "nox -s bench -- $ASV_ARGS" in text
    assert "results/${{ matrix.machine }}/" in text and "actions/upload-artifact@" in text
    assert "nox -s merge -- results machines/results-*" in text and "shopt -s nullglob" in text
    assert "actions/deploy-pages@" in text


def test_lint_checks_the_workflows() -> None:
    """nox -s lint validates the workflows with the vendored GitHub schema."""
    text = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    assert '"check-jsonschema", "--builtin-schema", "vendor.github-workflows"' in text
