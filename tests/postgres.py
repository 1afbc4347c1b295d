"""A throw-away PostgreSQL server for the tests: Debian's binaries (`apt-get install postgresql`; .ci/run
installs them), a cluster in a temporary directory on a free port, run as its own user (`postgres`
when the tests run as root, which PostgreSQL refuses to be), stopped and removed at the end. Each test
gets a database of its own."""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

HOW = (
    "PostgreSQL is not installed: `apt-get install postgresql` (Debian's package; .ci/run installs it) "
    "to run these tests"
)


def binaries() -> Path | None:
    """The folder of initdb, pg_ctl and postgres: Debian's newest, else the PATH's."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and Path(initdb).with_name("pg_ctl").exists() else None


class Cluster:
    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="tavus-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.runas: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL will not run as root: as the package's own user
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.runas = ["runuser", "-u", "postgres", "--"]
        self._names = itertools.count(1)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "tavus", "-E", "UTF8", "--no-instructions")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", options, "-w", "start")

    @property
    def url(self) -> str:
        return f"postgresql://tavus@127.0.0.1:{self.port}/postgres"

    def new_database(self) -> str:
        """The URL of a new, empty database on the server."""
        import psycopg

        name = f"t{next(self._names)}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"postgresql://tavus@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self.runas, str(self.bin / tool), *args], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            log = (self.root / "log").read_text(errors="replace")[-2000:] if (self.root / "log").exists() else ""
            raise RuntimeError(f"{tool} failed: {done.stdout[-1000:]}{done.stderr[-1000:]}{log}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
