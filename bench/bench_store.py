"""In-memory state against `--db` (SQLite) and `--db postgresql://` (PostgreSQL), side by side in one run,
measured with wrk (prints figures; never pass/fail).

tavus-mock servers loaded with the same seed (100,000 personas of one key by default): one keeping its
state in memory, one in a SQLite file, one on a PostgreSQL server (a throw-away cluster of Debian's
binaries, tests/postgres.py; left out, and said so, when PostgreSQL is not installed); each on CPU 1 in
turn and wrk (1 thread) on CPU 0, rounds alternating between them, medians reported with the ratio to
in-memory, for: GET one persona, a validated POST creating one, and a 100-item page of the list. Then
two instances on the one PostgreSQL database, each driven by its own wrk at once (their req/s summed),
against one instance driven by the same connections.

usage: python bench/bench_store.py [--seconds 3] [--rounds 3] [--connections 16] [--records 100000]
       [--synchronous normal|full] [--no-postgres]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import free_port, start_mock, stop, wrk, wrk_script
from bench_mock import POST_BODY, seed_file

from tests.postgres import Cluster, binaries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--synchronous", choices=("normal", "full"), default="normal")
    parser.add_argument("--no-postgres", action="store_true", help="leave PostgreSQL out")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    print(f"machine: {os.cpu_count()} CPUs; server on CPU 1, wrk on CPU 0; {args.records:,} personas of one key")
    cluster = None
    if not args.no_postgres:
        found = binaries()
        if found is None:
            print("  postgres: left out (PostgreSQL is not installed: apt-get install postgresql)")
        else:
            cluster = Cluster(found)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run(args, Path(tmp), cluster)
    finally:
        if cluster is not None:
            cluster.stop()


def run(args: argparse.Namespace, work: Path, cluster: Cluster | None) -> None:
    seed = seed_file(work, args.records)
    get, post = wrk_script(work, "GET", None), wrk_script(work, "POST", POST_BODY)
    stores = {"memory": [], "sqlite": ["--db", str(work / "state.db"), "--db-synchronous", args.synchronous]}
    pg_url = cluster.new_database() if cluster is not None else None
    if pg_url is not None:
        stores["postgres"] = ["--db", pg_url]
    ports: dict[str, int] = {}
    procs: list[subprocess.Popen[bytes]] = []
    page = f"/v2/personas?limit=100&page={args.records // 200}&persona_type=user"
    requests = {
        "GET one persona": ("/v2/personas/pdced222244b", get),
        "POST persona (validated)": ("/v2/personas", post),
        f"list of 100 at {args.records:,}": (page, get),
    }
    results: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    pair: dict[str, list[float]] = {}  # the two-instance runs: ratio, one instance's req/s, the pair's
    try:
        for name, extra in stores.items():
            port = ports[name] = free_port()
            started = time.perf_counter()
            procs.append(start_mock(port, cpu=1, extra=["--seed", str(seed), *extra], timeout=900))
            print(f"  {name}: started with the seed in {time.perf_counter() - started:.1f} s")
        for request, (path, script) in requests.items():
            for name, port in ports.items():
                wrk(f"http://127.0.0.1:{port}{path}", script, 1, args.connections)  # warm-up
                results[(request, name)] = []
        for _ in range(args.rounds):
            for request, (path, script) in requests.items():
                for name, port in ports.items():
                    rps, p50, p99, bad = wrk(f"http://127.0.0.1:{port}{path}", script, args.seconds, args.connections)
                    if bad:
                        raise SystemExit(f"{name} {request}: {bad} answers were not 2xx")
                    results[(request, name)].append((rps, p50, p99))
        if pg_url is not None:
            second = free_port()
            procs.append(start_mock(second, cpu=1, extra=["--db", pg_url], timeout=900))  # no seed: it is there
            half = max(1, args.connections // 2)
            for request in ("GET one persona", "POST persona (validated)"):
                path, script = requests[request]
                for _ in range(args.rounds):
                    one = wrk(f"http://127.0.0.1:{ports['postgres']}{path}", script, args.seconds, args.connections)[0]
                    urls = [f"http://127.0.0.1:{port}{path}" for port in (ports["postgres"], second)]
                    with ThreadPoolExecutor(2) as pool:
                        two = sum(r[0] for r in pool.map(wrk, urls, [script] * 2, [args.seconds] * 2, [half] * 2))
                    pair.setdefault(request, []).append(two / one)
                    pair.setdefault(request + " one", []).append(one)
                    pair.setdefault(request + " two", []).append(two)
    finally:
        for proc in procs:
            stop(proc)
    print(f"wrk, 1 thread, {args.connections} connections, {args.rounds} rounds x {args.seconds:.0f} s; medians")
    names = list(stores)
    print(
        f"{'request':28} "
        + " ".join(f"{n + ' req/s':>15}" for n in names)
        + " "
        + " ".join(f"{n + '/memory':>16}" for n in names[1:])
    )
    for request in requests:
        rate = {n: statistics.median(r[0] for r in results[(request, n)]) for n in names}
        p50s = "/".join(f"{statistics.median(r[1] for r in results[(request, n)]):.2f}" for n in names)
        ratios = " ".join(f"{rate[n] / rate['memory']:15.2f}x" for n in names[1:])
        print(f"{request:28} " + " ".join(f"{rate[n]:15.0f}" for n in names) + " " + ratios + f"  p50 ms {p50s}")
    for request in ("GET one persona", "POST persona (validated)"):
        if request in pair:
            one = statistics.median(pair[request + " one"])
            two = statistics.median(pair[request + " two"])
            ratio = statistics.median(pair[request])
            print(f"two instances on one PostgreSQL, {request}: {two:.0f} req/s, one instance {one:.0f}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
