"""In-memory state against `--db` (SQLite), side by side in one run, measured with wrk (prints figures;
never pass/fail).

Two tavus-mock servers loaded with the same seed (100,000 personas of one key by default), one keeping
its state in memory and one in a SQLite file; each on CPU 1 in turn and wrk (1 thread) on CPU 0,
rounds alternating between them, medians reported with the SQLite/in-memory ratio, for: GET one
persona, a validated POST creating one, and a 100-item page of the list.

usage: python bench/bench_store.py [--seconds 3] [--rounds 3] [--connections 16] [--records 100000]
       [--synchronous normal|full]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import free_port, start_mock, stop, wrk, wrk_script
from bench_mock import POST_BODY, seed_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--synchronous", choices=("normal", "full"), default="normal")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    print(f"machine: {os.cpu_count()} CPUs; server on CPU 1, wrk on CPU 0; {args.records:,} personas of one key")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        seed = seed_file(work, args.records)
        get, post = wrk_script(work, "GET", None), wrk_script(work, "POST", POST_BODY)
        stores = {"memory": [], "sqlite": ["--db", str(work / "state.db"), "--db-synchronous", args.synchronous]}
        ports = {}
        procs = []
        try:
            for name, extra in stores.items():
                port = ports[name] = free_port()
                started = time.perf_counter()
                procs.append(start_mock(port, cpu=1, extra=["--seed", str(seed), *extra], timeout=600))
                print(f"  {name}: started with the seed in {time.perf_counter() - started:.1f} s")
            page = f"/v2/personas?limit=100&page={args.records // 200}&persona_type=user"
            requests = {
                "GET one persona": ("/v2/personas/pdced222244b", get),
                "POST persona (validated)": ("/v2/personas", post),
                f"list of 100 at {args.records:,}": (page, get),
            }
            results: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
            for request, (path, script) in requests.items():
                for name, port in ports.items():
                    wrk(f"http://127.0.0.1:{port}{path}", script, 1, args.connections)  # warm-up
                    results[(request, name)] = []
            for _ in range(args.rounds):
                for request, (path, script) in requests.items():
                    for name, port in ports.items():
                        rps, p50, p99, bad = wrk(
                            f"http://127.0.0.1:{port}{path}", script, args.seconds, args.connections
                        )
                        if bad:
                            raise SystemExit(f"{name} {request}: {bad} answers were not 2xx")
                        results[(request, name)].append((rps, p50, p99))
        finally:
            for proc in procs:
                stop(proc)
    print(f"wrk, 1 thread, {args.connections} connections, {args.rounds} rounds x {args.seconds:.0f} s; medians")
    print(f"{'request':28} {'memory req/s':>13} {'sqlite req/s':>13} {'p50 ms mem/sql':>16} {'sqlite/memory':>14}")
    for request in requests:
        mem = [statistics.median(r[i] for r in results[(request, "memory")]) for i in range(3)]
        sql = [statistics.median(r[i] for r in results[(request, "sqlite")]) for i in range(3)]
        latency = f"{mem[1]:.2f}/{sql[1]:.2f}"
        print(f"{request:28} {mem[0]:13.0f} {sql[0]:13.0f} {latency:>16} {sql[0] / mem[0]:13.2f}x")


if __name__ == "__main__":
    main()
