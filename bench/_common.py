"""Helpers shared by the benchmarks: start the reference server in its own process, pin CPUs."""

from __future__ import annotations

import os
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
