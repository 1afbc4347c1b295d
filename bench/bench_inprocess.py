"""The request path of tavus-mock in process (no socket): microseconds per GET and per validated POST.

A socket benchmark (bench_mock.py) measures the whole stack, and on a shared machine its rounds swing
by tens of percent; this one drives the ASGI app directly with a loop of calls, in a fresh process per
run, runs alternating between checkouts, and prints medians: the figure to read when comparing two
versions of the server's own code. The POST creates a persona per call (the store grows, as it does
in use); the garbage collector is set up as the CLI sets it.

usage: python bench/bench_inprocess.py [--runs 9] [--calls 50000] [--compare-with CHECKOUT ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# One run: a fresh server of the checkout on PYTHONPATH, `calls` requests of one kind, then the
# microseconds per request on stdout.
RUN = """
import asyncio, gc, sys, time
import orjson
from tavus_mock.app import MockConfig, TavusMock

kind, calls = sys.argv[1], int(sys.argv[2])
mock = TavusMock(config=MockConfig(access_log=False))
gc.freeze()
gc.set_threshold(10_000, 10, 10)
body = orjson.dumps({"persona_name": "Bench", "system_prompt": "Answer briefly.",
                     "layers": {"llm": {"model": "tavus-gpt-oss"}}})
headers = [(b"host", b"x"), (b"x-api-key", b"bench-key"), (b"content-type", b"application/json"),
           (b"content-length", str(len(body)).encode())]
if kind == "POST":
    scope = {"type": "http", "method": "POST", "path": "/v2/personas", "query_string": b"", "headers": headers}
else:
    scope = {"type": "http", "method": "GET", "path": "/v2/personas/pdced222244b", "query_string": b"",
             "headers": headers[:2]}
message = {"type": "http.request", "body": body, "more_body": False}

async def receive():
    return message

async def send(_message):
    return None

async def main():
    for _ in range(min(calls // 10, 2000)):  # warm-up
        await mock(scope, receive, send)
    started = time.perf_counter()
    for _ in range(calls):
        await mock(scope, receive, send)
    print((time.perf_counter() - started) / calls * 1e6)

asyncio.run(main())
"""


def one_run(checkout: Path, kind: str, calls: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    cmd = [sys.executable, "-c", RUN, kind, str(calls)]
    if sys.platform == "linux":
        cmd = ["taskset", "-c", "1", *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env, cwd=checkout)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--compare-with", type=Path, action="append", default=[], metavar="CHECKOUT")
    args = parser.parse_args()
    checkouts = [ROOT, *args.compare_with]
    print(f"in process, {args.calls} calls per run, {args.runs} runs alternating; median us per request")
    print(f"{'checkout':40} {'GET':>8} {'POST':>8}")
    results: dict[tuple[Path, str], list[float]] = {}
    for _ in range(args.runs):
        for kind in ("GET", "POST"):
            for checkout in checkouts:
                results.setdefault((checkout, kind), []).append(one_run(checkout, kind, args.calls))
    for checkout in checkouts:
        name = "this checkout" if checkout == ROOT else str(checkout)
        get, post = (statistics.median(results[(checkout, k)]) for k in ("GET", "POST"))
        print(f"{name:40} {get:8.2f} {post:8.2f}")


if __name__ == "__main__":
    main()
