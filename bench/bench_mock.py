"""Throughput and latency of the reference server on one process (prints figures; never pass/fail).

The server (tavus-mock with uvloop and httptools, full request validation) runs on CPU 1; a small
asyncio keep-alive load generator with raw sockets runs on CPU 0. Measured side by side in one run:
a GET of one persona, a validated POST that creates a persona, and, as the baseline, the same
server stack answering a fixed body with no routing or validation, so the cost of the spec
machinery shows as a ratio. Rounds alternate between the targets; medians are reported.

usage: python bench/bench_mock.py [--seconds 3] [--rounds 3] [--connections 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import BIN, TASKSET, free_port, pinned, start_mock, stop, wait_for_port

BASELINE_APP = """
import sys, uvicorn
BODY = b'{"persona_id":"pdced222244b","persona_name":"Sales Coach"}'
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]})
    await send({"type": "http.response.body", "body": BODY})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def request_bytes(method: str, path: str, body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: bench-key\r\n"
    if body:
        head += f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


async def _worker(port: int, payload: bytes, stop_at: float, latencies: list[float], statuses: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            writer.write(payload)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            code = int(status_line.split()[1])
            statuses[code] = statuses.get(code, 0) + 1
    finally:
        writer.close()


async def _load(
    port: int, payload: bytes, seconds: float, connections: int
) -> tuple[float, list[float], dict[int, int]]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(*(_worker(port, payload, stop_at, latencies, statuses) for _ in range(connections)))
    return len(latencies) / (time.perf_counter() - started), latencies, statuses


def measure(port: int, payload: bytes, seconds: float, connections: int) -> tuple[float, float, float, dict[int, int]]:
    rps, latencies, statuses = asyncio.run(_load(port, payload, seconds, connections))
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    return rps, p50, p99, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    mock_port, base_port = free_port(), free_port()
    mock = start_mock(mock_port, cpu=1)
    baseline = subprocess.Popen(
        pinned([str(BIN / "python"), "-c", BASELINE_APP, str(base_port)], 1),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(base_port)
    if TASKSET:
        subprocess.run([TASKSET, "-pc", "0", str(os.getpid())], capture_output=True, check=False)
    body = json.dumps(
        {"persona_name": "Bench", "system_prompt": "Answer briefly.", "layers": {"llm": {"model": "tavus-gpt-oss"}}}
    ).encode()
    targets = {
        "baseline (fixed body, no validation)": (base_port, request_bytes("GET", "/v2/personas/pdced222244b")),
        "GET /v2/personas/{id}": (mock_port, request_bytes("GET", "/v2/personas/pdced222244b")),
        "POST /v2/personas (validated)": (mock_port, request_bytes("POST", "/v2/personas", body)),
    }
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in targets}
    try:
        for port, payload in targets.values():  # warm-up
            measure(port, payload, 0.5, args.connections)
        for _ in range(args.rounds):
            for name, (port, payload) in targets.items():
                rps, p50, p99, statuses = measure(port, payload, args.seconds, args.connections)
                if set(statuses) - {200}:
                    raise SystemExit(f"{name}: unexpected statuses {statuses}")
                results[name].append((rps, p50, p99))
    finally:
        stop(mock)
        stop(baseline)

    print(f"reference server throughput, {args.connections} connections, {args.rounds} rounds x {args.seconds:.0f} s")
    print(f"server on CPU 1, load generator on CPU 0 ({'taskset' if TASKSET else 'no taskset: not pinned'})")
    base_rps = statistics.median(r[0] for r in results["baseline (fixed body, no validation)"])
    print(f"{'target':40} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs baseline':>12}")
    for name, rows in results.items():
        rps = statistics.median(r[0] for r in rows)
        p50 = statistics.median(r[1] for r in rows)
        p99 = statistics.median(r[2] for r in rows)
        print(f"{name:40} {rps:8.0f} {p50:8.2f} {p99:8.2f} {rps / base_rps:11.2f}x")


if __name__ == "__main__":
    main()
