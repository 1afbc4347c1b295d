"""The request journal and the control plane (/_mock/...), over a socket: what a test of someone's app
reads to know what the app sent, and asserts on."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tavus_mock import MockServer
from tavus_mock.core import tenant_of
from tavus_mock.spec import Spec
from tests.conftest import OTHER_KEY, TEST_KEY
from tests.mock.conftest import make_app

FACE = "rfe12d8b9597"


@pytest.fixture
def server(spec: Spec) -> Iterator[MockServer]:
    with MockServer(make_app(spec, journal_size=50)) as running:
        yield running


@pytest.fixture
def api(server: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"x-api-key": TEST_KEY}) as client:
        yield client


def test_every_answered_request_is_journaled_without_the_key(server: MockServer, api: httpx.Client) -> None:
    body = {
        "pal_name": "Journal",
        "system_prompt": "x",
        "default_face_id": FACE,
        "layers": {"llm": {"api_key": "sk-1"}},
    }
    assert api.post("/v2/pals", json=body).status_code == 200
    assert api.get("/v2/personas", params={"limit": 2}).status_code == 200
    assert api.post("/v2/pals", json={"pal_name": 5}).status_code == 400
    assert httpx.get(server.url + "/v2/personas").status_code == 401
    found = api.get("/_mock/requests").json()
    entries = found["requests"]
    assert found["total"] == 4 and [e["operation_id"] for e in entries] == [
        "createPal",
        "listPersonas",
        "createPal",
        "listPersonas",
    ]
    first = entries[0]
    assert first["method"] == "POST" and first["path"] == "/v2/pals" and first["status"] == 200
    assert first["tenant"] == tenant_of(TEST_KEY) and TEST_KEY not in str(found)
    assert first["body"]["pal_name"] == "Journal" and first["body"]["layers"]["llm"]["api_key"] == "<redacted>"
    assert entries[1]["query"] == "limit=2" and entries[1]["body"] is None and entries[1]["ms"] >= 0
    assert entries[2]["status"] == 400 and "pal_name" in entries[2]["problem"]
    assert entries[3]["status"] == 401 and entries[3]["tenant"] == ""


def test_the_journal_filters_and_is_bounded(server: MockServer, api: httpx.Client) -> None:
    for _ in range(60):
        api.get("/v2/replicas", params={"limit": 1})
    api.get("/v2/personas", headers={"x-api-key": OTHER_KEY})
    everything = api.get("/_mock/requests").json()
    assert everything["total"] == 50  # journal_size
    mine = api.get("/_mock/requests", params={"tenant": tenant_of(OTHER_KEY)}).json()["requests"]
    assert [e["operation_id"] for e in mine] == ["listPersonas"]
    last = api.get("/_mock/requests", params={"operation": "listReplicas", "limit": 3}).json()
    assert last["total"] == 3
    assert api.get("/_mock/requests", params={"status": 404}).json()["total"] == 0
    assert api.get("/_mock/requests", params={"status": "x"}).status_code == 400


def test_reset_empties_the_state_and_the_journal(server: MockServer, api: httpx.Client) -> None:
    pal = api.post("/v2/pals", json={"pal_name": "Gone", "system_prompt": "x", "default_face_id": FACE}).json()
    assert api.post("/_mock/reset").status_code == 204
    assert api.get(f"/v2/pals/{pal['pal_id']}").status_code == 404
    assert api.get("/_mock/requests").json()["requests"][0]["operation_id"] == "getPal"
    assert api.get("/_mock/nothing").status_code == 404


def _control(app: Any, headers: list[tuple[bytes, bytes]], client: str) -> int:
    """Status of GET /_mock/requests asked by `client` (an ASGI call: the socket is always loopback)."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/_mock/requests", "query_string": b"", "headers": headers}
    asyncio.run(app({**scope, "client": (client, 40000)}, receive, send))
    status: int = sent[0]["status"]
    return status


