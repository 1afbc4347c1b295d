"""The client is bounded whatever the server does (issue 24's measurements, each against a small
hostile server of our own, on a socket): a trickled response head ends by the deadline, a gzip bomb or
a huge body stops at `max_response_bytes` with memory kept low, and no secret leaks through logs,
reprs, exceptions or a server's message."""

from __future__ import annotations

import gzip
import json
import logging
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator

import pytest
from tavus_client import (
    APIResponseTooLargeError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncTavus,
    InternalServerError,
    Tavus,
)

KEY = "hostile-test-key-0123456789"
Handler = Callable[[socket.socket], None]


class Hostile:
    """A TCP server that answers every connection with `handler` (after reading the request)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                self.handler(conn)
            except OSError:
                return

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def hostile() -> Iterator[Callable[[Handler], Hostile]]:
    servers: list[Hostile] = []

    def start(handler: Handler) -> Hostile:
        servers.append(Hostile(handler))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def trickle_head(stop: threading.Event) -> Handler:
    """About 90 bytes of response head, one every 0.2 s (18 s in all): each read is quick."""

    def handler(conn: socket.socket) -> None:
        head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-slow: " + b"a" * 40 + b"\r\n\r\n"
        for byte in head:
            if stop.is_set():
                return
            conn.sendall(bytes([byte]))
            time.sleep(0.2)

    return handler


def test_a_trickled_head_ends_at_the_deadline(hostile: Callable[[Handler], Hostile]) -> None:
    stop = threading.Event()
    server = hostile(trickle_head(stop))
    with Tavus(api_key=KEY, base_url=server.url, timeout=5.0, max_retries=0) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="deadline"):
            client.personas.get("p1", deadline=2)
        elapsed = time.monotonic() - started
    stop.set()
    assert elapsed < 3.0, elapsed


def test_a_trickled_head_ends_at_the_deadline_async(hostile: Callable[[Handler], Hostile]) -> None:
    import asyncio

    stop = threading.Event()
    server = hostile(trickle_head(stop))

    async def call() -> float:
        async with AsyncTavus(api_key=KEY, base_url=server.url, timeout=5.0, max_retries=0) as client:
            started = time.monotonic()
            with pytest.raises(APITimeoutError):
                await client.personas.get("p1", deadline=2)
            return time.monotonic() - started

    elapsed = asyncio.run(call())
    stop.set()
    assert elapsed < 3.0, elapsed


def _gzip_bomb(megabytes: int) -> bytes:
    """`megabytes` MB of zeros inside a JSON string, gzip-compressed (about 1,000:1)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
    parts = [packer.compress(b'{"persona_id": "p1", "persona_name": "')]
    zeros = b"0" * (1024 * 1024)
    parts += [packer.compress(zeros) for _ in range(megabytes)]
    parts += [packer.compress(b'"}'), packer.flush()]
    return b"".join(parts)


def answer(body: bytes, *, encoding: str | None = None, status: str = "200 OK") -> Handler:
    head = f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
    if encoding:
        head += f"content-encoding: {encoding}\r\n"

    def handler(conn: socket.socket) -> None:
        conn.sendall(head.encode() + b"\r\n" + body)

    return handler


# The child's peak resident memory: VmHWM of its own address space (ru_maxrss would carry the test
# process's peak over from before the exec).
CHILD = """
import sys
from tavus_client import Tavus, APIResponseTooLargeError
with Tavus(api_key="k", base_url=sys.argv[1], max_retries=0) as client:
    try:
        client.personas.get("p1")
        outcome = "parsed"
    except APIResponseTooLargeError as exc:
        outcome = "too large: " + str(exc)
print(outcome)
status = open("/proc/self/status").read()
print(int(status.split("VmHWM:")[1].split()[0]) // 1024)
"""


