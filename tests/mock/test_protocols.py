"""The httptools protocol of the CLI server sends each answer in one write, in order, and loses nothing.

The unit tests drive `HeaderLimitedHttpToolsProtocol` with a transport that records its writes (the
only way to see write boundaries: TCP may merge or split them on the wire); the socket test runs the
same protocol behind uvicorn and talks to it over keep-alive connections.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from tavus_mock import MockServer, Spec
from tavus_mock.protocols import HeaderLimitedHttpToolsProtocol
from tests.conftest import TEST_KEY
from tests.mock.conftest import make_app


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 1), "peername": ("127.0.0.1", 2)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _drive(spec: Spec, chunks: list[bytes], *, settle: int = 50) -> RecordingTransport:
    """Feed `chunks` to a fresh connection, one at a time, letting the app run between them."""

    async def run() -> RecordingTransport:
        config = Config(make_app(spec, access_log=False), http="httptools", log_level="warning", proxy_headers=False)
        config.load()
        protocol = HeaderLimitedHttpToolsProtocol(config=config, server_state=ServerState(), app_state={})
        transport = RecordingTransport()
        protocol.connection_made(transport)
        for chunk in chunks:
            protocol.data_received(chunk)
            for _ in range(settle):
                await asyncio.sleep(0)
        seen = RecordingTransport()  # what had been written by now (a task still waiting is cancelled later)
        seen.writes, seen.closed = list(transport.writes), transport.closed
        return seen

    return asyncio.run(run())


def _request(method: str, path: str, body: bytes = b"", *extra: bytes) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nhost: x\r\nx-api-key: {TEST_KEY}\r\n".encode()
    if body:
        head += b"content-type: application/json\r\ncontent-length: " + str(len(body)).encode() + b"\r\n"
    return head + b"".join(extra) + b"\r\n" + body


def test_an_answer_is_one_write_with_head_and_body(spec: Spec) -> None:
    transport = _drive(spec, [_request("GET", "/v2/personas/pdced222244b")])
    assert len(transport.writes) == 1
    head, _, body = transport.writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert json.loads(body)["persona_id"] == "pdced222244b"


def test_answers_without_a_body_and_refusals_are_written_too(spec: Spec) -> None:
    created = _drive(spec, [_request("POST", "/v2/personas", b'{"persona_name": "x", "system_prompt": "y"}')])
    pid = json.loads(created.writes[0].partition(b"\r\n\r\n")[2])["persona_id"]
    # a 404 answer, then a 204 (no body at all) on one connection: two writes, in order
    transport = _drive(spec, [_request("GET", "/v2/nothing-here"), _request("DELETE", f"/v2/personas/{pid}")])
    assert [w.split(b" ", 2)[1] for w in transport.writes] == [b"404", b"404"]  # another app: pid unknown there
    transport = _drive(spec, [_request("DELETE", "/v2/personas/pdced222244b")])
    assert len(transport.writes) == 1 and transport.writes[0].split(b" ", 2)[1] == b"404"


def test_connection_close_sends_the_answer_before_closing(spec: Spec) -> None:
    transport = _drive(spec, [_request("GET", "/v2/personas/pdced222244b", b"", b"connection: close\r\n")])
    assert transport.closed
    assert len(transport.writes) == 1 and transport.writes[0].startswith(b"HTTP/1.1 200 OK")


def test_100_continue_goes_out_at_once_and_before_the_answer(spec: Spec) -> None:
    body = b'{"persona_name": "x", "system_prompt": "y"}'
    head = _request("POST", "/v2/personas", body, b"expect: 100-continue\r\n")[: -len(body)]
    transport = _drive(spec, [head])
    # the app is waiting for the body: only the 100 Continue has left, nothing is held back
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    transport = _drive(spec, [head, body])
    assert transport.writes[0] == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert len(transport.writes) == 2 and transport.writes[1].startswith(b"HTTP/1.1 200 OK")


def test_pipelined_requests_are_answered_in_order(spec: Spec) -> None:
    requests = b"".join(_request("GET", f"/v2/personas/{pid}") for pid in ("pdced222244b", "pnope", "pdced222244b"))
    transport = _drive(spec, [requests])
    statuses = [part.split(b" ", 1)[0] for part in b"".join(transport.writes).split(b"HTTP/1.1 ")[1:]]
    assert statuses == [b"200", b"404", b"200"]


@pytest.mark.parametrize("http", ["httptools", "h11"])
def test_keep_alive_connections_over_a_socket(spec: Spec, http: str) -> None:
    """A mix of answers (200, 201-style creates, 204, 404, 405) on one keep-alive connection all parse."""
    with (
        MockServer(make_app(spec, access_log=False), http=http) as server,
        httpx.Client(base_url=server.url, headers={"x-api-key": TEST_KEY}) as api,
    ):
        for i in range(30):
            made = api.post("/v2/personas", json={"persona_name": f"p{i}", "system_prompt": "y"})
            assert made.status_code == 200, made.text
            pid = made.json()["persona_id"]
            assert api.get(f"/v2/personas/{pid}").json()["persona_name"] == f"p{i}"
            assert api.put(f"/v2/personas/{pid}").status_code == 405
            assert api.delete(f"/v2/personas/{pid}").status_code == 204
            assert api.get(f"/v2/personas/{pid}").status_code == 404


def test_timestamps_match_datetime_to_the_microsecond() -> None:
    """`iso_at` (a cached second plus the microseconds) writes what datetime's isoformat writes."""
    import random
    from datetime import UTC, datetime

    from tavus_mock.store import iso_at

    draw = random.Random(7)
    samples = [draw.uniform(1.6e9, 1.9e9) for _ in range(3000)]
    samples += [float(int(s)) + 0.9999996 for s in samples[:500]]  # rounds up into the next second
    samples += [round(s, 6) for s in samples[:500]] + [1.7e9, 1.7e9 + 0.5e-6]
    for seconds in samples:
        expected = datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
        assert iso_at(seconds) == expected, seconds


