"""`tavus-mock --db`: the state in a SQLite file or on a PostgreSQL server. Real server processes on free
ports, killed with SIGKILL at awkward moments, restarted on the same state; several writers through
several workers. Every test that is not about the file itself runs on both databases (`new_db`)."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tavus_mock import Delays, MockConfig, Spec, TavusMock
from tavus_mock.db import APPLICATION_ID, DatabaseError, DbStore
from tests.conftest import TEST_KEY

BIN = Path(sys.executable).parent
HEADERS = {"x-api-key": TEST_KEY}


@pytest.fixture(params=["sqlite", "postgres"])
def new_db(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str]:
    """A maker of new, empty --db targets: SQLite files, or databases on the session's PostgreSQL."""
    if request.param == "sqlite":
        return lambda name: str(tmp_path / f"{name}.db")
    cluster = request.getfixturevalue("postgres_cluster")
    return lambda name: str(cluster.new_database())


def assert_no_key_stored(db: str, key: str) -> None:
    """Keys are never stored: the tenant column holds a digest, and no record's data holds the key."""
    if db.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(db) as conn:
            found = conn.execute(
                "SELECT count(*) FROM tavus_mock.records "
                "WHERE tenant = %s OR position(%s in encode(data, 'escape')) > 0",
                (key, key),
            ).fetchone()
        assert found is not None and found[0] == 0
        return
    assert key.encode() not in Path(db).read_bytes() + Path(db + "-wal").read_bytes()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, db: str | Path, *extra: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [str(BIN / "tavus-mock"), "--port", str(self.port), "--db", str(db), "--quiet", *extra]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(self.url + "/v2/voices", headers=HEADERS, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"tavus-mock did not start: {self.proc.stderr.read() if self.proc.stderr else ''}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL to the whole process group (the workers too): no shutdown code runs."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


@contextmanager
def serve(db: str | Path, *extra: str) -> Iterator[Server]:
    server = Server(db, *extra)
    try:
        yield server
    finally:
        if server.proc.poll() is None:
            server.kill()


def test_everything_reads_back_after_kill_9(new_db: Callable[[str], str]) -> None:
    db = new_db("state")
    fast = ("--replica-seconds", "0", "--video-seconds", "0", "--document-seconds", "0")
    with serve(db, *fast) as server, httpx.Client(base_url=server.url, headers=HEADERS) as api:
        persona = api.post("/v2/personas", json={"persona_name": "Kept", "system_prompt": "x"}).json()["persona_id"]
        api.patch(f"/v2/personas/{persona}", json=[{"op": "add", "path": "/context", "value": "patched"}])
        replica = api.post("/v2/replicas", json={"train_video_url": "https://example.com/v.mp4"}).json()["replica_id"]
        tool = api.post("/v2/tools", json={"name": "kept", "description": "x"}).json()["tool_id"]
        api.post(f"/v2/pals/{persona}/tools", json={"tool_ids": [tool]})
        api.put(f"/v2/pals/{persona}/skills/memory", json={"config": {"depth": 2}})
        deployment = api.post("/v2/deployments", json={"pal_id": persona, "channel": "embed", "password": "pw"})
        guardrails = api.post("/v2/guardrails", json={"data": [{"guardrail_name": "a", "guardrail_prompt": "b"}]})
        document = api.post("/v2/documents", json={"document_url": "https://example.com/d.pdf"}).json()["document_id"]
        deleted = api.post("/v2/personas", json={"persona_name": "Gone"}).json()["persona_id"]
        api.delete(f"/v2/personas/{deleted}")
        urls = [
            f"/v2/personas/{persona}",
            f"/v2/replicas/{replica}",
            f"/v2/tools/{tool}",
            f"/v2/pals/{persona}/tools",
            f"/v2/pals/{persona}/skills",
            f"/v2/deployments/{deployment.json()['deployment_id']}",
            f"/v2/guardrails/{guardrails.json()['guardrails_id']}",
            "/v2/guardrails?legacy=false",
            f"/v2/documents/{document}",
            "/v2/personas?persona_type=user",
        ]
        before = {url: api.get(url).json() for url in urls}
        server.kill()
    with serve(db, *fast) as server, httpx.Client(base_url=server.url, headers=HEADERS) as api:
        after = {url: api.get(url).json() for url in urls}
        assert api.get(f"/v2/personas/{deleted}").status_code == 404
        other = api.get("/v2/personas?persona_type=user", headers={"x-api-key": "another-key"}).json()
    assert after == before
    assert before[f"/v2/personas/{persona}"]["context"] == "patched"
    assert other["total_count"] == 0  # tenants stay apart in the file
    assert_no_key_stored(db, TEST_KEY)


def test_every_acknowledged_create_survives_a_kill_in_the_middle(new_db: Callable[[str], str]) -> None:
    db = new_db("state")
    acknowledged: list[str] = []
    lock = threading.Lock()
    with serve(db) as server:

        def writer(n: int) -> None:
            with httpx.Client(base_url=server.url, headers=HEADERS, timeout=5) as api:
                for i in range(100):
                    try:
                        answer = api.post("/v2/personas", json={"persona_name": f"w{n}-{i}"})
                    except httpx.HTTPError:
                        return  # the server is gone: this create was not acknowledged
                    if answer.status_code == 200:
                        with lock:
                            acknowledged.append(answer.json()["persona_id"])

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        while len(acknowledged) < 150:
            time.sleep(0.002)
        server.kill()  # mid-stream: some creates are in flight
        for thread in threads:
            thread.join()
    assert 150 <= len(acknowledged) < 400
    with serve(db) as server, httpx.Client(base_url=server.url, headers=HEADERS) as api:
        stored = api.get("/v2/personas", params={"persona_type": "user", "limit": 1000}).json()
    ids = {p["persona_id"] for p in stored["data"]}
    assert set(acknowledged) <= ids, f"lost {len(set(acknowledged) - ids)} acknowledged creates"


def test_eight_writers_through_two_workers_lose_no_update(new_db: Callable[[str], str]) -> None:
    db = new_db("state")
    with serve(db, "--workers", "2") as server:
        with httpx.Client(base_url=server.url, headers=HEADERS) as api:
            persona = api.post("/v2/personas", json={"persona_name": "Shared"}).json()["persona_id"]
        failures: list[str] = []

        def writer(n: int) -> None:
            for i in range(25):  # a new connection each time, so the kernel spreads them over the workers
                with httpx.Client(base_url=server.url, headers=HEADERS, timeout=10) as api:
                    patch = [{"op": "add", "path": "/document_tags/-", "value": f"w{n}-{i}"}]
                    answer = api.patch(f"/v2/personas/{persona}", json=patch)
                    if answer.status_code != 200:
                        failures.append(f"{answer.status_code} {answer.text}")

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with httpx.Client(base_url=server.url, headers=HEADERS) as api:
            tags = api.get(f"/v2/personas/{persona}").json()["document_tags"]
        pids = set(_process_group(server.proc.pid))
    assert not failures, failures[:3]
    assert len(tags) == 200 and len(set(tags)) == 200, f"{200 - len(set(tags))} updates lost"
    assert len(pids) >= 3  # the supervisor and two workers


def _process_group(pgid: int) -> list[int]:
    """Live processes of a process group (from /proc: no pgrep needed on a bare machine)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_lifecycles_go_on_from_their_stored_times_after_a_restart(new_db: Callable[[str], str]) -> None:
    db = new_db("state")
    with serve(db, "--replica-seconds", "1.5") as server, httpx.Client(base_url=server.url, headers=HEADERS) as api:
        replica = api.post("/v2/replicas", json={"train_video_url": "https://example.com/v.mp4"}).json()["replica_id"]
        assert api.get(f"/v2/replicas/{replica}").json()["status"] == "started"
        server.kill()
    time.sleep(1.6)  # training finishes while the server is down
    with serve(db, "--replica-seconds", "1.5") as server, httpx.Client(base_url=server.url, headers=HEADERS) as api:
        assert api.get(f"/v2/replicas/{replica}").json()["status"] == "completed"


def test_export_then_seed_replays_a_tenant(tmp_path: Path, new_db: Callable[[str], str]) -> None:
    first, second = new_db("a"), new_db("b")
    with serve(first) as server, httpx.Client(base_url=server.url, headers=HEADERS) as api:
        persona = api.post("/v2/personas", json={"persona_name": "Saved", "system_prompt": "x"}).json()["persona_id"]
        api.put(f"/v2/pals/{persona}/skills/memory", json={"config": {}})
        api.post("/v2/personas", json={"persona_name": "Other"}, headers={"x-api-key": "other"})
        before = api.get(f"/v2/personas/{persona}").json()
    exported = subprocess.run(
        [str(BIN / "tavus-mock"), "--db", str(first), "--export", TEST_KEY],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    seed = json.loads(exported)
    assert list(seed["tenants"]) == [TEST_KEY] and len(seed["tenants"][TEST_KEY]["personas"]) == 1
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(exported, encoding="utf-8")
    with serve(second, "--seed", str(seed_file)) as server, httpx.Client(base_url=server.url, headers=HEADERS) as api:
        assert api.get(f"/v2/personas/{persona}").json() == before
        assert "memory" in api.get(f"/v2/pals/{persona}/skills").json()["data"]


def test_a_file_of_another_kind_or_a_newer_version_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    newer = tmp_path / "newer.db"
    DbStore(newer).close()
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 99")
    for path, words in ((other, "not a tavus-mock database"), (newer, "newer tavus-mock")):
        with pytest.raises(DatabaseError, match=words):
            DbStore(path)
        done = subprocess.run(
            [str(BIN / "tavus-mock"), "--db", str(path), "--port", str(_free_port())],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 2 and words in done.stderr
    with sqlite3.connect(newer) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


def test_workers_need_a_database() -> None:
    done = subprocess.run([str(BIN / "tavus-mock"), "--workers", "2"], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "--workers above 1 needs --db" in done.stderr


def _app(spec: Spec, db: str) -> TavusMock:
    return TavusMock(spec, MockConfig(delays=Delays.instant(), db=str(db), check_answers=True))


def test_a_refused_request_changes_neither_the_file_nor_the_memory(spec: Spec, new_db: Callable[[str], str]) -> None:
    from starlette.testclient import TestClient

    db = new_db("state")
    with TestClient(_app(spec, db), base_url="http://mock", headers=HEADERS) as api:
        persona = api.post("/v2/personas", json={"persona_name": "Before"}).json()["persona_id"]
        tool = api.post("/v2/tools", json={"name": "a", "description": "x"}).json()["tool_id"]
        api.post(f"/v2/pals/{persona}/tools", json={"tool_ids": [tool]})
        # a patch whose last operation fails: nothing of it may stay
        bad = [
            {"op": "replace", "path": "/persona_name", "value": "After"},
            {"op": "test", "path": "/persona_name", "value": "not this"},
        ]
        assert api.patch(f"/v2/personas/{persona}", json=bad).status_code == 422
        # a handler that refuses after touching records: attaching an unknown tool next to a known one
        assert api.post(f"/v2/pals/{persona}/tools", json={"tool_ids": [tool, "t-none"]}).status_code == 400
        seen: dict[str, Any] = api.get(f"/v2/personas/{persona}").json()
    assert seen["persona_name"] == "Before" and seen["tool_ids"] == [tool]
    with TestClient(_app(spec, db), base_url="http://mock", headers=HEADERS) as api:
        assert api.get(f"/v2/personas/{persona}").json() == seen


def test_two_stores_on_one_file_see_each_other(spec: Spec, new_db: Callable[[str], str]) -> None:
    from starlette.testclient import TestClient

    db = new_db("state")
    with (
        TestClient(_app(spec, db), base_url="http://a", headers=HEADERS) as a,
        TestClient(_app(spec, db), base_url="http://b", headers=HEADERS) as b,
    ):
        persona = a.post("/v2/personas", json={"persona_name": "Shared"}).json()["persona_id"]
        assert b.get(f"/v2/personas/{persona}").json()["persona_name"] == "Shared"
        b.patch(f"/v2/personas/{persona}", json=[{"op": "replace", "path": "/persona_name", "value": "B"}])
        assert a.get(f"/v2/personas/{persona}").json()["persona_name"] == "B"
        assert a.delete(f"/v2/personas/{persona}").status_code == 204
        assert b.get(f"/v2/personas/{persona}").status_code == 404
        created = [a.post("/v2/personas", json={"persona_name": f"p{i}"}).json()["persona_id"] for i in range(3)]
        created += [b.post("/v2/personas", json={"persona_name": f"q{i}"}).json()["persona_id"] for i in range(3)]
        listed = b.get("/v2/personas", params={"persona_type": "user"}).json()["data"]
        assert [p["persona_id"] for p in listed] == created  # one creation order across processes


def test_an_older_schema_is_migrated_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tavus_mock import db as dbmod

    path = tmp_path / "old.db"
    store = DbStore(path)
    with store.transaction(write=True):
        store.create("personas", "tenant", {"persona_name": "Kept"})
    store.close()
    # a later tavus-mock whose next schema adds a column: the file is migrated, data kept
    now = dbmod.SCHEMA_VERSION
    monkeypatch.setattr(dbmod, "SCHEMA_VERSION", now + 1)
    monkeypatch.setattr(dbmod, "MIGRATIONS", {now: "ALTER TABLE records ADD COLUMN note TEXT;"})
    migrated = DbStore(path)
    assert [r.data["persona_name"] for r in migrated.visible("personas", "tenant") if r.tenant] == ["Kept"]
    migrated.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == now + 1
        assert "note" in {row[1] for row in conn.execute("PRAGMA table_info(records)")}
    monkeypatch.setattr(dbmod, "MIGRATIONS", {})
    monkeypatch.setattr(dbmod, "SCHEMA_VERSION", now + 2)
    with pytest.raises(DatabaseError, match="cannot migrate"):
        DbStore(path)


def test_two_servers_may_create_one_new_file_at_once(new_db: Callable[[str], str]) -> None:
    path = new_db("new")
    errors: list[BaseException] = []
    stores: list[DbStore] = []

    def open_it() -> None:
        try:
            stores.append(DbStore(path))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(stores) == 4
    for store in stores:
        store.close()


def test_a_version_1_file_owes_no_callback(tmp_path: Path) -> None:
    """Schema 1 had no claim column; its server sent (or, if down, never sent) each callback when due."""
    from tavus_mock import db as dbmod

    path = tmp_path / "v1.db"
    v1_schema = dbmod.SCHEMA.replace("    callback_for REAL,\n", "")
    assert v1_schema != dbmod.SCHEMA
    with sqlite3.connect(path) as conn:
        conn.executescript(f"{v1_schema} PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 1;")
        data = json.dumps({"replica_id": "r1", "status": "started", "callback_url": "http://127.0.0.1:9/x"})
        conn.execute(
            "INSERT INTO records (kind, id, tenant, seq, created, job_started, last_recrawl, state, data, rev) "
            "VALUES ('replicas', 'r1', 't', 1000001, 1.0, 1.0, NULL, 0, ?, 1)",
            (data.encode(),),
        )
        conn.execute("UPDATE meta SET rev = 1")
    store = DbStore(path)
    try:
        assert store.records["replicas"]["r1"].callback_for == 1.0
        assert store.pending_callbacks() == []
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == dbmod.SCHEMA_VERSION


def test_a_callback_owed_across_restarts_is_sent_once_by_one_of_the_workers(new_db: Callable[[str], str]) -> None:
    """A job whose callback fell due while the server was down is called back when it starts again, once,
    however many workers start on the file and however often it restarts."""
    from tests.mock.test_features import Receiver

    db = new_db("state")
    receiver = Receiver()
    try:
        with serve(db, "--replica-seconds", "1") as server, httpx.Client(base_url=server.url, headers=HEADERS) as api:
            body = {"train_video_url": "https://example.com/v.mp4", "callback_url": receiver.url}
            replica = api.post("/v2/replicas", json=body).json()["replica_id"]
            server.kill()  # before the job is due: its callback was only scheduled in that process
        time.sleep(1.2)
        assert receiver.bodies == []
        with serve(db, "--replica-seconds", "1", "--workers", "2"):
            sent = receiver.wait_for(1, timeout=10)
            time.sleep(0.5)  # the other worker had the same job owed: it must not send it too
            assert [(b["replica_id"], b["status"]) for b in sent] == [(replica, "ready")]
        with serve(db, "--replica-seconds", "1"):  # a further restart owes nothing
            time.sleep(1.0)
        assert len(receiver.bodies) == 1
    finally:
        receiver.server.shutdown()


def test_of_two_stores_on_one_file_only_one_claims_a_callback(new_db: Callable[[str], str]) -> None:
    """The claim is a write under the file's write lock, after catching up: the second claimant finds it taken."""
    db = new_db("state")
    first, second = DbStore(db, delays=Delays(replica=0.01)), DbStore(db, delays=Delays(replica=0.01))
    try:
        with first.transaction(write=True):
            record = first.create(
                "replicas",
                "tenant",
                {"status": "started", "training_progress": "0/100", "callback_url": "http://127.0.0.1:9/hook"},
            )
        time.sleep(0.05)  # the job is due
        second._catch_up()
        assert [r.id for r in second.pending_callbacks()] == [record.id]  # both owe it ...
        assert [r.id for r in first.pending_callbacks()] == [record.id]
        url, body = second.claim_callback("replicas", record.id) or ("", {})
        assert (url, body.get("status")) == ("http://127.0.0.1:9/hook", "ready")
        assert first.claim_callback("replicas", record.id) is None  # ... one sends it
        assert first.pending_callbacks() == second.pending_callbacks() == []
    finally:
        first.close()
        second.close()
