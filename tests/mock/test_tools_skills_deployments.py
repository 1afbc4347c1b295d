"""Tools, PAL tools, skills and deployments (live-surface inventory 2.2, 2.3, 2.5, 2.6), over a real
socket and in-process; every answer is also checked against the spec by the `api` fixture."""

from __future__ import annotations

from typing import Any

import httpx

from tavus_contract.hooks import probe_body
from tests.conftest import OTHER_KEY

API_TOOL = {
    "name": "lookup_order",
    "description": "Look up an order.",
    "parameters": {"type": "object", "properties": {"order_number": {"type": "string"}}},
    "delivery": {
        "api": {
            "url": "https://api.example.com/orders/{order_number}",
            "method": "GET",
            "auth": {"type": "bearer", "token": "made-up-token-123"},
        }
    },
}


def _pal(api: httpx.Client, name: str = "Concierge") -> str:
    answer = api.post(
        "/v2/pals", json={"pal_name": name, "system_prompt": "Be kind.", "default_face_id": "rfe12d8b9597"}
    )
    assert answer.status_code == 200, answer.text
    pal_id: str = answer.json()["pal_id"]
    return pal_id


def _error(answer: httpx.Response) -> str:
    body: dict[str, Any] = answer.json()
    return str(body.get("error") or body.get("message"))


# -- tools ----------------------------------------------------------------------------------------
def test_a_tool_is_created_with_its_defaults_and_its_secret_scrubbed(api: httpx.Client) -> None:
    created = api.post("/v2/tools", json=API_TOOL)
    assert created.status_code == 200, created.text
    tool = created.json()
    assert tool["tool_id"].startswith("t") and tool["is_system_tool"] is False
    assert tool["delivery"]["api"]["auth"] == {"type": "bearer", "token": "********"}
    assert tool["delivery"]["api"]["timeout"] == 10 and tool["origin"] == "llm"
    assert tool["on_resolve"] == "fire_and_forget" and tool["trigger_type"] == "in_call"
    assert "made-up-token-123" not in api.get(f"/v2/tools/{tool['tool_id']}").text
    assert "made-up-token-123" not in api.get("/v2/tools").text
    assert tool["owner_id"] and "test" not in tool["owner_id"]  # derived from the key, never the key
    simple = api.post("/v2/tools", json={"name": "wave", "description": "Wave."}).json()
    assert simple["delivery"] == {"app_message": True} and simple["parameters"] == {}


def test_tool_rules_the_schema_cannot_say_are_400(api: httpx.Client) -> None:
    def refused(change: dict[str, Any], words: str) -> None:
        answer = api.post("/v2/tools", json={**API_TOOL, **change})
        assert answer.status_code == 400, (change, answer.text)
        assert words in _error(answer), _error(answer)

    api_delivery = API_TOOL["delivery"]["api"]  # type: ignore[index]
    refused({"name": "9lives"}, "name")
    refused({"delivery": {"app_message": True, "api": api_delivery}}, "exactly one channel")
    refused({"delivery": {}}, "exactly one channel")
    refused({"delivery": {"api": {**api_delivery, "url": "http://api.example.com/{order_number}"}}}, "api/url")
    refused({"delivery": {"api": {**api_delivery, "body_template": {"a": 1}}}}, "body_template")
    refused({"delivery": {"api": {**api_delivery, "url": "https://x.example/{missing}"}}}, "missing")
    refused({"delivery": {"api": {**api_delivery, "auth": {"type": "basic", "username": "u"}}}}, "password")
    refused({"delivery": {"api": {**api_delivery, "auth": {"type": "bearer", "token": "********"}}}}, "placeholder")
    refused({"parameters": {"properties": {"tavus_x": {}}}}, "reserved")
    refused({"description": "x" * 10_001}, "10000")
    refused({"origin": "vision", "on_call": "silent"}, "on_call must be null")
    refused({"on_call": "static_filler"}, "static_filler is needed")
    refused({"trigger_type": "post_call", "delivery": {"app_message": True}}, "post_call")


def test_tool_names_are_unique_per_key_and_tools_are_private(api: httpx.Client) -> None:
    tool = api.post("/v2/tools", json=API_TOOL).json()
    again = api.post("/v2/tools", json=API_TOOL)
    assert again.status_code == 409 and "lookup_order" in _error(again)
    other = {"x-api-key": OTHER_KEY}
    assert api.get(f"/v2/tools/{tool['tool_id']}", headers=other).status_code == 404
    assert api.post("/v2/tools", json=API_TOOL, headers=other).status_code == 200  # another account: free
    assert api.get("/v2/tools", headers=other).json()["total_count"] == 1