def _peak(url: str) -> tuple[str, int]:
    """(outcome, peak MB) of a fresh process that reads one answer from `url` with the defaults."""
    done = subprocess.run([sys.executable, "-c", CHILD, url], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    outcome, peak = done.stdout.strip().splitlines()[-2:]
    return outcome, int(peak)


def test_a_gzip_bomb_stops_at_the_cap_with_memory_kept_low(hostile: Callable[[Handler], Hostile]) -> None:
    bomb = _gzip_bomb(300)
    assert len(bomb) < 400_000
    outcome, peak_mb = _peak(hostile(answer(bomb, encoding="gzip")).url)
    assert outcome.startswith("too large") and "max_response_bytes" in outcome, outcome
    assert peak_mb < 200, peak_mb


def test_a_huge_plain_body_stops_at_the_cap(hostile: Callable[[Handler], Hostile]) -> None:
    body = b'{"persona_id": "p1", "persona_name": "' + b"x" * (100 * 1024 * 1024) + b'"}'
    outcome, peak_mb = _peak(hostile(answer(body)).url)
    assert outcome.startswith("too large"), outcome
    assert peak_mb < 200, peak_mb


def test_the_cap_is_a_setting_and_an_answer_under_it_is_read(hostile: Callable[[Handler], Hostile]) -> None:
    body = gzip.compress(json.dumps({"persona_id": "p1", "persona_name": "x" * 5000}).encode())
    server = hostile(answer(body, encoding="gzip"))
    with Tavus(api_key=KEY, base_url=server.url, max_retries=0) as client:
        assert client.personas.get("p1").persona_name == "x" * 5000
        with pytest.raises(APIResponseTooLargeError) as caught:
            client.with_options(max_response_bytes=1000).personas.get("p1")
    assert caught.value.limit == 1000
    with pytest.raises(ValueError, match="max_response_bytes"):
        Tavus(api_key=KEY, max_response_bytes=0)


# -- secrets ------------------------------------------------------------------------------------------
def test_an_api_key_auth_value_is_never_logged_nor_shown(
    hostile: Callable[[Handler], Hostile], caplog: pytest.LogCaptureFixture
) -> None:
    from tavus_client.models import ToolAuth

    secret = "sk-live-VALUE-4242"
    tool = {
        "tool_id": "t1",
        "name": "hook",
        "description": "d",
        "delivery": {
            "api": {"url": "https://x.example", "auth": {"type": "api_key", "name": "X-Key", "value": secret}}
        },
    }
    server = hostile(answer(json.dumps(tool).encode()))
    caplog.set_level(logging.DEBUG, logger="tavus_client")
    with Tavus(api_key=KEY, base_url=server.url, max_retries=0) as client:
        client.tools.create(
            name="hook",
            description="d",
            delivery={
                "api": {"url": "https://x.example", "auth": {"type": "api_key", "name": "X-Key", "value": secret}}
            },
        )
    assert secret not in caplog.text and KEY not in caplog.text
    auth = ToolAuth.from_dict({"type": "api_key", "name": "X-Key", "value": secret})
    assert secret not in repr(auth) and "X-Key" in repr(auth)


def test_a_validation_error_exposes_no_key(hostile: Callable[[Handler], Hostile]) -> None:
    server = hostile(answer(b"<html>not json</html>"))
    with (
        Tavus(api_key=KEY, base_url=server.url, max_retries=0) as client,
        pytest.raises(APIResponseValidationError) as caught,
    ):
        client.personas.get("p1")
    err = caught.value
    assert err.response.request.headers["x-api-key"] != KEY
    assert err.request.headers["x-api-key"] != KEY
    assert KEY not in repr(err.response.request.headers) + str(err)


def test_credentials_a_server_quotes_in_its_message_stay_out_of_the_error(
    hostile: Callable[[Handler], Hostile],
) -> None:
    body = json.dumps({"error": "cannot reach http://admin:Sup3rPassw0rd@db.internal:5432/tavus"}).encode()
    server = hostile(answer(body, status="500 Internal Server Error"))
    with Tavus(api_key=KEY, base_url=server.url, max_retries=0) as client, pytest.raises(InternalServerError) as caught:
        client.personas.get("p1")
    assert "Sup3rPassw0rd" not in str(caught.value) and "db.internal" in str(caught.value)
    assert caught.value.response.request.headers["x-api-key"] != KEY
