"""Sets of guardrails and individual guardrails on the same paths (live-surface inventory 2.7): the
server tells them apart by body and id, keeps a set and its guardrails in step, and cascades deletes."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import OTHER_KEY

ONE = {"guardrail_name": "no_medical_advice", "guardrail_prompt": "Never diagnose.", "tags": ["safety"]}
SET = {
    "name": "Compliance",
    "data": [
        {"guardrail_name": "no_prices", "guardrail_prompt": "Never quote prices."},
        {"guardrail_name": "no_legal", "guardrail_prompt": "Never give legal advice.", "modality": "verbal"},
    ],
}


def _items(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    answer = api.get("/v2/guardrails", params={"legacy": "false", **params})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["data"]
    return items


def test_one_guardrail_is_told_apart_from_a_set_by_its_body(api: httpx.Client) -> None:
    created = api.post("/v2/guardrails/", json={**ONE, "callback_url": ""})  # the CLI's slash and ""
    assert created.status_code == 200, created.text
    one = created.json()
    assert len(one["uuid"]) == 36 and one["modality"] == "verbal" and one["app_message"] is True
    assert one["callback_url"] is None and one["guardrails_set_id"] is None
    assert api.get(f"/v2/guardrails/{one['uuid']}").json()["guardrail_prompt"] == "Never diagnose."
    assert api.get("/v2/guardrails").json() == {"data": [], "total_count": 0}  # legacy (sets) by default
    listed = api.get("/v2/guardrails", params={"legacy": "false"}).json()
    assert [g["uuid"] for g in listed["data"]] == [one["uuid"]] and listed["page"] == 1 and listed["limit"] == 10
    both = api.post("/v2/guardrails", json={**ONE, **SET})
    assert both.status_code == 400 and "not both" in both.json()["error"]
    assert api.post("/v2/guardrails", json={"guardrail_name": "x"}).status_code == 400
    assert api.post("/v2/guardrails", json={**ONE, "guardrail_name": "has space"}).status_code == 400
    assert api.get(f"/v2/guardrails/{one['uuid']}", headers={"x-api-key": OTHER_KEY}).status_code == 404


def test_the_guardrails_of_a_set_are_individual_guardrails_too(api: httpx.Client) -> None:
    set_id = api.post("/v2/guardrails", json=SET).json()["guardrails_id"]
    group = api.get(f"/v2/guardrails/{set_id}").json()
    uuids = [item["uuid"] for item in group["data"]]
    assert len(set(uuids)) == 2
    items = _items(api)
    assert [i["uuid"] for i in items] == uuids and {i["guardrails_set_id"] for i in items} == {set_id}
    # a patch of the guardrail, as the CLI sends it (`add` per field, persisted fields sent back)
    cli_patch = [
        {"op": "add", "path": "/guardrail_prompt", "value": "Never quote a price."},
        {"op": "add", "path": "/tags", "value": ["sales"]},
        {"op": "add", "path": "/uuid", "value": uuids[0]},
        {"op": "add", "path": "/owner_id", "value": "someone"},
    ]
    patched = api.patch(f"/v2/guardrails/{uuids[0]}", json=cli_patch)
    assert patched.status_code == 200, patched.text
    assert patched.json()["guardrail_prompt"] == "Never quote a price." and patched.json()["tags"] == ["sales"]
    assert api.get(f"/v2/guardrails/{set_id}").json()["data"][0]["guardrail_prompt"] == "Never quote a price."
    # a patch of the set reaches its guardrails: changed, added, removed
    set_patch = [
        {"op": "replace", "path": "/data/1/guardrail_prompt", "value": "No legal advice."},
        {"op": "add", "path": "/data/-", "value": {"guardrail_name": "no_tax", "guardrail_prompt": "No tax advice."}},
        {"op": "remove", "path": "/data/0"},
    ]
    assert api.patch(f"/v2/guardrails/{set_id}", json=set_patch).status_code == 200
    items = _items(api)
    assert [i["guardrail_name"] for i in items] == ["no_legal", "no_tax"]
    assert items[0]["guardrail_prompt"] == "No legal advice."
    assert api.get(f"/v2/guardrails/{uuids[0]}").status_code == 404
    # deleting one guardrail of the set takes it out of the set
    assert api.delete(f"/v2/guardrails/{items[1]['uuid']}").status_code == 204
    assert [i["guardrail_name"] for i in api.get(f"/v2/guardrails/{set_id}").json()["data"]] == ["no_legal"]


def test_deletes_cascade_to_guardrails_and_to_the_pals_that_used_them(api: httpx.Client) -> None:
    set_id = api.post("/v2/guardrails", json=SET).json()["guardrails_id"]
    member = api.get(f"/v2/guardrails/{set_id}").json()["data"][0]["uuid"]
    alone = api.post("/v2/guardrails", json=ONE).json()["uuid"]
    pal = api.post(
        "/v2/pals",
        json={
            "pal_name": "Guarded",
            "system_prompt": "x",
            "default_face_id": "rfe12d8b9597",
            "guardrail_ids": [member, alone],
        },
    ).json()["pal_id"]
    persona = api.post("/v2/personas", json={"persona_name": "Legacy", "guardrails_id": set_id}).json()["persona_id"]
    refs = api.get(f"/v2/guardrails/{alone}").json()["persona_refs"]
    assert refs == [pal]
    assert api.delete(f"/v2/guardrails/{set_id}").status_code == 204
    assert api.get(f"/v2/guardrails/{member}").status_code == 404
    assert api.get(f"/v2/pals/{pal}").json()["guardrail_ids"] == [alone]
    assert api.get(f"/v2/personas/{persona}").json().get("guardrails_id") is None
    assert api.delete(f"/v2/guardrails/{alone}").status_code == 204
    assert api.get(f"/v2/pals/{pal}").json()["guardrail_ids"] == []
    bad = api.post(
        "/v2/pals",
        json={"pal_name": "x", "system_prompt": "x", "default_face_id": "rfe12d8b9597", "guardrail_ids": ["nope"]},
    )
    assert bad.status_code == 400 and "guardrail_ids" in bad.json()["error"]


def test_individual_guardrail_lists_filter_sort_and_count_tags(api: httpx.Client) -> None:
    api.post("/v2/guardrails", json=ONE)
    api.post("/v2/guardrails", json={**ONE, "guardrail_name": "no_threats", "tags": ["safety", "tone"]})
    api.post("/v2/guardrails", json=SET)
    assert [g["guardrail_name"] for g in _items(api, tags="tone")] == ["no_threats"]
    assert [g["guardrail_name"] for g in _items(api, name_or_uuid="NO_PR")] == ["no_prices"]
    assert [g["guardrail_name"] for g in _items(api, sort="descending", limit=2)] == ["no_legal", "no_prices"]
    assert _items(api, type="system") == []
    assert api.get("/v2/guardrails/tags").json() == {
        "tags": [{"tag": "safety", "document_count": 2}, {"tag": "tone", "document_count": 1}],
        "total_count": 2,
    }
    one = _items(api, verbose="true")[0]
    assert one["guardrail_type"] == "user" and one["persona_refs"] == []
    bad = api.patch(
        f"/v2/guardrails/{one['uuid']}", json=[{"op": "replace", "path": "/guardrail_name", "value": "a b"}]
    )
    assert bad.status_code == 422
    assert (
        api.patch(f"/v2/guardrails/{one['uuid']}", json=[{"op": "add", "path": "/colour", "value": 1}]).status_code
        == 422
    )
