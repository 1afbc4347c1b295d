"""Lifecycles, callbacks, seeds, fault injection, concurrency, logging and the command line."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tavus_mock import Delays, MockConfig, MockServer, Spec, TavusMock
from tavus_mock.cli import build_app, parse_args
from tests.conftest import TEST_KEY
from tests.mock.conftest import make_app

STOCK_REPLICA = "rfe12d8b9597"


class Receiver:
    """A real HTTP server on a free port that records the callbacks POSTed to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.bodies) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.bodies


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def client(server: MockServer, key: str = TEST_KEY) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"x-api-key": key})


@pytest.fixture(params=["socket", "in-process"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextmanager
def open_api(app: TavusMock, transport: str) -> Iterator[httpx.Client]:
    """A client of `app`: over a real socket (uvicorn on a free port) or in-process (ASGI)."""
    if transport == "socket":
        with MockServer(app) as server, client(server) as api:
            yield api
    else:
        from starlette.testclient import TestClient

        with TestClient(app, base_url="http://mock", headers={"x-api-key": TEST_KEY}) as api:
            yield api


def test_jobs_move_through_their_states(spec: Spec, transport: str) -> None:
    with open_api(make_app(spec, delays=Delays(replica=0.6, video=0.6, document=0.6)), transport) as api:
        rid = api.post("/v2/replicas", json={"train_video_url": "https://example.com/t.mp4"}).json()["replica_id"]
        vid = api.post("/v2/videos", json={"replica_id": STOCK_REPLICA, "script": "x"}).json()["video_id"]
        did = api.post("/v2/documents", json={"document_url": "https://example.com/d.pdf"}).json()["document_id"]
        assert api.get(f"/v2/replicas/{rid}").json()["status"] == "started"
        assert api.get(f"/v2/videos/{vid}").json()["status"] == "queued"
        assert api.get(f"/v2/videos/{vid}").json()["download_url"] is None
        time.sleep(0.35)
        assert api.get(f"/v2/videos/{vid}").json()["status"] == "generating"
        assert api.get(f"/v2/documents/{did}").json()["status"] == "processing"
        time.sleep(0.4)
        replica = api.get(f"/v2/replicas/{rid}").json()
        assert (replica["status"], replica["training_progress"]) == ("completed", "100/100")
        video = api.get(f"/v2/videos/{vid}").json()
        assert video["status"] == "ready" and video["download_url"].endswith(".mp4")
        assert api.get(f"/v2/documents/{did}").json()["progress"] == 100


def test_callbacks_are_posted_in_the_background(spec: Spec, receiver: Receiver) -> None:
    with (
        MockServer(make_app(spec, delays=Delays(replica=0.2, video=0.2, document=0.2))) as server,
        client(server) as api,
    ):
        started = time.monotonic()
        api.post("/v2/videos", json={"replica_id": STOCK_REPLICA, "script": "x", "callback_url": receiver.url})
        api.post("/v2/replicas", json={"train_video_url": "https://example.com/t.mp4", "callback_url": receiver.url})
        assert time.monotonic() - started < 0.2  # the answers did not wait for the jobs
        cid = api.post("/v2/conversations", json={"replica_id": STOCK_REPLICA, "callback_url": receiver.url}).json()[
            "conversation_id"
        ]
        api.post(f"/v2/conversations/{cid}/end")
        bodies = receiver.wait_for(5)
    by_kind = {b.get("event_type") or ("video" if "video_id" in b else "replica"): b for b in bodies}
    assert by_kind["video"]["status"] == "ready"
    assert by_kind["replica"] == {
        "replica_id": by_kind["replica"]["replica_id"],
        "status": "ready",
        "error_message": None,
    }
    assert by_kind["system.shutdown"]["properties"]["shutdown_reason"] == "end_conversation_endpoint_hit"
    assert {"system.replica_joined", "application.transcription_ready"} <= set(by_kind)
    schemas = {"video": "Video", "replica": "ReplicaTrainingCallback"}
    for kind, body in by_kind.items():
        errors = spec.validator(spec.schema(schemas.get(kind, "ConversationCallback"))).errors(body)
        assert not errors, (kind, errors)


def test_a_failing_callback_is_logged_not_fatal(spec: Spec, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "tavus_mock")
    dead = "http://127.0.0.1:9/hook"
    with MockServer(make_app(spec)) as server, client(server) as api:
        api.post("/v2/videos", json={"replica_id": STOCK_REPLICA, "script": "x", "callback_url": dead})
        deadline = time.monotonic() + 5
        while "callback" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
        assert api.get("/v2/videos").status_code == 200
    assert "failed" in caplog.text


def test_a_crashing_background_job_is_logged(spec: Spec, caplog: pytest.LogCaptureFixture) -> None:
    """No "Task exception was never retrieved": every background failure ends as one log line."""

    class Crashing(TavusMock):
        async def _post(self, url: str, payload: dict[str, object]) -> None:
            raise RuntimeError("the receiver exploded")

    caplog.set_level(logging.WARNING, "tavus_mock")
    app = Crashing(spec, MockConfig(api_keys=frozenset({TEST_KEY}), delays=Delays.instant()))
    with MockServer(app) as server, client(server) as api:
        api.post("/v2/conversations", json={"replica_id": STOCK_REPLICA, "callback_url": "http://127.0.0.1:9/h"})
        deadline = time.monotonic() + 5
        while "background job failed" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
    assert "background job failed: RuntimeError: the receiver exploded" in caplog.text
    assert "never retrieved" not in caplog.text


def test_seed_file(spec: Spec, tmp_path: Path, transport: str) -> None:
    seed = {
        "system": {"replicas": [{"replica_id": "rstock000001", "replica_name": "Anna", "status": "completed"}]},
        "tenants": {TEST_KEY: {"personas": [{"persona_name": "Seeded"}]}},
    }
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    app = make_app(spec)
    assert app.store.load_seed(path) == 2
    with open_api(app, transport) as api:
        assert api.get("/v2/replicas/rstock000001", params={"verbose": "true"}).json()["replica_type"] == "system"
        names = [p["persona_name"] for p in api.get("/v2/personas", params={"persona_type": "user"}).json()["data"]]
        assert names == ["Seeded"]


def test_fault_rate(spec: Spec, transport: str) -> None:
    with open_api(make_app(spec, fault_rate=0.5, fault_seed=7), transport) as api:
        codes = [api.get("/v2/personas").status_code for _ in range(200)]
    faults = [c for c in codes if c != 200]
    assert set(faults) <= {429, 500, 503}
    assert 60 < len(faults) < 140


def test_concurrent_writes_lose_no_update(spec: Spec) -> None:
    with MockServer(make_app(spec)) as server, client(server) as api:
        oid = api.post("/v2/objectives", json={"data": [{"objective_name": "seed", "objective_prompt": "x"}]}).json()[
            "objectives_id"
        ]
        threads, per_thread = 8, 25
        failures: list[int] = []

        def writer(n: int) -> None:
            with client(server) as mine:
                for i in range(per_thread):
                    op = [
                        {
                            "op": "add",
                            "path": "/data/-",
                            "value": {"objective_name": f"t{n}_{i}", "objective_prompt": "y"},
                        }
                    ]
                    status = mine.patch(f"/v2/objectives/{oid}", json=op).status_code
                    if status != 200:
                        failures.append(status)

        workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        data = api.get(f"/v2/objectives/{oid}").json()["data"]
        assert not failures
        assert len(data) == 1 + threads * per_thread
        assert len({d["objective_name"] for d in data}) == len(data)


def test_one_log_line_per_request_without_the_key(spec: Spec, caplog: pytest.LogCaptureFixture, transport: str) -> None:
    caplog.set_level(logging.INFO, "tavus_mock")
    with open_api(make_app(spec), transport) as api:
        api.get("/v2/personas")
        api.post("/v2/personas", json={"persona_name": "x"})
        api.get("/v2/personas", headers={"x-api-key": "wrong-key-value"})
    lines = [r.getMessage() for r in caplog.records if r.name == "tavus_mock"]
    assert len(lines) == 3
    assert lines[0].startswith("GET /v2/personas 200 ") and lines[0].endswith("ms")
    assert lines[2].startswith("GET /v2/personas 401")
    assert TEST_KEY not in caplog.text and "wrong-key-value" not in caplog.text


@pytest.mark.anyio
async def test_concurrent_tasks_in_process_lose_no_update(spec: Spec) -> None:
    app = make_app(spec)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers={"x-api-key": TEST_KEY}) as api:
        made = await api.post("/v2/guardrails", json={"data": [{"guardrail_name": "g0", "guardrail_prompt": "x"}]})
        gid = made.json()["guardrails_id"]

        async def add(n: int) -> int:
            op = [{"op": "add", "path": "/data/-", "value": {"guardrail_name": f"g{n}", "guardrail_prompt": "y"}}]
            return (await api.patch(f"/v2/guardrails/{gid}", json=op)).status_code

        statuses = await asyncio.gather(*(add(n) for n in range(1, 201)))
        data = (await api.get(f"/v2/guardrails/{gid}")).json()["data"]
    assert set(statuses) == {200}
    assert sorted(int(d["guardrail_name"][1:]) for d in data) == list(range(201))


def test_command_line_options(spec: Spec, tmp_path: Path) -> None:
    args = parse_args(
        ["--api-key", "a", "--api-key", "b", "--speed", "4", "--fault-rate", "0.2", "--fault-codes", "503"]
    )
    app = build_app(args)
    assert app.config.api_keys == {"a", "b"}
    assert app.config.delays.video == 1.5 and app.config.fault_codes == (503,)
    with pytest.raises(SystemExit):
        parse_args(["--fault-rate", "2"])


def test_callbacks_never_leave_the_machine_by_default(spec: Spec, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "tavus_mock")
    app = make_app(spec)
    assert app.callback_allowed("http://127.0.0.1:8000/hook") and app.callback_allowed("http://localhost/x")
    assert app.callback_allowed("http://[::1]:9/x") and app.callback_allowed("http://127.8.9.10/x")
    for url in (
        "https://example.com/hook",
        "http://10.0.0.1/x",
        "http://192.168.1.5/",
        "ftp://127.0.0.1/",
        "0000",
        "http://[bad",
    ):
        assert not app.callback_allowed(url), url
    with MockServer(app) as server, client(server) as api:
        api.post(
            "/v2/videos", json={"replica_id": STOCK_REPLICA, "script": "x", "callback_url": "https://example.com/hook"}
        )
        deadline = time.monotonic() + 5
        while "skipped" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
    assert "skipped: not a loopback address" in caplog.text
    assert not app.callbacks_sent


def test_recrawl_waits_for_a_settled_document(spec: Spec) -> None:
    with MockServer(make_app(spec, delays=Delays(document=0.4))) as server, client(server) as api:
        did = api.post(
            "/v2/documents", json={"document_url": "https://docs.example.com/", "crawl": {"depth": 1}}
        ).json()["document_id"]
        busy = api.post(f"/v2/documents/{did}/recrawl")
        assert busy.status_code == 409 and "current status" in busy.json()["error"]
        time.sleep(0.5)
        assert api.post(f"/v2/documents/{did}/recrawl").status_code == 202
        assert api.get(f"/v2/documents/{did}").json()["status"] == "recrawling"


def test_a_seeded_job_with_a_callback_url_is_called_back_once(spec: Spec, receiver: Receiver) -> None:
    """Seeds load before any event loop runs: the server sends what they owe when it starts."""
    app = make_app(spec, delays=Delays(replica=0.2))
    replica = {"replica_id": "rseeded00001", "status": "started", "training_progress": "0/100"}
    app.store.load_seed_data({"tenants": {TEST_KEY: {"replicas": [{**replica, "callback_url": receiver.url}]}}})
    with MockServer(app):
        bodies = receiver.wait_for(1)
        time.sleep(0.3)
    assert [(b["replica_id"], b["status"]) for b in bodies] == [("rseeded00001", "ready")]
    with MockServer(app):  # started again on the same state: nothing more is owed
        time.sleep(0.3)
        assert len(receiver.bodies) == 1
        # seeded while the server runs (from this thread, as the pytest fixture's .seed() does)
        later = {**replica, "replica_id": "rseeded00002", "callback_url": receiver.url}
        app.store.load_seed_data({"tenants": {TEST_KEY: {"replicas": [later]}}})
        bodies = receiver.wait_for(2)
        time.sleep(0.3)
    assert [b["replica_id"] for b in bodies] == ["rseeded00001", "rseeded00002"]


def test_transcriptions_complete_and_call_back(spec: Spec, receiver: Receiver) -> None:
    with MockServer(make_app(spec, delays=Delays(transcription=0.3))) as server, client(server) as api:
        made = api.post(
            "/v2/transcriptions", json={"file_url": "https://example.com/a.mp4", "callback_url": receiver.url}
        )
        tid = made.json()["transcription_id"]
        assert made.json()["status"] == "started" and api.get(f"/v2/transcriptions/{tid}").json()["text"] is None
        bodies = receiver.wait_for(1)
        done = api.get(f"/v2/transcriptions/{tid}").json()
        assert done["status"] == "completed" and done["text"] == "Transcript of https://example.com/a.mp4."
        assert bodies[0]["transcription_id"] == tid and bodies[0]["status"] == "completed"
        assert api.get("/v2/transcriptions").json()["total_count"] == 1
        assert api.delete(f"/v2/transcriptions/{tid}").status_code == 204
        assert api.get(f"/v2/transcriptions/{tid}").status_code == 404
        assert api.post("/v2/transcriptions", json={"file_url": "https://example.com/a.mp4"}).status_code == 400


def test_the_example_seed_file_loads(spec: Spec) -> None:
    app = make_app(spec)
    seed = Path(__file__).resolve().parents[2] / "examples" / "seed.json"
    assert app.store.load_seed(seed) == 3
    assert app.store.exists("replicas", "anyone", "r0000stock01")