def test_now_is_the_integer_clock_truncated_to_the_microsecond(monkeypatch: pytest.MonkeyPatch) -> None:
    """`iso_now` reads the nanosecond clock and shares `iso_at`'s cached second without mixing them up."""
    import random
    from datetime import datetime, timedelta

    from tavus_mock import store

    draw = random.Random(8)
    samples = [draw.randrange(1_600_000_000 * 10**9, 1_900_000_000 * 10**9) for _ in range(2000)]
    samples += [1_700_000_000_999_999_999, 1_700_000_001_000_000_000, 1_700_000_001_000_000_999]
    for ns in samples:
        monkeypatch.setattr(store.time, "time_ns", lambda ns=ns: ns)
        expected = datetime(1970, 1, 1) + timedelta(microseconds=ns // 1000)
        assert store.iso_now() == expected.isoformat(timespec="microseconds") + "Z", ns
        assert store.iso_at(ns // 1000 / 1e6).startswith(expected.isoformat(timespec="seconds"))


def test_the_server_process_keeps_the_collector_off_what_survives() -> None:
    """`tavus-mock` (not a host process) freezes what start-up made and whatever survives a collection."""
    import gc
    import subprocess
    import sys

    from tavus_mock import cli

    assert cli._freeze_survivors not in gc.callbacks  # importing the CLI changes nothing in this process
    code = (
        "import gc\n"
        "from tavus_mock.cli import tune_collector\n"
        "tune_collector()\n"
        "base = gc.get_freeze_count()\n"
        "kept = [[i] for i in range(30_000)]\n"  # 30,000 tracked lists that outlive a collection
        "gc.collect(0)\n"
        "assert gc.get_freeze_count() >= base + 30_000, (base, gc.get_freeze_count())\n"
        "print('frozen', gc.get_freeze_count() - base)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("frozen ")


def test_keep_alive_arms_one_timer_per_connection_not_one_per_request(spec: Spec) -> None:
    """Fifty answers on one connection schedule one idle timer (uvicorn schedules one per answer)."""

    async def run() -> tuple[int, int, bool]:
        loop = asyncio.get_running_loop()
        scheduled = 0
        call_later = loop.call_later

        def counting(delay: float, callback: Any, *args: Any) -> asyncio.TimerHandle:
            nonlocal scheduled
            scheduled += 1
            return call_later(delay, callback, *args)

        loop.call_later = counting  # type: ignore[method-assign]
        config = Config(make_app(spec, access_log=False), http="httptools", log_level="warning", proxy_headers=False)
        config.load()
        protocol = HeaderLimitedHttpToolsProtocol(config=config, server_state=ServerState(), app_state={})
        transport = RecordingTransport()
        protocol.connection_made(transport)
        for _ in range(50):
            protocol.data_received(_request("GET", "/v2/personas/pdced222244b"))
            for _ in range(20):
                await asyncio.sleep(0)
        answered = len(transport.writes)
        protocol.connection_lost(None)  # the pending timer is cancelled with the connection
        return scheduled, answered, protocol.timeout_keep_alive_task is None

    scheduled, answered, released = asyncio.run(run())
    assert answered == 50
    assert scheduled == 1 and released


def _answer(sock: Any) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"}"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_an_idle_connection_is_closed_after_the_keep_alive_timeout_and_a_busy_one_is_not(spec: Spec) -> None:
    import socket
    import time

    server = MockServer(make_app(spec, access_log=False), http="httptools")
    server._server.config.timeout_keep_alive = 0.3  # type: ignore[assignment]
    request = _request("GET", "/v2/personas/pdced222244b")
    with server, socket.create_connection((server.host, server.port), timeout=5) as sock:
        # Busy for 1.2 s (four timeouts), a request every 0.1 s: every one is answered on the same connection.
        for i in range(12):
            if i:
                time.sleep(0.1)
            sock.sendall(request)
            assert _answer(sock).startswith(b"HTTP/1.1 200 OK")
        # Then idle: closed once 0.3 s have passed since the last answer, not before, not much later.
        idle_from = time.monotonic()
        assert sock.recv(1) == b""
        idle = time.monotonic() - idle_from
        assert 0.25 <= idle < 1.5, idle
