"""Request-header limits, and JSON refusals, on every HTTP implementation tavus-mock can run on.

uvicorn's h11 protocol bounds a request head (`h11_max_incomplete_event_size`), but its httptools
protocol, the faster one the CLI uses, reads request lines and headers of any size: a 30 MB header
was accepted. `HeaderLimitedHttpToolsProtocol` counts the bytes of the request line and headers as
they arrive and answers 431 once they pass MAX_HEADER_BYTES, closing the connection.
A request the HTTP parser refuses (a control character in a header value, a broken request line)
never reaches the app: uvicorn answered it 400 in text/plain, which no client of a JSON API expects
and which tavus-contract flagged as an undocumented content type. Both protocols here answer those,
and the 431, as JSON `{"error": ...}` like every other refusal.
It relies on uvicorn's protocols (`data_received`, `on_message_begin`, `on_headers_complete`,
`send_400_response`, `transport`); uvicorn is pinned, and tests/mock/test_hostile_input.py fails if the
seam moves.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import orjson
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEADER_BYTES = 64 * 1024  # [OURS, protective] request line plus headers; Tavus clients send about 1 KB


class HeaderLimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering 431 once a request head passes MAX_HEADER_BYTES.

    It counts the bytes fed to the parser while a head is still incomplete, one check per chunk
    read from the socket (not per header: that cost 15% of GET throughput), so memory stays within
    MAX_HEADER_BYTES plus one read.

    Keep-alive: uvicorn cancels a timer when a request arrives and schedules a new one when its answer
    is sent, two event-loop timer operations per request (about 7% of a small request's time on this
    stack, measured in-process). Here the connection notes when it became idle, and one timer per
    connection checks that when it fires: a connection idle for `timeout_keep_alive` seconds is closed
    at the same moment as before, and a busy one costs one timer per timeout period, not per request.
    """

    _in_head = True
    _head_bytes = 0
    _idle_deadline: float | None = None  # when an idle connection is closed; None while a request is under way

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._coalescing = _CoalescingTransport(transport, self)
        super().connection_made(cast(asyncio.Transport, self._coalescing))

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._idle_deadline = None
        if self.timeout_keep_alive_task is not None:
            self.timeout_keep_alive_task.cancel()
            self.timeout_keep_alive_task = None

    def _unset_keepalive_if_required(self) -> None:
        # uvicorn calls this when bytes arrive: the connection is busy; the armed timer, if any, stays.
        self._idle_deadline = None

    def on_response_complete(self) -> None:
        # uvicorn's steps, with the idle deadline in place of a fresh timer.
        self._coalescing.flush()
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:  # a pipelined request was waiting for this answer
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            return
        self._idle_deadline = self.loop.time() + self.timeout_keep_alive
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self._check_idle)

    def _check_idle(self) -> None:
        self.timeout_keep_alive_task = None
        deadline = self._idle_deadline
        if deadline is None:
            return  # a request is under way: its answer arms the timer again
        left = deadline - self.loop.time()
        if left > 0:
            self.timeout_keep_alive_task = self.loop.call_later(left, self._check_idle)
        else:
            self.timeout_keep_alive_handler()

    def on_message_begin(self) -> None:
        self._in_head = True
        self._head_bytes = 0
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEADER_BYTES:
                self._refuse()

    def _refuse(self) -> None:
        message = f"Request line and headers are larger than {MAX_HEADER_BYTES} bytes"
        self.transport.write(_closing_answer(b"431 Request Header Fields Too Large", message))
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        self.transport.write(_closing_answer(b"400 Bad Request", msg))
        self.transport.close()


class _CoalescingTransport:
    """The connection's transport, holding a response's head until its body is written.

    uvicorn writes the status line and headers, then the body, as two writes: two send() calls and,
    with TCP_NODELAY, two packets per answer. Held here while a response is under way, they leave in
    one write when the response completes (`on_response_complete`), when the connection closes, or
    once HOLD_BYTES are held (a streamed body is not held back). Any write outside a response (the
    `100 Continue`, a refusal) first sends what is held, so the order on the wire never changes.
    Everything else is the real transport's.
    """

    __slots__ = ("_held", "_held_bytes", "_protocol", "_transport", "is_closing")
    HOLD_BYTES = 64 * 1024

    def __init__(self, transport: asyncio.Transport, protocol: HttpToolsProtocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self._held: list[bytes] = []
        self._held_bytes = 0
        self.is_closing = transport.is_closing  # asked on every request: not through __getattr__

    def write(self, data: bytes) -> None:
        cycle = self._protocol.cycle
        if cycle is not None and cycle.response_started and not cycle.response_complete:
            self._held.append(data)
            self._held_bytes += len(data)
            if self._held_bytes > self.HOLD_BYTES:
                self.flush()
            return
        if self._held:
            self.flush()
        self._transport.write(data)

    def flush(self) -> None:
        if self._held:
            data = self._held[0] if len(self._held) == 1 else b"".join(self._held)
            self._held = []
            self._held_bytes = 0
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = []
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class JsonRefusalH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering the requests its parser refuses in JSON."""

    def send_400_response(self, msg: str) -> None:
        self.transport.write(_closing_answer(b"400 Bad Request", msg))
        self.transport.close()


def _closing_answer(status: bytes, message: str) -> bytes:
    """A whole HTTP/1.1 answer with a JSON error body that closes the connection."""
    body = orjson.dumps({"error": f"Invalid HTTP request: {message}"[:300]})
    head = b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\n"
    head += b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n"
    return head + body


def uvicorn_http_settings(http: str) -> dict[str, Any]:
    """uvicorn.Config keywords that apply the header limit to the chosen implementation."""
    if http == "h11":
        return {"http": JsonRefusalH11Protocol, "h11_max_incomplete_event_size": MAX_HEADER_BYTES}
    return {"http": HeaderLimitedHttpToolsProtocol}
