"""Real local peers for I/O work: an HTTP server, an sqlite3 file, a private work directory.

Everything binds 127.0.0.1 on an ephemeral port or lives in a private temporary directory,
is started by the code that needs it and is gone when that code's ``with`` block ends. The
HTTP server runs in a process of its own (so its GIL is not the clients' GIL) and exits by
itself when its parent's pipe closes, so it cannot outlive a crashed parent.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from gilcompare.workloads.io_bound import (
    HTTP_BODY_BYTES,
    HTTP_LATENCY_MS,
    HTTP_URL_ENV,
    SQLITE_PATH_ENV,
    SQLITE_ROWS,
    WORKDIR_ENV,
)

LOOPBACK = "127.0.0.1"
SERVICES = ("http", "sqlite", "files")


def page(n: int) -> bytes:
    """The deterministic body the HTTP server returns for /page?n=N."""
    line = f"gilcompare page {n} ".encode("ascii")
    return (line * (HTTP_BODY_BYTES // len(line) + 1))[:HTTP_BODY_BYTES]


class _PageHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real client session
    disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms delayed ACK

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if not self.path.startswith("/page"):
            self.send_error(404)
            return
        try:
            n = int(self.path.partition("n=")[2] or 0)
        except ValueError:
            self.send_error(400)
            return
        time.sleep(HTTP_LATENCY_MS / 1000)  # the backend this page stands for
        body = page(n)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def serve_http() -> None:
    """Serve pages on 127.0.0.1:<ephemeral> until stdin closes; print the URL first."""
    server = _Server((LOOPBACK, 0), _PageHandler)
    host, port = server.server_address[:2]
    print(f"http://{host}:{port}", flush=True)

    def watch_parent() -> None:
        sys.stdin.read()  # returns at EOF: the parent closed the pipe or died
        server.shutdown()

    threading.Thread(target=watch_parent, daemon=True).start()
    server.serve_forever(poll_interval=0.1)
    server.server_close()


@contextlib.contextmanager
def http_server() -> Iterator[str]:
    """Start the page server in its own process; yield its URL; stop it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "from gilcompare.measure.services import serve_http; serve_http()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip() if proc.stdout else ""
        if not url.startswith(f"http://{LOOPBACK}:"):
            raise RuntimeError(f"the local http server did not start (exit {proc.poll()})")
        yield url
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


def build_sqlite(path: str, rows: int = SQLITE_ROWS) -> str:
    """Create the samples table with deterministic rows; return the path."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("CREATE TABLE samples (k INTEGER PRIMARY KEY, v INTEGER, s TEXT)")
        conn.executemany(
            "INSERT INTO samples VALUES (?, ?, ?)",
            ((k, (k * 7919) % 10007, f"row-{k}") for k in range(rows)),
        )
        conn.commit()
    finally:
        conn.close()
    return path


@contextlib.contextmanager
def local_peers(needed: set[str] | frozenset[str] = frozenset()) -> Iterator[dict[str, str]]:
    """Provide the named peers (http, sqlite; a work directory always) through the environment.

    Workers started inside the block inherit the variables, so workloads find their peers.
    """
    unknown = set(needed) - set(SERVICES)
    if unknown:
        raise ValueError(
            f"unknown service {sorted(unknown)[0]!r}: choose from {', '.join(SERVICES)}"
        )
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="gilcompare-"))
        env = {WORKDIR_ENV: tmp}
        if "sqlite" in needed:
            env[SQLITE_PATH_ENV] = build_sqlite(os.path.join(tmp, "samples.sqlite3"))
        if "http" in needed:
            env[HTTP_URL_ENV] = stack.enter_context(http_server())
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            yield env
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
