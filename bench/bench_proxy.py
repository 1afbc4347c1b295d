"""What `tavus-mock --proxy` adds to a request on loopback, measured with wrk (prints figures; never pass/fail).

Side by side in one run: a tavus-mock (the upstream) and a proxy in front of it, both on CPU 1, wrk (1 thread)
on CPU 0. The same requests go to the upstream directly and through the proxy, rounds alternating; one
connection, so each latency is one request's own (no queueing), p50 and p99 medians over the rounds.
Requests: GET one persona; a 10-item list (the proxy validates each answer and keeps the report).

usage: python bench/bench_proxy.py [--seconds 3] [--rounds 3] [--connections 1]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import BIN, free_port, pinned, start_mock, stop, wait_for_port, wrk, wrk_script

KEY = "bench-key"


def start_proxy(port: int, upstream: str, work: Path) -> subprocess.Popen[bytes]:
    cmd = [
        str(BIN / "tavus-mock"),
        "--proxy",
        upstream,
        "--port",
        str(port),
        "--quiet",
        "--drift-report",
        str(work / "drift.md"),
    ]
    proc = subprocess.Popen(pinned(cmd, 1), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port)
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=1)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        get = wrk_script(work, "GET", None, KEY)
        mock_port, proxy_port = free_port(), free_port()
        mock = start_mock(mock_port)
        proxy = start_proxy(proxy_port, f"http://127.0.0.1:{mock_port}", work)
        try:
            requests = {"GET one persona": "/v2/personas/pdced222244b", "list of 10": "/v2/replicas?limit=10"}
            results: dict[tuple[str, str], list[tuple[float, float, float, int]]] = {}
            for path in requests.values():
                for port in (mock_port, proxy_port):
                    wrk(f"http://127.0.0.1:{port}{path}", get, 1, args.connections)  # warm-up
            for _ in range(args.rounds):
                for name, path in requests.items():
                    for target, port in (("direct", mock_port), ("proxied", proxy_port)):
                        run = wrk(f"http://127.0.0.1:{port}{path}", get, args.seconds, args.connections)
                        results.setdefault((name, target), []).append(run)
        finally:
            stop(proxy)
            stop(mock)
        report = (work / "drift.md").read_text(encoding="utf-8") if (work / "drift.md").exists() else ""
    print(f"wrk, 1 thread, {args.connections} connection(s), {args.rounds} rounds x {args.seconds:.0f} s; medians")
    heads = ("direct p50", "proxied p50", "added p50", "direct p99", "proxied p99")
    print(f"{'request':<18} " + " ".join(f"{h:>12}" for h in heads))
    for name in requests:
        direct = results[(name, "direct")]
        proxied = results[(name, "proxied")]
        d50 = statistics.median(r[1] for r in direct)
        p50 = statistics.median(r[1] for r in proxied)
        d99 = statistics.median(r[2] for r in direct)
        p99 = statistics.median(r[2] for r in proxied)
        bad = sum(r[3] for r in direct + proxied)
        note = f"  ({bad} non-2xx)" if bad else ""
        print(f"{name:<18} " + " ".join(f"{v:>10.3f}ms" for v in (d50, p50, p50 - d50, d99, p99)) + note)
    drifting = report.count("\n## `")
    print(f"drift report after the run: {drifting} operation(s) drifting (0 expected: the upstream is tavus-mock)")


if __name__ == "__main__":
    main()
