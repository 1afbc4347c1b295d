"""The reference server's behaviour, over a real socket and in-process (the `api` fixture runs both)."""

from __future__ import annotations

import re

import httpx
import pytest

from tavus_mock.resources.personas import STOCK_PERSONAS
from tavus_mock.resources.replicas import STOCK_REPLICAS
from tests.conftest import OTHER_KEY, TEST_KEY

STOCK_REPLICA = "rfe12d8b9597"
STOCK_PERSONA = "pdced222244b"


def persona(api: httpx.Client, **fields: object) -> str:
    body = {"persona_name": "Coach", "system_prompt": "Be kind.", **fields}
    response = api.post("/v2/personas", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["persona_id"])


# -- auth ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers", [{}, {"x-api-key": ""}, {"x-api-key": "wrong"}, {"authorization": f"Bearer {TEST_KEY}"}]
)
def test_missing_or_unknown_key_is_401(api: httpx.Client, headers: dict[str, str]) -> None:
    response = api.get("/v2/personas", headers={"x-api-key": ""} | headers)
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid access token"}


def test_auth_comes_before_validation_and_lookup(api: httpx.Client) -> None:
    bad = {"x-api-key": "wrong"}
    assert api.post("/v2/personas", content=b"{not json", headers=bad).status_code == 401
    assert api.get("/v2/personas/p-unknown", headers=bad).status_code == 401
    assert api.get("/v2/personas?limit=-5", headers=bad).status_code == 401


def test_each_key_is_its_own_tenant(api: httpx.Client) -> None:
    pid = persona(api)
    other = {"x-api-key": OTHER_KEY}
    assert api.get(f"/v2/personas/{pid}", headers=other).status_code == 404
    assert (
        api.patch(f"/v2/personas/{pid}", json=[{"op": "remove", "path": "/system_prompt"}], headers=other).status_code
        == 404
    )
    assert api.delete(f"/v2/personas/{pid}", headers=other).status_code == 404
    assert api.get("/v2/personas", params={"persona_type": "user"}, headers=other).json() == {
        "data": [],
        "total_count": 0,
    }
    assert api.get(f"/v2/personas/{pid}").status_code == 200


