"""Helpers shared by the benchmarks: start the reference server in its own process, pin CPUs."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

BIN = Path(sys.executable).parent
TASKSET = shutil.which("taskset")


def pinned(cmd: Sequence[str], cpu: int | None) -> list[str]:
    """`cmd` run on one CPU when taskset is there and the machine has more than one."""
    if cpu is None or TASKSET is None or (os.cpu_count() or 1) < 2:
        return list(cmd)
    return [TASKSET, "-c", str(cpu), *cmd]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_mock(
    port: int,
    *,
    cpu: int | None = 1,
    extra: Sequence[str] = (),
    timeout: float = 15.0,
    checkout: Path | None = None,
) -> subprocess.Popen[bytes]:
    """tavus-mock on `port`; `checkout` runs the server of another checkout (an earlier revision, for a
    before/after comparison in one run) with its own spec, on this environment's packages."""
    args = ["--port", str(port), "--quiet", "--api-key", "bench-key", *extra]
    env = None
    if checkout is None:
        cmd = [str(BIN / "tavus-mock"), *args]
    else:
        cmd = [str(BIN / "python"), "-m", "tavus_mock.cli", "--spec", str(checkout / "openapi" / "tavus.yaml"), *args]
        env = {**os.environ, "PYTHONPATH": str(checkout)}
    proc = subprocess.Popen(pinned(cmd, cpu), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wait_for_port(port, timeout=timeout)
    return proc


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def wrk_script(directory: Path, method: str, body: dict[str, object] | None, key: str = "bench-key") -> Path:
    lines = [f'wrk.method = "{method}"', f'wrk.headers["x-api-key"] = "{key}"']
    if body is not None:
        lines += ['wrk.headers["Content-Type"] = "application/json"', f"wrk.body = [[{json.dumps(body)}]]"]
    path = directory / f"{method.lower()}-{len(list(directory.iterdir()))}.lua"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def wrk(url: str, script: Path, seconds: float, connections: int) -> tuple[float, float, float, int]:
    """(req/s, p50 ms, p99 ms, non-2xx count) of one wrk run pinned to CPU 0."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "-s", str(script), url]
    out = subprocess.run(pinned(cmd, 0), capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, p50, p99, int(bad.group(1)) if bad else 0


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
