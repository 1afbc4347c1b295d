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

from typing import Any

import orjson
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEADER_BYTES = 64 * 1024  # [OURS, protective] request line plus headers; Tavus clients send about 1 KB


class HeaderLimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering 431 once a request head passes MAX_HEADER_BYTES.

    It counts the bytes fed to the parser while a head is still incomplete, one check per chunk
    read from the socket (not per header: that cost 15% of GET throughput), so memory stays within
    MAX_HEADER_BYTES plus one read.
    """

    _in_head = True
    _head_bytes = 0

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
