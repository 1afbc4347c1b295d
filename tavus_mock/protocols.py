"""Request-header limits on every HTTP implementation tavus-mock can run on.

uvicorn's h11 protocol bounds a request head (`h11_max_incomplete_event_size`), but its httptools
protocol, the faster one the CLI uses, reads request lines and headers of any size: a 30 MB header
was accepted. `HeaderLimitedHttpToolsProtocol` counts the bytes of the request line and headers as
httptools hands them over and answers 431 once they pass MAX_HEADER_BYTES, closing the connection.
It relies on uvicorn's HttpToolsProtocol callbacks (`on_message_begin`, `on_url`, `on_header`,
`send_400_response`); uvicorn is pinned, and tests/mock/test_hostile_input.py fails if the seam moves.
"""

from __future__ import annotations

from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEADER_BYTES = 64 * 1024  # [OURS, protective] request line plus headers; Tavus clients send about 1 KB


class HeaderTooLarge(httptools.HttpParserError):  # type: ignore[misc]
    """Raised inside a parser callback; httptools stops parsing and uvicorn answers through send_400_response."""


class HeaderLimitedHttpToolsProtocol(HttpToolsProtocol):
    _head_bytes = 0
    _too_large = False

    def on_message_begin(self) -> None:
        self._head_bytes = 0
        super().on_message_begin()

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEADER_BYTES:
            self._too_large = True
            raise HeaderTooLarge("request header fields too large")

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def send_400_response(self, msg: str) -> None:
        if not self._too_large:
            super().send_400_response(msg)
            return
        body = f"Request line and headers are larger than {MAX_HEADER_BYTES} bytes".encode()
        head = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
        head += b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n"
        self.transport.write(head + body)
        self.transport.close()


def uvicorn_http_settings(http: str) -> dict[str, Any]:
    """uvicorn.Config keywords that apply the header limit to the chosen implementation."""
    if http == "h11":
        return {"http": "h11", "h11_max_incomplete_event_size": MAX_HEADER_BYTES}
    return {"http": HeaderLimitedHttpToolsProtocol}