def test_the_control_plane_is_for_loopback_clients_or_the_token_holder(spec: Spec) -> None:
    app = make_app(spec)
    assert _control(app, [], "127.0.0.1") == 200
    assert _control(app, [], "10.1.2.3") == 403
    guarded = make_app(spec, control_token="s3cret")
    assert _control(guarded, [], "127.0.0.1") == 403
    assert _control(guarded, [(b"x-mock-token", b"s3cret")], "10.1.2.3") == 200
    assert _control(guarded, [(b"x-mock-token", b"wrong")], "10.1.2.3") == 403


def test_assert_called_passes_and_says_what_was_called_instead(server: MockServer, api: httpx.Client) -> None:
    api.post("/v2/conversations", json={"persona_id": "pb87e71797da", "conversation_name": "Demo"})
    api.get("/v2/conversations")
    found = server.assert_called("createConversation", times=1, status=200, body={"conversation_name": "Demo"})
    assert len(found) == 1 and found[0]["body"]["persona_id"] == "pb87e71797da"
    assert server.requests("listConversations")[0]["status"] == 200
    with pytest.raises(AssertionError) as caught:
        server.assert_called("endConversation")
    message = str(caught.value)
    assert "expected endConversation at least once, found 0" in message
    assert "POST /v2/conversations (createConversation) -> 200" in message
    assert "GET /v2/conversations (listConversations) -> 200" in message
    with pytest.raises(AssertionError, match="2 time"):
        server.assert_called("createConversation", times=2)


