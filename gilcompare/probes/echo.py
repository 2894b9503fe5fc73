"""A loopback echo peer for the latency probe: a server thread here, a pinging client process.

The server is a thread of the measuring process, so every echo needs that process's GIL: under
CPU-bound threads it waits for the switch interval (Beazley's convoy effect), under CPU-bound
processes it does not. The client is a separate process, so its own timing is not delayed by
the GIL it measures. Both bind 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from gilcompare.measure.services import LOOPBACK
from gilcompare.settings import PING_MESSAGE_BYTES, PING_SEED


class EchoServer:
    """Echo whatever arrives on 127.0.0.1:<ephemeral>, from a thread of this process."""

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((LOOPBACK, 0))
        self._listener.listen(4)
        self._listener.settimeout(0.1)  # accept() wakes up to notice close()
        self._closing = threading.Event()
        self._conn: socket.socket | None = None
        self.peers: list[tuple[str, int]] = []  # clients' addresses, as the server saw them
        self._thread = threading.Thread(target=self._serve, name="gilcompare-echo", daemon=True)
        self.echoes = 0

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) the server listens on."""
        host, port = self._listener.getsockname()[:2]
        return host, port

    def start(self) -> EchoServer:
        """Start serving in the background."""
        self._thread.start()
        return self

    def _serve(self) -> None:
        while not self._closing.is_set():
            try:
                conn, peer = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return  # the listener was closed
            # Blocking mode: one GIL release per recv; timeout mode would poll first, paying
            # for the GIL twice per message.
            self.peers.append(peer[:2])
            conn.settimeout(None)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._conn = conn
            with conn:
                while True:
                    try:
                        data = conn.recv(4096)
                    except OSError:
                        break
                    if not data:
                        break
                    conn.sendall(data)
                    self.echoes += 1
            self._conn = None

    def close(self) -> None:
        """Stop serving, drop any client and wait for the thread."""
        self._closing.set()
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def __enter__(self) -> EchoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def ping(
    address: tuple[str, int],
    rounds: int,
    pings: int,
    gap_ms: float,
    warmup: int,
    timeout: float,
) -> list[list[float]]:
    """Ping the server from a separate client process; round-trip times in ms, per round."""
    host, port = address
    args = [host, str(port), str(rounds), str(pings), str(gap_ms), str(warmup)]
    code = "from gilcompare.probes.echo import client_main; client_main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"the echo client did not finish within {timeout:g} s") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    if proc.returncode != 0:
        last = (err.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"the echo client exited with status {proc.returncode}: {last}")
    return json.loads(out)


def client_main() -> None:
    """Entry point of the client process: ping, then print the times as JSON."""
    host, port, rounds, pings, gap_ms, warmup = sys.argv[1:7]
    times = run_client(host, int(port), int(rounds), int(pings), float(gap_ms), int(warmup))
    print(json.dumps(times))


def run_client(
    host: str, port: int, rounds: int, pings: int, gap_ms: float, warmup: int
) -> list[list[float]]:
    """Send ``rounds`` x ``pings`` small messages, each after a pause; return RTTs in ms."""
    rng = random.Random(PING_SEED)
    message = b"p" * PING_MESSAGE_BYTES
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        sock.settimeout(30)
        sock.connect((host, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def one() -> float:
            time.sleep(gap_ms * rng.uniform(0.5, 1.5) / 1000)
            t0 = time.perf_counter()
            sock.sendall(message)
            got = 0
            while got < PING_MESSAGE_BYTES:
                chunk = sock.recv(PING_MESSAGE_BYTES - got)
                if not chunk:
                    raise ConnectionError("the echo server closed the connection")
                got += len(chunk)
            return (time.perf_counter() - t0) * 1000

        for _ in range(warmup):
            one()
        return [[one() for _ in range(pings)] for _ in range(rounds)]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between closest ranks."""
    data = sorted(values)
    if not data:
        raise ValueError("percentile of no values")
    pos = (len(data) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def summary(times: list[float]) -> dict[str, Any]:
    """p50, p99 and max of one round of round-trip times."""
    return {"p50": percentile(times, 50), "p99": percentile(times, 99), "max": max(times)}
