"""PAL-era behaviour and what real clients send: aliases over the same records, both vocabularies on
conversations, the stock catalogue, and no invented limit that rejects real traffic."""

from __future__ import annotations

import httpx

from tavus_mock.resources.personas import STOCK_PERSONAS
from tavus_mock.resources.replicas import STOCK_REPLICAS
from tests.conftest import OTHER_KEY

FACE = "rfe12d8b9597"


def test_a_persona_is_a_pal_and_the_reverse(api: httpx.Client) -> None:
    pid = api.post(
        "/v2/personas", json={"persona_name": "Coach", "system_prompt": "x", "default_replica_id": FACE}
    ).json()["persona_id"]
    pal = api.get(f"/v2/pals/{pid}").json()
    assert pal["pal_id"] == pid and pal["pal_name"] == "Coach" and pal["default_face_id"] == FACE
    assert pal["pal_type"] == "user" and "persona_id" not in pal and "persona_name" not in pal

    created = api.post("/v2/pals", json={"pal_name": "Guide", "system_prompt": "y", "default_face_id": FACE})
    assert created.status_code == 200 and created.json()["pal_name"] == "Guide"
    pal_id = created.json()["pal_id"]
    assert pal_id.startswith("p")
    persona = api.get(f"/v2/personas/{pal_id}").json()
    assert persona["persona_name"] == "Guide" and persona["default_replica_id"] == FACE

    listed = api.get("/v2/pals", params={"pal_type": "user"}).json()
    assert {p["pal_id"] for p in listed["data"]} == {pid, pal_id} and listed["total_count"] == 2


def test_pal_era_fields_are_stored_once_and_read_through_both_paths(api: httpx.Client) -> None:
    tool = {"name": "lookup", "description": "Look up", "delivery": {"app_message": True}}
    tool_id = api.post("/v2/tools", json=tool).json()["tool_id"]
    body = {
        "pal_name": "Full",
        "system_prompt": "z",
        "default_face_id": FACE,
        "greeting": "Hi!",
        "guardrail_tags": ["safety"],
        "tool_ids": [tool_id],
        "memories": ["likes tea"],
        "layers": {
            "llm": {"model": "tavus-gemma-4", "speculative_inference": True},
            "knowledge_base": {"rag_n_chunks": 3},
        },
    }
    pal_id = api.post("/v2/pals", json=body).json()["pal_id"]
    persona = api.get(f"/v2/personas/{pal_id}").json()
    assert persona["greeting"] == "Hi!" and persona["tool_ids"] == [tool_id] and persona["memories"] == ["likes tea"]
    assert persona["layers"]["knowledge_base"] == {"rag_n_chunks": 3}


def test_create_pal_needs_a_face_and_says_so(api: httpx.Client) -> None:
    missing = api.post("/v2/pals", json={"pal_name": "x", "system_prompt": "y"})
    assert missing.status_code == 400 and "default_face_id" in missing.json()["error"]
    unknown = api.post("/v2/pals", json={"pal_name": "x", "system_prompt": "y", "default_face_id": "rnope"})
    assert unknown.status_code == 400 and "default_face_id" in unknown.json()["error"]
    assert "default_replica_id" not in unknown.json()["error"]


def test_patch_pal_uses_pal_names_and_answers_the_pal(api: httpx.Client) -> None:
    pal_id = api.post("/v2/pals", json={"pal_name": "Old", "system_prompt": "y", "default_face_id": FACE}).json()[
        "pal_id"
    ]
    patch = [
        {"op": "replace", "path": "/pal_name", "value": "New"},
        {"op": "add", "path": "/layers", "value": {"perception": {"perception_model": "raven-1"}}},
    ]
    answer = api.patch(f"/v2/pals/{pal_id}", params={"force": "true"}, json=patch)
    assert answer.status_code == 200
    assert answer.json()["pal_name"] == "New" and answer.json()["layers"]["perception"]["perception_model"] == "raven-1"
    assert api.get(f"/v2/personas/{pal_id}").json()["persona_name"] == "New"
    read_only = api.patch(f"/v2/pals/{pal_id}", json=[{"op": "replace", "path": "/pal_id", "value": "p0"}])
    assert read_only.status_code == 422 and "pal_id" in read_only.text
    assert (
        api.patch(f"/v2/pals/{pal_id}", json=[{"op": "replace", "path": "/pal_name", "value": "New"}]).status_code
        == 304
    )


