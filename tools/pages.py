"""Make the site asv publishes self-contained, so it opens without a network.

asv's pages load jQuery, flot, Bootstrap and three small plugins from CDNs; a machine without
internet (or a reader offline) gets asv's "failed to load" page instead of the graphs. After
``asv publish``, ``vendor`` copies those files into ``html/vendor/`` from the npm registry,
checks each package against the registry's published integrity, and points the pages at the
copies with their own subresource-integrity hashes.

Build tooling, outside the package; standard library only: the nox sessions run this file by
path, without installing gilcompare.

    python tools/pages.py html [--cache DIR]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import re
import sys
import tarfile
import urllib.request
from pathlib import Path
from typing import NamedTuple

from gilcompare.report import validate

REGISTRY = "https://registry.npmjs.org"
VENDOR = "vendor"  # folder inside the site
TIMEOUT = 60.0  # seconds per download


class Asset(NamedTuple):
    """Where a file the pages load from a CDN lives in an npm package."""

    package: str
    version: str
    member: str  # path inside the package's tarball


# every CDN file asv 0.6's pages load, and the same library in the npm registry
ASSETS: dict[str, Asset] = {
    "https://code.jquery.com/jquery-3.3.1.min.js": Asset(
        "jquery", "3.3.1", "package/dist/jquery.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.min.js": Asset(
        "flot", "0.8.3", "package/jquery.flot.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.time.min.js": Asset(
        "flot", "0.8.3", "package/jquery.flot.time.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.selection.min.js": Asset(
        "flot", "0.8.3", "package/jquery.flot.selection.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.categories.min.js": Asset(
        "flot", "0.8.3", "package/jquery.flot.categories.js"
    ),
    "https://cdn.jsdelivr.net/npm/flot-orderbars@1.0.0/js/jquery.flot.orderBars.js": Asset(
        "flot-orderbars", "1.0.0", "package/js/jquery.flot.orderBars.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/stupidtable/1.0.1/stupidtable.min.js": Asset(
        "stupid-table-plugin", "1.1.3", "package/stupidtable.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/blueimp-md5/2.19.0/js/md5.min.js": Asset(
        "blueimp-md5", "2.19.0", "package/js/md5.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/js/bootstrap.min.js": Asset(
        "bootstrap", "3.1.1", "package/dist/js/bootstrap.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/css/bootstrap.min.css": Asset(
        "bootstrap", "3.1.1", "package/dist/css/bootstrap.min.css"
    ),
}

_CDN = re.compile(
    r'(?:src|href)="(https://(?:code\.jquery\.com|cdnjs\.cloudflare\.com|cdn\.jsdelivr\.net)/[^"]+)"'
)
_TAG = re.compile(r"<(?:script|link)\b[^>]*>")


class PagesError(Exception):
    """The site cannot be made self-contained (one line, for the caller to print)."""


def _download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            return response.read()
    except OSError as exc:
        raise PagesError(f"cannot download {url}: {exc}") from None


def _tarball(package: str, version: str, cache: Path) -> bytes:
    """The package's tarball, checked against the registry's integrity, cached on disk."""
    path = cache / f"{package}-{version}.tgz"
    if path.is_file():
        return path.read_bytes()
    meta = json.loads(_download(f"{REGISTRY}/{package}/{version}"))
    data = _download(meta["dist"]["tarball"])
    algorithm, _, expected = meta["dist"]["integrity"].partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise PagesError(f"{package}@{version} from {REGISTRY} does not match its integrity")
    cache.mkdir(parents=True, exist_ok=True)
    validate.write_file(str(path), data)  # a half-written tarball would be read as cached
    return data


def _member(tarball: bytes, name: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        member = tar.extractfile(name)
        if member is None:
            raise PagesError(f"{name} is not a file in its npm package")
        return member.read()


def integrity(data: bytes) -> str:
    """A subresource-integrity value (sha384) for the file's bytes."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def _rewrite_tag(tag: str, url: str, local: str, sri: str) -> str:
    tag = tag.replace(f'"{url}"', f'"{local}"')
    tag = re.sub(r'\sintegrity="[^"]*"', f' integrity="{sri}"', tag)
    return re.sub(r'\s(?:crossorigin|referrerpolicy)="[^"]*"', "", tag)


def vendor(html: Path, cache: Path) -> list[str]:
    """Copy every CDN file the pages load into ``html/vendor`` and point the pages at them.

    Returns the files written. Raises PagesError for a page loading a CDN file this module
    does not know (a new asv release), or a download that fails or does not verify.
    """
    pages = sorted(html.glob("*.html"))
    if not pages:
        raise PagesError(f"{html} holds no pages: run asv publish first")
    texts = {page: page.read_text(encoding="utf-8") for page in pages}
    urls = sorted({url for text in texts.values() for url in _CDN.findall(text)})
    unknown = [url for url in urls if url not in ASSETS]
    if unknown:
        raise PagesError(f"no local copy known for {unknown[0]} (add it to ASSETS)")
    written: dict[str, tuple[str, str]] = {}  # url -> (local path, integrity)
    for url in urls:
        asset = ASSETS[url]
        data = _member(_tarball(asset.package, asset.version, cache), asset.member)
        local = f"{VENDOR}/{asset.package}-{asset.version}/{Path(asset.member).name}"
        target = html / local
        target.parent.mkdir(parents=True, exist_ok=True)
        validate.write_file(str(target), data)
        written[url] = (local, integrity(data))
    for page, text in texts.items():

        def swap(match: re.Match[str]) -> str:
            tag = match.group(0)
            for url, (local, sri) in written.items():
                if f'"{url}"' in tag:
                    return _rewrite_tag(tag, url, local, sri)
            return tag

        validate.write_file(str(page), _TAG.sub(swap, text))
    return [local for local, _ in written.values()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path, help="the folder asv publish wrote (html)")
    parser.add_argument(
        "--cache", type=Path, default=Path(".asv") / "vendor", help="where tarballs are kept"
    )
    args = parser.parse_args(argv)
    try:
        files = vendor(args.html, args.cache)
    except PagesError as exc:
        print(f"pages: {exc}", file=sys.stderr)
        return 2
    print(f"pages: {len(files)} files the site loaded from CDNs now live in {args.html / VENDOR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
