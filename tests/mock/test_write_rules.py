"""A family's rules hold on every write path (issue 23's findings, each measured from outside first):
create, JSON Patch (copy and move included), flat update and seed end in the same check, and a
refused request changes nothing, in memory exactly as on a --db file (its ETag included)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tavus_mock import MockServer
from tavus_mock.spec import Spec
from tests.conftest import OTHER_KEY, TEST_KEY
from tests.mock.conftest import make_app

FACE = "rfe12d8b9597"
OTHER = {"x-api-key": OTHER_KEY}


@pytest.fixture(params=["memory", "db"])
def store_api(request: pytest.FixtureRequest, spec: Spec, tmp_path: Path) -> Iterator[httpx.Client]:
    """A client against a fresh server on a socket, with the state in memory or in a --db file."""
    config: dict[str, Any] = {} if request.param == "memory" else {"db": str(tmp_path / "state.db")}
    with (
        MockServer(make_app(spec, **config)) as server,
        httpx.Client(base_url=server.url, headers={"x-api-key": TEST_KEY}) as client,
    ):
        yield client


def _pal(api: httpx.Client, headers: dict[str, str] | None = None) -> str:
    answer = api.post(
        "/v2/pals",
        json={"pal_name": "Concierge", "system_prompt": "Be kind.", "default_face_id": FACE},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    pal_id: str = answer.json()["pal_id"]
    return pal_id


def _text(answer: httpx.Response) -> str:
    body: dict[str, Any] = answer.json()
    return str(body.get("message") or body.get("error"))


# -- guardrails: no field becomes null ----------------------------------------------------------
def test_a_guardrail_field_cannot_be_patched_to_null_and_stays_readable(store_api: httpx.Client) -> None:
    api = store_api
    one = {"guardrail_name": "no_prices", "guardrail_prompt": "Never quote prices.", "tags": ["safety"]}
    gid = api.post("/v2/guardrails", json=one).json()["uuid"]
    for field in ("modality", "tags", "guardrail_name"):
        answer = api.patch(f"/v2/guardrails/{gid}", json=[{"op": "replace", "path": f"/{field}", "value": None}])
        assert answer.status_code == 422, (field, answer.text)
        assert field in _text(answer)
    read = api.get(f"/v2/guardrails/{gid}")
    assert read.status_code == 200 and read.json()["modality"] == "verbal" and read.json()["tags"] == ["safety"]
    assert api.get("/v2/guardrails", params={"legacy": "false"}).status_code == 200


def test_a_null_does_not_spread_from_a_guardrail_into_its_set(store_api: httpx.Client) -> None:
    api = store_api
    created = api.post(
        "/v2/guardrails", json={"name": "Set", "data": [{"guardrail_name": "a", "guardrail_prompt": "b"}]}
    )
    set_id = created.json()["guardrails_id"]
    item = api.get(f"/v2/guardrails/{set_id}").json()["data"][0]["uuid"]
    assert (
        api.patch(f"/v2/guardrails/{item}", json=[{"op": "replace", "path": "/tags", "value": None}]).status_code == 422
    )
    renamed = api.patch(
        f"/v2/guardrails/{set_id}", json=[{"op": "replace", "path": "/guardrails_name", "value": "New"}]
    )
    assert renamed.status_code == 200, renamed.text


# -- references: the same key's, on every path --------------------------------------------------
@pytest.mark.parametrize("op", ["copy", "move"])
def test_another_keys_pal_cannot_be_copied_into_a_deployment(store_api: httpx.Client, op: str) -> None:
    api = store_api
    victim_pal = _pal(api)  # the test key's PAL
    own_pal = _pal(api, OTHER)
    dep = api.post("/v2/deployments", json={"pal_id": own_pal, "channel": "widget"}, headers=OTHER).json()
    url = f"/v2/deployments/{dep['deployment_id']}"
    tag = api.get(url, headers=OTHER).headers["etag"]
    direct = api.patch(url, json=[{"op": "replace", "path": "/pal_id", "value": victim_pal}], headers=OTHER)
    assert direct.status_code == 400
    sneaky = [{"op": "replace", "path": "/name", "value": victim_pal}, {"op": op, "from": "/name", "path": "/pal_id"}]
    answer = api.patch(url, json=sneaky, headers=OTHER)
    assert answer.status_code == 400, answer.text
    assert "pal_id" in _text(answer)
    after = api.get(url, headers=OTHER)
    assert after.json()["pal_id"] == own_pal and after.json()["name"] == dep["name"] and after.headers["etag"] == tag
    init = api.get(f"{url}/init", headers={"x-api-key": ""}).json()
    assert init["is_available"] is True  # its own PAL: nothing was learnt about the other key's


def test_a_refused_deployment_patch_changes_nothing_and_keeps_its_etag(store_api: httpx.Client) -> None:
    api = store_api
    dep = api.post("/v2/deployments", json={"pal_id": _pal(api), "channel": "widget", "password": "pw"}).json()
    url = f"/v2/deployments/{dep['deployment_id']}"
    tag = api.get(url).headers["etag"]
    refused = api.patch(
        url,
        json=[{"op": "replace", "path": "/name", "value": "new"}, {"op": "test", "path": "/password", "value": "x"}],
    )
    assert refused.status_code == 422
    after = api.get(url)
    assert after.json()["name"] == dep["name"] and after.headers["etag"] == tag
    # The ETag still names the stored version: a patch made with it applies, and moves it.
    applied = api.patch(url, json=[{"op": "replace", "path": "/name", "value": "n2"}], headers={"if-match": tag})
    assert applied.status_code == 200 and applied.headers["etag"] != tag


def test_a_persona_names_only_its_own_keys_tools_documents_and_faces(store_api: httpx.Client) -> None:
    api = store_api
    tool = {"name": "lookup", "description": "Look up", "delivery": {"app_message": True}}
    other_tool = api.post("/v2/tools", json=tool, headers=OTHER).json()["tool_id"]
    other_doc = api.post("/v2/documents", json={"document_url": "https://example.com/a.pdf"}, headers=OTHER).json()[
        "document_id"
    ]
    base = {"pal_name": "x", "system_prompt": "y", "default_face_id": FACE}
    for field, value in (
        ("tool_ids", [other_tool]),
        ("document_ids", [other_doc]),
        ("document_ids", [f"d8-{i:012x}" for i in range(10_000)]),
        ("default_face_id", "r00000000000"),
    ):
        answer = api.post("/v2/pals", json={**base, field: value})
        assert answer.status_code == 400, (field, answer.status_code)
        assert field in _text(answer), _text(answer)
    pal = _pal(api)
    for path, value in (
        ("/default_face_id", "r00000000000"),
        ("/tool_ids", [other_tool]),
        ("/document_ids", [other_doc]),
    ):
        answer = api.patch(f"/v2/pals/{pal}", json=[{"op": "add", "path": path, "value": value}])
        assert answer.status_code == 400, (path, answer.text)
        assert path[1:] in _text(answer)
    copied = [{"op": "add", "path": "/greeting", "value": other_tool}, {"op": "add", "path": "/tool_ids", "value": []}]
    copied.append({"op": "copy", "from": "/greeting", "path": "/tool_ids/0"})
    assert api.patch(f"/v2/pals/{pal}", json=copied).status_code == 400
    flat = api.patch(f"/v2/personas/{pal}", json=[{"op": "replace", "path": "/persona_name", "value": "kept"}])
    assert flat.status_code == 200  # a reference it did not change is not judged again
    persona = api.get(f"/v2/personas/{pal}").json()
    assert persona.get("tool_ids") in (None, []) and persona["document_ids"] == []


# -- secrets: masked by name ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "auth",
    [
        {"type": "none", "token": "s3cret-token", "password": "s3cret-pw"},
        {"type": "bearer", "token": "s3cret-token", "value": "s3cret-value"},
    ],
)
def test_a_secret_is_masked_whatever_auth_type_carries_it(store_api: httpx.Client, auth: dict[str, Any]) -> None:
    api = store_api
    tool = {
        "name": "hook",
        "description": "Call the hook",
        "delivery": {"api": {"url": "https://hooks.example.com/x", "auth": auth}},
    }
    created = api.post("/v2/tools", json=tool)
    if created.status_code == 400:  # refusing a secret an auth type has no use for is also safe
        assert "s3cret" not in created.text
        return
    assert created.status_code == 200, created.text
    tool_id = created.json()["tool_id"]
    for answer in (created, api.get(f"/v2/tools/{tool_id}"), api.get("/v2/tools")):
        assert "s3cret" not in answer.text, answer.text


# -- what real clients send -------------------------------------------------------------------------
def test_a_conversation_with_pal_id_null_beside_persona_id_is_accepted(store_api: httpx.Client) -> None:
    """livekit-plugins-tavus 1.8.9 sends `pal_id: null` and `face_id: null` beside the legacy ids."""
    body = {"persona_id": "pb87e71797da", "replica_id": FACE, "pal_id": None, "face_id": None}
    answer = store_api.post("/v2/conversations", json=body)
    assert answer.status_code == 200, answer.text


def test_a_refused_json_patch_names_the_path_and_never_echoes_the_record(store_api: httpx.Client) -> None:
    api = store_api
    secret_prompt = "Internal prompt " + "z" * 300
    pal = api.post("/v2/pals", json={"pal_name": "p", "system_prompt": secret_prompt, "default_face_id": FACE}).json()
    answer = api.patch(f"/v2/pals/{pal['pal_id']}", json=[{"op": "replace", "path": "/pal_name", "value": 5}])
    assert answer.status_code == 422
    assert "pal_name" in _text(answer) and "zzzz" not in answer.text
    missing = api.patch(f"/v2/pals/{pal['pal_id']}", json=[{"op": "remove", "path": "/greeting/x"}])
    assert missing.status_code == 422 and "/greeting/x" in _text(missing) and "zzzz" not in missing.text


def test_an_anyof_body_refusal_names_the_field(store_api: httpx.Client) -> None:
    answer = store_api.post("/v2/guardrails", json={"guardrail_name": 5, "guardrail_prompt": "x"})
    assert answer.status_code == 400
    assert "guardrail_name" in _text(answer) and "not valid under any" not in _text(answer), _text(answer)


# -- a family added as one module (lipsync, deprecated but documented) ------------------------------
def test_lipsync_is_served_by_its_module_alone(store_api: httpx.Client) -> None:
    api = store_api
    body = {
        "original_video_url": "https://example.com/v.mp4",
        "source_audio_url": "https://example.com/a.mp3",
        "lipsync_name": "Re-voiced",
    }
    created = api.post("/v2/lipsync", json=body)
    assert created.status_code == 200, created.text
    lipsync_id = created.json()["lipsync_id"]
    assert created.json()["request_id"] == lipsync_id and created.json()["status"] == "started"
    read = api.get(f"/v2/lipsync/{lipsync_id}").json()  # instant delays: already made
    assert read["status"] == "completed" and read["video_url"].endswith(f"{lipsync_id}.mp4")
    assert api.get("/v2/lipsync").json()["total_count"] == 1
    assert api.get(f"/v2/lipsync/{lipsync_id}", headers=OTHER).status_code == 404
    assert api.delete(f"/v2/lipsync/{lipsync_id}").status_code == 204
    assert api.get(f"/v2/lipsync/{lipsync_id}").status_code == 404


# -- what Tavus's docs show works as shown -------------------------------------------------------------
def test_the_docs_stock_personas_and_replicas_work_as_the_docs_show(store_api: httpx.Client) -> None:
    """The stock-personas page's conversations, the use-case pages' ids and the quickstarts' replicas."""
    api = store_api
    assert (
        api.post("/v2/conversations", json={"replica_id": "r4f5b5ef55c8", "persona_id": "p1af207b8189"}).status_code
        == 200
    )
    names = {
        pid: api.get(f"/v2/personas/{pid}").json()
        for pid in ("p1af207b8189", "paaee96e4f87", "pdac61133ac5", "pcb7a34da5fe")
    }
    assert names["p1af207b8189"]["persona_name"] == "Sales Coach"
    assert names["paaee96e4f87"]["persona_name"] == "Customer Support"
    assert names["paaee96e4f87"]["default_replica_id"] == "r3f427f43c9d"
    assert names["pdac61133ac5"]["persona_name"] == "Interviewer Template"
    for pid in names:  # each has a default replica: a conversation needs nothing else
        assert api.post("/v2/conversations", json={"persona_id": pid}).status_code == 200, pid
    for replica in ("rf4e9d9790f0", "r5dc7c7d0bcb"):
        body = {
            "persona_name": "Interviewer",
            "system_prompt": "x",
            "pipeline_mode": "full",
            "default_replica_id": replica,
        }
        assert api.post("/v2/personas", json=body).status_code == 200, replica
