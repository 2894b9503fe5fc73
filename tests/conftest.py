"""Shared fixtures: a process-tree guard and a CLI runner that tags its processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import psutil
import pytest

TAG_VAR = "GILCOMPARE_TEST_TAG"

# Started in the background (`cmd &` in a script, nohup), this process ignores SIGINT, and so
# would every command it starts: the tests that press Ctrl-C on a run would then wait for a
# run that ignores it. A handler here makes the commands start with the default action again.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
# Under nohup, SIGHUP is ignored here and in every command, which then keeps ignoring it (as
# it must); the tests that hang up on a run need the commands to start with the default.
if signal.getsignal(signal.SIGHUP) is signal.SIG_IGN:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def tagged(tag: str) -> list[psutil.Process]:
    """Processes still alive whose environment carries ``tag``."""
    alive = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get(TAG_VAR) == tag and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
        except psutil.Error:
            continue
    return alive


class CLI:
    """Runs `python -m gilcompare` in a subprocess with a private TMPDIR and a tag."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.tag = uuid.uuid4().hex

    def env(self) -> dict[str, str]:
        return dict(os.environ, TMPDIR=str(self.tmp), **{TAG_VAR: self.tag})

    def popen(self, *args: str, **kw: Any) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "gilcompare", *args],
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **kw,
        )

    def __call__(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gilcompare", *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def survivors(self) -> list[psutil.Process]:
        return tagged(self.tag)


@pytest.fixture
def cli() -> CLI:
    """A CLI runner; afterwards no tagged process may survive and TMPDIR must be empty."""
    # short, like a real TMPDIR: the forkserver's socket path must fit AF_UNIX's limit
    tmp = Path(tempfile.mkdtemp(prefix="gct-"))
    runner = CLI(tmp)
    yield runner
    psutil.wait_procs(runner.survivors(), timeout=3)
    assert runner.survivors() == []
    assert list(tmp.iterdir()) == []
    tmp.rmdir()


# multiprocessing's own helpers live as long as the process that started them (the test
# process here) and exit with it; they are not workers a run left behind.
MP_HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver", "loky.backend")


def _is_mp_helper(proc: psutil.Process) -> bool:
    try:
        return any(h in " ".join(proc.cmdline()) for h in MP_HELPERS)
    except psutil.Error:
        return True


@pytest.fixture
def no_orphans() -> None:
    """The test leaves no child process (other than multiprocessing's helpers) behind."""
    yield
    children = [p for p in psutil.Process().children(recursive=True) if not _is_mp_helper(p)]
    gone, alive = psutil.wait_procs(children, timeout=5)
    assert alive == []
