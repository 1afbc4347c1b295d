"""Throughput, latency and list cost of the reference server, measured with wrk (prints figures; never pass/fail).

Side by side in one run, each target on CPU 1 and wrk (1 thread) on CPU 0, rounds alternating between
targets, medians reported:
- baseline: a bare uvicorn app on the same stack (uvloop, httptools) answering a fixed body, once with
  uvicorn's defaults and once with the settings tavus-mock's CLI uses (its protocol, which sends each
  answer in one write, no proxy-header middleware, no server header): both ratios are printed;
- tavus-mock: GET one persona, a validated POST creating one, and a 100-item list at 10k records;
- Prism 5.16 (`npm install --prefix bench @stoplight/prism-cli@5.16.0`, or `prism` on PATH) mocking
  the same spec: the same three requests (skipped, and said so, when Prism is not installed).
Then the cost of `GET /v2/personas?limit=10` (first and last page, and another key's empty list) at
1k, 100k and 1M records of one key, each size on a fresh server loaded from a seed file.

usage: python bench/bench_mock.py [--seconds 3] [--rounds 3] [--connections 16] [--sizes 1000,100000,1000000]
                                 [--no-list-cost] [--compare-with CHECKOUT]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import BIN, free_port, pinned, start_mock, stop, wait_for_port, wrk, wrk_script

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-key"
BASELINE_APP = """
import sys, uvicorn
BODY = b'{"persona_id":"pdced222244b","persona_name":"Sales Coach"}'
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["method"] == "POST":  # a POST's body is read, as any app that takes one must
        while (await receive()).get("more_body"):
            pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]})
    await send({"type": "http.response.body", "body": BODY})
settings = {"http": "httptools"}
if len(sys.argv) > 2:  # the stack as tavus-mock's CLI sets it up: its protocol (one write per answer), no proxy headers
    from tavus_mock.protocols import uvicorn_http_settings
    settings = {**uvicorn_http_settings("httptools"), "proxy_headers": False, "server_header": False}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False,
            loop="uvloop", **settings)
