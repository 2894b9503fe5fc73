"""A function of your own that waits on I/O: round trips to a local echo peer.

Each call starts its own peer on 127.0.0.1 at a port the system picks, makes ``units`` round
trips to it (the peer waits a millisecond before it answers, as a backend would), and stops
it: nothing listens outside the machine and nothing outlives the call. It is ``async def``,
so the asyncio model awaits it on its loop; every other model runs it with asyncio.run.

    gilcompare run --workload examples/local_io.py:echo
"""

from __future__ import annotations

import asyncio
import zlib

LATENCY_S = 0.001  # the peer's wait before each answer
MESSAGE = b"ping %d\n"


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while line := await reader.readline():
            await asyncio.sleep(LATENCY_S)
            writer.write(line.upper())
            await writer.drain()
    finally:
        writer.close()


async def echo(units: int) -> int:
    """``units`` round trips to a local peer this call starts and stops (waits on I/O)."""
    server = await asyncio.start_server(_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        crc = 0
        for i in range(units):
            writer.write(MESSAGE % i)
            await writer.drain()
            crc = zlib.crc32(await reader.readline(), crc)
        writer.close()
        await writer.wait_closed()
    finally:
        server.close()
        await server.wait_closed()
    return crc
