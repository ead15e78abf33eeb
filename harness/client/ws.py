"""A recording WebSocket client (``websockets`` sync API) for streaming cases.

A session records, in order, what was sent and received and how the connection
ended: a close code and reason, who closed, whether an ``error`` message came
right before a non-1000 close, or the HTTP status if the handshake was refused.
Data and closing are judged separately by the suites (Autobahn's two verdicts).
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from .evidence import Recorder, SentFrame, WsExchange

TEXT_LIMIT = 500
QUIET_S = 0.05  # receive(until_close=False): a gap this long means "quiet"


@dataclass
class WsResult:
    """Everything observable about one session."""

    url: str
    handshake_status: int | None = None  # HTTP status when the upgrade was refused
    handshake_body: bytes = b""  # the body of that refusal (empty when accepted)
    messages: list[dict[str, Any]] = field(default_factory=list)  # parsed JSON text frames
    raw_text: list[str] = field(default_factory=list)  # text frames that were not JSON
    binary: list[bytes] = field(default_factory=list)
    order: list[str] = field(default_factory=list)  # "json:<type>" / "text" / "binary"
    close_code: int | None = None
    close_reason: str = ""
    closed_by: str | None = None  # "server" | "client" | None (still open / timed out)
    timed_out: bool = False
    exchange: int | None = None  # the recorder index of this session (see evidence.exchange_of)

    @property
    def handshake_json(self) -> Any:
        """The refused upgrade's body parsed as JSON (None: accepted, empty or not JSON)."""
        try:
            return json.loads(self.handshake_body) if self.handshake_body else None
        except ValueError:
            return None

    @property
    def types(self) -> list[str]:
        return [str(m.get("type")) for m in self.messages]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]

    @property
    def error_before_close(self) -> bool:
        """True when the last frame received before the close was an ``error`` message."""
        return bool(self.order) and self.order[-1] == "json:error"

    @property
    def last_error(self) -> dict[str, Any] | None:
        errors = self.of_type("error")
        return errors[-1] if errors else None

    def describe(self) -> str:
        if self.handshake_status is not None:
            return f"handshake refused with HTTP {self.handshake_status}"
        msgs = ", ".join(self.order[-6:]) or "nothing"
        close = f"close {self.close_code}" if self.close_code is not None else "no close"
        if self.timed_out:
            close += " (timed out waiting)"
        err = self.last_error
        detail = f", error={err.get('error')!r}" if err else ""
        return f"received [{msgs}] then {close}{detail}"


class EndWatch(Protocol):
    """Told about the wait for a stream's end after the client sent end-of-stream.

    :meth:`before` may raise (e.g. to skip a case instead of waiting); :meth:`after` sees
    how the wait ended (closed, or ``timed_out``), once per session.
    """

    def before(self) -> None: ...

    def after(self, result: WsResult) -> None: ...


