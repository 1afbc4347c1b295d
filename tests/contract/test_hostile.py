"""tavus-contract against servers that misbehave at the socket: it always ends, within its bounds,
with a verdict that never calls "passed" what was not tested."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.contract
BIN = Path(sys.executable).parent
KEY = "hostile-key"
SMOKE_ANSWER = b'{"data": [], "total_count": 0}'
BIG = 200 * 1024 * 1024


def _read_request(stream: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = stream.recv(65536)
        if not piece:
            return None
        data += piece
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0
    )
    while len(rest) < length:
        piece = stream.recv(65536)
        if not piece:
            return None
        rest += piece
    return head


def _answer(stream: socket.socket, body: bytes) -> None:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    stream.sendall(head.encode() + body)


@contextlib.contextmanager
def hostile(mode: str) -> Iterator[str]:
    """A server that answers the first request (the smoke check) properly, then: `silent` never answers
    again, `closing` closes every connection, `huge` answers 200 MB bodies (with no length, so they
    can only be read to their end)."""
    stop = threading.Event()
    answered = threading.Event()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            sock: socket.socket = self.request
            sock.settimeout(60)
            try:
                while not stop.is_set():
                    head = _read_request(sock)
                    if head is None:
                        return
                    if not answered.is_set():
                        answered.set()
                        _answer(sock, SMOKE_ANSWER)
                        continue
                    if mode == "silent":
                        stop.wait(120)
                        return
                    if mode == "closing":
                        return
                    # No length: the body can only be read to its end.
                    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
                    sock.sendall(b"[")
                    piece = b"0," * (512 * 1024)
                    for _ in range(BIG // len(piece)):
                        sock.sendall(piece)
                    return
            except OSError:
                return

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def contract(base_url: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    cmd = [str(BIN / "tavus-contract"), "--base-url", base_url, "--api-key", KEY, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def test_a_server_gone_silent_ends_the_run_within_max_time() -> None:
    with hostile("silent") as url:
        started = time.monotonic()
        done = contract(url, "--max-time", "20", "--request-timeout", "2", "--include-tag", "personas")
        took = time.monotonic() - started
    assert took < 20 + 15, took  # --max-time, then at most the grace for schemathesis to stop
    assert done.returncode in (1, 2), done.stdout[-2000:]
    assert "stopped after --max-time 20 s" in done.stdout
    assert not any(line.startswith("  passed") for line in done.stdout.splitlines()), done.stdout


def test_a_server_closing_every_connection_is_broken_and_nothing_passes() -> None:
    with hostile("closing") as url:
        done = contract(url, "--include-tag", "personas", "--phases", "examples,coverage", "--max-examples", "2")
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-1000:]
    verdict = done.stdout.strip().splitlines()[-1]
    assert verdict.endswith("contract broken") and "passed" not in verdict, verdict
    assert not any(line.startswith("  passed") for line in done.stdout.splitlines()), done.stdout


def test_huge_answers_are_refused_without_reading_them_whole() -> None:
    """Against a server answering 200 MB bodies, the run stays under 300 MB and reports errors."""
    with hostile("huge") as url:
        probe = (
            "import resource, subprocess, sys;"
            "done = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode);"
            "print(done.stdout)"
        )
        cmd = [
            str(BIN / "tavus-contract"),
            "--base-url",
            url,
            "--api-key",
            KEY,
            "--include-operation-id",
            "listPersonas",
        ]
        cmd += ["--phases", "examples", "--max-examples", "1"]
        done = subprocess.run(
            [sys.executable, "-c", probe, *cmd], capture_output=True, text=True, timeout=180, check=False
        )
    first, _, output = done.stdout.partition("\n")
    peak_kb, code = (int(x) for x in first.split())
    assert code == 1, output[-2000:]
    assert peak_kb < 300 * 1024, f"peak {peak_kb / 1024:.0f} MB"
    assert "larger than" in output and "ERROR" in output, output[-2000:]


def test_a_selection_matching_nothing_exits_2_with_one_line() -> None:
    with hostile("closing") as url:
        done = contract(url, "--include-operation-id", "noSuchOp")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no operation of the spec matches the selection" in done.stderr
    assert done.stderr.strip().count("\n") == 0