# -- faults a test asks for ----------------------------------------------------------------------------
def test_fail_next_makes_the_next_calls_of_one_operation_fail(server: MockServer, api: httpx.Client) -> None:
    server.fail_next("listPersonas", 503, times=2)
    first, second, third = (api.get("/v2/personas") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.headers["retry-after"] == "0" and api.get("/v2/replicas").status_code == 200
    answer = api.post("/_mock/faults", json={"operation_id": "createPal", "status": 429})
    assert answer.status_code == 200 and answer.json()["times"] == 1
    assert api.post("/v2/pals", json={"pal_name": "x"}).status_code == 429
    assert api.post("/_mock/faults", json={"operation_id": "noSuchOp", "status": 500}).status_code == 400
    assert api.post("/_mock/faults", json={"operation_id": "listPersonas", "status": 200}).status_code == 400
    with pytest.raises(ValueError, match="operation_id"):
        server.fail_next("listPersonas", 700)
    server.assert_called("listPersonas", times=2, status=503)


# -- a conversation's events, sent to its callback_url ---------------------------------------------------
class Receiver:
    """A callback receiver on a real socket: keeps every JSON body POSTed to it (each on its own thread;
    the first one kept only after `first_delay` seconds, as a receiver slow to answer would)."""

    def __init__(self, first_delay: float = 0.0) -> None:
        received: list[dict[str, Any]] = []
        self.received = received
        arrived = itertools.count()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length))
                if next(arrived) == 0:
                    time.sleep(first_delay)
                received.append(body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/hook"

    def wait_for(self, event_type: str, timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for body in self.received:
                if body.get("event_type") == event_type:
                    return body
            time.sleep(0.02)
        raise AssertionError(f"no {event_type} callback; received {[b.get('event_type') for b in self.received]}")


def test_a_test_makes_a_conversation_send_its_transcript(server: MockServer, api: httpx.Client) -> None:
    receiver = Receiver()
    try:
        created = api.post("/v2/conversations", json={"persona_id": "pb87e71797da", "callback_url": receiver.url})
        cid = created.json()["conversation_id"]
        transcript = [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi there"}]
        sent = server.control(
            "conversations",
            cid,
            "events",
            event_type="application.transcription_ready",
            properties={"transcript": transcript},
        )
        assert sent["properties"]["transcript"] == transcript
        body = receiver.wait_for("application.transcription_ready")
        assert body["conversation_id"] == cid and body["message_type"] == "application"
        assert body["properties"]["transcript"] == transcript
        over_http = api.post(f"/_mock/conversations/{cid}/events", json={"event_type": "system.shutdown"})
        assert over_http.status_code == 200
        assert receiver.wait_for("system.shutdown")["properties"]["shutdown_reason"]
        read = api.get(f"/v2/conversations/{cid}", params={"verbose": "true"}).json()
        assert read["status"] == "ended"
        assert [e["event_type"] for e in read["events"]][-2:] == ["application.transcription_ready", "system.shutdown"]
        assert api.post(f"/_mock/conversations/{cid}/events", json={"event_type": "x"}).status_code == 400
        assert api.post("/_mock/conversations/cnope/events", json={"event_type": "system.shutdown"}).status_code == 404
        assert api.post(f"/_mock/personas/{cid}/events", json={}).status_code == 404
    finally:
        receiver.http.shutdown()


# -- the clock a test moves on --------------------------------------------------------------------------
def test_advancing_the_clock_finishes_jobs_and_sends_their_callbacks_in_order(spec: Spec) -> None:
    from tavus_mock import Delays

    receiver = Receiver(first_delay=0.5)  # the video's callback is slow to be taken: the replica's waits for it
    slow = make_app(spec, delays=Delays(replica=600.0, video=300.0, document=900.0, transcription=900.0))
    try:
        with MockServer(slow) as server, httpx.Client(base_url=server.url, headers={"x-api-key": TEST_KEY}) as api:
            replica = api.post(
                "/v2/replicas", json={"train_video_url": "https://x.example/v.mp4", "callback_url": receiver.url}
            )
            video = api.post("/v2/videos", json={"replica_id": FACE, "script": "Hi", "callback_url": receiver.url})
            rid, vid = replica.json()["replica_id"], video.json()["video_id"]
            assert api.get(f"/v2/replicas/{rid}").json()["status"] == "started"
            moved = api.post("/_mock/clock", json={"seconds": 400})
            assert moved.status_code == 200 and moved.json()["callbacks"] == 1  # the video (300 s) only
            assert api.get(f"/v2/videos/{vid}").json()["status"] == "ready"
            assert api.get(f"/v2/replicas/{rid}").json()["status"] == "started"
            assert server.advance(300) == 1  # the replica (600 s)
            assert api.get(f"/v2/replicas/{rid}").json()["status"] == "completed"
            deadline = time.monotonic() + 5
            while len(receiver.received) < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            kinds = ["video_id" in body for body in receiver.received]
            assert kinds == [True, False], receiver.received  # the video's first, then the replica's
            assert receiver.received[1]["replica_id"] == rid and receiver.received[1]["status"] == "ready"
            assert api.post("/_mock/clock", json={"seconds": -1}).status_code == 400
            assert server.advance(1000) == 0  # each callback goes out once
    finally:
        receiver.http.shutdown()


def test_seed_and_export_over_the_control_plane(server: MockServer, api: httpx.Client) -> None:
    seed = {"tenants": {TEST_KEY: {"personas": [{"persona_name": "Seeded", "system_prompt": "x"}]}}}
    assert api.post("/_mock/seed", json=seed).json() == {"loaded": 1}
    listed = api.get("/v2/personas", params={"persona_type": "user"}).json()
    assert [p["persona_name"] for p in listed["data"]] == ["Seeded"]
    bad = api.post("/_mock/seed", json={"tenants": {TEST_KEY: {"personas": [{"persona_name": 5}]}}})
    assert bad.status_code == 400 and "persona_name" in bad.json()["error"]
    exported = api.get("/_mock/export").json()
    assert [p["persona_name"] for p in exported["tenants"][TEST_KEY]["personas"]] == ["Seeded"]
    assert httpx.get(server.url + "/_mock/export").status_code == 400  # which key's, it must say