"""
POST_BODY: dict[str, object] = {
    "persona_name": "Bench",
    "system_prompt": "Answer briefly.",
    "layers": {"llm": {"model": "tavus-gpt-oss"}},
}


def seed_file(directory: Path, count: int) -> Path:
    path = directory / f"seed-{count}.json"
    with path.open("w", encoding="utf-8") as out:
        out.write('{"tenants": {"' + KEY + '": {"personas": [')
        for i in range(count):
            out.write(("," if i else "") + f'{{"persona_name": "P{i}", "system_prompt": "x"}}')
        out.write("]}}}")
    return path


def find_prism() -> str | None:
    local = ROOT / "bench" / "node_modules" / ".bin" / "prism"
    return str(local) if local.exists() else shutil.which("prism")


def start_prism(prism: str, port: int) -> subprocess.Popen[bytes]:
    cmd = [prism, "mock", str(ROOT / "openapi" / "tavus.yaml"), "-h", "127.0.0.1", "-p", str(port)]
    proc = subprocess.Popen(pinned(cmd, 1), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, timeout=60)
    return proc


def side_by_side(args: argparse.Namespace, work: Path) -> None:  # noqa: PLR0915 (one table, step by step)
    get, post = wrk_script(work, "GET", None), wrk_script(work, "POST", POST_BODY)
    base_port, same_port, mock_port = free_port(), free_port(), free_port()
    procs = [subprocess.Popen(pinned([str(BIN / "python"), "-c", BASELINE_APP, str(base_port)], 1))]
    procs.append(subprocess.Popen(pinned([str(BIN / "python"), "-c", BASELINE_APP, str(same_port), "mock"], 1)))
    wait_for_port(base_port)
    wait_for_port(same_port)
    procs.append(start_mock(mock_port, cpu=1, extra=["--seed", str(seed_file(work, 10_000))]))
    earlier_port = free_port()
    if args.compare_with is not None:
        extra = ["--seed", str(seed_file(work, 10_000))]
        procs.append(start_mock(earlier_port, cpu=1, extra=extra, checkout=args.compare_with, timeout=60))
    one = "/v2/personas/pdced222244b"
    hundred = "/v2/personas?limit=100&page=50&persona_type=user"
    targets = {
        "baseline (bare uvicorn, fixed body)": (f"http://127.0.0.1:{base_port}{one}", get),
        "bare app, tavus-mock's uvicorn settings": (f"http://127.0.0.1:{same_port}{one}", get),
        "baseline, the POST (body read, then the fixed body)": (f"http://127.0.0.1:{base_port}/v2/personas", post),
        "tavus-mock GET one persona": (f"http://127.0.0.1:{mock_port}{one}", get),
        "tavus-mock POST persona (validated)": (f"http://127.0.0.1:{mock_port}/v2/personas", post),
        "tavus-mock list of 100 at 10k records": (f"http://127.0.0.1:{mock_port}{hundred}", get),
    }
    if args.compare_with is not None:
        targets["earlier GET one persona"] = (f"http://127.0.0.1:{earlier_port}{one}", get)
        targets["earlier POST persona (validated)"] = (f"http://127.0.0.1:{earlier_port}/v2/personas", post)
        targets["earlier list of 100 at 10k records"] = (f"http://127.0.0.1:{earlier_port}{hundred}", get)
    prism = find_prism()
    if prism:
        prism_port = free_port()
        procs.append(start_prism(prism, prism_port))
        targets["prism GET one persona"] = (f"http://127.0.0.1:{prism_port}{one}", get)
        targets["prism POST persona (validated)"] = (f"http://127.0.0.1:{prism_port}/v2/personas", post)
        targets["prism list of personas"] = (f"http://127.0.0.1:{prism_port}{hundred}", get)
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in targets}
    # Each round runs every target once, one after the other; a ratio is taken within a round (the
    # machine's speed drifts between rounds) and its median over the rounds is printed.
    try:
        for url, script in targets.values():  # warm-up
            wrk(url, script, 1, args.connections)
        for _ in range(args.rounds):
            for name, (url, script) in targets.items():
                rps, p50, p99, bad = wrk(url, script, args.seconds, args.connections)
                if bad:
                    raise SystemExit(f"{name}: {bad} answers were not 2xx")
                results[name].append((rps, p50, p99))
    finally:
        for proc in procs:
            stop(proc)
    print(f"wrk, 1 thread, {args.connections} connections, {args.rounds} rounds x {args.seconds:.0f} s; medians")
    if not prism:
        print("(Prism not installed: npm install --prefix bench @stoplight/prism-cli@5.16.0)")
    med = {name: tuple(statistics.median(r[i] for r in rows) for i in range(3)) for name, rows in results.items()}

    def ratio(name: str, other: str) -> float:
        return statistics.median(a[0] / b[0] for a, b in zip(results[name], results[other], strict=True))

    base, same = "baseline (bare uvicorn, fixed body)", "bare app, tavus-mock's uvicorn settings"
    print(f"{'target':52} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'vs base':>8} {'vs same':>8} {'vs prism':>9}")
    for name, (rps, p50, p99) in med.items():
        twin = name.replace("tavus-mock", "prism").replace(" at 10k records", "")
        twin = twin.replace("list of 100", "list of personas")
        versus = f"{ratio(name, twin):8.2f}x" if name.startswith("tavus-mock") and twin in med else ""
        row = f"{name:52} {rps:7.0f} {p50:7.2f} {p99:7.2f} {ratio(name, base):7.2f}x {ratio(name, same):7.2f}x"
        print(f"{row} {versus:>9}")
    same_post = ratio("tavus-mock POST persona (validated)", "baseline, the POST (body read, then the fixed body)")
    print(f"tavus-mock POST against the baseline answering the same POST: {same_post:.2f}x")
    if args.compare_with is not None:
        compare(ratio)
    print("vs base: the bare app on stock uvicorn (the issue's baseline); vs same: the bare app on the uvicorn")
    print("settings tavus-mock's CLI uses (its one-write protocol, no proxy headers, no server header).")
    print("Ratios are medians of per-round ratios (targets of one round run back to back).")


def compare(ratio: Callable[[str, str], float]) -> None:
    """The before/after lines of --compare-with."""
    for what in ("GET one persona", "POST persona (validated)", "list of 100 at 10k records"):
        print(f"tavus-mock {what} against the earlier checkout: {ratio('tavus-mock ' + what, 'earlier ' + what):.2f}x")
    earlier_post = ratio("earlier POST persona (validated)", "baseline, the POST (body read, then the fixed body)")
    print(f"earlier POST against the baseline answering the same POST: {earlier_post:.2f}x")


def list_cost(args: argparse.Namespace, work: Path) -> None:
    get = wrk_script(work, "GET", None)
    other = work / "other.lua"
    other.write_text('wrk.headers["x-api-key"] = "another-key"\n', encoding="utf-8")
    rows = []
    for size in args.sizes:
        port = free_port()
        proc = start_mock(port, cpu=1, extra=["--seed", str(seed_file(work, size)), "--api-key", "another-key"])
        try:
            last = (size - 1) // 10 + 1
            urls = {
                "first page": (f"http://127.0.0.1:{port}/v2/personas?limit=10&persona_type=user", get),
                "last page": (f"http://127.0.0.1:{port}/v2/personas?limit=10&persona_type=user&page={last}", get),
                "another key": (f"http://127.0.0.1:{port}/v2/personas?limit=10&persona_type=user", other),
            }
            figures = {}
            for name, (url, script) in urls.items():
                wrk(url, script, 1, args.connections)
                runs = [wrk(url, script, args.seconds, args.connections) for _ in range(args.rounds)]
                figures[name] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
            rows.append((size, figures))
        finally:
            stop(proc)
    print("\nGET /v2/personas?limit=10 with N personas of one key (req/s, p50 ms); ratio to the smallest N")
    first = rows[0][1]
    for size, figures in rows:
        cells = "  ".join(
            f"{name}: {rps:6.0f}/s {p50:5.2f} ms ({first[name][0] / rps:4.2f}x)" for name, (rps, p50) in figures.items()
        )
        print(f"  N={size:>9,}  {cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--sizes", default="1000,100000,1000000", type=lambda v: [int(x) for x in v.split(",")])
    parser.add_argument("--no-list-cost", action="store_true", help="skip the list-cost table")
    parser.add_argument(
        "--compare-with",
        type=Path,
        metavar="CHECKOUT",
        help="also run the tavus-mock of another checkout (e.g. `git worktree add /tmp/before REV`), side by side",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    print(f"machine: {os.cpu_count()} CPUs; server on CPU 1, wrk on CPU 0")
    with tempfile.TemporaryDirectory() as tmp:
        side_by_side(args, Path(tmp))
        if not args.no_list_cost:
            list_cost(args, Path(tmp))


if __name__ == "__main__":
    main()
