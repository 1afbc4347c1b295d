"""Operations of the live surface the official CLI calls: document and guardrail tags, document
chunks, objective validation; literal sub-paths are never read as ids."""

from __future__ import annotations

import httpx


def test_document_tags_are_counted_and_searchable(api: httpx.Client) -> None:
    for name, tags in (("a", ["guide", "faq"]), ("b", ["guide"]), ("c", [])):
        api.post("/v2/documents", json={"document_url": f"https://example.com/{name}.pdf", "tags": tags})
    tags = api.get("/v2/documents/tags").json()
    assert tags == {
        "tags": [{"tag": "faq", "document_count": 1}, {"tag": "guide", "document_count": 2}],
        "total_count": 2,
    }
    assert api.get("/v2/documents/tags", params={"search": "GUI"}).json()["total_count"] == 1
    assert api.get("/v2/documents/tags", params={"limit": 1, "page": 2}).json()["tags"] == [
        {"tag": "guide", "document_count": 2}
    ]


def test_document_chunks_page_with_an_offset(api: httpx.Client) -> None:
    did = api.post("/v2/documents", json={"document_url": "https://example.com/h.pdf"}).json()["document_id"]
    first = api.get(f"/v2/documents/{did}/chunks", params={"limit": 2}).json()
    assert [c["index"] for c in first["data"]] == [0, 1] and first["next_offset"] == "2"
    rest = api.get(f"/v2/documents/{did}/chunks", params={"offset": first["next_offset"]}).json()
    assert [c["index"] for c in rest["data"]] == [2] and rest["next_offset"] is None
    support = api.get(f"/v2/documents/{did}/chunks", params={"collection": "customer_support"}).json()
    assert support["data"] == []
    assert api.get(f"/v2/documents/{did}/chunks", params={"offset": "abc"}).status_code == 400
    assert api.get("/v2/documents/d8-nothere/chunks").status_code == 404


def test_objectives_validate_checks_and_stores_nothing(api: httpx.Client) -> None:
    good = {
        "data": [
            {"objective_name": "a", "objective_prompt": "x", "next_required_objective": "b"},
            {"objective_name": "b", "objective_prompt": "y"},
        ]
    }
    assert api.post("/v2/objectives/validate", json=good).json() == {"valid": True, "errors": []}
    cycle = {
        "data": [
            {"objective_name": "a", "objective_prompt": "x", "next_required_objective": "b"},
            {"objective_name": "b", "objective_prompt": "y", "next_conditional_objectives": {"c": "if"}},
            {"objective_name": "c", "objective_prompt": "z", "next_required_objective": "b"},
        ]
    }
    verdict = api.post("/v2/objectives/validate", json=cycle).json()
    assert not verdict["valid"] and any("cycle" in e for e in verdict["errors"])
    assert api.post("/v2/objectives/validate", json={**cycle, "allow_loops": True}).json()["valid"]
    unknown = {"data": [{"objective_name": "a", "objective_prompt": "x", "next_required_objective": "zz"}]}
    assert "a refers to unknown objective zz" in api.post("/v2/objectives/validate", json=unknown).json()["errors"]
    twins = {
        "data": [{"objective_name": "a", "objective_prompt": "x"}, {"objective_name": "a", "objective_prompt": "y"}]
    }
    assert not api.post("/v2/objectives/validate", json=twins).json()["valid"]
    assert api.get("/v2/objectives", params={"limit": 100}).json()["total_count"] == 0  # nothing stored


def test_guardrail_tags_and_literal_sub_paths(api: httpx.Client) -> None:
    item = {"guardrail_name": "g", "guardrail_prompt": "Never.", "tags": ["safety"]}
    api.post("/v2/guardrails", json={"name": "s", "data": [item]})
    assert api.get("/v2/guardrails/tags").json()["tags"] == [{"tag": "safety", "document_count": 1}]
    # `tags` and `validate` are routes, never ids; other methods on them are 405, not a lookup
    assert api.delete("/v2/guardrails/tags").status_code == 405
    assert api.get("/v2/objectives/validate").status_code == 405
