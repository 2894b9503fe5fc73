"""Waiting and I/O: sleep and HTTP GETs wait; sqlite queries and file I/O release the GIL.

The HTTP server, the sqlite file and the work directory are local peers the harness starts
(gilcompare.measure.services) and publishes through the environment variables below: child
processes and subinterpreters inherit the environment, so workers find them without arguments.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import zlib
from typing import Any

from gilcompare.workloads.native import data_block

# per-unit constants (calibrated: about 1 ms each on CPython 3.11, reference machine; part of
# UNITS_VERSION, gilcompare.workloads)
SLEEP_MS_PER_UNIT = 1.0
HTTP_LATENCY_MS = 1.0  # the local server answers each GET after this simulated backend delay
HTTP_BODY_BYTES = 16 * 1024
SQLITE_ROWS = 13_000  # rows in the table; one full-scan aggregate query per unit
FILE_BYTES_PER_UNIT = 512 * 1024  # written, read back and checksummed per unit

HTTP_URL_ENV = "GILCOMPARE_HTTP_URL"
SQLITE_PATH_ENV = "GILCOMPARE_SQLITE_PATH"
WORKDIR_ENV = "GILCOMPARE_WORKDIR"


SLEEP_SLICE = 0.1  # seconds; one call for any task up to 100 units, as before


def sleep(size: int) -> int:
    """time.sleep of 1 ms per unit, the stand-in for I/O (waits, GIL released)."""
    left = size * SLEEP_MS_PER_UNIT / 1000
    while left > 0:  # in slices of 0.1 s: a task whose run is gone can be stopped between them
        time.sleep(min(left, SLEEP_SLICE))
        left -= SLEEP_SLICE
    return size


async def sleep_async(size: int) -> int:
    """asyncio.sleep of 1 ms per unit (waits on the event loop)."""
    import asyncio  # here: workers of the other models never load an event loop

    await asyncio.sleep(size * SLEEP_MS_PER_UNIT / 1000)
    return size


def _service(env: str, what: str) -> str:
    try:
        return os.environ[env]
    except KeyError:
        raise RuntimeError(
            f"the {what} workload needs its local peer: run it through gilcompare.measure.cells "
            f"or gilcompare.measure.services (environment variable {env} is not set)"
        ) from None


_local = threading.local()


def _http_connection(url: str) -> Any:
    """One keep-alive connection per thread and server, like a real client session."""
    import http.client
    from urllib.parse import urlsplit

    key = (os.getpid(), url)  # a forked child must not reuse its parent's socket
    cached = getattr(_local, "http", None)
    if cached is None or cached[0] != key:
        if cached is not None and cached[0][0] == os.getpid():
            cached[1].close()  # the server of an earlier measurement
        parts = urlsplit(url)
        cached = _local.http = (
            key,
            http.client.HTTPConnection(parts.hostname, parts.port, timeout=30),
        )
    return cached[1]


def http_get(size: int) -> int:
    """GET a page from the local HTTP server once per unit (waits on the socket)."""
    url = _service(HTTP_URL_ENV, "http")
    conn = _http_connection(url)
    crc = 0
    for i in range(size):
        conn.request("GET", f"/page?n={i % 16}")
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"http server answered {resp.status}")
        crc = zlib.crc32(body, crc)
    return crc


async def http_get_async(size: int) -> int:
    """GET a page once per unit with asyncio streams on one keep-alive connection (waits)."""
    import asyncio
    from urllib.parse import urlsplit

    parts = urlsplit(_service(HTTP_URL_ENV, "http"))
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    crc = 0
    try:
        for i in range(size):
            writer.write(
                f"GET /page?n={i % 16} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode("ascii")
            )
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await reader.readexactly(length)
            if status != 200:
                raise RuntimeError(f"http server answered {status}")
            crc = zlib.crc32(body, crc)
    finally:
        writer.close()
    return crc


SQLITE_QUERY = "SELECT count(*), total(v) FROM samples WHERE (k * ?) % 97 < 48"


def sqlite_query(size: int) -> int:
    """A full-scan aggregate query per unit on the local sqlite3 file (releases the GIL)."""
    conn = _sqlite_connection(_service(SQLITE_PATH_ENV, "sqlite"))
    acc = 0
    for i in range(size):
        n, total = conn.execute(SQLITE_QUERY, (i % 7 + 1,)).fetchone()
        acc = (acc * 31 + n + int(total)) % (1 << 61)
    return acc


def _sqlite_connection(path: str) -> sqlite3.Connection:
    """One connection per thread and database, kept open like an application's pool."""
    key = (os.getpid(), path)  # never reuse a connection across fork
    cached = getattr(_local, "sqlite", None)
    if cached is None or cached[0] != key:
        if cached is not None and cached[0][0] == os.getpid():
            cached[1].close()  # the database of an earlier measurement
        cached = _local.sqlite = (key, sqlite3.connect(path, timeout=30))
    return cached[1]


def file_io(size: int) -> int:
    """Write 512 KiB per unit to a private temp file, read it back, crc32 it (releases the GIL)."""
    workdir = _service(WORKDIR_ENV, "file")
    block = data_block(FILE_BYTES_PER_UNIT)
    path = os.path.join(workdir, f"io-{os.getpid()}-{threading.get_ident()}.bin")
    crc = 0
    try:
        for _ in range(size):
            with open(path, "wb") as f:
                f.write(block)
            with open(path, "rb") as f:
                crc = zlib.crc32(f.read(), crc)
    finally:
        if os.path.exists(path):
            os.unlink(path)
    return crc