def test_publish_delete_and_tenancy_of_pals(api: httpx.Client) -> None:
    pal_id = api.post("/v2/pals", json={"pal_name": "P", "system_prompt": "y", "default_face_id": FACE}).json()[
        "pal_id"
    ]
    published = api.post(f"/v2/pals/{pal_id}/publish").json()
    assert published["status"] == "success" and published["pal_id"] == pal_id and published["pal_name"] == "P"
    assert api.get(f"/v2/pals/{pal_id}", headers={"x-api-key": OTHER_KEY}).status_code == 404
    assert api.delete(f"/v2/pals/{pal_id}").status_code == 204
    assert api.get(f"/v2/personas/{pal_id}").status_code == 404
    assert api.post(f"/v2/pals/{pal_id}/publish").status_code == 404


def test_faces_are_replicas(api: httpx.Client) -> None:
    made = api.post("/v2/faces", json={"face_name": "Rio", "train_video_url": "https://example.com/t.mp4"})
    assert made.status_code == 200 and set(made.json()) == {"face_id", "status"}
    face_id = made.json()["face_id"]
    assert api.get(f"/v2/replicas/{face_id}").json()["replica_name"] == "Rio"
    assert api.patch(f"/v2/faces/{face_id}/name", json={"face_name": "Ria"}).status_code in (200, 204)
    face = api.get(f"/v2/faces/{face_id}", params={"verbose": "true"}).json()
    assert face["face_name"] == "Ria" and face["face_type"] == "user" and "replica_id" not in face
    stock = api.get("/v2/faces", params={"face_type": "system", "limit": 50}).json()
    assert {f["face_id"] for f in stock["data"]} == {rid for rid, _ in STOCK_REPLICAS}
    recommended = api.get("/v2/faces", params={"sort": "recommended", "limit": 1}).json()["data"]
    assert recommended[0]["face_id"] in {rid for rid, _ in STOCK_REPLICAS}
    assert api.delete(f"/v2/faces/{face_id}", params={"hard": "true"}).status_code in (200, 204)
    assert api.get(f"/v2/replicas/{face_id}").status_code == 404


def test_conversations_take_either_vocabulary(api: httpx.Client) -> None:
    pal_id = api.post("/v2/pals", json={"pal_name": "P", "system_prompt": "y", "default_face_id": FACE}).json()[
        "pal_id"
    ]
    by_pal = api.post("/v2/conversations", json={"pal_id": pal_id, "test_mode": True})
    assert by_pal.status_code == 200
    stored = api.get(f"/v2/conversations/{by_pal.json()['conversation_id']}").json()
    assert stored["persona_id"] == pal_id and stored["replica_id"] == FACE
    assert api.post("/v2/conversations", json={"pal_id": pal_id, "face_id": FACE, "test_mode": True}).status_code == 200
    same = {"pal_id": pal_id, "persona_id": pal_id, "face_id": FACE, "replica_id": FACE, "test_mode": True}
    assert api.post("/v2/conversations", json=same).status_code == 200
    clash = api.post("/v2/conversations", json={"pal_id": pal_id, "persona_id": "pdced222244b"})
    assert clash.status_code == 400 and "persona_id and pal_id" in clash.json()["error"]
    bad_face = api.post("/v2/conversations", json={"pal_id": pal_id, "face_id": "rnope"})
    assert bad_face.status_code == 400 and bad_face.json()["error"].startswith("Invalid face_id")
    faceless = api.post("/v2/pals", json={"pal_name": "F", "system_prompt": "y", "default_face_id": FACE}).json()
    api.patch(f"/v2/pals/{faceless['pal_id']}", json=[{"op": "remove", "path": "/default_face_id"}])
    missing = api.post("/v2/conversations", json={"pal_id": faceless["pal_id"]})
    assert missing.status_code == 400 and "face_id" in missing.json()["error"]