def test_tool_patch_is_flat_keeps_the_secret_and_refuses_the_placeholder(api: httpx.Client) -> None:
    tool = api.post("/v2/tools", json=API_TOOL).json()
    url = f"/v2/tools/{tool['tool_id']}"
    changed = api.patch(url, json={"description": "Find an order."})
    assert changed.status_code == 200 and changed.json()["description"] == "Find an order."
    assert changed.json()["name"] == "lookup_order"
    echoed = api.patch(url, json={"delivery": tool["delivery"]})  # a GET answer sent back as is
    assert echoed.status_code == 400 and "placeholder" in _error(echoed)
    kept = {"api": {**API_TOOL["delivery"]["api"], "auth": {"type": "bearer"}}}  # type: ignore[index]
    kept_answer = api.patch(url, json={"delivery": kept})  # the secret is left out: the stored one stays
    assert kept_answer.status_code == 200, kept_answer.text
    assert kept_answer.json()["delivery"]["api"]["auth"] == {"type": "bearer", "token": "********"}
    other_type = {"api": {**API_TOOL["delivery"]["api"], "auth": {"type": "hmac"}}}  # type: ignore[index]
    assert api.patch(url, json={"delivery": other_type}).status_code == 400  # a new type needs its secret
    api.post("/v2/tools", json={"name": "other_tool", "description": "x"})
    assert api.patch(url, json={"name": "other_tool"}).status_code == 409


def test_system_tools_are_listed_apart_and_read_only(api: httpx.Client) -> None:
    api.post("/v2/tools", json=API_TOOL)
    assert [t["name"] for t in api.get("/v2/tools").json()["data"]] == ["lookup_order"]
    system = api.get("/v2/tools", params={"type": "system"}).json()["data"]
    assert [t["tool_id"] for t in system] == ["end_call"] and system[0]["is_system_tool"] is True
    assert api.get("/v2/tools", params={"type": "all"}).json()["total_count"] == 2
    assert api.get("/v2/tools", params={"name_or_uuid": "LOOKUP"}).json()["total_count"] == 1
    assert api.patch("/v2/tools/end_call", json={"description": "x"}).status_code == 404
    assert api.delete("/v2/tools/end_call").status_code == 404
    assert api.get("/v2/tools/end_call").status_code == 200


# -- PAL tools ----------------------------------------------------------------------------------
def test_pal_tools_attach_idempotently_detach_and_follow_deletes(api: httpx.Client) -> None:
    pal = _pal(api)
    one = api.post("/v2/tools", json=API_TOOL).json()["tool_id"]
    two = api.post("/v2/tools", json={"name": "wave", "description": "Wave."}).json()["tool_id"]
    attached = api.post(f"/v2/pals/{pal}/tools/", json={"tool_ids": [one]})  # the CLI's trailing slash
    assert attached.status_code == 200 and [t["tool_id"] for t in attached.json()["data"]] == [one]
    again = api.post(f"/v2/pals/{pal}/tools", json={"tool_ids": [one, two]}).json()
    assert [t["tool_id"] for t in again["data"]] == [one, two]
    assert api.get(f"/v2/pals/{pal}/tools/").json() == again
    assert api.get(f"/v2/pals/{pal}").json()["tool_ids"] == [one, two]
    assert api.get(f"/v2/pals/{pal}/tools").json()["data"][0]["delivery"]["api"]["auth"]["token"] == "********"
    assert api.delete(f"/v2/pals/{pal}/tools/{one}").status_code == 204
    assert api.delete(f"/v2/pals/{pal}/tools/{one}").status_code == 404
    assert api.delete(f"/v2/tools/{two}").status_code == 204
    assert api.get(f"/v2/pals/{pal}/tools").json() == {"data": []}
    assert api.get(f"/v2/pals/{pal}").json()["tool_ids"] == []


def test_pal_tools_refuse_unknown_system_and_too_many(api: httpx.Client) -> None:
    pal = _pal(api)
    assert api.post(f"/v2/pals/{pal}/tools", json={"tool_ids": ["t000"]}).status_code == 400
    assert api.post(f"/v2/pals/{pal}/tools", json={"tool_ids": ["end_call"]}).status_code == 400
    assert api.post(f"/v2/pals/{pal}/tools", json={"tool_ids": []}).status_code == 400
    ids = [api.post("/v2/tools", json={"name": f"t{i}", "description": "x"}).json()["tool_id"] for i in range(51)]
    assert api.post(f"/v2/pals/{pal}/tools", json={"tool_ids": ids[:50]}).status_code == 200
    too_many = api.post(f"/v2/pals/{pal}/tools", json={"tool_ids": ids[50:]})
    assert too_many.status_code == 400 and "50" in _error(too_many)
    other_key_tool = api.post("/v2/tools", json=API_TOOL, headers={"x-api-key": OTHER_KEY}).json()["tool_id"]
    pal2 = _pal(api, "Second")
    assert api.post(f"/v2/pals/{pal2}/tools", json={"tool_ids": [other_key_tool]}).status_code == 400


