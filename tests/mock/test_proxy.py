"""`tavus-mock --proxy`: the drift report names each difference between the spec and an upstream (and
nothing else), a recording seeds a new mock with the upstream's resources, and the proxy is safe (reads
only by default, no retry, time-outs and unreachable upstreams reported, the caller's key kept nowhere).

The upstream is a tavus-mock started on a deliberately different spec: a field added, a type changed,
a status code added, an operation removed. No test talks to the internet.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tavus_mock.app import MockConfig, TavusMock
from tavus_mock.drift import Drift, strict
from tavus_mock.proxy import Proxy, ProxyConfig
from tavus_mock.server import BackgroundServer, MockServer
from tavus_mock.spec import Spec
from tavus_mock.store import Delays

KEY = "sk-proxy-test-7f3a9c"  # must never show in a report or a recording
SLOW = Delays(3600, 3600, 3600, 3600)  # nothing finishes while a test looks


def upstream_spec(spec: Spec, directory: Path) -> Spec:
    """Our spec with four deliberate differences, as a live API might drift from it."""
    raw = yaml.safe_load(spec.path.read_text(encoding="utf-8"))
    persona = raw["components"]["schemas"]["Persona"]["properties"]
    persona["mood"] = {"type": ["string", "null"]}  # 1. a field added
    persona["context"] = {"type": ["string", "integer", "null"]}  # 2. a type changed
    guardrails = raw["paths"]["/v2/guardrails"]["get"]["responses"]
    guardrails["409"] = {"description": "Busy", "content": {"application/json": {"schema": {"type": "object"}}}}
    del raw["paths"]["/v2/objectives"]["get"]  # 4. an operation removed (its POST stays)
    path = directory / "upstream.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return Spec(path)


@pytest.fixture
def drifted(spec: Spec, tmp_path: Path) -> Iterator[MockServer]:
    app = TavusMock(upstream_spec(spec, tmp_path), MockConfig(access_log=False, delays=SLOW))
    with MockServer(app) as server:
        yield server


def proxy_for(spec: Spec, upstream: str, **options: Any) -> BackgroundServer:
    return BackgroundServer(Proxy(spec, ProxyConfig(upstream=upstream, access_log=False, **options)))


def findings(report: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(op_id, f["kind"], f["where"]) for op_id, entry in report["operations"].items() for f in entry["findings"]}


def test_the_report_names_each_difference_and_nothing_else(spec: Spec, drifted: MockServer, tmp_path: Path) -> None:
    persona = {"persona_name": "Drifting", "system_prompt": "x", "mood": "calm", "context": 42}
    loaded = drifted.app.store.load_seed_data({"tenants": {KEY: {"personas": [persona]}}})
    assert loaded == 1
    pid = drifted.app.store.export(drifted.app.store.tenant_of(KEY))["personas"][0]["persona_id"]
    drifted.fail_next("listGuardrails", 409)  # 3. the status code the upstream's spec added
    report_file = tmp_path / "drift.md"
    with (
        proxy_for(spec, drifted.url, drift_report=report_file) as proxy,
        httpx.Client(base_url=proxy.url, headers={"x-api-key": KEY}, timeout=10) as http,
    ):
        statuses = {
            "personas": http.get("/v2/personas").status_code,
            "persona": http.get(f"/v2/personas/{pid}").status_code,
            "guardrails": http.get("/v2/guardrails").status_code,
            "objectives": http.get("/v2/objectives").status_code,
        }
        # Ordinary traffic the two specs agree on: no finding may come of it.
        for path in ("/v2/replicas", "/v2/documents", "/v2/tools", "/v2/conversations", "/v2/guardrails"):
            assert http.get(path).status_code == 200, path
        assert http.get("/v2/personas/pdced222244b").status_code == 200
        assert http.get("/v2/replicas", params={"verbose": "true", "limit": 2}).status_code == 200
        report = http.get("/_mock/drift").json()
        markdown = http.get("/_mock/drift.md").text
    assert statuses == {"personas": 200, "persona": 200, "guardrails": 409, "objectives": 405}
    assert findings(report) == {
        ("listPersonas", "undescribed_field", "data/*/mood"),
        ("listPersonas", "type_mismatch", "data/*/context"),
        ("getPersona", "undescribed_field", "mood"),
        ("getPersona", "type_mismatch", "context"),
        ("listGuardrails", "undocumented_status", "(status)"),
        ("listObjectives", "operation_missing", "(operation)"),
    }
    by_key = {(op, f["kind"]): f for op, e in report["operations"].items() for f in e["findings"]}
    assert by_key[("getPersona", "type_mismatch")]["detail"] == "expected null or string, got integer"
    assert by_key[("getPersona", "type_mismatch")]["example"] == "42"
    assert by_key[("getPersona", "undescribed_field")]["example"] == '"calm"'
    assert "409" in by_key[("listGuardrails", "undocumented_status")]["detail"]
    assert report["operations"]["listReplicas"]["findings"] == []
    # The Markdown file is written when the proxy stops, and says the same.
    written = report_file.read_text(encoding="utf-8")
    assert written == markdown
    for op_id in ("listPersonas", "getPersona", "listGuardrails", "listObjectives"):
        assert f"`{op_id}`" in written
    assert KEY not in written and KEY not in json.dumps(report)


def test_recording_then_seeding_reproduces_the_upstream(spec: Spec, tmp_path: Path) -> None:
    upstream = TavusMock(spec, MockConfig(access_log=False, delays=SLOW))
    with MockServer(upstream) as server, httpx.Client(base_url=server.url, headers={"x-api-key": KEY}) as direct:
        made = [
            direct.post("/v2/personas", json={"persona_name": "Coach", "system_prompt": "Be brief."}),
            direct.post("/v2/personas", json={"persona_name": "Tutor", "system_prompt": "Teach."}),
            direct.post("/v2/replicas", json={"train_video_url": "https://example.com/t.mp4", "replica_name": "Me"}),
            direct.post("/v2/documents", json={"document_url": "https://example.com/a.pdf", "document_name": "A"}),
        ]
        assert all(r.status_code in (200, 201) for r in made), [r.text for r in made]
        gone = direct.post("/v2/personas", json={"persona_name": "Gone", "system_prompt": "x"}).json()["persona_id"]
        record = tmp_path / "recorded.json"
        with (
            proxy_for(spec, server.url, record=record, record_as="replay-key", allow_writes=True) as proxy,
            httpx.Client(base_url=proxy.url, headers={"x-api-key": KEY}) as http,
        ):
            for path in ("/v2/personas", "/v2/replicas", "/v2/documents"):
                assert http.get(path, params={"limit": 100}).status_code == 200
            assert http.delete(f"/v2/personas/{gone}").status_code == 204  # forgotten by the recording
        upstream_state = {
            tag: {r["_id"]: (r["name"], r["state"]) for r in rows} for tag, rows in _summary(upstream, KEY).items()
        }
    seed = json.loads(record.read_text(encoding="utf-8"))
    assert KEY not in record.read_text(encoding="utf-8")
    assert list(seed["tenants"]) == ["replay-key"]
    fresh = TavusMock(spec, MockConfig(access_log=False, delays=SLOW))
    fresh.store.load_seed(record)
    replayed = {
        tag: {r["_id"]: (r["name"], r["state"]) for r in rows} for tag, rows in _summary(fresh, "replay-key").items()
    }
    assert replayed == upstream_state
    assert gone not in replayed["personas"]
    assert {state for _, state in replayed["replicas"].values()} == {"started"}  # as the upstream showed it


def _summary(app: TavusMock, key: str) -> dict[str, list[dict[str, Any]]]:
    """Each of a key's records by kind: its id, its name and its state, as the store holds them."""
    out: dict[str, list[dict[str, Any]]] = {}
    for tag, records in app.store.export(app.store.tenant_of(key)).items():
        family = app.families[tag]
        out[tag] = [
            {
                "_id": r[family.id_field],
                "name": next((v for k, v in r.items() if k.endswith("_name")), None),
                "state": r.get("status"),
            }
            for r in records
        ]
    return out


