"""A call ends by its deadline, whatever the server does: trickling bodies, long Retry-After waits."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from tavus_client import APITimeoutError, AsyncTavus, InternalServerError, Tavus

KEY = "deadline-test-key"


@pytest.fixture
def trickler() -> Iterator[str]:
    """A server that sends its headers, then one byte of body every 0.2 s (it would take 200 s)."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=trickle, args=(conn,), daemon=True).start()

    def trickle(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{")
                while not stop.is_set():
                    conn.sendall(b" ")
                    time.sleep(0.2)
            except OSError:
                return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    server.close()


def test_a_trickling_body_ends_at_the_deadline(trickler: str) -> None:
    with Tavus(api_key=KEY, base_url=trickler, timeout=1.0, max_retries=0) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="deadline"):
            client.personas.get("p1", deadline=1.5)
        assert time.monotonic() - started < 3.0


def test_async_a_trickling_body_ends_at_the_deadline(trickler: str) -> None:
    async def call() -> None:
        async with AsyncTavus(api_key=KEY, base_url=trickler, timeout=1.0, max_retries=0, deadline=1.5) as client:
            await client.personas.get("p1")

    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        asyncio.run(call())
    assert time.monotonic() - started < 3.0


def test_no_retry_waits_past_the_deadline() -> None:
    calls = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, headers={"retry-after": "5"}, json={"error": "busy"})

    http = httpx.Client(base_url="https://tavus.test", transport=httpx.MockTransport(answer))
    client = Tavus(api_key=KEY, base_url="https://tavus.test", http_client=http, max_retries=3, deadline=2.0)
    started = time.monotonic()
    with pytest.raises(InternalServerError):
        client.personas.get("p1")
    assert time.monotonic() - started < 1.0 and len(calls) == 1  # waiting 5 s would pass the deadline


def test_the_deadline_is_a_setting() -> None:
    client = Tavus(api_key=KEY, base_url="https://tavus.test")
    assert client.deadline == 180.0 and client.with_options(deadline=None).deadline is None
    with pytest.raises(ValueError, match="deadline"):
        Tavus(api_key=KEY, base_url="https://tavus.test", deadline=0)
