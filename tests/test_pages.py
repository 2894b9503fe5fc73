"""Tests for tools/pages.py: the published site loads its scripts from itself."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import sys
import tarfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_pages() -> ModuleType:
    """tools/pages.py, loaded by path as nox runs it (build tooling, not part of the package)."""
    spec = importlib.util.spec_from_file_location("pages", ROOT / "tools" / "pages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["pages"] = module  # NamedTuple resolves its module through sys.modules
    spec.loader.exec_module(module)
    return module


pages = _load_pages()

JQUERY = "https://code.jquery.com/jquery-3.3.1.min.js"
CSS = "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/css/bootstrap.min.css"


def _cache_tarball(cache: Path, package: str, version: str, files: dict[str, bytes]) -> None:
    """Put a package's tarball in the cache, as a download would have left it."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    cache.mkdir(parents=True, exist_ok=True)
    (cache / f"{package}-{version}.tgz").write_bytes(buffer.getvalue())


def _site(tmp_path: Path, *urls: str) -> Path:
    html = tmp_path / "html"
    html.mkdir()
    tags = "\n".join(
        f'<script src="{u}" integrity="sha256-cdn" crossorigin="anonymous" '
        'onerror="js_load_failure()"></script>'
        if u.endswith(".js")
        else f'<link rel="stylesheet" href="{u}" integrity="sha256-cdn" crossorigin="anonymous">'
        for u in urls
    )
    (html / "index.html").write_text(
        f'<html><head>{tags}</head><a href="https://github.com/x/">x</a></html>', "utf-8"
    )
    return html


def test_vendor_copies_files_and_points_pages_at_them(tmp_path: Path) -> None:
    """CDN tags become local paths with the copies' own integrity; other links stay."""
    cache = tmp_path / "cache"
    js, css = b"/*! jQuery */ window.jQuery = 1;", b"body { margin: 0 }"
    _cache_tarball(cache, "jquery", "3.3.1", {"package/dist/jquery.min.js": js})
    _cache_tarball(cache, "bootstrap", "3.1.1", {"package/dist/css/bootstrap.min.css": css})
    html = _site(tmp_path, JQUERY, CSS)

    written = pages.vendor(html, cache)

    assert sorted(written) == [
        "vendor/bootstrap-3.1.1/bootstrap.min.css",
        "vendor/jquery-3.3.1/jquery.min.js",
    ]
    assert (html / "vendor/jquery-3.3.1/jquery.min.js").read_bytes() == js
    text = (html / "index.html").read_text("utf-8")
    assert "cdn.jsdelivr.net" not in text and "code.jquery.com" not in text
    sri = "sha384-" + base64.b64encode(hashlib.sha384(js).digest()).decode()
    assert f'src="vendor/jquery-3.3.1/jquery.min.js" integrity="{sri}"' in text
    assert "crossorigin" not in text and 'onerror="js_load_failure()"' in text
    assert 'href="https://github.com/x/"' in text


def test_vendor_refuses_unknown_cdn_files_and_empty_sites(tmp_path: Path) -> None:
    """A CDN file with no known copy, or no pages at all, is an error naming the cause."""
    html = _site(tmp_path, "https://cdnjs.cloudflare.com/ajax/libs/d3/7.0.0/d3.min.js")
    with pytest.raises(pages.PagesError, match="no local copy known for .*d3.min.js"):
        pages.vendor(html, tmp_path / "cache")
    with pytest.raises(pages.PagesError, match="no pages: run asv publish first"):
        pages.vendor(tmp_path / "cache", tmp_path / "cache")


def test_every_known_asset_names_a_package_member() -> None:
    """Each CDN URL maps to a file inside an npm package's tarball."""
    for url, asset in pages.ASSETS.items():
        assert url.startswith("https://")
        assert asset.member.startswith("package/"), url


def test_command_line_reports_errors_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command exits 2 with one line on stderr, never a traceback."""
    assert pages.main([str(tmp_path / "missing"), "--cache", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("pages: ")
