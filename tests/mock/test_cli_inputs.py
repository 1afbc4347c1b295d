"""Every bad input of tavus-mock's command line is one line on stderr and exit 2, never a traceback;
export then seed keeps each job where it was; `--workers N` logs every request."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tavus_mock import Delays, MockConfig, MockServer, TavusMock
from tests.conftest import TEST_KEY

CLI = [sys.executable, "-m", "tavus_mock.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _refused(*args: str) -> str:
    """Run the CLI with bad input: it must exit 2 with one line on stderr; answers that line."""
    done = subprocess.run([*CLI, *args], check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, (args, done.returncode, done.stderr[-2000:])
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    return lines[0]


def _sqlite_file(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("case", ["text", "truncated", "random", "directory", "missing parent", "read-only place"])
def test_a_bad_db_is_one_line_and_exit_2(tmp_path: Path, case: str) -> None:
    target = tmp_path / "state.db"
    if case == "text":
        target.write_text("hello, this is not a database\n" * 50)
    elif case == "truncated":
        _sqlite_file(target)
        target.write_bytes(target.read_bytes()[:1500])
    elif case == "random":
        target.write_bytes(os.urandom(8192))
    elif case == "directory":
        target.mkdir()
    elif case == "missing parent":
        target = tmp_path / "no" / "such" / "dir" / "state.db"
    else:  # nothing can be created under /proc, even as root
        target = Path("/proc/tavus-mock-test/state.db")
    line = _refused("--db", str(target), "--port", "0")
    assert line.startswith("tavus-mock: ") and str(target) in line


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot be read"),
        ("{not json", "not JSON"),
        ('{"tenants": {"k": {"spaceships": [{}]}}}', "spaceships"),
        ('{"tenants": {"k": {"personas": [{"persona_name": 5}]}}}', "personas[0]"),
        ('{"tenants": {"k": {"personas": "nope"}}}', "list"),
        ("[1, 2]", "expected an object"),
    ],
)
def test_a_bad_seed_is_one_line_naming_the_record_and_exit_2(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    seed = tmp_path / "seed.json"
    if content is not None:
        seed.write_text(content)
    line = _refused("--seed", str(seed), "--port", "0")
    assert expected in line, line
    if "persona_name" in (content or ""):
        assert "persona_name" in line, line


def test_a_seed_record_the_spec_refuses_is_not_loaded_and_nothing_else_is(tmp_path: Path) -> None:
    app = TavusMock(config=MockConfig(delays=Delays.instant()))
    good = {"persona_name": "ok", "system_prompt": "x"}
    with pytest.raises(ValueError, match=r"personas\[1\].*persona_name"):
        app.store.load_seed_data({"tenants": {"k": {"personas": [good, {"persona_name": 5}]}}})
    assert app.store.export(app.store.tenant_of("k")) == {}


def _serve(args: list[str]) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    proc = subprocess.Popen(
        [*CLI, "--port", str(port), *args], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/v2/personas", headers={"x-api-key": TEST_KEY}, timeout=1)
            return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("tavus-mock did not start")


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err


def test_export_then_seed_keeps_each_jobs_state_and_progress(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    config = MockConfig(delays=Delays(video=0.05, document=1000.0), db=str(db), access_log=False)
    with (
        MockServer(TavusMock(config=config)) as server,
        httpx.Client(base_url=server.url, headers={"x-api-key": TEST_KEY}) as api,
    ):
        video = api.post("/v2/videos", json={"replica_id": "rfe12d8b9597", "script": "Hi"}).json()["video_id"]
        doc = api.post("/v2/documents", json={"document_url": "https://example.com/a.pdf"}).json()["document_id"]
        time.sleep(0.3)  # the video is done; nobody has read it since
    # The export judges each job with the same durations as the server that ran it.
    export = [*CLI, "--db", str(db), "--export", TEST_KEY, "--video-seconds", "0.05", "--document-seconds", "1000"]
    exported = subprocess.run(export, check=False, capture_output=True, text=True, timeout=60)
    assert exported.returncode == 0, exported.stderr
    seed: dict[str, Any] = json.loads(exported.stdout)
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(seed))
    fresh = TavusMock(config=MockConfig(delays=Delays(video=1000.0, document=1000.0), access_log=False))
    fresh.store.load_seed(seed_file)
    with MockServer(fresh) as server, httpx.Client(base_url=server.url, headers={"x-api-key": TEST_KEY}) as api:
        read = api.get(f"/v2/videos/{video}").json()
        assert read["status"] == "ready" and read["generation_progress"] == "100/100"
        assert api.get(f"/v2/documents/{doc}").json()["status"] in ("started", "processing")


def test_workers_log_every_request(tmp_path: Path) -> None:
    proc, url = _serve(["--workers", "2", "--db", str(tmp_path / "state.db")])
    try:
        with httpx.Client(base_url=url, headers={"x-api-key": TEST_KEY}) as api:
            for _ in range(6):
                assert api.get("/v2/replicas", params={"limit": 1}).status_code == 200
            time.sleep(0.3)
    finally:
        err = _stop(proc)
    assert err.count("GET /v2/replicas 200") >= 6, err[-3000:]