# -- validation ------------------------------------------------------------------------------------
def test_malformed_json_is_400(api: httpx.Client) -> None:
    response = api.post("/v2/personas", content=b'{"persona_name": ', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "not strict JSON" in response.json()["error"]
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        body = b'{"replica_id": "rfe12d8b9597", "max_participants": ' + constant + b"}"
        response = api.post("/v2/conversations", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400 and "not strict JSON" in response.json()["error"]


def test_wrong_content_type_is_400(api: httpx.Client) -> None:
    response = api.post("/v2/personas", content=b"persona_name=x", headers={"content-type": "text/plain"})
    assert response.status_code == 400
    assert "Content-Type" in response.json()["error"]


def test_schema_violation_names_the_field(api: httpx.Client) -> None:
    response = api.post("/v2/personas", json={"persona_name": 42})
    assert response.status_code == 400
    assert "persona_name" in response.json()["error"]
    response = api.get("/v2/videos", params={"limit": "lots"})
    assert response.status_code == 400 and "limit" in response.json()["error"]
    response = api.get("/v2/conversations", params={"status": "sleeping"})
    assert response.status_code == 400 and "status" in response.json()["error"]


def test_missing_required_body_is_400(api: httpx.Client) -> None:
    assert api.post("/v2/videos").status_code == 400
    assert api.post("/v2/videos", json={"script": "no replica"}).status_code == 400


def test_exactly_one_of_script_and_audio(api: httpx.Client) -> None:
    both = {"replica_id": STOCK_REPLICA, "script": "hi", "audio_url": "https://example.com/a.mp3"}
    assert api.post("/v2/videos", json=both).status_code == 400
    assert api.post("/v2/videos", json={"replica_id": STOCK_REPLICA}).status_code == 400
    image_without_voice = {"train_image_url": "https://example.com/face.png"}
    assert api.post("/v2/replicas", json=image_without_voice).status_code == 400


def test_unknown_request_fields_are_accepted(api: httpx.Client) -> None:
    pid = persona(api, brand_new_field={"x": 1})
    assert "brand_new_field" not in api.get(f"/v2/personas/{pid}").json()


def test_body_over_one_mebibyte_is_413(api: httpx.Client) -> None:
    big = {"persona_name": "x", "context": "a" * (1024 * 1024)}
    response = api.post("/v2/personas", json=big)
    assert response.status_code == 413
    assert "larger" in response.json()["error"]


def test_undeclared_method_is_405_with_allow(api: httpx.Client) -> None:
    response = api.put(f"/v2/personas/{STOCK_PERSONA}")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, PATCH"
    assert api.request("TRACE", "/v2/videos").headers["allow"] == "GET, POST"


def test_unknown_path_is_404_json(api: httpx.Client) -> None:
    response = api.get("/v2/holograms")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json" and "error" in response.json()


def test_trailing_slash_is_served_without_redirect(api: httpx.Client) -> None:
    response = api.get("/v2/guardrails/", follow_redirects=False)
    assert response.status_code == 200 and "data" in response.json()
    assert api.get(f"/v2/personas/{STOCK_PERSONA}/").json()["persona_id"] == STOCK_PERSONA


# -- state -----------------------------------------------------------------------------------------
ID_SHAPES = {
    "persona": r"p[0-9a-f]{11}",
    "replica": r"r[0-9a-f]{11}",
    "conversation": r"c[0-9a-f]{14}",
    "objectives": r"o[0-9a-f]{11}",
    "guardrails": r"g[0-9a-f]{12}",
    "document": r"d8-[0-9a-f]{12}",
    "video": r"[0-9a-f]{10}",
}


def test_full_lifecycle_of_every_resource(api: httpx.Client) -> None:
    pid = persona(api, default_replica_id=STOCK_REPLICA)
    assert re.fullmatch(ID_SHAPES["persona"], pid)

    rid = api.post("/v2/replicas", json={"train_video_url": "https://example.com/t.mp4", "replica_name": "Rio"}).json()[
        "replica_id"
    ]
    assert re.fullmatch(ID_SHAPES["replica"], rid)
    assert api.patch(f"/v2/replicas/{rid}/name", json={"replica_name": "Rio 2"}).status_code == 200
    assert api.get(f"/v2/replicas/{rid}").json()["replica_name"] == "Rio 2"

    created = api.post("/v2/conversations", json={"persona_id": pid}).json()
    cid = created["conversation_id"]
    assert re.fullmatch(ID_SHAPES["conversation"], cid) and created["status"] == "active"
    assert api.get(f"/v2/conversations/{cid}").json()["replica_id"] == STOCK_REPLICA
    assert api.post(f"/v2/conversations/{cid}/end").status_code == 200
    assert api.get(f"/v2/conversations/{cid}").json()["status"] == "ended"
    assert api.post(f"/v2/conversations/{cid}/end").status_code == 200  # ending twice is fine

    oid = api.post("/v2/objectives", json={"data": [{"objective_name": "a", "objective_prompt": "Ask."}]}).json()[
        "objectives_id"
    ]
    gid = api.post(
        "/v2/guardrails", json={"name": "g", "data": [{"guardrail_name": "g1", "guardrail_prompt": "No."}]}
    ).json()["guardrails_id"]
    assert api.get(f"/v2/objectives/{oid}").json()["data"][0]["objective_name"] == "a"
    assert api.get(f"/v2/guardrails/{gid}").json()["guardrails_name"] == "g"

    doc = api.post("/v2/documents", json={"document_url": "https://example.com/guide.pdf", "tags": ["a"]}).json()
    did = doc["document_id"]
    assert re.fullmatch(ID_SHAPES["document"], did) and doc["document_name"] == "guide.pdf"
    patched = api.patch(f"/v2/documents/{did}", json={"document_name": "Guide", "tags": ["b"]}).json()
    assert (patched["document_name"], patched["tags"]) == ("Guide", ["b"])

    vid = api.post("/v2/videos", json={"replica_id": rid, "script": "Hello"}).json()["video_id"]
    assert re.fullmatch(ID_SHAPES["video"], vid)
    assert api.patch(f"/v2/videos/{vid}/name", json={"video_name": "Sales"}).status_code == 200
    video = api.get(f"/v2/videos/{vid}").json()
    assert video["video_name"] == "Sales" and video["data"] == {"script": "Hello"}

    for path in (
        f"personas/{pid}",
        f"conversations/{cid}",
        f"objectives/{oid}",
        f"guardrails/{gid}",
        f"documents/{did}",
    ):
        assert api.delete(f"/v2/{path}").status_code == 204
        assert api.get(f"/v2/{path}").status_code == 404
        assert api.delete(f"/v2/{path}").status_code == 404
    for path in (f"replicas/{rid}", f"videos/{vid}"):
        assert api.delete(f"/v2/{path}").status_code == 200
        assert api.get(f"/v2/{path}").status_code == 404


def test_ids_are_never_reused(api: httpx.Client) -> None:
    seen = set()
    for _ in range(40):
        pid = persona(api)
        assert pid not in seen
        seen.add(pid)
        assert api.delete(f"/v2/personas/{pid}", params={"hard": "true"}).status_code == 204


def test_soft_and_hard_delete_hide_the_resource(api: httpx.Client) -> None:
    soft = api.post("/v2/videos", json={"replica_id": STOCK_REPLICA, "script": "a"}).json()["video_id"]
    hard = api.post("/v2/videos", json={"replica_id": STOCK_REPLICA, "script": "b"}).json()["video_id"]
    assert api.delete(f"/v2/videos/{soft}").status_code == 200
    assert api.delete(f"/v2/videos/{hard}", params={"hard": "true"}).status_code == 200
    listed = {v["video_id"] for v in api.get("/v2/videos").json()["data"]}
    assert soft not in listed and hard not in listed
    for vid in (soft, hard):
        assert api.get(f"/v2/videos/{vid}").status_code == 404
        assert api.patch(f"/v2/videos/{vid}/name", json={"video_name": "x"}).status_code == 404


def test_stock_resources_are_visible_and_read_only(api: httpx.Client) -> None:
    assert api.get(f"/v2/replicas/{STOCK_REPLICA}", params={"verbose": "true"}).json()["replica_type"] == "system"
    assert api.delete(f"/v2/personas/{STOCK_PERSONA}").status_code == 404
    assert api.patch(f"/v2/replicas/{STOCK_REPLICA}/name", json={"replica_name": "x"}).status_code == 404
    assert api.get(f"/v2/personas/{STOCK_PERSONA}").status_code == 200


def test_references_are_checked(api: httpx.Client) -> None:
    assert (
        api.post("/v2/conversations", json={"replica_id": "r000000000"})
        .json()["error"]
        .startswith("Invalid replica_id")
    )
    assert (
        api.post("/v2/personas", json={"default_replica_id": "rnope"})
        .json()["error"]
        .startswith("Invalid replica_uuid")
    )
    no_default = persona(api)
    assert api.post("/v2/conversations", json={"persona_id": no_default}).status_code == 400
    assert api.post("/v2/videos", json={"replica_id": "rnope", "script": "x"}).status_code == 400


def test_private_room_and_test_mode(api: httpx.Client) -> None:
    private = api.post("/v2/conversations", json={"replica_id": STOCK_REPLICA, "require_auth": True}).json()
    assert private["meeting_token"]
    test = api.post("/v2/conversations", json={"replica_id": STOCK_REPLICA, "test_mode": True}).json()
    assert test["status"] == "ended" and "meeting_token" not in test


# -- lists -----------------------------------------------------------------------------------------
def test_pagination_with_a_one_based_page(api: httpx.Client) -> None:
    ids = [persona(api, persona_name=f"P{i}") for i in range(5)]
    mine = {"persona_type": "user"}
    first = api.get("/v2/personas", params={**mine, "limit": 2, "page": 1}).json()
    assert first["total_count"] == 5 and len(first["data"]) == 2
    assert api.get("/v2/personas", params={**mine, "limit": 2, "page": 0}).json() == first
    pages = [api.get("/v2/personas", params={**mine, "limit": 2, "page": n}).json()["data"] for n in (1, 2, 3, 4)]
    assert [p["persona_id"] for page in pages for p in page] == ids
    assert pages[3] == []
    assert len(api.get("/v2/personas", params=mine).json()["data"]) == 5  # default limit 10
    assert len(api.get("/v2/personas", params={"limit": 3}).json()["data"]) == 3


def test_pagination_with_a_zero_based_page(api: httpx.Client) -> None:
    made = [
        api.post("/v2/videos", json={"replica_id": STOCK_REPLICA, "script": str(i)}).json()["video_id"]
        for i in range(3)
    ]
    page0 = api.get("/v2/videos", params={"limit": 2, "page": 0}).json()
    page1 = api.get("/v2/videos", params={"limit": 2, "page": 1}).json()
    assert [v["video_id"] for v in page0["data"] + page1["data"]] == made
    docs = api.get("/v2/documents", params={"limit": 5, "page": 0}).json()
    assert (docs["page"], docs["limit"], docs["total_count"]) == (0, 5, 0)


def test_filters_and_total_under_filter(api: httpx.Client) -> None:
    for i in range(3):
        api.post("/v2/conversations", json={"replica_id": STOCK_REPLICA, "test_mode": i > 0})
    ended = api.get("/v2/conversations", params={"status": "ended", "limit": 1}).json()
    assert ended["total_count"] == 2 and len(ended["data"]) == 1
    assert api.get("/v2/conversations", params={"status": "active"}).json()["total_count"] == 1
    persona(api)
    assert api.get("/v2/personas", params={"persona_type": "user"}).json()["total_count"] == 1
    assert api.get("/v2/personas", params={"persona_type": "system"}).json()["total_count"] == len(STOCK_PERSONAS)
    rid = api.post(
        "/v2/replicas", json={"train_video_url": "https://example.com/t.mp4", "model_name": "phoenix-3"}
    ).json()["replica_id"]
    assert api.get("/v2/replicas", params={"replica_ids": f"{rid},rnothing"}).json()["total_count"] == 1
    assert api.get("/v2/replicas", params={"model_name": "phoenix-3"}).json()["data"][0]["replica_id"] == rid
    assert api.get("/v2/replicas", params={"replica_type": "system"}).json()["total_count"] == len(STOCK_REPLICAS)
    for name, tags in (("Alpha guide", ["x", "y"]), ("Beta notes", ["z"])):
        api.post(
            "/v2/documents", json={"document_url": "https://example.com/d.pdf", "document_name": name, "tags": tags}
        )
    assert api.get("/v2/documents", params={"tags": "y,q"}).json()["total_count"] == 1
    assert api.get("/v2/documents", params={"name_or_uuid": "beta"}).json()["data"][0]["document_name"] == "Beta notes"
    names = [d["document_name"] for d in api.get("/v2/documents", params={"sort": "descending"}).json()["data"]]
    assert names == ["Beta notes", "Alpha guide"]
    assert api.get("/v2/documents", params={"status": "ready"}).json()["total_count"] == 2


def test_verbose_adds_exactly_what_the_spec_says(api: httpx.Client) -> None:
    cid = api.post("/v2/conversations", json={"replica_id": STOCK_REPLICA}).json()["conversation_id"]
    api.post(f"/v2/conversations/{cid}/end")
    plain = api.get(f"/v2/conversations/{cid}").json()
    verbose = api.get(f"/v2/conversations/{cid}", params={"verbose": "true"}).json()
    assert set(verbose) - set(plain) == {"events", "shutdown_reason"}
    assert [e["event_type"] for e in verbose["events"]] == [
        "system.replica_joined",
        "system.shutdown",
        "application.transcription_ready",
    ]
    replica = api.get(f"/v2/replicas/{STOCK_REPLICA}").json()
    verbose_replica = api.get(f"/v2/replicas/{STOCK_REPLICA}", params={"verbose": "true"}).json()
    assert set(verbose_replica) - set(replica) == {"replica_type"}
    listed = api.get("/v2/replicas", params={"verbose": "true"}).json()["data"][0]
    assert "replica_type" in listed and "replica_type" not in api.get("/v2/replicas").json()["data"][0]
    vid = api.post("/v2/videos", json={"replica_id": STOCK_REPLICA, "script": "x"}).json()["video_id"]
    video = api.get(f"/v2/videos/{vid}").json()
    verbose_video = api.get(f"/v2/videos/{vid}", params={"verbose": "true"}).json()
    assert set(verbose_video) - set(video) == {"still_image_thumbnail_url", "gif_thumbnail_url"}


# -- JSON Patch ------------------------------------------------------------------------------------
def test_all_six_patch_operations(api: httpx.Client) -> None:
    oid = api.post(
        "/v2/objectives",
        json={"data": [{"objective_name": "a", "objective_prompt": "Ask.", "output_variables": ["x"]}]},
    ).json()["objectives_id"]
    ops = [
        {"op": "test", "path": "/data/0/objective_name", "value": "a"},
        {"op": "add", "path": "/data/-", "value": {"objective_name": "b", "objective_prompt": "Then this."}},
        {"op": "replace", "path": "/data/0/objective_prompt", "value": "Ask first."},
        {"op": "copy", "from": "/data/0/output_variables", "path": "/data/1/output_variables"},
        {"op": "move", "from": "/data/1/objective_prompt", "path": "/data/1/objective_name"},
        {"op": "add", "path": "/data/1/objective_prompt", "value": "Moved."},
        {"op": "remove", "path": "/data/0/output_variables"},
    ]
    response = api.patch(f"/v2/objectives/{oid}", json=ops)
    assert response.status_code == 200 and response.json() == {"message": "Objectives updated successfully"}
    data = api.get(f"/v2/objectives/{oid}").json()["data"]
    assert data[0] == {"objective_name": "a", "objective_prompt": "Ask first."}
    assert data[1] == {"objective_name": "Then this.", "objective_prompt": "Moved.", "output_variables": ["x"]}


def test_patch_is_atomic(api: httpx.Client) -> None:
    pid = persona(api)
    before = api.get(f"/v2/personas/{pid}").json()
    for ops in (
        [
            {"op": "replace", "path": "/persona_name", "value": "X"},
            {"op": "test", "path": "/system_prompt", "value": "nope"},
        ],
        [{"op": "replace", "path": "/persona_name", "value": "X"}, {"op": "remove", "path": "/does/not/exist"}],
        [{"op": "replace", "path": "/persona_name", "value": 12}],
        [{"op": "replace", "path": "/persona_id", "value": "p0"}],
        [{"op": "add", "path": "/4", "value": [1]}],  # not a field of a persona
    ):
        response = api.patch(f"/v2/personas/{pid}", json=ops)
        assert response.status_code == 422, (ops, response.text)
        assert api.get(f"/v2/personas/{pid}").json() == before


def test_patch_shape_errors_are_400_and_no_change_is_304(api: httpx.Client) -> None:
    pid = persona(api)
    assert api.patch(f"/v2/personas/{pid}", json=[{"op": "replace", "path": "/persona_name"}]).status_code == 400
    assert api.patch(f"/v2/personas/{pid}", json=[{"op": "move", "path": "/a"}]).status_code == 400
    assert api.patch(f"/v2/personas/{pid}", json=[]).status_code == 400
    same = [{"op": "replace", "path": "/persona_name", "value": "Coach"}]
    response = api.patch(f"/v2/personas/{pid}", json=same)
    assert response.status_code == 304 and response.content == b""


def test_patch_updates_and_stamps(api: httpx.Client) -> None:
    pid = persona(api)
    ops = [
        {"op": "add", "path": "/layers", "value": {"llm": {"model": "tavus-gpt-oss"}}},
        {"op": "remove", "path": "/system_prompt"},
    ]
    assert api.patch(f"/v2/personas/{pid}", json=ops).status_code == 200
    after = api.get(f"/v2/personas/{pid}").json()
    assert after["layers"] == {"llm": {"model": "tavus-gpt-oss"}} and "system_prompt" not in after
    assert after["updated_at"] >= after["created_at"]


# -- faults ----------------------------------------------------------------------------------------
def test_prefer_header_injects_a_fault_before_any_write(api: httpx.Client) -> None:
    response = api.post("/v2/personas", json={"persona_name": "x"}, headers={"prefer": "code=503"})
    assert response.status_code == 503 and response.headers["retry-after"] == "0"
    assert api.get("/v2/personas", params={"persona_type": "user"}).json()["total_count"] == 0
    assert api.get("/v2/personas", headers={"prefer": "code=429"}).status_code == 429
    assert api.get("/v2/personas", headers={"prefer": "code=500"}).status_code == 500


def test_no_content_answers_have_no_content_type(api: httpx.Client) -> None:
    pid = persona(api)
    response = api.delete(f"/v2/personas/{pid}")
    assert response.status_code == 204 and response.content == b""
    assert "content-type" not in response.headers


# -- beyond the card: voices and recrawl ------------------------------------------------------------
def test_stock_voices_list_filter_and_sort(api: httpx.Client) -> None:
    everything = api.get("/v2/voices").json()
    assert everything["total_count"] == 4 and (everything["page"], everything["limit"]) == (1, 10)
    assert [v["voice_name"] for v in everything["data"]] == ["anna", "ben", "carmen", "dev"]
    assert [v["voice_name"] for v in api.get("/v2/voices", params={"sort": "desc", "limit": 2}).json()["data"]] == [
        "dev",
        "carmen",
    ]
    assert api.get("/v2/voices", params={"search": "AN"}).json()["total_count"] == 1
    assert {v["voice_name"] for v in api.get("/v2/voices", params={"tag": "warm"}).json()["data"]} == {"anna", "dev"}
    assert api.get("/v2/voices", params={"sort": "sideways"}).status_code == 400


def test_recrawl_a_website_document(api: httpx.Client) -> None:
    site = api.post("/v2/documents", json={"document_url": "https://docs.example.com/", "crawl": {"depth": 1}}).json()
    assert api.get(f"/v2/documents/{site['document_id']}").json()["crawl_count"] == 1
    started = api.post(f"/v2/documents/{site['document_id']}/recrawl", json={"crawl": {"depth": 2, "max_pages": 5}})
    assert started.status_code == 202 and started.json()["status"] == "recrawling"
    after = api.get(f"/v2/documents/{site['document_id']}").json()
    assert (after["status"], after["crawl_count"], after["crawl_config"]) == ("ready", 2, {"depth": 1})
    again = api.post(f"/v2/documents/{site['document_id']}/recrawl")
    assert again.status_code == 429 and int(again.headers["retry-after"]) > 3000
    plain = api.post("/v2/documents", json={"document_url": "https://example.com/a.pdf"}).json()
    refused = api.post(f"/v2/documents/{plain['document_id']}/recrawl")
    assert refused.status_code == 400 and "crawl" in refused.json()["error"]
    assert api.post("/v2/documents/d8-000000000000/recrawl").status_code == 404


def test_pronunciation_dictionaries(api: httpx.Client) -> None:
    rules = [{"text": "Tavus", "pronunciation": "TAH-vus", "type": "alias"}]
    made = api.post("/v2/pronunciation-dictionaries", json={"name": "Brand", "rules": rules})
    assert made.status_code == 201
    pd = made.json()
    assert re.fullmatch(r"pd_[0-9a-f]{14}", pd["pronunciation_dictionary_id"]) and pd["rules_count"] == 1
    assert pd["rules"][0] == {**rules[0], "case_sensitive": False, "word_boundaries": True}
    path = f"/v2/pronunciation-dictionaries/{pd['pronunciation_dictionary_id']}"
    second = api.post("/v2/pronunciation-dictionaries", json={"name": "Later"}).json()
    listed = api.get("/v2/pronunciation-dictionaries").json()
    assert [d["name"] for d in listed["data"]] == ["Later", "Brand"]  # newest first
    assert "rules" not in listed["data"][0] and listed["data"][1]["rules_count"] == 1
    add = [{"op": "add", "path": "/rules/-", "value": {"text": "CVI", "pronunciation": "see vee eye", "type": "alias"}}]
    patched = api.patch(path, json=add)
    assert patched.status_code == 200 and patched.json()["rules_count"] == 2
    duplicate = [{"op": "add", "path": "/rules/-", "value": rules[0]}]
    assert api.patch(path, json=duplicate).status_code == 400
    assert api.patch(path, json=[{"op": "replace", "path": "/rules_count", "value": 9}]).status_code == 422
    twice = {"name": "Dup", "rules": [rules[0], rules[0]]}
    assert api.post("/v2/pronunciation-dictionaries", json=twice).status_code == 400
    pid = persona(api, layers={"tts": {"pronunciation_dictionary_id": pd["pronunciation_dictionary_id"]}})
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    assert api.get(f"/v2/personas/{pid}").json()["layers"] == {"tts": {}}  # no longer used
    assert api.get("/v2/pronunciation-dictionaries").json()["data"][0]["name"] == second["name"]


def test_deeply_nested_bodies_are_refused_not_crashed_on(api: httpx.Client) -> None:
    for depth in (100, 990, 5000):
        body = '{"persona_name": "x", "layers": ' + '{"a":' * depth + "1" + "}" * depth + "}"
        response = api.post("/v2/personas", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400 and "nested deeper" in response.json()["error"], depth
    pid = persona(api)
    deep: dict[str, object] = {"a": 1}
    for _ in range(900):
        deep = {"a": deep}
    response = api.patch(f"/v2/personas/{pid}", json=[{"op": "add", "path": "/layers", "value": deep}])
    assert response.status_code == 400
    fine = '{"persona_name": "x", "layers": ' + '{"llm":' * 20 + "{}" + "}" * 20 + "}"
    assert api.post("/v2/personas", content=fine, headers={"content-type": "application/json"}).status_code == 200