# -- skills -------------------------------------------------------------------------------------
def test_the_skill_registry_is_stock(api: httpx.Client) -> None:
    skills = api.get("/v2/skills").json()
    ids = {s["skill_id"] for s in skills["data"]}
    assert ids == {"internet_search", "presentation", "magic_canvas", "memory"} and skills["total_count"] == 4
    assert api.get("/v2/skills/memory").json()["display_name"] == "Memory"
    assert api.get("/v2/skills/flying").status_code == 404


def test_pal_skills_attach_merge_remove_and_replace(api: httpx.Client) -> None:
    pal = _pal(api)
    assert api.get(f"/v2/pals/{pal}/skills/").json() == {"data": {}}
    bare = api.put(f"/v2/pals/{pal}/skills/internet_search")  # no body: an empty configuration
    assert bare.status_code == 200 and bare.json()["config"] == {}
    doc = api.post("/v2/documents", json={"document_url": "https://example.com/deck.pdf"}).json()["document_id"]
    put = api.put(f"/v2/pals/{pal}/skills/presentation", json={"config": {"document_ids": [doc], "prompt": "p"}})
    assert put.status_code == 200, put.text
    merged = api.patch(
        f"/v2/pals/{pal}/skills/presentation", json={"config": {"slides_trigger": "walk_the_deck", "prompt": None}}
    )
    assert merged.json()["config"] == {"document_ids": [doc], "slides_trigger": "walk_the_deck"}
    assert merged.json()["attached_at"] == put.json()["attached_at"]
    listed = api.get(f"/v2/pals/{pal}/skills").json()["data"]
    assert set(listed) == {"internet_search", "presentation"}
    assert api.get(f"/v2/pals/{pal}/skills/presentation").json() == merged.json()
    replaced = api.put(f"/v2/pals/{pal}/skills", json={"skills": {"memory": {"config": {}}}})
    assert set(replaced.json()["data"]) == {"memory"}
    assert api.delete(f"/v2/pals/{pal}/skills/memory").status_code == 204
    assert api.get(f"/v2/pals/{pal}/skills/memory").status_code == 404
    assert "skills" not in api.get(f"/v2/pals/{pal}").json() and "_skills" not in api.get(f"/v2/pals/{pal}").text


def test_pal_skill_refusals(api: httpx.Client) -> None:
    pal = _pal(api)
    assert api.put(f"/v2/pals/{pal}/skills/flying", json={"config": {}}).status_code == 404
    no_docs = api.put(f"/v2/pals/{pal}/skills/presentation", json={"config": {}})
    assert no_docs.status_code == 400 and "document_ids" in _error(no_docs)
    bad_doc = api.put(f"/v2/pals/{pal}/skills/presentation", json={"config": {"document_ids": ["d8-none"]}})
    assert bad_doc.status_code == 400
    assert api.patch(f"/v2/pals/{pal}/skills/memory", json={"config": {}}).status_code == 404  # not attached
    missing = api.get("/v2/pals/pnothere/skills")
    assert missing.status_code == 400 and missing.json() == {"error": "PAL not found"}  # as the docs show
    assert api.put(f"/v2/pals/{pal}/skills", json={"skills": {"memory": {}, "flying": {}}}).status_code == 404
    assert api.get(f"/v2/pals/{pal}/skills").json() == {"data": {}}  # nothing changed: all or nothing
    assert api.put("/v2/pals/pb87e71797da/skills/memory", json={"config": {}}).status_code == 404  # stock


# -- deployments --------------------------------------------------------------------------------
def test_deployments_have_their_own_envelope_and_page_from_zero(api: httpx.Client) -> None:
    pal = _pal(api)
    ids = [
        api.post("/v2/deployments", json={"pal_id": pal, "channel": channel}).json()["deployment_id"]
        for channel in ("widget", "embed", "landing-page")
    ]
    page = api.get("/v2/deployments", params={"limit": 2}).json()
    assert page["total"] == 3 and page["page"] == 0 and page["limit"] == 2
    assert [d["deployment_id"] for d in page["deployments"]] == ids[::-1][:2]  # newest first
    assert [
        d["deployment_id"] for d in api.get("/v2/deployments", params={"limit": 2, "page": 1}).json()["deployments"]
    ] == ids[:1]
    assert api.get("/v2/deployments", params={"channel": "widget,embed"}).json()["total"] == 2
    assert api.get("/v2/deployments", params={"status": "inactive"}).json()["total"] == 0
    assert api.get("/v2/deployments", params={"search": "concierge widget"}).json()["total"] == 1  # default names
    assert api.get("/v2/deployments", params={"limit": 200, "include_thumbnails": "false"}).status_code == 200
    assert api.get("/v2/deployments", headers={"x-api-key": OTHER_KEY}).json()["total"] == 0