def test_the_stock_catalogue_is_there_for_every_key(api: httpx.Client) -> None:
    for key in (None, OTHER_KEY):
        headers = {"x-api-key": key} if key else {}
        for pid, *_ in STOCK_PERSONAS:
            assert api.get(f"/v2/pals/{pid}", headers=headers).json()["pal_type"] == "system"
        for rid, _ in STOCK_REPLICAS:
            assert api.get(f"/v2/faces/{rid}", headers=headers).status_code == 200
    conversation = api.post("/v2/conversations", json={"persona_id": "pipecat0", "test_mode": True})
    assert conversation.status_code == 200
    livekit = api.post(
        "/v2/conversations", json={"pal_id": "pb87e71797da", "face_id": "r4067604db72", "test_mode": True}
    )
    assert livekit.status_code == 200
    assert (
        api.patch("/v2/pals/pipecat0", json=[{"op": "replace", "path": "/pal_name", "value": "x"}]).status_code == 404
    )
    assert api.delete("/v2/faces/r90bbd427f71").status_code == 404


def test_what_real_clients_send_is_accepted(api: httpx.Client) -> None:
    # limit above 100 (a GitHub client sends 1000, the CLI 200): 200, at most 1000 items
    for path in ("/v2/personas", "/v2/replicas", "/v2/conversations", "/v2/videos", "/v2/pals", "/v2/faces"):
        assert api.get(path, params={"limit": 1000}).status_code == 200, path
    assert api.get("/v2/personas", params={"limit": 10**9}).status_code == 200
    # the CLI's page=0 on 1-based lists, and sort=desc on documents
    assert api.get("/v2/pals", params={"page": 0, "limit": 25}).status_code == 200
    for order in ("asc", "desc", "ascending", "descending"):
        for path in ("/v2/documents", "/v2/voices", "/v2/pronunciation-dictionaries"):
            assert api.get(path, params={"sort": order}).status_code == 200, (path, order)
    # callback_url "" (the CLI's default) means no callback
    objective = {"objective_name": "a", "objective_prompt": "Ask.", "callback_url": ""}
    assert api.post("/v2/objectives", json={"data": [objective]}).status_code == 200
    guardrail = {"guardrail_name": "g", "guardrail_prompt": "Never.", "callback_url": ""}
    assert api.post("/v2/guardrails", json={"name": "s", "data": [guardrail]}).status_code == 200
    assert (
        api.post("/v2/conversations", json={"replica_id": FACE, "callback_url": "", "test_mode": True}).status_code
        == 200
    )
    # the CLI's speech-to-speech pipeline and long names no documented bound forbids
    sts = {"persona_name": "n" * 5000, "pipeline_mode": "speech-to-speech", "default_replica_id": FACE}
    assert api.post("/v2/personas", json=sts).status_code == 200


def test_a_callback_url_that_is_not_http_is_refused_naming_the_field(api: httpx.Client) -> None:
    for url in ("file:///etc/passwd", "gopher://x", "https://example.com/a\nb", "not a url"):
        answer = api.post("/v2/conversations", json={"replica_id": FACE, "callback_url": url, "test_mode": True})
        assert answer.status_code == 400 and "callback_url" in answer.json()["error"], url


def test_a_pal_patch_naming_a_persona_field_is_refused(api: httpx.Client) -> None:
    """Found by the contract suite: `/persona_name` is not a member of a PAL document (RFC 6902: 422)."""
    pal_id = api.post("/v2/pals", json={"pal_name": "P", "system_prompt": "y", "default_face_id": FACE}).json()[
        "pal_id"
    ]
    answer = api.patch(f"/v2/pals/{pal_id}", json=[{"op": "replace", "path": "/persona_name", "value": "New"}])
    assert answer.status_code == 422 and "/pal_name" in answer.json()["message"]
    assert api.get(f"/v2/pals/{pal_id}").json()["pal_name"] == "P"