def test_writes_are_refused_unless_allowed_and_nothing_is_retried(spec: Spec) -> None:
    upstream = TavusMock(spec, MockConfig(access_log=False))
    with MockServer(upstream) as server:
        with proxy_for(spec, server.url) as proxy, httpx.Client(base_url=proxy.url, headers={"x-api-key": KEY}) as http:
            refused = http.post("/v2/personas", json={"persona_name": "x", "system_prompt": "y"})
            assert refused.status_code == 403 and "--allow-writes" in refused.json()["error"]
            assert server.requests("createPersona") == []
            server.fail_next("listPersonas", 503)
            answer = http.get("/v2/personas")
            assert answer.status_code == 503 and answer.headers["retry-after"] == "0"  # passed on as it came
            assert len(server.requests("listPersonas")) == 1  # once: the proxy never retries
            assert server.requests("listPersonas")[0]["tenant"] == upstream.store.tenant_of(KEY)  # key passed through
        with proxy_for(spec, server.url, allow_writes=True) as proxy:
            made = httpx.post(
                f"{proxy.url}/v2/personas", json={"persona_name": "x", "system_prompt": "y"}, headers={"x-api-key": KEY}
            )
            assert made.status_code == 200 and len(server.requests("createPersona")) == 1


def _silent_server() -> tuple[socket.socket, threading.Event]:
    """A server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    done = threading.Event()
    held: list[socket.socket] = []

    def run() -> None:
        listener.settimeout(0.1)
        while not done.is_set():
            try:
                conn, _ = listener.accept()
                held.append(conn)
            except OSError:
                continue
        for conn in held:
            conn.close()

    threading.Thread(target=run, daemon=True).start()
    return listener, done


def test_time_outs_and_unreachable_upstreams_are_answered_and_reported(spec: Spec) -> None:
    listener, done = _silent_server()
    try:
        silent = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with proxy_for(spec, silent, timeout=0.5) as proxy:
            started = time.monotonic()
            answer = httpx.get(f"{proxy.url}/v2/personas", headers={"x-api-key": KEY}, timeout=10)
            took = time.monotonic() - started
            report = httpx.get(f"{proxy.url}/_mock/drift").json()
        assert answer.status_code == 504 and "0.5 s" in answer.json()["error"]
        assert took < 3
        assert report["upstream_errors"] == [
            {"operation": "listPersonas", "error": "no answer within 0.5 s", "count": 1}
        ]
    finally:
        done.set()
        listener.close()
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        closed_port = spare.getsockname()[1]
    with proxy_for(spec, f"http://127.0.0.1:{closed_port}") as proxy:
        answer = httpx.get(f"{proxy.url}/v2/personas/p1", headers={"x-api-key": KEY})
        report = httpx.get(f"{proxy.url}/_mock/drift").json()
    assert answer.status_code == 502 and "could not be reached" in answer.json()["error"]
    assert report["upstream_errors"][0]["operation"] == "getPersona"
    assert report["findings"] == 0


def test_an_answer_over_the_bound_is_a_502(spec: Spec) -> None:
    with (
        MockServer(TavusMock(spec, MockConfig(access_log=False))) as server,
        proxy_for(spec, server.url, max_answer=200) as proxy,
    ):
        answer = httpx.get(f"{proxy.url}/v2/personas", headers={"x-api-key": KEY})
    assert answer.status_code == 502 and "over 200 bytes" in answer.json()["error"]


def test_the_control_plane_of_the_proxy_is_closed_without_its_token(spec: Spec) -> None:
    with (
        MockServer(TavusMock(spec, MockConfig(access_log=False))) as server,
        proxy_for(spec, server.url, control_token="t0k") as proxy,
    ):
        assert httpx.get(f"{proxy.url}/_mock/drift").status_code == 403
        assert httpx.get(f"{proxy.url}/_mock/drift", headers={"x-mock-token": "t0k"}).status_code == 200
        assert httpx.get(f"{proxy.url}/_mock/record", headers={"x-mock-token": "t0k"}).status_code == 404


# -- the checks themselves, on schemas written here ---------------------------------------------


def _op(spec: Spec, op_id: str) -> Any:
    return spec.by_id[op_id]


def test_required_enum_and_composed_schemas(spec: Spec) -> None:
    drift = Drift(spec, "http://upstream")
    op = _op(spec, "getReplica")
    answer = {"replica_name": "n", "status": "dreaming", "replica_type": "user"}  # no replica_id, odd status
    drift.observe(op, 200, "application/json", json.dumps(answer).encode())
    kinds = {(f["kind"], f["where"]) for f in drift.report()["operations"]["getReplica"]["findings"]}
    assert ("missing_required", "replica_id") in kinds
    assert ("enum_mismatch", "status") in kinds
    assert len(kinds) == 2
    drift.observe(op, 200, "text/html", b"<html>")
    drift.observe(_op(spec, "deleteReplica"), 200, "application/json", b'{"ok": true}')
    kinds = {(op_id, f["kind"]) for op_id, e in drift.report()["operations"].items() for f in e["findings"]}
    assert ("getReplica", "not_json") in kinds and ("deleteReplica", "undescribed_body") in kinds


def test_strict_sees_through_all_of() -> None:
    import jsonschema_rs

    schema = {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}},
            {"type": "object", "properties": {"b": {"type": "object", "properties": {"c": {"type": "string"}}}}},
        ]
    }
    validator = jsonschema_rs.validator_for(
        {"$schema": "https://json-schema.org/draft/2020-12/schema", **strict(schema)}
    )
    assert validator.is_valid({"a": "x", "b": {"c": "y"}})
    assert not validator.is_valid({"a": "x", "z": 1})
    assert not validator.is_valid({"b": {"c": "y", "d": 1}})
    kept = strict(
        {"type": "object", "properties": {"m": {"type": "object", "additionalProperties": {"type": "string"}}}}
    )
    assert "unevaluatedProperties" not in kept["properties"]["m"]  # a map says itself what else it holds


def test_a_request_the_spec_refuses_but_the_server_took(spec: Spec) -> None:
    drift = Drift(spec, "http://upstream")
    op = _op(spec, "listPersonas")
    drift.observe(
        op, 200, "application/json", b'{"data": [], "total_count": 0}', request_problem="limit must be an integer"
    )
    drift.observe(op, 400, "application/json", b'{"error": "x"}', request_problem="limit must be an integer")
    found = drift.report()["operations"]["listPersonas"]["findings"]
    assert [(f["kind"], f["count"]) for f in found] == [("request_refused_by_spec", 1)]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--proxy", "ftp://x"], "http(s) base URL"),
        (["--proxy", "http://127.0.0.1:9", "--db", "x.db"], "--db has no meaning"),
        (["--record", "x.json"], "go with --proxy"),
        (["--proxy", "http://127.0.0.1:9", "--proxy-timeout", "0"], "must be positive"),
        (["--proxy", "http://127.0.0.1:9", "--record", "/no/such/dir/x.json"], "is not a directory"),
    ],
)
def test_bad_proxy_options_are_one_line(argv: list[str], words: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tavus_mock.cli", "--port", "0", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert words in done.stderr and "Traceback" not in done.stderr