def test_deployment_etag_and_if_match(api: httpx.Client) -> None:
    pal = _pal(api)
    created = api.post("/v2/deployments", json={"pal_id": pal, "channel": "widget", "password": "open-sesame"})
    dep = created.json()
    assert dep["has_password"] is True and "open-sesame" not in created.text and "password" not in dep
    url = f"/v2/deployments/{dep['deployment_id']}"
    tag = api.get(url).headers["etag"]
    assert tag.startswith('W/"') and tag == created.headers["etag"]
    patch = [{"op": "replace", "path": "/status", "value": "inactive"}]
    changed = api.patch(url, json=patch, headers={"if-match": tag})
    assert changed.status_code == 200 and changed.json()["status"] == "inactive"
    assert changed.headers["etag"] != tag
    stale = api.patch(url, json=[{"op": "replace", "path": "/name", "value": "x"}], headers={"if-match": tag})
    assert stale.status_code == 412
    assert api.get(url).json()["name"] != "x"
    assert (
        api.patch(url, json=[{"op": "remove", "path": "/password"}], headers={"if-match": "*"}).json()["has_password"]
        is False
    )
    assert api.patch(url, json=[{"op": "replace", "path": "/usage_total", "value": 9}]).status_code == 422
    assert api.patch(url, json=[{"op": "replace", "path": "/pal_id", "value": "pnothere"}]).status_code == 400


def test_deployment_init_is_public_and_tells_nothing_private(api: httpx.Client) -> None:
    pal = _pal(api)
    body = {
        "pal_id": pal,
        "channel": "landing-page",
        "name": "Secret campaign",
        "password": "open-sesame",
        "customization": {"conversation": {"context": "internal notes"}, "landing_page": {"title": "Hi"}},
        "limits": {"max_call_duration": 600, "daily_call_limit": 5},
    }
    dep = api.post("/v2/deployments", json=body).json()
    url = f"/v2/deployments/{dep['deployment_id']}/init"
    public = api.get(url, headers={"x-api-key": ""})
    assert public.status_code == 200, public.text
    view = public.json()
    for secret in ("open-sesame", "internal notes", "Secret campaign", pal):
        assert secret not in public.text
    assert view["customization"] == {"landing_page": {"title": "Hi"}}
    assert view["limits"] == {"max_call_duration": 600, "daily_call_limit_per_user": None}
    assert view["is_available"] is True and view["has_password"] is True
    assert api.get(f"/v2/deployments/{dep['deployment_id']}", headers={"x-api-key": ""}).status_code == 401
    api.patch(f"/v2/deployments/{dep['deployment_id']}", json=[{"op": "replace", "path": "/status", "value": "draft"}])
    assert api.get(url).json()["unavailable_reason"] == "deployment_draft"
    api.delete(f"/v2/pals/{pal}")
    assert api.get(url).json()["unavailable_reason"] == "pal_deleted"
    assert api.delete(f"/v2/deployments/{dep['deployment_id']}").status_code == 204
    assert api.get(url).status_code == 404


def test_deployments_need_a_pal_the_key_sees(api: httpx.Client) -> None:
    assert api.post("/v2/deployments", json={"pal_id": "pnothere", "channel": "widget"}).status_code == 400
    other_pal = api.post(
        "/v2/pals",
        json={"pal_name": "x", "system_prompt": "y", "default_face_id": "rfe12d8b9597"},
        headers={"x-api-key": OTHER_KEY},
    ).json()["pal_id"]
    assert api.post("/v2/deployments", json={"pal_id": other_pal, "channel": "widget"}).status_code == 400
    assert api.post("/v2/deployments", json={"pal_id": "pb87e71797da", "channel": "embed"}).status_code == 200
    assert api.post("/v2/deployments", json={"pal_id": "pb87e71797da", "channel": "poster"}).status_code == 400


def test_every_documented_refusal_of_the_spec_is_a_400(api: httpx.Client, raw_spec: dict[str, Any]) -> None:
    """The spec's `x-tavus-refused` bodies (rules across fields) are refused, each with a message."""
    refused = raw_spec["paths"]["/v2/tools"]["post"]["x-tavus-refused"]
    for entry in refused:
        answer = api.post("/v2/tools", json=probe_body(entry))
        assert answer.status_code == 400, (entry["why"], answer.status_code, answer.text)
        assert _error(answer).startswith("Invalid request"), entry["why"]
    assert api.get("/v2/tools").json()["total_count"] == 0  # nothing was created on the way
    for entry in raw_spec["paths"]["/v2/tools"]["post"]["x-tavus-accepted"]:  # the limits are inclusive
        answer = api.post("/v2/tools", json=probe_body(entry, suffix="_1"))
        assert answer.status_code == 200, (entry["why"], answer.status_code, answer.text)
