"""A loopback TCP proxy that answers refusals late: the "queued, not refused" target.

Everything is forwarded byte for byte, except that an HTTP response whose status is
in ``statuses`` and a WebSocket close frame whose code is in ``close_codes`` reach the
client ``delay_s`` late, as if the target had parked the request until a slot freed
and only then refused it. HTTP responses are recognised by their status line at the
start of a read from the upstream (one response per read on a keep-alive connection
whose client waits for each answer, which is how the harness's clients behave); after
a ``101`` the server-to-client bytes are parsed as WebSocket frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import threading
from collections.abc import Iterable

STATUS_PREFIX = b"HTTP/1.1 "
OP_CLOSE = 0x8


class DelayProxy:
    """``with DelayProxy(upstream_port) as proxy:`` -> ``proxy.port`` on 127.0.0.1."""

    def __init__(
        self,
        upstream_port: int,
        *,
        delay_s: float = 3.0,
        statuses: Iterable[int] = (429,),
        close_codes: Iterable[int] = (4029,),
    ) -> None:
        self.upstream_port = upstream_port
        self.delay_s = delay_s
        self.statuses = {str(s).encode() for s in statuses}
        self.close_codes = set(close_codes)
        self.port = 0
        self.delayed = 0  # responses and close frames held back so far
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None

    def __enter__(self) -> DelayProxy:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        started.result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pump_up(reader, up_writer), self._pump_down(up_reader, writer))

    async def _pump_up(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(OSError):
            writer.close()

    async def _pump_down(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        frames = b""  # WebSocket bytes not yet forwarded (None of it before the upgrade)
        upgraded = False
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                if not upgraded:
                    if data.startswith(STATUS_PREFIX) and data[9:12] in self.statuses:
                        self.delayed += 1
                        await asyncio.sleep(self.delay_s)
                    if data.startswith(STATUS_PREFIX + b"101"):
                        head, _, rest = data.partition(b"\r\n\r\n")
                        writer.write(head + b"\r\n\r\n")
                        upgraded, data = True, rest
                    else:
                        writer.write(data)
                        await writer.drain()
                        continue
                frames += data
                frames = await self._forward_frames(frames, writer)
                await writer.drain()
        with contextlib.suppress(OSError):
            writer.close()

    async def _forward_frames(self, buf: bytes, writer: asyncio.StreamWriter) -> bytes:
        """Forward every complete server frame in ``buf``; a listed close code waits first."""
        while True:
            size = frame_size(buf)
            if size is None:
                return buf
            frame, buf = buf[:size], buf[size:]
            if close_code(frame) in self.close_codes:
                await writer.drain()
                self.delayed += 1
                await asyncio.sleep(self.delay_s)
            writer.write(frame)


def _header(buf: bytes) -> tuple[int, int] | None:
    """(header length, payload length) of the unmasked frame at the start of ``buf``."""
    if len(buf) < 2:
        return None
    n = buf[1] & 0x7F
    if n == 126:
        return (4, struct.unpack("!H", buf[2:4])[0]) if len(buf) >= 4 else None
    if n == 127:
        return (10, struct.unpack("!Q", buf[2:10])[0]) if len(buf) >= 10 else None
    return 2, n


def frame_size(buf: bytes) -> int | None:
    """Bytes of the complete frame at the start of ``buf``; None when incomplete."""
    head = _header(buf)
    if head is None or len(buf) < head[0] + head[1]:
        return None
    return head[0] + head[1]


def close_code(frame: bytes) -> int | None:
    """The status code of a close frame (server frames are not masked); None otherwise."""
    head = _header(frame)
    if head is None or frame[0] & 0x0F != OP_CLOSE or head[1] < 2:
        return None
    return int(struct.unpack("!H", frame[head[0] : head[0] + 2])[0])
