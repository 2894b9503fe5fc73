"""A C extension that does not declare free-threading support turns the GIL back on in the
workers that import it (GILCOMPARE_IMPORT), and the records and the CLI say so."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from gilcompare.models import GIL_REENABLED_NOTE, IMPORT_ENV, free_threaded_build

MODULE = "gilcompare_gil_probe"
# multi-phase init without a Py_mod_gil slot: the module does not say it runs without the GIL
SOURCE = """\
#include <Python.h>

static PyModuleDef_Slot slots[] = {{0, NULL}};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "MODULE", "declares nothing about the GIL", 0, NULL, slots,
};

PyMODINIT_FUNC PyInit_MODULE(void) { return PyModuleDef_Init(&module); }
""".replace("MODULE", MODULE)


@pytest.fixture(scope="module")
def extension_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the compiled extension, built with this interpreter's headers."""
    if not free_threaded_build():
        pytest.skip("only a free-threaded build can have its GIL turned back on")
    cc = (sysconfig.get_config_var("CC") or "gcc").split()[0]
    compiler = shutil.which(cc) or shutil.which("gcc")
    include = sysconfig.get_paths()["include"]
    if compiler is None:
        pytest.skip("no C compiler found (gcc or the interpreter's CC)")
    if not (Path(include) / "Python.h").exists():
        pytest.skip(f"no Python headers in {include}")
    out = tmp_path_factory.mktemp("ext")
    (out / f"{MODULE}.c").write_text(SOURCE)
    target = out / f"{MODULE}{sysconfig.get_config_var('EXT_SUFFIX')}"
    subprocess.run(
        [compiler, "-shared", "-fPIC", f"-I{include}", str(out / f"{MODULE}.c"), "-o", str(target)],
        check=True,
        capture_output=True,
    )
    return out


def _run(model: str, extension_dir: Path, imports: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON_GIL", IMPORT_ENV)}
    env["PYTHONPATH"] = os.pathsep.join([str(extension_dir), env.get("PYTHONPATH", "")])
    if imports is not None:
        env[IMPORT_ENV] = imports
    return subprocess.run(
        [sys.executable, "-m", "gilcompare", "run", "--workload", "count", "--model", model]
        + ["--workers", "2", "--profile", "tiny", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _gil(run: subprocess.CompletedProcess[str], model: str) -> list[bool]:
    return [r["gil_enabled"] for r in json.loads(run.stdout) if r["model"] == model]


@pytest.mark.parametrize("model", ["threads", "processes-fork"])
def test_extension_imported_in_workers_turns_the_gil_on(extension_dir: Path, model: str) -> None:
    """Without the import the workers run without the GIL; with it, the GIL is on and the CLI
    prints why."""
    plain = _run(model, extension_dir, None)
    assert plain.returncode == 0, plain.stderr
    assert _gil(plain, model) == [False]
    assert GIL_REENABLED_NOTE not in plain.stderr

    hooked = _run(model, extension_dir, MODULE)
    assert hooked.returncode == 0, hooked.stderr
    assert _gil(hooked, model) == [True]
    assert GIL_REENABLED_NOTE in hooked.stderr
