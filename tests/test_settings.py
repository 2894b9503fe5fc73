"""Tests for gilcompare.settings: the sizes results were measured with stay as they were."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from gilcompare import settings

ROOT = Path(__file__).resolve().parent.parent


def test_published_profiles_never_change() -> None:
    """results/ and the site were measured with these: a change needs a new profile."""
    standard, asv = settings.get_profile("standard"), settings.get_profile("asv")
    assert (standard.task_units, standard.tasks, standard.wait_tasks) == (50, 16, 64)
    assert standard.weak_tasks_per_worker == 2
    assert (asv.task_units, asv.tasks, asv.wait_tasks, asv.weak_tasks_per_worker) == (30, 8, 8, 1)
    assert settings.DEFAULT_PROFILE == "standard" == settings.CLAIM_PROFILE
    assert settings.ASV_PROFILE == "asv" and settings.SPOT_WORKERS_COUNT == 2


def test_probe_settings_the_suite_records() -> None:
    """The probes' sizes the asv suite's results carry."""
    assert (settings.PROBE_REPEAT, settings.PINGS, settings.CHECK_MS) == (5, 200, 10)
    assert settings.SUITE_PAYLOAD_BYTES == settings.PAYLOAD_BYTES == 64 * 2**20
    assert settings.SUITE_SWITCH_INTERVALS_MS == (5.0, 0.5)
    assert settings.JOIN_TIMEOUT_S == 0.1 and settings.SUITE_PROBE_WORKERS == 8


def test_unknown_profile_names_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown profile 'huge': choose from standard, quick"):
        settings.get_profile("huge")


def test_settings_need_only_the_standard_library() -> None:
    """Measuring children under other interpreters import it: nothing beyond the stdlib."""
    tree = ast.parse((ROOT / "gilcompare" / "settings.py").read_text(encoding="utf-8"))
    imported = {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    } | {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    stdlib = getattr(sys, "stdlib_module_names", {"__future__", "dataclasses", "typing"})
    assert imported <= set(stdlib) | {"__future__"}, imported
