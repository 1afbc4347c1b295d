"""The benchmark scripts still run (tiny settings). Their figures are never asserted: timing is noisy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def run(script: str, *args: str) -> str:
    cmd = [sys.executable, str(BENCH / script), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_mock_benchmark_prints_its_table() -> None:
    out = run("bench_mock.py", "--seconds", "1", "--rounds", "1", "--connections", "2", "--sizes", "100,300")
    rows = ("baseline", "tavus-mock GET one persona", "tavus-mock POST persona", "list of 100 at 10k", "N=      300")
    for row in rows:
        assert row in out, out
    assert "req/s" in out and "vs base" in out


def test_client_benchmark_prints_its_figures() -> None:
    out = run("bench_client.py", "--requests", "20", "--rounds", "1", "--imports", "1")
    assert "over a socket to tavus-mock" in out and "in-memory transport" in out
    assert "generated get_persona.sync" in out and "from tavus_client import Tavus" in out
    assert "parse of a 100-item verbose persona list" in out and "x json.loads" in out


def test_store_benchmark_prints_memory_against_sqlite() -> None:
    out = run("bench_store.py", "--seconds", "1", "--rounds", "1", "--connections", "2", "--records", "500")
    for row in ("GET one persona", "POST persona (validated)", "list of 100 at 500", "sqlite/memory"):
        assert row in out, out


def test_proxy_benchmark_prints_direct_and_proxied_side_by_side() -> None:
    out = run("bench_proxy.py", "--seconds", "1", "--rounds", "1")
    assert "direct p50" in out and "proxied p50" in out and "added p50" in out
    assert "GET one persona" in out and "list of 10" in out
    assert "0 operation(s) drifting" in out, out


def test_in_process_benchmark_prints_both_requests() -> None:
    out = run("bench_inprocess.py", "--runs", "1", "--calls", "200")
    assert "this checkout" in out and "GET" in out and "POST" in out, out
    figures = out.strip().splitlines()[-1].split()[-2:]
    assert all(float(f) > 0 for f in figures), out
