"""Tests for gilcompare.measure.services: loopback only, cleaned up, real data."""

from __future__ import annotations

import os
import sqlite3
import urllib.request

import psutil
import pytest

from gilcompare.measure import services
from gilcompare.workloads.io_bound import HTTP_URL_ENV, SQLITE_PATH_ENV, SQLITE_ROWS, WORKDIR_ENV


def test_http_server_binds_loopback_and_stops(no_orphans: None) -> None:
    """The page server listens on 127.0.0.1 only, serves pages, and is gone afterwards."""
    with services.http_server() as url:
        assert url.startswith("http://127.0.0.1:")
        port = int(url.rsplit(":", 1)[1])
        listening = [
            c
            for c in psutil.net_connections("tcp")
            if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN
        ]
        assert listening and all(c.laddr.ip == "127.0.0.1" for c in listening)
        with urllib.request.urlopen(f"{url}/page?n=3", timeout=10) as resp:
            assert resp.read() == services.page(3)


def test_local_peers_publish_and_clean_up() -> None:
    """Peers are published through the environment and removed afterwards."""
    with services.local_peers({"sqlite", "http"}) as env:
        workdir = env[WORKDIR_ENV]
        assert os.environ[HTTP_URL_ENV] == env[HTTP_URL_ENV]
        assert oct(os.stat(workdir).st_mode & 0o777) == "0o700"  # private temp directory
        conn = sqlite3.connect(env[SQLITE_PATH_ENV])
        assert conn.execute("SELECT count(*) FROM samples").fetchone()[0] == SQLITE_ROWS
        conn.close()
    assert not os.path.exists(workdir)
    assert HTTP_URL_ENV not in os.environ and SQLITE_PATH_ENV not in os.environ


def test_unknown_service() -> None:
    """Asking for an unknown peer names the valid ones."""
    with (
        pytest.raises(ValueError, match="choose from http, sqlite, files"),
        services.local_peers({"redis"}),
    ):
        pass