class WsSession:
    """One connection; use :func:`open_session`.

    ``headers`` go on the upgrade request; ``service`` names the profile section the
    URL comes from (velma or kugel), for reproducers. A refused upgrade leaves its
    status and body in :attr:`result` (``handshake_status``, ``handshake_body``).
    Every wait has a deadline (the session's ``timeout_s`` unless a call gives its own);
    ``watch`` is told about the wait for the end after :meth:`end_of_stream`.
    """

    def __init__(
        self,
        url: str,
        recorder: Recorder,
        timeout_s: float,
        *,
        headers: Mapping[str, str] | None = None,
        service: str = "velma",
        watch: EndWatch | None = None,
    ) -> None:
        self.result = WsResult(url=url)
        self._watch = watch
        self._ended = False  # the client sent end-of-stream; the next full wait is watched
        self._recorder = recorder
        self._timeout = timeout_s
        self._sent: list[str] = []
        self._conn: ClientConnection | None = None
        self._exact = WsExchange(
            service=service, url=url, headers=list((headers or {}).items()), wait_s=timeout_s
        )
        self._index = recorder.reserve({"kind": "websocket", "url": url, "open": True})
        self.result.exchange = self._index
        self._t0 = time.monotonic()
        try:
            conn = connect(
                url,
                open_timeout=timeout_s,
                close_timeout=min(timeout_s, 5.0),
                max_size=None,
                proxy=None,
                compression=None,  # no permessage-deflate: the contract does not ask for it
                # and compressing every frame costs both ends CPU for nothing
                additional_headers=dict(headers or {}),
            )
            self._conn = conn.__enter__()  # we close it ourselves in close()
        except InvalidStatus as exc:
            self.result.handshake_status = exc.response.status_code
            self.result.handshake_body = exc.response.body or b""
        except InvalidHandshake as exc:  # not a WebSocket server at all
            self._record()
            raise ConnectionError(f"WebSocket handshake failed: {exc}") from exc
        except BaseException:
            self._record()
            raise
        self._t0 = time.monotonic()

    @property
    def open(self) -> bool:
        return self._conn is not None and self.result.close_code is None

    @property
    def timeout_s(self) -> float:
        """How long a read waits by default (the session's timeout)."""
        return self._timeout

    def drop(self) -> None:
        """End the TCP connection without a WebSocket close frame (an unclean disconnect)."""
        if self._conn is None:
            raise ConnectionError("no connection to drop (the upgrade was refused or closed)")
        sock = self._conn.socket
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.close()

    def send_bytes(self, data: bytes) -> bool:
        """Send one binary frame; False if the server had already closed."""
        return self._send(data, f"binary {len(data)} B")

    def send_text(self, text: str) -> bool:
        return self._send(text, f"text {text[:TEXT_LIMIT]!r}")

    def send_json(self, value: Any) -> bool:
        return self.send_text(json.dumps(value))

    def end_of_stream(self) -> bool:
        """The documented end-of-stream signal: one empty text frame."""
        sent = self.send_text("")
        self._ended = self._ended or sent
        return sent

    def _send(self, data: bytes | str, note: str) -> bool:
        if not self.open:
            return False
        assert self._conn is not None
        at = time.monotonic() - self._t0
        try:
            self._conn.send(data)
        except ConnectionClosed:
            self.receive(
                until_close=True, timeout_s=min(self._timeout, 2.0)
            )  # keep what was queued
            return False
        self._exact.frames.append(SentFrame(round(at, 4), data))
        if (
            not self._sent
            or not self._sent[-1].startswith("binary")
            or not note.startswith("binary")
        ):
            self._sent.append(note)
        else:  # fold runs of audio frames into one evidence line
            self._sent[-1] = _fold(self._sent[-1], note)
        return True

    def stream(self, chunks: Iterable[bytes], *, pace_s: float = 0.0, drain: bool = True) -> bool:
        """Send every chunk (optionally paced); collect whatever arrives meanwhile."""
        for chunk in chunks:
            if not self.send_bytes(chunk):
                return False
            if drain:
                self.receive(until_close=False, timeout_s=0.0)
            if pace_s:
                time.sleep(pace_s)
        return True

    def receive(self, *, until_close: bool = True, timeout_s: float | None = None) -> WsResult:
        """Read frames until the server closes (or, with ``until_close=False``, until quiet)."""
        watch = self._watch if until_close and self._ended else None
        if watch is not None:
            self._watch = None  # one report per session
        if self._conn is None or self.result.close_code is not None:
            if watch is not None:
                watch.after(self.result)  # it had ended already
            return self.result
        if watch is not None:
            watch.before()
        deadline = time.monotonic() + (self._timeout if timeout_s is None else timeout_s)
        first = True
        got_one = False
        while True:
            remaining = deadline - time.monotonic()
            if remaining < 0 and not first:  # always look at least once (timeout 0 = poll)
                if until_close:
                    self.result.timed_out = True
                break
            first = False
            wait = max(remaining, 0.0)
            if not until_close and got_one:  # "until quiet": stop once frames stop coming
                wait = min(wait, QUIET_S)
            try:
                frame = self._conn.recv(timeout=wait)
            except TimeoutError:
                if until_close:
                    self.result.timed_out = True
                break
            except ConnectionClosed as exc:
                self._closed(exc)
                break
            self._take(frame)
            got_one = True
        if watch is not None:
            watch.after(self.result)
        return self.result

    def until_close(self, timeout_s: float | None = None) -> WsResult:
        return self.receive(until_close=True, timeout_s=timeout_s)

    def close(self) -> None:
        if self._conn is not None:
            if self.result.close_code is None:
                self._exact.client_closed_at_s = round(time.monotonic() - self._t0, 4)
                with contextlib.suppress(Exception):  # closing a broken socket
                    self._conn.close()
                if self._conn.close_code is not None and self.result.close_code is None:
                    self.result.close_code = self._conn.close_code
                    self.result.close_reason = self._conn.close_reason or ""
                    self.result.closed_by = "client"
            self._conn = None
        if self._index is not None:
            self._record()

    def _take(self, frame: str | bytes) -> None:
        if isinstance(frame, bytes):
            self.result.binary.append(frame)
            self.result.order.append("binary")
            return
        try:
            value = json.loads(frame)
        except ValueError:
            self.result.raw_text.append(frame)
            self.result.order.append("text")
            return
        if isinstance(value, dict):
            self.result.messages.append(value)
            self.result.order.append(f"json:{value.get('type')}")
        else:
            self.result.raw_text.append(frame)
            self.result.order.append("text")

    def _closed(self, exc: ConnectionClosed) -> None:
        rcvd = exc.rcvd
        if rcvd is not None:
            self.result.close_code = rcvd.code
            self.result.close_reason = rcvd.reason
            self.result.closed_by = "server" if exc.rcvd_then_sent is not False else "client"
        else:
            self.result.close_code = 1006  # closed without a close frame
            self.result.closed_by = "server"

    def _record(self) -> None:
        """Write this session's evidence and exact frames into its reserved place (once)."""
        if self._index is None:
            return
        r = self.result
        messages = [json.dumps(m)[:TEXT_LIMIT] for m in r.messages[:50]]
        exact = self._exact
        exact.handshake_status = r.handshake_status
        exact.close_code = r.close_code
        exact.closed_by = r.closed_by
        self._recorder.fill(
            self._index,
            {
                "kind": "websocket",
                "url": r.url,
                "handshake_status": r.handshake_status,
                "sent": self._sent[:100],
                "received": list(r.order[:200]),
                "messages": messages,
                "binary_frames": len(r.binary),
                "close": {"code": r.close_code, "reason": r.close_reason, "by": r.closed_by},
                "timed_out": r.timed_out,
            },
            exact,
        )
        self._index = None

    def __enter__(self) -> WsSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fold(previous: str, note: str) -> str:
    # "binary N B" or "binary x K, T B total"
    def parse(s: str) -> tuple[int, int]:
        if " x " in s:
            count = int(s.split(" x ")[1].split(",")[0])
            total = int(s.split(", ")[1].split(" ")[0])
            return count, total
        return 1, int(s.split(" ")[1])

    c1, t1 = parse(previous)
    c2, t2 = parse(note)
    return f"binary x {c1 + c2}, {t1 + t2} B total"


def ws_url(base: str, path: str, query: Mapping[str, Any]) -> str:
    q = {
        k: (str(v).lower() if isinstance(v, bool) else v) for k, v in query.items() if v is not None
    }
    return f"{base.rstrip('/')}{path}" + (f"?{urlencode(q)}" if q else "")


def open_session(
    base: str,
    path: str,
    query: Mapping[str, Any],
    recorder: Recorder,
    timeout_s: float,
    *,
    headers: Mapping[str, str] | None = None,
    service: str = "velma",
    watch: EndWatch | None = None,
) -> WsSession:
    return WsSession(
        ws_url(base, path, query),
        recorder,
        timeout_s,
        headers=headers,
        service=service,
        watch=watch,
    )
