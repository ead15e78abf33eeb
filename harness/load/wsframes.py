"""RFC 6455 frames for the raw WebSocket clients (no I/O, no gevent).

Shared by the load generator (``harness.load.wsraw``) and the emulator benchmark's
asyncio client: client frames are masked with one fixed key so that audio frames can
be built once and sent many times.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Callable

import numpy as np

MASK = bytes([0x5A, 0x17, 0xC3, 0x8E])
OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x2, 0x8, 0x9, 0xA
HANDSHAKE_KEY = base64.b64encode(b"harness-load-ws!").decode()


def upgrade_request(path: str, host: str, port: int | str) -> bytes:
    """The HTTP upgrade request for ``path`` (with its query) on ``host:port``."""
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {HANDSHAKE_KEY}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame (FIN set, masked with :data:`MASK`)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    if n == 0:
        return head + MASK
    body = np.frombuffer(payload, np.uint8) ^ np.resize(np.frombuffer(MASK, np.uint8), n)
    return head + MASK + body.tobytes()


def pop_frame(buf: bytearray) -> tuple[int, bytes] | None:
    """Remove the first complete (unmasked, server) frame from ``buf``: (opcode, payload)."""
    if len(buf) < 2:
        return None
    n, pos = buf[1] & 0x7F, 2
    if n == 126:
        if len(buf) < 4:
            return None
        n, pos = struct.unpack_from("!H", buf, 2)[0], 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n, pos = struct.unpack_from("!Q", buf, 2)[0], 10
    if len(buf) < pos + n:
        return None
    opcode = buf[0] & 0x0F
    payload = bytes(buf[pos : pos + n])
    del buf[: pos + n]
    return opcode, payload


def close_code(payload: bytes) -> int:
    """The code of a close frame's payload (1005 when it carries none)."""
    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005


def handle_frames(
    buf: bytearray,
    on_text: Callable[[str], object],
    on_close: Callable[[int], object],
    send: Callable[[bytes], object],
) -> bool:
    """Take every complete server frame out of ``buf``: a text frame goes to ``on_text``, a
    ping is answered with a pong; a close frame's code goes to ``on_close``, the close is
    echoed and True returned (what follows it is left in ``buf``). False: still open."""
    while (frame := pop_frame(buf)) is not None:
        op, payload = frame
        if op == OP_TEXT:
            on_text(payload.decode("utf-8", "replace"))
        elif op == OP_CLOSE:
            on_close(close_code(payload))
            send(masked_frame(OP_CLOSE, payload[:2]))
            return True
        elif op == OP_PING:
            send(masked_frame(OP_PONG, payload))
    return False
